"""Run the Nexmark benchmark: pycql's queries, a ceiling, Quix Streams, planning cost.

One command (see ``benchmarks/README.md``)::

    python -m benchmarks.nexmark.run --quick          # a few minutes on 2 cores
    python -m benchmarks.nexmark.run --events 2000000 # the full run

What it does:

1. uses the broker at ``--bootstrap`` or starts a local one
   (:class:`pycql.kafka.LocalBroker`, in a temporary directory) and stops it
   at the end;
2. pre-loads one topic set (``person``, ``auction``, ``bid`` and q13's
   ``side_input``, under a per-run prefix) from the generator;
3. plans every query once here (:func:`pycql.planner.analyze`), then runs each
   in its own process (``--child``), so peak memory is per query and no JVM
   sits in the measured process:

   * **throughput**: the query from the first record to the end of its topics
     (``QueryRunner(stop="end")``); records/s of wall time and per CPU second
     (``time.process_time`` of the process: the query thread and librdkafka's),
     and per CPU second of the process and the broker together (the broker's
     ``utime + stime`` from ``/proc/<pid>/stat`` over the same interval, when
     the broker is local: ``--broker-pid`` or the one started here);
   * **verification**: the child digests everything the query emits
     (:class:`benchmarks.nexmark.reference.Digest`, its own CPU and wall time left
     out of the figures) and the parent compares it with the digest of the
     plain-Python reference (``reference.py``), computed once per run from the same
     generator config: equal per instant, or the query is FAILED (exit status 1);
   * **latency** at a fixed input rate (``--latency-rate``, events/s), measured by
     ``benchmarks/nexmark/latency.py`` (its docstring defines it per query kind): a
     producer process paces the generator with event time = wall time into fresh
     topics, the query reads them live through a DB-API cursor, and a row's latency
     is when ``fetchone`` returned it minus the send of the first record past its
     instant on every stream it reads (shorter windows where the query's own give
     too few instants: ``latency.VARIANTS``);
   * peak RSS (the child's own ``VmHWM`` from ``/proc/self/status`` at its end),
     operator state size (bytes of ``orjson.dumps(Executor.state())`` at the end);

4. the **ceiling**: a bare confluent-kafka loop that batch-consumes the bid
   topic and ``orjson.loads`` each value, nothing else, with the fastest client
   settings found (:data:`CEILING_CONSUMER`);
5. the **Python peer**: Quix Streams running q0, q1, q2 and a windowed count
   (``q5_count``), in ``benchmarks/.venv-quix`` (made here with ``venv`` and
   pip when missing); its output is checked against the same references;
6. planning cost: ``benchmarks/planning.py --json`` in a subprocess;

then prints one table and writes ``benchmarks/results/latest.json`` and
``benchmarks/results/latest.md``.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as _dt
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.nexmark.generator import (  # noqa: E402
    SCHEMAS,
    TOPICS,
    GeneratorConfig,
    NexmarkGenerator,
    side_input_rows,
)
from benchmarks.nexmark.queries import QUERIES, QUERY_ORDER, NexmarkQuery  # noqa: E402
from benchmarks.nexmark.reference import Digest  # noqa: E402
from benchmarks.nexmark.reference import compute as compute_references  # noqa: E402

BENCH_DIR = ROOT / "benchmarks"
RESULTS_DIR = BENCH_DIR / "results"
QUIX_VENV = BENCH_DIR / ".venv-quix"
QUIX_QUERIES = ("q0", "q1", "q2", "q5_count")
#: The reference each Quix pipeline's output is checked against (its windows are
#: ``[start, end)`` windows closed per partition, not CQL's ``(m - 10 s, m]``).
QUIX_REFERENCES = {"q0": "q0", "q1": "q1", "q2": "q2", "q5_count": "quix_q5_count"}

#: The ceiling's consumer settings: the fastest per CPU second we found. Tried on the
#: 2-core machine (400k bids, three runs each, interleaved, load average about 20, so
#: differences under ~15% are noise): librdkafka's defaults with
#: ``queued.min.messages=200000`` (fetching pauses ``fetch.queue.backoff.ms``, 1 s by
#: default, whenever the queue is full: the old ceiling, using 0.3-0.4 of a core);
#: ``fetch.queue.backoff.ms=1``; ``fetch.wait.max.ms`` 100 and 10; ``queued.min.messages``
#: 200k and 1M; ``max.partition.fetch.bytes`` 1 MB (default) and 10 MB, with
#: ``fetch.max.bytes`` 50 MB or ``queued.max.messages.kbytes`` 256 MB; ``consume``
#: batches of 1k, 10k and 100k. With the backoff at 1 ms they measured 220-260k records
#: per CPU second alike, except 100k batches (about 190k: larger lists, colder caches);
#: this set was among the fastest and never waits for the broker.
CEILING_CONSUMER: dict[str, Any] = {
    "fetch.queue.backoff.ms": 1,
    "fetch.wait.max.ms": 10,
    "queued.min.messages": 1_000_000,
    "queued.max.messages.kbytes": 262_144,
    "max.partition.fetch.bytes": 10 * 1024 * 1024,
}
CEILING_BATCH = 10_000
SIDE_TOPIC = "side_input"

#: The goals of the performance issue's done-means table (#12)
TARGETS = {
    "q2_per_core": 700_000,
    "q0_per_core": 700_000,
    "q2_of_ceiling": 0.7,
    "q5_per_core": 400_000,
    "p99_ms": 20.0,
    "vs_quix": 5.0,
}


# -- the catalog the planner sees ---------------------------------------------------------


def catalog(topic_prefix: str, views: tuple[tuple[str, str], ...] = ()) -> dict[str, Any]:
    """The planner catalog of the Nexmark streams (topics under ``topic_prefix``)."""

    def columns(pairs: tuple[tuple[str, str], ...], not_null: tuple[str, ...] = ()) -> list[Any]:
        return [
            {"name": c, "type": t, "nullable": c not in not_null, "precision": None,
             "scale": None}
            for c, t in pairs
        ]

    return {
        "streams": [
            {"name": name, "columns": columns(SCHEMAS[name]), "topic": topic_prefix + name,
             "timestamp": "date_time", "format": "json"}
            for name in TOPICS
        ],
        "tables": [
            {"name": "side_input",
             "columns": columns((("side_key", "BIGINT"), ("side_value", "VARCHAR")),
                                not_null=("side_key",)),
             "primary_key": ["side_key"], "topic": topic_prefix + SIDE_TOPIC, "format": "json"},
        ],
        "views": [{"name": name, "query": sql, "columns": []} for name, sql in views],
    }


def plan_query(query: NexmarkQuery, topic_prefix: str) -> dict[str, Any]:
    """The JSON plan of ``query`` over the topics under ``topic_prefix``."""
    from pycql.planner import analyze

    answer = analyze(query.sql, catalog(topic_prefix, query.views))
    plan: dict[str, Any] = answer["plan"]
    return plan


# -- loading topics ---------------------------------------------------------------------


def load_events(
    log: Any, config: GeneratorConfig, topic_prefix: str, *, side_time_ms: int | None = None
) -> dict[str, int]:
    """Create and fill the Nexmark topics (and q13's side table) under ``topic_prefix``.

    The side table's records carry ``side_time_ms`` (default: 1 s before the
    first event), so every bid sees the whole table.
    """
    from pycql.log.base import OutRecord, TopicSpec

    for topic in (*TOPICS, SIDE_TOPIC):
        log.create_topic(TopicSpec(topic_prefix + topic), exist_ok=True)
    side_ts = config.base_time_ms - 1000 if side_time_ms is None else side_time_ms
    log.produce(topic_prefix + SIDE_TOPIC,
                [OutRecord(v, None, side_ts) for v in side_input_rows()])
    counts = dict.fromkeys(TOPICS, 0)
    producer_error: list[BaseException] = []
    queue: list[Any] = []
    ready = threading.Condition()
    finished = False

    # generate in this thread, produce in another: the broker and librdkafka
    # work while Python builds the next batch
    def produce_loop() -> None:
        while True:
            with ready:
                while not queue and not finished:
                    ready.wait()
                if not queue and finished:
                    return
                batch = queue.pop(0)
                ready.notify_all()
            try:
                for topic, (values, times) in batch.by_topic().items():
                    if values:
                        log.produce(topic_prefix + topic,
                                    [OutRecord(v, None, t) for v, t in zip(values, times,
                                                                            strict=True)])
            except BaseException as exc:  # reported by the caller
                producer_error.append(exc)
                return

    worker = threading.Thread(target=produce_loop, daemon=True)
    worker.start()
    for batch in NexmarkGenerator(config).chunks(100_000):
        for topic, (values, _) in batch.by_topic().items():
            counts[topic] += len(values)
        with ready:
            while len(queue) >= 2 and not producer_error:
                ready.wait(0.5)
            queue.append(batch)
            ready.notify_all()
        if producer_error:
            break
    with ready:
        finished = True
        ready.notify_all()
    worker.join()
    if producer_error:
        raise producer_error[0]
    return counts


# -- children: one measurement per process ---------------------------------------------------


def _maxrss_mb() -> float:
    """Peak resident memory of this process, MB.

    ``/proc/self/status`` VmHWM where there is one: ``getrusage``'s maxrss
    survives ``execve`` and would report the parent's peak (it runs a JVM).
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def process_cpu_s(pid: int | None) -> float | None:
    """CPU seconds (user + system) process ``pid`` has used so far, from
    ``/proc/<pid>/stat``; None without a pid or a readable ``/proc``."""
    if not pid:
        return None
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # the command name (field 2) is in parentheses and may hold spaces
    fields = stat[stat.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _broker_pid(args: argparse.Namespace) -> int | None:
    return int(args.broker_pid) if getattr(args, "broker_pid", None) else None


def _per_cpu(records: int, cpu: float, broker_cpu: float | None) -> dict[str, Any]:
    """The two per-core figures: per CPU second of the process, and with the broker's."""
    return {
        "records_per_cpu_s": records / cpu if cpu else None,
        "broker_cpu_s": broker_cpu,
        "records_per_cpu_s_with_broker": (records / (cpu + broker_cpu)
                                          if broker_cpu is not None and cpu + broker_cpu
                                          else None),
    }


def _open_log(args: argparse.Namespace) -> Any:
    from pycql.log import open_log

    if args.log == "memory":
        return open_log()
    return open_log(f"kafka://{args.bootstrap}")


def child_throughput(args: argparse.Namespace) -> dict[str, Any]:
    """Run one plan over pre-loaded topics, from the first record to the end."""
    from pycql.runtime.runner import QueryRunner

    job = orjson.loads(Path(args.job).read_bytes())
    plan = job["plan"]
    log = _open_log(args)
    if args.log == "memory":  # the embedded log lives in this process: fill it here
        load_events(log, GeneratorConfig(**job["generator"]), job["topic_prefix"])
    rss_before = _maxrss_mb()
    broker_pid = _broker_pid(args)
    runner = QueryRunner(plan, log, start="earliest", stop="end")
    metrics = runner.metrics
    emitted = 0
    polls = 0
    # the clock starts before the poll that returns the first records (as the
    # ceiling's): reader start-up and the first fetch's wait are left out
    t0 = c0 = b0 = None
    budget = float(job.get("budget_s") or 0)
    partial = False
    # the output's digest is the check's, not the query's: its time (this thread's
    # CPU, and wall) is taken out of the figures
    digest = Digest()
    verify_cpu = verify_wall = 0.0
    while not runner.done:
        before, cpu_before = time.perf_counter(), time.process_time()
        broker_before = process_cpu_s(broker_pid) if t0 is None else None
        out = runner.poll(0.5)
        if out:
            w, c = time.perf_counter(), time.thread_time()
            emitted += len(out)
            digest.add_all(out)
            verify_wall += time.perf_counter() - w
            verify_cpu += time.thread_time() - c
        polls += 1
        if t0 is None and metrics.records_in:
            t0, c0, b0 = before, cpu_before, broker_before
        if budget and t0 is not None and time.perf_counter() - t0 > budget:
            partial = True  # too slow to finish: report the rate so far
            break
    if t0 is None or c0 is None:
        raise SystemExit("the query read no records")
    wall = time.perf_counter() - t0 - verify_wall
    cpu = time.process_time() - c0 - verify_cpu
    broker_after = process_cpu_s(broker_pid)
    broker_cpu = broker_after - b0 if broker_after is not None and b0 is not None else None
    state = runner.executor.state()
    state_bytes = len(orjson.dumps(state))
    result_rows = None
    if runner.executor.result_kind == "relation":
        result_rows = len(runner.snapshot())
    runner.close()
    log.close()
    return {
        "records": metrics.records_in,
        "emitted": emitted,
        "late": metrics.late_records,
        "malformed": metrics.malformed_records,
        "result_rows": result_rows,
        "wall_s": wall,
        "cpu_s": cpu,
        "records_per_s": metrics.records_in / wall if wall else None,
        **_per_cpu(metrics.records_in, cpu, broker_cpu),
        "cores_used": cpu / wall if wall else None,
        "state_bytes": state_bytes,
        "max_rss_mb": _maxrss_mb(),
        "rss_before_mb": rss_before,
        "polls": polls,
        "partial": partial,
        "output": digest.to_json(),
        "verify_cpu_s": verify_cpu,
    }


def child_latency(args: argparse.Namespace) -> dict[str, Any]:
    """The query live at a steady rate, through a cursor (``benchmarks/nexmark/latency.py``)."""
    from benchmarks.nexmark.latency import measure_job

    return measure_job(orjson.loads(Path(args.job).read_bytes()),
                       args.bootstrap if args.log == "kafka" else None)


def child_ceiling(args: argparse.Namespace) -> dict[str, Any]:
    """Batch-consume a topic with confluent-kafka and orjson-decode every value."""
    from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

    expect = int(args.expect)
    broker_pid = _broker_pid(args)
    consumer = Consumer({
        "bootstrap.servers": args.bootstrap,
        "group.id": f"nexmark-ceiling-{uuid.uuid4().hex}",
        "enable.auto.commit": False,
        "enable.partition.eof": False,
        **CEILING_CONSUMER,
    })
    consumer.assign([TopicPartition(args.topic, 0, OFFSET_BEGINNING)])
    loads = orjson.loads
    seen = 0
    t0 = c0 = b0 = None
    decoded = 0
    while seen < expect:
        before, cpu_before = time.perf_counter(), time.process_time()
        broker_before = process_cpu_s(broker_pid) if t0 is None else None
        messages = consumer.consume(CEILING_BATCH, 1.0)
        if not messages:
            continue
        if t0 is None:
            t0, c0, b0 = before, cpu_before, broker_before
        for message in messages:
            if message.error() is None:
                decoded += len(loads(message.value() or b"{}"))
        seen += len(messages)
    assert t0 is not None and c0 is not None
    wall = time.perf_counter() - t0
    cpu = time.process_time() - c0
    broker_after = process_cpu_s(broker_pid)
    consumer.close()
    return {
        "records": seen,
        "wall_s": wall,
        "cpu_s": cpu,
        "records_per_s": seen / wall,
        **_per_cpu(seen, cpu, broker_after - b0
                   if broker_after is not None and b0 is not None else None),
        "cores_used": cpu / wall if wall else None,
        "max_rss_mb": _maxrss_mb(),
        "fields_decoded": decoded,
        "settings": {**CEILING_CONSUMER, "consume batch": CEILING_BATCH},
    }


# -- the parent: orchestration ------------------------------------------------------------



def _run_child(kind: str, args: argparse.Namespace, extra: list[str],
               timeout: float) -> dict[str, Any]:
    command = [sys.executable, "-m", "benchmarks.nexmark.run", "--child", kind,
               "--bootstrap", args.bootstrap or "", "--log", args.log,
               "--broker-pid", str(args.broker_pid or ""), *extra]
    try:
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True,
                              timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        return {"error": " | ".join(tail) or f"exit status {done.returncode}"}
    try:
        result: dict[str, Any] = orjson.loads(done.stdout.strip().splitlines()[-1])
    except (orjson.JSONDecodeError, IndexError):
        return {"error": f"unreadable child output: {done.stdout[-300:]!r}"}
    return result


def verify(expected: Digest, measured: dict[str, Any]) -> str:
    """``ok`` when a child's output digest equals the reference's; else why not
    (``FAILED: ...``, or ``not checked: ...`` for a run that errored or stopped early)."""
    if "error" in measured:
        return "not checked: the run failed"
    if measured.get("partial"):
        return "not checked: partial run (over --budget)"
    if "output" not in measured:
        return "not checked: no output digest"
    got = Digest.from_json(measured["output"])
    return "ok" if got == expected else "FAILED: " + expected.differences(got)


def all_verified(results: dict[str, Any]) -> list[str]:
    """The runs (queries, Quix pipelines) whose output is not verified equal."""
    bad = [name for name, r in results["queries"].items() if r.get("verified") != "ok"]
    quix = results.get("quix", {})
    bad += [f"Quix {name}" for name in QUIX_QUERIES
            if isinstance(quix.get(name), dict) and quix[name].get("verified") != "ok"]
    return bad


def ensure_quix_venv() -> tuple[Path | None, str]:
    """The Quix Streams interpreter, making ``benchmarks/.venv-quix`` if needed."""
    python = QUIX_VENV / "bin" / "python"
    check = [str(python), "-c", "import quixstreams; print(quixstreams.__version__)"]
    if python.exists():
        done = subprocess.run(check, capture_output=True, text=True, check=False)
        if done.returncode == 0:
            return python, done.stdout.strip()
    print("creating benchmarks/.venv-quix (Quix Streams) ...", flush=True)
    try:
        subprocess.run([sys.executable, "-m", "venv", str(QUIX_VENV)], check=True,
                       capture_output=True, timeout=300)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "quixstreams"], check=True,
                       capture_output=True, timeout=900)
    except (subprocess.SubprocessError, OSError) as exc:
        detail = getattr(exc, "stderr", b"") or b""
        text = detail.decode(errors="replace") if isinstance(detail, bytes) else str(detail)
        return None, f"could not install quixstreams: {exc} {text.strip()[-200:]}"
    done = subprocess.run(check, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        return None, f"quixstreams does not import: {done.stderr.strip()[-200:]}"
    return python, done.stdout.strip()


def run_quix(python: Path, args: argparse.Namespace, topic: str, query: str,
             records: int) -> dict[str, Any]:
    command = [str(python), str(BENCH_DIR / "nexmark" / "quix_peer.py"), "--bootstrap",
               args.bootstrap, "--topic", topic, "--query", query, "--events", str(records),
               "--timeout", "120", "--broker-pid", str(args.broker_pid or "")]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=900, check=False)
    except subprocess.TimeoutExpired:
        return {"error": "timed out after 900 s"}
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if not lines:
        tail = done.stderr.strip().splitlines()[-2:]
        return {"error": " | ".join(tail) or f"exit status {done.returncode}"}
    result: dict[str, Any] = orjson.loads(lines[-1])
    return result


