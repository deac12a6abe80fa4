"""Hypothesis strategies for the statement fuzzer: CQL statements over the fixture catalog.

:func:`statement` draws one *valid-ish* statement: most are well typed and
name real objects, so that they get past the planner into the runtime, but
every part sometimes goes wrong on purpose (a column of the wrong type, an
object that does not exist, a window with a zero or negative size, a literal
out of range, a ``?`` for which the test passes a Python value of the wrong
type). :func:`mutated_statement` breaks valid statements token by token;
:func:`pathological_statement` makes the shapes that stress recursion and
sizes (deep parentheses, operator chains of thousands of terms, empty text).
:func:`python_value` draws parameter values, many of them of types no column has.

Everything here is pure text generation; running it is ``test_statement_fuzz``'s job.
"""

from __future__ import annotations

import datetime as dt
import fractions
import re
import uuid
from dataclasses import dataclass, field
from decimal import Decimal

from hypothesis import strategies as st

from tests.fuzz.catalog import STREAM_VIEWS, STREAMS, TABLES, VIEWS

TYPES = ["int", "double", "decimal", "str", "bool", "ts", "interval"]
NUMERIC = {"int", "double", "decimal"}

#: Names the DDL of the fuzzer creates and drops (and some odd spellings).
SCRATCH = ["Z0", "Z1", "z1", "Z2"]
ODD_NAMES = [
    '"z z"', '"Ünïcødé"', '"日本"', '"select"', '"a""b"', '"a;b"', '""', "Z" * 300,
    "_x", '"Trades"', "trades", "TRADES", "Z0.Z1", '"\U0001f600"',
]

# ---------------------------------------------------------------------------
# literals
# ---------------------------------------------------------------------------

#: Per type: literals that are valid (edge values included) and ones that may be errors.
INT_OK = ["0", "1", "-1", "2", "7", "-3", "100", "2147483647", "-2147483648", "2147483648",
          "9223372036854775807", "-9223372036854775808", "007"]
INT_ODD = ["9223372036854775808", "99999999999999999999999999999999999999", "1" + "0" * 400,
           "-" + "9" * 80]
DOUBLE_OK = ["0.0E0", "1.5E0", "-2.25E0", "1e308", "-1e308", "4.9e-324", "1.7976931348623157E308",
             "-0.0E0", "1E-300"]
DOUBLE_ODD = ["1e309", "1E-400", "1e", "123456789012345678901234567890.5", "0.1"]
DECIMAL_OK = ["0.00", "1.25", "-9999999999.99", "0.0000000000000000000000000000000001",
              "CAST(1.5 AS DECIMAL(3, 1))", "CAST(0 AS DECIMAL(1, 0))",
              "12345678901234567890123456789012345678", "-0.5"]
DECIMAL_ODD = ["12345678901234567890123456789012345678.9", "0.000000000000000000000000000000000001",
               "99999999999999999999.999999999999999999", "CAST(1 AS DECIMAL(38, 38))"]
STRING_VALUES = [
    "", "x", "a", "ACME", "héllo ☃ 日本", "😀", "\U0010ffff", "\u0000", "tab\tnl\n", "it's",
    "%", "_", "\\", "'", "a" * 1000, "é\u0301", "\u202e", "NULL", "1", "2024-01-01 00:00:00",
    "1e5", " 12 ", "true", "ü",
]
TIMESTAMP_OK = [
    "2024-01-01 00:00:00", "2024-01-01 00:00:01", "1970-01-01 00:00:00", "0001-01-01 00:00:00",
    "9999-12-31 23:59:59", "9999-12-31 23:59:59.999", "2024-02-29 12:30:00.5",
    "1969-12-31 23:59:59.999", "2024-01-01 01:00:00",
]
TIMESTAMP_ODD = [
    "2023-02-29 00:00:00", "10000-01-01 00:00:00", "2024-01-01", "2024-13-01 00:00:00",
    "2024-01-01 24:00:00", "2024-01-01T00:00:00", "  2024-01-01 00:00:00  ", "",
    "0000-01-01 00:00:00",
]
INTERVAL_OK = [
    "INTERVAL '1' DAY", "INTERVAL '1' SECOND", "INTERVAL '-5' MINUTE", "INTERVAL '0' HOUR",
    "INTERVAL '1:30' HOUR TO MINUTE", "INTERVAL '1 02:03:04.5' DAY TO SECOND",
    "INTERVAL '99' DAY", "INTERVAL '999999999' DAY(9)", "INTERVAL '0.001' SECOND",
    "INTERVAL '3000000' DAY(7)",
]
INTERVAL_ODD = [
    "INTERVAL '100' DAY", "INTERVAL '1' YEAR", "INTERVAL '1-2' YEAR TO MONTH",
    "INTERVAL '1' MONTH", "INTERVAL '' DAY", "INTERVAL 'x' DAY", "INTERVAL '2147483648' SECOND(10)",
]
INT_LITERALS = INT_OK + INT_ODD
DOUBLE_LITERALS = DOUBLE_OK + DOUBLE_ODD
INTERVAL_LITERALS = INTERVAL_OK + INTERVAL_ODD
SQL_TYPE_OF = {
    "int": ["INTEGER", "BIGINT"], "double": ["DOUBLE"], "decimal": ["DECIMAL(12, 2)"],
    "str": ["VARCHAR"], "bool": ["BOOLEAN"], "ts": ["TIMESTAMP"], "interval": ["INTERVAL DAY"],
}
SQL_TYPES = [
    "INTEGER", "BIGINT", "SMALLINT", "TINYINT", "DOUBLE", "REAL", "FLOAT", "DECIMAL",
    "DECIMAL(12, 2)", "DECIMAL(38, 0)", "DECIMAL(5, 5)", "VARCHAR", "VARCHAR(3)", "CHAR(2)",
    "BOOLEAN", "TIMESTAMP", "TIMESTAMP(3)", "DATE", "TIME", "VARBINARY", "INTERVAL DAY",
    "INTERVAL SECOND", "INTERVAL YEAR TO MONTH",
]
ODD_SQL_TYPES = [
    "DECIMAL(0, 0)", "DECIMAL(40, 2)", "DECIMAL(2, 5)", "VARCHAR(0)", "VARCHAR(-1)",
    "VARCHAR(2147483648)", "CHAR(0)", "INTEGER ARRAY", "MAP<INTEGER, VARCHAR>", "ROW(a INTEGER)",
    "TIMESTAMP WITH LOCAL TIME ZONE", "TIMESTAMP(12)", "NOPE", "GEOMETRY", "ANY", "NULL",
    "MULTISET", "BINARY(3)", "TIME(9)", "DOUBLE PRECISION", "INTERVAL DAY(10)",
]
TIME_UNITS = ["MILLISECOND", "SECOND", "MINUTE", "HOUR", "DAY"]
ODD_UNITS = ["WEEK", "MONTH", "YEAR", "MICROSECOND", "NANOSECOND", "CENTURY", "FORTNIGHT", ""]
EXTRACT_UNITS = ["YEAR", "MONTH", "DAY", "HOUR", "MINUTE", "SECOND", "DOW", "DOY", "WEEK",
                 "QUARTER", "EPOCH", "MILLISECOND", "MICROSECOND", "DECADE", "MILLENNIUM"]


