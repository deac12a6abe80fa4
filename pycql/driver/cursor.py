"""PEP 249 cursors, for queries that may never end.

A stream-valued query keeps running after ``execute`` returns; its rows
arrive as its input streams advance:

>>> import pycql
>>> cur = pycql.connect().cursor()
>>> cur.execute("CREATE STREAM S (A INTEGER)")              # doctest: +SKIP
>>> cur.execute("SELECT ISTREAM(*) FROM S [NOW] WHERE A > ?", (1,))  # doctest: +SKIP
>>> cur.fetchone(timeout=0.5) is None     # nothing arrived within 0.5 s  # doctest: +SKIP
True

A relation-valued query returns the relation's current value at once. See
``docs/dbapi.md`` for the whole story.
"""

from __future__ import annotations

import datetime as _dt
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from pycql.driver._results import ContinuousResult, Result
from pycql.driver._types import rowtime_datetime
from pycql.errors import InterfaceError, ProgrammingError

if TYPE_CHECKING:
    from pycql.driver._progress import ProgressCallback
    from pycql.driver.connection import Connection
    from pycql.runtime.progress import Progress
    from pycql.runtime.runner import RunnerMetrics

Row = tuple[Any, ...]


class ColumnDescription(NamedTuple):
    """One entry of ``cursor.description`` (the 7 items of PEP 249, also by name)."""

    name: str
    type_code: str
    display_size: int | None
    internal_size: int | None
    precision: int | None
    scale: int | None
    null_ok: bool | None


def describe_columns(columns: Sequence[Mapping[str, Any]]) -> list[ColumnDescription]:
    """``cursor.description`` for plan columns (``{"name", "type", "nullable", ...}``)."""
    out = []
    for c in columns:
        precision = c.get("precision")
        if precision is not None and precision < 0:
            precision = None
        scale = c.get("scale")
        if scale is not None and scale < -1000:
            scale = None
        out.append(
            ColumnDescription(
                str(c["name"]),
                str(c["type"]),
                None,
                precision if c["type"] in ("CHAR", "VARCHAR") else None,
                precision,
                scale,
                c.get("nullable", True),
            )
        )
    return out


