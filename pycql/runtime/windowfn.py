"""SQL window functions over relations: ``over`` and its incremental top-N, ``top_n``.

At every instant, ``f(...) OVER (PARTITION BY p ORDER BY o)`` of a row is ``f``
computed over the row's partition of the relation at that instant (docs/cql.md).
Rows that are peers under ``o`` are put in the order of their column values
(ascending, NULL first), so ``ROW_NUMBER`` is a function of the relation.

:class:`Over` keeps each partition's rows and recomputes only the partitions an
instant's delta touches; it emits the difference between a partition's old and
new output rows, so a row whose number did not change is not emitted.
:class:`TopN` keeps each partition's rows in order (only the first ``limit``
when its input only grows) and emits only the changes among the first ``limit``.

>>> order = RowOrder([{"field": 1, "direction": "DESC", "nulls": "FIRST"}])
>>> sorted([(1, 5), (1, None), (2, 7)], key=order.key)
[(1, None), (2, 7), (1, 5)]
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from pycql.errors import NotSupportedError
from pycql.runtime.expr import evaluate_constant
from pycql.runtime.functions import type_family
from pycql.runtime.operators import Delta, Operator, Pairs, Spec, compile_key
from pycql.runtime.state import Multiset, Row, consolidate

_RANKS = ("ROW_NUMBER", "RANK", "DENSE_RANK")
_AGGREGATES = ("COUNT", "SUM", "SUM0", "AVG", "MIN", "MAX")


class _Desc:
    """A value that sorts in reverse."""

    __slots__ = ("v",)

    def __init__(self, v: Any) -> None:
        self.v = v

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Desc) and bool(self.v == other.v)

    def __lt__(self, other: _Desc) -> bool:
        return bool(other.v < self.v)

    def __hash__(self) -> int:
        return hash(self.v)


_NUMERIC = ("integer", "decimal", "float")


class RowOrder:
    """The order of rows in a partition: the collation, then the rows' own values.

    ``columns`` (the input's, optional) lets a descending numeric field sort by its
    negation instead of a wrapper object.
    """

    def __init__(self, collation: Sequence[dict[str, Any]],
                 columns: Sequence[dict[str, Any]] = ()) -> None:
        self.fields: list[tuple[int, bool, bool, bool]] = []
        for c in collation:
            field = int(c["field"])
            desc = str(c.get("direction", "ASC")).upper().startswith("DESC")
            nulls = str(c.get("nulls") or ("FIRST" if desc else "LAST")).upper()
            numeric = field < len(columns) and \
                type_family(str(columns[field].get("type", ""))) in _NUMERIC
            self.fields.append((field, desc, nulls == "FIRST", numeric))

    def order_key(self, row: Row) -> tuple[Any, ...]:
        """The key of ``row`` under the collation alone (equal for peers)."""
        out: list[Any] = []
        for field, desc, nulls_first, numeric in self.fields:
            v = row[field]
            if v is None:
                out.append((0,) if nulls_first else (2,))
            elif desc:
                out.append((1, -v if numeric else _Desc(v)))
            else:
                out.append((1, v))
        return tuple(out)

    def key(self, row: Row) -> tuple[Any, ...]:
        """The sort key of ``row``: the collation, then its column values (NULL first)."""
        return self.order_key(row) + tuple((v is not None, v) for v in row)


class _Call:
    """One window function call of a group."""

    def __init__(self, call: dict[str, Any]) -> None:
        self.fn = str(call["fn"]).upper()
        if self.fn not in _RANKS + _AGGREGATES or call.get("distinct"):
            raise NotSupportedError(f"the window function {self.fn} is not supported")
        self.arg: int | None = int(call["args"][0]) if call.get("args") else None
        family = type_family(str(call.get("type", "BIGINT")))
        self.nullable = bool(call.get("nullable", True))
        self.zero: Any = 0 if family in ("integer", "decimal") else 0.0
        self.family = family

    def value(self, values: list[Any], rows: int) -> Any:
        """The aggregate over the frame's non-NULL ``values`` (of ``rows`` rows)."""
        fn = self.fn
        if fn == "COUNT":
            return rows if self.arg is None else len(values)
        if not values:
            return self.zero if fn == "SUM0" or (fn == "SUM" and not self.nullable) else None
        if fn == "MIN":
            return min(values)
        if fn == "MAX":
            return max(values)
        total = sum(values)
        if fn != "AVG":
            return total
        if self.family == "integer":
            q = abs(total) // len(values)
            return q if total >= 0 else -q
        if self.family == "decimal":
            return Decimal(total) / len(values)
        return float(total) / len(values)


class _Stage:
    """One window group: its partitions' rows and the values it appends to each row."""

    def __init__(self, group: dict[str, Any], columns: Sequence[dict[str, Any]],
                 constants: list[Any]) -> None:
        width = len(columns)
        self.key = compile_key(list(group.get("partition_by", [])))
        self.order = RowOrder(group.get("order_by", []), columns)
        self.rows_frame = bool(group.get("rows"))
        self.whole = str(group.get("upper", "CURRENT ROW")).upper() == "UNBOUNDED FOLLOWING"
        self.calls = [_Call(c) for c in group.get("calls", [])]
        self.width = width  # the input columns of the plan operator; args past them are constants
        self.constants = constants
        self.partitions: dict[Row, Multiset] = {}

    def _arg(self, row: Row, index: int) -> Any:
        return row[index] if index < self.width else self.constants[index - self.width]

    def evaluate(self, part: Multiset) -> Counter[Row]:
        """The output rows of one partition: each row followed by the calls' values."""
        rows = sorted(part.rows(), key=self.order.key)
        keys = [self.order.order_key(r) for r in rows]
        n = len(rows)
        out: Counter[Row] = Counter()
        values: list[list[Any]] = [[] for _ in self.calls]
        in_frame = 0
        rank = dense = 0
        i = 0
        while i < n:
            j = i + 1  # rows i..j-1 are peers
            while j < n and keys[j] == keys[i]:
                j += 1
            dense += 1
            rank = i + 1
            if self.whole and i == 0:
                self._extend(values, rows, 0, n)
                in_frame = n
            for r in range(i, j):
                if not self.whole:
                    end = r + 1 if self.rows_frame else j
                    if end > in_frame:
                        self._extend(values, rows, in_frame, end)
                        in_frame = end
                extra: list[Any] = []
                for c, vals in zip(self.calls, values, strict=True):
                    if c.fn == "ROW_NUMBER":
                        extra.append(r + 1)
                    elif c.fn == "RANK":
                        extra.append(rank)
                    elif c.fn == "DENSE_RANK":
                        extra.append(dense)
                    else:
                        extra.append(c.value(vals, in_frame))
                out[rows[r] + tuple(extra)] += 1
            i = j
        return out

    def _extend(self, values: list[list[Any]], rows: list[Row], start: int, end: int) -> None:
        for c, vals in zip(self.calls, values, strict=True):
            if c.arg is None or c.fn in _RANKS:
                continue
            for r in range(start, end):
                v = self._arg(rows[r], c.arg)
                if v is not None:
                    vals.append(v)

    def step(self, pairs: Pairs, dirty: set[Any] | None = None, member: str = "") -> Pairs:
        """The stage over an instant's ``pairs``; ``dirty`` (tracking on) gets
        ``(member, partition)`` of each partition touched."""
        touched: dict[Row, list[tuple[Row, int]]] = {}
        for row, count in consolidate(pairs).items():
            touched.setdefault(self.key(row), []).append((row, count))
        if dirty is not None:
            dirty.update((member, key) for key in touched)
        out: Pairs = []
        for key, changes in touched.items():
            part = self.partitions.get(key)
            if part is None:
                part = self.partitions[key] = Multiset()
            before = self.evaluate(part) if part else Counter()
            part.update_pairs(changes)
            after = self.evaluate(part) if part else Counter()
            if not part:
                del self.partitions[key]
            for row in before.keys() | after.keys():
                d = after.get(row, 0) - before.get(row, 0)
                if d:
                    out.append((row, d))
        return out


class Over(Operator):
    """``over``: each input row followed by the values of its window function calls.

    Every group of the plan is a stage; a stage's input is the previous stage's
    output (the input columns followed by the values computed so far). The state is
    an object with a member per stage (``"0"``, ``"1"``, ...) of ``[partition key,
    rows]`` pairs; tracked (:attr:`Operator.dirty`): ``(stage, partition)`` of each
    partition an instant touched.
    """

    def __init__(self, spec: Spec, inputs: Sequence[Spec], params: Sequence[object]) -> None:
        super().__init__(spec, inputs, params)
        columns = inputs[0].get("columns", []) if inputs else []
        constants = [evaluate_constant(e, params) for e in spec.get("constants", [])]
        self.stages = [_Stage(g, columns, constants) for g in spec.get("groups", [])]
        self._members = tuple(str(i) for i in range(len(self.stages)))
        self.tracked_members = self._members
        self.trackable = bool(self.stages)

    def step(self, tau: int | None, inputs: list[Delta | None]) -> Delta | None:
        d: Pairs | None = inputs[0]
        for member, stage in zip(self._members, self.stages, strict=True):
            if not d:
                return None
            d = stage.step(d, self.dirty, member)
        return d or None

    def state(self) -> Any:
        return {member: [[list(k), p.to_json()] for k, p in s.partitions.items()]
                for member, s in zip(self._members, self.stages, strict=True)}

    def changed_pairs(self) -> list[tuple[str | None, Any, Any]]:
        dirty = self.dirty or set()
        out: list[tuple[str | None, Any, Any]] = []
        for member, stage in zip(self._members, self.stages, strict=True):
            parts = stage.partitions
            out += [(member, list(k), None if (p := parts.get(k)) is None else p.to_json())
                    for m, k in dirty if m == member]
        return out

    def touch_all(self) -> None:
        self.dirty = {(member, k) for member, s in zip(self._members, self.stages,
                                                       strict=True) for k in s.partitions}

    def load(self, data: Any) -> None:
        if isinstance(data, list):  # saved before the state was an object (one per stage)
            data = dict(zip(self._members, data, strict=True))
        for member, stage in zip(self._members, self.stages, strict=True):
            stage.partitions = {tuple(k): Multiset.from_json(p) for k, p in data[member]}


class TopN(Operator):
    """``top_n``: per partition, the first ``limit`` rows in order, each with its number.

    A partition is a list of its rows in :class:`RowOrder` (a row of count 2 is
    there twice) beside the list of their sort keys; an instant's changes are put
    in place by binary search over the keys and only the differences among the
    first ``limit`` are emitted. With ``append_only`` (the input never deletes) a
    partition keeps ``limit`` rows. Tracked (:attr:`Operator.dirty`): the partitions
    an instant touched.
    """

    trackable = True

    def __init__(self, spec: Spec, inputs: Sequence[Spec], params: Sequence[object]) -> None:
        super().__init__(spec, inputs, params)
        self.key = compile_key(list(spec.get("partition_by", [])))
        columns = inputs[0].get("columns", []) if inputs else []
        self.order = RowOrder(spec.get("order_by", []), columns)
        self.limit = int(spec["limit"])
        self.append_only = bool(spec.get("append_only"))
        #: partition key -> (sort keys, rows), both in order
        self.partitions: dict[Row, tuple[list[Any], list[Row]]] = {}

    def _apply(self, keys: list[Any], rows: list[Row], row: Row, count: int) -> None:
        k = self.order.key(row)
        i = bisect.bisect_left(keys, k)
        if count > 0:
            keys[i:i] = [k] * count
            rows[i:i] = [row] * count
            if self.append_only:
                del keys[self.limit:]
                del rows[self.limit:]
            return
        j = i
        while j < len(rows) and j - i < -count and rows[j] == row:
            j += 1
        del keys[i:j]
        del rows[i:j]

    def step(self, tau: int | None, inputs: list[Delta | None]) -> Delta | None:
        d = inputs[0]
        if not d:
            return None
        touched: dict[Row, list[tuple[Row, int]]] = {}
        for row, count in consolidate(d).items():
            touched.setdefault(self.key(row), []).append((row, count))
        out: Pairs = []
        limit = self.limit
        if self.dirty is not None:
            self.dirty.update(touched)
        for pkey, changes in touched.items():
            part = self.partitions.get(pkey)
            if part is None:
                part = self.partitions[pkey] = ([], [])
            keys, rows = part
            before = rows[:limit]
            for row, count in sorted(changes, key=lambda c: c[1]):  # deletes first
                self._apply(keys, rows, row, count)
            after = rows[:limit]
            if not rows:
                del self.partitions[pkey]
            for i in range(max(len(before), len(after))):
                old = before[i] if i < len(before) else None
                new = after[i] if i < len(after) else None
                if old == new:
                    continue
                if old is not None:
                    out.append(((*old, i + 1), -1))
                if new is not None:
                    out.append(((*new, i + 1), 1))
        return out or None

    def rows_of(self, partition: Row) -> list[Row]:
        """The rows a partition keeps, in order."""
        part = self.partitions.get(partition)
        return list(part[1]) if part else []

    def state(self) -> Any:
        return [[list(k), [list(r) for r in rows]] for k, (_, rows) in self.partitions.items()]

    def changed_pairs(self) -> list[tuple[str | None, Any, Any]]:
        parts = self.partitions
        return [(None, list(k), None if (p := parts.get(k)) is None else [list(r) for r in p[1]])
                for k in self.dirty or ()]

    def touch_all(self) -> None:
        self.dirty = set(self.partitions)

    def load(self, data: Any) -> None:
        self.partitions = {}
        for k, rows in data:
            part = [tuple(r) for r in rows]
            self.partitions[tuple(k)] = ([self.order.key(r) for r in part], part)


__all__ = ["Over", "RowOrder", "TopN"]