def quote(text: str) -> str:
    """A SQL string literal for ``text``."""
    return "'" + text.replace("'", "''") + "'"


def string_literal(draw: st.DrawFn, strict: bool) -> str:
    if draw(st.integers(0, 4)) == 0:
        text = draw(st.text(max_size=12))
    else:
        text = draw(st.sampled_from(STRING_VALUES))
    lit = quote(text)
    form = draw(st.integers(0, 15))
    if form == 0:
        return "_UTF8" + lit if draw(st.booleans()) else "N" + lit
    if form == 1:
        return "U&'\\0041\\00e9\\+01F600'"
    if form == 2 and not strict:
        return lit + " " + quote(draw(st.sampled_from(["", "y", "ü"])))  # adjacent literals
    if form == 3 and not strict:
        return "X'" + draw(st.sampled_from(["", "00", "ff", "abc", "zz"])) + "'"
    return lit


def literal(draw: st.DrawFn, type_: str, strict: bool = False) -> str:
    """A literal of ``type_`` (edge values included; odd, maybe invalid, ones if not strict)."""
    odd = not strict and draw(st.integers(0, 3)) == 0
    if draw(st.integers(0, 9)) == 0:
        sql_type = SQL_TYPE_OF[type_][0]
        return draw(st.sampled_from(["NULL", f"CAST(NULL AS {sql_type})"]))
    if type_ == "int":
        if draw(st.booleans()):
            return str(draw(st.integers(-5, 10)))
        return draw(st.sampled_from(INT_ODD if odd else INT_OK))
    if type_ == "double":
        if draw(st.booleans()):
            value = draw(st.floats(allow_nan=False, allow_infinity=False))
            return repr(value) if "e" in repr(value) else f"{value!r}E0"
        return draw(st.sampled_from(DOUBLE_ODD if odd else DOUBLE_OK))
    if type_ == "decimal":
        return draw(st.sampled_from(DECIMAL_ODD if odd else DECIMAL_OK))
    if type_ == "str":
        return string_literal(draw, strict)
    if type_ == "bool":
        return draw(st.sampled_from(["TRUE", "FALSE", "UNKNOWN", "NOT TRUE"]))
    if type_ == "ts":
        text = draw(st.sampled_from(TIMESTAMP_ODD if odd else TIMESTAMP_OK))
        kind = "TIMESTAMP"
        if odd:
            kind = draw(st.sampled_from(["TIMESTAMP", "DATE", "TIME"]))
            if kind == "DATE":
                text = text[:10]
            elif kind == "TIME":
                text = draw(st.sampled_from(["00:00:00", "23:59:59.999", "12:30", "25:00:00"]))
        return f"{kind} {quote(text)}"
    return draw(st.sampled_from(INTERVAL_ODD if odd else INTERVAL_OK))


# ---------------------------------------------------------------------------
# expressions
# ---------------------------------------------------------------------------


@dataclass
class Scope:
    """What an expression may name: ``[(sql, type)]``, whether aggregates may appear, and
    whether to keep to well-typed SQL (``strict``) or to make errors on purpose."""

    columns: list[tuple[str, str]]
    strict: bool = False
    aggregates: bool = False
    group_keys: list[tuple[str, str]] = field(default_factory=list)

    def of(self, type_: str) -> list[str]:
        if self.strict:
            return [c for c, t in self.columns if t == type_]
        return [c for c, t in self.columns if t == type_ or (type_ in NUMERIC and t in NUMERIC)]

    def plain(self) -> Scope:
        """The same columns, outside any aggregate."""
        return Scope(self.columns, self.strict)


@st.composite
def expr(draw: st.DrawFn, scope: Scope, type_: str, depth: int = 2) -> str:
    """An expression meant to have ``type_`` (unless not strict: then, sometimes, another)."""
    if not scope.strict and draw(st.integers(0, 14)) == 0:  # a type error on purpose
        type_ = draw(st.sampled_from(TYPES))
    if depth <= 0 or draw(st.integers(0, 2)) == 0:
        return draw(_leaf(scope, type_))
    return draw(_compound(scope, type_, depth))


@st.composite
def _leaf(draw: st.DrawFn, scope: Scope, type_: str) -> str:
    columns = scope.of(type_)
    if scope.aggregates:
        keys = set(c for c, _ in scope.group_keys)
        columns = [c for c in columns if c in keys]
    choice = draw(st.integers(0, 11))
    if columns and choice < 6:
        return draw(st.sampled_from(columns))
    if choice == 6:
        if scope.strict or draw(st.booleans()):
            return f"CAST(? AS {draw(st.sampled_from(SQL_TYPE_OF[type_]))})"
        return "?"
    if choice == 7 and scope.columns and not scope.aggregates and not scope.strict:
        return draw(st.sampled_from([c for c, _ in scope.columns]))  # any column, any type
    return literal(draw, type_, scope.strict)


