"""End-to-end latency of a Nexmark query at a steady input rate, read through a DB-API cursor.

One measurement (:func:`measure`) runs one query on a real Kafka broker:

* a **producer process** (its own interpreter, so it shares no GIL with the query)
  paces the Nexmark generator (:mod:`benchmarks.nexmark.generator`) at a steady
  ``rate`` events/s of wall-clock time: event number ``n`` has the event time
  ``base + n * 1000 // rate`` with ``base`` the wall clock (epoch ms) a second after
  the start signal (a thread generates the events up to 2 s ahead), and it is
  handed to librdkafka (``Producer.produce``, ``linger.ms`` 1) once the wall clock
  reaches that time, all the events due in one pass together.
  Before each such pass it notes, per topic, the newest event time it holds and
  the moment (``time.monotonic``, one clock for every process of the machine) just
  before the first ``produce`` call: its *send log*;
* the **query** runs in this process through ``pycql.connect("kafka://...")``: its
  streams are created by DDL on fresh topics, the query is executed as a continuous
  cursor (``start`` latest) and read with ``fetchone``; each row is noted with its
  instant (``cursor.rowtime_ms``) and the moment ``fetchone`` returned it.

**Latency of an output row** at instant ``τ``: the moment the row reached the
cursor minus the moment its instant could first be closed, which is the producer's
send of the first record past ``τ`` (event time ``> τ``) on *every* stream the query
reads, that is the latest of those sends over the streams. Until then the
watermark (newest event time minus lateness minus 1, the minimum over partitions,
``docs/time.md``; lateness is 0 here) is below ``τ`` and the instant is open, so no
engine could emit a row of ``τ`` earlier. This is the definition of Flink's and
ksqlDB's latency benchmarks (the time from the input that makes a result
complete to its delivery), per query kind:

* a **stream** without a window (q0-q2, q10, q13, q14, q21, q22; q3, q20: joins of
  unbounded streams): ``τ`` is the event time of the input row itself, closed by the
  next record after it (at 10,000 events/s, a tenth of a millisecond later);
* a **windowed** query (q5, q7, q8, q11, q12, their RANGE, tumbling and session
  windows): ``τ`` is the instant at which the window's content changes (a window's
  end, a slide, a session's gap expiring), closed by the first record past it,
  as a watermark past the window's end fires Flink's window;
* a **relation** (q4, q6, q9, q15-q19): the cursor reads ``ISTREAM`` of the query
  (a relation-valued cursor is a snapshot, ``docs/dbapi.md``), so a row is an
  insertion into the relation at ``τ``, the instant of the input that changed it
  (or of the window change), closed as above; the deletions of an update are not
  rows of the cursor and are not measured.

A row whose instant has no record past it on some stream when production stops
(the last instants, closed only by the idle timeout) is not measured; nor are rows
of the first ``warmup_s`` seconds of event time (the JVM, the reader's first
fetches). Each query is measured on its own output *instants* (distinct ``τ``);
the figures are over rows, and ``instants`` says how many distinct instants they
came from.

Windows are shortened where the benchmark's text would give too few instants
(:data:`VARIANTS`): q7, q8 and q12's 10 s tumbling windows give one instant per
10 s (1,000 instants would take 3 hours), q5's 2 s slide one per 2 s, q11's 10 s
session gap closes few sessions per second. The variants keep each window's shape
(tumbling stays tumbling, q5 keeps 5 panes per window) at a thousandth of the
length (10 s -> 10 ms, 2 s -> 10 ms slide of a 50 ms range), so that the query
emits at about the rate the benchmark's query would over 1,000x more data; they
are named in the result (``variant``).

    python -m benchmarks.nexmark.latency --queries q0,q5 --seconds 20

starts a local broker (or uses ``--bootstrap``) and prints one JSON line per query.
"""

from __future__ import annotations

