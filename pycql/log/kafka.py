"""Apache Kafka as pycql's log, through confluent-kafka (librdkafka).

>>> log = KafkaLog("127.0.0.1:9092")                       # doctest: +SKIP
>>> log.create_topic(TopicSpec("S", partitions=4))         # doctest: +SKIP
>>> log.produce("S", [OutRecord(b'{"A": 1}')])             # doctest: +SKIP
>>> with log.reader(["S"], start="earliest") as reader:    # doctest: +SKIP
...     records = reader.poll(max_records=10_000, timeout=1.0)

* Topics are created and deleted explicitly (the local broker disables
  auto-creation); a compacted topic gets ``cleanup.policy=compact``.
* The producer batches (``linger.ms``), is idempotent (no duplicates or
  reordering on retries) and partitions keys like Kafka's Java clients
  (``murmur2_random``), so :class:`~pycql.log.memory.MemoryLog` agrees on
  the partition of every key.
* Readers ``assign`` partitions (no consumer group, nothing committed) at
  concrete offsets resolved when the reader is made.
* A broker that does not answer raises :class:`~pycql.errors.OperationalError`
  within ``timeout`` seconds (default 10), naming the address.
* A reader never blocks longer than its ``poll`` timeout, even while the
  broker is down or stalled: it returns nothing, watches the broker without
  waiting for it (an asynchronous probe) and goes on by itself when the
  broker is back. Only a broker lost for longer than ``outage_timeout``
  seconds (default 60) makes ``poll`` raise ``OperationalError``.
* A bad setting (an unknown librdkafka property, a value it rejects, a
  ``timeout`` that is not a number) raises :class:`~pycql.errors.InterfaceError`
  naming the option and the value, before any connection is tried.

Extra librdkafka settings go to every client: ``KafkaLog(bootstrap,
**{"linger.ms": 20})`` or, with underscores for dots, ``KafkaLog(bootstrap,
linger_ms=20)``.
"""

from __future__ import annotations

import concurrent.futures
import logging
import threading
import time
import uuid
from collections.abc import Sequence
from operator import itemgetter
from typing import Any

from confluent_kafka import (
    Consumer,
    KafkaError,
    KafkaException,
    Message,
    Producer,
    TopicPartition,
)
from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic  # type: ignore[attr-defined]

from pycql.errors import InterfaceError, OperationalError, ProgrammingError
from pycql.log.base import (
    BatchFields,
    Fenced,
    GroupMembership,
    Log,
    LogReader,
    OutRecord,
    Partitions,
    Record,
    RecordBatch,
    StartAt,
    TopicSpec,
    TransactionalProducer,
    explicit_start,
    selected,
)

__all__ = ["KafkaGroupMember", "KafkaLog", "KafkaReader", "KafkaTransactionalProducer"]

#: librdkafka's own log lines go to this logger (silent unless the
#: application configures logging).
client_logger = logging.getLogger("pycql.log.kafka.client")
client_logger.addHandler(logging.NullHandler())
client_logger.propagate = False

_START_HINT = "is the broker running? start one with `python -m pycql.kafka start`"

#: Error codes meaning "the broker is not reachable" rather than a bad request.
_UNREACHABLE = {
    KafkaError._ALL_BROKERS_DOWN,
    KafkaError._TRANSPORT,
    KafkaError._TIMED_OUT,
    KafkaError._RESOLVE,
    KafkaError._MSG_TIMED_OUT,
    KafkaError.REQUEST_TIMED_OUT,
}

# Errors of a partition whose leadership the broker (or the client's metadata, just after
# a broker start) is still loading.
_NOT_READY_YET = {
    KafkaError._UNKNOWN_PARTITION,
    KafkaError.NOT_LEADER_FOR_PARTITION,
    KafkaError.LEADER_NOT_AVAILABLE,
    KafkaError.UNKNOWN_TOPIC_OR_PART,
}


# Message accessors for map(): the batch is converted field by field in C.
_error_of = Message.error
_topic_of = Message.topic
_partition_of = Message.partition
_offset_of = Message.offset
_timestamp_of = Message.timestamp


def _kafka_timestamp(timestamp_ms: int | None) -> int:
    """The CreateTime to produce a record with: librdkafka reads ``0`` as "now", so
    ``None`` (the log chooses) is ``0``, and instant 0 itself (a relation's rows before
    any input, see :class:`pycql.jobs.task.Task`) is written as 1 ms, the earliest
    instant Kafka keeps as given; stamped with the wall clock instead, those rows would
    come after input stamped earlier than the moment they were written."""
    if timestamp_ms is None:
        return 0
    return timestamp_ms or 1


#: batching, partitioning and compression of both producers (the log's and the
#: transactional ones); the client options of the log's URL go over them
_PRODUCER_CONFIG: dict[str, Any] = {
    "linger.ms": 5,
    "batch.size": 1_000_000,
    "queue.buffering.max.messages": 1_000_000,
    "queue.buffering.max.kbytes": 1_048_576,
    "partitioner": "murmur2_random",
    "compression.type": "lz4",
}