@st.composite
def _compound(draw: st.DrawFn, scope: Scope, type_: str, depth: int) -> str:
    strict = scope.strict

    def sub(t: str = type_) -> str:
        return draw(expr(scope, t, depth - 1))

    def any_type() -> str:
        return draw(st.sampled_from(TYPES))

    common = ["case", "coalesce", "nullif", "cast", "paren"]
    if scope.aggregates:
        common += ["agg", "agg", "agg"]
    if type_ in NUMERIC:
        forms = ["arith", "arith", "div", "mod", "neg", "fn1", "fn2", "extract", "length",
                 "position", "tsdiff", *common]
    elif type_ == "str":
        forms = ["concat", "concat", "strfn", "substring", "trim", *common]
    elif type_ == "bool":
        forms = ["cmp", "cmp", "cmp", "andor", "not", "isnull", "istrue", "like", "in",
                 "between", "distinct", "exists", *common]
    elif type_ == "ts":
        forms = ["tsarith", "tsfloor", "now", "tsadd", *common]
    else:
        forms = ["ivarith", "ivneg", *common]
    form = draw(st.sampled_from(forms))

    if form == "paren":
        return f"({sub()})"
    if form == "case":
        whens = " ".join(
            f"WHEN {sub('bool')} THEN {sub()}" for _ in range(draw(st.integers(1, 3)))
        )
        tail = f" ELSE {sub()}" if draw(st.booleans()) else ""
        if draw(st.integers(0, 3)) == 0:  # simple CASE
            operand = any_type()
            whens = " ".join(f"WHEN {sub(operand)} THEN {sub()}" for _ in range(2))
            return f"CASE {sub(operand)} {whens}{tail} END"
        return f"CASE {whens}{tail} END"
    if form == "coalesce":
        return f"COALESCE({', '.join(sub() for _ in range(draw(st.integers(1, 3))))})"
    if form == "nullif":
        return f"NULLIF({sub()}, {sub()})"
    if form == "cast":
        if strict:  # casts that make sense: to the type wanted, from a type that converts
            target = draw(st.sampled_from(SQL_TYPE_OF[type_] + (
                ["INTEGER", "BIGINT", "DOUBLE", "DECIMAL(12, 2)", "DECIMAL(38, 0)", "SMALLINT",
                 "TINYINT", "REAL"] if type_ in NUMERIC else ["VARCHAR(3)", "CHAR(2)"]
                if type_ == "str" else [])))
            source = draw(st.sampled_from(
                ["int", "double", "decimal", "str"] if type_ in NUMERIC or type_ == "str"
                else [type_, "str"]))
        else:
            source = any_type()
            target = draw(st.sampled_from(SQL_TYPES + ODD_SQL_TYPES[:4]))
        return f"CAST({sub(source)} AS {target})"
    if form == "agg":
        plain = scope.plain()
        fns = ["COUNT", "SUM", "AVG", "MIN", "MAX", "COUNT", "SUM"]
        if not strict:
            fns += ["STDDEV_POP", "VAR_SAMP", "BOOL_AND", "ANY_VALUE", "LISTAGG", "EVERY"]
        fn = draw(st.sampled_from(fns))
        if fn == "COUNT" and draw(st.booleans()):
            return "COUNT(*)"
        if fn in ("MIN", "MAX", "ANY_VALUE"):
            arg_type = type_
        elif fn in ("SUM", "AVG") and type_ in NUMERIC:
            arg_type = type_
        else:
            arg_type = {"BOOL_AND": "bool", "EVERY": "bool", "LISTAGG": "str"}.get(fn, "int")
        distinct = "DISTINCT " if draw(st.integers(0, 3)) == 0 else ""
        arg = draw(expr(plain, arg_type, 1))
        filt = f" FILTER (WHERE {draw(expr(plain, 'bool', 1))})" if draw(
            st.integers(0, 6)) == 0 else ""
        return f"{fn}({distinct}{arg}){filt}"
    # numeric
    if form == "arith":
        op = draw(st.sampled_from(["+", "-", "*", "+", "-", "*", "/"]))
        return f"({sub()} {op} {sub()})"
    if form == "div":
        divisor = draw(st.sampled_from(["0", "0.0", "0E0", "-0.0E0", "CAST(0 AS DECIMAL(3, 1))",
                                        "-1", "2", sub()]))
        return f"({sub()} / {divisor})"
    if form == "mod":
        return f"MOD({sub('int')}, {draw(st.sampled_from(['0', '-1', '3', sub('int')]))})"
    if form == "neg":
        return f"(- {sub()})"
    if form == "fn1":
        fn = draw(st.sampled_from(["ABS", "FLOOR", "CEIL", "SQRT", "LN", "EXP", "SIGN",
                                   "LOG10", "ROUND", "CEILING", "SIN", "ACOS"]))
        return f"{fn}({sub()})"
    if form == "fn2":
        fn = draw(st.sampled_from(["POWER", "ROUND", "TRUNCATE", "MOD", "ATAN2"]))
        return f"{fn}({sub()}, {sub('int')})"
    if form == "extract":
        unit = draw(st.sampled_from(EXTRACT_UNITS))
        return f"EXTRACT({unit} FROM {sub('ts')})"
    if form == "length":
        fn = draw(st.sampled_from(["CHAR_LENGTH", "CHARACTER_LENGTH", "OCTET_LENGTH"]))
        return f"{fn}({sub('str')})"
    if form == "position":
        return f"POSITION({sub('str')} IN {sub('str')})"
    if form == "tsdiff":
        unit = draw(st.sampled_from([*TIME_UNITS, "YEAR", "MONTH", "WEEK"]))
        return f"TIMESTAMPDIFF({unit}, {sub('ts')}, {sub('ts')})"
    # strings
    if form == "concat":
        other = "str" if strict else draw(st.sampled_from(["str", "str", "int", "ts"]))
        return f"({sub()} || {sub(other)})"
    if form == "strfn":
        fn = draw(st.sampled_from(["UPPER", "LOWER", "INITCAP", "UPPER"]))
        return f"{fn}({sub()})"
    if form == "substring":
        length = f" FOR {sub('int')}" if draw(st.booleans()) else ""
        return f"SUBSTRING({sub()} FROM {sub('int')}{length})"
    if form == "trim":
        side = draw(st.sampled_from(["", "BOTH ", "LEADING ", "TRAILING "]))
        chars = draw(st.sampled_from(["", "' ' ", "'a' ", "'ab' ", "'' "]))
        what = f"{side}{chars}FROM " if side or chars else ""
        return f"TRIM({what}{sub()})"
    # booleans
    if form == "cmp":
        op = draw(st.sampled_from(["=", "<>", "<", "<=", ">", ">=", "!="]))
        left = any_type()
        right = left if strict or draw(st.integers(0, 4)) else any_type()
        if strict and left in NUMERIC:
            right = draw(st.sampled_from(sorted(NUMERIC)))  # numeric types compare
        return f"{sub(left)} {op} {sub(right)}"
    if form == "andor":
        return f"({sub()} {draw(st.sampled_from(['AND', 'OR']))} {sub()})"
    if form == "not":
        return f"NOT ({sub()})"
    if form == "isnull":
        return f"{sub(any_type())} IS {draw(st.sampled_from(['', 'NOT ']))}NULL"
    if form == "istrue":
        return f"({sub()}) IS {draw(st.sampled_from(['TRUE', 'NOT FALSE', 'UNKNOWN']))}"
    if form == "like":
        patterns = ["'x%'", "'%'", "'_'", "'%é%'", "'['", "'\\%' ESCAPE '\\'", "'%😀%'"]
        ops = ["LIKE", "NOT LIKE", "SIMILAR TO"]
        if not strict:
            patterns += ["'a' ESCAPE ''", "?", "'a' ESCAPE 'ab'"]
            ops += ["ILIKE", "RLIKE"]
        return f"{sub('str')} {draw(st.sampled_from(ops))} {draw(st.sampled_from(patterns))}"
    if form == "in":
        t = any_type() if not strict else draw(st.sampled_from(["int", "str", "double", "ts"]))
        items = ", ".join(sub(t) for _ in range(draw(st.integers(1, 4))))
        neg = draw(st.sampled_from(["", "NOT "]))
        if draw(st.integers(0, 5)) == 0:
            return f"{sub('int')} {neg}IN (SELECT id FROM Acct)"
        return f"{sub(t)} {neg}IN ({items})"
    if form == "between":
        t = draw(st.sampled_from(["int", "int", "double", "str", "ts"]))
        sym = draw(st.sampled_from(["", "SYMMETRIC "]))
        return f"{sub(t)} BETWEEN {sym}{sub(t)} AND {sub(t)}"
    if form == "distinct":
        t = any_type()
        return f"{sub(t)} IS {draw(st.sampled_from(['', 'NOT ']))}DISTINCT FROM {sub(t)}"
    if form == "exists":
        return draw(st.sampled_from(["EXISTS (SELECT * FROM Acct)",
                                     "EXISTS (SELECT 1 FROM Bag WHERE x = 1)"]))
    # timestamps
    if form == "tsarith":
        return f"({sub('ts')} {draw(st.sampled_from(['+', '-']))} {sub('interval')})"
    if form == "tsfloor":
        fn = draw(st.sampled_from(["FLOOR", "CEIL"]))
        return f"{fn}({sub('ts')} TO {draw(st.sampled_from([*TIME_UNITS, 'YEAR', 'MONTH']))})"
    if form == "now":
        return draw(st.sampled_from(["CURRENT_TIMESTAMP", "LOCALTIMESTAMP"]))
    if form == "tsadd":
        unit = draw(st.sampled_from([*TIME_UNITS, "YEAR", "MONTH"]))
        return f"TIMESTAMPADD({unit}, {sub('int')}, {sub('ts')})"
    # intervals
    if form == "ivarith":
        return f"({sub('interval')} * {sub('int')})"
    return f"(- {sub('interval')})"


