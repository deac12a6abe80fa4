"""The exactly-once benchmark (``benchmarks/eos.py``) in tiny versions on the embedded log.

No timing is asserted: only that a job's output is the same under both guarantees
(and the runner's), and that a task restored from its changelog goes on from
where the last commit left it (the counts it writes continue the old ones).
"""

from __future__ import annotations

import uuid
from collections import Counter

import pytest

from benchmarks.eos import recovery
from benchmarks.jobs import make_task, measure_job, measure_runner, plan_job, verify
from benchmarks.nexmark.generator import GeneratorConfig
from benchmarks.nexmark.run import load_events
from pycql.log import MemoryLog

EVENTS = 8_000


@pytest.fixture(scope="module")
def loaded() -> tuple[MemoryLog, str]:
    prefix = f"et{uuid.uuid4().hex[:6]}_"
    log = MemoryLog()
    load_events(log, GeneratorConfig(seed=3, events=EVENTS, base_time_ms=1_700_000_000_000), prefix)
    return log, prefix


@pytest.mark.parametrize("name", ["q1", "q5_count"])
def test_both_guarantees_write_the_same_output(loaded: tuple[MemoryLog, str], name: str) -> None:
    log, prefix = loaded
    spec = plan_job(name, prefix)
    runner = measure_runner(spec, log)
    eos = measure_job(spec, log, f"{prefix}out_{name}_eos", "exactly_once")
    alos = measure_job(spec, log, f"{prefix}out_{name}_alos", "at_least_once")
    assert eos["guarantee"] == "exactly_once" and alos["guarantee"] == "at_least_once"
    for job in (eos, alos):
        assert verify(spec, runner, job) is None
        assert job["records"] == runner["records"] > 0
        assert job["commits"] >= 1
    assert eos["written"] == alos["written"]
    if spec["sink_kind"] == "stream":
        assert eos["output"]["records"] == alos["output"]["records"] == runner["emitted"]
    else:
        assert Counter(eos["output"]["table"]) == Counter(alos["output"]["table"])


def test_a_bounded_task_of_the_same_job_restores_and_goes_on(
    loaded: tuple[MemoryLog, str],
) -> None:
    log, prefix = loaded
    spec = plan_job("q2", prefix)
    topic = f"{prefix}out_restart"
    job_id = f"CSAS_T_{uuid.uuid4().hex[:8].upper()}"
    first = make_task(spec, log, topic, job_id=job_id)
    written = 0
    while not first.runner.done:
        written += first.step(0.1)
    written += first.commit()
    read = first.runner.metrics.records_in
    first.close()
    again = make_task(spec, log, topic, job_id=job_id)
    try:
        assert again.restored and again.metrics.restored_pieces > 0
        steps = 0
        while not again.runner.done:
            assert again.step(0.1) == 0  # nothing new: the input was read to its end
            steps += 1
            assert steps < 1000
        assert again.runner.metrics.records_in == read  # the restored counter, no re-read
    finally:
        again.close(commit=True)
    assert written > 0


@pytest.mark.parametrize("n", [300, 3_000])
def test_a_restored_task_continues_the_counts(n: int) -> None:
    log = MemoryLog()
    r = recovery(log, None, n, f"rt{uuid.uuid4().hex[:6]}_", extra=5, timeout_s=120)
    assert r["restore"]["restored"]
    assert r["restore"]["changelog_records_read"] >= n  # one piece per group, at least
    assert r["first_task"]["records_in"] == n and r["first_task"]["written"] == n
    assert r["first_output_records"] > 0
    assert r["output_ok"], r
    assert r["output_missing_keys"] == 0
    assert r["restore"]["construct_s"] <= r["back_to_output_s"]
