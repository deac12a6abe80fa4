"""QueryRunner over the embedded MemoryLog: watermarks, lateness, tables, idleness."""

from __future__ import annotations

from typing import Any

import orjson

from pycql.log.base import OutRecord, TopicSpec
from pycql.log.memory import MemoryLog
from pycql.runtime import QueryRunner

from .plans import PlanBuilder, agg


def _produce(
    log: MemoryLog,
    topic: str,
    items: list[tuple[int, Any]],
    key: bytes | None = None,
    partition: int | None = None,
) -> None:
    log.produce(
        topic,
        [
            OutRecord(
                None if v is None else orjson.dumps(v), key=key, timestamp_ms=t, partition=partition
            )
            for t, v in items
        ],
    )


def _stream_log(partitions: int = 1) -> MemoryLog:
    log = MemoryLog()
    log.create_topic(TopicSpec("S", partitions=partitions))
    return log


def _range_count_plan(ms: int) -> dict[str, Any]:
    b = PlanBuilder()
    w = b.range(b.source("S", "A"), ms)
    b.aggregate(w, [], agg("COUNT"))
    return b.plan()


def _istream_plan() -> dict[str, Any]:
    b = PlanBuilder()
    b.to_stream("istream", b.window(b.source("S", "A"), "unbounded"))
    return b.plan()


def test_bounded_run_to_end_closes_the_last_instant() -> None:
    log = _stream_log()
    _produce(log, "S", [(1, {"A": 1}), (2, {"A": 2}), (30, {"A": 3})])
    with QueryRunner(_range_count_plan(10), log, stop="end") as runner:
        got = [(e.timestamp, e.sign, e.row) for e in runner]
    assert got == [
        (1, -1, (0,)),
        (1, 1, (1,)),
        (2, -1, (1,)),
        (2, 1, (2,)),
        (11, -1, (2,)),
        (11, 1, (1,)),
        (12, -1, (1,)),
        (12, 1, (0,)),
        (30, -1, (0,)),
        (30, 1, (1,)),
    ]
    assert runner.metrics.records_in == 3 and runner.metrics.emitted == len(got)


def test_out_of_order_within_lateness_is_reordered_later_is_dead_lettered() -> None:
    log = _stream_log()
    _produce(log, "S", [(10, {"A": 10}), (8, {"A": 8}), (20, {"A": 20})])
    runner = QueryRunner(_istream_plan(), log, lateness_ms=5)
    got = runner.poll(0.1)
    # watermark = 20 - 5 - 1 = 14: instants 8 and 10 close, in time order
    assert [(e.timestamp, e.row) for e in got] == [(8, (8,)), (10, (10,))]
    _produce(log, "S", [(12, {"A": 12}), (16, {"A": 16})])
    got = runner.poll(0.1)
    assert got == []  # 12 <= 14 is late; 16 waits for the watermark
    assert runner.metrics.late_records == 1
    dead = log.reader(["S.dead-letters"]).poll(timeout=0.1)
    assert len(dead) == 1 and orjson.loads(dead[0].value)["reason"].startswith("late")
    _produce(log, "S", [(30, {"A": 30})])
    got = runner.poll(0.1)
    assert [(e.timestamp, e.row) for e in got] == [(16, (16,)), (20, (20,))]
    runner.close()


def test_malformed_records_go_to_the_dead_letter_topic() -> None:
    log = _stream_log()
    log.produce("S", [OutRecord(b"{oops", timestamp_ms=1), OutRecord(b'{"A": 5}', timestamp_ms=2)])
    with QueryRunner(_istream_plan(), log, stop="end", dead_letter_topic="DLQ") as runner:
        got = list(runner)
    assert [e.row for e in got] == [(5,)]
    assert runner.metrics.malformed_records == 1
    assert len(log.reader(["DLQ"]).poll(timeout=0.1)) == 1


def test_watermark_is_the_minimum_over_partitions() -> None:
    log = _stream_log(partitions=2)
    _produce(log, "S", [(5, {"A": 5}), (50, {"A": 50})], partition=0)
    _produce(log, "S", [(7, {"A": 7})], partition=1)
    runner = QueryRunner(_istream_plan(), log)
    got = []
    for _ in range(3):
        got += runner.poll(0.05)
    # partition 1 is at 7 and instant 7 may still grow: only instants < 7 close
    assert [e.timestamp for e in got] == [5]
    _produce(log, "S", [(60, {"A": 60})], partition=1)
    got = runner.poll(0.05)
    # partition 0 is at 50 now the lowest: instants < 50 close
    assert [e.timestamp for e in got] == [7]
    runner.close()


