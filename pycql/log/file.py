"""The durable embedded log: a :class:`~pycql.log.memory.MemoryLog` kept in a SQLite file.

``pycql.connect("path/to/db.pycql")`` (or ``"file:///path/to/db.pycql"``) opens a
database whose streams, tables, catalog and jobs' state (changelogs, positions,
command log: everything goes through the log) live in one SQLite database file.

The in-memory log stays the cache every reader reads: opening the file loads
its records into it, and every append goes to SQLite first, as one SQLite
transaction per ``produce`` batch (``executemany``) or per committed Kafka-style
transaction (all its batches), and into the cache once that transaction is
durable. An aborted or unfinished transaction never reaches the file.

>>> import tempfile, os
>>> path = os.path.join(tempfile.mkdtemp(), "doc.pycql")
>>> log = FileLog(path)
>>> log.create_topic(TopicSpec("S"))
>>> log.produce("S", [OutRecord(b"1"), OutRecord(b"2")])
>>> log.close()
>>> with FileLog(path) as again:
...     [r.value for r in again.reader(["S"]).poll()]
[b'1', b'2']

**Durability.** WAL journal with ``synchronous=FULL``: the WAL is synced to
disk before a commit returns, so an acknowledged write survives a crash of the
process (``kill -9``) *and* of the machine (power loss). ``synchronous="normal"``
syncs at checkpoints only: it survives a killed process but may lose the last
commits when the machine goes down.

**One writer.** One process writes a database file at a time: the first write
(creating a topic, appending, a transactional producer) takes an exclusive
``flock`` on ``<path>.lock``, held until the log closes (or the process dies);
another process that tries to write gets an :class:`~pycql.errors.OperationalError`
naming the writer's pid. Any number of processes read: a reader that is not the
writer looks at the file for new commits (``PRAGMA data_version``, every
``poll_interval`` seconds while it waits), so a live cursor in one process sees
another process's inserts within about that delay. Consumer groups and the
fencing of transactional ids are the writer's (in its memory): only the writer
runs jobs.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

from pycql.errors import InterfaceError, InternalError, OperationalError, ProgrammingError
from pycql.log.base import (
    Fenced,
    NotWriter,
    OutRecord,
    Partitions,
    Record,
    StartAt,
    TopicSpec,
)
from pycql.log.memory import MemoryLog, MemoryReader, MemoryTransactionalProducer, _Topic

__all__ = ["FileLog", "FileReader", "WriterLock", "file_url_path"]

#: Written in the file's ``pycql_meta`` table; a later layout changes it.
FORMAT_VERSION = "1"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS pycql_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS topics (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    partitions INTEGER NOT NULL,
    compacted INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS records (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    topic INTEGER NOT NULL,
    partition INTEGER NOT NULL,
    offset INTEGER NOT NULL,
    timestamp_ms INTEGER NOT NULL,
    key BLOB,
    value BLOB
);
"""

_INSERT = ("INSERT INTO records (topic, partition, offset, timestamp_ms, key, value) "
           "VALUES (?, ?, ?, ?, ?, ?)")


def file_url_path(url: str) -> str:
    """The path a ``file:`` URL names (``file:///abs``, ``file://localhost/abs``, ``file:rel``).

    >>> file_url_path("file:///tmp/a%20b.pycql"), file_url_path("file:db.pycql")
    ('/tmp/a b.pycql', 'db.pycql')
    """
    from urllib.parse import unquote, urlsplit

    parts = urlsplit(url)
    if parts.scheme != "file" or parts.netloc not in ("", "localhost") or not parts.path:
        raise InterfaceError(
            f"not a file URL: {url!r} (write file:///absolute/path or file:relative/path)")
    return unquote(parts.path)


class WriterLock:
    """The exclusive right to write a database file: ``flock`` on ``<path>.lock``.

    The kernel releases it when the process ends, however it ends.
    """

    def __init__(self, path: Path) -> None:
        self.path = path.with_name(path.name + ".lock")
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self, database: Path) -> None:
        """Take the lock, or raise :class:`~pycql.log.base.NotWriter` naming the process
        holding it."""
        if self._fd is not None:
            return
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise NotWriter(
                f"the database {database} is being written by another process (pid {holder}): "
                "one process writes a pycql database file at a time (others may read it); "
                "close the other connection first"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        self._fd = fd

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)  # closing the descriptor releases the flock


