"""The driver on the embedded log: statements, snapshots, continuous queries, errors."""

from __future__ import annotations

import _thread
import datetime as dt
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import pycql


@pytest.fixture
def conn() -> Iterator[pycql.Connection]:
    connection = pycql.connect()
    try:
        yield connection
    finally:
        if not connection.closed:
            connection.close()


def _stream(cur: pycql.Cursor) -> None:
    cur.execute(
        "CREATE STREAM Bids (item INTEGER, price DOUBLE, ts TIMESTAMP) "
        "WITH ('timestamp' = 'ts', partitions = '2')"
    )


def _at(seconds: int) -> dt.datetime:
    return dt.datetime(2024, 1, 1, 0, 0, seconds)


# -- DDL, SHOW, DESCRIBE -----------------------------------------------------------
def test_ddl_has_no_description_and_show_lists_objects(conn: pycql.Connection) -> None:
    cur = conn.cursor()
    _stream(cur)
    assert cur.description is None and cur.rowcount == 0 and cur.statement == "create_stream"
    cur.execute("CREATE TABLE Items (id INTEGER, name VARCHAR(20), PRIMARY KEY (id))")
    cur.execute("CREATE VIEW Expensive AS SELECT * FROM Bids [RANGE 1 MINUTE] WHERE price > 10")
    cur.execute("SHOW STREAMS")
    assert [d.name for d in cur.description or []] == [
        "NAME",
        "TOPIC",
        "PARTITIONS",
        "FORMAT",
        "TIMESTAMP",
    ]
    assert cur.fetchall() == [("Bids", "Bids", 2, "json", "ts")]
    cur.execute("SHOW TABLES")
    assert cur.fetchall() == [("Items", "Items", 1, "json", "id")]
    cur.execute("SHOW VIEWS")
    ((name, kind, query),) = cur.fetchall()
    assert (name, kind) == ("Expensive", "relation") and "price > 10" in query
    cur.execute("DESCRIBE items")
    assert cur.fetchall() == [
        ("id", "INTEGER", False, "PRIMARY KEY"),
        ("name", "VARCHAR(20)", True, None),
    ]
    cur.execute("DESCRIBE Bids")
    assert cur.fetchall() == [
        ("item", "INTEGER", True, None),
        ("price", "DOUBLE", True, None),
        ("ts", "TIMESTAMP", True, "TIMESTAMP"),
    ]
    assert "Bids" in conn.database.log.topics()


def test_create_errors_and_if_not_exists(conn: pycql.Connection) -> None:
    cur = conn.cursor()
    _stream(cur)
    with pytest.raises(pycql.ProgrammingError, match="already exists"):
        _stream(cur)
    cur.execute("CREATE STREAM IF NOT EXISTS Bids (x INTEGER)")
    with pytest.raises(pycql.ProgrammingError, match="unknown stream option"):
        cur.execute("CREATE STREAM T (a INTEGER) WITH (colour = 'red')")
    with pytest.raises(pycql.ProgrammingError, match="partitions must be a positive"):
        cur.execute("CREATE STREAM T (a INTEGER) WITH (partitions = 'many')")
    with pytest.raises(pycql.ProgrammingError, match="timestamp column"):
        cur.execute("CREATE STREAM T (a INTEGER) WITH (timestamp = 'b')")
    with pytest.raises(pycql.ProgrammingError, match="format"):
        cur.execute("CREATE STREAM T (a INTEGER) WITH (format = 'avro')")
    cur.execute("SHOW STREAMS")
    assert [r[0] for r in cur.fetchall()] == ["Bids"]


def test_drop_deletes_owned_topic_and_respects_views(conn: pycql.Connection) -> None:
    cur = conn.cursor()
    _stream(cur)
    cur.execute("CREATE VIEW Cheap AS SELECT * FROM Bids WHERE price < 1")
    with pytest.raises(pycql.ProgrammingError, match="view Cheap uses it"):
        cur.execute("DROP STREAM Bids")
    cur.execute("DROP VIEW Cheap")
    cur.execute("DROP STREAM Bids")
    assert "Bids" not in conn.database.log.topics()
    cur.execute("DROP STREAM IF EXISTS Bids")
    with pytest.raises(pycql.ProgrammingError, match="does not exist"):
        cur.execute("DROP STREAM Bids")


