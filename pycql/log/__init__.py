"""pycql's messaging layer: partitioned, append-only logs moved in batches.

>>> log = open_log()                     # the embedded in-process log
>>> log.create_topic(TopicSpec("S"))
>>> log.produce("S", [OutRecord(b"1"), OutRecord(b"2")])
>>> [r.value for r in log.reader(["S"]).poll()]
[b'1', b'2']

``open_log("kafka://127.0.0.1:9092")`` gives a :class:`~pycql.log.kafka.KafkaLog`
instead (see ``docs/kafka.md`` for a local broker).
"""

from __future__ import annotations

from typing import Any

from pycql.errors import InterfaceError
from pycql.log.base import Log, LogReader, OutRecord, Record, StartAt, TopicSpec
from pycql.log.memory import MemoryLog

__all__ = [
    "Log",
    "LogReader",
    "MemoryLog",
    "OutRecord",
    "Record",
    "StartAt",
    "TopicSpec",
    "open_log",
]


def open_log(url: str | None = None, **config: Any) -> Log:
    """The log named by ``url``.

    * ``None``, ``""`` or ``"memory://"``: a new :class:`MemoryLog`;
    * ``"file:///path/to/db.pycql"``: a :class:`~pycql.log.file.FileLog`, the
      durable embedded log in that SQLite file (``config``: ``synchronous``,
      ``poll_interval``);
    * ``"kafka://host:port[,host:port...]"``: a :class:`~pycql.log.kafka.KafkaLog`
      (``config`` goes to it: ``timeout=5.0``, librdkafka settings such as
      ``linger_ms=20``). Raises :class:`~pycql.errors.OperationalError` when no
      broker answers.

    >>> type(open_log("memory://")).__name__
    'MemoryLog'
    """
    if url is None or url in ("", "memory://", "memory:"):
        if config:
            raise InterfaceError(f"the memory log takes no options, got {sorted(config)}")
        return MemoryLog()
    if url.startswith("file:"):
        from pycql.log.file import FileLog, file_url_path

        return FileLog(file_url_path(url), **config)
    if url.startswith("kafka://"):
        bootstrap = url[len("kafka://") :].rstrip("/")
        if not bootstrap:
            raise InterfaceError("a kafka:// URL needs host:port, e.g. kafka://127.0.0.1:9092")
        from pycql.log.kafka import KafkaLog

        return KafkaLog(bootstrap, **config)
    raise InterfaceError(f"unknown log URL {url!r}: use memory://, file:///PATH or "
                       "kafka://host:port[,host:port]")
