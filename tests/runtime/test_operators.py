"""Operators and windows through the Executor, with hand-computed expectations."""

from __future__ import annotations

from collections import Counter
from typing import Any

import orjson
import pytest

from pycql.errors import DataError, InterfaceError
from pycql.runtime import Emission, Executor

from .plans import PlanBuilder, agg, call, col, lit

Event = tuple[str, int, list[tuple[Any, ...]], list[tuple[Any, ...]]]


def run(plan: dict[str, Any], events: list[Event], watermark: int) -> list[tuple[int, int, Any]]:
    ex = Executor(plan)
    for source, ts, ins, dels in events:
        ex.push(source, ts, ins, dels)
    return [(e.timestamp, e.sign, e.row) for e in ex.advance(watermark)]


def by_instant(emissions: list[tuple[int, int, Any]]) -> dict[int, Counter[Any]]:
    """Per instant, the multiset of (sign, row): order inside an instant is free."""
    out: dict[int, Counter[Any]] = {}
    for ts, sign, row in emissions:
        out.setdefault(ts, Counter())[(sign, row)] += 1
    return out


def ins(*rows: Any) -> list[tuple[Any, ...]]:
    return [r if isinstance(r, tuple) else (r,) for r in rows]


# --- windows ------------------------------------------------------------------


def test_range_window_relation_deltas() -> None:
    b = PlanBuilder()
    s = b.source("S", "A")
    b.range(s, 10)
    got = run(b.plan(), [("S", 1, ins(1), []), ("S", 5, ins(2), []), ("S", 11, ins(3), [])], 100)
    # (tau - 10, tau]: 1 leaves at 11, 2 at 15, 3 at 21
    assert got == [(1, 1, (1,)), (5, 1, (2,)), (11, -1, (1,)), (11, 1, (3,)), (15, -1, (2,)),
                   (21, -1, (3,))]


def test_range_window_expiry_waits_for_the_watermark() -> None:
    b = PlanBuilder()
    b.range(b.source("S", "A"), 10)
    ex = Executor(b.plan())
    ex.push("S", 1, ins(7))
    assert ex.advance(10) == [Emission(1, 1, (7,))]
    assert ex.snapshot() == [(7,)]
    assert ex.advance(11) == [Emission(11, -1, (7,))]
    assert ex.snapshot() == []


def test_now_window_lives_one_instant() -> None:
    b = PlanBuilder()
    b.window(b.source("S", "A"), "now")
    got = run(b.plan(), [("S", 3, ins(1, 2), []), ("S", 4, ins(3), [])], 10)
    assert got == [(3, 1, (1,)), (3, 1, (2,)), (4, -1, (1,)), (4, -1, (2,)), (4, 1, (3,)),
                   (5, -1, (3,))]


def test_unbounded_window_keeps_everything() -> None:
    b = PlanBuilder()
    b.window(b.source("S", "A"), "unbounded")
    ex = Executor(b.plan())
    ex.push("S", 1, ins(1))
    ex.push("S", 2, ins(1, 2))
    assert len(ex.advance(10**12)) == 3
    assert sorted(ex.snapshot()) == [(1,), (1,), (2,)]


def test_slide_window_changes_only_at_boundaries() -> None:
    b = PlanBuilder()
    b.range(b.source("S", "A"), 10, slide=5)
    events: list[Event] = [("S", 1, ins(1), []), ("S", 5, ins(5), []), ("S", 7, ins(7), []),
                           ("S", 12, ins(12), [])]
    got = by_instant(run(b.plan(), events, 100))
    # boundary b shows (b-10, b]: 5 -> {1,5}; 10 -> {1,5,7}; 15 -> {7,12}; 20 -> {12}; 25 -> {}
    assert got == {
        5: Counter({(1, (1,)): 1, (1, (5,)): 1}),
        10: Counter({(1, (7,)): 1}),
        15: Counter({(-1, (1,)): 1, (-1, (5,)): 1, (1, (12,)): 1}),
        20: Counter({(-1, (7,)): 1}),
        25: Counter({(-1, (12,)): 1}),
    }


