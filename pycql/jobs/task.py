"""A task: one stage of a job over one share of its inputs' partitions, committed exactly once.

Task ``i`` of a stage with ``n`` tasks (:mod:`pycql.jobs.stages`; a job without
exchanges is one stage) reads the partitions ``p`` of its stream inputs and
intermediate topics with ``p % n == i`` (co-partitioned inputs are read together)
and every partition of its tables, runs the stage's plan
(:class:`~pycql.runtime.runner.QueryRunner`) and writes what it emits: the last
stage to the sink's topic (:mod:`pycql.jobs.sink`), to output partition ``i``
when ``n > 1``, else to all of them; an earlier stage to its exchange's
intermediate topic, by the hash of the exchange's keys, with its watermark to
every partition of it at each commit where it moved. The last stage of a ``CREATE
STREAM AS`` job likewise writes its watermark to each output partition it writes
(:class:`~pycql.jobs.sink.StreamSink`), so the job's readers move on its time.

**The commit protocol** (``processing_guarantee = 'exactly_once'``, the
default). Output goes into an open transaction of the task's transactional
producer (id ``pycql.<job>.<task>``) as it is made (it is sent while the task
goes on, invisible to readers); every ``commit_interval`` the changes of the
task's state in its changelog partition are added and the transaction commits,
so one transaction holds the output since the last commit *and* the changes of
the task's state (:mod:`pycql.jobs.changelog`), the input positions among them. Readers
read committed records only, so they see each output row once: a task that dies
loses its open transaction, and its successor restores the state of the last
commit (positions included) and goes on from there. Creating the producer fences
an older one of the same id (a zombie: a paused worker whose task moved on).

``at_least_once`` writes the output, then the changelog, without a transaction:
after a crash the output written since the last changelog is written again.

The commit interval adapts to the state's size: a commit serializes the state of
the operators that do not track their changed keys, and the changed keys of those
that do, so the interval is at least ten times what the last one took while input
flows. A task that has read everything (its poll found no new record) commits after
the job's interval, or after as long as the last serialization took if that is
longer: the adaptive interval protects throughput, and an idle task has none to
protect, so the last output of a burst (the instants the idle timeout closes) is not
held back for ten serializations.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Literal

import orjson

from pycql.jobs.changelog import Changelog, assemble, restore, tracked_prefix
from pycql.jobs.sink import ExchangeSink, Sink, StreamSink, make_sink
from pycql.jobs.spec import Job
from pycql.jobs.stages import Stage
from pycql.log.base import Log, OutRecord, TransactionalProducer
from pycql.log.control import watermark_record
from pycql.runtime.collector import building_state, fewer_collections
from pycql.runtime.executor import Emission, Executor
from pycql.runtime.runner import QueryRunner, StopAt

__all__ = ["Task", "TaskMetrics", "state_sizes"]

#: How often (seconds) a task measures its state's size for its status (it serializes it;
#: a large state less often).
STATE_SIZE_EVERY_S = 5.0
#: Output records after which a task commits before its (adaptive) interval is up, once
#: the job's own interval has passed: it bounds the memory of output held for a commit.
COMMIT_RECORDS = 200_000

#: the key of the changelog record of a task's first, aborted transaction
#: (:meth:`Task._end_lost_transactions`); restores never see it
_ABORT_KEY = b"pycql:end-lost-transactions"


@dataclass
class TaskMetrics:
    """What one task has done since it started (published to the status topic)."""

    records_out: int = 0
    commits: int = 0
    #: milliseconds the last commit took (its transaction, until durable)
    commit_ms: float | None = None
    #: the last commit's changelog records and bytes
    changelog_records: int = 0
    changelog_bytes: int = 0
    #: seconds the restore from the changelog took, and its pieces
    restore_s: float = 0.0
    restored_pieces: int = 0
    #: seconds creating the transactional producer took (it fences the task's last
    #: producer and aborts its open transaction)
    producer_s: float = 0.0
    #: the state's size in serialized bytes and entries, per operator id, when last measured
    state_bytes: dict[int, int] = field(default_factory=dict)
    state_entries: dict[int, int] = field(default_factory=dict)
    measured_at: float = 0.0


def _entries(node: Any) -> int:
    """Rows in serialized operator state: lists holding only scalars (a row, a key)."""
    if isinstance(node, dict):
        return sum(_entries(v) for v in node.values())
    if isinstance(node, list):
        if node and not any(isinstance(v, list | dict) for v in node):
            return 1
        return sum(_entries(v) for v in node)
    return 0


def state_sizes(executor: Executor) -> tuple[dict[int, int], dict[int, int]]:
    """Per stateful operator id: its serialized state's bytes, and its entries (rows)."""
    sizes: dict[int, int] = {}
    entries: dict[int, int] = {}
    for op_id, data in executor.state()["operators"].items():
        if data is None:
            continue
        sizes[int(op_id)] = len(orjson.dumps(data))
        entries[int(op_id)] = _entries(data)
    return sizes, entries


