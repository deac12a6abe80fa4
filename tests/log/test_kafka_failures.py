"""KafkaLog against a broker that is not there, and the local broker's own errors."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import pycql
from pycql.errors import InterfaceError, OperationalError
from pycql.kafka import LocalBroker, default_libs_dir, free_port_pair
from pycql.log import MemoryLog, OutRecord, TopicSpec, open_log
from pycql.log.kafka import KafkaLog


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_broker_down_fails_fast_with_advice() -> None:
    port = closed_port()
    started = time.monotonic()
    with pytest.raises(OperationalError) as raised:
        KafkaLog(f"127.0.0.1:{port}", timeout=2.0)
    elapsed = time.monotonic() - started
    assert elapsed < 5.0
    message = str(raised.value)
    assert f"127.0.0.1:{port}" in message
    assert "python -m pycql.kafka start" in message


def test_open_log_urls() -> None:
    assert isinstance(open_log(None), MemoryLog)
    assert isinstance(open_log("memory://"), MemoryLog)
    started = time.monotonic()
    with pytest.raises(OperationalError, match="did not answer"):
        open_log(f"kafka://127.0.0.1:{closed_port()}", timeout=2.0)
    assert time.monotonic() - started < 5.0
    with pytest.raises(InterfaceError, match="unknown log URL"):
        open_log("redis://localhost")
    with pytest.raises(InterfaceError, match="host:port"):
        open_log("kafka://")


@pytest.mark.kafka
def test_open_log_kafka_url(kafka_bootstrap: str) -> None:
    log = open_log(f"kafka://{kafka_bootstrap}", timeout=5.0, linger_ms=1)
    try:
        assert isinstance(log, KafkaLog)
        assert log.bootstrap == kafka_bootstrap
        assert isinstance(log.topics(), list)
    finally:
        log.close()


@pytest.mark.kafka
def test_session_broker_status(kafka_broker: LocalBroker) -> None:
    status = kafka_broker.status()
    assert status.running and status.pid is not None
    assert status.bootstrap == kafka_broker.bootstrap
    assert kafka_broker.log_file.stat().st_size > 0  # log4j2 writes the broker log
    command = [
        sys.executable,
        "-m",
        "pycql.kafka",
        "status",
        "--dir",
        str(kafka_broker.directory),
        "--port",
        str(kafka_broker.port),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert f"running (pid {status.pid}) at {kafka_broker.bootstrap}" in done.stdout


def test_status_of_an_empty_directory(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "pycql.kafka", "status", "--dir", str(tmp_path)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "not running" in done.stdout
    assert LocalBroker(tmp_path).stop() is False


def test_missing_jars_tell_how_to_build(tmp_path: Path) -> None:
    empty = tmp_path / "libs"
    empty.mkdir()
    broker = LocalBroker(tmp_path / "broker", closed_port(), libs=empty)
    with pytest.raises(OperationalError, match=r"mvn -B -q -f java/kafka-broker/pom.xml package"):
        broker.start(timeout=5)
    assert not broker.pid_file.exists()


def test_busy_port_is_reported(tmp_path: Path) -> None:
    libs = tmp_path / "libs"
    libs.mkdir()
    (libs / "kafka_2.13-0.0.jar").write_bytes(b"")  # passes the jar check only
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = int(taken.getsockname()[1])
        broker = LocalBroker(tmp_path / "broker", port, libs=libs)
        with pytest.raises(OperationalError, match=f"port {port} on 127.0.0.1 is in use"):
            broker.start(timeout=5)


@pytest.mark.kafka
def test_losing_the_broker_raises_instead_of_hanging(
    kafka_broker: LocalBroker, tmp_path: Path
) -> None:
    """A second, short-lived broker: stop it under a live log and reader."""
    port = closed_port()
    while not _free(port + 1):
        port = closed_port()
    broker = LocalBroker(tmp_path / "doomed", port, libs=kafka_broker.libs)
    broker.start(timeout=120)
    try:
        log = KafkaLog(broker.bootstrap, timeout=3.0, outage_timeout=3.0)
        log.create_topic(TopicSpec("T"))
        log.produce("T", [OutRecord(b"before")])
        reader = log.reader(["T"])
        assert [r.value for r in reader.poll(timeout=5.0)] == [b"before"]
    finally:
        assert broker.stop() is True
    assert not broker.status().running

    started = time.monotonic()
    with pytest.raises(OperationalError, match=r"python -m pycql\.kafka start"):
        log.produce("T", [OutRecord(b"after")])
    assert time.monotonic() - started < 10.0

    # a reader waits for a lost broker (never longer than each poll's timeout) and
    # gives up once it has been gone for outage_timeout
    started = time.monotonic()
    slowest = 0.0
    with pytest.raises(OperationalError, match=r"python -m pycql\.kafka start"):
        while time.monotonic() - started < 20.0:
            begun = time.monotonic()
            reader.poll(timeout=0.5)
            slowest = max(slowest, time.monotonic() - begun)
    assert 3.0 <= time.monotonic() - started < 10.0
    assert slowest < 1.0

    started = time.monotonic()
    with pytest.raises(OperationalError, match=r"python -m pycql\.kafka start"):
        reader.end_offsets()
    assert time.monotonic() - started < 10.0
    reader.close()


def _free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


# -- bad options: InterfaceError naming the option, before any broker is asked ------------


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("linger_ms=abc", "linger_ms='abc'"),
        ("connect_timeout=abc", "connect_timeout='abc'"),
        ("timeout=abc", "timeout='abc'"),
        ("timeout=-1", "timeout='-1'"),
        ("outage_timeout=0", "outage_timeout='0'"),
        ("enable_idempotence=maybe", "enable_idempotence='maybe'"),
        ("socket.timeout.ms=-5", "socket.timeout.ms='-5'"),
        ("no_such_thing=1", "no.such.thing"),  # unknown names stay an InterfaceError
    ],
)
def test_a_bad_option_in_a_kafka_url_is_an_interface_error(query: str, named: str) -> None:
    started = time.monotonic()
    with pytest.raises(pycql.InterfaceError) as raised:
        pycql.connect(f"kafka://127.0.0.1:{closed_port()}?{query}")
    assert time.monotonic() - started < 2.0  # no broker was waited for
    message = str(raised.value)
    assert named in message
    assert "unreachable" not in message and "Is it running" not in message


def test_bad_options_given_as_keywords() -> None:
    port = closed_port()
    with pytest.raises(pycql.InterfaceError, match=r"linger_ms=\[1\]"):
        pycql.connect(f"kafka://127.0.0.1:{port}", linger_ms=[1])
    with pytest.raises(pycql.InterfaceError, match="connect_timeout=True"):
        pycql.connect(f"kafka://127.0.0.1:{port}", connect_timeout=True)
    with pytest.raises(InterfaceError, match="replication_factor='x'"):
        KafkaLog(f"127.0.0.1:{port}", replication_factor="x")


def test_numeric_options_from_a_url_are_numbers() -> None:
    # "?timeout=1" used to reach librdkafka as the string '1' * 1000
    port = closed_port()
    started = time.monotonic()
    with pytest.raises(pycql.OperationalError, match=f"127.0.0.1:{port}") as raised:
        pycql.connect(f"kafka://127.0.0.1:{port}?timeout=1&linger_ms=2")
    assert time.monotonic() - started < 5.0
    assert "within 1 s" in str(raised.value)  # a broker that did not answer, not bad config
    assert "outside allowed range" not in str(raised.value)


# -- a stalled or lost broker under a running query ----------------------------------------


@pytest.fixture(scope="module")
def private_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalBroker]:
    """A broker of this module's own, to stop, pause and restart (never the session's)."""
    libs = default_libs_dir()
    if not any(libs.glob("kafka_2.13-*.jar")):
        pytest.fail(f"Kafka broker jars are missing from {libs}", pytrace=False)
    broker = LocalBroker(tmp_path_factory.mktemp("private-kafka"), free_port_pair(), libs=libs)
    broker.start(timeout=120)
    try:
        yield broker
    finally:
        pid = broker.status().pid
        if pid is not None:
            os.kill(pid, signal.SIGCONT)
        broker.stop()


#: fetchmany(timeout=...) may overrun its timeout by this much, whatever the broker does
SLACK_S = 0.5


def _timed_fetches(cur: pycql.Cursor, seconds: float, timeout: float = 1.0) -> list[float]:
    """fetchmany(timeout=...) over and over for ``seconds``: how long each call took."""
    took = []
    until = time.monotonic() + seconds
    while time.monotonic() < until:
        started = time.monotonic()
        assert cur.fetchmany(10, timeout=timeout) == []
        took.append(time.monotonic() - started)
    return took


def _fetch_until_rows(cur: pycql.Cursor, within: float) -> tuple[list[tuple[object, ...]], float]:
    """Rows as soon as some arrive (at most ``within`` seconds); the slowest fetch."""
    rows: list[tuple[object, ...]] = []
    slowest = 0.0
    until = time.monotonic() + within
    while not rows and time.monotonic() < until:
        started = time.monotonic()
        rows = cur.fetchmany(10, timeout=1.0)
        slowest = max(slowest, time.monotonic() - started)
    return rows, slowest


@pytest.mark.kafka
def test_fetch_timeouts_hold_while_the_broker_is_paused_and_the_query_goes_on(
    private_broker: LocalBroker,
) -> None:
    pid = private_broker.status().pid
    assert pid is not None
    url = f"kafka://{private_broker.bootstrap}?connect_timeout=5"
    with pycql.connect(url) as conn, pycql.connect(url) as writer:
        cur = conn.cursor()
        cur.execute("CREATE STREAM Paused (a INTEGER)")
        cur.execute("SELECT * FROM Paused")
        writer.execute("INSERT INTO Paused VALUES (1)")
        assert _fetch_until_rows(cur, 30)[0] == [(1,)]
        os.kill(pid, signal.SIGSTOP)  # the broker stalls: connections open, no answers
        try:
            took = _timed_fetches(cur, 8.0)
        finally:
            os.kill(pid, signal.SIGCONT)
        assert max(took) < 1.0 + SLACK_S, took
        writer.execute("INSERT INTO Paused VALUES (2)")
        rows, slowest = _fetch_until_rows(cur, 30)
        assert rows == [(2,)]  # the same query, going on by itself
        assert slowest < 1.0 + SLACK_S


@pytest.mark.kafka
def test_a_query_survives_a_broker_restart(private_broker: LocalBroker) -> None:
    url = f"kafka://{private_broker.bootstrap}?connect_timeout=5"
    with pycql.connect(url) as conn:
        cur = conn.cursor()
        cur.execute("CREATE STREAM Restarted (a INTEGER)")
        cur.execute("SELECT * FROM Restarted")
        conn.cursor().execute("INSERT INTO Restarted VALUES (1)")
        assert _fetch_until_rows(cur, 30)[0] == [(1,)]
        assert private_broker.stop() is True
        try:
            took = _timed_fetches(cur, 6.0)  # down: well within outage_timeout (60 s)
        finally:
            private_broker.start(timeout=120)  # the same port and data
        assert max(took) < 1.0 + SLACK_S, took
        with pycql.connect(url) as writer:
            writer.execute("INSERT INTO Restarted VALUES (2)")
        rows, slowest = _fetch_until_rows(cur, 60)
        assert rows == [(2,)]
        assert slowest < 1.0 + SLACK_S
        assert not cur.ended


@pytest.mark.kafka
def test_a_broker_lost_past_outage_timeout_raises_with_advice(
    private_broker: LocalBroker,
) -> None:
    url = f"kafka://{private_broker.bootstrap}?connect_timeout=5&outage_timeout=3"
    with pycql.connect(url) as conn:
        cur = conn.cursor()
        cur.execute("CREATE STREAM Lost (a INTEGER)")
        cur.execute("SELECT * FROM Lost")
        assert private_broker.stop() is True
        try:
            started = time.monotonic()
            took: list[float] = []
            with pytest.raises(pycql.OperationalError) as raised:
                while time.monotonic() - started < 30:
                    begun = time.monotonic()
                    cur.fetchmany(10, timeout=1.0)
                    took.append(time.monotonic() - begun)
            waited = time.monotonic() - started
        finally:
            private_broker.start(timeout=120)
    assert 3.0 <= waited < 10.0, waited
    assert all(t < 1.0 + SLACK_S for t in took), took
    message = str(raised.value)
    assert private_broker.bootstrap in message
    assert "outage_timeout" in message and "python -m pycql.kafka start" in message
    assert "execute it again" in message


@pytest.mark.kafka
@pytest.mark.parametrize("writer", ["produce", "transaction"])
def test_a_record_the_broker_refuses_fails_the_write(kafka_bootstrap: str, writer: str) -> None:
    """The producers ask librdkafka for failed deliveries only (a report per record cost
    a callback each): a record the broker refuses (larger than the topic's
    ``max.message.bytes``) still fails ``produce`` / the transaction's commit."""
    from confluent_kafka.admin import AdminClient, NewTopic

    topic = f"small_{os.urandom(4).hex()}"
    admin = AdminClient({"bootstrap.servers": kafka_bootstrap})
    admin.create_topics([NewTopic(topic, 1, 1, config={"max.message.bytes": "1024"})])[
        topic].result(30)
    log = KafkaLog(kafka_bootstrap, timeout=10.0)
    too_large = os.urandom(8192)  # random bytes: lz4 leaves them as large
    try:
        log.produce(topic, [OutRecord(b"fits")])  # the topic takes records that fit
        with pytest.raises(OperationalError, match=r"(?i)too large"):
            if writer == "produce":
                log.produce(topic, [OutRecord(too_large)])
            else:
                producer = log.transactional_producer(f"small-{topic}")
                try:
                    producer.begin()
                    producer.produce(topic, [OutRecord(too_large)])
                    producer.commit()
                finally:
                    producer.close()
    finally:
        log.close()
