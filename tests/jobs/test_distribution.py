"""Jobs over streams partitioned by a declared key run one task per partition when every
stateful operator keeps its state per that key (pycql.jobs.distribution), and give what
one task gives: what the bounded cursor over all partitions returns."""

from __future__ import annotations

import collections
import time
import uuid
from typing import Any

import pytest

import pycql
from pycql.jobs.distribution import _planned_locality, partition_local

LOCAL = [
    "SELECT ISTREAM(k, COUNT(*), SUM(v)) FROM S [UNBOUNDED] GROUP BY k",
    "SELECT k, COUNT(*) AS n FROM S GROUP BY k",
    "SELECT k, v, COUNT(*) FROM S GROUP BY v, k",
    "SELECT DSTREAM(k, v) FROM S [PARTITION BY k ROWS 2]",
    "SELECT ISTREAM(S.k, S.v, U.w) FROM S [PARTITION BY k ROWS 3], U [PARTITION BY k ROWS 2] "
    "WHERE S.k = U.k",
    "SELECT ISTREAM(S.k, S.v, T.name) FROM S [UNBOUNDED] JOIN T ON S.v = T.k",
    "SELECT DISTINCT k, v FROM S",
    "SELECT k, v, COUNT(*) FROM S GROUP BY GROUPING SETS ((k, v), (k))",  # every set has k
    "SELECT ISTREAM(k, v) FROM S [PARTITION BY k ROWS 3 SLIDE 2]",  # counts per key
]
NOT_LOCAL = [
    "SELECT v, COUNT(*) FROM S GROUP BY v",                    # not grouped by the key
    "SELECT COUNT(*) FROM S",                                  # global
    "SELECT ISTREAM(COUNT(*)) FROM S GROUP BY k",              # rows lack the key
    "SELECT k, v FROM S [ROWS 5]",                             # global ROWS
    "SELECT RSTREAM(k, COUNT(*)) FROM S GROUP BY k",
    "SELECT ISTREAM(S.k, U.w) FROM S [UNBOUNDED], U [UNBOUNDED] WHERE S.v = U.k",
    "SELECT k, COUNT(*) FROM P GROUP BY k",                    # P declares no key
    "SELECT DSTREAM(k, v) FROM S [PARTITION BY v ROWS 2]",
    # rows that expire in time: each task's time is its own (see distribution.py)
    "SELECT ISTREAM(k, COUNT(*)) FROM S [RANGE 2 SECONDS] GROUP BY k",
    "SELECT ISTREAM(S.v, T.name) FROM S [NOW] JOIN T ON S.v = T.k",
    "SELECT k, COUNT(*) FROM S GROUP BY ROLLUP(k)",            # the set () spans the keys
    "SELECT DSTREAM(k, COUNT(*)) FROM S [PARTITION BY k SESSION 2 SECONDS] GROUP BY k",
    "SELECT k, v FROM S [ROWS 4 SLIDE 2]",                     # global ROWS
]


@pytest.fixture
def conn() -> Any:
    conn = pycql.connect(f"memory://dist-{uuid.uuid4().hex[:6]}", rowtime_column=True)
    cur = conn.cursor()
    cur.execute("CREATE STREAM S (k INTEGER, v INTEGER, ts BIGINT) "
                "WITH (timestamp = 'ts', partitions = 3, key = 'k')")
    cur.execute("CREATE STREAM U (k INTEGER, w INTEGER, ts BIGINT) "
                "WITH (timestamp = 'ts', partitions = 3, key = 'k')")
    cur.execute("CREATE STREAM P (k INTEGER, v INTEGER) WITH (partitions = 3)")
    cur.execute("CREATE TABLE T (k INTEGER, name VARCHAR(8), PRIMARY KEY (k))")
    cur.executemany("INSERT INTO T VALUES (?, ?)", [(v, f"n{v}") for v in range(0, 300, 7)])
    yield conn
    conn.close()


def _keys(conn: Any) -> dict[str, list[int]]:
    return {"S": [0], "U": [0]}


@pytest.mark.parametrize("query", LOCAL)
def test_plans_keeping_state_per_key_are_local(conn: Any, query: str) -> None:
    assert partition_local(conn.database.analyze(query)["plan"], _keys(conn))


