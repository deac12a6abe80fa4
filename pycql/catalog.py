"""The catalog: which streams, tables and views exist, and how they are stored.

The planner sees the catalog as one JSON document (``Catalog.to_planner_json``);
the driver keeps it in one of three stores:

* :class:`MemoryCatalogStore`: in this process only (embedded default);
* :class:`FileCatalogStore`: a JSON file (``pycql.connect(catalog_path=...)``),
  re-read whenever another process changed it;
* :class:`LogCatalogStore`: the compacted topic ``_pycql_catalog`` of a log, so
  every client of one Kafka cluster sees the same streams. One record per
  object: key = the object's name, value = its JSON, a tombstone drops it.

The same stores hold the persistent queries (:class:`pycql.jobs.spec.Job`,
keyed ``query:<id>``): the catalog is also the command log workers follow.

>>> catalog = Catalog(MemoryCatalogStore())
>>> catalog.add(Stream("S", (Column("A", "INTEGER"),), topic="S"))
>>> catalog.to_planner_json()["streams"][0]["name"]
'S'
>>> catalog.find("s").name
'S'
"""

from __future__ import annotations

import os
import tempfile
import threading
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import orjson

from pycql.errors import InternalError, OperationalError, ProgrammingError
from pycql.jobs.spec import Job

if TYPE_CHECKING:
    from pycql.log.base import Log, LogReader

__all__ = [
    "CATALOG_TOPIC",
    "Catalog",
    "CatalogEntry",
    "CatalogStore",
    "Column",
    "FileCatalogStore",
    "LogCatalogStore",
    "MemoryCatalogStore",
    "Stream",
    "Table",
    "View",
    "entry_from_json",
]

#: The compacted topic holding the catalog of a Kafka cluster.
CATALOG_TOPIC = "_pycql_catalog"


@dataclass(frozen=True)
class Column:
    """One column: its name and SQL type (as in ``docs/plan-json.md``)."""

    name: str
    type: str
    nullable: bool = True
    precision: int | None = None
    scale: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "nullable": self.nullable,
            "precision": self.precision,
            "scale": self.scale,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Column:
        return cls(
            name=str(data["name"]),
            type=str(data["type"]),
            nullable=bool(data.get("nullable", True)),
            precision=data.get("precision"),
            scale=data.get("scale"),
        )

    def type_text(self) -> str:
        """The type as SQL writes it: ``VARCHAR(20)``, ``DECIMAL(10, 2)``, ``INTEGER``."""
        if self.precision is not None and self.precision >= 0:
            if self.scale is not None and self.type == "DECIMAL":
                return f"{self.type}({self.precision}, {self.scale})"
            if self.type not in ("TIMESTAMP", "TIME") or self.precision != 0:
                return f"{self.type}({self.precision})"
        return self.type


def _columns_json(columns: tuple[Column, ...]) -> list[dict[str, Any]]:
    return [c.to_json() for c in columns]


def _columns_from(data: list[dict[str, Any]] | None) -> tuple[Column, ...]:
    return tuple(Column.from_json(c) for c in data or [])


@dataclass(frozen=True)
class Stream:
    """A declared stream: an append-only topic of rows with a timestamp."""

    name: str
    columns: tuple[Column, ...]
    topic: str
    timestamp: str | None = None
    format: str = "json"
    partitions: int = 1
    #: Whether pycql created the topic (then DROP deletes it; else DROP leaves it).
    owns_topic: bool = False
    #: The stream's event-time options as written in ``WITH (...)`` (``lateness``,
    #: ``idle_timeout``, ``idle_advance``, ``max_future``; see
    #: :mod:`pycql.runtime.eventtime`); the connection's settings fill in the rest.
    time_options: tuple[tuple[str, str], ...] = ()
    #: the columns whose hash partitions the records (``WITH (key = 'a, b')``), or ``()``:
    #: pycql's INSERT keys records by them; jobs over the same key then run per partition
    key: tuple[str, ...] = ()
    kind: Literal["stream"] = field(default="stream", init=False)

    def planner_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "columns": _columns_json(self.columns),
            "topic": self.topic,
            "timestamp": self.timestamp,
            "format": self.format,
            "partitions": self.partitions,
            "key": list(self.key),
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "object": "stream",
            **self.planner_json(),
            "owns_topic": self.owns_topic,
            "time_options": dict(self.time_options),
        }


