"""INSERT with an explicit event time: ``INSERT INTO s (ROWTIME, ...) VALUES (...)``.

ROWTIME is a pseudo target column of streams (ksqlDB's spelling): the event time of each
row, a TIMESTAMP or epoch milliseconds (BIGINT), or ``?``. The planner writes one
expression per VALUES row into the insert envelope's ``timestamps`` (docs/plan-json.md);
the driver evaluates it per row and parameter set and stamps the record with it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

import pycql


@pytest.fixture
def conn() -> Iterator[pycql.Connection]:
    connection = pycql.connect()
    try:
        yield connection
    finally:
        if not connection.closed:
            connection.close()


def _ms(value: dt.datetime) -> int:
    return int(value.replace(tzinfo=dt.UTC).timestamp() * 1000)


T0 = dt.datetime(2024, 1, 1, 0, 0, 0)


def _read(cur: pycql.Cursor, sql: str) -> list[tuple[tuple[object, ...], int | None]]:
    """The rows of a bounded run of a stream query, each with its ``cur.rowtime_ms``."""
    cur.execute(sql, start="earliest", stop="latest")
    out = []
    while (row := cur.fetchone()) is not None:
        out.append((row, cur.rowtime_ms))
    return out


def test_rowtime_literals_stamp_the_rows(conn: pycql.Connection) -> None:
    cur = conn.cursor()
    cur.execute("CREATE STREAM S (a INTEGER, b INTEGER)")
    cur.execute(
        "INSERT INTO S (ROWTIME, a, b) VALUES (TIMESTAMP '2024-01-01 00:00:00', 1, 2), "
        f"({_ms(T0) + 5000}, 3, 4), (TIMESTAMP '2024-01-01 00:00:00' + INTERVAL '2' SECOND, 5, 6)"
    )
    assert cur.rowcount == 3
    rows = _read(cur, "SELECT a, b FROM S")
    assert sorted(rows, key=lambda r: r[1] or 0) == [
        ((1, 2), _ms(T0)),
        ((5, 6), _ms(T0) + 2000),
        ((3, 4), _ms(T0) + 5000),
    ]


def test_rowtime_parameters_per_parameter_set(conn: pycql.Connection) -> None:
    cur = conn.cursor()
    cur.execute("CREATE STREAM S (a INTEGER, b INTEGER)")
    cur.executemany(
        "INSERT INTO S (a, ROWTIME, b) VALUES (?, ?, ?)",
        [(1, T0, 10), (2, T0 + dt.timedelta(seconds=1), 20), (3, _ms(T0) + 3000, 30)],
    )
    assert cur.rowcount == 3
    rows = _read(cur, "SELECT ISTREAM(*) FROM S [NOW]")
    assert rows == [
        ((1, 10), _ms(T0)),
        ((2, 20), _ms(T0) + 1000),
        ((3, 30), _ms(T0) + 3000),
    ]
    # the event time drives the windows: at the last instant (00:03) the 3-second window
    # holds 00:00 < t <= 00:03
    cur.execute("SELECT COUNT(*) FROM S [RANGE 3 SECONDS]")
    assert cur.fetchall() == [(2,)]


def test_rowtime_fills_the_timestamp_column(conn: pycql.Connection) -> None:
    cur = conn.cursor()
    cur.execute("CREATE STREAM E (a INTEGER, ts TIMESTAMP) WITH (timestamp = 'ts')")
    cur.execute("INSERT INTO E (ROWTIME, a) VALUES (TIMESTAMP '2024-01-01 00:00:07', 1)")
    assert _read(cur, "SELECT a, ts FROM E") == [
        ((1, T0 + dt.timedelta(seconds=7)), _ms(T0) + 7000)
    ]
    with pytest.raises(pycql.ProgrammingError) as info:
        cur.execute("INSERT INTO E (ROWTIME, ts) VALUES (1, TIMESTAMP '2024-01-01 00:00:00')")
    assert "give one of them" in info.value.message
    assert (info.value.line, info.value.column) == (1, 16)


def test_rowtime_errors(conn: pycql.Connection) -> None:
    cur = conn.cursor()
    cur.execute("CREATE STREAM S (a INTEGER)")
    cur.execute("CREATE TABLE R (a INTEGER, PRIMARY KEY (a))")
    with pytest.raises(pycql.ProgrammingError) as info:
        cur.execute("INSERT INTO R (ROWTIME, a) VALUES (1, 2)")
    assert (info.value.line, info.value.column) == (1, 16)
    assert "is a table" in info.value.message
    with pytest.raises(pycql.ProgrammingError) as info:
        cur.execute("INSERT INTO S (ROWTIME, a) VALUES ('tomorrow', 2)")
    assert (info.value.line, info.value.column) == (1, 36)
    assert info.value.message.startswith("ROWTIME must be a TIMESTAMP or a BIGINT")


def test_a_column_named_rowtime_is_an_ordinary_column(conn: pycql.Connection) -> None:
    cur = conn.cursor()
    cur.execute("CREATE STREAM W (ROWTIME BIGINT, a INTEGER)")
    cur.execute("INSERT INTO W (ROWTIME, a) VALUES (5, 1)")
    ((row, rowtime),) = _read(cur, "SELECT ROWTIME, a FROM W")
    assert row == (5, 1)
    assert rowtime is not None and rowtime != 5  # the record is stamped at the insert
