"""The Nexmark benchmark's generator and queries.

* the generator is deterministic (same seed -> byte-identical JSON, whatever
  the batching) and follows the Nexmark specification's proportions;
* every benchmark query plans to the kind it declares, and gives the same
  result on the embedded log and on a real Kafka broker; q0, q2, q11, q18 and q19
  are also checked against results computed here from the generated events.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from typing import Any

import orjson
import pytest

from benchmarks.nexmark.generator import (
    CHUNK_EVENTS,
    FIRST_AUCTION_ID,
    FIRST_PERSON_ID,
    SCHEMAS,
    GeneratorConfig,
    NexmarkGenerator,
    event_kind,
)
from benchmarks.nexmark.queries import QUERIES, QUERY_ORDER
from benchmarks.nexmark.run import load_events, plan_query
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


@pytest.mark.kafka
def test_q0_q2_q18_match_results_computed_from_the_events(loaded_logs: Any) -> None:
    config, prefix, _memory, kafka = loaded_logs
    bids = [orjson.loads(b) for b in NexmarkGenerator(config).generate().bids]

    q0 = _run(plan_query(QUERIES["q0"], prefix), kafka)
    assert [e[2] for e in q0[0]] == [
        (b["auction"], b["bidder"], b["price"], b["date_time"], b["extra"]) for b in bids]
    assert [e[0] for e in q0[0]] == [b["date_time"] for b in bids]

    q2 = _run(plan_query(QUERIES["q2"], prefix), kafka)
    assert [e[2] for e in q2[0]] == [
        (b["auction"], b["price"]) for b in bids if b["auction"] % 123 == 0]

    q18 = _run(plan_query(QUERIES["q18"], prefix), kafka)
    last: dict[tuple[int, int], dict[str, Any]] = {}
    for b in bids:
        last[(b["bidder"], b["auction"])] = b
    expected = sorted(((b["auction"], b["bidder"], b["price"], b["channel"], b["url"],
                        b["date_time"], b["extra"]) for b in last.values()), key=repr)
    assert q18[1] == expected


def _q19_reference(bids: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """The 10 highest bids of each auction, numbered, in plain Python: price descending,
    bids of equal price by their column values (docs/cql.md)."""
    columns = ("auction", "bidder", "price", "channel", "url", "date_time", "extra")
    by_auction: dict[int, list[tuple[Any, ...]]] = {}
    for b in bids:
        by_auction.setdefault(b["auction"], []).append(tuple(b[c] for c in columns))
    out = []
    for rows in by_auction.values():
        rows.sort(key=lambda r: (-r[2], r))
        out.extend((*r, i + 1) for i, r in enumerate(rows[:10]))
    return sorted(out, key=repr)


def test_q19_on_the_embedded_log_matches_a_plain_python_top_10() -> None:
    config = GeneratorConfig(seed=5, events=8_000, rate=1_000)
    memory = MemoryLog()
    load_events(memory, config, "")
    bids = [orjson.loads(b) for b in NexmarkGenerator(config).generate().bids]
    plan = plan_query(QUERIES["q19"], "")
    assert [op["op"] for op in plan["operators"]].count("top_n") == 1
    _emissions, snapshot, late = _run(plan, memory)
    assert late == 0
    expected = _q19_reference(bids)
    assert len(expected) > 100
    assert snapshot == expected


def test_q11_sessions_match_sessions_computed_from_the_events() -> None:
    config = GeneratorConfig(base_time_ms=1_700_000_000_000, seed=5, events=4_000, rate=10)
    bids = [orjson.loads(b) for b in NexmarkGenerator(config).generate().bids]
    memory = MemoryLog()
    load_events(memory, config, "")
    emissions, _, late = _run(plan_query(QUERIES["q11"], ""), memory)
    assert late == 0
    gap = 10_000
    # each bidder's sessions, in plain Python: a bid 10 s or more after the bidder's
    # previous one opens the next session; a session's row leaves at last + 10 s
    sessions: dict[int, list[list[int]]] = {}
    for b in sorted(bids, key=lambda b: b["date_time"]):
        own = sessions.setdefault(b["bidder"], [])
        if own and b["date_time"] - own[-1][-1] < gap:
            own[-1].append(b["date_time"])
        else:
            own.append([b["date_time"]])
    end = max(b["date_time"] for b in bids)
    expected = Counter((bidder, len(times), times[0], times[-1])
                       for bidder, own in sessions.items() for times in own
                       if times[-1] + gap <= end)
    assert len(expected) > 50  # the gaps do close sessions in this input
    # the final rows are the deletions at last_time + 10 s; the others replace counts
    finals = Counter(row for t, sign, row in emissions if t == row[3] + gap)
    assert finals - Counter({r: n for r, n in finals.items() if r[3] + gap == end}) == expected
