"""The driver's side of persistent queries (``pycql.jobs``): creating, listing,
terminating and analyzing jobs.

``CREATE STREAM x AS q``, ``CREATE TABLE x AS q`` and ``INSERT INTO s q`` are
planned here, in the client: the job stored in the command log carries the
JSON plan (with each source's time policy), so workers never need the planner.
An embedded database runs its jobs in a worker thread of its own; a Kafka
database's jobs run in ``pycql worker`` processes.
"""

from __future__ import annotations

import datetime as _dt
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pycql.catalog import Column, Stream, Table
from pycql.errors import ProgrammingError
from pycql.jobs.spec import Job, SinkKind, job_id
from pycql.jobs.status import is_fresh, job_state
from pycql.log.base import TopicSpec
from pycql.runtime.eventtime import TIME_OPTIONS, TimePolicy

if TYPE_CHECKING:
    from pycql.driver._database import Database
    from pycql.driver._statements import Envelope, Outcome
    from pycql.driver.connection import Connection
    from pycql.runtime.executor import Executor

#: How a job runs: its guarantee, commit interval, and whether it runs as stages.
_JOB_OPTIONS = {"processing_guarantee", "commit_interval", "stages"}
_STREAM_AS_OPTIONS = {"topic", "format", "partitions", "start", *TIME_OPTIONS, *_JOB_OPTIONS}
_TABLE_AS_OPTIONS = {"topic", "format", "partitions", "start", *_JOB_OPTIONS}
_GUARANTEES = ("exactly_once", "at_least_once")

#: How long TERMINATE waits for the workers to say the job stopped (seconds).
TERMINATE_WAIT_S = 10.0


def _varchar(name: str, nullable: bool = True) -> dict[str, Any]:
    return {"name": name, "type": "VARCHAR", "nullable": nullable}


def _stream_topics(plan: dict[str, Any]) -> list[str]:
    return sorted({
        str(op.get("topic") or op["name"]) for op in plan["operators"]
        if op.get("op") == "source" and op.get("source_kind") != "table"
    })


def _task_count(db: Database, plan: dict[str, Any], partitions: int | None) -> int:
    """How many tasks share a job: one per partition of its inputs when they have one
    partition count (and the output, when asked for, as many partitions) and the plan
    keeps no state, or keeps it per the keys its streams are partitioned by
    (:func:`pycql.jobs.distribution.partition_local`); else one task reads everything."""
    from pycql.jobs.distribution import partition_local
    from pycql.runtime.executor import Executor

    if not Executor(plan).stateless:
        keys: dict[str, list[int]] = {}
        for op in plan["operators"]:
            if op.get("op") != "source" or op.get("source_kind") == "table":
                continue
            entry = db.catalog.find(str(op["name"]))
            if isinstance(entry, Stream) and entry.key:
                names = [c.name for c in entry.columns]
                keys[str(op["name"])] = [names.index(k) for k in entry.key]
        if not partition_local(plan, keys):
            return 1
    counts = {db.log.partitions(t) for t in _stream_topics(plan)}
    if len(counts) != 1:
        return 1
    count = counts.pop()
    if partitions is not None and partitions != count:
        return 1
    return count


def _layout(db: Database, plan: dict[str, Any], partitions: int | None,
            options: dict[str, str]) -> tuple[int, bool]:
    """``(tasks, staged)``: whether the job runs as the stages of its plan
    (:mod:`pycql.jobs.stages`: by default, ``WITH (stages = 'on')``; with ``'off'`` it
    runs as one stage, its exchanges passing their input through) and how many tasks
    run its last stage (those writing its output: one per output partition, or one for
    all of them)."""
    from pycql.jobs.stages import is_staged_plan

    word = options.get("stages", "on").lower()
    if word not in ("on", "off"):
        raise ProgrammingError(f"stages must be 'on' or 'off', not {word!r}")
    if word == "on" and is_staged_plan(plan):
        last = int(plan["stages"][-1]["tasks"])
        return (last if partitions in (None, last) else 1), True
    return _task_count(db, plan, partitions), False


