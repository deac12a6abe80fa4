"""Persistent queries on the embedded log: every kind of job writes exactly what the same
query gives from a bounded cursor over the same input (the cursor is the oracle: it runs
no job code), and queries over a job's output give what the query inlined as a view gives."""

from __future__ import annotations

import collections
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

import pycql
from pycql.log.control import CONTROL_KEY, parse_control
from tests.jobs.conftest import bounded, eventually, snapshot

Counter = collections.Counter


@pytest.fixture
def conn() -> Iterator[pycql.Connection]:
    conn = pycql.connect(f"memory://jobs-{uuid.uuid4().hex[:8]}", rowtime_column=True)
    try:
        yield conn
    finally:
        conn.close()


def pairs(conn: pycql.Connection, sql: str) -> Counter[tuple[Any, ...]]:
    """The (k, v) of a bounded run's rows, without their ROWTIME."""
    return Counter(r[:2] for r in bounded(conn, sql).elements())


#: the input rows, stamped by _fill after the table rows (the wall clock when inserted)
#: and within max_future
BASE_MS = 0
ROWS: list[tuple[int, int, int]] = []


def _fill(conn: pycql.Connection, partitions: int = 1) -> None:
    global BASE_MS
    BASE_MS = int(time.time() * 1000) + 60_000
    ROWS[:] = [(i % 5, i, BASE_MS + 400 * i) for i in range(120)]
    cur = conn.cursor()
    cur.execute("CREATE STREAM S (k INTEGER, v INTEGER, ts BIGINT) "
                f"WITH (timestamp = 'ts', partitions = {partitions})")
    cur.execute("CREATE TABLE T (k INTEGER, name VARCHAR(10), PRIMARY KEY (k))")
    cur.executemany("INSERT INTO T VALUES (?, ?)", [(k, f"n{k}") for k in range(4)])


def _insert(conn: pycql.Connection, rows: list[tuple[int, int, int]]) -> None:
    conn.cursor().executemany("INSERT INTO S VALUES (?, ?, ?)", rows)


def _job_ids(conn: pycql.Connection) -> list[str]:
    cur = conn.cursor()
    cur.execute("SHOW QUERIES")
    return [r[0] for r in cur.fetchall() if r[2] != "cursor"]


@pytest.mark.parametrize("query", [
    "SELECT k, v FROM S WHERE v % 3 = 0",
    "SELECT ISTREAM(k, COUNT(*)) FROM S [RANGE 2 SECONDS] GROUP BY k",
    "SELECT DSTREAM(k, v) FROM S [ROWS 4]",
    "SELECT RSTREAM(k, SUM(v)) FROM S [RANGE 1 SECOND SLIDE 1 SECOND] GROUP BY k",
    "SELECT ISTREAM(S.k, S.v, T.name) FROM S [NOW] JOIN T ON S.k = T.k",
    "SELECT ISTREAM(k, v) FROM S [PARTITION BY k ROWS 3 SLIDE 2]",
    "SELECT DSTREAM(k, COUNT(*)) FROM S [PARTITION BY k SESSION 1 SECOND] GROUP BY k",
])
def test_stream_jobs_write_what_a_bounded_cursor_returns(conn: pycql.Connection,
                                                         query: str) -> None:
    _fill(conn)
    _insert(conn, ROWS)
    conn.cursor().execute(f"CREATE STREAM Derived1 AS {query}")
    want = bounded(conn, query)
    assert sum(want.values()) > 0
    got = eventually(lambda: bounded(conn, "SELECT * FROM Derived1"), want)
    assert got == want


def test_a_stateless_job_over_three_partitions_runs_three_tasks(conn: pycql.Connection) -> None:
    _fill(conn, partitions=3)
    _insert(conn, ROWS)
    cur = conn.cursor()
    cur.execute("CREATE STREAM Derived1 AS SELECT k, v * 2 AS w FROM S WHERE k <> 1")
    (_qid, sink, topic, tasks), = cur.fetchall()
    assert (sink, topic, tasks) == ("Derived1", "Derived1", 3)
    want = bounded(conn, "SELECT k, v * 2 AS w FROM S WHERE k <> 1")
    assert eventually(lambda: bounded(conn, "SELECT * FROM Derived1"), want) == want
    cur.execute("SHOW STREAMS")
    assert ("Derived1", "Derived1", 3, "json", None) in cur.fetchall()


