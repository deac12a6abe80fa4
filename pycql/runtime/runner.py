"""The time layer: runs an :class:`~pycql.runtime.executor.Executor` over a log.

A :class:`QueryRunner` reads every topic the plan's sources name, decodes
records in batches (:func:`pycql.log.formats.make_decoder`), turns table
topics' upserts and tombstones into inserts and deletes, pushes them into the
executor and advances it along a *watermark*:

* each source has a :class:`~pycql.runtime.eventtime.TimePolicy` (its
  ``CREATE STREAM ... WITH (lateness, idle_timeout, idle_advance,
  max_future)``, the connection's options as defaults);
* the watermark is driven by the data: ``min over input partitions of (max
  timestamp seen - lateness_ms - 1)``; the newest instant of a partition stays
  open, since more records with the same timestamp may follow in a later
  batch; records up to ``lateness_ms`` out of order are reordered (the
  executor buffers pending instants). A watermark control record
  (:mod:`pycql.log.control`, CQL's heartbeat) moves a partition's part of it
  directly;
* a record at or below the watermark (its instant is closed) is *late*: it is
  counted and written to the dead-letter topic, never silently dropped;
  records the decoder rejects, records stamped more than ``max_future_ms``
  ahead of the wall clock, and rows an expression fails on go there too;
* a partition that is caught up and quiet for ``idle_timeout_ms`` does not
  hold the watermark back (a partition with records left to read never is
  idle, so replays are exact); when every input is idle, the instants
  received so far close (``idle_advance="newest"``, the default) or, for a
  source that asks for it (``idle_advance="wall_clock"``), time moves to the
  wall clock minus its lateness so RANGE windows expire without input;
* table topics are always read from their beginning, whatever ``start`` says:
  a table's value at the first instant depends on all of its history;
* with ``stop`` set the run is bounded: ``"end"`` stops at the end offsets the
  topics had when the runner started, explicit offsets stop exactly there,
  an ``int`` stops at that timestamp; the last instant is closed and
  iteration ends.

>>> from pycql.log.memory import MemoryLog
>>> from pycql.log.base import OutRecord, TopicSpec
>>> log = MemoryLog()
>>> log.create_topic(TopicSpec("S"))
>>> log.produce("S", [OutRecord(b'{"A": %d}' % a, timestamp_ms=t) for a, t in [(70, 1), (50, 2)]])
>>> col = {"name": "A", "type": "INTEGER", "nullable": True}
>>> plan = {"pycql_plan": 1, "root": 1, "result": {"kind": "stream", "columns": [col]},
...   "operators": [
...     {"id": 0, "op": "source", "name": "S", "source_kind": "stream", "topic": "S",
...      "timestamp": None, "format": "json", "inputs": [], "output": "stream", "columns": [col]},
...     {"id": 1, "op": "stream_filter", "inputs": [0], "output": "stream", "columns": [col],
...      "exprs": [], "condition": {"kind": "call", "op": ">", "type": "BOOLEAN", "operands": [
...        {"kind": "input", "index": 0, "type": "INTEGER"},
...        {"kind": "literal", "value": 65, "type": "INTEGER"}]}}]}
>>> with QueryRunner(plan, log, stop="end") as runner:
...     list(runner)
[Emission(timestamp=1, sign=1, row=(70,))]
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import compress, groupby
from operator import attrgetter, itemgetter
from typing import Any, Literal, cast

import orjson

from pycql.errors import ProgrammingError
from pycql.log.base import (
    Log,
    LogReader,
    OutRecord,
    Partitions,
    Record,
    RecordBatch,
    StartAt,
    TopicSpec,
    explicit_start,
)
from pycql.log.control import CONTROL_KEY, parse_control
from pycql.runtime.collector import fewer_collections, state_freezer
from pycql.runtime.eventtime import TimePolicy, format_duration
from pycql.runtime.exchange_codec import decode_changes
from pycql.runtime.executor import Emission, Executor
from pycql.runtime.progress import Progress
from pycql.runtime.projection import used_source_columns
from pycql.runtime.state import decode_values, encode_values

#: The version of :meth:`QueryRunner.checkpoint`'s data.
CHECKPOINT_VERSION = 1

_FIRST = itemgetter(0)
_SECOND = itemgetter(1)
#: the values of an exchange change ``[op, v1, ..., vn]``
_VALUES = itemgetter(slice(1, None))
#: how a DECIMAL value of an exchange record starts (:func:`pycql.runtime.state.json_default`)
_DECIMAL_TAG = b'{"$decimal"'
_PARTITION = itemgetter(1)  # Record.partition
_KEY = itemgetter(4)  # Record.key
_record_topic = itemgetter(0)  # Record.topic
_TOPIC_PARTITION = attrgetter("topic", "partition")
_NEVER = -(1 << 62)  # before every timestamp

DecodedBatch = tuple[list[tuple[Any, ...]], list[int], list[tuple[Record, str]]]
DecoderFn = Callable[[list[Record]], DecodedBatch]
#: rows, timestamps and ``(index in the batch, reason)`` of the rejected records
BatchDecoded = tuple[list[tuple[Any, ...]], list[int], list[tuple[int, str]]]
BatchDecoderFn = Callable[[RecordBatch], BatchDecoded]

#: Where a bounded run stops: ``"end"`` (alias ``"latest"``) = the end offsets
#: when the runner starts; an ``int`` = a timestamp (inclusive); a dict = explicit
#: stop offsets, ``{partition: offset}`` or ``{(topic, partition): offset}``
#: (partitions not named stop at their end offset at start). A run never reads
#: past its stop offsets, even when a poll returns more.
StopAt = Literal["end", "latest"] | int | dict[int, int] | dict[tuple[str, int], int]

#: What a run does with a row an expression fails on: keep it in the dead
#: letters and go on, or end the query with the DataError.
OnError = Literal["dead_letter", "fail"]


@dataclass
class SourceMetrics:
    """Counters of one source (stream or table) of a :class:`QueryRunner`."""

    #: its time policy (lateness, idle timeout, idle advance, future bound)
    policy: TimePolicy
    records_in: int = 0
    #: at or before the watermark when they arrived (kept in the dead letters)
    late_records: int = 0
    #: undecodable, or stamped beyond ``max_future_ms`` (kept in the dead letters)
    malformed_records: int = 0
    #: of ``malformed_records``, those stamped too far ahead of the wall clock
    future_records: int = 0
    #: watermark control records (heartbeats) read
    heartbeats: int = 0
    #: why the last late or future record was set aside
    last_reason: str | None = None


@dataclass
class RunnerMetrics:
    """Counters of one :class:`QueryRunner` (``sources`` has them per source)."""

    records_in: int = 0
    late_records: int = 0
    #: table changes older than the watermark, applied at the first open instant
    deferred_table_changes: int = 0
    malformed_records: int = 0
    #: rows an expression failed on (division by zero, overflow, ...), in the dead letters
    expression_errors: int = 0
    #: dead letters not written: this process only reads the log (a database file
    #: another process writes, ``docs/durable.md``)
    dead_letters_not_kept: int = 0
    emitted: int = 0
    watermark: int | None = None
    sources: dict[str, SourceMetrics] = field(default_factory=dict)


@dataclass
class _SourceInfo:
    name: str
    topic: str
    is_table: bool
    decoder: DecoderFn
    #: the same, for a batch, decoding only the columns the plan reads (streams)
    batch_decoder: BatchDecoderFn
    key_indexes: list[int] | None
    rows_by_key: dict[Any, tuple[Any, ...]]
    policy: TimePolicy
    metrics: SourceMetrics
    #: an exchange's intermediate topic (a stage of a job): how many upstream tasks
    #: write it; its time comes from their watermarks (see :class:`_Producers`)
    producers: int | None = None
    #: whether its records are a relation's changes (an exchange of a relation)
    relation: bool = False
    #: its columns
    width: int = 0


@dataclass
class _Producers:
    """What the upstream tasks of one partition of an intermediate topic said of time:
    per producer its watermark, whether it is idle, and whether it ended (a bounded run)."""

    marks: dict[str, int] = field(default_factory=dict)
    idle: set[str] = field(default_factory=set)
    ended: set[str] = field(default_factory=set)

    def offer(self, producers: int) -> tuple[int | None, bool]:
        """``(watermark, quiet)``: the minimum over the producers that are neither idle
        nor done, or, when all are (``quiet``), the maximum; ``(None, False)`` while a
        producer was never heard from."""
        if len(self.marks) < producers:
            return None, False
        busy = [m for p, m in self.marks.items() if p not in self.idle and p not in self.ended]
        if busy:
            return min(busy), False
        return max(self.marks.values()), True

    def to_json(self) -> list[Any]:
        return [[p, m, p in self.idle, p in self.ended] for p, m in sorted(self.marks.items())]

    @classmethod
    def from_json(cls, data: list[Any]) -> _Producers:
        out = cls()
        for p, m, idle, ended in data:
            out.marks[str(p)] = int(m)
            if idle:
                out.idle.add(str(p))
            if ended:
                out.ended.add(str(p))
        return out


class QueryRunner:
    """Runs one plan over a :class:`~pycql.log.base.Log`.

    ``decoders`` maps a *source name* to a decoder (``records -> (rows,
    timestamps, errors)``); sources without one get
    ``pycql.log.formats.make_decoder(columns, format, timestamp)``.
    ``dead_letter_topic`` names one topic for every rejected record; by default
    each source topic ``T`` has its own, ``T.dead-letters``.

    ``lateness_ms``, ``idle_timeout_ms``, ``idle_advance`` and
    ``max_future_ms`` are the default :class:`~pycql.runtime.eventtime.TimePolicy`;
    a source operator's ``"time"`` member (the driver sets it from the
    stream's options) overrides them for that source. ``on_error`` says what
    a row an expression fails on does (see :data:`OnError`).
    ``partitions`` limits the run to some partitions of some topics
    (``{topic: [0]}``: one task of a job, see :mod:`pycql.jobs`); the others
    are read whole. ``checkpoint`` (from :meth:`checkpoint`) continues a run
    where it was taken, exactly as the run would have gone on (``start`` is then
    ignored). ``clock`` (seconds, like :func:`time.time`) exists for tests.
    """

    def __init__(
        self,
        plan: dict[str, Any],
        log: Log,
        *,
        params: Sequence[object] = (),
        start: StartAt | str = "earliest",
        stop: StopAt | str | dict[Any, int] | None = None,
        lateness_ms: int = 0,
        idle_timeout_ms: int = 1000,
        idle_advance: Literal["newest", "wall_clock"] = "newest",
        max_future_ms: int | None = 3_600_000,
        on_error: OnError = "dead_letter",
        dead_letter_topic: str | None = None,
        decoders: Mapping[str, DecoderFn] | None = None,
        max_records: int = 10_000,
        partitions: Partitions | None = None,
        checkpoint: dict[str, Any] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if isinstance(stop, str):
            if stop.lower() not in ("end", "latest"):
                raise ProgrammingError(f"stop must be 'end', a timestamp or offsets, not {stop!r}")
            stop = "end"
        elif stop is not None and (isinstance(stop, bool) or not isinstance(stop, int | dict)):
            raise ProgrammingError(f"stop must be 'end', a timestamp or offsets, not {stop!r}")
        if isinstance(start, str) and start not in ("earliest", "latest"):
            raise ProgrammingError(f"start must be 'earliest', 'latest', a timestamp or offsets, "
                                   f"not {start!r}")
        if on_error not in ("dead_letter", "fail"):
            raise ProgrammingError(f"on_error must be 'dead_letter' or 'fail', not {on_error!r}")
        default_policy = TimePolicy(lateness_ms, idle_timeout_ms, idle_advance, max_future_ms)
        if checkpoint is None:
            self.executor = Executor(plan, params, on_error=on_error)
        else:
            if checkpoint.get("pycql_checkpoint") != CHECKPOINT_VERSION:
                raise ProgrammingError(
                    f"unsupported checkpoint version {checkpoint.get('pycql_checkpoint')!r}")
            self.executor = Executor.restore(plan, checkpoint["executor"], params,
                                             on_error=on_error)
            start = {(str(t), int(p)): int(o) for t, p, o in checkpoint["positions"]}
        self.metrics = RunnerMetrics()
        self._log = log
        self._stop: Literal["end"] | int | None = (
            "end" if isinstance(stop, dict) else stop)
        self._dead_letter_topic = dead_letter_topic
        self._dead_topics_made: set[str] = set()
        self._max_records = max_records
        self._clock = clock
        self._sources: dict[str, list[_SourceInfo]] = {}
        #: the time policy of each topic (the first source reading it)
        self._policies: dict[str, TimePolicy] = {}
        #: the source topics under each operator: where its rejected rows go
        self._topics_under: dict[int, list[str]] = {}
        seen: set[str] = set()
        used = used_source_columns(self.executor.plan)
        for spec in self.executor.plan["operators"]:
            if spec["op"] != "source" or spec["name"] in seen:
                continue
            seen.add(spec["name"])
            info = self._source_info(spec, decoders, default_policy, used.get(spec["name"]))
            self._sources.setdefault(info.topic, []).append(info)
            self._policies.setdefault(info.topic, info.policy)
            self.metrics.sources[info.name] = info.metrics
        self._partitions = partitions
        self._reader = self._open_reader(log, start, resuming=checkpoint is not None)
        self._max_ts: dict[tuple[str, int], int] = {}
        #: the newest watermark control record (heartbeat) of each partition
        self._marks: dict[tuple[str, int], int] = {}
        #: the upstream tasks' watermarks of each partition of an intermediate topic
        self._producers: dict[tuple[str, int], _Producers] = {}
        #: the producers of each intermediate topic read
        self._exchanges = {topic: infos[0].producers for topic, infos in self._sources.items()
                           if infos[0].producers is not None}
        #: whether the inputs were all idle at the last watermark (an upstream task says
        #: so to the stages it writes)
        self.idle = False
        #: when (``clock``) each partition last delivered a record: idleness
        self._heard_at: dict[tuple[str, int], float] = {}
        self._started_at = clock()
        self._stop_offsets: dict[tuple[str, int], int] | None = None
        if stop == "end" or isinstance(stop, dict):
            # an intermediate topic ends with its producers' end-of-stream records
            self._stop_offsets = {tp: n for tp, n in self._reader.end_offsets().items()
                                  if tp[0] not in self._exchanges}
            if isinstance(stop, dict):
                for topic, partition in list(self._stop_offsets):
                    offset = explicit_start(stop, topic, partition)
                    if offset is not None:
                        self._stop_offsets[(topic, partition)] = offset
        #: where the reading started and where it is to end (see :meth:`progress`)
        self._progress_from = self._reader.position()
        self._progress_to: dict[tuple[str, int], int] | None = self._stop_offsets
        if self._progress_to is None and self._stop is not None:  # stop at a time
            self._progress_to = self._reader.end_offsets()
        self._progress_clock = time.monotonic()
        self._last_ts: int | None = None
        if checkpoint is not None:
            self._load(checkpoint)
        self._done = False
        self._cancelled = False
        self._closed = False
        state_freezer.open()  # undone by close()

    def _open_reader(self, log: Log, start: StartAt | str, resuming: bool = False) -> LogReader:
        table_topics = [t for t, infos in self._sources.items() if infos[0].is_table]
        stream_topics = [t for t in self._sources if t not in table_topics]
        chosen = self._partitions
        if not table_topics or start == "earliest" or resuming:
            return log.reader(list(self._sources), start, chosen)  # type: ignore[arg-type]
        tables = log.reader(table_topics, "earliest", chosen)
        if not stream_topics:
            return tables
        return _ReaderPair(log.reader(stream_topics, start, chosen),  # type: ignore[arg-type]
                           tables)

    def _source_info(
        self, spec: dict[str, Any], decoders: Mapping[str, DecoderFn] | None,
        default_policy: TimePolicy, used: set[int] | None,
    ) -> _SourceInfo:
        name = spec["name"]
        columns = spec.get("columns", [])
        policy = TimePolicy.from_json(spec.get("time"), default_policy)
        exchange = spec.get("exchange")
        if exchange is not None:  # read as changes in the order written, never as a table
            return _SourceInfo(name, spec.get("topic") or name, False, _no_decoder,
                               _no_batch_decoder, None, {}, policy, SourceMetrics(policy),
                               int(exchange["producers"]), spec.get("output") == "relation",
                               len(columns))
        is_table = spec.get("source_kind") == "table"
        decoder = (decoders or {}).get(name)
        batch_decoder: BatchDecoderFn
        if decoder is None:
            from pycql.log.formats import make_batch_decoder, make_decoder

            kind, timestamp = spec.get("format") or "json", spec.get("timestamp")
            decoder = make_decoder(columns, kind, timestamp)
            # a table keeps whole rows (its rows by key are compared whole)
            batch_decoder = make_batch_decoder(columns, kind, timestamp,
                                               None if is_table else used)
        else:
            batch_decoder = _batch_decoder_of(decoder)
        key_indexes = None
        if is_table and spec.get("primary_key"):
            names = [c["name"].upper() for c in columns]
            key_indexes = [names.index(k.upper()) for k in spec["primary_key"]]
        policy = TimePolicy.from_json(spec.get("time"), default_policy)
        return _SourceInfo(name, spec.get("topic") or name, is_table, decoder, batch_decoder,
                           key_indexes, {}, policy, SourceMetrics(policy))

    # --- the API ------------------------------------------------------------------

    @property
    def done(self) -> bool:
        """True once a bounded run reached its stop (or the runner was cancelled)."""
        return self._done or self._cancelled

    @property
    def instant(self) -> int | None:
        """The last instant the query closed (``None`` before any)."""
        return self.executor.last_instant

    def lag(self) -> dict[tuple[str, int], int]:
        """Records not read yet, per input partition (from the end offsets last known, so
        it never waits for the broker)."""
        ends = self._reader.end_offsets(fresh=False)
        positions = self._reader.position()
        return {tp: max(0, ends.get(tp, 0) - positions.get(tp, 0))
                for tp in self._reader.assignment()}

    def progress(self) -> Progress:
        """How far the run has read its inputs, from the log's offsets
        (:class:`~pycql.runtime.progress.Progress`; cheap: it never asks the broker)."""
        positions = self._reader.position()
        start = self._progress_from
        end = self._progress_to
        read = 0
        for tp, offset in positions.items():
            if end is not None and tp in end:
                offset = min(offset, end[tp])
            read += max(0, offset - start.get(tp, 0))
        total = None if end is None else sum(
            max(0, offset - start.get(tp, 0)) for tp, offset in end.items())
        return Progress(read, total, time.monotonic() - self._progress_clock, self.done)

    @property
    def newest(self) -> int | None:
        """The newest timestamp read from any input (``None`` before any)."""
        return self._last_ts

    def snapshot(self) -> list[tuple[Any, ...]]:
        """The current value of a relation-valued query (see :meth:`Executor.snapshot`)."""
        return self.executor.snapshot()

    def poll(self, timeout: float = 0.1) -> list[Emission]:
        """Read one batch, apply it, advance the watermark; return what the query emitted."""
        if self.done:
            return []
        with fewer_collections():
            batch = self._reader.poll_batch(self._max_records, timeout)
            if batch.items and self._stop_offsets is not None:
                batch = self._before_stop(batch)
            if batch.items:
                self.metrics.records_in += len(batch)
                self._ingest(batch)
            # the batch's messages are tracked by the cyclic collector: free them while
            # the threshold is raised, or the young collection that follows traverses
            # them (Nexmark q2, 920k bids: young collections 0.28 -> 0.015 s)
            del batch
            emissions = self._advance(self._watermark_now())
            emissions += self._check_progress()
            self._dead_letter_rejected()
        state_freezer.after_poll()
        self.metrics.emitted += len(emissions)
        return emissions

    def __iter__(self) -> Iterator[Emission]:
        """Emissions until a bounded run ends or :meth:`cancel` is called."""
        while not self.done:
            yield from self.poll(0.1)

    def cancel(self) -> None:
        """Make iteration stop after the current poll (safe from another thread)."""
        self._cancelled = True

    def close(self) -> None:
        """Release the log reader."""
        if not self._closed:
            self._closed = True
            state_freezer.close()
            self._reader.close()

    def __enter__(self) -> QueryRunner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- checkpoints --------------------------------------------------------------------

    def checkpoint(self, *, incremental: bool = False) -> dict[str, Any]:
        """Everything this run needs to go on elsewhere exactly as it would go on here,
        as orjson-able data: the executor's state (synopses, buffered instants, the
        watermark), the time layer (newest timestamp and heartbeat per partition), the
        tables' current rows, the reader's positions and the counters.

        Take it between polls: the emissions returned so far are then exactly those of
        the input before the positions (``pycql.jobs`` commits both in one transaction).
        ``incremental`` leaves out the operators that track their changes
        (:meth:`Executor.state`; their changes are :meth:`Executor.changed_state`).
        """
        m = self.metrics
        return {
            "pycql_checkpoint": CHECKPOINT_VERSION,
            "executor": self.executor.state(incremental=incremental),
            "positions": [[t, p, o] for (t, p), o in sorted(self._reader.position().items())],
            "newest": [[t, p, v] for (t, p), v in sorted(self._max_ts.items())],
            "marks": [[t, p, v] for (t, p), v in sorted(self._marks.items())],
            "producers": [[t, p, v.to_json()] for (t, p), v in sorted(self._producers.items())],
            "last_ts": self._last_ts,
            "tables": {
                info.name: encode_values([[_key_json(k), list(row)]
                                          for k, row in info.rows_by_key.items()])
                for infos in self._sources.values() for info in infos if info.is_table
            },
            "counters": [m.records_in, m.late_records, m.deferred_table_changes,
                         m.malformed_records, m.expression_errors, m.emitted],
        }

    def _load(self, checkpoint: dict[str, Any]) -> None:
        self._max_ts = {(str(t), int(p)): int(v) for t, p, v in checkpoint["newest"]}
        self._marks = {(str(t), int(p)): int(v) for t, p, v in checkpoint["marks"]}
        self._producers = {(str(t), int(p)): _Producers.from_json(v)
                           for t, p, v in checkpoint.get("producers") or []}
        self._last_ts = checkpoint.get("last_ts")
        tables = checkpoint.get("tables") or {}
        for infos in self._sources.values():
            for info in infos:
                if info.is_table:
                    info.rows_by_key = {_key_from_json(k): tuple(row)
                                        for k, row in decode_values(tables.get(info.name, []))}
        m = self.metrics
        (m.records_in, m.late_records, m.deferred_table_changes, m.malformed_records,
         m.expression_errors, m.emitted) = checkpoint["counters"]
        m.watermark = self.executor.watermark

    # --- ingestion ----------------------------------------------------------------------

    def _before_stop(self, batch: RecordBatch) -> RecordBatch:
        """The records before the stop offsets: a bounded run reads exactly to its stop.

        A partition's records come in offset order: when the newest record of each
        partition is before its stop, the whole batch is (the common case, one
        look per partition); else each record is looked at.
        """
        stops = self._stop_offsets
        assert stops is not None
        if batch.topic is not None and batch.partition is not None:
            stop = stops.get((batch.topic, batch.partition))
            if stop is None or batch.record(len(batch) - 1).offset < stop:
                return batch
            return batch.select([offset < stop for offset in batch.offsets])
        pairs = list(zip(batch.topics, batch.partitions, strict=True))
        newest = dict(zip(pairs, batch.offsets, strict=True))
        if all(offset < stops.get(pair, offset + 1) for pair, offset in newest.items()):
            return batch
        return batch.select([offset < stops.get(pair, offset + 1)
                             for pair, offset in zip(pairs, batch.offsets, strict=True)])

    def _ingest(self, batch: RecordBatch) -> None:
        by_topic: dict[str, RecordBatch]
        topics = {batch.topic} if batch.topic is not None else set(batch.topics)
        if len(topics) == 1:
            by_topic = {topics.pop(): batch}  # the common case: one topic per batch
        else:
            names = batch.topics
            by_topic = {topic: batch.select([name == topic for name in names])
                        for topic in sorted(topics)}
        dead: list[tuple[Record, str]] = []
        stop_ts = self._stop if isinstance(self._stop, int) else None
        for topic, part in by_topic.items():
            infos = self._sources.get(topic, [])
            if CONTROL_KEY in part.keys:  # C-level: heartbeats are rare
                part = self._take_control(topic, part, infos, dead)
            if not part.items:
                continue
            for info in infos:
                info.metrics.records_in += len(part)
                if info.producers is not None:
                    self._ingest_exchange(info, part, stop_ts, dead)
                elif info.is_table:
                    self._ingest_table(info, part, stop_ts, dead)
                else:
                    self._ingest_stream(info, part, stop_ts, dead)
        if dead:
            self._dead_letter(dead)

    def _take_control(
        self, topic: str, batch: RecordBatch, infos: list[_SourceInfo],
        dead: list[tuple[Record, str]],
    ) -> RecordBatch:
        """Apply the watermark control records of ``batch``; return the data records."""
        heard_at = self._clock()
        data = [key != CONTROL_KEY for key in batch.keys]
        for index in compress(range(len(data)), [not d for d in data]):
            record = batch.record(index)
            try:
                control = parse_control(record.value)
            except ValueError as exc:
                self._malformed(infos, record, f"malformed control record: {exc}", dead)
                continue
            for info in infos:
                info.metrics.heartbeats += 1
            if topic in self._exchanges and control.producer is not None:
                tp = (topic, record.partition)
                said = self._producers.get(tp)
                if said is None:
                    said = self._producers[tp] = _Producers()
                producer = control.producer
                said.marks[producer] = max(control.watermark, said.marks.get(producer, -1))
                if control.type == "end_of_stream":
                    said.ended.add(producer)
                elif control.idle:
                    said.idle.add(producer)
                else:
                    said.idle.discard(producer)
                self._heard_at[tp] = heard_at
            elif control.type == "watermark":
                tp = (topic, record.partition)
                if control.watermark > self._marks.get(tp, control.watermark - 1):
                    self._marks[tp] = control.watermark
                self._heard_at[tp] = heard_at
        return batch.select(data)

    def _malformed(self, infos: list[_SourceInfo], record: Record, reason: str,
                   dead: list[tuple[Record, str]]) -> None:
        self.metrics.malformed_records += 1
        for info in infos:
            info.metrics.malformed_records += 1
        dead.append((record, reason))

    def _note_times(self, topic: str, partitions: Sequence[int], times: Sequence[int]) -> None:
        """Note the newest timestamp of each partition (and of all) in one batch.

        ``partitions[i]`` is the partition of the record with timestamp
        ``times[i]``; a log returns a partition's records in runs, so this is
        a few C-level ``max`` calls per batch.
        """
        if not times:
            return
        max_ts = self._max_ts
        heard_at = self._clock()
        for partition, run in groupby(zip(partitions, times, strict=True), key=_FIRST):
            newest = max(map(_SECOND, run))
            tp = (topic, partition)
            self._heard_at[tp] = heard_at
            if newest > max_ts.get(tp, newest - 1):
                max_ts[tp] = newest
        newest = max(times)
        if self._last_ts is None or newest > self._last_ts:
            self._last_ts = newest

    def _note_newest(self, topic: str, partition: int, times: Sequence[int]) -> None:
        """:meth:`_note_times` for a batch of one partition."""
        newest = max(times)
        tp = (topic, partition)
        self._heard_at[tp] = self._clock()
        if newest > self._max_ts.get(tp, newest - 1):
            self._max_ts[tp] = newest
        if self._last_ts is None or newest > self._last_ts:
            self._last_ts = newest

    def _set_aside_future(
        self,
        info: _SourceInfo,
        batch: RecordBatch,
        rows: list[tuple[Any, ...]],
        times: list[int],
        dead: list[tuple[Record, str]],
    ) -> tuple[RecordBatch, list[tuple[Any, ...]], list[int]]:
        """Set aside records stamped beyond the source's ``max_future_ms`` of the wall clock:
        one bad clock must not move time for every other producer."""
        bound = info.policy.max_future_ms
        if bound is None or not times:
            return batch, rows, times
        limit = int(self._clock() * 1000) + bound
        if max(times) <= limit:
            return batch, rows, times
        kept = [ts <= limit for ts in times]
        for index in compress(range(len(kept)), [not k for k in kept]):
            self._future(info, batch.record(index), times[index], limit, bound, dead)
        return batch.select(kept), list(compress(rows, kept)), list(compress(times, kept))

    def _future(self, info: _SourceInfo, record: Record, ts: int, limit: int, bound: int,
                dead: list[tuple[Record, str]]) -> None:
        reason = (f"future: timestamp {ts} is more than {format_duration(bound)} "
                  f"ahead of the wall clock ({limit - bound}); max_future of "
                  f"{info.name}")
        info.metrics.future_records += 1
        info.metrics.last_reason = reason
        self._malformed([info], record, reason, dead)

    def _set_aside_future_records(
        self,
        info: _SourceInfo,
        records: list[Record],
        rows: list[tuple[Any, ...]],
        times: list[int],
        dead: list[tuple[Record, str]],
    ) -> tuple[list[Record], list[tuple[Any, ...]], list[int]]:
        """:meth:`_set_aside_future` for a list of records (table topics)."""
        batch, rows, times = self._set_aside_future(info, RecordBatch.of_records(records),
                                                    rows, times, dead)
        return batch.items, rows, times

    def _ingest_stream(
        self,
        info: _SourceInfo,
        batch: RecordBatch,
        stop_ts: int | None,
        dead: list[tuple[Record, str]],
    ) -> None:
        rows, times, errors = info.batch_decoder(batch)
        if errors:
            batch = self._set_aside_malformed(info, batch, errors, dead)
        batch, rows, times = self._set_aside_future(info, batch, rows, times, dead)
        if not times:
            return
        if batch.partition is not None and batch.topic is not None:
            self._note_newest(batch.topic, batch.partition, times)
        else:
            self._note_times(batch.topics[0], batch.partitions, times)
        watermark = self.executor.watermark
        if watermark is not None and min(times) <= watermark:
            kept = [ts > watermark for ts in times]
            for index in compress(range(len(kept)), [not k for k in kept]):
                ts = times[index]
                reason = (f"late: timestamp {ts} is at or before the watermark {watermark} "
                          f"(lateness of {info.name}: "
                          f"{format_duration(info.policy.lateness_ms)})")
                self.metrics.late_records += 1
                info.metrics.late_records += 1
                info.metrics.last_reason = reason
                dead.append((batch.record(index), reason))
            rows = list(compress(rows, kept))
            times = list(compress(times, kept))
        if stop_ts is not None and times and max(times) > stop_ts:
            kept = [ts <= stop_ts for ts in times]
            rows = list(compress(rows, kept))
            times = list(compress(times, kept))
        self.executor.push_many(info.name, times, rows)

    def _ingest_exchange(
        self,
        info: _SourceInfo,
        batch: RecordBatch,
        stop_ts: int | None,
        dead: list[tuple[Record, str]],
    ) -> None:
        """The changes an upstream stage wrote (:class:`pycql.jobs.sink.ExchangeSink`):
        ``[op, v1, ..., vn]`` at the record's instant.

        A batch of good changes, none late nor past the stop, goes in at once
        (:func:`~pycql.runtime.exchange_codec.decode_changes`); any other is looked
        at record by record (:meth:`_ingest_exchange_records`), which dead-letters
        each bad one with its reason."""
        values = batch.values
        changes = decode_changes(values, info.width)
        if changes is None:
            self._ingest_exchange_records(info, batch.records(), stop_ts, dead)
            return
        if not changes:
            return
        times = batch.timestamps
        watermark = self.executor.watermark
        newest = max(times)
        if ((watermark is not None and min(times) <= watermark)
                or (stop_ts is not None and newest > stop_ts)):
            self._ingest_exchange_records(info, batch.records(), stop_ts, dead)
            return
        rows = list(map(tuple, map(_VALUES, changes)))
        texts = cast("list[bytes]", values)  # none is None: decode_changes read them all
        if _DECIMAL_TAG in b"".join(texts):
            rows = [tuple(decode_values(list(row))) if _DECIMAL_TAG in value else row
                    for row, value in zip(rows, texts, strict=True)]
        if self._last_ts is None or newest > self._last_ts:
            self._last_ts = newest
        ops = list(map(_FIRST, changes))
        if not info.relation and -1 not in ops:  # a stream: one call for the batch
            self.executor.push_many(info.name, times, rows)
            return
        inserts: dict[int, list[tuple[Any, ...]]] = {}
        deletes: dict[int, list[tuple[Any, ...]]] = {}
        for op, ts, row in zip(ops, times, rows, strict=True):
            (inserts if op > 0 else deletes).setdefault(ts, []).append(row)
        for ts in sorted(inserts.keys() | deletes.keys()):
            self.executor.push(info.name, ts, inserts.get(ts, []), deletes.get(ts, []))

    def _ingest_exchange_records(
        self,
        info: _SourceInfo,
        records: list[Record],
        stop_ts: int | None,
        dead: list[tuple[Record, str]],
    ) -> None:
        """:meth:`_ingest_exchange` a record at a time."""
        width = info.width
        watermark = self.executor.watermark
        inserts: dict[int, list[tuple[Any, ...]]] = {}
        deletes: dict[int, list[tuple[Any, ...]]] = {}
        loads = orjson.loads
        for record in records:
            try:
                change = loads(record.value or b"")
                if not isinstance(change, list) or len(change) != width + 1 or change[0] not in (
                        1, -1):
                    raise ValueError(f"an exchange record is [op, {width} values]")
            except (orjson.JSONDecodeError, ValueError) as exc:
                self._malformed([info], record, f"malformed exchange record: {exc}", dead)
                continue
            ts = record.timestamp_ms
            if watermark is not None and ts <= watermark:
                self.metrics.late_records += 1
                info.metrics.late_records += 1
                dead.append((record, f"late: an exchange record at {ts} after its upstream "
                                     f"watermarks passed it (watermark {watermark})"))
                continue
            if stop_ts is not None and ts > stop_ts:
                continue
            row = tuple(change[1:])
            if _DECIMAL_TAG in (record.value or b""):
                row = tuple(decode_values(list(row)))
            (inserts if change[0] > 0 else deletes).setdefault(ts, []).append(row)
        times = sorted(inserts.keys() | deletes.keys())
        if not times:
            return
        if self._last_ts is None or times[-1] > self._last_ts:
            self._last_ts = times[-1]
        if not info.relation and not deletes:  # a stream: one call for the batch
            self.executor.push_many(info.name, [ts for ts in times for _ in inserts[ts]],
                                    [row for ts in times for row in inserts[ts]])
            return
        for ts in times:
            self.executor.push(info.name, ts, inserts.get(ts, []), deletes.get(ts, []))

    def _set_aside_malformed(
        self,
        info: _SourceInfo,
        batch: RecordBatch,
        errors: list[tuple[int, str]],
        dead: list[tuple[Record, str]],
    ) -> RecordBatch:
        """Count and keep (for the dead letters) what the decoder rejected; return the rest,
        in step with the decoded rows."""
        self.metrics.malformed_records += len(errors)
        info.metrics.malformed_records += len(errors)
        keep = [True] * len(batch)
        for index, reason in errors:
            dead.append((batch.record(index), reason))
            keep[index] = False
        return batch.select(keep)

    def _set_aside_malformed_records(
        self,
        info: _SourceInfo,
        records: list[Record],
        errors: list[tuple[Record, str]],
        dead: list[tuple[Record, str]],
    ) -> list[Record]:
        """:meth:`_set_aside_malformed` for a list of records (table topics)."""
        if not errors:
            return records
        self.metrics.malformed_records += len(errors)
        info.metrics.malformed_records += len(errors)
        dead.extend(errors)
        bad = {(r.partition, r.offset) for r, _ in errors}
        return [r for r in records if (r.partition, r.offset) not in bad]

    def _ingest_table(
        self,
        info: _SourceInfo,
        batch: RecordBatch,
        stop_ts: int | None,
        dead: list[tuple[Record, str]],
    ) -> None:
        """Upserts and tombstones of a table topic -> inserts and deletes per instant."""
        records = batch.records()
        tombstones = [r for r in records if r.value is None]
        values = [r for r in records if r.value is not None] if tombstones else records
        rows, times, errors = info.decoder(values)
        values = self._set_aside_malformed_records(info, values, errors, dead)
        values, rows, times = self._set_aside_future_records(info, values, rows, times, dead)
        inserts: dict[int, list[tuple[Any, ...]]] = {}
        deletes: dict[int, list[tuple[Any, ...]]] = {}
        items: list[tuple[Record, tuple[Any, ...] | None, int]] = list(
            zip(values, rows, times, strict=True)
        )
        if tombstones:
            items += [(r, None, r.timestamp_ms) for r in tombstones]
            items.sort(key=lambda item: (item[0].partition, item[0].offset))
        if items:
            partitions = [item[0].partition for item in items]
            self._note_times(items[0][0].topic, partitions, [item[2] for item in items])
        watermark = self.executor.watermark
        for record, row, ts in items:
            if watermark is not None and ts <= watermark:
                # A table holds stored data: a change arriving after its instant
                # closed takes effect at the first open instant, never dropped.
                self.metrics.deferred_table_changes += 1
                ts = watermark + 1
            if stop_ts is not None and ts > stop_ts:
                continue
            key: Any = record.key
            if key is None and row is not None and info.key_indexes is not None:
                key = tuple(row[i] for i in info.key_indexes)
            if key is None:
                self._malformed([info], record, "a table record needs a key (the primary key)",
                                dead)
                continue
            old = info.rows_by_key.get(key)
            if row is None:
                if old is not None:
                    del info.rows_by_key[key]
                    deletes.setdefault(ts, []).append(old)
                continue
            if old == row:
                continue
            if old is not None:
                deletes.setdefault(ts, []).append(old)
            info.rows_by_key[key] = row
            inserts.setdefault(ts, []).append(row)
        for ts in sorted(inserts.keys() | deletes.keys()):
            self.executor.push(info.name, ts, inserts.get(ts, []), deletes.get(ts, []))

    def _dead_letter_topic_of(self, topic: str) -> str:
        from pycql.log.formats import dead_letter_topic

        return self._dead_letter_topic or dead_letter_topic(topic)

    def _dead_letter(self, dead: list[tuple[Record, str]]) -> None:
        from pycql.log.formats import dead_letter_record

        by_topic: dict[str, list[OutRecord]] = {}
        for record, reason in dead:
            topic = self._dead_letter_topic_of(record.topic)
            by_topic.setdefault(topic, []).append(dead_letter_record(record, reason))
        self._write_dead_letters(by_topic)

    def _write_dead_letters(self, by_topic: dict[str, list[OutRecord]]) -> None:
        from pycql.log.base import NotWriter

        for topic, out in by_topic.items():
            try:
                if topic not in self._dead_topics_made:
                    self._log.create_topic(TopicSpec(topic), exist_ok=True)
                    self._dead_topics_made.add(topic)
                self._log.produce(topic, out)
            except NotWriter:
                # a query in a process reading a database file another process writes:
                # the metrics count the records, the file cannot keep them
                self.metrics.dead_letters_not_kept += len(out)

    def _dead_letter_rejected(self) -> None:
        """Rows an expression failed on: into the dead letters of the sources below the
        operator that rejected them, with the reason and the operator."""
        rejected = self.executor.take_rejected()
        if not rejected:
            return
        self.metrics.expression_errors += len(rejected)
        by_topic: dict[str, list[OutRecord]] = {}
        for r in rejected:
            topics = self._source_topics_under(r.operator_id)
            envelope = {
                "reason": f"expression error in {r.operator} (operator {r.operator_id}): "
                          f"{r.reason}",
                "operator": r.operator,
                "operator_id": r.operator_id,
                "timestamp_ms": r.timestamp,
                "source": r.source,
                "sources": topics,
                "row": list(r.row),
            }
            value = orjson.dumps(envelope, default=str)
            topic = self._dead_letter_topic_of(topics[0] if topics else "query")
            by_topic.setdefault(topic, []).append(OutRecord(value, None, r.timestamp))
        self._write_dead_letters(by_topic)

    def _source_topics_under(self, operator_id: int) -> list[str]:
        topics = self._topics_under.get(operator_id)
        if topics is None:
            specs = {spec["id"]: spec for spec in self.executor.plan["operators"]}
            found: set[str] = set()
            todo = [operator_id]
            while todo:
                spec = specs.get(todo.pop())
                if spec is None:
                    continue
                if spec["op"] == "source":
                    found.add(spec.get("topic") or spec["name"])
                todo.extend(spec.get("inputs", []))
            topics = self._topics_under[operator_id] = sorted(found)
        return topics

    # --- progress -----------------------------------------------------------------------

    def _watermark_now(self) -> int | None:
        """The watermark the inputs allow now (see the module docstring).

        Each partition heard from offers ``max(newest - lateness - 1, its
        heartbeat)``; the watermark is the minimum over partitions that are
        not idle. A partition never heard from holds everything back while
        it has records to read, and nothing once it is caught up. A partition
        is *idle* when it is caught up (everything in it has been read) and
        delivered nothing for its ``idle_timeout_ms``. When every partition
        is idle, the instants received close (the newest timestamp heard
        anywhere), or time moves to the wall clock minus the lateness of a
        source whose ``idle_advance`` is ``"wall_clock"``.
        """
        assignment = self._reader.assignment()
        max_ts = self._max_ts
        marks = self._marks
        ends: dict[tuple[str, int], int] | None = None
        positions: dict[tuple[str, int], int] = {}

        def caught_up(tp: tuple[str, int]) -> bool:
            nonlocal ends, positions
            if ends is None:
                ends = self._reader.end_offsets(fresh=False)
                positions = self._reader.position()
            return positions.get(tp, 0) >= ends.get(tp, 0)

        now = self._clock()
        active: int | None = None  # the minimum over partitions that are not idle
        idle_to = _NEVER  # where time goes when every partition is idle
        # while the log is unreachable, what was read is not known to be everything
        # there is: no partition is idle (records produced meanwhile must not be late)
        stalled = self._reader.stalled
        exchanges = self._exchanges
        #: whether every input partition is quiet (for :attr:`idle`)
        quiet_everywhere = True
        for tp in assignment:
            producers = exchanges.get(tp[0])
            if producers is not None:  # an intermediate topic: its upstream tasks' time
                said = self._producers.get(tp)
                offer, quiet_upstream = (None, False) if said is None else said.offer(producers)
                if offer is None:
                    self.idle = False
                    return None  # wait until every upstream task has said where it is
                if quiet_upstream:
                    idle_to = max(idle_to, offer)
                else:
                    active = offer if active is None else min(active, offer)
                continue
            policy = self._policies[tp[0]]
            newest = max_ts.get(tp)
            mark = marks.get(tp)
            quiet = not stalled and (
                self._heard_at.get(tp, self._started_at) <= now - policy.idle_timeout_ms / 1000)
            if newest is None and mark is None:  # never heard from
                if not caught_up(tp):
                    self.idle = False
                    return None  # a replay: wait for this partition's first records
                if quiet and policy.idle_advance == "wall_clock":
                    idle_to = max(idle_to, int(now * 1000) - policy.lateness_ms)
                # not waited for, but the task is idle only once it was quiet long enough
                quiet_everywhere = quiet_everywhere and quiet
                continue
            offer = max(-1 if newest is None else newest - policy.lateness_ms - 1,
                        -1 if mark is None else mark)
            if not (quiet and caught_up(tp)):
                active = offer if active is None else min(active, offer)
            elif policy.idle_advance == "wall_clock":
                idle_to = max(idle_to, offer, int(now * 1000) - policy.lateness_ms)
            else:
                idle_to = max(idle_to, offer, -1 if newest is None else newest)
        self.idle = active is None and quiet_everywhere
        if active is not None:
            return active
        return None if idle_to == _NEVER else idle_to

    def _exchanges_ended(self) -> bool:
        """Whether every upstream task of every intermediate topic read said it ended."""
        for tp in self._reader.assignment():
            producers = self._exchanges.get(tp[0])
            if producers is None:
                continue
            said = self._producers.get(tp)
            if said is None or len(said.ended) < producers:
                return False
        return True

    def _advance(self, watermark: int | None) -> list[Emission]:
        if watermark is None:
            return []
        if isinstance(self._stop, int):
            watermark = min(watermark, self._stop)
        current = self.executor.watermark
        if current is not None and watermark <= current:
            return []
        self.metrics.watermark = watermark
        return self.executor.advance(watermark)

    def _check_progress(self) -> list[Emission]:
        stop = self._stop
        out: list[Emission] = []
        if stop == "end":
            assert self._stop_offsets is not None
            positions = self._reader.position()
            if all(positions.get(tp, 0) >= end for tp, end in self._stop_offsets.items()) and (
                    self._exchanges_ended()):
                if self._last_ts is not None:
                    out = self._advance(self._last_ts)
                self._done = True
            return out
        if isinstance(stop, int):
            wm = self.executor.watermark
            if wm is not None and wm >= stop:
                self._done = True
        return out


def _no_decoder(records: Sequence[Record]) -> Any:
    raise AssertionError("an exchange's records are read by QueryRunner._ingest_exchange")


def _no_batch_decoder(batch: RecordBatch) -> Any:
    raise AssertionError("an exchange's records are read by QueryRunner._ingest_exchange")


def _batch_decoder_of(decoder: DecoderFn) -> BatchDecoderFn:
    """A records decoder (``QueryRunner(decoders=...)``) as a batch decoder."""

    def decode(batch: RecordBatch) -> BatchDecoded:
        records = batch.records()
        rows, times, errors = decoder(records)
        where = {(r.topic, r.partition, r.offset): i for i, r in enumerate(records)}
        return rows, times, [(where[(r.topic, r.partition, r.offset)], reason)
                             for r, reason in errors]

    return decode


def _key_json(key: Any) -> Any:
    """A table row's key (a record key, or a tuple of key values) as JSON."""
    if isinstance(key, bytes):
        return {"$bytes": key.hex()}
    return list(key)


