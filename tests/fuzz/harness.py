"""Running fuzzed statements: the fixture database, the watchdog, the verdict on each run.

:class:`FuzzDatabase` keeps one embedded database with the fixture catalog
(:mod:`tests.fuzz.catalog`) and builds a fresh one before an example whenever
the previous example may have changed it (its text named INSERT, UPSERT,
DELETE, CREATE or DROP), so that every example starts from the same state and
hypothesis can replay and shrink it.

:func:`run` executes one statement the way an application would: a query with
``start="earliest", stop="latest"`` and a ``timeout`` (or, in the continuous
mode, only a ``timeout``), then ``fetchmany`` and ``fetchall``. It returns a
:class:`Run`; :meth:`Run.problem` says what is wrong with it:

* any exception that is not a :class:`pycql.Error` (a ``TypeError``, an
  ``OverflowError``, a Java exception, ``RecursionError``...), or that is a
  :class:`pycql.InternalError` (pycql's own bug report), or whose ``str()``
  itself fails;
* a row that is not a tuple with one value per column of ``description``, or
  a value whose Python type contradicts its column's type code.

The :class:`Watchdog` bounds each statement by wall-clock time: past
``limit`` seconds it cancels the cursor (``cursor.cancel()`` may be called from
any thread) and the test fails at once; if the statement still has not
returned ``grace`` seconds later (stuck in the JVM, say), it prints every
thread's stack and ends the process, since nothing else can stop it.
"""

from __future__ import annotations

import datetime as dt
import faulthandler
import os
import re
import sys
import threading
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pycql
from tests.fuzz import catalog

#: Statements whose text has one of these words may change the database.
_WRITES = re.compile(r"insert|upsert|delete|create|drop", re.I)
#: Statements that (probably) are queries: they take start= and stop=.
_QUERY_HEAD = re.compile(r"^(?:\s|--[^\n]*\n?|/\*.*?\*/|\()*(select|istream|dstream|rstream|"
                         r"with|values)\b", re.I | re.S)

#: Python types a column's values may have, by type code.
_VALUE_TYPES: dict[str, tuple[type, ...]] = {
    "INTEGER": (int,), "BIGINT": (int,), "SMALLINT": (int,), "TINYINT": (int,),
    "DOUBLE": (float,), "FLOAT": (float,), "REAL": (float,), "DECIMAL": (Decimal,),
    "VARCHAR": (str,), "CHAR": (str,), "BOOLEAN": (bool,), "TIMESTAMP": (dt.datetime,),
    "DATE": (dt.date,), "TIME": (dt.time,),
}


class Watchdog:
    """One thread that bounds the statement being run (see the module docstring)."""

    def __init__(self, limit: float, grace: float) -> None:
        self.limit = limit
        self.grace = grace
        self._cond = threading.Condition()
        self._job: dict[str, Any] | None = None
        self._thread = threading.Thread(target=self._watch, name="pycql-fuzz-watchdog",
                                        daemon=True)
        self._thread.start()

    @contextmanager
    def guard(self, what: str, cursor: pycql.Cursor | None) -> Iterator[dict[str, Any]]:
        """Bound the body; the yielded dict gets ``hung=True`` if the limit passed."""
        job: dict[str, Any] = {"what": what, "cursor": cursor, "started": time.monotonic(),
                               "hung": False}
        with self._cond:
            self._job = job
            self._cond.notify()
        try:
            yield job
        finally:
            with self._cond:
                self._job = None
            job["elapsed"] = time.monotonic() - job["started"]
            if job["elapsed"] > self.limit:
                job["hung"] = True

    def _watch(self) -> None:
        while True:
            with self._cond:
                self._cond.wait(0.1)
                job = self._job
            if job is None:
                continue
            late = time.monotonic() - job["started"] - self.limit
            if late > 0 and not job["hung"]:
                job["hung"] = True
                cursor = job["cursor"]
                if cursor is not None:
                    try:
                        cursor.cancel()
                    except Exception:
                        pass
            if late > self.grace and self._job is job:
                sys.stderr.write(
                    f"\npycql fuzz: a statement has run for {self.limit + late:.0f} s and "
                    f"ignored cancel(); ending the process. Statement:\n{job['what']!r}\n"
                )
                faulthandler.dump_traceback(all_threads=True)
                sys.stderr.flush()
                os._exit(70)


@dataclass
class Run:
    """What happened to one statement."""

    sql: str
    params: Any
    mode: str
    error: BaseException | None = None
    rows: list[Any] = field(default_factory=list)
    description: Any = None
    elapsed: float = 0.0
    hung: bool = False
    bad_rows: list[str] = field(default_factory=list)

    def problem(self) -> str | None:
        """Why this run shows a pycql bug (None if it does not)."""
        if self.hung:
            return f"hang: the statement ran for {self.elapsed:.1f} s"
        error = self.error
        if error is not None:
            try:
                text = str(error)
            except BaseException as exc:
                return f"str() of {type(error).__name__} raised {type(exc).__name__}: {exc}"
            if isinstance(error, pycql.InternalError) or not isinstance(error, pycql.Error):
                return f"{qualname(error)}: {first_line(text)}"
        if self.bad_rows:
            return "bad row: " + self.bad_rows[0]
        return None

    def signature(self) -> str:
        """A short key that groups runs failing the same way (numbers and names blurred)."""
        problem = self.problem() or "ok"
        problem = re.sub(r"'[^']*'|\"[^\"]*\"", "'…'", problem)
        problem = re.sub(r"\d+", "N", problem)
        return problem[:160]

    def describe(self) -> str:
        lines = [f"statement: {self.sql[:2000]!r}" + (" [...]" if len(self.sql) > 2000 else ""),
                 f"params:    {self.params!r}"[:1000], f"mode:      {self.mode}",
                 f"problem:   {self.problem()}", f"elapsed:   {self.elapsed:.2f} s"]
        if self.error is not None:
            lines.append("traceback:")
            lines.append("".join(traceback.format_exception(self.error)).rstrip()[-6000:])
        return "\n".join(lines)