@dataclass(frozen=True)
class Table:
    """A declared table: a compacted topic of rows by primary key.

    A table without a primary key is a multiset: every inserted row gets its
    own generated key, so equal rows can coexist.
    """

    name: str
    columns: tuple[Column, ...]
    topic: str
    primary_key: tuple[str, ...] = ()
    format: str = "json"
    partitions: int = 1
    #: Whether pycql created the topic (then DROP deletes it; else DROP leaves it).
    owns_topic: bool = False
    kind: Literal["table"] = field(default="table", init=False)

    def planner_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "columns": _columns_json(self.columns),
            "primary_key": list(self.primary_key),
            "topic": self.topic,
            "format": self.format,
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "object": "table",
            **self.planner_json(),
            "partitions": self.partitions,
            "owns_topic": self.owns_topic,
        }


@dataclass(frozen=True)
class View:
    """A named query; ``kind`` says whether it is stream- or relation-valued."""

    name: str
    query: str
    columns: tuple[Column, ...] = ()
    view_kind: str = "relation"
    kind: Literal["view"] = field(default="view", init=False)

    def planner_json(self) -> dict[str, Any]:
        return {"name": self.name, "query": self.query, "columns": _columns_json(self.columns)}

    def to_json(self) -> dict[str, Any]:
        return {"object": "view", **self.planner_json(), "kind": self.view_kind}


CatalogEntry = Stream | Table | View
#: What a store holds: the catalog's objects and the persistent queries.
StoredEntry = Stream | Table | View | Job


def entry_from_json(data: dict[str, Any]) -> StoredEntry:
    """Read back what ``entry.to_json()`` wrote."""
    kind = data.get("object")
    if kind == "query":
        return Job.from_json(data)
    if kind == "stream":
        return Stream(
            name=data["name"],
            columns=_columns_from(data.get("columns")),
            topic=data.get("topic") or data["name"],
            timestamp=data.get("timestamp"),
            format=data.get("format") or "json",
            partitions=int(data.get("partitions") or 1),
            owns_topic=bool(data.get("owns_topic", False)),
            time_options=tuple(sorted((data.get("time_options") or {}).items())),
            key=tuple(data.get("key") or ()),
        )
    if kind == "table":
        return Table(
            name=data["name"],
            columns=_columns_from(data.get("columns")),
            topic=data.get("topic") or data["name"],
            primary_key=tuple(data.get("primary_key") or ()),
            format=data.get("format") or "json",
            partitions=int(data.get("partitions") or 1),
            owns_topic=bool(data.get("owns_topic", False)),
        )
    if kind == "view":
        return View(
            name=data["name"],
            query=data["query"],
            columns=_columns_from(data.get("columns")),
            view_kind=data.get("kind") or "relation",
        )
    raise InternalError(f"unreadable catalog entry: {data!r}")


class CatalogStore(ABC):
    """Where the catalog's entries live."""

    @abstractmethod
    def load(self) -> dict[str, StoredEntry] | None:
        """The entries by name if they changed since the last call, else ``None``."""

    @abstractmethod
    def put(self, entry: StoredEntry, everything: dict[str, StoredEntry]) -> None:
        """Store ``entry`` (``everything`` is the whole catalog after the change)."""

    @abstractmethod
    def remove(self, name: str, everything: dict[str, StoredEntry]) -> None:
        """Remove the entry ``name``."""

    def close(self) -> None:  # noqa: B027 - most stores hold nothing to release
        """Release resources."""


class MemoryCatalogStore(CatalogStore):
    """Entries kept by the :class:`Catalog` itself; nothing outlives the process."""

    def load(self) -> dict[str, StoredEntry] | None:
        return None

    def put(self, entry: StoredEntry, everything: dict[str, StoredEntry]) -> None:
        pass

    def remove(self, name: str, everything: dict[str, StoredEntry]) -> None:
        pass


