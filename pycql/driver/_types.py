"""PEP 249 type objects, constructors, and the conversions at the driver's edge.

Inside the engine, temporal values are integers (as in ``docs/plan-json.md``):

* ``TIMESTAMP``: epoch milliseconds (a wall-clock time read as UTC),
* ``DATE``: epoch milliseconds of midnight UTC,
* ``TIME``: milliseconds since midnight,
* ``INTERVAL_DAY_SECOND``: milliseconds, ``INTERVAL_YEAR_MONTH``: months.

A day-time interval is a :class:`datetime.timedelta` outside (whole milliseconds), a
year-month interval an :class:`int` of months, ``BINARY``/``VARBINARY`` :class:`bytes`.

The driver converts Python values to those integers on the way in (parameters,
``start``/``stop``) and back to :mod:`datetime` values on the way out:

>>> to_engine(Timestamp(2024, 1, 2, 3, 4, 5), "TIMESTAMP")
1704164645000
>>> from_engine(1704164645000, "TIMESTAMP")
datetime.datetime(2024, 1, 2, 3, 4, 5)
>>> STRING == "VARCHAR", NUMBER == "VARCHAR"
(True, False)
"""

from __future__ import annotations

import datetime as _dt
import decimal
import time as _time
from collections.abc import Callable, Sequence
from typing import Any

from pycql.errors import DataError, ProgrammingError

__all__ = [
    "BINARY",
    "BOOLEAN",
    "DATETIME",
    "NUMBER",
    "ROWID",
    "STRING",
    "Binary",
    "Date",
    "DateFromTicks",
    "Time",
    "TimeFromTicks",
    "Timestamp",
    "TimestampFromTicks",
    "epoch_ms",
    "from_engine",
    "output_converters",
    "row_converter",
    "to_engine",
]

_EPOCH = _dt.datetime(1970, 1, 1)
_EPOCH_UTC = _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC)
_MS_PER_DAY = 86_400_000
#: The largest day-time interval, in ms (as pycql.runtime.functions.MAX_INTERVAL_MS).
_MAX_INTERVAL_MS = 999_999_999 * _MS_PER_DAY


class DBAPITypeObject:
    """A PEP 249 type object: equal to every SQL type name of its group.

    ``cursor.description[i][1]`` (the type code) is the SQL type name of the
    column, e.g. ``"VARCHAR"``; compare it with these objects:

    >>> DATETIME == "TIMESTAMP"
    True
    """

    def __init__(self, name: str, *type_names: str) -> None:
        self.name = name
        self.type_names = frozenset(type_names)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, DBAPITypeObject):
            return other is self
        if isinstance(other, str):
            return other.upper() in self.type_names
        return NotImplemented

    def __ne__(self, other: object) -> bool:
        result = self.__eq__(other)
        return result if result is NotImplemented else not result

    def __hash__(self) -> int:
        return hash(self.name)

    def __repr__(self) -> str:
        return f"pycql.{self.name}"


STRING = DBAPITypeObject("STRING", "CHAR", "VARCHAR")
BINARY = DBAPITypeObject("BINARY", "BINARY", "VARBINARY")
NUMBER = DBAPITypeObject(
    "NUMBER", "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "DECIMAL", "FLOAT", "REAL", "DOUBLE"
)
DATETIME = DBAPITypeObject(
    "DATETIME", "DATE", "TIME", "TIMESTAMP", "INTERVAL_DAY_SECOND", "INTERVAL_YEAR_MONTH"
)
#: pycql rows have no row id; no column ever has this type.
ROWID = DBAPITypeObject("ROWID", "ROWID")
#: Not required by PEP 249, offered as psycopg does.
BOOLEAN = DBAPITypeObject("BOOLEAN", "BOOLEAN")

Date = _dt.date
Time = _dt.time
Timestamp = _dt.datetime
Binary = bytes


def DateFromTicks(ticks: float) -> _dt.date:
    """The local date of ``ticks`` seconds since the epoch (as PEP 249 says)."""
    return Date(*_time.localtime(ticks)[:3])


def TimeFromTicks(ticks: float) -> _dt.time:
    """The local time of day of ``ticks`` seconds since the epoch."""
    return Time(*_time.localtime(ticks)[3:6])


def TimestampFromTicks(ticks: float) -> _dt.datetime:
    """The local date and time of ``ticks`` seconds since the epoch."""
    return Timestamp(*_time.localtime(ticks)[:6])


