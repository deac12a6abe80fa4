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

import base64
import calendar
import datetime as _dt
import decimal
import hashlib
import math
import re
import time
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import Any

from pycql.errors import DataError
from pycql.runtime import datetime_format as _dtf

_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC)
_DAY_MS = 86_400_000

#: The TIMESTAMP range SQL allows (0001-01-01 00:00:00 to 9999-12-31 23:59:59.999),
#: in epoch milliseconds; DATE values are the midnights in it.
MIN_TIMESTAMP_MS = -62_135_596_800_000
MAX_TIMESTAMP_MS = 253_402_300_799_999

#: The largest day-second interval, in milliseconds (999,999,999 days, the most a
#: :class:`datetime.timedelta` holds); year-month intervals hold an INTEGER of months.
MAX_INTERVAL_MS = 999_999_999 * _DAY_MS

#: The range of each integer type (a CAST to it or arithmetic in it outside the
#: range is an error).
INTEGER_RANGES: dict[str, tuple[int, int]] = {
    "TINYINT": (-(2**7), 2**7 - 1),
    "SMALLINT": (-(2**15), 2**15 - 1),
    "INTEGER": (-(2**31), 2**31 - 1),
    "BIGINT": (-(2**63), 2**63 - 1),
}

#: The exceptions evaluating a SQL expression over row values may raise: the
#: helpers here raise :class:`DataError`; inline Python arithmetic and
#: comparisons raise the others (a ``TypeError`` when values of two types
#: meet). A row they are raised on is a bad row (the executor sets it aside or
#: fails the query); anything else (``NameError``, ``AttributeError``,
#: ``IndexError``, ``KeyError``...) is a bug of pycql and is never caught as one.
ROW_ERRORS: tuple[type[Exception], ...] = (DataError, ArithmeticError, ValueError, TypeError)


def row_error_reason(exc: BaseException) -> str:
    """The SQL-level reason of one of :data:`ROW_ERRORS`, for a dead letter or a message.

    >>> row_error_reason(ZeroDivisionError("float division by zero"))
    'division by zero'
    >>> row_error_reason(TypeError("'<' not supported between instances of 'str' and 'int'"))
    "type mismatch: '<' not supported between instances of 'str' and 'int'"
    """
    if isinstance(exc, DataError):
        return str(exc) or "bad data"
    if isinstance(exc, ZeroDivisionError):  # decimal.DivisionByZero too
        return "division by zero"
    if isinstance(exc, decimal.InvalidOperation):
        return "invalid decimal operation"
    if isinstance(exc, decimal.Overflow | OverflowError):
        return f"numeric overflow ({exc})" if isinstance(exc, OverflowError) else \
            "numeric overflow"
    if isinstance(exc, ArithmeticError):
        return f"arithmetic error: {exc or type(exc).__name__}"
    if isinstance(exc, TypeError):
        return f"type mismatch: {exc}"
    return f"invalid value: {exc}"


def temporal_out_of_range(ms: Any, family: str = "timestamp") -> Any:
    """Raise the error of a DATE/TIMESTAMP value outside 0001-01-01..9999-12-31.

    ``ms`` is the value (epoch milliseconds) or a text saying how it came
    about. Compiled code checks the range inline and calls this only when the
    check fails.

    >>> temporal_out_of_range(253402387199000, "date")
    Traceback (most recent call last):
    ...
    pycql.errors.DataError: DATE out of range (years 1 to 9999): 253402387199000 ms from the epoch
    """
    what = f"{ms} ms from the epoch" if isinstance(ms, int) else str(ms)
    raise DataError(f"{family.upper()} out of range (years 1 to 9999): {what}")


def integer_out_of_range(x: Any, target: str) -> Any:
    """Raise the error of a value ``x`` of (or cast to) the integer or interval type
    ``target`` out of its range."""
    if target == "INTERVAL_DAY_SECOND":
        raise DataError(f"interval of {x} ms is out of range (at most 999999999 days)")
    if target == "INTERVAL_YEAR_MONTH":
        lo, hi = INTEGER_RANGES["INTEGER"]
        raise DataError(f"interval of {x} months is out of range ({lo} to {hi})")
    lo, hi = INTEGER_RANGES[target]
    raise DataError(f"value {x} is out of range for {target} ({lo} to {hi})")

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
    """``MOD``: the remainder has the sign of the dividend (decimals stay decimals).

    >>> sql_mod(Decimal("-7.5"), 2), sql_mod(7.5, -2)
    (Decimal('-1.5'), 1.5)
    """
    if b == 0:
        raise DataError("division by zero")
    if isinstance(a, int) and isinstance(b, int):
        return a - b * int_divide(a, b)
    if isinstance(a, float) or isinstance(b, float):
        try:
            return math.fmod(a, b)
        except (ValueError, OverflowError):
            raise DataError(f"MOD({a}, {b}) is undefined") from None
    try:
        return Decimal(a) % Decimal(b)  # Decimal's % truncates: the sign of the dividend
    except ArithmeticError:
        raise DataError(f"MOD({a}, {b}) is undefined") from None


