"""Rows an expression fails on: set aside (``on_error="dead_letter"``) or fatal (``"fail"``).

Every operator kind that evaluates expressions row by row gets a batch holding
failing rows; the other rows' output must be exactly the output of a run
without the failing rows, and the operator's state must stay consistent (later
deletes and expiries of surviving and of set-aside rows work).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import pytest

from pycql.errors import DataError, ProgrammingError
from pycql.runtime import Emission, Executor, RejectedRow
from pycql.runtime.operators import Join

from .plans import Expr, PlanBuilder, agg, call, col, lit

Row = tuple[Any, ...]
#: (source, instant, inserts, deletes), pushed in order; advance after each instant
Event = tuple[str, int, list[Row], list[Row]]


def hundred_over(i: int) -> Expr:
    """``100 / column i`` (integer division: a zero divisor raises)."""
    return call("/", lit(100), col(i), type_="INTEGER", integer_division=True)


def run(plan: dict[str, Any], events: list[Event], *, until: int = 1000,
        general: bool = False, on_error: str = "dead_letter",
        ex: Executor | None = None) -> tuple[list[Emission], Executor]:
    """Push each event and advance past it; finally advance to ``until``."""
    if ex is None:
        ex = Executor(plan, on_error=on_error)  # type: ignore[arg-type]
    if general:
        ex._chain = None  # the operator-by-operator path
    out: list[Emission] = []
    for source, t, inserts, deletes in events:
        ex.push(source, t, inserts, deletes)
        out += ex.advance(t)
    out += ex.advance(until)
    return out, ex


def without(events: list[Event], bad: Callable[[str, Row], bool]) -> list[Event]:
    """``events`` with the rows ``bad`` picks removed (inserts and deletes alike)."""
    return [(s, t, [r for r in ins if not bad(s, r)], [r for r in dels if not bad(s, r)])
            for s, t, ins, dels in events]


# --- stateless operators --------------------------------------------------------------


def _select_plan() -> dict[str, Any]:
    """``SELECT 100 / A, B FROM S WHERE B >= 0`` then ``WHERE 100 / (B - 3) >= 0``: a line
    of stream operators (stream_filter, then a filter over the stream); A = 0 fails the
    first, B = 3 the second."""
    b = PlanBuilder()
    s = b.source("S", "A", "B")
    f = b.stream_filter(s, call(">=", col(1), lit(0)), hundred_over(0), col(1))
    g = b.filter(f, call(">=", call("/", lit(100), call("-", col(1), lit(3), type_="INTEGER"),
                                    type_="INTEGER", integer_division=True), lit(0)))
    b.ops[g]["output"] = "stream"
    return b.plan()


def _random_stream(seed: int, n: int = 300) -> list[Event]:
    rng = random.Random(seed)
    events: list[Event] = []
    for t in sorted(rng.sample(range(1, 200), 40)):
        rows = [(rng.randrange(-3, 4), rng.randrange(0, 6)) for _ in range(n // 40)]
        events.append(("S", t, rows, []))
    return events


@pytest.mark.parametrize("general", [False, True], ids=["one-pass", "general"])
@pytest.mark.parametrize("seed", range(3))
def test_stream_operators_set_failing_rows_aside(general: bool, seed: int) -> None:
    plan = _select_plan()
    events = _random_stream(seed)
    got, ex = run(plan, events, general=general)
    expected, clean = run(plan, without(events, lambda _, r: r[0] == 0 or r[1] == 3),
                          general=general)
    assert got == expected and got
    assert clean.take_rejected() == []
    rejected = ex.take_rejected()
    want = [RejectedRow(1, "stream_filter", "division by zero", t, r, "S")
            for _, t, rows, _ in events for r in rows if r[0] == 0] + [
            RejectedRow(2, "filter", "division by zero", t, (int(100 / r[0]), r[1]), None)
            for _, t, rows, _ in events for r in rows if r[0] != 0 and r[1] == 3]
    assert sorted(rejected, key=repr) == sorted(want, key=repr)
    assert ex.take_rejected() == []  # taken


def test_the_one_pass_path_stays_one_pass_with_a_failing_row() -> None:
    ex = Executor(_select_plan())
    assert ex._chain is not None
    ex.push_many("S", [3, 1, 2, 1], [(5, 5), (0, 1), (4, 3), (10, 4)])
    assert ex.advance(5) == [Emission(1, 1, (10, 4)), Emission(3, 1, (20, 5))]
    assert [(r.operator_id, r.timestamp, r.row) for r in ex.take_rejected()] == [
        (1, 1, (0, 1)), (2, 2, (25, 3))]
    assert ex.last_instant == 3 and ex.state()["pending"] == []


def test_a_relation_filter_and_project_under_a_window_retract_without_rejecting_again() -> None:
    """A RANGE window expires set-aside rows too: their retractions fail the same way
    and are dropped without a second report."""
    b = PlanBuilder()
    s = b.source("S", "A", "B")
    w = b.range(s, 5)
    f = b.filter(w, call(">", hundred_over(0), lit(10)))
    b.project(f, col(1), hundred_over(0))
    plan = b.plan()
    events: list[Event] = [("S", 1, [(1, 1), (0, 2), (5, 3)], []),
                           ("S", 3, [(0, 4), (2, 5)], []), ("S", 7, [(4, 6)], [])]
    got, ex = run(plan, events)
    expected, _ = run(plan, without(events, lambda _, r: r[0] == 0))
    assert got == expected
    assert ex.snapshot() == []  # everything expired
    assert [(r.operator, r.timestamp, r.row, r.source) for r in ex.take_rejected()] == [
        ("filter", 1, (0, 2), "S"), ("filter", 3, (0, 4), "S")]


def test_a_project_over_a_table_then_deletes_of_surviving_and_set_aside_rows() -> None:
    b = PlanBuilder()
    r = b.source("R", "K", "V", table=True)
    b.project(r, col(0), hundred_over(1))
    plan = b.plan()
    events: list[Event] = [
        ("R", 1, [(1, 5), (2, 0), (3, 10)], []),
        ("R", 2, [], [(1, 5)]),            # a surviving row leaves
        ("R", 3, [(4, 0)], [(2, 0)]),      # a set-aside row leaves, another comes
        ("R", 4, [(1, 50)], [(4, 0), (3, 10)]),
    ]
    got, ex = run(plan, events)
    expected, clean = run(plan, without(events, lambda _, row: row[1] == 0))
    assert got == expected
    assert ex.snapshot() == clean.snapshot() == [(1, 2)]
    assert [(x.timestamp, x.row, x.source) for x in ex.take_rejected()] == [
        (1, (2, 0), "R"), (3, (4, 0), "R")]


def test_identical_failing_rows_are_reported_once_each() -> None:
    b = PlanBuilder()
    b.project(b.range(b.source("S", "A"), 2), hundred_over(0))
    ex = Executor(b.plan())
    ex.push("S", 1, [(0,), (0,), (4,)])
    assert ex.advance(10) == [Emission(1, 1, (25,)), Emission(3, -1, (25,))]
    assert [x.row for x in ex.take_rejected()] == [(0,), (0,)]


def test_a_type_mismatch_is_a_row_error_naming_the_types() -> None:
    """Inline Python comparing a str with an int (a plan without the cast the planner
    would add) raises TypeError: a row error whose reason names both types."""
    b = PlanBuilder()
    s = b.source("S", "A", "NAME")
    b.stream_filter(s, call("<", col(0), col(1, "VARCHAR")))
    ex = Executor(b.plan())
    ex.push("S", 1, [(1, 2), (1, "ann"), (3, 2)])
    assert ex.advance(1) == [Emission(1, 1, (1, 2))]
    (rejected,) = ex.take_rejected()
    assert rejected.row == (1, "ann")
    assert rejected.reason == (
        "type mismatch: '<' not supported between instances of 'int' and 'str'")


def test_a_failing_row_of_values_is_set_aside_at_the_initialization_instant() -> None:
    b = PlanBuilder()
    v = b.values((0,), (4,))
    b.project(v, hundred_over(0))
    ex = Executor(b.plan())
    assert ex.snapshot() == [(25,)]
    assert ex.take_rejected() == [RejectedRow(1, "project", "division by zero", None, (0,),
                                              None)]


def test_a_bug_in_generated_code_is_not_a_row_error() -> None:
    """A NameError (a helper missing from the compiled code's namespace) propagates as
    it is in both paths, never dead-lettered; the input stays pending."""
    plan = _select_plan()
    for general in (False, True):
        ex = Executor(plan)
        op = ex._by_id[1]
        del op.fn._namespace["_idiv"]  # type: ignore[attr-defined]
        if general:
            ex._chain = None
        else:
            assert ex._chain_links is not None
            del ex._chain_links[0][1]._namespace["_idiv"]
        ex.push("S", 1, [(1, 1), (0, 1)])
        with pytest.raises(NameError):
            ex.advance(1)
        assert ex.take_rejected() == []
        assert ex.state()["pending"] == [[1, "S", [[1, 1], [0, 1]], []]]


# --- aggregate over a failing project -------------------------------------------------


def _grouped_plan() -> dict[str, Any]:
    """``SELECT G, COUNT(*), SUM(Q), MIN(Q), MAX(Q) FROM (SELECT MOD(B, 3) AS G, 100 / A
    AS Q FROM S [RANGE 10]) GROUP BY G``: the project fails where A = 0."""
    b = PlanBuilder()
    s = b.source("S", "A", "B")
    w = b.range(s, 10)
    p = b.project(w, call("MOD", col(1), lit(3), type_="INTEGER"), hundred_over(0),
                  names=["G", "Q"])
    b.aggregate(p, [0], agg("COUNT"), agg("SUM", 1, type_="INTEGER"),
                agg("MIN", 1, type_="INTEGER"), agg("MAX", 1, type_="INTEGER"))
    return b.plan()


@pytest.mark.parametrize("seed", range(4))
def test_a_division_by_zero_under_an_aggregate_leaves_the_aggregate_right(seed: int) -> None:
    plan = _grouped_plan()
    rng = random.Random(seed)
    events: list[Event] = [
        ("S", t, [(rng.randrange(-2, 3), rng.randrange(0, 9)) for _ in range(6)], [])
        for t in sorted(rng.sample(range(1, 60), 15))]
    clean_events = without(events, lambda _, r: r[0] == 0)
    ex = Executor(plan)
    clean = Executor(plan)
    for event, clean_event in zip(events, clean_events, strict=True):
        got, _ = run(plan, [event], until=event[1], ex=ex)
        expected, _ = run(plan, [clean_event], until=clean_event[1], ex=clean)
        assert got == expected
        assert sorted(ex.snapshot(), key=repr) == sorted(clean.snapshot(), key=repr)
    assert ex.advance(1000) == clean.advance(1000)  # every window expiry too
    assert ex.snapshot() == []
    state, clean_state = ex.state(), clean.state()
    assert state["operators"] == clean_state["operators"]
    assert len(ex.take_rejected()) == sum(r[0] == 0 for e in events for r in e[2])


# --- joins ---------------------------------------------------------------------------


def _join_plan(join_type: str) -> dict[str, Any]:
    """``L(K, A) JOIN R(K, B) ON L.K = R.K AND 100 / L.A >= R.B`` over two tables."""
    b = PlanBuilder()
    left = b.source("L", "K", "A", table=True)
    right = b.source("R", "K", "B", table=True)
    b.join(left, right, join_type, [0], [0], residual=call(">=", hundred_over(1), col(3)))
    return b.plan()


JOIN_TYPES = ["inner", "left", "right", "full", "semi", "anti"]


@pytest.mark.parametrize("join_type", JOIN_TYPES)
def test_a_left_row_failing_the_residual_is_set_aside_and_its_delete_absorbed(
        join_type: str) -> None:
    plan = _join_plan(join_type)
    events: list[Event] = [
        ("R", 1, [(1, 5), (1, 50), (2, 1)], []),
        ("L", 2, [(1, 2), (1, 0), (2, 3), (3, 0)], []),  # (1, 0) fails against R's K = 1
        ("R", 3, [(1, 30)], [(1, 50)]),
        ("L", 4, [], [(1, 2)]),                           # a surviving row leaves
        ("R", 5, [], [(1, 5), (1, 30)]),                  # (1, 0)'s partners leave
        ("L", 6, [(1, 1)], [(1, 0)]),                     # (1, 0) leaves: absorbed
        ("R", 7, [(1, 60)], []),
    ]
    got, ex = run(plan, events)
    expected, clean = run(plan, without(events, lambda s, r: (s, r) == ("L", (1, 0))))
    assert got == expected
    assert sorted(ex.snapshot(), key=repr) == sorted(clean.snapshot(), key=repr)
    join = ex._by_id[2]
    assert isinstance(join, Join)
    assert join.rejected == ({}, {})  # the set-aside copy was retracted
    assert ex.state()["operators"]["2"] == clean.state()["operators"]["2"]
    assert ex.take_rejected() == [RejectedRow(2, "join", "division by zero", 2, (1, 0), "L")]


@pytest.mark.parametrize("join_type", JOIN_TYPES)
def test_a_right_row_failing_against_the_state_is_set_aside(join_type: str) -> None:
    """(1, 0) on the left enters (nothing to evaluate it against); R's rows of key 1
    then fail against it and are set aside; their deletes are absorbed."""
    plan = _join_plan(join_type)
    events: list[Event] = [
        ("L", 1, [(1, 0), (2, 5)], []),
        ("R", 2, [(1, 5), (2, 1), (2, 40)], []),
        ("L", 3, [], [(1, 0)]),
        ("R", 4, [(1, 7)], [(1, 5)]),  # (1, 5) was set aside: its delete is absorbed
        ("L", 5, [(1, 50)], []),
        ("R", 6, [], [(1, 7), (2, 1)]),
    ]
    got, ex = run(plan, events)
    expected, clean = run(plan, without(events, lambda s, r: (s, r) == ("R", (1, 5))))
    assert got == expected
    assert sorted(ex.snapshot(), key=repr) == sorted(clean.snapshot(), key=repr)
    assert [(x.operator, x.timestamp, x.row, x.source) for x in ex.take_rejected()] == [
        ("join", 2, (1, 5), "R")]
    join = ex._by_id[2]
    assert isinstance(join, Join) and join.rejected == ({}, {})


def test_set_aside_join_rows_survive_a_checkpoint() -> None:
    plan = _join_plan("left")
    ex = Executor(plan)
    ex.push("R", 1, [(1, 5)])
    ex.push("L", 2, [(1, 0), (1, 1)])
    ex.advance(2)
    assert len(ex.take_rejected()) == 1
    state = ex.state()
    again = Executor.restore(plan, state, on_error="fail")
    assert again.on_error == "fail"
    again.push("R", 3, [], [(1, 5)])
    again.push("L", 4, [], [(1, 0)])  # absorbed from the restored set-aside copies
    assert again.advance(4) == [Emission(3, -1, (1, 1, 1, 5)), Emission(3, 1, (1, 1, None, None))]
    assert again.snapshot() == [(1, 1, None, None)]


def test_a_lookup_join_sets_aside_a_stream_element_with_none_of_its_pairs() -> None:
    """``RSTREAM(S [NOW] JOIN R ON S.K = R.K AND 100 / (R.B - 2) > S.A)``: an element
    meeting R's (1, 2) fails after matching (1, 1); none of its output stays."""
    b = PlanBuilder()
    s = b.source("S", "K", "A")
    r = b.source("R", "K", "B", table=True)
    cond = call(">", call("/", lit(100), call("-", col(3), lit(2), type_="INTEGER"),
                          type_="INTEGER", integer_division=True), col(1))
    b.join(s, r, "inner", [0], [0], residual=cond, lookup=True)
    plan = b.plan()
    events: list[Event] = [
        ("R", 1, [(1, 1), (1, 2), (2, 1)], []),
        ("S", 2, [(1, -500), (2, -500), (3, 0)], []),
        ("R", 3, [], [(1, 2)]),
        ("S", 4, [(1, -500), (2, 99)], []),
    ]
    got, ex = run(plan, events)
    assert got == [Emission(2, 1, (2, -500, 2, 1)), Emission(4, 1, (1, -500, 1, 1))]
    assert [(x.operator, x.timestamp, x.row, x.source) for x in ex.take_rejected()] == [
        ("lookup_join", 2, (1, -500), "S")]


# --- fail mode ------------------------------------------------------------------------


FAILING_CASES = [
    ("stream_filter", _select_plan, [("S", 1, [(0, 1)], [])]),
    ("filter", _select_plan, [("S", 1, [(1, 3)], [])]),
    ("project", _grouped_plan, [("S", 1, [(0, 1)], [])]),
    ("join", lambda: _join_plan("full"), [("R", 1, [(1, 1)], []), ("L", 2, [(1, 0)], [])]),
]


@pytest.mark.parametrize("kind,make,events", FAILING_CASES, ids=[c[0] for c in FAILING_CASES])
def test_fail_mode_raises_a_data_error_naming_the_operator(
        kind: str, make: Callable[[], dict[str, Any]], events: list[Event]) -> None:
    ex = Executor(make(), on_error="fail")
    with pytest.raises(DataError, match=rf"division by zero \(operator \d+: {kind}, at instant"):
        run(make(), events, ex=ex)
    assert ex.take_rejected() == []


def test_on_error_must_be_one_of_the_two_choices() -> None:
    with pytest.raises(ProgrammingError, match="on_error"):
        Executor(_select_plan(), on_error="skip")  # type: ignore[arg-type]
    assert Executor(_select_plan()).on_error == "dead_letter"
