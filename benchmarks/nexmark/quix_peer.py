"""The Python peer: Nexmark q0, q1, q2 and a q5-like windowed count on Quix Streams.

Runs inside ``benchmarks/.venv-quix`` (Quix Streams pins its own
confluent-kafka), so it imports nothing from pycql; it loads
``benchmarks/nexmark/reference.py`` (standard library only) for the digest of
its output. ``run.py`` starts it as::

    benchmarks/.venv-quix/bin/python benchmarks/nexmark/quix_peer.py \\
        --bootstrap 127.0.0.1:9092 --topic bid --query q2 --events 460000

and reads one JSON line from its stdout: records processed, wall and CPU
seconds from the first record to the last (start-up, topic creation and the
consumer group's rebalance are left out, as for pycql), the broker's CPU
seconds over the same time (``--broker-pid``), outputs and their digest (its
time left out of the figures, as for pycql), peak RSS (this process's own
``VmHWM``).

The pipelines are what a Quix user would write:

* q0: ``apply`` a projection to each bid;
* q1: the same with ``Decimal("0.908") * price``: the exact DECIMAL that pycql
  (and Flink) compute, so that the output can be checked against the same
  reference (a float would be a different answer);
* q2: ``filter`` on ``auction % 123 == 0`` then project (auction, price);
* q5_count: ``group_by("auction")`` (Quix windows are per message key, so
  this repartitions through an internal topic, as Quix requires) then a
  hopping window of 10 s by 2 s, ``count()``,
  ``final(closing_strategy="partition")`` (one result per closed window; a
  window closes when any record of the partition passes its end: with the
  default ``"key"`` strategy a window closes only when a later bid for the
  same auction comes, and most never do), over the records' Kafka timestamps
  (= ``date_time``). Its windows are ``[start, end)``, CQL's ``(m - 10 s,
  m]``: the reference is ``reference.QuixWindowCounts``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from benchmarks.nexmark.reference import Digest


def own_peak_rss_mb() -> float | None:
    """This process's peak resident memory (``VmHWM``), MB: ``getrusage``'s maxrss
    would be the parent's when that is higher (it survives ``execve``)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def process_cpu_s(pid: int | None) -> float | None:
    """CPU seconds (user + system) of process ``pid`` so far, from ``/proc/<pid>/stat``."""
    if not pid:
        return None
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--topic", default="bid")
    parser.add_argument("--query", required=True, choices=("q0", "q1", "q2", "q5_count"))
    parser.add_argument("--events", type=int, required=True, help="records in the topic")
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument("--broker-pid", default="",
                        help="the local broker's process id (its CPU time is reported)")
    args = parser.parse_args()
    broker_pid = int(args.broker_pid) if args.broker_pid else None

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

    progress: dict[str, Any] = {"seen": 0, "outputs": 0, "t0": None, "c0": None,
                                "b0": None, "verify_cpu": 0.0, "verify_wall": 0.0}
    target = args.events
    digest = Digest()

    def count_input(_value: Any) -> None:
        if progress["t0"] is None:
            progress["t0"] = time.perf_counter()
            progress["c0"] = time.process_time()
            progress["b0"] = process_cpu_s(broker_pid)
        progress["seen"] += 1
        if progress["seen"] >= target:
            progress["t1"] = time.perf_counter()
            progress["c1"] = time.process_time()
            progress["b1"] = process_cpu_s(broker_pid)
            app.stop()

    columns = {"q0": ("auction", "bidder", "price", "date_time", "extra"),
               "q1": ("auction", "bidder", "price", "date_time", "extra"),
               "q2": ("auction", "price")}.get(args.query, ())

    def count_output(value: Any, key: Any, timestamp: int, _headers: Any) -> None:
        # the check's cost, not the pipeline's: timed and left out of the figures
        w, c = time.perf_counter(), time.thread_time()
        progress["outputs"] += 1
        if args.query == "q5_count":
            auction = json.loads(key) if isinstance(key, bytes | str) else key
            digest.add(value["end"], (auction, value["start"], value["end"], value["value"]))
        else:
            digest.add(timestamp, tuple(value[c] for c in columns))
        if "t1" not in progress:  # after the clock stopped it is not in the figures
            progress["verify_wall"] += time.perf_counter() - w
            progress["verify_cpu"] += time.thread_time() - c

    if args.query == "q5_count":
        sdf = sdf.group_by("auction")
        sdf = sdf.update(count_input)
        sdf = (sdf.hopping_window(duration_ms=10_000, step_ms=2_000).count()
               .final(closing_strategy="partition"))
        sdf = sdf.update(count_output, metadata=True)
    else:
        sdf = sdf.update(count_input)
        if args.query == "q2":
            sdf = sdf.filter(lambda v: v["auction"] % 123 == 0)
            sdf = sdf.apply(lambda v: {"auction": v["auction"], "price": v["price"]})
        elif args.query == "q1":
            rate = Decimal("0.908")
            sdf = sdf.apply(lambda v: {"auction": v["auction"], "bidder": v["bidder"],
                                       "price": rate * v["price"], "date_time": v["date_time"],
                                       "extra": v["extra"]})
        else:
            sdf = sdf.apply(lambda v: {"auction": v["auction"], "bidder": v["bidder"],
                                       "price": v["price"], "date_time": v["date_time"],
                                       "extra": v["extra"]})
        sdf = sdf.update(count_output, metadata=True)

    started = time.perf_counter()
    app.run(timeout=args.timeout)
    if progress.get("t1") is None:
        print(json.dumps({"error": f"processed {progress['seen']} of {target} records within "
                                   f"{time.perf_counter() - started:.0f} s"}))
        sys.exit(1)
    wall = progress["t1"] - progress["t0"] - progress["verify_wall"]
    cpu = progress["c1"] - progress["c0"] - progress["verify_cpu"]
    broker_cpu = (progress["b1"] - progress["b0"]
                  if progress.get("b1") is not None and progress["b0"] is not None else None)
    seen = progress["seen"]
    print(json.dumps({
        "records": seen,
        "outputs": progress["outputs"],
        "wall_s": wall,
        "cpu_s": cpu,
        "records_per_s": seen / wall,
        "records_per_cpu_s": seen / cpu if cpu > 0 else None,
        "broker_cpu_s": broker_cpu,
        "records_per_cpu_s_with_broker": (seen / (cpu + broker_cpu)
                                          if broker_cpu is not None else None),
        "max_rss_mb": own_peak_rss_mb(),
        "output": digest.to_json(),
    }))


if __name__ == "__main__":
    main()