import argparse
import bisect
import contextlib
import gc
import os
import subprocess
import sys
import threading
import time
import uuid
from array import array
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.nexmark.generator import (  # noqa: E402
    TOPICS,
    GeneratorConfig,
    NexmarkGenerator,
)
from benchmarks.nexmark.queries import (  # noqa: E402
    QUERIES,
    SIDE_INPUT_KEYS,
    NexmarkQuery,
    side_input_ddl,
    stream_ddl,
)

SIDE_TOPIC = "side_input"

#: Shorter windows where the benchmark's would give too few output instants
#: (see the module docstring): query -> (window text, its replacement).
_TUMBLING_10S = ("[RANGE 10 SECONDS SLIDE 10 SECONDS]",
                 "[RANGE 10 MILLISECONDS SLIDE 10 MILLISECONDS]")
_HOP_10S_2S = ("[RANGE 10 SECONDS SLIDE 2 SECONDS]",
               "[RANGE 50 MILLISECONDS SLIDE 10 MILLISECONDS]")
VARIANTS: dict[str, tuple[tuple[str, str], ...]] = {
    "q5": (_HOP_10S_2S,),
    "q5_count": (_HOP_10S_2S,),
    "q7": (_TUMBLING_10S,),
    # q8 pairs a person with an auction of theirs in the same window: a 10 ms window
    # rarely holds both (a dozen instants in 5 s), so it slides instead
    "q8": (("[RANGE 10 SECONDS SLIDE 10 SECONDS]", "[RANGE 10 SECONDS SLIDE 10 MILLISECONDS]"),),
    "q11": (("[PARTITION BY bidder SESSION 10 SECONDS]",
             "[PARTITION BY bidder SESSION 10 MILLISECONDS]"),),
    "q12": (_TUMBLING_10S,),
}


@dataclass(frozen=True)
class LatencyQuery:
    """The text a latency run executes for one benchmark query."""

    name: str
    sql: str
    views: tuple[tuple[str, str], ...]
    reads: tuple[str, ...]  # the streams whose records close its instants
    variant: str | None  # what differs from the benchmark's text, if anything


def latency_query(query: NexmarkQuery) -> LatencyQuery:
    """``query`` as the latency run executes it: windows of :data:`VARIANTS`, and
    ``ISTREAM(...)`` around a relation (a continuous cursor reads streams).

    >>> latency_query(QUERIES["q7"]).variant
    '[RANGE 10 SECONDS SLIDE 10 SECONDS] -> [RANGE 10 MILLISECONDS SLIDE 10 MILLISECONDS]'
    >>> latency_query(QUERIES["q4"]).sql.startswith("ISTREAM(SELECT Q.category")
    True
    """
    sql = query.sql
    views = query.views
    notes = []
    for old, new in VARIANTS.get(query.name, ()):
        if old not in sql and not any(old in text for _, text in views):
            raise ValueError(f"{query.name}: the variant's window {old} is not in the query")
        sql = sql.replace(old, new)
        views = tuple((name, text.replace(old, new)) for name, text in views)
        notes.append(f"{old} -> {new}")
    if query.kind == "relation":
        sql = f"ISTREAM({sql})"
    reads = tuple(r for r in query.reads if r in TOPICS)
    return LatencyQuery(query.name, sql, views, reads, "; ".join(notes) or None)


# -- the producer (its own process) -----------------------------------------------------


@dataclass
class SendLog:
    """Per topic, the passes of the producer: newest event time sent, and when.

    ``newest[topic][i]`` is the newest event time among the records of pass ``i``
    (non-decreasing: the generator's times are), ``sent_at[topic][i]`` the
    ``time.monotonic()`` just before the pass's first ``produce`` call.
    """

    newest: dict[str, list[int]] = field(default_factory=dict)
    sent_at: dict[str, list[float]] = field(default_factory=dict)
    base_ms: int = 0
    events: int = 0
    late_passes: int = 0  # passes that started more than 5 ms after their first event was due
    counts: dict[str, int] = field(default_factory=dict)  # records sent per topic

    def first_send_after(self, topic: str, instant: int) -> float | None:
        """When the first record of ``topic`` with an event time past ``instant`` was sent."""
        newest = self.newest.get(topic, [])
        i = bisect.bisect_right(newest, instant)
        return self.sent_at[topic][i] if i < len(newest) else None


