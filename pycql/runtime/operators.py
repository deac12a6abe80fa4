"""The physical operators: one object per plan operator, one call per instant.

Every operator gets, once per instant ``tau``, the deltas its inputs produced at
``tau`` and returns its own delta (or ``None`` for no change):

* a *stream* delta is a list of rows (each row is a tuple) that arrive at ``tau``;
* a *relation* delta is a list of ``(row, count)`` pairs, ``count`` positive for
  inserts and negative for deletes; pairs need not be consolidated (the same row
  may appear several times), operators that care consolidate.

``tau is None`` is the *initialization instant*, run once when an executor is
created: constant relations (``VALUES``) and global aggregates (one row over an
empty input) publish their initial rows then, and stream-producing operators
emit nothing.

Windows also have timers (:meth:`Operator.next_timer`): the instants where their
contents change without input (a RANGE tuple expiring, a NOW tuple leaving, a
SLIDE boundary, a SESSION closing). The executor runs an instant at every timer.

Every operator's synopsis is serializable (:meth:`Operator.state`,
:meth:`Operator.load`) through :mod:`pycql.runtime.state`.

Rows an expression fails on (:data:`~pycql.runtime.functions.ROW_ERRORS`):
with :attr:`Operator.reject` set (the executor's ``"dead_letter"`` mode), the
operators that evaluate expressions per row (filter, project, stream_filter,
the residual condition of join and lookup_join) hand such a row to it and go
on with the rest of the batch, before the row touches their state; without it
the error propagates. A batch is evaluated whole first and only a batch that
raises again row by row, so good batches cost what they did.
"""

from __future__ import annotations

import math
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from fractions import Fraction
from itertools import compress, groupby
from operator import itemgetter
from typing import Any

from pycql.errors import NotSupportedError, ProgrammingError
from pycql.runtime.expr import (
    BatchFunction,
    CompiledFunction,
    ExprCompiler,
    compile_batch,
    compile_join_predicate,
    evaluate_constant,
)
from pycql.runtime.functions import ROW_ERRORS, type_family
from pycql.runtime.state import KeyedStore, Multiset, Row, consolidate

Spec = dict[str, Any]
Pairs = list[tuple[Row, int]]
Delta = Any  # list[Row] for streams, Pairs for relations

#: ``reject(op, tau, row, count, exc, side)``: ``op`` sets aside ``count`` copies of
#: ``row`` of its input ``side`` at instant ``tau`` because evaluating an expression
#: over it raised ``exc``. A negative ``count`` is the retraction of a row set aside
#: before (a window expiring it, a table deleting it): nothing new.
RejectHook = Callable[["Operator", "int | None", Row, int, Exception, int], None]


def compile_key(indexes: Sequence[int], row: str = "r") -> Callable[[Row], Row]:
    """A fast ``row -> tuple of row[i] for i in indexes``."""
    body = "(" + "".join(f"{row}[{i}], " for i in indexes).rstrip(" ") + ")"
    namespace: dict[str, Any] = {}
    exec(compile(f"def _key({row}):\n    return {body}", "<pycql key>", "exec"), namespace)
    fn: Callable[[Row], Row] = namespace["_key"]
    return fn


def _rows_json(rows: Sequence[Row]) -> list[Row]:
    """Rows as state to save: a list of the row tuples, which orjson writes as arrays
    (copying each into a list cost 6% of a windowed count's exactly-once job)."""
    return list(rows)


def _changed_keys(member: str | None, store: Mapping[Any, Any], keys: Iterable[Any],
                  encode: Callable[[Any], Any]) -> list[tuple[str | None, Any, Any]]:
    """``(member, key as a list, encoded value)`` of the changed ``keys`` of a keyed
    ``store`` (the value ``None``: the key is gone)."""
    return [(member, list(k), None if (v := store.get(k)) is None else encode(v))
            for k in keys]


def _changed_panes(member: str | None, panes: deque[list[Any]],
                   changed: Iterable[int]) -> list[tuple[str | None, Any, Any]]:
    """``(member, time, rows)`` of the changed panes of a time-ordered deque of
    ``[time, rows]`` (``rows`` ``None``: the pane is gone).

    Panes are added (or added to) at the end and leave from the front, so those
    changed since the last save that are still there are the deque's last ones.
    """
    changed = set(changed)
    found: dict[int, list[Row]] = {}
    for t, rows in reversed(panes):
        if t not in changed:
            break
        found[t] = rows
    return [(member, t, None if (rows := found.get(t)) is None else _rows_json(rows))
            for t in changed]


_FIRST = itemgetter(0)
_SECOND = itemgetter(1)


