"""The runtime over a real Kafka broker: partitions, compacted tables, dead letters, heartbeats.

Plans come from the real planner; records go through confluent-kafka to the
session's single-node KRaft broker (``kafka_bootstrap`` in tests/conftest.py).
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Iterator
from typing import Any

import orjson
import pytest

from pycql.log import OutRecord, TopicSpec
from pycql.log.kafka import KafkaLog
from pycql.planner import analyze
from pycql.runtime import QueryRunner

pytestmark = pytest.mark.kafka

INT = {"type": "INTEGER", "nullable": True}


@pytest.fixture
def log(kafka_bootstrap: str) -> Iterator[KafkaLog]:
    kafka_log = KafkaLog(kafka_bootstrap)
    try:
        yield kafka_log
    finally:
        kafka_log.close()


def _name(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


def _stream(name: str, *cols: str) -> dict[str, Any]:
    return {"name": name, "topic": name, "timestamp": None, "format": "json",
            "columns": [{"name": c, **INT} for c in cols]}


def _plan(sql: str, streams: list[dict[str, Any]], tables: list[dict[str, Any]] = ()
          ) -> dict[str, Any]:  # type: ignore[assignment]
    catalog = {"streams": streams, "tables": list(tables), "views": []}
    return analyze(sql, catalog)["plan"]  # type: ignore[no-any-return]


def _json(**values: Any) -> bytes:
    return orjson.dumps(values)


def test_a_query_over_a_three_partition_topic(log: KafkaLog) -> None:
    s = _name("S")
    log.create_topic(TopicSpec(s, partitions=3))
    records = [
        OutRecord(_json(A=i % 7, B=i), key=str(i % 5).encode(), timestamp_ms=1_000 + i // 3)
        for i in range(300)
    ]
    log.produce(s, records)
    seen: list[Any] = []
    reader = log.reader([s])
    deadline = time.monotonic() + 30
    while len(seen) < len(records) and time.monotonic() < deadline:
        seen += reader.poll(1000, 0.5)
    reader.close()
    assert len(seen) == len(records)
    assert {r.partition for r in seen} == {0, 1, 2}  # the keys spread over every partition

    plan = _plan(f"SELECT ISTREAM(A, B) FROM {s} WHERE A > 2", [_stream(s, "A", "B")])
    with QueryRunner(plan, log, stop="end") as runner:
        got = Counter((e.timestamp, e.row) for e in runner)
    expected = Counter((1_000 + i // 3, (i % 7, i)) for i in range(300) if i % 7 > 2)
    assert got == expected
    assert runner.metrics.late_records == 0 and runner.metrics.records_in == 300


def test_stream_joined_with_a_table_kept_in_a_compacted_topic(log: KafkaLog) -> None:
    s, r = _name("S"), _name("R")
    log.create_topic(TopicSpec(s))
    log.create_topic(TopicSpec(r, compacted=True))
    assert log.spec(r).compacted
    table = {"name": r, "topic": r, "format": "json", "primary_key": ["A"],
             "columns": [{"name": "A", **INT}, {"name": "NAME", "type": "VARCHAR",
                                                "nullable": True}]}
    log.produce(r, [
        OutRecord(_json(A=1, NAME="one"), key=b"[1]", timestamp_ms=1_000),
        OutRecord(_json(A=2, NAME="two"), key=b"[2]", timestamp_ms=1_000),
        OutRecord(_json(A=1, NAME="uno"), key=b"[1]", timestamp_ms=3_000),   # upsert
        OutRecord(None, key=b"[2]", timestamp_ms=3_000),                     # tombstone
    ])
    log.produce(s, [OutRecord(_json(A=a), timestamp_ms=t)
                    for a, t in [(1, 2_000), (2, 2_000), (1, 4_000), (2, 4_000)]])

    plan = _plan(f"RSTREAM(SELECT {s}.A, {r}.NAME FROM {s} [NOW] JOIN {r} ON {s}.A = {r}.A)",
                 [_stream(s, "A")], [table])
    assert [op["op"] for op in plan["operators"]].count("lookup_join") == 1
    with QueryRunner(plan, log, stop="end") as runner:
        got = sorted((e.timestamp, e.row) for e in runner)
    # At 2 s the table holds (1, one), (2, two); at 4 s only (1, uno).
    assert got == [(2_000, (1, "one")), (2_000, (2, "two")), (4_000, (1, "uno"))]


def test_late_and_malformed_records_go_to_the_dead_letter_topic(log: KafkaLog) -> None:
    s = _name("S")
    dead = s + ".dead-letters"
    log.create_topic(TopicSpec(s))
    log.produce(s, [
        OutRecord(_json(A=1), timestamp_ms=10_000),
        OutRecord(_json(A=2), timestamp_ms=20_000),
        OutRecord(_json(A=3), timestamp_ms=30_000),
        OutRecord(b"{not json", timestamp_ms=30_000),
        OutRecord(_json(A="three"), timestamp_ms=30_000),
    ])
    plan = _plan(f"SELECT ISTREAM(A) FROM {s} [NOW]", [_stream(s, "A")])
    runner = QueryRunner(plan, log, stop=None, idle_timeout_ms=60_000)
    emitted: list[Any] = []
    deadline = time.monotonic() + 30
    while len(emitted) < 2 and time.monotonic() < deadline:
        emitted += runner.poll(0.2)
    assert [(e.timestamp, e.row) for e in emitted] == [(10_000, (1,)), (20_000, (2,))]
    # Instant 20 s is closed now; a record for 15 s is late.
    log.produce(s, [OutRecord(_json(A=15), timestamp_ms=15_000),
                    OutRecord(_json(A=4), timestamp_ms=40_000)])
    while runner.metrics.late_records < 1 and time.monotonic() < deadline:
        emitted += runner.poll(0.2)
    runner.close()
    assert runner.metrics.late_records == 1
    assert runner.metrics.malformed_records == 2

    letters = []
    reader = log.reader([dead])
    while len(letters) < 3 and time.monotonic() < deadline:
        letters += reader.poll(100, 0.5)
    reader.close()
    reasons = [orjson.loads(r.value)["reason"] for r in letters]
    assert len(letters) == 3, reasons
    assert sum(reason.startswith("late") for reason in reasons) == 1, reasons
    assert sum(reason.startswith("malformed") or "INTEGER" in reason
               for reason in reasons) == 2, reasons


def test_an_idle_input_on_the_wall_clock_still_expires_its_range_window(log: KafkaLog) -> None:
    s = _name("S")
    log.create_topic(TopicSpec(s))
    plan = _plan(f"SELECT COUNT(*) AS N FROM {s} [RANGE 1 SECOND]", [_stream(s, "A")])
    runner = QueryRunner(plan, log, stop=None, idle_timeout_ms=200, idle_advance="wall_clock")
    now_ms = int(time.time() * 1000)
    log.produce(s, [OutRecord(_json(A=1), timestamp_ms=now_ms)])
    changes: list[Any] = []
    deadline = time.monotonic() + 30
    # Nothing else arrives: only the wall clock can close the instant and expire the tuple.
    while not any(e.sign == 1 and e.row == (0,) and e.timestamp > now_ms for e in changes):
        assert time.monotonic() < deadline, f"no expiry without input; saw {changes}"
        changes += runner.poll(0.1)
    runner.close()
    inserted = [(e.timestamp, e.row) for e in changes if e.sign == 1]
    assert inserted == [(now_ms, (1,)), (now_ms + 1_000, (0,))]