def _send_all(producer: Producer, topic: str, records: Sequence[OutRecord]) -> None:
    """Hand ``records`` to ``producer`` (waiting while its local queue is full)."""
    send = producer.produce
    for value, key, timestamp_ms, partition in records:
        while True:
            try:  # every argument by position: parsing a keyword costs ~0.5 us a record
                send(topic, value, key, -1 if partition is None else partition,
                     None, None, _kafka_timestamp(timestamp_ms))
                break
            except BufferError:  # the local queue is full: let it drain
                producer.poll(0.01)


_key_of = Message.key
_value_of = Message.value
_SECOND = itemgetter(1)


def _record_of(message: Message) -> Record:
    return Record(message.topic(), message.partition(), message.offset(),  # type: ignore[arg-type]
                  message.timestamp()[1], message.key(), message.value())


#: A batch of messages read a field at a time, each field in one C-level pass.
MESSAGE_FIELDS = BatchFields(
    topics=lambda ms: list(map(_topic_of, ms)),  # type: ignore[arg-type]
    partitions=lambda ms: list(map(_partition_of, ms)),  # type: ignore[arg-type]
    offsets=lambda ms: list(map(_offset_of, ms)),  # type: ignore[arg-type]
    timestamps=lambda ms: list(map(_SECOND, map(_timestamp_of, ms))),
    keys=lambda ms: list(map(_key_of, ms)),
    values=lambda ms: list(map(_value_of, ms)),
    record=_record_of,
)


#: How often (seconds) a reader that lost the broker asks whether it is back.
_PROBE_INTERVAL_S = 0.5


def _config_key(name: str) -> str:
    return name if "." in name else name.replace("_", ".")


def seconds_option(name: str, value: object) -> float:
    """A positive number of seconds given as a number or a numeric string (URL options);
    anything else is an :class:`InterfaceError` naming the option."""
    if isinstance(value, int | float | str) and not isinstance(value, bool):
        try:
            seconds = float(value)
        except ValueError:
            pass
        else:
            if 0 < seconds < float("inf"):
                return seconds
    raise InterfaceError(
        f"bad connection option {name}={value!r}: it must be a number of seconds > 0"
    )


def _whole(name: str, value: object) -> int:
    if isinstance(value, int | str) and not isinstance(value, bool):
        try:
            return int(value)
        except ValueError:
            pass
    raise InterfaceError(f"bad Kafka option {name}={value!r}: it must be a whole number")


def _bad_setting(options: dict[str, Any], error: object) -> InterfaceError:
    """The :class:`InterfaceError` for client settings librdkafka refused (``error``).

    librdkafka names the property by its canonical name (``linger.ms`` is
    ``queue.buffering.max.ms`` to it), so each option the user gave is tried
    alone on a client that never connects, to name the one at fault as written.
    """
    described = error.str() if isinstance(error, KafkaError) else str(error)
    for key, value in options.items():
        try:
            Producer({"logger": client_logger, _config_key(key): value})
        except (KafkaException, TypeError, ValueError) as exc:
            cause = exc.args[0] if exc.args else exc
            reason = cause.str() if isinstance(cause, KafkaError) else str(cause)
            return InterfaceError(f"bad Kafka client option {key}={value!r}: {reason.strip()}")
    return InterfaceError(f"bad Kafka client settings: {described.strip()}")


