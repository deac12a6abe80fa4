"""The embedded in-process log: pycql's default when no Kafka broker is named.

Topics are lists of :class:`~pycql.log.base.Record` per partition, guarded by
one condition variable, so a reader in one thread can block (with a timeout)
until another thread produces:

>>> log = MemoryLog()
>>> log.create_topic(TopicSpec("S", partitions=2))
>>> log.produce("S", [OutRecord(b'{"A": 1}', key=b"k", timestamp_ms=1000)])
>>> with log.reader(["S"]) as reader:
...     [(r.value, r.timestamp_ms) for r in reader.poll()]
[(b'{"A": 1}', 1000)]

Keyed records go to the partition Kafka's default partitioner would choose
(:func:`~pycql.log.partitioner.partition_for_key`); unkeyed ones go round
robin. Compacted topics keep every record (readers see all of them; tables
apply upserts themselves).
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Sequence

from pycql.errors import OperationalError, ProgrammingError
from pycql.log.base import (
    Fenced,
    GroupMembership,
    Log,
    LogReader,
    OutRecord,
    Partitions,
    Record,
    StartAt,
    TopicSpec,
    TransactionalProducer,
    explicit_start,
    selected,
)
from pycql.log.partitioner import partition_for_key

__all__ = ["MemoryGroupMember", "MemoryLog", "MemoryReader", "MemoryTransactionalProducer"]


class _Topic:
    __slots__ = ("deleted", "partitions", "round_robin", "spec")

    def __init__(self, spec: TopicSpec) -> None:
        self.spec = spec
        self.partitions: list[list[Record]] = [[] for _ in range(spec.partitions)]
        self.round_robin = itertools.cycle(range(spec.partitions))
        self.deleted = False


class MemoryLog(Log):
    """Partitioned topics in this process's memory; thread-safe."""

    #: what :meth:`reader` makes (a subclass's readers may also look beyond memory)
    _reader_class: type[MemoryReader]

    def __init__(self) -> None:
        self._changed = threading.Condition(threading.Lock())
        self._topics: dict[str, _Topic] = {}
        self._closed = False
        #: the members of each consumer group, in the order they joined
        self._groups: dict[str, list[MemoryGroupMember]] = {}
        #: the epoch of each transactional id (a new producer of the id fences older ones)
        self._epochs: dict[str, int] = {}

    def create_topic(self, spec: TopicSpec, *, exist_ok: bool = True) -> None:
        if spec.partitions < 1:
            raise ProgrammingError(f"topic {spec.name!r} needs at least one partition")
        with self._changed:
            self._check_open()
            if spec.name in self._topics:
                if exist_ok:
                    return
                raise ProgrammingError(f"topic {spec.name!r} already exists")
            self._topics[spec.name] = _Topic(spec)

    def delete_topic(self, name: str) -> None:
        with self._changed:
            self._check_open()
            topic = self._topic(name)
            topic.deleted = True
            del self._topics[name]
            self._changed.notify_all()

    def topics(self) -> list[str]:
        with self._changed:
            return sorted(self._topics)

    def partitions(self, topic: str) -> int:
        with self._changed:
            return self._topic(topic).spec.partitions

    def spec(self, topic: str) -> TopicSpec:
        """How ``topic`` was created."""
        with self._changed:
            return self._topic(topic).spec

    def produce(self, topic: str, records: Sequence[OutRecord]) -> None:
        if not records:
            return
        with self._changed:
            self._check_open()
            self._append(topic, records)
            self._changed.notify_all()

    def transactional_producer(self, transactional_id: str, *,
                               read_your_writes: bool = False) -> MemoryTransactionalProducer:
        with self._changed:
            self._check_open()
            epoch = self._epochs.get(transactional_id, 0) + 1
            self._epochs[transactional_id] = epoch
        return MemoryTransactionalProducer(self, transactional_id, epoch, read_your_writes)

    def _commit(self, producer: MemoryTransactionalProducer,
                batches: list[tuple[str, Sequence[OutRecord]]]) -> None:
        """Append every batch of a transaction at once (or none, when fenced or bad)."""
        with self._changed:
            self._check_open()
            if self._epochs.get(producer.transactional_id) != producer.epoch:
                raise Fenced(f"transactional id {producer.transactional_id!r} was taken over "
                             "by a newer producer")
            for topic, records in batches:  # check everything before appending anything
                self._check(topic, records)
            for topic, records in batches:
                self._append(topic, records)
            self._changed.notify_all()

    def _check(self, topic: str, records: Sequence[OutRecord]) -> None:
        """Raise where ``records`` cannot go to ``topic`` (an unknown topic or partition)."""
        count = len(self._topic(topic).partitions)
        for record in records:
            if record.partition is not None and not 0 <= record.partition < count:
                raise ProgrammingError(
                    f"topic {topic!r} has no partition {record.partition} (it has {count})"
                )

    def _append(self, topic: str, records: Sequence[OutRecord]) -> None:
        """Append ``records`` (the lock held): a bad batch appends nothing."""
        self._extend(self._place(topic, records))
        self._changed.notify_all()

    def _place(self, topic: str, records: Sequence[OutRecord],
               ends: dict[tuple[str, int], int] | None = None) -> list[Record]:
        """The records ``records`` become at the end of ``topic`` (the lock held): their
        partitions (keyed: Kafka's default partitioner; unkeyed: round robin), offsets and
        timestamps; raises, placing nothing, where one cannot go there. ``ends`` carries
        the next offsets of partitions over several calls placing one transaction."""
        self._check(topic, records)
        now = time.time_ns() // 1_000_000
        target = self._topic(topic)
        partitions = target.partitions
        count = len(partitions)
        if ends is None:
            ends = {}
        placed: list[Record] = []
        for value, key, timestamp_ms, partition in records:
            if partition is None:
                if count == 1:
                    partition = 0
                elif key is None:
                    partition = next(target.round_robin)
                else:
                    partition = partition_for_key(key, count)
            offset = ends.get((topic, partition))
            if offset is None:
                offset = len(partitions[partition])
            ends[(topic, partition)] = offset + 1
            placed.append(Record(topic, partition, offset,
                                 now if timestamp_ms is None else timestamp_ms, key, value))
        return placed

    def _extend(self, placed: Sequence[Record]) -> None:
        """Append records :meth:`_place` placed (the lock held, nothing appended since)."""
        topics = self._topics
        for record in placed:
            topics[record.topic].partitions[record.partition].append(record)

    def reader(self, topics: Sequence[str], start: StartAt = "earliest",
               partitions: Partitions | None = None) -> MemoryReader:
        with self._changed:
            self._check_open()
            assigned = [(name, self._topic(name)) for name in topics]
            positions: dict[tuple[str, int], int] = {}
            for name, topic in assigned:
                for number in selected(name, len(topic.partitions), partitions):
                    records = topic.partitions[number]
                    positions[(name, number)] = _start_offset(records, start, name, number)
        return self._reader_class(self, [topic for _, topic in assigned], positions)

    def group(self, group_id: str, topic: str,
              instance_id: str | None = None) -> MemoryGroupMember:
        """A member of ``group_id`` in this process: the partitions of ``topic`` are
        shared out among the members round robin, in the order they joined. A static
        member (``instance_id``) that joins again takes its old place, so it gets the
        same partitions back at once, and the member it replaces owns nothing more."""
        with self._changed:
            self._check_open()
            count = len(self._topic(topic).partitions)
            member = MemoryGroupMember(self, group_id, count, instance_id)
            members = self._groups.setdefault(group_id, [])
            for k, old in enumerate(members):
                if instance_id is not None and old.instance_id == instance_id:
                    members[k] = member
                    break
            else:
                members.append(member)
            return member

    def _owned(self, member: MemoryGroupMember) -> set[int]:
        with self._changed:
            members = self._groups.get(member.group_id, [])
            if member not in members:
                return set()
            k = members.index(member)
            return {p for p in range(member.partition_count) if p % len(members) == k}

    def _leave(self, member: MemoryGroupMember) -> None:
        with self._changed:
            members = self._groups.get(member.group_id, [])
            if member in members:
                members.remove(member)

    def close(self) -> None:
        with self._changed:
            self._closed = True
            self._changed.notify_all()

    def _topic(self, name: str) -> _Topic:
        topic = self._topics.get(name)
        if topic is None:
            raise ProgrammingError(f"topic {name!r} does not exist")
        return topic

    def _check_open(self) -> None:
        if self._closed:
            raise OperationalError("the log is closed")


