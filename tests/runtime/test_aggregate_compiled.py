"""The compiled Aggregate agrees with the per-row, per-call loop it replaced.

:class:`PerRowAggregate` keeps the former ``step`` (a loop over the calls for
every row, testing each call's kind) as the reference. Both get the same
random deltas (inserts, deletes, counts other than 1, NULLs, several calls of
every kind, one or more GROUP BY columns or none) and must return the same
deltas, in the same order, and end with the same state.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pycql.runtime.operators import Aggregate

from .plans import agg, columns


class PerRowAggregate(Aggregate):
    """The aggregate with its former per-row update (the reference)."""

    def step(self, tau: int | None, inputs: list[Any]) -> Any:
        d = inputs[0]
        changed: dict[Any, list[Any]] = {}
        if tau is None and self.is_global:
            changed[()] = self.groups[()]
        if d:
            groups = self.groups
            key = self.key
            for row, c in d:
                k = key(row)
                g = changed.get(k)
                if g is None:
                    g = groups.get(k)
                    if g is None:
                        g = groups[k] = self._new_group()
                    changed[k] = g
                g[0] += c
                for i, a in enumerate(self.aggs):
                    if a.kind == "count_star":
                        continue
                    v = a.value_of(row)
                    if v is None:
                        continue
                    if a.kind == "count":
                        g[i + 2] += c
                    elif a.kind == "sum":
                        acc = g[i + 2]
                        acc[1] += c
                        acc[0] = acc[0] + v * c if acc[1] else 0
                    else:
                        bag = g[i + 2]
                        n = bag.get(v, 0) + c
                        if n:
                            bag[v] = n
                        else:
                            del bag[v]
        if not changed:
            return None
        out = []
        for k, g in changed.items():
            if g[0] <= 0 and not self.is_global:
                new = None
            else:
                new = k + tuple(a.result(g[i + 2], g[0]) for i, a in enumerate(self.aggs))
            old = g[1]
            if new != old:
                if old is not None:
                    out.append((old, -1))
                if new is not None:
                    out.append((new, 1))
                g[1] = new
            if new is None:
                del self.groups[k]
        return out or None


WIDTH = 5
CALLS = [
    agg("COUNT"),
    agg("COUNT", 2),
    agg("COUNT", 2, 3),
    agg("COUNT", 3, distinct=True),
    agg("SUM", 2),
    agg("SUM0", 3),
    agg("AVG", 2),
    agg("AVG", 3, type_="DOUBLE"),
    agg("MIN", 2),
    agg("MAX", 3),
    agg("SUM", 2, distinct=True),
    agg("SUM", 4, type_="DOUBLE"),
    agg("AVG", 4, type_="DOUBLE"),
    agg("MAX", 4, type_="DOUBLE"),
]


def _spec(group: list[int], calls: list[dict[str, Any]]) -> tuple[dict[str, Any], dict[str, Any]]:
    source = {
        "id": 0,
        "op": "source",
        "columns": columns("A", "B", "C", "D", "E:DOUBLE"),
        "inputs": [],
    }
    spec = {"id": 1, "op": "aggregate", "inputs": [0], "group": group, "aggs": calls}
    return spec, source


@st.composite
def cases(draw: st.DrawFn) -> tuple[list[int], list[dict[str, Any]], list[list[Any]]]:
    group = draw(st.lists(st.integers(0, WIDTH - 1), max_size=2, unique=True))
    calls = draw(st.lists(st.sampled_from(CALLS), max_size=4))
    value = st.one_of(st.none(), st.integers(-3, 3))
    # floats whose sums leave rounding residue: a group emptied of values must read 0
    real = st.sampled_from([None, 0.1, 0.2, 0.7, -1.5, 1e16])
    row = st.tuples(st.integers(0, 2), st.integers(0, 1), value, value, real)
    live: list[tuple[Any, ...]] = []  # rows inserted and not yet deleted
    batches = []
    for _ in range(draw(st.integers(1, 6))):
        batch: list[tuple[tuple[Any, ...], int]] = []
        for _ in range(draw(st.integers(0, 10))):
            if live and draw(st.booleans()):
                batch.append((live.pop(draw(st.integers(0, len(live) - 1))), -1))
            else:
                r = draw(row)
                count = draw(st.sampled_from([1, 1, 1, 2]))
                live.extend([r] * count)
                batch.append((r, count))
        if batch and draw(st.integers(0, 4)) == 0:  # an insert and its delete in one delta
            r = draw(row)
            batch += [(r, 1), (r, -1)]
        batches.append(batch)
    return group, calls, batches


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_compiled_aggregate_equals_the_per_row_loop(case: Any) -> None:
    group, calls, batches = case
    spec, source = _spec(group, calls)
    compiled = Aggregate(spec, [source], [])
    reference = PerRowAggregate(spec, [source], [])
    assert compiled.step(None, [None]) == reference.step(None, [None])
    for tau, batch in enumerate(batches, start=1):
        assert compiled.step(tau, [list(batch)]) == reference.step(tau, [list(batch)])
        assert compiled.state() == reference.state()


def test_count_star_fast_path_keeps_first_appearance_order() -> None:
    spec, source = _spec([0], [agg("COUNT")])
    aggregate = Aggregate(spec, [source], [])
    assert aggregate._counts_only
    out = aggregate.step(1, [[((2, 0, 0, 0), 1), ((1, 0, 0, 0), 1), ((2, 0, 0, 0), 1)]])
    assert out == [((2, 2), 1), ((1, 1), 1)]
    out = aggregate.step(2, [[((1, 0, 0, 0), -1), ((2, 0, 0, 0), -1), ((3, 0, 0, 0), 1)]])
    assert out == [((1, 1), -1), ((2, 2), -1), ((2, 1), 1), ((3, 1), 1)]
    assert dict(aggregate.groups) == {(2,): [1, (2, 1), 0], (3,): [1, (3, 1), 0]}


def test_a_float_sum_emptied_of_values_restarts_from_zero() -> None:
    spec, source = _spec([0], [agg("SUM", 4, type_="DOUBLE"), agg("COUNT")])
    aggregate = Aggregate(spec, [source], [])
    a, b, c = (0, 0, 0, 0, 0.1), (0, 0, 0, 0, 0.2), (0, 0, 0, 0, None)
    aggregate.step(1, [[(a, 1), (b, 1), (c, 1)]])
    out = aggregate.step(2, [[(a, -1), (b, -1)]])
    assert out == [((0, 0.30000000000000004, 3), -1), ((0, None, 1), 1)]
    out = aggregate.step(3, [[((0, 0, 0, 0, 1e-20), 1)]])
    assert out == [((0, None, 1), -1), ((0, 1e-20, 2), 1)]  # no 0.1 + 0.2 - 0.1 - 0.2 residue
