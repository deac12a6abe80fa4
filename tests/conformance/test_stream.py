"""CQL conformance: the ten Stanford STREAM regression tests.

Each script's query is planned by :func:`pycql.planner.analyze` and run

* embedded, by :class:`pycql.runtime.Executor` (every instant pushed, then the
  watermark advanced to it),
* through a real Kafka broker, by :class:`pycql.runtime.runner.QueryRunner`
  (bounded: it stops at the end of the topics), and
* by the naive oracle (:mod:`tests.oracle.naive`), to check the oracle itself
  against the reference outputs,

and compared with STREAM's own output (``expected/testN``) per the suite's
README: per instant as multisets, inserts and deletes of one tuple in one
instant cancel, instants up to the last one of the expected file, STREAM's
``char(n)`` keeping n-1 characters, floats compared numerically.

The suite is vendored in ``tests/conformance/stream`` (BSD-3, STREAM 0.6.0); a
missing file fails the test, it never skips.
"""

from __future__ import annotations

import functools
import os
import time
import uuid
from collections import Counter
from typing import Any

import orjson
import pytest

from tests.conformance.stream_suite import (
    TEST_NAMES,
    StreamTest,
    catalog_for,
    expected_deltas,
    load_inputs,
    load_test,
    row_normalizer,
)
from tests.oracle.compare import deltas_from_emissions, first_difference, oracle_deltas
from tests.oracle.driver import run_executor
from tests.oracle.naive import NaiveEvaluator

#: The oracle recomputes everything at every instant (quadratic): by default it
#: checks the instants up to this one; PYCQL_ORACLE_STREAM_FULL=1 checks them all.
ORACLE_PREFIX = 400 if not os.environ.get("PYCQL_ORACLE_STREAM_FULL") else None


def _plan(test: StreamTest, topics: dict[str, str] | None = None) -> dict[str, Any]:
    from pycql.planner import analyze

    answer = analyze(test.query, catalog_for(test, topics))
    assert answer["statement"] == "query", answer
    plan: dict[str, Any] = answer["plan"]
    return plan


@functools.cache
def _case(name: str) -> tuple[StreamTest, dict[str, Any], dict[str, list[tuple[Any, ...]]]]:
    test = load_test(name)
    return test, _plan(test), load_inputs(test)


def _expected(name: str, plan: dict[str, Any]) -> dict[int, Counter]:
    return expected_deltas(name, plan["result"]["columns"])


@pytest.mark.parametrize("name", TEST_NAMES)
def test_stream_reference_embedded(name: str) -> None:
    test, plan, inputs = _case(name)
    expected = _expected(name, plan)
    last = max(expected)
    run = run_executor(plan, inputs, last)
    if run.initial is not None:
        assert not run.initial, f"the relation is not empty before any input: {run.initial}"
    got = deltas_from_emissions(run.emissions, row_normalizer(plan["result"]["columns"]))
    difference = first_difference(expected, got, until=last)
    assert difference is None, f"{name}: {test.query}\n{difference}"


@pytest.mark.parametrize("name", TEST_NAMES)
def test_stream_reference_agrees_with_the_oracle(name: str) -> None:
    test, plan, inputs = _case(name)
    expected = _expected(name, plan)
    last = max(expected)
    until = last if ORACLE_PREFIX is None else min(last, ORACLE_PREFIX)
    oracle = NaiveEvaluator(plan, inputs)
    got = oracle_deltas(oracle, until, row_normalizer(plan["result"]["columns"]))
    difference = first_difference(expected, got, until=until)
    assert difference is None, f"{name}: {test.query}\n{difference}"


# ---- through a real Kafka broker -----------------------------------------------------

#: Record timestamps are the ticks shifted to the present (Kafka's retention
#: deletes records stamped in 1970); a multiple of 10^6 ms keeps instants aligned.
_BASE_MS = (int(time.time() * 1000) // 1_000_000) * 1_000_000


def _produce(log: Any, topic: str, test: StreamTest, name: str, elements: list[Any]) -> None:
    from pycql.log.base import OutRecord, TopicSpec

    decl = next(d for d in test.inputs if d.name == name)
    columns = [c for c, _ in decl.columns]
    log.create_topic(TopicSpec(topic), exist_ok=False)
    records = []
    for element in elements:
        if decl.kind == "stream":
            t, row = element
            value: bytes | None = orjson.dumps(dict(zip(columns, row, strict=True)))
            key = None
        else:
            t, sign, row = element
            key = orjson.dumps(list(row))
            value = orjson.dumps(dict(zip(columns, row, strict=True))) if sign > 0 else None
        records.append(OutRecord(value, key, timestamp_ms=_BASE_MS + t))
    for i in range(0, len(records), 5000):
        log.produce(topic, records[i : i + 5000])


@pytest.mark.kafka
@pytest.mark.parametrize("name", TEST_NAMES)
def test_stream_reference_through_kafka(name: str, kafka_bootstrap: str) -> None:
    from pycql.log.kafka import KafkaLog
    from pycql.runtime.runner import QueryRunner

    test, _, inputs = _case(name)
    run_id = uuid.uuid4().hex[:8]
    topics = {d.name: f"stream-{name}-{d.name}-{run_id}" for d in test.inputs}
    plan = _plan(test, topics)
    expected = _expected(name, plan)
    last = max(expected)
    log = KafkaLog(kafka_bootstrap)
    try:
        for d in test.inputs:
            _produce(log, topics[d.name], test, d.name, inputs[d.name])
        with QueryRunner(plan, log, stop="end") as runner:
            emissions = [(e.timestamp - _BASE_MS, e.sign, e.row) for e in runner]
            metrics = runner.metrics
    finally:
        for topic in topics.values():
            try:
                log.delete_topic(topic)
            except Exception:
                pass
        log.close()
    assert metrics.late_records == 0 and metrics.malformed_records == 0, metrics
    got = deltas_from_emissions(emissions, row_normalizer(plan["result"]["columns"]))
    difference = first_difference(expected, got, until=last)
    assert difference is None, f"{name}: {test.query}\n{difference}"
