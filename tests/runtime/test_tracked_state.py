"""Operators that track their changed keys: what they hand a job's commit
(``changed_pairs``), applied as a compacted changelog would keep it, puts back the
state the operator has, after any sequence of steps and saves; and the operator put
back goes on exactly as the one that never stopped."""

from __future__ import annotations

from collections import Counter
from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from pycql.runtime.operators import Operator, SlideWindow, build_operator
from pycql.runtime.state import encode_state, encode_values

INPUT = {"id": 0, "op": "source", "name": "S", "source_kind": "stream", "inputs": [],
         "output": "stream", "columns": [{"name": "A", "type": "INTEGER"}]}
WINDOWS = {
    "range": {"kind": "range", "range_ms": 50},
    "slide": {"kind": "range", "range_ms": 60, "slide_ms": 20},
}


def _window(kind: str) -> Operator:
    return build_operator({"id": 1, "op": "window", "window": WINDOWS[kind], "inputs": [0],
                           "output": "relation", "columns": INPUT["columns"]}, [INPUT], [])


# operators of a relation (k, v): their input is (row, +1/-1) pairs
PAIR_INPUT = {"id": 0, "op": "window", "output": "relation",
              "columns": [{"name": "K", "type": "INTEGER"}, {"name": "V", "type": "INTEGER"}]}
ORDER_V = [{"field": 1, "direction": "ASC", "nulls": "FIRST"}]
KEYED_WINDOWS = {
    "rows": {"kind": "rows", "rows": 3},
    "partition_rows": {"kind": "partition", "partition_by": [0], "rows": 2},
    "partition_rows_slide": {"kind": "partition", "partition_by": [0], "rows": 3,
                             "slide_rows": 2},
    "rows_slide": {"kind": "rows", "rows": 2, "slide_rows": 3},
    "session": {"kind": "session", "gap_ms": 4, "partition_by": [0]},
}
RELATION_OPS = {
    "union": {"op": "union", "all": False, "inputs": [0, 0]},
    "minus_all": {"op": "minus", "all": True, "inputs": [0, 0]},
    "intersect": {"op": "intersect", "all": False, "inputs": [0, 0]},
    "over": {"op": "over", "inputs": [0], "constants": [], "groups": [
        {"partition_by": [0], "order_by": ORDER_V, "rows": True,
         "lower": "UNBOUNDED PRECEDING", "upper": "CURRENT ROW",
         "calls": [{"fn": "ROW_NUMBER", "args": [], "type": "BIGINT"}]},
        {"partition_by": [], "order_by": ORDER_V, "rows": False,
         "lower": "UNBOUNDED PRECEDING", "upper": "CURRENT ROW",
         "calls": [{"fn": "SUM", "args": [1], "type": "INTEGER"}]}]},
    "rstream": {"op": "rstream", "inputs": [0]},
    "top_n": {"op": "top_n", "inputs": [0], "partition_by": [0], "order_by": ORDER_V,
              "limit": 2, "append_only": False},
}


def _keyed(kind: str) -> Operator:
    if kind in KEYED_WINDOWS:
        return build_operator({"id": 1, "op": "window", "window": KEYED_WINDOWS[kind],
                               "inputs": [0], "output": "relation",
                               "columns": PAIR_INPUT["columns"]}, [PAIR_INPUT], [])
    spec = {"id": 1, "output": "relation", **RELATION_OPS[kind]}
    return build_operator(spec, [PAIR_INPUT] * len(spec["inputs"]), [])


def _save(op: Operator, kept: dict[bytes, Any]) -> None:
    """One commit: the changed pairs into ``kept`` (by piece name, as compaction keeps)."""
    for member, key, value in op.changed_pairs():
        name = orjson.dumps([member, key])
        if value is None:
            kept.pop(name, None)
        else:
            kept[name] = (member, key, value)
    op.clean()


