"""Transactions: ``conn.autocommit = False``, ``commit()`` and ``rollback()``.

A connection's INSERT/UPSERT/DELETE (and heartbeats) go into one transaction of
the log; rolled-back writes are never seen by any query or derived stream,
because every pycql reader reads committed records only. The same holds for
an external producer that aborts a transaction on an input topic (Kafka).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

import pycql
from pycql.log.base import Fenced, TransactionalProducer

BASE_MS = 1_700_000_000_000


def _tag() -> str:
    return uuid.uuid4().hex[:8]


@pytest.fixture
def mconn() -> Iterator[pycql.Connection]:
    conn = pycql.connect(f"memory://tx-{_tag()}")
    try:
        yield conn
    finally:
        if not conn.closed:
            conn.close()


def bounded(conn: pycql.Connection, sql: str) -> list[tuple[Any, ...]]:
    cur = conn.cursor()
    cur.execute(sql, start="earliest", stop="latest")
    rows = cur.fetchall()
    cur.close()
    return sorted(rows)


def snapshot(conn: pycql.Connection, sql: str) -> list[tuple[Any, ...]]:
    cur = conn.cursor()
    cur.execute(sql)
    rows = cur.fetchall()
    cur.close()
    return sorted(rows)


def eventually(fn: Callable[[], Any], want: Any, seconds: float = 10) -> Any:
    deadline = time.monotonic() + seconds
    got = fn()
    while got != want and time.monotonic() < deadline:
        time.sleep(0.1)
        got = fn()
    return got


# -- the embedded log ----------------------------------------------------------------
def test_autocommit_is_true_by_default_and_rollback_then_refuses(
        mconn: pycql.Connection) -> None:
    assert mconn.autocommit is True
    mconn.commit()  # nothing open: a no-op
    with pytest.raises(pycql.NotSupportedError, match="autocommit"):
        mconn.rollback()
    mconn.autocommit = False
    assert mconn.autocommit is False and not mconn.in_transaction
    mconn.rollback()  # nothing open: no error
    mconn.commit()


def test_rollback_of_a_stream_insert_leaves_nothing_commit_shows_it(
        mconn: pycql.Connection) -> None:
    cur = mconn.cursor()
    cur.execute("CREATE STREAM S (a INTEGER, ts BIGINT) WITH (timestamp = 'ts')")
    mconn.autocommit = False
    cur.execute("INSERT INTO S VALUES (?, ?)", (1, BASE_MS))
    cur.executemany("INSERT INTO S VALUES (?, ?)", [(2, BASE_MS + 1), (3, BASE_MS + 2)])
    assert mconn.in_transaction
    # not visible before the commit, not even to this connection (read_committed)
    assert bounded(mconn, "SELECT a FROM S") == []
    mconn.rollback()
    assert not mconn.in_transaction
    assert bounded(mconn, "SELECT a FROM S") == []
    cur.execute("INSERT INTO S VALUES (?, ?)", (4, BASE_MS + 3))
    assert bounded(mconn, "SELECT a FROM S") == []
    mconn.commit()
    assert bounded(mconn, "SELECT a FROM S") == [(4,)]
    # another connection of the same database sees the same
    other = pycql.connect(mconn.dsn)
    try:
        assert bounded(other, "SELECT a FROM S") == [(4,)]
    finally:
        other.close()


def test_upsert_and_delete_of_a_table_rolled_back_leave_it_as_it_was(
        mconn: pycql.Connection) -> None:
    cur = mconn.cursor()
    cur.execute("CREATE TABLE T (k INTEGER, v VARCHAR(10), PRIMARY KEY (k))")
    cur.executemany("INSERT INTO T VALUES (?, ?)", [(1, "one"), (2, "two")])
    mconn.autocommit = False
    cur.execute("UPSERT INTO T VALUES (1, 'uno')")
    cur.execute("INSERT INTO T VALUES (3, 'three')")
    cur.execute("DELETE FROM T WHERE k = 2")
    assert cur.rowcount == 1
    assert snapshot(mconn, "SELECT k, v FROM T") == [(1, "one"), (2, "two")]
    mconn.rollback()
    assert snapshot(mconn, "SELECT k, v FROM T") == [(1, "one"), (2, "two")]
    cur.execute("DELETE FROM T")
    mconn.rollback()
    assert snapshot(mconn, "SELECT k, v FROM T") == [(1, "one"), (2, "two")]
    cur.execute("UPSERT INTO T VALUES (1, 'uno')")
    cur.execute("DELETE FROM T WHERE k = 2")
    mconn.commit()
    assert snapshot(mconn, "SELECT k, v FROM T") == [(1, "uno")]


def test_cursors_and_threads_of_a_connection_share_its_transaction(
        mconn: pycql.Connection) -> None:
    first, second = mconn.cursor(), mconn.cursor()
    first.execute("CREATE STREAM S (a INTEGER)")
    mconn.autocommit = False
    first.execute("INSERT INTO S VALUES (1)")
    second.execute("INSERT INTO S VALUES (2)")
    worker = threading.Thread(target=lambda: mconn.cursor().execute("INSERT INTO S VALUES (3)"))
    worker.start()
    worker.join()
    mconn.rollback()
    assert bounded(mconn, "SELECT a FROM S") == []
    first.execute("INSERT INTO S VALUES (4)")
    second.execute("INSERT INTO S VALUES (5)")
    mconn.execute("INSERT INTO S VALUES (6)")
    mconn.commit()
    assert bounded(mconn, "SELECT a FROM S") == [(4,), (5,), (6,)]


def test_close_rolls_back_and_autocommit_true_commits(mconn: pycql.Connection) -> None:
    mconn.execute("CREATE STREAM S (a INTEGER)")
    other = pycql.connect(mconn.dsn)
    other.autocommit = False
    other.execute("INSERT INTO S VALUES (1)")
    other.close()
    assert bounded(mconn, "SELECT a FROM S") == []

    mconn.autocommit = False
    mconn.execute("INSERT INTO S VALUES (2)")
    assert bounded(mconn, "SELECT a FROM S") == []
    mconn.autocommit = True  # commits the open transaction first
    assert not mconn.in_transaction
    assert bounded(mconn, "SELECT a FROM S") == [(2,)]
    mconn.execute("INSERT INTO S VALUES (3)")  # autocommit again: applied at once
    assert bounded(mconn, "SELECT a FROM S") == [(2,), (3,)]

    with pycql.connect(mconn.dsn) as scoped:
        scoped.autocommit = False
        scoped.execute("INSERT INTO S VALUES (4)")
    assert bounded(mconn, "SELECT a FROM S") == [(2,), (3,)]


def test_ddl_applies_at_once_inside_a_transaction(mconn: pycql.Connection) -> None:
    mconn.autocommit = False
    mconn.execute("CREATE STREAM S (a INTEGER)")
    mconn.execute("INSERT INTO S VALUES (1)")
    mconn.rollback()
    # the stream stays: DDL is not transactional
    names = [r[0] for r in mconn.execute("SHOW STREAMS").fetchall()]
    assert "S" in names
    assert bounded(mconn, "SELECT a FROM S") == []


def test_a_heartbeat_in_a_rolled_back_transaction_is_never_seen(
        mconn: pycql.Connection) -> None:
    mconn.execute("CREATE STREAM S (a INTEGER, ts BIGINT) WITH (timestamp = 'ts')")
    log = mconn.database.log
    topic = "S"
    mconn.autocommit = False
    mconn.execute(f"ALTER STREAM S HEARTBEAT {BASE_MS}")
    mconn.rollback()
    with log.reader([topic], "earliest") as reader:
        assert reader.end_offsets() == {(topic, 0): 0}
    mconn.execute(f"ALTER STREAM S HEARTBEAT {BASE_MS}")
    mconn.commit()
    with log.reader([topic], "earliest") as reader:
        assert reader.end_offsets()[(topic, 0)] > 0


def test_a_derived_stream_never_shows_a_rolled_back_row(mconn: pycql.Connection) -> None:
    cur = mconn.cursor()
    cur.execute("CREATE STREAM S (a INTEGER, ts BIGINT) WITH (timestamp = 'ts')")
    cur.execute("CREATE STREAM D AS SELECT a FROM S WHERE a > 0")
    mconn.autocommit = False
    cur.execute("INSERT INTO S VALUES (?, ?)", (1, BASE_MS))
    mconn.rollback()
    cur.execute("INSERT INTO S VALUES (?, ?)", (2, BASE_MS + 1000))
    cur.execute("INSERT INTO S VALUES (?, ?)", (-2, BASE_MS + 1001))
    mconn.commit()
    assert eventually(lambda: bounded(mconn, "SELECT a FROM D"), [(2,)]) == [(2,)]
    time.sleep(0.5)
    assert bounded(mconn, "SELECT a FROM D") == [(2,)]
    assert bounded(mconn, "SELECT a FROM S") == [(-2,), (2,)]


class _FailingProducer(TransactionalProducer):
    def __init__(self, inner: TransactionalProducer, fail: str) -> None:
        self.inner = inner
        self.transactional_id = inner.transactional_id
        self.fail = fail

    def begin(self) -> None:
        self.inner.begin()

    def produce(self, topic: str, records: Any) -> None:
        if self.fail == "produce":
            raise pycql.OperationalError("broker gone")
        self.inner.produce(topic, records)

    def commit(self) -> None:
        if self.fail == "commit":
            self.inner.abort()
            raise Fenced("a newer producer of this id took over")
        self.inner.commit()

    def abort(self) -> None:
        self.inner.abort()

    def close(self) -> None:
        self.inner.close()


@pytest.mark.parametrize("fail", ["commit", "produce"])
def test_a_failed_commit_or_write_loses_the_transaction_and_a_new_one_starts(
        mconn: pycql.Connection, monkeypatch: pytest.MonkeyPatch, fail: str) -> None:
    mconn.execute("CREATE STREAM S (a INTEGER)")
    log = mconn.database.log
    real = log.transactional_producer
    made: list[str] = []

    def failing_once(transactional_id: str, **options: Any) -> TransactionalProducer:
        made.append(transactional_id)
        producer = real(transactional_id, **options)
        return _FailingProducer(producer, fail) if len(made) == 1 else producer

    monkeypatch.setattr(log, "transactional_producer", failing_once)
    mconn.autocommit = False
    if fail == "commit":
        mconn.execute("INSERT INTO S VALUES (1)")
        with pytest.raises(pycql.OperationalError, match="nothing of it was written"):
            mconn.commit()
    else:
        with pytest.raises(pycql.OperationalError, match="nothing of it was written"):
            mconn.execute("INSERT INTO S VALUES (1)")
    assert not mconn.in_transaction
    assert bounded(mconn, "SELECT a FROM S") == []
    mconn.execute("INSERT INTO S VALUES (2)")
    mconn.commit()
    assert bounded(mconn, "SELECT a FROM S") == [(2,)]
    assert len(made) == 2 and made[0] != made[1]
    assert all(i.startswith("pycql.conn.") for i in made)


def test_a_closed_connection_refuses_autocommit_changes(mconn: pycql.Connection) -> None:
    mconn.close()
    with pytest.raises(pycql.InterfaceError):
        mconn.autocommit = False
    with pytest.raises(pycql.InterfaceError):
        mconn.commit()


# -- Kafka -----------------------------------------------------------------------------
@pytest.fixture
def kconn(kafka_bootstrap: str) -> Iterator[pycql.Connection]:
    conn = pycql.connect(f"kafka://{kafka_bootstrap}")
    try:
        yield conn
    finally:
        if not conn.closed:
            conn.close()


def _raw_transactional_producer(bootstrap: str) -> Any:
    from confluent_kafka import Producer

    producer = Producer({"bootstrap.servers": bootstrap,
                         "transactional.id": f"tx-test-{_tag()}"})
    producer.init_transactions(30)
    return producer


def _raw_rows(producer: Any, topic: str, values: list[int], commit: bool) -> None:
    """One transaction of JSON rows ``{"a": ...}`` stamped now (Kafka timestamps)."""
    producer.begin_transaction()
    now = int(time.time() * 1000)
    for a in values:
        producer.produce(topic, orjson.dumps({"a": a}), timestamp=now)
    producer.flush(30)
    if commit:
        producer.commit_transaction(30)
    else:
        producer.abort_transaction(30)


@pytest.mark.kafka
def test_kafka_rollback_and_commit_of_a_stream_insert(kconn: pycql.Connection) -> None:
    stream = f"txs_{_tag()}"
    cur = kconn.cursor()
    cur.execute(f"CREATE STREAM {stream} (a INTEGER, ts BIGINT) WITH (timestamp = 'ts')")
    kconn.autocommit = False
    cur.executemany(f"INSERT INTO {stream} VALUES (?, ?)", [(1, BASE_MS), (2, BASE_MS + 1)])
    kconn.rollback()
    assert bounded(kconn, f"SELECT a FROM {stream}") == []
    cur.execute(f"INSERT INTO {stream} VALUES (?, ?)", (3, BASE_MS + 2))
    assert bounded(kconn, f"SELECT a FROM {stream}") == []
    kconn.commit()
    assert bounded(kconn, f"SELECT a FROM {stream}") == [(3,)]
    cur.execute(f"INSERT INTO {stream} VALUES (?, ?)", (4, BASE_MS + 3))
    kconn.close()  # rolls back
    with pycql.connect(kconn.dsn) as other:
        assert bounded(other, f"SELECT a FROM {stream}") == [(3,)]


@pytest.mark.kafka
def test_kafka_an_external_producers_aborted_transaction_is_never_seen(
        kafka_bootstrap: str, kconn: pycql.Connection) -> None:
    stream = f"txe_{_tag()}"
    kconn.execute(f"CREATE STREAM {stream} (a INTEGER)")
    producer = _raw_transactional_producer(kafka_bootstrap)
    _raw_rows(producer, stream, [1, 2, 3], commit=False)
    assert bounded(kconn, f"SELECT a FROM {stream}") == []
    _raw_rows(producer, stream, [4, 5], commit=True)
    _raw_rows(producer, stream, [6], commit=False)
    _raw_rows(producer, stream, [7], commit=True)
    assert bounded(kconn, f"SELECT a FROM {stream}") == [(4,), (5,), (7,)]


@pytest.mark.kafka
def test_kafka_a_derived_stream_never_shows_rolled_back_or_aborted_rows(
        kafka_bootstrap: str, kconn: pycql.Connection, tmp_path: Path) -> None:
    from tests.jobs.conftest import WorkerProcess

    stream, derived = f"txd_{_tag()}", f"txo_{_tag()}"
    worker = WorkerProcess(kafka_bootstrap, f"tx-{_tag()}", tmp_path)
    try:
        cur = kconn.cursor()
        cur.execute(f"CREATE STREAM {stream} (a INTEGER)")
        cur.execute(f"CREATE STREAM {derived} AS SELECT a FROM {stream} WHERE a > 0")
        try:
            kconn.autocommit = False
            cur.execute(f"INSERT INTO {stream} VALUES (1)")
            kconn.rollback()
            cur.execute(f"INSERT INTO {stream} VALUES (2)")
            cur.execute(f"INSERT INTO {stream} VALUES (-2)")
            kconn.commit()
            producer = _raw_transactional_producer(kafka_bootstrap)
            _raw_rows(producer, stream, [10, 11], commit=False)
            _raw_rows(producer, stream, [12], commit=True)
            want = [(2,), (12,)]
            got = eventually(lambda: bounded(kconn, f"SELECT a FROM {derived}"), want, 40)
            assert got == want
            time.sleep(1)
            assert bounded(kconn, f"SELECT a FROM {derived}") == want
        finally:
            kconn.autocommit = True
            cur.execute("SHOW QUERIES")
            for row in cur.fetchall():
                if row[3] == derived and row[1] != "TERMINATED":
                    cur.execute(f"TERMINATE {row[0]}")
    finally:
        status = worker.stop()
        assert status == 0, "\n".join(worker.lines)