def _start_offset(records: list[Record], start: StartAt, topic: str, partition: int) -> int:
    if start == "earliest":
        return 0
    if start == "latest":
        return len(records)
    if isinstance(start, dict):
        offset = explicit_start(start, topic, partition)
        return 0 if offset is None else min(max(offset, 0), len(records))
    if isinstance(start, int) and not isinstance(start, bool):
        for record in records:
            if record.timestamp_ms >= start:
                return record.offset
        return len(records)
    raise ProgrammingError(f"a reader cannot start at {start!r}")


class MemoryReader(LogReader):
    """A cursor over a :class:`MemoryLog`'s partitions."""

    def __init__(
        self, log: MemoryLog, topics: list[_Topic], positions: dict[tuple[str, int], int]
    ) -> None:
        self._log = log
        self._topics = topics
        self._positions = positions
        self._cursors = [
            ((topic.spec.name, number), records)
            for topic in topics
            for number, records in enumerate(topic.partitions)
            if (topic.spec.name, number) in positions
        ]
        self._next_cursor = 0  # the partition served first, rotated for fairness
        self._closed = False

    def poll(self, max_records: int = 10_000, timeout: float = 0.1) -> list[Record]:
        if self._closed:
            raise OperationalError("the reader is closed")
        changed = self._log._changed
        deadline = time.monotonic() + timeout
        with changed:
            while True:
                batch = self._take(max_records)
                if batch:
                    return batch
                if self._log._closed:
                    raise OperationalError("the log is closed")
                for topic in self._topics:
                    if topic.deleted:
                        raise OperationalError(f"topic {topic.spec.name!r} was deleted")
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return []
                changed.wait(remaining)

    def _take(self, max_records: int) -> list[Record]:
        batch: list[Record] = []
        cursors = self._cursors
        count = len(cursors)
        positions = self._positions
        for step in range(count):
            pair, records = cursors[(self._next_cursor + step) % count]
            position = positions[pair]
            end = len(records)
            if position >= end:
                continue
            wanted = max_records - len(batch)
            stop = min(end, position + wanted)
            batch.extend(records[position:stop])
            positions[pair] = stop
            if len(batch) >= max_records:
                break
        if count:
            self._next_cursor = (self._next_cursor + 1) % count
        return batch

    def assignment(self) -> list[tuple[str, int]]:
        return [pair for pair, _ in self._cursors]

    def end_offsets(self, fresh: bool = True) -> dict[tuple[str, int], int]:
        with self._log._changed:
            return {pair: len(records) for pair, records in self._cursors}

    def position(self) -> dict[tuple[str, int], int]:
        with self._log._changed:
            return dict(self._positions)

    def close(self) -> None:
        self._closed = True


