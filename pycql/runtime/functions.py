"""SQL built-in functions that compiled expressions call.

Compiled expression code (see :mod:`pycql.runtime.expr`) inlines what Python
does natively (``+``, comparisons, ``len``) and calls these helpers for the rest.
Each helper takes non-NULL arguments (NULL checks are compiled around the call)
unless its docstring says otherwise.

Temporal values are integers: ``DATE``/``TIME``/``TIMESTAMP`` are epoch
milliseconds (``TIME``: milliseconds of the day), day-second intervals are
milliseconds and year-month intervals are months.

>>> int_divide(-7, 2), sql_mod(-7, 2)
(-3, -1)
>>> like_regex("a%_c", None).fullmatch("abxc") is not None
True
>>> extract("YEAR", 0), extract("DOW", 0)
(1970, 5)
"""

from __future__ import annotations

import calendar
import datetime as _dt
import math
import re
import time
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import Any

from pycql.errors import DataError

_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC)
_DAY_MS = 86_400_000

INTEGER_TYPES = frozenset({"TINYINT", "SMALLINT", "INTEGER", "BIGINT"})
INTERVAL_TYPES = frozenset({"INTERVAL_DAY_SECOND", "INTERVAL_YEAR_MONTH"})
FLOAT_TYPES = frozenset({"FLOAT", "REAL", "DOUBLE"})
STRING_TYPES = frozenset({"CHAR", "VARCHAR"})
TEMPORAL_TYPES = frozenset({"DATE", "TIME", "TIMESTAMP"})


def type_family(sql_type: str) -> str:
    """Collapse a SQL type name into its family: integer, float, decimal, string, ...

    Interval types of Calcite's finer names (``INTERVAL_SECOND``,
    ``INTERVAL_MONTH`` ...) map onto the two interval families.
    """
    t = sql_type.upper()
    if t in INTEGER_TYPES:
        return "integer"
    if t in FLOAT_TYPES:
        return "float"
    if t == "DECIMAL":
        return "decimal"
    if t in STRING_TYPES:
        return "string"
    if t == "BOOLEAN":
        return "boolean"
    if t.startswith("INTERVAL"):
        if "YEAR" in t or "MONTH" in t:
            return "interval_ym"
        return "interval_ds"
    if t in TEMPORAL_TYPES or t.startswith("TIMESTAMP"):
        return t.split("_")[0].lower() if t.startswith("TIMESTAMP") else t.lower()
    return "other"


def int_divide(a: int, b: int) -> int:
    """Integer division truncating towards zero (SQL), not flooring (Python)."""
    if b == 0:
        raise DataError("division by zero")
    q = a // b
    if q < 0 and q * b != a:
        q += 1
    return q


def sql_mod(a: Any, b: Any) -> Any:
    """``MOD``: the remainder has the sign of the dividend."""
    if b == 0:
        raise DataError("division by zero")
    if isinstance(a, int) and isinstance(b, int):
        return a - b * int_divide(a, b)
    return math.fmod(a, b)


def sql_divide(a: Any, b: Any) -> Any:
    """Non-integer ``/`` with a clear error on zero."""
    if b == 0:
        raise DataError("division by zero")
    return a / b


def is_distinct(a: Any, b: Any) -> bool:
    """``a IS DISTINCT FROM b`` (NULL-aware, never NULL)."""
    if a is None or b is None:
        return (a is None) != (b is None)
    return bool(a != b)


def sql_round(x: Any, digits: int = 0) -> Any:
    """``ROUND``: half away from zero (Python's ``round`` rounds half to even)."""
    if isinstance(x, int) and digits >= 0:
        return x
    q = Decimal(1).scaleb(-digits)
    r = Decimal(repr(x) if isinstance(x, float) else x).quantize(q, rounding=ROUND_HALF_UP)
    return _like_input(r, x)


def sql_truncate(x: Any, digits: int = 0) -> Any:
    """``TRUNCATE(x, n)``: cut towards zero at ``n`` decimals."""
    if isinstance(x, int) and digits >= 0:
        return x
    q = Decimal(1).scaleb(-digits)
    r = Decimal(repr(x) if isinstance(x, float) else x).quantize(q, rounding=ROUND_DOWN)
    return _like_input(r, x)


def _like_input(result: Decimal, x: Any) -> Any:
    """``result`` in the Python type of ``x`` (int, float or Decimal)."""
    if isinstance(x, Decimal):
        return result
    return int(result) if isinstance(x, int) else float(result)


def sql_floor(x: Any, as_int: bool) -> Any:
    """Numeric ``FLOOR``; ``as_int`` when the result type is an integer type."""
    f = math.floor(x)
    if as_int or isinstance(x, int):
        return f
    return Decimal(f) if isinstance(x, Decimal) else float(f)


