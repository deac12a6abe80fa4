"""A naive CQL evaluator: the correctness oracle for pycql's runtime.

It evaluates a physical plan (the JSON document of ``docs/plan-json.md``)
straight from the definitions of CQL (Arasu, Babu & Widom, "The CQL continuous
query language", VLDB Journal 2006), with **no incremental state** and no code
shared with :mod:`pycql.runtime`: the value of every operator at an instant
``tau`` is recomputed from the whole input prefix ``{(t, row) : t <= tau}``.
It is slow on purpose (quadratic in the input) and simple enough to be checked
by reading it.

Time is discrete (integer milliseconds, or STREAM's integer ticks).

Inputs, per source name (matched case-insensitively against the plan's
``source`` operators):

* a stream: a list of ``(t, row)`` in arrival order (``row`` a tuple);
* a table: a list of ``(t, sign, row)``, ``sign`` +1 (insert) or -1 (delete);
  the table at ``tau`` is the bag of all changes with ``t <= tau``. A delete of
  a row that is not present is an error of the input (ValueError).

Definitions used (the ones the runtime must follow too):

* ``S [NOW]`` at ``tau``: the elements with ``t == tau``.
* ``S [UNBOUNDED]``: the elements with ``t <= tau``.
* ``S [RANGE T]``: the elements with ``tau - T < t <= tau``.
* ``S [RANGE T SLIDE L]``: the contents change only at multiples of ``L``
  (aligned to the epoch, instant 0): at ``tau`` it is ``S [RANGE T]`` evaluated
  at ``m = floor(tau / L) * L``, the last multiple of ``L`` at or before ``tau``,
  i.e. the elements with ``m - T < t <= m``. (The CQL paper leaves the
  alignment of a sliding window open; this is the choice made here.)
* ``S [ROWS N]``: the last ``N`` elements with ``t <= tau``, ordered by
  ``(t, values)``: the elements of one instant in ascending order of their
  column values, left to right, NULL before any value (not in arrival order:
  a derived stream has none).
* ``S [PARTITION BY k ROWS N]``: the union over the keys of the last ``N``
  elements of each key.
* ``S [ROWS N SLIDE M]``: the contents change only when the number of elements
  that arrived reaches a multiple of ``M``: with ``c`` elements at ``t <= tau``,
  the last ``N`` of the first ``floor(c / M) * M`` of them (in ``(t, values)``
  order). ``[PARTITION BY k ROWS N SLIDE M]``: the same per key (``c`` counts
  the key's elements).
* ``S [PARTITION BY k SESSION G]``: the elements of each key, in ``(t,
  arrival)`` order, fall into sessions: an element starts a new session when it
  comes ``G`` or more after the element before it. At ``tau`` the window holds,
  for each key, the elements ``t <= tau`` of its last session if that session
  is still open, ``tau < last + G`` (``last`` the timestamp of its last element
  so far). ``S [SESSION G]`` is the same with one key.
* Relation-to-relation operators are bag operators (``collections.Counter`` of
  tuples) with SQL's three-valued logic (``None`` is NULL); integer ``/``
  truncates towards zero, ``MOD`` takes the sign of the dividend.
* ``ISTREAM(R)`` at ``tau``: ``R(tau) - R(tau - 1)`` (positive part) and
  ``DSTREAM(R)``: ``R(tau - 1) - R(tau)``. ``R`` is defined at every instant,
  also before any input: then it is ``R`` over empty inputs (a global aggregate
  has its one row, ``COUNT(*) = 0``, which ISTREAM therefore never emits; the
  runtime's *initialization instant* agrees).
* ``RSTREAM(R)`` at ``tau``: all of ``R(tau)``, emitted at every instant the
  query runs: where some source of the plan has input or some window of the
  plan has a timer (an expiry, a NOW deletion, a SLIDE boundary): the
  instants of interest of the whole plan. (CQL emits it at every instant; an
  engine can only emit it where something happens.)

Instants of interest of an operator (a superset of the instants at which its
value can change, or, for a stream, at which it can have elements): the
timestamps of its sources' inputs, and for windows the timers of the elements
the window receives: ``t + 1`` after a ``NOW`` element, ``t + T`` for
``RANGE T``, for ``RANGE T SLIDE L`` the multiples of ``L`` at or after
``t`` and ``t + T``, and for ``SESSION G`` the instant each session closes,
``last + G``. This is the runtime's definition of the instants it runs
(``pycql.runtime.executor``), which RSTREAM's output depends on: so RSTREAM's
instants depend on the plan's shape (a filter below a window removes the
timers of the elements it drops).

Example::

    >>> plan = {"root": 1, "operators": [
    ...   {"id": 0, "op": "source", "name": "S", "source_kind": "stream",
    ...    "inputs": [], "output": "stream", "columns": [{"name": "A", "type": "INTEGER"}]},
    ...   {"id": 1, "op": "window", "window": {"kind": "range", "range_ms": 10, "slide_ms": None},
    ...    "inputs": [0], "output": "relation", "columns": [{"name": "A", "type": "INTEGER"}]}]}
    >>> ev = NaiveEvaluator(plan, {"S": [(1, (7,)), (5, (8,))]})
    >>> ev.instants()
    [1, 5, 11, 15]
    >>> sorted(ev.relation_at(11).elements())
    [(8,)]
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from fractions import Fraction
from functools import cmp_to_key
from typing import Any

Row = tuple[Any, ...]
Bag = Counter  # Counter[Row]

INTEGER_TYPES = frozenset({"TINYINT", "SMALLINT", "INTEGER", "BIGINT"})
FLOAT_TYPES = frozenset({"FLOAT", "REAL", "DOUBLE"})
STRING_TYPES = frozenset({"CHAR", "VARCHAR"})


class OracleError(Exception):
    """The oracle met a plan or an input it cannot evaluate."""


# --------------------------------------------------------------------------
# Expressions: a tree-walking interpreter (it is the oracle: clarity first)
# --------------------------------------------------------------------------


def _and(values: Iterable[Any]) -> Any:
    result: Any = True
    for v in values:
        if v is False:
            return False
        if v is None:
            result = None
    return result


def _or(values: Iterable[Any]) -> Any:
    result: Any = False
    for v in values:
        if v is True:
            return True
        if v is None:
            result = None
    return result


def int_div(a: int, b: int) -> int:
    """Integer division truncating towards zero (SQL, Java).

    >>> int_div(-7, 2), int_div(7, -2), int_div(7, 2)
    (-3, -3, 3)
    """
    if b == 0:
        raise ZeroDivisionError("division by zero")
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


def int_mod(a: int, b: int) -> int:
    """Remainder with the sign of the dividend (SQL MOD, Java %).

    >>> int_mod(-7, 2), int_mod(7, -2)
    (-1, 1)
    """
    return a - b * int_div(a, b)


def _like(value: str, pattern: str, escape: str | None = None) -> bool:
    out = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if escape is not None and c == escape and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        if c == "%":
            out.append(".*")
        elif c == "_":
            out.append(".")
        else:
            out.append(re.escape(c))
        i += 1
    return re.fullmatch("".join(out), value, flags=re.DOTALL) is not None


def cast_value(value: Any, type_: dict[str, Any] | str) -> Any:
    """Convert ``value`` to a SQL type (``{"type": ..., "precision": ...}``)."""
    if value is None:
        return None
    if isinstance(type_, str):
        name, precision = type_, None
    else:
        name, precision = type_["type"], type_.get("precision")
    if name in INTEGER_TYPES:
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, str):
            return int(value.strip())
        return math.trunc(value)
    if name in FLOAT_TYPES or name == "DECIMAL":
        if isinstance(value, str):
            return float(value.strip())
        return float(value)
    if name == "VARCHAR":
        s = _to_string(value)
        return s if precision is None else s[:precision]
    if name == "CHAR":
        s = _to_string(value)
        if precision is None:
            return s
        return s[:precision].ljust(precision)
    if name == "BOOLEAN":
        if isinstance(value, str):
            return {"TRUE": True, "FALSE": False}[value.strip().upper()]
        return bool(value)
    return value


def _to_string(value: Any) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    return str(value)


def _num(type_name: str, value: Any) -> Any:
    """Normalise an arithmetic result to the call's declared type."""
    if value is None:
        return None
    if type_name in INTEGER_TYPES:
        return int(value)
    if type_name in FLOAT_TYPES:
        return float(value)
    return value


