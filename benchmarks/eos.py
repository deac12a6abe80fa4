"""What exactly-once costs a job: throughput against at-least-once, and recovery time.

::

    python -m benchmarks.eos                   # 300,000 events; q1,q2,q5_count; 10k,100k,1M
    python -m benchmarks.eos --no-throughput --sizes 10000,100000
    python -m benchmarks.eos --log memory --events 20000 --sizes 1000,10000

**(a) Throughput.** On the Nexmark topics (``benchmarks/jobs.py``'s machinery: the
topics pre-loaded once, plans made once in the parent, every run in a fresh
process, ``--repeat`` runs rotated), a one-task job of each query with
``processing_guarantee = 'exactly_once'`` and with ``'at_least_once'``, both at the
default commit interval (100 ms), stepped to the end of the topics (a bounded
runner swapped into the task, see ``benchmarks/jobs.py``), the final commit
included; and the bare runner for reference and to verify both jobs' outputs.
Reported: input records per wall second and per CPU second, and EOS / ALOS
(the issue's goal: exactly-once costs at most 20% of the throughput, i.e. the
ratio >= 0.80).

**(b) Recovery time against state size.** For every N of ``--sizes``: a stream
``S (k BIGINT, ts BIGINT)`` of N records with N distinct keys (produced straight
to its topic by ``Log.produce``, 50,000 a batch), the job ``CREATE TABLE ... AS
SELECT k, COUNT(*) AS n FROM S GROUP BY k`` (its state: N groups), one
exactly-once task run to the end of its input and committed, closed (a clean
stop); then ``--extra`` (10) more records for keys already counted are produced,
and a NEW task of the same job and index is created. Measured: the construction
(``Task(job, 0, log)``: fencing producer, reading the changelog, ``restore_s``,
putting the state back, the runner restored), the changelog records read, and
the time from the start of the construction until the new task's first commit
with output returns (the commit is a transaction: its records are visible to
read_committed readers when it returns). That output is checked: the extra keys
count 2, the final table holds N keys. The issue's goal: with 1M state rows back
to producing output within 5 s. Every N runs in its own process.

Before measuring (unless ``--no-wait-load``) it waits until the 1-minute load
average is <= 2.5 (polling every 30 s, at most 10 minutes) and records the load.

Results: tables on stdout, ``benchmarks/results/eos.json`` and ``eos.md``.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.jobs import (  # noqa: E402
    _pycql_build,
    make_task,
    read_output,
    run_all,
    wait_for_quiet,
)
from benchmarks.nexmark.run import (  # noqa: E402
    RESULTS_DIR,
    _fmt,
    _loads,
    _maxrss_mb,
    local_broker,
    machine,
    render_markdown,
    render_text,
)

DEFAULT_QUERIES = ("q1", "q2", "q5_count")
DEFAULT_SIZES = (10_000, 100_000, 1_000_000)
#: the issue's goals
EOS_MIN_RATIO = 0.80
RECOVERY_GOAL_S = 5.0
BATCH = 50_000


# -- (b) recovery ----------------------------------------------------------------------


def recovery_catalog(topic: str) -> dict[str, Any]:
    cols = [
        {"name": c, "type": "BIGINT", "nullable": True, "precision": None, "scale": None}
        for c in ("k", "ts")
    ]
    return {
        "streams": [{"name": "S", "columns": cols, "topic": topic, "timestamp": "ts",
                     "format": "json"}],
        "tables": [],
        "views": [],
    }


RECOVERY_SQL = "CREATE TABLE bench_counts AS SELECT k, COUNT(*) AS n FROM S GROUP BY k"


def plan_recovery(topic: str) -> dict[str, Any]:
    """The job's spec (as ``benchmarks.jobs.plan_job`` returns it) over input ``topic``."""
    from pycql.planner import analyze

    answer = analyze(RECOVERY_SQL, recovery_catalog(topic))
    return {
        "plan": answer["plan"],
        "columns": answer["columns"],
        "key": [str(k) for k in answer.get("key") or []],
        "sink_kind": "table",
    }