# ---------------------------------------------------------------------------
# queries
# ---------------------------------------------------------------------------

Columns = list[tuple[str, str]]


@st.composite
def window(draw: st.DrawFn, columns: Columns, strict: bool = False) -> str:
    """A CQL window, usually a sensible one; with odd sizes or units unless ``strict``."""
    kinds = ["", "", "now", "unbounded", "range", "range", "slide", "rows", "partition"]
    kind = draw(st.sampled_from(kinds if strict else [*kinds, "odd"]))

    def size() -> str:
        if not strict and draw(st.integers(0, 5)) == 0:
            return draw(st.sampled_from(["0", "-1", "1.5", "2147483648", "99999999999999999999",
                                         "9223372036854775807", "?", "'1'", "1e3"]))
        return str(draw(st.sampled_from([1, 2, 5, 10, 30, 60, 500, 1000])))

    def unit() -> str:
        if not strict and draw(st.integers(0, 7)) == 0:
            return draw(st.sampled_from(ODD_UNITS))
        u = draw(st.sampled_from(TIME_UNITS))
        return u + "S" if draw(st.booleans()) else u

    if kind == "":
        return ""
    if kind == "now":
        return "[NOW]"
    if kind == "unbounded":
        return draw(st.sampled_from(["[UNBOUNDED]", "[RANGE UNBOUNDED]"]))
    if kind == "range":
        if draw(st.integers(0, 5)) == 0:
            return f"[RANGE {size()}]"
        return f"[RANGE {size()} {unit()}]"
    if kind == "slide":
        return f"[RANGE {size()} {unit()} SLIDE {size()} {unit()}]"
    if kind == "rows":
        return f"[ROWS {size()}]"
    if kind == "partition":
        names = [c for c, _ in columns] or ["nope"]
        keys = draw(st.lists(st.sampled_from(names), min_size=1, max_size=2))
        return f"[PARTITION BY {', '.join(keys)} ROWS {size()}]"
    return draw(st.sampled_from([
        "[]", "[NOW NOW]", "[RANGE]", "[ROWS]", "[RANGE 1 HOUR SLIDE]", "[PARTITION BY ROWS 1]",
        "[RANGE 1 SECOND SLIDE 2 SECONDS]", "[RANGE 0 SECONDS SLIDE 0 SECONDS]",
        "[RANGE 1 SECONDS SLIDE 0 SECONDS]", "[RANGE -1 SECONDS SLIDE -1 SECONDS]",
        "[RANGE 1 DAY SLIDE 1 MILLISECOND]", "[ROWS 0]", "[ROWS -1]", "[RANGE 0]",
        "[RANGE INTERVAL '1' HOUR]", "[RANGE 1 HOUR] [NOW]", "[PARTITION BY 1 ROWS 1]",
        "[RANGE 1 MONTH]", "[RANGE 1 YEAR SLIDE 1 MONTH]", "[RANGE 2147483648 DAYS]",
        "[RANGE 9223372036854775807 MILLISECONDS]", "[RANGE 106751991167 DAYS]",
    ]))


@dataclass
class Source:
    sql: str
    columns: Columns
    alias: str


@st.composite
def source(draw: st.DrawFn, alias: str, depth: int, strict: bool = False) -> Source:
    """A FROM item: a (windowed) stream, a table, a view, or a subquery."""
    kinds = ["stream", "stream", "stream", "table", "view", "sub"]
    kind = draw(st.sampled_from(kinds if strict else [*kinds, "missing"]))
    if kind == "sub" and depth > 0:
        sql, cols = draw(select_query(depth - 1, strict, top=False))
        return Source(f"({sql}) AS {alias}", cols, alias)
    if kind == "table":
        name = draw(st.sampled_from(sorted(TABLES)))
        win = draw(window(TABLES[name])) if not strict and draw(st.integers(0, 6)) == 0 else ""
        return Source(f"{name} {win} AS {alias}", TABLES[name], alias)
    if kind == "view":
        name = draw(st.sampled_from(sorted(VIEWS)))
        windowed = name in STREAM_VIEWS or (not strict and draw(st.integers(0, 5)) == 0)
        win = draw(window(VIEWS[name], strict)) if windowed else ""
        return Source(f"{name} {win} AS {alias}", VIEWS[name], alias)
    if kind == "missing":
        name = draw(st.sampled_from([*SCRATCH, "Nope", '"trades"', "Trades.Trades"]))
        return Source(f"{name} {draw(window([]))} AS {alias}", [("id", "int")], alias)
    name = draw(st.sampled_from(sorted(STREAMS)))
    as_ = draw(st.sampled_from([" AS ", " AS ", " "]))
    return Source(f"{name} {draw(window(STREAMS[name], strict))}{as_}{alias}", STREAMS[name],
                  alias)


def _qualified(src: Source) -> Columns:
    return [(f"{src.alias}.{c}", t) for c, t in src.columns]


