"""Scale-out on a real Kafka broker: a job's records per CPU second on 1 and 2 workers.

``python -m benchmarks.scaleout [--events N] [--bid-events N] [--workers 1,2]
[--queries q5,group_by_key,...] [--bootstrap HOST:PORT] [--out benchmarks/results/scaleout.json]``

1. a broker: its own :class:`~pycql.kafka.LocalBroker` in a temp dir (or ``--bootstrap``);
2. the inputs, made through ``pycql.connect("kafka://...")``, both with 6 partitions:

   * ``S (a, b, ts) WITH (key = 'a')``, ``--events`` rows inserted with ``executemany``
     (pycql keys each record by ``a``): ``a = i % 1000``, ``b = i % 37``, ten rows per
     millisecond, as ``benchmarks/stages.py``;
   * the Nexmark bids of ``--bid-events`` generated events (``benchmarks/nexmark``,
     46 in 50 are bids) declared ``WITH (key = 'auction')`` and produced straight to the
     topic, keyed as pycql keys (:func:`pycql.log.formats.key_bytes`, partition
     :func:`pycql.log.partitioner.partition_for_key`);

   then a heartbeat just after the newest record, so the last instants close;
3. per query, the oracle: the bounded cursor over the same input (a stream's
   ``start='earliest', stop='latest'``; a table's snapshot), rows with their ROWTIME;
4. per query and worker count N: N fresh ``python -m pycql.jobs.worker`` processes; once
   each has logged ``worker_started``, the CPU of each (``/proc/<pid>/stat``) and of the
   broker is read, the job is created (``WITH (stages = 'on')``) into a fresh output, and
   a sampler reads those CPU figures every 0.2 s while a read_committed consumer notes
   when output records arrive. Once the output has been quiet for a while it is read
   back through pycql (the same way as the oracle) and compared: equal, and the run's
   end is the arrival of its last output record (CPU: the first sample at or after it);
   not equal, and the harness waits on; still not equal at the timeout, and the run is
   FAILED, with what differs. Then the job is terminated and the workers get SIGTERM.

Reported per run: input records, wall s, records/s, worker CPU s (all workers),
records per CPU s, each worker's share of that CPU, the broker's CPU; per query the
ratio of the 2-worker records per CPU s to the 1-worker's (the issue's goal: at least
0.8), and the exchange cost: records per CPU s of ``GROUP BY b`` (two stages, the rows
hashed on ``b`` through an intermediate topic) over ``GROUP BY a`` (the key: one stage).

Nothing is subtracted: a worker whose tasks have nothing to read still polls, and the
CPU includes the wait for the last instants to close and a worker's idle tasks. The
machine has 2 cores shared with the broker (and other work: the load average is in the
result), so wall-clock figures are not a speed-up claim; CPU efficiency is the measure.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import shutil
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.faults import Worker
from benchmarks.nexmark.generator import SCHEMAS, GeneratorConfig, NexmarkGenerator
from benchmarks.nexmark.queries import QUERIES as NEXMARK
from benchmarks.nexmark.run import process_cpu_s

Counter = collections.Counter
PARTITIONS = 6
#: the goal of issue 11: each worker keeps this share of the 1-worker records per CPU s
GOAL = 0.8
#: seconds the output must be quiet before it is read back and compared
QUIET_S = 3.0
SAMPLE_S = 0.2


def log(msg: str) -> None:
    print(f"[scaleout {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Case:
    """A benchmark query: its input (``S`` or ``bid``), its SQL with ``{S}``/``{bid}``
    for the input's name, and the kind of its job (``TABLE`` or ``STREAM``)."""

    input: str
    sql: str
    kind: str


CASES: dict[str, Case] = {
    # the pair that prices the exchange: GROUP BY the key runs as one stage (each task
    # its partition), GROUP BY another column as two, hashed on it through a topic
    "group_by_key": Case("S", "SELECT a, COUNT(*) AS n, SUM(b) AS s FROM {S} GROUP BY a",
                         "TABLE"),
    "group_by_non_key": Case("S", "SELECT b, COUNT(*) AS n, SUM(a) AS s FROM {S} GROUP BY b",
                             "TABLE"),
    "windowed_non_key": Case(
        "S", "SELECT ISTREAM(b, COUNT(*) AS n) FROM {S} [RANGE 2 SECONDS] GROUP BY b",
        "STREAM"),
    # Nexmark q5 (hot items) over bids keyed by auction: the counts per auction in each
    # task, their MAX in one task, the join of both hashed on the count; as the ISTREAM
    # of its relation, so that every hot item of every window (each with its instant) is
    # compared, not only the relation's last value
    "q5": Case("bid", NEXMARK["q5"].sql.replace("FROM bid ", "FROM {bid} ").replace(
        "SELECT C.auction, C.num", "SELECT ISTREAM(C.auction, C.num)", 1), "STREAM"),
}


