"""The commit protocol of one task, on both logs: output and state commit together, a
task restored from the changelog goes on exactly where the last commit was, and a zombie
(an older task of the same job and index) is fenced and cannot write."""

from __future__ import annotations

import collections
import time
import uuid
from typing import Any

import pytest

import pycql
from pycql.driver._engine import with_time_policies
from pycql.jobs.spec import Job
from pycql.jobs.task import Task
from pycql.log.base import Fenced, Log, TopicSpec
from pycql.log.control import CONTROL_KEY

QUERY = "SELECT ISTREAM(k, COUNT(*) AS n) FROM {s} [RANGE 1 SECOND] GROUP BY k"


@pytest.fixture(params=["memory", pytest.param("kafka", marks=pytest.mark.kafka)])
def conn(request: pytest.FixtureRequest) -> Any:
    dsn = None if request.param == "memory" else (
        f"kafka://{request.getfixturevalue('kafka_bootstrap')}")
    conn = pycql.connect(dsn)
    yield conn
    conn.close()


def _job(conn: Any, rows: int, query: str = QUERY, keys: int = 3, step_ms: int = 100,
         base: int | None = None) -> tuple[Job, str]:
    """A job of ``query`` (``{s}``: its input) over a new stream ``(k, ts)`` holding
    ``rows`` rows, the i-th ``(i % keys, base + step_ms * i)`` (base: now)."""
    tag = uuid.uuid4().hex[:6]
    stream, out = f"src_{tag}", f"out_{tag}"
    cur = conn.cursor()
    cur.execute(f"CREATE STREAM {stream} (k INTEGER, ts BIGINT) WITH (timestamp = 'ts')")
    base = int(time.time() * 1000) if base is None else base
    cur.executemany(f"INSERT INTO {stream} VALUES (?, ?)",
                    [(i % keys, base + step_ms * i) for i in range(rows)])
    query = query.format(s=stream)
    plan = with_time_policies(conn, conn.database.analyze(query)["plan"])
    log: Log = conn.database.log
    log.create_topic(TopicSpec(out))
    job = Job(f"TEST_{tag}", "stream", query, out, out, plan, plan["result"]["columns"])
    return job, stream


def _read(log: Log, topic: str) -> collections.Counter[tuple[Any, ...]]:
    """The committed rows of ``topic`` (value, timestamp), without control records."""
    reader = log.reader([topic])
    got: collections.Counter[tuple[Any, ...]] = collections.Counter()
    try:
        end = reader.end_offsets()
        deadline = time.monotonic() + 20
        while any(reader.position().get(tp, 0) < e for tp, e in end.items()):
            got.update((r.value, r.timestamp_ms) for r in reader.poll(1000, 0.2)
                       if r.key != CONTROL_KEY)  # rows only, not the task's watermarks
            assert time.monotonic() < deadline
    finally:
        reader.close()
    return got


def _finish(task: Task, rows: int) -> None:
    """Step until every input row is read and the idle timeout closed the last instant."""
    deadline = time.monotonic() + 30
    while task.runner.metrics.records_in < rows and time.monotonic() < deadline:
        task.step(0.05)
    time.sleep(1.1)
    for _ in range(5):
        task.step(0.05)
    task.commit()


def test_a_restored_task_goes_on_from_the_last_commit_and_a_zombie_is_fenced(conn: Any) -> None:
    job, _ = _job(conn, 400)
    log: Log = conn.database.log
    # the uninterrupted run, into a topic of its own
    ref_job = Job(job.id + "_REF", "stream", job.statement, job.sink + "_ref",
                  job.topic + "_ref", job.plan, job.columns)
    log.create_topic(TopicSpec(ref_job.topic))
    whole = Task(ref_job, 0, log)
    _finish(whole, 400)
    whole.close()
    want = _read(log, ref_job.topic)
    assert sum(want.values()) > 0

    first = Task(job, 0, log)
    first.runner._max_records = 50  # type: ignore[attr-defined]
    for _ in range(3):
        first.step(0.05)
        first.commit()
    assert first.metrics.commits >= 3 and first.metrics.records_out > 0
    first._interval_s = 1e9         # processed but never committed: lost with the task
    for _ in range(2):
        first.step(0.05)
    second = Task(job, 0, log)      # restores the last commit, and fences the first
    assert second.restored
    with pytest.raises(Fenced):
        first.commit()
    first.close()
    _finish(second, 400)
    second.close()
    assert _read(log, job.topic) == want


