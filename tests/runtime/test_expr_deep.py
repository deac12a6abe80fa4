"""Expressions 100 levels deep (the planner's limit) compile to flat source and evaluate right.

CPython refuses source nesting more than 200 brackets ("too many nested parentheses");
the compiler writes chains n-ary, CASE/COALESCE/AND/OR as flat conditionals and moves
what still nests too deep into helper functions. Every result here is checked against
a small tree-walking evaluator written for these tests.
"""

from __future__ import annotations

import random
import sys
from collections.abc import Callable
from typing import Any

import pytest

from pycql.runtime import Emission, Executor
from pycql.runtime.expr import (
    MAX_NESTING,
    _nesting,
    compile_batch,
    compile_join_predicate,
    compile_row,
)

from .plans import Expr, PlanBuilder, call, col, lit

DEPTH = 100
COLS = [{"name": "A", "type": "INTEGER", "nullable": True},
        {"name": "B", "type": "INTEGER", "nullable": True},
        {"name": "S", "type": "VARCHAR", "nullable": True}]
A, B = col(0), col(1)
S = col(2, "VARCHAR")
ROWS = [(a, b, s) for a in (None, -3, 0, 2, 7) for b in (None, -1, 4) for s in (None, "Ab")]


def naive(e: Expr, row: tuple[Any, ...]) -> Any:
    """SQL value of ``e`` over ``row``, by walking the tree (NULL = None)."""
    kind = e["kind"]
    if kind == "input":
        return row[e["index"]]
    if kind == "literal":
        return e["value"]
    op = e["op"]
    args = e["operands"]
    if op == "CASE":
        for i in range(0, len(args) - 1, 2):
            if naive(args[i], row) is True:
                return naive(args[i + 1], row)
        return naive(args[-1], row) if len(args) % 2 else None
    if op == "COALESCE":
        for a in args:
            v = naive(a, row)
            if v is not None:
                return v
        return None
    if op in ("AND", "OR"):
        vals = [naive(a, row) for a in args]
        dominant = op == "OR"
        if dominant in vals:
            return dominant
        return None if None in vals else not dominant
    if op == "IS NULL":
        return naive(args[0], row) is None
    vals = [naive(a, row) for a in args]
    if op == "NULLIF":
        return None if vals[0] is None or vals[0] == vals[1] else vals[0]
    if None in vals:
        return None
    fns: dict[str, Callable[..., Any]] = {
        "+": lambda x, y: x + y, "-": lambda x, y: x - y, "*": lambda x, y: x * y,
        "||": lambda x, y: x + y, ">": lambda x, y: x > y, "<": lambda x, y: x < y,
        "=": lambda x, y: x == y, "NOT": lambda x: not x, "ABS": abs,
        "UPPER": str.upper, "LOWER": str.lower, "CHAR_LENGTH": len,
    }
    return fns[op](*vals)


def num(op: str, *o: Expr) -> Expr:
    return call(op, *o, type_="INTEGER", nullable=True)


def text(op: str, *o: Expr) -> Expr:
    return call(op, *o, type_="VARCHAR", nullable=True)


def boolean(op: str, *o: Expr) -> Expr:
    return call(op, *o, type_="BOOLEAN", nullable=True)


def deep(step: Callable[[Expr, int], Expr], start: Expr, depth: int = DEPTH) -> Expr:
    e = start
    for i in range(depth):
        e = step(e, i)
    return e


def _random_deep(seed: int) -> Expr:
    """A random expression 100 levels deep: each level wraps the one below in one of
    the forms above, the other operands shallow."""
    rng = random.Random(seed)

    def step(e: Expr, i: int) -> Expr:
        k = rng.randrange(9)
        small = rng.choice([A, B, lit(rng.randrange(-3, 4))])
        if k == 0:
            return num("+", e, small)
        if k == 1:
            return num("-", small, e)
        if k == 2:
            return num("*", e, lit(rng.choice([-1, 1])))
        if k == 3:
            return num("CASE", boolean(">", A, lit(i % 5)), e, small)
        if k == 4:
            return num("CASE", boolean("IS NULL", B), small, e)
        if k == 5:
            return num("COALESCE", e, small)
        if k == 6:
            return num("ABS", e)
        if k == 7:
            return num("NULLIF", e, lit(1))
        return num("CASE", boolean("AND", boolean(">", e, lit(0)), boolean("<", B, lit(3))),
                   lit(1), lit(0))

    return deep(step, A)


