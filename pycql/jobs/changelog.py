"""A task's state in its changelog: a compacted topic per job, one partition per task.

A task's state is its runner's checkpoint (:meth:`QueryRunner.checkpoint`) and its
sink's state, cut into *pieces*, each one record (key = the piece's name, value =
its JSON): ``runner`` (positions, the time layer, the counters, the executor's
watermark and buffered instants, and the shape of each operator's pieces),
``sink``, and per operator ``op/<id>``; an operator whose state is a list of
``[key, value]`` pairs (groups, join sides, window panes, partitions, bags) is cut
into one piece per pair, ``op/<id>/<key as JSON>``, and the members of a state that
is an object into ``op/<id>/<member>`` (each cut the same way). A piece larger than
256 KB is written as chunks (a Kafka record is at most 1 MB). On every commit only
the pieces whose bytes changed are written, and a tombstone for each piece that is
gone, so state that did not change is not rewritten and compaction keeps one
record per piece.

:func:`restore` reads a partition to its end and puts the pieces back together.
"""

from __future__ import annotations

import hashlib
import itertools
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


#: Pieces larger than this are written as chunks (a Kafka message is at most 1 MB).
CHUNK_BYTES = 256 * 1024
_CHUNKED = b"\x00chunks:"  # a chunked piece's head (JSON never starts with a NUL)


def _pairs(state: Any) -> bool:
    """Whether ``state`` is a list of ``[key, value]`` pairs whose keys are ascending
    integers (window panes, in time order) or distinct flat lists of scalars (the keys
    of a map: groups, partitions, rows of a bag, whose order does not matter), so it can
    be cut into one piece per pair and put back as it was."""
    if not isinstance(state, list) or not state:
        return False
    ints = lists = 0
    for item in state:
        if not isinstance(item, list) or len(item) != 2:
            return False
        key = item[0]
        if isinstance(key, int) and not isinstance(key, bool):
            ints += 1
        elif isinstance(key, list) and not any(isinstance(v, list | dict) for v in key):
            lists += 1
        else:
            return False
    if ints and lists:
        return False
    if ints:  # put back in ascending order: only lists already in it (panes) are cut
        return all(a[0] < b[0] for a, b in itertools.pairwise(state))
    keys = {orjson.dumps(item[0]) for item in state}
    return len(keys) == len(state)


def _cut(prefix: bytes, data: Any, out: dict[bytes, bytes]) -> Any:
    """Put ``data`` into ``out`` under ``prefix``, cut where it can be; return its shape:
    ``"whole"``, ``"pairs"``, or ``{member: shape}`` for a dict."""
    if _pairs(data):
        for key, value in data:
            out[prefix + b"/" + orjson.dumps(key)] = orjson.dumps(value)
        return "pairs"
    if isinstance(data, dict) and data and all(isinstance(k, str) and "/" not in k
                                               for k in data):
        shape = {}
        for member, value in data.items():
            sub = prefix + b"/" + member.encode()
            shape[member] = "pairs" if _pairs(value) else "whole"
            if shape[member] == "pairs":
                for key, item in value:
                    out[sub + b"/" + orjson.dumps(key)] = orjson.dumps(item)
            else:
                out[sub] = orjson.dumps(value)
        return shape
    out[prefix] = orjson.dumps(data)
    return "whole"


def pieces(state: dict[str, Any]) -> dict[bytes, bytes]:
    """``{"runner": ..., "sink": ...}`` (the runner's checkpoint inside) as pieces."""
    checkpoint = dict(state["runner"])
    executor = dict(checkpoint.pop("executor"))
    operators = executor.pop("operators")
    out: dict[bytes, bytes] = {b"sink": orjson.dumps(state.get("sink"))}
    shapes = {op_id: _cut(b"op/" + op_id.encode(), data, out)
              for op_id, data in operators.items()}
    out[b"runner"] = orjson.dumps({"checkpoint": checkpoint, "executor": executor,
                                   "shapes": shapes})
    return _chunked(out)


def _chunked(found: dict[bytes, bytes]) -> dict[bytes, bytes]:
    out: dict[bytes, bytes] = {}
    for name, value in found.items():
        if len(value) <= CHUNK_BYTES:
            out[name] = value
            continue
        count = (len(value) + CHUNK_BYTES - 1) // CHUNK_BYTES
        out[name] = _CHUNKED + str(count).encode()
        for i in range(count):
            out[name + b"\x00" + str(i).encode()] = value[i * CHUNK_BYTES:(i + 1) * CHUNK_BYTES]
    return out


def _unchunked(found: dict[bytes, bytes]) -> dict[bytes, bytes]:
    out: dict[bytes, bytes] = {}
    for name, value in found.items():
        if b"\x00" in name:
            continue
        if value.startswith(_CHUNKED):
            count = int(value[len(_CHUNKED):])
            value = b"".join(found[name + b"\x00" + str(i).encode()] for i in range(count))
        out[name] = value
    return out


def _put_back(prefix: bytes, shape: Any, found: dict[bytes, bytes]) -> Any:
    if shape == "whole":
        return orjson.loads(found[prefix])
    if shape == "pairs":
        head = prefix + b"/"
        items = [(orjson.loads(name[len(head):]), orjson.loads(value))
                 for name, value in found.items() if name.startswith(head)]
        if items and isinstance(items[0][0], int):
            items.sort(key=lambda kv: kv[0])  # window panes: in time order
        return [[k, v] for k, v in items]
    return {member: _put_back(prefix + b"/" + member.encode(), sub, found)
            for member, sub in shape.items()}


def assemble(found: dict[bytes, bytes]) -> dict[str, Any] | None:
    """The inverse of :func:`pieces` (``None`` when there is no state)."""
    found = _unchunked(found)
    if b"runner" not in found:
        return None
    head = orjson.loads(found[b"runner"])
    operators = {op_id: _put_back(b"op/" + op_id.encode(), shape, found)
                 for op_id, shape in head["shapes"].items()}
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
