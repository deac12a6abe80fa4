"""A job's output: the query's emissions as records of the sink's topic.

* A **stream** (``CREATE STREAM x AS``, ``INSERT INTO s <query>``): one record
  per row, the value the row in the sink's format, the Kafka timestamp the
  row's instant, no key. Exactly what ``INSERT`` writes, so the sink is read
  like any stream. A ``CREATE STREAM x AS`` job (exactly once) also writes its
  task's watermark, as a control record (:mod:`pycql.log.control`, key
  ``CONTROL_KEY``), to each partition the task writes, after the rows before it,
  so a reader of ``x`` (another job, a cursor) moves on the job's time rather than
  on its idle timeout. Each output partition has one writing task (task ``i`` of
  several writes partition ``i``; a job of one task writes all), so the record is
  that partition's time. ``INSERT INTO s`` jobs write none: ``s`` has other writers,
  whose rows a job's watermark cannot speak for.
* A **relation** (``CREATE TABLE x AS``) is written as its changes, the way
  a table's topic holds it (``pycql.driver._tables``): with a key, an upsert
  (key = the JSON array of the key's values, value = the row) or a
  tombstone per changed key and instant, on a compacted topic; without a
  key, each copy of a row is its own key, the row's JSON array followed by
  ``#n`` for its n-th copy, so a multiset survives compaction too. Either
  way a record's op is its value: a row inserts, a tombstone deletes.

* An **exchange** (a stage of a multi-stage job writing its intermediate topic,
  :mod:`pycql.jobs.stages`): one record per change, the value the JSON array
  ``[op, v1, ..., vn]`` (op ``1`` inserts, ``-1`` deletes; values as in
  checkpoints: a DECIMAL is ``{"$decimal": "text"}``), the Kafka timestamp the
  change's instant, the key the JSON array of the exchange's key values (as an
  INSERT into a stream declared ``WITH (key = ...)`` writes it) and the partition
  that key's hash, so a stream hashed on the same columns over as many
  partitions is co-partitioned with it; a ``single`` exchange writes partition 0.
  Between them go each task's watermark control records.

Partitions are chosen here, deterministically, from the sink's state (which
goes into the task's changelog with the rest).
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import groupby, repeat
from operator import attrgetter
from typing import Any

import orjson

from pycql.jobs.spec import Job
from pycql.log.base import OutRecord
from pycql.log.control import end_of_stream_record, watermark_record
from pycql.log.formats import key_bytes, make_encoder
from pycql.log.partitioner import partition_for_key
from pycql.runtime.exchange_codec import encode_changes, encode_keys
from pycql.runtime.executor import Emission
from pycql.runtime.state import decode_values, encode_values

__all__ = ["ExchangeSink", "RelationSink", "Sink", "StreamSink", "make_sink"]

_TIMESTAMP = attrgetter("timestamp")


class Sink:
    """Turns emissions into ``(partition, record)`` pairs for one task."""

    def __init__(self, job: Job, partitions: Sequence[int], partition_count: int) -> None:
        self.job = job
        #: the output partitions this task writes
        self.partitions = list(partitions)
        self.partition_count = partition_count
        self._encode = make_encoder(job.columns, job.format)

    def records(self, emissions: Sequence[Emission]) -> list[OutRecord]:
        raise NotImplementedError

    def state(self) -> Any:
        """What the sink must remember across a restore (orjson-able)."""
        return None

    def load(self, data: Any) -> None:
        """Restore what :meth:`state` returned."""


class StreamSink(Sink):
    """Rows of a stream, spread round robin over the task's output partitions."""

    def __init__(self, job: Job, partitions: Sequence[int], partition_count: int,
                 producer: str | None = None) -> None:
        super().__init__(job, partitions, partition_count)
        self._next = 0
        #: whether the task's watermark goes to its partitions: the job is the topic's
        #: only writer (``CREATE STREAM AS``, not ``INSERT INTO``) and a watermark
        #: commits with the rows before it (exactly once: a replay after a crash of an
        #: ``at_least_once`` task would write rows behind a watermark already written)
        self.forwards_watermarks = (job.sink_kind == "stream"
                                    and job.processing_guarantee == "exactly_once")
        self.producer = producer

    def watermarks(self, watermark: int | None) -> list[OutRecord]:
        """This task's watermark to each partition it writes (none before it has one,
        or when the sink does not forward them)."""
        if watermark is None or not self.forwards_watermarks:
            return []
        return [watermark_record(watermark, producer=self.producer, partition=p)
                for p in self.partitions]

    def records(self, emissions: Sequence[Emission]) -> list[OutRecord]:
        if not emissions:
            return []
        values = self._encode([e.row for e in emissions])
        mine = self.partitions
        key = None
        if len(mine) == 1:
            p = mine[0]
            return [OutRecord(v, key, e.timestamp, p)
                    for v, e in zip(values, emissions, strict=True)]
        out = []
        n = self._next
        for v, e in zip(values, emissions, strict=True):
            out.append(OutRecord(v, key, e.timestamp, mine[n % len(mine)]))
            n += 1
        self._next = n
        return out

    def state(self) -> Any:
        return self._next

    def load(self, data: Any) -> None:
        self._next = int(data or 0)


