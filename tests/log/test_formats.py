"""Record codecs: good records become rows, bad ones errors with a reason, none lost."""

from __future__ import annotations

import base64
import decimal
from typing import Any

import orjson
import pytest

from pycql.errors import NotSupportedError, ProgrammingError
from pycql.log import Log, OutRecord, Record, TopicSpec
from pycql.log.formats import dead_letter_record, dead_letter_topic, make_decoder, make_encoder


def col(name: str, type_: str, nullable: bool = True, **extra: Any) -> dict[str, Any]:
    return {"name": name, "type": type_, "nullable": nullable, **extra}


def rec(value: bytes | None, offset: int = 0, timestamp_ms: int = 777) -> Record:
    return Record("S", 0, offset, timestamp_ms, None, value)


COLUMNS = [
    col("ID", "INTEGER", nullable=False),
    col("NAME", "VARCHAR", precision=5),
    col("PRICE", "DOUBLE"),
    col("OK", "BOOLEAN"),
]


def test_json_rows_in_column_order_case_insensitive() -> None:
    decode = make_decoder(COLUMNS, "json")
    rows, times, errors = decode(
        [
            rec(b'{"ID": 1, "NAME": "ab", "PRICE": 2.5, "OK": true}', timestamp_ms=10),
            rec(b'{"ok": false, "price": 3, "name": "xy", "id": 2}', timestamp_ms=11),
            rec(b'{"Id": 3}', timestamp_ms=12),  # missing keys are NULL
        ]
    )
    assert errors == []
    assert rows == [(1, "ab", 2.5, True), (2, "xy", 3.0, False), (3, None, None, None)]
    assert type(rows[1][2]) is float
    assert times == [10, 11, 12]  # no timestamp column: the record's timestamp


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (b'{"ID": 1, "NAME": "ab"', "malformed JSON"),
        (b"[1, 2]", "expected a JSON object, got list"),
        (b'{"ID": null}', "column ID: NULL in a NOT NULL column"),
        (b'{"NAME": "a"}', "column ID: NULL in a NOT NULL column"),
        (b'{"ID": "seven"}', "column ID: expected an INTEGER, got 'seven'"),
        (b'{"ID": 2147483648}', "column ID: 2147483648 is out of the range of INTEGER"),
        (b'{"ID": true}', "column ID: expected an INTEGER, got True"),
        (b'{"ID": 1, "NAME": "toolong"}', "column NAME: 'toolong' is longer than VARCHAR(5)"),
        (b'{"ID": 1, "NAME": 5}', "column NAME: expected a VARCHAR, got 5"),
        (b'{"ID": 1, "PRICE": "cheap"}', "column PRICE: expected a DOUBLE, got 'cheap'"),
        (b'{"ID": 1, "OK": "maybe"}', "column OK: expected a BOOLEAN, got 'maybe'"),
        (None, "no value"),
    ],
)
def test_json_bad_records_are_kept_with_a_reason(value: bytes | None, reason: str) -> None:
    decode = make_decoder(COLUMNS, "json")
    good = rec(b'{"ID": 9}', offset=0)
    bad = rec(value, offset=1)
    rows, times, errors = decode([good, bad, good])
    assert rows == [(9, None, None, None), (9, None, None, None)]
    assert len(times) == 2
    assert len(errors) == 1
    record, why = errors[0]
    assert record is bad
    assert reason in why


def test_lossless_coercions() -> None:
    decode = make_decoder(
        [
            col("I", "BIGINT"),
            col("D", "DECIMAL", precision=6, scale=2),
            col("C", "CHAR", precision=4),
            col("DT", "DATE"),
            col("TM", "TIME"),
            col("S", "SMALLINT"),
        ],
        "json",
    )
    rows, _, errors = decode(
        [
            rec(b'{"I": "12", "D": 1234.5, "C": "ab", "DT": "1970-01-02", "TM": "00:00:01.5"}'),
            rec(b'{"I": 3.0, "D": "0.125", "S": 40000}'),
            rec(b'{"D": 10000}'),
        ]
    )
    assert rows == [(12, decimal.Decimal("1234.50"), "ab  ", 86_400_000, 1500, None)]
    assert [reason for _, reason in errors] == [
        "column S: 40000 is out of the range of SMALLINT",
        "column D: 10000.00 does not fit DECIMAL(6, 2)",
    ]


def test_event_time_from_a_timestamp_column() -> None:
    columns = [col("V", "INTEGER"), col("TS", "TIMESTAMP")]
    decode = make_decoder(columns, "json", timestamp="ts")
    rows, times, errors = decode(
        [
            rec(b'{"V": 1, "TS": "2024-01-02T03:04:05.678Z"}'),
            rec(b'{"V": 2, "TS": "2024-01-02T04:04:05.678+01:00"}'),
            rec(b'{"V": 3, "TS": "2024-01-02 03:04:05.678"}'),  # no zone: UTC
            rec(b'{"V": 4, "TS": 1704164645678}'),
            rec(b'{"V": 5}'),
            rec(b'{"V": 6, "TS": "yesterday"}'),
        ]
    )
    assert times == [1_704_164_645_678] * 4
    assert [row[1] for row in rows] == times
    assert [row[0] for row in rows] == [1, 2, 3, 4]
    assert [reason for _, reason in errors] == [
        "no timestamp: the timestamp column is NULL",
        "column TS: expected a TIMESTAMP (ISO-8601 text or epoch milliseconds), got 'yesterday'",
    ]


