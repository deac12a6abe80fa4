"""Event time through the driver: concurrent writers, per-stream time options, idle
timeouts, the future bound, heartbeats, parameters checked at INSERT, exact stops.

Each test reproduces a way live data used to be dead-lettered or a query used to
go wrong (issue "Event time you can trust, and bad input that never kills a query").
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator

import orjson
import pytest

import pycql


def _drain(cur: pycql.Cursor, want: int, seconds: float = 5.0) -> list[tuple[object, ...]]:
    got: list[tuple[object, ...]] = []
    deadline = time.monotonic() + seconds
    while len(got) < want and time.monotonic() < deadline:
        got += cur.fetchmany(1000, timeout=0.2)
    return got


def _concurrent_writers(url: str, reader_options: dict[str, object]) -> tuple[int, object]:
    """4 writer threads on 2 connections interleave INSERTs with snapshots and EXPLAINs;
    return how many of the 200 rows a continuous [NOW] reader saw, and its metrics."""
    conn = pycql.connect(url, **reader_options)
    conn2 = pycql.connect(url)
    name = f"C_{uuid.uuid4().hex[:8]}"
    conn.cursor().execute(f"CREATE STREAM {name} (w INTEGER, i INTEGER)")
    reader = conn.cursor()
    reader.execute(f"SELECT ISTREAM(w, i) FROM {name} [NOW]")

    def write(c: pycql.Connection, w: int) -> None:
        cur = c.cursor()
        for i in range(25):
            cur.executemany(f"INSERT INTO {name} VALUES (?, ?)", [(w, 2 * i), (w, 2 * i + 1)])
            if i % 5 == 0:
                cur.execute(f"SELECT COUNT(*) FROM {name}")
                cur.fetchall()
                cur.execute(f"EXPLAIN PLAN FOR SELECT w, COUNT(*) FROM {name} [ROWS {i + 1}] "
                            "GROUP BY w")
                cur.fetchall()

    threads = [threading.Thread(target=write, args=(conn if w % 2 else conn2, w))
               for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    got = _drain(reader, 200, 10.0)
    metrics = reader.metrics
    assert sorted(set(got)) == sorted(got)  # no row twice
    conn.close()
    conn2.close()
    return len(got), metrics


def test_concurrent_writers_lose_no_row_to_lateness_at_default_settings() -> None:
    for attempt in range(5):  # a race: every row must arrive every time
        count, metrics = _concurrent_writers(f"memory://writers{attempt}_{uuid.uuid4().hex}", {})
        assert count == 200, (attempt, metrics)
        assert metrics is not None and metrics.late_records == 0


@pytest.mark.kafka
def test_concurrent_writers_on_kafka_lose_no_row(kafka_bootstrap: str) -> None:
    count, metrics = _concurrent_writers(f"kafka://{kafka_bootstrap}", {})
    assert count == 200, metrics
    assert metrics is not None and metrics.late_records == 0


@pytest.fixture
def cur() -> Iterator[pycql.Cursor]:
    conn = pycql.connect()
    try:
        yield conn.cursor()
    finally:
        conn.close()


def test_stream_time_options_are_kept_validated_and_used(cur: pycql.Cursor) -> None:
    cur.execute("CREATE STREAM T (a INTEGER, ts BIGINT) WITH (timestamp = 'ts', "
                "lateness = '5 ms', idle_timeout = '1 min', max_future = '1 h')")
    with pytest.raises(pycql.ProgrammingError, match="not a duration"):
        cur.execute("CREATE STREAM U (a INTEGER) WITH (lateness = 'soon')")
    with pytest.raises(pycql.ProgrammingError, match="idle_advance"):
        cur.execute("CREATE STREAM U (a INTEGER) WITH (idle_advance = 'sometimes')")
    reader = cur.connection.cursor()
    reader.execute("SELECT a FROM T")
    cur.executemany("INSERT INTO T VALUES (?, ?)", [(1, 10), (3, 20)])
    assert _drain(reader, 1) == [(1,)]  # the watermark is 20 - 5 - 1
    cur.execute("INSERT INTO T VALUES (2, 16)")  # 4 ms out of order: reordered
    cur.execute("INSERT INTO T VALUES (4, 2)")  # 18 ms: late
    cur.execute("INSERT INTO T VALUES (5, 40)")
    assert _drain(reader, 2) == [(2,), (3,)]  # 40 stays open: more may come at 40
    source = reader.metrics.sources["T"]
    assert source.policy.lateness_ms == 5 and source.policy.idle_timeout_ms == 60_000
    assert source.late_records == 1 and "late" in (source.last_reason or "")


def test_the_connection_gives_the_default_lateness() -> None:
    with pycql.connect(lateness_ms=10) as conn:
        cur = conn.cursor()
        cur.execute("CREATE STREAM T (a INTEGER, ts BIGINT) WITH (timestamp = 'ts')")
        cur.executemany("INSERT INTO T VALUES (?, ?)", [(1, 20), (2, 12), (3, 40)])
        cur.execute("SELECT a FROM T", start="earliest", stop="latest")
        assert sorted(cur.fetchall()) == [(1,), (2,), (3,)]
        assert cur.metrics.sources["T"].policy.lateness_ms == 10
    with pytest.raises(pycql.InterfaceError, match="lateness_ms"):
        pycql.connect(lateness_ms="2 s")


def test_a_row_shows_once_the_idle_timeout_passes_and_time_does_not_run_on() -> None:
    with pycql.connect(idle_timeout_ms=200) as conn:
        cur = conn.cursor()
        cur.execute("CREATE STREAM S (a INTEGER)")
        reader = conn.cursor()
        reader.execute("SELECT RSTREAM(COUNT(*)) FROM S [RANGE 100 MILLISECONDS]")
        start = time.monotonic()
        cur.execute("INSERT INTO S VALUES (1)")
        rows = _drain(reader, 1, 5.0)
        assert rows[:1] == [(1,)]
        assert time.monotonic() - start < 3.0
        # no new data, no wall-clock heartbeat by default: the count stays as it was
        assert reader.fetchmany(10, timeout=0.6) == []
        reader.cancel()


def test_wall_clock_time_is_a_choice_per_stream() -> None:
    with pycql.connect(idle_timeout_ms=100) as conn:
        cur = conn.cursor()
        cur.execute("CREATE STREAM S (a INTEGER) WITH (idle_advance = 'wall_clock')")
        reader = conn.cursor()
        reader.execute("SELECT RSTREAM(COUNT(*)) FROM S [RANGE 100 MILLISECONDS]")
        cur.execute("INSERT INTO S VALUES (1)")
        seen = _drain(reader, 2, 5.0)
        assert seen[:2] == [(1,), (0,)]  # the row arrives, then expires by the clock
        reader.cancel()


def test_a_record_stamped_in_2100_does_not_make_later_records_late(cur: pycql.Cursor) -> None:
    cur.execute("CREATE STREAM T (a INTEGER, ts TIMESTAMP) WITH (timestamp = 'ts')")
    now = int(time.time() * 1000)
    cur.executemany("INSERT INTO T VALUES (?, ?)",
                    [(1, now), (2, 4_102_444_800_000), (3, now + 1), (4, now + 2)])
    cur.execute("SELECT a FROM T", start="earliest", stop="latest")
    assert sorted(cur.fetchall()) == [(1,), (3,), (4,)]
    metrics = cur.metrics
    assert metrics.late_records == 0 and metrics.malformed_records == 1
    assert metrics.sources["T"].future_records == 1
    log = cur.connection.database.log
    with log.reader(["T.dead-letters"]) as reader:
        kept = reader.poll(100, 0.1)
    assert kept and orjson.loads(kept[0].value)["reason"].startswith("future")


def test_insert_checks_and_converts_parameters(cur: pycql.Cursor) -> None:
    cur.execute("CREATE STREAM P (k INTEGER, v VARCHAR(5), d DECIMAL(5, 2), ts BIGINT) "
                "WITH (timestamp = 'ts')")
    with pytest.raises(pycql.DataError, match=r"column k.*not-an-int"):
        cur.execute("INSERT INTO P VALUES (?, ?, ?, ?)", ("not-an-int", "x", 1, 1000))
    with pytest.raises(pycql.DataError, match=r"column v.*VARCHAR\(5\)"):
        cur.execute("INSERT INTO P VALUES (?, ?, ?, ?)", (1, "too long", 1, 1000))
    with pytest.raises(pycql.DataError, match="column d"):
        cur.execute("INSERT INTO P VALUES (?, ?, ?, ?)", (1, "x", 12345, 1000))
    with pytest.raises(pycql.DataError, match=r"column k.*out of its range"):
        cur.execute("INSERT INTO P VALUES (?, ?, ?, ?)", (2**40, "x", 1, 1000))
    with pytest.raises(pycql.DataError, match="column k"):
        cur.execute("INSERT INTO P VALUES (?, ?, ?, ?)", (True, "x", 1, 1000))
    cur.execute("INSERT INTO P VALUES (?, ?, ?, ?)", ("7", "x", "1.25", 1000))
    # nothing bad was written: every later query decodes every record
    cur.execute("SELECT k, d FROM P WHERE k = ?", ("7",), start="earliest", stop="latest")
    rows = cur.fetchall()
    assert [(k, str(d)) for k, d in rows] == [(7, "1.25")]
    assert cur.metrics.malformed_records == 0
    with pytest.raises(pycql.DataError, match="parameter 1"):
        cur.execute("SELECT k FROM P WHERE k = ?", ("seven",), start="earliest", stop="latest")


def test_stop_offsets_are_exact(cur: pycql.Cursor) -> None:
    cur.execute("CREATE STREAM O (i INTEGER, ts BIGINT) WITH (timestamp = 'ts', partitions = 2)")
    cur.executemany("INSERT INTO O VALUES (?, ?)", [(i, 1000 + i) for i in range(5000)])
    cur.execute("SELECT i FROM O", start="earliest", stop={0: 10, 1: 10})
    assert len(cur.fetchall()) == 20
    cur.execute("SELECT i FROM O", start="earliest", stop={0: 0, 1: 1})
    assert len(cur.fetchall()) == 1


def test_explicit_rowtime_loads_history_into_a_stream_without_a_time_column(
    cur: pycql.Cursor,
) -> None:
    cur.execute("CREATE STREAM H (a INTEGER)")
    cur.executemany("INSERT INTO H (ROWTIME, a) VALUES (?, ?)",
                    [(1_000, 1), (2_000, 2), (3_000, 3)])
    cur.execute("SELECT a FROM H", start="earliest", stop="latest")
    rows = []
    while (row := cur.fetchone()) is not None:
        rows.append((row[0], cur.rowtime_ms))
    assert rows == [(1, 1_000), (2, 2_000), (3, 3_000)]


def test_a_heartbeat_closes_instants_before_it() -> None:
    with pycql.connect(idle_timeout_ms=60_000) as conn:
        cur = conn.cursor()
        cur.execute("CREATE STREAM S (a INTEGER, ts BIGINT) WITH (timestamp = 'ts', "
                    "partitions = 2)")
        reader = conn.cursor()
        reader.execute("SELECT ISTREAM(a) FROM S [NOW]")
        cur.execute("INSERT INTO S VALUES (1, 1000)")
        assert reader.fetchmany(10, timeout=0.5) == []  # instant 1000 may still grow
        cur.execute("ALTER STREAM S HEARTBEAT 1001")  # no more records before 1001
        assert _drain(reader, 1, 3.0) == [(1,)]
        assert reader.metrics.sources["S"].heartbeats == 2  # one per partition
        assert reader.metrics.malformed_records == 0
        reader.cancel()


@pytest.mark.kafka
def test_a_heartbeat_from_any_kafka_client_closes_instants(kafka_bootstrap: str) -> None:
    from confluent_kafka import Producer

    from pycql.log.control import CONTROL_KEY

    with pycql.connect(f"kafka://{kafka_bootstrap}", idle_timeout_ms=60_000) as conn:
        name = f"HB_{uuid.uuid4().hex[:8]}"
        cur = conn.cursor()
        cur.execute(f"CREATE STREAM {name} (a INTEGER, ts BIGINT) WITH (timestamp = 'ts')")
        reader = conn.cursor()
        reader.execute(f"SELECT ISTREAM(a) FROM {name} [NOW]")
        cur.execute(f"INSERT INTO {name} VALUES (1, 1000)")
        assert reader.fetchmany(10, timeout=1.0) == []
        producer = Producer({"bootstrap.servers": kafka_bootstrap})
        producer.produce(name, key=CONTROL_KEY,
                         value=orjson.dumps({"type": "watermark", "watermark": 1000}))
        producer.flush(10)
        assert _drain(reader, 1, 10.0) == [(1,)]
        reader.cancel()


def test_a_row_an_expression_fails_on_is_dead_lettered_and_the_query_goes_on(
    cur: pycql.Cursor,
) -> None:
    cur.execute("CREATE STREAM D (a INTEGER, b INTEGER, ts BIGINT) WITH (timestamp = 'ts')")
    cur.executemany("INSERT INTO D VALUES (?, ?, ?)", [(6, 2, 1000), (1, 0, 2000), (9, 3, 3000)])
    cur.execute("SELECT a / b FROM D", start="earliest", stop="latest")
    assert sorted(cur.fetchall()) == [(3,), (3,)]
    assert cur.metrics.expression_errors == 1
    with cur.connection.database.log.reader(["D.dead-letters"]) as reader:
        kept = [orjson.loads(r.value) for r in reader.poll(100, 0.1)]
    assert len(kept) == 1
    assert "division by zero" in kept[0]["reason"] and kept[0]["row"][:2] == [1, 0]
    assert kept[0]["timestamp_ms"] == 2000 and kept[0]["sources"] == ["D"]
    # a continuous query goes on past the bad row too
    reader_cur = cur.connection.cursor()
    reader_cur.execute("SELECT ISTREAM(a / b) FROM D [NOW]")
    cur.executemany("INSERT INTO D VALUES (?, ?, ?)", [(1, 0, 4000)])
    cur.executemany("INSERT INTO D VALUES (?, ?, ?)", [(8, 4, 5000)])
    cur.executemany("INSERT INTO D VALUES (?, ?, ?)", [(10, 5, 6000)])
    assert _drain(reader_cur, 1) == [(2,)]
    reader_cur.cancel()


def test_on_error_fail_ends_the_query_with_the_operator_named() -> None:
    with pycql.connect(on_error="fail") as conn:
        cur = conn.cursor()
        cur.execute("CREATE STREAM D (a INTEGER, b INTEGER, ts BIGINT) WITH (timestamp = 'ts')")
        cur.executemany("INSERT INTO D VALUES (?, ?, ?)", [(6, 2, 1000), (1, 0, 2000)])
        with pytest.raises(pycql.DataError, match="division by zero"):
            cur.execute("SELECT a / b FROM D", start="earliest", stop="latest")
            cur.fetchall()
    with pytest.raises(pycql.InterfaceError, match="on_error"):
        pycql.connect(on_error="ignore")


def test_explain_analyze_runs_the_query_and_shows_what_each_source_set_aside(
    cur: pycql.Cursor,
) -> None:
    cur.execute("CREATE STREAM S (a INTEGER, b INTEGER, ts BIGINT) WITH (timestamp = 'ts', "
                "lateness = '2 s')")
    now = int(time.time() * 1000)
    cur.executemany("INSERT INTO S VALUES (?, ?, ?)",
                    [(6, 2, now), (1, 0, now + 1), (9, 3, 4_102_444_800_000)])
    cur.execute("EXPLAIN ANALYZE SELECT a / b FROM S WHERE a > ?", (0,))
    text = "\n".join(row[0] for row in cur.fetchall())
    assert "Source(stream S)" in text  # the plan comes first
    line = next(line for line in text.splitlines() if line.strip().startswith("S:"))
    assert "records=3" in line and "malformed=1 (future=1)" in line and "late=0" in line
    assert "lateness=2 s" in line and "idle_advance=newest" in line
    assert "last set aside: future" in text
    assert "emitted=1" in text and "expression_errors=1" in text
    assert cur.metrics is not None and cur.metrics.expression_errors == 1
    # bounded by start/stop like a query; a plain EXPLAIN still refuses them
    cur.execute("EXPLAIN ANALYZE SELECT a FROM S", start="earliest", stop={0: 1})
    assert any("records=1 " in row[0] for row in cur.fetchall())
    with pytest.raises(pycql.ProgrammingError, match="start= and stop="):
        cur.execute("EXPLAIN PLAN FOR SELECT a FROM S", stop="latest")