def produce_keys(log: Any, topic: str, keys: Any, base_ms: int) -> float:
    """One record per key, the i-th ``{"k": key, "ts": base_ms + i}``, straight to
    ``topic`` (``Log.produce``, durable on return)."""
    from pycql.log.base import OutRecord

    began = time.perf_counter()
    batch: list[Any] = []
    for i, key in enumerate(keys):
        ts = base_ms + i
        batch.append(OutRecord(b'{"k":%d,"ts":%d}' % (key, ts), None, ts, 0))
        if len(batch) >= BATCH:
            log.produce(topic, batch)
            batch = []
    if batch:
        log.produce(topic, batch)
    return time.perf_counter() - began


class _Clock:
    """Wall seconds spent in a callable (wrapped in place, for the breakdown)."""

    def __init__(self, fn: Callable[..., Any]) -> None:
        self.fn = fn
        self.seconds = 0.0

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        began = time.perf_counter()
        try:
            return self.fn(*args, **kwargs)
        finally:
            self.seconds += time.perf_counter() - began


def _timed_construction(build: Callable[[], Any], log: Any) -> tuple[Any, dict[str, float]]:
    """``build()`` (a Task's construction) with its parts clocked: the fencing producer,
    reading the changelog, assembling the state, the runner's restore, remembering the
    pieces' digests and loading the sink."""
    import pycql.jobs.task as _task_mod
    from pycql.jobs.changelog import Changelog
    from pycql.jobs.sink import Sink

    task_mod: Any = _task_mod

    saved = {
        "restore": task_mod.restore,
        "assemble": task_mod.assemble,
        "QueryRunner": task_mod.QueryRunner,
    }
    clocks = {name: _Clock(fn) for name, fn in saved.items()}
    remember = _Clock(Changelog.remember)
    producer = _Clock(log.transactional_producer)
    sink_load = {"seconds": 0.0}
    try:
        for name, clock in clocks.items():
            setattr(task_mod, name, clock)
        Changelog.remember = lambda self, *a: remember(self, *a)  # type: ignore[method-assign]
        log.transactional_producer = producer
        original_make_sink = task_mod.make_sink

        def make_sink(*a: Any, **k: Any) -> Sink:
            sink = original_make_sink(*a, **k)
            load = sink.load

            def timed(state: Any) -> Any:
                began = time.perf_counter()
                try:
                    return load(state)
                finally:
                    sink_load["seconds"] += time.perf_counter() - began

            sink.load = timed
            return sink  # type: ignore[no-any-return]

        task_mod.make_sink = make_sink
        began = time.perf_counter()
        task = build()
        total = time.perf_counter() - began
    finally:
        for name, fn in saved.items():
            setattr(task_mod, name, fn)
        task_mod.make_sink = original_make_sink
        Changelog.remember = remember.fn  # type: ignore[method-assign]
        del log.transactional_producer
    parts = {
        "producer_s": producer.seconds,
        "read_changelog_s": clocks["restore"].seconds,
        "assemble_s": clocks["assemble"].seconds,
        "runner_restore_s": clocks["QueryRunner"].seconds,
        "remember_s": remember.seconds,
        "sink_load_s": sink_load["seconds"],
    }
    parts["other_s"] = max(0.0, total - sum(parts.values()))
    return task, {"construct_s": total, **parts}