def produce_paced(bootstrap: str, prefix: str, rate: int, seconds: float, seed: int) -> SendLog:
    """The producer process: wait for a line on stdin, then send ``rate`` events/s for
    ``seconds``; returns the send log."""
    from confluent_kafka import Producer

    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 1,
                         "queue.buffering.max.messages": 1_000_000,
                         "compression.type": "lz4"})
    producer.list_topics(timeout=30)  # connected before the start
    for topic in TOPICS:  # and the topics' leaders known
        producer.list_topics(prefix + topic, timeout=30)
    print("ready", flush=True)
    sys.stdout.flush()
    sys.stdin.readline()
    # the generator's chunks are a second of events each (tens of ms of CPU, more on a
    # loaded machine): a thread makes them up to two seconds ahead, so sending never
    # waits for one; production starts a second after the go, the first chunk made
    sys.setswitchinterval(0.0005)
    base_ms = int(time.time() * 1000) + 1000
    total = int(rate * seconds)
    config = GeneratorConfig(seed=seed, events=total, rate=rate, base_time_ms=base_ms)
    pending: deque[tuple[int, str, bytes]] = deque()  # (event time, topic, value), in time order
    log = SendLog(base_ms=base_ms, events=total)
    for topic in TOPICS:
        log.newest[topic] = []
        log.sent_at[topic] = []
    made = threading.Event()  # the generator thread is done

    def generate() -> None:
        for batch in NexmarkGenerator(config).chunks():
            merged: list[tuple[int, str, bytes]] = []
            for topic, (values, times) in batch.by_topic().items():
                merged.extend((t, prefix + topic, v) for t, v in zip(times, values, strict=True))
            merged.sort(key=lambda e: e[0])
            pending.extend(merged)  # deque.extend: atomic for the sending thread
            while pending and pending[-1][0] > time.time() * 1000 + 2000:
                time.sleep(0.05)
        made.set()

    threading.Thread(target=generate, name="generator", daemon=True).start()
    produce = producer.produce
    sent = dict.fromkeys((prefix + t for t in TOPICS), 0)
    while True:
        now_ms = time.time() * 1000
        if not pending:
            if made.is_set() and not pending:
                break
            time.sleep(0.0005)
            continue
        if pending[0][0] > now_ms:
            time.sleep(min((pending[0][0] - now_ms) / 1000, 0.0005))
            continue
        if now_ms - pending[0][0] > 5:
            log.late_passes += 1
        stamp = time.monotonic()
        newest: dict[str, int] = {}
        while pending and pending[0][0] <= now_ms:
            ts, topic, value = pending.popleft()
            while True:
                try:
                    produce(topic, value, timestamp=ts)
                    break
                except BufferError:
                    producer.poll(0.001)
            newest[topic] = ts
            sent[topic] += 1
        for topic, ts in newest.items():
            short = topic[len(prefix):]
            log.newest[short].append(ts)
            log.sent_at[short].append(stamp)
        producer.poll(0)
    producer.flush(30)
    log.counts = {t[len(prefix):]: n for t, n in sent.items()}
    return log