def test_an_instant_split_over_several_batches_loses_nothing() -> None:
    log = _stream_log()
    _produce(log, "S", [(1, {"A": i}) for i in range(5)] + [(2, {"A": 99})])
    with QueryRunner(_istream_plan(), log, stop="end", max_records=2) as runner:
        got = [(e.timestamp, e.row) for e in runner]
    assert sorted(got) == [(1, (i,)) for i in range(5)] + [(2, (99,))]
    assert runner.metrics.late_records == 0


def test_table_topic_upserts_and_tombstones() -> None:
    log = MemoryLog()
    log.create_topic(TopicSpec("R"))
    b = PlanBuilder()
    b.source("R", "K", "V:VARCHAR", table=True)
    plan = b.plan()
    _produce(log, "R", [(1, {"K": 1, "V": "a"})], key=b"1")
    _produce(log, "R", [(2, {"K": 2, "V": "b"})], key=b"2")
    _produce(log, "R", [(3, {"K": 1, "V": "c"})], key=b"1")
    _produce(log, "R", [(4, None)], key=b"2")
    with QueryRunner(plan, log, stop="end") as runner:
        got = [(e.timestamp, e.sign, e.row) for e in runner]
        assert runner.executor.snapshot() == [(1, "c")]
    assert got == [
        (1, 1, (1, "a")),
        (2, 1, (2, "b")),
        (3, -1, (1, "a")),
        (3, 1, (1, "c")),
        (4, -1, (2, "b")),
    ]


def test_an_idle_input_closes_the_instants_it_delivered_and_no_more() -> None:
    log = _stream_log()
    _produce(log, "S", [(1000, {"A": 1})])
    now = [2.0]
    runner = QueryRunner(_range_count_plan(500), log, idle_timeout_ms=100, clock=lambda: now[0])
    # instant 1000 stays open: more records with that timestamp may still come
    assert runner.poll(0.05) == []
    now[0] = 2.05
    assert runner.poll(0.01) == []  # not idle long enough
    now[0] = 2.2
    got = runner.poll(0.01)  # idle: instant 1000 closes; time does not run on by the clock
    assert [(e.timestamp, e.sign, e.row) for e in got] == [(1000, -1, (0,)), (1000, 1, (1,))]
    assert runner.executor.watermark == 1000
    now[0] = 100.0
    assert runner.poll(0.01) == []  # still 1000: the tuple has not expired
    # a record stamped after the newest one is never late, however long the silence was
    _produce(log, "S", [(1001, {"A": 2})])
    runner.poll(0.01)
    assert runner.metrics.late_records == 0
    runner.close()


def test_wall_clock_idle_advance_expires_range_windows() -> None:
    log = _stream_log()
    _produce(log, "S", [(1000, {"A": 1})])
    now = [2.0]
    runner = QueryRunner(_range_count_plan(500), log, idle_timeout_ms=100,
                         idle_advance="wall_clock", lateness_ms=50, clock=lambda: now[0])
    assert runner.poll(0.05) == []
    now[0] = 2.2
    got = runner.poll(0.01)  # idle: watermark -> 2200 - 50 ms; 1000 closes, expires at 1500
    assert [(e.timestamp, e.sign, e.row) for e in got] == [
        (1000, -1, (0,)), (1000, 1, (1,)), (1500, -1, (1,)), (1500, 1, (0,))]
    assert runner.executor.watermark == 2150
    # with the wall clock chosen, a record older than it minus the lateness is late
    _produce(log, "S", [(2100, {"A": 2})])
    runner.poll(0.01)
    assert runner.metrics.late_records == 1
    assert "late" in (runner.metrics.sources["S"].last_reason or "")
    runner.close()