def _start(db: Database, plan: dict[str, Any], word: str | None) -> str | dict[str, int]:
    if word is None or word.lower() == "earliest":
        return "earliest"
    if word.lower() != "latest":
        raise ProgrammingError(f"start must be 'earliest' or 'latest', not {word!r}")
    topics = _stream_topics(plan)
    if not topics:
        return "earliest"
    reader = db.log.reader(topics, "latest")
    try:
        return {f"{t}:{p}": n for (t, p), n in reader.end_offsets().items()}
    finally:
        reader.close()


def _run_options(options: dict[str, str]) -> dict[str, Any]:
    """The job's ``processing_guarantee`` and ``commit_interval`` (a duration)."""
    from pycql.runtime.eventtime import parse_duration

    guarantee = options.get("processing_guarantee", "exactly_once").lower()
    if guarantee not in _GUARANTEES:
        raise ProgrammingError(
            f"processing_guarantee must be 'exactly_once' or 'at_least_once', not {guarantee!r}")
    interval = parse_duration(options.get("commit_interval", "100 ms"), "commit_interval")
    if interval < 1:
        raise ProgrammingError("commit_interval must be at least 1 ms")
    return {"processing_guarantee": guarantee, "commit_interval_ms": interval}


def _new_id(db: Database, kind: SinkKind, sink: str) -> str:
    taken = {j.id.upper() for j in db.catalog.jobs()}
    number = len(taken) + 1
    while job_id(kind, sink, number).upper() in taken:
        number += 1
    return job_id(kind, sink, number)


def _fresh_topic(db: Database, topic: str, partitions: int, compacted: bool) -> bool:
    """Create the job's output topic; an existing one must be empty (a job's output is
    its own: readers of the derived stream or table see what the job wrote and nothing
    else). Returns whether it was created here."""
    if topic in db.log.topics():
        reader = db.log.reader([topic], "earliest")
        try:
            held = sum(reader.end_offsets().values())
        finally:
            reader.close()
        if held:
            raise ProgrammingError(
                f"topic {topic} already holds {held} record(s): a job writes a topic of its "
                "own; name another with WITH (topic = '...')"
            )
        return False
    db.log.create_topic(TopicSpec(topic, partitions, compacted), exist_ok=True)
    return True


def _job_plan(conn: Connection, envelope: Envelope) -> dict[str, Any]:
    from pycql.driver._engine import with_time_policies

    plan = envelope["plan"]
    if plan.get("params"):
        raise ProgrammingError(
            "a persistent query takes no parameters (?): write the values into the query")
    return with_time_policies(conn, plan)


def _register(conn: Connection, job: Job) -> Outcome:
    from pycql.driver._results import RowList
    from pycql.driver._statements import Outcome
    from pycql.jobs.stages import create_stage_topics

    db = conn.database
    create_stage_topics(db.log, job)
    db.catalog.put_job(job)
    db.jobs_started()
    columns = [_varchar("QUERY_ID", False), _varchar("SINK", False), _varchar("TOPIC", False),
               {"name": "TASKS", "type": "INTEGER", "nullable": False}]
    return Outcome(RowList([(job.id, job.sink, job.topic, job.tasks)]), columns, None, 1)


@dataclass
class _Sink:
    """What ``CREATE STREAM|TABLE name AS q`` decides before it creates anything."""

    name: str
    options: dict[str, str]
    plan: dict[str, Any]
    tasks: int
    partitions: int
    topic: str
    columns: tuple[Column, ...]
    staged: bool