def _start_producer(bootstrap: str, prefix: str, rate: int, seconds: float,
                    seed: int) -> subprocess.Popen[bytes]:
    """The producer in its own interpreter, ready (connected) when this returns."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.nexmark.latency", "--produce", prefix,
         "--bootstrap", bootstrap, "--rate", str(rate), "--seconds", str(seconds),
         "--seed", str(seed)],
        cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert proc.stdout is not None
    if proc.stdout.readline().strip() != b"ready":
        proc.kill()
        raise RuntimeError(f"the producer process failed to start ({proc.wait()})")
    return proc


# -- the measurement -------------------------------------------------------------------


@dataclass
class _GcWatch:
    """Collections of this process while the query runs (``gc.callbacks``)."""

    started: dict[int, float] = field(default_factory=dict)
    pauses: list[tuple[int, float, float]] = field(default_factory=list)  # (gen, start, s)

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        gen = int(info.get("generation", -1))
        if phase == "start":
            self.started[gen] = time.monotonic()
        elif gen in self.started:
            t0 = self.started.pop(gen)
            self.pauses.append((gen, t0, time.monotonic() - t0))


def _percentile(values: list[float], p: float) -> float | None:
    """The nearest-rank ``p`` percentile of sorted ``values``.

    >>> _percentile([1.0, 2.0, 3.0, 4.0], 0.5), _percentile([], 0.5)
    (2.0, None)
    """
    if not values:
        return None
    return values[max(0, min(len(values) - 1, int(p * len(values) + 0.5) - 1))]


def latencies(rows: Iterable[tuple[int, float]], sends: SendLog, reads: tuple[str, ...],
              warmup_ms: int) -> tuple[list[tuple[int, float, float]], int]:
    """Each measured row as ``(instant, arrived, latency_ms)``, and how many were left out.

    ``rows`` are ``(instant, arrival)`` pairs (``time.monotonic``); a row's latency
    is its arrival minus the latest over ``reads`` of the first send past its instant.
    """
    out: list[tuple[int, float, float]] = []
    unmeasured = 0
    closes: dict[int, float | None] = {}
    for instant, arrived in rows:
        if instant < sends.base_ms + warmup_ms:
            continue
        if instant not in closes:
            firsts = [sends.first_send_after(t, instant) for t in reads]
            closes[instant] = None if None in firsts else max(f for f in firsts if f is not None)
        closed = closes[instant]
        if closed is None:
            unmeasured += 1
            continue
        out.append((instant, arrived, (arrived - closed) * 1000))
    return out, unmeasured


def summary(measured: list[tuple[int, float, float]]) -> dict[str, Any]:
    """p50/p99/max over rows, and the number of distinct instants."""
    values = sorted(m[2] for m in measured)
    return {
        "samples": len(values),
        "instants": len({m[0] for m in measured}),
        "p50_ms": _percentile(values, 0.50),
        "p90_ms": _percentile(values, 0.90),
        "p99_ms": _percentile(values, 0.99),
        "p999_ms": _percentile(values, 0.999),
        "max_ms": values[-1] if values else None,
        "min_ms": values[0] if values else None,
    }


def _stalls(measured: list[tuple[int, float, float]], t0: float,
            threshold_ms: float = 100.0) -> list[dict[str, float]]:
    """Runs of rows slower than ``threshold_ms``: when (s after the first send), how long."""
    out: list[dict[str, float]] = []
    for _, arrived, lat in measured:
        if lat < threshold_ms:
            continue
        at = arrived - t0
        if out and at - out[-1]["until_s"] < 0.2:
            out[-1]["until_s"] = at
            out[-1]["worst_ms"] = max(out[-1]["worst_ms"], lat)
        else:
            out.append({"at_s": at, "until_s": at, "worst_ms": lat})
    return out[:20]


def _runqueue_wait_s() -> float:
    """Seconds this thread has waited for a CPU while runnable (Linux schedstat; else 0):
    a starved query (a loaded machine) tells itself apart from a blocked one."""
    try:
        with open(f"/proc/self/task/{threading.get_native_id()}/schedstat") as f:
            return int(f.read().split()[1]) / 1e9
    except (OSError, ValueError, IndexError):
        return 0.0


def _drop_objects(cur: Any, query: LatencyQuery) -> None:
    """Drop the views and streams named like the benchmark's, if they exist."""
    for view, _ in reversed(query.views):
        cur.execute(f"DROP VIEW IF EXISTS {view}")
    for stream in TOPICS:
        cur.execute(f"DROP STREAM IF EXISTS {stream}")
    cur.execute(f"DROP TABLE IF EXISTS {SIDE_TOPIC}")