def sql_ceil(x: Any, as_int: bool) -> Any:
    """Numeric ``CEIL``."""
    f = math.ceil(x)
    if as_int or isinstance(x, int):
        return f
    return Decimal(f) if isinstance(x, Decimal) else float(f)


def sql_sign(x: Any) -> Any:
    """``SIGN``: -1, 0 or 1 in the type of ``x``."""
    s = (x > 0) - (x < 0)
    return float(s) if isinstance(x, float) else s


def sql_ln(x: Any) -> float:
    """``LN`` with a clear error outside the domain."""
    if x <= 0:
        raise DataError(f"cannot take the logarithm of {x}")
    return math.log(x)


def sql_log10(x: Any) -> float:
    """``LOG10``."""
    if x <= 0:
        raise DataError(f"cannot take the logarithm of {x}")
    return math.log10(x)


def sql_sqrt(x: Any) -> float:
    """``SQRT``."""
    if x < 0:
        raise DataError(f"cannot take the square root of {x}")
    return math.sqrt(x)


def sql_power(x: Any, y: Any) -> float:
    """``POWER`` (always DOUBLE in SQL)."""
    try:
        return math.pow(x, y)
    except (ValueError, OverflowError) as exc:
        raise DataError(f"POWER({x}, {y}): {exc}") from None


def substring(s: str, start: int, length: int | None = None) -> str:
    """``SUBSTRING(s FROM start [FOR length])`` with SQL's 1-based positions."""
    if length is not None:
        if length < 0:
            raise DataError("negative substring length")
        end = start + length
        begin = max(start, 1)
        if end <= begin:
            return ""
        return s[begin - 1 : end - 1]
    return s[max(start, 1) - 1 :]


def trim(flag: str, chars: str, s: str) -> str:
    """``TRIM([BOTH|LEADING|TRAILING] chars FROM s)``."""
    flag = flag.upper()
    if flag == "LEADING":
        return s.lstrip(chars)
    if flag == "TRAILING":
        return s.rstrip(chars)
    return s.strip(chars)


def overlay(s: str, repl: str, start: int, length: int | None = None) -> str:
    """``OVERLAY(s PLACING repl FROM start [FOR length])``."""
    n = len(repl) if length is None else length
    return s[: start - 1] + repl + s[start - 1 + n :]


def initcap(s: str) -> str:
    """``INITCAP``: first letter of each word upper case, the rest lower case."""
    return re.sub(r"[A-Za-z0-9]+", lambda m: m.group(0).capitalize(), s)


@lru_cache(maxsize=256)
def like_regex(pattern: str, escape: str | None) -> re.Pattern[str]:
    """The regular expression of a SQL ``LIKE`` pattern (``%``, ``_``, ``ESCAPE``)."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if escape is not None and ch == escape:
            if i + 1 >= len(pattern):
                raise DataError(f"LIKE pattern {pattern!r} ends with its escape character")
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        if ch == "%":
            out.append(".*")
        elif ch == "_":
            out.append(".")
        else:
            out.append(re.escape(ch))
        i += 1
    return re.compile("".join(out), re.DOTALL)


def like(s: str, pattern: str, escape: str | None = None) -> bool:
    """``s LIKE pattern [ESCAPE escape]`` for a pattern known only at run time."""
    return like_regex(pattern, escape).fullmatch(s) is not None


@lru_cache(maxsize=256)
def similar_regex(pattern: str, escape: str | None) -> re.Pattern[str]:
    """The regular expression of a SQL ``SIMILAR TO`` pattern."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if escape is not None and ch == escape and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        if ch == "%":
            out.append(".*")
        elif ch == "_":
            out.append(".")
        else:
            out.append(ch)
        i += 1
    return re.compile("".join(out), re.DOTALL)


def similar(s: str, pattern: str, escape: str | None = None) -> bool:
    """``s SIMILAR TO pattern``."""
    return similar_regex(pattern, escape).fullmatch(s) is not None


# --- temporal -----------------------------------------------------------------


def ms_to_datetime(ms: int) -> _dt.datetime:
    """Epoch milliseconds to an aware UTC datetime."""
    return _EPOCH + _dt.timedelta(milliseconds=ms)