# -- tables ------------------------------------------------------------------------
def test_table_insert_upsert_delete_and_snapshot(conn: pycql.Connection) -> None:
    cur = conn.cursor()
    cur.execute("CREATE TABLE Items (id INTEGER, name VARCHAR(20), PRIMARY KEY (id))")
    cur.executemany("INSERT INTO Items VALUES (?, ?)", [(1, "one"), (2, "two"), (3, "three")])
    assert cur.rowcount == 3
    with pytest.raises(pycql.IntegrityError, match="already exists"):
        cur.execute("INSERT INTO Items VALUES (2, 'deux')")
    cur.execute("UPSERT INTO Items VALUES (2, 'deux')")
    assert cur.rowcount == 1
    cur.execute("DELETE FROM Items WHERE id >= ?", (3,))
    assert cur.rowcount == 1
    cur.execute("SELECT id, name FROM Items")
    assert cur.kind == "relation"
    assert sorted(cur.fetchall()) == [(1, "one"), (2, "deux")]
    assert cur.rowcount == 2
    cur.execute("DELETE FROM Items")
    assert cur.rowcount == 2
    cur.execute("SELECT * FROM Items")
    assert cur.fetchall() == []


def test_keyless_table_is_a_multiset(conn: pycql.Connection) -> None:
    cur = conn.cursor()
    cur.execute("CREATE TABLE Tags (tag VARCHAR(10))")
    cur.execute("INSERT INTO Tags VALUES ('a'), ('a'), ('b')")
    cur.execute("SELECT tag FROM Tags")
    assert sorted(cur.fetchall()) == [("a",), ("a",), ("b",)]
    with pytest.raises(pycql.ProgrammingError, match="UPSERT needs a primary key"):
        cur.execute("UPSERT INTO Tags VALUES ('c')")
    cur.execute("DELETE FROM Tags WHERE tag = 'a'")
    assert cur.rowcount == 2


# -- streams -----------------------------------------------------------------------
def test_bounded_run_of_a_stream_query(conn: pycql.Connection) -> None:
    cur = conn.cursor()
    _stream(cur)
    cur.execute("INSERT INTO Bids VALUES (1, 5.0, ?), (2, 15.0, ?)", (_at(1), _at(1)))
    cur.execute("INSERT INTO Bids VALUES (3, 25.0, ?)", (_at(2),))
    cur.execute(
        "SELECT ISTREAM(*) FROM Bids [NOW] WHERE price > ?", (10,), start="earliest", stop="latest"
    )
    assert cur.kind == "stream" and cur.rowcount == -1
    assert [(d.name, d.type_code) for d in cur.description or []] == [
        ("item", "INTEGER"),
        ("price", "DOUBLE"),
        ("ts", "TIMESTAMP"),
    ]
    assert cur.description[1].type_code == pycql.NUMBER  # type: ignore[index]
    first = cur.fetchone()
    assert first == (2, 15.0, _at(1))
    assert cur.rowtime == _at(1).replace(tzinfo=dt.UTC)
    assert cur.fetchall() == [(3, 25.0, _at(2))]
    assert cur.rowtime_ms == int(_at(2).replace(tzinfo=dt.UTC).timestamp() * 1000)
    assert cur.ended and cur.fetchone() is None and list(cur) == []


def test_rowtime_column_option(conn: pycql.Connection) -> None:
    conn.rowtime_column = True
    cur = conn.cursor()
    _stream(cur)
    cur.execute("INSERT INTO Bids VALUES (1, 5.0, ?)", (_at(3),))
    cur.execute("SELECT * FROM Bids", start="earliest", stop="latest")
    assert [d.name for d in cur.description or []][-1] == "ROWTIME"
    assert cur.fetchall() == [(1, 5.0, _at(3), _at(3).replace(tzinfo=dt.UTC))]


def test_snapshot_of_a_windowed_aggregate(conn: pycql.Connection) -> None:
    cur = conn.cursor()
    _stream(cur)
    rows = [(1, 1.0, _at(0)), (1, 2.0, _at(10)), (2, 4.0, _at(20)), (1, 8.0, _at(50))]
    cur.executemany("INSERT INTO Bids VALUES (?, ?, ?)", rows)
    # at the last instant (00:50) the 30-second window holds 00:20 < ts <= 00:50
    cur.execute("SELECT item, SUM(price) FROM Bids [RANGE 30 SECONDS] GROUP BY item")
    assert cur.kind == "relation"
    assert sorted(cur.fetchall()) == [(1, 8.0)]
    # bounded at 00:20: the window holds (-00:10, 00:20]
    cur.execute(
        "SELECT item, SUM(price) FROM Bids [RANGE 30 SECONDS] GROUP BY item",
        stop=_at(20) + dt.timedelta(milliseconds=1),
    )
    assert sorted(cur.fetchall()) == [(1, 3.0), (2, 4.0)]


