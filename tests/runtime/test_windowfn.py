"""The window function operators on insert/delete batches: what they emit and keep.

Expected deltas are worked out by hand; the differential tests
(tests/differential/test_window_functions.py) compare whole queries with the oracle.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from pycql.runtime.operators import build_operator
from pycql.runtime.windowfn import Over, TopN

INPUT = {"id": 0, "op": "window", "columns": [{"name": "k", "type": "INTEGER"},
                                               {"name": "v", "type": "INTEGER"}]}
DESC_V = [{"field": 1, "direction": "DESC", "nulls": "FIRST"}]
ASC_V = [{"field": 1, "direction": "ASC", "nulls": "LAST"}]


def _top_n(limit: int, append_only: bool) -> TopN:
    spec = {"id": 1, "op": "top_n", "inputs": [0], "partition_by": [0], "order_by": DESC_V,
            "limit": limit, "append_only": append_only}
    op = build_operator(spec, [INPUT], [])
    assert isinstance(op, TopN)
    return op


def _over(*calls: dict[str, Any], rows: bool = False, order: Any = ASC_V) -> Over:
    group = {"partition_by": [0], "order_by": order, "rows": rows,
             "lower": "UNBOUNDED PRECEDING", "upper": "CURRENT ROW", "calls": list(calls)}
    op = build_operator({"id": 1, "op": "over", "inputs": [0], "groups": [group],
                         "constants": []}, [INPUT], [])
    assert isinstance(op, Over)
    return op


def _net(d: Any) -> Counter[Any]:
    out: Counter[Any] = Counter()
    for row, n in d or []:
        out[row] += n
    return Counter({r: n for r, n in out.items() if n})


def test_top_n_of_a_growing_relation_keeps_n_rows_per_partition() -> None:
    op = _top_n(2, append_only=True)
    assert _net(op.step(1, [[((1, 5), 1)]])) == {(1, 5, 1): 1}
    assert _net(op.step(2, [[((1, 7), 1)]])) == {(1, 5, 1): -1, (1, 7, 1): 1, (1, 5, 2): 1}
    assert op.step(3, [[((1, 1), 1)]]) is None  # not among the first two: nothing emitted
    assert _net(op.step(4, [[((2, 3), 1)]])) == {(2, 3, 1): 1}  # partition 1 untouched
    assert op.rows_of((1,)) == [(1, 7), (1, 5)] and op.rows_of((2,)) == [(2, 3)]


def test_top_n_refills_after_a_delete() -> None:
    op = _top_n(2, append_only=False)
    op.step(1, [[((1, 5), 1), ((1, 7), 1), ((1, 1), 1), ((2, 9), 1)]])
    d = op.step(2, [[((1, 7), -1)]])
    assert _net(d) == {(1, 7, 1): -1, (1, 5, 2): -1, (1, 5, 1): 1, (1, 1, 2): 1}
    # a change below the first N emits nothing
    assert op.step(3, [[((1, 0), 1)]]) is None


def test_top_n_duplicates_take_consecutive_numbers() -> None:
    op = _top_n(3, append_only=False)
    assert _net(op.step(1, [[((1, 5), 2)]])) == {(1, 5, 1): 1, (1, 5, 2): 1}
    assert _net(op.step(2, [[((1, 5), -1)]])) == {(1, 5, 2): -1}


def test_top_n_state_round_trips() -> None:
    op = _top_n(2, append_only=False)
    op.step(1, [[((1, 5), 1), ((1, 7), 1), ((1, None), 1)]])
    other = _top_n(2, append_only=False)
    other.load(op.state())
    assert other.partitions == op.partitions and other.rows_of((1,)) == [(1, None), (1, 7), (1, 5)]
    assert _net(other.step(2, [[((1, None), -1)]])) == {
        (1, None, 1): -1, (1, 7, 2): -1, (1, 7, 1): 1, (1, 5, 2): 1}  # NULLS FIRST in DESC


def test_over_emits_only_the_rows_whose_values_changed() -> None:
    op = _over({"fn": "ROW_NUMBER", "args": [], "type": "BIGINT"}, rows=True)
    op.step(1, [[((1, 10), 1), ((1, 20), 1), ((2, 5), 1)]])
    assert _net(op.step(2, [[((1, 30), 1)]])) == {(1, 30, 3): 1}
    assert _net(op.step(3, [[((1, 15), 1)]])) == {
        (1, 20, 2): -1, (1, 20, 3): 1, (1, 30, 3): -1, (1, 30, 4): 1, (1, 15, 2): 1}


def test_over_recomputes_only_the_touched_partitions() -> None:
    op = _over({"fn": "COUNT", "args": [], "type": "BIGINT", "nullable": False})
    op.step(1, [[((1, 10), 1), ((2, 5), 1), ((3, 1), 1)]])
    seen: list[Any] = []
    stage = op.stages[0]
    evaluate = stage.evaluate
    stage.evaluate = (  # type: ignore[method-assign]
        lambda part: (seen.append(sorted(part)), evaluate(part))[1])
    # a running count (ORDER BY v): (2, 5) still counts 1, only the new row is emitted
    assert _net(op.step(2, [[((2, 6), 1)]])) == {(2, 6, 2): 1}
    assert seen == [[(2, 5)], [(2, 5), (2, 6)]]  # partition 2 before and after, no other


def test_rank_dense_rank_and_running_sum_of_peers() -> None:
    op = _over({"fn": "RANK", "args": [], "type": "BIGINT"},
               {"fn": "DENSE_RANK", "args": [], "type": "BIGINT"},
               {"fn": "SUM", "args": [1], "type": "INTEGER", "nullable": True})
    d = op.step(1, [[((1, 10), 2), ((1, 20), 1), ((1, None), 1)]])
    # ORDER BY v ASC NULLS LAST; RANGE frame: peers are in each other's frame
    assert _net(d) == {(1, 10, 1, 1, 20): 2, (1, 20, 3, 2, 40): 1, (1, None, 4, 3, 40): 1}
