"""The fault harness (``benchmarks/faults.py``) on a short run: three jobs (a windowed
GROUP BY aggregate, a stream-stream RANGE join, a stream-table join) run by two
``pycql worker`` processes that are SIGKILLed and restarted at random moments, half of
the input arriving while that happens; every output, read back ``read_committed`` by a
plain confluent-kafka consumer, must equal the bounded cursor's result over the same
input: nothing lost, nothing duplicated, nothing wrong.

The broker-restart variant runs its own broker (the session broker is shared and is
never restarted); the other one uses the session broker."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from benchmarks.faults import Config, run, table
from pycql.kafka import LocalBroker, free_port_pair

pytestmark = pytest.mark.kafka


def _check(result: dict[str, Any]) -> None:
    print(table(result))
    problems = {name: {k: j[k] for k in ("rows_expected", "rows_read", "rows_lost",
                                        "rows_duplicated", "rows_wrong")}
                for name, j in result["jobs"].items()
                if j["rows_lost"] or j["rows_duplicated"] or j["rows_wrong"]}
    assert not problems, f"{problems}; worker logs in {result['config']['workdir']}"
    for j in result["jobs"].values():
        assert j["rows_expected"] > 0


def test_kills_and_a_broker_restart_lose_and_duplicate_nothing(tmp_path: Path) -> None:
    broker = LocalBroker(tmp_path / "broker", free_port_pair())
    broker.start(timeout=120)
    try:
        result = run(Config(events=60_000, kills=5, seed=7, workers=2, partitions=6,
                            broker_restart=True, out=None, settle_timeout_s=90,
                            workdir=str(tmp_path / "run")), broker=broker)
    finally:
        broker.stop()
    assert result["config"]["broker_restart"]
    assert all(j["broker_restarts"] == 1 and j["kills"] == 5 for j in result["jobs"].values())
    _check(result)


def test_kills_on_the_session_broker_lose_and_duplicate_nothing(
        kafka_bootstrap: str, tmp_path: Path) -> None:
    result = run(Config(events=40_000, kills=5, seed=11, workers=2, partitions=6,
                        broker_restart=False, bootstrap=kafka_bootstrap, out=None,
                        settle_timeout_s=90, kill_every_s=(0.5, 2.0),
                        workdir=str(tmp_path / "run")))
    assert all(j["broker_restarts"] == 0 and j["kills"] == 5 for j in result["jobs"].values())
    _check(result)
