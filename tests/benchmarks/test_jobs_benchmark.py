"""The jobs benchmark (``benchmarks/jobs.py``) on the embedded log, a few thousand events.

No timing is asserted: only that both ways run, and that the job's output
topic, read back, matches the cursor (streams: as many records as the cursor's
emissions; tables: the final table equals the cursor's final snapshot).
"""

from __future__ import annotations

import uuid

import pytest

import pycql
from benchmarks.jobs import (
    make_task,
    measure_cursor,
    measure_dbapi,
    measure_job,
    measure_runner,
    plan_job,
    verify,
    verify_dbapi,
)
from benchmarks.nexmark.generator import GeneratorConfig
from benchmarks.nexmark.run import load_events
from pycql.log import MemoryLog

EVENTS = 12_000


@pytest.fixture(scope="module")
def loaded() -> tuple[MemoryLog, str]:
    prefix = f"jt{uuid.uuid4().hex[:6]}_"
    log = MemoryLog()
    load_events(log, GeneratorConfig(seed=7, events=EVENTS, base_time_ms=1_700_000_000_000), prefix)
    return log, prefix


@pytest.mark.parametrize(
    ("name", "kind"), [("q0", "stream"), ("q2", "stream"), ("q5_count", "table")]
)
def test_job_output_matches_the_cursor(loaded: tuple[MemoryLog, str], name: str, kind: str) -> None:
    log, prefix = loaded
    spec = plan_job(name, prefix)
    assert spec["sink_kind"] == kind
    if kind == "table":
        assert spec["key"] == ["auction"]
    cursor = measure_cursor(spec, log)
    job = measure_job(spec, log, f"{prefix}out_{name}")
    assert cursor["records"] == job["records"] > 0
    assert verify(spec, cursor, job) is None
    if kind == "stream":
        assert job["written"] == job["output"]["records"] == cursor["emitted"]
    else:
        assert cursor["snapshot"], "the window holds rows at the end"
        assert sorted(job["output"]["table"]) == sorted(cursor["snapshot"])
    for r in (cursor, job):
        assert r["wall_s"] > 0 and r["cpu_s"] >= 0


def test_a_wrong_output_fails_verification(loaded: tuple[MemoryLog, str]) -> None:
    log, prefix = loaded
    spec = plan_job("q5_count", prefix)
    cursor = measure_cursor(spec, log)
    job = measure_job(spec, log, f"{prefix}out_wrong")
    job["output"]["table"] = job["output"]["table"][1:]
    problem = verify(spec, cursor, job)
    assert problem is not None and "differs" in problem
    stream = plan_job("q2", prefix)
    assert verify(stream, {"emitted": 5}, {"output": {"records": 4}}) is not None


def test_the_task_is_bounded_and_writes_a_fresh_topic(loaded: tuple[MemoryLog, str]) -> None:
    log, prefix = loaded
    spec = plan_job("q2", prefix)
    topic = f"{prefix}out_bounded"
    task = make_task(spec, log, topic)
    try:
        assert topic in log.topics()
        steps = 0
        while not task.runner.done:
            task.step(0.1)
            steps += 1
            assert steps < 10_000
    finally:
        task.close()


@pytest.mark.parametrize("name", ["q1", "q5_count"])
def test_the_dbapi_cursor_returns_what_the_runner_does(name: str) -> None:
    prefix = f"jd{uuid.uuid4().hex[:6]}_"
    conn = pycql.connect(f"memory://jobsbench_{prefix}")
    try:
        log = conn.database.log
        load_events(
            log, GeneratorConfig(seed=7, events=EVENTS, base_time_ms=1_700_000_000_000), prefix
        )
        spec = plan_job(name, prefix)
        runner = measure_runner(spec, log)
        dbapi = measure_dbapi(name, prefix, conn)
        assert dbapi["records"] == runner["records"] > 0
        assert verify_dbapi(spec, runner, dbapi) is None
        assert dbapi["fetches"] >= 2  # the last fetchmany returned nothing
        assert measure_cursor is measure_runner
    finally:
        conn.close()