def _compare(op: str, a: Any, b: Any) -> Any:
    if a is None or b is None:
        return None
    if isinstance(a, str) and isinstance(b, str):
        # SQL compares CHAR values as if padded with spaces to equal length.
        a, b = a.rstrip(" "), b.rstrip(" ")
    if op == "=":
        return a == b
    if op == "<>":
        return a != b
    if op == "<":
        return a < b
    if op == "<=":
        return a <= b
    if op == ">":
        return a > b
    if op == ">=":
        return a >= b
    raise OracleError(f"unknown comparison {op}")


_COMPARISONS = {"=", "<>", "<", "<=", ">", ">="}
_KIND_TO_OP = {
    "EQUALS": "=",
    "NOT_EQUALS": "<>",
    "LESS_THAN": "<",
    "LESS_THAN_OR_EQUAL": "<=",
    "GREATER_THAN": ">",
    "GREATER_THAN_OR_EQUAL": ">=",
    "PLUS": "+",
    "MINUS": "-",
    "TIMES": "*",
    "DIVIDE": "/",
    "MOD": "MOD",
    "AND": "AND",
    "OR": "OR",
    "NOT": "NOT",
    "IS_NULL": "IS NULL",
    "IS_NOT_NULL": "IS NOT NULL",
    "IS_TRUE": "IS TRUE",
    "IS_FALSE": "IS FALSE",
    "IS_NOT_TRUE": "IS NOT TRUE",
    "IS_NOT_FALSE": "IS NOT FALSE",
    "CASE": "CASE",
    "CAST": "CAST",
    "LIKE": "LIKE",
    "COALESCE": "COALESCE",
    "MINUS_PREFIX": "NEGATE",
    "PLUS_PREFIX": "POSITIVE",
    "IS_DISTINCT_FROM": "IS DISTINCT FROM",
    "IS_NOT_DISTINCT_FROM": "IS NOT DISTINCT FROM",
}


def evaluate_expr(expr: dict[str, Any], row: Row, params: Sequence[Any] = ()) -> Any:
    """Evaluate one plan expression over ``row``.

    >>> e = {"kind": "call", "op": "/", "type": "INTEGER", "operands": [
    ...     {"kind": "input", "index": 0, "type": "INTEGER"},
    ...     {"kind": "literal", "value": 2, "type": "INTEGER"}]}
    >>> evaluate_expr(e, (-7,)), evaluate_expr(e, (None,))
    (-3, None)
    """
    kind = expr["kind"]
    if kind == "input":
        return row[expr["index"]]
    if kind == "literal":
        value = expr["value"]
        if value is not None and expr.get("type") in ("CHAR",) and expr.get("precision"):
            return cast_value(value, expr)
        return value
    if kind == "param":
        return cast_value(params[expr["index"]], expr)
    if kind != "call":
        raise OracleError(f"unknown expression kind {kind!r}")
    return _evaluate_call(expr, row, params)