def _records(conn: pycql.Connection, topic: str) -> list[Any]:
    """Every committed record of ``topic``, control records included, in log order."""
    reader = conn.database.log.reader([topic], "earliest")
    try:
        out: list[Any] = []
        while batch := reader.poll(timeout=0.05):
            out += batch
        return out
    finally:
        reader.close()


@pytest.mark.parametrize(("options", "query", "tasks"), [
    ("", "SELECT k, v FROM S WHERE v % 3 <> 0", 3),       # task i writes partition i
    ("",                                                  # the last stage's task i too
     "SELECT ISTREAM(k, COUNT(*)) FROM S [RANGE 2 SECONDS] GROUP BY k", 3),
    ("WITH (partitions = 3, stages = 'off') ",            # one task writes all three
     "SELECT ISTREAM(k, COUNT(*)) FROM S [RANGE 2 SECONDS] GROUP BY k", 1),
])
def test_a_stream_job_writes_its_watermark_after_the_rows_it_closes(
        conn: pycql.Connection, options: str, query: str, tasks: int) -> None:
    """Each output partition carries its task's watermark as control records, after the
    rows they follow: every row is stamped after every watermark before it in its
    partition, and the last record of each partition is the watermark the heartbeat
    gave (S waits an hour before it calls a partition idle: only the heartbeat moves
    time to the newest row)."""
    base = int(time.time() * 1000) + 60_000
    data = [(i % 5, i, base + 400 * i) for i in range(90)]
    cur = conn.cursor()
    cur.execute("CREATE STREAM S (k INTEGER, v INTEGER, ts BIGINT) "
                "WITH (timestamp = 'ts', partitions = 3, idle_timeout = '1 hour')")
    cur.execute(f"CREATE STREAM Out1 {options}AS {query}")
    (_qid, _sink, topic, got_tasks), = cur.fetchall()
    assert got_tasks == tasks
    _insert(conn, data)
    newest = max(r[2] for r in data)
    cur.execute(f"ALTER STREAM S HEARTBEAT {newest + 1}")     # a watermark of newest

    def last_marks() -> list[int | None]:
        last: dict[int, int | None] = {p: None for p in range(3)}
        for r in _records(conn, topic):
            last[r.partition] = (parse_control(r.value).watermark if r.key == CONTROL_KEY
                                 else None)
        return [last[p] for p in range(3)]

    assert eventually(last_marks, [newest] * 3) == [newest] * 3
    want = bounded(conn, query)
    assert sum(want.values()) > 0
    assert bounded(conn, "SELECT * FROM Out1") == want      # the cursor skips the marks
    rows_seen = 0
    for p in range(3):
        mark = -1
        for r in (r for r in _records(conn, topic) if r.partition == p):
            if r.key == CONTROL_KEY:
                said = parse_control(r.value)
                assert said.type == "watermark" and said.watermark >= mark
                mark = said.watermark
            else:
                assert r.timestamp_ms > mark, (p, r.timestamp_ms, mark)
                rows_seen += 1
    assert rows_seen == sum(want.values())


@pytest.mark.parametrize("query", [
    "SELECT k, COUNT(*) AS n, SUM(v) AS total FROM S GROUP BY k",      # keyed
    "SELECT k, v FROM S [ROWS 7]",                                    # no key: a multiset
    "SELECT k % 2 AS parity FROM S [RANGE 3 SECONDS]",                # duplicates
    "SELECT COUNT(*) AS n FROM S [RANGE 2 SECONDS]",                  # one row, no key
])
def test_table_jobs_hold_the_relation_a_cursor_returns(conn: pycql.Connection,
                                                       query: str) -> None:
    _fill(conn)
    _insert(conn, ROWS)
    conn.cursor().execute(f"CREATE TABLE Rel AS {query}")
    want = snapshot(conn, query)
    got = eventually(lambda: snapshot(conn, "SELECT * FROM Rel"), want)
    assert got == want


