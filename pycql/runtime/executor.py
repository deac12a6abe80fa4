"""The executor: runs one JSON plan (``docs/plan-json.md``) instant by instant.

>>> plan = {"pycql_plan": 1, "root": 2, "result": {"kind": "stream", "columns": []},
...   "operators": [
...     {"id": 0, "op": "source", "name": "S", "source_kind": "stream", "inputs": [],
...      "output": "stream", "columns": [{"name": "A", "type": "INTEGER"}]},
...     {"id": 1, "op": "window", "window": {"kind": "range", "range_ms": 10, "slide_ms": None},
...      "inputs": [0], "output": "relation", "columns": [{"name": "A", "type": "INTEGER"}]},
...     {"id": 2, "op": "dstream", "inputs": [1], "output": "stream",
...      "columns": [{"name": "A", "type": "INTEGER"}]}]}
>>> ex = Executor(plan)
>>> ex.push("S", 5, [(1,), (2,)])
>>> ex.advance(100)
[Emission(timestamp=15, sign=1, row=(1,)), Emission(timestamp=15, sign=1, row=(2,))]

Time is discrete: an *instant* is an integer (epoch milliseconds, or STREAM's
ticks). ``push`` buffers the deltas of one source at one instant; ``advance``
closes, in time order, every instant up to the watermark that has input or a
window timer (a RANGE expiry, a NOW deletion, a SLIDE boundary). An instant is
atomic: all input at ``tau``, on every source, is applied before the output
of ``tau`` is computed.

A row an expression fails on (a division by zero, a bad cast, a value out of
range) is, by default (``on_error="dead_letter"``), set aside and the query
goes on; :meth:`Executor.take_rejected` hands over what was set aside:

>>> ex = Executor(_division_plan())
>>> ex.push("S", 5, [(2,), (0,), (5,)])
>>> ex.advance(10)
[Emission(timestamp=5, sign=1, row=(5,)), Emission(timestamp=5, sign=1, row=(2,))]
>>> ex.take_rejected()
[RejectedRow(operator_id=1, operator='stream_filter', reason='division by zero', \
timestamp=5, row=(0,), source='S')]

With ``on_error="fail"`` the same row raises :class:`~pycql.errors.DataError`.
"""

from __future__ import annotations

import hashlib
import heapq
from collections.abc import Callable, Iterable, Sequence
from itertools import compress, groupby, repeat
from operator import itemgetter
from typing import Any, Literal, NamedTuple

import orjson

from pycql.errors import DataError, InterfaceError, ProgrammingError
from pycql.runtime.expr import BatchFunction
from pycql.runtime.functions import ROW_ERRORS, row_error_reason
from pycql.runtime.operators import (
    Aggregate,
    Operator,
    SlideWindow,
    Sort,
    Source,
    build_operator,
)
from pycql.runtime.state import (
    Multiset,
    Row,
    consolidate,
    decode_values,
    encode_state,
    encode_values,
)

STATE_VERSION = 1

_FIRST = itemgetter(0)
_SECOND = itemgetter(1)
_NEW_TUPLE = tuple.__new__
TimedRows = list[tuple[Row, int]]


class WindowFeed(NamedTuple):
    """A stream source's path to a SLIDE window through stateless operators
    (:meth:`Executor._window_feeds`): the source's index in the plan's operators,
    each operator between as ``(index, operator, its timed batch function)``, and
    the window."""

    source: int
    links: list[tuple[int, Operator, BatchFunction]]
    window: SlideWindow
    #: per link, its :meth:`~pycql.runtime.operators.Operator.row_map` (or None)
    row_maps: list[Callable[[Sequence[Row]], Sequence[Row]] | None]


class Emission(NamedTuple):
    """One output element of the query's root.

    ``sign`` is +1 for an insert and -1 for a delete; a stream-valued query
    only ever emits +1, a relation-valued one emits its delta stream.
    """

    timestamp: int
    sign: int
    row: tuple[Any, ...]


#: What a row an expression fails on does: set aside (:meth:`Executor.take_rejected`)
#: while the query goes on, or end the query with :class:`~pycql.errors.DataError`.
OnError = Literal["dead_letter", "fail"]
ON_ERROR_CHOICES = ("dead_letter", "fail")


