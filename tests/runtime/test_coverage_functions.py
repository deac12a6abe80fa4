"""Issue "SQL and CQL coverage", functions people reach for (Calcite's PostgreSQL, Oracle,
MySQL and BigQuery library functions) with their NULL semantics, TIMESTAMPDIFF and
TIMESTAMP - TIMESTAMP, end to end through the DB-API on the embedded log.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import Any

import pytest

import pycql
from pycql.errors import DataError, ProgrammingError
from pycql.runtime import functions as f


@pytest.fixture
def cur() -> Iterator[pycql.Cursor]:
    with pycql.connect() as conn:
        c = conn.cursor()
        c.execute("CREATE STREAM S (k INTEGER, v INTEGER, name VARCHAR(10), t TIMESTAMP, "
                  "ts BIGINT) WITH (timestamp = 'ts')")
        c.executemany("INSERT INTO S VALUES (?, ?, ?, ?, ?)", [
            (1, 12, "ann", "2026-01-01 00:00:00", 1000),
            (2, None, None, None, 2000),
            (3, 5, "fay", "2026-01-01 00:01:30", 3000)])
        yield c


def one(cur: pycql.Cursor, select: str, k: int = 3) -> tuple[Any, ...]:
    cur.execute(f"SELECT {select} FROM S WHERE k = {k}", start="earliest", stop="latest")
    rows = cur.fetchall()
    assert len(rows) == 1, rows
    return rows[0]


def test_concat_lpad_greatest(cur: pycql.Cursor) -> None:
    assert one(cur, "CONCAT(name, '!'), LPAD(name, 5, '*'), GREATEST(v, 15)") == \
        ("fay!", "**fay", 15)


@pytest.mark.parametrize(("expr", "want"), [
    ("CONCAT(name, '-', k, '-', name)", "fay-3-fay"),
    ("CONCAT_WS(', ', name, 'x', k)", "fay, x, 3"),
    ("LPAD(name, 2)", "fa"),
    ("LPAD(name, 7, 'xy')", "xyxyfay"),
    ("RPAD(name, 5)", "fay  "),
    ("RPAD(name, 6, '.')", "fay..."),
    ("LEFT(name, 2)", "fa"),
    ("LEFT(name, -1)", "fa"),
    ("RIGHT(name, 2)", "ay"),
    ("RIGHT(name, 10)", "fay"),
    ("GREATEST(v, 1, 3)", 5),
    ("LEAST(v, 1, 3)", 1),
    ("GREATEST(name, 'b')", "fay"),
    ("LEAST(CAST(v AS DOUBLE), 7.5)", 5.0),
    ("NVL(name, 'none')", "fay"),
    ("IFNULL(v, 0)", 5),
    ("NVL2(name, 'yes', 'no')", "yes"),
    ("LENGTH(name)", 3),
    ("INSTR(name, 'y')", 3),
    ("INSTR('banana', 'a', 3)", 4),
    ("INSTR('banana', 'a', 1, 3)", 6),
    ("INSTR('banana', 'a', -1, 2)", 4),
    ("INSTR(name, 'q')", 0),
    ("STRPOS(name, 'ay')", 2),
    ("POSITION('a' IN name)", 2),
    ("REGEXP_REPLACE(name, '[ay]', '_')", "f__"),
    ("REGEXP_REPLACE('banana', 'a(n?)', '<\\1>')", "b<n><n><>"),
    ("REGEXP_LIKE(name, '^f.y$')", True),
    ("SPLIT_PART('a,b,c', ',', 2)", "b"),
    ("SPLIT_PART('a,b,c', ',', -1)", "c"),
    ("SPLIT_PART('a,b,c', ',', 9)", ""),
    ("REPEAT(name, 2)", "fayfay"),
    ("REVERSE(name)", "yaf"),
    ("STARTS_WITH(name, 'fa')", True),
    ("ENDS_WITH(name, 'x')", False),
])
def test_library_function(cur: pycql.Cursor, expr: str, want: Any) -> None:
    assert one(cur, expr) == (want,)


@pytest.mark.parametrize(("expr", "want"), [
    # strict functions: NULL in, NULL out
    ("LPAD(name, 5, '*')", None), ("RPAD(name, 5)", None), ("LEFT(name, 1)", None),
    ("RIGHT(name, 1)", None), ("LENGTH(name)", None), ("INSTR(name, 'a')", None),
    ("REGEXP_REPLACE(name, 'a', 'b')", None), ("REGEXP_LIKE(name, 'a')", None),
    ("SPLIT_PART(name, ',', 1)", None), ("REPEAT(name, 2)", None), ("REVERSE(name)", None),
    # GREATEST/LEAST: NULL if any argument is (Oracle, MySQL; not PostgreSQL)
    ("GREATEST(v, 1)", None), ("LEAST(1, v, 3)", None),
    # CONCAT skips NULLs (PostgreSQL, Oracle; not MySQL); CONCAT_WS too, but not its separator
    ("CONCAT(name, 'x', v)", "x"), ("CONCAT_WS('-', 'a', name, 'b')", "a-b"),
    ("CONCAT_WS(name, 'a', 'b')", None),
    ("NVL(name, 'none')", "none"), ("IFNULL(v, 0)", 0), ("NVL2(name, 'yes', 'no')", "no"),
])
def test_null_semantics(cur: pycql.Cursor, expr: str, want: Any) -> None:
    assert one(cur, expr, k=2) == (want,)


def test_a_bad_regular_expression_is_a_failing_row() -> None:
    with pycql.connect(on_error="fail") as conn:
        c = conn.cursor()
        c.execute("CREATE STREAM S (name VARCHAR(10))")
        c.execute("INSERT INTO S VALUES ('fay')")
        with pytest.raises(DataError, match="regular expression"):
            c.execute("SELECT REGEXP_REPLACE(name, '(', 'x') FROM S",
                      start="earliest", stop="latest")
            c.fetchall()


@pytest.mark.parametrize(("expr", "want"), [
    ("REGEXP_REPLACE('banana', 'a', '_', 3)", "ban_n_"),
    ("REGEXP_REPLACE('banana', 'a', '_', 1, 2)", "ban_na"),
    ("REGEXP_REPLACE('banana', 'A', '_', 1, 0, 'i')", "b_n_n_"),
    ("REGEXP_REPLACE('banana', 'A', '_', 1, 0, 'c')", "banana"),
    ("REGEXP_REPLACE('banana', 'a', '_', 1, 9)", "banana"),
])
def test_regexp_replace_with_position_occurrence_and_options(
    cur: pycql.Cursor, expr: str, want: str
) -> None:
    assert one(cur, expr) == (want,)


def test_unknown_function_is_a_programming_error(cur: pycql.Cursor) -> None:
    with pytest.raises(ProgrammingError, match="No match found for function signature"):
        cur.execute("SELECT NO_SUCH_FN(name) FROM S")


@pytest.mark.parametrize(("unit", "a", "b", "want"), [
    ("SECOND", "2026-01-01 00:00:00", "2026-01-01 00:01:30", 90),
    ("SECOND", "2026-01-01 00:01:30", "2026-01-01 00:00:00", -90),
    ("MINUTE", "2026-01-01 00:00:00", "2026-01-01 00:01:30", 1),
    ("HOUR", "2026-01-01 00:00:00", "2026-01-02 03:00:00", 27),
    ("DAY", "2026-01-02 00:00:00", "2026-01-01 00:00:01", 0),
    ("WEEK", "2026-01-01 00:00:00", "2026-01-20 00:00:00", 2),
    ("MONTH", "2026-01-31 00:00:00", "2026-03-01 00:00:00", 1),
    ("YEAR", "2020-02-29 00:00:00", "2026-02-28 00:00:00", 5),
    # sub-second units count themselves (Calcite's convertlet counted whole seconds)
    ("MICROSECOND", "2026-01-01 00:00:00", "2026-01-01 00:00:01.5", 1500000),
    ("MILLISECOND", "2026-01-01 00:00:00", "2026-01-01 00:00:01.5", 1500),
    ("NANOSECOND", "2026-01-01 00:00:01.5", "2026-01-01 00:00:00", -1500000000),
])
def test_timestampdiff(cur: pycql.Cursor, unit: str, a: str, b: str, want: int) -> None:
    assert one(cur, f"TIMESTAMPDIFF({unit}, TIMESTAMP '{a}', TIMESTAMP '{b}')") == (want,)


def test_timestampdiff_of_columns_and_null(cur: pycql.Cursor) -> None:
    q = "TIMESTAMPDIFF(SECOND, TIMESTAMP '2026-01-01 00:00:00', t)"
    assert one(cur, q) == (90,)
    assert one(cur, q, k=2) == (None,)


def test_timestamp_minus_timestamp_is_an_interval(cur: pycql.Cursor) -> None:
    assert one(cur, "(t - TIMESTAMP '2026-01-01 00:00:00') SECOND, "
                    "(t - TIMESTAMP '2026-01-01 00:00:00') DAY TO SECOND") == \
        (datetime.timedelta(seconds=90), datetime.timedelta(seconds=90))


def test_bare_timestamp_minus_timestamp_says_what_to_write(cur: pycql.Cursor) -> None:
    with pytest.raises(ProgrammingError, match=r"needs a qualifier, \(t2 - t1\) DAY TO SECOND"):
        cur.execute("SELECT t - TIMESTAMP '2026-01-01 00:00:00' FROM S")


def test_timestampdiff_out_of_range_is_a_failing_row() -> None:
    with pycql.connect(on_error="fail") as conn:
        c = conn.cursor()
        c.execute("CREATE STREAM S (t TIMESTAMP)")
        c.execute("INSERT INTO S VALUES (TIMESTAMP '2026-01-01 00:00:00')")
        with pytest.raises(DataError):
            c.execute("SELECT TIMESTAMPDIFF(MICROSECOND, TIMESTAMP '2000-01-01 00:00:00', t) "
                      "FROM S", start="earliest", stop="latest")
            c.fetchall()


def test_helpers_directly() -> None:
    assert f.pad("ab", 0, left=True) == ""
    assert f.pad("ab", 4, "", left=True) == "ab"
    assert f.right("abc", -1) == "bc"
    assert f.instr("", "abc") == 1
    assert f.concat() == ""
    with pytest.raises(DataError):
        f.split_part("a,b", ",", 0)
    with pytest.raises(DataError):
        f.instr("a", "abc", 1, 0)
