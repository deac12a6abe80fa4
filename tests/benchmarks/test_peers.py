"""The Nexmark peers' registry, their row checks and how a peer process is read.

The peers themselves (Flink's JVM, Bytewax's and Pathway's virtualenvs) are too heavy
for CI; these tests cover what decides whether a peer's figures are reported as right.
"""

from __future__ import annotations

import sys
from pathlib import Path

import orjson
import pytest

from benchmarks.nexmark.generator import GeneratorConfig, NexmarkGenerator
from benchmarks.nexmark.peers import (
    PEERS,
    Topics,
    failure_reason,
    parse_peers,
    reference_verify,
    run_script,
    summary_lines,
    table_rows,
)
from benchmarks.nexmark.peers.rows import expected_rows, final_table, same_rows

CONFIG = GeneratorConfig(seed=3, events=3_000, rate=1_000, base_time_ms=1_700_000_000_123)


def bids() -> list[bytes]:
    return NexmarkGenerator(CONFIG).generate().bids


def brute_force_window_counts(encoded: list[bytes]) -> set[tuple[int, int, int]]:
    """Every 10 s window starting at a multiple of 2 s, scanned bid by bid."""
    decoded = [orjson.loads(b) for b in encoded]
    times = [v["date_time"] for v in decoded]
    start = (min(times) - 10_000) // 2_000 * 2_000
    out = set()
    for s in range(start, max(times) + 1, 2_000):
        per_auction: dict[int, int] = {}
        for v in decoded:
            if s <= v["date_time"] < s + 10_000:
                per_auction[v["auction"]] = per_auction.get(v["auction"], 0) + 1
        out |= {(s + 10_000, a, n) for a, n in per_auction.items()}
    return out


def test_registry_names_each_peer_and_its_queries() -> None:
    assert set(PEERS) == {"flink", "bytewax", "pathway"}
    for name in ("bytewax", "pathway"):
        assert PEERS[name].queries == ("q0", "q2", "q5_count")
    assert {"q0", "q1", "q2", "q5"} <= set(PEERS["flink"].queries)


def test_peers_option_defaults_to_all_and_refuses_unknown_names() -> None:
    available = ("quix", *PEERS)
    assert parse_peers(None, available) == list(available)
    assert parse_peers(" bytewax ,flink", available) == ["bytewax", "flink"]
    with pytest.raises(SystemExit, match="spark"):
        parse_peers("flink,spark", available)


def test_topics_count_the_records_a_query_reads() -> None:
    topics = Topics("h:1", "p_", {"bid": 46, "auction": 3, "person": 1})
    assert topics.records(["bid"]) == 46
    assert topics.records(["auction", "person"]) == 4


def test_windowed_count_expected_rows_equal_a_brute_force_scan() -> None:
    encoded = bids()
    rows = expected_rows("q5_count", encoded)
    assert len(rows) == len(set(rows))
    assert set(rows) == brute_force_window_counts(encoded)
    # every bid is in five windows
    assert sum(n for _, _, n in rows) == 5 * len(encoded)


def test_verify_accepts_right_rows_and_rejects_a_count_that_closes_too_few_windows() -> None:
    verify = reference_verify(CONFIG)
    encoded = bids()
    right = sorted(brute_force_window_counts(encoded))
    assert verify("q5_count", right) is True
    last_end = max(end for end, _, _ in right)
    # Quix's fault: the windows past the last bid never closed
    assert verify("q5_count", [r for r in right if r[0] != last_end]) is False
    # a late bid dropped from one window
    wrong = [(e, a, n - 1) if k == 0 else (e, a, n) for k, (e, a, n) in enumerate(right)]
    assert verify("q5_count", wrong) is False


def test_verify_checks_q0_and_q2_rows_as_multisets() -> None:
    verify = reference_verify(CONFIG)
    decoded = [orjson.loads(b) for b in bids()]
    q2 = [(v["auction"], v["price"]) for v in decoded if v["auction"] % 123 == 0]
    assert q2, "the generator gives auctions that are multiples of 123"
    assert verify("q2", list(reversed(q2))) is True
    assert verify("q2", q2[1:]) is False
    q0 = [(v["auction"], v["bidder"], v["price"], v["date_time"], v["extra"]) for v in decoded]
    assert verify("q0", q0) is True
    assert verify("q0", q0 + q0[:1]) is False
    assert verify("q7", []) is None