def planning_cost() -> dict[str, Any]:
    done = subprocess.run([sys.executable, str(BENCH_DIR / "planning.py"), "--json",
                           "--warm-runs", "100"], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, check=False)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        return {"error": (done.stderr.strip().splitlines() or ["failed"])[-1]}
    result: dict[str, Any] = orjson.loads(lines[-1])
    return result


def machine() -> dict[str, Any]:
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(),
            "platform": platform.platform()}


def _fmt(value: Any, spec: str = ",.0f") -> str:
    if value is None:
        return "-"
    if isinstance(value, str):
        return value
    return format(value, spec)


def _loads(values: Any) -> str:
    return "/".join(f"{v:.1f}" for v in values) if values else "-"


def _verified_cell(verdict: str | None) -> str:
    if verdict is None:
        return "-"
    if verdict == "ok":
        return "yes"
    return "FAILED" if verdict.startswith("FAILED") else "no"


def build_table(results: dict[str, Any]) -> list[list[str]]:
    ceiling = results["ceiling"].get("records_per_s")
    ceiling_cpu = results["ceiling"].get("records_per_cpu_s")
    quix = results.get("quix", {})
    header = ["query", "verified", "records", "rec/s", "rec/s per core",
              "per core with broker", "x ceiling", "x ceiling CPU", "x Quix", "emitted",
              "late", "p50 ms", "p99 ms", "peak RSS MB", "state KB"]
    rows = [header]
    for name, r in results["queries"].items():
        t = r.get("throughput", {})
        lat = r.get("latency", {})
        verified = _verified_cell(r.get("verified"))
        if "error" in t:
            rows.append([name, verified, "error: " + t["error"][:80]]
                        + [""] * (len(header) - 3))
            continue
        q = quix.get(name, {})
        vs_quix = None
        if q.get("records_per_cpu_s") and t.get("records_per_cpu_s"):
            vs_quix = t["records_per_cpu_s"] / q["records_per_cpu_s"]
        of_ceiling = of_ceiling_cpu = None
        if ceiling and t.get("records_per_s") and QUERIES[name].reads == ("bid",):
            of_ceiling = t["records_per_s"] / ceiling
            if ceiling_cpu and t.get("records_per_cpu_s"):
                of_ceiling_cpu = t["records_per_cpu_s"] / ceiling_cpu
        records = _fmt(t.get("records")) + (" (partial)" if t.get("partial") else "")
        rows.append([
            name, verified, records, _fmt(t.get("records_per_s")),
            _fmt(t.get("records_per_cpu_s")), _fmt(t.get("records_per_cpu_s_with_broker")),
            _fmt(of_ceiling, ".2f"),
            _fmt(of_ceiling_cpu, ".2f"), _fmt(vs_quix, ".1f"),
            _fmt(t.get("emitted")), _fmt(t.get("late")),
            _fmt(lat.get("p50_ms"), ".1f") if "error" not in lat else "error",
            _fmt(lat.get("p99_ms"), ".1f") if "error" not in lat else "error",
            _fmt(t.get("max_rss_mb"), ".0f"),
            _fmt((t.get("state_bytes") or 0) / 1024, ",.0f"),
        ])
    c = results["ceiling"]
    rows.append(["ceiling (confluent-kafka + orjson)", "", _fmt(c.get("records")),
                 _fmt(c.get("records_per_s")), _fmt(c.get("records_per_cpu_s")),
                 _fmt(c.get("records_per_cpu_s_with_broker")), "1.00", "1.00",
                 "", "", "", "", "", _fmt(c.get("max_rss_mb"), ".0f"), ""])
    if "error" in quix:
        rows.append(["Quix Streams", "", quix["error"][:100]] + [""] * (len(header) - 3))
    for name in QUIX_QUERIES:
        q = quix.get(name)
        if not isinstance(q, dict):
            continue
        verified = _verified_cell(q.get("verified"))
        if "error" in q:
            rows.append([f"Quix {name}", verified, "error: " + q["error"][:80]]
                        + [""] * (len(header) - 3))
            continue
        rows.append([f"Quix {name}", verified, _fmt(q.get("records")),
                     _fmt(q.get("records_per_s")), _fmt(q.get("records_per_cpu_s")),
                     _fmt(q.get("records_per_cpu_s_with_broker")),
                     _fmt(q["records_per_s"] / ceiling if ceiling else None, ".2f"),
                     _fmt(q["records_per_cpu_s"] / ceiling_cpu
                          if ceiling_cpu and q.get("records_per_cpu_s") else None, ".2f"),
                     "1.0", _fmt(q.get("outputs")), "", "", "", _fmt(q.get("max_rss_mb"), ".0f"),
                     ""])
    return rows