def test_continuous_query_sees_new_rows_and_cancels_from_another_thread(
    conn: pycql.Connection,
) -> None:
    setup = conn.cursor()
    setup.execute("CREATE STREAM Clicks (user_id INTEGER, page VARCHAR(20))")
    setup.execute("INSERT INTO Clicks VALUES (0, 'before')")  # before the query: not seen
    reader = conn.cursor()
    reader.execute("SELECT user_id, page FROM Clicks WHERE user_id > ?", (0,))
    assert reader.kind == "stream"
    with pytest.raises(pycql.ProgrammingError, match="never return"):
        reader.fetchall()
    seen: list[tuple[object, ...]] = []
    done = threading.Event()

    def consume() -> None:
        for row in reader:
            seen.append(row)
        done.set()

    consumer = threading.Thread(target=consume)
    consumer.start()
    writer = conn.cursor()
    for i in range(1, 4):
        writer.execute("INSERT INTO Clicks VALUES (?, ?)", (i, f"p{i}"))
    deadline = time.monotonic() + 10
    while len(seen) < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert seen == [(1, "p1"), (2, "p2"), (3, "p3")]
    conn.cursor().execute("SHOW QUERIES")
    canceller = threading.Thread(target=reader.cancel)
    canceller.start()
    canceller.join()
    assert done.wait(5), "cancel() did not wake the consuming thread"
    consumer.join()
    assert reader.cancelled and reader.ended
    # the connection (and the cursor) still work
    writer.execute("SELECT COUNT(*) FROM Clicks")
    assert writer.fetchall() == [(4,)]
    reader.execute("SHOW QUERIES")
    assert reader.fetchall() == []


def test_show_queries_lists_running_queries(conn: pycql.Connection) -> None:
    cur = conn.cursor()
    cur.execute("CREATE STREAM S (a INTEGER)")
    running = conn.cursor().execute("SELECT * FROM S WHERE a > 1")
    cur.execute("SHOW QUERIES")
    ((query_id, status, kind, sink, _workers, tasks, _lag, started, sql, error),) = cur.fetchall()
    assert query_id.startswith("CURSOR_") and (status, kind, sink, tasks) == (
        "RUNNING", "cursor", None, 1)
    assert sql == "SELECT * FROM S WHERE a > 1" and error is None
    assert isinstance(started, dt.datetime)
    running.close()
    cur.execute("SHOW QUERIES")
    assert cur.fetchall() == []


def test_fetch_timeouts_and_statement_timeout(conn: pycql.Connection) -> None:
    cur = conn.cursor()
    cur.execute("CREATE STREAM S (a INTEGER)")
    cur.execute("SELECT * FROM S")
    began = time.monotonic()
    assert cur.fetchone(timeout=0.3) is None
    assert cur.fetchmany(5, timeout=0.2) == []
    assert 0.45 <= time.monotonic() - began < 3
    assert not cur.ended
    cur.execute("SELECT * FROM S", timeout=0.3)
    began = time.monotonic()
    assert cur.fetchall() == []
    assert 0.25 <= time.monotonic() - began < 3
    assert cur.ended


def test_keyboard_interrupt_cancels_and_keeps_the_connection(conn: pycql.Connection) -> None:
    cur = conn.cursor()
    cur.execute("CREATE STREAM S (a INTEGER)")
    cur.execute("SELECT * FROM S")
    timer = threading.Timer(0.3, _thread.interrupt_main)
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        cur.fetchone()
    timer.join()
    assert cur.cancelled and cur.fetchone() is None
    cur.execute("INSERT INTO S VALUES (7)")
    cur.execute("SELECT * FROM S", start="earliest", stop="latest")
    assert cur.fetchall() == [(7,)]


def test_explain(conn: pycql.Connection) -> None:
    cur = conn.cursor()
    cur.execute("CREATE STREAM S (a INTEGER)")
    cur.execute("EXPLAIN PLAN FOR SELECT ISTREAM(*) FROM S [NOW] WHERE a > 1")
    assert [d.name for d in cur.description or []] == ["PLAN"]
    lines = [r[0] for r in cur.fetchall()]
    assert len(lines) >= 1 and all(isinstance(line, str) for line in lines)
    cur.execute("EXPLAIN PLAN AS JSON FOR SELECT ISTREAM(*) FROM S [NOW] WHERE a > 1")
    ((text,),) = cur.fetchall()
    import json

    plan = json.loads(text)
    assert plan["pycql_plan"] == 1 and plan["result"]["kind"] == "stream"