def recovery(log: Any, spec: dict[str, Any] | None, n: int, prefix: str, extra: int = 10,
             timeout_s: float = 600.0) -> dict[str, Any]:
    """Part (b) for one state size ``n`` on ``log`` (see the module docstring)."""
    from pycql.jobs.task import state_sizes
    from pycql.log.base import TopicSpec

    topic = f"{prefix}S_{n}"
    out_topic = f"{prefix}counts_{n}"
    log.create_topic(TopicSpec(topic, 1), exist_ok=True)
    if spec is None:
        spec = plan_recovery(topic)
    base_ms = (int(time.time()) // 60) * 60 * 1000 - 10 * n  # in the past, 1 ms apart
    result: dict[str, Any] = {"n": n, "extra": extra}
    result["load_s"] = produce_keys(log, topic, range(n), base_ms)
    job_id = f"CTAS_EOSBENCH_{n}_{uuid.uuid4().hex[:8].upper()}"

    # the first task: to the end of its input, committed, closed. Building the state is not
    # what is measured: the commit every COMMIT_RECORDS output records (each writing the
    # groups changed since the last; for this job every input record is an output
    # upsert) is lifted, so it commits on its (adaptive) interval and at the end
    import pycql.jobs.task as _task_mod

    task_mod: Any = _task_mod
    saved_commit_records = task_mod.COMMIT_RECORDS
    task_mod.COMMIT_RECORDS = max(saved_commit_records, n + extra + 2)
    began, cpu0 = time.perf_counter(), time.process_time()
    first = make_task(spec, log, out_topic, "exactly_once", job_id=job_id, bounded=True)
    commit_ms: list[float] = []
    written = 0
    deadline = time.monotonic() + timeout_s
    while not first.runner.done:
        seen = first.metrics.commits
        written += first.step(0.1)
        if first.metrics.commits > seen:
            commit_ms.append(first.metrics.commit_ms or 0.0)
        if time.monotonic() > deadline:
            raise RuntimeError(f"the first task did not finish within {timeout_s:.0f} s")
    written += first.commit()
    commit_ms.append(first.metrics.commit_ms or 0.0)
    task_mod.COMMIT_RECORDS = saved_commit_records
    result["first_task"] = {
        "wall_s": time.perf_counter() - began,
        "cpu_s": time.process_time() - cpu0,
        "records_in": first.runner.metrics.records_in,
        "written": written,
        "commits": first.metrics.commits,
        "commit_ms_max": max(commit_ms),
        "commit_ms_last": first.metrics.commit_ms,
        "changelog_records_last": first.metrics.changelog_records,
        "commit_interval_s_last": first.commit_interval_s,
        "commit_records_lifted_to": task_mod.COMMIT_RECORDS,
    }
    sizes, entries = state_sizes(first.runner.executor)
    result["state_rows"] = n  # groups; pycql's own count (TaskMetrics.state_entries) below
    result["state_entries_reported"] = sum(entries.values())
    result["state_bytes"] = sum(sizes.values())
    first.close()
    del first

    # more input for keys already counted (and one new key after them, whose later time
    # closes their instant: the last instant of an unbounded input stays open), then a NEW
    # task of the same job and index
    produce_keys(log, topic, [*range(extra), n], base_ms + n)
    t0 = time.perf_counter()
    task, parts = _timed_construction(
        lambda: make_task(spec, log, out_topic, "exactly_once", job_id=job_id, bounded=False),
        log,
    )
    result["restore"] = {
        **parts,
        "restore_s": task.metrics.restore_s,
        "changelog_records_read": task.metrics.restored_pieces,
        "restored": task.restored,
    }
    first_out = 0
    deadline = time.monotonic() + timeout_s
    while not first_out:
        first_out = task.step(0.1)
        if time.monotonic() > deadline:
            raise RuntimeError(f"the restored task wrote nothing within {timeout_s:.0f} s")
    result["back_to_output_s"] = time.perf_counter() - t0
    result["first_commit_after_restore_ms"] = task.metrics.commit_ms
    result["first_commit_changelog_records"] = task.metrics.changelog_records
    result["first_output_records"] = first_out
    # the rest of the extra input, if the first commit did not hold it all
    while task.runner.metrics.records_in < n + extra + 1 and time.monotonic() < deadline:
        task.step(0.1)
    task.close(commit=True)
    result["records_in_after_restore"] = task.runner.metrics.records_in
    # the output, read back (read_committed): the extra keys count 2, the other N - extra
    # 1; the closing key n is there (1) or not yet (its instant may still be open)
    table = read_output(log, out_topic, "table")["table"]
    counts = {}
    for text in table:
        row = orjson.loads(text)
        row = {k.lower(): v for k, v in row.items()}
        counts[int(row["k"])] = int(row["n"])
    wrong = [k for k, c in counts.items() if c != (2 if k < extra else 1)]
    missing = n - sum(1 for k in counts if k < n)
    result["output_keys"] = len(counts)
    result["output_ok"] = not missing and not wrong
    result["output_missing_keys"] = missing
    if wrong:
        result["output_wrong_keys"] = wrong[:10]
    result["goal_met"] = result["back_to_output_s"] <= RECOVERY_GOAL_S
    result["max_rss_mb"] = _maxrss_mb()
    return result


# -- children and parent -----------------------------------------------------------------


def child(args: argparse.Namespace) -> dict[str, Any]:
    from pycql.log import open_log

    work = orjson.loads(Path(args.work).read_bytes())
    log = open_log() if args.log == "memory" else open_log(f"kafka://{args.bootstrap}")
    try:
        return recovery(log, work.get("spec"), work["n"], work["prefix"], work["extra"])
    finally:
        log.close()


def run_recovery(args: argparse.Namespace, sizes: list[int], work: Path) -> dict[str, Any]:
    prefix = f"eos{int(time.time())}{uuid.uuid4().hex[:4]}_"
    out: dict[str, Any] = {}
    for n in sizes:
        spec = None
        if args.log == "kafka":  # planned here, where the planner's JVM already runs
            spec = plan_recovery(f"{prefix}S_{n}")
        path = work / f"recovery-{n}.json"
        path.write_bytes(orjson.dumps({"spec": spec, "n": n, "prefix": prefix,
                                       "extra": args.extra}))
        command = [sys.executable, "-m", "benchmarks.eos", "--child", "--work", str(path),
                   "--log", args.log, "--bootstrap", args.bootstrap or ""]
        print(f"recovery, {n:,} state rows ...", flush=True)
        try:
            done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True,
                                  timeout=args.timeout, check=False)
        except subprocess.TimeoutExpired:
            out[str(n)] = {"n": n, "error": f"timed out after {args.timeout:.0f} s"}
            continue
        if done.returncode != 0:
            tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
            out[str(n)] = {"n": n, "error": " | ".join(tail) or f"exit {done.returncode}"}
        else:
            out[str(n)] = orjson.loads(done.stdout.strip().splitlines()[-1])
        r = out[str(n)]
        print("  " + (r["error"] if "error" in r else
                      f"construct {r['restore']['construct_s']:.2f} s, back to output "
                      f"{r['back_to_output_s']:.2f} s"), flush=True)
    return out