def test_slide_window_snapshot_between_boundaries() -> None:
    b = PlanBuilder()
    b.range(b.source("S", "A"), 10, slide=5)
    ex = Executor(b.plan())
    ex.push("S", 6, ins(6))
    ex.advance(9)
    assert ex.snapshot() == []  # still the window of boundary 5
    ex.advance(10)
    assert ex.snapshot() == [(6,)]


def test_rows_window_ties_by_value_not_arrival() -> None:
    # docs/cql.md, "Ties in a ROWS window": the tuples of one instant enter in
    # ascending order of their values, whatever order they arrive in
    b = PlanBuilder()
    b.window(b.source("S", "A"), "rows", rows=2)
    got = by_instant(run(b.plan(), [("S", 1, ins(1), []), ("S", 2, ins(4, 2, 3), []),
                                    ("S", 3, ins(5), [])], 10))
    assert got == {
        1: Counter({(1, (1,)): 1}),
        2: Counter({(-1, (1,)): 1, (1, (3,)): 1, (1, (4,)): 1}),
        3: Counter({(-1, (3,)): 1, (1, (5,)): 1}),
    }


def _partition_rows(n: int, slide: int | None = None, derived: bool = False) -> dict[str, Any]:
    b = PlanBuilder()
    s = b.source("S", "K", "V")
    if derived:  # a derived stream: ISTREAM of the source's rows at their instant
        s = b.to_stream("istream", b.window(s, "now"))
    b.window(s, "partition", partition_by=[0], rows=n, slide_rows=slide)
    return b.plan()


def _windows_after(plan: dict[str, Any], instants: list[list[tuple[Any, ...]]]) -> list[Any]:
    ex = Executor(plan)
    out = []
    for t, rows in enumerate(instants, 1):
        ex.push("S", t, rows)
        ex.advance(t)
        out.append(sorted(ex.snapshot(), key=repr))
    return out


@pytest.mark.parametrize("derived", [False, True])
def test_partition_rows_window_keeps_the_greatest_of_more_than_n_ties(derived: bool) -> None:
    # q6's case (issue 12): more than N rows of one key at one instant; the window keeps
    # the N greatest by value (NULL first, so it leaves first), in every arrival order
    rows = [(1, 30), (2, 5), (1, None), (1, 10), (1, 40), (1, 20)]
    expected = [[(1, 20), (1, 30), (1, 40), (2, 5)]]
    for order in (rows, rows[::-1], sorted(rows, key=repr)):
        assert _windows_after(_partition_rows(3, derived=derived), [order]) == expected


def test_rows_window_ties_of_an_instant_leave_in_value_order() -> None:
    # fewer ties than N: all enter, and a later row pushes out the smallest of them
    plan = _partition_rows(2)
    for first in ([(1, 30), (1, 10)], [(1, 10), (1, 30)]):
        assert _windows_after(plan, [first, [(1, 0)]])[-1] == [(1, 0), (1, 30)]


def test_rows_slide_window_counts_an_instants_ties_in_value_order() -> None:
    # ROWS 2 SLIDE 2: of three at one instant, the first two by value complete the slide
    plan = _partition_rows(2, slide=2)
    for arrival in ([(1, 9), (1, 7), (1, 8)], [(1, 8), (1, 9), (1, 7)]):
        assert _windows_after(plan, [arrival, [(1, 1)]]) == [
            [(1, 7), (1, 8)], [(1, 1), (1, 9)]]


def test_rows_window_orders_values_without_an_order_by_their_text() -> None:
    from pycql.runtime.operators import in_value_order

    rows = [({"b": 1},), ({"a": 2},), (None,)]
    assert in_value_order(rows) == in_value_order(rows[::-1]) == [
        (None,), ({"a": 2},), ({"b": 1},)]
    nan = float("nan")
    assert in_value_order([(nan,), (2.0,), (None,), (1.0,)])[:3] == [(None,), (1.0,), (2.0,)]