def _new_sink(conn: Connection, envelope: Envelope, allowed: set[str],
              what: str) -> _Sink | None:
    """The options, plan, tasks and topic of a new job's output (its topic created),
    or ``None`` for ``IF NOT EXISTS`` of an existing name."""
    from pycql.driver._statements import _options

    db = conn.database
    name = str(envelope["name"])
    db.catalog.refresh()
    if envelope.get("if_not_exists") and db.catalog.find(name) is not None:
        return None
    options = _options(envelope, allowed, what)
    plan = _job_plan(conn, envelope)
    asked = int(options["partitions"]) if "partitions" in options else None
    tasks, staged = _layout(db, plan, asked, options)
    if db.catalog.find(name) is not None:
        raise ProgrammingError(f"{name} already exists")
    return _Sink(name, options, plan, tasks, asked or tasks, options.get("topic", name),
                 tuple(Column.from_json(c) for c in envelope["columns"]), staged)


def _job(conn: Connection, envelope: Envelope, kind: SinkKind, sink: _Sink,
         key: list[str]) -> Job:
    db = conn.database
    return Job(_new_id(db, kind, sink.name), kind, _statement(envelope), sink.name, sink.topic,
               sink.plan, [c.to_json() for c in sink.columns], sink.options["format"], key,
               sink.tasks, _start(db, sink.plan, sink.options.get("start")),
               str(envelope.get("text") or ""), conn.on_error, staged=sink.staged,
               created_ms=int(time.time() * 1000), **_run_options(sink.options))


def create_stream_as(conn: Connection, envelope: Envelope) -> Outcome:
    """``CREATE STREAM name [WITH (...)] AS <stream-valued query>``."""
    from pycql.driver._statements import Outcome

    sink = _new_sink(conn, envelope, _STREAM_AS_OPTIONS, "stream")
    if sink is None:
        return Outcome(rowcount=0)
    time_options = tuple(sorted((k, sink.options[k]) for k in TIME_OPTIONS
                                if k in sink.options))
    TimePolicy().with_options(dict(time_options))
    db = conn.database
    created = _fresh_topic(db, sink.topic, sink.partitions, compacted=False)
    db.catalog.add(Stream(sink.name, sink.columns, sink.topic, None, sink.options["format"],
                          sink.partitions, created, time_options))
    return _register(conn, _job(conn, envelope, "stream", sink, []))


def create_table_as(conn: Connection, envelope: Envelope) -> Outcome:
    """``CREATE TABLE name [WITH (...)] AS <relation-valued query>``."""
    from pycql.driver._statements import Outcome

    sink = _new_sink(conn, envelope, _TABLE_AS_OPTIONS, "table")
    if sink is None:
        return Outcome(rowcount=0)
    db = conn.database
    created = _fresh_topic(db, sink.topic, sink.partitions, compacted=True)
    key = [str(k) for k in envelope.get("key") or []]
    db.catalog.add(Table(sink.name, sink.columns, sink.topic, tuple(key),
                         sink.options["format"], sink.partitions, created))
    return _register(conn, _job(conn, envelope, "table", sink, key))


def insert_query(conn: Connection, envelope: Envelope) -> Outcome:
    """``INSERT INTO stream <stream-valued query>``: a job appending to an existing stream."""
    db = conn.database
    db.catalog.refresh()
    target = db.catalog.find(str(envelope["target"]))
    if not isinstance(target, Stream):
        raise ProgrammingError(f"{envelope['target']} is not a stream")
    check_writable(db, target.name)
    plan = _job_plan(conn, envelope)
    if target.topic in _stream_topics(plan):
        raise ProgrammingError(
            f"INSERT INTO {target.name} reads {target.name} itself: its output would be its "
            "input again, without end")
    count = db.log.partitions(target.topic)
    tasks, staged = _layout(db, plan, count, {})
    job = Job(_new_id(db, "insert", target.name), "insert", _statement(envelope), target.name,
              target.topic, plan, [c.to_json() for c in target.columns], target.format, [],
              tasks, "earliest", str(envelope.get("text") or ""), conn.on_error,
              staged=staged, created_ms=int(time.time() * 1000))
    return _register(conn, job)