def throughput_table(results: dict[str, Any]) -> list[list[str]]:
    header = ["query", "sink", "records", "EOS rec/s", "ALOS rec/s", "x wall", "EOS rec/CPU s",
              "ALOS rec/CPU s", "x CPU", "cost <= 20%", "EOS commits", "ALOS commits",
              "runner rec/s", "output"]
    rows = [header]
    for name, r in results.get("throughput", {}).get("queries", {}).items():
        if "error" in r:
            rows.append([name, "error: " + r["error"][:80]] + [""] * (len(header) - 2))
            continue
        med = r["medians"]
        e, a, c = med["job:exactly_once"], med["job:at_least_once"], med.get("runner", {})
        if "error" in e or "error" in a:
            rows.append([name, r["sink_kind"], "error: " + (e.get("error") or a["error"])[:80]]
                        + [""] * (len(header) - 3))
            continue
        commits = {g: [x.get("commits") for x in r["runs"][f"job:{g}"] if "error" not in x]
                   for g in ("exactly_once", "at_least_once")}
        rows.append([
            name, r["sink_kind"], _fmt(e.get("records")),
            _fmt(e.get("records_per_s")), _fmt(a.get("records_per_s")),
            _fmt(r.get("eos_ratio_records_per_s"), ".2f"),
            _fmt(e.get("records_per_cpu_s")), _fmt(a.get("records_per_cpu_s")),
            _fmt(r.get("eos_ratio_records_per_cpu_s"), ".2f"),
            "yes" if r.get("eos_within_goal") else "NO",
            _fmt(commits["exactly_once"][0] if commits["exactly_once"] else None),
            _fmt(commits["at_least_once"][0] if commits["at_least_once"] else None),
            _fmt(c.get("records_per_s")),
            "ok" if r["verified"] else "FAILED",
        ])
    return rows


