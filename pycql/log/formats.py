"""Record codecs: bytes on a topic <-> rows of Python values, a batch at a time.

Rows hold the engine's values (as ``docs/plan-json.md`` and
``pycql.driver._types`` define them): integers, floats, :class:`str`,
:class:`bool`, :class:`decimal.Decimal`, and integers for temporal types
(``TIMESTAMP``: epoch ms, ``DATE``: epoch ms of midnight UTC, ``TIME``: ms
since midnight; ``INTERVAL_DAY_SECOND``: ms, ``INTERVAL_YEAR_MONTH``: months,
both written as integers), and :class:`bytes` for ``BINARY``/``VARBINARY``
(written as base64 text, RFC 4648 with padding, in JSON and in CSV).

>>> columns = [{"name": "A", "type": "INTEGER", "nullable": True},
...            {"name": "T", "type": "TIMESTAMP", "nullable": False}]
>>> decode = make_decoder(columns, "json", timestamp="T")
>>> good = Record("S", 0, 0, 5, None, b'{"a": 1, "t": "1970-01-01T00:00:01Z"}')
>>> bad = Record("S", 0, 1, 6, None, b'{"a": "x", "t": 1000}')
>>> rows, times, errors = decode([good, bad])
>>> rows, times, [reason for _, reason in errors]
([(1, 1000)], [1000], ["column A: expected an INTEGER, got 'x'"])

Decoders never raise on bad data and never drop it: each record becomes
either a row (with its timestamp) or an ``(record, reason)`` error, which the
runtime writes to a dead-letter topic with :func:`dead_letter_record`.

* JSON (msgspec): one object per record, keys matched to column names
  case-insensitively; a missing key is NULL. Only the columns ``used`` (the
  ones a query reads) are decoded and checked; the others are NULL and their
  values are skipped unread (docs/kafka.md). A batch is read by msgspec into
  typed structs, one C-level pass; a batch holding anything unusual (an error,
  a key in another case, a value needing conversion) is decoded again record
  by record, which decides rows and reasons.
* CSV (the csv module): fields in column order; an empty field is NULL.
"""

from __future__ import annotations

import base64
import csv
import datetime as _dt
import decimal
import io
import math
import re
from collections.abc import Callable, Collection, Sequence
from operator import itemgetter
from typing import Annotated, Any

import msgspec
import orjson
from msgspec import Meta

from pycql.errors import NotSupportedError, ProgrammingError
from pycql.log.base import OutRecord, Record, RecordBatch

__all__ = [
    "BatchDecoded",
    "BatchDecoder",
    "DecodedBatch",
    "Decoder",
    "Encoder",
    "dead_letter_record",
    "dead_letter_topic",
    "make_batch_decoder",
    "make_decoder",
    "make_encoder",
]

#: Rows (in declared column order), their epoch-ms timestamps, and the records
#: that could not be decoded with the reason.
DecodedBatch = tuple[list[tuple[Any, ...]], list[int], list[tuple[Record, str]]]
Decoder = Callable[[Sequence[Record]], DecodedBatch]
#: The same for a :class:`~pycql.log.base.RecordBatch`: rows, timestamps, and the index
#: in the batch of each record that could not be decoded with the reason.
BatchDecoded = tuple[list[tuple[Any, ...]], list[int], list[tuple[int, str]]]
BatchDecoder = Callable[[RecordBatch], BatchDecoded]
Encoder = Callable[[Sequence[Sequence[Any]]], list[bytes]]

FORMATS = ("json", "csv")

_MS_PER_DAY = 86_400_000
_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC)
_INT_RANGES = {
    "TINYINT": (-(2**7), 2**7 - 1),
    "SMALLINT": (-(2**15), 2**15 - 1),
    "INTEGER": (-(2**31), 2**31 - 1),
    "BIGINT": (-(2**63), 2**63 - 1),
    "INTERVAL_DAY_SECOND": (-(2**63), 2**63 - 1),
    "INTERVAL_YEAR_MONTH": (-(2**31), 2**31 - 1),
}


