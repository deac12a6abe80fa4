"""Which columns of each source a plan reads, so decoders skip the others.

A source's column is *used* when an operator above it can look at it. The walk
knows the operators that read only some of their input's columns (``project``,
``filter``, ``stream_filter``, a ``window`` other than ROWS, ``aggregate``); any
other consumer, and the plan's root, reads every column. An unused column is NULL in the rows
the runtime sees, which no operator can tell from its real value.

>>> col = {"name": "A", "type": "INTEGER"}
>>> plan = {"root": 1, "operators": [
...     {"id": 0, "op": "source", "name": "S", "inputs": [], "columns": [col, col, col]},
...     {"id": 1, "op": "project", "inputs": [0], "columns": [col],
...      "exprs": [{"kind": "input", "index": 2, "type": "INTEGER"}]}]}
>>> used_source_columns(plan)
{'S': {2}}
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["used_source_columns"]


def used_source_columns(plan: dict[str, Any]) -> dict[str, set[int] | None]:
    """Per source name, the indexes of its columns the plan reads (None: all of them)."""
    operators = {int(op["id"]): op for op in plan["operators"]}
    consumers: dict[int, list[tuple[dict[str, Any], int]]] = {}
    for op in plan["operators"]:
        for position, source in enumerate(op.get("inputs", [])):
            consumers.setdefault(int(source), []).append((op, position))
    root = plan.get("root")
    memo: dict[int, set[int] | None] = {}

    def needed(op_id: int) -> set[int] | None:
        if op_id in memo:
            return memo[op_id]
        memo[op_id] = None  # a cycle (never in a valid plan) reads everything
        result: set[int] | None = set()
        if op_id == root or op_id not in consumers:
            result = None
        else:
            for consumer, position in consumers[op_id]:
                needs = _input_needs(consumer, position, needed)
                if needs is None:
                    result = None
                    break
                result |= needs  # type: ignore[operator]
        memo[op_id] = result
        return result

    used: dict[str, set[int] | None] = {}
    for op in operators.values():
        if op.get("op") != "source":
            continue
        name = str(op["name"])
        needs = needed(int(op["id"]))
        if name in used and (used[name] is None or needs is None):
            used[name] = None
        elif name in used:
            used[name] |= needs  # type: ignore[operator]
        else:
            used[name] = None if needs is None else set(needs)
    return used


def _input_needs(op: dict[str, Any], position: int,
                 needed: Callable[[int], set[int] | None]) -> set[int] | None:
    """The columns of input ``position`` that ``op`` reads (None: all or unknown)."""
    kind = op.get("op")
    if position != 0:
        return None
    if kind == "project":
        return _refs(op.get("exprs"))
    if kind in ("filter", "stream_filter"):
        condition = _refs(op.get("condition"))
        exprs = op.get("exprs")
        if condition is None:
            return None
        if kind == "stream_filter" and exprs:
            more = _refs(exprs)
        else:  # the row passes through: what the consumers above read
            more = needed(int(op["id"]))
        return None if more is None else condition | more
    if kind == "window":
        window = op.get("window") or {}
        above = needed(int(op["id"]))
        # A ROWS window orders the elements of one instant by all their values
        # (docs/cql.md), so it reads every column; the other windows ignore values.
        if above is None or window.get("kind") not in ("now", "unbounded", "range",
                                                       "session"):
            return None
        return above | {int(i) for i in window.get("partition_by") or []}
    if kind == "aggregate" and not op.get("group_sets"):
        out = {int(i) for i in op.get("group") or []}
        for agg in op.get("aggs") or []:
            out |= {int(i) for i in agg.get("args") or []}
            if agg.get("filter") is not None:
                out.add(int(agg["filter"]))
            out |= {int(o["field"]) for o in agg.get("order") or []}
        return out
    return None


def _refs(expr: Any) -> set[int] | None:
    """The input fields an expression (or a list of them) reads; None if unknown."""
    found: set[int] = set()
    todo = [expr]
    while todo:
        node = todo.pop()
        if node is None:
            continue
        if isinstance(node, list):
            todo.extend(node)
            continue
        if not isinstance(node, dict):
            return None
        kind = node.get("kind")
        if kind == "input":
            found.add(int(node["index"]))
        elif kind == "call":
            todo.extend(node.get("operands") or [])
        elif kind not in ("literal", "param"):
            return None
    return found