def _changelog_names(log: Log, topic: str) -> list[bytes]:
    reader = log.reader([topic])
    names: list[bytes] = []
    try:
        end = sum(reader.end_offsets().values())
        deadline = time.monotonic() + 20
        while sum(reader.position().values()) < end:
            names += [r.key for r in reader.poll(1000, 0.2) if r.key is not None]
            assert time.monotonic() < deadline
    finally:
        reader.close()
    return names


def _not_on_commit() -> Any:
    raise AssertionError("a commit serialized a tracked operator's whole state")


def _canon(state: dict[str, Any]) -> dict[str, Any]:
    """Operator states with the order of their ``[key, value]`` pairs left out."""
    def canon(v: Any) -> Any:
        if isinstance(v, dict):
            return {m: canon(x) for m, x in v.items()}
        return sorted(map(repr, v)) if isinstance(v, list) else v
    return {k: canon(v) for k, v in state["operators"].items()}


def test_a_commit_writes_the_changed_groups_only_and_restores_the_same_state(
        conn: Any) -> None:
    base = int(time.time() * 1000)
    job, stream = _job(conn, 100, "SELECT ISTREAM(k, COUNT(*) AS n) FROM {s} [UNBOUNDED] "
                       "GROUP BY k", keys=100, step_ms=1, base=base)
    log: Log = conn.database.log
    cur = conn.cursor()
    task = Task(job, 0, log)
    _finish(task, 100)
    before = _changelog_names(log, task.changelog.topic)
    assert len({n for n in before if b"/[" in n}) == 100   # every group once
    cur.execute(f"INSERT INTO {stream} VALUES (?, ?)", (5, base + 2000))
    tracked = task.runner.executor.tracked()
    assert tracked  # the aggregate tracks its groups: a commit does not serialize them all
    for op in tracked:
        op.state = _not_on_commit  # type: ignore[method-assign]
    _finish(task, 101)
    for op in tracked:
        del op.state
    new = _changelog_names(log, task.changelog.topic)[len(before):]
    # the one group that changed and the runner's piece (positions, watermark): no other
    assert {n for n in new if n != b"runner"} == {n for n in before if n.endswith(b"/[5]")}
    want = task.runner.executor.state()
    task.close()
    again = Task(job, 0, log)
    try:
        assert again.restored
        got = again.runner.executor.state()
        assert _canon(got) == _canon(want)
        assert got["watermark"] == want["watermark"]
    finally:
        again.close()


@pytest.mark.parametrize("window", ["RANGE 10 SECONDS", "RANGE 10 SECONDS SLIDE 4 SECONDS"])
def test_windows_commit_their_changed_panes_only_and_restore_them(
        conn: Any, window: str) -> None:
    job, _ = _job(conn, 300, f"SELECT RSTREAM(k, COUNT(*) AS n) FROM {{s}} [{window}] GROUP BY k",
                  keys=7, base=int(time.time() * 1000) - 60_000)
    log: Log = conn.database.log
    task = Task(job, 0, log)
    tracked = task.runner.executor.tracked()
    assert {op.spec["op"] for op in tracked} == {"window", "aggregate", "rstream"}
    for op in tracked:
        op.state = _not_on_commit  # type: ignore[method-assign]
    task.runner._max_records = 40  # type: ignore[attr-defined]
    for _ in range(5):
        task.step(0.05)
        task.commit()
    for op in tracked:
        del op.state
    want = task.runner.executor.state()
    task.close()
    again = Task(job, 0, log)
    try:
        assert again.restored
        got = again.runner.executor.state()
        assert _canon(got) == _canon(want)
        assert got["pending"] == want["pending"] and got["watermark"] == want["watermark"]
    finally:
        again.close()


