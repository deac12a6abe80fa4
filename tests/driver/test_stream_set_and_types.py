"""Issue "SQL and CQL coverage", item 13, through the DB-API on the embedded log (and a few on
Kafka): stream set operations, windows on derived streams, ORDER BY in views, and INTERVAL /
BINARY columns. Expected results are computed by hand from the rows below.
"""

from __future__ import annotations

import base64
import datetime as dt
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

import pycql

# (k, v, name, ts): instants 1000 .. 90000, one row each
ROWS = [(1, 12, "ann", 1000), (1, 13, "bob", 2000), (2, 10, "cy", 3000),
        (2, 11, "dee", 30000), (1, 20, "eve", 31000), (3, 5, "fay", 90000)]


def _db(conn: pycql.Connection, name: str = "S") -> pycql.Cursor:
    cur = conn.cursor()
    cur.execute(f"CREATE STREAM {name} (k INTEGER, v INTEGER, name VARCHAR(10), ts BIGINT) "
                "WITH (timestamp = 'ts')")
    cur.executemany(f"INSERT INTO {name} VALUES (?, ?, ?, ?)", ROWS)
    return cur


@pytest.fixture
def cur() -> Iterator[pycql.Cursor]:
    conn = pycql.connect()
    try:
        yield _db(conn)
    finally:
        conn.close()


def _bounded(cur: pycql.Cursor, sql: str) -> list[tuple[Any, ...]]:
    cur.execute(sql, start="earliest", stop="latest")
    return cur.fetchall()


# -- 1. stream set operations ---------------------------------------------------------

MERGE = ("ISTREAM(SELECT k FROM S [NOW] WHERE k = 1) UNION ALL "
         "ISTREAM(SELECT k FROM S [NOW] WHERE k = 2)")


def test_union_all_of_two_istreams_is_their_merge(cur: pycql.Cursor) -> None:
    assert Counter(_bounded(cur, MERGE)) == Counter({(1,): 3, (2,): 2})
    assert cur.description is not None and cur.description[0].name == "k"


def test_union_all_mixes_kinds_and_monotonic_operands(cur: pycql.Cursor) -> None:
    got = _bounded(cur, "RSTREAM(SELECT v FROM S [NOW] WHERE k = 3) UNION ALL "
                        "DSTREAM(SELECT v FROM S [ROWS 5]) UNION ALL SELECT v FROM S WHERE v > 19")
    # RSTREAM: 5 (at 90000); DSTREAM of ROWS 5: the first row, 12, leaves at 90000; v > 19: 20
    assert Counter(got) == Counter({(5,): 1, (12,): 1, (20,): 1})


def test_union_of_streams_is_distinct_per_instant(cur: pycql.Cursor) -> None:
    # every instant has one row, so the two copies of each k = 1 row become one
    got = _bounded(cur, "ISTREAM(SELECT k FROM S [NOW] WHERE k = 1) UNION "
                        "RSTREAM(SELECT k FROM S [NOW] WHERE k < 3)")
    assert Counter(got) == Counter({(1,): 3, (2,): 2})


def test_the_merge_is_usable_in_views_windows_and_persistent_queries(cur: pycql.Cursor) -> None:
    cur.execute(f"CREATE VIEW M AS {MERGE}")
    assert Counter(_bounded(cur, "SELECT * FROM M")) == Counter({(1,): 3, (2,): 2})
    cur.execute("SELECT COUNT(*) FROM M [RANGE UNBOUNDED]")
    assert cur.fetchall() == [(5,)]
    cur.execute(f"SELECT k, COUNT(*) FROM ({MERGE}) [UNBOUNDED] AS U GROUP BY k")
    assert sorted(cur.fetchall()) == [(1, 3), (2, 2)]
    cur.execute(f"CREATE STREAM MS AS {MERGE}")
    deadline = time.monotonic() + 20
    got: list[tuple[Any, ...]] = []
    while time.monotonic() < deadline and len(got) < 5:
        got = _bounded(cur, "SELECT * FROM MS")
        time.sleep(0.1)
    assert Counter(got) == Counter({(1,): 3, (2,): 2})


def test_a_relation_operand_is_an_error_at_the_operand(cur: pycql.Cursor) -> None:
    with pytest.raises(pycql.ProgrammingError) as info:
        cur.execute("ISTREAM(SELECT k FROM S [NOW]) UNION ALL SELECT k FROM S [ROWS 2]")
    assert (info.value.line, info.value.column) == (1, 42)
    assert "is a relation" in info.value.message


def test_except_of_streams_is_not_supported(cur: pycql.Cursor) -> None:
    with pytest.raises(pycql.NotSupportedError) as info:
        cur.execute("ISTREAM(SELECT k FROM S [NOW]) EXCEPT ISTREAM(SELECT k FROM S [NOW])")
    assert info.value.line == 1


# -- 2. windows and relation-to-stream operators on subqueries in FROM ------------------


