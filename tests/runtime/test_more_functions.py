"""Issue "SQL and CQL coverage", the second set of functions: format models (TO_CHAR,
TO_TIMESTAMP, TO_DATE), DATE_TRUNC, EXTRACT of every field (of intervals too), FLOOR/CEIL
of times, TRANSLATE, hashes, REGEXP_SUBSTR, ILIKE, the math functions, LISTAGG/STRING_AGG,
and the "did you mean" of an unknown function; end to end on the embedded log, expected
values computed by hand (or by hashlib/math for digests and trigonometry).
"""

from __future__ import annotations

import datetime
import hashlib
import math
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

import pycql
from pycql.errors import DataError, ProgrammingError


@pytest.fixture
def cur() -> Iterator[pycql.Cursor]:
    with pycql.connect(on_error="fail") as conn:
        c = conn.cursor()
        c.execute("CREATE STREAM S (k INTEGER, v INTEGER, name VARCHAR(10), t TIMESTAMP, "
                  "ts BIGINT) WITH (timestamp = 'ts')")
        c.executemany("INSERT INTO S VALUES (?, ?, ?, ?, ?)", [
            (1, 5, "fay", "2026-05-14 13:45:56.789", 1000),
            (2, None, None, None, 2000)])
        yield c


def one(cur: pycql.Cursor, select: str, k: int = 1) -> Any:
    cur.execute(f"SELECT {select} FROM S WHERE k = {k}", start="earliest", stop="latest")
    rows = cur.fetchall()
    assert len(rows) == 1, rows
    return rows[0][0]


TS = datetime.datetime


@pytest.mark.parametrize(("expr", "want"), [
    ("TO_CHAR(t, 'YYYY-MM-DD HH24:MI:SS')", "2026-05-14 13:45:56"),
    ("TO_CHAR(t, 'YYYY-MM-DD\"T\"HH24:MI:SS.MS')", "2026-05-14T13:45:56.789"),
    ("TO_CHAR(t, 'Dy, DD Mon YY HH12:MI AM')", "Thu, 14 May 26 01:45 PM"),
    ("TO_CHAR(t, 'DAY MONTH')", "THURSDAY MAY"),
    ("TO_CHAR(t, 'month q DDD FF3 FF6')", "may 2 134 789 789000"),
    ("TO_TIMESTAMP('2026-01-02 03:04:05', 'YYYY-MM-DD HH24:MI:SS')", TS(2026, 1, 2, 3, 4, 5)),
    ("TO_TIMESTAMP('02 Jan 2026 3:04 pm', 'DD Mon YYYY HH12:MI AM')", TS(2026, 1, 2, 15, 4)),
    ("TO_TIMESTAMP('12:00 AM 2026', 'HH:MI AM YYYY')", TS(2026, 1, 1, 0, 0)),
    ("TO_TIMESTAMP('2026-01-02 03:04:05.5', 'YYYY-MM-DD HH24:MI:SS.FF')",
     TS(2026, 1, 2, 3, 4, 5, 500000)),
    ("TO_DATE('14/05/2026', 'DD/MM/YYYY')", datetime.date(2026, 5, 14)),
    ("TO_DATE('2026-02-28 23:59', 'YYYY-MM-DD HH24:MI')", datetime.date(2026, 2, 28)),
])
def test_format_models(cur: pycql.Cursor, expr: str, want: Any) -> None:
    assert one(cur, expr) == want


@pytest.mark.parametrize(("expr", "message"), [
    ("TO_CHAR(t, 'YYYY-QQX')", "unsupported format element 'X'"),
    ("TO_CHAR(t, 'YYYY-WHAT')", "unsupported format element 'WHAT'"),
    ("TO_TIMESTAMP('2026-13-01', 'YYYY-MM-DD')", "no valid time"),
    ("TO_TIMESTAMP('2026/01/01', 'YYYY-MM-DD')", "does not match the format"),
    ("TO_DATE('2026-01-01', 'YYYY-MM-DD Q')", "cannot be parsed"),
    ("DATE_TRUNC('fortnight', t)", "unknown unit 'fortnight'"),
])
def test_format_errors_fail_the_row_naming_the_element(
    cur: pycql.Cursor, expr: str, message: str
) -> None:
    with pytest.raises(DataError, match=message):
        one(cur, expr)


