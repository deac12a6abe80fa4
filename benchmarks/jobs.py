"""A job's throughput against the same query run in a cursor, on the Nexmark topics.

::

    python -m benchmarks.jobs                                  # 300,000 events, q0,q1,q2,q5_count
    python -m benchmarks.jobs --events 1000000 --repeat 5 --guarantee both
    python -m benchmarks.jobs --log memory --events 20000      # the embedded log

The issue's bar: "a job's throughput against the same query run in a cursor
... the job must not be slower by more than 10% at the same settings". For
every query it measures, each time in a fresh process (plans are made once
here, in the parent that hosts the planner's JVM):

* **dbapi** (the headline's reference): the query as a user runs it in a
  cursor: ``pycql.connect(...)``, the Nexmark streams registered with ``CREATE
  STREAM IF NOT EXISTS ... WITH (topic, timestamp = 'date_time', format =
  'json')`` over the pre-loaded topics, the planner warmed by an ``EXPLAIN`` of
  the query, then ``cur.execute(query, start="earliest", stop="latest")`` and
  ``fetchmany(10_000)`` until it returns nothing; the clock starts just before
  ``execute``;
* **runner** (the second figure): ``QueryRunner(plan, log, start="earliest",
  stop="end")`` polled (``poll(0.1)``) to the end, counting its emissions (no
  DB-API: no rows made into Python values);
* **job** (``--guarantee exactly_once`` (default), ``at_least_once`` or
  ``both``, the default commit interval of 100 ms): a
  :class:`pycql.jobs.task.Task` of a :class:`pycql.jobs.spec.Job` over the
  same plan, writing to a fresh output topic, stepped (``step(0.1)``) until its
  runner is done, then committed (a clean stop). A job's task never stops, so
  the benchmark makes it with ``Task(stop="end")`` (:func:`make_task`), whose
  runner stops at the input's end; nothing else of the task changes. Its time
  includes encoding its output and its commits
  (with exactly-once, one transaction per commit of the output and the
  changelog of its state): that is what a job costs.

The runner's and the job's clocks start before the poll that returns the first
records (as in ``benchmarks/nexmark/run.py``) and stop at the end; CPU is
``time.process_time`` of the process (the Python thread and librdkafka's).
Each kind is measured ``--repeat`` times (the order rotated from one repeat to
the next); the table reports the medians and the ratios job / DB-API cursor
(the headline) and job / runner, of input records per wall second and per CPU
second.

The job's output is verified after its clock stops: the output topic is read
back (read_committed); for a stream its record count must equal the runner's
emissions, for a relation the table the upserts and tombstones leave (applied
by key) must equal the runner's final ``snapshot()`` as a multiset. The DB-API
cursor must read as many records and return as many rows (a relation: its
final value). A mismatch fails the run.

``--wait-load`` first waits (up to 10 minutes) for a 1-minute load average <= 2.5.

Results: the table on stdout, ``benchmarks/results/jobs.json`` and
``benchmarks/results/jobs.md``.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.nexmark.generator import TOPICS, GeneratorConfig  # noqa: E402
from benchmarks.nexmark.queries import QUERIES, QUERY_ORDER  # noqa: E402
from benchmarks.nexmark.run import (  # noqa: E402
    RESULTS_DIR,
    _fmt,
    _kind_counts,
    _loads,
    _maxrss_mb,
    _open_log,
    catalog,
    load_events,
    local_broker,
    machine,
    render_markdown,
    render_text,
)

DEFAULT_QUERIES = ("q0", "q1", "q2", "q5_count")
#: the poll timeout of both ways (the job worker's step timeout is of this order)
POLL_S = 0.1
#: the bar of the issue: job rate >= (1 - TOLERANCE) x cursor rate
TOLERANCE = 0.10


# -- planning (in the parent) ----------------------------------------------------------


def plan_job(name: str, topic_prefix: str) -> dict[str, Any]:
    """Plan ``CREATE STREAM|TABLE x AS <query>`` for a Nexmark query.

    Returns ``{"plan", "columns", "key", "sink_kind"}``: the planner's answer
    for the persistent statement (the same plan as the bare query's, with the
    output's columns and, for a relation, its unique key).
    """
    from pycql.planner import analyze

    query = QUERIES[name]
    word = "TABLE" if query.kind == "relation" else "STREAM"
    answer = analyze(f"CREATE {word} bench_out AS {query.sql}", catalog(topic_prefix, query.views))
    kind = "table" if answer["plan"]["result"]["kind"] == "relation" else "stream"
    return {
        "plan": answer["plan"],
        "columns": answer["columns"],
        "key": [str(k) for k in answer.get("key") or []] if kind == "table" else [],
        "sink_kind": kind,
    }


# -- the two measurements -------------------------------------------------------------


def _rates(records: int, wall: float, cpu: float) -> dict[str, Any]:
    return {
        "records": records,
        "wall_s": wall,
        "cpu_s": cpu,
        "records_per_s": records / wall if wall else None,
        "records_per_cpu_s": records / cpu if cpu else None,
        "cores_used": cpu / wall if wall else None,
    }


def _canonical(values: list[bytes]) -> list[str]:
    """Record values as comparable text (JSON objects with sorted keys)."""
    return sorted(
        orjson.dumps(orjson.loads(v), option=orjson.OPT_SORT_KEYS).decode() for v in values
    )


def measure_runner(spec: dict[str, Any], log: Any) -> dict[str, Any]:
    """The bare runner: a bounded ``QueryRunner`` polled to the end."""
    from pycql.log.formats import make_encoder
    from pycql.runtime.runner import QueryRunner

    runner = QueryRunner(spec["plan"], log, start="earliest", stop="end")
    metrics = runner.metrics
    emitted = 0
    polls = 0
    t0 = c0 = None
    while not runner.done:
        before, cpu_before = time.perf_counter(), time.process_time()
        emitted += len(runner.poll(POLL_S))
        polls += 1
        if t0 is None and metrics.records_in:
            t0, c0 = before, cpu_before
    if t0 is None or c0 is None:
        raise RuntimeError("the query read no records")
    wall = time.perf_counter() - t0
    cpu = time.process_time() - c0
    out = {
        **_rates(metrics.records_in, wall, cpu),
        "emitted": emitted,
        "polls": polls,
        "late": metrics.late_records,
    }
    if runner.executor.result_kind == "relation":
        # the final value, encoded as the job's sink encodes rows
        encode = make_encoder(spec["columns"], "json")
        out["snapshot"] = _canonical(encode([tuple(r) for r in runner.snapshot()]))
    runner.close()
    return out


#: the old name of :func:`measure_runner` (the bare runner was called "cursor")
measure_cursor = measure_runner


def dbapi_statements(name: str, topic_prefix: str) -> list[str]:
    """The DDL a user runs before the query: the Nexmark streams over the pre-loaded
    topics (as ``catalog()`` describes them to the planner) and the query's views."""
    from benchmarks.nexmark.generator import SCHEMAS

    out = []
    for stream in TOPICS:
        cols = ", ".join(f"{c} {t}" for c, t in SCHEMAS[stream])
        out.append(
            f"CREATE STREAM IF NOT EXISTS {stream} ({cols}) WITH (topic = "
            f"'{topic_prefix}{stream}', timestamp = 'date_time', format = 'json')"
        )
    for view, sql in QUERIES[name].views:
        out.append(f"CREATE VIEW IF NOT EXISTS {view} AS {sql}")
    return out


def measure_dbapi(name: str, topic_prefix: str, conn: Any, batch: int = 10_000) -> dict[str, Any]:
    """The query as a user runs it: ``cur.execute(query, start="earliest",
    stop="latest")`` on a DB-API connection, then ``fetchmany(batch)`` until it returns
    nothing. The planner is warmed first (``EXPLAIN`` of the same query: the JVM started,
    the plan made once), so the clock, started just before ``execute``, holds a warm
    plan, reading, the operators and the rows made into Python values."""
    cur = conn.cursor()
    for ddl in dbapi_statements(name, topic_prefix):
        cur.execute(ddl)
    sql = QUERIES[name].sql
    w = time.perf_counter()
    cur.execute("EXPLAIN " + sql)
    cur.fetchall()
    warm_s = time.perf_counter() - w
    rows = 0
    fetches = 0
    t0, c0 = time.perf_counter(), time.process_time()
    cur.execute(sql, start="earliest", stop="latest")
    execute_s = time.perf_counter() - t0
    while True:
        got = cur.fetchmany(batch)
        fetches += 1
        if not got:
            break
        rows += len(got)
    wall = time.perf_counter() - t0
    cpu = time.process_time() - c0
    metrics = cur.metrics
    records = metrics.records_in if metrics is not None else 0
    if not records:
        raise RuntimeError("the query read no records")
    out = {
        **_rates(records, wall, cpu),
        "emitted": rows,
        "fetches": fetches,
        "late": metrics.late_records if metrics is not None else None,
        "warmup_s": warm_s,
        "execute_s": execute_s,
    }
    cur.close()
    return out


def make_task(
    spec: dict[str, Any],
    log: Any,
    topic: str,
    guarantee: str = "exactly_once",
    job_id: str | None = None,
    bounded: bool = True,
    commit_interval_ms: int = 100,
) -> Any:
    """A task of a one-task job over ``spec``'s plan writing to ``topic`` (created here).

    ``bounded``: the task's runner stops at the input's end (``Task(stop="end")``);
    nothing else of the task changes. ``job_id`` defaults to a fresh one (the task then
    restores nothing from its changelog)."""
    from pycql.jobs.spec import Job
    from pycql.jobs.task import Task
    from pycql.log.base import TopicSpec

    table = spec["sink_kind"] == "table"
    log.create_topic(TopicSpec(topic, partitions=1, compacted=table), exist_ok=True)
    job = Job(
        job_id or f"{'CTAS' if table else 'CSAS'}_BENCH_{uuid.uuid4().hex[:12].upper()}",
        spec["sink_kind"],
        f"CREATE {'TABLE' if table else 'STREAM'} bench_out AS ...",
        "bench_out",
        topic,
        spec["plan"],
        spec["columns"],
        "json",
        list(spec["key"]),
        1,
        "earliest",
        processing_guarantee=guarantee,
        commit_interval_ms=commit_interval_ms,
    )
    return Task(job, 0, log, stop="end" if bounded else None)


class _Timed:
    """Wall and CPU seconds spent in one callable (a part of a task's step)."""

    def __init__(self, fn: Any) -> None:
        self.fn = fn
        self.wall = 0.0
        self.cpu = 0.0

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        w, c = time.perf_counter(), time.process_time()
        try:
            return self.fn(*args, **kwargs)
        finally:
            self.wall += time.perf_counter() - w
            self.cpu += time.process_time() - c


class _TimedLog:
    """The task's log with ``produce`` timed; everything else passed through."""

    def __init__(self, log: Any) -> None:
        self._inner = log
        self.produce = _Timed(log.produce)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def measure_job(
    spec: dict[str, Any], log: Any, topic: str, guarantee: str = "exactly_once"
) -> dict[str, Any]:
    """The query as a job's task: stepped to the end, its output in ``topic``.

    Besides the totals it reports where a step's time goes (wall and CPU
    seconds, a few ``perf_counter`` calls per step): ``query`` (the runner's
    poll: reading, decoding, operators; what the cursor does), ``encode``
    (``Sink.records``: rows to record values, keys, partitions) and
    ``write``: ``Log.produce`` per step (handing the records to the log and
    waiting until they are durable) or, where the task commits, ``Task.commit``
    (its transaction: output, changelog of its state), the final one included.
    """
    task = make_task(spec, log, topic, guarantee)
    parts = {"query": _Timed(task.runner.poll), "encode": _Timed(task.sink.records)}
    task.runner.poll = parts["query"]
    task.sink.records = parts["encode"]
    committing = callable(getattr(task, "commit", None))
    if committing:  # output waits in the task until a commit (transaction + changelog)
        parts["write"] = task.commit = _Timed(task.commit)
    else:  # each step produces its output (the benchmark's probe into the task)
        timed_log = _TimedLog(task._log)
        task._log = timed_log
        parts["write"] = timed_log.produce
    metrics = task.runner.metrics
    written = 0
    steps = 0
    t0 = c0 = None
    base: dict[str, tuple[float, float]] = {}
    while not task.runner.done:
        before, cpu_before = time.perf_counter(), time.process_time()
        if t0 is None:  # the parts' clocks start where the total's does
            base = {k: (p.wall, p.cpu) for k, p in parts.items()}
        written += task.step(POLL_S)
        steps += 1
        if t0 is None and metrics.records_in:
            t0, c0 = before, cpu_before
    if committing:  # a clean stop commits what the task holds: part of the job's time
        written += task.commit()
    if t0 is None or c0 is None:
        raise RuntimeError("the job read no records")
    for k, p in parts.items():
        p.wall -= base.get(k, (0.0, 0.0))[0]
        p.cpu -= base.get(k, (0.0, 0.0))[1]
    wall = time.perf_counter() - t0
    cpu = time.process_time() - c0
    out = {
        **_rates(metrics.records_in, wall, cpu),
        "written": written,
        "steps": steps,
        "late": metrics.late_records,
        "guarantee": guarantee,
        "commits": task.metrics.commits,
        "commit_ms_last": task.metrics.commit_ms,
        "commit_interval_s_last": task.commit_interval_s,
        "parts": {k: {"wall_s": p.wall, "cpu_s": p.cpu} for k, p in parts.items()},
        "output": read_output(log, topic, spec["sink_kind"]),
    }
    task.close()
    return out


def read_output(log: Any, topic: str, sink_kind: str) -> dict[str, Any]:
    """The output topic read back: its record count and, for a table, the final table
    (upserts and tombstones applied by key) as canonical rows."""
    from pycql.log.control import CONTROL_KEY

    reader = log.reader([topic], "earliest")
    count = 0
    table: dict[bytes | None, bytes | None] = {}
    try:
        ends = reader.end_offsets()
        while any(reader.position().get(tp, 0) < end for tp, end in ends.items()):
            for r in reader.poll(10_000, 0.2):
                if r.key == CONTROL_KEY:  # a task's watermark, not output
                    continue
                count += 1
                if sink_kind == "table":
                    if r.value is None:
                        table.pop(r.key, None)
                    else:
                        table[r.key] = r.value
    finally:
        reader.close()
    out: dict[str, Any] = {"records": count}
    if sink_kind == "table":
        out["table"] = _canonical([v for v in table.values() if v is not None])
    return out


def verify(spec: dict[str, Any], cursor: dict[str, Any], job: dict[str, Any]) -> str | None:
    """``None`` when the job's output matches the cursor's result, else what differs."""
    output = job["output"]
    if spec["sink_kind"] == "stream":
        if output["records"] != cursor["emitted"]:
            return (
                f"output topic holds {output['records']} records, the cursor emitted "
                f"{cursor['emitted']}"
            )
        return None
    mine, theirs = Counter(output["table"]), Counter(cursor["snapshot"])
    if mine != theirs:
        return (
            f"final table differs: {sum((mine - theirs).values())} rows only in the job's "
            f"output, {sum((theirs - mine).values())} only in the cursor's snapshot "
            f"({len(output['table'])} vs {len(cursor['snapshot'])} rows)"
        )
    return None


def verify_dbapi(spec: dict[str, Any], runner: dict[str, Any], dbapi: dict[str, Any]) -> str | None:
    """``None`` when the DB-API cursor returned what the runner did: a stream's rows are
    the runner's emissions; a relation's rows (its final value) the runner's snapshot."""
    want = runner["emitted"] if spec["sink_kind"] == "stream" else len(runner["snapshot"])
    if dbapi["emitted"] != want:
        return f"the DB-API cursor returned {dbapi['emitted']} rows, the runner {want}"
    if dbapi["records"] != runner["records"]:
        return f"the DB-API cursor read {dbapi['records']} records, the runner {runner['records']}"
    return None


# -- children: one measurement per process ---------------------------------------------


def child(args: argparse.Namespace) -> dict[str, Any]:
    work = orjson.loads(Path(args.job).read_bytes())
    conn = None
    if args.child == "dbapi":
        import pycql

        dsn = f"memory://jobsbench{os.getpid()}" if args.log == "memory" else f"kafka://{args.bootstrap}"
        conn = pycql.connect(dsn)
        log = conn.database.log
    else:
        log = _open_log(args)
    try:
        if args.log == "memory":  # the embedded log lives in this process: fill it here
            load_events(log, GeneratorConfig(**work["generator"]), work["topic_prefix"])
        rss_before = _maxrss_mb()
        profiler = None
        if args.profile:  # the whole measurement (the job's: and its output read back)
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
        if args.child in ("runner", "cursor"):
            out = measure_runner(work["spec"], log)
        elif args.child == "dbapi":
            out = measure_dbapi(work["name"], work["topic_prefix"], conn)
        else:
            out = measure_job(work["spec"], log, work["output_topic"], work["guarantee"])
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(args.profile)
        out["max_rss_mb"] = _maxrss_mb()
        out["rss_before_mb"] = rss_before
        return out
    finally:
        if conn is not None:
            conn.close()
        else:
            log.close()


def _run_child(
    kind: str, args: argparse.Namespace, job: Path, timeout: float, profile: str | None = None
) -> dict[str, Any]:
    command = [
        sys.executable,
        "-m",
        "benchmarks.jobs",
        "--child",
        kind,
        "--bootstrap",
        args.bootstrap or "",
        "--log",
        args.log,
        "--job",
        str(job),
    ]
    if profile:
        command += ["--profile", profile]
    try:
        done = subprocess.run(
            command, cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False
        )
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


# -- the parent ------------------------------------------------------------------------


_KEYS = ("records_per_s", "records_per_cpu_s", "wall_s", "cpu_s", "cores_used", "max_rss_mb")


def _median(runs: list[dict[str, Any]]) -> dict[str, Any]:
    ok = [r for r in runs if "error" not in r]
    if not ok:
        return {"error": runs[0]["error"] if runs else "not run"}
    out: dict[str, Any] = {
        k: statistics.median(r[k] for r in ok if r.get(k) is not None)
        for k in _KEYS
        if any(r.get(k) is not None for r in ok)
    }
    out["records"] = ok[0]["records"]
    out["runs"] = len(ok)
    if all("parts" in r for r in ok):
        out["parts"] = {
            part: {
                k: statistics.median(r["parts"][part][k] for r in ok) for k in ("wall_s", "cpu_s")
            }
            for part in ok[0]["parts"]
        }
    if len(ok) < len(runs):
        out["errors"] = [r["error"] for r in runs if "error" in r]
    return out


def _work_file(path: Path, name: str, spec: dict[str, Any], run_id: str, config: GeneratorConfig,
               output_topic: str, guarantee: str) -> Path:
    path.write_bytes(
        orjson.dumps(
            {
                "name": name,
                "spec": spec,
                "topic_prefix": run_id,
                "output_topic": output_topic,
                "guarantee": guarantee,
                "generator": {
                    "seed": config.seed,
                    "events": config.events,
                    "rate": config.rate,
                    "base_time_ms": config.base_time_ms,
                },
            }
        )
    )
    return path


def _ratios(entry: dict[str, Any], a: dict[str, Any], b: dict[str, Any], suffix: str) -> None:
    for key in ("records_per_s", "records_per_cpu_s"):
        if a.get(key) and b.get(key):
            entry[f"ratio_{key}{suffix}"] = a[key] / b[key]


def run_query(
    args: argparse.Namespace,
    name: str,
    spec: dict[str, Any],
    run_id: str,
    config: GeneratorConfig,
    work: Path,
    kinds: tuple[str, ...] | None = None,
) -> dict[str, Any]:
    """Every kind (``runner``, ``dbapi``, ``job:<guarantee>``) ``--repeat`` times, each run
    in a fresh process, the order rotated from one repeat to the next."""
    guarantees = _guarantees(args)
    if kinds is None:
        kinds = ("runner", "dbapi", *(f"job:{g}" for g in guarantees))
    runs: dict[str, list[dict[str, Any]]] = {k: [] for k in kinds}
    failures: list[str] = []
    for k in range(args.repeat):
        # rotate which goes first: drift of the machine hits all alike
        order = kinds[k % len(kinds):] + kinds[: k % len(kinds)]
        got: dict[str, dict[str, Any]] = {}
        for kind in order:
            guarantee = kind.split(":", 1)[1] if kind.startswith("job:") else "exactly_once"
            path = _work_file(work / f"{name}-{k}-{kind.replace(':', '_')}.json", name, spec,
                              run_id, config, f"{run_id}out_{name}_{k}_{guarantee}", guarantee)
            got[kind] = _run_child(kind.split(":")[0], args, path, args.query_timeout)
        runner = got.get("runner")
        for kind, r in got.items():
            if kind == "runner" or "error" in r or runner is None or "error" in runner:
                continue
            problem = (verify_dbapi(spec, runner, r) if kind == "dbapi"
                       else verify(spec, runner, r))
            if problem:
                failures.append(f"run {k + 1} {kind}: {problem}")
            r["verified"] = problem is None
        for r in got.values():
            r.pop("snapshot", None)
            if isinstance(r.get("output"), dict):
                r["output"].pop("table", None)
        for kind in kinds:
            runs[kind].append(got[kind])
        print(
            f"  {name} run {k + 1}: "
            + ", ".join(
                f"{kind} " + (f"ERROR {r['error'][:120]}" if "error" in r
                              else f"{_fmt(r.get('records_per_s'))} rec/s")
                + (" MISMATCH" if r.get("verified") is False else "")
                for kind, r in got.items()
            ),
            flush=True,
        )
    if args.profile_dir:  # one more run of each under cProfile, not in the medians
        Path(args.profile_dir).mkdir(parents=True, exist_ok=True)
        for kind in kinds:
            guarantee = kind.split(":", 1)[1] if kind.startswith("job:") else "exactly_once"
            path = _work_file(work / f"{name}-profile-{kind.replace(':', '_')}.json", name, spec,
                              run_id, config, f"{run_id}out_{name}_prof_{guarantee}", guarantee)
            profile = Path(args.profile_dir) / f"{name}-{kind.replace(':', '-')}.prof"
            r = _run_child(kind.split(":")[0], args, path, args.query_timeout, str(profile))
            print(f"  {name} {kind} profile: {profile}"
                  + (f" ({r['error']})" if "error" in r else ""), flush=True)
    medians = {kind: _median(rs) for kind, rs in runs.items()}
    entry: dict[str, Any] = {
        "sink_kind": spec["sink_kind"],
        "key": spec["key"],
        "medians": medians,
        "runs": runs,
        "verified": not failures
        and all(
            any(r.get("verified") for r in rs) for kind, rs in runs.items() if kind != "runner"
        ),
        "errored_runs": {kind: sum("error" in r for r in rs) for kind, rs in runs.items()},
        "failures": failures,
    }
    ok_runner = [r for r in runs.get("runner", []) if "error" not in r]
    entry["emitted"] = ok_runner[0]["emitted"] if ok_runner else None
    entry["jobs"] = {}
    for g in guarantees:
        kind = f"job:{g}"
        if kind not in medians:
            continue
        j = medians[kind]
        ok_j = [r for r in runs[kind] if "error" not in r]
        je: dict[str, Any] = {"written": ok_j[0]["written"] if ok_j else None}
        if "dbapi" in medians:
            _ratios(je, j, medians["dbapi"], "_vs_dbapi")
        if "runner" in medians:
            _ratios(je, j, medians["runner"], "_vs_runner")
        je["within_10pct_of_dbapi"] = bool(
            je.get("ratio_records_per_s_vs_dbapi")
            and je.get("ratio_records_per_cpu_s_vs_dbapi")
            and je["ratio_records_per_s_vs_dbapi"] >= 1 - TOLERANCE
            and je["ratio_records_per_cpu_s_vs_dbapi"] >= 1 - TOLERANCE
        )
        je["within_10pct_of_runner"] = bool(
            je.get("ratio_records_per_s_vs_runner")
            and je.get("ratio_records_per_cpu_s_vs_runner")
            and je["ratio_records_per_s_vs_runner"] >= 1 - TOLERANCE
            and je["ratio_records_per_cpu_s_vs_runner"] >= 1 - TOLERANCE
        )
        entry["jobs"][g] = je
    return entry


def _guarantees(args: argparse.Namespace) -> list[str]:
    g = getattr(args, "guarantee", "exactly_once")
    return ["exactly_once", "at_least_once"] if g == "both" else [g]


def _pycql_build() -> str | None:
    """The commit of the pycql measured (``+dirty`` when ``pycql/`` has uncommitted edits),
    or ``None`` outside a git checkout."""
    try:
        head = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        )
        dirty = subprocess.run(
            ["git", "-C", str(ROOT), "status", "--porcelain", "--", "pycql"],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")


def wait_for_quiet(
    limit: float = 2.5, poll_s: float = 30.0, max_wait_s: float = 600.0
) -> dict[str, Any]:
    """Wait (polling every ``poll_s``, at most ``max_wait_s``) until the 1-minute load
    average is at most ``limit``; what was seen, for the results."""
    began = time.monotonic()
    seen = [os.getloadavg()]
    while seen[-1][0] > limit and time.monotonic() - began < max_wait_s:
        print(f"load average {seen[-1][0]:.1f} > {limit}: waiting {poll_s:.0f} s ...", flush=True)
        time.sleep(poll_s)
        seen.append(os.getloadavg())
    return {
        "limit": limit,
        "waited_s": time.monotonic() - began,
        "first": seen[0],
        "last": seen[-1],
        "quiet": seen[-1][0] <= limit,
    }


def run_all(
    args: argparse.Namespace, names: list[str], kinds: tuple[str, ...] | None = None
) -> dict[str, Any]:
    run_id = f"jb{int(time.time())}{uuid.uuid4().hex[:4]}_"
    base_time = (int(time.time()) // 60) * 60 * 1000
    config = GeneratorConfig(
        seed=args.seed, events=args.events, rate=args.rate, base_time_ms=base_time
    )
    results: dict[str, Any] = {
        "date": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "config": {
            "events": args.events,
            "seed": args.seed,
            "rate": args.rate,
            "log": args.log,
            "bootstrap": args.bootstrap,
            "repeat": args.repeat,
            "poll_s": POLL_S,
            "tolerance": TOLERANCE,
            "guarantees": _guarantees(args),
            "commit_interval_ms": 100,
            "pycql": _pycql_build(),
        },
        "load_wait": wait_for_quiet() if getattr(args, "wait_load", False) else None,
        "load_average_at_start": os.getloadavg(),
        "queries": {},
    }
    work = Path(tempfile.mkdtemp(prefix="pycql-jobs-bench-"))
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
            results["preload"] = {"counts": dict(zip(TOPICS, _kind_counts(config), strict=True))}
        print("planning ...", flush=True)
        specs: dict[str, Any] = {}
        for name in names:
            try:
                specs[name] = plan_job(name, run_id)
            except Exception as exc:  # reported in the table
                results["queries"][name] = {"error": f"planning: {exc}"}
        for name in names:
            if name in specs:
                print(f"{name} ({specs[name]['sink_kind']}):", flush=True)
                results["queries"][name] = run_query(
                    args, name, specs[name], run_id, config, work, kinds
                )
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


def _short(g: str) -> str:
    return {"exactly_once": "EOS", "at_least_once": "ALOS"}.get(g, g)


def build_table(results: dict[str, Any]) -> list[list[str]]:
    """One row per query and guarantee: the job against the DB-API cursor (the headline:
    the issue's bar) and against the bare runner (the second figure)."""
    header = [
        "query",
        "sink",
        "guarantee",
        "records",
        "DB-API rec/s",
        "job rec/s",
        "x wall",
        "DB-API rec/CPU s",
        "job rec/CPU s",
        "x CPU",
        "within 10%",
        "runner rec/s",
        "x wall vs runner",
        "x CPU vs runner",
        "emitted",
        "written",
        "output",
    ]
    rows = [header]
    for name, r in results["queries"].items():
        if "error" in r:
            rows.append([name, "error: " + r["error"][:80]] + [""] * (len(header) - 2))
            continue
        med = r["medians"]
        d, c = med.get("dbapi", {}), med.get("runner", {})
        for g, je in r["jobs"].items():
            j = med[f"job:{g}"]
            errors = [x.get("error") for x in (d, c, j) if x.get("error")]
            if "error" in j:
                rows.append([name, r["sink_kind"], _short(g), "error: " + j["error"][:80]]
                            + [""] * (len(header) - 4))
                continue
            rows.append(
                [
                    name,
                    r["sink_kind"],
                    _short(g),
                    _fmt(j.get("records")),
                    _fmt(d.get("records_per_s")) if "error" not in d else "error",
                    _fmt(j.get("records_per_s")),
                    _fmt(je.get("ratio_records_per_s_vs_dbapi"), ".2f"),
                    _fmt(d.get("records_per_cpu_s")) if "error" not in d else "error",
                    _fmt(j.get("records_per_cpu_s")),
                    _fmt(je.get("ratio_records_per_cpu_s_vs_dbapi"), ".2f"),
                    "yes" if je["within_10pct_of_dbapi"] else "NO",
                    _fmt(c.get("records_per_s")) if "error" not in c else "error",
                    _fmt(je.get("ratio_records_per_s_vs_runner"), ".2f"),
                    _fmt(je.get("ratio_records_per_cpu_s_vs_runner"), ".2f"),
                    _fmt(r.get("emitted")),
                    _fmt(je.get("written")),
                    ("ok" if r["verified"] else "FAILED")
                    + (f" ({len(errors)} errored)" if errors else ""),
                ]
            )
    return rows


def breakdown_table(results: dict[str, Any]) -> list[list[str]]:
    """Where the job's time goes (medians, seconds): the DB-API cursor's and the runner's
    totals against the job's parts (query = the runner's poll, what the runner does;
    encode; write = the commits; other)."""
    header = [
        "query",
        "guarantee",
        "DB-API wall s",
        "runner wall s",
        "job wall s",
        "query",
        "encode",
        "write",
        "other",
        "DB-API CPU s",
        "runner CPU s",
        "job CPU s",
        "query",
        "encode",
        "write",
        "other",
    ]
    rows = [header]
    for name, r in results["queries"].items():
        if "error" in r:
            continue
        med = r["medians"]
        d, c = med.get("dbapi", {}), med.get("runner", {})
        for g in r["jobs"]:
            j = med[f"job:{g}"]
            parts = j.get("parts")
            if "error" in j or not parts:
                continue
            cells = [name, _short(g)]
            for clock in ("wall_s", "cpu_s"):
                known = sum(parts[p][clock] for p in ("query", "encode", "write"))
                cells += [
                    _fmt(d.get(clock), ".2f"),
                    _fmt(c.get(clock), ".2f"),
                    _fmt(j.get(clock), ".2f"),
                    *(_fmt(parts[p][clock], ".2f") for p in ("query", "encode", "write")),
                    _fmt(max(0.0, j[clock] - known), ".2f"),
                ]
            rows.append(cells)
    return rows


def main_parent(args: argparse.Namespace) -> None:
    names = [q.strip() for q in args.queries.split(",") if q.strip()]
    unknown = [n for n in names if n not in QUERIES]
    if unknown:
        raise SystemExit(f"unknown queries {unknown}; choose from {', '.join(QUERY_ORDER)}")
    with local_broker(args, "jobs-bench-kafka-"):
        results = run_all(args, names)

    rows = build_table(results)
    parts = breakdown_table(results)
    print()
    print(render_text(rows))
    if len(parts) > 1:
        print(
            "\nwhere the job's time goes (medians, seconds; the median of each column on its own):"
        )
        print(render_text(parts))
    cfg, m = results["config"], results["machine"]
    lines = [
        f"- date: {results['date']}",
        f"- machine: {m['cpu']}, {m['cores']} cores, Python {m['python']}, {m['platform']}",
        f"- log: {cfg['log']}; {cfg['events']:,} events (seed {cfg['seed']}); median of "
        f"{cfg['repeat']} runs each, every run in a fresh process; poll/step timeout "
        f"{cfg['poll_s']} s; pycql {cfg.get('pycql') or 'unknown build'}",
        f"- load average (1/5/15 min) at start {_loads(results.get('load_average_at_start'))}, "
        f"at end {_loads(results.get('load_average_at_end'))}",
        f"- guarantees: {', '.join(cfg.get('guarantees') or [])}; commit interval "
        f"{cfg.get('commit_interval_ms')} ms (EOS = exactly_once: one transaction per commit; "
        "ALOS = at_least_once)",
        "- x wall, x CPU (the headline, the issue's bar): job / DB-API cursor "
        "(`pycql.connect`, `execute(query, start='earliest', stop='latest')`, "
        "`fetchmany(10000)` until empty) of input records per wall second and per CPU "
        "second; within 10%: both >= "
        f"{1 - TOLERANCE:.2f}. x ... vs runner: job / bare `QueryRunner(stop='end')` polled "
        "to the end (no DB-API, no rows made into Python values)",
        "- output: the job's output topic read back matches the runner (streams: record "
        "count = emissions; tables: the final table = the runner's final snapshot); the "
        "DB-API cursor's row count matches the runner's",
    ]
    print()
    for line in lines[3:]:
        print("  " + line[2:])
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    name = args.output
    (RESULTS_DIR / f"{name}.json").write_bytes(
        orjson.dumps(results, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS)
    )
    md = ["# Jobs vs DB-API cursors (latest run)", "", *lines, "", render_markdown(rows), ""]
    if len(parts) > 1:
        md += [
            "## Where the job's time goes",
            "",
            "Seconds, medians (each column's own). Of the job: `query` = the runner's "
            "poll (read, decode, operators: what the runner does), `encode` = "
            "`Sink.records` (rows to values, keys, partitions), `write` = `Task.commit` "
            "(the changelog's deltas of the state, then with EOS one transaction of output "
            "and changelog, with ALOS two produces; the final commit at the end included), "
            "`other` = the rest of the step.",
            "",
            render_markdown(parts),
            "",
        ]
    (RESULTS_DIR / f"{name}.md").write_text("\n".join(md))
    print(f"\nwrote {RESULTS_DIR / (name + '.json')} and {RESULTS_DIR / (name + '.md')}")


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.jobs",
        description="A job's throughput against the same query in a cursor "
        "(see benchmarks/README.md).",
    )
    parser.add_argument("--events", type=int, default=300_000)
    parser.add_argument(
        "--queries",
        default=",".join(DEFAULT_QUERIES),
        help=f"comma-separated subset of {','.join(QUERY_ORDER)}",
    )
    parser.add_argument(
        "--bootstrap",
        default=None,
        help="use this Kafka broker (host:port) instead of starting one",
    )
    parser.add_argument(
        "--log",
        choices=("kafka", "memory"),
        default="kafka",
        help="memory: the embedded log, filled inside each process",
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--rate",
        type=int,
        default=10_000,
        help="event-time rate of the pre-loaded events, events/s",
    )
    parser.add_argument(
        "--query-timeout",
        type=float,
        default=900.0,
        help="seconds before a measurement's process is abandoned",
    )
    parser.add_argument(
        "--profile-dir",
        default=None,
        help="after the measured runs, run each query once more each way "
        "under cProfile and write <query>-cursor.prof and "
        "<query>-job.prof here (the job's includes reading its output "
        "back)",
    )
    parser.add_argument(
        "--output", default="jobs", help="results file name under benchmarks/results (default jobs)"
    )
    parser.add_argument(
        "--wait-load",
        action="store_true",
        help="before measuring, wait (up to 10 min, polling every 30 s) until the 1-minute "
        "load average is <= 2.5",
    )
    parser.add_argument(
        "--guarantee",
        choices=("exactly_once", "at_least_once", "both"),
        default="exactly_once",
        help="the job's processing_guarantee (both: a job of each; default exactly_once)",
    )
    parser.add_argument(
        "--child", choices=("runner", "cursor", "dbapi", "job"), help=argparse.SUPPRESS
    )
    parser.add_argument("--job", help=argparse.SUPPRESS)
    parser.add_argument("--profile", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(orjson.dumps(child(args), option=orjson.OPT_NON_STR_KEYS).decode(), flush=True)
        return
    main_parent(args)


if __name__ == "__main__":
    main()
