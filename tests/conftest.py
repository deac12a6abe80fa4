"""Session-wide fixtures.

* ``kafka_bootstrap``: one real single-node Kafka broker for the whole test
  session, started on a free port in a temporary directory the first time a
  test asks for it, stopped at the end. Without the broker jars it FAILS (it
  never skips: Kafka tests must run for real). Build the jars with
  ``mvn -B -q -f java/kafka-broker/pom.xml package``.
* ``memory_log``: a fresh in-process :class:`pycql.log.MemoryLog`.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator

import pytest

from pycql.errors import OperationalError
from pycql.kafka import LocalBroker, default_libs_dir, free_port_pair
from pycql.log import MemoryLog


def pytest_configure(config: pytest.Config) -> None:
    # pyproject.toml declares them too; registering here keeps --strict-markers
    # working when pytest runs with another configuration file.
    config.addinivalue_line("markers", "kafka: needs a real Kafka broker (one per test session)")
    config.addinivalue_line("markers", "slow: long-running (differential testing at scale)")
    # A shell without job control starts a background command with SIGINT ignored, and
    # Python then raises no KeyboardInterrupt (nor do the processes the tests start,
    # which inherit the ignored signal): the Ctrl-C tests need Python's own handler.
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)



@pytest.fixture(scope="session")
def kafka_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalBroker]:
    """The session's local Kafka broker (started once, stopped at the end)."""
    libs = default_libs_dir()
    if not any(libs.glob("kafka_2.13-*.jar")):
        pytest.fail(
            f"Kafka broker jars are missing from {libs}; build them with "
            "`mvn -B -q -f java/kafka-broker/pom.xml package` (Kafka tests never skip)",
            pytrace=False,
        )
    broker = LocalBroker(tmp_path_factory.mktemp("kafka"), free_port_pair(), libs=libs)
    try:
        broker.start(timeout=120)
    except OperationalError as error:
        pytest.fail(f"the test Kafka broker did not start: {error}", pytrace=False)
    try:
        yield broker
    finally:
        broker.stop()


@pytest.fixture(scope="session")
def kafka_bootstrap(kafka_broker: LocalBroker) -> str:
    """``host:port`` of the session's real Kafka broker."""
    return kafka_broker.bootstrap


@pytest.fixture
def memory_log() -> Iterator[MemoryLog]:
    """A fresh, empty in-process log."""
    log = MemoryLog()
    try:
        yield log
    finally:
        log.close()
