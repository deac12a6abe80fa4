"""A database: one log, its catalog, its running queries, shared by connections.

``pycql.connect()`` opens a private embedded database; ``connect("memory://NAME")``
shares the database ``NAME`` among the connections of this process (it goes, with its
streams, tables and jobs, when its last connection closes, as SQLite's shared in-memory
databases do);
``connect("path/to/db.pycql")`` or ``connect("file:///path/to/db.pycql")`` opens the
durable embedded database in that SQLite file (:mod:`pycql.log.file`; the connections of
one process share it, and its running jobs resume in the first process that can write it);
``connect("kafka://HOST:PORT")`` opens a database over that cluster (its
catalog lives in the cluster's ``_pycql_catalog`` topic).
"""

from __future__ import annotations

import itertools
import os
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import SplitResult, parse_qsl, urlsplit

from pycql import _signals
from pycql.catalog import (
    Catalog,
    CatalogStore,
    FileCatalogStore,
    LogCatalogStore,
    MemoryCatalogStore,
)
from pycql.errors import InterfaceError, OperationalError

if TYPE_CHECKING:
    from pycql.driver._tables import TableState
    from pycql.jobs.status import StatusBoard
    from pycql.jobs.worker import Worker
    from pycql.log.base import Log

_PLAN_CACHE_SIZE = 256


@dataclass
class RunningQuery:
    """One query registered in ``SHOW QUERIES``."""

    query_id: int
    sql: str
    kind: str
    started: float
    cursor_ref: Any = None
    rows: int = 0


