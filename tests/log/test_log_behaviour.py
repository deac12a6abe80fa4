"""One behavioural suite for every Log implementation (memory and real Kafka)."""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Callable

import pytest

from pycql.errors import OperationalError, ProgrammingError
from pycql.log import Log, OutRecord, Record, TopicSpec
from pycql.log.base import LogReader
from pycql.log.partitioner import partition_for_key

NewTopic = Callable[[str], str]


def read_all(reader: LogReader, expected: int, timeout: float = 15.0) -> list[Record]:
    """Poll until ``expected`` records arrived (or fail after ``timeout``)."""
    records: list[Record] = []
    deadline = time.monotonic() + timeout
    while len(records) < expected and time.monotonic() < deadline:
        records.extend(reader.poll(max_records=1000, timeout=0.5))
    assert len(records) == expected, f"read {len(records)} of {expected} records"
    return records


def spec_of(log: Log, topic: str) -> TopicSpec:
    spec = log.spec(topic)  # type: ignore[attr-defined]
    assert isinstance(spec, TopicSpec)
    return spec


def test_create_list_delete(log: Log, new_topic: NewTopic) -> None:
    name = new_topic("create")
    assert name not in log.topics()
    log.create_topic(TopicSpec(name, partitions=3))
    assert name in log.topics()
    assert log.partitions(name) == 3
    log.create_topic(TopicSpec(name, partitions=3))  # exist_ok by default
    with pytest.raises(ProgrammingError, match="already exists"):
        log.create_topic(TopicSpec(name, partitions=3), exist_ok=False)
    log.delete_topic(name)
    assert name not in log.topics()
    with pytest.raises(ProgrammingError, match="does not exist"):
        log.delete_topic(name)
    with pytest.raises(ProgrammingError, match="does not exist"):
        log.partitions(name)


def test_recreate_after_delete_starts_empty(log: Log, new_topic: NewTopic) -> None:
    name = new_topic("recreate")
    log.create_topic(TopicSpec(name))
    log.produce(name, [OutRecord(b"old")])
    log.delete_topic(name)
    log.create_topic(TopicSpec(name))
    log.produce(name, [OutRecord(b"new")])
    with log.reader([name]) as reader:
        assert [r.value for r in read_all(reader, 1)] == [b"new"]
        assert reader.end_offsets() == {(name, 0): 1}


def test_compacted_topic(log: Log, new_topic: NewTopic) -> None:
    compacted, plain = new_topic("compacted"), new_topic("plain")
    log.create_topic(TopicSpec(compacted, partitions=2, compacted=True))
    log.create_topic(TopicSpec(plain, partitions=1))
    assert spec_of(log, compacted) == TopicSpec(compacted, 2, compacted=True)
    assert spec_of(log, plain) == TopicSpec(plain, 1, compacted=False)
    # Readers see every record, the superseded ones too (tables apply upserts).
    log.produce(compacted, [OutRecord(b"1", key=b"k"), OutRecord(b"2", key=b"k")])
    with log.reader([compacted]) as reader:
        assert [r.value for r in read_all(reader, 2)] == [b"1", b"2"]


def test_partitions_keep_offset_order(log: Log, new_topic: NewTopic) -> None:
    name = new_topic("order")
    log.create_topic(TopicSpec(name, partitions=3))
    sent = [OutRecord(f"{i}".encode(), partition=i % 3) for i in range(600)]
    log.produce(name, sent[:250])
    log.produce(name, sent[250:])
    with log.reader([name]) as reader:
        assert sorted(reader.assignment()) == [(name, 0), (name, 1), (name, 2)]
        records = read_all(reader, 600)
    by_partition: dict[int, list[Record]] = defaultdict(list)
    for record in records:
        assert record.topic == name
        by_partition[record.partition].append(record)
    for partition in range(3):
        got = by_partition[partition]
        assert [r.offset for r in got] == list(range(200))
        assert [int(r.value or b"") for r in got] == list(range(partition, 600, 3))