def _ceil_to(value: int, step: int) -> int:
    return -((-value) // step) * step


def _add_in_place(panes: deque[list[Any]], boundary: int, rows: Sequence[Row]) -> None:
    """``rows`` into the pane ``boundary`` of a time-ordered deque of ``[time, rows]``
    panes that has later ones: added to it, or a new pane in its place."""
    for i in range(len(panes) - 1, -1, -1):
        t = panes[i][0]
        if t == boundary:
            panes[i][1].extend(rows)
            return
        if t < boundary:
            panes.insert(i + 1, [boundary, list(rows)])
            return
    panes.appendleft([boundary, list(rows)])


class Operator:
    """Base class: the fields every plan operator has.

    ``always`` operators run at every instant (RSTREAM), others only when an
    input changed or a timer of theirs fell due.
    """

    always = False

    #: where rows an expression fails on go (see :data:`RejectHook`); ``None``: the
    #: error propagates (the executor's ``"fail"`` mode)
    reject: RejectHook | None = None

    def __init__(self, spec: Spec, inputs: Sequence[Spec], params: Sequence[object]) -> None:
        self.id: int = spec["id"]
        self.spec = spec
        self.inputs: list[int] = list(spec.get("inputs", []))
        self.columns: list[dict[str, Any]] = list(spec.get("columns", []))
        self.output: str = spec.get("output", "relation")
        self.input_specs = list(inputs)

    def step(self, tau: int | None, inputs: list[Delta | None]) -> Delta | None:
        """Apply the input deltas of instant ``tau`` and return this operator's delta."""
        raise NotImplementedError

    def next_timer(self) -> int | None:
        """The next instant where this operator changes without input, if any."""
        return None

    def state(self) -> Any:
        """The synopsis as JSON-able data (``None``: stateless)."""
        return None

    #: Keyed state tracked for incremental checkpoints: the keys whose entry changed
    #: since the last :meth:`clean` (``None``: this operator's :meth:`state` is taken
    #: whole). An operator that tracks its keys has a :meth:`state` of ``[key, value]``
    #: pairs, or an object whose members (:attr:`tracked_members`) are such pairs; its
    #: :meth:`changed_pairs` gives the changed ones.
    dirty: set[Any] | None = None
    #: whether this operator can track its changed keys (:attr:`dirty`); the
    #: executor turns it on for a job's task (:meth:`Executor.track_changes
    #: <pycql.runtime.executor.Executor.track_changes>`), a cursor never pays for it
    trackable = False
    #: the members of a tracked state that is an object (``dirty`` then holds
    #: ``(member, key)``); ``None``: the state is the pairs themselves
    tracked_members: tuple[str, ...] | None = None

    @property
    def tracked_shape(self) -> Any:
        """How a tracked state is cut: ``"pairs"``, or ``{member: "pairs"}``."""
        if self.tracked_members is None:
            return "pairs"
        return dict.fromkeys(self.tracked_members, "pairs")

    def changed_pairs(self) -> list[tuple[str | None, Any, Any]]:
        """``(member, key, value)`` of each changed key as :meth:`state` writes it
        (``member`` ``None`` for a state of pairs; ``value`` ``None``: the key is gone)."""
        raise NotImplementedError

    def touch_all(self) -> None:
        """Count every key as changed (its state is to be written whole once)."""
        raise NotImplementedError

    def clean(self) -> None:
        """The changed keys are saved (see :attr:`dirty`)."""
        if self.dirty is not None:
            self.dirty.clear()

    def timed_batch(self) -> BatchFunction | None:
        """This operator over ``(row, timestamp)`` pairs of many instants at once, if it can.

        Only stateless row-by-row operators over a stream can: their output
        at ``tau`` depends on their input at ``tau`` alone, so one pass over
        the pairs of a whole batch (in time order) gives each instant's output
        in order, the timestamp riding along in the pair. ``None`` otherwise.
        Its :meth:`~pycql.runtime.expr.BatchFunction.isolating` twin hands each
        failing row to its callback with the row's timestamp as the count.
        """
        return None

    def row_map(self) -> Callable[[Sequence[Row]], Sequence[Row]] | None:
        """This operator over a stream's rows as a function of the rows alone, if it
        keeps every row (a projection): the rows of many instants go through it in one
        call, and their timestamps need not ride along (as in :meth:`timed_batch`). Its
        errors are those of :meth:`timed_batch`'s function, which isolates them."""
        return None

    def load(self, data: Any) -> None:
        """Restore what :meth:`state` returned."""


# --- sources and stateless operators -------------------------------------------------


class Source(Operator):
    """A declared stream (rows) or table (``(row, ±1)`` changes), fed by ``push``."""

    def __init__(self, spec: Spec, inputs: Sequence[Spec], params: Sequence[object]) -> None:
        super().__init__(spec, inputs, params)
        self.name: str = spec["name"]
        self.is_table = spec.get("source_kind") == "table" or self.output == "relation"

    def step(self, tau: int | None, inputs: list[Delta | None]) -> Delta | None:
        return inputs[0] if inputs else None


def _is_relation(spec: Spec) -> bool:
    return bool(spec.get("output", "relation") != "stream")


def _timed_batch(
    condition: Any, exprs: Any, columns: Sequence[dict[str, Any]], params: Sequence[object]
) -> BatchFunction:
    """The select-project over ``(row, timestamp)`` pairs.

    A relation delta's compiled form carries a value (its count) next to each
    row through the condition and the projection; here that value is the
    timestamp.

    >>> a_gt_1 = {"kind": "call", "op": ">", "type": "BOOLEAN", "operands": [
    ...     {"kind": "input", "index": 0, "type": "INTEGER"},
    ...     {"kind": "literal", "value": 1, "type": "INTEGER"}]}
    >>> fn = _timed_batch(a_gt_1, None, [{"name": "A", "type": "INTEGER"}], ())
    >>> fn([((1,), 10), ((2,), 11)])
    [((2,), 11)]
    """
    return compile_batch(condition, exprs, columns, params, counted=True)


class _RowByRow(Operator):
    """A stateless select-project of its input, one compiled batch function per step.

    A batch that raises one of :data:`ROW_ERRORS` is evaluated again row by row
    (the function's isolating twin) when :attr:`reject` is set: the rows that
    evaluate give exactly their output, the others go to :attr:`reject`.
    """

    fn: BatchFunction

    def step(self, tau: int | None, inputs: list[Delta | None]) -> Delta | None:
        d = inputs[0]
        if not d:
            return None
        try:
            return self.fn.fn(d)
        except ROW_ERRORS:
            if self.reject is None:
                raise
            return self._isolate(tau, d)

    def _isolate(self, tau: int | None, d: Delta) -> Delta:
        reject = self.reject
        assert reject is not None

        def set_aside(row: Row, count: int, exc: Exception) -> None:
            reject(self, tau, row, count, exc, 0)

        return self.fn.isolating()(d, set_aside)


class Filter(_RowByRow):
    """Filter: keeps rows whose condition IS TRUE (over a relation delta or a stream)."""

    def __init__(self, spec: Spec, inputs: Sequence[Spec], params: Sequence[object]) -> None:
        super().__init__(spec, inputs, params)
        self.fn = compile_batch(spec["condition"], None, inputs[0]["columns"], params,
                                counted=_is_relation(inputs[0]))
        self._timed_args = (spec["condition"], None, inputs[0]["columns"], params)
        self._over_stream = not _is_relation(inputs[0])

    def timed_batch(self) -> BatchFunction | None:
        return _timed_batch(*self._timed_args) if self._over_stream else None


class Project(_RowByRow):
    """Projection (one compiled comprehension per batch) over a relation or a stream."""

    def __init__(self, spec: Spec, inputs: Sequence[Spec], params: Sequence[object]) -> None:
        super().__init__(spec, inputs, params)
        self.fn = compile_batch(None, spec["exprs"], inputs[0]["columns"], params,
                                counted=_is_relation(inputs[0]))
        self._timed_args = (None, spec["exprs"], inputs[0]["columns"], params)
        self._over_stream = not _is_relation(inputs[0])

    def timed_batch(self) -> BatchFunction | None:
        return _timed_batch(*self._timed_args) if self._over_stream else None

    def row_map(self) -> Callable[[Sequence[Row]], Sequence[Row]] | None:
        return self.fn.fn if self._over_stream else None


class StreamFilter(_RowByRow):
    """Stateless select-project over a stream (ISTREAM of ``S [NOW]``/``[UNBOUNDED]``)."""

    def __init__(self, spec: Spec, inputs: Sequence[Spec], params: Sequence[object]) -> None:
        super().__init__(spec, inputs, params)
        exprs = spec.get("exprs")
        self.fn = compile_batch(spec.get("condition"), exprs if exprs else None,
                                inputs[0]["columns"], params, counted=False)
        self._timed_args = (spec.get("condition"), exprs if exprs else None,
                            inputs[0]["columns"], params)

    def timed_batch(self) -> BatchFunction | None:
        return _timed_batch(*self._timed_args)

    def row_map(self) -> Callable[[Sequence[Row]], Sequence[Row]] | None:
        return self.fn.fn if self.spec.get("condition") is None else None


class Values(Operator):
    """A constant relation, published at the initialization instant."""

    def __init__(self, spec: Spec, inputs: Sequence[Spec], params: Sequence[object]) -> None:
        super().__init__(spec, inputs, params)
        self.rows = [tuple(evaluate_constant(e, params) for e in row) for row in spec["rows"]]

    def step(self, tau: int | None, inputs: list[Delta | None]) -> Delta | None:
        if tau is None:
            return [(row, 1) for row in self.rows]
        return None


class Exchange(Operator):
    """A repartitioning between two stages of a job (docs/plan-json.md). In one process
    every row is already where the next operator runs: its input passes through.

    Over a stream it is stateless row by row (the identity), so a stage that ends at
    it after filters and projections (a stage writing its exchange) runs all the
    instants of a batch in one pass (:meth:`Operator.timed_batch`)."""

    def __init__(self, spec: Spec, inputs: Sequence[Spec], params: Sequence[object]) -> None:
        super().__init__(spec, inputs, params)
        self._timed_args = (None, None, inputs[0]["columns"], params)
        self._over_stream = not _is_relation(inputs[0])

    def step(self, tau: int | None, inputs: list[Delta | None]) -> Delta | None:
        return inputs[0]

    def timed_batch(self) -> BatchFunction | None:
        return _timed_batch(*self._timed_args) if self._over_stream else None

    def row_map(self) -> Callable[[Sequence[Row]], Sequence[Row]] | None:
        return _same_rows if self._over_stream else None


def _same_rows(rows: Sequence[Row]) -> Sequence[Row]:
    return rows


# --- windows: stream -> relation ------------------------------------------------------


class UnboundedWindow(Operator):
    """``[UNBOUNDED]``: every element stays forever (no synopsis needed here)."""

    def step(self, tau: int | None, inputs: list[Delta | None]) -> Delta | None:
        d = inputs[0]
        return [(r, 1) for r in d] if d else None


class RangeWindow(Operator):
    """``[RANGE T]`` (and ``[NOW]`` = RANGE of one time unit).

    At instant ``tau`` the window holds the elements with timestamp in
    ``(tau - T, tau]``: an element arriving at ``t`` is inserted at ``t`` and
    deleted at ``t + T``. Elements are kept in arrival order in a deque of
    ``[expiry, rows]`` panes (one pane per arrival instant).
    """

    trackable = True

    def __init__(self, spec: Spec, inputs: Sequence[Spec], params: Sequence[object],
                 range_ms: int) -> None:
        super().__init__(spec, inputs, params)
        if range_ms <= 0:
            raise ProgrammingError(f"a RANGE window needs a positive range, got {range_ms}")
        self.range = range_ms
        self.panes: deque[list[Any]] = deque()

    def step(self, tau: int | None, inputs: list[Delta | None]) -> Delta | None:
        if tau is None:
            return None
        out: Pairs = []
        panes = self.panes
        dirty = self.dirty  # the expiries of panes added to, or gone
        while panes and panes[0][0] <= tau:
            expiry, rows = panes.popleft()
            if dirty is not None:
                dirty.add(expiry)
            out.extend([(r, -1) for r in rows])
        d = inputs[0]
        if d:
            out.extend([(r, 1) for r in d])
            expiry = tau + self.range
            if panes and panes[-1][0] == expiry:
                panes[-1][1].extend(d)
            else:
                panes.append([expiry, list(d)])
            if dirty is not None:
                dirty.add(expiry)
        return out or None

    def next_timer(self) -> int | None:
        return self.panes[0][0] if self.panes else None

    def state(self) -> Any:
        return [[t, _rows_json(rows)] for t, rows in self.panes]

    def changed_pairs(self) -> list[tuple[str | None, Any, Any]]:
        return _changed_panes(None, self.panes, self.dirty or ())

    def touch_all(self) -> None:
        self.dirty = {t for t, _ in self.panes}

    def load(self, data: Any) -> None:
        self.panes = deque([int(t), [tuple(r) for r in rows]] for t, rows in data)


class SlideWindow(Operator):
    """``[RANGE T SLIDE S]``: contents change only at multiples of ``S``.

    At ``tau`` the window is the RANGE window at ``b = floor(tau / S) * S``,
    the elements with timestamp in ``(b - T, b]``. An element arriving at ``t``
    enters at the first boundary ``>= t`` and leaves at the first boundary
    ``>= t + T``. Elements are grouped into panes by boundary, so each boundary
    moves whole panes (slice sharing): ``entering`` and ``leaving`` are deques of
    ``[boundary, rows]``.
    """

    def __init__(self, spec: Spec, inputs: Sequence[Spec], params: Sequence[object],
                 range_ms: int, slide_ms: int) -> None:
        super().__init__(spec, inputs, params)
        if range_ms <= 0 or slide_ms <= 0:
            raise ProgrammingError("RANGE and SLIDE of a window must be positive")
        self.range = range_ms
        self.slide = slide_ms
        self.entering: deque[list[Any]] = deque()
        self.leaving: deque[list[Any]] = deque()
        #: whether a pane moves as its distinct rows with their counts (``(row, n)``
        #: pairs, not ``n`` pairs ``(row, 1)``): set by the executor when the window
        #: feeds an aggregate, whose narrow input rows repeat
        self.counted = False
        #: per (member, boundary) pane: the first rows of its saved segments, and the
        #: rows saved (see changed_pairs); what the next clean() will have saved
        self._segments: dict[tuple[str, int], tuple[list[int], int]] = {}
        self._pending_segments: dict[tuple[str, int], int | None] = {}
        #: panes restored from pairs keyed by boundary alone (before segments)
        self._legacy: list[tuple[str, int]] = []

    def _add(self, member: str, panes: deque[list[Any]], boundary: int,
             rows: Sequence[Row]) -> None:
        if not panes or panes[-1][0] < boundary:
            panes.append([boundary, list(rows)])
        elif panes[-1][0] == boundary:
            panes[-1][1].extend(rows)
        else:  # fed ahead of time (feed), a batch may reach back before the last pane
            _add_in_place(panes, boundary, rows)
        if self.dirty is not None:  # (member, boundary) of panes added to, or gone
            self.dirty.add((member, boundary))

    def _counted(self, rows: list[Row], sign: int) -> Pairs:
        """A pane's rows as ``(row, sign * copies)`` pairs. One-column rows are counted
        by their value: a tuple's hash is computed anew each time it is asked for."""
        if len(self.columns) == 1:
            counts = Counter(map(_FIRST, rows))
            return [((v,), sign * n) for v, n in counts.items()]
        if sign > 0:
            return list(Counter(rows).items())
        return [(r, -n) for r, n in Counter(rows).items()]

    def feed(self, rows: Sequence[Row], times: Sequence[int]) -> None:
        """Stream rows at instants not closed yet (``times[i]`` of ``rows[i]``), put
        into the panes they will enter and leave, before those instants run: the
        executor's direct feed of a window (:meth:`Executor.push_many
        <pycql.runtime.executor.Executor.push_many>`). An instant between boundaries
        changes nothing, so the panes :meth:`step` would have filled at each row's
        instant are filled now, and only the boundaries run.
        """
        if not rows:
            return
        slide, span = self.slide, self.range
        first, last = _ceil_to(min(times), slide), _ceil_to(max(times), slide)
        if span % slide == 0:  # every row leaves T after the boundary it enters at
            if first == last:  # the common batch: one pane
                self._add("entering", self.entering, first, rows)
                self._add("leaving", self.leaving, first + span, rows)
                return
            enters = [-(-t // slide) * slide for t in times]
            by_pane = sorted(zip(enters, rows, strict=True), key=_FIRST)
            for boundary, run in groupby(by_pane, key=_FIRST):
                part = list(map(_SECOND, run))
                self._add("entering", self.entering, boundary, part)
                self._add("leaving", self.leaving, boundary + span, part)
            return
        panes: dict[tuple[int, int], list[Row]] = {}
        for t, row in zip(times, rows, strict=True):
            enter, leave = _ceil_to(t, slide), _ceil_to(t + span, slide)
            if leave > enter:  # else it falls between two boundaries: never inside
                panes.setdefault((enter, leave), []).append(row)
        for (enter, leave), part in sorted(panes.items(), key=_FIRST):
            self._add("entering", self.entering, enter, part)
            self._add("leaving", self.leaving, leave, part)

    def step(self, tau: int | None, inputs: list[Delta | None]) -> Delta | None:
        if tau is None:
            return None
        out: Pairs = []
        dirty = self.dirty
        counted = self.counted
        while self.leaving and self.leaving[0][0] <= tau:
            boundary, rows = self.leaving.popleft()
            if dirty is not None:
                dirty.add(("leaving", boundary))
            out.extend(self._counted(rows, -1) if counted else [(r, -1) for r in rows])
        while self.entering and self.entering[0][0] <= tau:
            boundary, rows = self.entering.popleft()
            if dirty is not None:
                dirty.add(("entering", boundary))
            out.extend(self._counted(rows, 1) if counted else [(r, 1) for r in rows])
        d = inputs[0]
        if d:
            enter = _ceil_to(tau, self.slide)
            leave = _ceil_to(tau + self.range, self.slide)
            if leave > enter:
                if enter <= tau:
                    out.extend([(r, 1) for r in d])
                else:
                    self._add("entering", self.entering, enter, d)
                self._add("leaving", self.leaving, leave, d)
        return out or None

    # Saved in segments: a pane's rows are written as the runs added between saves, each
    # a pair of its own keyed ``[boundary, index of its first row]``, so a pane that
    # grows over many commits is not written again and again.
    trackable = True
    tracked_members = ("entering", "leaving")

    def changed_pairs(self) -> list[tuple[str | None, Any, Any]]:
        dirty = self.dirty if self.dirty is not None else set()
        if self._legacy:  # panes restored from pairs keyed by boundary: rewrite them all
            self.touch_all()
            dirty = self.dirty or set()
        out: list[tuple[str | None, Any, Any]] = [(m, b, None) for m, b in self._legacy]
        pending: dict[tuple[str, int], int | None] = {}
        for member, panes in (("entering", self.entering), ("leaving", self.leaving)):
            changed = {b for m, b in dirty if m == member}
            # not only the last panes change: a fed batch may reach back (feed)
            present = {t: rows for t, rows in panes if t in changed}
            for b in changed:
                starts, saved = self._segments.get((member, b), ([], 0))
                rows = present.get(b)
                if rows is None:
                    out += [(member, [b, start], None) for start in starts]
                    pending[(member, b)] = None
                elif len(rows) > saved:
                    out.append((member, [b, saved], _rows_json(rows[saved:])))
                    pending[(member, b)] = len(rows)
        self._pending_segments = pending
        return out

    def clean(self) -> None:
        for pane, length in self._pending_segments.items():
            if length is None:
                self._segments.pop(pane, None)
            else:
                starts, saved = self._segments.get(pane, ([], 0))
                self._segments[pane] = ([*starts, saved], length)
        self._pending_segments = {}
        self._legacy = []
        super().clean()

    def touch_all(self) -> None:
        self.dirty = {("entering", b) for b, _ in self.entering} | {
            ("leaving", b) for b, _ in self.leaving}

    def next_timer(self) -> int | None:
        times = [p[0][0] for p in (self.entering, self.leaving) if p]
        return min(times) if times else None

    def state(self) -> Any:
        return {
            "entering": [[[t, 0], _rows_json(rows)] for t, rows in self.entering],
            "leaving": [[[t, 0], _rows_json(rows)] for t, rows in self.leaving],
        }

    def load(self, data: Any) -> None:
        self._segments = {}
        self._legacy = []
        self.entering = self._panes("entering", data["entering"])
        self.leaving = self._panes("leaving", data["leaving"])

    def _panes(self, member: str, pairs: list[list[Any]]) -> deque[list[Any]]:
        """Panes from ``[[boundary, first row], rows]`` segments (or, as saved before
        segments, ``[boundary, rows]``), in time order."""
        segments = sorted(((k, 0, True) if isinstance(k, int) else (int(k[0]), int(k[1]), False),
                           rows) for k, rows in pairs)
        panes: deque[list[Any]] = deque()
        for (boundary, start, legacy), rows in segments:
            if panes and panes[-1][0] == boundary:
                panes[-1][1].extend(tuple(r) for r in rows)
            else:
                panes.append([boundary, [tuple(r) for r in rows]])
            if legacy:  # to be written again as segments (and its piece deleted)
                self._legacy.append((member, boundary))
            else:
                starts, _ = self._segments.get((member, boundary), ([], 0))
                self._segments[(member, boundary)] = ([*starts, start], len(panes[-1][1]))
        return panes


def _value_key(row: Row) -> tuple[Any, ...]:
    """Ascending by the values left to right: NULL first, NaN after every number."""
    return tuple((0, 0) if v is None else (1, v) if v == v else (2, 0) for v in row)


def _text_key(row: Row) -> tuple[Any, ...]:
    """The fallback of :func:`_value_key` for values without an order (a MAP)."""
    return tuple((0, "", "") if v is None else (1, type(v).__name__, repr(v)) for v in row)


def in_value_order(rows: Sequence[Row]) -> Sequence[Row]:
    """The elements of one instant in the order a ROWS window takes them (docs/cql.md):
    ascending by their values, so the window does not depend on arrival order."""
    if len(rows) < 2:
        return rows
    try:
        return sorted(rows, key=_value_key)
    except TypeError:
        return sorted(rows, key=_text_key)


class RowsWindow(Operator):
    """``[ROWS N]`` and ``[PARTITION BY k ROWS N]``: the last N elements (per partition).

    Elements are taken by timestamp and, within one instant, in the order of their
    values (:func:`in_value_order`), not of their arrival: the window is a function of
    the stream (also over a derived stream, or partitions read in any interleaving).
    A deque per partition holds the window. Tracked (:attr:`Operator.dirty`): the
    partitions whose window changed.
    """

    trackable = True

    def __init__(self, spec: Spec, inputs: Sequence[Spec], params: Sequence[object],
                 rows: int, partition_by: Sequence[int]) -> None:
        super().__init__(spec, inputs, params)
        if rows < 0:
            raise ProgrammingError(f"a ROWS window needs a non-negative size, got {rows}")
        self.n = rows
        self.partition_by = list(partition_by)
        self.key = compile_key(self.partition_by)
        self.windows: KeyedStore[deque[Row]] = KeyedStore()

    def _slide(self, window: deque[Row], rows: Sequence[Row], out: Pairs) -> None:
        """Move ``window`` on by ``rows``, already in :func:`in_value_order`."""
        n = self.n
        if len(rows) >= n:
            out.extend([(r, -1) for r in window])
            window.clear()
            kept = rows[len(rows) - n:] if n else ()
            window.extend(kept)
            out.extend([(r, 1) for r in kept])
            return
        window.extend(rows)
        out.extend([(r, 1) for r in rows])
        while len(window) > n:
            out.append((window.popleft(), -1))

    def step(self, tau: int | None, inputs: list[Delta | None]) -> Delta | None:
        d = inputs[0]
        if not d or tau is None:
            return None
        out: Pairs = []
        dirty = self.dirty
        if not self.partition_by:
            window = self.windows.get(())
            if window is None:
                window = self.windows[()] = deque()
            self._slide(window, in_value_order(d), out)
            if dirty is not None:
                dirty.add(())
            return out or None
        groups: dict[Row, list[Row]] = {}
        key = self.key
        for r in d:
            k = key(r)
            g = groups.get(k)
            if g is None:
                groups[k] = [r]
            else:
                g.append(r)
        for k, rows in groups.items():
            window = self.windows.get(k)
            if window is None:
                window = self.windows[k] = deque()
            self._slide(window, in_value_order(rows), out)
        if dirty is not None:
            dirty.update(groups)
        return out or None

    def state(self) -> Any:
        return self.windows.to_json(_rows_json)

    def changed_pairs(self) -> list[tuple[str | None, Any, Any]]:
        return _changed_keys(None, self.windows, self.dirty or (), _rows_json)

    def touch_all(self) -> None:
        self.dirty = set(self.windows)

    def load(self, data: Any) -> None:
        self.windows = KeyedStore.from_json(data, lambda rows: deque(tuple(r) for r in rows))


class SlidingRowsWindow(RowsWindow):
    """``[ROWS N SLIDE M]`` and ``[PARTITION BY k ROWS N SLIDE M]``.

    The window (of each partition) changes only when the count of elements that
    arrived reaches a multiple of ``M``: it then holds the last ``N`` of them, counted
    in the order of :class:`RowsWindow` (the elements of one instant by value).
    Arrivals wait in ``pending`` (fewer than ``M`` per partition) until then.
    Tracked: ``(member, partition)`` of the windows and pending rows that changed.
    """

    tracked_members = ("windows", "pending")

    def __init__(self, spec: Spec, inputs: Sequence[Spec], params: Sequence[object],
                 rows: int, slide: int, partition_by: Sequence[int]) -> None:
        super().__init__(spec, inputs, params, rows, partition_by)
        if slide <= 0:
            raise ProgrammingError(f"a ROWS window needs a positive SLIDE, got {slide}")
        self.slide_rows = slide
        self.pending: KeyedStore[list[Row]] = KeyedStore()

    def _arrive(self, k: Row, rows: Sequence[Row], out: Pairs) -> None:
        pending = self.pending.get(k)
        if pending is None:
            pending = self.pending[k] = []
        pending.extend(in_value_order(rows))
        dirty = self.dirty
        if dirty is not None:
            dirty.add(("pending", k))
        full = len(pending) // self.slide_rows * self.slide_rows
        if not full:
            return
        entering = pending[:full]
        del pending[:full]
        if not pending:
            del self.pending[k]
        window = self.windows.get(k)
        if window is None:
            window = self.windows[k] = deque()
        self._slide(window, entering, out)
        if dirty is not None:
            dirty.add(("windows", k))

    def step(self, tau: int | None, inputs: list[Delta | None]) -> Delta | None:
        d = inputs[0]
        if not d or tau is None:
            return None
        out: Pairs = []
        if not self.partition_by:
            self._arrive((), d, out)
            return out or None
        groups: dict[Row, list[Row]] = {}
        key = self.key
        for r in d:
            groups.setdefault(key(r), []).append(r)
        for k, rows in groups.items():
            self._arrive(k, rows, out)
        return out or None

    def state(self) -> Any:
        return {"windows": super().state(), "pending": self.pending.to_json(_rows_json)}

    def changed_pairs(self) -> list[tuple[str | None, Any, Any]]:
        dirty = self.dirty or set()
        return [change for member, store in (("windows", self.windows),
                                             ("pending", self.pending))
                for change in _changed_keys(member, store,
                                            [k for m, k in dirty if m == member], _rows_json)]

    def touch_all(self) -> None:
        self.dirty = {("windows", k) for k in self.windows} | {
            ("pending", k) for k in self.pending}

    def load(self, data: Any) -> None:
        super().load(data["windows"])
        self.pending = KeyedStore.from_json(data["pending"], lambda rows: [tuple(r) for r in rows])


class SessionWindow(Operator):
    """``[SESSION G]`` and ``[PARTITION BY k SESSION G]``: each key's open session.

    An element of a key arriving at ``t`` joins the key's open session (one whose
    last element came at ``last > t - G``) or opens a new one; a session closes,
    all its elements deleted at once, at ``last + G``: an element exactly ``G``
    after the last one finds it closed and opens the next session.
    ``sessions`` maps a key to ``[last, rows]``; ``closing`` holds ``(last + G,
    key)`` in the order the elements came, hence in time order (a later element
    of the key makes the earlier entries stale; they are skipped). Tracked: the
    keys whose session changed (added to, or closed).
    """

    trackable = True

    def __init__(self, spec: Spec, inputs: Sequence[Spec], params: Sequence[object],
                 gap_ms: int, partition_by: Sequence[int]) -> None:
        super().__init__(spec, inputs, params)
        if gap_ms <= 0:
            raise ProgrammingError(f"a SESSION window needs a positive gap, got {gap_ms}")
        self.gap = gap_ms
        self.partition_by = list(partition_by)
        self.key = compile_key(self.partition_by)
        self.sessions: KeyedStore[list[Any]] = KeyedStore()
        self.closing: deque[tuple[int, Row]] = deque()

    def _stale(self, close: int, k: Row) -> bool:
        session = self.sessions.get(k)
        return session is None or session[0] + self.gap != close

    def step(self, tau: int | None, inputs: list[Delta | None]) -> Delta | None:
        if tau is None:
            return None
        out: Pairs = []
        closing = self.closing
        while closing and closing[0][0] <= tau:
            close, k = closing.popleft()
            if not self._stale(close, k):
                out.extend([(r, -1) for r in self.sessions.pop(k)[1]])
                if self.dirty is not None:
                    self.dirty.add(k)
        d = inputs[0]
        if d:
            groups: dict[Row, list[Row]] = {}
            key = self.key
            for r in d:
                groups.setdefault(key(r), []).append(r)
            if self.dirty is not None:
                self.dirty.update(groups)
            for k, rows in groups.items():
                session = self.sessions.get(k)
                if session is None:
                    session = self.sessions[k] = [tau, []]
                session[0] = tau
                session[1].extend(rows)
                closing.append((tau + self.gap, k))
                out.extend([(r, 1) for r in rows])
        return out or None

    def next_timer(self) -> int | None:
        closing = self.closing
        while closing and self._stale(*closing[0]):
            closing.popleft()
        return closing[0][0] if closing else None

    def state(self) -> Any:
        return self.sessions.to_json(_session_json)

    def changed_pairs(self) -> list[tuple[str | None, Any, Any]]:
        return _changed_keys(None, self.sessions, self.dirty or (), _session_json)

    def touch_all(self) -> None:
        self.dirty = set(self.sessions)

    def load(self, data: Any) -> None:
        self.sessions = KeyedStore.from_json(
            data, lambda s: [int(s[0]), [tuple(r) for r in s[1]]])
        self.closing = deque(sorted(((s[0] + self.gap, k) for k, s in self.sessions.items()),
                                    key=itemgetter(0)))


def _session_json(session: list[Any]) -> list[Any]:
    return [session[0], _rows_json(session[1])]


def make_window(spec: Spec, inputs: Sequence[Spec], params: Sequence[object]) -> Operator:
    """The window operator for ``spec["window"]``."""
    w = spec["window"]
    kind = w["kind"]
    if kind == "unbounded":
        return UnboundedWindow(spec, inputs, params)
    if kind == "now":
        return RangeWindow(spec, inputs, params, 1)
    if kind == "range":
        if w.get("slide_ms") is not None:
            return SlideWindow(spec, inputs, params, int(w["range_ms"]), int(w["slide_ms"]))
        return RangeWindow(spec, inputs, params, int(w["range_ms"]))
    if kind in ("rows", "partition"):
        by = w["partition_by"] if kind == "partition" else []
        if w.get("slide_rows") is not None:
            return SlidingRowsWindow(spec, inputs, params, int(w["rows"]), int(w["slide_rows"]),
                                     by)
        return RowsWindow(spec, inputs, params, int(w["rows"]), by)
    if kind == "session":
        return SessionWindow(spec, inputs, params, int(w["gap_ms"]), w.get("partition_by", []))
    raise NotSupportedError(f"unknown window kind {kind!r}")


# --- relation -> stream ---------------------------------------------------------------


class IStream(Operator):
    """ISTREAM: the positive part of each instant's net delta."""

    def step(self, tau: int | None, inputs: list[Delta | None]) -> Delta | None:
        d = inputs[0]
        if not d or tau is None:
            return None
        out: list[Row] = []
        for row, c in consolidate(d).items():
            if c > 0:
                out.extend([row] * c)
        return out or None


class DStream(Operator):
    """DSTREAM: the negative part of each instant's net delta."""

    def step(self, tau: int | None, inputs: list[Delta | None]) -> Delta | None:
        d = inputs[0]
        if not d or tau is None:
            return None
        out: list[Row] = []
        for row, c in consolidate(d).items():
            if c < 0:
                out.extend([row] * -c)
        return out or None


class RStream(Operator):
    """RSTREAM: the whole input relation at every instant the executor runs.

    The executor runs exactly the instants where a source had input or a
    window changed, so those are the instants RSTREAM emits at. Tracked: the rows
    whose count changed.
    """

    always = True
    trackable = True

    def __init__(self, spec: Spec, inputs: Sequence[Spec], params: Sequence[object]) -> None:
        super().__init__(spec, inputs, params)
        self.relation = Multiset()

    def step(self, tau: int | None, inputs: list[Delta | None]) -> Delta | None:
        d = inputs[0]
        if d:
            self.relation.update_pairs(d)
            if self.dirty is not None:
                self.dirty.update(row for row, _ in d)
        if tau is None:
            return None
        return self.relation.rows() or None

    def changed_pairs(self) -> list[tuple[str | None, Any, Any]]:
        return _changed_keys(None, self.relation, self.dirty or (), int)

    def touch_all(self) -> None:
        self.dirty = set(self.relation)

    def state(self) -> Any:
        return self.relation.to_json()

    def load(self, data: Any) -> None:
        self.relation = Multiset.from_json(data)


# --- aggregate ----------------------------------------------------------------------


class _Agg:
    """One aggregate call's accumulator logic (all incremental under deletes)."""

    def __init__(self, call: dict[str, Any], input_columns: Sequence[dict[str, Any]]) -> None:
        self.fn = str(call["fn"]).upper()
        self.args: list[int] = list(call.get("args", []))
        self.distinct = bool(call.get("distinct"))
        # FILTER (WHERE ...): the index of a BOOLEAN input column, the call sees only the
        # rows where it is TRUE
        f = call.get("filter")
        self.filter: int | None = None if f is None or int(f) < 0 else int(f)
        rtype = str(call.get("type", "BIGINT"))
        self.rtype_family = type_family(rtype)
        self.int_result = self.rtype_family == "integer"
        self.float_result = self.rtype_family == "float"
        if self.fn not in ("COUNT", "SUM", "SUM0", "AVG", "MIN", "MAX", "LISTAGG", *_MOMENTS):
            raise NotSupportedError(f"the aggregate function {self.fn} is not supported")
        #: LISTAGG's ORDER BY: (input column, descending, nulls first) per key
        self.order: list[tuple[int, bool, bool]] = [
            (int(o["field"]), str(o.get("direction", "ASC")).upper() == "DESC",
             str(o.get("nulls", "LAST")).upper() == "FIRST") for o in call.get("order", [])]
        if self.fn == "LISTAGG":
            # a bag of (value, separator, order keys...): the string is made from it
            self.kind = "listagg"
        elif self.fn == "COUNT" and not self.args:
            # COUNT(*) FILTER (...) counts the rows that pass: a count of its own
            self.kind = "count_star" if self.filter is None else "count"
        elif self.distinct or self.fn in ("MIN", "MAX"):
            self.kind = "bag"  # a counter of values
        elif self.fn == "COUNT":
            self.kind = "count"
        elif self.fn in ("SUM", "SUM0", "AVG"):
            self.kind = "sum"
        else:
            self.kind = "moments"  # [n, sum, sum of squares, non-finite count]
        self.arg = self.args[0] if self.args else -1
        #: the accumulator is its own JSON form (:meth:`encode` and :meth:`decode` are
        #: the identity)
        self.plain_state = self.kind in ("count_star", "count", "sum")
        self.zero: Any = 0 if type_family(rtype) in ("integer", "decimal") else 0.0
        # moments of integers are kept as Python ints, of anything else as exact
        # fractions (a float or a Decimal is a rational): exact under deletes, no
        # cancellation in the variance
        self.exact_int = self.arg >= 0 and self.arg < len(input_columns) and \
            type_family(str(input_columns[self.arg].get("type", ""))) == "integer"

    def new(self) -> Any:
        if self.kind in ("bag", "listagg"):
            return {}
        if self.kind == "sum":
            return [0, 0]
        if self.kind == "moments":
            return [0, 0, 0, 0]
        return 0

    def listagg(self, bag: dict[Row, int]) -> str | None:
        """LISTAGG/STRING_AGG of a bag of ``(value, separator, order keys...)``: the values
        in the ORDER BY's order, ties (and every value without ORDER BY) in ascending order
        of the value; DISTINCT keeps each value once, at its first place."""
        if not bag:
            return None
        entries = sorted(bag, key=lambda e: e[0])
        for k in reversed(range(len(self.order))):  # stable sorts, the last key first
            _, desc, nulls_first = self.order[k]
            position = 2 + k
            present = [e for e in entries if e[position] is not None]
            absent = [e for e in entries if e[position] is None]
            present.sort(key=lambda e, p=position: e[p], reverse=desc)  # type: ignore[misc]
            entries = absent + present if nulls_first else present + absent
        values: list[str] = []
        seen: set[Any] = set()
        for e in entries:
            if self.distinct:
                if e[0] not in seen:
                    seen.add(e[0])
                    values.append(e[0])
            else:
                values.extend([e[0]] * bag[e])
        sep = entries[0][1]
        return (sep if sep is not None else ",").join(values)

    def value_of(self, row: Row) -> Any:
        if len(self.args) > 1:
            vals = tuple(row[i] for i in self.args)
            return None if any(v is None for v in vals) else vals
        return row[self.arg]

    def result(self, acc: Any, rows: int) -> Any:
        kind = self.kind
        fn = self.fn
        if kind == "listagg":
            return self.listagg(acc)
        if kind == "count_star":
            return rows
        if kind == "count":
            return acc
        if kind == "moments":
            n, total, squares, nonfinite = acc
            return self._moment(n + nonfinite, total, squares, nonfinite)
        if kind == "sum":
            total, n = acc
            if fn == "SUM0":
                return total if n else self.zero
            if n == 0:
                return None
            if fn == "SUM":
                return total
            return self._avg(total, n)
        # bag
        if not acc:
            return self.zero if fn in ("COUNT", "SUM0") else None
        if fn == "MIN":
            return min(acc)
        if fn == "MAX":
            return max(acc)
        if fn == "COUNT":
            return len(acc)
        if fn in _MOMENTS:
            vals = [v for v in acc if _finite(v)]
            bad = len(acc) - len(vals)
            exact = [v if isinstance(v, int) else Fraction(v) for v in vals]
            return self._moment(len(acc), sum(exact), sum(v * v for v in exact), bad)
        total = sum(acc)
        if fn in ("SUM", "SUM0"):
            return total
        return self._avg(total, len(acc))

    def _moment(self, n: int, total: Any, squares: Any, nonfinite: int) -> Any:
        """VAR_POP/VAR_SAMP/STDDEV_POP/STDDEV_SAMP of ``n`` values (``nonfinite`` of
        them NaN or infinite) from their exact sum and sum of squares."""
        fn = self.fn
        sample = fn in ("VAR_SAMP", "VARIANCE", "STDDEV_SAMP", "STDDEV")
        if n == 0 or (sample and n == 1):
            return None
        if nonfinite:
            return float("nan") if self.rtype_family == "float" else None
        var = Fraction(n * squares - total * total) / (n * (n - 1) if sample else n * n)
        root = fn.startswith("STDDEV")
        if self.rtype_family == "decimal":
            d = Decimal(var.numerator) / Decimal(var.denominator)
            return d.sqrt() if root else d
        if self.int_result:
            return math.isqrt(int(var)) if root else int(var)
        x = float(var)
        return math.sqrt(x) if root else x

    def _avg(self, total: Any, n: int) -> Any:
        if self.int_result and isinstance(total, int):
            q = abs(total) // n
            return q if total >= 0 else -q
        if self.float_result:  # AVG of an exact type is a DOUBLE (CqlTypeSystem)
            return float(total) / n
        return total / n

    def encode(self, acc: Any) -> Any:
        if self.kind in ("bag", "listagg"):
            return [[list(v) if isinstance(v, tuple) else v, n] for v, n in acc.items()]
        if self.kind == "moments":
            return [acc[0], str(acc[1]), str(acc[2]), acc[3]]
        return acc

    def decode(self, data: Any) -> Any:
        if self.kind in ("bag", "listagg"):
            return {tuple(v) if isinstance(v, list) else v: n for v, n in data}
        if self.kind == "moments":
            conv = (lambda x: int(Fraction(x))) if self.exact_int else Fraction
            return [data[0], conv(data[1]), conv(data[2]), data[3]]
        return data


_MOMENTS = ("STDDEV_POP", "STDDEV_SAMP", "STDDEV", "VAR_POP", "VAR_SAMP", "VARIANCE")


def _finite(v: Any) -> bool:
    return not isinstance(v, float) or math.isfinite(v)


def _exact(v: Any) -> Any:
    """A non-integer moment input as an exact fraction (None if NaN or infinite)."""
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return Fraction(v)


def _compile_aggregate(
    group: Sequence[int], aggs: Sequence[_Agg]
) -> tuple[Callable[..., None], Callable[[Row, list[Any]], Row]]:
    """Per-query code of an aggregate: the update loop and the output row.

    ``update(delta, groups, changed, new_group)`` applies ``(row, count)``
    pairs to the group states (``[rows, output_row, acc...]``) with each
    call's accumulator update written out (no per-row loop over the calls,
    no kind tests); ``output(key, g)`` is ``key + (result of each call,)``.
    """
    key = "(" + "".join(f"row[{i}], " for i in group).rstrip(" ") + ")"
    lines = [
        "def update(delta, groups, changed, new_group):",
        "    for row, c in delta:",
        f"        k = {key}",
        "        g = changed.get(k)",
        "        if g is None:",
        "            g = groups.get(k)",
        "            if g is None:",
        "                g = groups[k] = new_group()",
        "            changed[k] = g",
        "        g[0] += c",
    ]
    results = []
    namespace: dict[str, Any] = {}
    for i, a in enumerate(aggs):
        slot = i + 2
        if a.kind == "count_star":
            results.append("g[0]")
            continue
        if a.kind == "count":
            results.append(f"g[{slot}]")
        else:
            namespace[f"result{i}"] = a.result
            results.append(f"result{i}(g[{slot}], g[0])")
        body: list[str] = []
        if a.kind == "listagg":  # (value, separator, order keys...); NULL values skipped
            sep = f"row[{a.args[1]}]" if len(a.args) > 1 else "None"
            keys = "".join(f"row[{i}], " for i, _, _ in a.order)
            body.append(f"v = (row[{a.arg}], {sep}, {keys})")
            present = f"row[{a.arg}] is not None"
        elif len(a.args) > 1:
            body.append(f"v = ({''.join(f'row[{j}], ' for j in a.args)})")
            present = " and ".join(f"row[{j}] is not None" for j in a.args)
        elif a.args:
            body.append(f"v = row[{a.arg}]")
            present = "v is not None"
        else:  # COUNT(*) FILTER (WHERE ...)
            present = "True"
        body.append(f"if {present}:")
        if a.kind == "count":
            body.append(f"    g[{slot}] += c")
        elif a.kind == "sum":
            body += [
                f"    acc = g[{slot}]",
                "    acc[1] += c",
                "    acc[0] = acc[0] + v * c if acc[1] else 0",
            ]
        elif a.kind == "moments":
            body.append(f"    acc = g[{slot}]")
            if not a.exact_int:
                namespace["_exact"] = _exact
                body += [
                    "    v = _exact(v)",
                    "    if v is None:",
                    "        acc[3] += c",
                ]
            body += [
                "    if v is not None:",
                "        acc[0] += c",
                "        if acc[0]:",
                "            acc[1] += v * c",
                "            acc[2] += v * v * c",
                "        else:",
                "            acc[1] = acc[2] = 0",
            ]
        else:  # a bag: value -> count
            body += [
                f"    bag = g[{slot}]",
                "    n = bag.get(v, 0) + c",
                "    if n:",
                "        bag[v] = n",
                "    else:",
                "        del bag[v]",
            ]
        if a.filter is not None:
            lines.append(f"        if row[{a.filter}]:")
            lines += ["            " + b for b in body]
        else:
            lines += ["        " + b for b in body]
    lines += [
        "",
        "def output(k, g):",
        f"    return k + ({''.join(r + ', ' for r in results)})",
    ]
    exec(compile("\n".join(lines) + "\n", "<pycql aggregate>", "exec"), namespace)
    return namespace["update"], namespace["output"]


_PLUS_ONE = (1).__eq__
_MINUS_ONE = (-1).__eq__
_ROW = itemgetter(0)
_COUNT = itemgetter(1)


class Aggregate(Operator):
    """GROUP BY with COUNT/SUM/SUM0/AVG/MIN/MAX, the variances and standard deviations,
    LISTAGG [DISTINCT] [FILTER], and DISTINCT (no aggs).

    Per group the state is ``[rows, output_row, acc...]``: the number of input
    rows, the row last emitted, and one accumulator per call (a count, a
    ``[sum, non-null count]`` pair, or a ``value -> count`` bag for MIN/MAX and
    DISTINCT calls, so the extreme stays right when it is deleted). A global
    aggregate (empty ``group``) keeps its single row at all times.

    The per-row work is compiled once per query (:func:`_compile_aggregate`);
    when every call is ``COUNT(*)`` (or there are none: DISTINCT) a batch is
    counted per group with :class:`collections.Counter` instead.
    """

    trackable = True

    def __init__(self, spec: Spec, inputs: Sequence[Spec], params: Sequence[object]) -> None:
        super().__init__(spec, inputs, params)
        self.group: list[int] = list(spec.get("group", []))
        in_cols = inputs[0]["columns"]
        self.aggs = [_Agg(call, in_cols) for call in spec.get("aggs", [])]
        self.key = compile_key(self.group)
        self.is_global = not self.group and bool(self.aggs)
        self.groups: KeyedStore[list[Any]] = KeyedStore()
        self._update, self._output_row = _compile_aggregate(self.group, self.aggs)
        self._counts_only = all(a.kind == "count_star" for a in self.aggs)
        self._plain_state = all(a.plain_state for a in self.aggs)
        # C-level key of a row: a scalar for one GROUP BY column (made a tuple
        # once per group), a tuple for several
        self._group_key: Callable[[Row], Any] | None = (
            itemgetter(*self.group) if self.group else None
        )
        if self.is_global:
            self.groups[()] = self._new_group()

    def _new_group(self) -> list[Any]:
        return [0, None, *[a.new() for a in self.aggs]]

    def _output(self, key: Row, g: list[Any]) -> Row | None:
        if g[0] <= 0 and not self.is_global:
            return None
        return self._output_row(key, g)

    def _net_counts(self, d: Pairs) -> dict[Any, int]:
        """Net count per group key in ``d``, keys in order of first appearance."""
        counts = list(map(_COUNT, d))
        key_of = self._group_key
        keys: list[Any] = [()] * len(d) if key_of is None else list(map(key_of, map(_ROW, d)))
        plus = counts.count(1)
        if plus == len(counts):
            return Counter(keys)
        net = dict.fromkeys(keys, 0)
        if plus + counts.count(-1) == len(counts):
            for k, n in Counter(compress(keys, map(_PLUS_ONE, counts))).items():
                net[k] += n
            for k, n in Counter(compress(keys, map(_MINUS_ONE, counts))).items():
                net[k] -= n
        else:
            for k, c in zip(keys, counts, strict=True):
                net[k] += c
        return net

    def _count(self, d: Pairs, changed: dict[Row, list[Any]]) -> None:
        """COUNT(*)-only aggregates: apply the net count of each group."""
        groups = self.groups
        wrap = len(self.group) == 1
        for k, n in self._net_counts(d).items():
            if wrap:
                k = (k,)
            g = changed.get(k)
            if g is None:
                g = groups.get(k)
                if g is None:
                    g = groups[k] = self._new_group()
                changed[k] = g
            g[0] += n

    def step(self, tau: int | None, inputs: list[Delta | None]) -> Delta | None:
        d = inputs[0]
        changed: dict[Row, list[Any]] = {}
        if tau is None and self.is_global:
            changed[()] = self.groups[()]
        if d:
            if self._counts_only:
                self._count(d, changed)
            else:
                self._update(d, self.groups, changed, self._new_group)
        if not changed:
            return None
        if self.dirty is not None:
            self.dirty.update(changed)
        out: Pairs = []
        output_row = self._output_row
        keep_empty = self.is_global
        for k, g in changed.items():
            new = output_row(k, g) if g[0] > 0 or keep_empty else None
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

    def _encode_group(self, g: list[Any]) -> list[Any]:
        if self._plain_state:  # the accumulators are their own JSON; a row tuple is an array
            return g[:]
        accs = [a.encode(acc) for a, acc in zip(self.aggs, g[2:], strict=True)]
        return [g[0], g[1], *accs]

    def state(self) -> Any:
        return self.groups.to_json(self._encode_group)

    def touch_all(self) -> None:
        self.dirty = set(self.groups)

    def changed_pairs(self) -> list[tuple[str | None, Any, Any]]:
        groups, encode = self.groups, self._encode_group
        return [(None, key, None if (g := groups.get(key)) is None else encode(g))
                for key in self.dirty or ()]

    def load(self, data: Any) -> None:
        aggs = self.aggs
        if all(a.plain_state for a in aggs):  # counts and sums: no decoding to do
            self.groups = KeyedStore(
                (tuple(k), [g[0], None if g[1] is None else tuple(g[1]), *g[2:]])
                for k, g in data)
        else:
            def dec(g: list[Any]) -> list[Any]:
                accs = [a.decode(acc) for a, acc in zip(aggs, g[2:], strict=True)]
                return [g[0], None if g[1] is None else tuple(g[1]), *accs]
            self.groups = KeyedStore.from_json(data, dec)
        if self.is_global and () not in self.groups:
            self.groups[()] = self._new_group()


#: The calls of a grouping-sets aggregate that say which set a row is of.
_GROUPING_CALLS = ("GROUPING", "GROUPING_ID")


class GroupingSetsAggregate(Operator):
    """GROUP BY GROUPING SETS / ROLLUP / CUBE: one :class:`Aggregate` per grouping set.

    Each set's aggregate keeps its own groups (so each is incremental under deletes as
    any GROUP BY); its rows are widened to the plan's layout: every column of ``group``,
    NULL where the set lacks it, then the calls, where ``GROUPING(a, ...)`` /
    ``GROUPING_ID(a, ...)`` is the constant of the set (a bit per argument, the first
    the most significant, 1 where the set lacks the column). The empty set ``()`` has
    its row at all times, as a global aggregate does.
    """

    def __init__(self, spec: Spec, inputs: Sequence[Spec], params: Sequence[object]) -> None:
        super().__init__(spec, inputs, params)
        group: list[int] = list(spec.get("group", []))
        calls: list[dict[str, Any]] = list(spec.get("aggs", []))
        plain = [c for c in calls if str(c["fn"]).upper() not in _GROUPING_CALLS]
        self.parts: list[tuple[Aggregate, Callable[[Row], Row]]] = []
        for columns in spec["group_sets"]:
            present = [int(c) for c in columns]
            sub = Aggregate({**spec, "group": present, "aggs": plain}, inputs, params)
            if not present and not sub.is_global:  # () over no calls: still its one row
                sub.is_global = True
                sub.groups[()] = sub._new_group()
            self.parts.append((sub, self._widen(group, present, calls)))

    @staticmethod
    def _widen(group: list[int], present: list[int],
               calls: list[dict[str, Any]]) -> Callable[[Row], Row]:
        """Maps a set's row (its columns, its plain calls) to the plan's row."""
        places: list[tuple[str, Any]] = []  # ("key", i) | ("call", i) | ("const", v)
        for g in group:
            places.append(("key", present.index(g)) if g in present else ("const", None))
        n = 0
        for c in calls:
            if str(c["fn"]).upper() in _GROUPING_CALLS:
                bits = 0
                for a in c.get("args", []):
                    bits = bits * 2 + (0 if int(a) in present else 1)
                places.append(("const", bits))
            else:
                places.append(("call", len(present) + n))
                n += 1

        def widen(row: Row) -> Row:
            return tuple(row[i] if kind != "const" else i for kind, i in places)
        return widen

    def step(self, tau: int | None, inputs: list[Delta | None]) -> Delta | None:
        out: Pairs = []
        for sub, widen in self.parts:
            d = sub.step(tau, inputs)
            if d:
                out.extend((widen(row), n) for row, n in d)
        return out or None

    def state(self) -> Any:
        return [sub.state() for sub, _ in self.parts]

    def load(self, data: Any) -> None:
        for (sub, _), part in zip(self.parts, data, strict=True):
            sub.load(part)


# --- joins ------------------------------------------------------------------------


class Join(Operator):
    """Relation-relation join: inner, left, right, full, semi, anti.

    Both inputs are kept as ``key -> Multiset`` hash indexes on the equi-join
    keys (a NULL key never matches; no keys means one bucket, a nested loop);
    the residual condition is compiled over ``(left_row, right_row)``. The delta
    of an instant is ``dL x R_old + L_new x dR``. Outer, semi and anti joins also
    keep, per distinct row of the preserved side, how many rows of the other
    side it matches, and emit the padded (or semi/anti) row when that count
    moves between zero and non-zero.

    A delta row whose residual raises against some row of the other side is set
    aside whole (:attr:`reject`) before it touches the state, and counted in
    ``rejected`` (one multiset per side): its later retraction is taken from
    there, not from the state it never entered. Rows retract oldest first
    (windows and tables do), and a row can only be set aside while no copy of
    it is in the state (a copy in the state has passed the residual against
    every row of the other side there), so the set-aside copies are the oldest:
    a retraction takes them first.
    """

    def __init__(self, spec: Spec, inputs: Sequence[Spec], params: Sequence[object]) -> None:
        super().__init__(spec, inputs, params)
        self.join_type: str = str(spec.get("join_type", "inner")).lower()
        left_cols = inputs[0]["columns"]
        right_cols = inputs[1]["columns"]
        self.left_width = len(left_cols)
        self.right_width = len(right_cols)
        left_keys = list(spec.get("left_keys", []))
        right_keys = list(spec.get("right_keys", []))
        residual = spec.get("residual") if left_keys else spec.get("condition")
        if not left_keys and residual is None:
            residual = spec.get("residual")
        if residual is not None and residual.get("kind") == "literal" and \
                residual.get("value") is True:
            residual = None
        self.residual: CompiledFunction | None = (
            compile_join_predicate(residual, [*left_cols, *right_cols], self.left_width, params)
            if residual is not None else None)
        self.left_key = compile_key(left_keys)
        self.right_key = compile_key(right_keys)
        jt = self.join_type
        if jt not in ("inner", "left", "right", "full", "semi", "anti"):
            raise NotSupportedError(f"join type {jt!r} is not supported")
        self.emit_pairs = jt in ("inner", "left", "right", "full")
        self.track_left = jt in ("left", "full", "semi", "anti")
        self.track_right = jt in ("right", "full")
        self.left_nulls: Row = (None,) * self.left_width
        self.right_nulls: Row = (None,) * self.right_width
        self.left: KeyedStore[Multiset] = KeyedStore()
        self.right: KeyedStore[Multiset] = KeyedStore()
        self.left_matches: dict[Row, int] = {}
        self.right_matches: dict[Row, int] = {}
        #: copies of each row set aside per side (left, right)
        self.rejected: tuple[Multiset, Multiset] = (Multiset(), Multiset())

    def _left_status(self, row: Row, matched: bool, count: int, out: Pairs) -> None:
        """Output of a left row (multiplicity ``count``) that is or is not matched."""
        jt = self.join_type
        if jt in ("left", "full"):
            if not matched:
                out.append((row + self.right_nulls, count))
        elif jt == "semi":
            if matched:
                out.append((row, count))
        elif not matched:  # anti
            out.append((row, count))

    def step(self, tau: int | None, inputs: list[Delta | None]) -> Delta | None:
        dl, dr = inputs
        out: Pairs = []
        residual = self.residual.fn if self.residual is not None else None
        if dl:
            self._apply_left(tau, consolidate(dl), residual, out)
        if dr:
            self._apply_right(tau, consolidate(dr), residual, out)
        return out or None

    def _set_aside(self, tau: int | None, side: int, row: Row, count: int,
                   exc: Exception) -> None:
        """``row`` (``count`` copies) of input ``side`` failed the residual: keep it out."""
        if self.reject is None:
            raise exc
        if count > 0:
            self.rejected[side].add(row, count)
            self.reject(self, tau, row, count, exc, side)
        # a retraction failing is one of a row never in the state: nothing to undo

    @staticmethod
    def _take_rejected(rejected: Multiset, row: Row, count: int) -> int:
        """A retraction (``count`` < 0) of ``row``: take set-aside copies first; the rest."""
        taken = min(rejected[row], -count)
        rejected.add(row, -taken)
        return count + taken

    def _apply_left(self, tau: int | None, dl: dict[Row, int], residual: Any,
                    out: Pairs) -> None:
        right = self.right
        left = self.left
        key_of = self.left_key
        emit_pairs = self.emit_pairs
        track_left = self.track_left
        track_right = self.track_right
        right_matches = self.right_matches
        rejected = self.rejected[0]
        for l_row, c in dl.items():
            if rejected and c < 0 and l_row in rejected:
                c = self._take_rejected(rejected, l_row, c)
                if not c:
                    continue
            k = key_of(l_row)
            bucket = None if None in k else right.get(k)
            m = 0
            if bucket:
                if residual is None:
                    matches: Any = bucket.items()
                else:
                    try:  # every pair before any state changes
                        matches = [(r_row, rc) for r_row, rc in bucket.items()
                                   if residual(l_row, r_row)]
                    except ROW_ERRORS as exc:
                        self._set_aside(tau, 0, l_row, c, exc)
                        continue
                for r_row, rc in matches:
                    m += rc
                    if emit_pairs:
                        out.append((l_row + r_row, c * rc))
                    if track_right:
                        old = right_matches[r_row]
                        new = old + c
                        right_matches[r_row] = new
                        if old == 0 and new != 0:
                            out.append((self.left_nulls + r_row, -rc))
                        elif old != 0 and new == 0:
                            out.append((self.left_nulls + r_row, rc))
            if track_left:
                self._left_status(l_row, m != 0, c, out)
            lb = left.get(k)
            if lb is None:
                lb = left[k] = Multiset()
            n = lb.add(l_row, c)
            if track_left:
                if n:
                    self.left_matches[l_row] = m
                else:
                    self.left_matches.pop(l_row, None)
            if not lb:
                del left[k]

    def _apply_right(self, tau: int | None, dr: dict[Row, int], residual: Any,
                     out: Pairs) -> None:
        right = self.right
        left = self.left
        key_of = self.right_key
        emit_pairs = self.emit_pairs
        track_left = self.track_left
        track_right = self.track_right
        left_matches = self.left_matches
        rejected = self.rejected[1]
        for r_row, c in dr.items():
            if rejected and c < 0 and r_row in rejected:
                c = self._take_rejected(rejected, r_row, c)
                if not c:
                    continue
            k = key_of(r_row)
            bucket = None if None in k else left.get(k)
            m = 0
            if bucket:
                if residual is None:
                    matches: Any = bucket.items()
                else:
                    try:  # every pair before any state changes
                        matches = [(l_row, lc) for l_row, lc in bucket.items()
                                   if residual(l_row, r_row)]
                    except ROW_ERRORS as exc:
                        self._set_aside(tau, 1, r_row, c, exc)
                        continue
                for l_row, lc in matches:
                    m += lc
                    if emit_pairs:
                        out.append((l_row + r_row, lc * c))
                    if track_left:
                        old = left_matches[l_row]
                        new = old + c
                        left_matches[l_row] = new
                        if (old == 0) != (new == 0):
                            # the row's old status leaves, its new status enters
                            self._left_status(l_row, old != 0, -lc, out)
                            self._left_status(l_row, new != 0, lc, out)
            if track_right and m == 0:
                out.append((self.left_nulls + r_row, c))
            rb = right.get(k)
            if rb is None:
                rb = right[k] = Multiset()
            n = rb.add(r_row, c)
            if track_right:
                if n:
                    self.right_matches[r_row] = m
                else:
                    self.right_matches.pop(r_row, None)
            if not rb:
                del right[k]

    def state(self) -> Any:
        return {
            "left": self.left.to_json(Multiset.to_json),
            "right": self.right.to_json(Multiset.to_json),
            "left_matches": [[list(r), m] for r, m in self.left_matches.items()],
            "right_matches": [[list(r), m] for r, m in self.right_matches.items()],
            "rejected": [self.rejected[0].to_json(), self.rejected[1].to_json()],
        }

    def load(self, data: Any) -> None:
        self.left = KeyedStore.from_json(data["left"], Multiset.from_json)
        self.right = KeyedStore.from_json(data["right"], Multiset.from_json)
        self.left_matches = {tuple(r): m for r, m in data["left_matches"]}
        self.right_matches = {tuple(r): m for r, m in data["right_matches"]}
        rejected = data.get("rejected") or [[], []]  # absent in states saved before it
        self.rejected = (Multiset.from_json(rejected[0]), Multiset.from_json(rejected[1]))


class LookupJoin(Operator):
    """``RSTREAM(S [NOW] JOIN R)``: each stream element at ``tau`` probes R as of ``tau``.

    R's changes at ``tau`` are applied first. Inner, left (unmatched elements
    padded with NULLs), semi and anti joins; the output is a stream.
    """

    def __init__(self, spec: Spec, inputs: Sequence[Spec], params: Sequence[object]) -> None:
        super().__init__(spec, inputs, params)
        self.join_type = str(spec.get("join_type", "inner")).lower()
        if self.join_type not in ("inner", "left", "semi", "anti"):
            raise NotSupportedError(f"a stream-relation join of type {self.join_type!r}")
        left_cols = inputs[0]["columns"]
        right_cols = inputs[1]["columns"]
        left_keys = list(spec.get("left_keys", []))
        residual = spec.get("residual") if left_keys else spec.get("condition")
        if residual is not None and residual.get("kind") == "literal" and \
                residual.get("value") is True:
            residual = None
        self.residual = (compile_join_predicate(residual, [*left_cols, *right_cols],
                                                len(left_cols), params)
                         if residual is not None else None)
        self.left_key = compile_key(left_keys)
        self.right_key = compile_key(list(spec.get("right_keys", [])))
        self.right_nulls: Row = (None,) * len(right_cols)
        self.right: KeyedStore[Multiset] = KeyedStore()

    def step(self, tau: int | None, inputs: list[Delta | None]) -> Delta | None:
        stream, dr = inputs
        if dr:
            key_of = self.right_key
            for r_row, c in dr:
                k = key_of(r_row)
                rb = self.right.get(k)
                if rb is None:
                    rb = self.right[k] = Multiset()
                rb.add(r_row, c)
                if not rb:
                    del self.right[k]
        if not stream or tau is None:
            return None
        out: list[Row] = []
        residual = self.residual.fn if self.residual is not None else None
        jt = self.join_type
        key_of = self.left_key
        for s_row in stream:
            k = key_of(s_row)
            bucket = None if None in k else self.right.get(k)
            matched = False
            if bucket:
                mark = len(out)
                try:
                    for r_row, rc in bucket.items():
                        if residual is not None and not residual(s_row, r_row):
                            continue
                        matched = True
                        if jt in ("inner", "left"):
                            joined = s_row + r_row
                            out.extend([joined] * rc)
                        else:
                            break
                except ROW_ERRORS as exc:
                    if self.reject is None:
                        raise
                    del out[mark:]  # the element's pairs so far; the stream keeps no state
                    self.reject(self, tau, s_row, 1, exc, 0)
                    continue
            if jt == "left" and not matched:
                out.append(s_row + self.right_nulls)
            elif (jt == "semi" and matched) or (jt == "anti" and not matched):
                out.append(s_row)
        return out or None

    def state(self) -> Any:
        return self.right.to_json(Multiset.to_json)

    def load(self, data: Any) -> None:
        self.right = KeyedStore.from_json(data, Multiset.from_json)


# --- set operations ----------------------------------------------------------------


class UnionAll(Operator):
    """UNION ALL: the sum of the input deltas (stream or relation)."""

    def step(self, tau: int | None, inputs: list[Delta | None]) -> Delta | None:
        out: list[Any] = []
        for d in inputs:
            if d:
                out.extend(d)
        return out or None


class SetOperation(Operator):
    """UNION, EXCEPT [ALL], INTERSECT [ALL] under bag semantics.

    Keeps ``row -> [count in input 0, count in input 1, ...]`` and emits the
    change of the output multiplicity: UNION ``min(1, sum)``, EXCEPT ALL
    ``max(0, c0 - c1 - ...)``, EXCEPT ``c0 > 0 and all others 0``, INTERSECT
    ALL ``min(c)``, INTERSECT ``all > 0``. Tracked: the rows whose counts changed.
    """

    trackable = True

    def __init__(self, spec: Spec, inputs: Sequence[Spec], params: Sequence[object]) -> None:
        super().__init__(spec, inputs, params)
        self.kind = spec["op"]
        self.all = bool(spec.get("all"))
        self.n = len(self.inputs)
        self.counts: dict[Row, list[int]] = {}

    def _multiplicity(self, counts: list[int]) -> int:
        kind = self.kind
        if kind == "union":
            return 1 if any(c > 0 for c in counts) else 0
        if kind == "minus":
            if self.all:
                return max(0, counts[0] - sum(counts[1:]))
            return 1 if counts[0] > 0 and not any(counts[1:]) else 0
        if self.all:
            return max(0, min(counts))
        return 1 if all(c > 0 for c in counts) else 0

    def step(self, tau: int | None, inputs: list[Delta | None]) -> Delta | None:
        changed: dict[Row, int] = {}
        for i, d in enumerate(inputs):
            if not d:
                continue
            for row, c in d:
                counts = self.counts.get(row)
                if counts is None:
                    counts = self.counts[row] = [0] * self.n
                if row not in changed:
                    changed[row] = self._multiplicity(counts)
                counts[i] += c
        out: Pairs = []
        for row, before in changed.items():
            counts = self.counts[row]
            after = self._multiplicity(counts)
            if after != before:
                out.append((row, after - before))
            if not any(counts):
                del self.counts[row]
        if self.dirty is not None:
            self.dirty.update(changed)
        return out or None

    def state(self) -> Any:
        return [[list(r), c] for r, c in self.counts.items()]

    def changed_pairs(self) -> list[tuple[str | None, Any, Any]]:
        return _changed_keys(None, self.counts, self.dirty or (), list)

    def touch_all(self) -> None:
        self.dirty = set(self.counts)

    def load(self, data: Any) -> None:
        self.counts = {tuple(r): list(c) for r, c in data}


# --- sort / top-N -------------------------------------------------------------------


class Sort(Operator):
    """ORDER BY (orders snapshots) with optional OFFSET/FETCH (a top-N relation).

    Without OFFSET/FETCH the relation passes through unchanged and only
    :meth:`snapshot` is ordered. With them the output is the window of the
    ordered relation, and each instant emits how that window changed.
    """

    def __init__(self, spec: Spec, inputs: Sequence[Spec], params: Sequence[object]) -> None:
        super().__init__(spec, inputs, params)
        self.collation: list[dict[str, Any]] = list(spec.get("collation", []))
        self.offset = int(spec.get("offset") or 0)
        fetch = spec.get("fetch")
        self.fetch: int | None = None if fetch is None else int(fetch)
        self.limited = self.offset > 0 or self.fetch is not None
        self.relation = Multiset()
        self.top: list[Row] = []

    def order(self, rows: list[Row]) -> list[Row]:
        """``rows`` in collation order (stable multi-pass sort, NULLS FIRST/LAST)."""
        for c in reversed(self.collation):
            field = c["field"]
            desc = str(c.get("direction", "ASC")).upper().startswith("DESC")
            nulls = str(c.get("nulls") or ("FIRST" if desc else "LAST")).upper()
            present = [r for r in rows if r[field] is not None]
            absent = [r for r in rows if r[field] is None]
            present.sort(key=itemgetter(field), reverse=desc)
            rows = absent + present if nulls == "FIRST" else present + absent
        return rows

    def _window(self) -> list[Row]:
        rows = self.order(self.relation.rows())
        end = None if self.fetch is None else self.offset + self.fetch
        return rows[self.offset:end]

    def step(self, tau: int | None, inputs: list[Delta | None]) -> Delta | None:
        d = inputs[0]
        if not d:
            return None
        self.relation.update_pairs(d)
        if not self.limited:
            return d
        new = self._window()
        pairs: Pairs = [(r, -1) for r in self.top] + [(r, 1) for r in new]
        self.top = new
        out = list(consolidate(pairs).items())
        return out or None

    def snapshot(self) -> list[Row]:
        """The ordered (and, with OFFSET/FETCH, cut) relation."""
        return self._window()

    def state(self) -> Any:
        return {"relation": self.relation.to_json(), "top": _rows_json(self.top)}

    def load(self, data: Any) -> None:
        self.relation = Multiset.from_json(data["relation"])
        self.top = [tuple(r) for r in data["top"]]


def build_operator(spec: Spec, inputs: Sequence[Spec], params: Sequence[object]) -> Operator:
    """The operator object for one plan operator ``spec``."""
    op = spec["op"]
    if op == "source":
        return Source(spec, inputs, params)
    if op == "window":
        return make_window(spec, inputs, params)
    if op == "filter":
        return Filter(spec, inputs, params)
    if op == "project":
        return Project(spec, inputs, params)
    if op == "stream_filter":
        return StreamFilter(spec, inputs, params)
    if op == "exchange":
        return Exchange(spec, inputs, params)
    if op == "aggregate":
        if spec.get("group_sets") is not None:
            return GroupingSetsAggregate(spec, inputs, params)
        return Aggregate(spec, inputs, params)
    if op == "join":
        return Join(spec, inputs, params)
    if op == "lookup_join":
        return LookupJoin(spec, inputs, params)
    if op == "union" and spec.get("all"):
        return UnionAll(spec, inputs, params)
    if op in ("union", "minus", "intersect"):
        return SetOperation(spec, inputs, params)
    if op == "values":
        return Values(spec, inputs, params)
    if op == "sort":
        return Sort(spec, inputs, params)
    if op in ("over", "top_n"):
        from pycql.runtime.windowfn import Over, TopN  # windowfn builds on this module

        return (Over if op == "over" else TopN)(spec, inputs, params)
    if op == "istream":
        return IStream(spec, inputs, params)
    if op == "dstream":
        return DStream(spec, inputs, params)
    if op == "rstream":
        return RStream(spec, inputs, params)
    raise NotSupportedError(f"the plan operator {op!r} is not supported by the runtime")


__all__ = ["ExprCompiler", "Operator", "build_operator", "compile_key"]