def measure(name: str, bootstrap: str, *, rate: int = 10_000, seconds: float = 20.0,
            warmup_s: float = 2.0, seed: int = 1, trace: bool = True) -> dict[str, Any]:
    """Run ``name`` (a key of :data:`QUERIES`) live at ``rate`` events/s; its latency."""

    import pycql

    query = latency_query(QUERIES[name])
    prefix = f"lat{uuid.uuid4().hex[:8]}_{name}_"
    conn = pycql.connect(f"kafka://{bootstrap}")
    cur = conn.cursor()
    producer: subprocess.Popen[bytes] | None = None
    try:
        # the catalog is the cluster's (one measurement at a time on a broker): the
        # names the query texts use are made afresh, on this run's topics
        _drop_objects(cur, query)
        for stream in TOPICS:
            cur.execute(stream_ddl(stream, topic=prefix + stream))
        cur.execute(side_input_ddl(prefix + SIDE_TOPIC))
        cur.executemany(f"INSERT INTO {SIDE_TOPIC} VALUES (?, ?)",
                        [(k, f"side-{k}") for k in range(SIDE_INPUT_KEYS)])
        for view, text in query.views:
            cur.execute(f"CREATE VIEW {view} AS {text}")
        cur.execute(query.sql)
        producer = _start_producer(bootstrap, prefix, rate, seconds, seed)
        assert producer.stdin is not None and producer.stdout is not None
        output = producer.stdout
        received: list[bytes] = []
        reader = threading.Thread(target=lambda: received.append(output.read()), daemon=True)
        reader.start()
        watch = _GcWatch()
        if trace:
            gc.callbacks.append(watch)
        # each row's instant and arrival, in arrays: the cyclic collector does not
        # traverse them (a list of 180k tuples made this process's full collections,
        # and so the query's stalls, 50-100 ms longer)
        instants = array("q")
        arrivals = array("d")
        note_instant = instants.append
        note_arrival = arrivals.append
        fetchone = cur.fetchone
        # every ~50 ms: (monotonic, process CPU s, records read, watermark, this thread's
        # seconds waiting for a CPU) for --trace-dir
        timeline: list[tuple[float, float, int, int | None, float]] = []
        next_tick = 0.0
        load_before = os.getloadavg()
        cpu0 = time.process_time()
        t0 = time.monotonic()
        producer.stdin.write(b"go\n")
        producer.stdin.flush()
        sends: SendLog | None = None
        expected = None  # records of the read streams, known once production ended
        drain_until = t0 + seconds + 90  # a query that falls behind stops here anyway
        while time.monotonic() < drain_until:
            row = fetchone(timeout=0.05)
            now = time.monotonic()
            if row is not None:
                note_instant(cur.rowtime_ms or 0)
                note_arrival(now)
            if now >= next_tick:
                next_tick = now + 0.05
                m = cur.metrics
                timeline.append((now, time.process_time(), getattr(m, "records_in", 0),
                                 getattr(m, "watermark", None), _runqueue_wait_s()))
            if sends is None and not reader.is_alive():
                if producer.wait() != 0 or not received or not received[0]:
                    raise RuntimeError(f"the producer process failed ({producer.returncode})")
                sends = msgspec.json.decode(received[0], type=SendLog)
                expected = sum(n for t, n in sends.counts.items() if t in query.reads)
            if expected is not None and timeline[-1][2] >= expected:
                # everything read: the rows of the last closed instants follow at once
                drain_until = min(drain_until, now + 0.5)
        if sends is None:
            raise RuntimeError("the producer did not finish in time")
        cpu = time.process_time() - cpu0
        if trace:
            gc.callbacks.remove(watch)
        metrics = cur.metrics
    finally:
        if producer is not None and producer.poll() is None:
            producer.kill()
            producer.wait()
        cur.close()
        with contextlib.suppress(Exception):
            _drop_objects(conn.cursor(), query)
        conn.close()
    assert sends is not None
    measured, unmeasured = latencies(zip(instants, arrivals, strict=True), sends, query.reads,
                                     int(warmup_s * 1000))
    result: dict[str, Any] = {
        "query": name,
        "variant": query.variant,
        "rate": rate,
        "seconds": seconds,
        "warmup_s": warmup_s,
        "events": sends.events,
        "producer_late_passes": sends.late_passes,
        "rows": len(instants),
        "unmeasured_rows": unmeasured,
        **summary(measured),
        "records_in": getattr(metrics, "records_in", None),
        "late_records": getattr(metrics, "late_records", None),
        "cpu_s": cpu,
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
    }
    if trace:
        first_send = min((v[0] for v in sends.sent_at.values() if v), default=t0)
        result["stalls_over_100ms"] = _stalls(measured, first_send)
        gen2 = [p for p in watch.pauses if p[0] == 2]
        result["gc"] = {
            "collections": [sum(1 for p in watch.pauses if p[0] == g) for g in (0, 1, 2)],
            "max_pause_ms": max((p[2] for p in watch.pauses), default=0.0) * 1000,
            "gen2_pauses": [{"at_s": p[1] - first_send, "ms": p[2] * 1000} for p in gen2][:10],
        }
        # the raw trace, times in s after the first send (main() writes it with --trace-dir)
        result["_trace"] = {
            "rows": [(i, a - first_send, lat) for i, a, lat in measured],
            "timeline": [(t - first_send, c - cpu0, n, w, q) for t, c, n, w, q in timeline],
            "gc": [(g, t - first_send, d) for g, t, d in watch.pauses],
            "sends": {t: list(zip([s - first_send for s in sends.sent_at[t]], sends.newest[t],
                                  strict=True)) for t in query.reads},
            "base_ms": sends.base_ms,
        }
    return result


