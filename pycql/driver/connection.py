"""PEP 249 connections.

>>> import pycql
>>> with pycql.connect() as conn:
...     cur = conn.cursor()
...     conn.commit()           # a no-op: every statement is applied when it returns
"""

from __future__ import annotations

import threading
import weakref
from typing import TYPE_CHECKING, Any

from pycql import errors
from pycql.driver._database import Database, open_database
from pycql.errors import InterfaceError, NotSupportedError

if TYPE_CHECKING:
    from pycql.driver.cursor import Cursor

#: Options the driver itself understands; every other option goes to the log.
_DRIVER_OPTIONS = ("lateness_ms", "idle_timeout_ms", "max_future_ms", "on_error",
                   "dead_letter_topic", "rowtime_column")


class Connection:
    """A connection to one pycql database (embedded or a Kafka cluster).

    pycql has no transactions: every statement takes effect when ``execute``
    returns, so :meth:`commit` does nothing and :meth:`rollback` raises
    :class:`~pycql.errors.NotSupportedError`. ``autocommit`` is always True.

    A connection may be shared by threads (``pycql.threadsafety == 2``); a
    cursor may not, except for :meth:`Cursor.cancel`.
    """

    Warning = errors.Warning
    Error = errors.Error
    InterfaceError = errors.InterfaceError
    DatabaseError = errors.DatabaseError
    DataError = errors.DataError
    OperationalError = errors.OperationalError
    IntegrityError = errors.IntegrityError
    InternalError = errors.InternalError
    ProgrammingError = errors.ProgrammingError
    NotSupportedError = errors.NotSupportedError

    def __init__(self, database: Database, options: dict[str, Any]) -> None:
        self._db: Database | None = database
        self.dsn = database.url
        #: Event-time defaults for streams that do not set their own (``docs/time.md``):
        #: out-of-orderness allowed, quiet time before a partition is idle, how far
        #: ahead of the wall clock a timestamp may be (``None``: no bound).
        self.lateness_ms: int | None = _milliseconds(options, "lateness_ms")
        self.idle_timeout_ms: int | None = _milliseconds(options, "idle_timeout_ms")
        self.max_future_ms: int | None = _milliseconds(options, "max_future_ms")
        #: What a query does with a row an expression fails on: ``"dead_letter"``
        #: (keep it in the dead letters and go on, the default) or ``"fail"``.
        self.on_error: str = str(options.get("on_error", "dead_letter"))
        if self.on_error not in ("dead_letter", "fail"):
            raise InterfaceError(
                f"on_error must be 'dead_letter' or 'fail', not {self.on_error!r}"
            )
        self.dead_letter_topic: str | None = options.get("dead_letter_topic")
        #: Add a ``ROWTIME`` (TIMESTAMP) column to the rows of stream-valued queries.
        self.rowtime_column: bool = bool(options.get("rowtime_column", False))
        self._cursors: weakref.WeakSet[Cursor] = weakref.WeakSet()
        self._lock = threading.Lock()
        with database._lock:
            database.connections += 1

    @classmethod
    def open(cls, dsn: str | None = None, **options: Any) -> Connection:
        """What :func:`pycql.connect` does."""
        driver_options = {k: options.pop(k) for k in _DRIVER_OPTIONS if k in options}
        database = open_database(dsn, options)
        return cls(database, driver_options)

    # -- PEP 249 -------------------------------------------------------------
    @property
    def closed(self) -> bool:
        return self._db is None

    @property
    def autocommit(self) -> bool:
        """Always True: pycql applies every statement at once."""
        return True

    @property
    def database(self) -> Database:
        """The database behind this connection (raises once closed)."""
        db = self._db
        if db is None:
            raise InterfaceError("the connection is closed")
        return db

    def cursor(self) -> Cursor:
        """A new cursor on this connection."""
        from pycql.driver.cursor import Cursor

        self.database  # noqa: B018 - raises when closed
        cur = Cursor(self)
        with self._lock:
            self._cursors.add(cur)
        return cur

    def commit(self) -> None:
        """Does nothing (pycql has no transactions); an error once the connection is closed."""
        self.database  # noqa: B018

    def rollback(self) -> None:
        """Always raises NotSupportedError: written records cannot be taken back."""
        self.database  # noqa: B018
        raise NotSupportedError(
            "pycql has no transactions: every statement is applied when execute() returns, "
            "so there is nothing to roll back"
        )

    def close(self) -> None:
        """Close every cursor (cancelling running queries) and release the database.

        Closing twice raises :class:`~pycql.errors.InterfaceError`.
        """
        db = self._db
        if db is None:
            raise InterfaceError("the connection is already closed")
        with self._lock:
            cursors = list(self._cursors)
            self._cursors.clear()
        for cur in cursors:
            if not cur.closed:
                cur.close()
        self._db = None
        with db._lock:
            db.connections -= 1
            last = db.connections <= 0
        if last and not db.shared:
            db.close()

    def cancel(self) -> None:
        """Cancel the running query of every cursor of this connection (any thread)."""
        with self._lock:
            cursors = list(self._cursors)
        for cur in cursors:
            cur.cancel()

    def execute(self, sql: str, params: Any = None, **kwargs: Any) -> Cursor:
        """Shortcut: a new cursor with ``sql`` executed on it (as in sqlite3 and psycopg)."""
        return self.cursor().execute(sql, params, **kwargs)

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._db is not None:
            self.close()

    def __repr__(self) -> str:
        state = "closed" if self._db is None else "open"
        return f"<pycql.Connection {self.dsn} {state}>"

    def __del__(self) -> None:
        try:
            if self._db is not None:
                self.close()
        except Exception:
            pass


def _milliseconds(options: dict[str, Any], name: str) -> int | None:
    value = options.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InterfaceError(f"{name} must be a whole number of milliseconds >= 0, not {value!r}")
    return value