def _statement(envelope: Envelope) -> str:
    return str(envelope.get("sql") or envelope.get("query") or "")


# -- rules other statements follow ------------------------------------------------------
def writer_of(db: Database, name: str) -> Job | None:
    """The live CREATE STREAM/TABLE AS job whose output ``name`` is, if any."""
    for job in db.catalog.jobs():
        if job.live and job.sink_kind != "insert" and job.sink.upper() == name.upper():
            return job
    return None


def check_writable(db: Database, name: str) -> None:
    """INSERT, UPSERT and DELETE cannot write to the output of a job."""
    job = writer_of(db, name)
    if job is not None:
        raise ProgrammingError(
            f"{job.sink} is written by query {job.id} ({job.statement}); only that query "
            f"writes to it. TERMINATE {job.id} first to write to it yourself"
        )


def check_droppable(db: Database, name: str) -> None:
    """DROP refuses a stream or table a live job writes to or reads."""
    for job in db.catalog.jobs():
        if not job.live:
            continue
        if job.sink.upper() == name.upper():
            raise ProgrammingError(
                f"cannot drop {name}: query {job.id} writes to it (TERMINATE {job.id} first)")
        reads = {str(op["name"]).upper() for op in job.plan.get("operators", [])
                 if op.get("op") == "source"}
        if name.upper() in reads:
            raise ProgrammingError(
                f"cannot drop {name}: query {job.id} reads it (TERMINATE {job.id} first)")


# -- TERMINATE ----------------------------------------------------------------------------
def terminate(conn: Connection, envelope: Envelope) -> Outcome:
    """``TERMINATE id`` / ``TERMINATE ALL``: the job stops everywhere; this returns once the
    workers running it have said so (at most ``TERMINATE_WAIT_S``)."""
    from pycql.driver._statements import Outcome

    db = conn.database
    db.catalog.refresh()
    if envelope.get("all"):
        targets = [j for j in db.catalog.jobs() if j.live]
    else:
        qid = str(envelope["query_id"])
        job = db.catalog.job(qid)
        if job is None:
            raise ProgrammingError(f"there is no query {qid}: SHOW QUERIES lists them")
        targets = [job] if job.status != "TERMINATED" else []
    for job in targets:
        db.catalog.put_job(job.with_status("TERMINATED", job.error))  # a failure stays told
    db.jobs_terminated([j.id for j in targets])
    _wait_until_stopped(db, [j.id for j in targets])
    return Outcome(rowcount=len(targets))


def _wait_until_stopped(db: Database, ids: list[str]) -> None:
    if not ids:
        return
    board = db.status_board()
    deadline = time.monotonic() + TERMINATE_WAIT_S
    while time.monotonic() < deadline:
        board.refresh()
        running = [r for i in ids for r in board.tasks(i)
                   if is_fresh(r) and r.get("state") in ("RUNNING", "RESTARTING")]
        if not running:
            return
        time.sleep(0.05)


# -- SHOW QUERIES -------------------------------------------------------------------------
SHOW_QUERIES_COLUMNS = [
    _varchar("QUERY_ID", False), _varchar("STATUS", False), _varchar("KIND", False),
    _varchar("SINK"), _varchar("WORKERS"),
    {"name": "TASKS", "type": "INTEGER", "nullable": False},
    {"name": "LAG", "type": "BIGINT", "nullable": True},
    {"name": "STARTED", "type": "TIMESTAMP", "nullable": False},
    _varchar("STATEMENT", False), _varchar("ERROR"),
]