class _BadValue(Exception):
    """A value that does not fit its column (the message is the reason)."""


# -- value converters: one closure per column, built once --------------------

Converter = Callable[[Any], Any]


def _describe(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _integer(kind: str) -> Converter:
    low, high = _INT_RANGES[kind]
    expected = f"expected {'an' if kind[0] in 'AEIOU' else 'a'} {kind}"

    def convert(value: Any) -> Any:
        if type(value) is int and low <= value <= high:
            return value
        if type(value) is float and value.is_integer():
            value = int(value)
        elif type(value) is str:
            try:
                value = int(value.strip())
            except ValueError:
                raise _BadValue(f"{expected}, got {_describe(value)}") from None
        elif type(value) is not int:
            raise _BadValue(f"{expected}, got {_describe(value)}")
        if not low <= value <= high:
            raise _BadValue(f"{value} is out of the range of {kind}")
        return value

    return convert


def _floating(kind: str) -> Converter:
    def convert(value: Any) -> Any:
        if type(value) is float:
            return value
        if type(value) is int:
            return float(value)
        if type(value) is str:
            try:
                return float(value)
            except ValueError:
                pass
        raise _BadValue(f"expected a {kind}, got {_describe(value)}")

    return convert


def _decimal(precision: int | None, scale: int | None) -> Converter:
    quantum = None if scale is None else decimal.Decimal(1).scaleb(-scale)
    limit = None if precision is None else precision - (scale or 0)

    def convert(value: Any) -> Any:
        if type(value) is float:
            if not math.isfinite(value):
                raise _BadValue(f"expected a DECIMAL, got {_describe(value)}")
            number = decimal.Decimal(repr(value))
        elif type(value) is int:
            number = decimal.Decimal(value)
        elif type(value) is str:
            try:
                number = decimal.Decimal(value.strip())
            except decimal.InvalidOperation:
                raise _BadValue(f"expected a DECIMAL, got {_describe(value)}") from None
            if not number.is_finite():
                raise _BadValue(f"expected a DECIMAL, got {_describe(value)}")
        else:
            raise _BadValue(f"expected a DECIMAL, got {_describe(value)}")
        if quantum is not None:
            try:
                number = number.quantize(quantum, rounding=decimal.ROUND_HALF_UP)
            except decimal.InvalidOperation:  # more digits than the context's precision
                raise _BadValue(
                    f"{_describe(value)} does not fit DECIMAL({precision}, {scale or 0})"
                ) from None
        if limit is not None and number.adjusted() >= limit:
            raise _BadValue(f"{number} does not fit DECIMAL({precision}, {scale or 0})")
        return number

    return convert


def _character(kind: str, length: int | None) -> Converter:
    pad = kind == "CHAR" and length is not None

    def convert(value: Any) -> Any:
        if type(value) is not str:
            raise _BadValue(f"expected a {kind}, got {_describe(value)}")
        if length is not None and len(value) > length:
            raise _BadValue(f"{_describe(value)} is longer than {kind}({length})")
        if pad and len(value) < length:  # type: ignore[operator]
            return value.ljust(length)  # type: ignore[arg-type]
        return value

    return convert


def _binary(kind: str, length: int | None) -> Converter:
    """BINARY / VARBINARY: base64 text (RFC 4648, with padding) in JSON and CSV."""
    limit = length if length is not None and length >= 0 else None
    pad = kind == "BINARY" and limit is not None

    def convert(value: Any) -> Any:
        if type(value) is bytes:
            data = value
        elif type(value) is str:
            try:
                data = base64.b64decode(value.strip(), validate=True)
            except ValueError:
                raise _BadValue(f"expected a {kind} as base64 text, got {_describe(value)}")\
                    from None
        else:
            raise _BadValue(f"expected a {kind} as base64 text, got {_describe(value)}")
        if limit is not None and len(data) > limit:
            raise _BadValue(f"{len(data)} bytes are longer than {kind}({limit})")
        if pad and len(data) < limit:  # type: ignore[operator]
            return data.ljust(limit, b"\0")  # type: ignore[arg-type]
        return data

    return convert


_TRUE = frozenset({"true", "t", "1", "yes"})
_FALSE = frozenset({"false", "f", "0", "no"})


def _boolean(value: Any) -> Any:
    if type(value) is bool:
        return value
    if type(value) is str:
        lowered = value.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
    raise _BadValue(f"expected a BOOLEAN, got {_describe(value)}")


def _epoch_ms_of(moment: _dt.datetime) -> int:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=_dt.UTC)  # wall-clock time read as UTC
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


