"""Fixtures of the log tests: the same suite runs on MemoryLog, FileLog and KafkaLog."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pycql.log import Log
from pycql.log.file import FileLog
from pycql.log.kafka import KafkaLog


@pytest.fixture
def file_log(tmp_path: Path) -> Iterator[FileLog]:
    """A FileLog in a new database file."""
    opened = FileLog(tmp_path / "log.pycql")
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture(params=["memory", "file", pytest.param("kafka", marks=pytest.mark.kafka)])
def log(request: pytest.FixtureRequest) -> Iterator[Log]:
    """A MemoryLog, a FileLog in a new file, or a KafkaLog on the session's real broker."""
    if request.param in ("memory", "file"):
        local: Log = request.getfixturevalue(f"{request.param}_log")
        yield local
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
