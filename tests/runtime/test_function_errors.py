"""SQL functions and operators fail with :class:`DataError` and a SQL-level message, never
with a Python exception outside pycql's hierarchy (OverflowError, ValueError, ...)."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from pycql.errors import DataError
from pycql.runtime import functions as f
from pycql.runtime.expr import compile_row

from .plans import Expr, call, col, lit

COLS = [{"name": n, "type": t, "nullable": True, **extra} for n, t, extra in [
    ("I", "INTEGER", {}), ("BIG", "BIGINT", {}), ("X", "DOUBLE", {}), ("S", "VARCHAR", {}),
    ("M", "DECIMAL", {"precision": 10, "scale": 2}), ("T", "TIMESTAMP", {}), ("D", "DATE", {}),
]]
INT, BIG, X, S, M, T, D = (col(i, c["type"]) for i, c in enumerate(COLS))


def ms(text: str) -> int:
    moment = dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)
    return int((moment - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)).total_seconds() * 1000)


def evaluate(expr: Expr, **values: Any) -> Any:
    row = tuple(values.get(c["name"]) for c in COLS)
    return compile_row([expr], COLS)(row)[0]


def fails(expr: Expr, message: str, **values: Any) -> None:
    with pytest.raises(DataError, match=message):
        evaluate(expr, **values)


def dec(value: str) -> Expr:
    return {"kind": "literal", "value": value, "type": "DECIMAL", "precision": 10, "scale": 2}


DAY = {"kind": "literal", "value": 86_400_000, "type": "INTERVAL_DAY_SECOND"}
MONTH = {"kind": "literal", "value": 1, "type": "INTERVAL_YEAR_MONTH"}
LAST_SECOND = ms("9999-12-31T23:59:59")
FIRST_DAY = ms("0001-01-01T00:00:00")


# --- dates and times ------------------------------------------------------------------


def test_timestamp_plus_interval_past_the_year_9999() -> None:
    plus = call("+", lit(LAST_SECOND, "TIMESTAMP"), DAY, type_="TIMESTAMP")
    fails(plus, r"TIMESTAMP out of range \(years 1 to 9999\)")
    assert evaluate(call("+", T, DAY, type_="TIMESTAMP"), T=LAST_SECOND - 86_400_000) == \
        LAST_SECOND
    fails(call("+", T, DAY, type_="TIMESTAMP"), "TIMESTAMP out of range", T=LAST_SECOND)
    fails(call("+", DAY, T, type_="TIMESTAMP"), "TIMESTAMP out of range", T=LAST_SECOND)
    fails(call("DATETIME_PLUS", T, DAY, type_="TIMESTAMP"), "out of range", T=LAST_SECOND)


def test_date_minus_interval_before_the_year_1() -> None:
    minus = call("-", lit(FIRST_DAY, "DATE"), DAY, type_="DATE")
    fails(minus, r"DATE out of range \(years 1 to 9999\)")
    fails(call("-", D, DAY, type_="DATE"), "DATE out of range", D=FIRST_DAY)
    assert evaluate(call("-", D, DAY, type_="DATE"), D=FIRST_DAY + 86_400_000) == FIRST_DAY


def test_year_month_intervals_past_the_range() -> None:
    fails(call("+", T, MONTH, type_="TIMESTAMP"), "TIMESTAMP out of range", T=LAST_SECOND)
    fails(call("-", D, MONTH, type_="DATE"), "TIMESTAMP out of range", D=FIRST_DAY)
    assert evaluate(call("+", D, MONTH, type_="DATE"), D=ms("2024-01-31T00:00:00")) == \
        ms("2024-02-29T00:00:00")


def test_temporal_functions_of_values_out_of_range() -> None:
    huge = 10**17
    fails(call("EXTRACT", lit("YEAR", "SYMBOL"), T, type_="BIGINT"), "out of range", T=huge)
    fails(call("CAST", T, type_="VARCHAR"), "out of range", T=huge)
    fails(call("FLOOR", T, lit("MONTH", "SYMBOL"), type_="TIMESTAMP"), "out of range", T=huge)
    fails(call("CAST", BIG, type_="TIMESTAMP"), "TIMESTAMP out of range", BIG=huge)
    fails(call("CAST", X, type_="DATE"), "cannot cast inf to DATE", X=float("inf"))
    fails(call("CAST", S, type_="TIMESTAMP"), "cannot cast", S="10000-01-01 00:00:00")


def test_dates_before_the_year_1000_are_written_with_four_digits() -> None:
    text = call("CAST", D, type_="VARCHAR")
    assert evaluate(text, D=FIRST_DAY) == "0001-01-01"
    stamp = call("CAST", T, type_="VARCHAR")
    assert evaluate(stamp, T=ms("0999-05-06T07:08:09")) == "0999-05-06 07:08:09"


# --- numbers --------------------------------------------------------------------------


def test_logarithms_and_roots_outside_their_domain() -> None:
    fails(call("LN", lit(0), type_="DOUBLE"), r"logarithm of 0 \(LN needs a positive")
    fails(call("LN", INT, type_="DOUBLE"), "logarithm of -3", I=-3)
    fails(call("LN", M, type_="DOUBLE"), "logarithm of -0.5", M=Decimal("-0.5"))
    fails(call("LOG10", X, type_="DOUBLE"), "logarithm of 0.0", X=0.0)
    fails(call("SQRT", INT, type_="DOUBLE"), "square root of -1", I=-1)
    fails(call("SQRT", X, type_="DOUBLE"), "square root of -2.5", X=-2.5)


def test_power_and_exp_overflow() -> None:
    fails(call("POWER", X, lit(400), type_="DOUBLE"), r"POWER\(10.0, 400\) is out of the range",
          X=10.0)
    fails(call("POWER", lit(0), lit(-1), type_="DOUBLE"), r"POWER\(0, -1\) is undefined")
    fails(call("POWER", X, lit(0.5, "DOUBLE"), type_="DOUBLE"), "undefined", X=-8.0)
    fails(call("EXP", X, type_="DOUBLE"), r"EXP\(1000.0\) is out of the range", X=1000.0)
    assert evaluate(call("POWER", INT, lit(2), type_="DOUBLE"), I=3) == 9.0


@pytest.mark.parametrize("divisor,dividend", [
    (col(0), lit(7)),
    (col(4, "DECIMAL"), dec("7.5")),
    (col(2, "DOUBLE"), lit(7.5, "DOUBLE")),
])
def test_division_by_zero(divisor: Expr, dividend: Expr) -> None:
    zero = {"I": 0, "M": Decimal("0.00"), "X": 0.0}
    integer = divisor["type"] == "INTEGER"
    div = call("/", dividend, divisor, type_=divisor["type"], integer_division=integer)
    fails(div, "^division by zero$", **zero)
    fails(call("MOD", dividend, divisor, type_=divisor["type"]), "^division by zero$", **zero)


def test_mod_by_a_literal_zero() -> None:
    fails(call("MOD", INT, lit(0), type_="INTEGER"), "division by zero", I=5)


def test_mod_keeps_decimals_and_takes_the_sign_of_the_dividend() -> None:
    assert evaluate(call("MOD", M, lit(2), type_="DECIMAL"), M=Decimal("-7.50")) == \
        Decimal("-1.50")
    assert evaluate(call("MOD", X, lit(2), type_="DOUBLE"), X=-7.5) == -1.5
    fails(call("MOD", X, lit(2), type_="DOUBLE"), r"MOD\(inf, 2\) is undefined",
          X=float("inf"))


def test_integer_division_too_large_for_a_double() -> None:
    fails(call("/", BIG, lit(3), type_="DOUBLE"), "out of the range of DOUBLE", BIG=10**400)


@pytest.mark.parametrize("target,lo,hi", [
    ("TINYINT", -128, 127), ("SMALLINT", -32768, 32767),
    ("INTEGER", -(2**31), 2**31 - 1), ("BIGINT", -(2**63), 2**63 - 1),
])
def test_casts_to_integer_types_out_of_range(target: str, lo: int, hi: int) -> None:
    from_big = call("CAST", BIG, type_=target)
    assert evaluate(from_big, BIG=hi) == hi and evaluate(from_big, BIG=lo) == lo
    if target != "BIGINT":  # a BIGINT is in BIGINT's range
        fails(from_big, rf"value {hi + 1} is out of range for {target} \({lo} to {hi}\)",
              BIG=hi + 1)
        fails(from_big, f"out of range for {target}", BIG=lo - 1)
    from_double = call("CAST", X, type_=target)
    if hi < 2**53:  # exact as a double
        assert evaluate(from_double, X=hi + 0.5) == hi  # truncates, then checks
    fails(from_double, f"out of range for {target}", X=float(hi) * 4)
    fails(call("CAST", M, type_=target), f"out of range for {target}",
          M=Decimal(hi) * 4 + Decimal("0.5"))
    fails(call("CAST", S, type_=target), f"out of range for {target}", S=str(lo * 4))


def test_widening_integer_casts_check_nothing() -> None:
    widen = call("CAST", INT, type_="BIGINT")
    assert "_int_range" not in compile_row([widen], COLS).source
    assert "_int_range" in compile_row([call("CAST", BIG, type_="INTEGER")], COLS).source


def test_casts_of_text_that_is_not_a_number() -> None:
    fails(call("CAST", S, type_="INTEGER"), "cannot cast 'ann' to INTEGER", S="ann")
    fails(call("CAST", S, type_="INTEGER"), "cannot cast 'NaN' to INTEGER", S="NaN")
    fails(call("CAST", S, type_="BIGINT"), "cannot cast 'inf' to BIGINT", S="inf")
    fails(call("CAST", S, type_="DOUBLE"), "cannot cast 'x' to DOUBLE", S="x")
    fails(call("CAST", S, type_="DECIMAL"), "cannot cast 'nan' to DECIMAL", S="nan")
    fails(call("CAST", X, type_="INTEGER"), "cannot cast nan to INTEGER", X=float("nan"))
    fails(call("CAST", BIG, type_="DOUBLE"), "out of the range of DOUBLE", BIG=10**400)


def test_k_plus_name_where_name_is_not_a_number() -> None:
    """The planner's ``k + CAST(name AS INTEGER)`` for ``k + name``."""
    plus = call("+", INT, call("CAST", S, type_="INTEGER"), type_="INTEGER")
    assert evaluate(plus, I=1, S=" 41 ") == 42
    fails(plus, "cannot cast 'ann' to INTEGER", I=1, S="ann")


