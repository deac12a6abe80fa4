"""Fault injection for persistent queries (jobs): are their outputs exactly once?

``python -m benchmarks.faults [--events N] [--kills K] [--seed S] [--workers W]
[--partitions P] [--broker-restart/--no-broker-restart] [--bootstrap HOST:PORT]
[--out benchmarks/results/faults.json]``

It uses only pycql's public interface, so it measures whatever the job layer is
when it runs:

1. a broker: its own :class:`~pycql.kafka.LocalBroker` in a temp dir (or
   ``--bootstrap``); input streams ``Bids`` and ``Clicks`` (P partitions, an
   event-time column ``ts``) and a table ``Auctions``, created through
   ``pycql.connect``; the table rows inserted first with ``executemany``, then N
   events (60 % bids, 40 % clicks, deterministic from the seed, 1 ms apart per
   partition) produced straight to the topics by a confluent-kafka Producer in
   the JSON pycql reads (value = object by column name, Kafka timestamp = ts);
2. three jobs: a windowed GROUP BY aggregate, a stream-stream join in RANGE
   windows, a stream-table join;
3. the reference: each job's query run as a bounded cursor over the same input
   (``start='earliest', stop='latest'``, ``rowtime_column=True``), as a multiset
   of (row, instant);
4. the fault run: W ``python -m pycql.jobs.worker`` processes (stderr to
   ``worker-wN.log`` in the run's directory); the jobs are created; K times, at
   seeded random moments 1-4 s apart, a random worker is SIGKILLed and restarted
   0.2-3 s later; once, in the middle, the broker is stopped and started again on
   the same ports while the workers run; then the workers run on until every
   output is complete (as large as the reference, or not growing for 20 s) or a
   timeout;
5. every output topic read from the beginning with a plain ``read_committed``
   consumer and compared with the reference: rows lost, duplicated, wrong;
6. recovery time per kill and job: from the restart of the killed worker to the
   next record of the job's output topic (seen by a tailing read_committed
   consumer), min/median/max.

The result goes to ``--out`` (JSON) with a Markdown table next to it.
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import json
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
Counter = collections.Counter
Row = tuple[Any, ...]

#: how long an output must stay the same size (its job at LAG 0, or not live) to count
#: as complete
QUIET_S = 20.0
#: how long after the last kill the workers may take to complete every output
SETTLE_TIMEOUT_S = 300.0


def log(msg: str) -> None:
    print(f"[faults {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# -- the workload ---------------------------------------------------------------------
@dataclass
class Workload:
    """Names (with a tag, so a shared broker can hold several runs) and data sizes."""

    events: int
    partitions: int
    seed: int
    tag: str = field(default_factory=lambda: uuid.uuid4().hex[:6])
    auctions: int = 1000
    bidders: int = 100_000
    base_ms: int = 0

    @property
    def bids(self) -> str:
        return f"Bids_{self.tag}"

    @property
    def clicks(self) -> str:
        return f"Clicks_{self.tag}"

    @property
    def table(self) -> str:
        return f"Auctions_{self.tag}"

    def queries(self) -> dict[str, tuple[str, str]]:
        """job name -> (output stream, query)."""
        b, c, a, t = self.bids, self.clicks, self.table, self.tag
        return {
            "aggregate": (f"AggOut_{t}",
                          f"SELECT ISTREAM(auction, COUNT(*) AS n, MAX(price) AS top) "
                          f"FROM {b} [RANGE 10 SECONDS SLIDE 2 SECONDS] GROUP BY auction"),
            "join": (f"JoinOut_{t}",
                     f"SELECT ISTREAM(B.auction, B.bidder, B.price, C.page) "
                     f"FROM {b} [RANGE 2 SECONDS] AS B JOIN {c} [RANGE 2 SECONDS] AS C "
                     f"ON B.bidder = C.userid"),
            "table_join": (f"TableJoinOut_{t}",
                           f"SELECT ISTREAM(B.auction, A.category, B.bidder, B.price) "
                           f"FROM {b} [NOW] AS B JOIN {a} AS A ON B.auction = A.id"),
        }


def create_inputs(conn: Any, w: Workload) -> None:
    cur = conn.cursor()
    p = w.partitions
    cur.execute(f"CREATE STREAM {w.bids} (auction INTEGER, bidder INTEGER, price INTEGER, "
                f"ts BIGINT) WITH (timestamp = 'ts', partitions = {p})")
    cur.execute(f"CREATE STREAM {w.clicks} (userid INTEGER, page INTEGER, ts BIGINT) "
                f"WITH (timestamp = 'ts', partitions = {p})")
    cur.execute(f"CREATE TABLE {w.table} (id INTEGER, category INTEGER, PRIMARY KEY (id))")
    # the table first (stamped with the wall clock, before every event); half the
    # auctions have a row, so the stream-table join drops the other half
    cur.executemany(f"INSERT INTO {w.table} VALUES (?, ?)",
                    [(i, i % 17) for i in range(0, w.auctions, 2)])


def make_events(w: Workload) -> tuple[list[tuple[int, str, int, bytes]], dict[str, int]]:
    """The input events, deterministic from the seed, in timestamp order: (ts, topic,
    partition, JSON value). Bids are 1 ms apart per partition; clicks are spread over
    the same span."""
    rng = random.Random(w.seed)
    p = w.partitions
    n_bids = w.events * 6 // 10
    n_clicks = w.events - n_bids
    span_ms = -(-n_bids // p)
    per_part_clicks = max(1, -(-n_clicks // p))
    w.base_ms = int(time.time() * 1000) + 60_000  # after the table rows, within max_future
    dumps = json.dumps
    out: list[tuple[int, str, int, bytes]] = []
    for i in range(n_bids):
        ts = w.base_ms + i // p
        out.append((ts, w.bids, i % p, dumps(
            {"auction": rng.randrange(w.auctions), "bidder": rng.randrange(w.bidders),
             "price": rng.randrange(1, 100_000), "ts": ts}, separators=(",", ":")).encode()))
    for i in range(n_clicks):
        ts = w.base_ms + (i // p) * span_ms // per_part_clicks
        out.append((ts, w.clicks, i % p, dumps(
            {"userid": rng.randrange(w.bidders), "page": rng.randrange(50), "ts": ts},
            separators=(",", ":")).encode()))
    out.sort(key=lambda e: e[0])  # stable: per partition still in order
    return out, {"bids": n_bids, "clicks": n_clicks, "auctions": (w.auctions + 1) // 2}


class Loader:
    """Produces events straight to the input topics with one idempotent Producer."""

    def __init__(self, bootstrap: str) -> None:
        from confluent_kafka import Producer

        self.producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 20,
                                  "batch.num.messages": 10_000,
                                  "queue.buffering.max.messages": 500_000,
                                  "compression.type": "lz4", "enable.idempotence": True,
                                  "message.timeout.ms": 600_000})
        self.errors = 0

    def _delivered(self, err: Any, msg: Any) -> None:
        if err is not None:
            self.errors += 1

    def send(self, events: list[tuple[int, str, int, bytes]]) -> None:
        for k, (ts, topic, part, value) in enumerate(events):
            while True:
                try:
                    self.producer.produce(topic, value, partition=part, timestamp=ts,
                                          on_delivery=self._delivered)
                    break
                except BufferError:
                    self.producer.poll(0.05)
            if k % 20_000 == 0:
                self.producer.poll(0)
        self.producer.poll(0)

    def paced(self, events: list[tuple[int, str, int, bytes]], seconds: float) -> None:
        """Send ``events`` evenly over about ``seconds``."""
        if not events:
            return
        began = time.monotonic()
        chunks = max(1, int(seconds / 0.1))
        size = -(-len(events) // chunks)
        for c in range(0, len(events), size):
            self.send(events[c:c + size])
            due = began + (c // size + 1) * seconds / chunks
            time.sleep(max(0.0, due - time.monotonic()))

    def flush(self) -> None:
        left = self.producer.flush(600)
        if left or self.errors:
            raise RuntimeError(f"{left} input records not delivered, {self.errors} failed")


def _ms(value: Any) -> int:
    if isinstance(value, dt.datetime):
        return int(value.timestamp() * 1000 + 0.5) if value.tzinfo else int(
            value.replace(tzinfo=dt.UTC).timestamp() * 1000 + 0.5)
    return int(value)


def reference(bootstrap: str, query: str) -> tuple[Counter[tuple[Row, int]], list[str]]:
    """The uninterrupted result: a bounded cursor over the loaded input."""
    import pycql

    # the harness's own reads: a broker loaded by the workers' catch-up after the kills
    # may take longer than the default 10 s to answer a new client's first metadata
    conn = pycql.connect(f"kafka://{bootstrap}", rowtime_column=True, timeout=60)
    try:
        cur = conn.cursor()
        cur.execute(query, start="earliest", stop="latest")
        names = [d[0] for d in cur.description or []][:-1]
        got: Counter[tuple[Row, int]] = Counter()
        while True:
            rows = cur.fetchmany(50_000)
            if not rows:
                break
            for r in rows:
                got[(tuple(r[:-1]), _ms(r[-1]))] += 1
        return got, names
    finally:
        conn.close()


# -- reading outputs -------------------------------------------------------------------
def committed_messages(consumer: Any, topic: str, idle_s: float = 5.0) -> Iterator[Any]:
    """Every committed message of ``topic`` (``consumer`` reads ``read_committed``), from
    the beginning to the end offsets it sees first, or until none came for ``idle_s``."""
    from confluent_kafka import TopicPartition

    meta = consumer.list_topics(topic, timeout=30).topics[topic]
    parts = sorted(meta.partitions)
    ends = {p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=30)[1]
            for p in parts}
    consumer.assign([TopicPartition(topic, p, 0) for p in parts])
    last = time.monotonic()
    done: set[int] = {p for p, e in ends.items() if e == 0}
    while len(done) < len(parts) and time.monotonic() - last < idle_s:
        for m in consumer.consume(10_000, 0.5):
            if m.error():
                continue
            last = time.monotonic()
            yield m
        for tp in consumer.position([TopicPartition(topic, p) for p in parts]):
            if tp.offset >= ends[tp.partition]:
                done.add(tp.partition)


def read_topic(bootstrap: str, topic: str, columns: list[str],
               idle_s: float = 5.0) -> Counter[tuple[Row, int]]:
    """Every committed record of ``topic``, from the beginning to the end, as a multiset
    of (row in ``columns`` order, Kafka timestamp)."""
    from confluent_kafka import Consumer

    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"faults-read-{uuid.uuid4()}",
                         "enable.auto.commit": False, "isolation.level": "read_committed",
                         "auto.offset.reset": "earliest"})
    got: Counter[tuple[Row, int]] = Counter()
    try:
        for m in committed_messages(consumer, topic, idle_s):
            if m.key() == b"pycql:control":  # a job's watermark, not a row
                continue
            value = m.value()
            if value is not None:
                obj = json.loads(value)
                got[(tuple(obj.get(c) for c in columns), m.timestamp()[1])] += 1
    finally:
        consumer.close()
    return got


def trace_rows(bootstrap: str, job_id: str, sink: str, columns: list[str],
               rows: list[tuple[Row, int]]) -> list[str]:
    """Where each of ``rows`` (a job's lost or extra rows) shows, to find why: every
    committed record of the output topic and of the job's intermediate topics whose
    values are the row's, with its partition, offset, timestamp and value (and, in an
    intermediate topic, the records around it: their watermarks name the writer)."""
    from confluent_kafka import Consumer

    wanted = {tuple(r) for r, _ in rows}
    # an intermediate record is one input of a row (a join's side): it shows when it
    # holds two of the row's values and is stamped near the row's instant
    parts = [(Counter(r), t) for r, t in rows]

    def part_of(values: Row, ts: int) -> bool:
        have = Counter(values)
        return any(abs(ts - t) <= 5_000 and sum((have & want).values()) >= 2
                   for want, t in parts)

    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"faults-trace-{uuid.uuid4()}",
                         "enable.auto.commit": False, "isolation.level": "read_committed"})
    lines: list[str] = []
    seen: dict[tuple[str, int, int], str] = {}
    hits: list[tuple[str, int, int]] = []
    try:
        topics = [sink, *sorted(t for t in consumer.list_topics(timeout=30).topics
                                if t.startswith(f"_pycql_repartition.{job_id}."))]
        for topic in topics:
            for m in committed_messages(consumer, topic):
                if m.value() is None:
                    continue
                seen[(topic, m.partition(), m.offset())] = (
                    f"{topic}[{m.partition()}]@{m.offset()} ts={m.timestamp()[1]} "
                    f"key={m.key()!r} value={m.value()!r}")
                try:
                    obj = json.loads(m.value())
                except ValueError:
                    continue
                if isinstance(obj, dict):
                    values = tuple(obj.get(c) for c in columns)
                elif isinstance(obj, list):
                    values = tuple(obj[1:])
                else:
                    continue
                if values in wanted or (topic != sink and part_of(values, m.timestamp()[1])):
                    hits.append((topic, m.partition(), m.offset()))
        for topic, part, offset in hits:
            lines.append(seen[(topic, part, offset)])
            if topic != sink:
                lines += ["      " + seen[(topic, part, o)] for o in range(offset - 3, offset + 4)
                          if o != offset and (topic, part, o) in seen]
    finally:
        consumer.close()
    return lines


class Tail(threading.Thread):
    """Follows the output topics (read_committed) and notes when records arrive."""

    def __init__(self, bootstrap: str, topics: list[str]) -> None:
        super().__init__(daemon=True, name="faults-tail")
        self.bootstrap = bootstrap
        self.topics = topics
        self.counts = {t: 0 for t in topics}
        self.arrivals: dict[str, list[float]] = {t: [] for t in topics}  # wall time per batch
        self.last_growth = {t: time.time() for t in topics}
        self._halt = threading.Event()

    def run(self) -> None:
        from confluent_kafka import Consumer

        consumer = Consumer({"bootstrap.servers": self.bootstrap,
                             "group.id": f"faults-tail-{uuid.uuid4()}",
                             "enable.auto.commit": False, "isolation.level": "read_committed",
                             "auto.offset.reset": "earliest",
                             "topic.metadata.refresh.interval.ms": 2000})
        consumer.subscribe(self.topics)
        try:
            while not self._halt.is_set():
                msgs = consumer.consume(10_000, 0.2)
                now = time.time()
                seen: set[str] = set()
                for m in msgs:
                    if m.error() or m.key() == b"pycql:control":  # rows only
                        continue
                    topic = str(m.topic())
                    self.counts[topic] += 1
                    seen.add(topic)
                for t in seen:
                    self.arrivals[t].append(now)
                    self.last_growth[t] = now
        finally:
            consumer.close()

    def first_after(self, topic: str, moment: float) -> float | None:
        return next((a for a in self.arrivals[topic] if a > moment), None)

    def stop(self) -> None:
        self._halt.set()
        self.join(10)


# -- workers ---------------------------------------------------------------------------
class Worker:
    """``python -m pycql.jobs.worker`` with stderr appended to ``log_path``."""

    def __init__(self, bootstrap: str, name: str, log_path: Path, static: bool = False) -> None:
        self.static = static
        self.bootstrap = bootstrap
        self.name = name
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts: list[float] = []
        #: exit statuses of runs that ended before the harness killed or stopped them
        self.died: list[int] = []

    def start(self) -> None:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
        with open(self.log_path, "ab") as err:
            err.write(f"--- harness: start {self.name} at {time.time():.3f}\n".encode())
            err.flush()
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "pycql.jobs.worker", "--connect",
                 f"kafka://{self.bootstrap}", "--id", self.name,
                 "--static" if self.static else "--no-static"],
                env=env, stdout=subprocess.DEVNULL, stderr=err, cwd=ROOT)
        self.starts.append(time.time())

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is not None:
            self.died.append(self.proc.returncode)
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(30)
        with open(self.log_path, "ab") as err:
            err.write(f"--- harness: SIGKILL {self.name} at {time.time():.3f}\n".encode())

    def stop(self) -> int | None:
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                return self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                return self.proc.wait(30)
        return self.proc.returncode


# -- the run ---------------------------------------------------------------------------
@dataclass
class Config:
    events: int = 1_000_000
    kills: int = 20
    seed: int = 1
    workers: int = 2
    partitions: int = 6
    broker_restart: bool = True
    bootstrap: str | None = None
    out: str | None = "benchmarks/results/faults.json"
    settle_timeout_s: float = SETTLE_TIMEOUT_S
    quiet_s: float = QUIET_S
    workdir: str | None = None
    #: the share of the input produced while the faults happen (the rest before the jobs)
    live_fraction: float = 0.5
    #: seconds between kills (uniform)
    kill_every_s: tuple[float, float] = (1.0, 4.0)
    #: seconds a killed worker stays down before its restart (uniform)
    down_s: tuple[float, float] = (0.2, 3.0)
    #: workers are dynamic group members (``pycql worker``'s default); ``True``: static
    #: members (``--static``, Kafka's ``group.instance.id``), whose restart gets a worker
    #: its tasks back with no rebalance
    static: bool = False
    #: the jobs run as the planner's stages (``WITH (stages = 'on')``, the default), their
    #: exchanges between stages over intermediate topics; ``False``: each job as one
    #: stage (``WITH (stages = 'off')``)
    stages: bool = True


def _all_committed(cur: Any, query_id: str) -> bool:
    """Whether every task of the job reports its output committed and its instants
    closed (``uncommitted=0``, watermark lag 0): ``LAG 0`` alone says the input is
    read, not that the output of what was read is visible (a task commits every commit
    interval, which grows with its state)."""
    cur.execute(f"EXPLAIN ANALYZE {query_id}")
    text = "\n".join(str(r[0]) for r in cur.fetchall())
    tasks = len(re.findall(r"^\s*task \d+ on ", text, re.M))
    return tasks > 0 and len(re.findall(r"\buncommitted=0\b", text)) == tasks and len(
        re.findall(r"watermark lag=0 ms", text)) == tasks


def _stats(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"min": None, "median": None, "max": None}
    return {"min": round(min(values), 3), "median": round(statistics.median(values), 3),
            "max": round(max(values), 3)}


def compare(want: Counter[tuple[Row, int]], got: Counter[tuple[Row, int]]) -> dict[str, int]:
    lost = sum((want - got).values())
    extra = got - want
    dup = sum(n for k, n in extra.items() if k in want)
    wrong = sum(n for k, n in extra.items() if k not in want)
    return {"rows_expected": sum(want.values()), "rows_read": sum(got.values()),
            "rows_lost": lost, "rows_duplicated": dup, "rows_wrong": wrong}


def _log_events(path: Path) -> tuple[Counter[str], Counter[str]]:
    """A worker log's events by name, and its errors (task_restart, job_failed,
    tracebacks' last lines) with their counts."""
    events: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    if not path.exists():
        return events, errors
    lines = path.read_text(errors="replace").splitlines()
    for k, line in enumerate(lines):
        if "event=" in line:
            event = line.split("event=", 1)[1].split(" ", 1)[0]
            events[event] += 1
            if event in ("task_restart", "job_failed", "status_lost") and "error=" in line:
                job = line.split("job=", 1)[1].split(" ", 1)[0] if "job=" in line else "?"
                error = line.split("error=", 1)[1].strip('"')
                for tag in (job, job.rsplit("_", 1)[0].split("_", 1)[-1]):
                    error = error.replace(tag, "<job>")
                errors[f"{event}: {error[:300]}"] += 1
        elif line.startswith("Traceback"):
            events["traceback"] += 1
            tail = next((x for x in lines[k + 1:] if x and not x.startswith(" ")), "?")
            errors[f"traceback: {tail[:300]}"] += 1
    return events, errors