def targets_summary(results: dict[str, Any]) -> list[str]:
    out = []
    q = results["queries"]
    ceiling = results["ceiling"].get("records_per_s")
    q2 = q.get("q2", {}).get("throughput", {})
    if q2.get("records_per_cpu_s"):
        out.append(f"q2 per core: {q2['records_per_cpu_s']:,.0f} rec/s "
                   f"(target >= {TARGETS['q2_per_core']:,})")
    if q2.get("records_per_s") and ceiling:
        ceiling_cpu = results["ceiling"].get("records_per_cpu_s")
        per_cpu = (f"per CPU second {q2['records_per_cpu_s'] / ceiling_cpu:.2f}, "
                   if ceiling_cpu and q2.get("records_per_cpu_s") else "")
        out.append(f"q2 / ceiling: {per_cpu}wall {q2['records_per_s'] / ceiling:.2f} "
                   f"(target >= {TARGETS['q2_of_ceiling']} per CPU second)")
    q0 = q.get("q0", {}).get("throughput", {})
    if q0.get("records_per_cpu_s"):
        out.append(f"q0 per core: {q0['records_per_cpu_s']:,.0f} rec/s "
                   f"(target >= {TARGETS['q0_per_core']:,})")
    if q0.get("records_per_s") and ceiling:
        out.append(f"q0 / ceiling: {q0['records_per_s'] / ceiling:.2f}")
    q5 = q.get("q5", {}).get("throughput", {})
    if q5.get("records_per_cpu_s"):
        out.append(f"q5 per core: {q5['records_per_cpu_s']:,.0f} rec/s "
                   f"(target >= {TARGETS['q5_per_core']:,})")
    p99s = {n: r["latency"]["p99_ms"] for n, r in q.items()
            if r.get("latency", {}).get("p99_ms") is not None}
    if p99s:
        worst = max(p99s, key=lambda n: p99s[n])
        over = [n for n, v in p99s.items() if v > TARGETS["p99_ms"]]
        out.append(f"p99 at {results['config']['latency_rate']:,} ev/s: worst {worst} "
                   f"{p99s[worst]:.1f} ms; over {TARGETS['p99_ms']:.0f} ms: "
                   f"{', '.join(over) or 'none'}")
    quix = results.get("quix", {})
    ratios = []
    for name in QUIX_QUERIES:
        mine = q.get(name, {}).get("throughput", {}).get("records_per_cpu_s")
        theirs = quix.get(name, {}).get("records_per_cpu_s") if isinstance(quix.get(name),
                                                                            dict) else None
        if mine and theirs:
            ratios.append(f"{name} {mine / theirs:.1f}x")
    if ratios:
        out.append(f"vs Quix Streams per CPU second (target >= {TARGETS['vs_quix']:.0f}x): "
                   f"{', '.join(ratios)}")
    bad = all_verified(results)
    checked = len(results["queries"]) + sum(isinstance(quix.get(n), dict) for n in QUIX_QUERIES)
    out.append(f"output equal to the plain-Python reference: {checked - len(bad)} of {checked}"
               + (f"; not verified: {', '.join(bad)}" if bad else ""))
    p = results.get("planning", {})
    if "cold_first_plan_s" in p:
        out.append(f"planning: cold first plan {p['cold_first_plan_s'] * 1000:.0f} ms, warm "
                   f"median {p['warm_plan_median_ms']:.1f} ms")
    return out