class RejectedRow(NamedTuple):
    """A row set aside because evaluating an expression over it raised.

    ``operator_id`` and ``operator`` (its kind: ``"filter"``, ``"project"``,
    ``"stream_filter"``, ``"join"``, ``"lookup_join"``) name the plan operator
    that evaluated it; ``reason`` says what went wrong in SQL terms (``"division
    by zero"``); ``timestamp`` is the instant (``None`` at the initialization
    instant, for rows of ``VALUES``); ``row`` is that operator's input row (of
    the join side it came from, for a join); ``source`` is the source's name when
    that row is a source's row unchanged (only windows, filters and other
    row-preserving operators between), else ``None``.
    """

    operator_id: int
    operator: str
    reason: str
    timestamp: int | None
    row: tuple[Any, ...]
    source: str | None


def _inserts(times: Iterable[int], rows: Iterable[Row]) -> list[Emission]:
    """``Emission(times[i], 1, tuple(rows[i]))`` for every ``i``, built in C-level passes."""
    return list(map(_NEW_TUPLE, repeat(Emission),
                    zip(times, repeat(1), map(tuple, rows))))


def _step_failed(exc: Exception, op: Operator, tau: int | None) -> None:
    """Raise ``exc`` of ``op.step`` at ``tau`` as a :class:`DataError` naming the operator
    where it is an error of the data (:data:`~pycql.runtime.functions.ROW_ERRORS`);
    return (the caller re-raises it as it is) where it is not, a bug of pycql."""
    if isinstance(exc, ROW_ERRORS):
        at = "the initialization instant" if tau is None else f"instant {tau}"
        raise DataError(
            f"{row_error_reason(exc)} (operator {op.id}: {op.spec['op']}, at {at})") from exc


