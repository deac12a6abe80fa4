"""Hypothesis strategies: random inputs and random CQL queries over them.

The schema is fixed (:data:`CATALOG`)::

    STREAM S1 (A INTEGER, B INTEGER, C VARCHAR(4))
    STREAM S2 (A INTEGER, B INTEGER)
    TABLE  R  (K INTEGER PRIMARY KEY, V INTEGER)

Inputs have duplicates, NULLs, equal timestamps, gaps and adjacent instants
(timestamps on a 250 ms grid, some of them one millisecond late), and the
table gets inserts, deletes and updates (a delete and an insert in one instant)
that respect its key.

Queries cover every window form and operator of the issue: filters,
projections with arithmetic, CASE and NULLs, GROUP BY/HAVING with
COUNT/SUM/AVG/MIN/MAX/COUNT DISTINCT, DISTINCT, inner and left joins (equi and
theta, stream-stream and stream-table, and the RSTREAM lookup join), the set
operations, and ISTREAM/DSTREAM/RSTREAM in both spellings.

>>> from hypothesis import given
>>> q = query().example()  # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

INT = "INTEGER"


def _col(name: str, type_: str = INT, precision: int | None = None) -> dict[str, Any]:
    return {"name": name, "type": type_, "nullable": True, "precision": precision, "scale": None}


CATALOG: dict[str, Any] = {
    "streams": [
        {
            "name": "S1",
            "columns": [_col("A"), _col("B"), _col("C", "VARCHAR", 4)],
            "topic": "S1",
            "timestamp": None,
            "format": "json",
        },
        {
            "name": "S2",
            "columns": [_col("A"), _col("B")],
            "topic": "S2",
            "timestamp": None,
            "format": "json",
        },
    ],
    "tables": [
        {
            "name": "R",
            "columns": [_col("K"), _col("V")],
            "primary_key": ["K"],
            "topic": "R",
            "format": "json",
        },
    ],
    "views": [],
}

STREAM_COLUMNS = {"S1": [("A", INT), ("B", INT), ("C", "VARCHAR")], "S2": [("A", INT), ("B", INT)]}
TABLE_COLUMNS = {"R": [("K", INT), ("V", INT)]}

GRID_MS = 250


# ---------------------------------------------------------------------------
# inputs
# ---------------------------------------------------------------------------

_ints = st.one_of(st.none(), st.integers(-2, 4))
_strings = st.sampled_from([None, "x", "y", "xy", "yx"])


@st.composite
def timestamps(draw: st.DrawFn, max_size: int = 14) -> list[int]:
    """Nondecreasing timestamps: a 250 ms grid, repeats, gaps, some 1 ms late."""
    steps = draw(st.lists(st.integers(0, 4), min_size=0, max_size=max_size))
    out, t = [], 0
    for s in steps:
        t += s
        late = draw(st.sampled_from([0, 0, 0, 1]))
        out.append(t * GRID_MS + late)
    return sorted(out)


@st.composite
def stream_input(draw: st.DrawFn, name: str) -> list[tuple[int, tuple[Any, ...]]]:
    """``[(t, row)]`` in arrival order for stream ``name``."""
    ts = draw(timestamps())
    rows = []
    for t in ts:
        if name == "S1":
            rows.append((t, (draw(_ints), draw(_ints), draw(_strings))))
        else:
            rows.append((t, (draw(_ints), draw(_ints))))
    return rows


@st.composite
def table_input(draw: st.DrawFn) -> list[tuple[int, int, tuple[Any, ...]]]:
    """``[(t, sign, (K, V))]``: inserts of absent keys, deletes and updates of present ones."""
    ts = draw(timestamps(max_size=10))
    present: dict[int, Any] = {}
    out: list[tuple[int, int, tuple[Any, ...]]] = []
    for t in ts:
        action = draw(st.sampled_from(["insert", "insert", "delete", "update"]))
        absent = [k for k in range(-1, 4) if k not in present]
        if action == "insert" or not present:
            if not absent:
                continue
            k = draw(st.sampled_from(absent))
            present[k] = draw(_ints)
            out.append((t, 1, (k, present[k])))
        else:
            k = draw(st.sampled_from(sorted(present)))
            out.append((t, -1, (k, present.pop(k))))
            if action == "update":
                present[k] = draw(_ints)
                out.append((t, 1, (k, present[k])))
    return out


@st.composite
def inputs(draw: st.DrawFn) -> dict[str, list[tuple[Any, ...]]]:
    """Inputs for every source of :data:`CATALOG`."""
    return {
        "S1": draw(stream_input("S1")),
        "S2": draw(stream_input("S2")),
        "R": draw(table_input()),
    }


# ---------------------------------------------------------------------------
# queries
# ---------------------------------------------------------------------------


@st.composite
def window(draw: st.DrawFn, stream: str) -> str:
    """One CQL window (or none, which means UNBOUNDED)."""
    kind = draw(
        st.sampled_from(["none", "now", "unbounded", "range", "slide", "rows", "partition",
                         "rows_slide", "session"])
    )
    if kind == "none":
        return ""
    if kind == "now":
        return "[NOW]"
    if kind == "unbounded":
        return draw(st.sampled_from(["[UNBOUNDED]", "[RANGE UNBOUNDED]"]))
    if kind == "range":
        ms = draw(st.sampled_from([1, 250, 500, 750, 1000, 1251]))
        if ms % 1000 == 0 and draw(st.booleans()):
            return f"[RANGE {ms // 1000} SECONDS]"
        return f"[RANGE {ms} MILLISECONDS]"
    if kind == "slide":
        slide = draw(st.sampled_from([250, 500, 1000]))
        rng = slide * draw(st.integers(1, 3)) + draw(st.sampled_from([0, 0, 250]))
        return f"[RANGE {rng} MILLISECONDS SLIDE {slide} MILLISECONDS]"
    if kind == "rows":
        return f"[ROWS {draw(st.integers(1, 3))}]"
    cols = [c for c, _ in STREAM_COLUMNS[stream]]
    by = f"PARTITION BY {draw(st.sampled_from(cols))} " if draw(st.booleans()) else ""
    if kind == "rows_slide":
        slide = draw(st.integers(1, 3))
        return f"[{by}ROWS {slide + draw(st.integers(0, 2))} SLIDE {slide}]"
    if kind == "session":
        return f"[{by}SESSION {draw(st.sampled_from([250, 500, 751]))} MILLISECONDS]"
    key = draw(st.sampled_from(cols))
    return f"[PARTITION BY {key} ROWS {draw(st.integers(1, 2))}]"


@dataclass
class Scope:
    """The columns a FROM clause makes visible: qualified name -> SQL type."""

    ints: list[str]
    strings: list[str]


@st.composite
def int_expr(draw: st.DrawFn, scope: Scope, depth: int = 2) -> str:
    """An INTEGER expression (never divides by anything but a nonzero literal)."""
    leaf = st.one_of(
        st.sampled_from(scope.ints),
        st.integers(-3, 5).map(str),
        st.just("CAST(NULL AS INTEGER)"),
    )
    if depth <= 0:
        return draw(leaf)
    form = draw(
        st.sampled_from(
            ["leaf", "leaf", "leaf", "arith", "div", "mod", "case", "coalesce", "neg", "abs"]
        )
    )
    sub = int_expr(scope, depth - 1)
    if form == "leaf":
        return draw(leaf)
    if form == "arith":
        op = draw(st.sampled_from(["+", "-", "*"]))
        return f"({draw(sub)} {op} {draw(sub)})"
    if form == "div":
        return f"({draw(sub)} / {draw(st.sampled_from([-2, 2, 3]))})"
    if form == "mod":
        return f"MOD({draw(sub)}, {draw(st.sampled_from([2, 3, -3]))})"
    if form == "case":
        cond = draw(condition(scope, depth - 1))
        if draw(st.booleans()):
            return f"CASE WHEN {cond} THEN {draw(sub)} ELSE {draw(sub)} END"
        return f"CASE WHEN {cond} THEN {draw(sub)} END"
    if form == "coalesce":
        return f"COALESCE({draw(sub)}, {draw(sub)})"
    if form == "neg":
        return f"(- {draw(sub)})"
    return f"ABS({draw(sub)})"


@st.composite
def condition(draw: st.DrawFn, scope: Scope, depth: int = 2) -> str:
    """A boolean condition with SQL's three-valued logic in play."""
    forms = ["cmp", "cmp", "null"] + (["like", "streq"] if scope.strings else [])
    if depth > 0:
        forms += ["and", "or", "not"]
    form = draw(st.sampled_from(forms))
    if form == "cmp":
        op = draw(st.sampled_from(["=", "<>", "<", "<=", ">", ">="]))
        return f"{draw(int_expr(scope, min(depth, 1)))} {op} {draw(int_expr(scope, 0))}"
    if form == "null":
        neg = draw(st.sampled_from(["", "NOT "]))
        return f"{draw(int_expr(scope, 0))} IS {neg}NULL"
    if form == "like":
        pattern = draw(st.sampled_from(["x%", "%y", "_", "x_", "%"]))
        return f"{draw(st.sampled_from(scope.strings))} LIKE '{pattern}'"
    if form == "streq":
        value = draw(st.sampled_from(["x", "y", "xy"]))
        return f"{draw(st.sampled_from(scope.strings))} = '{value}'"
    sub = condition(scope, depth - 1)
    if form == "and":
        return f"({draw(sub)} AND {draw(sub)})"
    if form == "or":
        return f"({draw(sub)} OR {draw(sub)})"
    return f"NOT ({draw(sub)})"


