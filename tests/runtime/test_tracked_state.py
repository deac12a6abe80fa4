"""Operators that track their changed keys: what they hand a job's commit
(``changed_pairs``), applied as a compacted changelog would keep it, puts back the
state the operator has, after any sequence of steps and saves."""

from __future__ import annotations

from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from pycql.runtime.operators import Operator, build_operator

INPUT = {"id": 0, "op": "source", "name": "S", "source_kind": "stream", "inputs": [],
         "output": "stream", "columns": [{"name": "A", "type": "INTEGER"}]}
WINDOWS = {
    "range": {"kind": "range", "range_ms": 50},
    "slide": {"kind": "range", "range_ms": 60, "slide_ms": 20},
}


def _window(kind: str) -> Operator:
    return build_operator({"id": 1, "op": "window", "window": WINDOWS[kind], "inputs": [0],
                           "output": "relation", "columns": INPUT["columns"]}, [INPUT], [])


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
    again = _window(kind)
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
        written += [(m, k, v) for m, k, v in op.changed_pairs()]
        op.clean()
    entering = [(k, v) for m, k, v in written if m == "entering"]
    assert entering == [([20, 0], [[1]]), ([20, 1], [[2]]), ([20, 2], [[3]])]


def test_panes_saved_before_segments_are_rewritten_as_segments() -> None:
    op = _window("slide")
    op.load({"entering": [[20, [[1], [2]]]], "leaving": [[80, [[1], [2]]]]})  # old format
    op.dirty = set()
    changes = op.changed_pairs()
    assert ("entering", 20, None) in changes and ("leaving", 80, None) in changes
    assert ("entering", [20, 0], [[1], [2]]) in changes
    op.clean()
    assert op.changed_pairs() == []
