"""A task's state in its changelog: a compacted topic per job, one partition per task.

A task's state is its runner's checkpoint (:meth:`QueryRunner.checkpoint`) and its
sink's state, cut into *pieces*, each one record (key = the piece's name, value =
its JSON): ``runner`` (positions, the time layer, the counters, the executor's
watermark and buffered instants), ``sink``, and per operator ``op/<id>``, or, for
an operator whose state is a list of ``[key, value]`` pairs (groups, join sides,
window panes, partitions), one piece per pair, ``op/<id>/<key as JSON>``. On every
commit only the pieces whose bytes changed are written, and a tombstone for each
piece that is gone, so state that did not change is not rewritten and compaction
keeps one record per piece.

:func:`restore` reads a partition to its end and puts the pieces back together.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

import orjson

from pycql.errors import OperationalError
from pycql.log.base import Log, OutRecord, TopicSpec

__all__ = ["Changelog", "changelog_topic", "restore"]

#: How long restoring may take before it is an error (seconds).
RESTORE_LIMIT_S = 600.0


def changelog_topic(job: str) -> str:
    return f"_pycql_changelog.{job}"


def _splittable(state: Any) -> bool:
    """Whether an operator's state is a list of ``[key, value]`` pairs with distinct keys."""
    if not isinstance(state, list) or not state:
        return False
    if not all(isinstance(item, list) and len(item) == 2 for item in state):
        return False
    keys = [orjson.dumps(item[0]) for item in state]
    return len(set(keys)) == len(keys)


def pieces(state: dict[str, Any]) -> dict[bytes, bytes]:
    """``{"runner": ..., "sink": ...}`` (the runner's checkpoint inside) as pieces."""
    checkpoint = dict(state["runner"])
    executor = dict(checkpoint.pop("executor"))
    operators = executor.pop("operators")
    out: dict[bytes, bytes] = {
        b"runner": orjson.dumps({"checkpoint": checkpoint, "executor": executor,
                                 "split": sorted(k for k, v in operators.items()
                                                 if _splittable(v))}),
        b"sink": orjson.dumps(state.get("sink")),
    }
    for op_id, data in operators.items():
        if _splittable(data):
            for key, value in data:
                out[b"op/%s/%s" % (op_id.encode(), orjson.dumps(key))] = orjson.dumps(value)
        else:
            out[b"op/" + op_id.encode()] = orjson.dumps(data)
    return out


def assemble(found: dict[bytes, bytes]) -> dict[str, Any] | None:
    """The inverse of :func:`pieces` (``None`` when there is no state)."""
    if b"runner" not in found:
        return None
    head = orjson.loads(found[b"runner"])
    split = set(head["split"])
    operators: dict[str, Any] = {}
    parts: dict[str, list[tuple[Any, Any]]] = {op_id: [] for op_id in split}
    for name, value in found.items():
        if not name.startswith(b"op/"):
            continue
        op_id, _, key = name[3:].partition(b"/")
        op = op_id.decode()
        if op in split and key:
            parts[op].append((orjson.loads(key), orjson.loads(value)))
        elif not key:
            operators[op] = orjson.loads(value)
    for op, items in parts.items():
        if all(isinstance(k, int) for k, _ in items):  # window panes: in time order
            items.sort(key=lambda kv: kv[0])
        operators[op] = [[k, v] for k, v in items]
    checkpoint = dict(head["checkpoint"])
    checkpoint["executor"] = {**head["executor"], "operators": operators}
    return {"runner": checkpoint, "sink": orjson.loads(found.get(b"sink", b"null"))}


class Changelog:
    """The changelog partition of one task: what it last wrote, and the deltas to write."""

    def __init__(self, log: Log, job: str, partitions: int, index: int) -> None:
        self.topic = changelog_topic(job)
        self.index = index
        log.create_topic(TopicSpec(self.topic, partitions, compacted=True), exist_ok=True)
        self._written: dict[bytes, bytes] = {}
        #: what the last :meth:`deltas` cost: pieces and bytes written, seconds taken
        self.last_pieces = 0
        self.last_bytes = 0
        self.last_seconds = 0.0

    def remember(self, found: dict[bytes, bytes]) -> None:
        """The pieces restored: what the partition holds now."""
        self._written = {name: hashlib.blake2b(v, digest_size=12).digest()
                         for name, v in found.items()}

    def deltas(self, state: dict[str, Any]) -> list[OutRecord]:
        """The records that bring the partition from what it holds to ``state``."""
        began = time.perf_counter()
        now = pieces(state)
        written = self._written
        out: list[OutRecord] = []
        seen: dict[bytes, bytes] = {}
        size = 0
        for name, value in now.items():
            digest = hashlib.blake2b(value, digest_size=12).digest()
            seen[name] = digest
            if written.get(name) != digest:
                out.append(OutRecord(value, name, None, self.index))
                size += len(value)
        for name in written.keys() - seen.keys():
            out.append(OutRecord(None, name, None, self.index))
        self._pending = seen
        self.last_pieces, self.last_bytes = len(out), size
        self.last_seconds = time.perf_counter() - began
        return out

    def committed(self) -> None:
        """The records of the last :meth:`deltas` are in the partition."""
        self._written = self._pending


def restore(log: Log, job: str, index: int) -> tuple[dict[bytes, bytes], float]:
    """The pieces in changelog partition ``index`` of ``job`` (the newest of each) and the
    seconds reading took. Reads committed records only, to the end of the partition."""
    topic = changelog_topic(job)
    began = time.perf_counter()
    if topic not in log.topics():
        return {}, 0.0
    reader = log.reader([topic], "earliest", {topic: [index]})
    found: dict[bytes, bytes] = {}
    try:
        end = reader.end_offsets()
        deadline = time.monotonic() + RESTORE_LIMIT_S
        while any(reader.position().get(tp, 0) < off for tp, off in end.items()):
            for record in reader.poll(50_000, 0.2):
                if record.key is None:
                    continue
                if record.value is None:
                    found.pop(record.key, None)
                else:
                    found[record.key] = record.value
            if time.monotonic() > deadline:
                raise OperationalError(
                    f"could not read changelog {topic} partition {index} to its end within "
                    f"{RESTORE_LIMIT_S:.0f} s")
    finally:
        reader.close()
    return found, time.perf_counter() - began
