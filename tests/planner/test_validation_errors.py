"""Errors the planner reports before anything runs, as users meet them through the driver.

Each is a PEP 249 exception (ProgrammingError, or NotSupportedError for what pycql does not
do), with the line and column of the construct where the text has one; never a Java trace.
The golden cases of ``golden/errors.txt`` check the messages and positions of many more.
"""

from __future__ import annotations

import decimal
from collections.abc import Iterator
from typing import Any

import orjson
import pytest

import pycql
from pycql.planner import analyze

MAX_LEVELS = 100  # io.pycql.planner.validate.ExpressionDepth.MAX_LEVELS, docs/cql.md


@pytest.fixture
def cur() -> Iterator[pycql.Cursor]:
    conn = pycql.connect()
    try:
        cursor = conn.cursor()
        cursor.execute("CREATE STREAM V (name VARCHAR(20), k INTEGER, ts BIGINT) "
                       "WITH (timestamp = 'ts')")
        cursor.execute("CREATE TABLE R (id INTEGER, city VARCHAR(20), PRIMARY KEY (id))")
        yield cursor
    finally:
        conn.close()


def _no_java(err: BaseException) -> None:
    text = str(err)
    assert "java." not in text and "org.apache" not in text and "Exception" not in text


def _depth(e: Any) -> int:
    """Levels of JSON nesting (objects and arrays)."""
    if isinstance(e, dict):
        return 1 + max((_depth(v) for v in e.values()), default=0)
    if isinstance(e, list):
        return 1 + max((_depth(v) for v in e), default=0)
    return 0


# -- 1. Unicode string literals -------------------------------------------------------
def test_unicode_literals_round_trip_through_a_query() -> None:
    with pycql.connect() as conn:
        cur = conn.cursor()
        cur.execute("CREATE STREAM T (name VARCHAR(20), ts BIGINT) WITH (timestamp='ts')")
        cur.executemany("INSERT INTO T VALUES (?, ?)",
                        [("東京", 1000), ("paris", 1000), ("😀 party", 1000)])
        cur.execute("SELECT name FROM T WHERE name = '東京'", start="earliest", stop="latest")
        assert cur.fetchall() == [("東京",)]
        cur.execute("SELECT name FROM T WHERE name LIKE '😀%' OR name = 'Zürich'",
                    start="earliest", stop="latest")
        assert cur.fetchall() == [("😀 party",)]
        cur.execute("INSERT INTO T VALUES ('大阪', 2000)")
        cur.execute("SELECT UPPER(name) FROM T WHERE name <> 'paris'",
                    start="earliest", stop="latest")
        assert sorted(cur.fetchall()) == [("大阪",), ("東京",), ("😀 PARTY",)]


# -- 2. type errors the planner can see -------------------------------------------------
@pytest.mark.parametrize(
    ("sql", "column", "start"),
    [
        ("SELECT * FROM V WHERE name > 5", 23, "Cannot apply '>' to arguments of type "
         "'<VARCHAR> > <INTEGER>'"),
        ("SELECT k + name FROM V", 8, "Cannot apply '+' to arguments of type "
         "'<INTEGER> + <VARCHAR(20)>'"),
        ("SELECT * FROM V WHERE name IN (1, 2)", 23, "Cannot apply 'IN'"),
        ("SELECT * FROM V [NOW] JOIN R ON V.k = R.city", 33, "Cannot apply '='"),
        ("INSERT INTO V (k) VALUES ('12')", 27, "Cannot assign a CHAR value to column 'k'"),
    ],
)
def test_strings_and_numbers_do_not_mix(cur: pycql.Cursor, sql: str, column: int,
                                        start: str) -> None:
    with pytest.raises(pycql.ProgrammingError) as info:
        cur.execute(sql)
    assert (info.value.line, info.value.column) == (1, column)
    assert info.value.message.startswith(start), info.value.message
    _no_java(info.value)


def test_coercions_that_cannot_fail_still_run(cur: pycql.Cursor) -> None:
    cur.executemany("INSERT INTO V VALUES (?, ?, ?)", [("a", 1, 1000), ("b", 2, 1000)])
    cur.execute("INSERT INTO V VALUES ('c', 3.0, 1000)")
    cur.execute(
        "SELECT name, k + 0.5, CASE WHEN k > 1 THEN 'big' ELSE 'low' END, "
        "CAST(k AS VARCHAR(5)) || name FROM V WHERE k > ? AND name <> ?",
        (1, "zz"), start="earliest", stop="latest",
    )
    assert sorted(cur.fetchall()) == [
        ("b", decimal.Decimal("2.5"), "big", "2b"),
        ("c", decimal.Decimal("3.5"), "big", "3c"),
    ]