class RelationSink(Sink):
    """A relation's changes as upserts and tombstones (see the module docstring)."""

    def __init__(self, job: Job, partitions: Sequence[int], partition_count: int) -> None:
        super().__init__(job, partitions, partition_count)
        names = [str(c["name"]) for c in job.columns]
        self._key = [names.index(k) for k in job.key] if job.key else None
        #: without a key: how many copies of each row the relation holds
        self._copies: dict[tuple[Any, ...], int] = {}

    def state(self) -> Any:
        return encode_values([[list(row), n] for row, n in self._copies.items()])

    def load(self, data: Any) -> None:
        self._copies = {tuple(row): int(n) for row, n in decode_values(data or [])}

    def _partition(self, key: bytes) -> int:
        if len(self.partitions) == 1 and self.job.tasks > 1:
            return self.partitions[0]  # one task per partition: each writes its own
        return partition_for_key(key, self.partition_count)

    def records(self, emissions: Sequence[Emission]) -> list[OutRecord]:
        out: list[OutRecord] = []
        for instant, run in groupby(emissions, key=_TIMESTAMP):
            batch = list(run)
            changes = self._keyed(batch) if self._key is not None else self._copied(batch)
            rows = [row for row in changes.values() if row is not None]
            values = iter(self._encode(rows))
            for key, row in changes.items():
                value = None if row is None else next(values)
                out.append(OutRecord(value, key, instant, self._partition(key)))
        return out

    def _keyed(self, run: Any) -> dict[bytes, tuple[Any, ...] | None]:
        """The instant's last word per key: its new row, or None (deleted)."""
        assert self._key is not None
        idx = self._key
        changes: dict[bytes, tuple[Any, ...] | None] = {}
        for e in run:  # deletes come before inserts within an instant
            key = key_bytes([e.row[i] for i in idx])
            if e.sign > 0:
                changes[key] = e.row
            else:
                changes.setdefault(key, None)
        return changes

    def _copied(self, run: Any) -> dict[bytes, tuple[Any, ...] | None]:
        copies = self._copies
        changes: dict[bytes, tuple[Any, ...] | None] = {}
        for e in run:
            row = e.row
            n = copies.get(row, 0)
            base = orjson.dumps(list(row), default=str)
            if e.sign > 0:
                changes[base + b"#%d" % n] = row
                copies[row] = n + 1
            else:
                n -= 1
                if n <= 0:
                    copies.pop(row, None)
                else:
                    copies[row] = n
                changes[base + b"#%d" % max(n, 0)] = None
        return changes


class ExchangeSink:
    """A stage's output into its exchange's intermediate topic (see the module docstring),
    and its task's watermarks to every partition of it."""

    def __init__(self, exchange: dict[str, Any], producer: int) -> None:
        self.topic = str(exchange["topic"])
        self.partition_count = int(exchange.get("partitions") or 1)
        self._keys = list(exchange.get("keys") or [])
        self._hash = exchange.get("distribution", "hash") == "hash" and bool(self._keys)
        self.producer = str(producer)
        #: the partitions it writes: all of them
        self.partitions = list(range(self.partition_count))

    def records(self, emissions: Sequence[Emission]) -> list[OutRecord]:
        if not emissions:
            return []
        times, signs, rows = zip(*emissions, strict=True)  # Emission(timestamp, sign, row)
        values = encode_changes(signs, rows)
        if not self._hash:
            return list(map(OutRecord, values, repeat(None), times, repeat(0)))
        keys = encode_keys(rows, self._keys)
        count = self.partition_count
        partitions = [partition_for_key(key, count) for key in keys]
        return list(map(OutRecord, values, keys, times, partitions))

    def watermarks(self, watermark: int | None, idle: bool) -> list[OutRecord]:
        """This task's watermark (``-1`` before it has one) to every partition."""
        mark = -1 if watermark is None else watermark
        return [watermark_record(mark, producer=self.producer, partition=p, idle=idle)
                for p in self.partitions]

    def end_of_stream(self, watermark: int | None) -> list[OutRecord]:
        """This task's end (a bounded run) to every partition."""
        mark = -1 if watermark is None else watermark
        return [end_of_stream_record(mark, producer=self.producer, partition=p)
                for p in self.partitions]

    def state(self) -> Any:
        return None

    def load(self, data: Any) -> None:
        """Nothing to restore: the partition of a record is its key's."""


def make_sink(job: Job, partitions: Sequence[int], partition_count: int,
              producer: str | None = None) -> Sink:
    """The sink of ``job`` for a task that writes ``partitions`` of its topic
    (``producer``: the task's name in the watermarks a stream sink writes)."""
    if job.sink_kind == "table":
        return RelationSink(job, partitions, partition_count)
    return StreamSink(job, partitions, partition_count, producer)
