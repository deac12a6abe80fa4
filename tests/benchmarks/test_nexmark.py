"""The Nexmark benchmark's generator and queries.

* the generator is deterministic (same seed -> byte-identical JSON, whatever
  the batching) and follows the Nexmark specification's proportions;
* every benchmark query plans to the kind it declares, and gives the same
  result on the embedded log and on a real Kafka broker;
* every query's whole output (each row at its instant, with its sign) equals that of
  its plain-Python reference (``benchmarks/nexmark/reference.py``, json-decoded
  events, no pycql code), over inputs chosen to exercise it: windows that close,
  sessions that end, two UTC days, every time of day;
* the check itself can fail: a digest sees a changed, moved, missing or extra row, and
  a query other than the reference's does not pass.
"""

from __future__ import annotations

import itertools
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from benchmarks.nexmark import reference
from benchmarks.nexmark.generator import (
    CHUNK_EVENTS,
    FIRST_AUCTION_ID,
    FIRST_PERSON_ID,
    SCHEMAS,
    GeneratorConfig,
    NexmarkGenerator,
    event_kind,
)
from benchmarks.nexmark.queries import QUERIES, QUERY_ORDER, NexmarkQuery
from benchmarks.nexmark.reference import Digest
from benchmarks.nexmark.run import load_events, plan_query, verify
from pycql.log import MemoryLog, open_log
from pycql.runtime.runner import QueryRunner

# -- the generator ----------------------------------------------------------------------


def _all(config: GeneratorConfig) -> list[bytes]:
    batch = NexmarkGenerator(config).generate()
    return batch.persons + batch.auctions + batch.bids


def test_same_seed_gives_identical_bytes() -> None:
    config = GeneratorConfig(seed=42, events=25_000)
    assert _all(config) == _all(GeneratorConfig(seed=42, events=25_000))


def test_different_seeds_give_different_events() -> None:
    a = NexmarkGenerator(GeneratorConfig(seed=1, events=5_000)).generate()
    b = NexmarkGenerator(GeneratorConfig(seed=2, events=5_000)).generate()
    assert a.bids != b.bids
    assert a.auctions != b.auctions
    assert a.persons != b.persons
    # the structure (kinds, ids, event times) does not depend on the seed
    assert [orjson.loads(p)["id"] for p in a.persons] == [orjson.loads(p)["id"] for p in b.persons]
    assert a.bid_times == b.bid_times


def test_batching_and_offsets_do_not_change_the_events() -> None:
    config = GeneratorConfig(seed=3, events=2 * CHUNK_EVENTS + 777)
    whole = NexmarkGenerator(config).generate()
    pieces: list[bytes] = []
    for batch in NexmarkGenerator(config).chunks(batch_events=1234):
        pieces += batch.bids
    assert pieces == whole.bids
    # a run that starts mid-chunk continues the longer run exactly
    tail = NexmarkGenerator(GeneratorConfig(seed=3, events=5_000, first_event=12_345)).generate()
    longer = NexmarkGenerator(GeneratorConfig(seed=3, events=17_345)).generate()
    assert tail.bids == longer.bids[-len(tail.bids):]
    assert tail.auctions == longer.auctions[-len(tail.auctions):]
    assert tail.persons == longer.persons[-len(tail.persons):]


def test_json_is_orjson_canonical_with_the_declared_columns() -> None:
    batch = NexmarkGenerator(GeneratorConfig(seed=5, events=2_000)).generate()
    for kind, values in (("person", batch.persons), ("auction", batch.auctions),
                         ("bid", batch.bids)):
        for value in values:
            document = orjson.loads(value)
            assert orjson.dumps(document) == value
            assert list(document) == [name for name, _ in SCHEMAS[kind]]