def _key_from_json(data: Any) -> Any:
    if isinstance(data, dict):
        return bytes.fromhex(data["$bytes"])
    return tuple(data)


class _ReaderPair(LogReader):
    """Streams read from the run's start, tables from their beginning, as one reader."""

    def __init__(self, streams: LogReader, tables: LogReader) -> None:
        self._streams = streams
        self._tables = tables

    def poll(self, max_records: int = 10_000, timeout: float = 0.1) -> list[Record]:
        records = self._tables.poll(max_records, 0.0)
        if len(records) < max_records:
            records += self._streams.poll(max_records - len(records), 0.0 if records else timeout)
        return records

    def poll_batch(self, max_records: int = 10_000, timeout: float = 0.1) -> RecordBatch:
        tables = self._tables.poll_batch(max_records, 0.0)
        if len(tables) >= max_records:
            return tables
        streams = self._streams.poll_batch(max_records - len(tables),
                                           0.0 if tables.items else timeout)
        if not tables.items:
            return streams
        if not streams.items:
            return tables
        return RecordBatch.of_records(tables.records() + streams.records())

    def assignment(self) -> list[tuple[str, int]]:
        return self._streams.assignment() + self._tables.assignment()

    def end_offsets(self, fresh: bool = True) -> dict[tuple[str, int], int]:
        return {**self._streams.end_offsets(fresh), **self._tables.end_offsets(fresh)}

    def position(self) -> dict[tuple[str, int], int]:
        return {**self._streams.position(), **self._tables.position()}

    @property
    def stalled(self) -> bool:
        return self._streams.stalled or self._tables.stalled

    def close(self) -> None:
        self._streams.close()
        self._tables.close()