def sql_divide(a: Any, b: Any) -> Any:
    """Non-integer ``/`` with a clear error on zero."""
    if b == 0:
        raise DataError("division by zero")
    try:
        return a / b
    except OverflowError:
        raise DataError(f"{a} / {b} is out of the range of DOUBLE") from None
    except ArithmeticError:
        raise DataError(f"{a} / {b} is out of the range of DECIMAL") from None
    except TypeError:
        if isinstance(a, Decimal) != isinstance(b, Decimal):  # a DECIMAL meets a DOUBLE
            return sql_divide(float(a), float(b))
        raise


def is_distinct(a: Any, b: Any) -> bool:
    """``a IS DISTINCT FROM b`` (NULL-aware, never NULL)."""
    if a is None or b is None:
        return (a is None) != (b is None)
    return bool(a != b)


def sql_round(x: Any, digits: int = 0) -> Any:
    """``ROUND``: half away from zero (Python's ``round`` rounds half to even)."""
    return _quantize(x, digits, ROUND_HALF_UP, "ROUND")


def sql_truncate(x: Any, digits: int = 0) -> Any:
    """``TRUNCATE(x, n)``: cut towards zero at ``n`` decimals."""
    return _quantize(x, digits, ROUND_DOWN, "TRUNCATE")


def _quantize(x: Any, digits: int, rounding: str, name: str) -> Any:
    """``x`` rounded to ``digits`` decimals (negative: tens, hundreds...) as ``rounding``.

    >>> sql_round(1e30, 2), sql_round(Decimal("2.5")), sql_round(-1250, -2)
    (1e+30, Decimal('3'), -1300)
    """
    if isinstance(x, int) and digits >= 0:
        return x
    if isinstance(x, float) and not math.isfinite(x):
        return x
    d = Decimal(repr(x) if isinstance(x, float) else x)
    exponent = d.as_tuple().exponent
    if isinstance(exponent, int) and exponent >= -digits and digits >= 0:
        return x  # no more decimals than asked for (a finite value: its exponent is an int)
    try:
        # enough precision for every digit kept (the default context has 28)
        context = decimal.Context(prec=max(28, d.adjusted() + digits + 2))
        r = d.quantize(Decimal(1).scaleb(-digits), rounding=rounding, context=context)
    except ArithmeticError:
        raise DataError(f"cannot {name} {x} to {digits} digits") from None
    return _like_input(r, x)


def _like_input(result: Decimal, x: Any) -> Any:
    """``result`` in the Python type of ``x`` (int, float or Decimal)."""
    if isinstance(x, Decimal):
        return result
    return int(result) if isinstance(x, int) else float(result)


def sql_floor(x: Any, as_int: bool) -> Any:
    """Numeric ``FLOOR``; ``as_int`` when the result type is an integer type."""
    if isinstance(x, float) and not math.isfinite(x):
        if as_int:
            raise DataError(f"cannot take FLOOR of {x} as an integer")
        return x
    f = math.floor(x)
    if as_int or isinstance(x, int):
        return f
    return Decimal(f) if isinstance(x, Decimal) else float(f)


def sql_ceil(x: Any, as_int: bool) -> Any:
    """Numeric ``CEIL``."""
    if isinstance(x, float) and not math.isfinite(x):
        if as_int:
            raise DataError(f"cannot take CEIL of {x} as an integer")
        return x
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
        raise DataError(f"cannot take the logarithm of {x} (LN needs a positive number)")
    return math.log(x)


def sql_log10(x: Any) -> float:
    """``LOG10``."""
    if x <= 0:
        raise DataError(f"cannot take the logarithm of {x} (LOG10 needs a positive number)")
    return math.log10(x)


def sql_sqrt(x: Any) -> float:
    """``SQRT``."""
    if x < 0:
        raise DataError(f"cannot take the square root of {x} (a negative number)")
    try:
        return math.sqrt(x)
    except OverflowError:
        raise DataError(f"SQRT({x}): the value is out of the range of DOUBLE") from None


