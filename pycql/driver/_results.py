"""What an executed statement hands its cursor: a finite list of rows or a running query.

Both kinds answer ``fetch(n, timeout)``; only the running query can block.

>>> rows = RowList([("a",), ("b",)])
>>> rows.fetch(1, None), rows.fetch(None, None), rows.fetch(None, None)
([('a',)], [('b',)], [])
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from operator import attrgetter, itemgetter
from typing import TYPE_CHECKING, Any, Protocol

from pycql import _signals
from pycql.driver._progress import ProgressReporter
from pycql.errors import InternalError
from pycql.runtime.collector import fewer_collections

if TYPE_CHECKING:
    from pycql.runtime.progress import Progress

Row = tuple[Any, ...]
#: a result's rows, engine values to what the user sees (``_types.row_converter``)
RowConverter = Callable[[Sequence[Any]], Row]

_TIMESTAMP = attrgetter("timestamp")
_SIGN = attrgetter("sign")
_ROW = attrgetter("row")
_SECOND = itemgetter(1)

#: How long one poll of a running query may block: the longest a ``cancel()``
#: from another thread waits to be noticed.
POLL_SLICE_S = 0.05


class Emission(Protocol):
    """One output element of the runtime (``pycql.runtime``)."""

    timestamp: int
    sign: int
    row: Sequence[Any]


class Runner(Protocol):
    """The part of ``pycql.runtime.runner.QueryRunner`` a cursor uses."""

    def poll(self, timeout: float) -> Sequence[Emission]: ...

    def cancel(self) -> None: ...

    def close(self) -> None: ...


class Result:
    """Rows a cursor fetches from. ``bounded`` is False for a query that may never end."""

    bounded: bool = True
    #: The number of rows the statement produced, or -1 while unknown.
    rowcount: int = -1

    def fetch(self, n: int | None, timeout: float | None) -> list[Row]:
        """Up to ``n`` rows (all when ``None``), waiting at most ``timeout`` seconds for them."""
        raise NotImplementedError

    @property
    def last_rowtime(self) -> int | None:
        """The epoch-millisecond timestamp of the last row fetched, if it has one."""
        return None

    @property
    def metrics(self) -> Any:
        """The query's runner metrics (``pycql.runtime.RunnerMetrics``), if it ran one."""
        return None

    @property
    def progress(self) -> Progress | None:
        """The last progress report of the query's run (``pycql.Progress``), if it ran one."""
        return None

    @property
    def finished(self) -> bool:
        raise NotImplementedError

    def cancel(self) -> None:
        """Stop producing rows (any thread)."""

    def close(self) -> None:
        """Release everything; fetching afterwards returns nothing."""


class RowList(Result):
    """A finite, already computed list of rows (snapshots, SHOW, EXPLAIN, DESCRIBE)."""

    def __init__(self, rows: list[Row], rowtime: int | None = None, metrics: Any = None,
                 progress: Progress | None = None) -> None:
        self._rows = rows
        self._next = 0
        self.rowcount = len(rows)
        self._rowtime = rowtime
        self._metrics = metrics
        self._progress = progress

    @property
    def metrics(self) -> Any:
        return self._metrics

    @property
    def progress(self) -> Progress | None:
        return self._progress

    def fetch(self, n: int | None, timeout: float | None) -> list[Row]:
        start = self._next
        end = len(self._rows) if n is None else min(len(self._rows), start + max(n, 0))
        self._next = end
        return self._rows[start:end]

    @property
    def last_rowtime(self) -> int | None:
        return self._rowtime if self._next else None

    @property
    def finished(self) -> bool:
        return self._next >= len(self._rows)

    def close(self) -> None:
        self._next = len(self._rows)