def render_text(rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in rows if i < len(r)) for i in range(len(rows[0]))]
    lines = []
    for k, row in enumerate(rows):
        cells = [cell.rjust(widths[i]) if i else cell.ljust(widths[i])
                 for i, cell in enumerate(row)]
        lines.append("  ".join(cells).rstrip())
        if k == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def render_markdown(rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(rows[0]) + " |",
             "|" + "|".join("---" if i == 0 else "---:" for i in range(len(rows[0]))) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows[1:]]
    return "\n".join(lines)


@contextlib.contextmanager
def local_broker(args: argparse.Namespace, prefix: str) -> Iterator[None]:
    """A local Kafka broker in a temporary directory for the run, unless ``--log memory``
    or ``--bootstrap`` names one (``args.bootstrap`` is set to it); stopped and removed
    at the end."""
    if args.log != "kafka" or args.bootstrap:
        yield
        return
    from pycql.kafka import LocalBroker, free_port_pair

    broker_dir = tempfile.mkdtemp(prefix=prefix)
    broker = LocalBroker(broker_dir, free_port_pair())
    print(f"starting a local Kafka broker in {broker_dir} ...", flush=True)
    broker.start(timeout=120)
    args.bootstrap = broker.bootstrap
    args.broker_pid = broker.pid
    try:
        yield
    finally:
        broker.stop()
        shutil.rmtree(broker_dir, ignore_errors=True)