@pytest.mark.parametrize("expr", [
    "TO_CHAR(t, 'YYYY')", "TO_TIMESTAMP(name, 'YYYY')", "TO_DATE(name, 'YYYY')",
    "DATE_TRUNC('day', t)", "TRANSLATE(name, 'a', 'b')", "MD5(name)", "SHA1(name)",
    "REGEXP_SUBSTR(name, 'a')", "SUBSTR(name, 2)", "LTRIM(name)", "ASCII(name)", "CHR(v)",
    "SPACE(v)", "SIN(v)", "ATAN2(v, 1)", "LAST_DAY(t)", "DAYNAME(t)", "TO_BASE64(name)",
    "EXTRACT(ISOYEAR FROM t)", "FLOOR(t TO DECADE)", "name ILIKE 'F%'",
])
def test_null_in_null_out(cur: pycql.Cursor, expr: str) -> None:
    assert one(cur, expr, k=2) is None


@pytest.mark.parametrize(("expr", "want"), [
    ("DATE_TRUNC('month', t)", TS(2026, 5, 1)),
    ("DATE_TRUNC('HOUR', t)", TS(2026, 5, 14, 13)),
    ("DATE_TRUNC('weeks', t)", TS(2026, 5, 11)),
    ("DATE_TRUNC('quarter', t)", TS(2026, 4, 1)),
    ("DATE_TRUNC('decade', t)", TS(2020, 1, 1)),
    ("DATE_TRUNC('century', t)", TS(2001, 1, 1)),
    ("DATE_TRUNC('millennium', t)", TS(2001, 1, 1)),
    ("DATE_TRUNC('second', t)", TS(2026, 5, 14, 13, 45, 56)),
    ("FLOOR(t TO DECADE)", TS(2020, 1, 1)),
    ("CEIL(t TO DECADE)", TS(2030, 1, 1)),
    ("FLOOR(t TO ISOYEAR)", TS(2025, 12, 29)),  # the Monday of ISO week 1 of 2026
    ("CEIL(t TO ISOYEAR)", TS(2027, 1, 4)),
    ("CEIL(t TO CENTURY)", TS(2101, 1, 1)),
    ("FLOOR(t TO WEEK)", TS(2026, 5, 11)),
    ("CEIL(t TO QUARTER)", TS(2026, 7, 1)),
    ("LAST_DAY(TIMESTAMP '2024-02-10 10:00:00')", datetime.date(2024, 2, 29)),
])
def test_truncating_times(cur: pycql.Cursor, expr: str, want: Any) -> None:
    assert one(cur, expr) == want


@pytest.mark.parametrize(("field", "want"), [
    ("YEAR", 2026), ("QUARTER", 2), ("MONTH", 5), ("WEEK", 20), ("DAY", 14), ("DOY", 134),
    ("DOW", 5), ("ISODOW", 4), ("ISOYEAR", 2026), ("HOUR", 13), ("MINUTE", 45),
    ("SECOND", 56), ("MILLISECOND", 56789), ("MICROSECOND", 56789000),
    ("NANOSECOND", 56789000000), ("EPOCH", 1778766356), ("DECADE", 202), ("CENTURY", 21),
    ("MILLENNIUM", 3),
])
def test_extract_of_every_field(cur: pycql.Cursor, field: str, want: int) -> None:
    assert one(cur, f"EXTRACT({field} FROM t)") == want


@pytest.mark.parametrize(("expr", "want"), [
    ("EXTRACT(DAY FROM INTERVAL '3 04:05:06.5' DAY TO SECOND)", 3),
    ("EXTRACT(HOUR FROM INTERVAL '3 04:05:06.5' DAY TO SECOND)", 4),
    ("EXTRACT(MINUTE FROM INTERVAL '3 04:05:06.5' DAY TO SECOND)", 5),
    ("EXTRACT(SECOND FROM INTERVAL '3 04:05:06.5' DAY TO SECOND)", 6),
    ("EXTRACT(MILLISECOND FROM INTERVAL '3 04:05:06.5' DAY TO SECOND)", 6500),
    ("EXTRACT(DAY FROM INTERVAL '-3 04:05:06' DAY TO SECOND)", -3),
    ("EXTRACT(YEAR FROM INTERVAL '3-2' YEAR TO MONTH)", 3),
    ("EXTRACT(MONTH FROM INTERVAL '3-2' YEAR TO MONTH)", 2),
    ("EXTRACT(MONTH FROM INTERVAL '-3-2' YEAR TO MONTH)", -2),
    ("EXTRACT(HOUR FROM TIME '10:11:12')", 10),
])
def test_extract_of_intervals(cur: pycql.Cursor, expr: str, want: int) -> None:
    assert one(cur, expr) == want