def test_a_window_on_a_derived_stream(cur: pycql.Cursor) -> None:
    cur.execute("SELECT COUNT(*) FROM (ISTREAM(SELECT * FROM S [NOW] WHERE k = 1)) "
                "[RANGE UNBOUNDED] AS A")
    assert cur.fetchall() == [(3,)]
    # at the last instant (90000) a 60 s window holds the rows of 31000 (k = 1) only
    cur.execute("SELECT COUNT(*) FROM (ISTREAM(SELECT * FROM S [NOW] WHERE k = 1)) "
                "[RANGE 60 SECONDS] AS A")
    assert cur.fetchall() == [(1,)]


def test_an_rstream_subquery_without_a_window_is_a_stream(cur: pycql.Cursor) -> None:
    got = _bounded(cur, "SELECT * FROM (RSTREAM(SELECT k, v FROM S [NOW])) AS A WHERE v > 11")
    assert sorted(got) == [(1, 12), (1, 13), (1, 20)]


def test_a_window_on_a_relation_subquery_is_an_error(cur: pycql.Cursor) -> None:
    with pytest.raises(pycql.ProgrammingError) as info:
        cur.execute("SELECT COUNT(*) FROM (SELECT k FROM S [ROWS 2]) [RANGE 1 SECOND] AS A")
    assert (info.value.line, info.value.column) == (1, 49)


# -- 3. ORDER BY in views and subqueries ------------------------------------------------


def test_order_by_with_fetch_in_a_view_is_the_top_n_at_each_instant(cur: pycql.Cursor) -> None:
    cur.execute("CREATE VIEW Top2 AS SELECT k, v FROM S [RANGE UNBOUNDED] ORDER BY v DESC "
                "FETCH FIRST 2 ROWS ONLY")
    cur.execute("SELECT * FROM Top2")
    assert cur.fetchall() == [(1, 20), (1, 13)]
    # the top 2 of the last 30 s: at 90000 only fay
    cur.execute("SELECT * FROM (SELECT k, v FROM S [RANGE 30 SECONDS] ORDER BY v DESC LIMIT 2) "
                "AS T")
    assert cur.fetchall() == [(3, 5)]
    # its changes as a stream: each instant's entries into the top 2
    got = _bounded(cur, "SELECT ISTREAM(*) FROM Top2")
    assert Counter(got) == Counter([(1, 12), (1, 13), (1, 20)])


# -- 4. INTERVAL and BINARY columns -----------------------------------------------------

TYPED = ("CREATE STREAM {name} (a INTEGER, gap INTERVAL DAY TO SECOND, ym INTERVAL YEAR TO MONTH, "
         "b VARBINARY(4), fb BINARY(3)) WITH (format = '{fmt}'{topic})")
TYPED_ROWS = [
    (1, dt.timedelta(seconds=90), 14, b"\x00\xff", b"a"),
    (2, None, None, None, None),
    (3, dt.timedelta(days=-1, milliseconds=5), -3, b"", b"xyz"),
]
TYPED_BACK = [
    (1, dt.timedelta(seconds=90), 14, b"\x00\xff", b"a\x00\x00"),
    (2, None, None, None, None),
    (3, dt.timedelta(days=-1, milliseconds=5), -3, b"", b"xyz"),
    (4, dt.timedelta(days=1, hours=2, minutes=3, seconds=4, milliseconds=500), 14,
     b"\x01\x02", b"\xab\x00\x00"),
]
LITERAL_ROW = ("INSERT INTO {name} VALUES (4, INTERVAL '1 02:03:04.5' DAY TO SECOND, "
               "INTERVAL '1-2' YEAR TO MONTH, X'0102', X'AB')")


def _typed_round_trip(conn: pycql.Connection, fmt: str, name: str = "I", topic: str = "") -> None:
    c = conn.cursor()
    c.execute(TYPED.format(name=name, fmt=fmt, topic=topic))
    c.executemany(f"INSERT INTO {name} VALUES (?, ?, ?, ?, ?)", TYPED_ROWS)
    c.execute(LITERAL_ROW.format(name=name))
    back = list(TYPED_BACK)
    if fmt == "csv":  # an empty CSV field is NULL: so are empty bytes (base64 '')
        back[2] = (*back[2][:3], None, back[2][4])
    assert sorted(_bounded(c, f"SELECT * FROM {name}"), key=lambda r: r[0]) == back
    assert [d.type_code for d in c.description or ()] == [
        "INTEGER", "INTERVAL_DAY_SECOND", "INTERVAL_YEAR_MONTH", "VARBINARY", "BINARY"]
    got = _bounded(c, f"SELECT a, gap * 2, ym + INTERVAL '1' YEAR, b FROM {name} "
                      "WHERE gap > INTERVAL '1' MINUTE AND b <> X'00'")
    assert sorted(got) == [(1, dt.timedelta(seconds=180), 26, b"\x00\xff"),
                           (4, dt.timedelta(days=2, seconds=14769), 26, b"\x01\x02")]


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_interval_and_binary_columns_round_trip(fmt: str) -> None:
    with pycql.connect() as conn:
        _typed_round_trip(conn, fmt)