class Task:
    """Task ``index`` of ``job`` over ``log`` (see the module docstring)."""

    def __init__(self, job: Job, index: int, log: Log, *, stop: StopAt | None = None,
                 stage: Stage | None = None) -> None:
        """``stop``: a bounded run (the runner's ``stop``; benchmarks and tests), else
        the task runs as long as its job. ``stage``: which stage of the job it runs
        (by default the job as one stage)."""
        if stage is None:
            stage = Stage(0, job.id, job.tasks, job.plan)
        self.job = job
        self.stage = stage
        self.index = index
        self._log = log
        self.started = time.time()
        self.metrics = TaskMetrics()
        self.exactly_once = job.processing_guarantee == "exactly_once"
        self._interval_s = job.commit_interval_ms / 1000
        plan = stage.plan
        stream_topics = sorted({
            str(op.get("topic") or op["name"]) for op in plan["operators"]
            if op.get("op") == "source" and (
                op.get("source_kind") != "table" or op.get("exchange") is not None)
        })
        self.input_partitions: dict[str, list[int]] | None = None
        if stage.tasks > 1:
            self.input_partitions = {
                t: [p for p in range(log.partitions(t)) if p % stage.tasks == index]
                for t in stream_topics
            }
        #: where the output goes: the job's sink, or the intermediate topic of the exchange
        self.exchange: ExchangeSink | None = None
        if stage.exchange is not None:
            self.exchange = ExchangeSink(stage.exchange, index)
            self._out_topic = self.exchange.topic
        else:
            self._out_topic = job.topic
        count = log.partitions(job.topic)
        mine = [index] if stage.tasks > 1 else list(range(count))
        self.sink: Sink | ExchangeSink = (
            self.exchange if self.exchange is not None
            else make_sink(job, mine, count, producer=f"{stage.name}.{index}"))
        #: the watermark (and idleness) last written to the exchange's or the stream's topic
        self._mark_sent: tuple[int | None, bool] | None = None
        self._ended = False
        self.changelog = Changelog(log, stage.name, stage.tasks, index)
        # the producer first: it fences a zombie and aborts its open transaction, so the
        # changelog read next holds everything that will ever be committed before us
        began = time.perf_counter()
        self._producer: TransactionalProducer | None = (
            log.transactional_producer(f"pycql.{stage.name}.{index}")
            if self.exactly_once else None)
        if self._producer is not None:
            self._end_lost_transactions(self._producer)
        self.metrics.producer_s = time.perf_counter() - began
        on_error: Literal["dead_letter", "fail"] = (
            "fail" if job.on_error == "fail" else "dead_letter")
        with building_state():
            found, seconds = restore(log, stage.name, index)
            self.metrics.restore_s, self.metrics.restored_pieces = seconds, len(found)
            state = assemble(found)
            self.runner = QueryRunner(plan, log, start=job.start_offsets(), stop=stop,
                                      partitions=self.input_partitions, on_error=on_error,
                                      checkpoint=None if state is None else state["runner"])
        executor = self.runner.executor
        executor.track_changes(saved=state is not None)
        tracked = executor.tracked()
        self.changelog.remember(found, tuple(tracked_prefix(op.id) for op in tracked))
        if state is not None:  # a piece written whole (before tracking): write it as pairs
            for op in tracked:
                if state["shapes"].get(str(op.id)) != op.tracked_shape:
                    op.touch_all()
        #: output held for the next commit (at least once); with exactly once the
        #: output goes into the open transaction as it is made, so that it is sent
        #: while the task goes on, and only its count is kept here
        self._out: list[OutRecord] = []
        self._uncommitted = 0
        self._control_pending = False
        self._in_transaction = False
        self._measure_every_s = STATE_SIZE_EVERY_S
        self._last_commit = time.monotonic()
        #: seconds the last commit took to serialize the state
        self._serialized_s = 0.0
        #: (records read, watermark) at the last commit: a task with nothing new skips it
        self._committed_mark: tuple[int, int | None, bool] = (-1, None, False)
        self.restored = state is not None
        if state is not None:
            self.sink.load(state["sink"])
        elif (stage.exchange is not None and stage.exchange.get("output") == "relation") or (
                job.sink_kind == "table" and index == 0 and stage.last):
            # a relation's rows before any input (a global COUNT(*): one row, 0) are no
            # change any operator emits, so they are written as inserts at instant 0:
            # by task 0 of a table job (one copy), and by every task of an upstream
            # stage, whose partial relations the next stage combines
            initial = executor.snapshot()
            if initial:
                self._emit(self.sink.records([Emission(0, 1, tuple(r)) for r in initial]))
        executor.forget_root()  # the sink writes the changes; no copy of the result is needed

    def _end_lost_transactions(self, producer: TransactionalProducer) -> None:
        """Abort, in every partition this task writes, whatever an earlier producer of
        its transactional id left there open.

        A transaction can lose its markers: a broker in controlled shutdown completes a
        commit at its coordinator while its partitions have no leader, and skips their
        markers (seen in the fault harness). The records stay open in those partitions for
        ever: ``read_committed`` readers stop before them, so the restore would stop before
        the task's last state and the task would redo that output, until a marker of a
        later epoch of the same producer ends them with its own outcome, turning the lost
        output visible beside the redone one. So before restoring, a task writes to its
        changelog partition and to each output partition in a transaction that it aborts:
        its markers end any such transaction as aborted, everywhere at once. The records
        are control records (a tombstone in the changelog), which no reader takes for rows,
        and nobody sees them."""
        producer.begin()
        producer.produce(self._out_topic,
                         [watermark_record(-1, partition=p) for p in self.sink.partitions])
        producer.produce(self.changelog.topic, [OutRecord(None, _ABORT_KEY, None, self.index)])
        producer.flush()  # on the log, so that the abort marks every partition
        producer.abort()
        producer.wait_settled(self.changelog.topic, self.index)  # its markers are written

    def step(self, timeout: float) -> int:
        """Read one batch and run it; commit when the interval is up (see the module
        docstring). Returns the records committed (0 between commits)."""
        read_before = self.runner.metrics.records_in
        with fewer_collections():  # the poll's output is encoded under the poll's GC setting
            emissions = self.runner.poll(timeout)
            if emissions:
                self._emit(self.sink.records(emissions))
        if self.exchange is not None and self.runner.done and not self._ended:
            self._ended = True  # a bounded run: say so to the next stage
            self._emit(self.exchange.end_of_stream(self.runner.executor.watermark),
                       control=True)
        elapsed = time.monotonic() - self._last_commit
        interval = self._interval_s
        if self.runner.metrics.records_in == read_before:  # caught up: nothing to protect
            interval = max(self.job.commit_interval_ms / 1000, self._serialized_s)
        if (elapsed >= interval and self._changed()) or (
                self._uncommitted >= COMMIT_RECORDS
                and elapsed >= self.job.commit_interval_ms / 1000):
            return self.commit()
        return 0

    def _changed(self) -> bool:
        """Whether anything happened since the last commit: output, input read, or time
        moved (a window's timer changes state without input)."""
        return (self._uncommitted > 0 or self._control_pending
                or self._mark() != self._committed_mark)

    def _mark(self) -> tuple[int, int | None, bool]:
        runner = self.runner
        return (runner.metrics.records_in, runner.executor.watermark, runner.idle)

    def _emit(self, records: list[OutRecord], *, control: bool = False) -> None:
        """Output for the next commit: into the open transaction, or held (at least once).
        ``control``: control records (not counted as output)."""
        if not records:
            return
        if control:
            self._control_pending = True
        else:
            self._uncommitted += len(records)
        producer = self._producer
        if producer is None:
            self._out += records
            return
        if not self._in_transaction:
            producer.begin()
            self._in_transaction = True
        producer.produce(self._out_topic, records)

    def _watermarks(self) -> None:
        """An upstream stage's task: its watermark to every partition of its exchange's
        topic, with the output before it, when it moved (or the task turned idle). The
        task of a stream job: its watermark to the output partitions it writes, when it
        moved (a plain topic's readers take no idleness from a writer)."""
        runner = self.runner
        if self.exchange is None:
            sink = self.sink
            if isinstance(sink, StreamSink) and sink.forwards_watermarks:
                mark = (runner.executor.watermark, False)
                if mark != self._mark_sent:
                    self._mark_sent = mark
                    self._emit(sink.watermarks(mark[0]), control=True)
            return
        if self._ended:
            return
        mark = (runner.executor.watermark, runner.idle)
        if mark != self._mark_sent:
            self._mark_sent = mark
            self._emit(self.exchange.watermarks(*mark), control=True)

    def commit(self) -> int:
        """Commit the output since the last commit with the state that produced it."""
        self._watermarks()
        out, self._out = self._out, []
        written, self._uncommitted = self._uncommitted, 0
        began = time.perf_counter()
        executor = self.runner.executor
        deltas = self.changelog.deltas({"runner": self.runner.checkpoint(incremental=True),
                                        "sink": self.sink.state()}, executor.changed_state())
        serialized_s = time.perf_counter() - began  # the checkpoint and its pieces
        producer = self._producer
        if producer is not None:
            if not self._in_transaction:
                producer.begin()
            self._in_transaction = True
            if deltas:
                producer.produce(self.changelog.topic, deltas)
            producer.commit()
            self._in_transaction = False
        else:
            if out:
                self._log.produce(self._out_topic, out)
            if deltas:
                self._log.produce(self.changelog.topic, deltas)
        self.changelog.committed()
        self._control_pending = False
        executor.clean()
        self._committed_mark = self._mark()
        m = self.metrics
        m.commit_ms = (time.perf_counter() - began) * 1000
        m.commits += 1
        m.records_out += written
        m.changelog_records, m.changelog_bytes = len(deltas), self.changelog.last_bytes
        self._last_commit = time.monotonic()
        # keep the serialization of state under a tenth of the time (while input flows)
        self._serialized_s = serialized_s
        self._interval_s = max(self.job.commit_interval_ms / 1000, 10 * serialized_s)
        return written

    @property
    def uncommitted(self) -> int:
        """Output records made since the last commit (not yet visible to readers)."""
        return self._uncommitted

    @property
    def commit_interval_s(self) -> float:
        """The interval between commits now (the job's, or longer for a large state)."""
        return self._interval_s

    def measure_state(self, now: float) -> None:
        """Serialize the state to measure it, at most every ``STATE_SIZE_EVERY_S``."""
        m = self.metrics
        if now - m.measured_at < self._measure_every_s:
            return
        m.measured_at = now
        began = time.perf_counter()
        m.state_bytes, m.state_entries = state_sizes(self.runner.executor)
        # a large state is measured less often: at most a twentieth of the time
        self._measure_every_s = max(STATE_SIZE_EVERY_S, 20 * (time.perf_counter() - began))

    def close(self, commit: bool = False) -> None:
        """Release the task; ``commit`` first commits what it has (a clean stop)."""
        try:
            if commit:
                self.commit()
        finally:
            self.runner.close()
            if self._producer is not None:
                self._producer.close()
