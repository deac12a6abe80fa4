"""``[ROWS N SLIDE M]`` and ``[SESSION G]`` windows end to end through the DB-API, on the
embedded log and (``kafka``-marked) on a real broker. Expected emissions are computed by
hand from the definitions in docs/cql.md, with the instant of each one (the ROWTIME
column)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

import pycql

# k, v, ts: k=1 at 1000, 2000, 31000 (gap 10 s: sessions {1000, 2000} and {31000});
# k=2 at 3000, 13000 (13000 is exactly 10 s after 3000: a new session), 30000;
# k=3 at 90000
ROWS = [(1, 12, 1000), (1, 13, 2000), (2, 10, 3000), (2, 11, 13000), (2, 14, 30000),
        (1, 20, 31000), (3, 5, 90000)]


def _setup(conn: pycql.Connection, partitions: int = 1) -> str:
    name = f"S_{uuid.uuid4().hex[:8]}"
    cur = conn.cursor()
    cur.execute(f"CREATE STREAM {name} (k INTEGER, v INTEGER, ts BIGINT) "
                f"WITH (timestamp = 'ts', partitions = '{partitions}')")
    cur.executemany(f"INSERT INTO {name} VALUES (?, ?, ?)", ROWS)
    return name


def _timed(conn: pycql.Connection, sql: str) -> list[tuple[object, ...]]:
    cur = conn.cursor()
    cur.execute(sql, start="earliest", stop="latest")
    out = []
    while (row := cur.fetchone()) is not None:
        out.append((*row, cur.rowtime_ms))
    return out


# each session's count, deleted when it closes at last + 10 s (k=3's session closes at
# 100000, after the last input: whether a bounded run gets there is left open). At 13000
# k=2's first session closes and its next opens: (2, 1) is deleted and inserted in one
# instant, no change of the relation, so DSTREAM says nothing then.
SESSION_DSTREAM = [(1, 1, 2000), (1, 2, 12000), (2, 1, 23000), (2, 1, 40000),
                   (1, 1, 41000)]
# every 2nd arrival the window becomes the last 3 of the arrivals so far
ROWS_SLIDE_ISTREAM = [(12, 2000), (13, 2000), (10, 13000), (11, 13000), (14, 31000),
                      (20, 31000)]


def _check_session(conn: pycql.Connection, name: str) -> None:
    got = _timed(conn, f"SELECT DSTREAM(k, COUNT(*)) FROM {name} "
                       "[PARTITION BY k SESSION 10 SECONDS] GROUP BY k")
    assert sorted(e for e in got if e[0] != 3) == sorted(SESSION_DSTREAM)
    assert [e for e in got if e[0] == 3] in ([], [(3, 1, 100000)])


def _check_rows_slide(conn: pycql.Connection, name: str) -> None:
    got = _timed(conn, f"SELECT ISTREAM(v) FROM {name} [ROWS 3 SLIDE 2]")
    assert sorted(got, key=lambda e: (e[1], e[0])) == sorted(
        ROWS_SLIDE_ISTREAM, key=lambda e: (e[1], e[0]))


@pytest.fixture
def conn() -> Iterator[pycql.Connection]:
    conn = pycql.connect()
    yield conn
    conn.close()


def test_a_partitioned_session_emits_its_final_count_when_it_closes(
        conn: pycql.Connection) -> None:
    _check_session(conn, _setup(conn))


def test_a_global_session_holds_everything_until_a_gap(conn: pycql.Connection) -> None:
    name = _setup(conn)
    # one key: 1000 .. 31000 with gaps < 20 s is one session, closing at 51000
    got = _timed(conn, f"SELECT DSTREAM(COUNT(*)) FROM {name} [SESSION 20 SECONDS]")
    assert (6, 51000) in got
    # the global COUNT(*) is 0 over the empty window, replaced at the first arrival
    assert [e for e in got if e[1] < 51000] == [(0, 1000), (1, 2000), (2, 3000), (3, 13000),
                                                (4, 30000), (5, 31000)]


def test_rows_slide_changes_every_m_arrivals(conn: pycql.Connection) -> None:
    _check_rows_slide(conn, _setup(conn))


def test_rows_slide_rstream_count(conn: pycql.Connection) -> None:
    name = _setup(conn)
    got = _timed(conn, f"SELECT RSTREAM(COUNT(*)) FROM {name} [ROWS 2 SLIDE 2]")
    # RSTREAM at each arrival (and not between): 0 until the 2nd, then always 2
    assert [n for n, t in got if t <= 90000] == [0, 2, 2, 2, 2, 2, 2]


def test_partitioned_rows_slide_counts_per_key(conn: pycql.Connection) -> None:
    name = _setup(conn)
    got = _timed(conn, f"SELECT ISTREAM(k, v) FROM {name} [PARTITION BY k ROWS 2 SLIDE 2]")
    # k=1: its 2nd arrival (2000) brings 12, 13; k=2: 10, 11 at 13000; 14, 20, 5 wait
    assert sorted(got) == [(1, 12, 2000), (1, 13, 2000), (2, 10, 13000), (2, 11, 13000)]


@pytest.mark.kafka
def test_session_and_rows_slide_on_kafka(kafka_bootstrap: str) -> None:
    conn = pycql.connect(f"kafka://{kafka_bootstrap}")
    try:
        name = _setup(conn, partitions=3)
        _check_session(conn, name)
        _check_rows_slide(conn, name)
    finally:
        conn.close()