def sql_exp(x: Any) -> float:
    """``EXP`` with a clear error when the result is too large for a DOUBLE."""
    try:
        return math.exp(x)
    except OverflowError:
        raise DataError(f"EXP({x}) is out of the range of DOUBLE") from None


def sql_power(x: Any, y: Any) -> float:
    """``POWER`` (always DOUBLE in SQL)."""
    try:
        return math.pow(x, y)
    except OverflowError:
        raise DataError(f"POWER({x}, {y}) is out of the range of DOUBLE") from None
    except ValueError:
        raise DataError(f"POWER({x}, {y}) is undefined") from None


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


def replace(s: str, pattern: str, replacement: str) -> str:
    """``REPLACE(s, pattern, replacement)``; an empty pattern leaves ``s`` as it is.

    >>> replace("fay", "", "x"), replace("banana", "an", "_")
    ('fay', 'b__a')
    """
    return s.replace(pattern, replacement) if pattern else s


def concat(*parts: Any) -> str:
    """``CONCAT(a, b, ...)`` as in PostgreSQL and Oracle: NULL arguments are skipped.

    >>> concat("fay", None, "!")
    'fay!'
    """
    return "".join(p if isinstance(p, str) else cast_to_string(p, "", None, False)
                   for p in parts if p is not None)


def concat_ws(sep: str | None, *parts: Any) -> str | None:
    """``CONCAT_WS(sep, a, ...)``: NULL if ``sep`` is, NULL arguments skipped."""
    if sep is None:
        return None
    return sep.join(p if isinstance(p, str) else cast_to_string(p, "", None, False)
                    for p in parts if p is not None)