class FileCatalogStore(CatalogStore):
    """The catalog as one JSON file, replaced atomically on every change."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._seen: tuple[int, int] | None = None

    def _stamp(self) -> tuple[int, int] | None:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return None
        return (st.st_mtime_ns, st.st_size)

    def load(self) -> dict[str, StoredEntry] | None:
        stamp = self._stamp()
        if stamp == self._seen:
            return None
        self._seen = stamp
        if stamp is None:
            return {}
        try:
            data = orjson.loads(self.path.read_bytes())
            entries = [entry_from_json(e) for e in data.get("objects", [])]
        except (orjson.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
            raise OperationalError(
                f"the catalog file {self.path} is not a pycql catalog ({exc}); "
                "move it away or pass another catalog_path"
            ) from None
        return {e.name: e for e in entries}

    def _write(self, everything: dict[str, StoredEntry]) -> None:
        data = {"pycql_catalog": 1, "objects": [e.to_json() for e in everything.values()]}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".catalog-", dir=self.path.parent)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(orjson.dumps(data, option=orjson.OPT_INDENT_2))
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        self._seen = self._stamp()

    def put(self, entry: StoredEntry, everything: dict[str, StoredEntry]) -> None:
        self._write(everything)

    def remove(self, name: str, everything: dict[str, StoredEntry]) -> None:
        self._write(everything)


class LogCatalogStore(CatalogStore):
    """The catalog as a compacted topic of a :class:`~pycql.log.base.Log`."""

    def __init__(self, log: Log, topic: str = CATALOG_TOPIC) -> None:
        from pycql.log.base import TopicSpec

        self.log = log
        self.topic = topic
        log.create_topic(TopicSpec(topic, partitions=1, compacted=True), exist_ok=True)
        self._entries: dict[str, StoredEntry] = {}
        self._reader: LogReader | None = None
        self._first = True

    def load(self) -> dict[str, StoredEntry] | None:
        reused = self._reader is not None
        try:
            return self._load()
        except OperationalError:
            if not reused:  # a new reader cannot reach the broker: it is down
                raise
            # A long-lived reader can stay cut off after a broker restart while new
            # clients connect (seen once in the fault harness: librdkafka's metadata
            # requests failed for minutes): read the catalog again with a new one.
            self.close()
            self._entries = {}
            self._first = True
            return self._load()

    def _load(self) -> dict[str, StoredEntry] | None:
        if self._reader is None:
            self._reader = self.log.reader([self.topic], "earliest")
        reader = self._reader
        changed = self._first
        self._first = False
        end = reader.end_offsets()
        deadline = time.monotonic() + 30.0
        while any(reader.position().get(tp, 0) < off for tp, off in end.items()):
            for record in reader.poll(10_000, 0.2):
                changed = True
                name = (record.key or b"").decode()
                if record.value is None:
                    self._entries.pop(name, None)
                else:
                    self._entries[name] = entry_from_json(orjson.loads(record.value))
            if time.monotonic() > deadline:
                raise OperationalError(
                    f"could not read the catalog topic {self.topic} to its end within 30 s"
                )
        return dict(self._entries) if changed else None

    def put(self, entry: StoredEntry, everything: dict[str, StoredEntry]) -> None:
        from pycql.log.base import OutRecord

        self.log.produce(
            self.topic, [OutRecord(orjson.dumps(entry.to_json()), key=entry.name.encode())]
        )

    def remove(self, name: str, everything: dict[str, StoredEntry]) -> None:
        from pycql.log.base import OutRecord

        self.log.produce(self.topic, [OutRecord(None, key=name.encode())])

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None


_KIND_WORDS = {"stream": "stream", "table": "table", "view": "view"}


class Catalog:
    """The streams, tables and views one connection sees.

    Thread-safe. ``version`` grows on every change, so plans can be cached
    per catalog version.
    """

    def __init__(self, store: CatalogStore | None = None) -> None:
        self.store = store or MemoryCatalogStore()
        self._entries: dict[str, CatalogEntry] = {}
        self._jobs: dict[str, Job] = {}
        self._lock = threading.RLock()
        self.version = 0
        self._planner_json: dict[str, Any] | None = None
        self.refresh()

    def refresh(self) -> None:
        """Pick up changes other clients made to the shared store."""
        with self._lock:
            loaded = self.store.load()
            if loaded is None:
                return
            entries = {n: e for n, e in loaded.items() if not isinstance(e, Job)}
            self._jobs = {e.id: e for e in loaded.values() if isinstance(e, Job)}
            if entries != self._entries:
                self._entries = entries
                self._changed()

    def _everything(self) -> dict[str, StoredEntry]:
        everything: dict[str, StoredEntry] = dict(self._entries)
        everything.update((job.name, job) for job in self._jobs.values())
        return everything

    # -- persistent queries --------------------------------------------------------
    def jobs(self) -> list[Job]:
        """Every persistent query, in the order they were created."""
        with self._lock:
            return sorted(self._jobs.values(), key=lambda j: (j.created_ms, j.id))

    def job(self, query_id: str) -> Job | None:
        """The job ``query_id`` (exactly, else ignoring case)."""
        with self._lock:
            job = self._jobs.get(query_id)
            if job is not None:
                return job
            folded = [j for i, j in self._jobs.items() if i.upper() == query_id.upper()]
            return folded[0] if len(folded) == 1 else None

    def put_job(self, job: Job) -> None:
        """Add ``job``, or replace the job of its id (a new status)."""
        with self._lock:
            self._jobs[job.id] = job
            self.store.put(job, self._everything())

    def _changed(self) -> None:
        self.version += 1
        self._planner_json = None

    def find(self, name: str) -> CatalogEntry | None:
        """The entry called ``name``: exactly, else the one equal ignoring case."""
        with self._lock:
            entry = self._entries.get(name)
            if entry is not None:
                return entry
            folded = [e for n, e in self._entries.items() if n.upper() == name.upper()]
            return folded[0] if len(folded) == 1 else None

    def entries(self) -> list[CatalogEntry]:
        with self._lock:
            return list(self._entries.values())

    def streams(self) -> list[Stream]:
        return [e for e in self.entries() if isinstance(e, Stream)]

    def tables(self) -> list[Table]:
        return [e for e in self.entries() if isinstance(e, Table)]

    def views(self) -> list[View]:
        return [e for e in self.entries() if isinstance(e, View)]

    def add(self, entry: CatalogEntry, *, replace: bool = False) -> None:
        """Add ``entry``; an existing object of that name is an error unless ``replace``."""
        with self._lock:
            existing = self.find(entry.name)
            if existing is not None:
                if not replace or existing.kind != entry.kind:
                    raise ProgrammingError(
                        f"{_KIND_WORDS[existing.kind]} {existing.name} already exists"
                    )
                del self._entries[existing.name]
            self._entries[entry.name] = entry
            self._changed()
            self.store.put(entry, self._everything())

    def drop(self, kind: str, name: str) -> CatalogEntry:
        """Remove the ``kind`` (``stream``, ``table``, ``view``) called ``name`` and return it."""
        with self._lock:
            existing = self.find(name)
            if existing is None:
                raise ProgrammingError(f"{kind} {name} does not exist")
            if existing.kind != kind:
                raise ProgrammingError(
                    f"{existing.name} is a {existing.kind}, not a {kind}: "
                    f"use DROP {existing.kind.upper()} {existing.name}"
                )
            del self._entries[existing.name]
            self._changed()
            self.store.remove(existing.name, self._everything())
            return existing

    def to_planner_json(self) -> dict[str, Any]:
        """The catalog document the planner takes (see ``docs/plan-json.md``)."""
        with self._lock:
            if self._planner_json is None:
                self._planner_json = {
                    "streams": [s.planner_json() for s in self.streams()],
                    "tables": [t.planner_json() for t in self.tables()],
                    "views": [v.planner_json() for v in self.views()],
                }
            return self._planner_json

    def planner_json_without(self, name: str) -> dict[str, Any]:
        """The planner's catalog document as it would be without the object ``name``."""
        with self._lock:
            return {
                "streams": [s.planner_json() for s in self.streams() if s.name != name],
                "tables": [t.planner_json() for t in self.tables() if t.name != name],
                "views": [v.planner_json() for v in self.views() if v.name != name],
            }

    def close(self) -> None:
        self.store.close()