class Cursor:
    """A PEP 249 cursor.

    Attributes beyond PEP 249:

    * ``rowtime``: the timestamp (UTC-aware :class:`datetime.datetime`) of the
      last row fetched from a stream-valued query; ``rowtime_ms`` the same in
      epoch milliseconds;
    * ``kind``: ``"stream"`` or ``"relation"`` after a query, else ``None``;
    * ``statement``: what the last statement was (``"query"``, ``"insert"``, ...);
    * ``rownumber``: how many rows were fetched from the current result.
    """

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.arraysize = 1
        self.description: list[ColumnDescription] | None = None
        self.rowcount = -1
        self.lastrowid = None
        self.kind: str | None = None
        self.statement: str | None = None
        self.query: str | None = None
        self.rownumber: int | None = None
        self._result: Result | None = None
        self._closed = False
        self._lock = threading.Lock()

    # -- state -----------------------------------------------------------------
    @property
    def closed(self) -> bool:
        return self._closed

    def _check_open(self) -> None:
        if self._closed:
            raise InterfaceError("the cursor is closed")
        if self.connection.closed:
            raise InterfaceError("the connection is closed")

    def _drop_result(self) -> None:
        result, self._result = self._result, None
        if result is not None:
            result.close()
        self.description = None
        self.rowcount = -1
        self.kind = None
        self.statement = None
        self.rownumber = None

    # -- executing ---------------------------------------------------------------
    def execute(
        self,
        sql: str,
        params: Sequence[Any] | None = None,
        *,
        start: str | int | _dt.datetime | dict[int, int] | None = None,
        stop: str | int | _dt.datetime | dict[int, int] | None = None,
        timeout: float | None = None,
        progress: ProgressCallback | None = None,
    ) -> Cursor:
        """Execute one CQL statement; return the cursor (so calls can be chained).

        ``params`` fill the ``?`` placeholders, as values (never as text).
        ``start`` and ``stop`` bound a query's input: ``"earliest"``,
        ``"latest"``, a timestamp (``datetime``, naive = UTC, or epoch
        milliseconds) or ``{partition: offset}``. A stream-valued query with
        ``stop`` ends once it has closed its last instant; without it, it runs
        until cancelled. ``timeout`` (seconds) ends the query after that much
        wall-clock time. ``progress`` is called with a :class:`pycql.Progress` (records
        read of the total, rate, ETA) as a query reads its inputs, about ten times a
        second and once at the end; :attr:`progress` keeps the last one.
        """
        from pycql.driver import _statements

        self._check_open()
        values = _check_params(params)
        if timeout is not None and timeout < 0:
            raise ProgrammingError("timeout must be a number of seconds >= 0")
        with self._lock:
            self._drop_result()
            self.query = sql
            deadline = None if timeout is None else time.monotonic() + timeout
            envelope = self.connection.database.analyze(sql)
            outcome = _statements.execute(
                self.connection, envelope, sql, values, start=start, stop=stop,
                deadline=deadline, include_rowtime=self.connection.rowtime_column,
                progress=progress,
            )
            self.statement = envelope["statement"]
            self._set_outcome(outcome)
        return self

    def _set_outcome(self, outcome: Any) -> None:
        self._result = outcome.result
        self.description = (
            None if outcome.columns is None else describe_columns(outcome.columns)
        )
        self.kind = outcome.kind
        if outcome.result is not None:
            self.rownumber = 0
            self.rowcount = outcome.result.rowcount
        else:
            self.rowcount = outcome.rowcount

    def executemany(self, sql: str, seq_of_params: Sequence[Sequence[Any]]) -> Cursor:
        """Execute ``sql`` once per parameter set; an INSERT writes all rows in one batch.

        ``rowcount`` is the total of rows written (or -1 when unknown).
        """
        from pycql.driver import _statements

        self._check_open()
        all_values = [_check_params(p) for p in seq_of_params]
        with self._lock:
            self._drop_result()
            self.query = sql
            envelope = self.connection.database.analyze(sql)
            self.statement = envelope["statement"]
            if envelope["statement"] in ("insert", "delete"):
                self.rowcount = _statements.execute_many_writes(
                    self.connection, envelope, sql, all_values
                )
                return self
            total = 0
            for values in all_values:
                outcome = _statements.execute(
                    self.connection, envelope, sql, values, start=None, stop=None,
                    deadline=None, include_rowtime=False,
                )
                if outcome.result is not None:
                    outcome.result.close()
                    raise ProgrammingError(
                        "executemany() is for statements that return no rows; "
                        "use execute() for queries"
                    )
                total = -1 if total < 0 or outcome.rowcount < 0 else total + outcome.rowcount
            self.rowcount = total
        return self

    # -- fetching ----------------------------------------------------------------
    def _fetch_result(self) -> Result:
        self._check_open()
        if self._result is None:
            if self.statement is None:
                raise ProgrammingError("no results to fetch: execute a query first")
            raise ProgrammingError(
                f"the last statement ({self.statement.upper()}) returned no rows"
            )
        return self._result

    def _count(self, rows: list[Row]) -> list[Row]:
        if self.rownumber is not None:
            self.rownumber += len(rows)
        self._last_fetch = (self._result, rows)  # what _repr_html_ shows
        return rows

    def fetchone(self, timeout: float | None = None) -> Row | None:
        """The next row, or ``None`` at the end (or when ``timeout`` seconds pass first).

        On a stream-valued query without ``timeout`` this waits for the next row.
        """
        rows = self._count(self._fetch_result().fetch(1, timeout))
        return rows[0] if rows else None

    def fetchmany(self, size: int | None = None, timeout: float | None = None) -> list[Row]:
        """Up to ``size`` (default ``arraysize``) rows; fewer at the end or after ``timeout`` s."""
        n = self.arraysize if size is None else size
        return self._count(self._fetch_result().fetch(n, timeout))

    def fetchall(self) -> list[Row]:
        """Every remaining row.

        A stream-valued query that may never end (no ``stop``, no ``timeout``)
        raises :class:`~pycql.errors.ProgrammingError` rather than hang.
        """
        result = self._fetch_result()
        if not result.bounded:
            raise ProgrammingError(
                "fetchall() on a continuous query would never return: its stream has no end. "
                "Iterate the cursor, use fetchmany(n, timeout=...), or execute the query "
                "with stop=... (e.g. stop='latest') or timeout=..."
            )
        return self._count(result.fetch(None, None))

    def __iter__(self) -> Iterator[Row]:
        return self

    def __next__(self) -> Row:
        row = self.fetchone()
        if row is None:
            raise StopIteration
        return row

    @property
    def ended(self) -> bool:
        """True when the current result has no more rows and never will.

        A stream-valued query ends when it reaches its ``stop``, its
        ``timeout`` passes, or it is cancelled; until then an empty
        ``fetchmany(timeout=...)`` only means nothing arrived in time.
        """
        result = self._result
        return result is None or result.finished

    # -- timestamps ----------------------------------------------------------------
    @property
    def rowtime_ms(self) -> int | None:
        """Epoch milliseconds of the last fetched row's timestamp (stream results)."""
        result = self._result
        return None if result is None else result.last_rowtime

    @property
    def rowtime(self) -> _dt.datetime | None:
        """The timestamp of the last fetched row as a UTC-aware datetime (stream results)."""
        ms = self.rowtime_ms
        return None if ms is None else rowtime_datetime(ms)

    @property
    def metrics(self) -> RunnerMetrics | None:
        """Counters of the current query: records read, late and malformed records
        (both kept in the dead-letter topic, never dropped), rows emitted, watermark.

        ``None`` for statements that run no query (DDL, INSERT, SHOW, EXPLAIN).
        """
        result = self._result
        return None if result is None else result.metrics

    @property
    def progress(self) -> Progress | None:
        """How far the current query has read its inputs: the last :class:`pycql.Progress`
        reported (during a continuous query, as of the last fetch; after a snapshot, its
        end). ``None`` for statements that run no query."""
        result = self._result
        return None if result is None else result.progress

    # -- stopping ------------------------------------------------------------------
    @property
    def cancelled(self) -> bool:
        """True when the current query was stopped by :meth:`cancel` (or Ctrl-C)."""
        result = self._result
        return isinstance(result, ContinuousResult) and result.cancelled

    def cancel(self) -> None:
        """Stop the running query; safe from any thread.

        A fetch waiting in another thread returns promptly with what it has
        (``fetchone`` returns ``None``, iteration stops). The cursor and its
        connection stay usable.
        """
        result = self._result
        if result is not None:
            result.cancel()

    def close(self) -> None:
        """Close the cursor, cancelling its query."""
        if self._closed:
            return
        self.cancel()
        self._closed = True
        result, self._result = self._result, None
        if result is not None:
            result.close()

    def __enter__(self) -> Cursor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- PEP 249 odds and ends -------------------------------------------------------
    def setinputsizes(self, sizes: Any) -> None:
        """Does nothing (allowed by PEP 249): parameters are typed by the planner."""

    def setoutputsize(self, size: int, column: int | None = None) -> None:
        """Does nothing (allowed by PEP 249): values are never truncated."""

    def __repr__(self) -> str:
        state = "closed" if self._closed else (self.kind or "idle")
        return f"<pycql.Cursor {state}>"

    def _repr_html_(self) -> str:
        """Jupyter's view of the cursor: the rows the last fetch (``fetchone``,
        ``fetchmany``, ``fetchall``) of the current result returned, as an HTML table
        under the column names; an ``EXPLAIN PLAN AS DOT`` result as the SVG picture
        when Graphviz's ``dot`` is on PATH. Showing a cursor never fetches: a
        continuous query's rows are not consumed by looking at it."""
        last = getattr(self, "_last_fetch", None)
        rows = last[1] if last is not None and last[0] is self._result else None
        names = [d.name for d in self.description or []]
        if (self.statement == "explain" and rows and len(rows[0]) == 1
                and str(rows[0][0]).startswith("digraph")):
            from pycql.driver._dot import render_svg

            svg = render_svg(str(rows[0][0]))
            if svg is not None:
                return svg[svg.find("<svg"):]
        return _html_table(names, rows, repr(self))