@st.composite
def select_query(
    draw: st.DrawFn,
    depth: int = 1,
    strict: bool = False,
    *,
    top: bool = True,
    want: list[str] | None = None,
) -> tuple[str, Columns]:
    """``(sql, output columns)`` of one SELECT (maybe with a relation-to-stream operator).

    ``strict``: well-typed, existing names, relation-to-stream only at the ``top``;
    ``want``: the types of the select items (for the branches of a set operation).
    """
    left = draw(source("A", depth, strict))
    sources = [left]
    from_sql = left.sql
    if draw(st.integers(0, 2)) == 0:
        right = draw(source("B", depth, strict))
        sources.append(right)
        join = draw(st.sampled_from(["JOIN", "JOIN", "LEFT JOIN", "RIGHT JOIN", "FULL JOIN",
                                     "CROSS JOIN", ",", "INNER JOIN", "LEFT OUTER JOIN"]))
        on_scope = Scope(_qualified(left) + _qualified(right), strict)
        if join in (",", "CROSS JOIN"):
            from_sql = f"{left.sql}{join if join == ',' else ' ' + join} {right.sql}"
        else:
            lk, lt = draw(st.sampled_from(_qualified(left)))
            matching = [c for c, t in _qualified(right) if t == lt or not strict]
            if matching and draw(st.integers(0, 3)):
                on = f"{lk} = {draw(st.sampled_from(matching))}"
            else:
                on = draw(expr(on_scope, "bool", 1))
            from_sql = f"{left.sql} {join} {right.sql} ON {on}"
    scope = Scope([c for s in sources for c in _qualified(s)], strict)
    where = f" WHERE {draw(expr(scope, 'bool'))}" if draw(st.booleans()) else ""

    grouped = draw(st.integers(0, 3)) == 0
    group_sql, having = "", ""
    item_types = want or [draw(st.sampled_from(TYPES)) for _ in range(draw(st.integers(1, 4)))]
    items: list[tuple[str, str]] = []
    if grouped:
        keys = draw(st.lists(st.sampled_from(scope.columns), max_size=2, unique=True))
        agg_scope = Scope(scope.columns, strict, aggregates=True, group_keys=keys)
        if want is None:
            items = list(keys)
            item_types = [draw(st.sampled_from(["int", "int", "double", "decimal", "str", "ts"]))
                          for _ in range(draw(st.integers(1, 3)))]
        items += [(draw(expr(agg_scope, t, 2)), t) for t in item_types]
        if keys:
            group_sql = " GROUP BY " + ", ".join(c for c, _ in keys)
        if draw(st.integers(0, 2)) == 0:
            having = f" HAVING {draw(expr(agg_scope, 'bool', 2))}"
    else:
        items = [(draw(expr(scope, t)), t) for t in item_types]
        if not strict and draw(st.integers(0, 9)) == 0:
            having = f" HAVING {draw(expr(scope, 'bool', 1))}"

    star = want is None and not grouped and draw(st.integers(0, 4)) == 0
    if star and (not strict or len(sources) == 1):
        select_list = draw(st.sampled_from(["*", "A.*"]))
        out_cols = list(left.columns) + (
            [c for s in sources[1:] for c in s.columns] if select_list == "*" else [])
    else:
        parts, out_cols = [], []
        for i, (e, t) in enumerate(items):
            if not strict and draw(st.integers(0, 7)) == 0:
                parts.append(e)  # unnamed (or a duplicate name)
            else:
                parts.append(f"{e} AS E{i}")
            out_cols.append((f"E{i}", t))
        select_list = ", ".join(parts)
    distinct = "DISTINCT " if draw(st.integers(0, 6)) == 0 else ""

    r2s_forms = ["", "", "", "ISTREAM", "DSTREAM", "RSTREAM", "wrap"]
    r2s = draw(st.sampled_from(r2s_forms if top or not strict else [""]))
    if r2s in ("", "wrap"):
        head = f"SELECT {distinct}{select_list}"
    else:
        head = f"SELECT {r2s}({distinct}{select_list})"
    sql = f"{head} FROM {from_sql}{where}{group_sql}{having}"
    tails = ["", "", "", "", "", "", "", "", " ORDER BY 1", " LIMIT 2"]
    if not strict:
        tails += [" OFFSET 1", " FETCH FIRST 1 ROWS ONLY", " ORDER BY 1 DESC LIMIT 0"]
    sql += draw(st.sampled_from(tails))
    if r2s == "wrap":
        sql = f"{draw(st.sampled_from(['ISTREAM', 'DSTREAM', 'RSTREAM']))}({sql})"
    return sql, out_cols


@st.composite
def query(draw: st.DrawFn, depth: int = 1, strict: bool | None = None) -> str:
    """A query: a SELECT, a set operation of two, a WITH, or VALUES."""
    if strict is None:
        strict = draw(st.integers(0, 9)) < 6
    form = draw(st.sampled_from(["select"] * 6 + ["setop", "setop", "with", "values"]))
    if form == "setop":
        top = not strict
        a, cols = draw(select_query(depth, strict, top=top))
        want = [t for _, t in cols] if strict else None
        b, _ = draw(select_query(depth, strict, top=top, want=want))
        op = draw(st.sampled_from(["UNION", "UNION ALL", "EXCEPT", "EXCEPT ALL", "INTERSECT",
                                   "INTERSECT ALL"] + ([] if strict else ["MINUS"])))
        sql = f"{a} {op} {b}" if draw(st.booleans()) else f"({a}) {op} ({b})"
        if draw(st.integers(0, 2)) == 0:
            sql = f"{draw(st.sampled_from(['ISTREAM', 'DSTREAM', 'RSTREAM']))}({sql})"
        return sql
    if form == "with":
        inner, _ = draw(select_query(depth, strict, top=False))
        outer = draw(st.sampled_from(["SELECT * FROM w", "SELECT COUNT(*) FROM w",
                                      "SELECT ISTREAM(*) FROM w", "SELECT * FROM w [ROWS 1]"]))
        return f"WITH w AS ({inner}) {outer}"
    if form == "values":
        rows = ", ".join(
            "(" + ", ".join(literal(draw, t, strict) for t in ("int", "str")) + ")"
            for _ in range(draw(st.integers(1, 3)))
        )
        return draw(st.sampled_from([f"VALUES {rows}",
                                     f"SELECT * FROM (VALUES {rows}) AS v(a, b)"]))
    sql, _ = draw(select_query(depth, strict))
    return sql


# ---------------------------------------------------------------------------
# other statements
# ---------------------------------------------------------------------------


def _name(draw: st.DrawFn) -> str:
    if draw(st.integers(0, 6)) == 0:
        return draw(st.sampled_from(ODD_NAMES))
    return draw(st.sampled_from(SCRATCH))


@st.composite
def column_defs(draw: st.DrawFn) -> tuple[str, list[str]]:
    n = draw(st.integers(0, 4))
    names, defs = [], []
    for i in range(n):
        name = draw(st.sampled_from([f"c{i}", f"c{i}", "c0", "ts", '"odd col"', "select",
                                     "ROWTIME"]))
        t = draw(st.sampled_from(SQL_TYPES + SQL_TYPES + ODD_SQL_TYPES))
        extra = draw(st.sampled_from(["", "", "", " NOT NULL", " NULL", " DEFAULT 1",
                                      " PRIMARY KEY"]))
        names.append(name)
        defs.append(f"{name} {t}{extra}")
    return ", ".join(defs), names