@pytest.mark.parametrize("query", NOT_LOCAL)
def test_plans_keeping_state_across_keys_are_not(conn: Any, query: str) -> None:
    assert not partition_local(conn.database.analyze(query)["plan"], _keys(conn))


@pytest.mark.parametrize("query", LOCAL + NOT_LOCAL)
def test_the_planners_exchanges_and_the_lineage_analysis_agree(conn: Any, query: str) -> None:
    """Two analyses apart: the planner's (ExchangeRule: exchanges in the plan) and the
    lineage analysis of the JSON (the plan without its ``stages``)."""
    plan = conn.database.analyze(query)["plan"]
    planned = _planned_locality(plan, _keys(conn))
    assert planned is not None, "the planner saw the sources as the test declares them"
    without = {k: v for k, v in plan.items() if k != "stages"}
    assert planned == partition_local(without, _keys(conn))


def _bounded(conn: Any, sql: str) -> collections.Counter[tuple[Any, ...]]:
    cur = conn.cursor()
    cur.execute(sql, start="earliest", stop="latest")
    return collections.Counter(cur.fetchall())


def _fill(conn: Any) -> None:
    base = int(time.time() * 1000) + 30_000
    cur = conn.cursor()
    cur.executemany("INSERT INTO S VALUES (?, ?, ?)",
                    [(i % 11, i, base + 90 * i) for i in range(400)])
    cur.executemany("INSERT INTO U VALUES (?, ?, ?)",
                    [(i % 11, -i, base + 130 * i) for i in range(250)])


@pytest.mark.parametrize("query", [LOCAL[0], LOCAL[3], LOCAL[4], LOCAL[5]])
def test_a_keyed_stream_job_runs_per_partition_and_writes_what_one_task_would(
        conn: Any, query: str) -> None:
    _fill(conn)  # before the job: it reads both streams from the start, in time order
    cur = conn.cursor()
    cur.execute(f"CREATE STREAM Keyed AS {query}")
    (_, _, _, tasks), = cur.fetchall()
    assert tasks == 3
    want = _bounded(conn, query)
    assert sum(want.values()) > 0
    deadline = time.monotonic() + 20
    got = _bounded(conn, "SELECT * FROM Keyed")
    while got != want and time.monotonic() < deadline:
        time.sleep(0.2)
        got = _bounded(conn, "SELECT * FROM Keyed")
    assert got == want


def test_a_keyed_table_job_runs_per_partition(conn: Any) -> None:
    cur = conn.cursor()
    cur.execute("CREATE TABLE Counts AS SELECT k, COUNT(*) AS n, SUM(v) AS total FROM S GROUP BY k")
    (_, _, _, tasks), = cur.fetchall()
    assert tasks == 3
    _fill(conn)
    cur.execute("SELECT k, COUNT(*), SUM(v) FROM S GROUP BY k")
    want = collections.Counter(cur.fetchall())
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        cur.execute("SELECT * FROM Counts")
        got = collections.Counter(cur.fetchall())
        if got == want:
            break
        time.sleep(0.2)
    assert got == want


def test_a_job_over_an_unkeyed_stream_runs_as_stages_or_as_one_task(conn: Any) -> None:
    """The plan hashes P's rows on k between two stages: by default (``stages = 'on'``)
    the last runs one task per partition of the intermediate topic; with ``'off'`` one
    task runs it all."""
    cur = conn.cursor()
    cur.execute("CREATE STREAM Staged AS SELECT ISTREAM(k, COUNT(*)) FROM P GROUP BY k")
    (_, _, _, tasks), = cur.fetchall()
    assert tasks == 3
    cur.execute("CREATE STREAM Single WITH (stages = 'off') AS "
                "SELECT ISTREAM(k, COUNT(*)) FROM P GROUP BY k")
    (_, _, _, tasks), = cur.fetchall()
    assert tasks == 1
    staged = {j.sink: j.staged for j in conn.database.catalog.jobs()}
    assert staged == {"Staged": True, "Single": False}
    with pytest.raises(pycql.ProgrammingError, match="stages must be 'on' or 'off'"):
        cur.execute("CREATE STREAM Bad WITH (stages = 'sometimes') AS SELECT k FROM P")