def test_proportions_ids_and_times_follow_the_specification() -> None:
    config = GeneratorConfig(seed=9, events=100_000, rate=10_000, base_time_ms=1_000_000)
    batch = NexmarkGenerator(config).generate()
    # 1 person : 3 auctions : 46 bids in every 50 events
    assert (len(batch.persons), len(batch.auctions), len(batch.bids)) == (2_000, 6_000, 92_000)
    assert [event_kind(n) for n in range(50)].count("bid") == 46
    persons = [orjson.loads(p) for p in batch.persons]
    auctions = [orjson.loads(a) for a in batch.auctions]
    bids = [orjson.loads(b) for b in batch.bids]
    # dense ids from 1000
    assert [p["id"] for p in persons] == list(range(FIRST_PERSON_ID, FIRST_PERSON_ID + 2_000))
    assert [a["id"] for a in auctions] == list(range(FIRST_AUCTION_ID, FIRST_AUCTION_ID + 6_000))
    # event time: event n at base + n * 1000 // rate
    assert persons[1]["date_time"] == 1_000_000 + 50 * 1000 // 10_000
    times = batch.bid_times
    assert times == sorted(times)
    assert times[-1] == 1_000_000 + 99_999 * 1000 // 10_000
    for a in auctions:
        assert a["expires"] > a["date_time"]
        assert 10 <= a["category"] <= 14
        assert a["reserve"] > a["initial_bid"] >= 100
        assert a["seller"] < FIRST_PERSON_ID + 2_000 + 10  # an existing person (or the lead)
    # hot auctions: half the bids go to the newest multiple of 100
    auction_counts = Counter(b["auction"] for b in bids)
    hot_share = sum(n for a, n in auction_counts.items() if (a - FIRST_AUCTION_ID) % 100 == 0)
    assert 0.45 < hot_share / len(bids) < 0.6
    # hot bidders: three quarters of bids from persons 1001, 1101, 1201, ...
    hot_bidders = sum(1 for b in bids if (b["bidder"] - FIRST_PERSON_ID) % 100 == 1)
    assert 0.7 < hot_bidders / len(bids) < 0.8
    prices = [b["price"] for b in bids]
    assert min(prices) >= 100 and max(prices) <= 100_000_000
    # log-uniform prices: about a sixth of them in each decade
    in_first_decade = sum(1 for p in prices if p < 1_000) / len(prices)
    assert 0.14 < in_first_decade < 0.19
    # a bid's auction exists already or is at most 10 ahead (Nexmark's lead)
    assert all(b["auction"] < FIRST_AUCTION_ID + 6_000 + 10 for b in bids)


# -- the queries ------------------------------------------------------------------------

#: 20 000 events at 1 000 events/s: 20 s of event time, so the 10 s windows
#: of q5, q7 and q8 close twice.
SMALL = {"seed": 11, "events": 20_000, "rate": 1_000}