def recovery_table(results: dict[str, Any]) -> list[list[str]]:
    header = ["state rows", "state MB", "changelog records read", "construct s", "restore_s",
              "producer", "read", "assemble", "runner", "remember", "first commit ms",
              "back to output s", "<= 5 s", "first task s", "first task commits",
              "max commit ms", "peak RSS MB", "output"]
    rows = [header]
    for r in results.get("recovery", {}).values():
        if "error" in r:
            rows.append([_fmt(r["n"]), "error: " + r["error"][:100]] + [""] * (len(header) - 2))
            continue
        s = r["restore"]
        rows.append([
            _fmt(r["state_rows"]), _fmt(r["state_bytes"] / 1e6, ".1f"),
            _fmt(s["changelog_records_read"]), _fmt(s["construct_s"], ".2f"),
            _fmt(s["restore_s"], ".2f"), _fmt(s["producer_s"], ".2f"),
            _fmt(s["read_changelog_s"], ".2f"), _fmt(s["assemble_s"], ".2f"),
            _fmt(s["runner_restore_s"], ".2f"), _fmt(s["remember_s"], ".2f"),
            _fmt(r["first_commit_after_restore_ms"], ".0f"), _fmt(r["back_to_output_s"], ".2f"),
            "yes" if r["goal_met"] else "NO", _fmt(r["first_task"]["wall_s"], ".1f"),
            _fmt(r["first_task"]["commits"]), _fmt(r["first_task"]["commit_ms_max"], ".0f"),
            _fmt(r.get("max_rss_mb"), ".0f"), "ok" if r["output_ok"] else "FAILED",
        ])
    return rows


def main_parent(args: argparse.Namespace) -> None:
    with local_broker(args, "eos-bench-kafka-"):
        results = _measure(args)
    _report(args, results)