def _pairs(kept: dict[bytes, Any], member: str | None) -> list[list[Any]]:
    """A member's pairs as the changelog's restore gives them: in time order when
    keyed by time (``pycql.jobs.changelog``), in any order otherwise."""
    pairs = [[k, v] for m, k, v in reversed(list(kept.values())) if m == member]
    return sorted(pairs, key=lambda kv: kv[0]) if all(isinstance(k, int) for k, _ in pairs) \
        else pairs


def _restored(kind: str, kept: dict[bytes, Any]) -> Operator:
    again = _window(kind) if kind in WINDOWS else _keyed(kind)
    members = again.tracked_members
    if members is None:
        again.load(_pairs(kept, None))
    else:
        again.load({m: _pairs(kept, m) for m in members})
    return again


steps = st.lists(st.tuples(st.integers(1, 15), st.lists(st.integers(0, 9), max_size=4),
                           st.booleans()), max_size=30)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(sorted(WINDOWS)), steps)
def test_saved_changes_put_back_the_state(kind: str, plan: list[tuple[int, list[int], bool]]
                                          ) -> None:
    op = _window(kind)
    op.dirty = set()  # tracking on, from an empty state
    kept: dict[bytes, Any] = {}
    tau = 0
    for gap, values, save in plan:
        tau += gap
        op.step(tau, [[(v,) for v in values] or None])
        if save:
            _save(op, kept)
    _save(op, kept)
    assert orjson.dumps(_restored(kind, kept).state()) == orjson.dumps(op.state())


def test_a_growing_slide_pane_is_saved_in_segments_not_rewritten() -> None:
    op = _window("slide")
    op.dirty = set()
    written: list[Any] = []
    for tau in (1, 2, 3):  # all enter at boundary 20
        op.step(tau, [[(tau,)]])
        written += [(m, k, orjson.loads(orjson.dumps(v))) for m, k, v in op.changed_pairs()]
        op.clean()
    entering = [(k, v) for m, k, v in written if m == "entering"]
    assert entering == [([20, 0], [[1]]), ([20, 1], [[2]]), ([20, 2], [[3]])]


def test_panes_saved_before_segments_are_rewritten_as_segments() -> None:
    op = _window("slide")
    op.load({"entering": [[20, [[1], [2]]]], "leaving": [[80, [[1], [2]]]]})  # old format
    op.dirty = set()
    changes = orjson.loads(orjson.dumps(op.changed_pairs()))  # as written
    assert ["entering", 20, None] in changes and ["leaving", 80, None] in changes
    assert ["entering", [20, 0], [[1], [2]]] in changes
    op.clean()
    assert op.changed_pairs() == []


def _canon(x: Any) -> Any:
    """A state with the order of its keyed pairs (a map's, in any order) and of the
    rows of a bag left out."""
    if isinstance(x, dict):
        return {k: _canon(v) for k, v in sorted(x.items())}
    if isinstance(x, list):
        items = [_canon(v) for v in x]
        if items and all(isinstance(i, list) and len(i) == 2 and isinstance(i[0], list)
                         for i in items):
            return sorted(items, key=orjson.dumps)
        return items
    return x


def _net(d: Any) -> Counter[Any]:
    out: Counter[Any] = Counter()
    for item in d or []:
        row, n = item if isinstance(item, tuple) and len(item) == 2 and isinstance(
            item[0], tuple) else (item, 1)
        out[row] += n
    return Counter({r: n for r, n in out.items() if n})


def _inputs(op: Operator, kind: str, batch: list[tuple[int, int, int, int]],
            present: list[Counter[tuple[int, int]]]) -> list[Any]:
    """One instant's input: rows for a window, else (row, ±1) pairs per input that
    keep each input relation's counts non-negative (``present``, updated)."""
    if kind in KEYED_WINDOWS:
        return [[(k, v) for k, v, _, _ in batch] or None]
    out: list[list[Any]] = [[] for _ in op.inputs]
    for k, v, which, sign in batch:
        i = which % len(op.inputs)
        row = (k, v)
        if sign < 0 and present[i][row] > 0:
            present[i][row] -= 1
            out[i].append((row, -1))
        else:
            present[i][row] += 1
            out[i].append((row, 1))
    return [d or None for d in out]