def test_partition_window() -> None:
    b = PlanBuilder()
    b.window(b.source("S", "K", "V"), "partition", partition_by=[0], rows=1)
    ex = Executor(b.plan())
    ex.push("S", 1, [(1, 10), (2, 20)])
    ex.push("S", 2, [(1, 11)])
    ex.advance(5)
    assert sorted(ex.snapshot()) == [(1, 11), (2, 20)]


def test_rows_slide_window_moves_every_m_arrivals() -> None:
    b = PlanBuilder()
    b.window(b.source("S", "A"), "rows", rows=3, slide_rows=2)
    ex = Executor(b.plan())
    snapshots = []
    for t, rows in [(1, [(1,)]), (2, [(2,)]), (3, [(3,)]), (4, [(4,), (5,), (6,)])]:
        ex.push("S", t, rows)
        ex.advance(t)
        snapshots.append(sorted(ex.snapshot()))
    # 1 arrival: nothing; 2: the first two; 3: unchanged; 6: the last 3 of all 6
    assert snapshots == [[], [(1,), (2,)], [(1,), (2,)], [(4,), (5,), (6,)]]


def _session_operator() -> Any:
    from pycql.runtime.operators import make_window

    b = PlanBuilder()
    w = b.window(b.source("S", "K", "V"), "session", partition_by=[0], gap_ms=4)
    plan = b.plan()
    ops = {op["id"]: op for op in plan["operators"]}
    return make_window(ops[w], [ops[i] for i in ops[w]["inputs"]], [])


def test_a_session_closes_at_last_plus_gap_and_a_tuple_exactly_then_opens_the_next() -> None:
    op = _session_operator()
    assert op.step(1, [[(1, 10)]]) == [((1, 10), 1)]
    assert op.step(3, [[(1, 11), (2, 20)]]) == [((1, 11), 1), ((2, 20), 1)]
    assert op.next_timer() == 7  # the entry of the bid at 1 (close 5) is stale
    # k=1 at 7 = 3 + 4: its session has closed, the tuple opens the next one
    assert op.step(7, [[(1, 12)]]) == [((1, 10), -1), ((1, 11), -1), ((2, 20), -1),
                                        ((1, 12), 1)]
    assert op.next_timer() == 11


def test_a_session_window_restored_from_its_state_closes_on_time() -> None:
    op = _session_operator()
    op.step(1, [[(1, 10)]])
    op.step(2, [[(2, 20)]])
    op.step(4, [[(1, 11)]])
    again = _session_operator()
    again.load(orjson.loads(orjson.dumps(op.state())))
    assert again.next_timer() == 6
    assert again.step(6, [None]) == [((2, 20), -1)]
    assert again.next_timer() == 8
    assert again.step(8, [None]) == [((1, 10), -1), ((1, 11), -1)]
    assert again.next_timer() is None


# --- relation to stream ----------------------------------------------------------


def test_istream_cancels_insert_and_delete_in_one_instant() -> None:
    b = PlanBuilder()
    b.to_stream("istream", b.source("R", "A", table=True))
    got = run(b.plan(), [("R", 1, ins(1, 2), []), ("R", 2, ins(1, 3), ins(1))], 10)
    assert got == [(1, 1, (1,)), (1, 1, (2,)), (2, 1, (3,))]


def test_dstream_emits_deletions() -> None:
    b = PlanBuilder()
    w = b.range(b.source("S", "A"), 3)
    b.to_stream("dstream", w)
    got = run(b.plan(), [("S", 1, ins(1), []), ("S", 2, ins(2), [])], 10)
    assert got == [(4, 1, (1,)), (5, 1, (2,))]


def test_rstream_only_at_advancing_instants() -> None:
    b = PlanBuilder()
    w = b.range(b.source("S", "A"), 5)
    b.to_stream("rstream", w)
    got = run(b.plan(), [("S", 1, ins(1), []), ("S", 3, ins(3), [])], 100)
    # instants: 1 and 3 (input), 6 and 8 (expiries); nothing at 2, 4, 5, 7, 9...
    assert got == [(1, 1, (1,)), (3, 1, (1,)), (3, 1, (3,)), (6, 1, (3,))]