_STAMP = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d),(\d{3}) ")
_PHASES = ("worker_started", "task_started", "task_first_output")


def restart_phases(path: Path) -> list[dict[str, float]]:
    """Per start of a worker (after the first) that ran a task: seconds from the
    harness's start of the process to its ``worker_started``, its first
    ``task_started`` and its first ``task_first_output`` (a task's first committed
    output since it started), and the ``task_started`` line's own figures (the
    wait for the group's assignment, the producer's init, the restore)."""
    runs: list[dict[str, float]] = []
    current: dict[str, float] | None = None
    for line in path.read_text(errors="replace").splitlines():
        if line.startswith("--- harness: start "):
            current = {"at": float(line.rsplit(" ", 1)[1])}
            runs.append(current)
            continue
        m = _STAMP.match(line)
        if current is None or m is None or "event=" not in line:
            continue
        event = line.split("event=", 1)[1].split(" ", 1)[0]
        if event in _PHASES and event not in current:
            when = time.mktime(time.strptime(m.group(1), "%Y-%m-%d %H:%M:%S"))
            current[event] = round(when + int(m.group(2)) / 1000 - current["at"], 3)
            if event == "task_started":
                for name in ("assigned_s", "producer_s", "restore_s", "start_s"):
                    found = re.search(rf"\b{name}=([\d.]+)", line)
                    if found:
                        current[name] = float(found.group(1))
    return [r for r in runs[1:] if "task_started" in r]