def datetime_to_ms(value: _dt.datetime) -> int:
    """Aware or naive (taken as UTC) datetime to epoch milliseconds."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=_dt.UTC)
    delta = value - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


def add_months(ms: int, months: int) -> int:
    """Add a year-month interval to a DATE/TIMESTAMP, clamping the day of month."""
    d = ms_to_datetime(ms)
    total = d.year * 12 + (d.month - 1) + months
    year, month = divmod(total, 12)
    day = min(d.day, calendar.monthrange(year, month + 1)[1])
    return datetime_to_ms(d.replace(year=year, month=month + 1, day=day))


def months_between(a: int, b: int) -> int:
    """``(a - b) MONTH``: whole months from ``b`` to ``a``."""
    da, db = ms_to_datetime(a), ms_to_datetime(b)
    months = (da.year - db.year) * 12 + da.month - db.month
    if months > 0 and (da.day, da.time()) < (db.day, db.time()):
        months -= 1
    elif months < 0 and (da.day, da.time()) > (db.day, db.time()):
        months += 1
    return months


def extract(unit: str, ms: int) -> int:
    """``EXTRACT(unit FROM t)`` for a DATE/TIMESTAMP/TIME in epoch milliseconds."""
    unit = unit.upper()
    if unit == "EPOCH":
        return ms // 1000
    if unit == "MILLISECOND":
        return (ms % 60_000)
    if unit == "MICROSECOND":
        return (ms % 60_000) * 1000
    d = ms_to_datetime(ms)
    if unit == "YEAR":
        return d.year
    if unit == "QUARTER":
        return (d.month - 1) // 3 + 1
    if unit == "MONTH":
        return d.month
    if unit == "WEEK":
        return d.isocalendar()[1]
    if unit == "DAY":
        return d.day
    if unit == "DOY":
        return d.timetuple().tm_yday
    if unit == "DOW":
        return (d.weekday() + 1) % 7 + 1  # Sunday = 1
    if unit == "ISODOW":
        return d.isoweekday()
    if unit == "HOUR":
        return d.hour
    if unit == "MINUTE":
        return d.minute
    if unit == "SECOND":
        return d.second
    if unit == "DECADE":
        return d.year // 10
    if unit == "CENTURY":
        return (d.year + 99) // 100
    if unit == "MILLENNIUM":
        return (d.year + 999) // 1000
    raise DataError(f"EXTRACT of unknown unit {unit}")


_FIXED_UNITS = {"MILLISECOND": 1, "SECOND": 1000, "MINUTE": 60_000, "HOUR": 3_600_000,
                "DAY": _DAY_MS}


def floor_time(ms: int, unit: str) -> int:
    """``FLOOR(t TO unit)`` for epoch milliseconds."""
    unit = unit.upper()
    step = _FIXED_UNITS.get(unit)
    if step is not None:
        return ms - ms % step
    d = ms_to_datetime(ms)
    if unit == "WEEK":  # weeks start on Monday (ISO), as in Calcite
        day = ms - ms % _DAY_MS
        return day - d.weekday() * _DAY_MS
    if unit == "MONTH":
        return datetime_to_ms(d.replace(day=1, hour=0, minute=0, second=0, microsecond=0))
    if unit == "QUARTER":
        month = (d.month - 1) // 3 * 3 + 1
        return datetime_to_ms(
            d.replace(month=month, day=1, hour=0, minute=0, second=0, microsecond=0))
    if unit == "YEAR":
        return datetime_to_ms(
            d.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0))
    raise DataError(f"FLOOR to unknown unit {unit}")


def ceil_time(ms: int, unit: str) -> int:
    """``CEIL(t TO unit)``."""
    f = floor_time(ms, unit)
    if f == ms:
        return ms
    unit = unit.upper()
    step = _FIXED_UNITS.get(unit)
    if step is not None:
        return f + step
    if unit == "WEEK":
        return f + 7 * _DAY_MS
    months = {"MONTH": 1, "QUARTER": 3, "YEAR": 12}[unit]
    return add_months(f, months)


def now(unit: str) -> int:
    """The wall clock (UTC) as a TIMESTAMP, DATE or TIME value."""
    ms = time.time_ns() // 1_000_000
    if unit == "date":
        return ms - ms % _DAY_MS
    if unit == "time":
        return ms % _DAY_MS
    return ms


def parse_timestamp(text: str) -> int:
    """A SQL/ISO timestamp or date literal text to epoch milliseconds."""
    s = text.strip().replace("T", " ")
    try:
        if len(s) <= 10:
            return datetime_to_ms(_dt.datetime.strptime(s, "%Y-%m-%d"))
        return datetime_to_ms(_dt.datetime.fromisoformat(s))
    except ValueError:
        raise DataError(f"cannot cast {text!r} to TIMESTAMP") from None


def parse_time(text: str) -> int:
    """``'HH:MM:SS[.fff]'`` to milliseconds of the day."""
    try:
        t = _dt.time.fromisoformat(text.strip())
    except ValueError:
        raise DataError(f"cannot cast {text!r} to TIME") from None
    return ((t.hour * 60 + t.minute) * 60 + t.second) * 1000 + t.microsecond // 1000


def format_temporal(ms: int, family: str) -> str:
    """A DATE/TIME/TIMESTAMP value as SQL text."""
    if family == "time":
        s, msr = divmod(ms % _DAY_MS, 1000)
        text = f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}"
        return text + (f".{msr:03d}" if msr else "")
    d = ms_to_datetime(ms)
    if family == "date":
        return d.strftime("%Y-%m-%d")
    text = d.strftime("%Y-%m-%d %H:%M:%S")
    return text + (f".{ms % 1000:03d}" if ms % 1000 else "")


# --- casts ----------------------------------------------------------------------


def cast_to_integer(x: Any) -> int:
    """CAST to an integer type: truncates numbers, parses text."""
    if isinstance(x, bool):
        return int(x)
    if isinstance(x, int):
        return x
    if isinstance(x, (float, Decimal)):
        if not math.isfinite(x):
            raise DataError(f"cannot cast {x} to an integer")
        return int(x)
    if isinstance(x, str):
        try:
            return int(Decimal(x.strip()))
        except ArithmeticError:
            raise DataError(f"cannot cast {x!r} to an integer") from None
    raise DataError(f"cannot cast {x!r} to an integer")


def cast_to_float(x: Any) -> float:
    """CAST to DOUBLE/FLOAT/REAL."""
    if isinstance(x, str):
        try:
            return float(x.strip())
        except ValueError:
            raise DataError(f"cannot cast {x!r} to DOUBLE") from None
    return float(x)


def cast_to_decimal(x: Any, scale: int | None) -> Decimal:
    """CAST to DECIMAL(p, s): a :class:`~decimal.Decimal` rounded half up to ``s`` digits."""
    if isinstance(x, str):
        try:
            d = Decimal(x.strip())
        except ArithmeticError:
            raise DataError(f"cannot cast {x!r} to DECIMAL") from None
    elif isinstance(x, float):
        if not math.isfinite(x):
            raise DataError(f"cannot cast {x} to DECIMAL")
        d = Decimal(repr(x))
    elif isinstance(x, Decimal):
        d = x
    else:
        d = Decimal(int(x))
    if scale is None:
        return d
    return d.quantize(Decimal(1).scaleb(-scale), rounding=ROUND_HALF_UP)


def cast_to_boolean(x: Any) -> bool:
    """CAST to BOOLEAN."""
    if isinstance(x, str):
        v = x.strip().upper()
        if v in ("TRUE", "T", "1", "YES"):
            return True
        if v in ("FALSE", "F", "0", "NO"):
            return False
        raise DataError(f"cannot cast {x!r} to BOOLEAN")
    return bool(x)


def cast_to_string(x: Any, source_family: str, length: int | None, pad: bool) -> str:
    """CAST to CHAR(n) (padded) or VARCHAR(n) (truncated)."""
    if isinstance(x, bool):
        s = "TRUE" if x else "FALSE"
    elif source_family in ("date", "time", "timestamp") and isinstance(x, int):
        s = format_temporal(x, source_family)
    elif isinstance(x, float):
        s = repr(x)
    else:
        s = str(x)  # Decimal keeps its scale: CAST(1.50 AS VARCHAR) = '1.50'
    if length is not None:
        s = s[:length]
        if pad and len(s) < length:
            s = s.ljust(length)
    return s


def cast_to_temporal(x: Any, target: str, source_family: str) -> int:
    """CAST to DATE/TIME/TIMESTAMP (epoch milliseconds)."""
    if isinstance(x, str):
        ms = parse_time(x) if target == "time" else parse_timestamp(x)
    else:
        ms = int(x)
    if target == "date":
        return ms - ms % _DAY_MS
    if target == "time" and source_family != "time" and not isinstance(x, str):
        return ms % _DAY_MS
    return ms


#: Names compiled code may use, bound into every compiled function's globals.
HELPERS: dict[str, Any] = {
    "_idiv": int_divide,
    "_mod": sql_mod,
    "_div": sql_divide,
    "_distinct": is_distinct,
    "_round": sql_round,
    "_truncate": sql_truncate,
    "_floor": sql_floor,
    "_ceil": sql_ceil,
    "_sign": sql_sign,
    "_ln": sql_ln,
    "_log10": sql_log10,
    "_sqrt": sql_sqrt,
    "_power": sql_power,
    "_exp": math.exp,
    "_substring": substring,
    "_trim": trim,
    "_overlay": overlay,
    "_initcap": initcap,
    "_like": like,
    "_similar": similar,
    "_add_months": add_months,
    "_months_between": months_between,
    "_extract": extract,
    "_now": now,
    "_floor_time": floor_time,
    "_ceil_time": ceil_time,
    "_cast_int": cast_to_integer,
    "_cast_float": cast_to_float,
    "_cast_decimal": cast_to_decimal,
    "_cast_bool": cast_to_boolean,
    "_cast_str": cast_to_string,
    "_cast_temporal": cast_to_temporal,
}
