"""The runner's batch ingestion agrees with the record-at-a-time one it replaced.

``QueryRunner._ingest_stream`` handles a stream batch with C-level passes
(newest timestamp per partition, late and stop filters, a stable sort by
instant). :class:`RecordAtATime` keeps the former per-record loop as the
reference; both run the same polls over the same MemoryLog (several
partitions, out-of-order timestamps, malformed records, records made late by
lateness, bounded stops) and must emit, count and dead-letter the same.
"""

from __future__ import annotations

from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pycql.log.base import OutRecord, Record, RecordBatch, TopicSpec
from pycql.log.memory import MemoryLog
from pycql.runtime import QueryRunner
from pycql.runtime.runner import _SourceInfo

from .plans import PlanBuilder, agg


class RecordAtATime(QueryRunner):
    """The runner with its former per-record ingestion (the reference)."""

    def _note_time(self, record: Record, ts: int) -> None:
        tp = (record.topic, record.partition)
        self._heard_at[tp] = self._clock()
        if ts > self._max_ts.get(tp, ts - 1):
            self._max_ts[tp] = ts
        if self._last_ts is None or ts > self._last_ts:
            self._last_ts = ts

    def _ingest_stream(
        self,
        info: _SourceInfo,
        batch: RecordBatch,
        stop_ts: int | None,
        dead: list[tuple[Record, str]],
    ) -> None:
        assert not info.is_table
        records = batch.records()
        watermark = self.executor.watermark
        rows, times, errors = info.decoder(records)
        values = records
        if errors:
            self.metrics.malformed_records += len(errors)
            info.metrics.malformed_records += len(errors)
            dead.extend(errors)
            bad = {(r.partition, r.offset) for r, _ in errors}
            values = [r for r in values if (r.partition, r.offset) not in bad]
        inserts: dict[int, list[tuple[Any, ...]]] = {}
        for record, row, ts in zip(values, rows, times, strict=True):
            self._note_time(record, ts)
            if watermark is not None and ts <= watermark:
                self.metrics.late_records += 1
                info.metrics.late_records += 1
                reason = (f"late: timestamp {ts} is at or before the watermark {watermark} "
                          f"(lateness of {info.name}: {info.policy.lateness_ms} ms)")
                info.metrics.last_reason = reason
                dead.append((record, reason))
                continue
            if stop_ts is not None and ts > stop_ts:
                continue
            inserts.setdefault(ts, []).append(row)
        for ts in sorted(inserts):
            self.executor.push(info.name, ts, inserts[ts])


def _plans() -> dict[str, dict[str, Any]]:
    plans = {}
    b = PlanBuilder()
    b.to_stream("istream", b.window(b.source("S", "A", "B"), "unbounded"))
    plans["istream"] = b.plan()
    b = PlanBuilder()
    # arrival order within an instant decides which rows a ROWS window keeps
    b.to_stream("rstream", b.window(b.source("S", "A", "B"), "rows", rows=3))
    plans["rows"] = b.plan()
    b = PlanBuilder()
    b.aggregate(b.range(b.source("S", "A", "B"), 7, 3), [0], agg("COUNT"), agg("SUM", 1))
    plans["count"] = b.plan()
    return plans


PLANS = _plans()

#: (partition, timestamp, value) records, produced in chunks with a poll after each.
Chunk = list[tuple[int, int, Any]]


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[int, list[Chunk], int, Any, str]:
    partitions = draw(st.integers(1, 3))
    record = st.tuples(
        st.integers(0, partitions - 1),
        st.integers(1, 20),
        st.one_of(
            st.tuples(st.integers(0, 5), st.integers(-3, 3)).map(
                lambda ab: {"A": ab[0], "B": ab[1]}
            ),
            st.sampled_from(["{oops", {"A": "x"}, None]),
        ),
    )
    chunks = draw(st.lists(st.lists(record, max_size=8), min_size=1, max_size=5))
    lateness = draw(st.sampled_from([0, 0, 2, 10]))
    stop = draw(st.sampled_from([None, "end", 8, 15]))
    plan = draw(st.sampled_from(sorted(PLANS)))
    return partitions, chunks, lateness, stop, plan


def _produce(log: MemoryLog, chunk: Chunk) -> None:
    for partition, ts, value in chunk:
        if value is None:
            data = None
        elif isinstance(value, str):
            data = value.encode()
        else:
            data = orjson.dumps(value)
        log.produce("S", [OutRecord(data, timestamp_ms=ts, partition=partition)])