def epoch_ms(value: _dt.datetime | _dt.date | int | float) -> int:
    """Epoch milliseconds of a datetime (naive = UTC), a date (midnight UTC), or a number.

    >>> epoch_ms(_dt.datetime(1970, 1, 1, 0, 0, 1))
    1000
    >>> epoch_ms(_dt.datetime(1970, 1, 1, 1, tzinfo=_dt.timezone(_dt.timedelta(hours=1))))
    0
    """
    if isinstance(value, bool):
        raise ProgrammingError(f"not a point in time: {value!r}")
    if isinstance(value, _dt.datetime):
        if value.tzinfo is None:
            delta = value - _EPOCH
        else:
            delta = value - _EPOCH_UTC
        return delta // _dt.timedelta(milliseconds=1)
    if isinstance(value, _dt.date):
        return (value - _EPOCH.date()).days * _MS_PER_DAY
    if isinstance(value, int | float):
        return int(value)
    raise ProgrammingError(f"not a point in time: {value!r}")


#: The range of each SQL integer type.
_INTEGER_RANGES = {
    "TINYINT": (-(1 << 7), (1 << 7) - 1),
    "SMALLINT": (-(1 << 15), (1 << 15) - 1),
    "INTEGER": (-(1 << 31), (1 << 31) - 1),
    "BIGINT": (-(1 << 63), (1 << 63) - 1),
}
_APPROXIMATE = ("FLOAT", "REAL", "DOUBLE")


def to_engine(
    value: Any,
    sql_type: str,
    *,
    precision: int | None = None,
    scale: int | None = None,
    what: str = "the value",
) -> Any:
    """Convert a Python value (a parameter) to the engine's value for ``sql_type``.

    Values are checked against the type, as a database checks an assignment:
    a number given as text (``"1"``) is converted, anything else that does not
    fit is a :class:`~pycql.errors.DataError` naming ``what`` (a parameter or a
    column), never a value that silently matches nothing. :mod:`datetime`
    values become the engine's integers.

    >>> to_engine("42", "INTEGER")
    42
    >>> to_engine("not-an-int", "INTEGER", what="column K")
    Traceback (most recent call last):
    ...
    pycql.errors.DataError: column K is an INTEGER: 'not-an-int' is not a whole number
    """
    if value is None:
        return None
    kind = sql_type.upper()
    if kind in _INTEGER_RANGES:
        return _to_integer(value, kind, what)
    if kind == "DECIMAL":
        return _to_decimal(value, precision, scale, what)
    if kind in _APPROXIMATE:
        return _to_float(value, kind, what)
    if kind == "BOOLEAN":
        if isinstance(value, bool):
            return value
        raise DataError(f"{what} is a BOOLEAN: pass True or False, not {value!r}")
    if kind in ("CHAR", "VARCHAR"):
        if isinstance(value, bytes | bytearray | memoryview):
            try:
                value = bytes(value).decode()
            except UnicodeDecodeError as exc:
                raise DataError(f"{what} is a {kind}: the bytes given are not UTF-8 "
                                f"({exc.reason} at byte {exc.start})") from None
        if not isinstance(value, str):
            raise DataError(f"{what} is a {kind}: pass a str, not {type(value).__name__} {value!r}")
        if precision is not None and 0 <= precision < len(value):
            raise DataError(
                f"{what} is a {kind}({precision}): {value[:20]!r}... has {len(value)} characters"
                if len(value) > 20 else
                f"{what} is a {kind}({precision}): {value!r} has {len(value)} characters"
            )
        return value
    if kind in ("TIMESTAMP", "DATE"):
        if isinstance(value, _dt.date | int | float) and not isinstance(value, bool):
            return epoch_ms(value)
        if isinstance(value, str):
            return epoch_ms(_parse_datetime(value))
        raise DataError(f"cannot use {value!r} as a {kind} ({what})")
    if kind == "TIME":
        if isinstance(value, _dt.time):
            return ((value.hour * 60 + value.minute) * 60 + value.second) * 1000 + (
                value.microsecond // 1000
            )
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise DataError(f"cannot use {value!r} as a TIME ({what})")
    if kind == "INTERVAL_DAY_SECOND":
        if isinstance(value, _dt.timedelta):
            ms, rest = divmod(value, _dt.timedelta(milliseconds=1))
            if rest:
                raise DataError(f"{what} is an INTERVAL DAY TO SECOND of whole milliseconds: "
                                f"{value!r} is not")
            value = ms
        elif isinstance(value, bool) or not isinstance(value, int):
            raise DataError(f"{what} is an INTERVAL DAY TO SECOND: pass a datetime.timedelta "
                            f"(or milliseconds), not {type(value).__name__} {value!r}")
        if not -_MAX_INTERVAL_MS <= value <= _MAX_INTERVAL_MS:
            raise DataError(f"{what} is an INTERVAL DAY TO SECOND: {value!r} ms is out of its "
                            "range")
        return value
    if kind == "INTERVAL_YEAR_MONTH":
        if isinstance(value, bool) or not isinstance(value, int):
            raise DataError(f"{what} is an INTERVAL YEAR TO MONTH: pass an int of months, not "
                            f"{type(value).__name__} {value!r}")
        if not -(2**31) <= value <= 2**31 - 1:
            raise DataError(f"{what} is an INTERVAL YEAR TO MONTH: {value} months is out of its "
                            "range")
        return value
    if kind in ("BINARY", "VARBINARY"):
        if not isinstance(value, bytes | bytearray | memoryview):
            raise DataError(f"{what} is a {kind}: pass bytes, not {type(value).__name__} "
                            f"{value!r}")
        data = bytes(value)
        if precision is not None and 0 <= precision < len(data):
            raise DataError(f"{what} is a {kind}({precision}): {len(data)} bytes given")
        if kind == "BINARY" and precision is not None and len(data) < precision:
            data = data.ljust(precision, b"\0")
        return data
    if isinstance(value, _dt.datetime):  # e.g. a datetime for an untyped (ANY) parameter
        return epoch_ms(value)
    return value


