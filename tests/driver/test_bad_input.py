"""Bad input found by the statement fuzzer (tests/fuzz) gives pycql's own errors."""

from __future__ import annotations

import pytest

import pycql


@pytest.fixture
def cur() -> pycql.Cursor:
    cur = pycql.connect().cursor()
    cur.execute("CREATE STREAM T (a INTEGER, b BIGINT, s VARCHAR(5))")
    cur.execute("INSERT INTO T VALUES (1, 2, 'x')")
    return cur


def test_a_parameter_the_planner_folded_away_still_takes_its_value(cur: pycql.Cursor) -> None:
    cur.execute("INSERT INTO T VALUES (COALESCE(1, ?), ?, ?)", (9, 3, "y"))
    cur.execute("INSERT INTO T VALUES (?, CASE WHEN FALSE THEN CAST(? AS BIGINT) END, ?)",
                (4, 5, "z"))
    cur.execute("SELECT a, b, s FROM T", start="earliest", stop="latest")
    assert sorted(cur.fetchall()) == [(1, 2, "x"), (1, 3, "y"), (4, None, "z")]
    with pytest.raises(pycql.ProgrammingError, match="3 parameter"):
        cur.execute("INSERT INTO T VALUES (COALESCE(1, ?), ?, ?)", (9, 3))


def test_bytes_that_are_not_utf8_for_a_varchar_parameter(cur: pycql.Cursor) -> None:
    with pytest.raises(pycql.DataError, match="not UTF-8"):
        cur.execute("SELECT a FROM T WHERE s = ?", (b"\xff",), start="earliest", stop="latest")
    cur.execute("SELECT a FROM T WHERE s = ?", (b"x",), start="earliest", stop="latest")
    assert cur.fetchall() == [(1,)]


def test_a_timestamp_beyond_year_9999_is_a_data_error(cur: pycql.Cursor) -> None:
    with pytest.raises(pycql.DataError, match="9999"):
        cur.execute("SELECT CEIL(TIMESTAMP '9999-12-31 23:59:59.999' TO SECOND) FROM T [ROWS 1]")
        cur.fetchall()
