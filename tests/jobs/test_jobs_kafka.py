"""Persistent queries on a real Kafka broker, run by ``pycql worker`` processes.

The worker runs in a child process whose ``jpype`` cannot be imported (a stand-in
package that raises on import comes first on its path): every job here runs
without the planner's JVM. Outputs are checked against bounded cursor runs of the
same query (the cursor runs no job code) and read with a plain confluent-kafka
consumer, as any program outside pycql would."""

from __future__ import annotations

import collections
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from confluent_kafka import Consumer, TopicPartition

import pycql
from tests.jobs.conftest import (
    BASE_MS,
    ROOT,
    WorkerProcess,
    bounded,
    eventually,
    names,
    query_row,
    snapshot,
    source,
)

pytestmark = pytest.mark.kafka
Counter = collections.Counter


@pytest.fixture(scope="module")
def worker(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[WorkerProcess]:
    w = WorkerProcess(kafka_bootstrap, "w1", tmp_path_factory.mktemp("worker"))
    try:
        yield w
    finally:
        status = w.stop()
        assert status == 0, "\n".join(w.lines)


@pytest.mark.parametrize("query", [
    "SELECT k, v FROM {s} WHERE v % 4 = 1",
    "SELECT ISTREAM(k, COUNT(*)) FROM {s} [RANGE 2 SECONDS] GROUP BY k",
    "SELECT DSTREAM(k, v) FROM {s} [ROWS 3]",
])
def test_stream_jobs_on_kafka_write_what_a_bounded_cursor_returns(
        worker: WorkerProcess, kconn: pycql.Connection, query: str) -> None:
    stream, out = names(kconn, "src", "out")
    source(kconn, stream)
    kconn.cursor().execute(f"CREATE STREAM {out} AS {query.format(s=stream)}")
    want = bounded(kconn, query.format(s=stream))
    assert sum(want.values()) > 0
    assert eventually(lambda: bounded(kconn, f"SELECT * FROM {out}"), want) == want


@pytest.mark.parametrize("query", [
    "SELECT k, COUNT(*) AS n, SUM(v) AS total FROM {s} GROUP BY k",
    "SELECT k % 2 AS parity, v FROM {s} [ROWS 4]",
])
def test_table_jobs_on_kafka_hold_the_relation_a_cursor_returns(
        worker: WorkerProcess, kconn: pycql.Connection, query: str) -> None:
    stream, out = names(kconn, "src", "rel")
    source(kconn, stream)
    kconn.cursor().execute(f"CREATE TABLE {out} AS {query.format(s=stream)}")
    want = snapshot(kconn, query.format(s=stream))
    assert eventually(lambda: snapshot(kconn, f"SELECT * FROM {out}"), want) == want


def test_a_job_outlives_its_client_and_plain_consumers_can_read_it(
        worker: WorkerProcess, kafka_bootstrap: str, kconn: pycql.Connection) -> None:
    stream, out = names(kconn, "src", "fast")
    creator = pycql.connect(f"kafka://{kafka_bootstrap}")
    data = source(creator, stream, partitions=3)
    cur = creator.cursor()
    cur.execute(f"CREATE STREAM {out} AS SELECT k, v * 10 AS big FROM {stream} WHERE k > 1")
    (query_id, _, topic, tasks), = cur.fetchall()
    assert tasks == 3                       # a stateless job: one task per partition
    creator.close()                         # the job does not need its client
    want = sorted((k, v * 10, ts) for k, v, ts in data if k > 1)
    consumer = Consumer({"bootstrap.servers": kafka_bootstrap, "group.id": uuid.uuid4().hex,
                         "isolation.level": "read_committed", "enable.auto.commit": False})
    consumer.assign([TopicPartition(topic, p, 0) for p in range(3)])
    got: list[tuple[int, int, int]] = []
    deadline = time.monotonic() + 40
    try:
        while len(got) < len(want) and time.monotonic() < deadline:
            for m in consumer.consume(1000, 0.5):
                if m.error() is None and m.key() != b"pycql:control":  # not a watermark
                    row = orjson.loads(m.value())
                    got.append((row["k"], row["big"], m.timestamp()[1]))
    finally:
        consumer.close()
    assert sorted(got) == want
    row = query_row(kconn, out)
    assert row is not None and row[0] == query_id and row[1] == "RUNNING" and row[4] == "w1"


SHOW_AND_TERMINATE = """
import sys, pycql
conn = pycql.connect("kafka://%s")
cur = conn.cursor()
cur.execute("SHOW QUERIES")
for row in cur.fetchall():
    if row[3] == %r:
        print("SEEN", row[0], row[1], row[4], row[6])
        cur.execute("TERMINATE " + row[0])
        print("TERMINATED", cur.rowcount)
"""


def test_show_queries_and_terminate_from_another_process(
        worker: WorkerProcess, kafka_bootstrap: str, kconn: pycql.Connection) -> None:
    stream, out = names(kconn, "src", "big")
    source(kconn, stream, rows=30)
    kconn.cursor().execute(f"CREATE STREAM {out} AS SELECT k, v FROM {stream}")
    eventually(lambda: bounded(kconn, f"SELECT k, v FROM {out}").total(), 30)
    eventually(lambda: (query_row(kconn, out) or [None, None])[1], "RUNNING")
    child = subprocess.run([sys.executable, "-c", textwrap.dedent(
        SHOW_AND_TERMINATE % (kafka_bootstrap, out))], capture_output=True, text=True,
        timeout=120, cwd=ROOT)
    assert child.returncode == 0, child.stderr
    seen, terminated = child.stdout.splitlines()
    assert seen.split()[2:5] == ["RUNNING", "w1", "0"]     # status, workers, lag
    assert terminated == "TERMINATED 1"
    kconn.cursor().execute(f"INSERT INTO {stream} VALUES (1, 1000, {BASE_MS + 900_000})")
    time.sleep(2)
    assert bounded(kconn, f"SELECT k, v FROM {out}").total() == 30
    row = query_row(kconn, out)
    assert row is not None and row[1] == "TERMINATED"
    worker.wait_for(f"event=job_stop job={row[0]} worker=w1 reason=TERMINATED")




def test_a_keyed_job_runs_per_partition_over_two_workers(
        worker: WorkerProcess, kafka_bootstrap: str, kconn: pycql.Connection,
        tmp_path: Path) -> None:
    """A stream partitioned by its key (WITH (key = 'k')), a job grouping by it: one task
    per partition, shared by two workers; the output is the bounded cursor's."""
    stream, out = names(kconn, "keyed", "perkey")
    cur = kconn.cursor()
    cur.execute(f"CREATE STREAM {stream} (k INTEGER, v INTEGER, ts BIGINT) "
                "WITH (timestamp = 'ts', partitions = 4, key = 'k')")
    cur.executemany(f"INSERT INTO {stream} VALUES (?, ?, ?)",
                    [(i % 13, i, BASE_MS + 20 * i) for i in range(1200)])
    query = f"SELECT ISTREAM(k, COUNT(*), SUM(v)) FROM {stream} [UNBOUNDED] GROUP BY k"
    second = WorkerProcess(kafka_bootstrap, "w1b", tmp_path)
    try:
        cur.execute(f"CREATE STREAM {out} AS {query}")
        (_, _, _, tasks), = cur.fetchall()
        assert tasks == 4
        want = bounded(kconn, query)
        assert eventually(lambda: bounded(kconn, f"SELECT * FROM {out}"), want) == want
        row = eventually(lambda: (query_row(kconn, out) or [None] * 5)[4], "w1, w1b")
        assert row == "w1, w1b"            # both workers run some of its tasks
    finally:
        assert second.stop() == 0
