"""The expression compiler: SQL NULL logic, arithmetic, functions, params."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from pycql.errors import DataError, NotSupportedError
from pycql.runtime.expr import compile_batch, compile_row, evaluate_constant

from .plans import call, col, lit, param

COLS = [{"name": n, "type": t, "nullable": True} for n, t in
        [("A", "INTEGER"), ("B", "INTEGER"), ("S", "VARCHAR"), ("D", "DOUBLE"),
         ("P", "BOOLEAN"), ("Q", "BOOLEAN")]]


def value(expr: dict[str, Any], row: tuple[Any, ...], params: tuple[Any, ...] = ()) -> Any:
    return compile_row([expr], COLS, params)(row)[0]


def keeps(cond: dict[str, Any], row: tuple[Any, ...]) -> bool:
    return bool(compile_batch(cond, None, COLS)([row]))


P, Q = col(4, "BOOLEAN"), col(5, "BOOLEAN")
T, F, N = True, False, None


@pytest.mark.parametrize(
    ("p", "q", "and_", "or_"),
    [(T, T, T, T), (T, F, F, T), (T, N, N, T), (F, N, F, N), (N, N, N, N), (F, F, F, F),
     (N, T, N, T), (N, F, F, N)],
)
def test_three_valued_and_or(p: Any, q: Any, and_: Any, or_: Any) -> None:
    row = (0, 0, "", 0.0, p, q)
    assert value(call("AND", P, Q), row) is and_
    assert value(call("OR", P, Q), row) is or_
    # a condition keeps a row only when TRUE
    assert keeps(call("AND", P, Q), row) is (and_ is True)
    assert keeps(call("OR", P, Q), row) is (or_ is True)
    # NOT of UNKNOWN is UNKNOWN: the row is dropped both ways
    assert keeps(call("NOT", call("AND", P, Q)), row) is (and_ is False)
    assert value(call("NOT", call("OR", P, Q)), row) is (None if or_ is None else not or_)


def test_comparison_with_null_is_unknown() -> None:
    gt = call(">", col(0), lit(5))
    assert value(gt, (None, 0, "", 0.0, T, T)) is None
    assert not keeps(gt, (None, 0, "", 0.0, T, T))
    assert not keeps(call("NOT", gt), (None, 0, "", 0.0, T, T))
    assert keeps(call("NOT", gt), (3, 0, "", 0.0, T, T))
    assert value(call("=", col(0), lit(None)), (1, 0, "", 0.0, T, T)) is None
    assert value(call("IS NULL", col(0)), (None, 0, "", 0.0, T, T)) is True
    assert value(call("IS NOT NULL", col(0)), (None, 0, "", 0.0, T, T)) is False
    assert value(call("IS NOT TRUE", call(">", col(0), lit(5))),
                 (None, 0, "", 0.0, T, T)) is True
    assert value(call("IS DISTINCT FROM", col(0), col(1)), (None, None, "", 0.0, T, T)) is False
    assert value(call("IS DISTINCT FROM", col(0), col(1)), (1, None, "", 0.0, T, T)) is True


def test_and_short_circuits_division_by_zero() -> None:
    # b <> 0 AND a / b > 1: the division never runs for b = 0
    cond = call("AND", call("<>", col(1), lit(0)),
                call(">", call("/", col(0), col(1), type_="INTEGER"), lit(1)))
    assert keeps(cond, (10, 0, "", 0.0, T, T)) is False
    assert value(cond, (10, 0, "", 0.0, T, T)) is False
    assert keeps(cond, (10, 3, "", 0.0, T, T)) is True


@pytest.mark.parametrize(("a", "b", "q", "m"),
                         [(7, 2, 3, 1), (-7, 2, -3, -1), (7, -2, -3, 1), (-7, -2, 3, -1),
                          (6, 3, 2, 0)])
def test_integer_division_truncates_towards_zero(a: int, b: int, q: int, m: int) -> None:
    row = (a, b, "", 0.0, T, T)
    assert value(call("/", col(0), col(1), type_="INTEGER"), row) == q
    assert value(call("MOD", col(0), col(1), type_="INTEGER"), row) == m


def test_division_by_zero_is_a_data_error() -> None:
    with pytest.raises(DataError):
        value(call("/", col(0), col(1), type_="INTEGER"), (1, 0, "", 0.0, T, T))


def test_double_division_is_true_division() -> None:
    e = call("/", col(3, "DOUBLE"), lit(2), type_="DOUBLE")
    assert value(e, (0, 0, "", 7.0, T, T)) == 3.5


def test_arithmetic_null_propagation() -> None:
    e = call("+", call("*", col(0), lit(2), type_="INTEGER"), col(1), type_="INTEGER")
    assert value(e, (3, 4, "", 0.0, T, T)) == 10
    assert value(e, (None, 4, "", 0.0, T, T)) is None
    assert value(e, (3, None, "", 0.0, T, T)) is None
    assert value(call("-", col(0), type_="INTEGER", sqlkind="MINUS_PREFIX"),
                 (3, 0, "", 0.0, T, T)) == -3


def test_case_coalesce_nullif() -> None:
    e = call("CASE", call(">", col(0), lit(10)), lit("big", "VARCHAR"),
             call("IS NULL", col(0)), lit("none", "VARCHAR"), lit("small", "VARCHAR"),
             type_="VARCHAR")
    assert value(e, (11, 0, "", 0.0, T, T)) == "big"
    assert value(e, (None, 0, "", 0.0, T, T)) == "none"
    assert value(e, (1, 0, "", 0.0, T, T)) == "small"
    c = call("COALESCE", col(0), col(1), lit(-1), type_="INTEGER")
    assert value(c, (None, None, "", 0.0, T, T)) == -1
    assert value(c, (None, 5, "", 0.0, T, T)) == 5
    assert value(c, (0, 5, "", 0.0, T, T)) == 0
    n = call("NULLIF", col(0), col(1), type_="INTEGER")
    assert value(n, (3, 3, "", 0.0, T, T)) is None
    assert value(n, (3, 4, "", 0.0, T, T)) == 3


@pytest.mark.parametrize(("s", "pattern", "expected"),
                         [("abc", "a%", True), ("abc", "a_c", True), ("abc", "a_", False),
                          ("a%c", "a\\%c", True), ("abc", "a\\%c", False), ("", "%", True),
                          ("x.y", "x.y", True), ("xzy", "x.y", False)])
def test_like(s: str, pattern: str, expected: bool) -> None:
    e = call("LIKE", col(2, "VARCHAR"), lit(pattern, "VARCHAR"), lit("\\", "VARCHAR"))
    assert value(e, (0, 0, s, 0.0, T, T)) is expected
    dynamic = call("LIKE", col(2, "VARCHAR"), param(0, "VARCHAR"), lit("\\", "VARCHAR"))
    assert compile_batch(dynamic, None, COLS, (pattern,))([(0, 0, s, 0.0, T, T)]) == (
        [(0, 0, s, 0.0, T, T)] if expected else [])
    assert value(call("LIKE", col(2, "VARCHAR"), lit("%", "VARCHAR")),
                 (0, 0, None, 0.0, T, T)) is None


def test_casts() -> None:
    assert value(call("CAST", col(3, "DOUBLE"), type_="INTEGER"), (0, 0, "", -2.7, T, T)) == -2
    assert value(call("CAST", col(2, "VARCHAR"), type_="INTEGER"), (0, 0, " 42 ", 0.0, T, T)) == 42
    assert value(call("CAST", col(0), type_="VARCHAR"), (42, 0, "", 0.0, T, T)) == "42"
    assert value(call("CAST", col(0), type_="CHAR", precision=4), (42, 0, "", 0.0, T, T)) == "42  "
    assert value(call("CAST", col(0), type_="DOUBLE"), (None, 0, "", 0.0, T, T)) is None
    assert value(call("CAST", col(2, "VARCHAR"), type_="DECIMAL", precision=10, scale=2),
                 (0, 0, "1.005", 0.0, T, T)) == Decimal("1.01")
    assert value(call("CAST", col(2, "VARCHAR"), type_="BOOLEAN"),
                 (0, 0, "true", 0.0, T, T)) is True
    assert value(call("CAST", col(2, "VARCHAR"), type_="TIMESTAMP"),
                 (0, 0, "1970-01-02 00:00:01", 0.0, T, T)) == 86_401_000
    with pytest.raises(DataError):
        value(call("CAST", col(2, "VARCHAR"), type_="INTEGER"), (0, 0, "x1", 0.0, T, T))


def test_string_and_math_functions() -> None:
    s = col(2, "VARCHAR")
    row = (0, 0, "  Hello ", -2.5, T, T)
    assert value(call("UPPER", s, type_="VARCHAR"), row) == "  HELLO "
    assert value(call("CHAR_LENGTH", s, type_="INTEGER"), row) == 8
    assert value(call("TRIM", lit("BOTH", "SYMBOL"), lit(" ", "CHAR"), s, type_="VARCHAR"),
                 row) == "Hello"
    assert value(call("SUBSTRING", s, lit(3), lit(2), type_="VARCHAR"), row) == "He"
    assert value(call("||", s, lit("!", "CHAR"), type_="VARCHAR"), row) == "  Hello !"
    assert value(call("POSITION", lit("l", "CHAR"), s, type_="INTEGER"), row) == 5
    d = col(3, "DOUBLE")
    assert value(call("ABS", d, type_="DOUBLE"), row) == 2.5
    assert value(call("ROUND", d, type_="DOUBLE"), row) == -3.0  # half away from zero
    assert value(call("FLOOR", d, type_="DOUBLE"), row) == -3.0
    assert value(call("CEIL", d, type_="DOUBLE"), row) == -2.0
    assert value(call("POWER", lit(2), lit(10), type_="DOUBLE"), row) == 1024.0
    assert value(call("SQRT", lit(16.0, "DOUBLE"), type_="DOUBLE"), row) == 4.0


def test_time_functions() -> None:
    ts = lit(951_782_400_000 + 3_723_000, "TIMESTAMP")  # 2000-02-29 01:02:03 UTC
    assert value(call("EXTRACT", lit("YEAR", "SYMBOL"), ts, type_="BIGINT"), ()) == 2000
    assert value(call("EXTRACT", lit("MINUTE", "SYMBOL"), ts, type_="BIGINT"), ()) == 2
    assert value(call("FLOOR", ts, lit("HOUR", "SYMBOL"), type_="TIMESTAMP"), ()) == (
        951_782_400_000 + 3_600_000)
    plus_year = call("+", lit(951_782_400_000, "DATE"), lit(12, "INTERVAL_YEAR_MONTH"),
                     type_="DATE")
    assert value(plus_year, ()) == 983_318_400_000  # 2001-02-28 (clamped)
    plus_sec = call("+", ts, lit(1000, "INTERVAL_DAY_SECOND"), type_="TIMESTAMP")
    assert value(plus_sec, ()) == 951_782_400_000 + 3_724_000


def test_params_are_bound_at_compile_time() -> None:
    fn = compile_batch(call(">", col(0), param(0)), [col(0)], COLS, (5,))
    assert "_k" in fn.source and ">" in fn.source
    assert fn([(4, 0, "", 0.0, T, T), (6, 0, "", 0.0, T, T)]) == [(6,)]
    assert evaluate_constant(call("+", param(0), lit(1), type_="INTEGER"), (41,)) == 42


def test_batch_is_one_comprehension_over_counted_pairs() -> None:
    fn = compile_batch(call("=", col(2, "VARCHAR"), lit("x", "VARCHAR")),
                       [col(1), call("*", col(0), lit(2), type_="INTEGER")], COLS, counted=True)
    assert fn.source.count("for r, c in rows") == 1
    rows = [((1, 2, "x", 0.0, T, T), 3), ((5, 6, "y", 0.0, T, T), 1),
            ((7, 8, "x", 0.0, T, T), -1)]
    assert fn(rows) == [((2, 2), 3), ((8, 14), -1)]


def test_unknown_function_is_rejected_at_compile_time() -> None:
    with pytest.raises(NotSupportedError, match="FROBNICATE"):
        compile_row([call("FROBNICATE", col(0), type_="INTEGER")], COLS)