def _scope_of(stream_or_table: str, alias: str) -> Scope:
    cols = STREAM_COLUMNS.get(stream_or_table) or TABLE_COLUMNS[stream_or_table]
    return Scope(
        ints=[f"{alias}.{c}" for c, t in cols if t == INT],
        strings=[f"{alias}.{c}" for c, t in cols if t != INT],
    )


def _merge(a: Scope, b: Scope) -> Scope:
    return Scope(a.ints + b.ints, a.strings + b.strings)


@st.composite
def select_items(draw: st.DrawFn, scope: Scope, min_size: int = 1) -> list[str]:
    n = draw(st.integers(min_size, 3))
    items = []
    for i in range(n):
        if scope.strings and draw(st.integers(0, 4)) == 0:
            items.append(f"{draw(st.sampled_from(scope.strings))} AS E{i}")
        else:
            items.append(f"{draw(int_expr(scope))} AS E{i}")
    return items


def _r2s_select(r2s: str, items: list[str], distinct: bool = False) -> str:
    d = "DISTINCT " if distinct else ""
    if r2s == "none" or r2s == "wrap":
        return f"SELECT {d}{', '.join(items)}"
    return f"SELECT {r2s}({d}{', '.join(items)})"


def _wrap(r2s: str, sql: str, wrap_op: str) -> str:
    return f"{wrap_op}({sql})" if r2s == "wrap" else sql