def test_keys_go_to_kafkas_default_partition(log: Log, new_topic: NewTopic) -> None:
    name = new_topic("keys")
    log.create_topic(TopicSpec(name, partitions=4))
    keys = [f"key-{i}".encode() for i in range(40)]
    log.produce(name, [OutRecord(b"v", key=key) for key in keys])
    with log.reader([name]) as reader:
        records = read_all(reader, 40)
    placed = {r.key: r.partition for r in records}
    assert placed == {key: partition_for_key(key, 4) for key in keys}
    assert len(set(placed.values())) > 1  # really spread over partitions


def test_keys_values_timestamps_round_trip(log: Log, new_topic: NewTopic) -> None:
    name = new_topic("fields")
    log.create_topic(TopicSpec(name))
    before = int(time.time() * 1000)
    log.produce(
        name,
        [
            OutRecord(b"explicit", key=b"k1", timestamp_ms=1_700_000_000_123),
            OutRecord(None, key=b"tombstone"),
            OutRecord(b"\x00\xffbinary", key=None),
        ],
    )
    after = int(time.time() * 1000)
    with log.reader([name]) as reader:
        first, second, third = read_all(reader, 3)
    assert (first.key, first.value, first.timestamp_ms) == (b"k1", b"explicit", 1_700_000_000_123)
    assert (second.key, second.value) == (b"tombstone", None)
    assert before - 5 <= second.timestamp_ms <= after + 5  # default: now
    assert (third.key, third.value) == (None, b"\x00\xffbinary")


def test_instant_zero_stays_before_every_later_instant(log: Log, new_topic: NewTopic) -> None:
    """A record stamped 0 (a relation's rows before any input) is not stamped with the
    wall clock: librdkafka reads 0 as "now", so Kafka gets the earliest instant it keeps
    as given, 1 ms, and the record stays before input stamped an hour ago."""
    name = new_topic("zero")
    log.create_topic(TopicSpec(name))
    an_hour_ago = int(time.time() * 1000) - 3_600_000
    log.produce(name, [OutRecord(b"initial", timestamp_ms=0),
                       OutRecord(b"history", timestamp_ms=an_hour_ago)])
    with log.reader([name]) as reader:
        initial, history = read_all(reader, 2)
    assert initial.timestamp_ms in (0, 1)  # 0 in memory, 1 ms on Kafka
    assert initial.timestamp_ms < history.timestamp_ms == an_hour_ago


def test_produce_errors(log: Log, new_topic: NewTopic) -> None:
    name = new_topic("errors")
    with pytest.raises(ProgrammingError, match="does not exist"):
        log.produce(name, [OutRecord(b"x")])
    log.create_topic(TopicSpec(name, partitions=2))
    with pytest.raises(ProgrammingError, match="no partition 2"):
        log.produce(name, [OutRecord(b"ok", partition=0), OutRecord(b"bad", partition=2)])
    with log.reader([name]) as reader:
        assert reader.end_offsets() == {(name, 0): 0, (name, 1): 0}  # nothing appended
    with pytest.raises(ProgrammingError, match="does not exist"):
        log.reader([new_topic("missing")])


