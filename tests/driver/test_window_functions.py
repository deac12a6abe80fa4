"""SQL window functions and top-N per group through the DB-API, on the embedded log and
on Kafka; every expected result is worked out by hand from docs/cql.md's definition."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

import pycql

ROWS = [(1, 12, 1000), (1, 13, 2000), (2, 10, 3000), (2, 11, 30000), (1, 20, 31000),
        (3, 5, 90000)]
TOP_1 = ("SELECT k, v FROM (SELECT k, v, ROW_NUMBER() OVER (PARTITION BY k ORDER BY v DESC) "
         "AS rn FROM {s} [RANGE UNBOUNDED]) WHERE rn = 1")
# top 2 of each k in the last 40 s; ISTREAM: each (k, v, rn) as it enters
TOP_2_ISTREAM = ("SELECT ISTREAM(k, v, rn) FROM (SELECT k, v, ROW_NUMBER() OVER (PARTITION BY "
                 "k ORDER BY v DESC) AS rn FROM {s} [RANGE 40 SECONDS]) WHERE rn <= 2")
TOP_2_EXPECTED = [(1, 12, 1), (1, 13, 1), (1, 12, 2), (2, 10, 1), (2, 11, 1), (2, 10, 2),
                  (1, 20, 1), (1, 13, 2), (3, 5, 1)]


def _stream(cur: pycql.Cursor, name: str = "S") -> None:
    cur.execute(f"CREATE STREAM {name} (k INTEGER, v INTEGER, ts BIGINT) "
                "WITH (timestamp = 'ts')")
    cur.executemany(f"INSERT INTO {name} VALUES (?, ?, ?)", ROWS)


@pytest.fixture
def cur() -> Iterator[pycql.Cursor]:
    conn = pycql.connect()
    c = conn.cursor()
    _stream(c)
    yield c
    conn.close()


def test_top_1_per_group(cur: pycql.Cursor) -> None:
    cur.execute(TOP_1.format(s="S"))
    assert cur.kind == "relation"
    assert sorted(cur.fetchall()) == [(1, 20), (2, 11), (3, 5)]


def test_top_2_per_group_of_a_range_window_as_a_stream(cur: pycql.Cursor) -> None:
    cur.execute(TOP_2_ISTREAM.format(s="S"), start="earliest", stop="latest")
    assert cur.fetchall() == TOP_2_EXPECTED


def test_rank_and_partition_sum(cur: pycql.Cursor) -> None:
    cur.execute("SELECT k, v, RANK() OVER (ORDER BY k), SUM(v) OVER (PARTITION BY k), "
                "DENSE_RANK() OVER (ORDER BY k) FROM S [RANGE UNBOUNDED]")
    assert sorted(cur.fetchall()) == [(1, 12, 1, 45, 1), (1, 13, 1, 45, 1), (1, 20, 1, 45, 1),
                                      (2, 10, 4, 21, 2), (2, 11, 4, 21, 2), (3, 5, 6, 5, 3)]


def test_running_count_and_average(cur: pycql.Cursor) -> None:
    cur.execute("SELECT v, COUNT(*) OVER (PARTITION BY k ORDER BY v), AVG(v) OVER (PARTITION "
                "BY k ORDER BY v ROWS UNBOUNDED PRECEDING) FROM S [RANGE UNBOUNDED] WHERE k = 1")
    assert sorted(cur.fetchall()) == [(12, 1, 12.0), (13, 2, 12.5), (20, 3, 15.0)]


def test_top_n_of_a_table_refills_after_a_delete() -> None:
    conn = pycql.connect()
    c = conn.cursor()
    c.execute("CREATE TABLE T (id INTEGER, grp INTEGER, score INTEGER, PRIMARY KEY (id))")
    c.executemany("INSERT INTO T VALUES (?, ?, ?)",
                  [(1, 1, 50), (2, 1, 70), (3, 1, 60), (4, 2, 10)])
    q = ("SELECT id, score, rn FROM (SELECT id, score, ROW_NUMBER() OVER (PARTITION BY grp "
         "ORDER BY score DESC) AS rn FROM T) WHERE rn <= 2")
    c.execute(q)
    assert sorted(c.fetchall()) == [(2, 70, 1), (3, 60, 2), (4, 10, 1)]
    c.execute("DELETE FROM T WHERE id = 2")
    c.execute(q)
    assert sorted(c.fetchall()) == [(1, 50, 2), (3, 60, 1), (4, 10, 1)]
    conn.close()


def test_unsupported_window_function_is_positioned(cur: pycql.Cursor) -> None:
    with pytest.raises(pycql.NotSupportedError) as info:
        cur.execute("SELECT k, LEAD(v) OVER (ORDER BY v) FROM S [ROWS 3]")
    assert (info.value.line, info.value.column) == (1, 11)


@pytest.mark.kafka
def test_top_n_on_kafka(kafka_bootstrap: str) -> None:
    conn = pycql.connect(f"kafka://{kafka_bootstrap}")
    try:
        c = conn.cursor()
        name = f"wf_{uuid.uuid4().hex[:8]}"
        _stream(c, name)
        c.execute(TOP_1.format(s=name))
        assert sorted(c.fetchall()) == [(1, 20), (2, 11), (3, 5)]
        c.execute(TOP_2_ISTREAM.format(s=name), start="earliest", stop="latest")
        assert c.fetchall() == TOP_2_EXPECTED
    finally:
        conn.close()
