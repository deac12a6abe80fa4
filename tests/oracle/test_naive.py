"""Hand-checked cases for the naive CQL evaluator (expected values worked out by hand)."""

from __future__ import annotations

from collections import Counter

import pytest

from tests.oracle.naive import NaiveEvaluator, cast_value, evaluate_expr, int_div, int_mod
from tests.oracle.plans import PlanBuilder, agg, call, col, lit


def bag(*rows: tuple[object, ...]) -> Counter[tuple[object, ...]]:
    return Counter(rows)


# ---- windows --------------------------------------------------------------


def test_range_window_contents_and_expiry_instants() -> None:
    b = PlanBuilder()
    w = b.window(b.source("S", ["A"]), kind="range", range_ms=10, slide_ms=None)
    ev = NaiveEvaluator(b.build(w), {"S": [(1, (1,)), (5, (2,)), (5, (3,)), (11, (4,))]})
    assert ev.instants() == [1, 5, 11, 15, 21]
    assert ev.relation_at(0) == bag()
    assert ev.relation_at(10) == bag((1,), (2,), (3,))
    # at tau = t + T the element has left: tau - T < t fails for t = 1, tau = 11
    assert ev.relation_at(11) == bag((2,), (3,), (4,))
    assert ev.relation_at(14) == bag((2,), (3,), (4,))
    assert ev.relation_at(15) == bag((4,))
    assert ev.relation_at(21) == bag()


def test_range_slide_window_changes_only_at_multiples_of_the_slide() -> None:
    b = PlanBuilder()
    w = b.window(b.source("S", ["A"]), kind="range", range_ms=10, slide_ms=5)
    ev = NaiveEvaluator(b.build(w), {"S": [(1, (1,)), (7, (2,)), (10, (3,))]})
    # entries at the next multiple of 5 at or after t; exits at the multiple at or after t + 10
    assert ev.instants() == [5, 10, 15, 20]
    assert ev.relation_at(4) == bag()
    assert ev.relation_at(5) == bag((1,))
    assert ev.relation_at(9) == bag((1,))
    assert ev.relation_at(10) == bag((1,), (2,), (3,))
    assert ev.relation_at(14) == bag((1,), (2,), (3,))
    # window at 15: 5 < t <= 15
    assert ev.relation_at(15) == bag((2,), (3,))
    # window at 20: 10 < t <= 20
    assert ev.relation_at(20) == bag()


def test_now_window_and_istream_dstream() -> None:
    b = PlanBuilder()
    w = b.window(b.source("S", ["A"]), kind="now")
    inputs = {"S": [(1, (1,)), (1, (1,)), (2, (2,)), (4, (1,))]}
    ev = NaiveEvaluator(b.build(w), inputs)
    assert ev.instants() == [1, 2, 3, 4, 5]
    assert ev.relation_at(1) == bag((1,), (1,))
    assert ev.relation_at(3) == bag()
    b2 = PlanBuilder()
    w2 = b2.window(b2.source("S", ["A"]), kind="now")
    ist = NaiveEvaluator(b2.build(b2.istream(w2)), inputs)
    assert ist.result() == {1: bag((1,), (1,)), 2: bag((2,)), 4: bag((1,))}
    b3 = PlanBuilder()
    w3 = b3.window(b3.source("S", ["A"]), kind="now")
    dst = NaiveEvaluator(b3.build(b3.dstream(w3)), inputs)
    assert dst.result() == {2: bag((1,), (1,)), 3: bag((2,)), 5: bag((1,))}


def test_rows_window_breaks_timestamp_ties_by_value() -> None:
    b = PlanBuilder()
    w = b.window(b.source("S", ["A"]), kind="rows", rows=2)
    ev = NaiveEvaluator(b.build(w), {"S": [(1, (10,)), (2, (40,)), (2, (20,)), (2, (30,))]})
    assert ev.relation_at(1) == bag((10,))
    assert ev.relation_at(2) == bag((30,), (40,))
    bp = PlanBuilder()
    wp = bp.window(bp.source("S", ["K", "A"]), kind="partition", partition_by=[0], rows=2)
    ties = [(1, (1, 5)), (1, (1, None)), (1, (2, 0)), (1, (1, 7)), (1, (1, 6))]
    for order in (ties, ties[::-1]):
        ev = NaiveEvaluator(bp.build(wp), {"S": order})
        assert ev.relation_at(1) == bag((1, 6), (1, 7), (2, 0))
    b0 = PlanBuilder()
    w0 = b0.window(b0.source("S", ["A"]), kind="rows", rows=0)
    assert NaiveEvaluator(b0.build(w0), {"S": [(1, (1,))]}).relation_at(1) == bag()