def _evaluate_call(expr: dict[str, Any], row: Row, params: Sequence[Any]) -> Any:
    operands = expr["operands"]
    sqlkind = expr.get("sqlkind")
    op = _KIND_TO_OP.get(sqlkind or "", str(expr.get("op", "")).upper())
    if op == "-" and len(operands) == 1:
        op = "NEGATE"
    elif op == "+" and len(operands) == 1:
        op = "POSITIVE"
    type_name = expr.get("type", "ANY")

    def ev(i: int) -> Any:
        return evaluate_expr(operands[i], row, params)

    # Operators that do not evaluate every operand eagerly.
    if op == "CASE":
        n = len(operands)
        for i in range(0, n - 1, 2):
            if ev(i) is True:
                return cast_value(ev(i + 1), expr)
        return cast_value(ev(n - 1), expr) if n % 2 == 1 else None
    if op == "AND":
        return _and(ev(i) for i in range(len(operands)))
    if op == "OR":
        return _or(ev(i) for i in range(len(operands)))
    if op == "COALESCE":
        for i in range(len(operands)):
            v = ev(i)
            if v is not None:
                return cast_value(v, expr)
        return None

    args = [ev(i) for i in range(len(operands))]
    if op in _COMPARISONS:
        return _compare(op, args[0], args[1])
    if op == "NOT":
        return None if args[0] is None else not args[0]
    if op == "IS NULL":
        return args[0] is None
    if op == "IS NOT NULL":
        return args[0] is not None
    if op == "IS TRUE":
        return args[0] is True
    if op == "IS FALSE":
        return args[0] is False
    if op == "IS NOT TRUE":
        return args[0] is not True
    if op == "IS NOT FALSE":
        return args[0] is not False
    if op == "IS DISTINCT FROM":
        return _distinct(args[0], args[1])
    if op == "IS NOT DISTINCT FROM":
        return not _distinct(args[0], args[1])
    if op == "CAST":
        return cast_value(args[0], expr)
    if op == "CONCAT":  # PostgreSQL/Oracle: NULLs are skipped
        return "".join(str(a) for a in args if a is not None)
    if op == "CONCAT_WS":
        if args[0] is None:
            return None
        return args[0].join(str(a) for a in args[1:] if a is not None)
    if any(a is None for a in args):
        return None  # every remaining operator is strict
    if op == "NEGATE":
        return _num(type_name, -args[0])
    if op == "POSITIVE":
        return args[0]
    if op == "+":
        return _num(type_name, args[0] + args[1])
    if op == "-":
        return _num(type_name, args[0] - args[1])
    if op == "*":
        return _num(type_name, args[0] * args[1])
    if op == "/":
        if type_name in INTEGER_TYPES:
            return int_div(int(args[0]), int(args[1]))
        if args[1] == 0:
            raise ZeroDivisionError("division by zero")
        return _num(type_name, args[0] / args[1])
    if op in ("MOD", "%"):
        if isinstance(args[0], int) and isinstance(args[1], int):
            return int_mod(args[0], args[1])
        return math.fmod(args[0], args[1])
    if op == "LIKE":
        return _like(args[0], args[1], args[2] if len(args) > 2 else None)
    if op == "NOT LIKE":
        return not _like(args[0], args[1], args[2] if len(args) > 2 else None)
    if op == "||":
        return "".join(str(a) for a in args)
    if op == "UPPER":
        return args[0].upper()
    if op == "LOWER":
        return args[0].lower()
    if op in ("CHAR_LENGTH", "CHARACTER_LENGTH"):
        return len(args[0])
    if op == "SUBSTRING":
        start = args[1]
        s = args[0]
        if len(args) == 2:
            return s[max(start - 1, 0) :]
        end = start + args[2]
        return s[max(start - 1, 0) : max(end - 1, 0)]
    if op == "TRIM":
        # Calcite: TRIM(flag, chars, value) with flag BOTH/LEADING/TRAILING
        flag, chars, s = str(args[0]).upper(), args[1], args[2]
        if flag == "LEADING":
            return s.lstrip(chars)
        if flag == "TRAILING":
            return s.rstrip(chars)
        return s.strip(chars)
    if op == "ABS":
        return abs(args[0])
    if op == "FLOOR":
        return _num(type_name, math.floor(args[0]))
    if op == "CEIL":
        return _num(type_name, math.ceil(args[0]))
    if op == "POWER":
        return float(args[0]) ** float(args[1])
    if op == "SQRT":
        return math.sqrt(args[0])
    if op == "REPLACE":
        # SQL: an empty pattern matches nowhere (Python's str.replace inserts everywhere)
        return args[0].replace(args[1], args[2]) if args[1] else args[0]
    if op in ("LN", "LOG10"):
        if args[0] <= 0:
            raise ValueError(f"{op} of {args[0]}: the logarithm needs a positive number")
        return math.log(args[0]) if op == "LN" else math.log10(args[0])
    if op == "REINTERPRET":  # an interval as its count of milliseconds (or months)
        return args[0]
    if op in ("LPAD", "RPAD"):
        s, n = args[0], args[1]
        fill = args[2] if len(args) > 2 else " "
        if op == "LPAD":
            padding = ""
            while len(padding) + len(s) < n and fill:
                padding += fill
            return (padding[: max(n - len(s), 0)] + s)[: max(n, 0)]
        out = s
        while len(out) < n and fill:
            out += fill
        return out[: max(n, 0)]
    if op == "LEFT":
        n = args[1]
        return args[0][:n] if n >= 0 else args[0][: len(args[0]) + n] if -n < len(args[0]) else ""
    if op == "RIGHT":
        n, s = args[1], args[0]
        if n >= 0:
            return s[max(len(s) - n, 0):]
        return s[-n:]
    if op == "POSITION":
        sub, s = args[0], args[1]
        start = args[2] if len(args) > 2 else 1
        occurrence = args[3] if len(args) > 3 else 1
        hits = [i + 1 for i in range(len(s) - len(sub) + 1) if s[i:i + len(sub)] == sub]
        if start > 0:
            hits = [h for h in hits if h >= start]
        elif start < 0:
            hits = [h for h in reversed(hits) if h <= len(s) + start + 1]
        else:
            return 0
        return hits[occurrence - 1] if len(hits) >= occurrence else 0
    if op == "SPLIT_PART":
        parts = args[0].split(args[1]) if args[1] else [args[0]]
        n = args[2]
        if n > 0:
            return parts[n - 1] if n <= len(parts) else ""
        return parts[len(parts) + n] if -n <= len(parts) else ""
    if op == "REPEAT":
        return "".join(args[0] for _ in range(args[1]))
    if op == "REVERSE":
        return "".join(reversed(args[0]))
    if op == "STARTS_WITH":
        return args[0][: len(args[1])] == args[1]
    if op == "ENDS_WITH":
        return len(args[1]) == 0 or args[0][-len(args[1]):] == args[1]
    if op == "REGEXP_LIKE":
        return re.search(args[1], args[0]) is not None
    if op == "REGEXP_REPLACE":  # (the differential queries use no group references)
        if len(args) > 3:
            raise OracleError("the oracle knows REGEXP_REPLACE with three arguments only")
        return re.sub(args[1], args[2].replace("\\", "\\\\"), args[0])
    if op in ("ILIKE",):
        return _like(args[0].lower(), args[1].lower(), args[2] if len(args) > 2 else None)
    if op in ("SUBSTR",):
        return evaluate_expr({**expr, "op": "SUBSTRING"}, row, params)
    if op in ("LTRIM", "RTRIM"):
        return args[0].lstrip(" ") if op == "LTRIM" else args[0].rstrip(" ")
    if op == "TRANSLATE3":
        out = []
        for ch in args[0]:
            i = args[1].find(ch)
            if i < 0:
                out.append(ch)
            elif i < len(args[2]):
                out.append(args[2][i])
        return "".join(out)
    if op in ("MD5", "SHA1", "SHA256", "SHA512"):
        return getattr(hashlib, op.lower())(args[0].encode()).hexdigest()
    if op == "TO_BASE64":
        return base64.standard_b64encode(args[0].encode()).decode()
    if op == "CHR":
        return chr(args[0])
    if op == "ASCII":
        return ord(args[0][:1]) if args[0] else 0
    if op == "SPACE":
        return " " * max(args[0], 0)
    if op == "REGEXP_EXTRACT":  # BigQuery's REGEXP_SUBSTR: the match, or its one group
        start = args[2] - 1 if len(args) > 2 else 0
        nth = args[3] if len(args) > 3 else 1
        matches = list(re.finditer(args[1], args[0][start:]))
        if len(matches) < nth:
            return None
        m = matches[nth - 1]
        return m.group(1) if m.re.groups else m.group(0)
    if op in _TRIG:
        return float(_TRIG[op](*[float(a) for a in args]))
    if op in ("EXTRACT", "TO_CHAR", "TO_TIMESTAMP", "TO_DATE", "DATE_TRUNC", "LAST_DAY",
              "DAYNAME", "MONTHNAME"):
        return _temporal_call(op, args, operands)
    raise OracleError(f"the oracle does not know the operator {op!r} ({sqlkind})")


_TRIG: dict[str, Callable[..., float]] = {
    "SIN": math.sin, "COS": math.cos, "TAN": math.tan, "COT": lambda x: math.cos(x) / math.sin(x),
    "ASIN": math.asin, "ACOS": math.acos, "ATAN": math.atan, "ATAN2": math.atan2,
    "SINH": math.sinh, "COSH": math.cosh, "TANH": math.tanh, "DEGREES": lambda x: x * 180 / math.pi,
    "RADIANS": lambda x: x * math.pi / 180, "CBRT": lambda x: math.copysign(abs(x) ** (1 / 3), x),
    "LOG2": lambda x: math.log(x, 2), "PI": lambda: math.pi,
}

# ---- time: values are epoch milliseconds (DATE, TIMESTAMP), ms of the day (TIME) ----

_DAY = 86_400_000
_MONTH_NAMES = ["January", "February", "March", "April", "May", "June", "July", "August",
                "September", "October", "November", "December"]