def test_a_grouped_table_is_keyed_by_its_group_columns(conn: pycql.Connection) -> None:
    _fill(conn)
    cur = conn.cursor()
    cur.execute("CREATE TABLE Counts AS SELECT k, COUNT(*) AS n FROM S GROUP BY k")
    cur.execute("SHOW TABLES")
    assert ("Counts", "Counts", 1, "json", "k") in cur.fetchall()


@pytest.mark.parametrize("outer", [
    "SELECT ISTREAM(k, n) FROM {} WHERE n > 1",
    "SELECT DSTREAM(k, n) FROM {} WHERE k < 3",
    # RSTREAM emits at the instants its input runs at: with a filter over the view the
    # planner pushes it below the window, and fewer instants run than the derived
    # table's changes, so RSTREAM is compared without one
    "SELECT RSTREAM(*) FROM {}",
    "SELECT ISTREAM(D.k, D.n, T.name) FROM {} AS D JOIN T ON D.k = T.k",
])
def test_queries_over_a_derived_table_equal_the_query_inlined_as_a_view(
        conn: pycql.Connection, outer: str) -> None:
    _fill(conn)
    inner = "SELECT k, COUNT(*) AS n FROM S [RANGE 3 SECONDS] GROUP BY k"
    cur = conn.cursor()
    cur.execute(f"CREATE VIEW Inline AS {inner}")
    cur.execute(f"CREATE TABLE Derived AS {inner}")
    _insert(conn, ROWS)
    want = bounded(conn, outer.format("Inline"))
    assert sum(want.values()) > 0
    got = eventually(lambda: bounded(conn, outer.format("Derived")), want)
    assert got == want


def test_insert_into_an_existing_stream_from_a_query(conn: pycql.Connection) -> None:
    _fill(conn)
    cur = conn.cursor()
    cur.execute("CREATE STREAM Alerts (k INTEGER, v INTEGER)")
    cur.execute("INSERT INTO Alerts VALUES (99, 99)")
    cur.execute("INSERT INTO Alerts SELECT k, v FROM S WHERE v > 100")
    (query_id, sink, _, _), = cur.fetchall()
    assert query_id.startswith("INSERTQUERY_") and sink == "Alerts"
    _insert(conn, ROWS)
    want = Counter(r[:2] for r in bounded(conn, "SELECT k, v FROM S WHERE v > 100").elements())
    want[(99, 99)] += 1
    got = eventually(lambda: pairs(conn, "SELECT * FROM Alerts"), want)
    assert got == want


def test_insert_into_the_stream_a_query_reads_is_refused(conn: pycql.Connection) -> None:
    _fill(conn)
    with pytest.raises(pycql.ProgrammingError, match="reads S itself"):
        conn.cursor().execute("INSERT INTO S SELECT k, v + 1, ts FROM S")


def test_show_queries_and_terminate_from_another_connection(conn: pycql.Connection) -> None:
    _fill(conn)
    cur = conn.cursor()
    cur.execute("CREATE STREAM Big AS SELECT k, v FROM S WHERE v > 50")
    cur.execute("CREATE TABLE Counts AS SELECT k, COUNT(*) AS n FROM S GROUP BY k")
    other = pycql.connect(conn.dsn)
    try:
        oc = other.cursor()
        def states() -> dict[str, str]:
            oc.execute("SHOW QUERIES")
            return {r[0]: r[1] for r in oc.fetchall()}
        ids = sorted(states())
        assert [d[0] for d in oc.description][:3] == ["QUERY_ID", "STATUS", "KIND"]
        assert len(ids) == 2 and ids[0].startswith("CSAS_BIG_") and ids[1].startswith("CTAS_")
        assert eventually(states, dict.fromkeys(ids, "RUNNING")) == dict.fromkeys(ids, "RUNNING")
        big = ids[0]
        oc.execute(f"TERMINATE {big}")
        assert oc.rowcount == 1
        _insert(conn, [(1, 1000, BASE_MS + 100_000)])
        time.sleep(1.5)
        assert bounded(conn, "SELECT * FROM Big") == Counter()
        assert states()[big] == "TERMINATED"
        want = {(1, 1)}
        assert eventually(lambda: set(snapshot(conn, "SELECT * FROM Counts")), want) == want
    finally:
        other.close()