def _implementation() -> dict[str, Any]:
    """Which pycql ran: the commit of ROOT and whether pycql/ had uncommitted changes
    (``PYCQL_FAULTS_COMMIT`` names it for a snapshot without .git)."""
    named = os.environ.get("PYCQL_FAULTS_COMMIT")
    if named:
        return {"commit": named, "dirty": False}
    try:
        commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], check=True,
                                capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "pycql"],
                               check=True, capture_output=True, text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return {"commit": None, "dirty": None}
    return {"commit": commit, "dirty": bool(dirty)}


def run(cfg: Config, *, broker: Any = None) -> dict[str, Any]:
    """One harness run; ``broker`` (a LocalBroker) is what a broker restart restarts."""
    import pycql
    from pycql.kafka import LocalBroker, free_port_pair

    began = time.time()
    load_at_start = [round(x, 2) for x in os.getloadavg()]
    workdir = Path(cfg.workdir or tempfile.mkdtemp(prefix="pycql-faults-"))
    workdir.mkdir(parents=True, exist_ok=True)
    own_broker = None
    if cfg.bootstrap is None and broker is None:
        own_broker = broker = LocalBroker(workdir / "broker", free_port_pair())
        log(f"starting a broker in {broker.directory}")
        broker.start(timeout=120)
    bootstrap = cfg.bootstrap or broker.bootstrap
    restart_broker = cfg.broker_restart and broker is not None
    rng = random.Random(cfg.seed)
    w = Workload(cfg.events, cfg.partitions, cfg.seed)
    workers: list[Worker] = []
    tail: Tail | None = None
    conn = pycql.connect(f"kafka://{bootstrap}")
    try:
        create_inputs(conn, w)
        events, counts = make_events(w)
        split = len(events) - int(len(events) * cfg.live_fraction)
        loader = Loader(bootstrap)
        t0 = time.time()
        loader.send(events[:split])
        loader.flush()
        load_s = time.time() - t0
        log(f"loaded {split} of {len(events)} events ({counts}) in {load_s:.1f} s")
        queries = w.queries()
        refs: dict[str, Counter[tuple[Row, int]]] = {}
        cols: dict[str, list[str]] = {}
        ref_s: dict[str, float] = {}

        def references() -> None:
            for name, (_, q) in queries.items():
                t1 = time.time()
                refs[name], cols[name] = reference(bootstrap, q)
                ref_s[name] = round(time.time() - t1, 2)
                log(f"reference {name}: {sum(refs[name].values())} rows in {ref_s[name]} s")

        if split == len(events):
            references()

        workers = [Worker(bootstrap, f"w{i + 1}", workdir / f"worker-w{i + 1}.log", cfg.static)
                   for i in range(cfg.workers)]
        for wk in workers:
            wk.start()
        time.sleep(1.0)
        cur = conn.cursor()
        ids: dict[str, str] = {}
        for name, (sink, q) in queries.items():
            with_stages = f" WITH (stages = '{'on' if cfg.stages else 'off'}')"
            cur.execute(f"CREATE STREAM {sink}{with_stages} AS {q}")
            row = cur.fetchone()
            assert row is not None
            ids[name] = row[0]
        log(f"jobs {ids}")
        topics = {name: sink for name, (sink, _) in queries.items()}
        tail = Tail(bootstrap, list(topics.values()))
        tail.start()

        kills: list[dict[str, Any]] = []
        broker_restarts = 0
        live_s = cfg.kills * (sum(cfg.kill_every_s) / 2 + 1.6)  # about the kill phase
        live = threading.Thread(target=loader.paced, daemon=True, name="faults-live",
                                args=(events[split:], live_s))
        live.start()
        broker_at = cfg.kills // 2 if restart_broker else -1
        for k in range(cfg.kills):
            time.sleep(rng.uniform(*cfg.kill_every_s))
            if k == broker_at:
                log("broker: stop")
                t0 = time.time()
                broker.stop()
                time.sleep(rng.uniform(0.5, 2.0))
                broker.start(timeout=120)
                broker_restarts += 1
                log(f"broker: started again ({time.time() - t0:.1f} s down)")
            victim = rng.choice(workers)
            delay = rng.uniform(*cfg.down_s)
            victim.kill()
            killed_at = time.time()
            time.sleep(delay)
            victim.start()
            kills.append({"worker": victim.name, "killed_at": killed_at,
                          "restarted_at": time.time(), "down_s": round(delay, 3)})
            log(f"kill {k + 1}/{cfg.kills}: {victim.name} down {delay:.1f} s; "
                f"outputs {tail.counts}")
        last_kill = time.time()
        live.join()
        loader.flush()
        if not refs:
            log("the live part of the input is loaded")
            references()
            last_kill = max(last_kill, time.time() - cfg.quiet_s / 2)

        # wait until every output is complete: as large as the reference, or not grown
        # for quiet_s while its job has nothing left to read (LAG 0) or is not live
        want = {name: sum(refs[name].values()) for name in queries}
        done: dict[str, str] = {}
        while True:
            now = time.time()
            shown: dict[str, tuple[Any, ...]] = {}
            for n in queries:
                if n in done:
                    continue
                if tail.counts[topics[n]] >= want[n]:
                    done[n] = "reference size"
                elif now - max(tail.last_growth[topics[n]], last_kill) >= cfg.quiet_s:
                    if not shown:
                        cur.execute("SHOW QUERIES")
                        shown = {r[0]: tuple(r) for r in cur.fetchall()}
                    row = shown.get(ids[n])
                    if row is not None and row[1] in ("FAILED", "TERMINATED"):
                        done[n] = f"quiet, {row[1]}"
                    elif row is not None and row[1] == "RUNNING" and row[6] == 0 and \
                            _all_committed(cur, ids[n]):
                        done[n] = "quiet, lag 0, all committed"
            if len(done) == len(queries):
                break
            if now - last_kill >= cfg.settle_timeout_s:
                for n in queries:
                    done.setdefault(n, "settle timeout")
                break
            time.sleep(1.0)
        settle_s = time.time() - last_kill
        log(f"settled after {settle_s:.1f} s: outputs {tail.counts}, want {want}")

        late: dict[str, int | None] = {}
        for name, qid in ids.items():  # late and malformed input, from the task reports
            try:
                cur.execute(f"EXPLAIN ANALYZE {qid}")
                text = "\n".join(str(r[0]) for r in cur.fetchall())
                found = re.findall(r"\blate=(\d+)", text)
                late[name] = sum(int(x) for x in found) if found else None
            except Exception as exc:
                log(f"EXPLAIN ANALYZE {qid}: {exc}")
                late[name] = None
        status = {}
        cur.execute("SHOW QUERIES")
        for row in cur.fetchall():
            if row[0] in ids.values():
                status[row[0]] = {"status": row[1], "workers": row[4], "error": row[9]}

        jobs: dict[str, Any] = {}
        for name, (sink, q) in queries.items():
            got = read_topic(bootstrap, sink, cols[name])
            result = compare(refs[name], got)
            missing = sorted((refs[name] - got).items(), key=lambda kv: kv[0][1])
            extra = sorted((got - refs[name]).items(), key=lambda kv: kv[0][1])
            samples = {"lost": [[list(r), t - w.base_ms, n] for (r, t), n in missing[:10]],
                       "extra": [[list(r), t - w.base_ms, n] for (r, t), n in extra[:10]]}
            recov = []
            for kill in kills:
                first = tail.first_after(sink, kill["restarted_at"])
                if first is not None:
                    recov.append(first - kill["restarted_at"])
            jobs[name] = {
                "query": q, "query_id": ids[name], "output": sink,
                "kills": len(kills), "restarts": len(kills),
                "broker_restarts": broker_restarts, **result,
                "recovery_s": _stats(recov), "recoveries_measured": len(recov),
                "reference_s": ref_s[name], "status": status.get(ids[name]),
                "complete": done[name],
                "samples_ms_after_base": samples,
                "late_records_in_task_reports": late.get(name),
            }
            log(f"{name}: {result}")
            if result["rows_lost"] or result["rows_duplicated"] or result["rows_wrong"]:
                odd = [k for k, _ in (missing + extra)[:20]]
                trace = trace_rows(bootstrap, ids[name], sink, cols[name], odd)
                jobs[name]["trace"] = trace
                log(f"{name}: where the first {len(odd)} odd rows show:\n  " + "\n  ".join(trace))
        for wk in workers:  # a worker that is not running now died on its own
            if wk.proc is not None and wk.proc.poll() is not None:
                wk.died.append(wk.proc.returncode)
        logs: dict[str, Any] = {}
        errors: Counter[str] = Counter()
        phases: list[dict[str, float]] = []
        for wk in workers:
            events_of, errors_of = _log_events(wk.log_path)
            logs[wk.name] = dict(events_of)
            errors.update(errors_of)
            phases += restart_phases(wk.log_path)
        phase_stats = {name: _stats([p[name] for p in phases if name in p])
                       for name in (*_PHASES, "assigned_s", "producer_s", "restore_s",
                                    "start_s")}
        return {
            "config": {"events": cfg.events, "kills": cfg.kills, "seed": cfg.seed,
                       "workers": cfg.workers, "partitions": cfg.partitions,
                       "broker_restart": restart_broker, "static": cfg.static,
                       "kill_every_s": list(cfg.kill_every_s), "down_s": list(cfg.down_s),
                       "live_fraction": cfg.live_fraction,
                       "pycql": _implementation(),
                       "input": counts, "load_s": round(load_s, 2),
                       "settle_s": round(settle_s, 1), "wall_s": round(time.time() - began, 1),
                       "workdir": str(workdir),
                       "kill_schedule": [{**k, "killed_at": round(k["killed_at"] - began, 2),
                                          "restarted_at": round(k["restarted_at"] - began, 2)}
                                         for k in kills]},
            "jobs": jobs,
            "worker_log_events": logs,
            "restart_phases_s": phase_stats,
            "restarts_with_a_task": len(phases),
            "load_average": {"start": load_at_start,
                             "end": [round(x, 2) for x in os.getloadavg()]},
            "worker_errors": dict(errors.most_common()),
            "worker_exits_on_their_own": {wk.name: list(wk.died) for wk in workers
                                          if wk.died},
        }
    finally:
        if tail is not None:
            tail.stop()
        try:
            cur = conn.cursor()
            for sink, _ in w.queries().values():
                cur.execute("SHOW QUERIES")
                for row in cur.fetchall():
                    if row[3] == sink and row[1] not in ("TERMINATED", "FAILED"):
                        cur.execute(f"TERMINATE {row[0]}")
        except Exception as exc:
            log(f"cleanup: {exc}")
        conn.close()
        for wk in workers:
            wk.stop()
        if own_broker is not None:
            own_broker.stop()