# -- 3. deep expressions -------------------------------------------------------------
def test_a_3000_term_sum_is_too_deep(cur: pycql.Cursor) -> None:
    with pytest.raises(pycql.ProgrammingError) as info:
        cur.execute("SELECT " + " + ".join(["k"] * 3000) + " FROM V")
    assert info.value.message == f"expression is too deep: 3000 levels, at most {MAX_LEVELS}"
    assert (info.value.line, info.value.column) == (1, 8)
    _no_java(info.value)


def test_expressions_of_the_limit_plan_and_one_more_level_does_not(cur: pycql.Cursor) -> None:
    cur.execute("INSERT INTO V VALUES ('a', 1, 1000)")
    cur.execute("SELECT " + " + ".join(["k"] * MAX_LEVELS) + " FROM V",
                start="earliest", stop="latest")
    assert cur.fetchall() == [(MAX_LEVELS,)]
    with pytest.raises(pycql.ProgrammingError, match="101 levels, at most 100"):
        cur.execute("SELECT " + "ABS(" * MAX_LEVELS + "k" + ")" * MAX_LEVELS + " FROM V")


def test_a_2000_term_or_plans_flat_and_runs(cur: pycql.Cursor) -> None:
    condition = " OR ".join(f"k = {i}" for i in range(2000))
    catalog = {"streams": [{"name": "V", "topic": "V", "timestamp": None, "format": "json",
                            "columns": [{"name": "k", "type": "INTEGER", "nullable": True}]}]}
    plan = analyze("SELECT * FROM V WHERE " + condition, catalog)["plan"]
    assert _depth(plan) < 20
    (filter_op,) = [op for op in plan["operators"] if "condition" in op]
    assert filter_op["condition"]["op"] == "OR"
    assert len(filter_op["condition"]["operands"]) == 2000
    orjson.loads(orjson.dumps(plan))
    cur.executemany("INSERT INTO V VALUES (?, ?, ?)", [("a", 1999, 1000), ("b", 2000, 1000)])
    cur.execute("SELECT name FROM V WHERE " + condition, start="earliest", stop="latest")
    assert cur.fetchall() == [("a",)]


# -- 4. empty statements -------------------------------------------------------------
@pytest.mark.parametrize("sql", ["", "   ", "\n", "-- only a comment", "/* a comment */",
                                 ";", " ; -- c\n;"])
def test_an_empty_statement(cur: pycql.Cursor, sql: str) -> None:
    with pytest.raises(pycql.ProgrammingError) as info:
        cur.execute(sql)
    assert info.value.message == "empty statement: nothing to execute"
    assert info.value.line is None


# -- 5, 6. windows -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("window", "message"),
    [
        ("[RANGE 1 SECONDS SLIDE 0 SECONDS]", "SLIDE (0 SECONDS) must be greater than zero"),
        ("[RANGE 1 MINUTE SLIDE 2 MINUTES]", "SLIDE (2 MINUTES) must not exceed RANGE (1 MINUTE)"),
        ("[RANGE 0 SECONDS]", "RANGE (0 SECONDS) must be greater than zero"),
        ("[RANGE -3 SECONDS]", "RANGE (-3 SECONDS) must be greater than zero"),
        ("[ROWS 0]", "ROWS (0) must be at least 1"),
        ("[PARTITION BY k ROWS 0]", "ROWS (0) must be at least 1"),
        ("[ROWS 2 SLIDE 0]", "SLIDE (0) must be at least 1"),
        ("[ROWS 2 SLIDE 3]", "SLIDE (3) must not exceed ROWS (2)"),
        ("[PARTITION BY k ROWS 2 SLIDE 5]", "SLIDE (5) must not exceed ROWS (2)"),
        ("[SESSION 0 SECONDS]", "SESSION gap (0 SECONDS) must be greater than zero"),
        ("[PARTITION BY k SESSION -1 MINUTE]", "SESSION gap (-1 MINUTE) must be greater than zero"),
    ],
)
def test_window_bounds(cur: pycql.Cursor, window: str, message: str) -> None:
    sql = f"SELECT COUNT(*) FROM V {window}"
    with pytest.raises(pycql.ProgrammingError) as info:
        cur.execute(sql)
    assert info.value.message.startswith(message), info.value.message
    assert (info.value.line, info.value.column) == (1, 24)
    assert (info.value.end_line, info.value.end_column) == (1, 23 + len(window))


def test_tumbling_windows_are_valid(cur: pycql.Cursor) -> None:
    cur.executemany("INSERT INTO V VALUES (?, ?, ?)", [("a", 1, 1000), ("b", 2, 61_000)])
    cur.execute("SELECT COUNT(*) FROM V [RANGE 1 MINUTE SLIDE 1 MINUTE]")
    assert cur.fetchall() == [(1,)]