def _html_table(names: list[str], rows: list[Row] | None, caption: str) -> str:
    """``rows`` under ``names`` as an HTML table (values escaped; None as NULL)."""
    import html

    def cell(value: Any) -> str:
        return "<i>NULL</i>" if value is None else html.escape(str(value))

    head = "".join(f"<th>{html.escape(n)}</th>" for n in names)
    body = "".join(
        "<tr>" + "".join(f"<td>{cell(v)}</td>" for v in row) + "</tr>" for row in rows or []
    )
    if rows is None:
        note = "nothing fetched yet: fetchone(), fetchmany() or fetchall() shows rows here"
    else:
        note = f"{len(rows)} row{'' if len(rows) == 1 else 's'} fetched last"
    return (f"<table><caption>{html.escape(caption)}: {note}</caption>"
            f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")


def _check_params(params: Any) -> tuple[Any, ...]:
    if params is None:
        return ()
    if isinstance(params, Mapping):
        raise ProgrammingError(
            "pycql's paramstyle is 'qmark': pass the parameters as a sequence, "
            "in the order of the ? placeholders"
        )
    if isinstance(params, str | bytes):
        raise ProgrammingError(
            "parameters must be a sequence of values, not one string: use (value,)"
        )
    try:
        return tuple(params)
    except TypeError:
        raise ProgrammingError(f"parameters must be a sequence, not {type(params).__name__}")\
            from None