keyed_steps = st.lists(st.tuples(
    st.integers(1, 6),
    st.lists(st.tuples(st.integers(0, 2), st.integers(0, 4), st.integers(0, 1),
                       st.sampled_from([1, -1])), max_size=5),
    st.booleans()), min_size=1, max_size=25)


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(sorted(KEYED_WINDOWS) + sorted(RELATION_OPS)), keyed_steps, keyed_steps)
def test_keyed_operators_saved_changes_put_back_the_state_and_go_on_the_same(
        kind: str, plan: list[Any], after: list[Any]) -> None:
    op = _keyed(kind)
    assert op.trackable
    op.dirty = set()  # tracking on, from an empty state
    kept: dict[bytes, Any] = {}
    present: list[Counter[tuple[int, int]]] = [Counter() for _ in op.inputs]
    tau = 0
    for gap, batch, save in plan:
        tau += gap
        op.step(tau, _inputs(op, kind, batch, present))
        if save:
            _save(op, kept)
    _save(op, kept)
    again = _restored(kind, kept)
    assert _canon(orjson.loads(orjson.dumps(again.state()))) == \
        _canon(orjson.loads(orjson.dumps(op.state())))
    again.dirty = set()
    for gap, batch, _ in after:  # the same input from here: the same output
        tau += gap
        inputs = _inputs(op, kind, batch, present)
        for each in (op, again):
            while (timer := each.next_timer()) is not None and timer < tau:
                each.step(timer, [None] * len(inputs))
        assert _net(again.step(tau, inputs)) == _net(op.step(tau, inputs))


def test_an_over_saved_as_a_list_of_stages_loads() -> None:
    op = _keyed("over")
    op.step(1, [[((1, 2), 1), ((1, 3), 1)]])
    old = list(op.state().values())  # as saved before the state had a member per stage
    again = _keyed("over")
    again.load(orjson.loads(orjson.dumps(old)))
    assert _canon(again.state()) == _canon(orjson.loads(orjson.dumps(op.state())))


finite = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), st.text(max_size=3),
                   st.floats(allow_nan=False), st.decimals(allow_nan=False,
                                                           allow_infinity=False, places=2))
nested = st.recursive(finite, lambda inner: st.lists(inner, max_size=3)
                      | st.tuples(inner, inner)
                      | st.dictionaries(st.text("xyz", max_size=2), inner, max_size=3),
                      max_leaves=12)


@settings(max_examples=300, deadline=None)
@given(nested)
def test_a_state_encoded_by_orjson_is_the_walk_s_encoding(data: Any) -> None:
    """``encode_state`` (an orjson round trip, the commit's fast path) writes the same
    JSON as the plain walk ``encode_values``: tuples as lists, decimals tagged; what
    orjson cannot write (integers past 64 bits) takes the walk."""
    want = encode_values(data)
    got = encode_state(data)
    try:
        wire = orjson.dumps(want)
    except TypeError:
        assert got == want
    else:
        assert orjson.dumps(got) == wire


fed_steps = st.lists(st.tuples(st.lists(st.tuples(st.integers(0, 70), st.integers(0, 9)),
                                        max_size=5),
                               st.integers(0, 30), st.booleans()), max_size=20)


@settings(max_examples=200, deadline=None)
@given(fed_steps)
def test_a_fed_slide_window_saves_panes_filled_out_of_order(
        plan: list[tuple[list[tuple[int, int]], int, bool]]) -> None:
    """Batches fed ahead of time (SlideWindow.feed) fill panes before the last one; the
    saved changes still put back the whole state."""
    op = _window("slide")
    assert isinstance(op, SlideWindow)
    op.dirty = set()
    kept: dict[bytes, Any] = {}
    closed = 0
    for batch, gap, save in plan:
        fresh = [(closed + 1 + dt, v) for dt, v in batch]  # after the closed instants
        op.feed([(v,) for _, v in fresh], [t for t, _ in fresh])
        closed += gap
        op.step(closed, [None])
        if save:
            _save(op, kept)
    _save(op, kept)
    assert orjson.dumps(_restored("slide", kept).state()) == orjson.dumps(op.state())