def test_partition_window_keeps_last_n_per_key() -> None:
    b = PlanBuilder()
    w = b.window(b.source("S", ["G", "A"]), kind="partition", partition_by=[0], rows=1)
    ev = NaiveEvaluator(
        b.build(b.istream(w)), {"S": [(1, (1, 1)), (2, (2, 1)), (3, (1, 2)), (3, (1, 3))]}
    )
    assert ev.result() == {1: bag((1, 1)), 2: bag((2, 1)), 3: bag((1, 3))}
    assert ev.relation_at(3, w) == bag((2, 1), (1, 3))


def test_unbounded_window_over_a_derived_stream() -> None:
    # ISTREAM of a NOW window is the stream again; an UNBOUNDED window over it collects all
    b = PlanBuilder()
    ist = b.istream(b.window(b.source("S", ["A"]), kind="now"))
    w = b.window(ist, kind="unbounded")
    ev = NaiveEvaluator(b.build(w), {"S": [(1, (1,)), (3, (3,)), (3, (3,))]})
    assert ev.relation_at(2) == bag((1,))
    assert ev.relation_at(3) == bag((1,), (3,), (3,))


# ---- relation operators ------------------------------------------------------


def test_group_by_aggregates_with_nulls_distinct_and_integer_avg() -> None:
    b = PlanBuilder()
    w = b.window(b.source("S", ["G", "A"]), kind="unbounded")
    a = b.aggregate(
        w,
        [0],
        [
            agg("COUNT", type_="BIGINT"),
            agg("COUNT", 1, type_="BIGINT"),
            agg("SUM", 1),
            agg("AVG", 1),
            agg("MIN", 1),
            agg("MAX", 1),
            agg("COUNT", 1, distinct=True, type_="BIGINT"),
            agg("AVG", 1, type_="DOUBLE"),
        ],
    )
    rows = [(1, (1, 3)), (1, (1, 4)), (1, (1, 4)), (1, (1, None)), (1, (2, None)), (1, (3, -7))]
    ev = NaiveEvaluator(b.build(a), {"S": rows})
    assert ev.relation_at(1) == bag(
        (1, 4, 3, 11, 3, 3, 4, 2, 11 / 3),
        (2, 1, 0, None, None, None, None, 0, None),
        (3, 1, 1, -7, -7, -7, -7, 1, -7.0),
    )


def test_global_aggregate_has_one_row_over_nothing_and_group_by_has_none() -> None:
    b = PlanBuilder()
    w = b.window(b.source("S", ["A"]), kind="now")
    g = b.aggregate(w, [], [agg("COUNT", type_="BIGINT"), agg("SUM", 0), agg("SUM0", 0)])
    ev = NaiveEvaluator(b.build(g), {"S": [(1, (5,))]})
    assert ev.relation_at(1) == bag((1, 5, 5))
    assert ev.relation_at(2) == bag((0, None, 0))
    b2 = PlanBuilder()
    w2 = b2.window(b2.source("S", ["A"]), kind="now")
    d = b2.aggregate(w2, [0], [])  # DISTINCT
    ev2 = NaiveEvaluator(b2.build(d), {"S": [(1, (5,)), (1, (5,)), (1, (6,))]})
    assert ev2.relation_at(1) == bag((5,), (6,))
    assert ev2.relation_at(2) == bag()


def test_istream_of_a_global_aggregate_starts_from_the_empty_relation() -> None:
    b = PlanBuilder()
    w = b.window(b.source("S", ["A"]), kind="now")
    g = b.aggregate(w, [], [agg("COUNT", type_="BIGINT")])
    ev = NaiveEvaluator(b.build(b.istream(g)), {"S": [(3, (5,)), (3, (6,))]})
    assert ev.result() == {3: bag((2,)), 4: bag((0,))}


def test_inner_join_multiplies_bag_counts_and_theta_join() -> None:
    b = PlanBuilder()
    left = b.window(b.source("L", ["A"]), kind="unbounded")
    right = b.window(b.source("R", ["B"]), kind="unbounded")
    j = b.join(left, right, "inner", call("<", col(0), col(1), type_="BOOLEAN"))
    ev = NaiveEvaluator(
        b.build(j), {"L": [(1, (1,)), (1, (1,)), (1, (5,))], "R": [(1, (3,)), (1, (3,))]}
    )
    assert ev.relation_at(1) == Counter({(1, 3): 4})