@st.composite
def with_options(draw: st.DrawFn, names: list[str]) -> str:
    if draw(st.booleans()):
        return ""
    opts = []
    for _ in range(draw(st.integers(0, 4))):
        key = draw(st.sampled_from(["topic", "format", "timestamp", "partitions", "'timestamp'",
                                    "unknown", "TOPIC", "key"]))
        value = draw(st.sampled_from(
            ["'json'", "'csv'", "'xml'", "''", "'0'", "'1'", "'3'", "'-1'", "'abc'", "'100000'",
             "'Trades'", "'Z0'", "'a topic with spaces'", "'_pycql_catalog'", "1", "TRUE",
             "'日本'", "'Trades.dead-letters'"] + [quote(n) for n in names]
        ))
        opts.append(f"{key} = {value}")
    return f" WITH ({', '.join(opts)})"


@st.composite
def ddl(draw: st.DrawFn) -> str:
    form = draw(st.sampled_from(["stream", "stream", "table", "table", "view", "view", "drop",
                                 "drop", "dropfixture"]))
    if form == "stream":
        cols, names = draw(column_defs())
        ine = draw(st.sampled_from(["", "", "IF NOT EXISTS "]))
        return f"CREATE STREAM {ine}{_name(draw)} ({cols}){draw(with_options(names))}"
    if form == "table":
        cols, names = draw(column_defs())
        pk_cols = draw(st.lists(st.sampled_from([*names, "nope"]), max_size=2))
        pk = f", PRIMARY KEY ({', '.join(pk_cols)})" if draw(st.booleans()) else ""
        if not cols:
            pk = pk.lstrip(", ")
        return f"CREATE TABLE {_name(draw)} ({cols}{pk}){draw(with_options(names))}"
    if form == "view":
        orr = draw(st.sampled_from(["", "OR REPLACE "]))
        collist = draw(st.sampled_from(["", "", " (a)", " (a, b)", " (a, a)"]))
        body = draw(query(1)) if draw(st.integers(0, 4)) else draw(st.sampled_from(
            ["SELECT * FROM Z0", "SELECT * FROM Z1 [NOW]", "SELECT 1",
             "INSERT INTO Bag VALUES (1, 'a')", "SELECT * FROM BigTrades [ROWS 1]"]))
        return f"CREATE {orr}VIEW {_name(draw)}{collist} AS {body}"
    if form == "dropfixture":
        kind, name = draw(st.sampled_from(
            [("STREAM", n) for n in STREAMS] + [("TABLE", n) for n in TABLES]
            + [("VIEW", n) for n in VIEWS] + [("STREAM", "Acct"), ("TABLE", "Trades"),
                                             ("VIEW", "Trades")]))
        return f"DROP {kind} {draw(st.sampled_from(['', 'IF EXISTS ']))}{name}"
    kind = draw(st.sampled_from(["STREAM", "TABLE", "VIEW"]))
    return f"DROP {kind} {draw(st.sampled_from(['', 'IF EXISTS ']))}{_name(draw)}"


@st.composite
def dml(draw: st.DrawFn) -> str:
    strict = draw(st.integers(0, 9)) < 6
    form = draw(st.sampled_from(["insert", "insert", "insert", "upsert", "delete", "select"]))
    targets = {**STREAMS, **TABLES, "BigTrades": VIEWS["BigTrades"], "Z0": [("c0", "int")]}
    name = draw(st.sampled_from(sorted(targets)))
    cols = targets[name]
    if form == "delete":
        scope = Scope(cols, strict)
        where = f" WHERE {draw(expr(scope, 'bool'))}" if draw(st.integers(0, 3)) else ""
        return f"DELETE FROM {name}{where}"
    if form == "select":
        return f"INSERT INTO {name} {draw(query(0))}"
    chosen = cols
    collist = ""
    if draw(st.integers(0, 2)) == 0:
        if strict:
            chosen = draw(st.lists(st.sampled_from(cols), min_size=1, unique=True))
        else:
            chosen = draw(st.lists(st.sampled_from([*cols, ("nope", "int")]), min_size=0,
                                   max_size=len(cols) + 1))
        collist = " (" + ", ".join(c for c, _ in chosen) + ")"
    scope = Scope([], strict)
    rows = []
    for _ in range(draw(st.integers(1, 3))):
        values = [draw(expr(scope, t, 1)) for _, t in chosen]
        if not strict and draw(st.integers(0, 9)) == 0:
            values = values[:-1] if draw(st.booleans()) else [*values, "1"]
        rows.append("(" + ", ".join(values) + ")")
    verb = "UPSERT" if form == "upsert" else "INSERT"
    return f"{verb} INTO {name}{collist} VALUES {', '.join(rows)}"


@st.composite
def other_statement(draw: st.DrawFn) -> str:
    form = draw(st.sampled_from(["show", "describe"]))
    if form == "show":
        return "SHOW " + draw(st.sampled_from([
            "STREAMS", "TABLES", "VIEWS", "QUERIES", "streams", "COLUMNS", "", "STREAMS FROM x",
            "TABLES LIKE 'A%'"]))
    names = [*STREAMS, *TABLES, *VIEWS, *SCRATCH, *ODD_NAMES]
    return draw(st.sampled_from(["DESCRIBE ", "DESCRIBE ", "DESC ", "DESCRIBE STREAM ",
                                 "DESCRIBE TABLE "])) + draw(st.sampled_from(names))


@st.composite
def explain(draw: st.DrawFn, body: str) -> str:
    head = draw(st.sampled_from([
        "EXPLAIN ", "EXPLAIN PLAN FOR ", "EXPLAIN PLAN AS JSON FOR ", "EXPLAIN PLAN AS XML FOR ",
        "EXPLAIN PLAN WITH TYPE FOR ", "EXPLAIN PLAN AS DOT FOR ",
        "EXPLAIN PLAN EXCLUDING ATTRIBUTES FOR ", "EXPLAIN PLAN FOR EXPLAIN PLAN FOR ",
    ]))
    return head + body


@st.composite
def statement(draw: st.DrawFn) -> str:
    """One valid-ish statement of any kind (queries most often)."""
    form = draw(st.sampled_from(["query"] * 8 + ["explain", "explain", "ddl", "ddl", "dml",
                                                 "dml", "other"]))
    if form == "query":
        return draw(query(draw(st.integers(0, 2))))
    if form == "explain":
        body = draw(query(1)) if draw(st.integers(0, 5)) else draw(st.one_of(ddl(), dml()))
        return draw(explain(body))
    if form == "ddl":
        return draw(ddl())
    if form == "dml":
        return draw(dml())
    return draw(other_statement())