def test_event_time_from_a_bigint_column() -> None:
    decode = make_decoder([col("T", "BIGINT")], "json", timestamp="T")
    assert decode([rec(b'{"T": 5000}')]) == ([(5000,)], [5000], [])


def test_bad_timestamp_declarations() -> None:
    with pytest.raises(ProgrammingError, match="not a declared column"):
        make_decoder([col("A", "INTEGER")], timestamp="T")
    with pytest.raises(ProgrammingError, match="must be TIMESTAMP or BIGINT"):
        make_decoder([col("A", "VARCHAR")], timestamp="A")
    with pytest.raises(NotSupportedError, match="unknown format"):
        make_decoder([col("A", "INTEGER")], "avro")


def test_csv_fields_in_column_order() -> None:
    decode = make_decoder([*COLUMNS, col("T", "TIMESTAMP")], "csv", timestamp="T")
    rows, times, errors = decode(
        [
            rec(b'1,"a,b",2.5,true,1000'),
            rec(b"2,,,,2000\r\n"),  # empty fields are NULL
            rec(b"3,x,1.0,false"),  # a field short
            rec(b"zz,x,1.0,false,1000"),
            rec(b"\xff\xfe,bad"),
        ]
    )
    assert rows == [(1, "a,b", 2.5, True, 1000), (2, None, None, None, 2000)]
    assert times == [1000, 2000]
    assert [reason for _, reason in errors] == [
        "expected 5 CSV fields, got 4",
        "column ID: expected an INTEGER, got 'zz'",
        "not UTF-8 text: 'utf-8' codec can't decode byte 0xff in position 0: invalid start byte",
    ]


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_encoder_round_trips_through_decoder(fmt: str) -> None:
    columns = [
        col("I", "INTEGER"),
        col("S", "VARCHAR"),
        col("F", "DOUBLE"),
        col("B", "BOOLEAN"),
        col("D", "DECIMAL", precision=10, scale=3),
        col("T", "TIMESTAMP"),
        col("DT", "DATE"),
        col("TM", "TIME"),
    ]
    rows = [
        (
            1,
            'quote " and, comma',
            0.1,
            True,
            decimal.Decimal("1234567.125"),
            1_704_164_645_678,
            19_723 * 86_400_000,
            45_296_789,
        ),
        (None, None, None, None, None, None, None, None),
        (-5, "ünï", -1e300, False, decimal.Decimal("-0.001"), -1000, 0, 0),
    ]
    encoded = make_encoder(columns, fmt)(rows)
    assert all(isinstance(value, bytes) for value in encoded)
    decoded_rows, _, errors = make_decoder(columns, fmt)([rec(v) for v in encoded])
    assert errors == []
    assert decoded_rows == rows


def test_json_encoder_writes_readable_values() -> None:
    columns = [col("T", "TIMESTAMP"), col("D", "DECIMAL", precision=5, scale=2)]
    (value,) = make_encoder(columns, "json")([(1_704_164_645_678, decimal.Decimal("1.50"))])
    assert orjson.loads(value) == {"T": "2024-01-02T03:04:05.678Z", "D": "1.50"}


def test_dead_letter_envelope() -> None:
    text = Record("S", 2, 41, 1234, b"k", b"{not json")
    binary = Record("S", 0, 1, 5, b"\xff", b"\x00\xff")
    out = dead_letter_record(text, "malformed JSON: unexpected character")
    assert out.key == b"k" and out.timestamp_ms == 1234 and out.partition is None
    assert orjson.loads(out.value or b"") == {
        "topic": "S",
        "partition": 2,
        "offset": 41,
        "timestamp_ms": 1234,
        "reason": "malformed JSON: unexpected character",
        "key": "k",
        "key_encoding": "utf-8",
        "value": "{not json",
        "value_encoding": "utf-8",
    }
    envelope = orjson.loads(dead_letter_record(binary, "bad").value or b"")
    assert envelope["value_encoding"] == "base64"
    assert base64.b64decode(envelope["value"]) == b"\x00\xff"
    assert base64.b64decode(envelope["key"]) == b"\xff"
    assert dead_letter_topic("S") == "S.dead-letters"


def test_decoding_a_topic_loses_nothing(log: Log, new_topic: Any) -> None:
    """Through a real log: every record is a row or a dead letter."""
    source = new_topic("src")
    dead = dead_letter_topic(source)
    log.create_topic(TopicSpec(source, partitions=2))
    log.create_topic(TopicSpec(dead))
    values = [
        b'{"ID": %d, "NAME": "n%d"}' % (i, i) if i % 10 else b"garbage %d" % i for i in range(200)
    ]
    log.produce(source, [OutRecord(v) for v in values])
    decode = make_decoder(COLUMNS, "json")
    rows: list[tuple[Any, ...]] = []
    errors: list[tuple[Record, str]] = []
    with log.reader([source]) as reader:
        while len(rows) + len(errors) < 200:
            batch = reader.poll(max_records=64, timeout=5.0)
            assert batch, "records went missing"
            got_rows, _, got_errors = decode(batch)
            rows.extend(got_rows)
            errors.extend(got_errors)
    assert sorted(row[0] for row in rows) == [i for i in range(200) if i % 10]
    assert len(errors) == 20
    log.produce(dead, [dead_letter_record(record, reason) for record, reason in errors])
    with log.reader([dead]) as reader:
        letters: list[Record] = []
        while len(letters) < 20:
            batch = reader.poll(timeout=5.0)
            assert batch, "dead letters went missing"
            letters.extend(batch)
    assert sorted(orjson.loads(r.value or b"")["value"] for r in letters) == sorted(
        f"garbage {i}" for i in range(0, 200, 10)
    )