def test_terminate_of_an_unknown_query_names_it(conn: pycql.Connection) -> None:
    with pytest.raises(pycql.ProgrammingError, match="no query NOPE_1"):
        conn.cursor().execute("TERMINATE NOPE_1")


def test_drop_and_insert_refuse_a_job_output_while_the_job_runs(conn: pycql.Connection) -> None:
    _fill(conn)
    cur = conn.cursor()
    cur.execute("CREATE STREAM Big AS SELECT k, v FROM S")
    (qid, *_), = cur.fetchall()
    with pytest.raises(pycql.ProgrammingError, match=f"query {qid} writes to it"):
        cur.execute("DROP STREAM Big")
    with pytest.raises(pycql.ProgrammingError, match=f"query {qid} reads it"):
        cur.execute("DROP STREAM S")
    with pytest.raises(pycql.ProgrammingError, match=f"written by query {qid}"):
        cur.execute("INSERT INTO Big VALUES (1, 2)")
    cur.execute(f"TERMINATE {qid}")
    cur.execute("DROP STREAM Big")
    cur.execute("DROP STREAM S")


def test_a_failing_job_is_failed_and_the_others_keep_running(conn: pycql.Connection) -> None:
    _fill(conn)
    failing = pycql.connect(conn.dsn, on_error="fail")
    try:
        failing.cursor().execute("CREATE STREAM Bad AS SELECT k, 10 / (v - 3) AS q FROM S")
    finally:
        failing.close()
    conn.cursor().execute("CREATE STREAM Good AS SELECT k, v FROM S")
    _insert(conn, ROWS[:10])
    cur = conn.cursor()
    def status() -> dict[str, tuple[str, Any]]:
        cur.execute("SHOW QUERIES")
        return {r[3]: (r[1], r[9]) for r in cur.fetchall() if r[2] != "cursor"}
    eventually(lambda: status()["Bad"][0], "FAILED")
    state, error = status()["Bad"]
    assert state == "FAILED" and "division by zero" in str(error)
    _insert(conn, [(1, 500, BASE_MS + 900_000)])
    want = Counter((k, v) for k, v, _ in ROWS[:10]) + Counter({(1, 500): 1})
    got = eventually(lambda: pairs(conn, "SELECT * FROM Good"), want)
    assert got == want
    assert status()["Good"][0] == "RUNNING"


def test_a_restarted_task_restores_its_state_and_writes_nothing_twice(
        conn: pycql.Connection) -> None:
    _fill(conn)
    query = "SELECT ISTREAM(k, COUNT(*)) FROM S [RANGE 2 SECONDS] GROUP BY k"
    cur = conn.cursor()
    cur.execute(f"CREATE STREAM Derived1 AS {query}")
    (qid, *_), = cur.fetchall()
    _insert(conn, ROWS[:60])
    first = bounded(conn, query)
    assert eventually(lambda: bounded(conn, "SELECT * FROM Derived1"), first) == first
    worker = conn.database._worker
    assert worker is not None
    worker.stop_job(qid, "STOPPED")     # the task and its state are gone
    _insert(conn, ROWS[60:])
    worker.sync()                       # a new task: restores the last commit
    want = bounded(conn, query)
    assert eventually(lambda: bounded(conn, "SELECT * FROM Derived1"), want) == want


def test_explain_analyze_of_a_job_shows_live_figures_per_operator(conn: pycql.Connection) -> None:
    _fill(conn)
    cur = conn.cursor()
    cur.execute("CREATE TABLE Counts AS "
                "SELECT k, COUNT(*) AS n FROM S [RANGE 5 SECONDS] GROUP BY k")
    (qid, *_), = cur.fetchall()
    _insert(conn, ROWS)
    def text() -> str:
        cur.execute(f"EXPLAIN ANALYZE {qid}")
        return "\n".join(r[0] for r in cur.fetchall())
    deadline = time.monotonic() + 20
    while "out=120 " not in text() and time.monotonic() < deadline:
        time.sleep(0.2)
    shown = text()
    assert f"Query {qid}: RUNNING" in shown
    assert "Source(stream S)  out=120 " in shown     # every input row, counted at the source
    assert "Aggregate(group=[0])" in shown and "rows/s" in shown
    assert "watermark=" in shown and "consumer lag=0" in shown and "commit latency=" in shown