def _whole_number(value: Any) -> int | None:
    """``value`` as an int when it is one (also a numeric string or whole float)."""
    if type(value) is int:
        return value
    if type(value) is float and value.is_integer():
        return int(value)
    if type(value) is str:
        text = value.strip()
        if text.lstrip("-").isdigit():
            return int(text)
    return None


def _timestamp(value: Any) -> Any:
    number = _whole_number(value)
    if number is not None:
        return number
    if type(value) is str:
        try:
            return _epoch_ms_of(_dt.datetime.fromisoformat(value.strip()))
        except ValueError:
            pass
    raise _BadValue(
        f"expected a TIMESTAMP (ISO-8601 text or epoch milliseconds), got {_describe(value)}"
    )


def _date(value: Any) -> Any:
    number = _whole_number(value)
    if number is not None:
        if number % _MS_PER_DAY:
            raise _BadValue(f"a DATE in epoch milliseconds must be a midnight, got {number}")
        return number
    if type(value) is str:
        try:
            day = _dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
        else:
            return (day - _EPOCH.date()).days * _MS_PER_DAY
    raise _BadValue(f"expected a DATE (YYYY-MM-DD), got {_describe(value)}")


def _time(value: Any) -> Any:
    number = _whole_number(value)
    if number is None and type(value) is str:
        try:
            moment = _dt.time.fromisoformat(value.strip())
        except ValueError:
            pass
        else:
            seconds = moment.hour * 3600 + moment.minute * 60 + moment.second
            return seconds * 1000 + moment.microsecond // 1000
    if number is not None and 0 <= number < _MS_PER_DAY:
        return number
    raise _BadValue(f"expected a TIME (HH:MM:SS[.fff]), got {_describe(value)}")


def _any(value: Any) -> Any:
    return value


def _converter(column: dict[str, Any]) -> Converter:
    kind = str(column["type"]).upper()
    precision = column.get("precision")
    if kind in _INT_RANGES:
        convert = _integer(kind)
    elif kind in ("DOUBLE", "FLOAT", "REAL"):
        convert = _floating(kind)
    elif kind == "DECIMAL":
        convert = _decimal(precision, column.get("scale"))
    elif kind in ("VARCHAR", "CHAR"):
        convert = _character(kind, precision)
    elif kind in ("BINARY", "VARBINARY"):
        convert = _binary(kind, precision)
    elif kind == "BOOLEAN":
        convert = _boolean
    elif kind == "TIMESTAMP":
        convert = _timestamp
    elif kind == "DATE":
        convert = _date
    elif kind == "TIME":
        convert = _time
    elif kind in ("ANY", "NULL"):
        convert = _any
    else:
        raise NotSupportedError(f"column {column['name']}: type {kind} cannot be decoded")
    name = column["name"]
    nullable = column.get("nullable", True)

    def checked(value: Any) -> Any:
        if value is None:
            if nullable:
                return None
            raise _BadValue(f"column {name}: NULL in a NOT NULL column")
        try:
            return convert(value)
        except _BadValue as bad:
            raise _BadValue(f"column {name}: {bad}") from None

    return checked


