"""Fixtures of the log tests: the same suite runs on MemoryLog and KafkaLog."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest

from pycql.log import Log
from pycql.log.kafka import KafkaLog


@pytest.fixture(params=["memory", pytest.param("kafka", marks=pytest.mark.kafka)])
def log(request: pytest.FixtureRequest) -> Iterator[Log]:
    """A MemoryLog, or a KafkaLog on the session's real broker."""
    if request.param == "memory":
        memory: Log = request.getfixturevalue("memory_log")
        yield memory
        return
    opened = KafkaLog(request.getfixturevalue("kafka_bootstrap"), timeout=10.0)
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def new_topic() -> Callable[[str], str]:
    """Unique topic names (the Kafka broker is shared by the whole session)."""

    def make(stem: str = "t") -> str:
        return f"{stem}-{uuid.uuid4().hex[:10]}"

    return make
