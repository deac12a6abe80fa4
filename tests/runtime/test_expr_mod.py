"""MOD by an integer literal is compiled inline; it must equal ``sql_mod``."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pycql.errors import DataError
from pycql.runtime.expr import compile_row
from pycql.runtime.functions import INTEGER_RANGES, sql_mod

from .plans import call, col, lit


@given(
    st.lists(st.one_of(st.none(), st.integers(-(2**70), 2**70)), max_size=20),
    st.integers(-1000, 1000).filter(bool),
    st.sampled_from(["INTEGER", "BIGINT"]),
)
def test_inline_mod_by_a_literal_equals_sql_mod(
    dividends: list[int | None], divisor: int, type_: str
) -> None:
    expr = call("MOD", col(0, type_), lit(divisor, type_), type_=type_)
    nested = call(
        "MOD",
        call("+", col(0, type_), lit(1, type_), type_=type_),
        lit(divisor, type_),
        type_=type_,
    )
    cols = [{"name": "A", "type": type_, "nullable": True}]
    fn, fn_nested = compile_row([expr], cols), compile_row([nested], cols)
    lo, hi = INTEGER_RANGES[type_]
    for a in dividends:
        assert fn((a,)) == (None if a is None else sql_mod(a, divisor),)
        if a is not None and not lo <= a + 1 <= hi:  # A + 1 overflows its type
            with pytest.raises(DataError, match=f"out of range for {type_}"):
                fn_nested((a,))
        else:
            assert fn_nested((a,)) == (None if a is None else sql_mod(a + 1, divisor),)


def test_mod_keeps_the_sign_of_the_dividend() -> None:
    fn = compile_row(
        [call("MOD", col(0), lit(-3), type_="INTEGER")],
        [{"name": "A", "type": "INTEGER", "nullable": False}],
    )
    assert [fn((a,))[0] for a in (7, -7, 6, -6, 0)] == [1, -1, 0, 0, 0]
    assert "_mod(" not in fn.source  # inline, no call per row


def test_mod_by_a_column_or_of_decimals_still_calls_sql_mod() -> None:
    cols = [{"name": "A", "type": "INTEGER", "nullable": True}] * 2
    by_column = compile_row([call("MOD", col(0), col(1), type_="INTEGER")], cols)
    assert "_mod(" in by_column.source
    assert by_column((-7, 3)) == (-1,)