def test_stream_filter_is_stateless_select_project() -> None:
    b = PlanBuilder()
    s = b.source("S", "A", "B")
    b.stream_filter(s, call(">", col(1), lit(65)), col(0),
                    call("*", col(1), lit(2), type_="INTEGER"))
    got = run(b.plan(), [("S", 1, [(1, 70), (2, 60), (3, None)], [])], 1)
    assert got == [(1, 1, (1, 140))]


# --- aggregates ---------------------------------------------------------------------


def test_global_count_and_sum_over_empty_input() -> None:
    b = PlanBuilder()
    w = b.range(b.source("S", "A"), 10)
    b.aggregate(w, [], agg("COUNT"), agg("SUM", 0, type_="INTEGER"))
    ex = Executor(b.plan())
    assert ex.snapshot() == [(0, None)]
    ex.push("S", 1, ins(4, 5))
    assert ex.advance(1) == [Emission(1, -1, (0, None)), Emission(1, 1, (2, 9))]
    assert ex.advance(11) == [Emission(11, -1, (2, 9)), Emission(11, 1, (0, None))]
    assert ex.snapshot() == [(0, None)]


def test_min_max_stay_right_when_the_extreme_leaves() -> None:
    b = PlanBuilder()
    r = b.source("R", "K", "V", table=True)
    b.aggregate(r, [0], agg("MIN", 1, type_="INTEGER"), agg("MAX", 1, type_="INTEGER"))
    ex = Executor(b.plan())
    ex.push("R", 1, [(1, 5), (1, 3), (1, 3), (1, 9)])
    ex.advance(1)
    assert ex.snapshot() == [(1, 3, 9)]
    ex.push("R", 2, [], [(1, 3), (1, 9)])
    ex.advance(2)
    assert ex.snapshot() == [(1, 3, 5)]  # one 3 is left
    ex.push("R", 3, [], [(1, 3)])
    ex.advance(3)
    assert ex.snapshot() == [(1, 5, 5)]
    ex.push("R", 4, [], [(1, 5)])
    assert ex.advance(4) == [Emission(4, -1, (1, 5, 5))]  # the group is gone
    assert ex.snapshot() == []


def test_count_sum_avg_distinct_with_nulls() -> None:
    b = PlanBuilder()
    r = b.source("R", "K", "V", table=True)
    b.aggregate(r, [0], agg("COUNT"), agg("COUNT", 1), agg("SUM", 1, type_="INTEGER"),
                agg("AVG", 1, type_="INTEGER"), agg("COUNT", 1, distinct=True),
                agg("SUM0", 1, type_="INTEGER"), agg("AVG", 1, type_="DOUBLE"))
    ex = Executor(b.plan())
    ex.push("R", 1, [(1, None), (1, 2), (1, 2), (1, 3), (2, None)])
    ex.advance(1)
    assert sorted(ex.snapshot()) == [(1, 4, 3, 7, 2, 2, 7, 7 / 3), (2, 1, 0, None, None, 0, 0,
                                                                      None)]


def test_distinct_via_aggregate_without_aggs() -> None:
    b = PlanBuilder()
    r = b.source("R", "A", table=True)
    b.aggregate(r, [0])
    b.to_stream("istream", len(b.ops) - 1)
    got = run(b.plan(), [("R", 1, ins(1, 1, 2), []), ("R", 2, ins(1), ins(2))], 5)
    assert got == [(1, 1, (1,)), (1, 1, (2,))]


def test_sum_with_deletes_of_all_values_is_null_again() -> None:
    b = PlanBuilder()
    r = b.source("R", "A", table=True)
    b.aggregate(r, [], agg("SUM", 0, type_="DOUBLE"))
    ex = Executor(b.plan())
    ex.push("R", 1, ins(0.1, 0.2))
    ex.push("R", 2, [], ins(0.1, 0.2))
    ex.advance(2)
    assert ex.snapshot() == [(None,)]


# --- joins ---------------------------------------------------------------------------


def _join_plan(join_type: str, residual: Any = None) -> dict[str, Any]:
    b = PlanBuilder()
    left = b.source("L", "K", "X", table=True)
    right = b.source("R", "K", "Y", table=True)
    b.join(left, right, join_type, [0], [0], residual=residual)
    return b.plan()