_R2S = st.sampled_from(["none", "none", "ISTREAM", "DSTREAM", "RSTREAM", "wrap"])
_WRAP_OP = st.sampled_from(["ISTREAM", "DSTREAM", "RSTREAM"])


@st.composite
def spj_query(draw: st.DrawFn) -> str:
    """Select-project-filter over one windowed stream."""
    stream = draw(st.sampled_from(["S1", "S2"]))
    scope = _scope_of(stream, "X")
    r2s = draw(_R2S)
    items = draw(select_items(scope)) if draw(st.integers(0, 5)) else ["*"]
    sql = f"{_r2s_select(r2s, items)} FROM {stream} {draw(window(stream))} AS X"
    if draw(st.booleans()):
        sql += f" WHERE {draw(condition(scope))}"
    return _wrap(r2s, sql, draw(_WRAP_OP))


@st.composite
def distinct_query(draw: st.DrawFn) -> str:
    stream = draw(st.sampled_from(["S1", "S2"]))
    scope = _scope_of(stream, "X")
    r2s = draw(st.sampled_from(["none", "none", "wrap"]))
    items = draw(select_items(scope))
    sql = f"{_r2s_select(r2s, items, distinct=True)} FROM {stream} {draw(window(stream))} AS X"
    if draw(st.booleans()):
        sql += f" WHERE {draw(condition(scope))}"
    return _wrap(r2s, sql, draw(_WRAP_OP))


@st.composite
def aggregate_call(draw: st.DrawFn, scope: Scope) -> str:
    fn = draw(st.sampled_from(["COUNT(*)", "COUNT", "SUM", "AVG", "MIN", "MAX", "COUNT DISTINCT"]))
    if fn == "COUNT(*)":
        return fn
    arg = draw(st.one_of(st.sampled_from(scope.ints), int_expr(scope, 1)))
    if fn == "COUNT DISTINCT":
        return f"COUNT(DISTINCT {arg})"
    return f"{fn}({arg})"