# -- inputs ----------------------------------------------------------------------------
def create_s(conn: Any, name: str, events: int) -> dict[str, Any]:
    """``S`` with ``events`` rows; returns its size and load time."""
    cur = conn.cursor()
    cur.execute(f"CREATE STREAM {name} (a INTEGER, b INTEGER, ts BIGINT) "
                f"WITH (timestamp = 'ts', partitions = {PARTITIONS}, key = 'a')")
    base = int(time.time() * 1000) - 3_600_000      # history, an hour old
    t0 = time.monotonic()
    data = [(i % 1000, i % 37, base + i // 10) for i in range(events)]
    for start in range(0, events, 50_000):
        cur.executemany(f"INSERT INTO {name} VALUES (?, ?, ?)", data[start:start + 50_000])
    newest = data[-1][2] if data else base
    cur.execute(f"ALTER STREAM {name} HEARTBEAT {newest + 1}")
    return {"records": events, "load_s": round(time.monotonic() - t0, 2)}


def create_bids(conn: Any, bootstrap: str, name: str, events: int,
                seed: int = 1) -> dict[str, Any]:
    """The Nexmark bids of ``events`` generated events, keyed by auction as pycql keys."""
    import orjson
    from confluent_kafka import Producer

    from pycql.log.formats import key_bytes
    from pycql.log.partitioner import partition_for_key

    cols = ", ".join(f"{c} {t}" for c, t in SCHEMAS["bid"])
    conn.cursor().execute(f"CREATE STREAM {name} ({cols}) WITH (timestamp = 'date_time', "
                          f"partitions = {PARTITIONS}, key = 'auction')")
    config = GeneratorConfig(seed=seed, events=events,
                             base_time_ms=int(time.time() * 1000) - 3_600_000)
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 20,
                         "batch.num.messages": 10_000, "enable.idempotence": True,
                         "queue.buffering.max.messages": 500_000,
                         "compression.type": "lz4"})
    failed: list[Any] = []

    def delivered(err: Any, _msg: Any) -> None:
        if err is not None:
            failed.append(err)

    t0 = time.monotonic()
    bids = newest = 0
    per_partition = [0] * PARTITIONS
    for batch in NexmarkGenerator(config).chunks(50_000):
        for value, ts in zip(batch.bids, batch.bid_times, strict=True):
            key = key_bytes([orjson.loads(value)["auction"]])
            part = partition_for_key(key, PARTITIONS)
            while True:
                try:
                    producer.produce(name, value, key=key, partition=part, timestamp=ts,
                                     on_delivery=delivered)
                    break
                except BufferError:
                    producer.poll(0.05)
            per_partition[part] += 1
            newest = max(newest, ts)
            bids += 1
        producer.poll(0)
    if producer.flush(300) or failed:
        raise RuntimeError(f"bids not delivered: {failed[:3]}")
    conn.cursor().execute(f"ALTER STREAM {name} HEARTBEAT {newest + 1}")
    return {"records": bids, "generated_events": events, "per_partition": per_partition,
            "load_s": round(time.monotonic() - t0, 2)}


# -- oracle and output -----------------------------------------------------------------
def rows_of(conn: Any, sql: str, kind: str) -> Counter[tuple[Any, ...]]:
    """What ``sql`` gives: a bounded cursor over a stream, a snapshot of a table."""
    cur = conn.cursor()
    if kind == "STREAM":
        cur.execute(sql, start="earliest", stop="latest")
    else:
        cur.execute(sql)
    got: Counter[tuple[Any, ...]] = Counter()
    while rows := cur.fetchmany(50_000):
        got.update(tuple(r) for r in rows)
    return got


def difference(want: Counter[tuple[Any, ...]], got: Counter[tuple[Any, ...]]) -> dict[str, Any]:
    """What differs, with a few rows of each side."""
    missing, extra = want - got, got - want
    return {"rows_expected": sum(want.values()), "rows_read": sum(got.values()),
            "missing": sum(missing.values()), "extra": sum(extra.values()),
            "missing_sample": [list(map(str, r)) for r in list(missing)[:5]],
            "extra_sample": [list(map(str, r)) for r in list(extra)[:5]]}