def test_casts_to_decimal_out_of_its_precision() -> None:
    to_3_1 = {**call("CAST", INT, type_="DECIMAL"), "precision": 3, "scale": 1}
    assert evaluate(to_3_1, I=99) == Decimal("99.0")
    fails(to_3_1, r"value 100 is out of range for DECIMAL\(3, 1\)", I=100)
    fails({**call("CAST", X, type_="DECIMAL"), "precision": 3, "scale": 1},
          "out of range for DECIMAL", X=99.96)
    big = {**call("CAST", X, type_="DECIMAL"), "precision": 40, "scale": 2}
    assert evaluate(big, X=1e30) == Decimal("1000000000000000000000000000000.00")


def test_rounding_and_floors_of_extreme_values() -> None:
    assert evaluate(call("ROUND", X, lit(2), type_="DOUBLE"), X=1e30) == 1e30
    assert evaluate(call("ROUND", X, type_="DOUBLE"), X=float("inf")) == float("inf")
    assert evaluate(call("ROUND", M, lit(2), type_="DECIMAL"),
                    M=Decimal("123456789012345678901234567.891")) == \
        Decimal("123456789012345678901234567.89")
    assert evaluate(call("TRUNCATE", X, lit(-2), type_="DOUBLE"), X=-1299.0) == -1200.0
    fails(call("FLOOR", X, type_="BIGINT"), "cannot take FLOOR of inf", X=float("inf"))
    fails(call("CEIL", X, type_="BIGINT"), "cannot take CEIL of nan", X=float("nan"))
    assert evaluate(call("FLOOR", X, type_="DOUBLE"), X=float("-inf")) == float("-inf")