def _run(runner_class: type[QueryRunner], scenario: Any, max_records: int) -> Any:
    """Emissions, metrics, watermark and dead letters of one run.

    With ``stop="end"`` every chunk is written first and the run is bounded;
    otherwise the chunks are written one at a time with polls in between.
    """
    partitions, chunks, lateness, stop, plan = scenario
    log = MemoryLog()
    log.create_topic(TopicSpec("S", partitions=partitions))
    log.create_topic(TopicSpec("S.dead-letters"))
    out: list[tuple[int, int, tuple[Any, ...]]] = []
    if stop == "end":
        for chunk in chunks:
            _produce(log, chunk)
    with runner_class(
        PLANS[plan],
        log,
        lateness_ms=lateness,
        max_records=max_records,
        clock=lambda: 0.0,
        stop=stop,
    ) as runner:
        if stop == "end":
            out += [(e.timestamp, e.sign, e.row) for e in runner]
        else:
            for chunk in chunks:
                _produce(log, chunk)
                for _ in range(3):
                    out += [(e.timestamp, e.sign, e.row) for e in runner.poll(0.0)]
        metrics = runner.metrics
        watermark = runner.executor.watermark
    with log.reader(["S.dead-letters"]) as reader:
        dead = [orjson.loads(r.value or b"") for r in reader.poll(10_000, 0.0)]
    return out, metrics, watermark, [(d["partition"], d["offset"], d["reason"]) for d in dead]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios(), st.sampled_from([1, 3, 10_000]))
def test_batch_ingestion_equals_record_at_a_time(scenario: Any, max_records: int) -> None:
    assert _run(QueryRunner, scenario, max_records) == _run(RecordAtATime, scenario, max_records)


def test_late_and_beyond_stop_records_in_one_batch() -> None:
    """One batch with a late record, a kept one and one past the stop."""
    scenario = (
        1,
        [
            [(0, 10, {"A": 1, "B": 1}), (0, 20, {"A": 2, "B": 2})],
            [(0, 5, {"A": 3, "B": 3}), (0, 19, {"A": 4, "B": 4}), (0, 40, {"A": 5, "B": 5})],
        ],
        0,
        30,
        "istream",
    )
    out, metrics, watermark, dead = _run(QueryRunner, scenario, 10_000)
    assert [row for _, _, row in out] == [(1, 1), (2, 2)]
    assert metrics.late_records == 2  # 5 and 19 are at or before the watermark 19
    assert [(offset, reason.split(":")[0]) for _, offset, reason in dead] == [
        (2, "late"),
        (3, "late"),
    ]
    assert _run(RecordAtATime, scenario, 10_000) == (out, metrics, watermark, dead)


def test_a_batch_whose_oldest_record_is_exactly_at_the_watermark() -> None:
    scenario = (1, [[(0, 20, {"A": 1, "B": 1})], [(0, 19, {"A": 2, "B": 2})]], 0, None, "istream")
    out, metrics, watermark, dead = _run(QueryRunner, scenario, 10_000)
    assert watermark == 19 and out == []
    assert metrics.late_records == 1
    assert [reason for _, _, reason in dead] == [
        "late: timestamp 19 is at or before the watermark 19 (lateness of S: 0 ms)"
    ]
    assert _run(RecordAtATime, scenario, 10_000) == (out, metrics, watermark, dead)


def test_a_poll_raises_the_young_gc_threshold_and_restores_it() -> None:
    import gc

    from pycql.log.formats import make_decoder
    from pycql.runtime.collector import GC_YOUNG_THRESHOLD

    seen: list[tuple[int, int, int]] = []
    decode = make_decoder(PLANS["istream"]["operators"][0]["columns"], "json")

    def spying(records: list[Record]) -> Any:
        seen.append(gc.get_threshold())
        return decode(records)

    log = MemoryLog()
    log.create_topic(TopicSpec("S"))
    _produce(log, [(0, 1, {"A": 1, "B": 2})])
    before = gc.get_threshold()
    try:
        gc.set_threshold(700, 10, 10)
        with QueryRunner(PLANS["istream"], log, stop="end", decoders={"S": spying}) as runner:
            rows = [e.row for e in runner]
        assert rows == [(1, 2)]
        assert seen == [(GC_YOUNG_THRESHOLD, 10, 10)]
        assert gc.get_threshold() == (700, 10, 10)
    finally:
        gc.set_threshold(*before)
