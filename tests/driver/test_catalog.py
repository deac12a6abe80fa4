"""The catalog model, its planner JSON, and its three stores."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from pycql.catalog import (
    CATALOG_TOPIC,
    Catalog,
    Column,
    FileCatalogStore,
    LogCatalogStore,
    MemoryCatalogStore,
    Stream,
    Table,
    View,
    entry_from_json,
)
from pycql.errors import OperationalError, ProgrammingError
from pycql.log import MemoryLog

A = Column("A", "INTEGER")
B = Column("B", "VARCHAR", precision=20)
TS = Column("TS", "TIMESTAMP", nullable=False)


def _sample(catalog: Catalog) -> None:
    catalog.add(Stream("S", (A, TS), topic="s_topic", timestamp="TS", partitions=3))
    catalog.add(Table("R", (A, B), topic="R", primary_key=("A",)))
    catalog.add(View("V", "select A from S", (A,), "stream"))


def test_planner_json_is_the_documented_shape() -> None:
    catalog = Catalog()
    _sample(catalog)
    doc = catalog.to_planner_json()
    assert doc == {
        "streams": [
            {
                "name": "S",
                "columns": [
                    {
                        "name": "A",
                        "type": "INTEGER",
                        "nullable": True,
                        "precision": None,
                        "scale": None,
                    },
                    {
                        "name": "TS",
                        "type": "TIMESTAMP",
                        "nullable": False,
                        "precision": None,
                        "scale": None,
                    },
                ],
                "topic": "s_topic",
                "timestamp": "TS",
                "format": "json",
                "partitions": 3,
                "key": [],
            }
        ],
        "tables": [
            {
                "name": "R",
                "columns": [
                    {
                        "name": "A",
                        "type": "INTEGER",
                        "nullable": True,
                        "precision": None,
                        "scale": None,
                    },
                    {
                        "name": "B",
                        "type": "VARCHAR",
                        "nullable": True,
                        "precision": 20,
                        "scale": None,
                    },
                ],
                "primary_key": ["A"],
                "topic": "R",
                "format": "json",
            }
        ],
        "views": [
            {
                "name": "V",
                "query": "select A from S",
                "columns": [
                    {
                        "name": "A",
                        "type": "INTEGER",
                        "nullable": True,
                        "precision": None,
                        "scale": None,
                    }
                ],
            }
        ],
    }
    # JSON-serializable as the planner needs it
    assert orjson.loads(orjson.dumps(doc)) == doc


def test_entries_round_trip_through_json() -> None:
    catalog = Catalog()
    _sample(catalog)
    for entry in catalog.entries():
        assert entry_from_json(orjson.loads(orjson.dumps(entry.to_json()))) == entry


def test_names_resolve_exactly_then_ignoring_case_and_clash_across_kinds() -> None:
    catalog = Catalog()
    _sample(catalog)
    assert catalog.find("S").topic == "s_topic"  # type: ignore[union-attr]
    assert catalog.find("r").name == "R"  # type: ignore[union-attr]
    assert catalog.find("nope") is None
    with pytest.raises(ProgrammingError, match="stream S already exists"):
        catalog.add(Table("S", (A,), topic="x"))
    with pytest.raises(ProgrammingError, match="already exists"):
        catalog.add(View("V", "select 1", ()))
    version = catalog.version
    catalog.add(View("V", "select A from R", ()), replace=True)
    assert catalog.version > version
    assert catalog.find("V").query == "select A from R"  # type: ignore[union-attr]


def test_drop_checks_kind_and_existence() -> None:
    catalog = Catalog()
    _sample(catalog)
    with pytest.raises(ProgrammingError, match="R is a table, not a stream"):
        catalog.drop("stream", "R")
    with pytest.raises(ProgrammingError, match="does not exist"):
        catalog.drop("view", "NOPE")
    assert catalog.drop("table", "r").name == "R"
    assert catalog.find("R") is None
    assert [t["name"] for t in catalog.to_planner_json()["tables"]] == []
    assert catalog.planner_json_without("S")["streams"] == []


def test_file_store_persists_and_sees_other_writers(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "catalog.json"
    first = Catalog(FileCatalogStore(path))
    _sample(first)
    second = Catalog(FileCatalogStore(path))
    assert {e.name for e in second.entries()} == {"S", "R", "V"}
    first.drop("view", "V")
    second.refresh()
    assert second.find("V") is None
    assert second.find("S") == first.find("S")


def test_file_store_rejects_a_foreign_file(tmp_path: Path) -> None:
    path = tmp_path / "catalog.json"
    path.write_text("this is not json")
    with pytest.raises(OperationalError, match="not a pycql catalog"):
        Catalog(FileCatalogStore(path))


def test_log_store_shares_the_catalog_through_a_compacted_topic() -> None:
    log = MemoryLog()
    first = Catalog(LogCatalogStore(log))
    assert CATALOG_TOPIC in log.topics()
    _sample(first)
    second = Catalog(LogCatalogStore(log))
    assert {e.name for e in second.entries()} == {"S", "R", "V"}
    first.drop("stream", "S")
    first.add(Stream("S2", (A,), topic="S2"))
    before = second.version
    second.refresh()
    assert second.version > before
    assert {e.name for e in second.entries()} == {"R", "V", "S2"}
    unchanged = second.version
    second.refresh()
    assert second.version == unchanged  # nothing new, no new version
    # one record per change: key = name, tombstone = drop
    records = log.reader([CATALOG_TOPIC]).poll()
    assert [(r.key, r.value is None) for r in records] == [
        (b"S", False),
        (b"R", False),
        (b"V", False),
        (b"S", True),
        (b"S2", False),
    ]


def test_log_store_reads_again_with_a_new_reader_when_its_reader_fails() -> None:
    """A long-lived reader that lost the broker for good (while new clients reach it) is
    replaced: the catalog is read again from the start; a new reader's failure is the
    broker's and raises."""
    log = MemoryLog()
    writer = Catalog(LogCatalogStore(log))
    _sample(writer)
    store = LogCatalogStore(log)
    reader = Catalog(store)
    assert {e.name for e in reader.entries()} == {"S", "R", "V"}
    writer.drop("stream", "S")

    def cut_off(fresh: bool = True) -> dict[tuple[str, int], int]:
        raise OperationalError("Kafka at 127.0.0.1:1 did not answer")

    stale = store._reader  # type: ignore[attr-defined]
    stale.end_offsets = cut_off
    reader.refresh()
    assert store._reader is not stale  # type: ignore[attr-defined]
    assert {e.name for e in reader.entries()} == {"R", "V"}
    store._reader.end_offsets = cut_off  # type: ignore[attr-defined]
    real_reader = log.reader
    log.reader = lambda *a, **k: _cut_off_reader(real_reader(*a, **k), cut_off)  # type: ignore[method-assign]
    with pytest.raises(OperationalError):
        reader.refresh()


def _cut_off_reader(reader: object, cut_off: object) -> object:
    reader.end_offsets = cut_off  # type: ignore[attr-defined]
    return reader


def test_memory_store_is_private() -> None:
    one, two = Catalog(MemoryCatalogStore()), Catalog(MemoryCatalogStore())
    _sample(one)
    assert two.entries() == []


def test_column_type_text() -> None:
    assert B.type_text() == "VARCHAR(20)"
    assert Column("D", "DECIMAL", precision=10, scale=2).type_text() == "DECIMAL(10, 2)"
    assert A.type_text() == "INTEGER"
    assert Column("T", "TIMESTAMP", precision=0).type_text() == "TIMESTAMP"