@pytest.mark.parametrize(("query", "ops"), [
    ("SELECT RSTREAM(k, COUNT(*) AS n) FROM {s} [ROWS 5] GROUP BY k", {"window"}),
    ("SELECT ISTREAM(k, ts) FROM {s} [PARTITION BY k ROWS 2]", {"window"}),
    ("SELECT ISTREAM(k, ts) FROM {s} [PARTITION BY k ROWS 3 SLIDE 2]", {"window"}),
    ("SELECT DSTREAM(k, COUNT(*) AS n) FROM {s} [PARTITION BY k SESSION 250 MILLISECONDS] "
     "GROUP BY k", {"window"}),
    ("SELECT ISTREAM(k, ts, ROW_NUMBER() OVER (PARTITION BY k ORDER BY ts) AS r) "
     "FROM {s} [RANGE 1 SECOND]", {"over"}),
    ("SELECT ISTREAM(k) FROM (SELECT k FROM {s} [RANGE 1 SECOND] WHERE k > 2 "
     "UNION SELECT k FROM {s} [ROWS 4])", {"union"}),
])
def test_more_operators_commit_their_changed_keys_only_and_restore_them(
        conn: Any, query: str, ops: set[str]) -> None:
    """ROWS, PARTITION BY ... ROWS and session windows, window functions and set
    operations write the keys they changed, not their whole state, and a task restored
    from those pieces has the state of the one that wrote them."""
    job, _ = _job(conn, 300, query, keys=7, base=int(time.time() * 1000) - 60_000)
    log: Log = conn.database.log
    task = Task(job, 0, log)
    tracked = task.runner.executor.tracked()
    assert ops <= {op.spec["op"] for op in tracked}
    untracked = {op.spec["op"] for op in task.runner.executor._ops  # type: ignore[attr-defined]
                 if op.state() is not None and op.dirty is None}
    assert not untracked, f"operators with state that do not track it: {untracked}"
    for op in tracked:
        op.state = _not_on_commit  # type: ignore[method-assign]
    task.runner._max_records = 40  # type: ignore[attr-defined]
    for _ in range(6):
        task.step(0.05)
        task.commit()
    assert task.metrics.changelog_records > 0
    for op in tracked:
        del op.state
    want = task.runner.executor.state()
    task.close()
    again = Task(job, 0, log)
    try:
        assert again.restored
        got = again.runner.executor.state()
        assert _canon(got) == _canon(want)
        assert got["pending"] == want["pending"] and got["watermark"] == want["watermark"]
    finally:
        again.close()


def test_a_caught_up_task_commits_its_output_without_waiting_for_a_long_interval(
        conn: Any) -> None:
    """The interval grows with the cost of serializing the state (ten times it), to keep
    throughput while input flows; once the task has read everything, what it emitted is
    committed after the job's interval, not held until that long interval is up (a
    reader would wait for the end of a burst's output for ten serializations)."""
    job, _ = _job(conn, 50, "SELECT ISTREAM(k, ts) FROM {s} [RANGE 1 SECOND]", keys=5,
                  base=int(time.time() * 1000) - 60_000)
    log: Log = conn.database.log
    task = Task(job, 0, log)
    try:
        task.commit()
        task._interval_s = 3600.0  # type: ignore[attr-defined]  # as after a huge state
        deadline = time.monotonic() + 30
        while task.runner.metrics.records_in < 50 and time.monotonic() < deadline:
            task.step(0.05)
        assert task.runner.metrics.records_in == 50
        assert task.metrics.records_out == 0   # emitted, not committed: input flowed
        for _ in range(20):
            task.step(0.05)                    # nothing new to read
            if task.metrics.records_out:
                break
            time.sleep(job.commit_interval_ms / 1000)
        assert task.metrics.records_out > 0
        assert sum(_read(log, job.topic).values()) == task.metrics.records_out
    finally:
        task.close()