def main_parent(args: argparse.Namespace) -> None:
    if args.quick:
        args.events = args.events or 300_000
        args.latency_seconds = args.latency_seconds or 4.0
        args.budget = args.budget or 45.0
    args.events = args.events or 1_000_000
    args.latency_seconds = args.latency_seconds or 30.0
    args.budget = args.budget or 180.0
    names = [q.strip() for q in args.queries.split(",")] if args.queries else list(QUERY_ORDER)
    unknown = [n for n in names if n not in QUERIES]
    if unknown:
        raise SystemExit(f"unknown queries {unknown}; choose from {', '.join(QUERY_ORDER)}")

    with local_broker(args, "nexmark-kafka-"):
        results = run_all(args, names)
    write_results(results)
    bad = all_verified(results)
    if bad:
        raise SystemExit(f"output not verified equal to the reference: {', '.join(bad)}")


def write_results(results: dict[str, Any]) -> None:
    """Print the table and the targets, and write ``latest.json`` and ``latest.md`` (a
    ``note`` in the results, a remark on the run, goes under the load average)."""
    from benchmarks.nexmark.peers import summary_lines, table_rows

    rows = build_table(results)
    rows += table_rows(results.get("peers", {}), len(rows[0]))
    summary = targets_summary(results) + summary_lines(results.get("peers", {}),
                                                       results["queries"])
    when = results["date"]
    m = results["machine"]
    print()
    print(render_text(rows))
    print()
    for line in summary:
        print("  " + line)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (RESULTS_DIR / "latest.json").write_bytes(orjson.dumps(results, option=orjson.OPT_INDENT_2))
    cfg = results["config"]
    md = [
        "# Nexmark results (latest run)",
        "",
        f"- date: {when}",
        f"- machine: {m['cpu']}, {m['cores']} cores, Python {m['python']}, {m['platform']}",
        f"- log: {cfg['log']}; {cfg['events']:,} events (seed {cfg['seed']}, event-time rate "
        f"{cfg['rate']:,}/s); latency at {cfg['latency_rate']:,} events/s for "
        f"{cfg['latency_seconds']:g} s",
        f"- load average (1/5/15 min) at start {_loads(results.get('load_average_at_start'))}, "
        f"at end {_loads(results.get('load_average_at_end'))} (the machine may be shared: "
        "wall-clock rates are noisier than per-core rates)",
        *([f"- note: {results['note']}"] if results.get("note") else []),
        "- verified: the query's whole output (per instant) equals that of an independent "
        "plain-Python reference computed from the same events (benchmarks/nexmark/"
        "reference.py); rec/s: input records of the topics the query reads, per wall "
        "second; per core: per CPU second of the process; with broker: per CPU second of "
        "the process and the Kafka broker together; x ceiling: against a bare "
        "confluent-kafka + orjson loop over the bid topic (bid-only queries); x Quix: per "
        "CPU second against Quix Streams on the same records",
        "",
        render_markdown(rows),
        "",
        *[f"- {line}" for line in summary],
        "",
    ]
    (RESULTS_DIR / "latest.md").write_text("\n".join(md))
    print(f"\nwrote {RESULTS_DIR / 'latest.json'} and {RESULTS_DIR / 'latest.md'}")


