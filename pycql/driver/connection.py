"""PEP 249 connections.

>>> import pycql
>>> with pycql.connect() as conn:
...     cur = conn.cursor()
...     _ = cur.execute("CREATE STREAM S (a INTEGER)")
...     conn.autocommit = False       # INSERT/UPSERT/DELETE now go into one transaction
...     _ = cur.execute("INSERT INTO S VALUES (1)")
...     conn.rollback()               # no reader ever sees the row
...     _ = cur.execute("INSERT INTO S VALUES (2)")
...     conn.commit()                 # every reader sees the row from now on
...     _ = cur.execute("SELECT a FROM S", start="earliest", stop="latest")
...     cur.fetchall()
[(2,)]
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from pycql import errors
from pycql.driver._database import Database, open_database, release_database
from pycql.errors import InterfaceError, NotSupportedError, OperationalError

if TYPE_CHECKING:
    from pycql.driver.cursor import Cursor
    from pycql.log.base import OutRecord, TransactionalProducer

#: Options the driver itself understands; every other option goes to the log.
_DRIVER_OPTIONS = ("lateness_ms", "idle_timeout_ms", "max_future_ms", "on_error",
                   "dead_letter_topic", "rowtime_column")


class Connection:
    """A connection to one pycql database (embedded or a Kafka cluster).

    ``autocommit`` is True by default: every statement takes effect when
    ``execute`` returns, :meth:`commit` does nothing and :meth:`rollback` raises
    :class:`~pycql.errors.NotSupportedError` (there is nothing to take back).

    With ``autocommit = False`` the connection's writes (INSERT and UPSERT into
    streams and tables, DELETE from tables, ``ALTER STREAM ... HEARTBEAT``) go
    into one transaction of the log (Kafka's, or the in-process log's own),
    begun at the first write and shared by all the connection's cursors and
    threads. :meth:`commit` makes all of it visible at once; :meth:`rollback`
    aborts it, and no query, derived stream or table ever sees it (every pycql
    reader reads committed records only). Until the commit, the writes are not
    visible to any query, this connection's own included, and the primary-key
    check of INSERT sees committed rows only. INSERT stamps rows with the time
    of the INSERT, not of the commit: a transaction open longer than a stream's
    lateness can reach continuous queries late. DDL (CREATE, DROP, TERMINATE,
    ...) is not transactional: it applies at once, also inside a transaction.
    Setting ``autocommit`` back to True commits an open transaction first;
    :meth:`close` rolls it back. See ``docs/transactions.md``.

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
        self._autocommit = True
        #: The connection's transactional producer (made at its first transactional
        #: write) and whether it has a transaction open; guarded by ``_txn_lock``.
        self._txn_lock = threading.RLock()
        self._producer: TransactionalProducer | None = None
        self._txn_open = False
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
        """True (the default): every write applies at once. False: the writes go into
        one transaction until :meth:`commit` or :meth:`rollback`. Setting it back to
        True commits an open transaction first."""
        return self._autocommit

    @autocommit.setter
    def autocommit(self, value: bool) -> None:
        self.database  # noqa: B018 - raises when closed
        value = bool(value)
        with self._txn_lock:
            if value and not self._autocommit:
                self._commit_open()
            self._autocommit = value

    @property
    def in_transaction(self) -> bool:
        """Whether a transaction is open (a write was made since the last commit or
        rollback with ``autocommit`` False)."""
        return self._txn_open

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
        """Commit the open transaction: all its writes become visible at once, and a
        query started after ``commit()`` returns reads them (on Kafka it waits for the
        transaction's markers: a commit returns before the broker writes them).

        Does nothing when none is open (always so with ``autocommit`` True). When
        the log refuses the commit (:class:`~pycql.log.base.Fenced`, a broker
        error) the transaction is lost: an :class:`~pycql.errors.OperationalError`
        says so, and the connection's next write starts a new one.
        """
        self.database  # noqa: B018
        with self._txn_lock:
            self._commit_open()

    def rollback(self) -> None:
        """Abort the open transaction: no reader ever sees its writes.

        Does nothing when none is open. With ``autocommit`` True it raises
        :class:`~pycql.errors.NotSupportedError`: every write was applied when
        ``execute`` returned, and written records cannot be taken back.
        """
        self.database  # noqa: B018
        with self._txn_lock:
            if self._autocommit:
                raise NotSupportedError(
                    "autocommit is on: every statement was applied when execute() returned, "
                    "so there is nothing to roll back (set conn.autocommit = False to write "
                    "in transactions)"
                )
            self._abort_open()

    # -- transactions ------------------------------------------------------------
    def _produce(self, topic: str, records: Sequence[OutRecord]) -> None:
        """Write ``records``: at once with ``autocommit``, else into the open transaction
        (begun here at the connection's first write after a commit or rollback)."""
        db = self.database
        with self._txn_lock:
            if self._autocommit:
                db.log.produce(topic, records)
                return
            producer = self._producer
            try:
                if producer is None:
                    from uuid import uuid4

                    producer = self._producer = db.log.transactional_producer(
                        f"pycql.conn.{uuid4().hex}", read_your_writes=True
                    )  # commit() waits until it reads the commit
                if not self._txn_open:
                    producer.begin()
                    self._txn_open = True
                producer.produce(topic, records)
            except OperationalError as exc:
                was_open = self._txn_open
                self._drop_producer()
                if not was_open:
                    raise
                raise OperationalError(
                    f"writing to {topic!r} in a transaction failed, so the transaction was "
                    f"rolled back: nothing of it was written ({exc}); the connection's next "
                    "write starts a new one"
                ) from exc

    def _commit_open(self) -> None:
        producer = self._producer
        if not self._txn_open or producer is None:
            return
        try:
            producer.commit()
        except OperationalError as exc:
            self._drop_producer()
            raise OperationalError(
                f"the commit failed, so the transaction is lost: nothing of it was written "
                f"({exc}); the connection can start a new one"
            ) from exc
        self._txn_open = False
        producer.wait_visible()  # a query run next reads what was committed

    def _abort_open(self) -> None:
        producer = self._producer
        if not self._txn_open or producer is None:
            return
        try:
            producer.abort()
        except OperationalError:
            # the log lost the transaction already (fenced, broker gone): nothing of it
            # is visible either way; the next write starts over with a new producer
            self._drop_producer()
        self._txn_open = False

    def _drop_producer(self) -> None:
        """Forget the producer after an error (aborting what it has open, quietly)."""
        producer, self._producer = self._producer, None
        self._txn_open = False
        if producer is not None:
            try:
                producer.close()
            except Exception:
                pass

    def close(self) -> None:
        """Close every cursor (cancelling running queries), roll back an open
        transaction and release the database.

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
        with self._txn_lock:
            self._abort_open()  # PEP 249: closing without commit rolls back
            producer, self._producer = self._producer, None
        if producer is not None:
            try:
                producer.close()
            except Exception:
                pass
        self._db = None
        with db._lock:
            db.connections -= 1
            last = db.connections <= 0
        if last and (not db.shared or release_database(db)):
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