def test_decimal_and_double_operands_meet_as_doubles() -> None:
    assert evaluate(call("+", M, X, type_="DOUBLE"), M=Decimal("1.50"), X=2.25) == 3.75
    assert evaluate(call("/", M, X, type_="DOUBLE"), M=Decimal("1.50"), X=0.5) == 3.0
    assert evaluate(call("*", X, M, type_="DOUBLE"), M=Decimal("2"), X=0.5) == 1.0
    assert evaluate(call("-", call("+", M, X, type_="DOUBLE"), M, type_="DOUBLE"),
                    M=Decimal("1"), X=0.5) == 0.5


def test_similar_to_a_pattern_that_is_not_a_regular_expression() -> None:
    pattern = call("SIMILAR TO", S, col(3, "VARCHAR"))
    cols = COLS
    fn = compile_row([pattern], cols)
    with pytest.raises(DataError, match="invalid SIMILAR TO pattern"):
        fn((None, None, None, "(", None, None, None))


# --- every helper, every awkward value ------------------------------------------------

AWKWARD: list[Any] = [
    0, 1, -1, 7, 2**63, -(2**64), 10**400, 0.0, -0.0, 0.5, -2.5, 1e308, -1e308,
    float("inf"), float("-inf"), float("nan"), Decimal("0"), Decimal("-0.5"), Decimal("1e30"),
    Decimal("123456789012345678901234567.891"),
    "", "ann", "12", " 3.5 ", "nan", "inf", "-1e400", "1e400", "2024-02-30", "9999-12-31",
]