# -- decoders -------------------------------------------------------------------


def _timestamp_index(columns: Sequence[dict[str, Any]], timestamp: str | None) -> int | None:
    if timestamp is None:
        return None
    for index, column in enumerate(columns):
        if column["name"].lower() == timestamp.lower():
            kind = str(column["type"]).upper()
            if kind not in ("TIMESTAMP", "BIGINT"):
                raise ProgrammingError(
                    f"timestamp column {column['name']} must be TIMESTAMP or BIGINT, not {kind}"
                )
            return index
    raise ProgrammingError(f"timestamp column {timestamp!r} is not a declared column")


def make_decoder(
    columns: Sequence[dict[str, Any]], format: str = "json", timestamp: str | None = None,
    used: Collection[int] | None = None,
) -> Decoder:
    """A function decoding a batch of records into rows, timestamps and errors.

    ``timestamp`` names the column holding each row's event time (TIMESTAMP or
    BIGINT epoch ms); without it the record's own timestamp is used. ``used``
    (column indexes) projects: see :func:`make_batch_decoder`.
    """
    decode_batch = make_batch_decoder(columns, format, timestamp, used)

    def decode(records: Sequence[Record]) -> DecodedBatch:
        listed = list(records)
        rows, times, bad = decode_batch(RecordBatch.of_records(listed))
        return rows, times, [(listed[index], reason) for index, reason in bad]

    return decode


def make_batch_decoder(
    columns: Sequence[dict[str, Any]], format: str = "json", timestamp: str | None = None,
    used: Collection[int] | None = None,
) -> BatchDecoder:
    """A function decoding a :class:`~pycql.log.base.RecordBatch` into rows, their
    timestamps and the ``(index, reason)`` of each record it rejects.

    ``used`` is the set of column indexes the query reads (None: all); the timestamp
    column is always read. Only those columns are decoded and checked; the others are
    NULL in every row, and a record is never rejected for them (JSON: their values
    are skipped, only the document's syntax counts; CSV: only the field count).
    """
    converters = [_converter(column) for column in columns]
    time_index = _timestamp_index(columns, timestamp)
    chosen = set(range(len(columns))) if used is None else {i for i in used
                                                           if 0 <= i < len(columns)}
    if time_index is not None:
        chosen.add(time_index)
    kind = format.lower()
    if kind == "json":
        return _json_decoder(columns, converters, time_index, sorted(chosen))
    if kind == "csv":
        return _csv_decoder(columns, converters, time_index, chosen)
    raise NotSupportedError(f"unknown format {format!r}; use one of {', '.join(FORMATS)}")


def _json_decoder(
    columns: Sequence[dict[str, Any]], converters: list[Converter], time_index: int | None,
    used: list[int],
) -> BatchDecoder:
    one_by_one = _json_record_decoder(columns, converters, time_index, used)
    return _json_batch_decoder(columns, converters, time_index, used, one_by_one)


_MALFORMED = (msgspec.DecodeError, RecursionError)


def _malformed_json(value: bytes) -> str:
    """Why ``value`` is not a JSON object (msgspec's own words)."""
    try:
        document = msgspec.json.decode(value)
    except _MALFORMED as exc:
        text = str(exc) or type(exc).__name__
        return "malformed JSON: " + text.removeprefix("JSON is malformed: ")
    return f"expected a JSON object, got {type(document).__name__}"