def _snap(ex: Executor) -> list[Any]:
    return sorted(ex.snapshot(), key=repr)


def test_inner_equi_join_incremental() -> None:
    ex = Executor(_join_plan("inner"))
    ex.push("L", 1, [(1, "a"), (2, "b"), (None, "n")])
    ex.push("R", 1, [(1, "x"), (1, "y"), (None, "m")])
    ex.advance(1)
    assert _snap(ex) == [(1, "a", 1, "x"), (1, "a", 1, "y")]
    ex.push("R", 2, [(2, "z")], [(1, "x")])
    ex.push("L", 2, [(1, "c")])
    got = Counter((e.sign, e.row) for e in ex.advance(2))
    assert got == Counter({(-1, (1, "a", 1, "x")): 1, (1, (2, "b", 2, "z")): 1,
                           (1, (1, "c", 1, "y")): 1})


def test_left_join_pads_and_unpads() -> None:
    ex = Executor(_join_plan("left"))
    ex.push("L", 1, [(1, "a"), (1, "a")])
    assert [(e.sign, e.row) for e in ex.advance(1)] == [(1, (1, "a", None, None))] * 2
    ex.push("R", 2, [(1, "x")])
    got = Counter((e.sign, e.row) for e in ex.advance(2))
    assert got == Counter({(-1, (1, "a", None, None)): 2, (1, (1, "a", 1, "x")): 2})
    ex.push("R", 3, [], [(1, "x")])
    ex.advance(3)
    assert _snap(ex) == [(1, "a", None, None)] * 2


def test_full_join_both_sides() -> None:
    ex = Executor(_join_plan("full"))
    ex.push("L", 1, [(1, "a"), (2, "b")])
    ex.push("R", 1, [(2, "y"), (3, "z")])
    ex.advance(1)
    assert _snap(ex) == sorted([(1, "a", None, None), (2, "b", 2, "y"), (None, None, 3, "z")],
                               key=repr)
    ex.push("L", 2, [(3, "c")], [(2, "b")])
    ex.advance(2)
    assert _snap(ex) == sorted([(1, "a", None, None), (None, None, 2, "y"), (3, "c", 3, "z")],
                               key=repr)


def test_right_join_with_residual() -> None:
    residual = call("<", col(1, "INTEGER"), col(3, "INTEGER"))
    b = PlanBuilder()
    left = b.source("L", "K", "X", table=True)
    right = b.source("R", "K", "Y", table=True)
    b.join(left, right, "right", [0], [0], residual=residual)
    ex = Executor(b.plan())
    ex.push("R", 1, [(1, 5)])
    ex.push("L", 1, [(1, 9)])
    ex.advance(1)
    assert _snap(ex) == [(None, None, 1, 5)]
    ex.push("L", 2, [(1, 2)])
    ex.advance(2)
    assert _snap(ex) == [(1, 2, 1, 5)]


def test_semi_and_anti_join() -> None:
    for jt, expected in (("semi", [(1, "a")]), ("anti", [(2, "b")])):
        ex = Executor(_join_plan(jt))
        ex.push("L", 1, [(1, "a"), (2, "b")])
        ex.push("R", 1, [(1, "x"), (1, "y")])
        ex.advance(1)
        assert _snap(ex) == expected, jt
        ex.push("R", 2, [], [(1, "x"), (1, "y")])
        ex.advance(2)
        assert _snap(ex) == ([] if jt == "semi" else [(1, "a"), (2, "b")]), jt


def test_theta_join_nested_loop() -> None:
    b = PlanBuilder()
    left = b.source("L", "A", table=True)
    right = b.source("R", "B", table=True)
    b.join(left, right, "inner", condition=call("<", col(0), col(1)))
    ex = Executor(b.plan())
    ex.push("L", 1, ins(1, 5))
    ex.push("R", 1, ins(3, 6))
    ex.advance(1)
    assert sorted(ex.snapshot()) == [(1, 3), (1, 6), (5, 6)]