NUMERIC: list[tuple[str, Callable[..., Any], int]] = [
    ("int_divide", f.int_divide, 2), ("sql_mod", f.sql_mod, 2), ("sql_divide", f.sql_divide, 2),
    ("sql_round", f.sql_round, 2), ("sql_truncate", f.sql_truncate, 2),
    ("sql_floor", lambda x: f.sql_floor(x, True), 1),
    ("sql_ceil", lambda x: f.sql_ceil(x, False), 1),
    ("sql_ln", f.sql_ln, 1), ("sql_log10", f.sql_log10, 1), ("sql_sqrt", f.sql_sqrt, 1),
    ("sql_exp", f.sql_exp, 1), ("sql_power", f.sql_power, 2), ("sql_sign", f.sql_sign, 1),
    ("cast_to_integer", f.cast_to_integer, 1),
    ("cast_to_tinyint", lambda x: f.cast_to_integer(x, "TINYINT"), 1),
    ("cast_to_float", f.cast_to_float, 1),
    ("cast_to_decimal", lambda x: f.cast_to_decimal(x, 2, 10), 1),
    ("cast_to_boolean", f.cast_to_boolean, 1),
    ("cast_to_date", lambda x: f.cast_to_temporal(x, "date", "other"), 1),
    ("cast_to_timestamp", lambda x: f.cast_to_temporal(x, "timestamp", "other"), 1),
    ("cast_to_time", lambda x: f.cast_to_temporal(x, "time", "other"), 1),
]
TEMPORAL: list[tuple[str, Callable[..., Any]]] = [
    ("add_months", lambda t, n: f.add_months(t, n)),
    ("months_between", lambda a, b: f.months_between(a, b)),
    ("extract", lambda t, _: f.extract("DOW", t)),
    ("floor_time", lambda t, _: f.floor_time(t, "YEAR")),
    ("ceil_time", lambda t, _: f.ceil_time(t, "QUARTER")),
    ("format_temporal", lambda t, _: f.format_temporal(t, "timestamp")),
    ("cast_to_string", lambda t, _: f.cast_to_string(t, "date", None, False)),
]
TIMES = [0, -1, LAST_SECOND, FIRST_DAY, LAST_SECOND + 1, FIRST_DAY - 1, 10**17, -(10**17)]