def _json_record_decoder(
    columns: Sequence[dict[str, Any]], converters: list[Converter], time_index: int | None,
    used: list[int],
) -> BatchDecoder:
    """The reference JSON decoder: one record at a time, every used value converted.

    msgspec reads the used keys (exactly as the columns are named) and skips the rest;
    when one of them is missing, the whole document is read and keys are matched
    case-insensitively (a key still missing is NULL)."""
    width = len(columns)
    names = [str(columns[i]["name"]) for i in used]
    folded = [name.lower() for name in names]
    convert_used = [converters[i] for i in used]
    raw = msgspec.defstruct(
        "RawValues", [(f"c{i}", Any, msgspec.field(default=msgspec.UNSET, name=name))
                      for i, name in zip(used, names, strict=True)],
        gc=False, kw_only=True)
    read_raw = msgspec.json.Decoder(raw).decode
    astuple = msgspec.structs.astuple
    unset = msgspec.UNSET

    def decode(batch: RecordBatch) -> BatchDecoded:
        rows: list[tuple[Any, ...]] = []
        times: list[int] = []
        errors: list[tuple[int, str]] = []
        stamps = batch.timestamps if time_index is None else None
        for index, value in enumerate(batch.values):
            if value is None:
                errors.append((index, "no value (a null record)"))
                continue
            try:
                found: tuple[Any, ...] = astuple(read_raw(value))
            except _MALFORMED:
                errors.append((index, _malformed_json(value)))
                continue
            if unset in found:
                try:
                    document = msgspec.json.decode(value)
                except _MALFORMED:
                    errors.append((index, _malformed_json(value)))
                    continue
                lowered = {str(key).lower(): item for key, item in document.items()}
                found = tuple([lowered.get(name) for name in folded])
            row: list[Any] = [None] * width
            try:
                for i, convert, item in zip(used, convert_used, found, strict=True):
                    row[i] = convert(item)
            except _BadValue as bad:
                errors.append((index, str(bad)))
                continue
            if time_index is None:
                assert stamps is not None
                times.append(stamps[index])
            elif row[time_index] is None:
                errors.append((index, "no timestamp: the timestamp column is NULL"))
                continue
            else:
                times.append(row[time_index])
            rows.append(tuple(row))
        return rows, times, errors

    return decode


def _typed(column: dict[str, Any], is_time: bool) -> Any:
    """The msgspec type that reads exactly the JSON values the column's converter keeps
    as they are, or None when its values need the converter (DECIMAL, BINARY, CHAR(n),
    ANY): any other value fails msgspec's check and goes to the reference decoder."""
    kind = str(column["type"]).upper()
    length = column.get("precision")
    typed: Any
    if kind in _INT_RANGES:
        low, high = _INT_RANGES[kind]
        typed = Annotated[int, Meta(ge=low, le=high)]
    elif kind == "TIMESTAMP":
        typed = int
    elif kind == "DATE":
        typed = Annotated[int, Meta(multiple_of=_MS_PER_DAY)]
    elif kind == "TIME":
        typed = Annotated[int, Meta(ge=0, lt=_MS_PER_DAY)]
    elif kind in ("DOUBLE", "FLOAT", "REAL"):
        typed = float
    elif kind == "VARCHAR" or (kind == "CHAR" and length is None):
        typed = str if length is None else Annotated[str, Meta(max_length=length)]
    elif kind == "BOOLEAN":
        typed = bool
    else:
        return None
    if column.get("nullable", True) and not is_time:
        return typed | None
    return typed