class KafkaLog(Log):
    """Topics of the Kafka cluster at ``bootstrap`` (``host:port[,host:port]``).

    The constructor checks that a broker answers, so a wrong address or a
    stopped broker fails here, within ``timeout`` seconds. ``outage_timeout``
    is how long a reader waits for a lost broker to come back before its
    ``poll`` raises (see the module docstring). Options may be strings (from
    a URL's query string); a bad one raises :class:`InterfaceError`.
    """

    def __init__(
        self,
        bootstrap: str,
        *,
        timeout: float | str = 10.0,
        outage_timeout: float | str = 60.0,
        replication_factor: int | str = -1,
        **client_config: Any,
    ) -> None:
        self.bootstrap = bootstrap
        self.timeout = seconds_option("timeout", timeout)
        self.outage_timeout = seconds_option("outage_timeout", outage_timeout)
        self.replication_factor = _whole("replication_factor", replication_factor)
        self._user_config = dict(client_config)
        self._client_config: dict[str, Any] = {
            "bootstrap.servers": bootstrap,
            "logger": client_logger,
            "log.connection.close": False,
            "socket.connection.setup.timeout.ms": max(1000, int(self.timeout * 1000)),
        }
        self._client_config.update({_config_key(k): v for k, v in client_config.items()})
        self._admin_client: AdminClient | None = self._client(AdminClient, self._client_config)
        self._producer: Producer | None = None
        self._producer_lock = threading.Lock()
        self._closed = False
        self._delivery_errors: list[KafkaError] = []
        self._partition_counts: dict[str, int] = {}
        # the broker probe readers share while the broker seems lost (_answered_since)
        self._probe_lock = threading.Lock()
        self._probe: concurrent.futures.Future[Any] | None = None
        self._probe_started = -float("inf")
        self._answered_at = -float("inf")
        self._metadata()  # fail now when no broker answers

    def _client(self, kind: Any, config: dict[str, Any]) -> Any:
        """A librdkafka client of ``kind``; refused settings become an InterfaceError."""
        try:
            return kind(dict(config))
        except KafkaException as exc:
            error = exc.args[0]
            if isinstance(error, KafkaError) and error.code() == KafkaError._INVALID_ARG:
                raise _bad_setting(self._user_config, error) from None
            raise
        except (TypeError, ValueError) as exc:  # a value of a type librdkafka cannot take
            raise _bad_setting(self._user_config, exc) from None

    @property
    def _admin(self) -> AdminClient:
        admin = self._admin_client
        if admin is None:
            raise OperationalError(f"the Kafka log at {self.bootstrap} is closed")
        return admin

    # -- errors --------------------------------------------------------------

    def _unreachable(self, doing: str, cause: object) -> OperationalError:
        return OperationalError(
            f"Kafka at {self.bootstrap} did not answer while {doing} "
            f"within {self.timeout:g} s ({cause}); {_START_HINT}"
        )

    def _error(self, doing: str, error: KafkaError) -> OperationalError:
        if error.code() in _UNREACHABLE:
            return self._unreachable(doing, error.str())
        return OperationalError(f"Kafka at {self.bootstrap}: {doing} failed: {error.str()}")

    def _metadata(self, topic: str | None = None) -> Any:
        doing = "reading metadata" if topic is None else f"reading metadata of topic {topic!r}"
        try:
            if topic is None:
                return self._admin.list_topics(timeout=self.timeout)
            return self._admin.list_topics(topic=topic, timeout=self.timeout)
        except KafkaException as exc:
            raise self._error(doing, exc.args[0]) from None

    def _answered_since(self, since: float) -> bool:
        """Whether the broker answered a request sent after ``since`` (``time.monotonic``).

        Never blocks: a probe (an asynchronous DescribeCluster) is started when
        none is on its way, at most every ``_PROBE_INTERVAL_S``, and its answer
        is looked at by a later call. Any answer, even an error the broker
        sent, means it is there.
        """
        with self._probe_lock:
            probe = self._probe
            if probe is not None and probe.done():
                self._probe = None
                failure = probe.exception()
                lost = isinstance(failure, KafkaException) and (
                    not failure.args
                    or not isinstance(failure.args[0], KafkaError)
                    or failure.args[0].code() in _UNREACHABLE
                    or failure.args[0].code() == KafkaError._DESTROY
                )
                if not lost:
                    self._answered_at = max(self._answered_at, self._probe_started)
            now = time.monotonic()
            if self._answered_at >= since:
                return True
            if (self._probe is None and self._admin_client is not None
                    and now - self._probe_started >= _PROBE_INTERVAL_S):
                try:
                    self._probe = self._admin_client.describe_cluster(
                        request_timeout=self.timeout)
                    self._probe_started = now
                except (KafkaException, RuntimeError):
                    self._probe_started = now  # try again later
            return False

    def _lost(self, doing: str, down_for: float, cause: object) -> OperationalError:
        return OperationalError(
            f"Kafka at {self.bootstrap} has not answered for {down_for:.0f} s while {doing} "
            f"({cause}; outage_timeout is {self.outage_timeout:g} s); {_START_HINT}. "
            "The query has stopped: execute it again once the broker is back, or connect "
            "with a larger outage_timeout to wait longer"
        )

    def _wait(self, future: concurrent.futures.Future[Any], doing: str) -> None:
        try:
            future.result(timeout=self.timeout + 1)
        except concurrent.futures.TimeoutError:
            raise self._unreachable(doing, "no answer") from None

    # -- topics --------------------------------------------------------------

    def create_topic(self, spec: TopicSpec, *, exist_ok: bool = True) -> None:
        if spec.partitions < 1:
            raise ProgrammingError(f"topic {spec.name!r} needs at least one partition")
        config = {"cleanup.policy": "compact"} if spec.compacted else {}
        new = NewTopic(
            spec.name,
            num_partitions=spec.partitions,
            replication_factor=self.replication_factor,
            config=config,
        )
        doing = f"creating topic {spec.name!r}"
        futures = self._admin.create_topics(
            [new], operation_timeout=self.timeout, request_timeout=self.timeout
        )
        try:
            self._wait(futures[spec.name], doing)
        except KafkaException as exc:
            error: KafkaError = exc.args[0]
            if error.code() == KafkaError.TOPIC_ALREADY_EXISTS:
                if exist_ok:
                    self._wait_for_topic(spec.name, present=True)
                    return
                raise ProgrammingError(f"topic {spec.name!r} already exists") from None
            if error.code() in (
                KafkaError.TOPIC_EXCEPTION,
                KafkaError.INVALID_PARTITIONS,
                KafkaError.INVALID_REPLICATION_FACTOR,
                KafkaError.INVALID_CONFIG,
                KafkaError.POLICY_VIOLATION,
            ):
                raise ProgrammingError(
                    f"cannot create topic {spec.name!r}: {error.str()}"
                ) from None
            raise self._error(doing, error) from None
        self._wait_for_topic(spec.name, present=True)
        self._partition_counts[spec.name] = spec.partitions

    def delete_topic(self, name: str) -> None:
        doing = f"deleting topic {name!r}"
        futures = self._admin.delete_topics([name], operation_timeout=self.timeout)
        try:
            self._wait(futures[name], doing)
        except KafkaException as exc:
            error: KafkaError = exc.args[0]
            if error.code() == KafkaError.UNKNOWN_TOPIC_OR_PART:
                raise ProgrammingError(f"topic {name!r} does not exist") from None
            raise self._error(doing, error) from None
        self._partition_counts.pop(name, None)
        self._wait_for_topic(name, present=False)

    def _wait_for_topic(self, name: str, *, present: bool) -> None:
        """Wait until the broker's metadata shows ``name`` ready (or gone)."""
        deadline = time.monotonic() + self.timeout
        while True:
            topic = self._metadata().topics.get(name)
            ready = (
                topic is not None
                and topic.error is None
                and bool(topic.partitions)
                and all(p.leader >= 0 for p in topic.partitions.values())
            )
            if ready == present:
                return
            if time.monotonic() > deadline:
                state = "ready" if present else "gone"
                raise OperationalError(
                    f"Kafka at {self.bootstrap}: topic {name!r} was not {state} "
                    f"after {self.timeout:g} s"
                )
            time.sleep(0.05)

    def topics(self) -> list[str]:
        metadata = self._metadata()
        return sorted(name for name in metadata.topics if not name.startswith("__"))

    def partitions(self, topic: str) -> int:
        metadata = self._metadata(topic)
        found = metadata.topics.get(topic)
        if found is None or found.error is not None:
            if found is not None and found.error.code() != KafkaError.UNKNOWN_TOPIC_OR_PART:
                raise self._error(f"reading topic {topic!r}", found.error)
            raise ProgrammingError(f"topic {topic!r} does not exist")
        count = len(found.partitions)
        self._partition_counts[topic] = count
        return count

    def spec(self, topic: str) -> TopicSpec:
        """How ``topic`` is set up: its partitions and whether it is compacted."""
        partitions = self.partitions(topic)
        resource = ConfigResource(ConfigResource.Type.TOPIC, topic)
        futures = self._admin.describe_configs([resource], request_timeout=self.timeout)
        try:
            configs = futures[resource].result(timeout=self.timeout + 1)
        except concurrent.futures.TimeoutError:
            raise self._unreachable(f"describing topic {topic!r}", "no answer") from None
        except KafkaException as exc:
            raise self._error(f"describing topic {topic!r}", exc.args[0]) from None
        policy = configs["cleanup.policy"].value or ""
        return TopicSpec(topic, partitions, compacted="compact" in policy.split(","))

    # -- producing -----------------------------------------------------------

    def _get_producer(self) -> Producer:
        with self._producer_lock:
            if self._closed:
                raise OperationalError(f"the Kafka log at {self.bootstrap} is closed")
            if self._producer is None:
                config = {
                    **_PRODUCER_CONFIG,
                    "enable.idempotence": True,
                    "message.timeout.ms": max(1000, int(self.timeout * 1000)),
                }
                config.update(self._client_config)
                config["on_delivery"] = self._on_delivery
                config["delivery.report.only.error"] = True  # it needs the failures only
                self._producer = self._client(Producer, config)
            return self._producer

    def _on_delivery(self, error: KafkaError | None, _message: Any) -> None:
        if error is not None:
            self._delivery_errors.append(error)

    def produce(self, topic: str, records: Sequence[OutRecord]) -> None:
        if not records:
            return
        count = self._partition_counts.get(topic)
        if count is None:
            count = self.partitions(topic)  # raises ProgrammingError when unknown
        for record in records:
            if record.partition is not None and not 0 <= record.partition < count:
                raise ProgrammingError(
                    f"topic {topic!r} has no partition {record.partition} (it has {count})"
                )
        producer = self._get_producer()
        try:
            _send_all(producer, topic, records)
        except KafkaException as exc:
            raise self._error(f"producing to topic {topic!r}", exc.args[0]) from None
        remaining = producer.flush(self.timeout + 2)
        if self._delivery_errors:
            error = self._delivery_errors[0]
            self._delivery_errors.clear()
            raise self._error(f"producing to topic {topic!r}", error)
        if remaining:
            raise self._unreachable(
                f"producing to topic {topic!r}", f"{remaining} records undelivered"
            )

    # -- reading -------------------------------------------------------------

    def reader(self, topics: Sequence[str], start: StartAt = "earliest",
               partitions: Partitions | None = None) -> KafkaReader:
        chosen = {name: selected(name, self.partitions(name), partitions) for name in topics}
        return KafkaReader(self, chosen, start)

    def transactional_producer(self, transactional_id: str, *,
                               read_your_writes: bool = False) -> KafkaTransactionalProducer:
        return KafkaTransactionalProducer(self, transactional_id, read_your_writes)

    def group(self, group_id: str, topic: str,
              instance_id: str | None = None) -> KafkaGroupMember:
        """A member of the Kafka consumer group ``group_id`` subscribed to ``topic``
        (cooperative-sticky assignment: a rebalance moves only the partitions it must;
        ``instance_id``: a static member, see :meth:`Log.group`)."""
        return KafkaGroupMember(self, group_id, topic, instance_id)

    def close(self) -> None:
        """Flush and release the producer and the admin client (once): no librdkafka
        thread of this log outlives it. Readers are closed by their owners."""
        with self._producer_lock:
            if self._closed:
                return
            self._closed = True
            producer, self._producer = self._producer, None
        try:
            if producer is not None:
                producer.flush(self.timeout)
        finally:
            with self._probe_lock:
                self._probe = None
                self._admin_client = None  # destroyed with its last reference


