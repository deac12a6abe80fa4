"""Multi-stage jobs on a real Kafka broker, run by 1, 2 and 3 ``pycql worker`` processes
(which cannot load JPype) over 6-partition inputs: each stage is its own consumer group,
so its tasks spread over the workers; exchanges go through intermediate topics, read
``read_committed``; the output equals the bounded cursor's over the same inputs
(stage_cases.py), with the stage split on and off, and while workers join and leave."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import pycql
from tests.jobs.conftest import BASE_MS, WorkerProcess, eventually, names, query_row
from tests.jobs.stage_cases import QUERIES, declare, insert, oracle, output, rows

pytestmark = pytest.mark.kafka

#: the first test's input is history, stamped two hours before it runs: a relation's rows
#: before any input (a global COUNT's 0) are written at instant 0, which Kafka once
#: stamped with the wall clock, after such input (a CI failure)
HISTORY_MS = BASE_MS - 2 * 3_600_000

#: the cases each worker count runs (all of QUERIES would be some 100 tasks at once)
CASES = [q for q in QUERIES if q[0] in (
    "group_by_non_key", "global_count", "join_on_different_keys", "partition_by_non_key",
    "table_by_non_key")]


@pytest.fixture
def workers(request: pytest.FixtureRequest, kafka_bootstrap: str,
            tmp_path: Path) -> Iterator[list[WorkerProcess]]:
    started: list[WorkerProcess] = []
    try:
        for i in range(request.param):
            started.append(WorkerProcess(kafka_bootstrap, f"st{request.param}-{i}", tmp_path))
        yield started
    finally:
        codes = [w.stop() for w in started]
        assert all(c == 0 for c in codes), "\n".join(line for w in started for line in w.lines)


def _terminate(conn: pycql.Connection, *sinks: str) -> None:
    cur = conn.cursor()
    for sink in sinks:
        row = query_row(conn, sink)
        if row is not None and row[1] == "RUNNING":
            cur.execute(f"TERMINATE {row[0]}")


@pytest.mark.parametrize("workers", [1, 2, 3], indirect=True, ids=lambda n: f"{n}_workers")
def test_staged_jobs_give_the_cursors_output_on_any_number_of_workers(
        workers: list[WorkerProcess], kconn: pycql.Connection) -> None:
    s, t = names(kconn, "ss", "st")
    declare(kconn, s, t)
    insert(kconn, s, t, rows(HISTORY_MS, 180))
    made = []
    for name, query, kind in CASES:      # every job at once: they start side by side
        (out,) = names(kconn, f"o_{name}")
        sql = query.format(S=s, T=t)
        create = "STREAM" if kind == "stream" else "TABLE"
        kconn.cursor().execute(f"CREATE {create} {out} WITH (stages = 'on') AS {sql}")
        made.append((name, sql, kind, out))
    every = ", ".join(w.name for w in workers)
    for name, sql, kind, out in made:
        want = oracle(kconn, sql, kind)
        assert sum(want.values()) > 0
        got = eventually(lambda out=out, kind=kind: output(kconn, out, kind), want, 120)
        assert got == want, name
        staged = {j.sink: j.staged for j in kconn.database.catalog.jobs()}
        assert staged[out], name
        shown = eventually(lambda out=out: (query_row(kconn, out) or [None] * 6)[4], every, 30)
        assert shown == every, name            # the tasks are spread over every worker
    _terminate(kconn, *(m[3] for m in made))


@pytest.mark.parametrize("workers", [2], indirect=True, ids=["2_workers"])
def test_the_stage_split_off_gives_the_same_output(
        workers: list[WorkerProcess], kconn: pycql.Connection) -> None:
    s, t, out = names(kconn, "ss", "st", "off")
    declare(kconn, s, t)
    insert(kconn, s, t, rows(BASE_MS, 180))
    _, query, kind = QUERIES[0]
    sql = query.format(S=s, T=t)
    kconn.cursor().execute(f"CREATE STREAM {out} WITH (stages = 'off') AS {sql}")
    want = oracle(kconn, sql, kind)
    assert eventually(lambda: output(kconn, out, kind), want, 90) == want
    assert (query_row(kconn, out) or [None] * 6)[5] == 1       # one task
    _terminate(kconn, out)


def test_workers_joining_and_leaving_a_running_staged_job_change_nothing(
        kafka_bootstrap: str, kconn: pycql.Connection, tmp_path: Path) -> None:
    """Exactly once (the default): a second worker joins (tasks move to it with their
    state, from the changelogs), then the first is killed with SIGKILL (its tasks, their
    open transactions aborted, restart on the second from the last commit)."""
    s, t, out = names(kconn, "ss", "st", "moving")
    declare(kconn, s, t)
    _, query, kind = QUERIES[2]              # the join: S repartitioned to meet T
    sql = query.format(S=s, T=t)
    first = WorkerProcess(kafka_bootstrap, "mv-1", tmp_path)
    second: WorkerProcess | None = None
    try:
        kconn.cursor().execute(f"CREATE STREAM {out} WITH (stages = 'on') AS {sql}")
        insert(kconn, s, t, rows(BASE_MS, 90))
        want = oracle(kconn, sql, kind)
        assert eventually(lambda: output(kconn, out, kind), want, 90) == want
        second = WorkerProcess(kafka_bootstrap, "mv-2", tmp_path)
        second.wait_for("event=task_started", 60)
        insert(kconn, s, t, rows(BASE_MS, 90, start=90))
        want = oracle(kconn, sql, kind)
        assert eventually(lambda: output(kconn, out, kind), want, 90) == want
        first.stop(signal.SIGKILL)
        time.sleep(0.5)
        insert(kconn, s, t, rows(BASE_MS, 90, start=180))
        want = oracle(kconn, sql, kind)
        assert eventually(lambda: output(kconn, out, kind), want, 120) == want
        assert eventually(lambda: (query_row(kconn, out) or [None] * 6)[4], "mv-2", 30) == "mv-2"
        _terminate(kconn, out)
    finally:
        first.stop(signal.SIGKILL)
        if second is not None:
            assert second.stop() == 0, "\n".join(second.lines)


@pytest.mark.parametrize("workers", [2], indirect=True, ids=["2_workers"])
def test_staged_session_windows_give_the_cursors_output(
        workers: list[WorkerProcess], kconn: pycql.Connection) -> None:
    """Sessions over every partition of the input: keyed on a non-key column (hashed to
    the task of their key) and global (one task), on two workers."""
    s, t = names(kconn, "ss", "st")
    declare(kconn, s, t)
    insert(kconn, s, t, rows(BASE_MS, 180))
    made = []
    for name, query, kind in QUERIES:
        if "session" not in name:
            continue
        (out,) = names(kconn, f"o_{name}")
        sql = query.format(S=s, T=t)
        create = "STREAM" if kind == "stream" else "TABLE"
        kconn.cursor().execute(f"CREATE {create} {out} WITH (stages = 'on') AS {sql}")
        made.append((name, sql, kind, out))
    assert len(made) == 2
    for name, sql, kind, out in made:
        want = oracle(kconn, sql, kind)
        assert sum(want.values()) > 0, name
        got = eventually(lambda out=out, kind=kind: output(kconn, out, kind), want, 120)
        assert got == want, name
    _terminate(kconn, *(m[3] for m in made))
