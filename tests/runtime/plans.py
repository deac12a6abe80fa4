"""A tiny builder of plan dicts (docs/plan-json.md) for runtime tests, no JVM needed."""

from __future__ import annotations

from typing import Any

Expr = dict[str, Any]


def col(index: int, type_: str = "INTEGER", nullable: bool = True) -> Expr:
    return {"kind": "input", "index": index, "type": type_, "nullable": nullable}


def lit(value: Any, type_: str = "INTEGER") -> Expr:
    return {"kind": "literal", "value": value, "type": type_}


def param(index: int, type_: str = "INTEGER") -> Expr:
    return {"kind": "param", "index": index, "type": type_}


def call(op: str, *operands: Expr, type_: str = "BOOLEAN", **extra: Any) -> Expr:
    return {"kind": "call", "op": op, "operands": list(operands), "type": type_, **extra}


def columns(*names: str, type_: str = "INTEGER") -> list[dict[str, Any]]:
    out = []
    for n in names:
        name, _, t = n.partition(":")
        out.append({"name": name, "type": t or type_, "nullable": True})
    return out


class PlanBuilder:
    """Adds operators in topological order; every method returns the new id."""

    def __init__(self) -> None:
        self.ops: list[dict[str, Any]] = []

    def _add(self, op: str, inputs: list[int], cols: list[dict[str, Any]], output: str,
             **fields: Any) -> int:
        i = len(self.ops)
        self.ops.append({"id": i, "op": op, "inputs": inputs, "columns": cols,
                         "output": output, "state": {"kind": "none", "bound": None, "keys": []},
                         "reads": [], "writes": [], **fields})
        return i

    def cols(self, i: int) -> list[dict[str, Any]]:
        return list(self.ops[i]["columns"])

    def source(self, name: str, *names: str, table: bool = False) -> int:
        return self._add("source", [], columns(*names), "relation" if table else "stream",
                         name=name, source_kind="table" if table else "stream", topic=name,
                         timestamp=None, format="json")

    def window(self, i: int, kind: str, **w: Any) -> int:
        return self._add("window", [i], self.cols(i), "relation", window={"kind": kind, **w})

    def range(self, i: int, ms: int, slide: int | None = None) -> int:
        return self.window(i, "range", range_ms=ms, slide_ms=slide)

    def filter(self, i: int, cond: Expr) -> int:
        return self._add("filter", [i], self.cols(i), "relation", condition=cond)

    def project(self, i: int, *exprs: Expr, names: list[str] | None = None) -> int:
        names = names or [f"E{k}" for k in range(len(exprs))]
        cols = [{"name": n, "type": e["type"], "nullable": True}
                for n, e in zip(names, exprs, strict=True)]
        return self._add("project", [i], cols, "relation", exprs=list(exprs))

    def stream_filter(self, i: int, cond: Expr | None, *exprs: Expr) -> int:
        cols = ([{"name": f"E{k}", "type": e["type"]} for k, e in enumerate(exprs)]
                if exprs else self.cols(i))
        return self._add("stream_filter", [i], cols, "stream", condition=cond, exprs=list(exprs))

    def aggregate(self, i: int, group: list[int], *aggs: dict[str, Any]) -> int:
        in_cols = self.cols(i)
        cols = [in_cols[g] for g in group] + [
            {"name": a["name"], "type": a["type"], "nullable": True} for a in aggs]
        return self._add("aggregate", [i], cols, "relation", group=group, aggs=list(aggs))

    def join(self, left: int, right: int, join_type: str = "inner",
             left_keys: list[int] | None = None, right_keys: list[int] | None = None,
             residual: Expr | None = None, condition: Expr | None = None,
             lookup: bool = False) -> int:
        lc, rc = self.cols(left), self.cols(right)
        if join_type in ("semi", "anti"):
            cols = lc
        else:
            cols = lc + rc
        return self._add("lookup_join" if lookup else "join", [left, right], cols,
                         "stream" if lookup else "relation", join_type=join_type,
                         condition=condition or residual or lit(True, "BOOLEAN"),
                         left_keys=left_keys or [], right_keys=right_keys or [],
                         residual=residual)

    def setop(self, op: str, *inputs: int, all: bool = False) -> int:
        out = self.ops[inputs[0]]["output"]
        return self._add(op, list(inputs), self.cols(inputs[0]), out, all=all)

    def values(self, *rows: tuple[Any, ...], type_: str = "INTEGER") -> int:
        width = len(rows[0])
        return self._add("values", [], columns(*[f"C{k}" for k in range(width)], type_=type_),
                         "relation", rows=[[lit(v, type_) for v in r] for r in rows])

    def sort(self, i: int, collation: list[dict[str, Any]], offset: int | None = None,
             fetch: int | None = None) -> int:
        return self._add("sort", [i], self.cols(i), "relation", collation=collation,
                         offset=offset, fetch=fetch)

    def to_stream(self, kind: str, i: int) -> int:
        return self._add(kind, [i], self.cols(i), "stream")

    def plan(self, root: int | None = None) -> dict[str, Any]:
        root = len(self.ops) - 1 if root is None else root
        kind = self.ops[root]["output"]
        return {"pycql_plan": 1, "sql": "test", "params": [],
                "result": {"kind": kind, "columns": self.ops[root]["columns"]},
                "root": root, "operators": self.ops}


def agg(fn: str, *args: int, distinct: bool = False, type_: str = "BIGINT",
        name: str | None = None) -> dict[str, Any]:
    return {"fn": fn, "args": list(args), "distinct": distinct, "name": name or fn,
            "type": type_, "nullable": True}