def test_the_json_encoding_of_intervals_and_bytes() -> None:
    from pycql.log.base import Record
    from pycql.log.formats import make_decoder, make_encoder

    columns = [{"name": "gap", "type": "INTERVAL_DAY_SECOND", "nullable": True},
               {"name": "ym", "type": "INTERVAL_YEAR_MONTH", "nullable": True},
               {"name": "b", "type": "VARBINARY", "precision": 4, "nullable": True}]
    assert make_encoder(columns, "json")([(90000, 14, b"\x00\xff")]) == [
        b'{"gap":90000,"ym":14,"b":"AP8="}']
    assert make_encoder(columns, "csv")([(90000, 14, b"\x00\xff")]) == [b"90000,14,AP8="]
    decode = make_decoder(columns, "json")
    good = Record("I", 0, 0, 5, None, b'{"gap": 1, "ym": -2, "b": "' +
                  base64.b64encode(b"abcd") + b'"}')
    long = Record("I", 0, 1, 5, None, b'{"b": "' + base64.b64encode(b"abcde") + b'"}')
    junk = Record("I", 0, 2, 5, None, b'{"b": "not base64!"}')
    rows, _, errors = decode([good, long, junk])
    assert rows == [(1, -2, b"abcd")]
    assert [reason for _, reason in errors] == [
        "column b: 5 bytes are longer than VARBINARY(4)",
        "column b: expected a VARBINARY as base64 text, got 'not base64!'"]


@pytest.mark.parametrize(("value", "fragment"), [
    (dt.timedelta(microseconds=1500), "whole milliseconds"),
    ("1 day", "pass a datetime.timedelta"),
    (999_999_999 * 86_400_000 + 1, "out of its range"),
])
def test_day_time_interval_parameters_are_checked(
        cur: pycql.Cursor, value: Any, fragment: str) -> None:
    cur.execute("CREATE STREAM J (gap INTERVAL DAY TO SECOND, ym INTERVAL MONTH, b BINARY(2))")
    with pytest.raises(pycql.DataError, match=fragment):
        cur.execute("INSERT INTO J (gap) VALUES (?)", (value,))


def test_year_month_and_binary_parameters_are_checked(cur: pycql.Cursor) -> None:
    cur.execute("CREATE STREAM J (ym INTERVAL YEAR TO MONTH, b BINARY(2))")
    with pytest.raises(pycql.DataError, match="int of months"):
        cur.execute("INSERT INTO J (ym) VALUES (?)", (1.5,))
    with pytest.raises(pycql.DataError, match="pass bytes"):
        cur.execute("INSERT INTO J (b) VALUES (?)", ("ab",))
    with pytest.raises(pycql.DataError, match=r"BINARY\(2\): 3 bytes"):
        cur.execute("INSERT INTO J (b) VALUES (?)", (b"abc",))


def test_interval_arithmetic_at_the_limits_is_a_data_error() -> None:
    with pycql.connect(on_error="fail") as conn:
        c = conn.cursor()
        c.execute("CREATE STREAM J (a INTEGER, gap INTERVAL DAY TO SECOND)")
        c.execute("INSERT INTO J VALUES (1, INTERVAL '999999999' DAY(9))")
        for sql in ("SELECT gap * a * 1000 FROM J", "SELECT gap + gap FROM J",
                    "SELECT TIMESTAMP '2026-01-01 00:00:00' + gap FROM J"):
            with pytest.raises(pycql.DataError):
                _bounded(c, sql)


def test_timestamp_difference_with_a_qualifier_is_an_interval(cur: pycql.Cursor) -> None:
    got = _bounded(cur, "SELECT (TIMESTAMP '2026-01-01 00:01:30' - TIMESTAMP '2026-01-01 "
                        "00:00:00') DAY TO SECOND FROM S WHERE k = 3")
    assert got == [(dt.timedelta(seconds=90),)]


@pytest.mark.kafka
@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_kafka_interval_and_binary_columns_round_trip(kafka_bootstrap: str, fmt: str) -> None:
    with pycql.connect(f"kafka://{kafka_bootstrap}") as conn:
        name = f"typed_{uuid.uuid4().hex[:8]}"
        _typed_round_trip(conn, fmt, name, f", topic = '{name}'")


@pytest.mark.kafka
def test_kafka_stream_union(kafka_bootstrap: str) -> None:
    name = f"su_{uuid.uuid4().hex[:8]}"
    with pycql.connect(f"kafka://{kafka_bootstrap}") as conn:
        c = _db(conn, name)
        got = _bounded(c, MERGE.replace(" S ", f" {name} "))
        assert Counter(got) == Counter({(1,): 3, (2,): 2})