def test_a_source_time_policy_overrides_the_defaults() -> None:
    log = _stream_log()
    plan = _istream_plan()
    source = next(op for op in plan["operators"] if op["op"] == "source")
    source["time"] = {"lateness_ms": 5}
    _produce(log, "S", [(10, {"A": 10}), (8, {"A": 8}), (20, {"A": 20})])
    runner = QueryRunner(plan, log, lateness_ms=0)
    got = runner.poll(0.1)  # lateness 5 from the source: watermark 14, 8 is reordered
    assert [(e.timestamp, e.row) for e in got] == [(8, (8,)), (10, (10,))]
    assert runner.metrics.late_records == 0
    assert runner.metrics.sources["S"].policy.lateness_ms == 5
    runner.close()


def test_a_record_far_in_the_future_is_set_aside_not_allowed_to_move_time() -> None:
    log = _stream_log()
    now_ms = 1_700_000_000_000
    year_2100 = 4_102_444_800_000
    _produce(log, "S", [(now_ms, {"A": 1}), (year_2100, {"A": 2}), (now_ms + 10, {"A": 3})])
    runner = QueryRunner(_istream_plan(), log, clock=lambda: now_ms / 1000)
    got = runner.poll(0.1)
    assert [e.row for e in got] == [(1,)]  # 2100 did not close every instant before it
    assert runner.executor.watermark == now_ms + 9
    m = runner.metrics.sources["S"]
    assert (m.future_records, m.malformed_records, m.late_records) == (1, 1, 0)
    assert runner.metrics.malformed_records == 1
    _produce(log, "S", [(now_ms + 20, {"A": 4})])  # later records are not late
    assert [e.row for e in runner.poll(0.1)] == [(3,)]
    dead = log.reader(["S.dead-letters"]).poll(timeout=0.1)
    assert len(dead) == 1 and orjson.loads(dead[0].value)["reason"].startswith("future")
    runner.close()


def test_max_future_can_be_switched_off() -> None:
    log = _stream_log()
    _produce(log, "S", [(4_102_444_800_000, {"A": 2})])
    with QueryRunner(_istream_plan(), log, stop="end", max_future_ms=None) as runner:
        assert [e.row for e in runner] == [(2,)]


def test_a_heartbeat_closes_instants_without_waiting_for_data_or_idleness() -> None:
    from pycql.log.control import watermark_record

    log = _stream_log(partitions=2)
    now = [100.0]
    runner = QueryRunner(_istream_plan(), log, idle_timeout_ms=60_000, clock=lambda: now[0])
    _produce(log, "S", [(10, {"A": 10})], partition=0)
    _produce(log, "S", [(12, {"A": 12})], partition=1)
    assert runner.poll(0.05) == []  # instant 10 may still grow on partition 0
    # the producer says: no more records at or before 15, on either partition
    log.produce("S", [watermark_record(15, partition=p) for p in (0, 1)])
    got = runner.poll(0.05)
    assert [e.timestamp for e in got] == [10, 12]
    assert runner.executor.watermark == 15
    assert runner.metrics.sources["S"].heartbeats == 2
    assert runner.metrics.malformed_records == 0  # a control record is not a row
    _produce(log, "S", [(14, {"A": 14})], partition=0)  # the producer broke its word: late
    runner.poll(0.05)
    assert runner.metrics.late_records == 1
    runner.close()


def test_a_broken_control_record_is_kept_as_malformed() -> None:
    from pycql.log.control import CONTROL_KEY

    log = _stream_log()
    log.produce("S", [OutRecord(b"{oops", key=CONTROL_KEY, timestamp_ms=1),
                      OutRecord(b'{"A": 5}', timestamp_ms=2)])
    with QueryRunner(_istream_plan(), log, stop="end") as runner:
        assert [e.row for e in runner] == [(5,)]
    assert runner.metrics.malformed_records == 1


def test_stop_offsets_are_exact_even_when_a_poll_returns_more() -> None:
    log = _stream_log(partitions=2)
    _produce(log, "S", [(t, {"A": t}) for t in range(100)], partition=0)
    _produce(log, "S", [(t, {"A": 1000 + t}) for t in range(100)], partition=1)
    with QueryRunner(_istream_plan(), log, stop={0: 10, 1: 3}) as runner:
        got = sorted(e.row[0] for e in runner)
    assert got == [*range(10), 1000, 1001, 1002]
    assert runner.metrics.records_in == 13


