"""``pycql worker`` processes coming and going on a real broker: a worker started after
its jobs were created picks them up, a failed job leaves the others running, SIGTERM
and SIGINT stop a worker cleanly (exit status 0) and another takes its tasks over.
No other worker runs in this module."""

from __future__ import annotations

import collections
import signal
import time
from pathlib import Path

import pytest

import pycql
from tests.jobs.conftest import (
    BASE_MS,
    WorkerProcess,
    bounded,
    eventually,
    names,
    query_row,
    source,
)

pytestmark = pytest.mark.kafka
Counter = collections.Counter


def test_a_late_worker_picks_up_jobs_and_a_failed_job_leaves_the_other_running(
        kafka_bootstrap: str, kconn: pycql.Connection, tmp_path: Path) -> None:
    stream, good, bad = names(kconn, "src", "good", "bad")
    source(kconn, stream, partitions=1, rows=20)
    failing = pycql.connect(f"kafka://{kafka_bootstrap}", on_error="fail")
    failing.cursor().execute(f"CREATE STREAM {bad} AS SELECT k, 100 / (v - 7) AS q FROM {stream}")
    failing.close()
    kconn.cursor().execute(f"CREATE STREAM {good} AS SELECT k, v FROM {stream}")
    assert (query_row(kconn, good) or [None, None])[1] == "PENDING"   # no worker has it yet
    late = WorkerProcess(kafka_bootstrap, "w2", tmp_path)
    try:
        assert eventually(lambda: (query_row(kconn, bad) or [None, None])[1], "FAILED") \
            == "FAILED"
        row = query_row(kconn, bad)
        assert row is not None and "division by zero" in str(row[9])
        want = Counter((k, v) for k, v, _ in source_rows(20))
        got = eventually(lambda: Counter(r[:2] for r in bounded(
            kconn, f"SELECT * FROM {good}").elements()), want)
        assert got == want
        row = query_row(kconn, good)
        assert row is not None and row[1] == "RUNNING" and "w2" in str(row[4])
        late.wait_for("event=job_failed")
    finally:
        assert late.stop() == 0


def source_rows(rows: int) -> list[tuple[int, int, int]]:
    return [(i % 5, i, BASE_MS + 300 * i) for i in range(rows)]


def test_sigterm_stops_a_worker_cleanly_and_another_takes_over(
        kafka_bootstrap: str, kconn: pycql.Connection, tmp_path: Path) -> None:
    stream, out = names(kconn, "src", "moved")
    data = source(kconn, stream, partitions=1, rows=40)
    first = WorkerProcess(kafka_bootstrap, "first", tmp_path)
    kconn.cursor().execute(f"CREATE STREAM {out} AS SELECT k, v FROM {stream}")
    eventually(lambda: bounded(kconn, f"SELECT k, v FROM {out}").total(), 40)
    began = time.monotonic()
    assert first.stop(signal.SIGTERM) == 0
    assert time.monotonic() - began < 20
    assert any("event=worker_stopped" in line for line in first.lines)
    assert not any("Traceback" in line for line in first.lines), "\n".join(first.lines)
    second = WorkerProcess(kafka_bootstrap, "second", tmp_path)
    try:
        kconn.cursor().executemany(f"INSERT INTO {stream} VALUES (?, ?, ?)",
                                   [(9, 1000 + i, BASE_MS + 100_000 + i) for i in range(5)])
        want = Counter((k, v) for k, v, _ in data) + Counter((9, 1000 + i) for i in range(5))
        got = eventually(lambda: Counter(r[:2] for r in bounded(
            kconn, f"SELECT * FROM {out}").elements()), want)
        assert got == want                 # restored, nothing written twice
    finally:
        assert second.stop(signal.SIGINT) == 0


def test_kill_9_of_a_static_worker_mid_stream_loses_and_repeats_nothing(
        kafka_bootstrap: str, kconn: pycql.Connection, tmp_path: Path) -> None:
    """SIGKILL of the only worker while its job has input left, three times; each time it
    is back under its id (a static member: no rebalance) and restores the last commit.
    The output, read committed, is the uninterrupted run's: the bounded cursor's."""
    stream, out = names(kconn, "src", "killed")
    rows = [(i % 7, i, BASE_MS + 50 * i) for i in range(3000)]
    cur = kconn.cursor()
    cur.execute(f"CREATE STREAM {stream} (k INTEGER, v INTEGER, ts BIGINT) "
                "WITH (timestamp = 'ts')")
    query = f"SELECT ISTREAM(k, COUNT(*), SUM(v)) FROM {stream} [RANGE 2 SECONDS] GROUP BY k"
    cur.execute(f"CREATE STREAM {out} AS {query}")
    worker = WorkerProcess(kafka_bootstrap, "static", tmp_path, "--static")
    lines: list[str] = []
    try:
        for part in range(3):
            cur.executemany(f"INSERT INTO {stream} VALUES (?, ?, ?)",
                            rows[part * 1000:(part + 1) * 1000])
            worker.wait_for("event=task_started")
            time.sleep(0.3 + 0.4 * part)
            worker.stop(signal.SIGKILL)
            lines += worker.lines
            worker = WorkerProcess(kafka_bootstrap, "static", tmp_path, "--static")
        want = bounded(kconn, query)
        got = eventually(lambda: bounded(kconn, f"SELECT * FROM {out}"), want, 60)
        assert got == want
        lines += worker.lines  # some restart restored a committed state
        assert any("restored=" in line and "restored=0_pieces" not in line for line in lines)
    finally:
        assert worker.stop() == 0