@st.composite
def aggregate_query(draw: st.DrawFn) -> str:
    """GROUP BY (or a global aggregate) with HAVING, over one windowed stream or a join."""
    stream = draw(st.sampled_from(["S1", "S2"]))
    scope = _scope_of(stream, "X")
    r2s = draw(_R2S)
    group = draw(st.lists(st.sampled_from(scope.ints + scope.strings), max_size=2, unique=True))
    aggs = [f"{draw(aggregate_call(scope))} AS G{i}" for i in range(draw(st.integers(1, 3)))]
    items = [f"{g} AS K{i}" for i, g in enumerate(group)] + aggs
    sql = f"{_r2s_select(r2s, items)} FROM {stream} {draw(window(stream))} AS X"
    if draw(st.integers(0, 3)) == 0:
        sql += f" WHERE {draw(condition(scope, 1))}"
    if group:
        sql += " GROUP BY " + ", ".join(group)
    if draw(st.integers(0, 2)) == 0:
        op = draw(st.sampled_from(["=", "<>", "<", ">", ">="]))
        sql += f" HAVING {draw(aggregate_call(scope))} {op} {draw(st.integers(-1, 3))}"
    return _wrap(r2s, sql, draw(_WRAP_OP))


@st.composite
def join_query(draw: st.DrawFn) -> str:
    """Stream-stream or stream-table joins, inner or left, equi and/or theta."""
    right = draw(st.sampled_from(["S2", "S2", "R"]))
    left_scope = _scope_of("S1", "X")
    right_scope = _scope_of(right, "Y")
    scope = _merge(left_scope, right_scope)
    right_key = "Y.A" if right == "S2" else "Y.K"
    right_other = "Y.B" if right == "S2" else "Y.V"
    shape = draw(st.sampled_from(["equi", "equi_theta", "theta"]))
    if shape == "equi":
        on = f"X.A = {right_key}"
    elif shape == "equi_theta":
        on = f"X.A = {right_key} AND X.B {draw(st.sampled_from(['<', '<>', '>=']))} {right_other}"
    else:
        on = f"X.B {draw(st.sampled_from(['<', '<=', '>', '<>']))} {right_other}"
    join = draw(st.sampled_from(["JOIN", "LEFT JOIN", "comma"]))
    r2s = draw(_R2S)
    items = draw(select_items(scope)) if draw(st.integers(0, 5)) else ["*"]
    right_from = f"S2 {draw(window('S2'))} AS Y" if right == "S2" else "R AS Y"
    left_from = f"S1 {draw(window('S1'))} AS X"
    if join == "comma":
        sql = f"{_r2s_select(r2s, items)} FROM {left_from}, {right_from} WHERE {on}"
    else:
        sql = f"{_r2s_select(r2s, items)} FROM {left_from} {join} {right_from} ON {on}"
        if draw(st.integers(0, 3)) == 0:
            sql += f" WHERE {draw(condition(scope, 1))}"
    return _wrap(r2s, sql, draw(_WRAP_OP))


@st.composite
def lookup_join_query(draw: st.DrawFn) -> str:
    """``RSTREAM(S [NOW] JOIN R)``: each element joined with the table as of its instant."""
    scope = _merge(_scope_of("S1", "X"), _scope_of("R", "Y"))
    items = draw(select_items(scope)) if draw(st.integers(0, 3)) else ["*"]
    join = draw(st.sampled_from(["JOIN", "LEFT JOIN"]))
    on = "X.A = Y.K"
    if draw(st.booleans()):
        on += f" AND X.B {draw(st.sampled_from(['<', '<>']))} Y.V"
    return f"RSTREAM(SELECT {', '.join(items)} FROM S1 [NOW] AS X {join} R AS Y ON {on})"


@st.composite
def set_query(draw: st.DrawFn) -> str:
    """UNION ALL / UNION / EXCEPT / INTERSECT (and the ALL forms) of two branches."""

    @st.composite
    def branch(draw2: st.DrawFn) -> str:
        source = draw2(st.sampled_from(["S1", "S2", "S2", "R"]))
        scope = _scope_of(source, "X")
        e = draw2(int_expr(scope, 1))
        f = draw2(st.sampled_from(scope.ints))
        src = "R AS X" if source == "R" else f"{source} {draw2(window(source))} AS X"
        sql = f"SELECT {e} AS E0, {f} AS E1 FROM {src}"
        if draw2(st.booleans()):
            sql += f" WHERE {draw2(condition(scope, 1))}"
        return sql

    op = draw(
        st.sampled_from(
            ["UNION ALL", "UNION", "EXCEPT", "EXCEPT ALL", "INTERSECT", "INTERSECT ALL"]
        )
    )
    sql = f"{draw(branch())} {op} {draw(branch())}"
    r2s = draw(st.sampled_from(["none", "ISTREAM", "DSTREAM", "RSTREAM"]))
    return sql if r2s == "none" else f"{r2s}({sql})"


def query() -> st.SearchStrategy[str]:
    """Any query of the grammar."""
    return st.one_of(
        spj_query(),
        distinct_query(),
        aggregate_query(),
        join_query(),
        lookup_join_query(),
        set_query(),
    )