def show_queries(db: Database) -> list[tuple[Any, ...]]:
    """Every job of the database (the cluster, for Kafka), then this process's
    continuous cursor queries (``KIND`` ``cursor``)."""
    db.catalog.refresh()
    board = db.status_board()
    board.refresh()
    rows: list[tuple[Any, ...]] = []
    for job in db.catalog.jobs():
        reports = board.tasks(job.id)
        state, workers = job_state(job.status, reports)
        live = [r for r in reports if is_fresh(r) and "lag" in r]
        lag = sum(int(r["lag"]) for r in live) if live else None
        error = job.error or next((r.get("last_error") for r in reports
                                   if r.get("last_error") and state != "RUNNING"), None)
        rows.append((job.id, state, job.sink_kind, job.sink, ", ".join(workers) or None,
                     job.tasks, lag, _utc(job.created_ms / 1000), job.statement, error))
    for q in db.running_queries():
        rows.append((f"CURSOR_{q.query_id}", "RUNNING", "cursor", None, None, 1, None,
                     _utc(q.started), q.sql, None))
    return rows


def _task_label(report: dict[str, Any]) -> str:
    """``3``, or ``1.3`` for task 3 of stage 1 of a multi-stage job."""
    stage = report.get("stage")
    return str(report.get("task")) if stage is None else f"{stage}.{report.get('task')}"


def _utc(seconds: float) -> _dt.datetime:
    return _dt.datetime.fromtimestamp(seconds, _dt.UTC).replace(tzinfo=None)


# -- EXPLAIN ANALYZE <id> -----------------------------------------------------------------
def explain_analyze_job(db: Database, query_id: str) -> list[str]:
    """The job's plan with the live figures of each operator (summed over its tasks),
    then each task's: rates, lag per input partition, watermark and its lag behind the
    newest input, state size, commit latency."""
    db.catalog.refresh()
    job = db.catalog.job(query_id)
    if job is None:
        raise ProgrammingError(f"there is no query {query_id}: SHOW QUERIES lists them")
    board = db.status_board()
    board.refresh()
    reports = board.tasks(job.id)
    state, workers = job_state(job.status, reports)
    fresh = [r for r in reports if is_fresh(r) and "operators" in r] or [
        r for r in reports if "operators" in r]
    lines = [f"Query {job.id}: {state}  sink={job.sink_kind} {job.sink} (topic {job.topic})  "
             f"tasks={job.tasks}  workers={', '.join(workers) or '-'}",
             f"  {job.statement}"]
    if job.error:
        lines.append(f"  error: {job.error}")
    lines += ["", "Plan (live figures summed over the tasks):"]
    lines += plan_lines(job.plan, fresh, _stage_operators(job))
    lines += ["", "Tasks:"]
    if not reports:
        lines.append("  no task has reported yet (is a worker running? `pycql worker "
                     "--connect kafka://HOST:PORT`)")
    for r in reports:
        wm, newest = r.get("watermark"), r.get("newest")
        behind = "-" if wm is None or newest is None else f"{max(0, newest - wm)} ms"
        lags = ", ".join(f"{k}={v}" for k, v in (r.get("lag_by_partition") or {}).items())
        age = (time.time() * 1000 - int(r.get("updated_ms", 0))) / 1000
        lines.append(
            f"  task {_task_label(r)} on {r.get('worker')}: {r.get('state')} "
            f"(reported {age:.1f} s ago)  in={r.get('records_in', 0)} "
            f"({r.get('in_per_s', 0)} rows/s)  out={r.get('records_out', 0)} "
            f"({r.get('out_per_s', 0)} rows/s)")
        lines.append(
            f"    watermark={wm} newest={newest} watermark lag={behind}  "
            f"consumer lag={r.get('lag', '-')} [{lags}]")
        lines.append(
            f"    state={r.get('state_entries', 0)} entries, {r.get('state_bytes', 0)} bytes  "
            f"commit latency={r.get('commit_ms')} ms  late={r.get('late_records', 0)} "
            f"malformed={r.get('malformed_records', 0)} "
            f"expression_errors={r.get('expression_errors', 0)} "
            f"restarts={r.get('restarts', 0)}")
        lines.append(
            f"    {r.get('processing_guarantee', '-')}: commits={r.get('commits', 0)} "
            f"uncommitted={r.get('uncommitted', 0)} every "
            f"{r.get('commit_interval_ms', '-')} ms, last {r.get('changelog_records', 0)} "
            f"changelog records ({r.get('changelog_bytes', 0)} bytes)  restored "
            f"{r.get('restored_pieces', 0)} pieces in {r.get('restore_s', 0)} s")
        if r.get("last_error"):
            lines.append(f"    last error: {r['last_error']}")
    return lines