def _only_data_errors(fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
    try:
        fn(*args)
    except DataError:
        pass
    except TypeError:
        # a value of a type the function never gets (the planner types operands): fine,
        # and a row error all the same; but never for two numbers
        if all(isinstance(a, int | float | Decimal) for a in args):
            raise
    except Exception as exc:
        raise AssertionError(f"{fn}{args!r} raised {exc!r}") from exc


@pytest.mark.parametrize("name,fn,arity", NUMERIC, ids=[n for n, _, _ in NUMERIC])
def test_numeric_helpers_raise_only_data_errors(name: str, fn: Callable[..., Any],
                                                arity: int) -> None:
    small = [a for a in AWKWARD if not isinstance(a, str)] if arity == 2 else AWKWARD
    for args in itertools.product(small, repeat=arity):
        if name in ("sql_round", "sql_truncate") and not isinstance(args[1], int):
            continue  # the digits are an INTEGER
        if name in ("sql_round", "sql_truncate") and abs(args[1]) > 100:
            continue
        if name == "int_divide" and not all(type(a) is int for a in args):
            continue  # integer division is of two integers
        _only_data_errors(fn, args)


@pytest.mark.parametrize("name,fn", TEMPORAL, ids=[n for n, _ in TEMPORAL])
def test_temporal_helpers_raise_only_data_errors(name: str, fn: Callable[..., Any]) -> None:
    for t, n in itertools.product(TIMES, [0, 1, -1, 120_000, -120_000, *TIMES]):
        _only_data_errors(fn, (t, n))


# --- integer and interval arithmetic overflow -----------------------------------------


def test_integer_arithmetic_out_of_its_type() -> None:
    top = 2**63 - 1
    fails(call("*", BIG, lit(2, "BIGINT"), type_="BIGINT"),
          rf"value {2 * top} is out of range for BIGINT", BIG=top)
    fails(call("+", INT, lit(1), type_="INTEGER"), "out of range for INTEGER", I=2**31 - 1)
    fails(call("-", BIG, type_="BIGINT"), "out of range for BIGINT", BIG=-(2**63))
    fails(call("/", BIG, lit(-1, "BIGINT"), type_="BIGINT", integer_division=True),
          "out of range for BIGINT", BIG=-(2**63))
    assert evaluate(call("+", INT, lit(1), type_="BIGINT"), I=2**31 - 1) == 2**31


def test_a_chain_is_checked_at_its_end_like_twos_complement() -> None:
    """``A + 1 - 1`` of A = INTEGER's maximum is A: no error, as wrapping arithmetic."""
    chain = call("-", call("+", INT, lit(1), type_="INTEGER"), lit(1), type_="INTEGER")
    assert evaluate(chain, I=2**31 - 1) == 2**31 - 1
    assert evaluate(chain, I=None) is None


def test_interval_arithmetic_out_of_range() -> None:
    big = call("*", DAY, call("*", BIG, lit(-2, "BIGINT"), type_="BIGINT"),
               type_="INTERVAL_DAY_SECOND")
    fails(big, "out of range for BIGINT", BIG=-(2**63))
    days = call("*", DAY, BIG, type_="INTERVAL_DAY_SECOND")
    fails(days, r"interval of .* ms is out of range \(at most 999999999 days\)", BIG=10**9)
    assert evaluate(days, BIG=999_999_999) == 999_999_999 * 86_400_000
    months = call("*", MONTH, BIG, type_="INTERVAL_YEAR_MONTH")
    fails(months, "interval of .* months is out of range", BIG=2**40)