def test_stop_end_ignores_records_appended_after_the_start() -> None:
    log = _stream_log()
    _produce(log, "S", [(t, {"A": t}) for t in range(5)])
    runner = QueryRunner(_istream_plan(), log, stop="end")
    _produce(log, "S", [(t, {"A": t}) for t in range(5, 9)])
    with runner:
        assert [e.row[0] for e in runner] == [0, 1, 2, 3, 4]


def test_stop_at_timestamp() -> None:
    log = _stream_log()
    _produce(log, "S", [(1, {"A": 1}), (5, {"A": 5}), (9, {"A": 9})])
    with QueryRunner(_istream_plan(), log, stop=5) as runner:
        got = [e.row for e in runner]
    assert got == [(1,), (5,)]


def test_an_idle_partition_does_not_stall_the_others() -> None:
    log = _stream_log(partitions=2)
    now = [100.0]
    runner = QueryRunner(_istream_plan(), log, idle_timeout_ms=1000, clock=lambda: now[0])
    _produce(log, "S", [(5, {"A": 5})], partition=1)
    _produce(log, "S", [(10, {"A": 10}), (20, {"A": 20})], partition=0)
    # partition 1's newest is 5: the watermark is 4, instant 5 may still grow
    assert runner.poll(0.05) == []
    now[0] = 100.5  # partition 1 quiet for 0.5 s: not idle yet
    _produce(log, "S", [(30, {"A": 30})], partition=0)
    assert runner.poll(0.05) == []
    now[0] = 101.5  # partition 1 caught up and quiet for 1.5 s: idle, partition 0 leads
    _produce(log, "S", [(40, {"A": 40})], partition=0)
    assert [e.timestamp for e in runner.poll(0.05)] == [5, 10, 20, 30]
    # A record for an instant already closed is late, kept in the dead letters.
    _produce(log, "S", [(6, {"A": 6})], partition=1)
    assert runner.poll(0.05) == []
    assert runner.metrics.late_records == 1
    runner.close()


def test_replays_never_count_a_partition_with_records_left_as_idle() -> None:
    log = _stream_log(partitions=2)
    _produce(log, "S", [(t, {"A": t}) for t in (1, 50)], partition=1)
    _produce(log, "S", [(t, {"A": t}) for t in range(2, 40)], partition=0)
    now = [0.0]
    with QueryRunner(_istream_plan(), log, stop="end", idle_timeout_ms=0, max_records=3,
                     clock=lambda: now[0]) as runner:
        got = []
        for emission in runner:
            got.append(emission.timestamp)
            now[0] += 10.0  # every poll looks like a long silence
    assert sorted(got) == [1, *range(2, 40), 50]
    assert runner.metrics.late_records == 0


def test_a_late_table_change_applies_at_the_first_open_instant() -> None:
    log = MemoryLog()
    log.create_topic(TopicSpec("S"))
    log.create_topic(TopicSpec("R"))
    b = PlanBuilder()
    stream = b.window(b.source("S", "A"), "now")
    table = b.source("R", "K", "V:VARCHAR", table=True)
    b.to_stream("rstream", b.join(stream, table, "inner", left_keys=[0], right_keys=[0]))
    plan = b.plan()
    now = [0.0]
    runner = QueryRunner(plan, log, idle_timeout_ms=1000, clock=lambda: now[0])
    _produce(log, "S", [(10, {"A": 1}), (20, {"A": 1}), (30, {"A": 1})])
    assert runner.poll(0.05) == []  # no table row yet: the join is empty
    assert runner.executor.watermark == 29
    # The table row is stamped 5, long closed: it takes effect at instant 30.
    _produce(log, "R", [(5, {"K": 1, "V": "one"})], key=b"1")
    _produce(log, "S", [(40, {"A": 1})])
    assert runner.poll(0.05) == []  # the table just spoke: it holds the watermark a while
    now[0] = 0.5
    _produce(log, "S", [(50, {"A": 1})])
    assert runner.poll(0.05) == []
    now[0] = 1.6  # the table has been quiet for 1.6 s: idle, the stream leads
    _produce(log, "S", [(60, {"A": 1})])
    got = [(e.timestamp, e.row) for e in runner.poll(0.05)]
    assert got == [(30, (1, 1, "one")), (40, (1, 1, "one")), (50, (1, 1, "one"))]
    assert runner.metrics.deferred_table_changes == 1 and runner.metrics.late_records == 0
    runner.close()
