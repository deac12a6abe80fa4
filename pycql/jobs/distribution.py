"""Whether a plan can run as one task per partition of its inputs, each task alone.

A stream declared ``WITH (key = 'k')`` has its records partitioned by the hash of
``k`` (pycql's INSERT writes them so; other producers must do the same). A task
that reads partition ``p`` of every such input then holds every row of the keys
of ``p``. A plan is *partition-local* when each of its stateful operators keeps
its state per key values that include those keys, so the tasks' outputs put
together are the one task's output:

* filters, projections, UNBOUNDED windows and UNION ALL work row by row: always
  local, and a join with a table too (every task reads the whole table), whatever
  the stream's partitioning; windows whose rows expire in time (NOW, RANGE, SLIDE,
  SESSION) are not local yet (see ``_WINDOWS_WITHOUT_TIMERS``);
* ISTREAM and DSTREAM (the difference of a bag) are local when the rows carry the
  keys: a row can then never leave one task's part and enter another's;
* an aggregate is local when its GROUP BY columns carry every partitioned
  input's key; a ``PARTITION BY ... ROWS`` window (with or without SLIDE) when its
  partition columns do;
  a join of two partitioned inputs when its equality keys pair their keys
  column for column; DISTINCT, INTERSECT and EXCEPT when the rows carry the keys;
* a global aggregate, a global ``[ROWS N]``, ORDER BY/FETCH, RSTREAM (it emits
  the whole relation at each of its task's instants) and VALUES are not.

The analysis follows each output column back to the source columns it equals
(``lineage``). It is conservative: a plan it cannot prove local runs as one task.
Multi-stage plans joined by repartition topics lift that limit (the scale-out
issue); this is the case that needs no exchange.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["partition_local"]

Lineage = frozenset[tuple[str, int]]

_ROW_BY_ROW = {"filter", "stream_filter", "istream", "dstream"}
#: Windows without timers. A window whose rows expire in time (NOW, RANGE, SLIDE) is
#: not local yet: each task's time is its own partitions' (a quiet partition's task
#: stops at its newest instant, while one task over everything closes the expiries up
#: to the newest instant anywhere), so the expiries at the end would differ. Shared
#: time across tasks (in-band watermarks) comes with multi-stage plans.
_WINDOWS_WITHOUT_TIMERS = {"unbounded"}
#: The windows a plan without exchanges may hold and be local: no timers, and counts per
#: partition (the planner exchanges a global ROWS window, and a PARTITION BY one whose
#: columns miss the key).
_LOCAL_WINDOW_KINDS = _WINDOWS_WITHOUT_TIMERS | {"partition", "rows"}


@dataclass(frozen=True)
class _Shape:
    """What an operator's output is made of: per column, the source columns it equals;
    the partitioned sources its rows come from."""

    lineage: tuple[Lineage, ...]
    sources: frozenset[str]


class _NotLocal(Exception):
    pass


def partition_local(plan: dict[str, Any], keys: Mapping[str, Sequence[int]]) -> bool:
    """Whether ``plan`` is partition-local (see the module docstring). ``keys`` gives the
    key column indexes of each *stream* source that declares one; a stream source
    missing from it makes any stateful plan non-local.

    The planner says it first (docs/plan-json.md, "Stages"): a plan with an exchange is
    not; a plan without one, planned with these keys over partitioned streams, is (but
    for windows with timers). Else the lineage analysis decides."""
    planned = _planned_locality(plan, keys)
    if planned is not None:
        return planned
    specs = {op["id"]: op for op in plan["operators"]}
    shapes: dict[int, _Shape] = {}
    try:
        for op in plan["operators"]:
            shapes[op["id"]] = _shape(op, [shapes[i] for i in op.get("inputs", [])], keys)
    except _NotLocal:
        return False
    return plan.get("root") in specs


def _planned_locality(plan: dict[str, Any], keys: Mapping[str, Sequence[int]]) -> bool | None:
    """What the plan's exchanges say, or None when the planner's view of the sources (key
    columns, more than one partition) is not ``keys``'."""
    if "stages" not in plan:
        return None
    ops = plan["operators"]
    if any(op["op"] == "exchange" for op in ops):
        return False
    for op in ops:
        if op["op"] != "source" or op.get("source_kind") == "table":
            continue
        names = [c["name"] for c in op.get("columns") or []]
        planned = [names.index(k) for k in op.get("partition_key") or [] if k in names]
        if int(op.get("partitions") or 1) < 2 or planned != list(keys.get(op["name"], [])):
            return None
    return not any(op["op"] == "window" and op["window"]["kind"] not in _LOCAL_WINDOW_KINDS
                   for op in ops)


