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

An operator that tracks its changed keys (:attr:`Operator.dirty
<pycql.runtime.operators.Operator.dirty>`: an aggregate's groups, a time
window's panes) is not serialized at all on a commit: only the pairs of its
changed keys are written (a tombstone for a key that is gone), under the same
names, so a commit costs what changed and a restore reads the same pieces
either way. The changelog remembers how many chunks each tracked piece has in
the partition (from the restore, then from each commit), so a tracked piece that
goes away or shrinks gets a tombstone for each chunk it no longer has, and
compaction removes them (chunks left behind by an older pycql are found on the
restore and tombstoned on the next commit).

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
from pycql.runtime.state import decode_values, json_default

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
    """``{"runner": ..., "sink": ...}`` (the runner's checkpoint inside) as pieces; the
    operators it lists as ``tracked`` (an incremental checkpoint) are ``"pairs"`` whose
    pieces come from :func:`tracked_pieces`."""
    checkpoint = dict(state["runner"])
    executor = dict(checkpoint.pop("executor"))
    operators = executor.pop("operators")
    tracked = executor.pop("tracked", {})
    out: dict[bytes, bytes] = {b"sink": orjson.dumps(state.get("sink"))}
    shapes = {op_id: _cut(b"op/" + op_id.encode(), data, out)
              for op_id, data in operators.items()}
    shapes.update(tracked)
    out[b"runner"] = orjson.dumps({"checkpoint": checkpoint, "executor": executor,
                                   "shapes": shapes})
    return _chunked(out)


def tracked_prefix(op_id: int) -> bytes:
    """The start of the names of a tracked operator's pieces."""
    return b"op/%d/" % op_id


def tracked_pieces(changes: dict[int, list[tuple[str | None, Any, Any]]]
                   ) -> dict[bytes, bytes | None]:
    """The pieces of tracked operators' changed keys (``None``: a tombstone), from
    :meth:`Executor.changed_state <pycql.runtime.executor.Executor.changed_state>`."""
    out: dict[bytes, bytes | None] = {}
    for op_id, pairs in changes.items():
        prefix = tracked_prefix(op_id)
        for member, key, value in pairs:
            head = prefix if member is None else prefix + member.encode() + b"/"
            name = head + orjson.dumps(key, default=json_default)
            out[name] = None if value is None else orjson.dumps(value, default=json_default)
    return out


def _chunk_name(name: bytes, i: int) -> bytes:
    return name + b"\x00" + str(i).encode()


def chunk_count(value: bytes | None) -> int:
    """How many chunks a piece of these bytes is written as (0: written whole)."""
    if value is None or len(value) <= CHUNK_BYTES:
        return 0
    return (len(value) + CHUNK_BYTES - 1) // CHUNK_BYTES


def _chunked(found: dict[bytes, Any]) -> dict[bytes, Any]:
    out: dict[bytes, Any] = {}
    for name, value in found.items():
        count = chunk_count(value)
        if not count:
            out[name] = value
            continue
        out[name] = _CHUNKED + str(count).encode()
        for i in range(count):
            out[_chunk_name(name, i)] = value[i * CHUNK_BYTES:(i + 1) * CHUNK_BYTES]
    return out


def _chunks_in(found: dict[bytes, bytes], tracked: tuple[bytes, ...]) -> dict[bytes, int]:
    """Per tracked piece with chunks in ``found``: one more than its highest chunk's
    number (chunks its head does not count, left behind, are counted too)."""
    out: dict[bytes, int] = {}
    for name in found:
        if b"\x00" not in name or not name.startswith(tracked):
            continue
        base, _, number = name.rpartition(b"\x00")
        out[base] = max(out.get(base, 0), int(number) + 1)
    return out


def _unchunked(found: dict[bytes, bytes]) -> dict[bytes, bytes]:
    """``found`` with each chunked piece joined (``found`` itself when none is)."""
    chunks = [name for name in found if b"\x00" in name]
    if not chunks:
        return found
    out = dict(found)
    for name in chunks:
        del out[name]
    for name, value in out.items():
        if value.startswith(_CHUNKED):
            count = int(value[len(_CHUNKED):])
            out[name] = b"".join(found[name + b"\x00" + str(i).encode()]
                                 for i in range(count))
    return out


def _loads(data: bytes) -> Any:
    """A piece's JSON, its decimals decoded (:func:`~pycql.runtime.state.decode_values`)."""
    value = orjson.loads(data)
    return decode_values(value) if b'"$decimal"' in data else value


def _pairs_by_prefix(found: dict[bytes, bytes],
                     prefixes: set[bytes]) -> dict[bytes, list[tuple[bytes, bytes]]]:
    """The ``(key JSON, value JSON)`` of every piece under one of ``prefixes`` (a state
    cut into pairs: ``op/<id>/`` or ``op/<id>/<member>/``), in one pass."""
    out: dict[bytes, list[tuple[bytes, bytes]]] = {p: [] for p in prefixes}
    for name, value in found.items():
        if not name.startswith(b"op/"):
            continue
        cut = name.find(b"/", 3) + 1
        items = out.get(name[:cut])
        if items is None:  # a member's pairs, or a piece that is whole
            member_end = name.find(b"/", cut) + 1
            items = out.get(name[:member_end]) if member_end else None
            if items is None:
                continue
            cut = member_end
        items.append((name[cut:], value))
    return out


def _put_together(items: list[tuple[bytes, bytes]]) -> list[list[Any]]:
    """Pairs back as a list, each side read by one orjson call over all of them."""
    if not items:
        return []
    keys = _loads(b"[" + b",".join(k for k, _ in items) + b"]")
    values = _loads(b"[" + b",".join(v for _, v in items) + b"]")
    pairs = [[k, v] for k, v in zip(keys, values, strict=True)]
    if isinstance(keys[0], int):
        pairs.sort(key=lambda kv: kv[0])  # window panes: in time order
    return pairs


def _put_back(prefix: bytes, shape: Any, found: dict[bytes, bytes],
              pairs: dict[bytes, list[tuple[bytes, bytes]]]) -> Any:
    if shape == "whole":
        return _loads(found[prefix])
    if shape == "pairs":
        return _put_together(pairs[prefix + b"/"])
    return {member: _put_back(prefix + b"/" + member.encode(), sub, found, pairs)
            for member, sub in shape.items()}


def _pair_prefixes(prefix: bytes, shape: Any) -> list[bytes]:
    if shape == "pairs":
        return [prefix + b"/"]
    if isinstance(shape, dict):
        return [p for member, sub in shape.items()
                for p in _pair_prefixes(prefix + b"/" + member.encode(), sub)]
    return []


def assemble(found: dict[bytes, bytes]) -> dict[str, Any] | None:
    """The inverse of :func:`pieces` (``None`` when there is no state), with the
    ``shapes`` the operators' states were cut in. Decimals come back decoded (the
    executor's state says so: ``"decoded": true``)."""
    found = _unchunked(found)
    if b"runner" not in found:
        return None
    head = _loads(found[b"runner"])
    shapes = head["shapes"]
    pairs = _pairs_by_prefix(found, {p for op_id, shape in shapes.items()
                                     for p in _pair_prefixes(b"op/" + op_id.encode(), shape)})
    operators = {op_id: _put_back(b"op/" + op_id.encode(), shape, found, pairs)
                 for op_id, shape in shapes.items()}
    checkpoint = dict(head["checkpoint"])
    checkpoint["executor"] = {**head["executor"], "operators": operators, "decoded": True}
    return {"runner": checkpoint, "sink": _loads(found.get(b"sink", b"null")),
            "shapes": shapes}


class Changelog:
    """The changelog partition of one task: what it last wrote, and the deltas to write."""

    def __init__(self, log: Log, job: str, partitions: int, index: int) -> None:
        self.topic = changelog_topic(job)
        self.index = index
        log.create_topic(TopicSpec(self.topic, partitions, compacted=True), exist_ok=True)
        self._written: dict[bytes, bytes] = {}
        #: tracked pieces written as chunks: how many chunk names each has in the partition
        self._chunks: dict[bytes, int] = {}
        self._pending_chunks: dict[bytes, int] = {}
        self._stale: dict[bytes, int] = {}
        #: what the last :meth:`deltas` cost: pieces and bytes written, seconds taken
        self.last_pieces = 0
        self.last_bytes = 0
        self.last_seconds = 0.0

    def remember(self, found: dict[bytes, bytes], tracked: tuple[bytes, ...] = ()) -> None:
        """The pieces restored: what the partition holds now (the pieces of tracked
        operators, names starting with one of ``tracked``, need no digest; their chunks
        are counted, so that the next commit that changes such a piece removes them)."""
        self._written = {name: hashlib.blake2b(v, digest_size=12).digest()
                         for name, v in found.items() if not name.startswith(tracked)}
        self._chunks = _chunks_in(found, tracked)
        # chunks that their piece's head does not count (the piece gone, no longer
        # chunked, or in fewer chunks: left by an older pycql): the next commit removes
        # them. Per piece: the chunks its head counts.
        self._stale = {}
        for base, count in self._chunks.items():
            head = found.get(base, b"")
            live = int(head[len(_CHUNKED):]) if head.startswith(_CHUNKED) else 0
            if live < count:
                self._stale[base] = live

    def deltas(self, state: dict[str, Any],
               changes: dict[int, list[tuple[str | None, Any, Any]]] | None = None
               ) -> list[OutRecord]:
        """The records that bring the partition from what it holds to ``state`` and the
        ``changes`` of its tracked operators."""
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
        chunks = dict(self._chunks)
        for name, live in self._stale.items():  # chunks left behind (see remember)
            for i in range(live, chunks.pop(name)):
                out.append(OutRecord(None, _chunk_name(name, i), None, self.index))
            if live:
                chunks[name] = live
        for name, change in tracked_pieces(changes or {}).items():
            count = chunk_count(change)
            for i in range(count, chunks.pop(name, 0)):  # chunks it no longer has
                out.append(OutRecord(None, _chunk_name(name, i), None, self.index))
            if count:
                chunks[name] = count
            for piece, value in _chunked({name: change}).items():
                out.append(OutRecord(value, piece, None, self.index))
                size += 0 if value is None else len(value)
        self._pending = seen
        self._pending_chunks = chunks
        self.last_pieces, self.last_bytes = len(out), size
        self.last_seconds = time.perf_counter() - began
        return out

    def committed(self) -> None:
        """The records of the last :meth:`deltas` are in the partition."""
        self._written = self._pending
        self._chunks = self._pending_chunks
        self._stale = {}


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