def _stage_operators(job: Job) -> dict[int, set[int]] | None:
    """For a job run as stages, the operators each stage runs itself, by stage id: a
    downstream stage reads an exchange through a source under the exchange's id, whose
    figures (the rows read back) must not be added to the exchange's (the rows written)."""
    from pycql.jobs.stages import job_stages

    stages = job_stages(job)
    if len(stages) < 2:
        return None
    return {stage.id: {int(op["id"]) for op in stage.plan["operators"]
                       if not (op["op"] == "source" and "exchange" in op)}
            for stage in stages}


def plan_lines(plan: dict[str, Any], reports: list[dict[str, Any]],
               owned: dict[int, set[int]] | None = None) -> list[str]:
    """The plan as a tree with each operator's figures summed over ``reports``; with
    ``owned`` (:func:`_stage_operators`) a stage's report counts only its own operators."""
    specs = {op["id"]: op for op in plan.get("operators", [])}
    figures: dict[int, dict[str, float]] = {}
    for r in reports:
        mine = None if owned is None else owned.get(int(r.get("stage", 0)))
        for o in r.get("operators") or []:
            if mine is not None and int(o["id"]) not in mine:
                continue
            f = figures.setdefault(int(o["id"]), {})
            for k in ("rows_out", "rows_per_s", "state_bytes", "state_entries"):
                f[k] = f.get(k, 0) + (o.get(k) or 0)
    lines: list[str] = []

    def walk(op_id: int, depth: int) -> None:
        spec = specs[op_id]
        f = figures.get(op_id, {})
        ins = [figures.get(i, {}).get("rows_out", 0) for i in spec.get("inputs", [])]
        stateful = f.get("state_bytes", 0) or f.get("state_entries", 0)
        state = (f"  state={int(f.get('state_entries', 0))} entries "
                 f"{int(f.get('state_bytes', 0))} bytes") if stateful else ""
        rows_in = f"in={int(sum(ins))} " if ins else ""
        lines.append(f"  {'  ' * depth}{_describe(spec)}  {rows_in}out={int(f.get('rows_out', 0))}"
                     f" ({f.get('rows_per_s', 0):g} rows/s){state}")
        for i in spec.get("inputs", []):
            walk(i, depth + 1)

    if plan.get("root") in specs:
        walk(plan["root"], 0)
    return lines


def operator_report(executor: Executor, seconds: float) -> dict[str, Any]:
    """What a task reports of its operators, for a finished ad-hoc run of ``seconds``."""
    from pycql.jobs.task import state_sizes

    sizes, entries = state_sizes(executor)
    specs = executor.plan["operators"]
    return {"operators": [
        {"id": spec["id"], "rows_out": executor.rows_out[k],
         "rows_per_s": round(executor.rows_out[k] / max(seconds, 1e-6), 1),
         "state_bytes": sizes.get(spec["id"]), "state_entries": entries.get(spec["id"])}
        for k, spec in enumerate(specs)
    ]}


def _describe(spec: dict[str, Any]) -> str:
    kind = str(spec.get("op"))
    word = "".join(part.capitalize() for part in kind.split("_"))
    if kind == "source":
        return f"Source({spec.get('source_kind', 'stream')} {spec.get('name')})"
    window = spec.get("window")
    if isinstance(window, dict):
        size = window.get("range_ms") or window.get("rows")
        return f"{word}({window.get('kind')}{'' if size is None else f' {size}'})"
    group = spec.get("group")
    if group is not None:
        return f"{word}(group={group})"
    return word