# ---------------------------------------------------------------------------
# mutations
# ---------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""'(?:[^']|'')*'?|"(?:[^"]|"")*"?|--[^\n]*|/\*.*?(?:\*/|$)|\d+(?:\.\d*)?(?:[eE][+-]?\d+)?"""
    r"""|\w+|\s+|.""",
    re.S,
)
KEYWORDS = [
    "SELECT", "FROM", "WHERE", "GROUP", "BY", "HAVING", "ISTREAM", "DSTREAM", "RSTREAM", "NOW",
    "RANGE", "ROWS", "SLIDE", "PARTITION", "UNBOUNDED", "JOIN", "LEFT", "ON", "USING", "UNION",
    "EXCEPT", "INTERSECT", "ALL", "DISTINCT", "CASE", "WHEN", "THEN", "ELSE", "END", "CAST", "AS",
    "NULL", "TRUE", "FALSE", "NOT", "AND", "OR", "IN", "IS", "LIKE", "BETWEEN", "INTERVAL",
    "TIMESTAMP", "DATE", "EXPLAIN", "PLAN", "FOR", "JSON", "CREATE", "DROP", "STREAM", "TABLE",
    "VIEW", "INSERT", "INTO", "VALUES", "UPSERT", "DELETE", "SHOW", "DESCRIBE", "WITH",
    "PRIMARY", "KEY", "ORDER", "LIMIT", "OFFSET", "FETCH", "LATERAL", "MATCH_RECOGNIZE",
    "TUMBLE", "HOP", "SESSION", "OVER", "WINDOW", "CURRENT_TIMESTAMP", "ROW", "ARRAY", "MAP",
    "MULTISET", "UNNEST", "EXISTS", "ANY", "SOME", "TABLESAMPLE", "SECOND", "SECONDS", "HOUR",
    "DAY", "MILLISECONDS", "ROWTIME", "DEFAULT", "COUNT", "SUM", "ESCAPE", "COLLATE", "CUBE",
    "ROLLUP", "GROUPING", "SETS", "PRECEDING", "FOLLOWING", "CURRENT", "NATURAL", "FULL", "SET",
]
PUNCTUATION = [
    "(", ")", "[", "]", "{", "}", ",", ";", ".", "*", "+", "-", "/", "%", "=", "<>", "<", ">",
    "<=", ">=", "!=", "||", "?", "'", '"', "`", "@", "#", "$", ":", "::", "\\", "^", "&", "|",
    "~", "--", "/*", "*/", "=>", "->", "..", "''", '""', "\n", "\t", " ", "\x00", "\ud800",
    "\u00a0", "\u200b", "\ufeff", "é", "日本", "😀",
]


def tokens(sql: str) -> list[str]:
    """``sql`` split into tokens (string literals, identifiers, numbers, comments, others)."""
    return _TOKEN.findall(sql)


@st.composite
def piece(draw: st.DrawFn) -> str:
    return draw(st.one_of(
        st.sampled_from(KEYWORDS),
        st.sampled_from(PUNCTUATION),
        st.sampled_from(INT_LITERALS + DOUBLE_LITERALS + INTERVAL_LITERALS[:4]),
        st.sampled_from([c for c, _ in STREAMS["Trades"]] + list(STREAMS) + list(TABLES)),
        st.text(min_size=1, max_size=3),
        st.characters(),
    ))


@st.composite
def mutate(draw: st.DrawFn, sql: str) -> str:
    """``sql`` with one to four random token edits."""
    toks = tokens(sql) or [""]
    for _ in range(draw(st.integers(1, 4))):
        if not toks:
            toks = [""]
        op = draw(st.sampled_from(["delete", "delete", "duplicate", "swap", "insert", "insert",
                                   "replace", "replace", "truncate", "case", "comment",
                                   "wrap", "repeat"]))
        i = draw(st.integers(0, len(toks) - 1))
        if op == "delete":
            del toks[i]
        elif op == "duplicate":
            toks.insert(i, toks[i])
        elif op == "swap":
            j = draw(st.integers(0, len(toks) - 1))
            toks[i], toks[j] = toks[j], toks[i]
        elif op == "insert":
            space = draw(st.sampled_from(["", " "]))
            toks.insert(i, space + draw(piece()) + space)
        elif op == "replace":
            toks[i] = draw(piece())
        elif op == "truncate":
            text = "".join(toks)
            toks = tokens(text[: draw(st.integers(0, len(text)))])
        elif op == "case":
            toks[i] = toks[i].swapcase()
        elif op == "comment":
            toks.insert(i, draw(st.sampled_from(
                [" /* c */ ", " -- c\n", " /**/", " --", "/* /* nested */ */", "/*"])))
        elif op == "wrap":
            j = draw(st.integers(i, len(toks)))
            toks.insert(j, ")")
            toks.insert(i, "(")
        else:
            toks.insert(i, toks[i] * draw(st.integers(2, 50)))
    return "".join(toks)


@st.composite
def mutated_statement(draw: st.DrawFn) -> str:
    """A valid-ish statement broken by token edits."""
    return draw(mutate(draw(statement())))


# ---------------------------------------------------------------------------
# pathological shapes
# ---------------------------------------------------------------------------

EMPTY = ["", " ", "\n\t  \r\n", ";", ";;", " ; ", "-- only a comment", "/* only a comment */",
         "/* unterminated", "--", "\x00", "\ufeff", "\u00a0", "'", '"', "(", ")", "?", "/**/;",
         "SELECT", "EXPLAIN", "EXPLAIN PLAN FOR", "-- c\n;\n-- d"]
SIZES = [10, 100, 500, 1000, 2000, 3000]