def measure_job(job: dict[str, Any], bootstrap: str | None) -> dict[str, Any]:
    """What ``benchmarks/nexmark/run.py``'s latency child returns for one job."""
    if not bootstrap:
        return {"error": "the latency run reads a Kafka broker (--log kafka)"}
    result = measure(job["query"], bootstrap, rate=int(job["rate"]),
                     seconds=float(job["seconds"]), seed=int(job.get("seed", 1)),
                     warmup_s=float(job.get("warmup_s", 2.0)))
    result.pop("_trace", None)
    return result


def write_results(path: Path, results: dict[str, dict[str, Any]], *, started: str,
                  load_before: tuple[float, float, float], note: str | None = None) -> None:
    """``path``.json (every figure) and ``path``.md (a table per query)."""
    import platform

    import orjson

    header = {
        "date": started,
        "machine": f"{os.cpu_count()} cores, Python {platform.python_version()}, "
                   f"{platform.platform()}",
        "load_average_at_start": [round(v, 2) for v in load_before],
        "load_average_at_end": [round(v, 2) for v in os.getloadavg()],
        "note": note,
    }
    path.with_suffix(".json").write_bytes(
        orjson.dumps({"header": header, "queries": results}, option=orjson.OPT_INDENT_2))

    def ms(value: Any) -> str:
        return "-" if value is None else f"{value:.1f}"

    lines = [
        "# Nexmark end-to-end latency",
        "",
        f"- date: {header['date']}; machine: {header['machine']}",
        f"- load average (1/5/15 min) at start {header['load_average_at_start']}, at end "
        f"{header['load_average_at_end']}",
        "- method: `benchmarks/nexmark/latency.py` (its docstring): a producer process at a "
        "steady rate, the query live through a DB-API cursor, a row's latency from the send "
        "of the first record past its instant to `fetchone` returning it",
    ]
    if note:
        lines.append(f"- note: {note}")
    lines += [
        "",
        "| query | variant | rate ev/s | seconds | samples | instants | p50 ms | p90 ms "
        "| p99 ms | max ms | producer late passes |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, r in results.items():
        lines.append(
            f"| {name} | {r.get('variant') or ''} | {r['rate']:,} | {r['seconds']:.0f} "
            f"| {r.get('samples', 0):,} | {r.get('instants', 0):,} | {ms(r.get('p50_ms'))} "
            f"| {ms(r.get('p90_ms'))} | {ms(r.get('p99_ms'))} | {ms(r.get('max_ms'))} "
            f"| {r.get('producer_late_passes', 0):,} |")
    over = [n for n, r in results.items() if (r.get("p99_ms") or 0) > 20.0]
    lines += ["", f"p99 over 20 ms: {', '.join(over) or 'none'} "
                  f"({len(results) - len(over)} of {len(results)} queries at or under)", ""]
    path.with_suffix(".md").write_text("\n".join(lines))


def main() -> None:
    import orjson

    parser = argparse.ArgumentParser(prog="python -m benchmarks.nexmark.latency",
                                     description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--queries", default="q0,q2,q5_count,q5,q7,q8")
    parser.add_argument("--bootstrap", default=None,
                        help="a Kafka broker (host:port); default: start a local one")
    parser.add_argument("--rate", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=30.0,
                        help="seconds of input per query (q2 makes about 50 instants a second)")
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--produce", metavar="PREFIX", help=argparse.SUPPRESS)
    parser.add_argument("--trace-dir", type=Path, default=None,
                        help="write each query's rows, timeline, GC pauses and sends here")
    parser.add_argument("--results", type=Path, default=None, metavar="PATH",
                        help="write the figures to PATH.md and PATH.json "
                             "(e.g. benchmarks/results/latency)")
    parser.add_argument("--note", default=None, help="a line for the results' header")
    parser.add_argument("--warm-up-broker", type=float, default=10.0, metavar="SECONDS",
                        help="run q0 this long, unmeasured, before the first query (0: no)")
    args = parser.parse_args()
    if args.produce:  # the producer process of a measurement
        log = produce_paced(args.bootstrap, args.produce, args.rate, args.seconds, args.seed)
        sys.stdout.buffer.write(msgspec.json.encode(log))
        return
    names = [n.strip() for n in args.queries.split(",") if n.strip()]
    unknown = [n for n in names if n not in QUERIES]
    if unknown:
        raise SystemExit(f"unknown queries {unknown}")

    def run(bootstrap: str) -> None:
        results: dict[str, Any] = {}
        load_before = os.getloadavg()
        started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        if args.warm_up_broker:
            # a fresh broker's first seconds of traffic stall for seconds (its JIT, the
            # first segments): a run of q0 nobody measures takes them
            measure("q0", bootstrap, rate=args.rate, seconds=args.warm_up_broker,
                    warmup_s=0.0, seed=args.seed, trace=False)
        for n in names:
            r = measure(n, bootstrap, rate=args.rate, seconds=args.seconds,
                        warmup_s=args.warmup, seed=args.seed)
            trace = r.pop("_trace", None)
            if args.trace_dir is not None and trace is not None:
                args.trace_dir.mkdir(parents=True, exist_ok=True)
                (args.trace_dir / f"{n}.json").write_bytes(orjson.dumps(trace))
            print(orjson.dumps(r).decode(), flush=True)
            results[n] = r
        if args.results is not None:
            write_results(args.results, results, started=started, load_before=load_before,
                          note=args.note)

    if args.bootstrap:
        run(args.bootstrap)
        return
    import shutil
    import tempfile

    from pycql.kafka import LocalBroker, free_port_pair

    broker_dir = Path(tempfile.mkdtemp(prefix="nexmark-latency-kafka-"))
    broker = LocalBroker(str(broker_dir), free_port_pair())
    broker.start(timeout=120)
    try:
        run(broker.bootstrap)
    finally:
        broker.stop()
        shutil.rmtree(broker_dir, ignore_errors=True)


if __name__ == "__main__":
    threading.current_thread().name = "main"
    main()