def test_lookup_join_sees_the_relation_as_of_the_instant() -> None:
    b = PlanBuilder()
    s = b.source("S", "K", "V")
    r = b.source("R", "K", "NAME", table=True)
    b.join(s, r, "left", [0], [0], lookup=True)
    ex = Executor(b.plan())
    ex.push("R", 1, [(1, "one")])
    ex.push("S", 2, [(1, 10), (2, 20)])
    ex.push("R", 3, [(2, "two")])
    ex.push("S", 3, [(2, 21)])
    got = [(e.timestamp, e.row) for e in ex.advance(3)]
    assert got == [(2, (1, 10, 1, "one")), (2, (2, 20, None, None)), (3, (2, 21, 2, "two"))]


# --- set operations, values, sort ---------------------------------------------------


@pytest.mark.parametrize(
    ("op", "all_", "expected"),
    [("union", True, [1, 1, 1, 2, 3]), ("union", False, [1, 2, 3]),
     ("minus", True, [1, 2]), ("minus", False, [2]),
     ("intersect", True, [1]), ("intersect", False, [1])],
)
def test_set_operations_bag_semantics(op: str, all_: bool, expected: list[int]) -> None:
    b = PlanBuilder()
    left = b.source("L", "A", table=True)
    right = b.source("R", "A", table=True)
    b.setop(op, left, right, all=all_)
    ex = Executor(b.plan())
    ex.push("L", 1, ins(1, 1, 2))
    ex.push("R", 1, ins(1, 3))
    ex.advance(1)
    assert sorted(ex.snapshot()) == [(v,) for v in expected]


def test_values_is_a_constant_relation() -> None:
    b = PlanBuilder()
    v = b.values((1, 2), (3, 4))
    b.filter(v, call(">", col(0), lit(1)))
    ex = Executor(b.plan())
    assert ex.snapshot() == [(3, 4)]
    assert ex.advance(100) == []


def test_sort_top_n() -> None:
    b = PlanBuilder()
    r = b.source("R", "A", "B", table=True)
    b.sort(r, [{"field": 1, "direction": "DESC", "nulls": "LAST"}], fetch=2)
    ex = Executor(b.plan())
    ex.push("R", 1, [(1, 10), (2, 30), (3, None), (4, 20)])
    ex.advance(1)
    assert ex.snapshot() == [(2, 30), (4, 20)]
    ex.push("R", 2, [(5, 25)], [(2, 30)])
    got = Counter((e.sign, e.row) for e in ex.advance(2))
    assert got == Counter({(-1, (2, 30)): 1, (1, (5, 25)): 1})
    assert ex.snapshot() == [(5, 25), (4, 20)]


def test_sort_orders_snapshot_nulls_first() -> None:
    b = PlanBuilder()
    r = b.source("R", "A", "B", table=True)
    b.sort(r, [{"field": 0, "direction": "ASC", "nulls": "FIRST"},
               {"field": 1, "direction": "DESC", "nulls": "LAST"}])
    ex = Executor(b.plan())
    ex.push("R", 1, [(2, 1), (1, 1), (None, 5), (1, 3)])
    ex.advance(1)
    assert ex.snapshot() == [(None, 5), (1, 3), (1, 1), (2, 1)]


# --- the executor's contract ----------------------------------------------------------


def test_an_instant_is_atomic_across_sources() -> None:
    # ISTREAM(L JOIN R): both sides at the same instant meet in that instant
    b = PlanBuilder()
    left = b.source("L", "K", table=True)
    right = b.source("R", "K", table=True)
    j = b.join(left, right, "inner", [0], [0])
    b.to_stream("istream", j)
    ex = Executor(b.plan())
    ex.push("R", 5, ins(1))
    ex.push("L", 5, ins(1))
    ex.push("L", 5, ins(1))  # pushes accumulate
    assert ex.advance(5) == [Emission(5, 1, (1, 1)), Emission(5, 1, (1, 1))]