@dataclass
class Database:
    """The log and catalog a set of connections share."""

    name: str
    log: Log
    catalog: Catalog
    url: str
    shared: bool = False
    connections: int = 0
    _lock: threading.RLock = field(default_factory=threading.RLock)
    _plans: OrderedDict[tuple[str, int, str], dict[str, Any]] = field(default_factory=OrderedDict)
    _queries: dict[int, RunningQuery] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    tables: dict[str, TableState] = field(default_factory=dict)
    _closed: bool = False
    #: the worker thread running this embedded database's jobs (started by the first job)
    _worker: Worker | None = None
    _status_board: StatusBoard | None = None

    @property
    def embedded(self) -> bool:
        """Whether the log is this process's own (jobs then run in a thread here)."""
        from pycql.log.memory import MemoryLog

        return isinstance(self.log, MemoryLog)

    def __post_init__(self) -> None:
        # SIGTERM and interpreter exit close the database (pycql/_signals.py)
        _signals.track_database(self)
        _signals.install()

    # -- planning -----------------------------------------------------------
    def analyze(self, sql: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
        """Plan ``sql`` against the current catalog (cached per catalog version)."""
        from pycql import planner

        self.catalog.refresh()
        catalog_json = self.catalog.to_planner_json()
        options_key = repr(sorted((options or {}).items()))
        key = (sql, self.catalog.version, options_key)
        with self._lock:
            cached = self._plans.get(key)
            if cached is not None:
                self._plans.move_to_end(key)
                return cached
        jvm_was_running = planner.jvm_started()
        try:
            envelope = planner.analyze(sql, catalog_json, options)
        finally:
            if not jvm_was_running and planner.jvm_started():
                # SIGINT stays a KeyboardInterrupt (it cancels a query), SIGTERM ends
                # the process cleanly (pycql/_signals.py), whoever started the JVM
                _signals.reassert_after_jvm_start()
        with self._lock:
            self._plans[key] = envelope
            while len(self._plans) > _PLAN_CACHE_SIZE:
                self._plans.popitem(last=False)
        return envelope

    # -- SHOW QUERIES -------------------------------------------------------
    def register_query(self, sql: str, kind: str) -> RunningQuery:
        with self._lock:
            query = RunningQuery(next(self._ids), sql, kind, time.time())
            self._queries[query.query_id] = query
            return query

    def unregister_query(self, query_id: int) -> None:
        with self._lock:
            self._queries.pop(query_id, None)

    def running_queries(self) -> list[RunningQuery]:
        with self._lock:
            return list(self._queries.values())

    # -- persistent queries -------------------------------------------------------
    def status_board(self) -> StatusBoard:
        """The task reports of the status topic (read on demand)."""
        from pycql.jobs.status import StatusBoard

        with self._lock:
            if self._status_board is None:
                self._status_board = StatusBoard(self.log)
            return self._status_board

    def jobs_started(self) -> None:
        """A job was created: an embedded database runs it in its worker thread (started
        now if need be); a Kafka database leaves it to ``pycql worker`` processes."""
        if not self.embedded:
            return
        from pycql.jobs.worker import Worker

        with self._lock:
            if self._closed:
                return
            if self._worker is None:
                self._worker = Worker(self.log, self.catalog, worker_id="embedded")
                self._worker.start()
            worker = self._worker
        worker.wake()

    def jobs_terminated(self, ids: list[str]) -> None:
        """Jobs were terminated: an embedded database stops them before returning."""
        worker = self._worker
        if worker is not None:
            for job_id in ids:
                worker.stop_job(job_id)

    def close(self) -> None:
        """Release the tables' readers, the catalog and the log (once; later calls do nothing)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        worker, self._worker = self._worker, None
        if worker is not None:
            worker.stop()
        if self._status_board is not None:
            self._status_board.close()
        for state in list(self.tables.values()):
            state.close()
        self.tables.clear()
        self.catalog.close()
        self.log.close()


_shared: dict[str, Database] = {}
_shared_lock = threading.Lock()


def release_database(db: Database) -> bool:
    """Forget the named embedded database ``db`` once no connection uses it (as SQLite's
    shared in-memory databases go with their last connection: its streams, tables and
    jobs with it); return whether it was released, so the caller closes it."""
    with _shared_lock:
        with db._lock:
            if db.connections > 0:
                return False
        for name, found in list(_shared.items()):
            if found is db:
                del _shared[name]
        return True


def open_database(dsn: str | None, options: dict[str, Any]) -> Database:
    """Open (or join, for a named embedded database) the database ``dsn`` names."""
    catalog_path = options.pop("catalog_path", None)
    if dsn is None or dsn in ("memory:", "memory://", ":memory:", "embedded"):
        log = _open_log(None, options)
        store: CatalogStore = (
            FileCatalogStore(catalog_path) if catalog_path else MemoryCatalogStore()
        )
        return Database("memory:", log, Catalog(store), "memory:")
    parts = urlsplit(dsn)
    if parts.scheme == "memory":
        name = parts.netloc + parts.path
        with _shared_lock:
            db = _shared.get(name)
            if db is None:
                log = _open_log(None, options)
                store = FileCatalogStore(catalog_path) if catalog_path else MemoryCatalogStore()
                db = Database(f"memory://{name}", log, Catalog(store), dsn, shared=True)
                _shared[name] = db
            return db
    path = _file_path(dsn, parts)
    if path is not None:
        return _open_file_database(path, parts, catalog_path, options)
    if parts.scheme == "kafka":
        if catalog_path:
            raise InterfaceError(
                "catalog_path is for embedded databases; a Kafka database keeps its "
                "catalog in the _pycql_catalog topic"
            )
        if not parts.netloc:
            raise InterfaceError(f"no broker address in {dsn!r}: use kafka://HOST:PORT")
        for key, value in parse_qsl(parts.query):
            options.setdefault(key, value)
        log = _open_log(f"kafka://{parts.netloc}", options)
        try:
            store = LogCatalogStore(log)
            catalog = Catalog(store)
        except OperationalError:
            log.close()
            raise
        except Exception as exc:
            log.close()
            raise _unreachable(parts.netloc, exc) from None
        return Database(f"kafka://{parts.netloc}", log, catalog, dsn)
    raise InterfaceError(
        f"unknown data source {dsn!r}: use None or 'memory:' (embedded), "
        "'memory://NAME' (shared embedded), a file path or 'file:///PATH' (durable "
        "embedded) or 'kafka://HOST:PORT'"
    )


def _file_path(dsn: str, parts: SplitResult) -> str | None:
    """The database file ``dsn`` names (a path, or a ``file:`` URL), else None."""
    if parts.scheme == "file":
        from pycql.log.file import file_url_path

        return file_url_path(dsn.split("?", 1)[0])
    if parts.scheme == "" or (len(parts.scheme) == 1 and os.name == "nt"):  # C:\db.pycql
        return dsn
    return None


def _open_file_database(path: str, parts: SplitResult, catalog_path: Any,
                        options: dict[str, Any]) -> Database:
    """Open (or join, in this process) the durable embedded database in ``path``."""
    if catalog_path:
        raise InterfaceError(
            "catalog_path is for memory databases; a database file keeps its catalog "
            "inside it")
    if parts.scheme == "file":
        for key, value in parse_qsl(parts.query):
            options.setdefault(key, value)
    from pycql.log.file import FileLog

    full = os.path.realpath(os.path.expanduser(path))
    with _shared_lock:
        key = "file://" + full
        db = _shared.get(key)
        if db is not None:
            return db
        try:
            log = FileLog(full, **options)
        except TypeError as exc:
            raise InterfaceError(f"bad connection option: {exc}") from None
        try:
            catalog = _file_catalog(log)
        except BaseException:
            log.close()
            raise
        db = Database(key, log, catalog, path, shared=True)
        _shared[key] = db
    # the jobs of the database run where it is written: here, unless another process writes
    if any(job.live for job in catalog.jobs()) and log.try_become_writer():
        db.jobs_started()
    return db


def _file_catalog(log: Log, wait_s: float = 10.0) -> Catalog:
    """The catalog of a database file. A new file another process has just begun to write
    has no catalog topic yet, and this process may not create it: wait for the writer's."""
    from pycql.log.base import NotWriter

    deadline = time.monotonic() + wait_s
    while True:
        try:
            return Catalog(LogCatalogStore(log))
        except NotWriter:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _unreachable(address: str, exc: BaseException) -> OperationalError:
    return OperationalError(
        f"cannot reach the Kafka broker at {address} ({exc}). Is it running? "
        "Start a local one with `python -m pycql.kafka start`, or pass the right "
        "address: pycql.connect('kafka://HOST:PORT')"
    )


def _open_log(url: str | None, options: dict[str, Any]) -> Log:
    from pycql.log import open_log

    if "connect_timeout" in options:  # the documented name of the log's ``timeout``
        from pycql.log.kafka import seconds_option

        options = dict(options)
        options["timeout"] = seconds_option("connect_timeout", options.pop("connect_timeout"))
    try:
        return open_log(url, **options)
    except (OperationalError, InterfaceError):  # a bad option names itself (KafkaLog)
        raise
    except TypeError as exc:
        raise InterfaceError(f"bad connection option: {exc}") from None
    except Exception as exc:
        if url is None:
            raise
        raise _unreachable(url.removeprefix("kafka://"), exc) from None