VALUES: dict[str, Expr] = {
    "left-deep +": deep(lambda e, i: num("+", e, B), A),
    "right-deep +": deep(lambda e, i: num("+", B, e), A),
    "+ and - mixed": deep(lambda e, i: num("-" if i % 3 else "+", e, lit(i)), A),
    "left-deep *": deep(lambda e, i: num("*", e, lit(-1 if i % 2 else 1)), A),
    "left-deep ||": deep(lambda e, i: text("||", e, S), S),
    "CASE in THEN": deep(lambda e, i: num("CASE", boolean(">", A, lit(i % 7)), e, lit(i)), B),
    "CASE in ELSE": deep(lambda e, i: num("CASE", boolean(">", A, lit(i % 7)), lit(i), e), B),
    "CASE in WHEN": num("CASE", deep(
        lambda e, i: boolean("CASE", boolean(">", B, lit(i % 5)), e, boolean("<", A, lit(3))),
        boolean("IS NULL", A)), lit(1), lit(0)),
    "COALESCE first": deep(lambda e, i: num("COALESCE", e, B), A),
    "COALESCE last": deep(lambda e, i: num("COALESCE", B, e), A),
    "ABS": deep(lambda e, i: num("ABS", e), A),
    "UPPER/LOWER": num("CHAR_LENGTH", deep(lambda e, i: text("UPPER" if i % 2 else "LOWER", e),
                                           S)),
    "NULLIF": deep(lambda e, i: num("NULLIF", e, lit(i)), A),
    "NOT": deep(lambda e, i: boolean("NOT", e), boolean(">", A, lit(1))),
    "AND/OR": deep(lambda e, i: boolean("AND" if i % 2 else "OR", e,
                                        boolean("<", B, lit(i % 4))), boolean(">", A, lit(1))),
    **{f"random {seed}": _random_deep(seed) for seed in range(6)},
}


def _check_flat(source: str) -> None:
    for line in source.splitlines():
        assert _nesting(line) <= MAX_NESTING + 4, line[:200]


@pytest.mark.parametrize("name", list(VALUES))
def test_a_deep_expression_compiles_and_evaluates(name: str) -> None:
    e = VALUES[name]
    fn = compile_row([e], COLS)
    _check_flat(fn.source)
    for row in ROWS:
        assert fn(row) == (naive(e, row),), row


@pytest.mark.parametrize("name", ["NOT", "AND/OR", "CASE in WHEN", "random 0", "random 3"])
def test_a_deep_condition_filters_and_projects_a_batch(name: str) -> None:
    e = VALUES[name]
    cond = e if e["type"] == "BOOLEAN" else boolean(">", e, lit(0))
    for counted in (False, True):
        fn = compile_batch(cond, [VALUES["left-deep +"], VALUES["ABS"]], COLS, counted=counted)
        _check_flat(fn.source)
        batch = [(r, 2) for r in ROWS] if counted else ROWS
        want = [((naive(VALUES["left-deep +"], r), naive(VALUES["ABS"], r)), 2)
                for r in ROWS if naive(cond, r) is True]
        assert fn(batch) == (want if counted else [w for w, _ in want])
        assert fn.isolating()(batch, pytest.fail) == fn(batch)


def test_a_deep_join_condition_over_two_rows() -> None:
    e = VALUES["AND/OR"]
    fn = compile_join_predicate(e, COLS + COLS, len(COLS))
    _check_flat(fn.source)
    for row in ROWS:
        assert fn(row, row) is (naive(e, row) is True)


def test_deep_expressions_compile_with_the_stack_already_in_use() -> None:
    """Compiling a 100-level expression takes about 5 frames a level: it leaves room
    for callers using a few hundred frames under the default recursion limit."""
    assert sys.getrecursionlimit() >= 1000
    e = VALUES["CASE in THEN"]

    def nested(n: int) -> Any:
        return nested(n - 1) if n else compile_row([e], COLS)

    fn = nested(300)
    assert fn((7, 4, None)) == (naive(e, (7, 4, None)),)


def test_a_plan_with_deep_expressions_runs_through_the_executor() -> None:
    b = PlanBuilder()
    s = b.source("S", "A", "B", "S:VARCHAR")
    f = b.stream_filter(s, VALUES["AND/OR"], VALUES["left-deep +"], VALUES["random 1"])
    w = b.window(f, "unbounded")
    r = b.source("R", "A", "B", "S:VARCHAR", table=True)
    b.join(w, r, "inner", [0], [0], residual=deep(
        lambda e, i: boolean("OR", e, boolean("<", col(3), lit(i % 9 - 4))),
        boolean(">", col(0), col(3))))
    plan = b.plan()
    ex = Executor(plan)
    ex.push("R", 1, [(a, 1, "x") for a in range(-500, 1000)])
    ex.push("S", 2, ROWS)
    out = ex.advance(5)
    expected = []
    for row in ROWS:
        if naive(VALUES["AND/OR"], row) is True:
            projected = (naive(VALUES["left-deep +"], row), naive(VALUES["random 1"], row))
            for a in range(-500, 1000):
                if projected[0] == a:
                    expected.append(Emission(2, 1, (*projected, a, 1, "x")))
    assert sorted(out, key=repr) == sorted(expected, key=repr) and expected
    assert ex.take_rejected() == []