@st.composite
def pathological_statement(draw: st.DrawFn) -> str:
    """Empty text, deep nesting, long chains, huge lists: recursion and size limits."""
    form = draw(st.sampled_from(["empty", "parens", "chain", "chain", "where_chain", "in_list",
                                 "case", "nested_fn", "nested_sub", "union", "items", "long",
                                 "two"]))
    n = draw(st.sampled_from(SIZES))
    if form == "empty":
        return draw(st.sampled_from(EMPTY))
    if form == "parens":
        inner = draw(st.sampled_from(["id", "1", "'x'", "NULL", "id + 1"]))
        close = n - draw(st.sampled_from([0, 0, 0, 1, -1]))
        return f"SELECT {'(' * n}{inner}{')' * close} FROM Trades"
    if form == "chain":
        op = draw(st.sampled_from(["+", "-", "*", "/", "||", "AND", "OR", "=", "<"]))
        term = draw(st.sampled_from(["id", "qty", "1", "px", "sym", "ok", "?", "NULL"]))
        where = draw(st.sampled_from(["SELECT {} FROM Trades", "SELECT {} FROM Trades [ROWS 3]",
                                      "SELECT ISTREAM({}) FROM Trades [NOW]",
                                      "SELECT SUM({}) FROM Trades [RANGE 1 HOUR]",
                                      "EXPLAIN PLAN FOR SELECT {} FROM Trades"]))
        return where.format(f" {op} ".join([term] * n))
    if form == "where_chain":
        op = draw(st.sampled_from(["OR", "AND"]))
        terms = f" {op} ".join(f"id = {i}" for i in range(n))
        return f"SELECT * FROM Trades WHERE {terms}"
    if form == "in_list":
        return f"SELECT * FROM Trades WHERE id IN ({', '.join(str(i) for i in range(n))})"
    if form == "case":
        whens = " ".join(f"WHEN id = {i} THEN {i}" for i in range(min(n, 1000)))
        return f"SELECT CASE {whens} ELSE -1 END FROM Trades"
    if form == "nested_fn":
        fn = draw(st.sampled_from(["ABS", "UPPER", "COALESCE", "CAST"]))
        m = min(n, 1000)
        if fn == "CAST":
            return f"SELECT {'CAST(' * m}id{' AS BIGINT)' * m} FROM Trades"
        arg = "sym" if fn == "UPPER" else "id"
        return f"SELECT {(fn + '(') * m}{arg}{')' * m} FROM Trades"
    if form == "nested_sub":
        m = draw(st.sampled_from([5, 20, 50, 200]))
        sql = "SELECT * FROM Trades"
        for i in range(m):
            sql = f"SELECT * FROM ({sql}) AS q{i}"
        return sql
    if form == "union":
        m = draw(st.sampled_from([10, 50, 200]))
        return " UNION ALL ".join(["SELECT id FROM Trades"] * m)
    if form == "items":
        return f"SELECT {', '.join(f'id AS c{i}' for i in range(n))} FROM Trades"
    if form == "long":
        what = draw(st.sampled_from(["string", "ident", "number", "comment", "spaces"]))
        m = n * 100
        return {
            "string": f"SELECT '{'x' * m}' FROM Trades",
            "ident": f"SELECT {'a' * m} FROM Trades",
            "number": f"SELECT {'9' * min(m, 20000)} FROM Trades",
            "comment": f"/* {'c' * m} */ SELECT id FROM Trades",
            "spaces": f"SELECT{' ' * m}id FROM Trades",
        }[what]
    return draw(st.sampled_from([
        "SELECT 1 FROM Trades; SELECT 2 FROM Trades", "SHOW STREAMS; SHOW TABLES",
        "SELECT 1 FROM Trades;", "CREATE STREAM Z0 (a INTEGER); DROP STREAM Z0",
    ]))


# ---------------------------------------------------------------------------
# parameters
# ---------------------------------------------------------------------------


class Opaque:
    """An object no driver can convert."""

    def __repr__(self) -> str:
        return "Opaque()"


class BadStr:
    """An object whose ``str`` raises."""

    def __str__(self) -> str:
        raise RuntimeError("BadStr.__str__")

    def __repr__(self) -> str:
        return "BadStr()"


_EDGE_VALUES = [
    None, True, False, 0, -1, 2**31, -(2**63) - 1, 2**64, 10**400, float("nan"), float("inf"),
    -float("inf"), -0.0, 1e308, Decimal("NaN"), Decimal("sNaN"), Decimal("Infinity"),
    Decimal("1E+400"), Decimal("-0.000001"), Decimal("12345678901234567890.123456789"),
    "", "héllo ☃", "\x00", "\ud800", "a" * 10000, b"", b"\xff\x00", bytearray(b"x"),
    memoryview(b"m"), dt.datetime.min, dt.datetime.max, dt.datetime(1970, 1, 1),
    dt.datetime(2024, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=14))),
    dt.datetime(1, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=1))), dt.date.min, dt.date.max,
    dt.time(23, 59, 59, 999999), dt.timedelta.max, dt.timedelta.min, dt.timedelta(0),
    [], [1, 2], (1,), {}, {"a": 1}, {1, 2}, 1 + 2j, fractions.Fraction(1, 3),
    uuid.UUID(int=0), Opaque(), BadStr(), object, Ellipsis, NotImplemented,
]


def python_value() -> st.SearchStrategy[object]:
    """A parameter value: right types for some column, wrong types, extremes."""
    return st.one_of(
        st.sampled_from(_EDGE_VALUES),
        st.integers(),
        st.floats(),
        st.text(max_size=8),
        st.decimals(),
        st.datetimes(timezones=st.none() | st.timezones()),
        st.dates(),
        st.booleans(),
        st.binary(max_size=4),
    )


def placeholders(sql: str) -> list[str | None]:
    """One entry per ``?`` outside string literals, quoted names and comments: the type
    name of ``CAST(? AS type)`` when the ``?`` stands there, else None."""
    toks = [t for t in tokens(sql) if not t.isspace()]
    out: list[str | None] = []
    for i, tok in enumerate(toks):
        if tok != "?":
            continue
        cast = (i >= 2 and toks[i - 1] == "(" and toks[i - 2].upper() == "CAST"
                and i + 2 < len(toks) and toks[i + 1].upper() == "AS")
        out.append(toks[i + 2].upper() if cast else None)
    return out


_FITTING: dict[str, st.SearchStrategy[object]] = {
    "INTEGER": st.integers(-(2**31), 2**31 - 1) | st.sampled_from([0, -1, 2**31 - 1]),
    "BIGINT": st.integers(-(2**63), 2**63 - 1) | st.sampled_from([0, 2**63 - 1, -(2**63)]),
    "DOUBLE": st.floats(),
    "DECIMAL": st.decimals(places=2, min_value=-(10**10) + 1, max_value=10**10 - 1)
    | st.integers(-1000, 1000),
    "VARCHAR": st.text(max_size=10) | st.sampled_from(["", "héllo ☃", "x" * 5000]),
    "BOOLEAN": st.booleans(),
    "TIMESTAMP": st.datetimes() | st.sampled_from([dt.datetime.min, dt.datetime.max]),
    "INTERVAL": st.timedeltas(),
}


@st.composite
def params_for(draw: st.DrawFn, sql: str) -> tuple[object, ...] | list[object] | None:
    """Parameters for ``sql``: usually one per ``?`` (of the type its CAST names, often),
    sometimes too few or too many, sometimes of absurd types."""
    slots = placeholders(sql)
    roll = draw(st.integers(0, 9))
    if (not slots or sql.lstrip().upper().startswith("EXPLAIN")) and roll < 8:
        return None
    if roll == 9:
        extra = draw(st.sampled_from([-1, 1, 5]))
        slots = slots[:extra] if extra < 0 else slots + [None] * extra
    if len(slots) > 50:  # a chain of thousands of ?: one value for all
        value = draw(_FITTING.get(slots[0] or "", python_value()))
        return [value] * len(slots)
    values = []
    for slot in slots:
        fitting = _FITTING.get(slot or "")
        if fitting is not None and draw(st.integers(0, 3)):
            values.append(draw(fitting))
        else:
            values.append(draw(python_value()))
    return values if draw(st.booleans()) else tuple(values)
