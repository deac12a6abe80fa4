"""The Bytewax peer: Nexmark q0, q2 and the windowed count (q5_count) on Bytewax.

Runs inside ``benchmarks/.venvs/bytewax`` (``bytewax[kafka]`` and orjson) and imports
nothing from pycql. :mod:`benchmarks.nexmark.peers` starts it as::

    benchmarks/.venvs/bytewax/bin/python benchmarks/nexmark/peers/bytewax_peer.py \\
        --bootstrap 127.0.0.1:9092 --topic bid --query q2 --rows-out rows.jsonl

and reads one JSON line from its stdout; the output rows (the shapes of
``peers/rows.py``) go to ``--rows-out``, written after the clock stops.

Configured for throughput as Bytewax's documentation says:

* the Kafka source (``KafkaSource``) reads ``batch_size`` messages per call: 10,000
  instead of 1,000, so the per-batch cost of the Rust/Python boundary is spread over more
  messages; ``tail=False`` ends the dataflow at the end of the topic (EOF);
* q0 and q2 are ``flat_map_batch`` steps, the operator the docs name for amortizing Python
  call overhead over a whole batch, decoding with orjson;
* q5_count is ``count_window`` with an ``EventClock`` over ``date_time`` and a
  ``SlidingWindower`` of 10 s every 2 s aligned to the epoch (Flink's HOP windows); the
  bid topic is in event-time order, so the clock waits 0 s, and its watermark is driven by
  event time alone (see the comment there); at EOF it jumps to the end of time and every
  window still open is closed and emitted; bids the windows call late are counted;
* one worker (``run_main``), as the other engines run at parallelism 1.

The clock starts at the first batch of records (reader start-up is left out, as for
pycql) and stops when the dataflow has finished (the last windows emitted).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
WINDOW_MS = 10_000
SLIDE_MS = 2_000


def peak_rss_mb() -> float:
    """This process's own peak RSS (VmHWM), MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return -1.0


def build_flow(args: argparse.Namespace, rows: list[Any],
               clock: dict[str, float]) -> tuple[Any, dict[str, int]]:
    """The dataflow of ``args.query`` (output rows into ``rows``), and its input counter."""
    import bytewax.operators as op
    import orjson
    from bytewax.connectors.kafka import KafkaSource
    from bytewax.dataflow import Dataflow
    from bytewax.operators.windowing import EventClock, SlidingWindower, count_window
    from bytewax.testing import TestingSink
    from confluent_kafka import OFFSET_BEGINNING

    loads = orjson.loads
    flow = Dataflow(f"nexmark_{args.query}")
    source = KafkaSource(
        brokers=[args.bootstrap], topics=[args.topic], tail=False,
        starting_offset=OFFSET_BEGINNING, batch_size=args.batch_size,
        # librdkafka: keep its fetch queue full without the 1 s backoff when it fills
        add_config={"fetch.queue.backoff.ms": "1", "queued.min.messages": "200000"})
    messages = op.input("bids", flow, source)
    counted = {"records": 0, "late": 0}

    def started(batch: list[Any]) -> None:
        if "t0" not in clock:
            clock["t0"] = time.perf_counter()
            clock["c0"] = time.process_time()
        counted["records"] += len(batch)

    if args.query == "q0":
        def q0(batch: list[Any]) -> list[Any]:
            started(batch)
            out = []
            for m in batch:
                v = loads(m.value)
                out.append((v["auction"], v["bidder"], v["price"], v["date_time"], v["extra"]))
            return out

        result = op.flat_map_batch("q0", messages, q0)
    elif args.query == "q2":
        def q2(batch: list[Any]) -> list[Any]:
            started(batch)
            out = []
            for m in batch:
                v = loads(m.value)
                if v["auction"] % 123 == 0:
                    out.append((v["auction"], v["price"]))
            return out

        result = op.flat_map_batch("q2", messages, q2)
    elif args.query == "q5_count":
        def decode(batch: list[Any]) -> list[Any]:
            started(batch)
            out = []
            for m in batch:
                v = loads(m.value)
                out.append((v["auction"], v["date_time"]))
            return out

        bids = op.flat_map_batch("decode", messages, decode)
        windows = count_window(
            "count", bids,
            # a watermark of event time alone: the default clock adds the system time
            # since the newest bid, which on a replay slower than the events' own rate
            # overtakes them and drops bids as late (seen here on a loaded machine). A
            # constant now_getter and no system wake-ups (to_system_utc -> None) make it
            # close windows on later bids and at EOF only, what a bounded replay needs.
            EventClock(lambda b: EPOCH + timedelta(milliseconds=b[1]),
                       wait_for_system_duration=timedelta(0), now_getter=lambda: EPOCH,
                       to_system_utc=lambda _t: None),
            SlidingWindower(length=timedelta(milliseconds=WINDOW_MS),
                            offset=timedelta(milliseconds=SLIDE_MS), align_to=EPOCH),
            key=lambda b: str(b[0]))

        # (auction key, (window id, count)); window id i opens at i * 2 s since the epoch
        def as_row(item: tuple[str, tuple[int, int]]) -> tuple[int, int, int]:
            key, (window_id, count) = item
            return (window_id * SLIDE_MS + WINDOW_MS, int(key), count)

        result = op.map("rows", windows.down, as_row)

        def count_late(_item: Any) -> None:
            counted["late"] += 1

        op.inspect("late", windows.late, lambda _step, item: count_late(item))
    else:
        raise SystemExit(f"no query {args.query}")
    op.output("out", result, TestingSink(rows))
    return flow, counted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--query", required=True, choices=("q0", "q2", "q5_count"))
    parser.add_argument("--rows-out", required=True)
    parser.add_argument("--batch-size", type=int, default=10_000)
    args = parser.parse_args()

    from importlib.metadata import version

    from bytewax.testing import run_main

    rows: list[Any] = []
    clock: dict[str, float] = {}
    flow, counted = build_flow(args, rows, clock)
    run_main(flow)
    t1, c1 = time.perf_counter(), time.process_time()
    if "t0" not in clock:
        print(json.dumps({"error": "the dataflow read no records"}))
        sys.exit(1)
    wall, cpu = t1 - clock["t0"], c1 - clock["c0"]
    with open(args.rows_out, "w") as out:
        for row in rows:
            out.write(json.dumps(row))
            out.write("\n")
    records = counted["records"]
    print(json.dumps({
        "records": records, "emitted": len(rows), "late": counted["late"], "wall_s": wall,
        "cpu_s": cpu,
        "records_per_s": records / wall if wall else None,
        "records_per_cpu_s": records / cpu if cpu else None,
        "max_rss_mb": peak_rss_mb(), "version": version("bytewax"),
    }))


if __name__ == "__main__":
    main()