def _json_batch_decoder(
    columns: Sequence[dict[str, Any]],
    converters: list[Converter],
    time_index: int | None,
    used: list[int],
    one_by_one: BatchDecoder,
) -> BatchDecoder:
    """The JSON decoder of whole batches: msgspec reads each record straight into a row.

    A struct has one field per column, in column order: each used column is read
    under its name with the type its converter accepts unchanged (:func:`_typed`);
    each unused one is read under a key no document has, so it is NULL and msgspec
    skips the real value. ``astuple`` makes the row. A batch where any record fails
    (bad JSON, a missing key, a value of another type, a NULL timestamp...) goes to
    ``one_by_one``, the reference, so results and reasons are always the reference's.
    """
    fields: list[tuple[str, Any, Any]] = []
    converted: list[tuple[int, Converter]] = []
    for index, column in enumerate(columns):
        if index not in used:
            fields.append((f"c{index}", Any, msgspec.field(
                default=None, name=f"pycql: column {index} is not read")))
            continue
        typed = _typed(column, index == time_index)
        if typed is None:
            typed = Any
            if str(column["type"]).upper() not in ("ANY", "NULL"):
                converted.append((index, converters[index]))
        fields.append((f"c{index}", typed, msgspec.field(name=str(column["name"]))))
    row_struct = msgspec.defstruct("Row", fields, gc=False, kw_only=True)
    read = msgspec.json.Decoder(row_struct).decode
    astuple = msgspec.structs.astuple
    fails = (msgspec.DecodeError, RecursionError, TypeError)  # TypeError: a null record
    time_of = None if time_index is None else itemgetter(time_index)

    def decode(batch: RecordBatch) -> BatchDecoded:
        values = batch.values
        if not values:
            return [], [], []
        try:
            rows: list[tuple[Any, ...]] = list(map(astuple, map(read, values)))  # type: ignore[arg-type]
        except fails:
            return one_by_one(batch)
        if converted:
            try:
                rows = _convert_columns(rows, converted)
            except _BadValue:
                return one_by_one(batch)
        times = batch.timestamps if time_of is None else list(map(time_of, rows))
        return rows, times, []

    return decode


def _convert_columns(rows: list[tuple[Any, ...]],
                     converted: list[tuple[int, Converter]]) -> list[tuple[Any, ...]]:
    """``rows`` with the converter of each ``converted`` column applied to its values."""
    columns = list(zip(*rows, strict=True))
    for index, convert in converted:
        columns[index] = tuple(map(convert, columns[index]))
    return list(zip(*columns, strict=True))


def _unused(value: Any) -> Any:
    return None


def _csv_decoder(
    columns: Sequence[dict[str, Any]], converters: list[Converter], time_index: int | None,
    used: set[int],
) -> BatchDecoder:
    width = len(columns)
    chosen = [convert if i in used else _unused for i, convert in enumerate(converters)]

    def decode(batch: RecordBatch) -> BatchDecoded:
        rows: list[tuple[Any, ...]] = []
        times: list[int] = []
        errors: list[tuple[int, str]] = []
        stamps = batch.timestamps if time_index is None else None
        for index, value in enumerate(batch.values):
            if value is None:
                errors.append((index, "no value (a null record)"))
                continue
            try:
                text = value.decode("utf-8")
                fields = next(csv.reader([text.rstrip("\r\n")], strict=True), [])
            except UnicodeDecodeError as exc:
                errors.append((index, f"not UTF-8 text: {exc}"))
                continue
            except csv.Error as exc:
                errors.append((index, f"malformed CSV: {exc}"))
                continue
            if len(fields) != width:
                errors.append((index, f"expected {width} CSV fields, got {len(fields)}"))
                continue
            try:
                row = tuple(
                    [
                        convert(field if field != "" else None)
                        for field, convert in zip(fields, chosen, strict=True)
                    ]
                )
            except _BadValue as bad:
                errors.append((index, str(bad)))
                continue
            if time_index is None:
                assert stamps is not None
                times.append(stamps[index])
            elif row[time_index] is None:
                errors.append((index, "no timestamp: the timestamp column is NULL"))
                continue
            else:
                times.append(row[time_index])
            rows.append(row)
        return rows, times, errors

    return decode


# -- encoders ---------------------------------------------------------------------


_NAIVE_EPOCH = _dt.datetime(1970, 1, 1)


_SECOND_TEXT: dict[int, str] = {}
_MILLIS_TEXT = [f"{millis:03d}Z" for millis in range(1000)]


