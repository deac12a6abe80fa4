"""The direct feed of SLIDE windows: a stream that only ``[RANGE T SLIDE S]`` windows
read (through filters and projections) goes into their panes as it is pushed, and only
the windows' boundaries run (``Executor._window_feeds``, ``SlideWindow.feed``); a window
that feeds an aggregate hands it each pane as counted rows.

Checked against the naive evaluator, with the input pushed the way the runner pushes it:
decoded batches of many instants (``push_many``), out of time order within a batch and
reaching back before a later batch's panes, the watermark lagging behind."""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pycql.errors import DataError
from pycql.runtime.executor import Executor
from pycql.runtime.operators import SlideWindow
from tests.oracle.driver import RuntimeRun, compare_with_oracle
from tests.oracle.naive import NaiveEvaluator
from tests.oracle.plans import PlanBuilder, agg, call, col, lit

SETTINGS = settings(max_examples=120, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


def _bool(op: str, *operands: dict[str, Any]) -> dict[str, Any]:
    return call(op, *operands, type_="BOOLEAN")


@st.composite
def slide_plans(draw: st.DrawFn) -> dict[str, Any]:
    """source S(A, B) -> [filter / projection / stream filter]* -> SLIDE window -> top."""
    b = PlanBuilder()
    node = b.source("S", ["A", "B"])
    for link in draw(st.lists(st.sampled_from(["filter", "project", "stream_filter"]),
                              max_size=2)):
        if link == "filter":
            node = b.filter(node, _bool(">", col(0), lit(draw(st.integers(-1, 2)))))
        elif link == "project":
            node = b.project(node, [col(1), call("+", col(0), lit(1))])
        else:
            node = b.stream_filter(node, _bool("<>", col(1), lit(2)), [col(0), col(1)])
    slide = draw(st.sampled_from([2, 3, 5]))
    span = draw(st.sampled_from([slide, 2 * slide, 3 * slide, slide + 1, 2 * slide + 2, 1]))
    w = b.window(node, "range", range_ms=span, slide_ms=slide)
    top = draw(st.sampled_from(["count", "sum", "global", "istream", "rstream", "relation",
                                "count_istream"]))
    if top in ("count", "count_istream"):
        w = b.aggregate(w, [0], [agg("COUNT", type_="BIGINT")])
        if top == "count_istream":
            w = b.istream(w)
    elif top == "sum":
        w = b.aggregate(w, [1], [agg("SUM", 0), agg("MIN", 0)])
    elif top == "global":
        w = b.aggregate(w, [], [agg("COUNT", type_="BIGINT"), agg("MAX", 1)])
    elif top == "istream":
        w = b.istream(w)
    elif top == "rstream":
        w = b.rstream(w)
    return b.build(w)


events = st.lists(st.tuples(st.integers(1, 40), st.integers(-1, 3), st.integers(0, 3)),
                  max_size=40)


def _run_batched(plan: dict[str, Any], rows: list[tuple[int, tuple[int, int]]],
                 seed: int, until: int) -> RuntimeRun:
    """Push ``rows`` in batches of several instants each, shuffled, with the watermark
    held back so that a batch may reach before the panes of the one before."""
    ex = Executor(plan)
    run = RuntimeRun(ex.result_kind == "stream",
                     None if ex.result_kind == "stream" else Counter(map(tuple, ex.snapshot())))
    rng = random.Random(seed)
    ordered = sorted(rows, key=lambda e: e[0])
    cuts = sorted(rng.sample(range(len(ordered) + 1), min(len(ordered) + 1, 4)))
    batches = [ordered[a:b] for a, b in zip([0, *cuts], [*cuts, len(ordered)], strict=True)]
    batches = [x for x in batches if x]
    for i in range(len(batches) - 1):  # trade rows between neighbours: out of order
        if batches[i] and batches[i + 1] and rng.random() < 0.7:
            a, b = rng.randrange(len(batches[i])), rng.randrange(len(batches[i + 1]))
            batches[i][a], batches[i + 1][b] = batches[i + 1][b], batches[i][a]
    for i, batch in enumerate(batches):
        rng.shuffle(batch)
        ex.push_many("S", [t for t, _ in batch], [r for _, r in batch])
        later = [t for x in batches[i + 1:] for t, _ in x]
        if later and rng.random() < 0.6:  # the watermark, behind every later row
            run.emissions += [(e.timestamp, e.sign, e.row)
                              for e in ex.advance(min(later) - 1 - rng.randrange(3))]
    run.emissions += [(e.timestamp, e.sign, e.row) for e in ex.advance(until)]
    return run


@SETTINGS
@given(plan=slide_plans(), raw=events, seed=st.integers(0, 10**6))
def test_fed_slide_windows_match_the_oracle(plan: dict[str, Any],
                                            raw: list[tuple[int, int, int]],
                                            seed: int) -> None:
    rows = [(t, (a, b)) for t, a, b in raw]
    until = max([t for t, _ in rows], default=0) + 50
    run = _run_batched(plan, rows, seed, until)
    difference = compare_with_oracle(run, NaiveEvaluator(plan, {"S": rows}), until)
    assert difference is None, f"{difference}\nplan: {plan['operators']}\nrows: {rows}"


def _count_plan(*, feed_also_root: bool = False) -> dict[str, Any]:
    b = PlanBuilder()
    s = b.source("S", ["A", "B"])
    w = b.window(s, "range", range_ms=10, slide_ms=5)
    if feed_also_root:
        return b.build(b.istream(w))
    return b.build(b.aggregate(w, [0], [agg("COUNT", type_="BIGINT")]))


def test_rows_go_into_the_panes_when_pushed_and_only_boundaries_run() -> None:
    ex = Executor(_count_plan())
    window = next(op for op in ex._ops if isinstance(op, SlideWindow))
    assert window.counted  # it feeds an aggregate
    ex.push_many("S", [3, 1, 7, 2], [(1, 0), (1, 0), (2, 0), (1, 0)])
    assert [(b, sorted(rows)) for b, rows in window.entering] == [
        (5, [(1, 0), (1, 0), (1, 0)]), (10, [(2, 0)])]
    assert [b for b, _ in window.leaving] == [15, 20]
    assert ex.advance(4) == [] and ex.last_instant == 3  # no boundary yet: nothing ran
    got = ex.advance(5)
    assert [(e.timestamp, e.sign, e.row) for e in got] == [(5, 1, (1, 3))]
    assert ex.last_instant == 5


def test_a_window_read_by_the_root_is_fed_but_moves_row_by_row() -> None:
    ex = Executor(_count_plan(feed_also_root=True))
    window = next(op for op in ex._ops if isinstance(op, SlideWindow))
    assert not window.counted and "S" in ex._feeds
    ex.push_many("S", [1, 2], [(1, 0), (1, 0)])
    assert [(e.timestamp, e.row) for e in ex.advance(5)] == [(5, (1, 0)), (5, (1, 0))]


def test_a_stream_read_by_another_operator_is_not_fed() -> None:
    b = PlanBuilder()
    s = b.source("S", ["A", "B"])
    w = b.window(s, "range", range_ms=10, slide_ms=5)
    now = b.window(s, "now")
    plan = b.build(b.join(w, now, "inner", _bool("=", col(0), col(2))))
    assert Executor(plan)._feeds == {}


def _failing_plan() -> dict[str, Any]:
    b = PlanBuilder()
    s = b.source("S", ["A", "B"])
    p = b.project(s, [call("/", lit(10), col(0)), col(1)])
    return b.build(b.aggregate(b.window(p, "range", range_ms=10, slide_ms=5), [0],
                               [agg("COUNT", type_="BIGINT")]))


def test_a_row_that_fails_on_the_way_is_set_aside_with_its_own_instant() -> None:
    ex = Executor(_failing_plan())
    ex.push_many("S", [1, 2, 3], [(5, 0), (0, 0), (5, 0)])
    assert [(e.timestamp, e.row) for e in ex.advance(5)] == [(5, (2, 2))]
    [rejected] = ex.take_rejected()
    assert (rejected.timestamp, rejected.row, rejected.reason) == (2, (0, 0), "division by zero")


def test_with_on_error_fail_the_error_comes_at_its_instant() -> None:
    ex = Executor(_failing_plan(), on_error="fail")
    ex.push_many("S", [1, 2, 6], [(5, 0), (0, 0), (5, 0)])
    with pytest.raises(DataError, match=r"division by zero.*instant 2"):
        ex.advance(10)
