"""The Nexmark benchmark's generator and queries.

* the generator is deterministic (same seed -> byte-identical JSON, whatever
  the batching) and follows the Nexmark specification's proportions;
* every benchmark query plans to the kind it declares, and gives the same
  result on the embedded log and on a real Kafka broker; q0, q2, q9-q12, q14-q22
  are also checked against results computed here from the generated events, in
  plain Python.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
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
    out: list[tuple[Any, ...]] = []
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


# -- q9, q10, q12, q14-q17, q20-q22 against plain Python over the generated events ---------

#: From 2023-11-14 23:58:20 UTC, 200 s of events at 20/s: four minutes on two days.
_MIDNIGHT_CONFIG = GeneratorConfig(base_time_ms=1_700_006_300_000, seed=7, events=4_000, rate=20)
_BID_COLUMNS = ("auction", "bidder", "price", "channel", "url", "date_time", "extra")


@pytest.fixture(scope="module")
def midnight_log() -> Any:
    memory = MemoryLog()
    load_events(memory, _MIDNIGHT_CONFIG, "")
    batch = NexmarkGenerator(_MIDNIGHT_CONFIG).generate()
    yield (memory, [orjson.loads(b) for b in batch.bids],
           [orjson.loads(a) for a in batch.auctions])


def _run_on(log: Any, name: str) -> tuple[list[Any], list[Any] | None]:
    emissions, snapshot, late = _run(plan_query(QUERIES[name], ""), log)
    assert late == 0
    return emissions, snapshot


def _utc(ms: int, fmt: str) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime(fmt)


def test_q14_matches_the_conversion_hours_and_c_counts_computed_from_the_bids() -> None:
    # 2023-11-14 18:40 UTC, a bid about every second for 83 minutes: day, other and night
    config = GeneratorConfig(base_time_ms=1_699_987_200_000, seed=3, events=5_000, rate=1)
    memory = MemoryLog()
    load_events(memory, config, "")
    bids = [orjson.loads(b) for b in NexmarkGenerator(config).generate().bids]
    emissions, _ = _run_on(memory, "q14")
    expected = []
    for b in bids:
        price = Decimal("0.908") * b["price"]
        if not 1_000_000 < price < 50_000_000:
            continue
        hour = datetime.fromtimestamp(b["date_time"] / 1000, tz=UTC).hour
        kind = ("dayTime" if 8 <= hour <= 18 else "nightTime" if hour <= 6 or hour >= 20
                else "otherTime")
        expected.append((b["auction"], b["bidder"], price, kind, b["date_time"], b["extra"],
                         b["extra"].count("c")))
    assert {row[3] for row in expected} == {"dayTime", "otherTime", "nightTime"}
    assert any(row[6] > 0 for row in expected)
    assert [e[2] for e in emissions] == expected
    assert [e[0] for e in emissions] == [row[4] for row in expected]


_RANKS: tuple[Callable[[int], bool], ...] = (
    lambda p: True, lambda p: p < 10_000, lambda p: 10_000 <= p < 1_000_000,
    lambda p: p >= 1_000_000)


def _ranked_counts(group: list[dict[str, Any]], column: str | None) -> list[int]:
    """Total and per price rank: the bids (``column`` None) or distinct values of ``column``."""
    out = []
    for keep in _RANKS:
        rows = [b for b in group if keep(b["price"])]
        out.append(len(rows) if column is None else len({b[column] for b in rows}))
    return out


def _groups(bids: list[dict[str, Any]],
            key: Callable[[dict[str, Any]], Any]) -> dict[Any, list[dict[str, Any]]]:
    groups: dict[Any, list[dict[str, Any]]] = {}
    for b in bids:
        groups.setdefault(key(b), []).append(b)
    return groups


def test_q15_q16_q17_match_per_day_statistics_computed_from_the_bids(midnight_log: Any) -> None:
    memory, bids, _ = midnight_log

    def day(b: dict[str, Any]) -> str:
        return _utc(b["date_time"], "%Y-%m-%d")

    assert len({day(b) for b in bids}) == 2

    q15 = [(d, *_ranked_counts(g, None), *_ranked_counts(g, "bidder"),
            *_ranked_counts(g, "auction")) for d, g in _groups(bids, day).items()]
    assert _run_on(memory, "q15")[1] == sorted(q15, key=repr)

    q16 = [(channel, d, max(_utc(b["date_time"], "%H:%M") for b in g),
            *_ranked_counts(g, None), *_ranked_counts(g, "bidder"), *_ranked_counts(g, "auction"))
           for (channel, d), g in _groups(bids, lambda b: (b["channel"], day(b))).items()]
    assert len(q16) > 100
    assert _run_on(memory, "q16")[1] == sorted(q16, key=repr)

    q17 = []
    for (auction, d), g in _groups(bids, lambda b: (b["auction"], day(b))).items():
        prices = [b["price"] for b in g]
        q17.append((auction, d, *_ranked_counts(g, None), min(prices), max(prices),
                    sum(prices) // len(prices), sum(prices)))
    assert _run_on(memory, "q17")[1] == sorted(q17, key=repr)


def test_q20_matches_the_bids_paired_with_their_category_10_auctions(midnight_log: Any) -> None:
    memory, bids, auctions = midnight_log
    by_id = {a["id"]: a for a in auctions if a["category"] == 10}
    expected: Counter[tuple[int, tuple[Any, ...]]] = Counter()
    for b in bids:
        a = by_id.get(b["auction"])
        if a is not None:
            row = (*(b[c] for c in _BID_COLUMNS),
                   *(a[c] for c in ("item_name", "description", "initial_bid", "reserve",
                                    "date_time", "expires", "seller", "category", "extra")))
            # a pair is emitted when its later event arrives
            expected[(max(a["date_time"], b["date_time"]), row)] += 1
    assert sum(expected.values()) > 100
    emissions, _ = _run_on(memory, "q20")
    assert all(sign == 1 for _, sign, _ in emissions)
    assert Counter((t, row) for t, _, row in emissions) == expected


def test_q21_q22_match_the_url_parsed_in_plain_python(midnight_log: Any) -> None:
    memory, bids, _ = midnight_log
    hot = {"apple": "0", "google": "1", "facebook": "2", "baidu": "3"}
    q21 = []
    for b in bids:
        query = b["url"].partition("?")[2]
        ids = [v for k, _, v in (p.partition("=") for p in query.split("&")) if k == "channel_id"]
        channel_id = hot.get(b["channel"].lower(), ids[0] if ids else None)
        if channel_id is not None:
            q21.append((b["auction"], b["bidder"], b["price"], b["channel"], channel_id))
    assert len(q21) < len(bids)  # some numbered channels have no channel_id
    assert [e[2] for e in _run_on(memory, "q21")[0]] == q21

    q22 = [(b["auction"], b["bidder"], b["price"], b["channel"], *b["url"].split("/")[3:6])
           for b in bids]
    assert [e[2] for e in _run_on(memory, "q22")[0]] == q22


def test_q9_matches_the_highest_bid_inside_each_auctions_lifetime(midnight_log: Any) -> None:
    memory, bids, auctions = midnight_log
    assert len({b["date_time"] for b in bids}) == len(bids)  # no ties: one order only
    best: dict[int, dict[str, Any]] = {}
    by_id = {a["id"]: a for a in auctions}
    for b in bids:
        a = by_id.get(b["auction"])
        if a is None or not a["date_time"] <= b["date_time"] <= a["expires"]:
            continue
        held = best.get(a["id"])
        if held is None or (-b["price"], b["date_time"]) < (-held["price"], held["date_time"]):
            best[a["id"]] = b
    auction_columns = ("id", "item_name", "description", "initial_bid", "reserve", "date_time",
                       "expires", "seller", "category", "extra")
    expected = sorted(((*(by_id[i][c] for c in auction_columns), b["auction"], b["bidder"],
                        b["price"], b["date_time"], b["extra"]) for i, b in best.items()),
                      key=repr)
    assert len(expected) > 30
    assert _run_on(memory, "q9")[1] == expected


def test_q10_matches_the_bids_with_their_day_and_minute(midnight_log: Any) -> None:
    memory, bids, _ = midnight_log
    expected = [(b["auction"], b["bidder"], b["price"], b["date_time"], b["extra"],
                 _utc(b["date_time"], "%Y-%m-%d"), _utc(b["date_time"], "%H:%M")) for b in bids]
    assert len({row[5:] for row in expected}) == 4  # two days, four minutes
    assert [e[2] for e in _run_on(memory, "q10")[0]] == expected


def test_q12_matches_counts_per_bidder_in_10_second_tumbling_windows(midnight_log: Any) -> None:
    memory, bids, _ = midnight_log
    # in plain Python: the window ending at t (a multiple of 10 s) holds (t - 10 s, t]; its
    # rows are emitted at t, when a later bid shows that t has come (not the last window)
    windows: dict[tuple[int, int], list[int]] = {}
    for b in bids:
        end = -(-b["date_time"] // 10_000) * 10_000
        windows.setdefault((end, b["bidder"]), []).append(b["date_time"])
    last = max(b["date_time"] for b in bids)
    expected = Counter((end, (bidder, len(times), min(times), max(times)))
                       for (end, bidder), times in windows.items() if end <= last)
    assert len({end for end, _ in expected}) == 19
    emissions, _ = _run_on(memory, "q12")
    assert all(sign == 1 for _, sign, _ in emissions)
    assert Counter((t, row) for t, _, row in emissions) == expected