def pad(s: str, n: int, fill: str = " ", *, left: bool) -> str:
    """``LPAD``/``RPAD(s, n[, fill])`` as in PostgreSQL: the result is ``n`` characters
    (``s`` truncated if longer; ``''`` for ``n <= 0``); an empty ``fill`` does not pad.

    >>> pad("fay", 5, "*", left=True), pad("fay", 2, left=False), pad("ab", 7, "xy", left=False)
    ('**fay', 'fa', 'abxyxyx')
    """
    if n <= 0:
        return ""
    if len(s) >= n or not fill:
        return s[:n]
    filler = (fill * ((n - len(s)) // len(fill) + 1))[: n - len(s)]
    return filler + s if left else s + filler


def left(s: str, n: int) -> str:
    """``LEFT(s, n)``: the first ``n`` characters; a negative ``n`` drops the last ``-n``."""
    return s[:n] if n >= 0 else s[: max(len(s) + n, 0)]


def right(s: str, n: int) -> str:
    """``RIGHT(s, n)``: the last ``n`` characters; a negative ``n`` drops the first ``-n``."""
    if n >= 0:
        return s[len(s) - n:] if n < len(s) else s
    return s[-n:]


def instr(sub: str, s: str, start: int = 1, occurrence: int = 1) -> int:
    """``POSITION(sub IN s [FROM start])``, ``INSTR(s, sub[, start[, occurrence]])``,
    ``STRPOS(s, sub)``: the 1-based position of the ``occurrence``-th match at or after
    ``start``, 0 if none; a negative ``start`` counts from the end and searches backwards
    (Oracle).

    >>> instr("a", "banana"), instr("a", "banana", 3), instr("a", "banana", 1, 3)
    (2, 4, 6)
    >>> instr("a", "banana", -1), instr("a", "banana", -1, 2), instr("x", "banana")
    (6, 4, 0)
    """
    if occurrence < 1:
        raise DataError(f"the occurrence of INSTR must be positive, not {occurrence}")
    if start == 0:
        return 0
    if start > 0:
        pos = start - 1
        for _ in range(occurrence):
            i = s.find(sub, pos)
            if i < 0:
                return 0
            pos = i + 1
        return i + 1
    end = len(s) + start + len(sub)  # the match may start at len(s) + start at the latest
    for _ in range(occurrence):
        i = s.rfind(sub, 0, end)
        if i < 0:
            return 0
        end = i + len(sub) - 1
    return i + 1


def split_part(s: str, delimiter: str, n: int) -> str:
    """``SPLIT_PART(s, delimiter, n)`` as in PostgreSQL: the ``n``-th field (1-based; a
    negative ``n`` counts from the end), ``''`` past the last.

    >>> split_part("a,b,c", ",", 2), split_part("a,b,c", ",", -1), split_part("a,b", ",", 5)
    ('b', 'c', '')
    """
    if n == 0:
        raise DataError("the field position of SPLIT_PART must not be zero")
    fields = s.split(delimiter) if delimiter else [s]
    if abs(n) > len(fields):
        return ""
    return fields[n - 1] if n > 0 else fields[n]


def repeat(s: str, n: int) -> str:
    """``REPEAT(s, n)``: ``s`` ``n`` times (``''`` for ``n <= 0``)."""
    return s * n if n > 0 else ""


_BACKREF = re.compile(r"\\(\d)|\\(\\)")


@lru_cache(maxsize=256)
def _regex(pattern: str, flags: str = "") -> re.Pattern[str]:
    f = 0
    for c in flags:
        if c == "i":
            f |= re.IGNORECASE
        elif c == "c":
            f &= ~re.IGNORECASE
        elif c == "n":
            f |= re.DOTALL
        elif c == "m":
            f |= re.MULTILINE
        elif c == "x":
            f |= re.VERBOSE
        else:
            raise DataError(f"unknown regular expression match option {c!r}")
    try:
        return re.compile(pattern, f)
    except re.error as exc:
        raise DataError(f"invalid regular expression {pattern!r}: {exc}") from None


def _group(m: re.Match[str], i: int) -> str:
    return (m.group(i) or "") if i <= (m.re.groups or 0) else ""


def regexp_replace(s: str, pattern: str, replacement: str, position: int = 1,
                   occurrence: int = 0, flags: str = "") -> str:
    r"""``REGEXP_REPLACE(s, pattern, replacement[, position[, occurrence[, flags]]])`` as
    in Oracle: the matches at or after ``position`` (1-based) are replaced, every one for
    ``occurrence`` 0, else only the ``occurrence``-th; ``\1`` ... ``\9`` in
    ``replacement`` are the groups (an absent one is empty), ``\\`` a backslash; ``flags``
    as for :func:`regexp_like`.

    >>> regexp_replace("banana", "a(n?)", "<\\1>")
    'b<n><n><>'
    >>> regexp_replace("banana", "a", "_", 3), regexp_replace("banana", "A", "_", 1, 2, "i")
    ('ban_n_', 'ban_na')
    """
    if position < 1:
        raise DataError(f"the position of REGEXP_REPLACE must be positive, not {position}")
    if occurrence < 0:
        raise DataError(f"the occurrence of REGEXP_REPLACE must not be negative, not {occurrence}")
    rx = _regex(pattern, flags)

    def expand(m: re.Match[str]) -> str:
        if "\\" not in replacement:
            return replacement
        return _BACKREF.sub(
            lambda b: "\\" if b.group(2) else _group(m, int(b.group(1))), replacement)
    head, tail = s[: position - 1], s[position - 1:]
    if occurrence == 0:
        return head + rx.sub(expand, tail)
    for i, m in enumerate(rx.finditer(tail), 1):
        if i == occurrence:
            return head + tail[: m.start()] + expand(m) + tail[m.end():]
    return s


def regexp_like(s: str, pattern: str, flags: str = "") -> bool:
    """``REGEXP_LIKE(s, pattern[, flags])``: whether ``pattern`` matches anywhere in ``s``
    (flags ``i`` case-insensitive, ``c`` case-sensitive, ``n`` dot matches newline, ``m``
    multi-line)."""
    return _regex(pattern, flags).search(s) is not None


def regexp_extract(s: str, pattern: str, position: int = 1, occurrence: int = 1) -> str | None:
    """``REGEXP_SUBSTR(s, pattern[, position[, occurrence]])`` (BigQuery's, planned as
    ``REGEXP_EXTRACT``): the ``occurrence``-th match at or after ``position``, or its group
    when ``pattern`` has one; NULL if there is none.

    >>> regexp_extract("banana", "an"), regexp_extract("banana", "n(a)", 1, 2)
    ('an', 'a')
    """
    if position < 1:
        raise DataError(f"the position of REGEXP_SUBSTR must be positive, not {position}")
    if occurrence < 1:
        raise DataError(f"the occurrence of REGEXP_SUBSTR must be positive, not {occurrence}")
    rx = _regex(pattern)
    if rx.groups > 1:
        raise DataError(f"REGEXP_SUBSTR: the pattern {pattern!r} has more than one group")
    for i, m in enumerate(rx.finditer(s, position - 1), 1):
        if i == occurrence:
            return m.group(rx.groups)
    return None


def translate(s: str, source: str, target: str) -> str:
    """``TRANSLATE(s, from, to)``: each character of ``from`` in ``s`` replaced by the one at
    its place in ``to``, or removed when ``to`` is shorter (PostgreSQL, Oracle).

    >>> translate("banana", "an", "o"), translate("fay", "", "x")
    ('booo', 'fay')
    """
    table: dict[int, int | None] = {}
    for i, ch in enumerate(source):
        table.setdefault(ord(ch), ord(target[i]) if i < len(target) else None)
    return s.translate(table)


def digest(algorithm: str, s: str) -> str:
    """``MD5(s)``, ``SHA1(s)``, ``SHA256(s)``, ``SHA512(s)``: the hex digest of ``s`` in
    UTF-8."""
    return hashlib.new(algorithm, s.encode("utf-8")).hexdigest()


def to_base64(s: str) -> str:
    """``TO_BASE64(s)`` (MySQL): ``s`` in UTF-8, base64-encoded."""
    return base64.b64encode(s.encode("utf-8")).decode("ascii")


def sql_chr(n: int) -> str:
    """``CHR(n)``: the character of code point ``n``."""
    if not 0 < n < 0x110000:
        raise DataError(f"CHR({n}): not a character code")
    return chr(n)


def sql_ascii(s: str) -> int:
    """``ASCII(s)``: the code point of the first character, 0 for ``''``."""
    return ord(s[0]) if s else 0


def space(n: int) -> str:
    """``SPACE(n)`` (MySQL): ``n`` spaces (``''`` for ``n <= 0``)."""
    return " " * n if n > 0 else ""


def math_fn(name: str, *args: Any) -> float:
    """The trigonometric and other DOUBLE functions (``SIN``, ``ATAN2``, ``CBRT``, ``LOG2``
    ...), a :class:`DataError` outside their domain."""
    x = [float(a) for a in args]
    try:
        if name == "COT":
            return 1.0 / math.tan(x[0])
        if name == "CBRT":
            return math.copysign(abs(x[0]) ** (1.0 / 3.0), x[0])
        if name == "LOG2":
            if x[0] <= 0:
                raise DataError(f"cannot take the logarithm of {args[0]} (LOG2 needs a "
                                "positive number)")
            return math.log2(x[0])
        return float(_MATH[name](*x))
    except (ValueError, ZeroDivisionError):
        raise DataError(f"{name}({', '.join(map(str, args))}) is undefined") from None
    except OverflowError:
        raise DataError(f"{name}({', '.join(map(str, args))}) is out of the range of "
                        "DOUBLE") from None


_MATH: dict[str, Any] = {
    "SIN": math.sin, "COS": math.cos, "TAN": math.tan, "ASIN": math.asin, "ACOS": math.acos,
    "ATAN": math.atan, "ATAN2": math.atan2, "SINH": math.sinh, "COSH": math.cosh,
    "TANH": math.tanh, "DEGREES": math.degrees, "RADIANS": math.radians,
}
#: The functions :func:`math_fn` computes.
MATH_FUNCTIONS = frozenset({*_MATH, "COT", "CBRT", "LOG2"})


def to_decimal(x: Any) -> Any:
    """A REAL/DOUBLE operand of DECIMAL arithmetic as the Decimal of its decimal text.

    >>> to_decimal(0.2), to_decimal(Decimal("1.5"))
    (Decimal('0.2'), Decimal('1.5'))
    """
    if isinstance(x, float):
        if not math.isfinite(x):
            raise DataError(f"cannot use {x} as a DECIMAL")
        return Decimal(repr(x))
    return x


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
def _ilike_regex(pattern: str, escape: str | None) -> re.Pattern[str]:
    return re.compile(like_regex(pattern, escape).pattern, re.DOTALL | re.IGNORECASE)


def ilike(s: str, pattern: str, escape: str | None = None) -> bool:
    """``s ILIKE pattern`` (PostgreSQL): ``LIKE`` ignoring case.

    >>> ilike("Fay", "f%"), ilike("fay", "F_Y")
    (True, True)
    """
    return _ilike_regex(pattern, escape).fullmatch(s) is not None


def similar_regex(pattern: str, escape: str | None) -> re.Pattern[str]:
    """The regular expression of a SQL ``SIMILAR TO`` pattern (:class:`DataError` if invalid)."""
    try:
        return _similar_regex(pattern, escape)
    except re.error as exc:
        raise DataError(f"invalid SIMILAR TO pattern {pattern!r}: {exc}") from None


@lru_cache(maxsize=256)
def _similar_regex(pattern: str, escape: str | None) -> re.Pattern[str]:
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
    """Epoch milliseconds to an aware UTC datetime (:class:`DataError` outside years 1-9999)."""
    try:
        return _EPOCH + _dt.timedelta(milliseconds=ms)
    except OverflowError:
        return temporal_out_of_range(ms)  # type: ignore[no-any-return]


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
    if not 1 <= year <= 9999:
        return temporal_out_of_range(  # type: ignore[no-any-return]
            f"{format_temporal(ms, 'timestamp')} plus {months} months is in the year {year}")
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


def extract_interval(unit: str, value: int, family: str) -> int:
    """``EXTRACT(unit FROM i)`` of an interval: ``value`` milliseconds (``interval_ds``) or
    months (``interval_ym``); the fields of a negative interval are negative (PostgreSQL).

    >>> extract_interval("DAY", 273906000, "interval_ds")
    3
    >>> extract_interval("MONTH", -38, "interval_ym")
    -2
    """
    unit = unit.upper()
    sign, v = (-1, -value) if value < 0 else (1, value)
    if family == "interval_ym":
        fields = {"YEAR": v // 12, "MONTH": v % 12, "QUARTER": v % 12 // 3 + 1,
                  "DECADE": v // 120, "CENTURY": v // 1200, "MILLENNIUM": v // 12000}
    else:
        fields = {"DAY": v // _DAY_MS, "HOUR": v // 3_600_000 % 24, "MINUTE": v // 60_000 % 60,
                  "SECOND": v // 1000 % 60, "MILLISECOND": v % 60_000,
                  "MICROSECOND": v % 60_000 * 1000, "NANOSECOND": v % 60_000 * 1_000_000,
                  "EPOCH": v // 1000}
    if unit not in fields:
        raise DataError(f"EXTRACT of {unit} from an interval of "
                        f"{'months' if family == 'interval_ym' else 'days to seconds'}")
    return sign * fields[unit]


def extract(unit: str, ms: int, family: str = "timestamp") -> int:
    """``EXTRACT(unit FROM t)`` for a DATE/TIMESTAMP/TIME in epoch milliseconds (or an
    interval: :func:`extract_interval`)."""
    if family.startswith("interval"):
        return extract_interval(unit, ms, family)
    unit = unit.upper()
    if unit == "NANOSECOND":
        return (ms % 60_000) * 1_000_000
    if unit == "ISOYEAR":
        return ms_to_datetime(ms).isocalendar()[0]
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


_FIXED_UNITS = {"MICROSECOND": 1, "NANOSECOND": 1, "MILLISECOND": 1, "SECOND": 1000,
                "MINUTE": 60_000, "HOUR": 3_600_000, "DAY": _DAY_MS}
#: Units of years: the first year of each (centuries and millennia start at year 1,
#: as in PostgreSQL: the 21st century is 2001 to 2100)
_YEAR_UNITS = {"DECADE": (10, 0), "CENTURY": (100, 1), "MILLENNIUM": (1000, 1)}


def floor_time(ms: int, unit: str) -> int:
    """``FLOOR(t TO unit)`` for epoch milliseconds.

    >>> [format_temporal(floor_time(parse_timestamp("2026-05-14 13:45:56"), u), "timestamp")
    ...  for u in ("DECADE", "CENTURY", "ISOYEAR")]
    ['2020-01-01 00:00:00', '2001-01-01 00:00:00', '2025-12-29 00:00:00']
    """
    unit = unit.upper()
    step = _FIXED_UNITS.get(unit)
    if step is not None:
        return ms - ms % step
    d = ms_to_datetime(ms)
    if unit in _YEAR_UNITS:
        size, first = _YEAR_UNITS[unit]
        year = (d.year - first) // size * size + first
        if year < 1:
            return temporal_out_of_range(  # type: ignore[no-any-return]
                f"FLOOR({format_temporal(ms, 'timestamp')} TO {unit}) is in the year {year}")
        return datetime_to_ms(_dt.datetime(year, 1, 1))
    if unit == "ISOYEAR":  # the Monday of ISO week 1
        iso = _dt.date.fromisocalendar(d.isocalendar()[0], 1, 1)
        return datetime_to_ms(_dt.datetime(iso.year, iso.month, iso.day))
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
    if unit == "ISOYEAR":
        return floor_time(f + 53 * 7 * _DAY_MS, unit)  # an ISO year has 52 or 53 weeks
    months = {"MONTH": 1, "QUARTER": 3, "YEAR": 12, "DECADE": 120, "CENTURY": 1200,
              "MILLENNIUM": 12000}[unit]
    return add_months(f, months)


#: DATE_TRUNC's units, PostgreSQL's names (singular; a trailing S is dropped)
_TRUNC_UNITS = frozenset({"MICROSECOND", "MILLISECOND", "SECOND", "MINUTE", "HOUR", "DAY",
                          "WEEK", "MONTH", "QUARTER", "YEAR", "DECADE", "CENTURY",
                          "MILLENNIUM"})


def date_trunc(unit: str, ms: int) -> int:
    """``DATE_TRUNC(unit, t)`` as in PostgreSQL: ``unit`` a string (case-insensitive).

    >>> format_temporal(date_trunc("month", parse_timestamp("2026-05-14 13:45:56")), "timestamp")
    '2026-05-01 00:00:00'
    """
    u = unit.strip().upper()
    if u.endswith("S") and u[:-1] in _TRUNC_UNITS:
        u = u[:-1]
    if u not in _TRUNC_UNITS:
        raise DataError(f"DATE_TRUNC: unknown unit {unit!r} (one of "
                        f"{', '.join(sorted(x.lower() for x in _TRUNC_UNITS))})")
    return floor_time(ms, u)


def last_day(ms: int) -> int:
    """``LAST_DAY(t)``: the DATE of the last day of the month of ``t``."""
    d = ms_to_datetime(ms)
    day = calendar.monthrange(d.year, d.month)[1]
    return datetime_to_ms(_dt.datetime(d.year, d.month, day))


def day_name(ms: int) -> str:
    """``DAYNAME(t)`` (MySQL): ``'Monday'`` ... ``'Sunday'``."""
    return calendar.day_name[ms_to_datetime(ms).weekday()]


def month_name(ms: int) -> str:
    """``MONTHNAME(t)`` (MySQL): ``'January'`` ... ``'December'``."""
    return calendar.month_name[ms_to_datetime(ms).month]


def to_char(ms: int, fmt: str) -> str:
    """``TO_CHAR(t, format)``: see :mod:`pycql.runtime.datetime_format`."""
    ms_to_datetime(ms)  # the range check
    return _dtf.format_ms(ms, fmt)


def to_timestamp(text: str, fmt: str, date: bool = False) -> int:
    """``TO_TIMESTAMP(s, format)``, ``TO_DATE(s, format)`` (``date``: the day)."""
    ms = _dtf.parse(text, fmt)
    if not MIN_TIMESTAMP_MS <= ms <= MAX_TIMESTAMP_MS:
        temporal_out_of_range(ms, "date" if date else "timestamp")
    return ms - ms % _DAY_MS if date else ms


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
    # not strftime: it does not pad years before 1000 on every platform
    if family == "date":
        return f"{d.year:04d}-{d.month:02d}-{d.day:02d}"
    text = f"{d.year:04d}-{d.month:02d}-{d.day:02d} {d.hour:02d}:{d.minute:02d}:{d.second:02d}"
    return text + (f".{ms % 1000:03d}" if ms % 1000 else "")


# --- casts ----------------------------------------------------------------------


def cast_to_integer(x: Any, target: str | None = None) -> int:
    """CAST to an integer type: truncates numbers, parses text.

    With ``target`` (``TINYINT``, ``SMALLINT``, ``INTEGER``, ``BIGINT``) a result
    outside that type's range is a :class:`DataError`.

    >>> cast_to_integer(" 12.7 "), cast_to_integer(-3.9, "TINYINT")
    (12, -3)
    """
    if isinstance(x, bool):
        v = int(x)
    elif isinstance(x, int):
        v = x
    elif isinstance(x, (float, Decimal)):
        finite = x.is_finite() if isinstance(x, Decimal) else math.isfinite(x)
        if not finite:
            raise DataError(f"cannot cast {x} to {target or 'an integer'}")
        v = int(x)
    elif isinstance(x, str):
        try:
            d = Decimal(x.strip())
        except ArithmeticError:
            raise DataError(f"cannot cast {x!r} to {target or 'an integer'}") from None
        if not d.is_finite():
            raise DataError(f"cannot cast {x!r} to {target or 'an integer'}")
        v = int(d)
    else:
        raise DataError(f"cannot cast {x!r} to {target or 'an integer'}")
    if target is not None:
        lo, hi = INTEGER_RANGES[target]
        if not lo <= v <= hi:
            integer_out_of_range(x, target)
    return v


def cast_to_float(x: Any) -> float:
    """CAST to DOUBLE/FLOAT/REAL."""
    if isinstance(x, str):
        try:
            return float(x.strip())
        except ValueError:
            raise DataError(f"cannot cast {x!r} to DOUBLE") from None
    try:
        return float(x)
    except OverflowError:
        raise DataError(f"value {x} is out of the range of DOUBLE") from None


def cast_to_decimal(x: Any, scale: int | None, precision: int | None = None) -> Decimal:
    """CAST to DECIMAL(p, s): a :class:`~decimal.Decimal` rounded half up to ``s`` digits.

    With ``precision`` a value needing more than ``p - s`` digits before the
    point is a :class:`DataError`.

    >>> cast_to_decimal("1.005", 2), cast_to_decimal(12, 1, 3)
    (Decimal('1.01'), Decimal('12.0'))
    """
    if isinstance(x, str):
        try:
            d = Decimal(x.strip())
        except ArithmeticError:
            raise DataError(f"cannot cast {x!r} to DECIMAL") from None
        if not d.is_finite():
            raise DataError(f"cannot cast {x!r} to DECIMAL")
    elif isinstance(x, float):
        if not math.isfinite(x):
            raise DataError(f"cannot cast {x} to DECIMAL")
        d = Decimal(repr(x))
    elif isinstance(x, Decimal):
        d = x
    else:
        d = Decimal(int(x))
    if scale is not None:
        try:
            context = decimal.Context(prec=max(28, d.adjusted() + scale + 2))
            d = d.quantize(Decimal(1).scaleb(-scale), rounding=ROUND_HALF_UP, context=context)
        except ArithmeticError:
            raise DataError(f"cannot cast {x} to DECIMAL with scale {scale}") from None
    if precision is not None and d and d.adjusted() >= precision - (scale or 0):
        raise DataError(
            f"value {x} is out of range for DECIMAL({precision}, {scale or 0})")
    return d


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


def cast_to_binary(x: Any, length: int | None, pad: bool) -> bytes:
    """CAST to BINARY(n) (padded with zero bytes) or VARBINARY(n) (truncated), of bytes."""
    if not isinstance(x, bytes):
        raise DataError(f"cannot CAST {type(x).__name__} {x!r} to a binary string")
    data: bytes = x
    if length is not None:
        data = data[:length]
        if pad and len(data) < length:
            data = data.ljust(length, b"\0")
    return data


def cast_to_temporal(x: Any, target: str, source_family: str) -> int:
    """CAST to DATE/TIME/TIMESTAMP (epoch milliseconds)."""
    if isinstance(x, str):
        ms = parse_time(x) if target == "time" else parse_timestamp(x)
    else:
        if isinstance(x, float) and not math.isfinite(x):
            raise DataError(f"cannot cast {x} to {target.upper()}")
        ms = int(x)
    if target == "date":
        ms -= ms % _DAY_MS
    elif target == "time":
        if source_family != "time" and not isinstance(x, str):
            return ms % _DAY_MS
        return ms
    if not MIN_TIMESTAMP_MS <= ms <= MAX_TIMESTAMP_MS:
        temporal_out_of_range(ms, target)
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
    "_exp": sql_exp,
    "_substring": substring,
    "_trim": trim,
    "_overlay": overlay,
    "_replace": replace,
    "_concat": concat,
    "_concat_ws": concat_ws,
    "_pad": pad,
    "_left": left,
    "_right": right,
    "_instr": instr,
    "_split_part": split_part,
    "_repeat": repeat,
    "_regexp_replace": regexp_replace,
    "_regexp_like": regexp_like,
    "_to_decimal": to_decimal,
    "_initcap": initcap,
    "_like": like,
    "_similar": similar,
    "_add_months": add_months,
    "_months_between": months_between,
    "_extract": extract,
    "_date_trunc": date_trunc,
    "_last_day": last_day,
    "_day_name": day_name,
    "_month_name": month_name,
    "_to_char": to_char,
    "_to_timestamp": to_timestamp,
    "_regexp_extract": regexp_extract,
    "_translate": translate,
    "_digest": digest,
    "_to_base64": to_base64,
    "_chr": sql_chr,
    "_ascii": sql_ascii,
    "_space": space,
    "_math": math_fn,
    "_ilike": ilike,
    "_now": now,
    "_floor_time": floor_time,
    "_ceil_time": ceil_time,
    "_cast_int": cast_to_integer,
    "_cast_float": cast_to_float,
    "_cast_decimal": cast_to_decimal,
    "_cast_bool": cast_to_boolean,
    "_cast_str": cast_to_string,
    "_cast_bin": cast_to_binary,
    "_cast_temporal": cast_to_temporal,
    "_temporal_range": temporal_out_of_range,
    "_int_range": integer_out_of_range,
    "_ROW_ERRORS": ROW_ERRORS,
}