def test_final_table_applies_a_changelog() -> None:
    changes = [["+I", 1, 10], ["+I", 2, 20], ["-U", 1, 10], ["+U", 1, 11], ["-D", 2, 20]]
    assert final_table(changes) == [(1, 11)]
    with pytest.raises(ValueError):
        final_table([["-D", 3, 30]])
    assert same_rows([(1, 2), (1, 2)], [(1, 2), (1, 2)])
    assert not same_rows([(1, 2)], [(1, 2), (1, 2)])


def fake_peer(tmp_path: Path, result: dict[str, object], rows: list[list[object]]) -> list[str]:
    script = tmp_path / "peer.py"
    script.write_text(
        "import json, sys\n"
        f"rows = {rows!r}\n"
        "with open(sys.argv[1], 'w') as f:\n"
        "    for r in rows: f.write(json.dumps(r) + '\\n')\n"
        "print('some log line')\n"
        f"print(json.dumps({result!r}))\n")
    return [sys.executable, str(script), str(tmp_path / "rows.jsonl")]


def test_run_script_reads_a_stream_and_an_updating_changelog(tmp_path: Path) -> None:
    rows_file = tmp_path / "rows.jsonl"
    command = fake_peer(tmp_path, {"cpu_s": 1.5}, [["+I", 1, "a"], ["+I", 2, "b"]])
    result, rows = run_script(command, rows_file, timeout=60, changelog=True)
    assert result == {"cpu_s": 1.5}
    assert rows == [(1, "a"), (2, "b")]
    command = fake_peer(tmp_path, {"cpu_s": 1.0}, [["+I", 1, "a"], ["-U", 1, "a"],
                                                     ["+U", 1, "c"]])
    result, rows = run_script(command, rows_file, timeout=60, changelog=True)
    assert result["updating"] is True
    assert rows == [(1, "c")]
    command = fake_peer(tmp_path, {"cpu_s": 1.0}, [[7, 8]])
    assert run_script(command, rows_file, timeout=60)[1] == [(7, 8)]


def test_run_script_reports_a_peer_that_fails(tmp_path: Path) -> None:
    command = [sys.executable, "-c", "import sys; sys.exit('no engine here')"]
    result, rows = run_script(command, tmp_path / "rows.jsonl", timeout=60)
    assert rows is None
    assert "no engine here" in result["error"]


def test_a_failed_jvm_peer_reports_its_exception_not_its_stack() -> None:
    stderr = "\n".join([
        "Exception in thread \"main\" org.apache.flink.table.api.TableException: "
        "OVER windows' ordering in stream mode must be defined on a time attribute.",
        "\tat org.apache.flink.table.planner.Foo.bar(Foo.java:1)",
        "\tat pycql.bench.flink.NexmarkFlinkPeer.main(NexmarkFlinkPeer.java:88)"])
    reason = failure_reason(stderr)
    assert reason.startswith("Exception in thread")
    assert "OVER windows" in reason and "NexmarkFlinkPeer" not in reason


def test_skipped_and_wrong_peers_show_in_the_table_and_summary() -> None:
    peers = {
        "pathway": {"skipped": "could not install pathway"},
        "bytewax": {"title": "Bytewax", "version": "0.21.1",
                    "q2": {"records": 100, "records_per_s": 50.0, "records_per_cpu_s": 80.0,
                           "emitted": 3, "max_rss_mb": 12.0, "verified": False}},
    }
    rows = table_rows(peers, width=15)  # the runner's columns
    assert all(len(r) == 15 for r in rows)
    assert "skipped: could not install pathway" in rows[0][1]
    # query, verified, records, rec/s, per core, ..., emitted (10th), ..., RSS (14th)
    assert rows[1][:5] == ["Bytewax q2", "FAILED", "100", "50", "80"]
    assert rows[1][9] == "3" and rows[1][13] == "12"
    pycql = {"q2": {"throughput": {"records_per_cpu_s": 400.0}}}
    lines = summary_lines(peers, pycql)
    assert "Pathway: skipped (could not install pathway)" in lines
    assert "q2 5.00x WRONG" in lines[1]