def _covers(columns: Sequence[int], shape: _Shape, keys: Mapping[str, Sequence[int]]) -> bool:
    """Whether ``columns`` of ``shape`` carry every key column of every partitioned
    source of its rows (never, for a stream whose partitioning is unknown)."""
    if any(source.startswith("?") for source in shape.sources):
        return False
    carried: frozenset[tuple[str, int]] = frozenset().union(
        *(shape.lineage[c] for c in columns))
    return all((source, k) in carried for source in shape.sources for k in keys[source])


def _shape(op: dict[str, Any], inputs: list[_Shape],
           keys: Mapping[str, Sequence[int]]) -> _Shape:
    kind = op["op"]
    width = len(op.get("columns") or [])
    if kind == "source":
        name = str(op["name"])
        lineage = tuple(frozenset({(name, j)}) for j in range(width))
        if op.get("source_kind") == "table":
            return _Shape(lineage, frozenset())  # every task reads all of it
        if name not in keys:
            return _Shape(lineage, frozenset({"?" + name}))  # partitioned by nothing known
        return _Shape(lineage, frozenset({name}))
    if kind in _ROW_BY_ROW:
        (shape,) = inputs
        if kind in ("istream", "dstream") and not _covers(range(width), shape, keys):
            # the difference of a bag: a row that leaves one task's part and enters
            # another's at one instant is no change of the whole
            raise _NotLocal
        if op.get("exprs"):
            return _projected(op["exprs"], shape)
        return shape
    if kind == "project":
        return _projected(op["exprs"], inputs[0])
    if kind == "window":
        (shape,) = inputs
        window = op["window"]
        if window["kind"] in _WINDOWS_WITHOUT_TIMERS:
            return shape
        if window["kind"] == "partition" and _covers(window["partition_by"], shape, keys):
            return shape
        raise _NotLocal
    if kind == "aggregate":
        (shape,) = inputs
        group = list(op.get("group") or [])
        # GROUPING SETS: every set must hold the keys; a column some set lacks is NULL there
        common = [g for g in group if all(g in s for s in op.get("group_sets") or [group])]
        if not common or not _covers(common, shape, keys):
            raise _NotLocal
        rest = width - len(group)
        return _Shape(tuple(shape.lineage[g] if g in common else frozenset() for g in group)
                      + (frozenset(),) * rest, shape.sources)
    if kind in ("join", "lookup_join"):
        return _joined(op, inputs, keys)
    if kind == "union_all":
        lineage = tuple(frozenset().union(*(s.lineage[j] for s in inputs))
                        for j in range(width))
        return _Shape(lineage, frozenset().union(*(s.sources for s in inputs)))
    if kind in ("set_operation", "intersect", "except", "minus", "distinct"):
        everything = _Shape(
            tuple(frozenset().union(*(s.lineage[j] for s in inputs)) for j in range(width)),
            frozenset().union(*(s.sources for s in inputs)))
        if not _covers(list(range(width)), everything, keys):
            raise _NotLocal
        return everything
    raise _NotLocal  # rstream, sort, values, and anything not known to be local


def _projected(exprs: Sequence[dict[str, Any]], shape: _Shape) -> _Shape:
    lineage = tuple(shape.lineage[e["index"]] if e.get("kind") == "input" else frozenset()
                    for e in exprs)
    return _Shape(lineage, shape.sources)


def _joined(op: dict[str, Any], inputs: list[_Shape],
            keys: Mapping[str, Sequence[int]]) -> _Shape:
    left, right = inputs
    pairs = list(zip(op.get("left_keys") or [], op.get("right_keys") or [], strict=False))
    lineage = list(left.lineage + right.lineage)
    for lk, rk in pairs:  # equal columns carry each other's sources
        both = left.lineage[lk] | right.lineage[rk]
        lineage[lk] = both
        lineage[len(left.lineage) + rk] = both
    if left.sources and right.sources:  # two partitioned inputs: their keys must meet
        if any(s.startswith("?") for s in left.sources | right.sources):
            raise _NotLocal
        for side, other, own, theirs in ((left, right, 0, 1), (right, left, 1, 0)):
            for source in side.sources:
                for position, k in enumerate(keys[source]):
                    if not any((source, k) in side.lineage[p[own]] and any(
                            (o, keys[o][position]) in other.lineage[p[theirs]]
                            for o in other.sources if len(keys[o]) > position)
                            for p in pairs):
                        raise _NotLocal
    return _Shape(tuple(lineage), left.sources | right.sources)
