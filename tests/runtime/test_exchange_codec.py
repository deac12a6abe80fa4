"""The batch encoders and decoder of exchange records against one orjson call per row."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from pycql.log.formats import key_bytes
from pycql.runtime.exchange_codec import decode_changes, encode_changes, encode_keys
from pycql.runtime.state import json_default

#: values a row may hold, with the texts that could be taken for row boundaries
_TRICKY = st.sampled_from(["],[", ",", "[1],[2]", "]", "[", '"', "\\", "", "é"])
VALUE = st.one_of(
    st.integers(-(2**63), 2**63 - 1), st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=6), _TRICKY, st.none(), st.booleans(),
    st.decimals(allow_nan=False, allow_infinity=False, places=2),
    st.lists(st.integers(0, 3), max_size=2),
)


@st.composite
def batches(draw: st.DrawFn) -> tuple[list[int], list[tuple[Any, ...]]]:
    width = draw(st.integers(0, 4))
    rows = draw(st.lists(st.tuples(*[VALUE] * width), max_size=12))
    signs = draw(st.lists(st.sampled_from([1, -1]), min_size=len(rows), max_size=len(rows)))
    return signs, rows


@settings(max_examples=400, deadline=None)
@given(batches())
def test_encode_changes_equals_one_dumps_per_row(batch: tuple[list[int], list[Any]]) -> None:
    signs, rows = batch
    assert encode_changes(signs, rows) == [
        orjson.dumps((s, *r), default=json_default) for s, r in zip(signs, rows, strict=True)]


@settings(max_examples=400, deadline=None)
@given(batches(), st.data())
def test_encode_keys_equals_key_bytes(batch: tuple[list[int], list[Any]], data: Any) -> None:
    _, rows = batch
    width = len(rows[0]) if rows else 0
    keys = data.draw(st.lists(st.integers(0, width - 1), max_size=3)) if width else []
    assert encode_keys(rows, keys) == [key_bytes([r[i] for i in keys]) for r in rows]


def test_a_boundary_inside_a_value_is_written_row_by_row() -> None:
    rows = [(1, "],["), (2, "a,b")]
    assert encode_changes([1, 1], rows) == [b'[1,1,"],["]', b'[1,2,"a,b"]']
    assert encode_keys(rows, [1]) == [b'["],["]', b'["a,b"]']
    assert encode_keys(rows, [1, 0]) == [b'["],[",1]', b'["a,b",2]']


def test_decimals_as_in_checkpoints_and_keys_as_text() -> None:
    rows = [(Decimal("1.50"), 3)]
    assert encode_changes([-1], rows) == [b'[-1,{"$decimal":"1.50"},3]']
    assert encode_keys(rows, [0]) == [b'["1.50"]']


def _one_by_one(values: list[bytes | None], width: int) -> list[Any] | None:
    out = []
    for value in values:
        try:
            change = orjson.loads(value or b"")
        except orjson.JSONDecodeError:
            return None
        if not isinstance(change, list) or len(change) != width + 1 or change[0] not in (1, -1):
            return None
        out.append(change)
    return out


RECORD = st.one_of(
    st.tuples(st.sampled_from([1, -1]), st.integers(0, 9), st.text(max_size=3)).map(
        lambda c: orjson.dumps(c)),
    st.sampled_from([b"{oops", b"[1,2]", b"[2,1,\"a\"]", b"[[1],1,\"a\"]", b'{"a":1}',
                     b"[1,1,\"a\"],[1,2,\"b\"]", b"7", b"", None, b"[true,1,\"a\"]",
                     b"[1.0,1,\"a\"]"]),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(RECORD, max_size=8))
def test_decode_changes_equals_one_loads_per_record(values: list[bytes | None]) -> None:
    assert decode_changes(values, 2) == _one_by_one(values, 2)