@pytest.mark.parametrize(("expr", "want"), [
    ("TRANSLATE(name, 'ay', 'AY')", "fAY"),
    ("TRANSLATE('banana', 'an', 'o')", "booo"),  # n has no counterpart: removed
    ("TRANSLATE(name, '', 'x')", "fay"),
    ("MD5(name)", hashlib.md5(b"fay").hexdigest()),
    ("SHA1(name)", hashlib.sha1(b"fay").hexdigest()),
    ("SHA256('東京')", hashlib.sha256("東京".encode()).hexdigest()),
    ("REGEXP_SUBSTR('banana', 'an')", "an"),
    ("REGEXP_SUBSTR('banana', 'n(a)', 1, 2)", "a"),
    ("REGEXP_SUBSTR('banana', 'an', 3)", "an"),
    ("REGEXP_SUBSTR('banana', 'x')", None),
    ("SUBSTR(name, 2, 1)", "a"),
    ("LTRIM('  a ')", "a "), ("RTRIM('  a ')", "  a"),
    ("CHR(65)", "A"), ("ASCII(name)", 102), ("ASCII('')", 0), ("SPACE(3)", "   "),
    ("SPACE(-1)", ""), ("TO_BASE64(name)", "ZmF5"),
    ("DAYNAME(t)", "Thursday"), ("MONTHNAME(t)", "May"),
    ("DECODE(v, 5, 'five', 'other')", "five"), ("IF(v > 9, 'big', 'small')", "small"),
    ("name ILIKE 'F_Y'", True), ("name NOT ILIKE '%A%'", False),
    ("REPLACE(name, '', 'x')", "fay"),
])
def test_string_functions(cur: pycql.Cursor, expr: str, want: Any) -> None:
    assert one(cur, expr) == want


@pytest.mark.parametrize(("expr", "want"), [
    ("SIN(v)", math.sin(5)), ("COS(v)", math.cos(5)), ("TAN(v)", math.tan(5)),
    ("ASIN(0.5)", math.asin(0.5)), ("ATAN2(v, 2)", math.atan2(5, 2)),
    ("COT(v)", 1 / math.tan(5)), ("DEGREES(PI)", 180.0), ("RADIANS(180)", math.pi),
    ("CBRT(-27)", -3.0), ("LOG2(8)", 3.0), ("SINH(1)", math.sinh(1)),
])
def test_math_functions(cur: pycql.Cursor, expr: str, want: float) -> None:
    assert one(cur, expr) == pytest.approx(want)


@pytest.mark.parametrize(("expr", "message"), [
    ("ASIN(v)", "ASIN\\(5\\) is undefined"), ("LOG2(0)", "logarithm"), ("CHR(0)", "CHR"),
    ("REGEXP_SUBSTR('aa', '(a)(a)')", "more than one group"),
])
def test_math_and_string_domain_errors(cur: pycql.Cursor, expr: str, message: str) -> None:
    with pytest.raises(DataError, match=message):
        one(cur, expr)


@pytest.mark.parametrize(("call", "suggestion"), [
    ("FOO(v)", "did you mean FLOOR?"),
    ("LPADD(name, 3)", "did you mean LPAD?"),
    ("SUBSTRNG(name, 1)", "did you mean SUBSTRING?"),
    ("TO_CHARS(t, 'YYYY')", "did you mean TO_CHAR?"),
])
def test_a_misspelled_function_names_close_matches(
    cur: pycql.Cursor, call: str, suggestion: str
) -> None:
    with pytest.raises(ProgrammingError, match="No match found for function signature") as e:
        cur.execute(f"SELECT {call} FROM S")
    assert suggestion in str(e.value)
    assert e.value.column == 8  # type: ignore[attr-defined]


def test_a_name_far_from_every_function_gets_no_suggestion(cur: pycql.Cursor) -> None:
    with pytest.raises(ProgrammingError) as e:
        cur.execute("SELECT XYZZYQ(v) FROM S")
    assert "did you mean" not in str(e.value)


@pytest.fixture
def agg() -> Iterator[pycql.Cursor]:
    with pycql.connect(on_error="fail") as conn:
        c = conn.cursor()
        c.execute("CREATE STREAM S (k INTEGER, v INTEGER, name VARCHAR(10), ts BIGINT) "
                  "WITH (timestamp = 'ts')")
        c.executemany("INSERT INTO S VALUES (?, ?, ?, ?)", [
            (1, 3, "ann", 1000), (1, 1, "bob", 2000), (2, 2, "cy", 3000),
            (1, 2, None, 4000), (1, 5, "ann", 5000), (2, None, "dee", 6000)])
        yield c