def qualname(error: BaseException) -> str:
    cls = type(error)
    return cls.__name__ if cls.__module__ in ("builtins", "pycql.errors") else \
        f"{cls.__module__}.{cls.__qualname__}"


def first_line(text: str) -> str:
    return (text.splitlines() or [""])[0][:300]


def is_query(sql: str) -> bool:
    return _QUERY_HEAD.match(sql) is not None


def may_write(sql: str) -> bool:
    return _WRITES.search(sql) is not None


class FuzzDatabase:
    """The fixture database, rebuilt whenever an example may have changed it."""

    def __init__(self) -> None:
        self.conn: pycql.Connection | None = None
        self.dirty = True
        self.builds = 0

    def connection(self) -> pycql.Connection:
        if self.conn is None or self.dirty or self.conn.closed:
            self.close()
            conn = pycql.connect()
            catalog.build(conn)
            self.conn, self.dirty = conn, False
            self.builds += 1
        return self.conn

    def close(self) -> None:
        conn, self.conn = self.conn, None
        if conn is not None and not conn.closed:
            conn.close()


def _check_rows(run: Run, cursor: pycql.Cursor, rows: list[Any]) -> None:
    description = cursor.description
    if description is None:
        run.bad_rows.append(f"{len(rows)} rows but no description")
        return
    width = len(description)
    for row in rows:
        if not isinstance(row, tuple) or len(row) != width:
            run.bad_rows.append(f"row {row!r} for {width} columns "
                                f"{[d.name for d in description]}")
            return
        for value, column in zip(row, description, strict=True):
            allowed = _VALUE_TYPES.get(str(column.type_code))
            if value is None or allowed is None:
                continue
            if not isinstance(value, allowed) or (bool not in allowed and
                                                  isinstance(value, bool)):
                run.bad_rows.append(f"value {value!r} ({type(value).__name__}) in column "
                                    f"{column.name} of type {column.type_code}")
                return


def run(
    conn: pycql.Connection,
    watchdog: Watchdog,
    sql: str,
    params: Any,
    *,
    mode: str = "bounded",
    fetch_first: int = 1,
    timeout: float = 4.0,
) -> Run:
    """Execute ``sql`` and fetch its rows, under the watchdog.

    ``mode``: ``"bounded"`` gives a query ``start="earliest", stop="latest"``;
    ``"continuous"`` gives it only a short ``timeout`` (a stream-valued query then
    runs from "latest" until the timeout), then ``fetchmany`` with a timeout and
    ``cancel``. Statements that are not queries get neither.
    """
    result = Run(sql, params, mode)
    cursor = conn.cursor()
    with watchdog.guard(sql, cursor) as job:
        try:
            if mode == "bounded" and is_query(sql):
                try:
                    cursor.execute(sql, params, start="earliest", stop="latest",
                                   timeout=timeout)
                except pycql.ProgrammingError as exc:
                    if "apply to queries" not in str(exc):
                        raise
                    cursor.execute(sql, params, timeout=timeout)
            elif mode == "continuous":
                cursor.execute(sql, params, timeout=0.3)
            else:
                cursor.execute(sql, params, timeout=timeout)
            result.description = cursor.description
            if cursor.description is not None:
                if mode == "continuous" and cursor.kind == "stream":
                    rows = cursor.fetchmany(fetch_first, timeout=0.1)
                    cursor.cancel()
                    rows += cursor.fetchmany(100)
                else:
                    rows = cursor.fetchmany(fetch_first) + cursor.fetchall()
                result.rows = rows
                _check_rows(result, cursor, rows)
            _ = (cursor.rowcount, cursor.rowtime, cursor.kind, cursor.metrics, cursor.ended)
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt):
                raise
            result.error = exc
        finally:
            try:
                cursor.close()
            except BaseException as exc:
                if result.error is None:
                    result.error = exc
    result.elapsed = job.get("elapsed", 0.0)
    result.hung = bool(job["hung"])
    return result


class Canary:
    """A second database whose one query must keep working after every example.

    Each check plans a new text (so the planner's cache cannot answer) and runs
    it: a planner or JVM left broken by an earlier statement shows here.
    """

    def __init__(self) -> None:
        self.conn = pycql.connect()
        cur = self.conn.cursor()
        cur.execute("CREATE STREAM Canary (a INTEGER, ts TIMESTAMP) WITH (timestamp = 'ts')")
        cur.execute("INSERT INTO Canary VALUES (1, TIMESTAMP '2024-01-01 00:00:00')")
        cur.close()
        self.n = 0

    def check(self, watchdog: Watchdog) -> str | None:
        self.n += 1
        sql = f"SELECT a + {self.n} AS b FROM Canary [ROWS 1]"
        outcome = run(self.conn, watchdog, sql, None)
        if outcome.error is not None or outcome.hung:
            return f"{sql!r} failed: {outcome.problem() or repr(outcome.error)}"
        if outcome.rows != [(1 + self.n,)]:
            return f"{sql!r} returned {outcome.rows!r}"
        return None

    def close(self) -> None:
        if not self.conn.closed:
            self.conn.close()
