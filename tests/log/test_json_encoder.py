"""The JSON encoder written per schema writes each row as the JSON object orjson writes
(temporal values as ISO text, decimals as exact text), for any values: the same bytes
where no column is a float, and the same document (read back by the standard library's
parser, floats exactly) where one is: a float's exponent may be written ``1e16`` or
``1e+16``."""

from __future__ import annotations

import decimal
import json
from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from pycql.log.formats import _TEXT_OUT, _json_default, make_encoder

TYPES = {
    "INTEGER": st.integers(-(2**31), 2**31 - 1),
    "BIGINT": st.integers(-(2**63), 2**63 - 1),
    "DOUBLE": st.floats(allow_nan=True, allow_infinity=True),
    "VARCHAR": st.text(),
    "BOOLEAN": st.booleans(),
    "DECIMAL": st.decimals(allow_nan=False, allow_infinity=False, places=3),
    "TIMESTAMP": st.integers(-(2**40), 2**42),
    "DATE": st.integers(-10**5, 10**5).map(lambda d: d * 86_400_000),
    "TIME": st.integers(0, 86_399_999),
}


@st.composite
def schema_and_rows(draw: Any) -> tuple[list[dict[str, Any]], list[tuple[Any, ...]]]:
    kinds = draw(st.lists(st.sampled_from(sorted(TYPES)), max_size=6))
    names = draw(st.lists(st.text(min_size=1, max_size=4), min_size=len(kinds),
                          max_size=len(kinds), unique=True))
    columns = [{"name": n, "type": k, "nullable": draw(st.booleans())}
               for n, k in zip(names, kinds, strict=True)]
    rows = draw(st.lists(st.tuples(*[
        TYPES[k] if not c["nullable"] else st.one_of(st.none(), TYPES[k])
        for k, c in zip(kinds, columns, strict=True)]), max_size=5))
    return columns, rows


def _reference(columns: list[dict[str, Any]], row: tuple[Any, ...]) -> bytes:
    values = list(row)
    for i, c in enumerate(columns):
        if c["type"] in _TEXT_OUT and values[i] is not None:
            values[i] = _TEXT_OUT[c["type"]](values[i])
    return orjson.dumps(dict(zip([c["name"] for c in columns], values, strict=True)),
                        default=_json_default)


@settings(max_examples=400, deadline=None)
@given(schema_and_rows())
def test_the_generated_encoder_writes_what_orjson_writes(
        case: tuple[list[dict[str, Any]], list[tuple[Any, ...]]]) -> None:
    columns, rows = case
    written = make_encoder(columns)(rows)
    expected = [_reference(columns, r) for r in rows]
    if not any(c["type"] == "DOUBLE" for c in columns):
        assert written == expected
    assert [_document(w) for w in written] == [_document(e) for e in expected]


def _document(value: bytes) -> Any:
    """A record read back by the standard library, each float as its exact bits (hex)."""
    return json.loads(value, parse_float=lambda text: float(text).hex())


def test_decimal_is_exact_text() -> None:
    encode = make_encoder([{"name": "P", "type": "DECIMAL"}])
    assert encode([(decimal.Decimal("1.50"),), (None,)]) == [b'{"P":"1.50"}', b'{"P":null}']
