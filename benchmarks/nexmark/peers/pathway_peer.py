"""The Pathway peer: Nexmark q0, q2 and the windowed count (q5_count) on Pathway.

Runs inside ``benchmarks/.venvs/pathway`` and imports nothing from pycql.
:mod:`benchmarks.nexmark.peers` starts it as::

    benchmarks/.venvs/pathway/bin/python benchmarks/nexmark/peers/pathway_peer.py \\
        --bootstrap 127.0.0.1:9092 --topic bid --query q2 --records 184000 \\
        --rows-out rows.jsonl

and reads one JSON line from its stdout; the output rows (the shapes of
``peers/rows.py``) go to ``--rows-out``, written after the clock stops.

Configured for throughput as Pathway's documentation says:

* ``pw.io.kafka.read`` with ``format="json"`` and a typed schema, so the Rust engine
  decodes the messages (no Python per record), and ``mode="static"``: read what the topic
  holds, then end (the run is bounded);
* ``autocommit_duration_ms`` of 1 s: the engine takes larger batches between commits than
  with frequent small ones; no persistence, no monitoring dashboard
  (``MonitoringLevel.NONE``), one worker thread (``PATHWAY_THREADS=1``, set by the
  caller), as the other engines run at parallelism 1;
* q5_count is ``windowby`` with ``pw.temporal.sliding(hop=2 s, duration=10 s)`` per
  auction (``instance``), over ``date_time`` in epoch ms (windows aligned to 0, Flink's
  HOP); a static run computes every window;
* the output is written by the engine (``pw.io.jsonlines.write``); its rows carry
  Pathway's ``diff`` (+1 / -1), and the result is the rows whose diffs sum to more than 0.

The clock covers ``pw.run()`` whole (Pathway has no cheap hook at the first record): the
engine's start and the Kafka consumer's connection are in it, so this peer's figures are
a little low at small sizes.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

WINDOW_MS = 10_000
SLIDE_MS = 2_000


def peak_rss_mb() -> float:
    """This process's own peak RSS (VmHWM), MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return -1.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--query", required=True, choices=("q0", "q2", "q5_count"))
    parser.add_argument("--records", type=int, required=True, help="records in the topic")
    parser.add_argument("--rows-out", required=True)
    args = parser.parse_args()
    os.environ.setdefault("PATHWAY_THREADS", "1")

    import pathway as pw

    class Bid(pw.Schema):
        auction: int
        bidder: int
        price: int
        channel: str
        url: str
        date_time: int
        extra: str

    bids = pw.io.kafka.read(
        {"bootstrap.servers": args.bootstrap, "group.id": f"nexmark-pw-{uuid.uuid4().hex[:8]}",
         "auto.offset.reset": "earliest", "session.timeout.ms": "6000"},
        topic=args.topic, schema=Bid, format="json", mode="static",
        autocommit_duration_ms=1000)
    if args.query == "q0":
        columns = ["auction", "bidder", "price", "date_time", "extra"]
        out = bids.select(pw.this.auction, pw.this.bidder, pw.this.price, pw.this.date_time,
                          pw.this.extra)
    elif args.query == "q2":
        columns = ["auction", "price"]
        out = bids.filter(pw.this.auction % 123 == 0).select(pw.this.auction, pw.this.price)
    else:
        columns = ["window_end", "auction", "num"]
        out = bids.windowby(
            pw.this.date_time,
            window=pw.temporal.sliding(hop=SLIDE_MS, duration=WINDOW_MS),
            instance=pw.this.auction,
        ).reduce(window_end=pw.this._pw_window_end, auction=pw.this._pw_instance,
                 num=pw.reducers.count())
    out_file = Path(tempfile.mkdtemp(prefix="pathway-out-")) / "out.jsonl"
    pw.io.jsonlines.write(out, str(out_file))

    t0, c0 = time.perf_counter(), time.process_time()
    pw.run(monitoring_level=pw.MonitoringLevel.NONE)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0

    # the output's changes -> the rows they leave
    table: Counter[tuple[Any, ...]] = Counter()
    emitted = 0
    with out_file.open() as f:
        for line in f:
            change = json.loads(line)
            table[tuple(change[c] for c in columns)] += change["diff"]
            emitted += 1
    rows = [row for row, n in table.items() for _ in range(n) if n > 0]
    with open(args.rows_out, "w") as f:
        for row in rows:
            f.write(json.dumps(row))
            f.write("\n")
    if emitted == 0 and args.records:
        print(json.dumps({"error": "no output rows"}))
        sys.exit(1)
    print(json.dumps({
        "records": args.records, "emitted": emitted, "wall_s": wall, "cpu_s": cpu,
        "records_per_s": args.records / wall if wall else None,
        "records_per_cpu_s": args.records / cpu if cpu else None,
        "max_rss_mb": peak_rss_mb(), "version": pw.__version__,
        "clock": "pw.run() whole (engine start included)",
    }))


if __name__ == "__main__":
    main()
