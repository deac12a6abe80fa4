"""Transactions of both logs: a committed transaction shows whole, an aborted or open one
never; a newer producer of a transactional id fences the older one; readers move past
the end of a transaction (its marker, aborted records) on Kafka."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest

from pycql.errors import OperationalError
from pycql.log.base import Fenced, Log, OutRecord, TopicSpec
from pycql.log.file import FileLog
from pycql.log.kafka import KafkaLog
from pycql.log.memory import MemoryLog


@pytest.fixture(params=["memory", "file", pytest.param("kafka", marks=pytest.mark.kafka)])
def log(request: pytest.FixtureRequest, tmp_path: Path):  # type: ignore[no-untyped-def]
    if request.param == "memory":
        yield MemoryLog()
        return
    if request.param == "file":
        file_log = FileLog(tmp_path / "txn.pycql")
        yield file_log
        file_log.close()
        return
    kafka = KafkaLog(request.getfixturevalue("kafka_bootstrap"))
    yield kafka
    kafka.close()


def _read_all(log: Log, topic: str) -> tuple[list[tuple[int, bytes | None]], bool]:
    """Every visible record, and whether the reader reached the end offsets."""
    reader = log.reader([topic])
    try:
        end = reader.end_offsets()
        got: list[tuple[int, bytes | None]] = []
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            got += [(r.partition, r.value) for r in reader.poll(100, 0.2)]
            if all(reader.position().get(tp, 0) >= e for tp, e in end.items()):
                return sorted(got), True
        return sorted(got), False
    finally:
        reader.close()


def _settled(log: Log, topic: str,
             want: list[tuple[int, bytes | None]]) -> tuple[list[tuple[int, bytes | None]], bool]:
    """:func:`_read_all` once it reads ``want`` (or its last answer after 15 s): on Kafka
    a commit returns before its markers are written, and until then a partition's last
    stable offset is still before the transaction's records."""
    deadline = time.monotonic() + 15
    got = _read_all(log, topic)
    while got != (want, True) and time.monotonic() < deadline:
        time.sleep(0.2)
        got = _read_all(log, topic)
    return got


def test_commit_shows_all_abort_and_open_show_nothing(log: Log) -> None:
    topic = f"txn_{uuid.uuid4().hex[:8]}"
    log.create_topic(TopicSpec(topic, partitions=2))
    producer = log.transactional_producer(f"test-{topic}")
    try:
        producer.begin()
        producer.produce(topic, [OutRecord(b"a", None, 1, 0), OutRecord(b"b", None, 2, 1)])
        producer.commit()
        producer.begin()
        producer.produce(topic, [OutRecord(b"aborted", None, 3, 0)])
        producer.abort()
        assert _settled(log, topic, [(0, b"a"), (1, b"b")]) == ([(0, b"a"), (1, b"b")], True)
        producer.begin()
        producer.produce(topic, [OutRecord(b"open", None, 4, 1)])
        got, _ = _read_all(log, topic)
        assert got == [(0, b"a"), (1, b"b")]
        producer.commit()
        want = [(0, b"a"), (1, b"b"), (1, b"open")]
        assert _settled(log, topic, want) == (want, True)
    finally:
        producer.close()


@pytest.mark.parametrize("goes_on", ["commits", "produces"])
def test_a_newer_producer_fences_the_older(log: Log, goes_on: str) -> None:
    """A zombie that commits at once, or that goes on producing its open transaction
    (on Kafka the producer's background thread learns of the fencing from a produce
    request, and every later call fails with librdkafka's "fatal error"), fails as
    :class:`Fenced` in whichever call fails first; only the successor's records show."""
    topic = f"txn_{uuid.uuid4().hex[:8]}"
    log.create_topic(TopicSpec(topic))
    zombie = log.transactional_producer(f"test-{topic}")
    zombie.begin()
    zombie.produce(topic, [OutRecord(b"zombie", None, 1, 0)])
    successor = log.transactional_producer(f"test-{topic}")
    with pytest.raises(Fenced):
        for n in range(100 if goes_on == "produces" else 0):  # 5 s: the broker answers
            zombie.produce(topic, [OutRecord(b"zombie %d" % n, None, 2 + n, 0)])
            time.sleep(0.05)
        zombie.commit()
    successor.begin()
    successor.produce(topic, [OutRecord(b"successor", None, 200, 0)])
    successor.commit()
    assert _settled(log, topic, [(0, b"successor")]) == ([(0, b"successor")], True)
    successor.close()
    zombie.close()


def test_a_reader_started_after_wait_visible_reads_the_commit(log: Log) -> None:
    """Read-your-writes: once ``wait_visible`` returns, the end offsets a reader sees are
    past the committed records (on Kafka a commit returns before its markers are
    written, and until then the last stable offset stays before them), so a read to the
    end, with no retry, sees every record."""
    topic = f"txn_{uuid.uuid4().hex[:8]}"
    log.create_topic(TopicSpec(topic, partitions=2))
    producer = log.transactional_producer(f"test-{topic}", read_your_writes=True)
    reader = log.reader([topic])
    try:
        ends = reader.end_offsets()
        for n in range(20):
            producer.begin()
            producer.produce(topic, [OutRecord(b"a%d" % n, None, n + 1, 0),
                                     OutRecord(b"b%d" % n, None, n + 1, 1)])
            producer.commit()
            producer.wait_visible()
            now = reader.end_offsets()  # asked at once: no time for the markers to land
            assert all(now[tp] > ends[tp] for tp in ends), (n, ends, now)
            ends = now
        want = sorted([(0, b"a%d" % n) for n in range(20)] + [(1, b"b%d" % n) for n in range(20)])
        assert _read_all(log, topic) == (want, True)
    finally:
        reader.close()
        producer.close()


@pytest.mark.kafka
def test_wait_settled_returns_once_no_transaction_is_open_in_the_partition(
        kafka_bootstrap: str) -> None:
    """A task's restore reads its changelog partition once it is settled: an open
    transaction there (another producer's here) holds it back until it ends."""
    log = KafkaLog(kafka_bootstrap, timeout=2)
    topic = f"txn_{uuid.uuid4().hex[:8]}"
    log.create_topic(TopicSpec(topic, partitions=2))
    holder = log.transactional_producer(f"holder-{topic}")
    waiter = log.transactional_producer(f"waiter-{topic}")
    try:
        waiter.wait_settled(topic, 0)  # nothing written yet
        holder.begin()
        holder.produce(topic, [OutRecord(b"open", None, 1, 0)])
        holder._producer.flush(5)  # type: ignore[attr-defined]  # on the broker, still open
        began = time.monotonic()
        with pytest.raises(OperationalError, match="open transaction"):
            waiter.wait_settled(topic, 0)
        assert time.monotonic() - began >= 2
        waiter.wait_settled(topic, 1)  # the other partition has none
        holder.abort()
        waiter.wait_settled(topic, 0)
    finally:
        holder.close()
        waiter.close()
        log.close()
