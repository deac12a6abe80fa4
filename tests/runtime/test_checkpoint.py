"""A run continued from a checkpoint (``QueryRunner.checkpoint`` -> JSON -> a new runner)
emits exactly what the uninterrupted run emits: same rows, same signs, same instants,
cut at any poll, for every kind of operator state. This is what a job's task restores
from its changelog."""

from __future__ import annotations

import collections
import time
from typing import Any

import orjson
import pytest

import pycql
from pycql.driver._engine import with_time_policies
from pycql.jobs.changelog import assemble, pieces
from pycql.runtime.runner import QueryRunner

QUERIES = [
    "SELECT ISTREAM(k, COUNT(*), SUM(v)) FROM S [RANGE 2 SECONDS SLIDE 1 SECOND] GROUP BY k",
    "SELECT k, COUNT(*) AS n, MAX(v) AS top FROM S [RANGE 3 SECONDS] GROUP BY k",
    "SELECT ISTREAM(S.k, S.v, U.w) FROM S [RANGE 1 SECOND], U [RANGE 1 SECOND] "
    "WHERE S.k = U.k",
    "SELECT ISTREAM(S.v, T.name) FROM S [NOW] JOIN T ON S.k = T.k",
    "SELECT DSTREAM(k, v) FROM S [PARTITION BY k ROWS 2]",
    "SELECT RSTREAM(DISTINCT k) FROM S [ROWS 5]",
    "SELECT k, v FROM S WHERE v % 3 = 0",
    "SELECT COUNT(*) AS n FROM S [RANGE 1500 MILLISECONDS]",
    "SELECT ISTREAM(k, v, RANK() OVER (PARTITION BY k ORDER BY v DESC), "
    "SUM(v) OVER (ORDER BY k)) FROM S [RANGE 1 SECOND]",
    "SELECT k, v, rn FROM (SELECT k, v, ROW_NUMBER() OVER (PARTITION BY k ORDER BY v DESC) "
    "AS rn FROM S [RANGE 2 SECONDS]) WHERE rn <= 2",
    "SELECT DSTREAM(k, v) FROM (SELECT k, v, ROW_NUMBER() OVER (PARTITION BY k ORDER BY v DESC) "
    "AS rn FROM S) WHERE rn <= 3",
    "SELECT ISTREAM(k, v) FROM S [PARTITION BY k ROWS 3 SLIDE 2]",
    "SELECT RSTREAM(COUNT(*), SUM(v)) FROM S [ROWS 4 SLIDE 3]",
    # per key the elements come 770 to 930 ms apart: some sessions close, some go on
    "SELECT DSTREAM(k, COUNT(*)) FROM S [PARTITION BY k SESSION 900 MILLISECONDS] GROUP BY k",
    "SELECT ISTREAM(COUNT(*), MIN(v)) FROM S [SESSION 200 MILLISECONDS]",
]


@pytest.fixture(scope="module")
def conn() -> Any:
    conn = pycql.connect()
    cur = conn.cursor()
    cur.execute("CREATE STREAM S (k INTEGER, v INTEGER, ts BIGINT) "
                "WITH (timestamp = 'ts', partitions = 2)")
    cur.execute("CREATE STREAM U (k INTEGER, w DECIMAL(6, 2), ts BIGINT) WITH (timestamp = 'ts')")
    cur.execute("CREATE TABLE T (k INTEGER, name VARCHAR(8), PRIMARY KEY (k))")
    cur.executemany("INSERT INTO T VALUES (?, ?)", [(k, f"n{k}") for k in range(4)])
    base = int(time.time() * 1000) + 30_000  # after the table rows, within max_future
    cur.executemany("INSERT INTO S VALUES (?, ?, ?)",
                    [(i % 5, i, base + 170 * i + (i % 3) * 40) for i in range(300)])
    cur.executemany("INSERT INTO U VALUES (?, ?, ?)",
                    [(i % 4, f"{i}.25", base + 230 * i) for i in range(200)])
    cur.executemany("UPSERT INTO T VALUES (?, ?)", [(1, "one"), (5, "five")])
    yield conn
    conn.close()


def _emissions(runner: QueryRunner) -> list[tuple[Any, ...]]:
    out = []
    while not runner.done:
        out += [(e.timestamp, e.sign, e.row) for e in runner.poll(0.01)]
    return out


@pytest.mark.parametrize("query", QUERIES)
@pytest.mark.parametrize("cut", [1, 4, 17])
@pytest.mark.parametrize("through_changelog", [False, True])
def test_a_run_continued_from_a_checkpoint_emits_what_the_whole_run_emits(
        conn: Any, query: str, cut: int, through_changelog: bool) -> None:
    plan = with_time_policies(conn, conn.database.analyze(query)["plan"])
    log = conn.database.log
    with QueryRunner(plan, log, stop="end", max_records=13) as whole:
        want = _emissions(whole)
    assert want
    first = QueryRunner(plan, log, stop="end", max_records=13)
    got: list[tuple[Any, ...]] = []
    for _ in range(cut):
        got += [(e.timestamp, e.sign, e.row) for e in first.poll(0.01)]
    checkpoint = orjson.loads(orjson.dumps(first.checkpoint()))  # through JSON, as stored
    if through_changelog:  # cut into changelog pieces and put back, as a task restores it
        restored = assemble(pieces({"runner": checkpoint, "sink": None}))
        assert restored is not None
        checkpoint = restored["runner"]
    first.close()
    with QueryRunner(plan, log, stop="end", max_records=13, checkpoint=checkpoint) as rest:
        got += _emissions(rest)
    assert collections.Counter(got) == collections.Counter(want)
    assert sorted({t for t, _, _ in got}) == sorted({t for t, _, _ in want})