# -- errors --------------------------------------------------------------------------
def test_cql_errors_carry_position(conn: pycql.Connection) -> None:
    cur = conn.cursor()
    with pytest.raises(pycql.ProgrammingError) as caught:
        cur.execute("SELECT *\nFROM Nope")
    assert caught.value.line == 2 and caught.value.column is not None
    assert "FROM Nope" in str(caught.value) and "^" in str(caught.value)


def test_parameter_misuse(conn: pycql.Connection) -> None:
    cur = conn.cursor()
    cur.execute("CREATE TABLE T (a INTEGER)")
    with pytest.raises(pycql.ProgrammingError, match="1 parameter"):
        cur.execute("INSERT INTO T VALUES (?)", ())
    with pytest.raises(pycql.ProgrammingError, match="qmark"):
        cur.execute("INSERT INTO T VALUES (?)", {"a": 1})
    with pytest.raises(pycql.ProgrammingError, match="sequence"):
        cur.execute("INSERT INTO T VALUES (?)", "1")
    with pytest.raises(pycql.ProgrammingError, match="takes no parameters"):
        cur.execute("SHOW TABLES", (1,))
    # a parameter is a value, never text: this inserts the string as it is
    nasty = "x'); DROP TABLE T; --"
    cur.execute("CREATE TABLE U (s VARCHAR(40))")
    cur.execute("INSERT INTO U VALUES (?)", (nasty,))
    cur.execute("SELECT s FROM U")
    assert cur.fetchall() == [(nasty,)]


def test_fetch_without_results_and_closed_objects(conn: pycql.Connection) -> None:
    cur = conn.cursor()
    with pytest.raises(pycql.ProgrammingError, match="execute a query first"):
        cur.fetchone()
    cur.execute("CREATE TABLE T (a INTEGER)")
    with pytest.raises(pycql.ProgrammingError, match="returned no rows"):
        cur.fetchall()
    cur.close()
    with pytest.raises(pycql.InterfaceError):
        cur.execute("SHOW TABLES")
    with pytest.raises(pycql.NotSupportedError):
        conn.rollback()
    conn.commit()
    conn.close()
    with pytest.raises(pycql.InterfaceError):
        conn.cursor()
    with pytest.raises(pycql.InterfaceError):
        conn.close()


def test_delete_on_a_stream_is_not_supported(conn: pycql.Connection) -> None:
    cur = conn.cursor()
    cur.execute("CREATE STREAM S (a INTEGER)")
    with pytest.raises(pycql.DatabaseError, match=r"tables only|append-only") as caught:
        cur.execute("DELETE FROM S")
    assert isinstance(caught.value, pycql.ProgrammingError | pycql.NotSupportedError)


# -- databases -----------------------------------------------------------------------
def test_named_memory_database_is_shared_private_ones_are_not() -> None:
    one = pycql.connect("memory://test-shared")
    two = pycql.connect("memory://test-shared")
    private = pycql.connect()
    try:
        one.execute("CREATE TABLE Shared (a INTEGER)")
        one.execute("INSERT INTO Shared VALUES (1)")
        assert two.execute("SELECT a FROM Shared").fetchall() == [(1,)]
        with pytest.raises(pycql.ProgrammingError):
            private.execute("SELECT a FROM Shared")
    finally:
        one.execute("DROP TABLE Shared")
        one.close()
        two.close()
        private.close()


def test_catalog_path_persists_the_catalog(tmp_path: Path) -> None:
    path = tmp_path / "catalog.json"
    with pycql.connect(catalog_path=str(path)) as first:
        first.execute("CREATE STREAM Kept (a INTEGER)")
    with pycql.connect(catalog_path=str(path)) as second:
        assert second.execute("SHOW STREAMS").fetchall()[0][0] == "Kept"


def test_unknown_dsn_is_an_interface_error() -> None:
    with pytest.raises(pycql.InterfaceError, match="unknown data source"):
        pycql.connect("postgres://x")


def test_continuous_join_sees_the_whole_table_but_only_new_stream_rows(
    conn: pycql.Connection,
) -> None:
    conn.execute("CREATE TABLE Names (id INTEGER, name VARCHAR(10), PRIMARY KEY (id))")
    conn.execute("INSERT INTO Names VALUES (1, 'one'), (2, 'two')")
    conn.execute("CREATE STREAM Ids (id INTEGER)")
    conn.execute("INSERT INTO Ids VALUES (1)")  # before the query: not part of it
    cur = conn.cursor()
    cur.execute("SELECT RSTREAM(Ids.id, Names.name) FROM Ids [NOW], Names "
                "WHERE Ids.id = Names.id")
    conn.execute("INSERT INTO Ids VALUES (2), (3)")
    assert cur.fetchmany(10, timeout=3) == [(2, "two")]