def _article(kind: str) -> str:
    return "an" if kind[0] in "AEIOU" else "a"


def _number_text(value: str) -> str:
    return value.strip().replace("_", "")


def _to_integer(value: Any, kind: str, what: str) -> int:
    low, high = _INTEGER_RANGES[kind]
    where = f"{what} is {_article(kind)} {kind}"
    number: int
    if isinstance(value, bool):
        raise DataError(f"{where}: pass a number, not {value!r}")
    if isinstance(value, int):
        number = value
    elif isinstance(value, float | decimal.Decimal):
        if not (value == value and value not in (float("inf"), float("-inf"))) or value % 1:
            raise DataError(f"{where}: {value!r} is not a whole number")
        number = int(value)
    elif isinstance(value, str):
        try:
            number = int(_number_text(value))
        except ValueError:
            raise DataError(f"{where}: {value!r} is not a whole number") from None
    else:
        raise DataError(f"{where}: pass a number, not {type(value).__name__} {value!r}")
    if not low <= number <= high:
        raise DataError(f"{where}: {number} is out of its range {low}..{high}")
    return number


def _to_decimal(value: Any, precision: int | None, scale: int | None, what: str) -> Any:
    if isinstance(value, bool):
        raise DataError(f"{what} is a DECIMAL: pass a number, not {value!r}")
    try:
        if isinstance(value, decimal.Decimal):
            number = value
        elif isinstance(value, int):
            number = decimal.Decimal(value)
        elif isinstance(value, float):
            number = decimal.Decimal(repr(value))
        elif isinstance(value, str):
            number = decimal.Decimal(_number_text(value))
        else:
            raise DataError(f"{what} is a DECIMAL: pass a number, not {type(value).__name__} "
                            f"{value!r}")
    except decimal.InvalidOperation:
        raise DataError(f"{what} is a DECIMAL: {value!r} is not a number") from None
    if not number.is_finite():
        raise DataError(f"{what} is a DECIMAL: {value!r} is not a finite number")
    if precision is not None and precision > 0:
        digits = precision - (scale or 0)
        if abs(number) >= decimal.Decimal(10) ** digits:
            raise DataError(
                f"{what} is a DECIMAL({precision}, {scale or 0}): {value!r} does not fit"
            )
    return number


def _to_float(value: Any, kind: str, what: str) -> float:
    if isinstance(value, bool):
        raise DataError(f"{what} is a {kind}: pass a number, not {value!r}")
    if isinstance(value, int | float | decimal.Decimal):
        try:
            return float(value)
        except OverflowError:
            raise DataError(f"{what} is a {kind}: {value!r} is too large") from None
    if isinstance(value, str):
        try:
            return float(_number_text(value))
        except ValueError:
            raise DataError(f"{what} is a {kind}: {value!r} is not a number") from None
    raise DataError(f"{what} is a {kind}: pass a number, not {type(value).__name__} {value!r}")


