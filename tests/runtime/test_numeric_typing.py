"""Issue "SQL and CQL coverage", wrong answers and crashes: REAL against decimal literals,
approximate meeting exact numerics, AVG of integers, CHAR padding of literals, REPLACE with
an empty pattern, the precedence of the comma against JOIN, and failing rows (division by
zero, LN(0)) that go to the dead letters, end to end through the DB-API on the embedded log,
plus the planner's and the expression compiler's side of each.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import orjson
import pytest

import pycql
from pycql.planner import analyze
from pycql.runtime.expr import compile_row

from .plans import call, col, lit

ROWS = [
    (1, 12, 0.2, 1.5, Decimal("1.25"), "ann", 1000),
    (1, 13, 0.5, 2.5, Decimal("2.50"), "bob", 2000),
    (2, 10, 0.2, 3.0, Decimal("0"), "cy", 3000),
    (2, 11, 4.0, 0.5, Decimal("3"), "dee", 30000),
    (1, 20, 1.0, 1.0, Decimal("1"), "eve", 31000),
    (3, 5, 2.0, 2.0, Decimal("2"), "fay", 90000),
]


@pytest.fixture
def cur() -> Iterator[pycql.Cursor]:
    with pycql.connect() as conn:
        c = conn.cursor()
        c.execute("CREATE STREAM S (k INTEGER, v INTEGER, r REAL, d DOUBLE, m DECIMAL(5, 2), "
                  "name VARCHAR(10), ts BIGINT) WITH (timestamp = 'ts')")
        c.executemany("INSERT INTO S VALUES (?, ?, ?, ?, ?, ?, ?)", ROWS)
        yield c


def bounded(cur: pycql.Cursor, sql: str) -> list[tuple[Any, ...]]:
    cur.execute(sql, start="earliest", stop="latest")
    return cur.fetchall()


def snapshot(cur: pycql.Cursor, sql: str) -> list[tuple[Any, ...]]:
    cur.execute(sql)
    return cur.fetchall()


CATALOG = {"streams": [{"name": "S", "topic": "S", "columns": [
    {"name": "K", "type": "INTEGER"}, {"name": "V", "type": "INTEGER"},
    {"name": "R", "type": "REAL"}, {"name": "D", "type": "DOUBLE"},
    {"name": "N", "type": "VARCHAR", "precision": 10}]}]}


def plan_text(sql: str) -> str:
    return orjson.dumps(analyze(sql, CATALOG)["plan"]).decode()


# --- 1. REAL against decimal literals ---------------------------------------------------


def test_a_real_value_equals_the_literal_it_was_written_as(cur: pycql.Cursor) -> None:
    assert sorted(bounded(cur, "SELECT k FROM S WHERE r = 0.2")) == [(1,), (2,)]
    assert sorted(bounded(cur, "SELECT k FROM S WHERE r <> 0.2")) == [(1,), (1,), (2,), (3,)]
    assert len(bounded(cur, "SELECT k FROM S WHERE r BETWEEN 0.14 AND 4")) == 6
    assert sorted(bounded(cur, "SELECT k FROM S WHERE r IN (0.2, 4.0)")) == [(1,), (2,), (2,)]
    assert sorted(bounded(cur, "SELECT k FROM S WHERE r = CAST(0.2 AS REAL)")) == [(1,), (2,)]


def test_a_real_literal_and_a_cast_to_real_are_the_double_of_their_decimal_text(
    cur: pycql.Cursor,
) -> None:
    got = bounded(cur, "SELECT CAST(0.2 AS REAL), CAST('0.2' AS REAL), "
                       "CAST(0.123456789 AS REAL), CAST(1 AS REAL) FROM S WHERE k = 3")
    assert got == [(0.2, 0.2, 0.123456789, 1.0)]
    assert all(type(x) is float for x in got[0])


def test_a_real_written_by_insert_values_is_the_double_of_its_literal() -> None:
    with pycql.connect() as conn:
        c = conn.cursor()
        c.execute("CREATE STREAM F (k INTEGER, r REAL, f FLOAT)")
        c.execute("INSERT INTO F VALUES (1, 0.2, 0.2), (2, CAST(0.2 AS REAL), 4)")
        c.execute("INSERT INTO F (k, r) VALUES (3, 0.2)")
        got = bounded(c, "SELECT k, r, f, r + 1.5, r = 0.2 FROM F")
        assert got == [(1, 0.2, 0.2, 1.7, True), (2, 0.2, 4.0, 1.7, True),
                       (3, 0.2, None, 1.7, True)]


def test_the_plan_holds_a_real_literal_as_written_not_rounded_through_a_float() -> None:
    text = plan_text("SELECT ISTREAM(K, CAST(0.2 AS REAL)) FROM S [NOW] WHERE R = 0.2")
    assert "0.20000000298" not in text
    assert '"value":0.2,"type":"REAL"' in text


# --- 2. approximate meets exact ---------------------------------------------------------


def test_arithmetic_and_comparisons_of_approximate_and_exact_numbers(cur: pycql.Cursor) -> None:
    assert sorted(x[0] for x in bounded(cur, "SELECT d + 1.5 FROM S")) == \
        [2.0, 2.5, 3.0, 3.5, 4.0, 4.5]
    got = bounded(cur, "SELECT r + 1.5, r * m, d - m, m / d, 1.5 + d, r + m + 1.5 + v "
                       "FROM S WHERE k = 1 AND v = 12")
    assert got == [(pytest.approx(1.7), pytest.approx(0.25), pytest.approx(0.25),
                    pytest.approx(1.25 / 1.5), 3.0, pytest.approx(14.95))]
    assert all(type(x) is float for x in got[0])
    assert sorted(bounded(cur, "SELECT k FROM S WHERE r > m")) == [(2,), (2,)]
    assert sorted(bounded(cur, "SELECT k FROM S WHERE d BETWEEN m AND 2.5")) == \
        [(1,), (1,), (1,), (3,)]


def test_an_aggregate_of_decimals_meets_a_decimal_literal(cur: pycql.Cursor) -> None:
    got = snapshot(cur, "SELECT AVG(m) + 1.5, SUM(d) + 1.5, SUM(r) * 1.5 FROM S "
                        "[RANGE UNBOUNDED]")
    assert got == [(pytest.approx(9.75 / 6 + 1.5), 12.0, pytest.approx(7.9 * 1.5))]


def test_the_compiler_converts_operands_to_the_family_of_the_result() -> None:
    cols = [{"name": "D", "type": "DOUBLE"}, {"name": "M", "type": "DECIMAL"}]
    to_float = call("+", col(0, "DOUBLE"), col(1, "DECIMAL"), type_="DOUBLE")
    to_decimal = call("+", col(1, "DECIMAL"), col(0, "DOUBLE"), type_="DECIMAL")
    fn = compile_row([to_float, to_decimal], cols)
    assert fn((0.1, Decimal("1.5"))) == (1.6, Decimal("1.6"))
    compare = call("<", col(0, "DOUBLE"), col(1, "DECIMAL"), type_="BOOLEAN")
    assert compile_row([compare], cols)((0.1, Decimal("1.5"))) == (True,)


# --- 3. AVG of integers -------------------------------------------------------------------


def test_avg_of_integers_keeps_the_fraction(cur: pycql.Cursor) -> None:
    got = snapshot(cur, "SELECT AVG(v) FROM S [RANGE UNBOUNDED] WHERE k = 1 AND v < 20")
    assert got == [(12.5,)]
    got = snapshot(cur, "SELECT k, AVG(v), AVG(m) FROM S [RANGE UNBOUNDED] GROUP BY k")
    assert sorted(got) == [(1, 15.0, pytest.approx(4.75 / 3)), (2, 10.5, 1.5), (3, 5.0, 2.0)]
    assert all(type(x) is float for row in got for x in row[1:])


def test_avg_of_an_exact_type_is_a_double_in_the_plan() -> None:
    plan = analyze("SELECT ISTREAM(K, AVG(V)) FROM S [NOW] GROUP BY K", CATALOG)["plan"]
    assert plan["result"]["columns"][1]["type"] == "DOUBLE"


# --- 4. literals of different lengths --------------------------------------------------


def test_case_literals_of_different_lengths_are_varchar_not_padded(cur: pycql.Cursor) -> None:
    got = bounded(cur, "SELECT CASE WHEN v > 10 THEN 'hi' ELSE 'lowest' END FROM S WHERE k = 2")
    assert sorted(got) == [("hi",), ("lowest",)]
    got = bounded(cur, "SELECT CASE v WHEN 10 THEN 'ten' WHEN 11 THEN 'eleven' END "
                       "FROM S WHERE k = 2")
    assert sorted(got) == [("eleven",), ("ten",)]
    got = bounded(cur, "SELECT COALESCE(CASE WHEN k = 3 THEN 'x' END, 'none') FROM S "
                       "WHERE k > 1")
    assert sorted(got) == [("none",), ("none",), ("x",)]
    plan = analyze("SELECT ISTREAM(CASE WHEN K > 1 THEN 'a' ELSE 'bcd' END) FROM S [NOW]",
                   CATALOG)["plan"]
    assert plan["result"]["columns"][0]["type"] == "VARCHAR"


# --- 5. REPLACE ---------------------------------------------------------------------------


def test_replace_with_an_empty_pattern_returns_the_string(cur: pycql.Cursor) -> None:
    got = bounded(cur, "SELECT REPLACE(name, '', 'x'), REPLACE(name, 'a', ''), "
                       "REPLACE(name, 'fa', 'ja') FROM S WHERE k = 3")
    assert got == [("fay", "fy", "jay")]
    s = {"name": "S", "type": "VARCHAR"}
    fn = compile_row([call("REPLACE", col(0, "VARCHAR"), lit(""), lit("-"),
                           type_="VARCHAR")], [s])
    assert fn(("abc",)) == ("abc",) and fn(("",)) == ("",)


# --- 6. join precedence -------------------------------------------------------------------


def test_the_comma_binds_looser_than_join() -> None:
    with pycql.connect() as conn:
        c = conn.cursor()
        for t in "ABCD":
            c.execute(f"CREATE TABLE {t} (x INTEGER, PRIMARY KEY (x))")
        c.execute("INSERT INTO A VALUES (1)")
        c.execute("INSERT INTO D VALUES (1)")
        c.execute("SELECT A.x, B.x, C.x, D.x FROM A LEFT JOIN B ON A.x = B.x, "
                  "C RIGHT JOIN D ON C.x = D.x")
        assert c.fetchall() == [(1, None, None, 1)]
        # a JOIN after a comma joins only the table after the comma: its ON cannot see A
        with pytest.raises(pycql.ProgrammingError):
            c.execute("SELECT * FROM A, B JOIN C ON A.x = C.x")
        c.execute("INSERT INTO B VALUES (1)")
        c.execute("INSERT INTO C VALUES (1)")
        c.execute("SELECT A.x, B.x, C.x FROM A, B JOIN C ON B.x = C.x")
        assert c.fetchall() == [(1, 1, 1)]
        c.execute("SELECT A.x, D.x FROM A, B, C, D")
        assert c.fetchall() == [(1, 1)]


def test_comma_and_join_in_a_plan_with_windows() -> None:
    sql = ("SELECT ISTREAM(*) FROM S [ROWS 3] AS A LEFT JOIN S [ROWS 3] AS B ON A.K = B.K, "
           "S [ROWS 3] AS C RIGHT JOIN S [ROWS 5] AS D ON C.K = D.K")
    plan = analyze(sql, CATALOG)["plan"]
    ops = {op["id"]: op for op in plan["operators"]}
    joins = [op for op in ops.values() if op["op"] == "join"]
    assert len(joins) == 3
    top = max(joins, key=lambda op: op["id"])
    # (A LEFT JOIN B), (C RIGHT JOIN D): an inner (comma) join of the two outer joins
    assert top["join_type"] == "inner"
    assert sorted(ops[i]["join_type"] for i in top["inputs"]) == ["left", "right"]


# --- 7. failing rows go to the dead letters ----------------------------------------------


@pytest.mark.parametrize("expr", [
    "v / (k - 1)", "LN(k - 1)", "d / (k - 1)", "m / (k - 1)", "MOD(v, k - 1)",
    "LN(d - d)", "LOG10(k - 1)", "1 / 0", "LN(0)", "1.5 / 0",
])
def test_a_division_by_zero_or_ln_of_zero_is_a_dead_letter(cur: pycql.Cursor,
                                                          expr: str) -> None:
    got = bounded(cur, f"SELECT k, {expr} FROM S")
    constant = "k" not in expr and "d" not in expr
    assert sorted(r[0] for r in got) == ([] if constant or "d - d" in expr else [2, 2, 3])
    assert cur.metrics.expression_errors == 6 - len(got)
    with cur.connection.database.log.reader(["S.dead-letters"]) as reader:
        kept = [orjson.loads(r.value) for r in reader.poll(100, 0.1)]
    assert len(kept) == 6 - len(got)
    assert all("division by zero" in k["reason"] or "logarithm" in k["reason"] for k in kept)


def test_failing_rows_under_an_aggregate_and_a_filter(cur: pycql.Cursor) -> None:
    assert snapshot(cur, "SELECT SUM(v / (k - 1)), COUNT(*) FROM S [RANGE UNBOUNDED]") == \
        [(23, 3)]
    assert sorted(bounded(cur, "SELECT k FROM S WHERE LN(k - 1) >= 0")) == [(2,), (2,), (3,)]
    got = snapshot(cur, "SELECT k, SUM(v) / (k - 1) FROM S [RANGE UNBOUNDED] GROUP BY k")
    assert sorted(got) == [(2, 21), (3, 2)]


def test_fail_mode_ends_the_query_with_a_data_error() -> None:
    with pycql.connect(on_error="fail") as conn:
        c = conn.cursor()
        c.execute("CREATE STREAM T (a DOUBLE, ts BIGINT) WITH (timestamp = 'ts')")
        c.executemany("INSERT INTO T VALUES (?, ?)", [(1.0, 1), (0.0, 2)])
        with pytest.raises(pycql.DataError, match="logarithm"):
            c.execute("SELECT LN(a) FROM T", start="earliest", stop="latest")
            c.fetchall()
    assert math.log(1.0) == 0.0