def test_a_window_on_a_table_is_shown_as_written(cur: pycql.Cursor) -> None:
    with pytest.raises(pycql.ProgrammingError) as info:
        cur.execute("SELECT * FROM R [RANGE 1 MINUTE]")
    assert info.value.message == "Window [RANGE 1 MINUTE] on table 'R': windows apply to " \
        "streams only"


# -- 7. NotSupportedError carries its position -----------------------------------------
@pytest.mark.parametrize(
    ("sql", "column"),
    [
        ("SELECT k FROM V WHERE k IN (SELECT ISTREAM(k) FROM V [NOW])", 36),
        ("SELECT k, LAG(k) OVER (ORDER BY k) FROM V [ROWS 3]", 11),
        ("UPDATE R SET city = 'x'", 1),
        ("INSERT INTO R SELECT * FROM R", 13),
    ],
)
def test_unsupported_sql_is_positioned(cur: pycql.Cursor, sql: str, column: int) -> None:
    with pytest.raises(pycql.NotSupportedError) as info:
        cur.execute(sql)
    assert (info.value.line, info.value.column) == (1, column)
    shown, caret = str(info.value).split("\n")[-2:]
    assert shown == sql and caret.startswith(" " * (column - 1) + "^")
    assert isinstance(info.value, pycql.DatabaseError)
    assert not isinstance(info.value, pycql.ProgrammingError)


def test_not_supported_error_without_a_position() -> None:
    err = pycql.NotSupportedError("no such thing")
    assert str(err) == "no such thing" and err.line is None


# -- 9. heartbeats ---------------------------------------------------------------------
def test_heartbeat_envelopes(cur: pycql.Cursor) -> None:
    catalog = {"streams": [{"name": "Clicks", "topic": "c", "timestamp": None,
                            "format": "json", "columns": [{"name": "a", "type": "INTEGER"}]}]}
    answer = analyze("ALTER STREAM clicks HEARTBEAT TIMESTAMP '2024-01-01 00:00:05'", catalog)
    assert answer == {
        "statement": "heartbeat",
        "target": "Clicks",
        "timestamp": {"kind": "literal", "value": 1704067205000, "type": "TIMESTAMP",
                      "nullable": False, "precision": 0},
    }
    answer = analyze("ALTER STREAM Clicks HEARTBEAT 1704067205000", catalog)
    assert answer["timestamp"]["value"] == 1704067205000
    assert answer["timestamp"]["type"] == "BIGINT"
    answer = analyze("ALTER STREAM Clicks HEARTBEAT ?", catalog)
    assert answer["timestamp"] == {"kind": "param", "index": 0, "type": "TIMESTAMP",
                                   "nullable": True, "precision": 3}


@pytest.mark.parametrize(
    ("sql", "column", "message"),
    [
        ("ALTER STREAM R HEARTBEAT 5", 14, "HEARTBEAT applies to streams; 'R' is a table"),
        ("ALTER STREAM Nope HEARTBEAT 5", 14, "Unknown stream 'Nope'"),
        ("ALTER STREAM V HEARTBEAT 'noon'", 26, "The HEARTBEAT timestamp must be a TIMESTAMP"),
    ],
)
def test_heartbeat_errors(cur: pycql.Cursor, sql: str, column: int, message: str) -> None:
    with pytest.raises(pycql.ProgrammingError) as info:
        cur.execute(sql)
    assert (info.value.line, info.value.column) == (1, column)
    assert info.value.message.startswith(message)


# -- 8. INSERT ROWTIME envelope ---------------------------------------------------------
def test_insert_envelope_has_one_timestamp_per_row() -> None:
    catalog = {"streams": [{"name": "S", "topic": "S", "timestamp": None, "format": "json",
                            "columns": [{"name": "a", "type": "INTEGER"},
                                        {"name": "b", "type": "INTEGER"}]}]}
    answer = analyze("INSERT INTO S (ROWTIME, a, b) VALUES "
                     "(TIMESTAMP '2024-01-01 00:00:00', 1, 2), (?, 3, ?)", catalog)
    assert answer["columns"] == ["a", "b"]
    assert [e["kind"] for e in answer["timestamps"]] == ["literal", "param"]
    assert answer["timestamps"][0]["value"] == 1704067200000
    assert answer["timestamps"][1]["index"] == 0
    assert answer["rows"][1][1]["operands"][0]["index"] == 1
    assert analyze("INSERT INTO S VALUES (1, 2)", catalog)["timestamps"] is None


# -- 10. CREATE STREAM options pass through --------------------------------------------
def test_time_options_pass_through_to_the_envelope() -> None:
    answer = analyze(
        "CREATE STREAM E (a INTEGER) WITH (lateness = '2 s', idle_timeout = '5 s', "
        "max_future = '1 h', idle_advance = 'wall_clock', topic = 'e')", {})
    assert answer["options"] == {"lateness": "2 s", "idle_timeout": "5 s", "max_future": "1 h",
                                 "idle_advance": "wall_clock", "topic": "e"}