def _iso_timestamp(value: int) -> str:
    """``1500`` -> ``'1970-01-01T00:00:01.500Z'``. The text up to the second is cached
    (rows of a stream come close together in time), so most calls format three digits.

    >>> _iso_timestamp(1500), _iso_timestamp(-1)
    ('1970-01-01T00:00:01.500Z', '1969-12-31T23:59:59.999Z')
    """
    second, millis = divmod(value, 1000)
    head = _SECOND_TEXT.get(second)
    if head is None:
        if len(_SECOND_TEXT) > 4096:
            _SECOND_TEXT.clear()
        moment = _NAIVE_EPOCH + _dt.timedelta(seconds=second)
        head = _SECOND_TEXT[second] = moment.isoformat(timespec="seconds") + "."
    return head + _MILLIS_TEXT[millis]


def _iso_date(value: int) -> str:
    return (_EPOCH.date() + _dt.timedelta(days=value // _MS_PER_DAY)).isoformat()


def _iso_time(value: int) -> str:
    seconds, millis = divmod(value, 1000)
    minutes, second = divmod(seconds, 60)
    hour, minute = divmod(minutes, 60)
    return f"{hour:02d}:{minute:02d}:{second:02d}.{millis:03d}"


def _base64(value: bytes) -> str:
    return base64.b64encode(value).decode("ascii")


_TEXT_OUT: dict[str, Callable[[Any], Any]] = {
    "TIMESTAMP": _iso_timestamp,
    "DATE": _iso_date,
    "TIME": _iso_time,
    "BINARY": _base64,
    "VARBINARY": _base64,
}


def _json_default(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return str(value)  # exact; the decoders read DECIMAL text back exactly
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def key_bytes(values: Sequence[Any]) -> bytes:
    """The record key of a table row with these key values: their JSON array, so the
    same key always gives the same bytes and compaction keeps the newest row.

    >>> key_bytes([7, "x"]), key_bytes([decimal.Decimal("1.50")])
    (b'[7,"x"]', b'["1.50"]')
    """
    return orjson.dumps(list(values), default=_json_default)


def make_encoder(columns: Sequence[dict[str, Any]], format: str = "json") -> Encoder:
    """A function encoding rows (in column order) as record values.

    Temporal values are written as ISO-8601 text (TIMESTAMP in UTC with
    milliseconds and ``Z``), DECIMAL as exact text; the decoders read both back.

    >>> encode = make_encoder([{"name": "A", "type": "INTEGER"},
    ...                        {"name": "T", "type": "TIMESTAMP"}])
    >>> encode([(1, 1500)])
    [b'{"A":1,"T":"1970-01-01T00:00:01.500Z"}']
    """
    names = [column["name"] for column in columns]
    text_out = [
        (index, _TEXT_OUT[str(column["type"]).upper()])
        for index, column in enumerate(columns)
        if str(column["type"]).upper() in _TEXT_OUT
    ]

    def prepare(row: Sequence[Any]) -> Sequence[Any]:
        if not text_out:
            return row
        values = list(row)
        for index, to_text in text_out:
            if values[index] is not None:
                values[index] = to_text(values[index])
        return values

    kind = format.lower()
    if kind == "json":
        if any(_UNWRITABLE_NAME.search(name) for name in map(str, names)):
            return _json_dict_encoder(names, prepare)
        return _json_encoder(columns)
    if kind == "csv":
        return _csv_encoder(names, prepare)
    raise NotSupportedError(f"unknown format {format!r}; use one of {', '.join(FORMATS)}")


def _json_encoder(columns: Sequence[dict[str, Any]]) -> Encoder:
    """A JSON encoder written for the columns: each row becomes an instance of a msgspec
    Struct with the columns as its fields (temporal values as their ISO text), and one
    ``encode_lines`` call writes the whole batch, split into its records at the newlines
    (JSON text has none but between values). The same documents as ``orjson.dumps`` of
    the row as an object with decimals as exact text (tested; a float's exponent may be
    written without its ``+``), at 0.4 of the cost of a ``bytes % tuple`` of orjson's
    values per row (Nexmark bids, 5 columns: 0.6 against 1.4 us a row)."""
    names = {f"c{index}": str(column["name"]) for index, column in enumerate(columns)}
    row_type = msgspec.defstruct("JsonRow", [(field, object) for field in names],
                                 rename=names)
    namespace: dict[str, Any] = {
        "Row": row_type,
        "lines": msgspec.json.Encoder(decimal_format="string").encode_lines}
    values: list[str] = []
    plain = True  # every value written as the engine holds it
    for index, column in enumerate(columns):
        kind = str(column["type"]).upper()
        value = f"r[{index}]"
        if kind in _TEXT_OUT:
            plain = False
            namespace[f"text{index}"] = _TEXT_OUT[kind]
            text = f"text{index}({value})"
            nullable = column.get("nullable", True) is not False
            value = f"(None if {value} is None else {text})" if nullable else text
        values.append(value)
    make = "[Row(*r) for r in rows]" if plain else f"[Row({', '.join(values)}) for r in rows]"
    body = ("def encode_json(rows):\n"
            "    if not rows:\n"
            "        return []\n"
            f"    out = lines({make}).split(b'\\n')\n"
            "    out.pop()  # after the last newline\n"
            "    return out\n")
    exec(compile(body, "<pycql json encoder>", "exec"), namespace)
    fn: Encoder = namespace["encode_json"]
    return fn


#: what msgspec will not write in a key (orjson escapes it)
_UNWRITABLE_NAME = re.compile(r'["\\\x00-\x1f]')


def _json_dict_encoder(names: list[str], prepare: Callable[[Sequence[Any]], Sequence[Any]]
                       ) -> Encoder:
    """The JSON encoder for columns whose names msgspec cannot write as keys (a quote, a
    backslash or a control character): orjson of a dict per row."""
    def encode_json(rows: Sequence[Sequence[Any]]) -> list[bytes]:
        return [orjson.dumps(dict(zip(names, prepare(row), strict=True)),
                             default=_json_default) for row in rows]

    return encode_json


def _csv_encoder(names: list[str], prepare: Callable[[Sequence[Any]], Sequence[Any]]
                 ) -> Encoder:
    def encode_csv(rows: Sequence[Sequence[Any]]) -> list[bytes]:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="")
        out = []
        for row in rows:
            buffer.seek(0)
            buffer.truncate()
            writer.writerow(["" if v is None else _csv_text(v) for v in prepare(row)])
            out.append(buffer.getvalue().encode("utf-8"))
        return out

    return encode_csv


def _csv_text(value: Any) -> Any:
    if value is True:
        return "true"
    if value is False:
        return "false"
    return value


# -- dead letters -------------------------------------------------------------------


def dead_letter_topic(topic: str) -> str:
    """The topic where records of ``topic`` that cannot be decoded go.

    >>> dead_letter_topic("S")
    'S.dead-letters'
    """
    return f"{topic}.dead-letters"


def _bytes_field(data: bytes | None) -> tuple[str | None, str | None]:
    if data is None:
        return None, None
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return base64.b64encode(data).decode("ascii"), "base64"


def dead_letter_record(record: Record, reason: str) -> OutRecord:
    """A JSON envelope describing ``record`` and why it was rejected.

    The raw key and value are kept as text when they are UTF-8, else base64
    (``key_encoding`` / ``value_encoding`` say which):

    >>> out = dead_letter_record(Record("S", 0, 7, 1000, None, b"{oops"), "malformed JSON")
    >>> orjson.loads(out.value)["value"], out.timestamp_ms
    ('{oops', 1000)
    """
    key, key_encoding = _bytes_field(record.key)
    value, value_encoding = _bytes_field(record.value)
    envelope = {
        "topic": record.topic,
        "partition": record.partition,
        "offset": record.offset,
        "timestamp_ms": record.timestamp_ms,
        "reason": reason,
        "key": key,
        "key_encoding": key_encoding,
        "value": value,
        "value_encoding": value_encoding,
    }
    return OutRecord(orjson.dumps(envelope), key=record.key, timestamp_ms=record.timestamp_ms)