def _config() -> GeneratorConfig:
    # event time from now: the broker's time-based retention must not delete it
    return GeneratorConfig(base_time_ms=(int(time.time()) // 60) * 60_000, **SMALL)


def _run(plan: dict[str, Any], log: Any) -> tuple[list[Any], list[Any] | None, int]:
    with QueryRunner(plan, log, start="earliest", stop="end") as runner:
        emissions = [tuple(e) for e in runner]
        snapshot = None
        if runner.executor.result_kind == "relation":
            snapshot = sorted(runner.snapshot(), key=repr)
        return emissions, snapshot, runner.metrics.late_records


@pytest.mark.parametrize("name", QUERY_ORDER)
def test_query_plans_to_its_declared_kind(name: str) -> None:
    plan = plan_query(QUERIES[name], "")
    assert plan["result"]["kind"] == QUERIES[name].kind


@pytest.fixture(scope="module")
def loaded_logs(kafka_bootstrap: str) -> Any:
    config = _config()
    prefix = f"nx{uuid.uuid4().hex[:8]}_"
    memory = MemoryLog()
    load_events(memory, config, prefix)
    kafka = open_log(f"kafka://{kafka_bootstrap}")
    load_events(kafka, config, prefix)
    try:
        yield config, prefix, memory, kafka
    finally:
        for topic in kafka.topics():
            if topic.startswith(prefix):
                kafka.delete_topic(topic)
        kafka.close()


@pytest.mark.kafka
@pytest.mark.parametrize("name", QUERY_ORDER)
def test_query_gives_the_same_result_on_memory_and_kafka(name: str, loaded_logs: Any) -> None:
    _, prefix, memory, kafka = loaded_logs
    plan = plan_query(QUERIES[name], prefix)
    on_memory = _run(plan, memory)
    on_kafka = _run(plan, kafka)
    assert on_memory[2] == 0 and on_kafka[2] == 0, "late records: input was dropped"
    assert on_memory[0], f"{name} emitted nothing over {SMALL['events']} events"
    assert on_memory[0] == on_kafka[0]
    assert on_memory[1] == on_kafka[1]


def _digest(plan: dict[str, Any], log: Any) -> Digest:
    """pycql's whole output as a digest (every emission: instant, sign, row)."""
    digest = Digest()
    with QueryRunner(plan, log, start="earliest", stop="end") as runner:
        digest.add_all(runner)
        assert runner.metrics.late_records == 0, "late records: input was dropped"
    return digest


def _memory_log(config: GeneratorConfig) -> MemoryLog:
    memory = MemoryLog()
    load_events(memory, config, "")
    return memory


#: The inputs the references are checked on, each with the queries it exercises.
#: SMALL (20 s of event time at 1 000 events/s) closes the 10 s windows twice;
_SMALL_CONFIG = GeneratorConfig(base_time_ms=1_700_000_000_000, **SMALL)
#: from 2023-11-14 23:58:20 UTC, 200 s of events at 20/s: four minutes on two days;
_MIDNIGHT_CONFIG = GeneratorConfig(base_time_ms=1_700_006_300_000, seed=7, events=4_000, rate=20)
#: 2023-11-14 18:40 UTC, a bid about every second for 83 minutes: day, other and night time;
_HOURS_CONFIG = GeneratorConfig(base_time_ms=1_699_987_200_000, seed=3, events=5_000, rate=1)
#: 10 events a second: bidders' gaps of 10 s and more, so sessions close.
_SESSIONS_CONFIG = GeneratorConfig(base_time_ms=1_700_000_000_000, seed=5, events=4_000, rate=10)

_CHECKS = (
    [("small", name) for name in QUERY_ORDER]
    + [("midnight", name) for name in ("q9", "q10", "q12", "q15", "q16", "q17", "q20", "q21",
                                       "q22")]
    + [("hours", "q14"), ("sessions", "q11")]
)
_CONFIGS = {"small": _SMALL_CONFIG, "midnight": _MIDNIGHT_CONFIG, "hours": _HOURS_CONFIG,
            "sessions": _SESSIONS_CONFIG}


@pytest.fixture(scope="module")
def checked_inputs() -> dict[str, tuple[MemoryLog, dict[str, Digest]]]:
    """Each input on the embedded log, with the references of its queries (one pass each)."""
    out = {}
    for label, config in _CONFIGS.items():
        names = [name for which, name in _CHECKS if which == label]
        out[label] = (_memory_log(config), reference.compute(config, names))
    return out


@pytest.mark.parametrize(("label", "name"), _CHECKS)
def test_query_output_equals_its_plain_python_reference(
        label: str, name: str, checked_inputs: dict[str, tuple[MemoryLog, dict[str, Digest]]]
) -> None:
    log, expected = checked_inputs[label]
    assert expected[name].net > 0, f"the reference of {name} expects nothing on {label}"
    got = _digest(plan_query(QUERIES[name], ""), log)
    assert got == expected[name], expected[name].differences(got)


def test_the_inputs_exercise_what_they_are_for() -> None:
    """Two UTC days, every time of day, windows and sessions that close."""
    def bids(config: GeneratorConfig) -> list[dict[str, Any]]:
        return [orjson.loads(b) for b in NexmarkGenerator(config).generate().bids]

    def day(ms: int) -> str:
        return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d")

    assert len({day(b["date_time"]) for b in bids(_MIDNIGHT_CONFIG)}) == 2
    hours = {datetime.fromtimestamp(b["date_time"] / 1000, tz=UTC).hour
             for b in bids(_HOURS_CONFIG)}
    assert {18, 19, 20} <= hours  # day (<= 18), other (19) and night (>= 20) time
    small = bids(_SMALL_CONFIG)
    assert small[-1]["date_time"] - small[0]["date_time"] > 10_000  # windows close
    digests = reference.compute(_SESSIONS_CONFIG, ["q11"])
    # DSTREAM rows at last + 10 s: sessions that ended, not only replaced counts
    by_bidder: dict[int, list[int]] = {}
    for b in bids(_SESSIONS_CONFIG):
        by_bidder.setdefault(b["bidder"], []).append(b["date_time"])
    assert any(later - earlier >= 10_000 for times in by_bidder.values()
               for earlier, later in itertools.pairwise(times))
    assert digests["q11"].net > 50


@pytest.mark.kafka
def test_q0_q2_q18_on_kafka_equal_their_references(loaded_logs: Any) -> None:
    config, prefix, _memory, kafka = loaded_logs
    expected = reference.compute(config, ["q0", "q2", "q18"])
    for name in ("q0", "q2", "q18"):
        got = _digest(plan_query(QUERIES[name], prefix), kafka)
        assert got == expected[name], f"{name}: {expected[name].differences(got)}"


# -- the check can fail ---------------------------------------------------------------------


def test_a_digest_sees_a_changed_moved_missing_or_extra_row() -> None:
    rows = [(1_000, 1, (1, "a", 2.5)), (1_000, 1, (2, "b", 3.0)), (2_000, -1, (1, "a", 2.5))]

    def of(emissions: list[tuple[int, int, tuple[Any, ...]]]) -> Digest:
        digest = Digest()
        digest.add_all(emissions)
        return digest

    base = of(rows)
    assert of(list(reversed(rows))) == base  # order is free
    assert of([*rows, (3_000, 1, (9,)), (3_000, -1, (9,))]) == base  # pairs cancel
    assert of([(1_000, 1, (1, "a", 2.5)), (1_000, 1, (2, "b", 3.5)), rows[2]]) != base
    assert of([(1_001, 1, (1, "a", 2.5)), *rows[1:]]) != base  # another instant
    assert of(rows[:2]) != base
    assert of([*rows, rows[0]]) != base
    assert of([(1_000, 1, (1, "a", 2)), *rows[1:]]) != base  # an int is not a float
    assert "1 of 2 seconds differ" in base.differences(of(rows[:2]))
    assert Digest.from_json(base.to_json()) == base


def test_a_query_other_than_the_references_fails_the_check() -> None:
    config = GeneratorConfig(seed=2, events=15_000, rate=1_000)
    expected = reference.compute(config, ["q2", "q5_count"])
    log = _memory_log(config)
    wrong_q2 = NexmarkQuery("q2", "", "SELECT auction, price FROM bid WHERE MOD(auction, 124) = 0",
                            ("bid",), "stream")
    got = _digest(plan_query(wrong_q2, ""), log)
    assert got != expected["q2"]
    measured = {"output": got.to_json()}
    assert verify(expected["q2"], measured).startswith("FAILED")
    assert verify(expected["q2"], {**measured, "partial": True}).startswith("not checked")
    # the same count over a window one second longer: same rows at first, then not
    longer = NexmarkQuery("q5_count", "", QUERIES["q5_count"].sql.replace("10 SECONDS",
                                                                          "11 SECONDS"),
                          ("bid",), "relation")
    assert _digest(plan_query(longer, ""), log) != expected["q5_count"]
    right = _digest(plan_query(QUERIES["q2"], ""), log)
    assert verify(expected["q2"], {"output": right.to_json()}) == "ok"


def test_quix_window_reference_counts_closed_start_end_windows() -> None:
    counts = reference.QuixWindowCounts()
    for t, auction in ((1_000, 1), (2_000, 1), (12_000, 2)):
        counts.instant(t, [], [], [{"auction": auction, "date_time": t}])
    counts.finish()
    expected = Digest()
    # [start, start + 10 s) at multiples of 2 s; closed when the last time reaches the end
    for start, n in ((-8_000, 1), (-6_000, 2), (-4_000, 2), (-2_000, 2), (0, 2), (2_000, 1)):
        expected.add(start + 10_000, (1, start, start + 10_000, n))
    assert counts.digest == expected