class KafkaReader(LogReader):
    """Reads every partition of some topics from concrete start offsets."""

    def __init__(self, log: KafkaLog, partitions: dict[str, list[int]], start: StartAt) -> None:
        self._log = log
        #: the last error event saying the broker is unreachable, and since when
        #: (``time.monotonic``) nothing has shown it back
        self._trouble: KafkaError | None = None
        self._trouble_since: float | None = None
        #: the newest end offset known per partition (for ``end_offsets(fresh=False)``)
        self._known_ends: dict[tuple[str, int], int] = {}
        config = dict(log._client_config)
        config.update(
            {
                "group.id": f"pycql-reader-{uuid.uuid4().hex}",
                "enable.auto.commit": False,
                "enable.auto.offset.store": False,
                "auto.offset.reset": "earliest",
                "enable.partition.eof": False,
                "fetch.wait.max.ms": 100,
                "queued.min.messages": 200_000,
                # librdkafka pauses fetching this long whenever its queue is full: its
                # default of 1 s left a fast reader idle (Nexmark q2 210k -> 450k rec/s)
                "fetch.queue.backoff.ms": 1,
                # only committed transactions: an aborted write never reaches a query
                "isolation.level": "read_committed",
                "error_cb": self._on_error,
            }
        )
        self._consumer: Consumer = log._client(Consumer, config)
        self._pairs = [
            (topic, partition)
            for topic, numbers in partitions.items()
            for partition in numbers
        ]
        # the one topic (and partition) of every batch, when the reader reads only one
        topics = {topic for topic, _ in self._pairs}
        self._topic = next(iter(topics)) if len(topics) == 1 else None
        self._partition = self._pairs[0][1] if len(self._pairs) == 1 else None
        try:
            self._positions = self._resolve(start)
            self._consumer.assign(
                [TopicPartition(t, p, offset) for (t, p), offset in self._positions.items()]
            )
        except BaseException:
            self._consumer.close()
            raise
        self._closed = False

    def _on_error(self, error: KafkaError) -> None:
        if error.fatal() or error.code() in _UNREACHABLE:
            self._trouble = error
            if self._trouble_since is None:
                self._trouble_since = time.monotonic()

    def _heard_from_broker(self) -> None:
        self._trouble = None
        self._trouble_since = None

    def _cached_end(self, pair: tuple[str, int]) -> int:
        """The end of ``pair`` the last fetch reported, else the newest one known.

        Never asks the broker, so it cannot block while the broker is lost.
        """
        known = self._known_ends.get(pair, self._positions.get(pair, 0))
        try:
            marks = self._consumer.get_watermark_offsets(TopicPartition(*pair), cached=True)
        except KafkaException:
            return known
        if marks is None or marks[1] < 0:
            return known
        end = max(int(marks[1]), known)
        self._known_ends[pair] = end
        return end

    def _watermarks(self, topic: str, partition: int) -> tuple[int, int]:
        """The low and high watermarks of a partition, from the broker (at most
        ``timeout`` seconds, then ``OperationalError``)."""
        deadline = time.monotonic() + self._log.timeout
        while True:
            try:
                marks = self._consumer.get_watermark_offsets(
                    TopicPartition(topic, partition), timeout=self._log.timeout
                )
                break
            except KafkaException as exc:
                error: KafkaError = exc.args[0]
                # Just after a topic is created its partition may not be led yet: retry.
                if error.code() in _NOT_READY_YET and time.monotonic() < deadline:
                    time.sleep(0.05)
                    continue
                raise self._failure(f"reading offsets of {topic}[{partition}]", error) from None
        low, high = int(marks[0]), int(marks[1])
        pair = (topic, partition)
        self._known_ends[pair] = max(high, self._known_ends.get(pair, high))
        return low, high

    def _failure(self, doing: str, error: KafkaError) -> OperationalError:
        """The error to raise for ``error``; local errors often hide a lost broker."""
        if error.code() not in _UNREACHABLE:
            try:
                self._consumer.list_topics(timeout=self._log.timeout)
            except KafkaException as probe:
                return self._log._error(doing, probe.args[0])
        return self._log._error(doing, error)

    def _resolve(self, start: StartAt) -> dict[tuple[str, int], int]:
        marks = {pair: self._watermarks(*pair) for pair in self._pairs}
        if start == "earliest":
            return {pair: low for pair, (low, _) in marks.items()}
        if start == "latest":
            return {pair: high for pair, (_, high) in marks.items()}
        if isinstance(start, dict):
            positions = {}
            for pair, (low, high) in marks.items():
                offset = explicit_start(start, *pair)
                positions[pair] = low if offset is None else min(max(offset, low), high)
            return positions
        if isinstance(start, int) and not isinstance(start, bool):
            wanted = [TopicPartition(t, p, start) for t, p in self._pairs]
            try:
                found = self._consumer.offsets_for_times(wanted, timeout=self._log.timeout)
            except KafkaException as exc:
                raise self._log._error("looking up offsets by time", exc.args[0]) from None
            positions = {}
            for tp in found:
                pair = (tp.topic, tp.partition)
                # -1: no record at or after the time, so start at the end.
                positions[pair] = tp.offset if tp.offset >= 0 else marks[pair][1]
            return positions
        raise ProgrammingError(f"a reader cannot start at {start!r}")

    def poll(self, max_records: int = 10_000, timeout: float = 0.1) -> list[Record]:
        return self.poll_batch(max_records, timeout).records()

    def poll_batch(self, max_records: int = 10_000, timeout: float = 0.1) -> RecordBatch:
        """The messages of one consume as a :class:`RecordBatch`: no record is made per
        message; the runner reads the fields it needs straight from the messages."""
        messages = self._consume(max_records, timeout)
        batch = RecordBatch(messages, MESSAGE_FIELDS, self._topic, self._partition)
        if messages:
            self._note_positions(batch)
        return batch

    def _consume(self, max_records: int, timeout: float) -> list[Message]:
        if self._closed:
            raise OperationalError("the reader is closed")
        consumer = self._consumer
        try:
            messages = consumer.consume(max_records, 0)
            if not messages:
                first = consumer.poll(timeout)
                if first is not None:
                    messages = [first]
                    if max_records > 1:
                        messages.extend(consumer.consume(max_records - 1, 0))
        except KafkaException as exc:
            error = exc.args[0]
            if not (isinstance(error, KafkaError) and error.code() in _UNREACHABLE):
                raise self._log._error("reading", error) from None
            self._on_error(error)  # a lost broker: wait for it (_check_broker)
            messages = []
        if messages and any(map(_error_of, messages)):
            messages = self._without_errors(messages)
        if not messages:
            self._check_broker()
            return []
        self._heard_from_broker()
        return messages

    def _note_positions(self, batch: RecordBatch) -> None:
        """A partition's messages come in offset order: the last one is the newest."""
        positions = self._positions
        if batch.partition is not None and batch.topic is not None:
            positions[(batch.topic, batch.partition)] = batch.items[-1].offset() + 1
            return
        newest = dict(zip(zip(batch.topics, batch.partitions, strict=True), batch.offsets,
                          strict=True))
        for pair, offset in newest.items():
            positions[pair] = offset + 1

    def _without_errors(self, messages: list[Message]) -> list[Message]:
        """The messages without error events; a lost broker is noted, other errors raise."""
        kept = []
        for message in messages:
            error = message.error()
            if error is None:
                kept.append(message)
            elif error.code() in _UNREACHABLE and not error.fatal():
                self._on_error(error)
            else:
                where = f"{message.topic()}[{message.partition()}]"
                raise self._log._error(f"reading {where}", error)
        return kept

    def _check_broker(self) -> None:
        """After an error event saying the broker is unreachable: never wait for it.

        While ``outage_timeout`` has not passed, ask (without blocking) whether
        it answers again and return; librdkafka reconnects by itself and the
        reader goes on where it was. Past it, raise ``OperationalError``.
        """
        trouble = self._trouble
        since = self._trouble_since
        if trouble is None or since is None:
            return
        if trouble.fatal():
            raise self._log._error("reading", trouble)
        if self._log._answered_since(since):
            self._heard_from_broker()
            return
        down_for = time.monotonic() - since
        if down_for > self._log.outage_timeout:
            raise self._log._lost("reading", down_for, trouble.str())

    def assignment(self) -> list[tuple[str, int]]:
        return list(self._pairs)

    @property
    def stalled(self) -> bool:
        return self._trouble is not None

    def end_offsets(self, fresh: bool = True) -> dict[tuple[str, int], int]:
        """The high watermarks. ``fresh=True`` asks the broker (up to ``timeout``
        seconds, then ``OperationalError``); ``fresh=False`` never waits: the end
        the last fetch reported, else the newest one known (see :meth:`_cached_end`)."""
        if not fresh:
            return {pair: self._cached_end(pair) for pair in self._pairs}
        return {pair: self._watermarks(*pair)[1] for pair in self._pairs}

    def position(self) -> dict[tuple[str, int], int]:
        """The next offset per partition. Past the end of a transaction (its commit or
        abort marker, aborted records) the consumer moves on without returning a record,
        so its own position is taken where it is further."""
        positions = self._positions
        try:
            known = self._consumer.position([TopicPartition(t, p) for t, p in self._pairs])
        except KafkaException:
            return dict(positions)
        for tp in known:
            pair = (tp.topic, tp.partition)
            if tp.offset > positions.get(pair, 0):
                positions[pair] = tp.offset
        return dict(positions)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._consumer.close()