def test_push_into_a_closed_instant_is_refused() -> None:
    b = PlanBuilder()
    b.range(b.source("S", "A"), 10)
    ex = Executor(b.plan())
    ex.advance(5)
    with pytest.raises(ValueError, match="closed"):
        ex.push("S", 5, ins(1))
    with pytest.raises(ValueError, match="inserts only"):
        ex.push("S", 6, [], ins(1))
    assert ex.sources == ["S"] and ex.result_kind == "relation"
    b2 = PlanBuilder()
    b2.to_stream("istream", b2.source("R", "A", table=True))
    with pytest.raises(InterfaceError):
        Executor(b2.plan()).snapshot()


def test_data_errors_surface_clearly() -> None:
    b = PlanBuilder()
    s = b.source("S", "A")
    b.stream_filter(s, None, call("/", lit(1), col(0), type_="INTEGER"))
    ex = Executor(b.plan(), on_error="fail")
    ex.push("S", 1, ins(0))
    with pytest.raises(DataError, match=r"division by zero \(operator 1: stream_filter"):
        ex.advance(1)


def _complex_plan() -> dict[str, Any]:
    b = PlanBuilder()
    s = b.source("S", "K", "V")
    r = b.source("R", "K", "NAME", table=True)
    w = b.range(s, 10, slide=5)
    rows = b.window(s, "partition", partition_by=[0], rows=2)
    a = b.aggregate(w, [0], agg("COUNT"), agg("MAX", 1, type_="INTEGER"),
                    agg("COUNT", 1, distinct=True))
    j = b.join(a, r, "full", [0], [0])
    u = b.setop("union", b.project(rows, col(0)), b.project(j, col(0)), all=False)
    b.to_stream("rstream", u)
    return b.plan()


def test_state_round_trip_matches_an_uninterrupted_run() -> None:
    plan = _complex_plan()
    events: list[Event] = [("S", t, [(t % 3, t * 7 % 11)], []) for t in range(1, 40, 2)]
    events += [("R", 4, [(0, "zero"), (1, "one")], []), ("R", 17, [], [(1, "one")]),
               ("R", 23, [(2, "two")], [])]
    events.sort(key=lambda e: e[1])
    whole = Executor(plan)
    for e in events:
        whole.push(*e)
    expected = whole.advance(60)

    first = Executor(plan)
    for e in events:
        first.push(*e)
    got = first.advance(20)
    blob = orjson.dumps(first.state())  # serializable with orjson
    second = Executor.restore(plan, orjson.loads(blob))
    got += second.advance(60)
    assert got == expected
    assert len(expected) > 20
    assert second.state() == whole.state()


def test_restore_refuses_state_of_another_plan() -> None:
    plan = _complex_plan()
    state = Executor(plan).state()
    other = PlanBuilder()
    other.range(other.source("S", "A"), 10)
    with pytest.raises(Exception, match="different plan"):
        Executor.restore(other.plan(), state)


def test_filter_and_project_over_a_stream_before_its_window() -> None:
    # the planner pushes filters/projects below windows: source -> filter -> project -> window
    b = PlanBuilder()
    s = b.source("S", "A", "B")
    f = b.filter(s, call(">", col(1), lit(65)))
    b.ops[f]["output"] = "stream"
    p = b.project(f, col(0))
    b.ops[p]["output"] = "stream"
    b.to_stream("istream", b.range(p, 10))
    got = run(b.plan(), [("S", 1, [(1, 70), (2, 60)], []), ("S", 2, [(3, 99)], [])], 20)
    assert got == [(1, 1, (1,)), (2, 1, (3,))]


def test_self_join_reads_one_operator_twice() -> None:
    b = PlanBuilder()
    w = b.window(b.source("S", "A", "B"), "unbounded")
    j = b.join(w, w, "inner", [0], [0])
    b.to_stream("istream", j)
    got = by_instant(run(b.plan(), [("S", 1, [(1, "x")], []), ("S", 2, [(1, "y")], [])], 5))
    assert got == {
        1: Counter({(1, (1, "x", 1, "x")): 1}),
        2: Counter({(1, (1, "x", 1, "y")): 1, (1, (1, "y", 1, "x")): 1,
                    (1, (1, "y", 1, "y")): 1}),
    }