def _measure(args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {
        "date": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "config": {"events": args.events, "queries": args.queries, "repeat": args.repeat,
                   "sizes": args.sizes, "extra": args.extra, "log": args.log,
                   "commit_interval_ms": 100, "pycql": _pycql_build()},
    }
    work = Path(tempfile.mkdtemp(prefix="pycql-eos-bench-"))
    try:
        results["load_wait"] = None if args.no_wait_load else wait_for_quiet()
        results["load_average_at_start"] = os.getloadavg()
        if not args.no_throughput:
            names = [q.strip() for q in args.queries.split(",") if q.strip()]
            args.guarantee = "both"
            args.profile_dir = None
            args.wait_load = False
            tp = run_all(args, names, ("runner", "job:exactly_once", "job:at_least_once"))
            for r in tp["queries"].values():
                med = r.get("medians") or {}
                e, a = med.get("job:exactly_once", {}), med.get("job:at_least_once", {})
                for key in ("records_per_s", "records_per_cpu_s"):
                    if e.get(key) and a.get(key):
                        r[f"eos_ratio_{key}"] = e[key] / a[key]
                r["eos_within_goal"] = all(
                    r.get(f"eos_ratio_{key}", 0) >= EOS_MIN_RATIO
                    for key in ("records_per_s", "records_per_cpu_s"))
            results["throughput"] = tp
            results["load_average_after_throughput"] = os.getloadavg()
        if not args.no_recovery:
            results["recovery"] = run_recovery(
                args, [int(x) for x in args.sizes.split(",") if x.strip()], work)
        results["load_average_at_end"] = os.getloadavg()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return results


def _report(args: argparse.Namespace, results: dict[str, Any]) -> None:
    tp_rows, rec_rows = throughput_table(results), recovery_table(results)
    m, cfg = results["machine"], results["config"]
    wait = results.get("load_wait")
    lines = [
        f"- date: {results['date']}",
        f"- machine: {m['cpu']}, {m['cores']} cores, Python {m['python']}, {m['platform']}",
        f"- log: {cfg['log']}; pycql {cfg.get('pycql') or 'unknown build'}; commit interval "
        "100 ms (the default) for both guarantees",
        f"- load average (1/5/15 min): at start {_loads(results.get('load_average_at_start'))}"
        + (f", after the throughput runs {_loads(results['load_average_after_throughput'])}"
           if results.get("load_average_after_throughput") else "")
        + f", at end {_loads(results.get('load_average_at_end'))}"
        + (f"; waited {wait['waited_s']:.0f} s for <= {wait['limit']} "
           f"({'reached' if wait['quiet'] else 'NOT reached: other work was running'})"
           if wait else ""),
    ]
    md = ["# Exactly-once: throughput cost and recovery time (latest run)", "", *lines, ""]
    if len(tp_rows) > 1:
        print("\n(a) throughput, exactly_once (EOS) against at_least_once (ALOS):")
        print(render_text(tp_rows))
        md += [
            "## (a) Throughput: exactly_once against at_least_once", "",
            f"{cfg['events']:,} Nexmark events; median of {cfg['repeat']} runs of each, every "
            "run in a fresh process. x wall / x CPU = EOS / ALOS of input records per wall / "
            f"CPU second; goal: >= {EOS_MIN_RATIO:.2f} both (exactly-once costs at most 20%). "
            "Both jobs' outputs verified against the bare runner.", "",
            render_markdown(tp_rows), "",
        ]
    if len(rec_rows) > 1:
        print("\n(b) recovery against state size:")
        print(render_text(rec_rows))
        md += [
            "## (b) Recovery time against state size", "",
            "`SELECT k, COUNT(*) AS n FROM S GROUP BY k` over N distinct keys, one exactly-once "
            "task run to the end and committed; then "
            f"{cfg['extra']} more records (keys already counted) and a NEW task of the same job "
            "and index. `construct s` = `Task(...)` (of it: `producer` = the fencing "
            "transactional producer, `read` = reading the changelog partition, = "
            "`metrics.restore_s`, `assemble` = pieces to state, `runner` = the runner restored "
            "from the checkpoint, `remember` = the pieces' digests); `first commit ms` = the "
            "restored task's first commit (the changed keys' pieces and the untracked state, "
            "then the transaction); `back to output s` = from the start of the construction "
            f"until that commit, with output, returned (goal: <= {RECOVERY_GOAL_S:.0f} s at 1M "
            "rows). `first task` = building the state (N records in, committed). `output`: "
            "the extra keys count 2, the table holds N keys.", "",
            render_markdown(rec_rows), "",
        ]
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (RESULTS_DIR / f"{args.output}.json").write_bytes(
        orjson.dumps(results, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS))
    (RESULTS_DIR / f"{args.output}.md").write_text("\n".join(md))
    print(f"\nwrote {RESULTS_DIR / (args.output + '.json')} and .md")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.eos",
                                     description="Exactly-once's cost (see benchmarks/README.md).")
    parser.add_argument("--events", type=int, default=300_000)
    parser.add_argument("--queries", default=",".join(DEFAULT_QUERIES))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rate", type=int, default=10_000)
    parser.add_argument("--sizes", default=",".join(str(n) for n in DEFAULT_SIZES))
    parser.add_argument("--extra", type=int, default=10)
    parser.add_argument("--bootstrap", default=None)
    parser.add_argument("--log", choices=("kafka", "memory"), default="kafka")
    parser.add_argument("--query-timeout", type=float, default=900.0)
    parser.add_argument("--timeout", type=float, default=1200.0,
                        help="seconds before a recovery measurement is abandoned")
    parser.add_argument("--no-throughput", action="store_true")
    parser.add_argument("--no-recovery", action="store_true")
    parser.add_argument("--no-wait-load", action="store_true")
    parser.add_argument("--output", default="eos")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--work", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(orjson.dumps(child(args), option=orjson.OPT_NON_STR_KEYS).decode(), flush=True)
        return
    main_parent(args)


if __name__ == "__main__":
    main()
