"""Small builders of plan dicts (docs/plan-json.md) for hand-written oracle tests.

>>> b = PlanBuilder()
>>> s = b.source("S", ["A"])
>>> w = b.window(s, kind="now")
>>> plan = b.build(b.istream(w))
>>> [op["op"] for op in plan["operators"]]
['source', 'window', 'istream']
"""

from __future__ import annotations

from typing import Any


def col(i: int, type_: str = "INTEGER") -> dict[str, Any]:
    """An input reference expression."""
    return {"kind": "input", "index": i, "type": type_}


def lit(value: Any, type_: str = "INTEGER") -> dict[str, Any]:
    """A literal expression."""
    return {"kind": "literal", "value": value, "type": type_}


def call(
    op: str, *operands: dict[str, Any], type_: str = "INTEGER", sqlkind: str | None = None
) -> dict[str, Any]:
    """A call expression."""
    e: dict[str, Any] = {"kind": "call", "op": op, "operands": list(operands), "type": type_}
    if sqlkind is not None:
        e["sqlkind"] = sqlkind
    return e


def agg(fn: str, *args: int, distinct: bool = False, type_: str = "INTEGER") -> dict[str, Any]:
    """An aggregate call."""
    return {"fn": fn, "args": list(args), "distinct": distinct, "name": fn, "type": type_}


class PlanBuilder:
    """Appends operators in topological order; ids are list positions."""

    def __init__(self) -> None:
        self.operators: list[dict[str, Any]] = []

    def _add(self, op: str, inputs: list[int], output: str, ncols: int, **fields: Any) -> int:
        oid = len(self.operators)
        columns = [{"name": f"C{i}", "type": "INTEGER", "nullable": True} for i in range(ncols)]
        self.operators.append(
            {"id": oid, "op": op, "inputs": inputs, "output": output, "columns": columns, **fields}
        )
        return oid

    def width(self, oid: int) -> int:
        """Number of output columns of operator ``oid``."""
        return len(self.operators[oid]["columns"])

    def source(self, name: str, columns: list[str], kind: str = "stream") -> int:
        out = "stream" if kind == "stream" else "relation"
        return self._add(
            "source",
            [],
            out,
            len(columns),
            name=name,
            source_kind=kind,
            topic=name,
            timestamp=None,
            format="json",
        )

    def window(self, src: int, kind: str, **spec: Any) -> int:
        return self._add(
            "window", [src], "relation", self.width(src), window={"kind": kind, **spec}
        )

    def filter(self, src: int, condition: dict[str, Any]) -> int:
        out = self.operators[src]["output"]
        return self._add("filter", [src], out, self.width(src), condition=condition)

    def project(self, src: int, exprs: list[dict[str, Any]]) -> int:
        out = self.operators[src]["output"]
        return self._add("project", [src], out, len(exprs), exprs=exprs)

    def aggregate(self, src: int, group: list[int], aggs: list[dict[str, Any]]) -> int:
        return self._add(
            "aggregate", [src], "relation", len(group) + len(aggs), group=group, aggs=aggs
        )

    def join(
        self,
        left: int,
        right: int,
        join_type: str,
        condition: dict[str, Any] | None,
        op: str = "join",
    ) -> int:
        out = "stream" if op == "lookup_join" else "relation"
        return self._add(
            op,
            [left, right],
            out,
            self.width(left) + self.width(right),
            join_type=join_type,
            condition=condition,
            left_keys=[],
            right_keys=[],
            residual=condition,
        )

    def setop(self, op: str, inputs: list[int], all_: bool) -> int:
        """A set operation; UNION ALL of streams is a stream (their merge)."""
        streams = all(self.operators[i]["output"] == "stream" for i in inputs)
        output = "stream" if op == "union" and all_ and streams else "relation"
        return self._add(op, inputs, output, self.width(inputs[0]), all=all_)

    def istream(self, src: int) -> int:
        return self._add("istream", [src], "stream", self.width(src))

    def dstream(self, src: int) -> int:
        return self._add("dstream", [src], "stream", self.width(src))

    def rstream(self, src: int) -> int:
        return self._add("rstream", [src], "stream", self.width(src))

    def stream_filter(
        self, src: int, condition: dict[str, Any] | None, exprs: list[dict[str, Any]]
    ) -> int:
        return self._add(
            "stream_filter", [src], "stream", len(exprs), condition=condition, exprs=exprs
        )

    def build(self, root: int) -> dict[str, Any]:
        """The plan document with ``root`` as its result."""
        kind = self.operators[root]["output"]
        return {
            "pycql_plan": 1,
            "sql": "",
            "result": {"kind": kind, "columns": self.operators[root]["columns"]},
            "params": [],
            "root": root,
            "operators": self.operators,
        }
