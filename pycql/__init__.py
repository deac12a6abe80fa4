"""pycql: CQL, the Continuous Query Language of Stanford STREAM, over Apache Kafka.

A PEP 249 (DB-API 2.0) driver. Stream-valued queries never end: iterate the
cursor and rows arrive as the streams advance; relation-valued queries return
the relation's current value. See ``docs/dbapi.md``.

>>> import pycql
>>> conn = pycql.connect()                       # embedded, in-process log
>>> cur = conn.cursor()
>>> cur.execute("CREATE STREAM S (A INTEGER)")    # doctest: +SKIP
>>> cur.execute("SELECT ISTREAM(*) FROM S [NOW] WHERE A > ?", (1,))  # doctest: +SKIP
>>> cur.fetchone(timeout=1.0)                     # doctest: +SKIP

Importing pycql starts no Java VM: the planner's JVM starts with the first
statement a cursor executes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pycql.driver._types import (
    BINARY,
    DATETIME,
    NUMBER,
    ROWID,
    STRING,
    Binary,
    Date,
    DateFromTicks,
    Time,
    TimeFromTicks,
    Timestamp,
    TimestampFromTicks,
)
from pycql.errors import (
    DatabaseError,
    DataError,
    Error,
    IntegrityError,
    InterfaceError,
    InternalError,
    NotSupportedError,
    OperationalError,
    ProgrammingError,
    Warning,
)

if TYPE_CHECKING:
    from pycql.driver.connection import Connection
    from pycql.driver.cursor import Cursor
    from pycql.runtime.progress import Progress

__version__ = "0.1.0"

#: PEP 249 level supported.
apilevel = "2.0"
#: Threads may share the module and connections, not cursors (a cursor's
#: ``cancel()`` is the one exception: call it from any thread).
threadsafety = 2
#: Dynamic parameters are written ``?``; they reach the engine as values, never as text.
paramstyle = "qmark"


def connect(dsn: str | None = None, **options: Any) -> Connection:
    """Open a connection.

    ``dsn`` is ``None`` or ``"memory:"`` (a private embedded database),
    ``"memory://NAME"`` (an embedded database shared by every connection of
    this process that names it), a path such as ``"shop.pycql"`` or a URL
    ``"file:///path/shop.pycql"`` (a durable embedded database in that file: one
    process writes it at a time, any may read it; ``docs/durable.md``), or
    ``"kafka://HOST:PORT[,HOST:PORT...]"``.
    Options: ``catalog_path`` (memory databases: keep the catalog in this JSON file),
    ``synchronous`` and ``poll_interval`` (database files),
    ``lateness_ms``, ``dead_letter_topic``, ``rowtime_column`` (add a
    ``ROWTIME`` column to stream results), ``connect_timeout`` (seconds), and
    any other option is passed to the log (e.g. Kafka client settings).

    >>> conn = connect()
    >>> conn.close()
    """
    from pycql.driver.connection import Connection

    return Connection.open(dsn, **options)


__all__ = [
    "BINARY",
    "DATETIME",
    "NUMBER",
    "ROWID",
    "STRING",
    "Binary",
    "Connection",
    "Cursor",
    "DataError",
    "DatabaseError",
    "Date",
    "DateFromTicks",
    "Error",
    "IntegrityError",
    "InterfaceError",
    "InternalError",
    "NotSupportedError",
    "OperationalError",
    "ProgrammingError",
    "Progress",
    "Time",
    "TimeFromTicks",
    "Timestamp",
    "TimestampFromTicks",
    "Warning",
    "apilevel",
    "connect",
    "paramstyle",
    "threadsafety",
]


def __getattr__(name: str) -> Any:
    if name == "Connection":
        from pycql.driver.connection import Connection

        return Connection
    if name == "Cursor":
        from pycql.driver.cursor import Cursor

        return Cursor
    if name == "Progress":
        from pycql.runtime.progress import Progress

        return Progress
    raise AttributeError(f"module 'pycql' has no attribute {name!r}")
