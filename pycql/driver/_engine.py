"""The driver's one door into the runtime (``pycql.runtime``).

* :func:`start_stream` starts a stream-valued query and returns its runner;
* :func:`snapshot` runs a relation-valued query over its inputs as they are
  now (or between ``start`` and ``stop``) and returns the relation's rows.

Where a query starts when ``start`` is not given: a continuous query (no
``stop``) sees what arrives from now on (``"latest"``); a bounded run, and
every snapshot, starts at the beginning of its inputs (``"earliest"``).
"""

from __future__ import annotations

import datetime as _dt
import time
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from pycql.driver._types import epoch_ms
from pycql.errors import OperationalError, ProgrammingError
from pycql.runtime.eventtime import TimePolicy

if TYPE_CHECKING:
    from pycql.driver._progress import ProgressReporter
    from pycql.driver.connection import Connection

Row = tuple[Any, ...]
Position = str | int | dict[Any, int]


def position(value: Any, what: str) -> Position | None:
    """Normalize a ``start``/``stop`` argument for the runtime.

    >>> position(_dt.datetime(1970, 1, 1, 0, 0, 2), "start")
    2000
    >>> position({0: 5}, "stop")
    {0: 5}
    """
    if value is None:
        return None
    if isinstance(value, str):
        word = value.lower()
        if word in ("earliest", "latest"):
            return word
        try:
            return epoch_ms(_dt.datetime.fromisoformat(value))
        except ValueError:
            pass
        raise ProgrammingError(
            f"{what}={value!r}: use 'earliest', 'latest', a datetime, epoch milliseconds "
            "or {partition: offset}"
        )
    if isinstance(value, bool):
        raise ProgrammingError(f"{what}={value!r} is not a position")
    if isinstance(value, _dt.date | int | float):
        return epoch_ms(value)
    if isinstance(value, dict):
        out: dict[Any, int] = {}
        for key, offset in value.items():
            if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
                raise ProgrammingError(f"{what}: offset {offset!r} of {key!r} is not an offset")
            out[key] = offset
        return out
    raise ProgrammingError(f"{what}={value!r} is not a position")


def _runner(conn: Connection, plan: dict[str, Any], params: list[Any],
            start: Position, stop: Position | None) -> Any:
    from pycql.runtime.runner import QueryRunner

    options: dict[str, Any] = {"on_error": conn.on_error}
    if conn.dead_letter_topic is not None:
        options["dead_letter_topic"] = conn.dead_letter_topic
    return QueryRunner(with_time_policies(conn, plan), conn.database.log, params=tuple(params),
                       start=start, stop=stop, **options)


def connection_time_policy(conn: Connection) -> TimePolicy:
    """The event-time defaults of ``conn`` (its ``lateness_ms``, ``idle_timeout_ms``,
    ``max_future_ms``) over pycql's own."""
    default = TimePolicy()
    changes: dict[str, Any] = {}
    if conn.lateness_ms is not None:
        changes["lateness_ms"] = conn.lateness_ms
    if conn.idle_timeout_ms is not None:
        changes["idle_timeout_ms"] = conn.idle_timeout_ms
    if conn.max_future_ms is not None:
        changes["max_future_ms"] = conn.max_future_ms
    return replace(default, **changes)


def with_time_policies(conn: Connection, plan: dict[str, Any]) -> dict[str, Any]:
    """``plan`` with each source operator's ``"time"``: its stream's ``WITH`` options over
    the connection's defaults (``docs/plan-json.md``), so the plan alone says how its
    event time moves."""
    from pycql.catalog import Stream

    default = connection_time_policy(conn)
    catalog = conn.database.catalog
    operators = []
    for op in plan["operators"]:
        if op.get("op") == "source":
            entry = catalog.find(str(op["name"]))
            options = dict(entry.time_options) if isinstance(entry, Stream) else {}
            op = {**op, "time": default.with_options(options).to_json()}
        operators.append(op)
    return {**plan, "operators": operators}


def start_stream(conn: Connection, plan: dict[str, Any], params: list[Any],
                 start: Any, stop: Any) -> Any:
    """Start a stream-valued query; the caller polls the returned runner."""
    stop_at = position(stop, "stop")
    start_at = position(start, "start") or ("latest" if stop_at is None else "earliest")
    if start_at == "latest":
        start_at = _latest_of_streams(conn, plan)
    return _runner(conn, plan, params, start_at, stop_at)


def _latest_of_streams(conn: Connection, plan: dict[str, Any]) -> dict[Any, int]:
    """``"latest"`` made exact: the current end offset of every stream topic.

    Table topics are left out, so they are read from the beginning: a table
    joined by a continuous query is its whole current content, not only the
    changes made after the query started. Fixing the offsets now (rather than
    when the reader first fetches) also means a row written right after
    ``execute`` returns is seen.
    """
    topics = sorted({
        str(op.get("topic") or op["name"])
        for op in plan["operators"]
        if op.get("op") == "source" and op.get("source_kind") != "table"
    })
    if not topics:
        return {}
    reader = conn.database.log.reader(topics, "latest")
    try:
        return dict(reader.end_offsets())
    finally:
        reader.close()


def snapshot(conn: Connection, plan: dict[str, Any], params: list[Any], start: Any, stop: Any,
             deadline: float | None, progress: ProgressReporter | None = None,
             ) -> tuple[list[Row], int | None, Any]:
    """The rows of a relation-valued query at its last instant, that instant, and the
    runner's metrics (records read, late and malformed records)."""
    runner, _ = run_bounded(conn, plan, params, start, stop, deadline, progress)
    rows = [tuple(r) for r in runner.snapshot()]
    return rows, getattr(runner, "instant", None), getattr(runner, "metrics", None)


def run_bounded(conn: Connection, plan: dict[str, Any], params: list[Any], start: Any,
                stop: Any, deadline: float | None, progress: ProgressReporter | None = None,
                ) -> tuple[Any, int]:
    """Run a query over its inputs as they are now (or between ``start`` and ``stop``);
    return the finished (closed) runner and the number of emissions it made.
    ``progress`` hears how far it has read as it goes, and at the end."""
    start_at = position(start, "start") or "earliest"
    stop_at = position(stop, "stop") or "latest"
    runner = _runner(conn, plan, params, start_at, stop_at)
    emitted = 0
    try:
        while not _done(runner):
            if deadline is not None and time.monotonic() >= deadline:
                raise OperationalError(
                    "the query did not reach the end of its inputs within its timeout"
                )
            emitted += len(runner.poll(0.05))
            if progress is not None:
                progress.update(runner)
        if progress is not None:
            progress.update(runner, final=True)
        return runner, emitted
    except BaseException:
        runner.cancel()
        raise
    finally:
        runner.close()


def _done(runner: Any) -> bool:
    done = runner.done
    return bool(done() if callable(done) else done)
