"""Compile plan expressions into Python functions, once per query.

An expression of the plan (``docs/plan-json.md``) is turned into Python
*source text*, then ``compile``d and ``exec``uted into a function, so running it
costs what the equivalent hand-written Python costs: no tree is walked per row.
Filters and projections over a whole batch become one list comprehension:

>>> cond = {"kind": "call", "op": ">", "type": "BOOLEAN", "operands": [
...     {"kind": "input", "index": 1, "type": "INTEGER"},
...     {"kind": "literal", "value": 65, "type": "INTEGER"}]}
>>> twice = {"kind": "call", "op": "*", "type": "DOUBLE", "operands": [
...     {"kind": "input", "index": 1, "type": "DOUBLE"},
...     {"kind": "literal", "value": 2, "type": "INTEGER"}]}
>>> cols = [{"name": "A", "type": "INTEGER"}, {"name": "B", "type": "DOUBLE"}]
>>> fn = compile_batch(cond, [{"kind": "input", "index": 0, "type": "INTEGER"}, twice], cols)
>>> print(fn.source.split(" for r in ")[0])
def _batch(rows):
    return [(r[0], (None if r[1] is None else r[1] * 2),)
>>> fn.source.split(" for r in ")[1]
'rows if (r[1] is not None and r[1] > 65)]'
>>> fn([(1, 70), (2, 10), (3, None)])
[(1, 140)]

SQL semantics: three-valued logic (a condition keeps a row only when TRUE),
NULL propagates through operators and functions, ``/`` of two integers
truncates towards zero, ``MOD`` takes the sign of the dividend, integer and
interval arithmetic results are checked against their type's range (Python's
integers never overflow), DATE/TIMESTAMP results against the years 1 to 9999. Dynamic
parameters (``?``) are bound at compile time as constants.

Supported operators and functions (``op`` of a call; see :data:`SUPPORTED_OPS`):
arithmetic ``+ - * / MOD`` (also unary ``-``/``+``, DATE/TIMESTAMP plus or minus
intervals, TIMESTAMP minus TIMESTAMP), comparisons ``= <> < <= > >=``,
``IS [NOT] DISTINCT FROM``, ``AND OR NOT``, ``IS [NOT] NULL``, ``IS [NOT]
TRUE``, ``IS [NOT] FALSE``, ``[NOT] LIKE`` (with ESCAPE), ``[NOT] SIMILAR TO``,
``CASE``, ``COALESCE``, ``NULLIF``, ``CAST`` (and Calcite's ``Reinterpret``),
``||``, ``UPPER``, ``LOWER``, ``INITCAP``, ``CHAR_LENGTH``/``CHARACTER_LENGTH``,
``SUBSTRING``, ``TRIM``, ``LTRIM``, ``RTRIM``, ``POSITION``, ``REPLACE``,
``OVERLAY``, ``ABS``, ``FLOOR``/``CEIL`` (numbers, or a time ``TO`` a unit),
``ROUND``, ``TRUNCATE``, ``POWER``, ``SQRT``, ``EXP``, ``LN``, ``LOG10``,
``SIGN``, ``EXTRACT``, the library functions ``CONCAT`` (NULLs skipped), ``CONCAT_WS``,
``LPAD``, ``RPAD``, ``LEFT``, ``RIGHT``, ``LENGTH``, ``SPLIT_PART``, ``REPEAT``, ``REVERSE``,
``STARTS_WITH``, ``ENDS_WITH``, ``REGEXP_REPLACE``, ``REGEXP_LIKE``, ``REGEXP_EXTRACT``
(``REGEXP_SUBSTR``), ``TRANSLATE3`` (``TRANSLATE``), ``MD5``/``SHA1``/``SHA256``/``SHA512``,
``TO_BASE64``, ``CHR``, ``ASCII``, ``SPACE``, ``[NOT] ILIKE``, ``TO_CHAR``/``TO_TIMESTAMP``/
``TO_DATE`` (format models: :mod:`pycql.runtime.datetime_format`), ``DATE_TRUNC``,
``LAST_DAY``, ``DAYNAME``, ``MONTHNAME``, the trigonometric functions, ``PI``, ``CBRT``,
``LOG2`` (``INSTR``/``STRPOS`` come as ``POSITION``; ``GREATEST``/``LEAST``/``NVL``/``DECODE``/
``IF`` as ``CASE``, ``SUBSTR`` as ``SUBSTRING``), Calcite's integer
division ``/INT`` (``TIMESTAMPDIFF``), ``CURRENT_TIMESTAMP``/``LOCALTIMESTAMP``/``CURRENT_DATE``/
``CURRENT_TIME`` (the wall clock in UTC when evaluated). Anything else is
rejected when the query is compiled (:class:`pycql.errors.NotSupportedError`),
never in the middle of a stream.

Errors at run time (a division by zero, a bad cast, a value out of its type's
range) raise :class:`pycql.errors.DataError` from the helpers, or one of
:data:`~pycql.runtime.functions.ROW_ERRORS` from inline Python. Each batch
function has a twin (:meth:`BatchFunction.isolating`) that evaluates row by
row and hands the rows that raise to a callback, so one bad row need not cost
its batch.

Deep expressions (the planner allows 100 levels) compile to flat source:
CASE, COALESCE, AND and OR are flat conditional chains, left-deep chains of
``+``/``-``, ``*`` and ``||`` one n-ary expression, and a subexpression whose
text still nests too many brackets (CPython refuses 200) becomes a helper
function of its own.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from pycql.errors import DataError, NotSupportedError, ProgrammingError
from pycql.runtime.functions import (
    HELPERS,
    INTEGER_RANGES,
    MATH_FUNCTIONS,
    MAX_INTERVAL_MS,
    MAX_TIMESTAMP_MS,
    MIN_TIMESTAMP_MS,
    like_regex,
    similar_regex,
    type_family,
)

Expr = dict[str, Any]
Column = dict[str, Any]

_SIMPLE = re.compile(r"^(?:[a-z]\[\d+\]|_p\d+|_k\d+|-?\d+(?:\.\d+)?(?:e-?\d+)?|'[^'\\]*')$")

#: Bracket nesting one generated function's text may reach before a subexpression
#: moves into a helper function (CPython: "too many nested parentheses" past 200).
MAX_NESTING = 40
_BRACKETS = re.compile(r"[^()\[\]{}]+")
_NUMERIC = ("integer", "float", "decimal")

_COMPARISONS = {"=": "==", "<>": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
_PATTERN_OPS = ("LIKE", "NOT LIKE", "SIMILAR TO", "NOT SIMILAR TO", "ILIKE", "NOT ILIKE")

SUPPORTED_OPS = frozenset(
    [
        *_COMPARISONS,
        "+", "-", "*", "/", "MOD", "DATETIME_PLUS", "DATETIME_MINUS", "AND", "OR", "NOT",
        "IS NULL", "IS NOT NULL", "IS TRUE", "IS NOT TRUE", "IS FALSE", "IS NOT FALSE",
        "IS DISTINCT FROM", "IS NOT DISTINCT FROM", "LIKE", "NOT LIKE", "SIMILAR TO",
        "NOT SIMILAR TO", "CASE", "COALESCE", "NULLIF", "CAST", "REINTERPRET", "||", "UPPER",
        "LOWER", "INITCAP", "CHAR_LENGTH", "CHARACTER_LENGTH", "SUBSTRING", "TRIM", "LTRIM",
        "RTRIM", "POSITION", "REPLACE", "OVERLAY", "ABS", "FLOOR", "CEIL", "CEILING", "ROUND",
        "TRUNCATE", "POWER", "SQRT", "EXP", "LN", "LOG10", "SIGN", "EXTRACT",
        "CURRENT_TIMESTAMP", "LOCALTIMESTAMP", "CURRENT_DATE", "CURRENT_TIME", "LOCALTIME",
        "/INT", "CONCAT", "CONCAT_WS", "LPAD", "RPAD", "LEFT", "RIGHT", "SPLIT_PART", "REPEAT",
        "REVERSE", "STARTS_WITH", "ENDS_WITH", "REGEXP_REPLACE", "REGEXP_LIKE", "LENGTH",
        "ILIKE", "NOT ILIKE", "TO_CHAR", "TO_TIMESTAMP", "TO_DATE", "DATE_TRUNC", "LAST_DAY",
        "DAYNAME", "MONTHNAME", "REGEXP_EXTRACT", "TRANSLATE3", "MD5", "SHA1", "SHA256",
        "SHA512", "TO_BASE64", "CHR", "ASCII", "SPACE", "PI", *MATH_FUNCTIONS,
    ]
)
"""Every call ``op`` the compiler knows (unary minus/plus come as ``-``/``+``)."""


class CompiledFunction:
    """A compiled function plus the Python source it was built from (for debugging)."""

    __slots__ = ("fn", "source")

    def __init__(self, fn: Callable[..., Any], source: str) -> None:
        self.fn = fn
        self.source = source

    def __call__(self, *args: Any) -> Any:
        return self.fn(*args)


#: ``reject(row, count, exc)``: a row (with its count, or its timestamp in a
#: timed batch, or 1 in a stream batch) whose evaluation raised ``exc``.
Reject = Callable[[Any, Any, Exception], None]


class BatchFunction(CompiledFunction):
    """A batch function (:func:`compile_batch`) and its row-isolating twin.

    ``fn(rows)`` evaluates the batch in one comprehension. ``isolating()(rows,
    reject)`` gives the same output for the rows that evaluate, calling
    ``reject(row, count, exc)`` for each row that raises one of
    :data:`~pycql.runtime.functions.ROW_ERRORS` (any other exception, a bug,
    propagates). The twin is compiled on first use: batches that never fail
    never pay for it.
    """

    __slots__ = ("_namespace", "_twin", "_twin_source")

    def __init__(self, fn: Callable[..., Any], source: str, twin_source: str,
                 namespace: dict[str, Any]) -> None:
        super().__init__(fn, source)
        self._twin_source = twin_source
        self._namespace = namespace
        self._twin: Callable[[Any, Reject], list[Any]] | None = None

    def isolating(self) -> Callable[[Any, Reject], list[Any]]:
        """The row-by-row twin: ``twin(rows, reject) -> output of the rows that evaluate``."""
        if self._twin is None:
            code = compile(self._twin_source, "<pycql expr _isolating>", "exec")
            exec(code, self._namespace)
            self._twin = self._namespace["_isolating"]
        return self._twin


def _nesting(text: str) -> int:
    """How deep brackets nest in ``text`` (string literals hold none: see ``_str``)."""
    depth = top = 0
    for ch in _BRACKETS.sub("", text):
        if ch in "([{":
            depth += 1
            if depth > top:
                top = depth
        else:
            depth -= 1
    return top


def _literal_text(value: Any) -> str:
    if value is None or isinstance(value, (bool, int, str)):
        return repr(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return f"float({str(value)!r})"
        return repr(value)
    raise ProgrammingError(f"unsupported literal value {value!r}")


class ExprCompiler:
    """Translates expressions into Python expression text over row variables.

    ``columns`` is the input row type. With ``split`` set (joins), input ``i``
    reads ``l[i]`` for ``i < split`` and ``r[i - split]`` otherwise, so a join
    condition runs over the two rows without concatenating them.
    """

    def __init__(
        self,
        columns: Sequence[Column],
        params: Sequence[object] = (),
        *,
        row: str = "r",
        split: int | None = None,
    ) -> None:
        self.columns = list(columns)
        self.params = list(params)
        self.row = row
        self.split = split
        self.namespace: dict[str, Any] = dict(HELPERS)
        self._temps = 0
        #: helper functions deep subexpressions moved into (see :meth:`_flat`)
        self.helpers: list[str] = []

    # --- plumbing ---------------------------------------------------------------

    def _fresh(self) -> str:
        self._temps += 1
        return f"_t{self._temps}"

    def _const(self, value: Any) -> str:
        name = f"_k{len(self.namespace)}"
        self.namespace[name] = value
        return name

    def _str(self, value: str | None) -> str:
        """Python text of a string constant; one holding brackets becomes a named
        constant, so bracket counts of generated text never see inside a literal."""
        if isinstance(value, str) and any(ch in value for ch in "()[]{}"):
            return self._const(value)
        return repr(value)

    def _flat(self, text: str) -> str:
        """``text``, or a call of a helper function returning it if it nests too deep.

        The helper takes the row variables (``r``, or ``l, r`` in a join), the only
        free names of expression text besides the namespace's constants; every
        temporary a text assigns is read inside that same text.
        """
        if text.count("(") + text.count("[") <= MAX_NESTING or _nesting(text) <= MAX_NESTING:
            return text
        name = f"_h{len(self.helpers) + 1}"
        args = "l, r" if self.split is not None else self.row
        self.helpers.append(f"def {name}({args}):\n    return {text}\n")
        return f"{name}({args})"

    def _input(self, index: int) -> str:
        if not 0 <= index < len(self.columns):
            raise ProgrammingError(f"input reference ${index} out of range")
        if self.split is None:
            return f"{self.row}[{index}]"
        if index < self.split:
            return f"l[{index}]"
        return f"r[{index - self.split}]"

    def nullable(self, e: Expr) -> bool:
        """Whether ``e`` can be NULL (conservative: unknown means yes)."""
        kind = e["kind"]
        if kind == "literal":
            return e.get("value") is None
        if kind == "param":
            return self._param(e) is None
        if kind == "input":
            return bool(self.columns[e["index"]].get("nullable", True))
        if e.get("nullable") is False:
            return False
        op = self._op(e)
        if op in ("IS NULL", "IS NOT NULL", "IS TRUE", "IS NOT TRUE", "IS FALSE",
                  "IS NOT FALSE", "IS DISTINCT FROM", "IS NOT DISTINCT FROM"):
            return False
        if op == "COALESCE":
            return all(self.nullable(o) for o in e["operands"])
        if op == "CASE":
            ops = e["operands"]
            results = [ops[i] for i in range(1, len(ops) - 1, 2)] + [ops[-1]]
            return any(self.nullable(o) for o in results)
        if op in ("NULLIF", "AND", "OR"):
            return True if op == "NULLIF" else self._any_nullable(e)
        return self._any_nullable(e)

    def _any_nullable(self, e: Expr) -> bool:
        return any(self.nullable(o) for o in e.get("operands", ()))

    def _param(self, e: Expr) -> Any:
        index = e["index"]
        if index >= len(self.params):
            raise ProgrammingError(
                f"the query has a parameter ?{index + 1} but only {len(self.params)} were given"
            )
        return self.params[index]

    @staticmethod
    def _op(e: Expr) -> str:
        op = str(e["op"]).upper()
        kind = e.get("sqlkind")
        n = len(e.get("operands", ()))
        if (op in ("-", "+") and n == 1) or kind in ("MINUS_PREFIX", "PLUS_PREFIX"):
            return "NEG" if op == "-" or kind == "MINUS_PREFIX" else "POS"
        return op

    def _guarded(self, operands: Sequence[Expr]) -> tuple[list[str], list[str]]:
        """Operand texts plus the subjects whose ``is None`` makes the call NULL."""
        texts: list[str] = []
        guards: list[str] = []
        for o in operands:
            t = self.value(o)
            if self.nullable(o):
                if _SIMPLE.match(t):
                    guards.append(t)
                    texts.append(t)
                else:
                    v = self._fresh()
                    guards.append(f"({v} := {t})")
                    texts.append(v)
            else:
                texts.append(t)
        return texts, guards

    def _strict(self, operands: Sequence[Expr], body: Callable[[list[str]], str]) -> str:
        """A NULL-propagating call: NULL if any operand is NULL, else ``body``."""
        if any(o["kind"] == "literal" and o.get("value") is None for o in operands):
            return "None"
        texts, guards = self._guarded(operands)
        text = body(texts)
        if guards:
            return f"(None if {' or '.join(g + ' is None' for g in guards)} else {text})"
        return f"({text})"

    # --- the three modes ----------------------------------------------------------

    def value(self, e: Expr) -> str:
        """Python text evaluating to the SQL value of ``e`` (``None`` = NULL)."""
        return self._flat(self._value(e))

    def truth(self, e: Expr) -> str:
        """Python text that is True exactly when ``e`` IS TRUE (False for FALSE and NULL)."""
        return self._flat(self._truth(e))

    def falsity(self, e: Expr) -> str:
        """Python text that is True exactly when ``e`` IS FALSE."""
        return self._flat(self._falsity(e))

    def _value(self, e: Expr) -> str:
        kind = e["kind"]
        if kind == "input":
            return self._input(int(e["index"]))
        if kind == "literal":
            v = e.get("value")
            if isinstance(v, (list, dict)):
                return self._const(v)
            if v is not None and type_family(str(e.get("type", ""))) == "decimal" and \
                    not isinstance(v, bool):
                return self._const(Decimal(repr(v)) if isinstance(v, float) else Decimal(v))
            if isinstance(v, str) and type_family(str(e.get("type", ""))) == "float":
                return self._const(float(v))  # NaN and the infinities: JSON has no number
            if isinstance(v, str) and str(e.get("type", "")) in ("BINARY", "VARBINARY"):
                return self._const(bytes.fromhex(v))  # the plan writes bytes as hex
            if isinstance(v, str):
                return self._str(v)
            return _literal_text(v)
        if kind == "param":
            return self._const(self._param(e))
        if kind != "call":
            raise NotSupportedError(f"unknown expression kind {kind!r}")
        op = self._op(e)
        if op in ("AND", "OR", "NOT") or op in _COMPARISONS or op in _PATTERN_OPS:
            return self._logic_value(e, op)
        return self._call(e, op)

    def _truth(self, e: Expr) -> str:
        if e["kind"] == "literal":
            return "True" if e.get("value") is True else "False"
        if e["kind"] != "call":
            return self._bool_of(e, True)
        op = self._op(e)
        ops = e["operands"]
        if op == "AND":
            return "(" + " and ".join(self.truth(o) for o in ops) + ")"
        if op == "OR":
            return "(" + " or ".join(self.truth(o) for o in ops) + ")"
        if op == "NOT":
            return self.falsity(ops[0])
        if op in ("IS NULL", "IS NOT NULL") and ops[0]["kind"] == "literal":
            return str((ops[0].get("value") is None) == (op == "IS NULL"))
        if op == "IS NULL":
            return f"({self.value(ops[0])} is None)"
        if op == "IS NOT NULL":
            return f"({self.value(ops[0])} is not None)"
        if op == "IS TRUE":
            return self.truth(ops[0])
        if op == "IS FALSE":
            return self.falsity(ops[0])
        if op == "IS NOT TRUE":
            return f"(not {self.truth(ops[0])})"
        if op == "IS NOT FALSE":
            return f"(not {self.falsity(ops[0])})"
        if op in _COMPARISONS or op in _PATTERN_OPS:
            return self._predicate(e, op, want=True)
        return self._bool_of(e, True)

    def _falsity(self, e: Expr) -> str:
        if e["kind"] == "literal":
            return "True" if e.get("value") is False else "False"
        if e["kind"] != "call":
            return self._bool_of(e, False)
        op = self._op(e)
        ops = e["operands"]
        if op == "AND":
            return "(" + " or ".join(self.falsity(o) for o in ops) + ")"
        if op == "OR":
            return "(" + " and ".join(self.falsity(o) for o in ops) + ")"
        if op == "NOT":
            return self.truth(ops[0])
        if op in ("IS NULL", "IS NOT NULL", "IS TRUE", "IS FALSE", "IS NOT TRUE",
                  "IS NOT FALSE"):
            return f"(not {self.truth(e)})"
        if op in _COMPARISONS or op in _PATTERN_OPS:
            return self._predicate(e, op, want=False)
        return self._bool_of(e, False)

    def _bool_of(self, e: Expr, want: bool) -> str:
        return f"({self.value(e)} is {want})"

    def _compare_body(self, e: Expr, op: str, texts: list[str]) -> str:
        if op in _COMPARISONS:
            return f"{texts[0]} {_COMPARISONS[op]} {texts[1]}"
        ops = e["operands"]
        escape = None
        if len(ops) > 2:
            esc = ops[2]
            if esc["kind"] != "literal":
                raise NotSupportedError(f"{op} with a non-constant ESCAPE")
            escape = esc.get("value")
        similar = "SIMILAR" in op
        fold = "ILIKE" in op  # PostgreSQL's ILIKE: LIKE ignoring case
        negate = op.startswith("NOT ")
        pattern = ops[1]
        if pattern["kind"] in ("literal", "param"):
            value = pattern.get("value") if pattern["kind"] == "literal" else self._param(pattern)
            if isinstance(value, str):
                try:
                    regex = similar_regex(value, escape) if similar else like_regex(value, escape)
                    if fold:
                        regex = re.compile(regex.pattern, re.DOTALL | re.IGNORECASE)
                except DataError as exc:  # a constant pattern: the query's error
                    raise ProgrammingError(str(exc)) from None
                test = f"{self._const(regex)}.fullmatch({texts[0]}) is not None"
            else:
                test = "False"
        else:
            fn = "_similar" if similar else "_ilike" if fold else "_like"
            test = f"{fn}({texts[0]}, {texts[1]}, {self._str(escape)})"
        return f"not ({test})" if negate else test

    def _predicate(self, e: Expr, op: str, *, want: bool) -> str:
        ops = e["operands"][:2]
        if any(o["kind"] == "literal" and o.get("value") is None for o in ops):
            return "False"
        texts, guards = self._guarded(ops)
        body = self._compare_body(e, op, texts)
        if not want:
            body = f"not ({body})"
        checks = [g + " is not None" for g in guards]
        return "(" + " and ".join([*checks, body]) + ")"

    def _logic_value(self, e: Expr, op: str) -> str:
        ops = e["operands"]
        if op in _COMPARISONS or op in _PATTERN_OPS:
            return self._strict(ops[:2], lambda t: self._compare_body(e, op, t))
        if op == "NOT":
            return self._strict(ops, lambda t: f"not {t[0]}")
        # AND / OR, short-circuiting: FALSE (AND) or TRUE (OR) wins over NULL; one flat
        # conditional (a temporary is read only once every operand before it is set)
        dominant = "False" if op == "AND" else "True"
        temps = []
        tests = []
        for o in ops:
            t = self._fresh()
            temps.append(t)
            tests.append(f"({t} := {self.value(o)}) is {dominant}")
        nulls = " or ".join(f"{t} is None" for t in temps)
        other = "True" if op == "AND" else "False"
        return f"({dominant} if {' or '.join(tests)} else None if {nulls} else {other})"

    # --- calls -----------------------------------------------------------------

    def _call(self, e: Expr, op: str) -> str:
        ops: list[Expr] = e.get("operands", [])
        rtype = str(e.get("type", "ANY"))
        rfam = type_family(rtype)
        fams = [type_family(str(o.get("type", "ANY"))) for o in ops]
        if op in ("IS NULL", "IS NOT NULL", "IS TRUE", "IS NOT TRUE", "IS FALSE",
                  "IS NOT FALSE"):
            return self.truth(e)
        if op in ("IS DISTINCT FROM", "IS NOT DISTINCT FROM"):
            a, b = self.value(ops[0]), self.value(ops[1])
            neg = "not " if op == "IS NOT DISTINCT FROM" else ""
            return f"({neg}_distinct({a}, {b}))"
        if op == "NEG":
            return self._strict(ops, lambda t: self._checked(f"-{t[0]}", e))
        if op == "POS":
            return self.value(ops[0])
        if op in ("+", "DATETIME_PLUS"):
            if "interval_ym" in fams and any(f in ("date", "timestamp") for f in fams):
                i = fams.index("interval_ym")
                return self._strict(ops, lambda t: f"_add_months({t[1 - i]}, {t[i]})")
            if rfam in ("date", "timestamp"):
                return self._strict(ops, lambda t: self._in_range(f"{t[0]} + {t[1]}", rfam))
            if op == "+":
                return self._chain(e, rfam)
            return self._strict(ops, lambda t: f"{t[0]} + {t[1]}")
        if op in ("-", "DATETIME_MINUS"):
            if fams[1:] == ["interval_ym"] and fams[0] in ("date", "timestamp"):
                return self._strict(ops, lambda t: f"_add_months({t[0]}, -{t[1]})")
            if rfam == "interval_ym" and fams[0] in ("date", "timestamp"):
                return self._strict(ops, lambda t: f"_months_between({t[0]}, {t[1]})")
            if rfam in ("date", "timestamp"):
                return self._strict(ops, lambda t: self._in_range(f"{t[0]} - {t[1]}", rfam))
            if op == "-":
                return self._chain(e, rfam)
            return self._strict(ops, lambda t: f"{t[0]} - {t[1]}")
        if op == "*":
            return self._chain(e, rfam)
        if op == "/INT":  # Calcite's integer division (TIMESTAMPDIFF: an interval / unit)
            return self._strict(ops, lambda t: self._checked(f"_idiv({t[0]}, {t[1]})", e))
        if op == "/":
            ints = all(f in ("integer", "interval_ds", "interval_ym") for f in fams)
            if "integer_division" in e:
                ints = bool(e["integer_division"])
            fn = "_idiv" if ints and rfam != "float" else "_div"
            return self._strict(ops, lambda t: self._checked(
                f"{fn}({', '.join(self._as_float(t, fams, rfam))})", e))
        if op == "MOD":
            divisor = ops[1].get("value") if ops[1]["kind"] == "literal" else None
            if fams == ["integer", "integer"] and type(divisor) is int and divisor != 0:
                # inline: the remainder of |a| by |b| with the sign of a
                v, modulus = self._fresh(), abs(divisor)
                return self._strict(
                    ops,
                    lambda t: f"({v} % {modulus} if ({v} := {t[0]}) >= 0 else -(-{v} % {modulus}))",
                )
            return self._strict(ops, lambda t: f"_mod({t[0]}, {t[1]})")
        if op == "CASE":
            return self._case(ops)
        if op == "COALESCE":
            if len(ops) == 1:
                return self.value(ops[0])
            parts = []
            for o in ops[:-1]:
                t = self._fresh()
                parts.append(f"{t} if ({t} := {self.value(o)}) is not None else ")
            return "(" + "".join(parts) + self.value(ops[-1]) + ")"
        if op == "NULLIF":
            a = self._fresh()
            b = self.value(ops[1])
            return f"(None if ({a} := {self.value(ops[0])}) is None or {a} == {b} else {a})"
        if op == "CAST":
            return self._cast(e, ops[0])
        if op == "REINTERPRET":
            return self.value(ops[0])
        if op == "||":
            return self._chain(e, rfam)
        if op in ("UPPER", "LOWER"):
            return self._strict(ops, lambda t: f"{t[0]}.{op.lower()}()")
        if op == "INITCAP":
            return self._strict(ops, lambda t: f"_initcap({t[0]})")
        if op in ("CHAR_LENGTH", "CHARACTER_LENGTH"):
            return self._strict(ops, lambda t: f"len({t[0]})")
        if op == "SUBSTRING":
            return self._strict(ops, lambda t: f"_substring({', '.join(t)})")
        if op == "TRIM":
            if len(ops) == 3:
                return self._strict(ops, lambda t: f"_trim({t[0]}, {t[1]}, {t[2]})")
            return self._strict(ops, lambda t: f"{t[0]}.strip(' ')")
        if op in ("LTRIM", "RTRIM"):
            return self._strict(ops, lambda t: f"{t[0]}.{op.lower()[0]}strip(' ')")
        if op == "POSITION":  # also INSTR(s, sub[, start[, occurrence]]), STRPOS(s, sub)
            if len(ops) >= 3:
                return self._strict(ops, lambda t: f"_instr({', '.join(t)})")
            return self._strict(ops, lambda t: f"({t[1]}.find({t[0]}) + 1)")
        if op == "CONCAT":  # NULL arguments are skipped (PostgreSQL, Oracle)
            return f"_concat({', '.join(self.value(o) for o in ops)})"
        if op == "CONCAT_WS":
            return f"_concat_ws({', '.join(self.value(o) for o in ops)})"
        if op in ("LPAD", "RPAD"):
            left = op == "LPAD"
            return self._strict(ops, lambda t: f"_pad({', '.join(t)}, left={left})")
        if op in ("LEFT", "RIGHT", "SPLIT_PART", "REPEAT", "REGEXP_LIKE"):
            return self._strict(ops, lambda t: f"_{op.lower()}({', '.join(t)})")
        if op == "REGEXP_REPLACE":
            return self._strict(ops, lambda t: f"_regexp_replace({', '.join(t)})")
        if op == "REVERSE":
            return self._strict(ops, lambda t: f"{t[0]}[::-1]")
        if op in ("STARTS_WITH", "ENDS_WITH"):
            method = op.lower().replace("_", "")
            return self._strict(ops, lambda t: f"{t[0]}.{method}({t[1]})")
        if op == "LENGTH":
            return self._strict(ops, lambda t: f"len({t[0]})")
        if op == "REPLACE":
            # an empty pattern matches nothing (Python's replace would insert between chars)
            return self._strict(ops, lambda t: f"_replace({t[0]}, {t[1]}, {t[2]})")
        if op == "OVERLAY":
            return self._strict(ops, lambda t: f"_overlay({', '.join(t)})")
        if op == "ABS":
            return self._strict(ops, lambda t: f"abs({t[0]})")
        if op in ("FLOOR", "CEIL", "CEILING"):
            base = "floor" if op == "FLOOR" else "ceil"
            if len(ops) == 2:
                return self._strict(ops, lambda t: f"_{base}_time({t[0]}, {t[1]})")
            as_int = rfam == "integer"
            return self._strict(ops, lambda t: f"_{base}({t[0]}, {as_int})")
        if op in ("ROUND", "TRUNCATE"):
            return self._strict(ops, lambda t: f"_{op.lower()}({', '.join(t)})")
        if op == "POWER":
            return self._strict(ops, lambda t: f"_power({t[0]}, {t[1]})")
        if op in ("SQRT", "EXP", "LN", "LOG10", "SIGN"):
            return self._strict(ops, lambda t: f"_{op.lower()}({t[0]})")
        if op in ("CURRENT_TIMESTAMP", "LOCALTIMESTAMP", "CURRENT_DATE", "CURRENT_TIME",
                  "LOCALTIME"):
            unit = {"CURRENT_DATE": "date", "CURRENT_TIME": "time", "LOCALTIME": "time"}.get(
                op, "timestamp")
            return f"_now({unit!r})"
        if op == "EXTRACT":
            return self._strict(ops, lambda t: f"_extract({t[0]}, {t[1]}, {fams[1]!r})")
        if op == "TO_CHAR":
            return self._strict(ops, lambda t: f"_to_char({t[0]}, {t[1]})")
        if op in ("TO_TIMESTAMP", "TO_DATE"):
            date = op == "TO_DATE"
            return self._strict(ops, lambda t: f"_to_timestamp({t[0]}, {t[1]}, {date})")
        if op == "DATE_TRUNC":
            return self._strict(ops, lambda t: f"_date_trunc({t[0]}, {t[1]})")
        if op in ("LAST_DAY", "CHR", "ASCII", "SPACE", "TO_BASE64", "REGEXP_EXTRACT"):
            return self._strict(ops, lambda t: f"_{op.lower()}({', '.join(t)})")
        if op in ("DAYNAME", "MONTHNAME"):
            return self._strict(ops, lambda t: f"_{op[:-4].lower()}_name({t[0]})")
        if op == "TRANSLATE3":
            return self._strict(ops, lambda t: f"_translate({', '.join(t)})")
        if op in ("MD5", "SHA1", "SHA256", "SHA512"):
            return self._strict(ops, lambda t: f"_digest({op.lower()!r}, {t[0]})")
        if op == "PI":
            return "3.141592653589793"
        if op in MATH_FUNCTIONS:
            return self._strict(ops, lambda t: f"_math({op!r}, {', '.join(t)})")
        raise NotSupportedError(f"the function or operator {e['op']!r} is not supported")

    def _case(self, ops: list[Expr]) -> str:
        # one flat conditional: ``a if c1 else b if c2 else d`` nests no brackets
        otherwise = self.value(ops[-1]) if len(ops) % 2 == 1 else "None"
        parts = [f"{self.value(ops[i + 1])} if {self.truth(ops[i])} else "
                 for i in range(0, len(ops) - 1, 2)]
        return "(" + "".join(parts) + otherwise + ")"

    def _checked(self, text: str, e: Expr) -> str:
        """``text`` (a non-NULL arithmetic result) checked against the range of ``e``'s
        type when that is an integer or interval type: Python's integers do not
        overflow, SQL's do (a chain is checked once, at its end: within a chain an
        intermediate value out of range cannot change an in-range result, as in
        two's complement arithmetic)."""
        rtype = str(e.get("type", "ANY")).upper()
        bounds = INTEGER_RANGES.get(rtype)
        if bounds is None:
            fam = type_family(rtype)
            if fam == "interval_ds":
                bounds, rtype = (-MAX_INTERVAL_MS, MAX_INTERVAL_MS), "INTERVAL_DAY_SECOND"
            elif fam == "interval_ym":
                bounds, rtype = INTEGER_RANGES["INTEGER"], "INTERVAL_YEAR_MONTH"
            else:
                return text
        v = self._fresh()
        return (f"({v} if {bounds[0]} <= ({v} := {text}) <= {bounds[1]} "
                f"else _int_range({v}, {rtype!r}))")

    def _in_range(self, text: str, family: str) -> str:
        """``text`` (a DATE/TIMESTAMP value) checked against the years 1 to 9999."""
        v = self._fresh()
        return (f"({v} if {MIN_TIMESTAMP_MS} <= ({v} := {text}) <= {MAX_TIMESTAMP_MS} "
                f"else _temporal_range({v}, {family!r}))")

    @staticmethod
    def _as_float(texts: list[str], fams: list[str], rfam: str) -> list[str]:
        """Operand texts converted to the family of the result where approximate and
        exact numbers meet (Python refuses ``Decimal + float``): DECIMAL operands become
        floats where the result is a DOUBLE/REAL, REAL/DOUBLE operands Decimals (the
        decimal text of the float) where the result is a DECIMAL."""
        if rfam == "float" and "decimal" in fams:
            return [f"float({t})" if f == "decimal" else t
                    for t, f in zip(texts, fams, strict=True)]
        if rfam == "decimal" and "float" in fams:
            return [f"_to_decimal({t})" if f == "float" else t
                    for t, f in zip(texts, fams, strict=True)]
        return texts

    def _chain(self, e: Expr, rfam: str) -> str:
        """``+``/``-``, ``*`` or ``||`` and the calls of the same kind down its left
        operand, as one n-ary expression: ``(None if a is None or ... else a + b - c)``.

        A left-deep chain (``a + b + c`` is ``(a + b) + c``) evaluates left to right
        as Python's own ``a + b + c`` does; one NULL operand makes the whole NULL,
        as it makes each step NULL. A step joins the chain only when its result
        type's family is the chain's and its operands are numbers (strings for
        ``||``): dates, times and intervals have their own arithmetic.
        """
        op = self._op(e)
        group = ("+", "-") if op in ("+", "-") else (op,)
        operands: list[Expr] = e["operands"]
        fams = [type_family(str(o.get("type", "ANY"))) for o in operands]
        if len(operands) != 2 or not self._chainable(fams, rfam):
            sym = " + " if op == "||" else f" {op} "
            return self._strict(
                operands, lambda t: self._checked(sym.join(self._as_float(t, fams, rfam)), e))
        rights: list[tuple[str, Expr]] = []  # (operator, right operand), outermost first
        node = e
        while True:
            left, right = node["operands"]
            rights.append(("+" if op == "||" else self._op(node), right))
            if left["kind"] == "call" and self._op(left) in group and \
                    type_family(str(left.get("type", "ANY"))) == rfam and \
                    len(left.get("operands", ())) == 2 and self._chainable(
                        [type_family(str(o.get("type", "ANY"))) for o in left["operands"]],
                        rfam):
                node = left
                continue
            break
        rights.reverse()
        chain = [left] + [o for _, o in rights]
        if any(o["kind"] == "literal" and o.get("value") is None for o in chain):
            return "None"
        texts, guards = self._guarded(chain)
        texts = self._as_float(
            texts, [type_family(str(o.get("type", "ANY"))) for o in chain], rfam)
        text = self._checked(texts[0] + "".join(
            f" {sym} {t}" for (sym, _), t in zip(rights, texts[1:], strict=True)), e)
        if guards:
            return f"(None if {' or '.join(g + ' is None' for g in guards)} else {text})"
        return f"({text})"

    @staticmethod
    def _chainable(fams: list[str], rfam: str) -> bool:
        if rfam == "string":
            return all(f in ("string", "other") for f in fams)
        return rfam in _NUMERIC and all(f in _NUMERIC or f == "other" for f in fams)

    def _cast(self, e: Expr, operand: Expr) -> str:
        target = str(e.get("type", "ANY")).upper()
        tfam = type_family(target)
        sfam = type_family(str(operand.get("type", "ANY")))
        precision = e.get("precision")
        scale = e.get("scale")
        ops = [operand]
        if tfam == sfam == "integer":
            source = str(operand.get("type", "ANY")).upper()
            if target not in INTEGER_RANGES:
                return self.value(operand)
            lo, hi = INTEGER_RANGES[target]
            slo, shi = INTEGER_RANGES.get(source, (lo - 1, hi + 1))
            if lo <= slo and shi <= hi:
                return self.value(operand)  # the target holds every value of the source
            v = self._fresh()
            return self._strict(ops, lambda t: (
                f"({v} if {lo} <= ({v} := {t[0]}) <= {hi} else _int_range({v}, {target!r}))"))
        if tfam == sfam and tfam in ("float", "boolean", "interval_ds",
                                     "interval_ym", "date", "timestamp", "time"):
            return self.value(operand)
        if tfam == "integer":
            checked = target if target in INTEGER_RANGES else None
            return self._strict(ops, lambda t: f"_cast_int({t[0]}, {checked!r})")
        if tfam in ("interval_ds", "interval_ym"):
            return self._strict(ops, lambda t: f"_cast_int({t[0]})")
        if tfam == "float":
            return self._strict(ops, lambda t: f"_cast_float({t[0]})")
        if tfam == "decimal":
            digits = precision if isinstance(precision, int) and precision > 0 else None
            places = scale if isinstance(scale, int) else None
            return self._strict(
                ops, lambda t: f"_cast_decimal({t[0]}, {places!r}, {digits!r})")
        if tfam == "boolean":
            return self._strict(ops, lambda t: f"_cast_bool({t[0]})")
        if tfam == "string":
            pad = target == "CHAR"
            length = precision if isinstance(precision, int) and precision > 0 else None
            if sfam == "string" and length is None:
                return self.value(operand)
            return self._strict(
                ops, lambda t: f"_cast_str({t[0]}, {sfam!r}, {length!r}, {pad!r})")
        if tfam in ("date", "time", "timestamp"):
            return self._strict(ops, lambda t: f"_cast_temporal({t[0]}, {tfam!r}, {sfam!r})")
        if target in ("ANY", "NULL"):
            return self.value(operand)
        if target in ("BINARY", "VARBINARY"):
            length = precision if isinstance(precision, int) and precision > 0 else None
            pad = target == "BINARY"
            return self._strict(ops, lambda t: f"_cast_bin({t[0]}, {length!r}, {pad!r})")
        raise NotSupportedError(f"CAST to {target} is not supported")