class KafkaGroupMember(GroupMembership):
    """A member of a Kafka consumer group, owning some partitions of one topic.

    It subscribes and never reads: the partitions it is assigned say which
    tasks it runs (``pycql.jobs``). A member that stops calling :meth:`poll`
    for ``session.timeout.ms`` (10 s) is dropped by the group coordinator and
    its partitions move to the other members.
    """

    def __init__(self, log: KafkaLog, group_id: str, topic: str,
                 instance_id: str | None = None) -> None:
        self.group_id = group_id
        self.topic = topic
        self._owned: set[int] = set()
        config = dict(log._client_config)
        config.update({
            "group.id": group_id,
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
            "partition.assignment.strategy": "cooperative-sticky",
            # the broker's smallest (group.min.session.timeout.ms): a worker killed
            # with -9 hands its tasks over after 6 s
            "session.timeout.ms": 6_000,
            "heartbeat.interval.ms": 1_000,
            "enable.partition.eof": False,
        })
        if instance_id is not None:
            config["group.instance.id"] = instance_id
        self._consumer: Consumer = log._client(Consumer, config)
        self._consumer.subscribe([topic], on_assign=self._assigned, on_revoke=self._revoked,
                                 on_lost=self._revoked)
        self._closed = False

    def _assigned(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        self._owned |= {tp.partition for tp in partitions if tp.topic == self.topic}

    def _revoked(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        self._owned -= {tp.partition for tp in partitions if tp.topic == self.topic}

    def poll(self) -> set[int]:
        if not self._closed:
            self._consumer.poll(0)  # serves the rebalance callbacks; nothing is written there
        return set(self._owned)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._owned.clear()
            self._consumer.close()


#: Error codes meaning a newer producer took the transactional id over.
_FENCED = {
    getattr(KafkaError, name) for name in
    ("_FENCED", "PRODUCER_FENCED", "INVALID_PRODUCER_EPOCH")
    if hasattr(KafkaError, name)
}


class KafkaTransactionalProducer(TransactionalProducer):
    """Kafka transactions (``transactional.id``): :meth:`begin`, :meth:`produce`,
    :meth:`commit` / :meth:`abort`. Creating one calls ``init_transactions``,
    which fences any older producer of the id and aborts its open transaction."""

    def __init__(self, log: KafkaLog, transactional_id: str,
                 read_your_writes: bool = False) -> None:
        self._log = log
        self.transactional_id = transactional_id
        self.read_your_writes = read_your_writes
        config = {**_PRODUCER_CONFIG, "transaction.timeout.ms": 60_000}
        config.update(log._client_config)
        config.update({"transactional.id": transactional_id, "enable.idempotence": True,
                       "on_delivery": self._on_delivery,
                       # a job's output: a report per failed record only (a callback per
                       # record cost 0.4-0.9 us each, in the commit's flush)
                       "delivery.report.only.error": not read_your_writes})
        self._errors: list[KafkaError] = []
        #: the newest offset the open (or last committed) transaction wrote, by partition
        self._written: dict[tuple[str, int], int] = {}
        self._committed: dict[tuple[str, int], int] = {}
        self._offsets: Consumer | None = None  # reads stable end offsets: wait_visible
        self._ends: Consumer | None = None  # reads high watermarks: wait_settled
        self._producer: Producer = log._client(Producer, config)
        self._open = False
        self._call("starting transactions", lambda: self._producer.init_transactions(
            log.timeout))

    def _on_delivery(self, error: KafkaError | None, message: Any) -> None:
        if error is not None:
            self._errors.append(error)
            return
        pair = (message.topic(), message.partition())
        offset = message.offset()
        if offset is not None and offset > self._written.get(pair, -1):
            self._written[pair] = offset

    def _call(self, doing: str, fn: Any) -> None:
        try:
            fn()
        except KafkaException as exc:
            error = exc.args[0] if exc.args else None
            if isinstance(error, KafkaError):
                raise self._failure(doing, error) from None
            raise OperationalError(f"Kafka: {doing} failed: {exc}") from None

    def _failure(self, doing: str, error: KafkaError) -> Exception:
        """The exception for ``error``: fencing (or any fatal producer error, which
        for a transactional producer is fencing found by the background thread first,
        surfacing in whichever call comes next) is :class:`Fenced`."""
        if error.code() in _FENCED or error.code() == KafkaError._FATAL or error.fatal():
            return Fenced(f"{doing} as {self.transactional_id!r}: {error.str()} "
                          "(a newer producer of this id took over)")
        if error.txn_requires_abort():
            self._abort_quietly()
            return OperationalError(
                f"Kafka at {self._log.bootstrap}: {doing} failed, the transaction "
                f"was aborted: {error.str()}")
        return self._log._error(doing, error)

    def _raise_delivery_error(self, doing: str) -> None:
        """Raise the first failed delivery of the transaction's records, if any."""
        if self._errors:
            error = self._errors[0]
            self._errors.clear()
            raise self._failure(doing, error)

    def _offset_reader(self, isolation: str) -> Consumer:
        """A consumer that only reads end offsets, at ``isolation``: a ``read_committed``
        one's end is a partition's last stable offset, a ``read_uncommitted`` one's its
        high watermark."""
        consumer: Consumer = self._log._client(Consumer, {
            **self._log._client_config, "group.id": f"pycql-offsets-{uuid.uuid4().hex}",
            "enable.auto.commit": False, "isolation.level": isolation})
        return consumer

    def _abort_quietly(self) -> None:
        try:
            self._producer.abort_transaction(self._log.timeout)
        except KafkaException:
            pass
        self._open = False

    def begin(self) -> None:
        self._call("beginning a transaction", self._producer.begin_transaction)
        self._open = True
        self._errors.clear()
        self._written = {}

    def produce(self, topic: str, records: Sequence[OutRecord]) -> None:
        try:
            _send_all(self._producer, topic, records)
        except KafkaException as exc:
            raise self._failure(f"producing to topic {topic!r}", exc.args[0]) from None

    def commit(self) -> None:
        self._call("committing a transaction",
                   lambda: self._producer.commit_transaction(self._log.timeout + 2))
        self._open = False
        self._raise_delivery_error("committing a transaction")
        self._committed, self._written = self._written, {}

    def wait_visible(self) -> None:
        """A commit returns before the broker writes the transaction's markers, and
        until then each partition's last stable offset (a ``read_committed`` reader's
        end) is before the transaction's records: wait (up to the log's timeout) until
        it passes the newest record the last commit wrote, so that a query started
        next reads the commit (read-your-writes)."""
        if not self._committed:
            return
        stable = self._offsets = self._offsets or self._offset_reader("read_committed")
        waiting = dict(self._committed)
        deadline = time.monotonic() + self._log.timeout
        while waiting:
            for pair, offset in list(waiting.items()):
                try:
                    _, end = stable.get_watermark_offsets(
                        TopicPartition(*pair), timeout=self._log.timeout)
                except KafkaException as exc:
                    raise self._log._error(f"reading offsets of {pair[0]}[{pair[1]}]",
                                           exc.args[0]) from None
                if end > offset:
                    del waiting[pair]
            if waiting:
                if time.monotonic() > deadline:
                    raise OperationalError(
                        f"Kafka at {self._log.bootstrap}: the transaction committed, but "
                        f"{len(waiting)} partition(s) did not show it within "
                        f"{self._log.timeout:g} s; a reader may not see it yet")
                time.sleep(0.005)
        self._committed = {}

    def flush(self) -> None:
        """Until every record produced is acknowledged: librdkafka adds a partition to
        the transaction only when it sends it records, and an abort drops the records not
        sent yet, so an abort right after a produce may write no marker there."""
        try:
            left = self._producer.flush(self._log.timeout)
        except KafkaException as exc:
            raise self._failure("sending a transaction's records", exc.args[0]) from None
        if left:
            raise OperationalError(
                f"Kafka at {self._log.bootstrap} did not take {left} record(s) of a "
                f"transaction within {self._log.timeout:g} s; is the broker running?")
        self._raise_delivery_error("sending a transaction's records")

    def wait_settled(self, topic: str, partition: int) -> None:
        """An abort (or commit) returns before the broker writes its markers: wait until
        the partition's last stable offset (the end of a ``read_committed`` reader) is
        its high watermark (the end of a ``read_uncommitted`` one)."""
        stable_reader = self._offsets = self._offsets or self._offset_reader("read_committed")
        ends = self._ends = self._ends or self._offset_reader("read_uncommitted")
        where = TopicPartition(topic, partition)
        deadline = time.monotonic() + self._log.timeout
        while True:
            try:
                _, stable = stable_reader.get_watermark_offsets(where, timeout=self._log.timeout)
                _, end = ends.get_watermark_offsets(where, timeout=self._log.timeout)
            except KafkaException as exc:
                raise self._log._error(f"reading offsets of {topic}[{partition}]",
                                       exc.args[0]) from None
            if stable >= end:
                return
            if time.monotonic() > deadline:
                raise OperationalError(
                    f"Kafka at {self._log.bootstrap}: {topic}[{partition}] still has an open "
                    f"transaction (records {stable} to {end}) after {self._log.timeout:g} s")
            time.sleep(0.005)

    def abort(self) -> None:
        if self._open:
            self._call("aborting a transaction",
                       lambda: self._producer.abort_transaction(self._log.timeout + 2))
        self._open = False

    def close(self) -> None:
        if self._open:
            self._abort_quietly()
        for consumer in (self._offsets, self._ends):
            if consumer is not None:
                consumer.close()
        self._offsets = self._ends = None
        try:
            self._producer.flush(0)
        except KafkaException:  # fenced: nothing of ours can be delivered any more
            pass