# -- output ----------------------------------------------------------------------------
def table(result: dict[str, Any]) -> str:
    head = ["job", "kills", "broker restarts", "expected", "read", "lost", "duplicated",
            "wrong", "recovery s (min/median/max)"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, j in result["jobs"].items():
        r = j["recovery_s"]
        rec = "/".join("-" if r[k] is None else f"{r[k]:.1f}" for k in ("min", "median", "max"))
        lines.append("| " + " | ".join(str(x) for x in [
            name, j["kills"], j["broker_restarts"], j["rows_expected"], j["rows_read"],
            j["rows_lost"], j["rows_duplicated"], j["rows_wrong"], rec]) + " |")
    return "\n".join(lines)


def phases_table(result: dict[str, Any]) -> str:
    """Where a restarted worker's time went, min/median/max seconds over its restarts."""
    lines = [f"Restarts of a killed worker that ran a task: {result['restarts_with_a_task']}; "
             f"load average (1/5/15 min) at start {result['load_average']['start']}, "
             f"at end {result['load_average']['end']} (a shared 2-CPU machine).", "",
             "| phase (s) | min | median | max |", "|---|---|---|---|"]
    for name, r in result["restart_phases_s"].items():
        lines.append(f"| {name} | " + " | ".join(
            "-" if r[k] is None else f"{r[k]:.2f}" for k in ("min", "median", "max")) + " |")
    return "\n".join(lines)


def _flag(name: str, value: tuple[float, float], default: tuple[float, float]) -> str:
    return "" if value == default else f" {name} {value[0]:g} {value[1]:g}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.faults", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--partitions", type=int, default=6)
    parser.add_argument("--broker-restart", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--bootstrap", help="use this broker (no broker restart)")
    parser.add_argument("--settle-timeout", type=float, default=SETTLE_TIMEOUT_S,
                        help="seconds after the last kill to wait for complete outputs")
    parser.add_argument("--live-fraction", type=float, default=0.5,
                        help="share of the events produced during the faults (default 0.5)")
    parser.add_argument("--kill-every", type=float, nargs=2, default=(1.0, 4.0),
                        metavar=("MIN", "MAX"), help="seconds between kills (default 1 4)")
    parser.add_argument("--down", type=float, nargs=2, default=(0.2, 3.0),
                        metavar=("MIN", "MAX"),
                        help="seconds a killed worker stays down (default 0.2 3)")
    parser.add_argument("--workdir", help="where worker logs (and the broker) go")
    parser.add_argument("--out", default="benchmarks/results/faults.json")
    parser.add_argument("--static", action=argparse.BooleanOptionalAction, default=False,
                        help="the workers are static members (--static) or dynamic ones "
                             "(default, as pycql worker's)")
    parser.add_argument("--stages", action=argparse.BooleanOptionalAction, default=True,
                        help="run the jobs as the planner's stages, joined by intermediate "
                             "topics (the default, as CREATE ... AS does), or each job as "
                             "one stage (--no-stages)")
    a = parser.parse_args(argv)
    cfg = Config(events=a.events, kills=a.kills, seed=a.seed, workers=a.workers,
                 partitions=a.partitions, broker_restart=a.broker_restart and not a.bootstrap,
                 bootstrap=a.bootstrap, out=a.out, settle_timeout_s=a.settle_timeout,
                 workdir=a.workdir, live_fraction=a.live_fraction, static=a.static,
                 stages=a.stages, kill_every_s=tuple(a.kill_every), down_s=tuple(a.down))
    result = run(cfg)
    text = table(result)
    text += "\n\n" + phases_table(result)
    if result.get("worker_errors"):
        text += "\n\nWorker errors (count: event: error):\n\n" + "\n".join(
            f"* {n}: `{e}`" for e, n in result["worker_errors"].items())
    print(text)
    if a.out:
        out = Path(a.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=2, default=str) + "\n")
        out.with_suffix(".md").write_text(
            f"# Fault harness\n\n`python -m benchmarks.faults --events {a.events} --kills "
            f"{a.kills} --seed {a.seed} --workers {a.workers} --partitions {a.partitions}"
            f"{'' if cfg.broker_restart else ' --no-broker-restart'}"
            f"{' --static' if cfg.static else ''}"
            f"{'' if cfg.stages else ' --no-stages'}"
            f"{_flag('--kill-every', cfg.kill_every_s, (1.0, 4.0))}"
            f"{_flag('--down', cfg.down_s, (0.2, 3.0))}`\n\n{text}\n")
    bad = any(j["rows_lost"] or j["rows_duplicated"] or j["rows_wrong"]
              for j in result["jobs"].values())
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