def rows(c: pycql.Cursor, q: str) -> list[tuple[Any, ...]]:
    c.execute(q, start="earliest", stop="latest")
    return c.fetchall()


@pytest.mark.parametrize(("q", "want"), [
    ("SELECT k, STRING_AGG(name, ',' ORDER BY v DESC) FROM S [RANGE UNBOUNDED] GROUP BY k",
     {(1, "ann,ann,bob"), (2, "dee,cy")}),  # DESC puts NULLs first
    ("SELECT k, LISTAGG(name) FROM S [RANGE UNBOUNDED] GROUP BY k",
     {(1, "ann,ann,bob"), (2, "cy,dee")}),  # no ORDER BY: by value; ',' by default
    ("SELECT LISTAGG(DISTINCT name, '; ') WITHIN GROUP (ORDER BY name DESC) "
     "FROM S [RANGE UNBOUNDED]", {("dee; cy; bob; ann",)}),
    ("SELECT k, LISTAGG(name, '|') FILTER (WHERE v > 1) FROM S [RANGE UNBOUNDED] GROUP BY k",
     {(1, "ann|ann"), (2, "cy")}),
    ("SELECT k, LISTAGG(name, '|') FROM S [RANGE UNBOUNDED] WHERE name IS NULL GROUP BY k",
     {(1, None)}),  # only NULLs: NULL
])
def test_listagg(agg: pycql.Cursor, q: str, want: set[tuple[Any, ...]]) -> None:
    assert set(rows(agg, q)) == want


def test_listagg_is_maintained_under_deletes(agg: pycql.Cursor) -> None:
    got = rows(agg, "SELECT RSTREAM(LISTAGG(name, '-') WITHIN GROUP (ORDER BY v)) "
               "FROM S [ROWS 2]")
    # the two newest rows at each instant, by v (NULLs last), NULL names skipped
    assert [r[0] for r in got] == ["ann", "bob-ann", "bob-cy", "cy", "ann", "ann-dee"]


@pytest.mark.parametrize(("q", "want"), [
    # rows (k, v): (1, 3) (1, 1) (2, 2) (1, 2) (1, 5) (2, NULL)
    ("SELECT k, v, COUNT(*), SUM(v), GROUPING(k), GROUPING(k, v) FROM S [RANGE UNBOUNDED] "
     "GROUP BY ROLLUP(k, v)",
     {(1, 1, 1, 1, 0, 0), (1, 2, 1, 2, 0, 0), (1, 3, 1, 3, 0, 0), (1, 5, 1, 5, 0, 0),
      (2, 2, 1, 2, 0, 0), (2, None, 1, None, 0, 0),
      (1, None, 4, 11, 0, 1), (2, None, 2, 2, 0, 1), (None, None, 6, 13, 1, 3)}),
    ("SELECT k, COUNT(*) FROM S [RANGE UNBOUNDED] GROUP BY GROUPING SETS ((k), ())",
     {(1, 4), (2, 2), (None, 6)}),
    ("SELECT k, name, GROUPING_ID(k, name), GROUP_ID() FROM S [RANGE UNBOUNDED] "
     "WHERE k = 2 GROUP BY CUBE(k, name)",
     {(2, "cy", 0, 0), (2, "dee", 0, 0), (2, None, 1, 0), (None, "cy", 2, 0),
      (None, "dee", 2, 0), (None, None, 3, 0)}),
    # the empty set has its row over no rows
    ("SELECT k, COUNT(*) FROM S [RANGE UNBOUNDED] WHERE k > 9 GROUP BY ROLLUP(k)",
     {(None, 0)}),
])
def test_grouping_sets(agg: pycql.Cursor, q: str, want: set[tuple[Any, ...]]) -> None:
    assert set(rows(agg, q)) == want


def test_rollup_is_maintained_under_deletes(agg: pycql.Cursor) -> None:
    got = rows(agg, "SELECT RSTREAM(k, COUNT(*), GROUPING(k)) FROM S [ROWS 2] "
               "GROUP BY ROLLUP(k)")
    # the relation at each of the 6 instants (the two newest rows of k):
    # {1}: (1,1,0) (N,1,1); {1,1}: (1,2,0) (N,2,1); {1,2}: (1,1,0) (2,1,0) (N,2,1);
    # {2,1}: the same; {1,1}: (1,2,0) (N,2,1); {1,2}: (1,1,0) (2,1,0) (N,2,1)
    assert Counter(got) == Counter({(1, 1, 0): 4, (None, 1, 1): 1, (1, 2, 0): 2,
                                    (None, 2, 1): 5, (2, 1, 0): 3})