class ContinuousResult(Result):
    """The rows of a running stream-valued query, as they arrive.

    ``deadline`` (a ``time.monotonic()`` value) ends the query when passed, as
    ``execute(timeout=...)`` asks. ``on_end`` is called once when the query
    ends for any reason (it unregisters the query from ``SHOW QUERIES``).
    ``progress`` reports how far the runner has read, from the thread that polls it
    (the fetching one), and once more when the query ends.
    """

    def __init__(
        self,
        runner: Runner,
        *,
        convert: RowConverter | None,
        bounded: bool,
        deadline: float | None,
        include_rowtime: bool = False,
        on_end: Callable[[], None] | None = None,
        progress: ProgressReporter | None = None,
    ) -> None:
        self._runner = runner
        self._progress = progress or ProgressReporter(None)
        self._row_convert = convert
        self.bounded = bounded or deadline is not None
        self._deadline = deadline
        self._include_rowtime = include_rowtime
        self._buffer: deque[tuple[int, Row]] = deque()
        self._cancelled = threading.Event()
        self._ended = False
        self._closed = False
        self._lock = threading.Lock()  # one fetching thread at a time
        self._on_end = on_end
        self._rowtime: int | None = None
        self.fetched = 0
        _signals.track_query(self)  # SIGTERM and interpreter exit cancel it

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    @property
    def metrics(self) -> Any:
        return getattr(self._runner, "metrics", None)

    @property
    def progress(self) -> Progress | None:
        return self._progress.last

    @property
    def finished(self) -> bool:
        return self._ended and not self._buffer

    @property
    def last_rowtime(self) -> int | None:
        return self._rowtime

    def _rows(self, emissions: Sequence[Emission]) -> list[Row]:
        """The rows a user sees of a poll's emissions (with their row times, if asked)."""
        convert = self._row_convert
        rows: list[Row] = list(map(convert or tuple, map(_ROW, emissions)))
        if self._include_rowtime:
            from pycql.driver._types import rowtime_datetime

            rows = [(*row, rowtime_datetime(e.timestamp))
                    for row, e in zip(rows, emissions, strict=True)]
        return rows

    def _end(self) -> None:
        if self._ended:
            return
        self._ended = True
        _signals.forget_query(self)
        try:
            try:
                self._progress.update(self._runner, final=True)
            finally:
                self._runner.close()
        finally:
            if self._on_end is not None:
                self._on_end()
                self._on_end = None

    def _pull(self, wait: float) -> None:
        """Poll the runner once (at most ``wait`` seconds) into the buffer."""
        with fewer_collections():  # the poll's output is converted under its GC setting
            emissions = self._runner.poll(wait)
            if emissions:
                if min(map(_SIGN, emissions)) < 0:
                    raise InternalError(
                        "a stream-valued query produced a deletion; the plan's result kind "
                        "is wrong")
                self._buffer.extend(zip(map(_TIMESTAMP, emissions), self._rows(emissions),
                                        strict=True))
        self._progress.update(self._runner)
        if not emissions and _runner_done(self._runner):
            self._end()

    def fetch(self, n: int | None, timeout: float | None) -> list[Row]:
        out: list[Row] = []
        with self._lock:
            try:
                self._fetch_into(out, n, timeout)
            except (KeyboardInterrupt, SystemExit):
                # Ctrl-C while waiting: stop the query, keep the connection usable;
                # SIGTERM (pycql._signals.Terminated) or a handler's sys.exit(): stop it too.
                self.cancel()
                self._end()
                raise
            except BaseException:
                self._end()
                raise
        if out:
            self.fetched += len(out)
        return out

    def _fetch_into(self, out: list[Row], n: int | None, timeout: float | None) -> None:
        limit = float("inf") if n is None else n
        wait_until = None if timeout is None else time.monotonic() + timeout
        while len(out) < limit:
            if self._cancelled.is_set():
                self._buffer.clear()
                self._end()
                return
            buffer = self._buffer
            if buffer:
                if len(buffer) <= limit - len(out):  # all of it: one C-level pass
                    self._rowtime = buffer[-1][0]
                    out.extend(map(_SECOND, buffer))
                    buffer.clear()
                    continue
                timestamp, row = buffer.popleft()
                self._rowtime = timestamp
                out.append(row)
                continue
            if self._ended:
                return
            now = time.monotonic()
            if self._deadline is not None and now >= self._deadline:
                self._end()
                return
            if wait_until is not None and now >= wait_until:
                return
            slice_s = POLL_SLICE_S
            for limit_at in (wait_until, self._deadline):
                if limit_at is not None:
                    slice_s = min(slice_s, max(0.0, limit_at - now))
            self._pull(slice_s)

    def cancel(self) -> None:
        self._cancelled.set()
        self._runner.cancel()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self.cancel()
        # A fetch in another thread ends the runner itself; else do it here.
        if self._lock.acquire(timeout=5.0):
            try:
                self._buffer.clear()
                self._end()
            finally:
                self._lock.release()


def _runner_done(runner: Runner) -> bool:
    """Whether the runner has emitted everything it ever will (its ``stop`` was reached)."""
    done = getattr(runner, "done", None)
    if done is None:
        done = getattr(runner, "finished", False)
    if callable(done):
        done = done()
    return bool(done)
