"""The driver on a real Kafka broker: continuous queries across threads, snapshots,
bounded runs, and the catalog shared through ``_pycql_catalog``."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator

import pytest

import pycql

pytestmark = pytest.mark.kafka


@pytest.fixture
def kconn(kafka_bootstrap: str) -> Iterator[pycql.Connection]:
    conn = pycql.connect(f"kafka://{kafka_bootstrap}")
    try:
        yield conn
    finally:
        if not conn.closed:
            conn.close()


def _name(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


def test_continuous_query_with_producer_and_canceller_threads(kconn: pycql.Connection) -> None:
    stream = _name("clicks")
    kconn.execute(
        f"CREATE STREAM {stream} (user_id INTEGER, page VARCHAR(20)) WITH (partitions = '2')"
    )
    kconn.execute(f"INSERT INTO {stream} VALUES (100, 'before the query')")
    reader = kconn.cursor()
    reader.execute(f"SELECT user_id, page FROM {stream} WHERE user_id < ?", (100,))
    assert reader.kind == "stream"
    assert [d.name for d in reader.description or []] == ["user_id", "page"]
    seen: list[tuple[object, ...]] = []
    finished = threading.Event()

    def consume() -> None:
        for row in reader:
            seen.append(row)
        finished.set()

    def produce() -> None:
        writer = kconn.cursor()  # the connection is shared between threads
        for i in range(10):
            writer.execute(f"INSERT INTO {stream} VALUES (?, ?)", (i, f"page{i}"))
        writer.executemany(
            f"INSERT INTO {stream} VALUES (?, ?)", [(i, f"page{i}") for i in range(10, 20)]
        )
        writer.execute(f"INSERT INTO {stream} VALUES (500, 'filtered out')")

    consumer = threading.Thread(target=consume)
    producer = threading.Thread(target=produce)
    consumer.start()
    producer.start()
    producer.join(30)
    deadline = time.monotonic() + 30
    while len(seen) < 20 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sorted(seen) == sorted((i, f"page{i}") for i in range(20))
    canceller = threading.Thread(target=reader.cancel)
    canceller.start()
    canceller.join()
    assert finished.wait(5), "cancel() from another thread did not end the iteration"
    consumer.join()
    assert reader.cancelled
    # the connection still works: a snapshot of everything written so far
    cur = kconn.cursor()
    cur.execute(f"SELECT COUNT(*) FROM {stream}")
    assert cur.kind == "relation"
    assert cur.fetchall() == [(22,)]
    cur.execute("SHOW QUERIES")  # the cancelled query is gone (jobs of other tests may show)
    assert [row for row in cur.fetchall() if row[2] == "cursor"] == []


def test_table_snapshot_and_stream_bounded_run(kconn: pycql.Connection) -> None:
    table, stream = _name("items"), _name("bids")
    cur = kconn.cursor()
    cur.execute(f"CREATE TABLE {table} (id INTEGER, name VARCHAR(10), PRIMARY KEY (id))")
    cur.executemany(f"INSERT INTO {table} VALUES (?, ?)", [(1, "one"), (2, "two"), (3, "three")])
    cur.execute(f"UPSERT INTO {table} VALUES (2, 'deux')")
    cur.execute(f"DELETE FROM {table} WHERE id = 3")
    cur.execute(f"SELECT id, name FROM {table}")
    assert sorted(cur.fetchall()) == [(1, "one"), (2, "deux")]
    with pytest.raises(pycql.IntegrityError):
        cur.execute(f"INSERT INTO {table} VALUES (1, 'again')")
    cur.execute(f"CREATE STREAM {stream} (item INTEGER, price DOUBLE) WITH (partitions = '3')")
    cur.execute(f"INSERT INTO {stream} VALUES (1, 5.0), (2, 50.0)")
    cur.execute(f"INSERT INTO {stream} VALUES (1, 70.0)")
    cur.execute(
        f"SELECT ISTREAM(*) FROM {stream} [NOW] WHERE price > 10", start="earliest", stop="latest"
    )
    assert sorted(cur.fetchall()) == [(1, 70.0), (2, 50.0)]
    assert cur.ended and cur.rowtime is not None


def test_continuous_join_reads_the_whole_table(kconn: pycql.Connection) -> None:
    table, stream = _name("names"), _name("ids")
    kconn.execute(f"CREATE TABLE {table} (id INTEGER, name VARCHAR(10), PRIMARY KEY (id))")
    kconn.execute(f"INSERT INTO {table} VALUES (1, 'one'), (2, 'two')")
    kconn.execute(f"CREATE STREAM {stream} (id INTEGER) WITH (partitions = '2')")
    kconn.execute(f"INSERT INTO {stream} VALUES (1)")  # before the query
    cur = kconn.cursor()
    cur.execute(f"SELECT RSTREAM({stream}.id, {table}.name) FROM {stream} [NOW], {table} "
                f"WHERE {stream}.id = {table}.id")
    kconn.execute(f"INSERT INTO {stream} VALUES (2), (3)")
    rows: list[tuple[object, ...]] = []
    deadline = time.monotonic() + 15
    while not rows and time.monotonic() < deadline:
        rows += cur.fetchmany(10, timeout=0.5)
    assert rows == [(2, "two")]
    cur.close()


def test_catalog_is_shared_by_every_client(kafka_bootstrap: str) -> None:
    stream = _name("shared")
    with (
        pycql.connect(f"kafka://{kafka_bootstrap}") as one,
        pycql.connect(f"kafka://{kafka_bootstrap}") as two,
    ):
        one.execute(f"CREATE STREAM {stream} (a INTEGER)")
        assert stream in [r[0] for r in two.execute("SHOW STREAMS").fetchall()]
        two.execute(f"INSERT INTO {stream} VALUES (1), (2)")
        assert one.execute(f"SELECT COUNT(*) FROM {stream}").fetchall() == [(2,)]
        two.execute(f"DROP STREAM {stream}")
        assert stream not in [r[0] for r in one.execute("SHOW STREAMS").fetchall()]
        with pytest.raises(pycql.ProgrammingError):
            one.execute(f"SELECT * FROM {stream}")


def test_unreachable_broker_is_an_operational_error() -> None:
    began = time.monotonic()
    with pytest.raises(pycql.OperationalError) as caught:
        pycql.connect("kafka://127.0.0.1:1", timeout=2.0)
    assert "127.0.0.1:1" in str(caught.value)
    assert "pycql.kafka start" in str(caught.value)
    assert time.monotonic() - began < 30
