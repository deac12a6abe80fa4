"""The batch JSON decoder agrees with the record-at-a-time reference on every input.

:func:`pycql.log.formats.make_decoder` decodes a JSON batch with typed msgspec
structs (only the columns a query reads) and hands any batch with something
unusual to the reference decoder; these tests generate batches of good, odd and
bad values and compare the two results exactly (``repr`` tells ``1``, ``1.0`` and
``True`` apart, and ``Decimal('1.50')`` from ``Decimal('1.5')``), with and without
a projection; the projection is checked against the whole rows.
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pycql.log import Record, formats
from pycql.log.base import RecordBatch
from pycql.log.formats import make_decoder

TYPES: list[dict[str, Any]] = [
    {"type": "TINYINT"},
    {"type": "SMALLINT"},
    {"type": "INTEGER"},
    {"type": "BIGINT"},
    {"type": "DOUBLE"},
    {"type": "REAL"},
    {"type": "DECIMAL", "precision": 6, "scale": 2},
    {"type": "DECIMAL"},
    {"type": "VARCHAR"},
    {"type": "VARCHAR", "precision": 3},
    {"type": "CHAR", "precision": 3},
    {"type": "BOOLEAN"},
    {"type": "TIMESTAMP"},
    {"type": "DATE"},
    {"type": "TIME"},
    {"type": "ANY"},
]

#: JSON values near every type's edges: right ones, wrong ones, convertible text.
ODD_VALUES: list[Any] = [
    None,
    0,
    1,
    -1,
    127,
    128,
    -129,
    32768,
    2**31 - 1,
    2**31,
    -(2**31) - 1,
    2**63 - 1,
    2**63,
    2**64 - 1,
    -(2**63),
    86_400_000,
    86_399_999,
    -86_400_000,
    1.0,
    1.5,
    -0.0,
    1e300,
    True,
    False,
    "",
    "a",
    "abc",
    "abcd",
    "12",
    " 7 ",
    "1.25",
    "true",
    "no",
    "2024-01-02T03:04:05Z",
    "1970-01-02",
    "00:00:01.5",
    [1],
    {"x": 1},
]


def _record(value: bytes | None, offset: int) -> Record:
    return Record("S", 0, offset, 1000 + offset, None, value)


def _used(columns: list[dict[str, Any]], timestamp: str | None,
          used: set[int] | None) -> list[int]:
    chosen = set(range(len(columns))) if used is None else set(used)
    time_index = formats._timestamp_index(columns, timestamp)
    if time_index is not None:
        chosen.add(time_index)
    return sorted(chosen)


def _on_records(decode: formats.BatchDecoder) -> formats.Decoder:
    def on_records(records: Any) -> Any:
        rows, times, bad = decode(RecordBatch.of_records(list(records)))
        return rows, times, [(records[index], reason) for index, reason in bad]

    return on_records


def _reference(columns: list[dict[str, Any]], timestamp: str | None,
               used: set[int] | None = None) -> formats.Decoder:
    converters = [formats._converter(column) for column in columns]
    time_index = formats._timestamp_index(columns, timestamp)
    return _on_records(formats._json_record_decoder(
        columns, converters, time_index, _used(columns, timestamp, used)))


def _same(columns: list[dict[str, Any]], records: list[Record], timestamp: str | None,
          used: set[int] | None = None) -> None:
    rows, times, errors = make_decoder(columns, "json", timestamp, used)(records)
    want_rows, want_times, want_errors = _reference(columns, timestamp, used)(records)
    assert repr(rows) == repr(want_rows)
    assert times == want_times
    assert [(record.offset, reason) for record, reason in errors] == [
        (record.offset, reason) for record, reason in want_errors
    ]


@st.composite
def schemas(draw: st.DrawFn) -> list[dict[str, Any]]:
    kinds = draw(st.lists(st.sampled_from(TYPES), min_size=1, max_size=4))
    return [
        {"name": f"C{i}", "nullable": draw(st.booleans()), **kind} for i, kind in enumerate(kinds)
    ]


def _good_value(column: dict[str, Any]) -> st.SearchStrategy[Any]:
    kind = column["type"]
    if kind in formats._INT_RANGES:
        low, high = formats._INT_RANGES[kind]
        return st.integers(low, high)
    if kind in ("DOUBLE", "REAL"):
        return st.floats(allow_nan=False, allow_infinity=False) | st.integers(-1000, 1000)
    if kind == "DECIMAL":
        return st.integers(-999, 999)
    if kind in ("VARCHAR", "CHAR"):
        return st.text(max_size=column.get("precision") or 8)
    if kind == "BOOLEAN":
        return st.booleans()
    if kind == "DATE":
        return st.integers(-1000, 1000).map(lambda d: d * 86_400_000)
    if kind == "TIME":
        return st.integers(0, 86_399_999)
    return st.integers(-(2**62), 2**62)  # TIMESTAMP, ANY


@st.composite
def batches(draw: st.DrawFn) -> tuple[list[dict[str, Any]], list[Record], str | None]:
    columns = draw(schemas())
    candidates = [c["name"] for c in columns if c["type"] == "TIMESTAMP"]
    timestamp = draw(st.sampled_from([None, *candidates]))
    # how often a value is taken from ODD_VALUES (0: a clean batch, the common case)
    odd = draw(st.sampled_from([0.0, 0.0, 0.02, 0.2, 1.0]))
    records = []
    for offset in range(draw(st.integers(0, 12))):
        document: dict[str, Any] = {}
        for column in columns:
            if draw(st.floats(0, 1)) < odd:
                choice = draw(st.sampled_from([*ODD_VALUES, "<missing>", "<other case>"]))
                if choice == "<missing>":
                    continue
                if choice == "<other case>":
                    document[column["name"].lower()] = draw(_good_value(column))
                    continue
                document[column["name"]] = choice
            elif column["nullable"] and draw(st.integers(0, 9)) == 0:
                document[column["name"]] = None
            else:
                document[column["name"]] = draw(_good_value(column))
        value: bytes | None = orjson.dumps(document)
        if draw(st.floats(0, 1)) < odd / 4:
            value = draw(st.sampled_from([None, b"", b"{", b"[1]", b"7", b"null", b'"text"']))
        records.append(_record(value, offset))
    return columns, records, timestamp


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batches())
def test_batch_decoder_equals_the_reference(
    batch: tuple[list[dict[str, Any]], list[Record], str | None],
) -> None:
    columns, records, timestamp = batch
    _same(columns, records, timestamp)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batches(), st.data())
def test_a_projected_batch_decoder_equals_the_projected_reference(
    batch: tuple[list[dict[str, Any]], list[Record], str | None], data: st.DataObject,
) -> None:
    columns, records, timestamp = batch
    used = data.draw(st.sets(st.integers(0, len(columns) - 1)))
    _same(columns, records, timestamp, used)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batches(), st.data())
def test_a_projection_is_the_whole_rows_with_nulls_for_the_columns_not_read(
    batch: tuple[list[dict[str, Any]], list[Record], str | None], data: st.DataObject,
) -> None:
    """Every record the whole decoder accepts, the projected one accepts too, with the
    same values in the columns read and NULL in the others; it rejects no more."""
    columns, records, timestamp = batch
    used = data.draw(st.sets(st.integers(0, len(columns) - 1)))
    read = _used(columns, timestamp, used)
    rows, times, errors = make_decoder(columns, "json", timestamp)(records)
    p_rows, p_times, p_errors = make_decoder(columns, "json", timestamp, used)(records)
    rejected = {record.offset for record, _ in p_errors}
    assert rejected <= {record.offset for record, _ in errors}
    accepted = [r.offset for r in records if r.offset not in {e.offset for e, _ in errors}]
    p_accepted = [r.offset for r in records if r.offset not in rejected]
    by_offset = dict(zip(p_accepted, zip(p_rows, p_times, strict=True), strict=True))
    for offset, row, ts in zip(accepted, rows, times, strict=True):
        want = tuple(v if i in read else None for i, v in enumerate(row))
        assert repr(by_offset[offset]) == repr((want, ts))


def test_a_bad_value_in_a_column_not_read_does_not_reject_the_record() -> None:
    """The documented choice (docs/kafka.md): only the columns a query reads are checked."""
    record = _record(b'{"auction": 1, "price": 2, "channel": 3, "rate": "x", '
                     b'"code": "toolong", "date_time": 9}', 0)
    rows, times, errors = make_decoder(BID, "json", "date_time", {0})([record])
    assert (rows, times, errors) == ([(1, None, None, None, None, 9)], [9], [])
    _rows, _times, whole = make_decoder(BID, "json", "date_time")([record])
    assert [reason for _, reason in whole] == ["column channel: expected a VARCHAR, got 3"]
    bad_json = _record(b'{"auction": 1, "date_time": 9, "rate": [1,', 1)
    assert "malformed JSON" in make_decoder(BID, "json", "date_time", {0})([bad_json])[2][0][1]


def _must_not_fall_back(records: Any) -> Any:
    raise AssertionError("a clean batch went to the record-at-a-time decoder")


BID = [
    {"name": "auction", "type": "BIGINT", "nullable": True},
    {"name": "price", "type": "BIGINT", "nullable": False},
    {"name": "channel", "type": "VARCHAR", "nullable": True},
    {"name": "rate", "type": "DOUBLE", "nullable": True},
    {"name": "code", "type": "CHAR", "precision": 4, "nullable": True},
    {"name": "date_time", "type": "TIMESTAMP", "nullable": True},
]


def _batch_only(columns: list[dict[str, Any]], timestamp: str | None) -> formats.Decoder:
    converters = [formats._converter(column) for column in columns]
    time_index = formats._timestamp_index(columns, timestamp)
    return _on_records(formats._json_batch_decoder(
        columns, converters, time_index, _used(columns, timestamp, None), _must_not_fall_back))


def test_clean_batches_are_decoded_without_the_reference() -> None:
    """Values of the right types, NULLs, ints in DOUBLE and short CHARs stay on the batch path."""
    decode = _batch_only(BID, "date_time")
    values = [
        b'{"auction": 1, "price": 5, "channel": "a", "rate": 1.5, "code": "ab", "date_time": 9}',
        b'{"auction": null, "price": 6, "channel": null, "rate": 2, "code": "abcd", '
        b'"date_time": 10}',
    ]
    rows, times, errors = decode([_record(v, i) for i, v in enumerate(values)])
    assert rows == [(1, 5, "a", 1.5, "ab  ", 9), (None, 6, None, 2.0, "abcd", 10)]
    assert type(rows[1][3]) is float
    assert times == [9, 10]
    assert errors == []
    assert decode([]) == ([], [], [])


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        (b'{"auction": 1, "price": null, "date_time": 9}', "column price: NULL in a NOT NULL"),
        (b'{"auction": 2.5, "price": 1, "date_time": 9}', "column auction: expected a BIGINT"),
        (b'{"auction": 18446744073709551615, "price": 1, "date_time": 9}', "out of the range"),
        (b'{"auction": 1, "price": 1, "code": "abcde", "date_time": 9}', "longer than CHAR(4)"),
        (b'{"auction": 1, "price": 1, "date_time": null}', "no timestamp"),
        (b'{"auction": 1, "price": 1}', "no timestamp"),
        (b'{"auction": 1, "price": 1, "date_time": 9', "malformed JSON"),
    ],
)
def test_one_bad_record_in_a_batch_is_reported_and_the_rest_kept(
    document: bytes, reason: str
) -> None:
    good = b'{"auction": 1, "price": 2, "channel": "c", "rate": 0.5, "code": "x", "date_time": 7}'
    records = [_record(good, 0), _record(document, 1), _record(good, 2)]
    rows, times, errors = make_decoder(BID, "json", "date_time")(records)
    assert rows == [(1, 2, "c", 0.5, "x   ", 7)] * 2
    assert times == [7, 7]
    assert [(record.offset, why) for record, why in errors] == [(1, errors[0][1])]
    assert reason in errors[0][1]
    _same(BID, records, "date_time")


def test_integers_just_outside_the_bigint_range_are_rejected_exactly() -> None:
    """msgspec reads JSON integers exactly (orjson made -2**63 - 1 a float, so it was
    taken as -2**63): both ends of BIGINT are checked."""
    column = [{"name": "A", "type": "BIGINT", "nullable": True}]
    records = [_record(b'{"A": -9223372036854775808}', 0),
               _record(b'{"A": -9223372036854775809}', 1),
               _record(b'{"A": 9223372036854775808}', 2)]
    rows, _times, errors = make_decoder(column, "json")(records)
    assert rows == [(-(2**63),)]
    assert [reason for _, reason in errors] == [
        "column A: -9223372036854775809 is out of the range of BIGINT",
        "column A: 9223372036854775808 is out of the range of BIGINT"]
