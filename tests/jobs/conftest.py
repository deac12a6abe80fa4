"""Fixtures and helpers of the job tests on Kafka (see test_jobs_kafka.py)."""

from __future__ import annotations

import collections
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import pycql

Counter = collections.Counter
ROOT = Path(__file__).resolve().parents[2]
#: after the table rows (stamped with the wall clock), within max_future
BASE_MS = int(time.time() * 1000) + 60_000


class WorkerProcess:
    """``python -m pycql.jobs.worker`` in a child process that cannot load JPype."""

    def __init__(self, bootstrap: str, name: str, tmp: Path, *extra: str) -> None:
        blocker = tmp / f"no-jpype-{name}-{uuid.uuid4().hex[:6]}" / "jpype"
        blocker.mkdir(parents=True)
        (blocker / "__init__.py").write_text(
            "raise ImportError('a pycql worker must never load JPype')\n")
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([str(blocker.parent), str(ROOT)])
        self.name = name
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "pycql.jobs.worker", "--connect", f"kafka://{bootstrap}",
             "--id", name, *extra], env=env, stderr=subprocess.PIPE, text=True, cwd=ROOT)
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.wait_for("event=worker_started")

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append(line.rstrip())

    def wait_for(self, text: str, seconds: float = 30) -> None:
        deadline = time.monotonic() + seconds
        while not any(text in line for line in self.lines):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"{text!r} not logged; stderr:\n" + "\n".join(self.lines))
            time.sleep(0.05)

    def stop(self, sig: int = 15) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        status = self.proc.wait(60)
        self._reader.join(5)
        return status



@pytest.fixture
def kconn(kafka_bootstrap: str) -> Iterator[pycql.Connection]:
    conn = pycql.connect(f"kafka://{kafka_bootstrap}", rowtime_column=True)
    created: list[str] = []
    conn.created = created  # type: ignore[attr-defined]
    try:
        yield conn
    finally:
        cur = conn.cursor()
        cur.execute("SHOW QUERIES")
        for row in cur.fetchall():
            if row[2] != "cursor" and row[1] != "TERMINATED" and any(
                    n in row[8] for n in created):
                cur.execute(f"TERMINATE {row[0]}")
        conn.close()


def names(conn: pycql.Connection, *prefixes: str) -> list[str]:
    tag = uuid.uuid4().hex[:6]
    names = [f"{p}_{tag}" for p in prefixes]
    conn.created.extend(names)  # type: ignore[attr-defined]
    return names


def eventually(fn: Callable[[], Any], want: Any, seconds: float = 40) -> Any:
    """``fn()`` once it equals ``want``, or its last value after ``seconds``."""
    deadline = time.monotonic() + seconds
    got = fn()
    while got != want and time.monotonic() < deadline:
        time.sleep(0.25)
        got = fn()
    return got


def bounded(conn: pycql.Connection, sql: str) -> Counter[tuple[Any, ...]]:
    cur = conn.cursor()
    cur.execute(sql, start="earliest", stop="latest")
    return Counter(cur.fetchall())


def snapshot(conn: pycql.Connection, sql: str) -> Counter[tuple[Any, ...]]:
    cur = conn.cursor()
    cur.execute(sql)
    return Counter(cur.fetchall())


def source(conn: pycql.Connection, stream: str, partitions: int = 3,
            rows: int = 150) -> list[tuple[int, int, int]]:
    data = [(i % 5, i, BASE_MS + 300 * i) for i in range(rows)]
    cur = conn.cursor()
    cur.execute(f"CREATE STREAM {stream} (k INTEGER, v INTEGER, ts BIGINT) "
                f"WITH (timestamp = 'ts', partitions = {partitions})")
    cur.executemany(f"INSERT INTO {stream} VALUES (?, ?, ?)", data)
    return data


def query_row(conn: pycql.Connection, sink: str) -> tuple[Any, ...] | None:
    cur = conn.cursor()
    cur.execute("SHOW QUERIES")
    return next((r for r in cur.fetchall() if r[3] == sink), None)