def run_all(args: argparse.Namespace, names: list[str]) -> dict[str, Any]:
    run_id = f"nx{int(time.time())}{uuid.uuid4().hex[:4]}_"
    # event time starts now: Kafka's time-based retention would delete records
    # stamped years ago before the run ends
    base_time = (int(time.time()) // 60) * 60 * 1000
    config = GeneratorConfig(seed=args.seed, events=args.events, rate=args.rate,
                             base_time_ms=base_time)
    results: dict[str, Any] = {
        "date": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "config": {"events": args.events, "seed": args.seed, "rate": args.rate,
                   "latency_rate": args.latency_rate, "latency_seconds": args.latency_seconds,
                   "log": args.log, "bootstrap": args.bootstrap},
        "load_average_at_start": os.getloadavg(),
        "queries": {},
    }
    counts: dict[str, int] = {}
    work = Path(tempfile.mkdtemp(prefix="nexmark-jobs-"))
    log = None
    try:
        if args.log == "kafka":
            from pycql.log import open_log

            log = open_log(f"kafka://{args.bootstrap}")
            t0 = time.perf_counter()
            counts = load_events(log, config, run_id)
            load_s = time.perf_counter() - t0
            print(f"pre-loaded {args.events:,} events ({counts}) in {load_s:.1f} s", flush=True)
            results["preload"] = {"counts": counts, "seconds": load_s}
        else:
            counts = {t: n for t, n in zip(TOPICS, _kind_counts(config), strict=True)}

        print("planning ...", flush=True)
        plans: dict[str, Any] = {}
        for name in names:
            q = QUERIES[name]
            try:
                plans[name] = (plan_query(q, run_id), plan_query(q, f"{run_id}lat_{name}_"))
            except Exception as exc:  # reported in the table
                results["queries"][name] = {"throughput": {"error": f"planning: {exc}"}}

        wanted = [n for n in names if n in plans]
        if args.log == "kafka" and not args.no_quix:
            wanted += sorted({QUIX_REFERENCES[n] for n in QUIX_QUERIES} - set(wanted))
        print(f"references ({len(wanted)}, plain Python) ...", end="", flush=True)
        t0 = time.perf_counter()
        references = compute_references(config, wanted)
        reference_s = time.perf_counter() - t0
        print(f" {reference_s:.0f} s", flush=True)
        results["references"] = {n: {"digest": d.to_json()["digest"], "net": d.net}
                                 for n, d in references.items()}
        results["references_s"] = reference_s

        if args.log == "kafka":
            print("ceiling ...", flush=True)
            results["ceiling"] = _run_child(
                "ceiling", args, ["--topic", run_id + "bid", "--expect", str(counts["bid"])],
                timeout=600)
        else:
            results["ceiling"] = {"error": "the ceiling reads Kafka"}

        for name in names:
            if name not in plans:
                continue
            plan, lat_plan = plans[name]
            job = work / f"{name}.json"
            job.write_bytes(orjson.dumps({
                "plan": plan, "topic_prefix": run_id, "budget_s": args.budget,
                "generator": {"seed": config.seed, "events": config.events,
                              "rate": config.rate, "base_time_ms": config.base_time_ms},
            }))
            print(f"{name}: throughput ...", end="", flush=True)
            entry: dict[str, Any] = {
                "throughput": _run_child("throughput", args, ["--job", str(job)],
                                         timeout=min(args.query_timeout,
                                                     args.budget * 2 + 120))}
            t = entry["throughput"]
            entry["verified"] = verify(references[name], t)
            print(f" {t.get('records_per_s', 0):,.0f} rec/s" if "error" not in t
                  else f" {t['error']}", end="", flush=True)
            print(f", output {entry['verified']}", end="", flush=True)
            if not args.no_latency:
                lat_job = work / f"{name}-latency.json"
                lat_job.write_bytes(orjson.dumps({
                    "query": name, "plan": lat_plan, "topic_prefix": f"{run_id}lat_{name}_",
                    "rate": args.latency_rate, "seconds": args.latency_seconds,
                    "seed": args.seed}))
                print("; latency ...", end="", flush=True)
                entry["latency"] = _run_child("latency", args, ["--job", str(lat_job)],
                                              timeout=args.latency_seconds + 120)
                lat = entry["latency"]
                print(f" p99 {lat.get('p99_ms')} ms" if "error" not in lat
                      else f" {lat['error']}", end="", flush=True)
            print(flush=True)
            results["queries"][name] = entry

        if args.log == "kafka" and not args.no_quix and "quix" in args.peer_names:
            python, version = ensure_quix_venv()
            if python is None:
                results["quix"] = {"error": version}
                print(f"Quix Streams: {version}")
            else:
                results["quix"] = {"version": version}
                for name in QUIX_QUERIES:
                    print(f"Quix Streams {version} {name} ...", end="", flush=True)
                    r = run_quix(python, args, run_id + "bid", name, counts["bid"])
                    r["verified"] = verify(references[QUIX_REFERENCES[name]], r)
                    results["quix"][name] = r
                    print(f" {r.get('records_per_s', 0):,.0f} rec/s" if "error" not in r
                          else f" {r['error']}", f"output {r['verified']}", flush=True)
        elif args.no_quix or "quix" not in args.peer_names:
            results["quix"] = {"error": "not run (--no-quix or --peers)"}
        else:
            results["quix"] = {"error": "Quix Streams needs Kafka (--log kafka)"}
        # the other peers (Flink SQL, Bytewax, Pathway): benchmarks/nexmark/peers/
        others = [p for p in args.peer_names if p != "quix"]
        if others and args.log == "kafka":
            from benchmarks.nexmark.peers import Topics, reference_verify, run_peers

            topics = Topics(args.bootstrap, run_id,
                            {**counts, SIDE_TOPIC: len(side_input_rows())})
            results["peers"] = run_peers(others, topics, names, reference_verify(config))
        elif others:
            results["peers"] = {p: {"skipped": "the peers read Kafka (--log kafka)"}
                                for p in others}

        print("planning cost ...", flush=True)
        results["planning"] = planning_cost()
        results["load_average_at_end"] = os.getloadavg()
    finally:
        if log is not None:
            try:
                for topic in log.topics():
                    if topic.startswith(run_id):
                        log.delete_topic(topic)
            except Exception as exc:  # cleanup is best effort
                print(f"(could not delete the run's topics: {exc})")
            log.close()
        shutil.rmtree(work, ignore_errors=True)
    return results


def _kind_counts(config: GeneratorConfig) -> tuple[int, int, int]:
    from benchmarks.nexmark.generator import event_kind

    persons = auctions = bids = 0
    for n in range(config.first_event, config.first_event + config.events):
        kind = event_kind(n)
        persons += kind == "person"
        auctions += kind == "auction"
        bids += kind == "bid"
    return persons, auctions, bids


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.nexmark.run",
        description="The Nexmark benchmark of pycql (see benchmarks/README.md).")
    parser.add_argument("--events", type=int, default=None,
                        help="events to pre-load (default 1,000,000; --quick 300,000)")
    parser.add_argument("--quick", action="store_true",
                        help="a short run: 300k events, 4 s latency runs")
    parser.add_argument("--queries", default=None,
                        help=f"comma-separated subset of {','.join(QUERY_ORDER)}")
    parser.add_argument("--bootstrap", default=None,
                        help="use this Kafka broker (host:port) instead of starting one")
    parser.add_argument("--log", choices=("kafka", "memory"), default="kafka",
                        help="where the queries read from (memory: the embedded log, filled "
                             "inside each query's process; no ceiling, no Quix)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rate", type=int, default=10_000,
                        help="event-time rate of the pre-loaded events, events/s")
    parser.add_argument("--latency-rate", type=int, default=10_000,
                        help="input rate of the latency runs, events/s")
    parser.add_argument("--latency-seconds", type=float, default=None)
    parser.add_argument("--no-latency", action="store_true")
    parser.add_argument("--no-quix", action="store_true")
    parser.add_argument("--peers", default=None,
                        help="comma-separated peers to run beside pycql, of "
                             "quix,flink,bytewax,pathway (default: all)")
    parser.add_argument("--budget", type=float, default=None,
                        help="seconds a query may run before its throughput is taken over the "
                             "records read so far (marked partial; default 180, --quick 45)")
    parser.add_argument("--query-timeout", type=float, default=900.0,
                        help="seconds before a query's process is abandoned")
    parser.add_argument("--broker-pid", default=None,
                        help="process id of the --bootstrap broker, when it runs on this "
                             "machine: its CPU time is added in the 'with broker' figures")
    # internal: one measurement in a child process
    parser.add_argument("--child", choices=("throughput", "latency", "ceiling"),
                        help=argparse.SUPPRESS)
    parser.add_argument("--job", help=argparse.SUPPRESS)
    parser.add_argument("--topic", help=argparse.SUPPRESS)
    parser.add_argument("--expect", help=argparse.SUPPRESS)
    args = parser.parse_args()
    from benchmarks.nexmark.peers import PEERS, parse_peers

    args.peer_names = parse_peers(args.peers, available=("quix", *PEERS))
    if args.child:
        child = {"throughput": child_throughput, "latency": child_latency,
                 "ceiling": child_ceiling}[args.child]
        print(orjson.dumps(child(args)).decode(), flush=True)
        return
    main_parent(args)


if __name__ == "__main__":
    main()
