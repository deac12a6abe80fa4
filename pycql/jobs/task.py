"""A task: one job over one share of its inputs' partitions.

Task ``i`` of a job with ``n`` tasks reads the partitions ``p`` of its stream
inputs with ``p % n == i`` (co-partitioned inputs are read together) and every
partition of its tables, runs the plan (:class:`~pycql.runtime.runner.QueryRunner`)
and writes what it emits to the sink's topic (:mod:`pycql.jobs.sink`): to
output partition ``i`` when ``n > 1``, else to all of them.

**Recovery, for now, is deterministic replay.** A task keeps no state outside
its process yet (changelogs come with exactly-once jobs), so a task that
starts (a new worker, a restart after an error) runs its plan again from the
job's start and skips, per output partition, as many records as that
partition already holds: the job is deterministic over its input (event time
only; ``idle_advance = 'wall_clock'`` is the exception), so the records it
skips are the ones it wrote before. Each poll's output goes to the log in one
``produce``; a crash in the middle of one (on Kafka, without transactions) can
leave part of an instant written, and the replay may then repeat or miss rows
of that one instant.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Literal

import orjson

from pycql.jobs.sink import Sink, make_sink
from pycql.jobs.spec import Job
from pycql.log.base import Log, OutRecord
from pycql.runtime.executor import Emission, Executor
from pycql.runtime.runner import QueryRunner

__all__ = ["Task", "TaskMetrics"]

#: How often (seconds) a task measures its state's size (it serializes the state).
STATE_SIZE_EVERY_S = 5.0


@dataclass
class TaskMetrics:
    """What one task has done since it started (published to the status topic)."""

    records_out: int = 0
    #: output records skipped while replaying (already in the sink from an earlier run)
    replayed: int = 0
    #: milliseconds the last write of output took (produce until durable)
    commit_ms: float | None = None
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

    def __init__(self, job: Job, index: int, log: Log) -> None:
        self.job = job
        self.index = index
        self._log = log
        self.started = time.time()
        self.metrics = TaskMetrics()
        plan = job.plan
        stream_topics = sorted({
            str(op.get("topic") or op["name"]) for op in plan["operators"]
            if op.get("op") == "source" and op.get("source_kind") != "table"
        })
        self.input_partitions: dict[str, list[int]] | None = None
        if job.tasks > 1:
            self.input_partitions = {
                t: [p for p in range(log.partitions(t)) if p % job.tasks == index]
                for t in stream_topics
            }
        count = log.partitions(job.topic)
        mine = [index] if job.tasks > 1 else list(range(count))
        self.sink: Sink = make_sink(job, mine, count)
        self._skip: dict[int, int] | None = self._already_written(mine)
        on_error: Literal["dead_letter", "fail"] = (
            "fail" if job.on_error == "fail" else "dead_letter")
        self.runner = QueryRunner(plan, log, start=job.start_offsets(),
                                  partitions=self.input_partitions, on_error=on_error)
        if job.sink_kind == "table" and index == 0:
            initial = self.runner.executor.snapshot()  # e.g. a global COUNT(*): one row, 0
            if initial:
                self._write(self.sink.records([Emission(0, 1, tuple(r)) for r in initial]))

    def _already_written(self, partitions: list[int]) -> dict[int, int] | None:
        """How many records each of this task's output partitions holds: the job's own
        (no other producer writes a derived stream or table; in a stream that an
        ``INSERT INTO s <query>`` job shares with others, its records carry its key)."""
        reader = self._log.reader([self.job.topic], "earliest", {self.job.topic: partitions})
        try:
            ends = reader.end_offsets()
            marker = self.sink.marker
            if marker is None:
                skip = {p: n for (_, p), n in ends.items() if n > 0}
            else:  # a stream others write to as well: count this job's records
                skip = {}
                while any(reader.position().get(tp, 0) < end for tp, end in ends.items()):
                    for r in reader.poll(10_000, 0.2):
                        if r.key == marker and r.offset < ends[(r.topic, r.partition)]:
                            skip[r.partition] = skip.get(r.partition, 0) + 1
        finally:
            reader.close()
        return skip or None

    def step(self, timeout: float) -> int:
        """Read one batch, run it, write the output; return the records written."""
        emissions = self.runner.poll(timeout)
        if not emissions:
            return 0
        return self._write(self.sink.records(emissions))

    def _write(self, records: list[OutRecord]) -> int:
        if self._skip is not None:
            records = self._after_replay(records)
        if not records:
            return 0
        began = time.perf_counter()
        self._log.produce(self.job.topic, records)
        self.metrics.commit_ms = (time.perf_counter() - began) * 1000
        self.metrics.records_out += len(records)
        return len(records)

    def _after_replay(self, records: list[OutRecord]) -> list[OutRecord]:
        skip = self._skip
        assert skip is not None
        kept = []
        for record in records:
            left = skip.get(record.partition or 0, 0)
            if left > 0:
                skip[record.partition or 0] = left - 1
                self.metrics.replayed += 1
            else:
                kept.append(record)
        if not any(skip.values()):
            self._skip = None
        return kept

    @property
    def replaying(self) -> bool:
        """Whether the task is still skipping output it wrote before it started."""
        return self._skip is not None

    def measure_state(self, now: float) -> None:
        """Serialize the state to measure it, at most every ``STATE_SIZE_EVERY_S``."""
        m = self.metrics
        if now - m.measured_at < STATE_SIZE_EVERY_S:
            return
        m.measured_at = now
        m.state_bytes, m.state_entries = state_sizes(self.runner.executor)

    def close(self) -> None:
        self.runner.close()