def _finish(compiler: ExprCompiler, source: str, name: str) -> CompiledFunction:
    if compiler.helpers:
        source = "\n".join(compiler.helpers) + "\n" + source
    code = compile(source, f"<pycql expr {name}>", "exec")
    namespace = compiler.namespace
    exec(code, namespace)
    return CompiledFunction(namespace[name], source)


def _is_identity(exprs: Sequence[Expr], width: int) -> bool:
    return len(exprs) == width and all(
        e["kind"] == "input" and e["index"] == i for i, e in enumerate(exprs))


def compile_batch(
    condition: Expr | None,
    exprs: Sequence[Expr] | None,
    columns: Sequence[Column],
    params: Sequence[object] = (),
    *,
    counted: bool = False,
) -> BatchFunction:
    """A function over a batch: keep rows where ``condition`` IS TRUE, project ``exprs``.

    With ``counted`` the batch is a list of ``(row, count)`` pairs (a relation
    delta) and so is the result; otherwise it is a list of rows (a stream).
    ``exprs=None`` keeps the rows as they are.

    The result is a :class:`BatchFunction`: its :meth:`~BatchFunction.isolating`
    twin evaluates row by row and hands the rows that raise to a callback.
    """
    c = ExprCompiler(columns, params)
    cond = c.truth(condition) if condition is not None else None
    if exprs is None or _is_identity(exprs, len(columns)):
        proj = "r"
    else:
        proj = "(" + "".join(c.value(x) + ", " for x in exprs).rstrip(" ") + ")"
    head = f"({proj}, c) for r, c in rows" if counted else f"{proj} for r in rows"
    tail = f" if {cond}" if cond is not None else ""
    if proj == "r" and cond is None:
        source = "def _batch(rows):\n    return list(rows)"
    else:
        source = f"def _batch(rows):\n    return [{head}{tail}]"
    item = f"({proj}, c)" if counted else proj
    body = [f"            out.append({item})"]
    if cond is not None:
        body = [f"            if {cond}:", "    " + body[0]]
    twin = "\n".join([
        "def _isolating(rows, reject):",
        "    out = []",
        "    for r, c in rows:" if counted else "    for r in rows:",
        "        try:",
        *body,
        "        except _ROW_ERRORS as exc:",
        f"            reject(r, {'c' if counted else '1'}, exc)",
        "    return out",
    ]) + "\n"
    fn = _finish(c, source, "_batch")
    return BatchFunction(fn.fn, fn.source, twin, c.namespace)


def compile_row(
    exprs: Sequence[Expr], columns: Sequence[Column], params: Sequence[object] = ()
) -> CompiledFunction:
    """A function ``row -> tuple`` of the values of ``exprs``."""
    c = ExprCompiler(columns, params)
    proj = "(" + "".join(c.value(x) + ", " for x in exprs).rstrip(" ") + ")"
    return _finish(c, f"def _row(r):\n    return {proj}", "_row")


def compile_join_predicate(
    condition: Expr, columns: Sequence[Column], split: int, params: Sequence[object] = ()
) -> CompiledFunction:
    """A function ``(left_row, right_row) -> bool``: the condition IS TRUE.

    ``columns`` is the left row type followed by the right one; ``split`` is
    the width of the left row.
    """
    c = ExprCompiler(columns, params, split=split)
    return _finish(c, f"def _pred(l, r):\n    return {c.truth(condition)}", "_pred")


def evaluate_constant(expr: Expr, params: Sequence[object] = ()) -> Any:
    """The value of an expression without inputs (a ``VALUES`` entry)."""
    c = ExprCompiler([], params)
    fn = _finish(c, f"def _const():\n    return {c.value(expr)}", "_const")
    return fn()
