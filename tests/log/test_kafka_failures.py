"""KafkaLog against a broker that is not there, and the local broker's own errors."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pycql.errors import InterfaceError, OperationalError
from pycql.kafka import LocalBroker
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
        log = KafkaLog(broker.bootstrap, timeout=3.0)
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

    started = time.monotonic()
    with pytest.raises(OperationalError, match=r"python -m pycql\.kafka start"):
        while time.monotonic() - started < 20.0:
            reader.poll(timeout=0.5)
    assert time.monotonic() - started < 10.0

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