class FileLog(MemoryLog):
    """Topics in a SQLite file, cached in memory (see the module docstring)."""

    def __init__(self, path: str | os.PathLike[str], *,
                 synchronous: Literal["full", "normal"] = "full",
                 poll_interval: float = 0.05) -> None:
        super().__init__()
        if synchronous not in ("full", "normal"):
            raise ProgrammingError(f"synchronous must be 'full' or 'normal', not {synchronous!r}")
        self.path = Path(path)
        self.poll_interval = float(poll_interval)
        #: serializes this process's use of the SQLite connection; taken before ``_changed``
        self._io = threading.Lock()
        self._writer = WriterLock(self.path)
        self._ids: dict[str, int] = {}  # topic name -> its row id (a new one per creation)
        self._last_seq = 0  # the last record (``seq``) in the cache
        self._data_version: int | None = None
        try:
            self._db = sqlite3.connect(self.path, isolation_level=None,
                                       check_same_thread=False, timeout=30.0)
        except sqlite3.Error as exc:
            raise OperationalError(f"cannot open the database {self.path}: {exc}") from None
        try:
            self._setup(synchronous)
            with self._io:
                self._catch_up()
        except BaseException:
            self._db.close()
            raise

    # -- the file ------------------------------------------------------------------
    def _setup(self, synchronous: str) -> None:
        db = self._db
        try:
            mode = db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            db.execute(f"PRAGMA synchronous={synchronous.upper()}")
            tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            if tables and "pycql_meta" not in tables:
                raise OperationalError(
                    f"{self.path} is a SQLite database but not a pycql one (it has the tables "
                    f"{', '.join(sorted(tables))}); pass another path")
            if "records" not in tables:
                db.executescript("BEGIN IMMEDIATE;" + _SCHEMA + "COMMIT;")
                db.execute("INSERT OR IGNORE INTO pycql_meta VALUES ('format', ?)",
                           (FORMAT_VERSION,))
            found = db.execute("SELECT value FROM pycql_meta WHERE key='format'").fetchone()
        except sqlite3.Error as exc:
            raise OperationalError(f"cannot open the database {self.path}: {exc}") from None
        if mode != "wal":
            raise OperationalError(f"the database {self.path} cannot use a WAL journal ({mode})")
        if found is None or found[0] != FORMAT_VERSION:
            raise OperationalError(
                f"the database {self.path} has pycql's file format "
                f"{None if found is None else found[0]!r}; this pycql reads {FORMAT_VERSION!r}")

    @property
    def writing(self) -> bool:
        """Whether this log holds the file's writer lock."""
        return self._writer.held

    def try_become_writer(self) -> bool:
        """Take the writer lock if no other process holds it; return whether this log has it."""
        with self._io:
            try:
                self._become_writer()
            except OperationalError:
                return False
            return True

    def _become_writer(self) -> None:
        """Take the writer lock (``_io`` held), then read what the last writer wrote."""
        if self._writer.held:
            return
        self._check_open()
        self._writer.acquire(self.path)
        self._catch_up(always=True)

    def _catch_up(self, always: bool = False) -> None:
        """Bring the cache up to the file (``_io`` held): topics created and deleted and
        records appended by other processes. The writer skips it (nobody else writes)."""
        if self._writer.held and not always:
            return
        db = self._db
        try:
            version = db.execute("PRAGMA data_version").fetchone()[0]
            if version == self._data_version and not always:
                return
            db.execute("BEGIN")  # one snapshot for the topics and their records
            try:
                topics = db.execute("SELECT id, name, partitions, compacted FROM topics").fetchall()
                rows = db.execute(
                    "SELECT seq, topic, partition, offset, timestamp_ms, key, value "
                    "FROM records WHERE seq > ? ORDER BY seq", (self._last_seq,)).fetchall()
            finally:
                db.execute("COMMIT")
        except sqlite3.Error as exc:
            raise OperationalError(f"cannot read the database {self.path}: {exc}") from None
        self._data_version = version
        with self._changed:
            self._apply(topics, rows)

    def _apply(self, topics: list[tuple[int, str, int, int]],
               rows: list[tuple[int, int, int, int, int, bytes | None, bytes | None]]) -> None:
        """Apply a snapshot of the file to the cache (``_changed`` held)."""
        by_id = {row[0]: row for row in topics}
        for name, topic_id in list(self._ids.items()):
            if topic_id not in by_id:  # deleted (and maybe created again: a new id)
                dropped = self._topics.pop(name)
                dropped.deleted = True
                del self._ids[name]
        names: dict[int, _Topic] = {}
        for topic_id, name, partitions, compacted in topics:
            if name not in self._ids:
                self._topics[name] = _Topic(TopicSpec(name, partitions, bool(compacted)))
                self._ids[name] = topic_id
            names[topic_id] = self._topics[name]
        for seq, topic_id, partition, offset, timestamp_ms, key, value in rows:
            target = names.get(topic_id)
            if target is not None:
                records = target.partitions[partition]
                if offset != len(records):
                    raise InternalError(
                        f"the database {self.path} is inconsistent: record {seq} has offset "
                        f"{offset} in {target.spec.name}[{partition}], expected {len(records)}")
                records.append(Record(target.spec.name, partition, offset, timestamp_ms,
                                      key, value))
            self._last_seq = seq
        self._changed.notify_all()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One SQLite write transaction (``_io`` held, the writer): committed when the
        block ends, rolled back when it raises; SQLite's errors are OperationalError."""
        db = self._db
        try:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            raise OperationalError(f"cannot write the database {self.path}: {exc}") from None

    def _store(self, placed: Sequence[Record]) -> None:
        """Write ``placed`` in one SQLite transaction (``_io`` held, the writer)."""
        ids = self._ids
        with self._transaction() as db:
            db.executemany(_INSERT, [
                (ids[r.topic], r.partition, r.offset, r.timestamp_ms, r.key, r.value)
                for r in placed])
            last = db.execute(
                "SELECT seq FROM sqlite_sequence WHERE name = 'records'").fetchone()
        if last is not None:
            self._last_seq = int(last[0])

    def _write_statements(self, statements: Sequence[tuple[str, tuple[object, ...]]]) -> None:
        """Run ``statements`` in one SQLite transaction (``_io`` held, the writer)."""
        with self._transaction() as db:
            for sql, args in statements:
                db.execute(sql, args)

    # -- the Log interface ------------------------------------------------------------
    def create_topic(self, spec: TopicSpec, *, exist_ok: bool = True) -> None:
        if spec.partitions < 1:
            raise ProgrammingError(f"topic {spec.name!r} needs at least one partition")
        with self._io:
            self._check_open()
            self._catch_up()
            if spec.name in self._topics:  # no write: a reading process may ask too
                if exist_ok:
                    return
                raise ProgrammingError(f"topic {spec.name!r} already exists")
            self._become_writer()
            if spec.name in self._topics:  # the last writer made it
                if exist_ok:
                    return
                raise ProgrammingError(f"topic {spec.name!r} already exists")
            self._write_statements([(
                "INSERT INTO topics (name, partitions, compacted) VALUES (?, ?, ?)",
                (spec.name, spec.partitions, int(spec.compacted)))])
            (topic_id,) = self._db.execute(
                "SELECT id FROM topics WHERE name = ?", (spec.name,)).fetchone()
            with self._changed:
                self._topics[spec.name] = _Topic(spec)
                self._ids[spec.name] = int(topic_id)

    def delete_topic(self, name: str) -> None:
        with self._io:
            self._check_open()
            self._become_writer()
            with self._changed:
                self._topic(name)  # raises for an unknown one
            topic_id = self._ids[name]
            self._write_statements([("DELETE FROM records WHERE topic = ?", (topic_id,)),
                                    ("DELETE FROM topics WHERE id = ?", (topic_id,))])
            del self._ids[name]
            super().delete_topic(name)

    def topics(self) -> list[str]:
        self._refresh()
        return super().topics()

    def partitions(self, topic: str) -> int:
        self._refresh()
        return super().partitions(topic)

    def spec(self, topic: str) -> TopicSpec:
        self._refresh()
        return super().spec(topic)

    def produce(self, topic: str, records: Sequence[OutRecord]) -> None:
        if not records:
            return
        with self._io:
            self._become_writer()
            with self._changed:
                self._check_open()
                placed = self._place(topic, records)
            self._store(placed)
            with self._changed:
                self._extend(placed)
                self._changed.notify_all()

    def transactional_producer(self, transactional_id: str, *,
                               read_your_writes: bool = False) -> MemoryTransactionalProducer:
        with self._io:
            self._become_writer()  # it will write: fail now rather than at its commit
        return super().transactional_producer(transactional_id,
                                              read_your_writes=read_your_writes)

    def _commit(self, producer: MemoryTransactionalProducer,
                batches: list[tuple[str, Sequence[OutRecord]]]) -> None:
        """One SQLite transaction holds every batch of the Kafka-style transaction."""
        with self._io:
            self._become_writer()
            with self._changed:
                self._check_open()
                if self._epochs.get(producer.transactional_id) != producer.epoch:
                    raise Fenced(f"transactional id {producer.transactional_id!r} was taken "
                                 "over by a newer producer")
                for topic, records in batches:  # check everything before placing anything
                    self._check(topic, records)
                ends: dict[tuple[str, int], int] = {}
                placed = [r for topic, records in batches
                          for r in self._place(topic, records, ends)]
            if not placed:
                return
            self._store(placed)
            with self._changed:
                self._extend(placed)
                self._changed.notify_all()

    def reader(self, topics: Sequence[str], start: StartAt = "earliest",
               partitions: Partitions | None = None) -> MemoryReader:
        self._refresh()
        return super().reader(topics, start, partitions)

    def _refresh(self) -> None:
        """Catch up with other processes' commits (a reader's; the writer has them all)."""
        if self._writer.held or self._closed:
            return
        with self._io:
            if not self._closed:
                self._catch_up()

    def close(self) -> None:
        with self._io:
            if self._closed:
                return
            super().close()
            try:
                self._db.close()
            finally:
                self._writer.release()


class FileReader(MemoryReader):
    """A reader of a :class:`FileLog`: while it waits it also looks at the file for
    records other processes committed (every ``poll_interval`` seconds)."""

    _log: FileLog

    def poll(self, max_records: int = 10_000, timeout: float = 0.1) -> list[Record]:
        log = self._log
        deadline = time.monotonic() + timeout
        while True:
            log._refresh()
            wait = min(deadline - time.monotonic(), log.poll_interval)
            batch = super().poll(max_records, max(wait, 0.0))
            if batch or time.monotonic() >= deadline:
                return batch

    def end_offsets(self, fresh: bool = True) -> dict[tuple[str, int], int]:
        if fresh:
            self._log._refresh()
        return super().end_offsets(fresh)


FileLog._reader_class = FileReader
