"""A worker restarts a job's tasks after a transient error (the log failing), with backoff;
the restarted tasks restore the last commit and write nothing twice or never; the worker
never dies of it."""

from __future__ import annotations

import collections
import time
from collections.abc import Sequence

import pycql
from pycql.errors import OperationalError
from pycql.log.base import OutRecord
from pycql.log.memory import MemoryLog, MemoryTransactionalProducer


class FlakyLog(MemoryLog):
    """A memory log whose commits of transactions writing one topic fail ``failures``
    times (a lost broker): the transaction is lost, as a crash would lose it."""

    def __init__(self) -> None:
        super().__init__()
        self.failures = 0
        self.topic = ""

    def _commit(self, producer: MemoryTransactionalProducer,
                batches: list[tuple[str, Sequence[OutRecord]]]) -> None:
        if self.failures > 0 and any(topic == self.topic for topic, _ in batches):
            self.failures -= 1
            raise OperationalError("Kafka at 127.0.0.1:1 did not answer (a test outage)")
        super()._commit(producer, batches)


def test_a_transient_error_restarts_the_tasks_with_backoff(monkeypatch) -> None:
    from pycql.driver import _database
    from pycql.jobs import worker as worker_module

    log = FlakyLog()
    monkeypatch.setattr(_database, "_open_log", lambda url, options: log)
    monkeypatch.setattr(worker_module, "BACKOFF_FIRST_S", 0.05)
    events: list[str] = []
    monkeypatch.setattr(worker_module, "_event",
                        lambda event, **fields: events.append(event))
    conn = pycql.connect()
    try:
        cur = conn.cursor()
        cur.execute("CREATE STREAM S (k INTEGER, ts BIGINT) WITH (timestamp = 'ts')")
        cur.execute("CREATE STREAM Copy AS SELECT k FROM S")
        log.topic, log.failures = "Copy", 3
        rows = [(i, 1000 + i) for i in range(50)]
        cur.executemany("INSERT INTO S VALUES (?, ?)", rows[:25])
        deadline = time.monotonic() + 20
        while events.count("task_restart") < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        cur.executemany("INSERT INTO S VALUES (?, ?)", rows[25:])
        want = collections.Counter((k,) for k, _ in rows)
        got: collections.Counter[tuple[int, ...]] = collections.Counter()
        while got != want and time.monotonic() < deadline:
            time.sleep(0.1)
            c = conn.cursor()
            c.execute("SELECT k FROM Copy", start="earliest", stop="latest")
            got = collections.Counter(c.fetchall())
        assert events.count("task_restart") == 3
        assert "job_failed" not in events
        assert got == want                 # every row once: each restart restored the
        #                                    state of the last commit and went on from there
        cur.execute("SHOW QUERIES")
        (row,) = [r for r in cur.fetchall() if r[2] != "cursor"]
        assert row[1] == "RUNNING"
    finally:
        conn.close()