_DAY_NAMES = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def _as_datetime(ms: int) -> datetime.datetime:
    return datetime.datetime(1970, 1, 1) + datetime.timedelta(milliseconds=ms)


def _as_ms(d: datetime.datetime) -> int:
    return round((d - datetime.datetime(1970, 1, 1)).total_seconds() * 1000)


def _temporal_call(op: str, args: list[Any], operands: list[dict[str, Any]]) -> Any:
    if op == "EXTRACT":
        return _extract(str(args[0]).upper(), args[1], str(operands[1].get("type")))
    if op == "TO_CHAR":
        return _to_char(_as_datetime(args[0]), args[1])
    if op in ("TO_TIMESTAMP", "TO_DATE"):
        ms = _to_timestamp(args[0], args[1])
        return ms - ms % _DAY if op == "TO_DATE" else ms
    if op == "DATE_TRUNC":
        return _trunc(args[1], str(args[0]).upper().rstrip("S"))
    d = _as_datetime(args[0])
    if op == "LAST_DAY":
        nxt = datetime.datetime(d.year + d.month // 12, d.month % 12 + 1, 1)
        return _as_ms(nxt - datetime.timedelta(days=1))
    if op == "DAYNAME":
        return _DAY_NAMES[d.weekday()]
    return _MONTH_NAMES[d.month - 1]


def _extract(unit: str, v: int, type_name: str) -> int:
    if type_name.startswith("INTERVAL"):
        negative = v < 0
        v = abs(v)
        if "YEAR" in type_name or "MONTH" in type_name:
            r = {"YEAR": v // 12, "MONTH": v % 12, "QUARTER": v % 12 // 3 + 1}[unit]
        else:
            seconds, ms = divmod(v, 1000)
            r = {"DAY": seconds // 86400, "HOUR": seconds % 86400 // 3600,
                 "MINUTE": seconds % 3600 // 60, "SECOND": seconds % 60,
                 "MILLISECOND": seconds % 60 * 1000 + ms, "EPOCH": seconds}[unit]
        return -r if negative else r
    d = _as_datetime(v)
    iso = d.isocalendar()
    fields = {
        "YEAR": d.year, "MONTH": d.month, "DAY": d.day, "HOUR": d.hour, "MINUTE": d.minute,
        "SECOND": d.second, "QUARTER": (d.month + 2) // 3, "WEEK": iso[1], "ISOYEAR": iso[0],
        "DOY": d.timetuple().tm_yday, "DOW": d.isoweekday() % 7 + 1, "ISODOW": d.isoweekday(),
        "MILLISECOND": d.second * 1000 + d.microsecond // 1000,
        "MICROSECOND": d.second * 1_000_000 + d.microsecond, "EPOCH": math.floor(v / 1000),
        "DECADE": d.year // 10, "CENTURY": (d.year - 1) // 100 + 1,
        "MILLENNIUM": (d.year - 1) // 1000 + 1,
    }
    return fields[unit]


def _trunc(ms: int, unit: str) -> int:
    d = _as_datetime(ms)
    if unit in ("MILLISECOND", "MICROSECOND"):
        return ms
    fixed = {"SECOND": 1000, "MINUTE": 60_000, "HOUR": 3_600_000, "DAY": _DAY}
    if unit in fixed:
        return ms - ms % fixed[unit]
    if unit == "WEEK":
        return _as_ms(datetime.datetime(d.year, d.month, d.day) - datetime.timedelta(d.weekday()))
    if unit == "MONTH":
        return _as_ms(datetime.datetime(d.year, d.month, 1))
    if unit == "QUARTER":
        return _as_ms(datetime.datetime(d.year, (d.month - 1) // 3 * 3 + 1, 1))
    first = {"YEAR": d.year, "DECADE": d.year - d.year % 10,
             "CENTURY": d.year - (d.year - 1) % 100, "MILLENNIUM": d.year - (d.year - 1) % 1000}
    return _as_ms(datetime.datetime(first[unit], 1, 1))


# the format elements, tried longest first at each place of a format
_FORMAT_ELEMENTS = sorted(
    ["YYYY", "YY", "MONTH", "MON", "MM", "DD", "DDD", "DAY", "DY", "HH24", "HH12", "HH", "MI",
     "SS", "MS", "FF3", "AM", "PM", "Q"], key=len, reverse=True)


def _format_tokens(fmt: str) -> list[tuple[bool, str]]:
    """``(is_element, text)`` pieces of a TO_CHAR format."""
    tokens: list[tuple[bool, str]] = []
    i = 0
    while i < len(fmt):
        if fmt[i] == '"':
            j = fmt.index('"', i + 1)
            tokens.append((False, fmt[i + 1:j]))
            i = j + 1
            continue
        for e in _FORMAT_ELEMENTS:
            if fmt[i:i + len(e)].upper() == e:
                tokens.append((True, fmt[i:i + len(e)]))
                i += len(e)
                break
        else:
            if fmt[i].isalpha():
                raise ValueError(f"unsupported format element at {fmt[i:]!r}")
            tokens.append((False, fmt[i]))
            i += 1
    return tokens


def _to_char(d: datetime.datetime, fmt: str) -> str:
    out = []
    for element, text in _format_tokens(fmt):
        if not element:
            out.append(text)
            continue
        e = text.upper()
        if e in ("MONTH", "MON", "DAY", "DY"):
            name = _MONTH_NAMES[d.month - 1] if e.startswith("MON") else _DAY_NAMES[d.weekday()]
            name = name if e in ("MONTH", "DAY") else name[:3]
            out.append(name.upper() if text.isupper() else name.lower() if text.islower()
                       else name)
            continue
        out.append({
            "YYYY": f"{d.year:04d}", "YY": f"{d.year % 100:02d}", "MM": f"{d.month:02d}",
            "DD": f"{d.day:02d}", "DDD": f"{d.timetuple().tm_yday:03d}",
            "HH24": f"{d.hour:02d}", "HH12": f"{d.hour % 12 or 12:02d}",
            "HH": f"{d.hour % 12 or 12:02d}", "MI": f"{d.minute:02d}", "SS": f"{d.second:02d}",
            "MS": f"{d.microsecond // 1000:03d}", "FF3": f"{d.microsecond // 1000:03d}",
            "AM": "AM" if d.hour < 12 else "PM", "PM": "AM" if d.hour < 12 else "PM",
            "Q": str((d.month + 2) // 3),
        }[e])
    return "".join(out)


def _to_timestamp(text: str, fmt: str) -> int:
    fields: dict[str, str] = {}
    rest = text.strip()
    for element, piece in _format_tokens(fmt):
        if not element:
            if piece.isspace():
                rest = rest.lstrip()
            elif not rest.startswith(piece):
                raise ValueError(f"{text!r} does not follow {fmt!r}")
            else:
                rest = rest[len(piece):]
            continue
        e = piece.upper()
        m = re.match(r"[A-Za-z]+" if e in ("MONTH", "MON", "DAY", "DY", "AM", "PM") else
                     r"\d{4}" if e == "YYYY" else r"\d{1,3}" if e in ("MS", "FF3", "DDD") else
                     r"\d{1,2}", rest)
        if m is None:
            raise ValueError(f"{text!r} does not follow {fmt!r}")
        fields[e] = m.group(0)
        rest = rest[m.end():]
    if rest:
        raise ValueError(f"{text!r} does not follow {fmt!r}")
    hour = int(fields.get("HH24", fields.get("HH12", fields.get("HH", "0"))))
    mark = fields.get("AM", fields.get("PM", "")).upper()
    if mark:
        hour = hour % 12 + (12 if mark == "PM" else 0)
    month = int(fields.get("MM", "1"))
    for key in ("MONTH", "MON"):
        if key in fields:
            month = [n[:len(fields[key])].upper() for n in _MONTH_NAMES].index(
                fields[key].upper()) + 1
    year = int(fields["YYYY"]) if "YYYY" in fields else 1970
    if "YY" in fields:
        year = int(fields["YY"]) + (2000 if int(fields["YY"]) < 70 else 1900)
    d = datetime.datetime(year, month, int(fields.get("DD", "1")), hour,
                          int(fields.get("MI", "0")), int(fields.get("SS", "0")),
                          int(fields.get("MS", fields.get("FF3", "0")).ljust(3, "0")) * 1000)
    return _as_ms(d)


def _distinct(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return (a is None) != (b is None)
    return bool(_compare("<>", a, b))


# --------------------------------------------------------------------------
# Aggregates
# --------------------------------------------------------------------------


def _aggregate(call: dict[str, Any], rows: list[Row]) -> Any:
    fn = call["fn"].upper()
    args: list[int] = call["args"]
    if call.get("filter") is not None:  # FILTER (WHERE ...): a BOOLEAN column
        rows = [r for r in rows if r[call["filter"]] is True]
    if fn == "LISTAGG":
        return _listagg(call, rows)
    if fn == "COUNT":
        if not args:
            return len(rows)
        values = [tuple(r[i] for i in args) for r in rows]
        values = [v for v in values if all(x is not None for x in v)]
        if call.get("distinct"):
            values = list(set(values))
        return len(values)
    vals = [r[args[0]] for r in rows if r[args[0]] is not None]
    if call.get("distinct"):
        vals = list(dict.fromkeys(vals))
    type_name = call.get("type", "ANY")
    if fn == "SUM":
        return _num(type_name, sum(vals)) if vals else None
    if fn == "SUM0":
        return _num(type_name, sum(vals)) if vals else _num(type_name, 0)
    if fn == "AVG":
        if not vals:
            return None
        if type_name in INTEGER_TYPES:
            return int_div(int(sum(vals)), len(vals))
        return float(sum(vals)) / len(vals)
    if fn == "MIN":
        return min(vals) if vals else None
    if fn == "MAX":
        return max(vals) if vals else None
    if fn in ("VAR_POP", "VAR_SAMP", "VARIANCE", "STDDEV_POP", "STDDEV_SAMP", "STDDEV"):
        sample = fn in ("VAR_SAMP", "VARIANCE", "STDDEV_SAMP", "STDDEV")
        if len(vals) < (2 if sample else 1):
            return None
        if any(isinstance(v, float) and not math.isfinite(v) for v in vals):
            return math.nan
        exact = [Fraction(v) for v in vals]  # statistics would round Decimals
        mean = sum(exact) / len(exact)
        var = sum((v - mean) ** 2 for v in exact) / (len(exact) - 1 if sample else len(exact))
        if type_name == "DECIMAL":
            d = Decimal(var.numerator) / Decimal(var.denominator)
            return d.sqrt() if fn.startswith("STDDEV") else d
        return math.sqrt(var) if fn.startswith("STDDEV") else float(var)
    raise OracleError(f"the oracle does not know the aggregate {fn!r}")


def _listagg(call: dict[str, Any], rows: list[Row]) -> Any:
    """LISTAGG: the non-NULL values in ORDER BY order (ties and no ORDER BY: by value)."""
    args: list[int] = call["args"]
    kept = [r for r in rows if r[args[0]] is not None]
    if not kept:
        return None
    separator = kept[0][args[1]] if len(args) > 1 else ","

    def cmp(a: Row, b: Row) -> int:
        for o in call.get("order", []):
            x, y = a[o["field"]], b[o["field"]]
            if x == y:
                continue
            if x is None or y is None:
                first = o.get("nulls") == "FIRST"
                return -1 if (x is None) == first else 1
            r = -1 if x < y else 1
            return -r if o.get("direction") == "DESC" else r
        return -1 if a[args[0]] < b[args[0]] else 1 if a[args[0]] > b[args[0]] else 0

    values = [r[args[0]] for r in sorted(kept, key=cmp_to_key(cmp))]
    if call.get("distinct"):
        values = list(dict.fromkeys(values))
    return separator.join(values)


# --------------------------------------------------------------------------
# Plan evaluation
# --------------------------------------------------------------------------


def _ceil_multiple(t: int, step: int) -> int:
    return -((-t) // step) * step


def _bag(rows: Iterable[Row]) -> Bag:
    return Counter(rows)


def _positive(c: Bag) -> Bag:
    return Counter({k: v for k, v in c.items() if v > 0})


def _sort_key_cmp(collation: list[dict[str, Any]]) -> Callable[[Row, Row], int]:
    def cmp(a: Row, b: Row) -> int:
        for c in collation:
            i = c["field"]
            x, y = a[i], b[i]
            nulls_first = c.get("nulls", "LAST").upper() == "FIRST"
            desc = c.get("direction", "ASC").upper().startswith("DESC")
            if x is None or y is None:
                if x is None and y is None:
                    continue
                r = -1 if (x is None) == nulls_first else 1
                return r
            if x == y:
                continue
            r = -1 if x < y else 1
            return -r if desc else r
        return 0

    return cmp


class NaiveEvaluator:
    """Evaluates a plan over a complete input, from scratch at each instant.

    ``inputs`` maps source names to ``[(t, row), ...]`` (streams) or
    ``[(t, sign, row), ...]`` (tables). ``relation_at`` and ``stream_at`` are
    pure functions of the instant (their results are cached, which changes
    nothing but the time taken).
    """

    def __init__(
        self,
        plan: Mapping[str, Any],
        inputs: Mapping[str, Sequence[tuple[Any, ...]]],
        params: Sequence[Any] = (),
    ) -> None:
        self.plan = plan
        self.params = tuple(params)
        self.ops: dict[int, dict[str, Any]] = {op["id"]: op for op in plan["operators"]}
        self.root: int = plan["root"]
        by_name = {name.upper(): list(rows) for name, rows in inputs.items()}
        self._source_input: dict[int, list[tuple[Any, ...]]] = {}
        for op in self.ops.values():
            if op["op"] == "source":
                key = str(op["name"]).upper()
                if key not in by_name:
                    # a qualified name like SCHEMA.S: try its last part
                    key = key.rsplit(".", 1)[-1]
                self._source_input[op["id"]] = by_name.get(key, [])
        self._rel_cache: dict[tuple[int, int], Bag] = {}
        self._stream_cache: dict[tuple[int, int], list[Row]] = {}
        self._instants_cache: dict[int, list[int]] = {}
        self._plan_instants: frozenset[int] | None = None
        self._by_time: dict[int, dict[int, list[Row]]] = {}

    # ---- kinds -----------------------------------------------------------

    def is_stream(self, op_id: int | None = None) -> bool:
        """Whether operator ``op_id`` (default: the root) outputs a stream."""
        op = self.ops[self.root if op_id is None else op_id]
        return bool(op.get("output") == "stream")

    # ---- instants of interest -------------------------------------------

    def instants(self, op_id: int | None = None) -> list[int]:
        """The sorted instants at which ``op_id``'s value may change (relation)
        or at which it may have elements (stream)."""
        op_id = self.root if op_id is None else op_id
        if op_id in self._instants_cache:
            return self._instants_cache[op_id]
        op = self.ops[op_id]
        kind = op["op"]
        result: set[int] = set()
        if kind == "source":
            result = {int(e[0]) for e in self._source_input[op_id]}
        elif kind == "window":
            child = op["inputs"][0]
            w = op["window"]
            wk = w["kind"]
            if wk in ("unbounded", "rows", "partition"):
                # no timers: the child's instants (a superset of those where it has
                # elements, and already instants of the plan), so that a window over an
                # RSTREAM, whose elements depend on the plan's instants, is defined
                out = self.instants(child)
                self._instants_cache[op_id] = out
                return out
            # the timestamps of the elements the window actually receives
            base = [t for t in self.instants(child) if self.stream_at(t, child)]
            if wk == "now":
                result = set(base) | {t + 1 for t in base}
            elif wk == "range":
                T = int(w["range_ms"])
                slide = w.get("slide_ms")
                if slide:
                    L = int(slide)
                    result = {_ceil_multiple(t, L) for t in base} | {
                        _ceil_multiple(t + T, L) for t in base
                    }
                else:
                    result = set(base) | {t + T for t in base}
            elif wk == "session":
                elements = self.stream_prefix(max(base), child) if base else []
                closes = {
                    last + int(w["gap_ms"])
                    for sessions in _sessions(elements, w.get("partition_by", []),
                                              int(w["gap_ms"])).values()
                    for last in (session[-1][0] for session in sessions)
                }
                result = set(base) | closes
            else:
                result = set(base)
        else:
            for i in op["inputs"]:
                result |= set(self.instants(i))
        out = sorted(result)
        self._instants_cache[op_id] = out
        return out

    def _source_index(self, op_id: int) -> dict[int, list[Row]]:
        """A stream source's elements by timestamp, in arrival order."""
        if op_id not in self._by_time:
            index: dict[int, list[Row]] = {}
            for t, row in self._source_input[op_id]:
                index.setdefault(int(t), []).append(tuple(row))
            self._by_time[op_id] = index
        return self._by_time[op_id]

    def plan_instants(self) -> frozenset[int]:
        """The instants of interest of every operator of the plan."""
        if self._plan_instants is None:
            found: set[int] = set()
            for op_id in self.ops:
                found.update(self.instants(op_id))
            self._plan_instants = frozenset(found)
        return self._plan_instants

    # ---- streams ---------------------------------------------------------

    def stream_at(self, tau: int, op_id: int | None = None) -> list[Row]:
        """The elements of stream operator ``op_id`` with timestamp ``tau``,
        in arrival order where that is defined."""
        op_id = self.root if op_id is None else op_id
        key = (op_id, tau)
        if key not in self._stream_cache:
            self._stream_cache[key] = self._compute_stream(self.ops[op_id], tau)
        return self._stream_cache[key]

    def stream_prefix(self, tau: int, op_id: int) -> list[tuple[int, Row]]:
        """All elements ``(t, row)`` of stream ``op_id`` with ``t <= tau``, in
        order of ``(t, arrival order)``."""
        op = self.ops[op_id]
        if op["op"] == "source":
            elements = [(int(e[0]), tuple(e[1])) for e in self._source_input[op_id]]
            elements = [e for e in elements if e[0] <= tau]
            # stable sort: arrival order breaks ties between equal timestamps
            return sorted(elements, key=lambda e: e[0])
        out: list[tuple[int, Row]] = []
        for t in self.instants(op_id):
            if t > tau:
                break
            out.extend((t, r) for r in self.stream_at(t, op_id))
        return out

    def _compute_stream(self, op: dict[str, Any], tau: int) -> list[Row]:
        kind = op["op"]
        inputs = op["inputs"]
        if kind == "source":
            if op.get("source_kind", "stream") != "stream":
                raise OracleError("a table source is a relation, not a stream")
            return list(self._source_index(op["id"]).get(tau, ()))
        if kind in ("istream", "dstream", "rstream"):
            child = inputs[0]
            now = self.relation_at(tau, child)
            if kind == "rstream":
                if tau not in self.plan_instants():
                    return []
                return sorted(now.elements(), key=_row_sort_key)
            before = self.relation_at(tau - 1, child)
            diff = _positive(now - before) if kind == "istream" else _positive(before - now)
            return sorted(diff.elements(), key=_row_sort_key)
        if kind == "exchange":  # a repartitioning: the same elements, wherever they run
            return list(self.stream_at(tau, inputs[0]))
        if kind == "stream_filter":
            rows = self.stream_at(tau, inputs[0])
            cond = op.get("condition")
            if cond is not None:
                rows = [r for r in rows if evaluate_expr(cond, r, self.params) is True]
            exprs = op.get("exprs")
            if exprs is None:
                return rows
            return [tuple(evaluate_expr(e, r, self.params) for e in exprs) for r in rows]
        if kind == "filter":
            return [
                r
                for r in self.stream_at(tau, inputs[0])
                if evaluate_expr(op["condition"], r, self.params) is True
            ]
        if kind == "project":
            return [
                tuple(evaluate_expr(e, r, self.params) for e in op["exprs"])
                for r in self.stream_at(tau, inputs[0])
            ]
        if kind == "union":
            out: list[Row] = []
            for i in inputs:
                out.extend(self.stream_at(tau, i))
            return out
        if kind == "lookup_join":
            stream_rows = self.stream_at(tau, inputs[0])
            relation = self.relation_at(tau, inputs[1])
            width = len(self.ops[inputs[1]]["columns"])
            joined = _join(op, _bag(stream_rows), relation, width, self.params)
            return sorted(joined.elements(), key=_row_sort_key)
        raise OracleError(f"operator {kind!r} does not output a stream")

    # ---- relations -------------------------------------------------------

    def relation_at(self, tau: int, op_id: int | None = None) -> Bag:
        """The bag value of relation operator ``op_id`` at instant ``tau``."""
        op_id = self.root if op_id is None else op_id
        key = (op_id, tau)
        if key not in self._rel_cache:
            self._rel_cache[key] = self._compute_relation(self.ops[op_id], tau)
        return self._rel_cache[key]

    def _compute_relation(self, op: dict[str, Any], tau: int) -> Bag:
        kind = op["op"]
        inputs = op["inputs"]
        p = self.params
        if kind == "source":
            if op.get("source_kind") != "table":
                raise OracleError("a stream source is not a relation (it needs a window)")
            bag: Bag = Counter()
            for t, sign, row in self._source_input[op["id"]]:
                if int(t) > tau:
                    continue
                row = tuple(row)
                if sign > 0:
                    bag[row] += 1
                else:
                    if bag[row] <= 0:
                        raise ValueError(f"delete of absent row {row} at {t}")
                    bag[row] -= 1
            return _positive(bag)
        if kind == "window":
            return _bag(r for _, r in self._window(op, tau))
        if kind == "exchange":  # a repartitioning: the same relation, wherever it is held
            return Counter(self.relation_at(tau, inputs[0]))
        if kind == "filter":
            src = self.relation_at(tau, inputs[0])
            return Counter(
                {r: n for r, n in src.items() if evaluate_expr(op["condition"], r, p) is True}
            )
        if kind == "project":
            out: Bag = Counter()
            for r, n in self.relation_at(tau, inputs[0]).items():
                out[tuple(evaluate_expr(e, r, p) for e in op["exprs"])] += n
            return out
        if kind == "aggregate":
            return self._aggregate_op(op, self.relation_at(tau, inputs[0]))
        if kind == "join":
            left = self.relation_at(tau, inputs[0])
            right = self.relation_at(tau, inputs[1])
            width = len(self.ops[inputs[1]]["columns"])
            return _join(op, left, right, width, p)
        if kind == "union":
            out = Counter()
            for i in inputs:
                out.update(self.relation_at(tau, i))
            if not op.get("all"):
                out = Counter(set(out))
            return out
        if kind == "minus":
            out = Counter(self.relation_at(tau, inputs[0]))
            for i in inputs[1:]:
                other = self.relation_at(tau, i)
                if op.get("all"):
                    out = _positive(out - other)
                else:
                    out = Counter({r: 1 for r in out if other[r] <= 0})
            if not op.get("all"):
                out = Counter(set(out))
            return out
        if kind == "intersect":
            out = Counter(self.relation_at(tau, inputs[0]))
            for i in inputs[1:]:
                out = out & self.relation_at(tau, i)
            if not op.get("all"):
                out = Counter(set(out))
            return out
        if kind == "values":
            return _bag(tuple(evaluate_expr(e, (), p) for e in row) for row in op["rows"])
        if kind == "sort":
            rows = sorted(self.relation_at(tau, inputs[0]).elements(), key=_row_sort_key)
            rows.sort(key=cmp_to_key(_sort_key_cmp(op.get("collation", []))))
            offset = op.get("offset") or 0
            fetch = op.get("fetch")
            rows = rows[offset:] if fetch is None else rows[offset : offset + fetch]
            return _bag(rows)
        if kind == "over":
            width = len(self.ops[inputs[0]]["columns"])
            constants = [evaluate_expr(e, (), p) for e in op.get("constants", [])]
            rel = self.relation_at(tau, inputs[0])
            for group in op["groups"]:
                rel = _over_group(group, rel, width, constants)
            return rel
        if kind == "top_n":
            out = Counter()
            for part in _partitions(self.relation_at(tau, inputs[0]), op["partition_by"],
                                    op["order_by"]):
                for i, r in enumerate(part[: int(op["limit"])]):
                    out[(*r, i + 1)] += 1
            return out
        raise OracleError(f"operator {kind!r} does not output a relation")

    def _window(self, op: dict[str, Any], tau: int) -> list[tuple[int, Row]]:
        w = op["window"]
        wk = w["kind"]
        prefix = self.stream_prefix(tau, op["inputs"][0])
        if wk == "unbounded":
            return prefix
        if wk == "now":
            return [e for e in prefix if e[0] == tau]
        if wk == "range":
            T = int(w["range_ms"])
            slide = w.get("slide_ms")
            end = tau
            if slide:
                end = (tau // int(slide)) * int(slide)
            return [e for e in prefix if end - T < e[0] <= end]
        if wk in ("rows", "partition"):
            prefix = sorted(prefix, key=_time_then_values)
        if wk == "rows":
            return _last_rows(prefix, int(w["rows"]), w.get("slide_rows"))
        if wk == "partition":
            keys: list[int] = w["partition_by"]
            groups: dict[Row, list[tuple[int, Row]]] = {}
            for e in prefix:
                groups.setdefault(tuple(e[1][k] for k in keys), []).append(e)
            out: list[tuple[int, Row]] = []
            for g in groups.values():
                out.extend(_last_rows(g, int(w["rows"]), w.get("slide_rows")))
            return out
        if wk == "session":
            gap = int(w["gap_ms"])
            out = []
            for sessions in _sessions(prefix, w.get("partition_by", []), gap).values():
                last = sessions[-1]
                if tau < last[-1][0] + gap:
                    out.extend(last)
            return out
        raise OracleError(f"unknown window kind {wk!r}")

    def _aggregate_op(self, op: dict[str, Any], src: Bag) -> Bag:
        if op.get("group_sets") is not None:
            return self._grouping_sets(op, src)
        group: list[int] = op.get("group", [])
        aggs: list[dict[str, Any]] = op.get("aggs", [])
        groups: dict[Row, list[Row]] = {}
        for r in src.elements():
            groups.setdefault(tuple(r[i] for i in group), []).append(r)
        if not group and not groups:
            groups[()] = []  # a global aggregate has one row even over nothing
        out: Bag = Counter()
        for key, rows in groups.items():
            out[key + tuple(_aggregate(a, rows) for a in aggs)] += 1
        return out

    @staticmethod
    def _grouping_sets(op: dict[str, Any], src: Bag) -> Bag:
        """GROUPING SETS: the union over the sets of GROUP BY that set, each row with
        every column of ``group`` (NULL where the set lacks it); ``GROUPING(a, b, ...)``
        is the number whose binary digits say, for a, b, ..., whether the set lacks it.
        The empty set has its row even over no rows (a global aggregate)."""
        group: list[int] = op["group"]
        out: Bag = Counter()
        rows = list(src.elements())
        for columns in op["group_sets"]:
            groups: dict[Row, list[Row]] = {}
            for r in rows:
                groups.setdefault(tuple(r[i] for i in columns), []).append(r)
            if not columns and not groups:
                groups[()] = []
            for key, members in groups.items():
                values = dict(zip(columns, key, strict=True))
                row = tuple(values.get(g) for g in group)
                for a in op.get("aggs", []):
                    if a["fn"].upper() in ("GROUPING", "GROUPING_ID"):
                        digits = "".join("0" if i in columns else "1" for i in a["args"])
                        row += (int(digits, 2),)
                    else:
                        row += (_aggregate(a, members),)
                out[row] += 1
        return out

    # ---- the query's result ------------------------------------------------

    def result(self, until: int | None = None) -> dict[int, Bag]:
        """The query's result at each instant of interest up to ``until``:

        for a stream root, the elements emitted at each instant (instants with
        no element are left out); for a relation root, ``R(tau)`` at every
        instant of interest.
        """
        out: dict[int, Bag] = {}
        for tau in self.instants():
            if until is not None and tau > until:
                break
            if self.is_stream():
                rows = self.stream_at(tau)
                if rows:
                    out[tau] = _bag(rows)
            else:
                out[tau] = self.relation_at(tau)
        return out


def _values_cmp(a: Row, b: Row) -> int:
    """Rows by their column values, ascending, NULL first: the order of window peers."""
    for x, y in zip(a, b, strict=True):
        if x == y or (x is None and y is None):
            continue
        if x is None or y is None:
            return -1 if x is None else 1
        return -1 if x < y else 1
    return 0


def _partitions(rel: Bag, keys: list[int], collation: list[dict[str, Any]]) -> list[list[Row]]:
    """The partitions of ``rel`` by ``keys``, each in window order (``collation``, then
    the rows' values); a row of count n is there n times."""
    by_key: dict[Row, list[Row]] = {}
    for r in rel.elements():
        by_key.setdefault(tuple(r[k] for k in keys), []).append(r)
    order = _sort_key_cmp(collation)
    return [sorted(rows, key=cmp_to_key(lambda a, b: order(a, b) or _values_cmp(a, b)))
            for rows in by_key.values()]


def _over_group(group: dict[str, Any], rel: Bag, width: int, constants: list[Any]) -> Bag:
    """Each row of ``rel`` followed by the values of ``group``'s calls, from the definition:
    ROW_NUMBER is the row's position in its partition; RANK one more than the rows before
    its peers; DENSE_RANK the number of distinct order keys up to its own; an aggregate is
    over the frame: the rows up to it (ROWS), up to its last peer (RANGE ... CURRENT ROW)
    or the whole partition (UNBOUNDED FOLLOWING)."""
    collation = group["order_by"]
    peer = _sort_key_cmp(collation)
    out: Bag = Counter()
    for part in _partitions(rel, group["partition_by"], collation):
        for i, r in enumerate(part):
            values: list[Any] = []
            for call in group["calls"]:
                fn = call["fn"].upper()
                if fn == "ROW_NUMBER":
                    values.append(i + 1)
                elif fn == "RANK":
                    values.append(1 + sum(1 for x in part if peer(x, r) < 0))
                elif fn == "DENSE_RANK":
                    keys = {tuple(x[c["field"]] for c in collation) for x in part
                            if peer(x, r) <= 0}
                    values.append(len(keys))
                else:
                    if str(group.get("upper")).upper() == "UNBOUNDED FOLLOWING":
                        frame = part
                    elif group.get("rows"):
                        frame = part[: i + 1]
                    else:
                        frame = [x for x in part if peer(x, r) <= 0]
                    if fn == "SUM" and call.get("nullable") is False:
                        call = {**call, "fn": "SUM0"}  # a NOT NULL sum of no values is 0
                    values.append(_aggregate(call, [x[:width] + tuple(constants) for x in frame]))
            out[r + tuple(values)] += 1
    return out


def _last_rows(
    elements: list[tuple[int, Row]], n: int, slide: int | None
) -> list[tuple[int, Row]]:
    """The last ``n`` of ``elements``; with a slide ``M``, of the first multiple of ``M``."""
    if slide:
        elements = elements[: len(elements) // int(slide) * int(slide)]
    return elements[-n:] if n > 0 else []


def _time_then_values(element: tuple[int, Row]) -> tuple[Any, ...]:
    """A ROWS window's order: by timestamp, then the values (NULL first, NaN last)."""
    t, row = element
    return (t, [(0,) if v is None else (2,) if v != v else (1, v) for v in row])


def _sessions(
    elements: list[tuple[int, Row]], keys: list[int], gap: int
) -> dict[Row, list[list[tuple[int, Row]]]]:
    """Each key's sessions: runs of its elements each less than ``gap`` after the one before."""
    by_key: dict[Row, list[list[tuple[int, Row]]]] = {}
    for t, row in elements:
        sessions = by_key.setdefault(tuple(row[k] for k in keys), [])
        if sessions and t - sessions[-1][-1][0] < gap:
            sessions[-1].append((t, row))
        else:
            sessions.append([(t, row)])
    return by_key


def _row_sort_key(row: Row) -> tuple[Any, ...]:
    return tuple((v is None, type(v).__name__, v if v is not None else 0) for v in row)


def _join(
    op: dict[str, Any],
    left: Bag,
    right: Bag,
    right_width: int,
    params: Sequence[Any],
) -> Bag:
    """A bag join; ``condition`` is over left columns then right.

    Pairs are found by a nested loop, narrowed (for speed only) by the
    equalities ``left column = right column`` that the condition's top-level
    conjunction contains, found here from the condition itself; the whole
    condition is still evaluated on every candidate pair.
    """
    join_type = op.get("join_type", "inner")
    cond = op.get("condition")
    left_width = None
    out: Bag = Counter()
    right_items = list(right.items())
    matched_right: set[Row] = set()
    lw = _width_from_columns(op, right_width)
    pairs = _equi_pairs(cond, lw)
    index: dict[Row, list[tuple[Row, int]]] = {}
    if pairs:
        for rrow, rn in right_items:
            index.setdefault(tuple(rrow[j - lw] for _, j in pairs), []).append((rrow, rn))
    for lrow, ln in left.items():
        left_width = len(lrow)
        found = False
        if pairs:
            candidates = index.get(tuple(lrow[i] for i, _ in pairs), [])
        else:
            candidates = right_items
        for rrow, rn in candidates:
            both = lrow + rrow
            if cond is None or evaluate_expr(cond, both, params) is True:
                found = True
                matched_right.add(rrow)
                if join_type in ("inner", "left", "right", "full"):
                    out[both] += ln * rn
        if join_type == "semi" and found:
            out[lrow] += ln
        elif join_type == "anti" and not found:
            out[lrow] += ln
        elif join_type in ("left", "full") and not found:
            out[lrow + (None,) * right_width] += ln
    if join_type in ("right", "full"):
        if left_width is None:
            left_width = _width_from_columns(op, right_width)
        for rrow, rn in right_items:
            if rrow not in matched_right:
                out[(None,) * left_width + rrow] += rn
    return out


def _width_from_columns(op: dict[str, Any], right_width: int) -> int:
    if op.get("join_type") in ("semi", "anti"):
        return len(op["columns"])
    return len(op["columns"]) - right_width


def _equi_pairs(cond: dict[str, Any] | None, left_width: int) -> list[tuple[int, int]]:
    """``(left index, right index)`` of the ``input = input`` conjuncts across the sides."""
    if cond is None or cond.get("kind") != "call":
        return []
    op = _KIND_TO_OP.get(cond.get("sqlkind") or "", str(cond.get("op", "")).upper())
    if op == "AND":
        found: list[tuple[int, int]] = []
        for c in cond["operands"]:
            found.extend(_equi_pairs(c, left_width))
        return found
    if op == "=":
        a, b = cond["operands"]
        if a.get("kind") == "input" and b.get("kind") == "input":
            i, j = sorted((a["index"], b["index"]))
            # exact equality only between values of one type (no casts here)
            same_type = a.get("type") == b.get("type") not in STRING_TYPES
            if i < left_width <= j and same_type:
                return [(i, j)]
    return []
