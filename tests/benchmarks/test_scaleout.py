"""The scale-out benchmark (``benchmarks/scaleout.py``) tiny, on the session's Kafka broker.

No timing is asserted: only that a staged job run by a worker process verifies against
the bounded cursor, that an output which is not the oracle's is reported FAILED with
what differs, and how the ratios are computed.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

import pycql
from benchmarks.scaleout import CASES, create_s, markdown, measure, rows_of, summarize

pytestmark = pytest.mark.kafka

EVENTS = 3_000


@pytest.fixture(scope="module")
def loaded(kafka_bootstrap: str) -> Iterator[tuple[pycql.Connection, str]]:
    conn = pycql.connect(f"kafka://{kafka_bootstrap}", rowtime_column=True)
    name = f"S_so{uuid.uuid4().hex[:6]}"
    create_s(conn, name, EVENTS)
    try:
        yield conn, name
    finally:
        conn.close()


def test_a_staged_run_on_one_worker_verifies(kafka_bootstrap: str, tmp_path: Path,
                                             loaded: tuple[pycql.Connection, str]) -> None:
    conn, s = loaded
    case = CASES["group_by_non_key"]
    want = rows_of(conn, case.sql.format(S=s), case.kind)
    assert sum(want.values()) == 37
    r = measure(conn, kafka_bootstrap, "group_by_non_key", case, s, EVENTS, 1, tmp_path, want)
    assert r["verified"] and r["difference"] is None, r["difference"]
    assert r["job"]["status"] == "RUNNING" and r["output_records"] > 0
    assert r["worker_cpu_s"] > 0 and r["worker_cpu_share"] == [1.0]
    assert r["records_per_cpu_s"] == round(EVENTS / r["worker_cpu_s"])


def test_an_output_that_is_not_the_oracles_is_failed(
        kafka_bootstrap: str, tmp_path: Path, loaded: tuple[pycql.Connection, str]) -> None:
    conn, s = loaded
    case = CASES["group_by_key"]
    want = rows_of(conn, case.sql.format(S=s), case.kind)
    dropped = next(iter(want))
    del want[dropped]                          # the oracle one row short: the job has it
    r = measure(conn, kafka_bootstrap, "group_by_key", case, s, EVENTS, 1, tmp_path, want,
                timeout_s=20)
    assert not r["verified"]
    assert r["difference"]["extra"] == 1 and r["difference"]["missing"] == 0
    assert r["difference"]["extra_sample"] == [list(map(str, dropped))]
    assert "**FAILED**" in markdown({"runs": [r], "summary": summarize([r]), "cpus": 2,
                                     "load_average": {"start": [0], "end": [0]}})


def test_the_ratios() -> None:
    def run(query: str, workers: int, rate: int, verified: bool = True) -> dict[str, object]:
        return {"query": query, "workers": workers, "records_per_cpu_s": rate,
                "verified": verified}

    s = summarize([run("group_by_key", 1, 1000), run("group_by_key", 2, 900),
                   run("group_by_non_key", 1, 500), run("group_by_non_key", 2, 300),
                   run("q5", 1, 100), run("q5", 2, 90, verified=False)])
    assert s["scaling"]["group_by_key"] == {"ratio_2_to_1": 0.9, "goal": 0.8,
                                            "meets_goal": True}
    assert s["scaling"]["group_by_non_key"]["meets_goal"] is False
    assert s["scaling"]["q5"]["ratio_2_to_1"] is None      # a FAILED run gives no ratio
    assert s["exchange_cost"] == {"1_workers": {"two_stage_over_one_stage": 0.5},
                                  "2_workers": {"two_stage_over_one_stage": 0.333}}