def plan_fingerprint(plan: dict[str, Any]) -> str:
    """A short hash of the plan's operators, to refuse restoring foreign state."""
    data = orjson.dumps(plan["operators"], option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(data).hexdigest()[:16]


class Executor:
    """Executes one physical plan over pushed insert/delete batches.

    * ``Executor(plan, params)`` compiles every expression once and runs the
      initialization instant (``VALUES`` rows and global aggregates appear).
    * ``push(source, timestamp, inserts, deletes=())`` buffers the deltas of one
      source at one instant; several pushes for the same instant accumulate;
      ``timestamp`` must be greater than the last watermark given to
      :meth:`advance` (that instant is closed), else ``ValueError``. Streams
      take inserts only; tables take inserts and deletes.
    * ``advance(watermark)`` closes every instant ``<= watermark`` that has
      pending input or a window timer, in time order, and returns the root's
      emissions in time order (within an instant: deletes, then inserts).
    * ``snapshot()`` is the root relation's current value (relation-valued
      queries; ordered when the root is a sort).
    * ``state()`` / ``Executor.restore(plan, state, params)`` round-trip all
      operator state (and buffered input) through orjson-able data.

    * ``take_rejected()`` returns (and forgets) the rows set aside since the
      last call (:class:`RejectedRow`).

    ``on_error`` says what a row does whose evaluation raises in an operator
    that evaluates expressions row by row (filter, project, stream_filter, the
    residual condition of join and lookup_join): ``"dead_letter"`` (the
    default) sets it aside, before it touches any state, and the rest of its
    batch goes on, exactly as without it; ``"fail"`` raises
    :class:`pycql.errors.DataError` naming the operator. A batch is evaluated
    whole and only a batch that raised again row by row, so good batches cost
    what they did. Errors of other kinds, and errors of operators that
    evaluate no expressions, raise in both modes (a :class:`DataError` for the
    data's); the instant's input is then not lost (it stays pending) but
    operator state may be half-updated, so restore from the last checkpoint
    to continue.
    """

    def __init__(
        self,
        plan: dict[str, Any],
        params: Sequence[object] = (),
        *,
        on_error: OnError = "dead_letter",
    ) -> None:
        self._setup(plan, params, on_error)
        self._run(None, {})

    # --- construction ---------------------------------------------------------------

    def _setup(self, plan: dict[str, Any], params: Sequence[object], on_error: OnError) -> None:
        if on_error not in ON_ERROR_CHOICES:
            raise ProgrammingError(
                f"on_error must be 'dead_letter' or 'fail', not {on_error!r}")
        self.on_error: OnError = on_error
        self._rejected: list[RejectedRow] = []
        if "plan" in plan and "operators" not in plan:
            plan = plan["plan"]  # accept the statement envelope too
        version = plan.get("pycql_plan")
        if version != 1:
            raise ProgrammingError(f"unsupported plan version {version!r} (expected 1)")
        self.plan = plan
        self.params = tuple(params)
        expected = len(plan.get("params", []))
        if len(self.params) < expected:
            raise ProgrammingError(
                f"the query has {expected} parameters but {len(self.params)} were given")
        specs: dict[int, dict[str, Any]] = {}
        self._ops: list[Operator] = []
        self._by_id: dict[int, Operator] = {}
        for spec in plan["operators"]:
            try:
                inputs = [specs[i] for i in spec.get("inputs", [])]
            except KeyError as exc:
                raise ProgrammingError(
                    f"operator {spec.get('id')} reads operator {exc.args[0]}, "
                    "which does not come before it") from None
            op = build_operator(spec, inputs, self.params)
            specs[spec["id"]] = spec
            self._ops.append(op)
            self._by_id[op.id] = op
        root_id = plan["root"]
        if root_id not in self._by_id:
            raise ProgrammingError(f"the plan's root {root_id} is not an operator")
        self._root = self._by_id[root_id]
        self._sources: dict[str, list[Source]] = {}
        for op in self._ops:
            if isinstance(op, Source):
                self._sources.setdefault(op.name, []).append(op)
        self._timed = [op for op in self._ops if type(op).next_timer is not Operator.next_timer]
        self._root_is_stream = self._root.output == "stream"
        self._root_value: Multiset | None = Multiset()
        self._pending: dict[int, dict[str, list[list[Any]]]] = {}
        self._pending_times: list[int] = []
        self._watermark: int | None = None
        self._last_instant: int | None = None
        self._origins = self._row_origins()
        if on_error == "dead_letter":
            for op in self._ops:
                op.reject = self._reject
        #: rows (or changes) each operator has output, in the order of ``plan["operators"]``
        #: (EXPLAIN ANALYZE of a job); one ``len`` per operator and instant
        self.rows_out: list[int] = [0] * len(self._ops)
        self._chain_links: list[tuple[Operator, BatchFunction]] | None = self._stateless_chain()
        self._chain = None if self._chain_links is None else [
            batch.fn for _, batch in self._chain_links]
        self._step_all = self._compile_instant()
        readers: dict[int, list[Operator]] = {}
        for op in self._ops:
            for i in op.inputs:
                readers.setdefault(i, []).append(op)
        self._feeds = self._window_feeds(readers)
        #: the timestamps of rows fed to windows (per push, with the newest) not all
        #: closed at the last advance; the newest closed instant of those that were
        self._fed: list[tuple[Sequence[int], int]] = []
        self._fed_closed: int | None = None
        for op in self._ops:  # a window feeding an aggregate hands it counted rows
            if isinstance(op, SlideWindow):
                after = readers.get(op.id, [])
                op.counted = (op is not self._root and len(after) == 1
                              and isinstance(after[0], Aggregate))
        # with a stateless chain, pending input is (row, timestamp) pairs in arrival order
        self._timed_pending: TimedRows = []

    def _compile_instant(self) -> Callable[[int | None, dict[str, list[list[Any]]]], Any]:
        """One instant of the whole plan as straight-line Python, compiled once.

        ``run(tau, feed)`` returns the root's delta. Each operator runs as in
        this loop, written out per operator (no per-instant dispatch)::

            for op in operators:
                inputs = [delta of each input]
                if tau is None or op.always or any(inputs) or op's timer <= tau:
                    delta of op = op.step(tau, inputs) or nothing

        (the timer test only for operators with timers), and an error in a
        step becomes a :class:`DataError` naming the operator.
        """
        namespace: dict[str, Any] = {"_fail": _step_failed, "_ops": self._ops,
                                     "outs": self.rows_out}
        lines = ["def run(tau, feed):", "    cur = None", "    try:"]
        for k, op in enumerate(self._ops):
            d = f"d{op.id}"
            if isinstance(op, Source):
                namespace[f"name{k}"] = op.name
                lines += [f"        slot = feed.get(name{k})",
                          "        if slot:",
                          ("            " + d + " = [(r, 1) for r in slot[0]] + "
                           "[(r, -1) for r in slot[1]]") if op.is_table else
                          f"            {d} = slot[0]",
                          f"            outs[{k}] += len({d})",
                          "        else:",
                          f"            {d} = None"]
                continue
            namespace[f"step{k}"] = op.step
            inputs = [f"d{i}" for i in op.inputs]
            args = "[" + ", ".join(inputs) + "]"
            tests = ["tau is None"]
            if not op.always:
                tests += inputs
                if type(op).next_timer is not Operator.next_timer:
                    namespace[f"timer{k}"] = op.next_timer
                    tests.append(f"((t := timer{k}()) is not None and t <= tau)")
            else:
                tests = ["True"]
            lines += [f"        cur = {k}",
                      f"        {d} = (step{k}(tau, {args}) or None) if "
                      f"{' or '.join(tests)} else None",
                      f"        if {d}: outs[{k}] += len({d})"]
        lines += ["    except Exception as exc:",
                  "        if cur is not None:",
                  "            _fail(exc, _ops[cur], tau)",
                  "        raise",
                  f"    return d{self._root.id}"]
        exec(compile("\n".join(lines) + "\n", "<pycql instant>", "exec"), namespace)
        fn: Callable[[int | None, dict[str, list[list[Any]]]], Any] = namespace["run"]
        return fn

    def _row_origins(self) -> dict[int, list[str | None]]:
        """Per operator, per input: the source whose rows that input carries unchanged.

        A source's rows pass unchanged through windows, filters, stream filters
        that project nothing, sorts, exchanges and relation-to-stream operators.
        """
        passes = {"window", "filter", "sort", "istream", "dstream", "rstream", "exchange"}
        origin: dict[int, str | None] = {}
        for op in self._ops:
            kind = op.spec["op"]
            if isinstance(op, Source):
                origin[op.id] = op.name
            elif len(op.inputs) == 1 and (
                    kind in passes or (kind == "stream_filter" and not op.spec.get("exprs"))):
                origin[op.id] = origin.get(op.inputs[0])
            else:
                origin[op.id] = None
        return {op.id: [origin.get(i) for i in op.inputs] for op in self._ops}

    def _reject(self, op: Operator, tau: int | None, row: Row, count: int, exc: Exception,
                side: int) -> None:
        """The operators' :data:`~pycql.runtime.operators.RejectHook` (``"dead_letter"``)."""
        if count <= 0:
            return  # the retraction of a row set aside when it came
        origins = self._origins.get(op.id, ())
        rejected = RejectedRow(op.id, str(op.spec["op"]), row_error_reason(exc), tau,
                               tuple(row), origins[side] if side < len(origins) else None)
        self._rejected.extend([rejected] * count)

    def _stateless_chain(self) -> list[tuple[Operator, BatchFunction]] | None:
        """The timed batch functions from the only source to the root, if the plan is one.

        A plan qualifies when it is a line: one stream source, then only
        operators that are stateless row by row over a stream (stream_filter,
        filter and project of a stream), the last one the root. Such a plan's
        output at ``tau`` is its input at ``tau`` filtered and projected, so
        :meth:`advance` runs all the instants it closes in one pass.
        """
        source, *rest = self._ops
        if not isinstance(source, Source) or source.is_table or not rest:
            return None
        chain = []
        previous = source.id
        for op in rest:
            fn = op.timed_batch()
            if fn is None or op.inputs != [previous] or op.always:
                return None
            chain.append((op, fn))
            previous = op.id
        if previous != self._root.id or not self._root_is_stream:
            return None
        return chain

    def _window_feeds(self, readers: dict[int, list[Operator]]) -> dict[str, list[WindowFeed]]:
        """Per stream, its paths to SLIDE windows, when every operator reading it is on one.

        Such a stream's rows change nothing but the panes of those windows until
        a boundary, so :meth:`push_many` runs them through the stateless operators
        between (filters and projections, over many instants at once) and puts them
        into the panes at once (:meth:`SlideWindow.feed
        <pycql.runtime.operators.SlideWindow.feed>`): no instant runs for them, only
        the windows' boundaries do (their timers). A stream read by anything else
        (a RANGE window, a join, the root) is pushed instant by instant as before.
        ``readers``: the operators reading each operator, by its id.
        """
        index = {op.id: k for k, op in enumerate(self._ops)}

        def paths(op: Operator, links: list[tuple[int, Operator, BatchFunction]],
                  source: int) -> list[WindowFeed] | None:
            found: list[WindowFeed] = []
            if op is self._root or not readers.get(op.id):
                return None
            for reader in readers[op.id]:
                if reader.inputs != [op.id]:
                    return None
                if isinstance(reader, SlideWindow):
                    maps = [link.row_map() for _, link, _ in links]
                    found.append(WindowFeed(source, links, reader, maps))
                    continue
                batch = reader.timed_batch()
                if batch is None or reader.always:
                    return None
                more = paths(reader, [*links, (index[reader.id], reader, batch)], source)
                if more is None:
                    return None
                found += more
            return found

        feeds: dict[str, list[WindowFeed]] = {}
        for name, sources in self._sources.items():
            all_paths: list[WindowFeed] = []
            for source in sources:
                found = None if source.is_table else paths(source, [], index[source.id])
                if found is None:
                    break
                all_paths += found
            else:
                feeds[name] = all_paths
        return feeds

    def _feed(self, feeds: list[WindowFeed], timestamps: Sequence[int],
              rows: Sequence[Row]) -> bool:
        """Rows of a stream into the panes of the windows it feeds (:meth:`_window_feeds`).
        False when an operator between raised with ``on_error="fail"``: nothing was fed,
        and the rows go instant by instant, so that the error is raised at its instant."""
        counts: dict[int, int] = {}
        ready: list[tuple[SlideWindow, Sequence[Row], Sequence[int]]] = []
        mark = len(self._rejected)
        for feed in feeds:
            counts[feed.source] = len(rows)
            now, times = rows, timestamps
            timed: TimedRows | None = None  # once a link drops rows: with their times
            for (k, op, batch), row_map in zip(feed.links, feed.row_maps, strict=True):
                if row_map is not None and timed is None:
                    try:
                        now = row_map(now)
                        counts[k] = len(now)
                        continue
                    except ROW_ERRORS:
                        pass  # row by row, below
                if timed is None:
                    timed = list(zip(now, times, strict=True))
                try:
                    timed = batch.fn(timed)
                except ROW_ERRORS:
                    if self.on_error != "dead_letter":
                        del self._rejected[mark:]
                        return False
                    timed = batch.isolating()(timed, self._timed_reject(op))
                counts[k] = len(timed)
            if timed is not None:
                now, times = list(map(_FIRST, timed)), list(map(_SECOND, timed))
            ready.append((feed.window, now, times))
        for window, now, times in ready:
            window.feed(now, times)
        for k, n in counts.items():
            self.rows_out[k] += n
        self._fed.append((timestamps, max(timestamps)))
        return True

    def _close_fed(self, watermark: int) -> None:
        """The instants of fed rows up to ``watermark`` are closed: note the newest of
        the pushes closed whole (one that is not stays, for :attr:`last_instant`)."""
        newest = self._fed_closed
        keep = []
        for times, last in self._fed:
            if last > watermark:
                keep.append((times, last))
            elif newest is None or last > newest:
                newest = last
        self._fed = keep
        self._fed_closed = newest

    # --- the API ----------------------------------------------------------------------

    @property
    def sources(self) -> list[str]:
        """Names of the source operators (streams and tables), each once."""
        return list(self._sources)

    @property
    def stateless(self) -> bool:
        """Whether the plan keeps no state: one stream through filters and projections,
        so it can run on each partition of its input apart (a job's tasks)."""
        return self._chain is not None

    @property
    def result_kind(self) -> str:
        """``"stream"`` or ``"relation"``: what the query's root produces."""
        kind = self.plan.get("result", {}).get("kind")
        if kind in ("stream", "relation"):
            return str(kind)
        return "stream" if self._root_is_stream else "relation"

    @property
    def watermark(self) -> int | None:
        """The last watermark given to :meth:`advance` (``None`` before the first)."""
        return self._watermark

    @property
    def last_instant(self) -> int | None:
        """The last instant the executor closed (``None`` before any)."""
        newest = [t for t in (self._last_instant, self._fed_closed) if t is not None]
        watermark = self._watermark
        if watermark is not None:  # pushes fed to windows and closed in part
            newest += [max(t for t in times if t <= watermark) for times, _ in self._fed
                       if min(times) <= watermark]
        return max(newest) if newest else None

    def take_rejected(self) -> list[RejectedRow]:
        """The rows set aside since the last call (in the order they were), forgotten here.

        Only ``on_error="dead_letter"`` sets rows aside. A row is reported once
        when it comes (one :class:`RejectedRow` per copy), not again when it
        would have left (a window expiring it, a table deleting it).
        """
        rejected, self._rejected = self._rejected, []
        return rejected

    def source_kind(self, source: str) -> str:
        """``"stream"`` or ``"table"`` for a source name."""
        ops = self._sources.get(source)
        if not ops:
            raise ProgrammingError(f"the query reads no source named {source!r}")
        return "table" if ops[0].is_table else "stream"

    def push(
        self,
        source: str,
        timestamp: int,
        inserts: Sequence[Row],
        deletes: Sequence[Row] = (),
    ) -> None:
        """Buffer the deltas of ``source`` at instant ``timestamp``."""
        ops = self._sources.get(source)
        if not ops:
            raise ProgrammingError(
                f"the query reads no source named {source!r} (it reads {self.sources})")
        if self._watermark is not None and timestamp <= self._watermark:
            raise ValueError(
                f"instant {timestamp} of {source!r} is already closed "
                f"(watermark {self._watermark})")
        if deletes and not ops[0].is_table:
            raise ValueError(f"{source!r} is a stream: it takes inserts only")
        if not inserts and not deletes:
            return
        feeds = self._feeds.get(source)
        if feeds is not None and self._feed(feeds, [timestamp] * len(inserts), inserts):
            return
        if self._chain is not None:
            self._timed_pending += zip(inserts, repeat(timestamp))
            return
        at = self._pending.get(timestamp)
        if at is None:
            at = self._pending[timestamp] = {}
            heapq.heappush(self._pending_times, timestamp)
        slot = at.get(source)
        if slot is None:
            slot = at[source] = [[], []]
        slot[0].extend(inserts)
        slot[1].extend(deletes)

    def push_many(self, source: str, timestamps: Sequence[int], rows: Sequence[Row]) -> None:
        """Buffer inserts of ``source``: ``rows[i]`` at instant ``timestamps[i]``.

        The same as ``push(source, t, [rows at t])`` for each distinct ``t``
        (rows of one instant keep their order), in one call: a decoded batch
        of a topic goes in at once. The timestamps need not be sorted; every
        one must be after the watermark, else ``ValueError`` and nothing is
        buffered.

        >>> ex = Executor(_example_plan())
        >>> ex.push_many("S", [7, 5, 7], [(1,), (2,), (3,)])
        >>> ex.advance(100)
        [Emission(timestamp=15, sign=1, row=(2,)), Emission(timestamp=17, sign=1, row=(1,)), \
Emission(timestamp=17, sign=1, row=(3,))]
        """
        ops = self._sources.get(source)
        if not ops:
            raise ProgrammingError(
                f"the query reads no source named {source!r} (it reads {self.sources})")
        if len(timestamps) != len(rows):
            raise ValueError(f"{len(timestamps)} timestamps for {len(rows)} rows")
        if not rows:
            return
        oldest = min(timestamps)
        if self._watermark is not None and oldest <= self._watermark:
            raise ValueError(
                f"instant {oldest} of {source!r} is already closed "
                f"(watermark {self._watermark})")
        feeds = self._feeds.get(source)
        if feeds is not None and self._feed(feeds, timestamps, rows):
            return
        if self._chain is not None:
            self._timed_pending += zip(rows, timestamps, strict=True)
            return
        pending = self._pending
        pending_times = self._pending_times
        # by instant, in arrival order within one (a stable sort; a sorted batch costs one pass)
        by_time = sorted(zip(timestamps, rows, strict=True), key=_FIRST)
        for ts, run in groupby(by_time, key=_FIRST):
            at = pending.get(ts)
            if at is None:
                at = pending[ts] = {}
                heapq.heappush(pending_times, ts)
            slot = at.get(source)
            if slot is None:
                at[source] = [list(map(_SECOND, run)), []]
            else:
                slot[0].extend(map(_SECOND, run))

    def advance(self, watermark: int) -> list[Emission]:
        """Close every instant ``<= watermark`` with input or timers; return the emissions."""
        out: list[Emission] = []
        if self._watermark is not None and watermark <= self._watermark:
            return out
        if self._chain is not None:
            return self._advance_chain(self._chain, watermark)
        times = self._pending_times
        while True:
            tau = times[0] if times else None
            for op in self._timed:
                t = op.next_timer()
                if t is not None and (tau is None or t < tau):
                    tau = t
            if tau is None or tau > watermark:
                break
            feed = self._pending.get(tau, {}) if times and times[0] == tau else {}
            out.extend(self._run(tau, feed))
            self._last_instant = tau
            if feed:
                heapq.heappop(times)
                del self._pending[tau]
        if self._fed:
            self._close_fed(watermark)
        self._watermark = watermark
        return out

    def _advance_chain(
        self, chain: list[Callable[[TimedRows], TimedRows]], watermark: int
    ) -> list[Emission]:
        """:meth:`advance` of a stateless chain: every closed instant in one pass."""
        pending = self._timed_pending
        if not pending:
            self._watermark = watermark
            return []
        if max(map(_SECOND, pending)) <= watermark:
            ready, rest = pending, []
        else:
            due = [t <= watermark for t in map(_SECOND, pending)]
            ready = list(compress(pending, due))
            rest = list(compress(pending, [not d for d in due]))
        if not ready:
            self._watermark = watermark
            return []
        ready.sort(key=_SECOND)  # stable: arrival order within an instant
        self._timed_pending = rest
        try:
            out = self._through_chain(chain, ready)
        except Exception:
            # the chain is stateless: run the instants one by one to fail exactly
            # where the general path does (earlier instants closed, this one pending)
            emissions = self._run_one_by_one(ready)
        else:
            emissions = _inserts(list(map(_SECOND, out)), list(map(_FIRST, out)))
            self._last_instant = ready[-1][1]
        self._watermark = watermark
        return emissions

    def _through_chain(
        self, chain: list[Callable[[TimedRows], TimedRows]], ready: TimedRows
    ) -> TimedRows:
        """``ready`` through every link of the chain; in ``"dead_letter"`` mode a link
        that raises on a row runs again row by row (its isolating twin), the rows it
        fails on set aside with their own timestamps."""
        out = ready
        counts = self.rows_out
        counts[0] += len(ready)
        try:
            for k, fn in enumerate(chain, 1):
                out = fn(out)
                counts[k] += len(out)
            return out
        except ROW_ERRORS:
            if self.on_error != "dead_letter" or self._chain_links is None:
                raise
        mark = len(self._rejected)
        try:
            out = ready
            for op, batch in self._chain_links:
                try:
                    out = batch.fn(out)
                except ROW_ERRORS:
                    out = batch.isolating()(out, self._timed_reject(op))
        except BaseException:
            del self._rejected[mark:]  # the general path will set them aside again
            raise
        return out

    def _timed_reject(self, op: Operator) -> Callable[[Row, int, Exception], None]:
        def reject(row: Row, timestamp: int, exc: Exception) -> None:
            self._reject(op, timestamp, row, 1, exc, 0)
        return reject

    def _run_one_by_one(self, ready: TimedRows) -> list[Emission]:
        """Run ``ready`` (sorted pairs) instant by instant through :meth:`_run`.

        Used when the one-pass chain raised: the failing instant raises the
        general path's ``DataError``, and it and the later instants go back to
        pending.
        """
        name = self._chain_source_name()
        done = 0
        emissions: list[Emission] = []
        for tau, run in groupby(ready, key=_SECOND):
            rows = list(map(_FIRST, run))
            try:
                emissions += self._run(tau, {name: [rows, []]})
            except BaseException:
                self._timed_pending = ready[done:] + self._timed_pending
                raise
            done += len(rows)
            self._last_instant = tau
        return emissions

    def _chain_source_name(self) -> str:
        return next(iter(self._sources))

    def snapshot(self) -> list[Row]:
        """The root relation's current value (ordered if the root is a sort)."""
        if self._root_is_stream:
            raise InterfaceError("snapshot() needs a relation-valued query; this one is a stream")
        if isinstance(self._root, Sort):
            return self._root.snapshot()
        if self._root_value is None:
            raise InterfaceError("this executor does not keep its result (forget_root)")
        return self._root_value.rows()

    def state(self, *, incremental: bool = False) -> dict[str, Any]:
        """All operator state, buffered input and the watermark as orjson-able data.

        Decimals are written as ``{"$decimal": "1.50"}`` (orjson has no decimal).
        ``incremental`` leaves out the operators that track their changed keys
        (:attr:`~pycql.runtime.operators.Operator.dirty`) and gives their ids and
        shapes under ``"tracked"``: their changes come from :meth:`changed_state`.
        """
        tracked = self.tracked() if incremental else []
        skip = {op.id for op in tracked}
        # a job's commit (incremental) writes it as JSON at once: the C-speed encoding
        encode = encode_state if incremental else encode_values
        data: dict[str, Any] = encode({
            "pycql_state": STATE_VERSION,
            "plan": plan_fingerprint(self.plan),
            "watermark": self._watermark,
            "last_instant": self.last_instant,
            "pending": self._pending_json(),
            "operators": {str(op.id): op.state() for op in self._ops if op.id not in skip},
            "root": [] if self._root_value is None else self._root_value.to_json(),
        })
        if incremental:
            data["tracked"] = {str(op.id): op.tracked_shape for op in tracked}
        return data

    def track_changes(self, *, saved: bool) -> None:
        """From now on, the operators that can track their changed keys do (a job's
        task saves their changes only, :meth:`changed_state`). ``saved``: their state
        now is saved already (restored from it); otherwise all of it counts as changed."""
        for op in self._ops:
            if op.trackable and op.dirty is None:
                op.dirty = set()
                if not saved:
                    op.touch_all()

    def tracked(self) -> list[Operator]:
        """The operators whose keyed state tracks its changes."""
        return [op for op in self._ops if op.dirty is not None]

    def changed_state(self) -> dict[int, list[tuple[str | None, Any, Any]]]:
        """Per tracked operator id, ``(member, key, value)`` for each key changed since
        :meth:`clean` (:meth:`Operator.changed_pairs
        <pycql.runtime.operators.Operator.changed_pairs>`; Decimals still Decimals)."""
        return {op.id: op.changed_pairs() for op in self._ops if op.dirty is not None}

    def clean(self) -> None:
        """The changes of :meth:`changed_state` are saved."""
        for op in self._ops:
            op.clean()

    def forget_root(self) -> None:
        """Stop keeping the root relation's value (it serves :meth:`snapshot` only):
        a job's task writes the changes and needs no copy of the whole result."""
        self._root_value = None

    def _pending_json(self) -> list[list[Any]]:
        if self._chain is not None:
            name = self._chain_source_name()
            by_time = sorted(self._timed_pending, key=_SECOND)
            return [[t, name, [r for r, _ in run], []]  # rows stay tuples: encoded later
                    for t, run in groupby(by_time, key=_SECOND)]
        return [
            [t, name, ins, dels]
            for t in sorted(self._pending)
            for name, (ins, dels) in self._pending[t].items()
        ]

    @classmethod
    def restore(
        cls,
        plan: dict[str, Any],
        state: dict[str, Any],
        params: Sequence[object] = (),
        *,
        on_error: OnError = "dead_letter",
    ) -> Executor:
        """An executor of ``plan`` continuing from ``state`` (from :meth:`state`)."""
        self = cls.__new__(cls)
        self._setup(plan, params, on_error)
        if not state.get("decoded"):  # decimals still written as {"$decimal": text}
            state = decode_values(state)
        if state.get("pycql_state") != STATE_VERSION:
            raise ProgrammingError(f"unsupported state version {state.get('pycql_state')!r}")
        if state.get("plan") != plan_fingerprint(self.plan):
            raise ProgrammingError("this state was saved by a different plan")
        for op in self._ops:
            data = state["operators"].get(str(op.id))
            if data is not None:
                op.load(data)
        self._root_value = Multiset.from_json(state["root"])
        self._watermark = state["watermark"]
        self._last_instant = state.get("last_instant")
        for t, name, ins, dels in state["pending"]:
            if self._chain is not None:
                self._timed_pending += [(tuple(r), t) for r in ins]
                continue
            at = self._pending.get(t)
            if at is None:
                at = self._pending[t] = {}
                heapq.heappush(self._pending_times, t)
            at[name] = [[tuple(r) for r in ins], [tuple(r) for r in dels]]
        return self

    # --- one instant ----------------------------------------------------------------

    def _run(self, tau: int | None, feed: dict[str, list[list[Any]]]) -> list[Emission]:
        root_delta = self._step_all(tau, feed)
        if not root_delta:
            return []
        if self._root_is_stream:
            if tau is None:
                return []
            return _inserts(repeat(tau), root_delta)
        net = consolidate(root_delta)
        if self._root_value is not None:
            self._root_value.update_pairs(net.items())
        if tau is None:
            return []
        emissions = [Emission(tau, -1, r) for r, c in net.items() if c < 0 for _ in range(-c)]
        emissions += [Emission(tau, 1, r) for r, c in net.items() if c > 0 for _ in range(c)]
        return emissions


def _division_plan() -> dict[str, Any]:
    """A plan for the examples: ``SELECT 10 / A FROM S`` over a stream ``S(A)``."""
    cols = [{"name": "A", "type": "INTEGER"}]
    div = {"kind": "call", "op": "/", "type": "INTEGER", "operands": [
        {"kind": "literal", "value": 10, "type": "INTEGER"},
        {"kind": "input", "index": 0, "type": "INTEGER"}]}
    return {"pycql_plan": 1, "root": 1, "result": {"kind": "stream", "columns": cols},
            "operators": [
                {"id": 0, "op": "source", "name": "S", "source_kind": "stream", "inputs": [],
                 "output": "stream", "columns": cols},
                {"id": 1, "op": "stream_filter", "condition": None, "exprs": [div],
                 "inputs": [0], "output": "stream", "columns": cols}]}


def _example_plan() -> dict[str, Any]:
    """A plan for the examples: ``DSTREAM(S [RANGE 10])`` over a stream ``S(A)``."""
    cols = [{"name": "A", "type": "INTEGER"}]
    return {"pycql_plan": 1, "root": 2, "result": {"kind": "stream", "columns": cols},
            "operators": [
                {"id": 0, "op": "source", "name": "S", "source_kind": "stream", "inputs": [],
                 "output": "stream", "columns": cols},
                {"id": 1, "op": "window", "window": {"kind": "range", "range_ms": 10},
                 "inputs": [0], "output": "relation", "columns": cols},
                {"id": 2, "op": "dstream", "inputs": [1], "output": "stream",
                 "columns": cols}]}