def test_start_positions(log: Log, new_topic: NewTopic) -> None:
    name = new_topic("start")
    log.create_topic(TopicSpec(name, partitions=2))
    log.produce(
        name,
        [
            OutRecord(f"p{i % 2}-{i}".encode(), timestamp_ms=10_000 + i, partition=i % 2)
            for i in range(10)
        ],
    )  # partition 0: timestamps 10000, 10002, ...; partition 1: 10001, 10003, ...

    with log.reader([name], start="earliest") as reader:
        assert reader.position() == {(name, 0): 0, (name, 1): 0}
        assert len(read_all(reader, 10)) == 10
        assert reader.position() == {(name, 0): 5, (name, 1): 5}

    with log.reader([name], start=10_005) as reader:
        assert reader.position() == {(name, 0): 3, (name, 1): 2}
        got = read_all(reader, 5)
        assert sorted(r.timestamp_ms for r in got) == [10_005, 10_006, 10_007, 10_008, 10_009]

    with log.reader([name], start=99_999) as reader:  # after every record: the end
        assert reader.position() == {(name, 0): 5, (name, 1): 5}

    with log.reader([name], start={0: 4}) as reader:  # partition 1 left out: earliest
        assert reader.position() == {(name, 0): 4, (name, 1): 0}
        assert len(read_all(reader, 6)) == 6

    with log.reader([name], start={(name, 1): 3}) as reader:
        assert reader.position() == {(name, 0): 0, (name, 1): 3}

    with log.reader([name], start="latest") as reader:
        assert reader.position() == {(name, 0): 5, (name, 1): 5}
        assert reader.poll(timeout=0.3) == []
        log.produce(name, [OutRecord(b"new", partition=1)])
        (record,) = read_all(reader, 1)
        assert (record.value, record.partition, record.offset) == (b"new", 1, 5)
        assert reader.position() == {(name, 0): 5, (name, 1): 6}
        assert reader.end_offsets() == {(name, 0): 5, (name, 1): 6}


def test_reader_over_two_topics(log: Log, new_topic: NewTopic) -> None:
    first, second = new_topic("a"), new_topic("b")
    log.create_topic(TopicSpec(first))
    log.create_topic(TopicSpec(second, partitions=2))
    log.produce(first, [OutRecord(b"a0"), OutRecord(b"a1")])
    log.produce(second, [OutRecord(b"b0", partition=1)])
    with log.reader([first, second]) as reader:
        assert sorted(reader.assignment()) == sorted([(first, 0), (second, 0), (second, 1)])
        records = read_all(reader, 3)
        assert reader.end_offsets() == {(first, 0): 2, (second, 0): 0, (second, 1): 1}
    assert sorted((r.topic, r.value) for r in records) == [
        (first, b"a0"),
        (first, b"a1"),
        (second, b"b0"),
    ]


def test_poll_limits_batch_size(log: Log, new_topic: NewTopic) -> None:
    name = new_topic("limit")
    log.create_topic(TopicSpec(name))
    log.produce(name, [OutRecord(b"%d" % i) for i in range(50)])
    with log.reader([name]) as reader:
        read_all(reader, 0)  # nothing asked: nothing read
        got: list[Record] = []
        deadline = time.monotonic() + 15
        while len(got) < 50 and time.monotonic() < deadline:
            batch = reader.poll(max_records=7, timeout=0.5)
            assert len(batch) <= 7
            got.extend(batch)
    assert [r.offset for r in got] == list(range(50))


def test_poll_times_out_then_wakes_for_a_producer(log: Log, new_topic: NewTopic) -> None:
    name = new_topic("block")
    log.create_topic(TopicSpec(name))
    with log.reader([name]) as reader:
        started = time.monotonic()
        assert reader.poll(timeout=0.5) == []
        waited = time.monotonic() - started
        assert 0.45 <= waited < 3.0

        def produce_later() -> None:
            time.sleep(0.3)
            log.produce(name, [OutRecord(b"wake up")])

        producer = threading.Thread(target=produce_later)
        started = time.monotonic()
        producer.start()
        records = reader.poll(timeout=10.0)
        waited = time.monotonic() - started
        producer.join()
    assert [r.value for r in records] == [b"wake up"]
    assert 0.25 <= waited < 5.0  # woke when the record came, long before the timeout


def test_closed_reader_refuses_to_poll(log: Log, new_topic: NewTopic) -> None:
    name = new_topic("closed")
    log.create_topic(TopicSpec(name))
    reader = log.reader([name])
    reader.close()
    with pytest.raises(OperationalError, match="closed"):
        reader.poll(timeout=0.1)
