"""The Python peer: Nexmark q0, q1, q2 and a q5-like windowed count on Quix Streams.

Runs inside ``benchmarks/.venv-quix`` (Quix Streams pins its own
confluent-kafka), so it imports nothing from pycql. ``run.py`` starts it as::

    benchmarks/.venv-quix/bin/python benchmarks/nexmark/quix_peer.py \\
        --bootstrap 127.0.0.1:9092 --topic bid --query q2 --events 460000

and reads one JSON line from its stdout: records processed, wall and CPU
seconds from the first record to the last (start-up, topic creation and the
consumer group's rebalance are left out, as for pycql), outputs, peak RSS.

The pipelines are what a Quix user would write:

* q0: ``apply`` a projection to each bid;
* q1: the same with ``price * 0.908`` (a float);
* q2: ``filter`` on ``auction % 123 == 0`` then project (auction, price);
* q5_count: ``group_by("auction")`` (Quix windows are per message key, so
  this repartitions through an internal topic, as Quix requires) then a
  hopping window of 10 s by 2 s, ``count()``, ``final()`` (one result per
  closed window), over the records' Kafka timestamps (= ``date_time``).
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
import uuid
from typing import Any


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--topic", default="bid")
    parser.add_argument("--query", required=True, choices=("q0", "q1", "q2", "q5_count"))
    parser.add_argument("--events", type=int, required=True, help="records in the topic")
    parser.add_argument("--timeout", type=float, default=600.0)
    args = parser.parse_args()

    import tempfile

    from quixstreams import Application

    state_dir = tempfile.mkdtemp(prefix="quix-state-")
    app = Application(
        broker_address=args.bootstrap,
        consumer_group=f"nexmark-{args.query}-{uuid.uuid4().hex[:8]}",
        auto_offset_reset="earliest",
        state_dir=state_dir,
        use_changelog_topics=False,
        loglevel="WARNING",
    )
    topic = app.topic(args.topic, value_deserializer="json")
    sdf = app.dataframe(topic)

    progress: dict[str, Any] = {"seen": 0, "outputs": 0, "t0": None, "c0": None}
    target = args.events

    def count_input(_value: Any) -> None:
        if progress["t0"] is None:
            progress["t0"] = time.perf_counter()
            progress["c0"] = time.process_time()
        progress["seen"] += 1
        if progress["seen"] >= target:
            progress["t1"] = time.perf_counter()
            progress["c1"] = time.process_time()
            app.stop()

    def count_output(_value: Any) -> None:
        progress["outputs"] += 1

    if args.query == "q5_count":
        sdf = sdf.group_by("auction")
        sdf = sdf.update(count_input)
        sdf = sdf.hopping_window(duration_ms=10_000, step_ms=2_000).count().final()
        sdf = sdf.update(count_output)
    else:
        sdf = sdf.update(count_input)
        if args.query == "q2":
            sdf = sdf.filter(lambda v: v["auction"] % 123 == 0)
            sdf = sdf.apply(lambda v: {"auction": v["auction"], "price": v["price"]})
        elif args.query == "q1":
            sdf = sdf.apply(lambda v: {"auction": v["auction"], "bidder": v["bidder"],
                                       "price": 0.908 * v["price"], "date_time": v["date_time"],
                                       "extra": v["extra"]})
        else:
            sdf = sdf.apply(lambda v: {"auction": v["auction"], "bidder": v["bidder"],
                                       "price": v["price"], "date_time": v["date_time"],
                                       "extra": v["extra"]})
        sdf = sdf.update(count_output)

    started = time.perf_counter()
    app.run(timeout=args.timeout)
    if progress.get("t1") is None:
        print(json.dumps({"error": f"processed {progress['seen']} of {target} records within "
                                   f"{time.perf_counter() - started:.0f} s"}))
        sys.exit(1)
    wall = progress["t1"] - progress["t0"]
    cpu = progress["c1"] - progress["c0"]
    print(json.dumps({
        "records": progress["seen"],
        "outputs": progress["outputs"],
        "wall_s": wall,
        "cpu_s": cpu,
        "records_per_s": progress["seen"] / wall,
        "records_per_cpu_s": progress["seen"] / cpu if cpu > 0 else None,
        "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }))


if __name__ == "__main__":
    main()