def _parse_datetime(text: str) -> _dt.datetime:
    try:
        return _dt.datetime.fromisoformat(text)
    except ValueError:
        raise DataError(f"not a timestamp: {text!r} (use ISO 8601, e.g. 2024-01-02 03:04:05)")\
            from None


#: one millisecond: ``_MS * n`` is ``timedelta(milliseconds=n)`` for an int ``n``, at half
#: the cost (no keyword arguments to parse, no float arithmetic)
_MS = _dt.timedelta(milliseconds=1)


def _timestamp_out(value: Any) -> Any:
    if type(value) is int:
        return _EPOCH + _MS * value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _EPOCH + _dt.timedelta(milliseconds=value)
    return value


def _date_out(value: Any) -> Any:
    if type(value) is int:
        return (_EPOCH + _MS * value).date()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return (_EPOCH + _dt.timedelta(milliseconds=value)).date()
    return value


def _time_out(value: Any) -> Any:
    if type(value) is int:
        return (_EPOCH + _MS * value).time()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return (_EPOCH + _dt.timedelta(milliseconds=value)).time()
    return value


def _interval_out(value: Any) -> Any:
    if type(value) is int:
        return _MS * value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _dt.timedelta(milliseconds=value)
    return value


_OUTPUT: dict[str, Callable[[Any], Any]] = {
    "TIMESTAMP": _timestamp_out,
    "DATE": _date_out,
    "TIME": _time_out,
    "INTERVAL_DAY_SECOND": _interval_out,
}


def from_engine(value: Any, sql_type: str) -> Any:
    """Convert one engine value of ``sql_type`` to the Python value a user sees."""
    if value is None:
        return None
    convert = _OUTPUT.get(sql_type.upper())
    return value if convert is None else convert(value)


def output_converters(types: list[str]) -> list[tuple[int, Callable[[Any], Any]]] | None:
    """The (column index, converter) pairs a result needs, or ``None`` when no column needs one.

    Computed once per result so that rows of plain numbers and strings are not
    touched at all. A value Python's :mod:`datetime` cannot hold (past year 9999)
    is a :class:`~pycql.errors.DataError`, not an ``OverflowError``.
    """
    pairs = [(i, _checked(_OUTPUT[t.upper()], t.upper())) for i, t in enumerate(types)
             if t.upper() in _OUTPUT]
    return pairs or None


RowConverter = Callable[[Sequence[Any]], tuple[Any, ...]]


def row_converter(types: list[str]) -> RowConverter | None:
    """One function for a result's rows, engine values to what a user sees (the columns of
    :func:`output_converters`), or ``None`` when no column needs converting.

    It is compiled per result as one tuple display, ``(row[0], c1(row[1]), ...)``, so a
    row costs one call and the converters only, not a list, a loop and a tuple. A value
    :mod:`datetime` cannot hold raises the :class:`~pycql.errors.DataError` of
    :func:`output_converters`.
    """
    checked = output_converters(types)
    if checked is None:
        return None
    namespace: dict[str, Any] = {"_errors": (OverflowError, ValueError),
                                 "_checked": dict(checked)}
    items = []
    for i, t in enumerate(types):
        if t.upper() in _OUTPUT:
            namespace[f"c{i}"] = _OUTPUT[t.upper()]
            items.append(f"None if (v{i} := row[{i}]) is None else c{i}(v{i})")
        else:
            items.append(f"row[{i}]")
    slow = ", ".join(f"row[{i}] if row[{i}] is None or {i} not in _checked "
                     f"else _checked[{i}](row[{i}])" for i in range(len(types)))
    source = (f"def convert(row):\n"
              f"    try:\n"
              f"        return ({', '.join(items)},)\n"
              f"    except _errors:\n"  # say which kind of value could not be held
              f"        return ({slow},)\n")
    exec(compile(source, "<pycql row converter>", "exec"), namespace)
    fn: RowConverter = namespace["convert"]
    return fn


def _checked(convert: Callable[[Any], Any], kind: str) -> Callable[[Any], Any]:
    def checked(value: Any) -> Any:
        try:
            return convert(value)
        except (OverflowError, ValueError):
            raise DataError(
                f"the {kind} value {value!r} is outside what Python's datetime can hold "
                "(years 1 to 9999)"
            ) from None

    return checked


def rowtime_datetime(ms: int) -> _dt.datetime:
    """The UTC-aware datetime of an epoch-millisecond row time."""
    return _EPOCH_UTC + _dt.timedelta(milliseconds=ms)
