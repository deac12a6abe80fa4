"""The runner reads a batch of exchange records as it reads them one at a time.

``QueryRunner._ingest_exchange`` decodes a batch of an intermediate topic at once
and falls back to the record-by-record loop (``_ingest_exchange_records``) for a
batch with a malformed, late or past-the-stop record. :class:`RecordAtATime`
reads every batch record by record (the reference); both run the same polls over
the same MemoryLog and must emit, count and dead-letter the same.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pycql.log.base import OutRecord, Record, RecordBatch, TopicSpec
from pycql.log.control import watermark_record
from pycql.log.memory import MemoryLog
from pycql.runtime import QueryRunner
from pycql.runtime.runner import _SourceInfo

from .plans import PlanBuilder, agg


class RecordAtATime(QueryRunner):
    def _ingest_exchange(self, info: _SourceInfo, batch: RecordBatch, stop_ts: int | None,
                         dead: list[tuple[Record, str]]) -> None:
        self._ingest_exchange_records(info, batch.records(), stop_ts, dead)


def _exchange_source(b: PlanBuilder, relation: bool) -> int:
    i = b.source("X", "A", "B")
    b.ops[i]["exchange"] = {"producers": 1}
    b.ops[i]["output"] = "relation" if relation else "stream"
    return i


def _plans() -> dict[str, dict[str, Any]]:
    plans = {}
    b = PlanBuilder()
    b.to_stream("istream", b.window(_exchange_source(b, False), "rows", rows=3))
    plans["stream"] = b.plan()
    b = PlanBuilder()
    b.aggregate(_exchange_source(b, True), [0], agg("COUNT"), agg("SUM", 1))
    plans["relation"] = b.plan()
    return plans


PLANS = _plans()

GOOD = st.tuples(st.sampled_from([1, 1, -1]), st.integers(0, 3), st.integers(-3, 3))
BAD = st.sampled_from([b"{oops", b"[1,2]", b"[2,1,1]", b"[[1],1,1]", None, b'{"a":1}',
                       b"[1,1,1],[1,2,2]", b'[1,{"$decimal":"1.5"},2]'])
#: (partition, timestamp, change or bad value) or ("mark", partition, watermark)
Item = tuple[Any, int, Any]


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[int, list[list[Item]], Any, str]:
    partitions = draw(st.integers(1, 2))
    plan = draw(st.sampled_from(sorted(PLANS)))
    good = GOOD if plan == "relation" else GOOD.map(lambda c: (1, *c[1:]))
    record = st.tuples(st.integers(0, partitions - 1), st.integers(1, 20),
                       st.one_of(good, good, good, BAD))
    mark = st.tuples(st.just("mark"), st.integers(0, partitions - 1), st.integers(0, 20))
    chunks = draw(st.lists(st.lists(st.one_of(record, record, mark), max_size=8),
                           min_size=1, max_size=5))
    stop = draw(st.sampled_from([None, 8, 15]))
    return partitions, chunks, stop, plan


def _produce(log: MemoryLog, chunk: list[Item]) -> None:
    for a, b, c in chunk:
        if a == "mark":
            log.produce("X", [watermark_record(c, producer="0", partition=b)])
            continue
        value = c if c is None or isinstance(c, bytes) else orjson.dumps(c)
        log.produce("X", [OutRecord(value, timestamp_ms=b, partition=a)])


def _run(runner_class: type[QueryRunner], scenario: Any, max_records: int) -> Any:
    partitions, chunks, stop, plan = scenario
    log = MemoryLog()
    log.create_topic(TopicSpec("X", partitions=partitions))
    log.create_topic(TopicSpec("X.dead-letters"))
    out: list[tuple[int, int, tuple[Any, ...]]] = []
    with runner_class(PLANS[plan], log, max_records=max_records, clock=lambda: 0.0,
                      stop=stop) as runner:
        for chunk in chunks:
            _produce(log, chunk)
            for _ in range(3):
                out += [(e.timestamp, e.sign, e.row) for e in runner.poll(0.0)]
        for p in range(partitions):
            log.produce("X", [watermark_record(30, producer="0", partition=p)])
        for _ in range(3):
            out += [(e.timestamp, e.sign, e.row) for e in runner.poll(0.0)]
        metrics = runner.metrics
        watermark = runner.executor.watermark
    with log.reader(["X.dead-letters"]) as reader:
        dead = [orjson.loads(r.value or b"") for r in reader.poll(10_000, 0.0)]
    return out, metrics, watermark, [(d["partition"], d["offset"], d["reason"]) for d in dead]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios(), st.sampled_from([1, 3, 10_000]))
def test_batch_ingestion_equals_record_at_a_time(scenario: Any, max_records: int) -> None:
    assert _run(QueryRunner, scenario, max_records) == _run(RecordAtATime, scenario, max_records)


def test_malformed_records_are_dead_lettered_with_a_reason() -> None:
    chunks = [[(0, 5, (1, 1, 2)), (0, 5, b"{oops"), (0, 6, b"[2,1,1]"), (0, 6, (1, 2, 3)),
               (0, 7, None)]]
    out, metrics, _, dead = _run(QueryRunner, (1, chunks, None, "stream"), 10_000)
    assert [row for _, _, row in out] == [(1, 2), (2, 3)]
    assert metrics.malformed_records == 3
    assert [(offset, reason.split(":")[0]) for _, offset, reason in dead] == [
        (1, "malformed exchange record"), (2, "malformed exchange record"),
        (4, "malformed exchange record")]


def test_a_good_batch_keeps_decimals_and_retractions() -> None:
    chunks = [[(0, 5, b'[1,1,{"$decimal":"1.5"}]'), (0, 5, (1, 1, 3)), (0, 6, (-1, 1, 3))]]
    out, metrics, _, dead = _run(QueryRunner, (1, chunks, None, "relation"), 10_000)
    assert dead == [] and metrics.malformed_records == 0
    assert [(t, s, r) for t, s, r in out if s > 0] == [
        (5, 1, (1, 2, Decimal("4.5"))), (6, 1, (1, 1, Decimal("1.5")))]