def test_left_join_pads_unmatched_rows_and_null_keys_never_match() -> None:
    b = PlanBuilder()
    left = b.window(b.source("L", ["A"]), kind="unbounded")
    right = b.window(b.source("R", ["B", "C"]), kind="unbounded")
    j = b.join(left, right, "left", call("=", col(0), col(1), type_="BOOLEAN"))
    ev = NaiveEvaluator(
        b.build(j),
        {"L": [(1, (1,)), (1, (None,)), (1, (2,))], "R": [(1, (1, 10)), (1, (None, 20))]},
    )
    assert ev.relation_at(1) == bag((1, 1, 10), (None, None, None), (2, None, None))


def test_set_operations_all_and_distinct() -> None:
    def run(op: str, all_: bool) -> Counter[tuple[object, ...]]:
        b = PlanBuilder()
        x = b.window(b.source("X", ["A"]), kind="unbounded")
        y = b.window(b.source("Y", ["A"]), kind="unbounded")
        s = b.setop(op, [x, y], all_)
        xs = [(1, (1,)), (1, (1,)), (1, (1,)), (1, (2,)), (1, (3,))]
        ys = [(1, (1,)), (1, (3,)), (1, (3,)), (1, (4,))]
        return NaiveEvaluator(b.build(s), {"X": xs, "Y": ys}).relation_at(1)

    assert run("union", True) == Counter({(1,): 4, (2,): 1, (3,): 3, (4,): 1})
    assert run("union", False) == bag((1,), (2,), (3,), (4,))
    assert run("minus", True) == Counter({(1,): 2, (2,): 1})
    assert run("minus", False) == bag((2,))
    assert run("intersect", True) == bag((1,), (3,))
    assert run("intersect", False) == bag((1,), (3,))


def test_table_source_applies_inserts_and_deletes_and_lookup_join() -> None:
    b = PlanBuilder()
    s = b.source("S", ["K"])
    r = b.source("R", ["K", "V"], kind="table")
    j = b.join(s, r, "inner", call("=", col(0), col(1), type_="BOOLEAN"), op="lookup_join")
    table = [(1, 1, (1, "a")), (3, -1, (1, "a")), (3, 1, (1, "b")), (3, 1, (2, "c"))]
    ev = NaiveEvaluator(b.build(j), {"S": [(1, (1,)), (2, (1,)), (3, (1,)), (3, (2,))], "R": table})
    assert ev.relation_at(2, r) == bag((1, "a"))
    assert ev.result() == {
        1: bag((1, 1, "a")),
        2: bag((1, 1, "a")),
        3: bag((1, 1, "b"), (2, 2, "c")),
    }
    with pytest.raises(ValueError):
        NaiveEvaluator(b.build(r), {"R": [(1, -1, (1, "a"))]}).relation_at(1)


def test_istream_of_now_drops_a_repeat_at_the_next_tick() -> None:
    # the classic CQL subtlety: R(2) = R(1) = {(1,)}, so nothing is inserted at 2
    b = PlanBuilder()
    w = b.window(b.source("S", ["A"]), kind="now")
    ev = NaiveEvaluator(b.build(b.istream(w)), {"S": [(1, (1,)), (2, (1,)), (4, (1,))]})
    assert ev.result() == {1: bag((1,)), 4: bag((1,))}


def test_rstream_emits_the_whole_relation_at_each_instant_of_interest() -> None:
    b = PlanBuilder()
    w = b.window(b.source("S", ["A"]), kind="rows", rows=2)
    ev = NaiveEvaluator(b.build(b.rstream(w)), {"S": [(1, (1,)), (2, (2,)), (4, (3,))]})
    assert ev.result() == {1: bag((1,)), 2: bag((1,), (2,)), 4: bag((2,), (3,))}


def test_stream_filter_filters_and_projects_each_element() -> None:
    b = PlanBuilder()
    s = b.source("S", ["A"])
    even = call("=", call("*", call("/", col(0), lit(2)), lit(2)), col(0), type_="BOOLEAN")
    f = b.stream_filter(s, even, [call("/", col(0), lit(2)), col(0)])
    ev = NaiveEvaluator(b.build(f), {"S": [(1, (1,)), (2, (2,)), (2, (-4,)), (3, (None,))]})
    assert ev.result() == {2: bag((1, 2), (-2, -4))}


# ---- expressions -------------------------------------------------------------


def test_three_valued_logic() -> None:
    t, f, n = lit(True, "BOOLEAN"), lit(False, "BOOLEAN"), lit(None, "BOOLEAN")

    def ev(e: dict[str, object]) -> object:
        return evaluate_expr(e, ())

    assert ev(call("AND", n, f, type_="BOOLEAN")) is False
    assert ev(call("AND", n, t, type_="BOOLEAN")) is None
    assert ev(call("OR", n, t, type_="BOOLEAN")) is True
    assert ev(call("OR", n, f, type_="BOOLEAN")) is None
    assert ev(call("NOT", n, type_="BOOLEAN")) is None
    assert ev(call("=", lit(None), lit(1), type_="BOOLEAN")) is None
    assert ev(call("IS NULL", lit(None), type_="BOOLEAN")) is True
    assert ev(call("IS NOT TRUE", n, type_="BOOLEAN", sqlkind="IS_NOT_TRUE")) is True
    assert ev(call("+", lit(1), lit(None))) is None


