"""Plan-level differential testing: random physical plans, runtime vs naive oracle.

These build plan documents directly (no planner, no JVM), so they exercise the
runtime's operators on shapes the planner may or may not produce: every window
over a stream, filters, aggregates, DISTINCT, joins (equi, theta, left),
set operations and the three relation-to-stream operators on top.
``PYCQL_DIFF_EXAMPLES`` raises the number of cases.
"""

from __future__ import annotations

import os
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.differential.grammar import stream_input, table_input
from tests.oracle.driver import compare_with_oracle, describe_inputs, run_executor
from tests.oracle.naive import NaiveEvaluator
from tests.oracle.plans import PlanBuilder, agg, call, col, lit

EXAMPLES = int(os.environ.get("PYCQL_DIFF_EXAMPLES", "60"))
SETTINGS = settings(
    max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


WINDOW_KINDS = ["now", "unbounded", "range", "slide", "rows", "partition", "rows_slide",
                "partition_slide", "session", "partition_session"]
#: the count-sliding and session windows (issue 13), drawn alone by their own test
NEW_WINDOW_KINDS = ["rows_slide", "partition_slide", "session", "partition_session"]


@st.composite
def window_spec(draw: st.DrawFn, kinds: list[str] = WINDOW_KINDS) -> dict[str, Any]:
    kind = draw(st.sampled_from(kinds))
    if kind in ("rows_slide", "partition_slide"):
        slide = draw(st.integers(1, 3))
        spec: dict[str, Any] = {
            "kind": "rows" if kind == "rows_slide" else "partition",
            "rows": slide + draw(st.integers(0, 2)),
            "slide_rows": slide,
        }
        if kind == "partition_slide":
            spec["partition_by"] = [draw(st.integers(0, 1))]
        return spec
    if kind in ("session", "partition_session"):
        keys = [draw(st.integers(0, 1))] if kind == "partition_session" else []
        return {"kind": "session", "partition_by": keys,
                "gap_ms": draw(st.sampled_from([1, 250, 500, 751, 1000]))}
    if kind == "range":
        return {
            "kind": "range",
            "range_ms": draw(st.sampled_from([1, 250, 500, 1251])),
            "slide_ms": None,
        }
    if kind == "slide":
        slide = draw(st.sampled_from([250, 500, 1000]))
        return {"kind": "range", "range_ms": slide * draw(st.integers(1, 3)), "slide_ms": slide}
    if kind == "rows":
        return {"kind": "rows", "rows": draw(st.integers(1, 3))}
    if kind == "partition":
        return {
            "kind": "partition",
            "partition_by": [draw(st.integers(0, 1))],
            "rows": draw(st.integers(1, 2)),
        }
    return {"kind": kind}


def _bool(op: str, *operands: dict[str, Any]) -> dict[str, Any]:
    return call(op, *operands, type_="BOOLEAN")


@st.composite
def predicate(draw: st.DrawFn, width: int) -> dict[str, Any]:
    op = draw(st.sampled_from(["=", "<>", "<", ">=", "IS NULL"]))
    a = col(draw(st.integers(0, width - 1)))
    if op == "IS NULL":
        return _bool(op, a)
    b = (
        lit(draw(st.integers(-1, 3)))
        if draw(st.booleans())
        else col(draw(st.integers(0, width - 1)))
    )
    return _bool(op, a, b)


@st.composite
def windowed(draw: st.DrawFn, b: PlanBuilder, name: str,
             kinds: list[str] = WINDOW_KINDS) -> int:
    w = b.window(b.source(name, ["A", "B"]), **draw(window_spec(kinds)))
    if draw(st.booleans()):
        w = b.filter(w, draw(predicate(2)))
    return w


@st.composite
def relation(draw: st.DrawFn, b: PlanBuilder, kinds: list[str] = WINDOW_KINDS) -> int:
    shape = draw(
        st.sampled_from(["plain", "aggregate", "distinct", "join", "lookup_table", "setop"])
    )
    left = draw(windowed(b, "S1", kinds))
    if shape == "plain":
        if draw(st.booleans()):
            return b.project(left, [call("/", col(0), lit(2)), call("+", col(0), col(1))])
        return left
    if shape == "aggregate":
        group = draw(st.sampled_from([[], [0], [0, 1]]))
        aggs = [
            agg("COUNT", type_="BIGINT"),
            agg("SUM", 1),
            agg("MIN", 1),
            agg("MAX", 1),
            agg("AVG", 1),
            agg("COUNT", 1, distinct=True, type_="BIGINT"),
        ]
        chosen = draw(st.lists(st.sampled_from(aggs), min_size=1, max_size=3))
        a = b.aggregate(left, group, chosen)
        if draw(st.booleans()):
            a = b.filter(a, _bool(">", col(len(group)), lit(1)))
        return a
    if shape == "distinct":
        return b.aggregate(left, [0], [])
    if shape in ("join", "lookup_table"):
        if shape == "join":
            right = draw(windowed(b, "S2"))
        else:
            right = b.source("R", ["K", "V"], kind="table")
        cond = draw(
            st.sampled_from(
                [
                    _bool("=", col(0), col(2)),
                    _bool("<", col(1), col(3)),
                    _bool("AND", _bool("=", col(0), col(2)), _bool("<>", col(1), col(3))),
                ]
            )
        )
        return b.join(left, right, draw(st.sampled_from(["inner", "left"])), cond)
    right = draw(windowed(b, "S2"))
    op = draw(st.sampled_from(["union", "minus", "intersect"]))
    return b.setop(op, [left, right], draw(st.booleans()))


@st.composite
def plan(draw: st.DrawFn, kinds: list[str] = WINDOW_KINDS) -> dict[str, Any]:
    b = PlanBuilder()
    rel = draw(relation(b, kinds))
    top = draw(st.sampled_from(["relation", "istream", "dstream", "rstream"]))
    if top == "istream":
        rel = b.istream(rel)
    elif top == "dstream":
        rel = b.dstream(rel)
    elif top == "rstream":
        rel = b.rstream(rel)
    return b.build(rel)


@st.composite
def plan_inputs(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "S1": draw(stream_input("S2")),
        "S2": draw(stream_input("S2")),
        "R": draw(table_input()),
    }


@SETTINGS
@given(p=plan(), inputs=plan_inputs(), every=st.integers(1, 3))
def test_random_plans_match_the_oracle(
    p: dict[str, Any], inputs: dict[str, Any], every: int
) -> None:
    _check_against_the_oracle(p, inputs, every)


def _check_against_the_oracle(p: dict[str, Any], inputs: dict[str, Any], every: int) -> None:
    times = sorted({int(e[0]) for v in inputs.values() for e in v})
    until = (times[-1] if times else 0) + 5000
    advance_points = set(times[::every])
    run = run_executor(p, inputs, until, advance_after=lambda t: t in advance_points)
    difference = compare_with_oracle(run, NaiveEvaluator(p, inputs), until)
    ops = [
        (o["id"], o["op"], o.get("window") or o.get("join_type") or o.get("all"))
        for o in p["operators"]
    ]
    assert difference is None, f"{difference}\nplan: {ops}\ninputs:\n{describe_inputs(inputs)}"


@SETTINGS
@given(p=plan(NEW_WINDOW_KINDS), inputs=plan_inputs(), every=st.integers(1, 3))
def test_sliding_rows_and_session_windows_match_the_oracle(
    p: dict[str, Any], inputs: dict[str, Any], every: int
) -> None:
    _check_against_the_oracle(p, inputs, every)