class Arrivals(threading.Thread):
    """A read_committed consumer of the output topic: when its records arrive."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        super().__init__(daemon=True, name="scaleout-arrivals")
        self.bootstrap, self.topic = bootstrap, topic
        self.records = 0
        self.last: float | None = None          # time.monotonic() of the newest arrival
        self._halt = threading.Event()

    def run(self) -> None:
        from confluent_kafka import Consumer

        consumer = Consumer({"bootstrap.servers": self.bootstrap,
                             "group.id": f"scaleout-{uuid.uuid4()}",
                             "enable.auto.commit": False, "isolation.level": "read_committed",
                             "auto.offset.reset": "earliest",
                             "topic.metadata.refresh.interval.ms": 1000})
        consumer.subscribe([self.topic])
        try:
            while not self._halt.is_set():
                got = [m for m in consumer.consume(10_000, 0.1)   # rows, not watermarks
                       if not m.error() and m.key() != b"pycql:control"]
                if got:
                    self.records += len(got)
                    self.last = time.monotonic()
        finally:
            consumer.close()

    def stop(self) -> None:
        self._halt.set()
        self.join(10)


class CpuSampler(threading.Thread):
    """CPU seconds of the workers and the broker every ``SAMPLE_S``, from ``/proc``."""

    def __init__(self, pids: list[int], broker_pid: int | None) -> None:
        super().__init__(daemon=True, name="scaleout-cpu")
        self.pids, self.broker_pid = pids, broker_pid
        self.samples: list[tuple[float, list[float], float | None]] = []
        self._halt = threading.Event()
        self.sample()

    def sample(self) -> None:
        self.samples.append((time.monotonic(), [process_cpu_s(p) or 0.0 for p in self.pids],
                             process_cpu_s(self.broker_pid)))

    def run(self) -> None:
        while not self._halt.wait(SAMPLE_S):
            self.sample()

    def at(self, moment: float) -> tuple[float, list[float], float | None]:
        """The first sample at or after ``moment`` (the last one if none is)."""
        return next((s for s in self.samples if s[0] >= moment), self.samples[-1])

    def stop(self) -> None:
        self._halt.set()
        self.join(5)
        self.sample()


# -- one run ---------------------------------------------------------------------------
def _wait_started(worker: Worker, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while "event=worker_started" not in worker.log_path.read_text(errors="replace"):
        if worker.proc is None or worker.proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"worker {worker.name} did not start; see {worker.log_path}")
        time.sleep(0.1)


def measure(conn: Any, bootstrap: str, name: str, case: Case, input_name: str,
            input_records: int, workers: int, workdir: Path,
            want: Counter[tuple[Any, ...]], broker_pid: int | None = None,
            timeout_s: float = 900.0) -> dict[str, Any]:
    """One job of ``case`` over ``input_name`` on ``workers`` fresh worker processes."""
    tag = uuid.uuid4().hex[:6]
    sink = f"out_{name}_{tag}"
    sql = case.sql.format(**{case.input: input_name})
    procs = [Worker(bootstrap, f"so-{name}-{workers}w{i + 1}-{tag}",
                    workdir / f"{name}-{workers}w{i + 1}.log") for i in range(workers)]
    cur = conn.cursor()
    arrivals: Arrivals | None = None
    sampler: CpuSampler | None = None
    qid: str | None = None
    try:
        for w in procs:
            w.start()
        for w in procs:
            _wait_started(w)
        pids = [w.proc.pid for w in procs if w.proc is not None]
        sampler = CpuSampler(pids, broker_pid)
        began = time.monotonic()
        cur.execute(f"CREATE {case.kind} {sink} WITH (stages = 'on') AS {sql}")
        row = cur.fetchone()
        qid = str(row[0]) if row else None
        sampler.start()
        arrivals = Arrivals(bootstrap, sink)
        arrivals.start()
        verdict: dict[str, Any] = {}
        checked_at: int | None = None
        while True:
            now = time.monotonic()
            # an output that never gets a record (an empty oracle) is checked too
            quiet = now - (arrivals.last or began) >= QUIET_S
            if quiet and arrivals.records != checked_at:
                checked_at = arrivals.records
                got = rows_of(conn, f"SELECT * FROM {sink}", case.kind)
                if got == want:
                    verdict = {"verified": True}
                    break
                verdict = {"verified": False, **difference(want, got)}
                log(f"{name} on {workers}: not yet equal ({verdict['missing']} missing, "
                    f"{verdict['extra']} extra)")
            if now - began > timeout_s:
                if not verdict:
                    got = rows_of(conn, f"SELECT * FROM {sink}", case.kind)
                    verdict = {"verified": got == want, **difference(want, got)}
                break
            time.sleep(0.5)
        sampler.stop()
        end = arrivals.last if verdict.get("verified") and arrivals.last else time.monotonic()
        t_end, cpus_end, broker_end = sampler.at(end)
        _, cpus0, broker0 = sampler.samples[0]
        cpu = [round(b - a, 3) for a, b in zip(cpus0, cpus_end, strict=True)]
        total = sum(cpu)
        wall = t_end - began
        broker_cpu = (broker_end - broker0) if broker_end is not None and broker0 is not None \
            else None
        shown = {}
        cur.execute("SHOW QUERIES")
        for r in cur.fetchall():
            if r[0] == qid:
                shown = {"status": r[1], "workers": r[4], "last_stage_tasks": r[5]}
        return {
            "query": name, "workers": workers, "sql": sql, "kind": case.kind,
            "input_records": input_records, "output_records": arrivals.records,
            "verified": bool(verdict.get("verified")),
            "difference": None if verdict.get("verified") else verdict,
            "wall_s": round(wall, 2), "records_per_s": round(input_records / wall),
            "worker_cpu_s": round(total, 2), "worker_cpu_s_each": cpu,
            "worker_cpu_share": [round(c / total, 3) for c in cpu] if total else None,
            "records_per_cpu_s": round(input_records / total) if total else None,
            "broker_cpu_s": round(broker_cpu, 2) if broker_cpu is not None else None,
            "records_per_cpu_s_with_broker": round(input_records / (total + broker_cpu))
            if broker_cpu is not None and total + broker_cpu else None,
            "job": shown, "load_average_after": [round(x, 2) for x in os.getloadavg()],
        }
    finally:
        if sampler is not None and sampler.is_alive():
            sampler.stop()
        if arrivals is not None:
            arrivals.stop()
        if qid is not None:
            try:
                cur.execute(f"TERMINATE {qid}")
            except Exception as exc:  # a failed job may be gone already
                log(f"TERMINATE {qid}: {exc}")
        for w in procs:
            w.stop()


# -- the whole benchmark ----------------------------------------------------------------
def run(bootstrap: str, *, events: int, bid_events: int, workers: list[int],
        queries: list[str], broker_pid: int | None = None,
        workdir: Path | None = None) -> dict[str, Any]:
    import pycql

    workdir = workdir or Path(tempfile.mkdtemp(prefix="pycql-scaleout-"))
    workdir.mkdir(parents=True, exist_ok=True)
    load_start = [round(x, 2) for x in os.getloadavg()]
    conn = pycql.connect(f"kafka://{bootstrap}", rowtime_column=True)
    tag = uuid.uuid4().hex[:6]
    inputs: dict[str, dict[str, Any]] = {}
    names = {"S": f"S_{tag}", "bid": f"bid_{tag}"}
    runs: list[dict[str, Any]] = []
    try:
        needed = {CASES[q].input for q in queries}
        if "S" in needed:
            inputs["S"] = create_s(conn, names["S"], events)
            log(f"S: {inputs['S']}")
        if "bid" in needed:
            inputs["bid"] = create_bids(conn, bootstrap, names["bid"], bid_events)
            log(f"bids: {inputs['bid']}")
        for name in queries:
            case = CASES[name]
            sql = case.sql.format(**{case.input: names[case.input]})
            t0 = time.monotonic()
            want = rows_of(conn, sql, case.kind)
            log(f"{name}: oracle {sum(want.values())} rows in {time.monotonic() - t0:.1f} s")
            for n in workers:
                r = measure(conn, bootstrap, name, case, names[case.input],
                            inputs[case.input]["records"], n, workdir, want, broker_pid)
                r["oracle_rows"] = sum(want.values())
                log(f"{name} on {n}: {'verified' if r['verified'] else 'FAILED'} "
                    f"{r['records_per_cpu_s']} records/CPU s, {r['wall_s']} s wall, "
                    f"CPU {r['worker_cpu_s_each']}")
                runs.append(r)
    finally:
        conn.close()
    return {"config": {"events": events, "bid_events": bid_events, "workers": workers,
                       "queries": queries, "partitions": PARTITIONS, "workdir": str(workdir)},
            "inputs": inputs, "runs": runs, "summary": summarize(runs),
            "load_average": {"start": load_start,
                             "end": [round(x, 2) for x in os.getloadavg()]},
            "cpus": os.cpu_count()}


def summarize(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The scaling ratio per query and the exchange cost per worker count."""
    rate = {(r["query"], r["workers"]): r["records_per_cpu_s"] for r in runs
            if r["verified"] and r["records_per_cpu_s"]}
    scaling = {}
    for q in dict.fromkeys(r["query"] for r in runs):
        one, two = rate.get((q, 1)), rate.get((q, 2))
        scaling[q] = {"ratio_2_to_1": round(two / one, 3) if one and two else None,
                      "goal": GOAL,
                      "meets_goal": (two / one >= GOAL) if one and two else None}
    exchange = {}
    for n in sorted({r["workers"] for r in runs}):
        key, non_key = rate.get(("group_by_key", n)), rate.get(("group_by_non_key", n))
        exchange[f"{n}_workers"] = {
            "two_stage_over_one_stage": round(non_key / key, 3) if key and non_key else None}
    return {"scaling": scaling, "exchange_cost": exchange}