MemoryLog._reader_class = MemoryReader


class MemoryGroupMember(GroupMembership):
    """A member of a consumer group of a :class:`MemoryLog` (see :meth:`MemoryLog.group`)."""

    def __init__(self, log: MemoryLog, group_id: str, partition_count: int,
                 instance_id: str | None = None) -> None:
        self._log = log
        self.group_id = group_id
        self.partition_count = partition_count
        self.instance_id = instance_id

    def poll(self) -> set[int]:
        return self._log._owned(self)

    def close(self) -> None:
        self._log._leave(self)


class MemoryTransactionalProducer(TransactionalProducer):
    """Transactions of a :class:`MemoryLog`: records wait in the producer until
    :meth:`commit` appends them all under the log's lock, so readers see a
    transaction whole or not at all."""

    def __init__(self, log: MemoryLog, transactional_id: str, epoch: int,
                 read_your_writes: bool = False) -> None:
        self._log = log
        self.transactional_id = transactional_id
        self.epoch = epoch
        self.read_your_writes = read_your_writes
        self._batches: list[tuple[str, Sequence[OutRecord]]] | None = None

    def _fenced(self) -> None:
        with self._log._changed:
            if self._log._epochs.get(self.transactional_id) != self.epoch:
                raise Fenced(f"transactional id {self.transactional_id!r} was taken over "
                             "by a newer producer")

    def begin(self) -> None:
        self._fenced()
        if self._batches is not None:
            raise ProgrammingError("a transaction is already open")
        self._batches = []

    def produce(self, topic: str, records: Sequence[OutRecord]) -> None:
        if self._batches is None:
            raise ProgrammingError("no open transaction: call begin() first")
        with self._log._changed:
            self._log._check(topic, records)
        if records:
            self._batches.append((topic, list(records)))

    def commit(self) -> None:
        if self._batches is None:
            raise ProgrammingError("no open transaction to commit")
        batches, self._batches = self._batches, None
        self._log._commit(self, batches)

    def abort(self) -> None:
        self._batches = None

    def close(self) -> None:
        self._batches = None
