"""The messaging layer's one interface: a partitioned, append-only log.

Two implementations run the same operator code:

* :class:`pycql.log.memory.MemoryLog`, the embedded in-process default;
* :class:`pycql.log.kafka.KafkaLog`, Apache Kafka through confluent-kafka.

Everything here moves in batches: ``produce`` takes a list of records and
``LogReader.poll`` returns a list, so the per-record cost stays in C (Kafka) or
in list operations (memory).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from itertools import compress
from operator import itemgetter
from typing import Any, Literal, NamedTuple

from pycql.errors import OperationalError

#: Where a reader starts: the first record, the end (only new records), an
#: epoch-millisecond timestamp (the first record at or after it), or explicit
#: offsets per partition (keyed by partition number for every topic, or by
#: ``(topic, partition)``); partitions a dict leaves out start at the earliest.
StartAt = Literal["earliest", "latest"] | int | dict[int, int] | dict[tuple[str, int], int]


def explicit_start(start: StartAt, topic: str, partition: int) -> int | None:
    """The offset an explicit-offsets ``start`` gives ``(topic, partition)``, else None.

    >>> explicit_start({0: 5}, "S", 0), explicit_start({("S", 1): 7}, "S", 1)
    (5, 7)
    >>> explicit_start({0: 5}, "S", 1) is None
    True
    """
    if not isinstance(start, dict):
        return None
    by_pair = start.get((topic, partition))  # type: ignore[call-overload]
    if by_pair is not None:
        return int(by_pair)
    by_partition = start.get(partition)  # type: ignore[call-overload]
    return None if by_partition is None else int(by_partition)


class Record(NamedTuple):
    """One record read from a topic."""

    topic: str
    partition: int
    offset: int
    timestamp_ms: int
    key: bytes | None
    value: bytes | None


@dataclass(frozen=True)
class BatchFields:
    """How a :class:`RecordBatch` reads its items: one function per field, each turning
    the whole list of items into that field's list (C-level ``map`` passes), and
    ``record``, which makes one :class:`Record` of an item."""

    topics: Callable[[list[Any]], list[str]]
    partitions: Callable[[list[Any]], list[int]]
    offsets: Callable[[list[Any]], list[int]]
    timestamps: Callable[[list[Any]], list[int]]
    keys: Callable[[list[Any]], list[bytes | None]]
    values: Callable[[list[Any]], list[bytes | None]]
    record: Callable[[Any], Record]


def _field_of_records(index: int) -> Callable[[list[Any]], list[Any]]:
    pick = itemgetter(index)
    return lambda items: list(map(pick, items))


RECORD_FIELDS = BatchFields(
    _field_of_records(0), _field_of_records(1), _field_of_records(2), _field_of_records(3),
    _field_of_records(4), _field_of_records(5), record=lambda record: record,
)

class RecordBatch:
    """The records of one poll, read a field at a time: no :class:`Record` per record.

    ``items`` are whatever the log holds (records, or confluent-kafka's messages),
    read by ``fields``; each field's list is made once, on first use, so a
    query pays only for the fields it reads. ``topic`` (``partition``) is the one
    topic (partition) of every record when the reader knows it, else None.

    >>> batch = RecordBatch.of_records([Record("S", 0, 7, 1000, None, b"{}")])
    >>> len(batch), batch.offsets, batch.values, batch.record(0).offset
    (1, [7], [b'{}'], 7)
    """

    __slots__ = ("_fields", "_made", "items", "partition", "topic")

    def __init__(self, items: list[Any], fields: BatchFields, topic: str | None = None,
                 partition: int | None = None) -> None:
        self.items = items
        self._fields = fields
        self.topic = topic
        self.partition = None if topic is None else partition
        self._made: dict[str, list[Any]] = {}

    @classmethod
    def of_records(cls, records: list[Record]) -> RecordBatch:
        return cls(records, RECORD_FIELDS)

    def __len__(self) -> int:
        return len(self.items)

    def _field(self, name: str) -> list[Any]:
        made = self._made.get(name)
        if made is None:
            made = self._made[name] = getattr(self._fields, name)(self.items)
        return made

    @property
    def topics(self) -> list[str]:
        if self.topic is not None:
            return [self.topic] * len(self.items)
        return self._field("topics")

    @property
    def partitions(self) -> list[int]:
        if self.partition is not None:
            return [self.partition] * len(self.items)
        return self._field("partitions")

    @property
    def offsets(self) -> list[int]:
        return self._field("offsets")

    @property
    def timestamps(self) -> list[int]:
        return self._field("timestamps")

    @property
    def keys(self) -> list[bytes | None]:
        return self._field("keys")

    @property
    def values(self) -> list[bytes | None]:
        return self._field("values")

    def record(self, index: int) -> Record:
        """Record number ``index`` (for dead letters and other rare paths)."""
        return self._fields.record(self.items[index])

    def records(self) -> list[Record]:
        return list(map(self._fields.record, self.items))

    def select(self, keep: Sequence[bool]) -> RecordBatch:
        """The records where ``keep`` is true, in order (fields already made are kept)."""
        out = RecordBatch(list(compress(self.items, keep)), self._fields, self.topic,
                          self.partition)
        for name, made in self._made.items():
            out._made[name] = list(compress(made, keep))
        return out


class OutRecord(NamedTuple):
    """One record to append. ``partition=None`` lets the log choose (by key hash)."""

    value: bytes | None
    key: bytes | None = None
    timestamp_ms: int | None = None
    partition: int | None = None


@dataclass(frozen=True)
class TopicSpec:
    """How a topic is created."""

    name: str
    partitions: int = 1
    compacted: bool = False


#: Which partitions a reader reads of some of its topics (``{topic: [partition, ...]}``).
Partitions = Mapping[str, Sequence[int]]


def selected(topic: str, count: int, partitions: Partitions | None) -> list[int]:
    """The partitions of ``topic`` (which has ``count``) that ``partitions`` selects.

    >>> selected("S", 3, None), selected("S", 3, {"S": [2, 0]}), selected("T", 2, {"S": [1]})
    ([0, 1, 2], [0, 2], [0, 1])
    """
    if partitions is None or topic not in partitions:
        return list(range(count))
    return sorted(p for p in set(partitions[topic]) if 0 <= p < count)


class GroupMembership(ABC):
    """One member of a consumer group: which partitions of the group's topic it owns now.

    Ownership changes as members join and leave (Kafka's group protocol, or
    the in-process log's own); :meth:`poll` must be called regularly, it is
    also the member's sign of life.
    """

    @abstractmethod
    def poll(self) -> set[int]:
        """Keep the membership alive and return the partitions owned now (never blocks
        for long)."""

    @abstractmethod
    def close(self) -> None:
        """Leave the group (its partitions go to the other members at once)."""


class Fenced(OperationalError):
    """A newer producer with the same transactional id took over: this one may not write."""


class NotWriter(OperationalError):
    """This process may not write the log: another process is its one writer (a database
    file, :mod:`pycql.log.file`). Reading goes on."""


class TransactionalProducer(ABC):
    """Writes records in transactions (Kafka's, or the in-process log's own).

    Between :meth:`begin` and :meth:`commit` nothing it produces is visible;
    :meth:`commit` makes all of it visible at once, :meth:`abort` none of it.
    Readers never see records of a transaction that is open or aborted.
    Creating a producer with the transactional id of another one *fences*
    the older one: its open transaction is aborted and its later calls raise
    :class:`Fenced` (a zombie task cannot write).
    """

    transactional_id: str
    #: whether it was made for a writer that calls :meth:`wait_visible` after its commits
    #: (a connection): the producer then keeps the newest offset each partition got, a
    #: cost per record the job layer's producers do not pay
    read_your_writes: bool = False

    @abstractmethod
    def begin(self) -> None:
        """Start a transaction."""

    @abstractmethod
    def produce(self, topic: str, records: Sequence[OutRecord]) -> None:
        """Add ``records`` to the open transaction."""

    @abstractmethod
    def commit(self) -> None:
        """Make the transaction's records visible, all at once (durable on return)."""

    @abstractmethod
    def abort(self) -> None:
        """Drop the open transaction's records: no reader ever sees them."""

    def wait_visible(self) -> None:  # noqa: B027 - optional hook
        """Return once the last committed transaction can be read by a new reader (its
        records before every reader's end offsets): at once where :meth:`commit` makes
        them visible itself, as the in-process logs do. Needs a producer made with
        ``read_your_writes``."""

    def flush(self) -> None:  # noqa: B027 - optional hook
        """Return once the open transaction's records are on the log (still invisible):
        at once where :meth:`produce` puts them there itself, as the in-process logs do."""

    def wait_settled(self, topic: str, partition: int) -> None:  # noqa: B027 - optional hook
        """Return once no transaction is open in ``topic``'s ``partition`` (a
        ``read_committed`` reader's end is the partition's end), up to the log's timeout:
        at once where commits and aborts take effect as they return, as the in-process
        logs' do."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release the producer (an open transaction is aborted)."""


class LogReader(ABC):
    """A cursor over one or more topics, all partitions, from a start point."""

    @abstractmethod
    def poll(self, max_records: int = 10_000, timeout: float = 0.1) -> list[Record]:
        """Return up to ``max_records`` records, waiting at most ``timeout`` seconds.

        Records of one partition come in offset order; an empty list means
        nothing arrived in time.
        """

    def poll_batch(self, max_records: int = 10_000, timeout: float = 0.1) -> RecordBatch:
        """:meth:`poll` as a :class:`RecordBatch` (a log may make one without records)."""
        return RecordBatch.of_records(self.poll(max_records, timeout))

    @abstractmethod
    def assignment(self) -> list[tuple[str, int]]:
        """The (topic, partition) pairs this reader reads."""

    @abstractmethod
    def end_offsets(self, fresh: bool = True) -> dict[tuple[str, int], int]:
        """The current end (next offset to be written) of every assigned partition.

        ``fresh=False`` allows a recently known value (Kafka: the end the last
        fetch reported) instead of asking the broker now.
        """

    @abstractmethod
    def position(self) -> dict[tuple[str, int], int]:
        """The next offset this reader will return, per assigned partition."""

    @property
    def stalled(self) -> bool:
        """Whether the log is unreachable now (a broker outage): then nothing read is
        known to be the end, and no partition may count as idle."""
        return False

    @abstractmethod
    def close(self) -> None:
        """Release the reader; it cannot be used afterwards."""

    def __enter__(self) -> LogReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Log(ABC):
    """A set of named, partitioned topics."""

    @abstractmethod
    def create_topic(self, spec: TopicSpec, *, exist_ok: bool = True) -> None:
        """Create a topic; an existing one is left alone when ``exist_ok``."""

    @abstractmethod
    def delete_topic(self, name: str) -> None:
        """Delete a topic and its records."""

    @abstractmethod
    def topics(self) -> list[str]:
        """Names of the existing topics."""

    @abstractmethod
    def partitions(self, topic: str) -> int:
        """How many partitions ``topic`` has."""

    @abstractmethod
    def produce(self, topic: str, records: Sequence[OutRecord]) -> None:
        """Append ``records`` to ``topic`` and return once they are durable."""

    @abstractmethod
    def reader(self, topics: Sequence[str], start: StartAt = "earliest",
               partitions: Partitions | None = None) -> LogReader:
        """A reader over every partition of ``topics``, starting at ``start``.

        ``partitions`` limits it to some partitions of some topics
        (``{topic: [0, 2]}``); topics it does not name are read whole.
        """

    @abstractmethod
    def transactional_producer(self, transactional_id: str, *,
                               read_your_writes: bool = False) -> TransactionalProducer:
        """A producer writing in transactions as ``transactional_id`` (fencing any older
        producer of that id; see :class:`TransactionalProducer`; ``read_your_writes``:
        its :meth:`~TransactionalProducer.wait_visible` will be called)."""

    @abstractmethod
    def group(self, group_id: str, topic: str,
              instance_id: str | None = None) -> GroupMembership:
        """Join the consumer group ``group_id`` as a new member that shares the
        partitions of ``topic`` with the group's other members. ``instance_id`` makes
        it a *static* member (Kafka's ``group.instance.id``): a member that comes back
        under the same id within the session timeout gets its partitions back at once,
        with no rebalance; it does not leave the group when it closes."""

    def close(self) -> None:  # noqa: B027 - optional hook, deliberately not abstract
        """Release connections; the default has none."""

    def __enter__(self) -> Log:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