# -- output ----------------------------------------------------------------------------
def _f(value: Any, spec: str = ",") -> str:
    return "-" if value is None else format(value, spec)


def markdown(result: dict[str, Any]) -> str:
    head = ["query", "workers", "input records", "verified", "wall s", "records/s",
            "worker CPU s", "records/CPU s", "CPU share per worker", "broker CPU s",
            "records/CPU s with broker"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in result["runs"]:
        share = " / ".join(f"{s:.2f}" for s in r["worker_cpu_share"] or [])
        lines.append("| " + " | ".join([
            r["query"], str(r["workers"]), _f(r["input_records"]),
            "yes" if r["verified"] else "**FAILED**", f"{r['wall_s']:.1f}",
            _f(r["records_per_s"]), f"{r['worker_cpu_s']:.1f}", _f(r["records_per_cpu_s"]),
            share, _f(r["broker_cpu_s"]), _f(r["records_per_cpu_s_with_broker"])]) + " |")
    s = result["summary"]
    lines += ["", "| query | 2-worker / 1-worker records per CPU s | goal |", "|---|---|---|"]
    for q, v in s["scaling"].items():
        ok = {True: "met", False: "**not met**", None: "-"}[v["meets_goal"]]
        lines.append(f"| {q} | {_f(v['ratio_2_to_1'], '.2f')} | >= {GOAL} ({ok}) |")
    lines += ["", "| workers | exchange cost: GROUP BY b (2 stages) / GROUP BY a (1 stage), "
              "records per CPU s |", "|---|---|"]
    for n, v in s["exchange_cost"].items():
        lines.append(f"| {n.split('_')[0]} | {_f(v['two_stage_over_one_stage'], '.2f')} |")
    la = result["load_average"]
    lines += ["", f"Load average (1/5/15 min) at start {la['start']}, at end {la['end']}, "
              f"on {result['cpus']} CPUs shared with the broker."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scaleout", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=200_000, help="rows of S")
    parser.add_argument("--bid-events", type=int, default=200_000,
                        help="Nexmark events generated for q5's bids (46 in 50 are bids)")
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--queries", default=",".join(CASES))
    parser.add_argument("--bootstrap", help="use this broker (its CPU is not measured)")
    parser.add_argument("--out", default="benchmarks/results/scaleout.json")
    a = parser.parse_args(argv)
    queries = [q for q in a.queries.split(",") if q]
    unknown = [q for q in queries if q not in CASES]
    if unknown:
        parser.error(f"unknown queries {unknown}; known: {', '.join(CASES)}")
    workers = [int(n) for n in a.workers.split(",")]
    broker = None
    broker_dir = None
    bootstrap = a.bootstrap
    if bootstrap is None:
        from pycql.kafka import LocalBroker, free_port_pair

        broker_dir = tempfile.mkdtemp(prefix="pycql-scaleout-broker-")
        broker = LocalBroker(broker_dir, free_port_pair())
        log(f"starting a broker in {broker_dir}")
        broker.start(timeout=120)
        bootstrap = broker.bootstrap
    try:
        result = run(bootstrap, events=a.events, bid_events=a.bid_events, workers=workers,
                     queries=queries, broker_pid=broker.pid if broker else None)
    finally:
        if broker is not None:
            broker.stop()
        if broker_dir is not None:
            shutil.rmtree(broker_dir, ignore_errors=True)
    text = markdown(result)
    print(text)
    if a.out:
        out = Path(a.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=2) + "\n")
        command = (f"python -m benchmarks.scaleout --events {a.events} --bid-events "
                   f"{a.bid_events} --workers {a.workers} --queries {','.join(queries)}")
        out.with_suffix(".md").write_text(f"# Scale-out\n\n`{command}`\n\n{text}\n")
    return 0 if all(r["verified"] for r in result["runs"]) else 1


if __name__ == "__main__":
    sys.exit(main())
