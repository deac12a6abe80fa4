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

* JSON (orjson): one object per record, keys matched to column names
  case-insensitively; a missing key is NULL. A batch is decoded column by
  column in C-level loops; a batch holding anything unusual (an error, a
  key in another case, a value needing conversion the batch checks do not
  know) is decoded again record by record, which decides rows and reasons.
  Every column is checked, whether the query reads it or not: a record is
  valid or dead-lettered the same way for every query over its topic.
* CSV (the csv module): fields in column order; an empty field is NULL.
"""

from __future__ import annotations

import base64
import csv
import datetime as _dt
import decimal
import io
import math
from collections.abc import Callable, Sequence
from operator import itemgetter
from typing import Any

import orjson

from pycql.errors import NotSupportedError, ProgrammingError
from pycql.log.base import OutRecord, Record

__all__ = [
    "DecodedBatch",
    "Decoder",
    "Encoder",
    "dead_letter_record",
    "dead_letter_topic",
    "make_decoder",
    "make_encoder",
]

#: Rows (in declared column order), their epoch-ms timestamps, and the records
#: that could not be decoded with the reason.
DecodedBatch = tuple[list[tuple[Any, ...]], list[int], list[tuple[Record, str]]]
Decoder = Callable[[Sequence[Record]], DecodedBatch]
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
    columns: Sequence[dict[str, Any]], format: str = "json", timestamp: str | None = None
) -> Decoder:
    """A function decoding a batch of records into rows, timestamps and errors.

    ``timestamp`` names the column holding each row's event time (TIMESTAMP or
    BIGINT epoch ms); without it the record's own timestamp is used.
    """
    converters = [_converter(column) for column in columns]
    time_index = _timestamp_index(columns, timestamp)
    kind = format.lower()
    if kind == "json":
        return _json_decoder(columns, converters, time_index)
    if kind == "csv":
        return _csv_decoder(columns, converters, time_index)
    raise NotSupportedError(f"unknown format {format!r}; use one of {', '.join(FORMATS)}")


def _finish(
    record: Record,
    row: tuple[Any, ...],
    time_index: int | None,
    rows: list[tuple[Any, ...]],
    times: list[int],
    errors: list[tuple[Record, str]],
) -> None:
    if time_index is None:
        rows.append(row)
        times.append(record.timestamp_ms)
        return
    moment = row[time_index]
    if moment is None:
        errors.append((record, "no timestamp: the timestamp column is NULL"))
        return
    rows.append(row)
    times.append(moment)


def _json_decoder(
    columns: Sequence[dict[str, Any]], converters: list[Converter], time_index: int | None
) -> Decoder:
    one_by_one = _json_record_decoder(columns, converters, time_index)
    return _json_batch_decoder(columns, converters, time_index, one_by_one)


def _json_record_decoder(
    columns: Sequence[dict[str, Any]], converters: list[Converter], time_index: int | None
) -> Decoder:
    """The reference JSON decoder: one record at a time, every value converted."""
    exact = [(column["name"], convert) for column, convert in zip(columns, converters, strict=True)]
    folded = [(name.lower(), convert) for name, convert in exact]
    loads = orjson.loads
    decode_error = orjson.JSONDecodeError

    def decode(records: Sequence[Record]) -> DecodedBatch:
        rows: list[tuple[Any, ...]] = []
        times: list[int] = []
        errors: list[tuple[Record, str]] = []
        for record in records:
            value = record.value
            if value is None:
                errors.append((record, "no value (a null record)"))
                continue
            try:
                document = loads(value)
            except decode_error as exc:
                errors.append((record, f"malformed JSON: {exc}"))
                continue
            if type(document) is not dict:
                errors.append((record, f"expected a JSON object, got {type(document).__name__}"))
                continue
            try:
                try:
                    row = tuple([convert(document[name]) for name, convert in exact])
                except KeyError:
                    lowered = {str(key).lower(): item for key, item in document.items()}
                    row = tuple([convert(lowered.get(name)) for name, convert in folded])
            except _BadValue as bad:
                errors.append((record, str(bad)))
                continue
            _finish(record, row, time_index, rows, times, errors)
        return rows, times, errors

    return decode


#: Checks one column of a batch of rows (tuples of decoded JSON values):
#: True when every value already is the engine's value, False when some value
#: needs the record-at-a-time decoder, or the converted column as a list.
ColumnCheck = Callable[[list[tuple[Any, ...]]], list[Any] | bool]

_NoneType = type(None)


def _only(values: list[Any], expected: type, nullable: bool) -> list[Any] | None:
    """The non-NULL ``values`` when all of them have type ``expected``, else None."""
    types = set(map(type, values))
    if len(types) == 1:
        if expected in types:
            return values
        return [] if nullable and _NoneType in types else None
    if nullable and len(types) == 2 and expected in types and _NoneType in types:
        return [v for v in values if v is not None]
    return None


def _column_check(index: int, column: dict[str, Any], convert: Converter) -> ColumnCheck:
    """The batch check of column ``index``; it agrees with ``convert`` on every value.

    orjson reads JSON integers into ``int`` only from -2**63 to 2**64 - 1 (others
    become floats), so a BIGINT column needs no lower-bound check.
    """
    kind = str(column["type"]).upper()
    nullable = bool(column.get("nullable", True))
    length = column.get("precision")
    pick = itemgetter(index)

    if kind in _INT_RANGES or kind in ("TIMESTAMP", "DATE", "TIME"):
        low, high = _INT_RANGES.get(kind, (None, None))
        if kind == "TIME":
            low, high = 0, _MS_PER_DAY - 1
        if low is not None and low <= -(2**63):
            low = None

        def integers(rows: list[tuple[Any, ...]]) -> list[Any] | bool:
            present = _only(list(map(pick, rows)), int, nullable)
            if present is None:
                return False
            if present:
                if high is not None and max(present) > high:
                    return False
                if low is not None and min(present) < low:
                    return False
                if kind == "DATE" and any(v % _MS_PER_DAY for v in present):
                    return False
            return True

        return integers
    if kind in ("DOUBLE", "FLOAT", "REAL"):
        numbers = {float, int, _NoneType} if nullable else {float, int}

        def floats(rows: list[tuple[Any, ...]]) -> list[Any] | bool:
            values = list(map(pick, rows))
            types = set(map(type, values))
            if types == {float}:
                return True
            if types <= numbers:
                return [float(v) if type(v) is int else v for v in values]
            return False

        return floats
    if kind in ("VARCHAR", "CHAR"):
        pad = kind == "CHAR" and length is not None

        def strings(rows: list[tuple[Any, ...]]) -> list[Any] | bool:
            values = list(map(pick, rows))
            present = _only(values, str, nullable)
            if present is None:
                return False
            if length is not None and present:
                if max(map(len, present)) > length:
                    return False
                if pad and min(map(len, present)) < length:
                    return [None if v is None else v.ljust(length) for v in values]
            return True

        return strings
    if kind == "BOOLEAN":

        def booleans(rows: list[tuple[Any, ...]]) -> list[Any] | bool:
            return _only(list(map(pick, rows)), bool, nullable) is not None

        return booleans

    def converted(rows: list[tuple[Any, ...]]) -> list[Any] | bool:
        try:
            return list(map(convert, map(pick, rows)))
        except _BadValue:
            return False

    return converted


def _json_batch_decoder(
    columns: Sequence[dict[str, Any]],
    converters: list[Converter],
    time_index: int | None,
    one_by_one: Decoder,
) -> Decoder:
    """The JSON decoder of whole batches, in C-level loops (``map``).

    Each record is parsed and its values picked by one ``itemgetter`` into a
    row; then each column is checked in one pass (types, ranges, lengths).
    A batch with anything unusual (bad JSON, a missing or differently-cased
    key, a value of another type, a NULL timestamp) goes to ``one_by_one``,
    the reference decoder, so the results and error reasons are always the
    reference's.
    """
    width = len(columns)
    if width == 0:
        return one_by_one
    checks = [
        _column_check(index, column, convert)
        for index, (column, convert) in enumerate(zip(columns, converters, strict=True))
    ]
    pick = itemgetter(*[column["name"] for column in columns])
    loads = orjson.loads
    value_of = itemgetter(5)  # Record.value
    timestamp_of = itemgetter(3)  # Record.timestamp_ms
    time_of = None if time_index is None else itemgetter(time_index)
    unusual = (orjson.JSONDecodeError, KeyError, TypeError, IndexError)

    def decode(records: Sequence[Record]) -> DecodedBatch:
        if not records:
            return [], [], []
        try:
            picked = map(pick, map(loads, map(value_of, records)))
            rows: list[tuple[Any, ...]] = list(zip(picked)) if width == 1 else list(picked)
        except unusual:
            return one_by_one(records)
        converted: dict[int, list[Any]] = {}
        for index, check in enumerate(checks):
            fits = check(rows)
            if fits is False:
                return one_by_one(records)
            if fits is not True:
                converted[index] = fits
        if converted:
            columns_now = [
                converted[i] if i in converted else list(map(itemgetter(i), rows))
                for i in range(width)
            ]
            rows = list(zip(*columns_now, strict=True))
        if time_of is None:
            times: list[int] = list(map(timestamp_of, records))
        else:
            times = list(map(time_of, rows))
            if None in times:
                return one_by_one(records)
        return rows, times, []

    return decode


def _csv_decoder(
    columns: Sequence[dict[str, Any]], converters: list[Converter], time_index: int | None
) -> Decoder:
    width = len(columns)

    def decode(records: Sequence[Record]) -> DecodedBatch:
        rows: list[tuple[Any, ...]] = []
        times: list[int] = []
        errors: list[tuple[Record, str]] = []
        for record in records:
            value = record.value
            if value is None:
                errors.append((record, "no value (a null record)"))
                continue
            try:
                text = value.decode("utf-8")
                fields = next(csv.reader([text.rstrip("\r\n")], strict=True), [])
            except UnicodeDecodeError as exc:
                errors.append((record, f"not UTF-8 text: {exc}"))
                continue
            except csv.Error as exc:
                errors.append((record, f"malformed CSV: {exc}"))
                continue
            if len(fields) != width:
                errors.append((record, f"expected {width} CSV fields, got {len(fields)}"))
                continue
            try:
                row = tuple(
                    [
                        convert(field if field != "" else None)
                        for field, convert in zip(fields, converters, strict=True)
                    ]
                )
            except _BadValue as bad:
                errors.append((record, str(bad)))
                continue
            _finish(record, row, time_index, rows, times, errors)
        return rows, times, errors

    return decode


# -- encoders ---------------------------------------------------------------------


_NAIVE_EPOCH = _dt.datetime(1970, 1, 1)


_SECOND_TEXT: dict[int, str] = {}


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
    return f"{head}{millis:03d}Z"


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
        return _json_encoder(columns)
    if kind == "csv":
        return _csv_encoder(names, prepare)
    raise NotSupportedError(f"unknown format {format!r}; use one of {', '.join(FORMATS)}")


#: Types whose engine values orjson writes as they are (ints, floats, text, booleans).
_PLAIN_JSON = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "VARCHAR", "CHAR", "BOOLEAN",
               "DOUBLE", "FLOAT", "REAL"}


def _json_encoder(columns: Sequence[dict[str, Any]]) -> Encoder:
    """A JSON encoder written for the columns: one ``bytes % tuple`` per row, each value
    written by ``orjson`` (temporal values as their ISO text, decimals as exact text),
    the same bytes as ``orjson.dumps`` of
    the row as an object (tested), at half the cost or less (no dict per row)."""
    parts: list[bytes] = []
    values: list[str] = []
    namespace: dict[str, Any] = {"dumps": orjson.dumps, "default": _json_default,
                                 "NULL": b"null"}
    for index, column in enumerate(columns):
        kind = str(column["type"]).upper()
        nullable = column.get("nullable", True) is not False
        v = f"r[{index}]"
        slot = b"%b"
        if kind in _TEXT_OUT:
            namespace[f"text{index}"] = _TEXT_OUT[kind]
            expr = f"dumps(text{index}({v}))"
            if nullable:
                expr = f"(NULL if {v} is None else {expr})"
        elif kind in _PLAIN_JSON:
            expr = f"dumps({v})"
        else:  # DECIMAL (exact text) and the rest
            expr = f"dumps({v}, default=default)"
        name = orjson.dumps(str(column["name"])).replace(b"%", b"%%")
        parts.append((b"{" if index == 0 else b",") + name + b":" + slot)
        values.append(expr)
    template = b"".join(parts) + b"}" if parts else b"{}"
    namespace["TEMPLATE"] = template
    body = ("def encode_json(rows):\n"
            f"    return [TEMPLATE % ({', '.join(values)}{',' if len(values) == 1 else ''})"
            " for r in rows]\n") if values else (
            "def encode_json(rows):\n    return [TEMPLATE for r in rows]\n")
    exec(compile(body, "<pycql json encoder>", "exec"), namespace)
    fn: Encoder = namespace["encode_json"]
    return fn


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