def test_case_coalesce_and_arithmetic() -> None:
    row = (None, 7)
    case = call(
        "CASE",
        call(">", col(1), lit(5), type_="BOOLEAN"),
        lit(1),
        call("IS NULL", col(0), type_="BOOLEAN"),
        lit(2),
        lit(3),
    )
    assert evaluate_expr(case, row) == 1
    assert evaluate_expr(case, (None, 5)) == 2
    assert evaluate_expr(case, (0, 5)) == 3
    no_else = call("CASE", call(">", col(1), lit(5), type_="BOOLEAN"), lit(1))
    assert evaluate_expr(no_else, (0, 1)) is None
    assert evaluate_expr(call("COALESCE", col(0), col(1)), row) == 7
    assert evaluate_expr(call("-", col(1), sqlkind="MINUS_PREFIX"), row) == -7
    assert evaluate_expr(call("MOD", lit(-7), lit(3), sqlkind="MOD"), ()) == -1
    assert evaluate_expr(call("/", lit(7.0, "DOUBLE"), lit(2), type_="DOUBLE"), ()) == 3.5
    assert int_div(-1, 2) == 0 and int_mod(5, -3) == 2
    with pytest.raises(ZeroDivisionError):
        evaluate_expr(call("/", lit(1), lit(0)), ())


def test_casts_and_strings() -> None:
    assert cast_value(2.9, "INTEGER") == 2 and cast_value(-2.9, "INTEGER") == -2
    assert cast_value("ab", {"type": "CHAR", "precision": 4}) == "ab  "
    assert evaluate_expr(call("=", lit("ab"), lit("ab  "), type_="BOOLEAN"), ()) is True
    like = call("LIKE", lit("abc"), lit("a_c%"), type_="BOOLEAN")
    assert evaluate_expr(like, ()) is True
    up = call("UPPER", lit("aB"), type_="VARCHAR")
    assert evaluate_expr(up, ()) == "AB"


def test_replace_with_an_empty_pattern_and_logarithms() -> None:
    s = col(0, "VARCHAR")
    rep = call("REPLACE", s, lit("", "VARCHAR"), lit("x", "VARCHAR"), type_="VARCHAR")
    assert evaluate_expr(rep, ("fay",)) == "fay"
    rep = call("REPLACE", s, lit("a", "VARCHAR"), lit("", "VARCHAR"), type_="VARCHAR")
    assert evaluate_expr(rep, ("banana",)) == "bnn"
    ln = call("LN", col(0, "DOUBLE"), type_="DOUBLE")
    assert evaluate_expr(ln, (1.0,)) == 0.0
    with pytest.raises(ValueError):
        evaluate_expr(ln, (0.0,))


# ---- stream set operations and windows over derived streams ----------------


def test_union_all_of_streams_is_the_merge_of_each_instant() -> None:
    b = PlanBuilder()
    s1 = b.istream(b.window(b.source("S1", ["A"]), kind="now"))
    s2 = b.istream(b.window(b.source("S2", ["A"]), kind="now"))
    u = b.setop("union", [s1, s2], all_=True)
    plan = b.build(u)
    assert plan["operators"][u]["output"] == "stream"
    ev = NaiveEvaluator(plan, {"S1": [(1, (1,)), (3, (2,))], "S2": [(1, (1,)), (2, (5,))]})
    assert Counter(ev.stream_at(1)) == bag((1,), (1,))
    assert ev.stream_at(2) == [(5,)]
    assert ev.stream_at(3) == [(2,)]


def test_a_rows_window_over_an_rstream_sees_it_at_the_plan_instants() -> None:
    # RSTREAM(S [ROWS 1]) emits the last row at every instant of the plan (1 and 4 here);
    # [UNBOUNDED] over it accumulates those emissions: (7) at 1, then (7), (8) at 4
    b = PlanBuilder()
    r = b.rstream(b.window(b.source("S", ["A"]), kind="rows", rows=1))
    w = b.window(r, kind="unbounded")
    ev = NaiveEvaluator(b.build(w), {"S": [(1, (7,)), (4, (8,))]})
    assert ev.relation_at(1) == bag((7,))
    assert ev.relation_at(4) == bag((7,), (8,))
