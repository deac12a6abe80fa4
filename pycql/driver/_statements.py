"""Carrying out the planner's statement envelopes (``docs/plan-json.md``).

One function per ``statement`` kind; each returns an :class:`Outcome` for the
cursor: a result to fetch from (queries, EXPLAIN, SHOW, DESCRIBE) or a row
count (INSERT, DELETE, DDL).
"""

from __future__ import annotations

import datetime as _dt
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from pycql.catalog import Catalog, Column, Stream, Table, View
from pycql.driver import _jobs
from pycql.driver._progress import ProgressCallback, ProgressReporter
from pycql.driver._results import ContinuousResult, Result, RowList
from pycql.driver._types import row_converter, to_engine
from pycql.errors import (
    IntegrityError,
    NotSupportedError,
    ProgrammingError,
)
from pycql.runtime.eventtime import TIME_OPTIONS, TimePolicy

if TYPE_CHECKING:
    from pycql.driver._database import Database
    from pycql.driver._tables import TableState
    from pycql.driver.connection import Connection

Row = tuple[Any, ...]
Envelope = dict[str, Any]
StartStop = str | int | _dt.datetime | dict[int, int] | None

_STREAM_OPTIONS = {"topic", "format", "timestamp", "partitions", "key", *TIME_OPTIONS}
_TABLE_OPTIONS = {"topic", "format", "partitions"}
_FORMATS = ("json", "csv")


@dataclass
class Outcome:
    """What a statement left for its cursor."""

    result: Result | None = None
    columns: list[dict[str, Any]] | None = None
    kind: str | None = None
    rowcount: int = -1


def _varchar(name: str, nullable: bool = True) -> dict[str, Any]:
    return {"name": name, "type": "VARCHAR", "nullable": nullable}


def _rows_outcome(columns: list[dict[str, Any]], rows: list[Row]) -> Outcome:
    return Outcome(RowList(rows), columns, None, len(rows))


# -- dispatch ----------------------------------------------------------------------
def execute(
    conn: Connection,
    envelope: Envelope,
    sql: str,
    params: tuple[Any, ...],
    *,
    start: StartStop,
    stop: StartStop,
    deadline: float | None,
    include_rowtime: bool,
    progress: ProgressCallback | None = None,
) -> Outcome:
    """Carry out one planned statement. ``progress`` hears how far a query (or
    ``EXPLAIN ANALYZE``) has read its inputs."""
    kind = envelope.get("statement")
    analyze = kind == "explain" and bool(envelope.get("analyze"))
    if kind != "query" and not analyze and (start is not None or stop is not None):
        raise ProgrammingError(f"start= and stop= apply to queries, not to {str(kind).upper()}")
    if kind == "query":
        return _query(conn, envelope["plan"], sql, params, start, stop, deadline, include_rowtime,
                      ProgressReporter(progress))
    if analyze and envelope.get("query_id"):
        _no_params(params, "explain analyze")
        lines = _jobs.explain_analyze_job(conn.database, str(envelope["query_id"]))
        return _rows_outcome([_varchar("PLAN", nullable=False)], [(line,) for line in lines])
    if analyze:
        return _explain_analyze(conn, envelope, params, start, stop, deadline,
                                ProgressReporter(progress))
    if kind == "explain":
        _no_params(params, kind)
        return _explain(envelope, sql)
    if kind in ("insert", "delete"):
        return Outcome(rowcount=execute_many_writes(conn, envelope, sql, [params]))
    if kind == "heartbeat":
        return Outcome(rowcount=_heartbeat(conn.database, envelope, params, conn))
    job_handler = _JOBS.get(str(kind))
    if job_handler is not None:
        _no_params(params, str(kind).replace("_", " "))
        return job_handler(conn, {**envelope, "sql": sql})
    handler = _DDL.get(str(kind))
    if handler is None:
        raise NotSupportedError(f"the driver cannot carry out {kind!r} statements")
    _no_params(params, str(kind))
    return handler(conn.database, envelope)


def _no_params(params: tuple[Any, ...], kind: str) -> None:
    if params:
        raise ProgrammingError(
            f"{kind.upper()} takes no parameters, but {len(params)} were given"
        )


# -- queries -------------------------------------------------------------------------
def bind_params(declared: Sequence[dict[str, Any]], params: tuple[Any, ...]) -> list[Any]:
    """Check the count of ``params`` against the ``?`` of the statement; convert each."""
    if len(params) != len(declared):
        raise ProgrammingError(
            f"the statement has {len(declared)} parameter(s) (?) but "
            f"{len(params)} value(s) were given"
        )
    by_index = sorted(declared, key=lambda p: int(p.get("index", 0)))
    return [
        to_engine(v, str(p.get("type", "ANY")), precision=p.get("precision"),
                  scale=p.get("scale"), what=_param_name(p))
        for v, p in zip(params, by_index, strict=True)
    ]


def _param_name(param: dict[str, Any]) -> str:
    """How an error names a parameter: ``parameter 2 (column V)``."""
    where = f" (column {param['column']})" if param.get("column") else ""
    return f"parameter {int(param.get('index', 0)) + 1}{where}"


def _query(
    conn: Connection,
    plan: dict[str, Any],
    sql: str,
    params: tuple[Any, ...],
    start: StartStop,
    stop: StartStop,
    deadline: float | None,
    include_rowtime: bool,
    progress: ProgressReporter,
) -> Outcome:
    from pycql.driver import _engine

    db = conn.database
    values = bind_params(plan.get("params") or [], params)
    result_kind = plan["result"]["kind"]
    columns = list(plan["result"]["columns"])
    convert = row_converter([str(c["type"]) for c in columns])
    if result_kind == "stream":
        runner = _engine.start_stream(conn, plan, values, start, stop)
        registered = db.register_query(sql, "stream")
        result = ContinuousResult(
            runner,
            convert=convert,
            bounded=stop is not None,
            deadline=deadline,
            include_rowtime=include_rowtime,
            on_end=lambda: db.unregister_query(registered.query_id),
            progress=progress,
        )
        if include_rowtime:
            columns.append({"name": "ROWTIME", "type": "TIMESTAMP", "nullable": False})
        return Outcome(result, columns, "stream")
    rows, instant, metrics = _engine.snapshot(conn, plan, values, start, stop, deadline,
                                              progress)
    if convert is not None:
        rows = list(map(convert, rows))
    return Outcome(RowList(rows, instant, metrics, progress.last), columns, "relation",
                   len(rows))


def _explain(envelope: Envelope, sql: str = "") -> Outcome:
    """``EXPLAIN PLAN [AS TEXT|JSON|DOT] FOR q``: text is one row a line, JSON and DOT
    one row; any other format (``AS XML``) is an error at the format word."""
    columns = [_varchar("PLAN", nullable=False)]
    fmt = str(envelope.get("format") or "text").lower()
    if fmt == "json":
        text = orjson.dumps(envelope["plan"], option=orjson.OPT_INDENT_2).decode()
        return _rows_outcome(columns, [(text,)])
    if fmt == "dot":
        from pycql.driver._dot import plan_to_dot

        return _rows_outcome(columns, [(plan_to_dot(envelope["plan"]),)])
    if fmt != "text":
        import re

        where: dict[str, Any] = {}
        m = re.search(r"\bAS\s+(\w+)\s+FOR\b", sql, re.IGNORECASE)
        if m:
            before = sql[: m.start(1)]
            line = before.count("\n") + 1
            column = m.start(1) - (before.rfind("\n") + 1) + 1
            where = {"line": line, "column": column, "end_line": line,
                     "end_column": column + len(m.group(1)) - 1, "sql": sql}
        raise ProgrammingError(
            f"EXPLAIN PLAN AS {fmt.upper()} is not supported: use TEXT, JSON or DOT", **where
        )
    return _rows_outcome(columns, [(line,) for line in str(envelope["text"]).splitlines()])


def _explain_analyze(
    conn: Connection,
    envelope: Envelope,
    params: tuple[Any, ...],
    start: StartStop,
    stop: StartStop,
    deadline: float | None,
    progress: ProgressReporter,
) -> Outcome:
    """``EXPLAIN ANALYZE q``: run q bounded (``start``/``stop``, by default its inputs as
    they are now, from the beginning) and return its plan followed by what each source
    and the query did: records read, late, malformed and future records with the time
    policy that judged them, heartbeats, rows an expression failed on, the watermark."""
    from pycql.driver import _engine
    from pycql.runtime.eventtime import format_duration

    plan = envelope["plan"]
    values = bind_params(plan.get("params") or [], params)
    began, cpu = time.perf_counter(), time.process_time()
    runner, emitted = _engine.run_bounded(conn, plan, values, start, stop, deadline, progress)
    elapsed, cpu = time.perf_counter() - began, time.process_time() - cpu
    m = runner.metrics
    lines = str(envelope["text"]).splitlines()
    lines += ["", "Operators (rows out, rate over the run, state at the end):"]
    lines += _jobs.plan_lines(runner.executor.plan,
                              [_jobs.operator_report(runner.executor, elapsed)])
    lines += ["", "Sources:"]
    for name, s in m.sources.items():
        p = s.policy
        future = "none" if p.max_future_ms is None else format_duration(p.max_future_ms)
        lines.append(
            f"  {name}: records={s.records_in} late={s.late_records} "
            f"malformed={s.malformed_records} (future={s.future_records}) "
            f"heartbeats={s.heartbeats}  lateness={format_duration(p.lateness_ms)} "
            f"idle_timeout={format_duration(p.idle_timeout_ms)} idle_advance={p.idle_advance} "
            f"max_future={future}"
        )
        if s.last_reason:
            lines.append(f"    last set aside: {s.last_reason}")
    result_kind = plan["result"]["kind"]
    shown = f"rows={len(runner.snapshot())} " if result_kind == "relation" else ""
    lines += [
        "Query:",
        f"  {result_kind}: emitted={emitted} {shown}expression_errors={m.expression_errors} "
        f"deferred_table_changes={m.deferred_table_changes} watermark={m.watermark}",
        f"  time: {elapsed * 1000:.1f} ms wall, {cpu * 1000:.1f} ms CPU",
    ]
    columns = [_varchar("PLAN", nullable=False)]
    return Outcome(RowList([(line,) for line in lines], None, m, progress.last), columns, None,
                   len(lines))


# -- DDL ---------------------------------------------------------------------------
def _options(envelope: Envelope, allowed: set[str], what: str) -> dict[str, str]:
    options = {str(k).lower(): str(v) for k, v in (envelope.get("options") or {}).items()}
    unknown = sorted(set(options) - allowed)
    if unknown:
        raise ProgrammingError(
            f"unknown {what} option(s) {', '.join(unknown)}; the options are "
            f"{', '.join(sorted(allowed))}"
        )
    fmt = options.get("format", "json").lower()
    if fmt not in _FORMATS:
        raise ProgrammingError(f"unknown format {fmt!r}: use 'json' or 'csv'")
    options["format"] = fmt
    if "partitions" in options:
        try:
            count = int(options["partitions"])
        except ValueError:
            count = 0
        if count < 1:
            raise ProgrammingError(
                f"partitions must be a positive whole number, not {options['partitions']!r}"
            )
    return options


def _columns(envelope: Envelope) -> tuple[Column, ...]:
    return tuple(Column.from_json(c) for c in envelope.get("columns") or [])


def _create_topic(db: Database, topic: str, partitions: int, compacted: bool) -> bool:
    """Create ``topic`` if missing; return whether it was created here."""
    from pycql.log.base import TopicSpec

    existed = topic in db.log.topics()
    if not existed:
        db.log.create_topic(TopicSpec(topic, partitions, compacted), exist_ok=True)
    return not existed


def _create_stream(db: Database, envelope: Envelope) -> Outcome:
    name = str(envelope["name"])
    if envelope.get("if_not_exists") and db.catalog.find(name) is not None:
        return Outcome(rowcount=0)
    options = _options(envelope, _STREAM_OPTIONS, "stream")
    columns = _columns(envelope)
    timestamp = options.get("timestamp")
    if timestamp is not None:
        matches = [c for c in columns if c.name == timestamp] or [
            c for c in columns if c.name.upper() == timestamp.upper()
        ]
        if len(matches) != 1:
            raise ProgrammingError(
                f"timestamp column {timestamp!r} is not a column of stream {name}"
            )
        if matches[0].type not in ("TIMESTAMP", "BIGINT"):
            raise ProgrammingError(
                f"timestamp column {matches[0].name} must be a TIMESTAMP "
                f"(or BIGINT epoch milliseconds), not {matches[0].type}"
            )
        timestamp = matches[0].name
    if db.catalog.find(name) is not None:
        raise ProgrammingError(f"{name} already exists")
    time_options = tuple(sorted((k, options[k]) for k in TIME_OPTIONS if k in options))
    TimePolicy().with_options(dict(time_options))  # a bad value is an error now, not later
    topic = options.get("topic", name)
    partitions = int(options.get("partitions", "1"))
    created = _create_topic(db, topic, partitions, compacted=False)
    stream = Stream(name, columns, topic, timestamp, options["format"], partitions, created,
                    time_options, stream_key(name, columns, options.get("key")))
    db.catalog.add(stream)
    return Outcome(rowcount=0)


def stream_key(name: str, columns: Sequence[Column], given: str | None) -> tuple[str, ...]:
    """The columns of ``WITH (key = 'a, b')``, spelled as the stream spells them."""
    if not given:
        return ()
    out = []
    for word in (w.strip() for w in given.split(",")):
        found = [c.name for c in columns if c.name == word] or [
            c.name for c in columns if c.name.upper() == word.upper()]
        if len(found) != 1:
            raise ProgrammingError(f"key column {word!r} is not a column of stream {name}")
        out.append(found[0])
    return tuple(out)


def _create_table(db: Database, envelope: Envelope) -> Outcome:
    name = str(envelope["name"])
    if envelope.get("if_not_exists") and db.catalog.find(name) is not None:
        return Outcome(rowcount=0)
    options = _options(envelope, _TABLE_OPTIONS, "table")
    columns = _columns(envelope)
    if db.catalog.find(name) is not None:
        raise ProgrammingError(f"{name} already exists")
    topic = options.get("topic", name)
    partitions = int(options.get("partitions", "1"))
    created = _create_topic(db, topic, partitions, compacted=True)
    key = tuple(str(k) for k in envelope.get("primary_key") or ())
    # a primary key is NOT NULL, whatever the column definition said
    columns = tuple(
        Column(c.name, c.type, False, c.precision, c.scale) if c.name in key else c
        for c in columns
    )
    table = Table(name, columns, topic, key, options["format"], partitions, created)
    db.catalog.add(table)
    return Outcome(rowcount=0)


def _create_view(db: Database, envelope: Envelope) -> Outcome:
    view = View(
        str(envelope["name"]),
        str(envelope["query"]),
        _columns(envelope),
        str(envelope.get("kind") or "relation"),
    )
    db.catalog.add(view, replace=bool(envelope.get("or_replace")))
    return Outcome(rowcount=0)


def _drop(db: Database, envelope: Envelope) -> Outcome:
    from pycql import planner

    kind = str(envelope["object"])
    name = str(envelope["name"])
    catalog: Catalog = db.catalog
    catalog.refresh()
    entry = catalog.find(name)
    if entry is None:
        if envelope.get("if_exists"):
            return Outcome(rowcount=0)
        raise ProgrammingError(f"{kind} {name} does not exist")
    _jobs.check_droppable(db, entry.name)
    remaining = catalog.planner_json_without(entry.name)
    for view in catalog.views():
        if view.name == entry.name:
            continue
        try:
            planner.analyze(view.query, remaining)
        except ProgrammingError:
            raise ProgrammingError(
                f"cannot drop {kind} {entry.name}: view {view.name} uses it "
                f"(drop view {view.name} first)"
            ) from None
    dropped = catalog.drop(kind, entry.name)
    state = db.tables.pop(dropped.name, None)
    if state is not None:
        state.close()
    if isinstance(dropped, Stream | Table) and dropped.owns_topic:
        in_use = any(
            isinstance(e, Stream | Table) and e.topic == dropped.topic for e in catalog.entries()
        )
        if not in_use and dropped.topic in db.log.topics():
            db.log.delete_topic(dropped.topic)
    return Outcome(rowcount=0)


def _show(db: Database, envelope: Envelope) -> Outcome:
    what = str(envelope["what"]).lower()
    catalog = db.catalog
    catalog.refresh()
    if what == "streams":
        columns = [_varchar("NAME", False), _varchar("TOPIC", False),
                   {"name": "PARTITIONS", "type": "INTEGER", "nullable": False},
                   _varchar("FORMAT", False), _varchar("TIMESTAMP")]
        rows: list[Row] = [
            (s.name, s.topic, s.partitions, s.format, s.timestamp)
            for s in sorted(catalog.streams(), key=lambda e: e.name)
        ]
    elif what == "tables":
        columns = [_varchar("NAME", False), _varchar("TOPIC", False),
                   {"name": "PARTITIONS", "type": "INTEGER", "nullable": False},
                   _varchar("FORMAT", False), _varchar("PRIMARY_KEY")]
        rows = [
            (t.name, t.topic, t.partitions, t.format, ", ".join(t.primary_key) or None)
            for t in sorted(catalog.tables(), key=lambda e: e.name)
        ]
    elif what == "views":
        columns = [_varchar("NAME", False), _varchar("KIND", False), _varchar("QUERY", False)]
        rows = [
            (v.name, v.view_kind, v.query) for v in sorted(catalog.views(), key=lambda e: e.name)
        ]
    elif what == "queries":
        columns = _jobs.SHOW_QUERIES_COLUMNS
        rows = _jobs.show_queries(db)
    else:
        raise NotSupportedError(f"SHOW {what.upper()} is not supported")
    return _rows_outcome(columns, rows)


def _describe(db: Database, envelope: Envelope) -> Outcome:
    name = str(envelope["name"])
    db.catalog.refresh()
    entry = db.catalog.find(name)
    if entry is None:
        raise ProgrammingError(
            f"{name} does not exist: SHOW STREAMS, TABLES or VIEWS lists what does"
        )
    columns = [_varchar("COLUMN_NAME", False), _varchar("TYPE", False),
               {"name": "NULLABLE", "type": "BOOLEAN", "nullable": False}, _varchar("KEY")]
    rows: list[Row] = []
    for column in entry.columns:
        role = None
        if isinstance(entry, Table) and column.name in entry.primary_key:
            role = "PRIMARY KEY"
        elif isinstance(entry, Stream) and column.name == entry.timestamp:
            role = "TIMESTAMP"
        elif isinstance(entry, Stream) and column.name in entry.key:
            role = "KEY"
        rows.append((column.name, column.type_text(), column.nullable, role))
    return _rows_outcome(columns, rows)


#: The statements of persistent queries (:mod:`pycql.driver._jobs`).
_JOBS: dict[str, Callable[[Connection, Envelope], Outcome]] = {
    "create_stream_as": _jobs.create_stream_as,
    "create_table_as": _jobs.create_table_as,
    "insert_query": _jobs.insert_query,
    "terminate": _jobs.terminate,
}

_DDL: dict[str, Callable[[Database, Envelope], Outcome]] = {
    "create_stream": _create_stream,
    "create_table": _create_table,
    "create_view": _create_view,
    "drop": _drop,
    "show": _show,
    "describe": _describe,
}


# -- INSERT, UPSERT, DELETE ----------------------------------------------------------
def _param_types(node: Any, found: dict[int, dict[str, Any]]) -> None:
    """Collect ``index -> {"type", "precision", "scale"}`` of every ``{"kind": "param"}``
    inside ``node``."""
    if isinstance(node, dict):
        if node.get("kind") == "param":
            found.setdefault(int(node["index"]), {
                "type": str(node.get("type", "ANY")),
                "precision": node.get("precision"),
                "scale": node.get("scale"),
            })
        for value in node.values():
            _param_types(value, found)
    elif isinstance(node, list):
        for value in node:
            _param_types(value, found)


def _params_as_inputs(node: Any) -> Any:
    """The expression with each parameter ``?i`` read as field ``i`` of an input row.

    Compiling once and calling with each parameter set as the row evaluates
    ``executemany`` without compiling per set.
    """
    if isinstance(node, dict):
        if node.get("kind") == "param":
            return {**node, "kind": "input"}
        return {k: _params_as_inputs(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_params_as_inputs(v) for v in node]
    return node


def _declared_params(envelope: Envelope) -> list[dict[str, Any]]:
    found: dict[int, dict[str, Any]] = {}
    for member in ("rows", "condition", "timestamp", "timestamps"):
        _param_types(envelope.get(member), found)
    # A parameter the planner folded away (COALESCE(1, ?)) leaves a gap: it still takes
    # a value, of any type, which nothing reads.
    count = max(found) + 1 if found else 0
    unused = {"type": "ANY", "precision": None, "scale": None}
    columns = _param_columns(envelope)
    return [
        {"index": i, **found.get(i, unused), "column": columns.get(i)} for i in range(count)
    ]


def _param_columns(envelope: Envelope) -> dict[int, str]:
    """Which target column each parameter of an INSERT fills, where one does directly
    (``?`` or ``CAST(? AS type)``), for error messages."""
    names = envelope.get("columns") or []
    out: dict[int, str] = {}
    for row in envelope.get("rows") or []:
        for name, expr in zip(names, row, strict=False):
            while isinstance(expr, dict) and expr.get("op") == "CAST" and expr.get("operands"):
                expr = expr["operands"][0]
            if isinstance(expr, dict) and expr.get("kind") == "param":
                out.setdefault(int(expr["index"]), str(name))
    return out


def _target(db: Database, envelope: Envelope) -> Stream | Table:
    name = str(envelope["target"])
    entry = db.catalog.find(name)
    if entry is None:
        raise ProgrammingError(f"{name} does not exist")
    if isinstance(entry, View):
        raise ProgrammingError(f"{entry.name} is a view: views cannot be written to")
    return entry


def _table_state(db: Database, table: Table) -> TableState:
    from pycql.driver._tables import TableState
    from pycql.log.formats import make_decoder

    with db._lock:
        state = db.tables.get(table.name)
        if state is None or state.table != table:
            if state is not None:
                state.close()
            decode = make_decoder([c.to_json() for c in table.columns], table.format)
            state = TableState(db.log, table, decode)
            db.tables[table.name] = state
        return state


def execute_many_writes(
    conn: Connection, envelope: Envelope, sql: str, param_sets: Sequence[tuple[Any, ...]]
) -> int:
    """Carry out an INSERT/UPSERT/DELETE once per parameter set; return the rows affected.

    All the records go to the log in one batch.
    """
    db = conn.database
    db.catalog.refresh()
    target = _target(db, envelope)
    _jobs.check_writable(db, target.name)
    declared = _declared_params(envelope)
    bound = [bind_params(declared, p) for p in param_sets]
    if envelope["statement"] == "delete":
        return _delete(db, envelope, target, bound, conn)
    return _insert(db, envelope, target, declared, bound, conn)


def _insert(
    db: Database,
    envelope: Envelope,
    target: Stream | Table,
    declared: list[dict[str, Any]],
    bound: list[list[Any]],
    conn: Connection | None = None,
) -> int:
    from pycql.runtime.expr import compile_row

    names = [c.name for c in target.columns]
    positions = []
    for column in envelope["columns"]:
        if column not in names:
            raise ProgrammingError(f"{target.name} has no column {column}")
        positions.append(names.index(column))
    param_columns = [{"name": f"?{p['index']}", "type": p["type"]} for p in declared]
    row_fns = [
        compile_row(_params_as_inputs(exprs), param_columns) for exprs in envelope["rows"]
    ]
    ts_fns = _timestamp_fns(envelope, param_columns)
    width = len(names)
    rows: list[list[Any]] = []
    explicit_ts: list[Any] = []
    for values in bound:
        args = tuple(values)
        for fn, ts_fn in zip(row_fns, ts_fns, strict=True):
            given = fn(args)
            if len(given) != len(positions):
                raise ProgrammingError(
                    f"{len(given)} value(s) for {len(positions)} column(s) of {target.name}"
                )
            row: list[Any] = [None] * width
            for pos, value in zip(positions, given, strict=True):
                row[pos] = value
            rows.append(row)
            explicit_ts.append(None if ts_fn is None else _rowtime(ts_fn(args)[0]))
    # a stream's timestamp column left out is filled when the rows are appended
    ts_column = target.timestamp if isinstance(target, Stream) else None
    for row in rows:
        for column, value in zip(target.columns, row, strict=True):
            if value is None and not column.nullable and column.name != ts_column:
                raise IntegrityError(
                    f"column {column.name} of {target.name} is NOT NULL: give it a value"
                )
    if isinstance(target, Stream):
        return _append_to_stream(db, target, rows, explicit_ts, conn)
    return _write_table_rows(db, target, [tuple(r) for r in rows], bool(envelope.get("upsert")),
                             conn)


def _timestamp_fns(envelope: Envelope, param_columns: list[dict[str, Any]]) -> list[Any]:
    """One function per VALUES row giving its explicit event time (``ROWTIME``), or None."""
    from pycql.runtime.expr import compile_row

    count = len(envelope["rows"])
    exprs = envelope.get("timestamps")
    if exprs is None:  # one expression for every row (or none)
        exprs = [envelope.get("timestamp")] * count
    return [
        None if e is None else compile_row([_params_as_inputs(e)], param_columns) for e in exprs
    ]


def _rowtime(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ProgrammingError(f"ROWTIME must be a TIMESTAMP or epoch milliseconds, not {value!r}")
    return int(value)


class _AppendClock:
    """Stamps the INSERTs of one stream in the order they are appended.

    The stamp is taken and the records appended under one lock, and never runs
    backwards (a wall clock stepped back by NTP does not reorder a stream), so
    statements from several threads and connections of this process always
    arrive in timestamp order and none is late.
    """

    __slots__ = ("last", "lock")

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.last = 0

    def now(self) -> int:
        self.last = max(self.last, int(time.time() * 1000))
        return self.last


_append_clocks: weakref.WeakKeyDictionary[Any, dict[str, _AppendClock]] = (
    weakref.WeakKeyDictionary()
)
_append_clocks_lock = threading.Lock()


def _append_clock(log: Any, topic: str) -> _AppendClock:
    with _append_clocks_lock:
        clocks = _append_clocks.setdefault(log, {})
        clock = clocks.get(topic)
        if clock is None:
            clock = clocks[topic] = _AppendClock()
        return clock


def _produce(conn_or_db: Connection | Database, topic: str, records: Sequence[Any]) -> None:
    """Write ``records`` to ``topic``: in the connection's open transaction when its
    ``autocommit`` is False (begun at its first write), else at once."""
    from pycql.driver.connection import Connection

    if isinstance(conn_or_db, Connection):
        conn_or_db._produce(topic, records)
    else:
        conn_or_db.log.produce(topic, records)


def _append_to_stream(
    db: Database, stream: Stream, rows: list[list[Any]], explicit_ts: list[int | None],
    conn: Connection | None = None,
) -> int:
    """Append rows to a stream: an explicit ROWTIME (or timestamp column value) is the
    row's event time; the others are stamped now, in append order."""
    from pycql.log.base import OutRecord
    from pycql.log.formats import make_encoder

    names = [c.name for c in stream.columns]
    ts_index = None if stream.timestamp is None else names.index(stream.timestamp)
    encode = make_encoder([c.to_json() for c in stream.columns], stream.format)
    clock = _append_clock(db.log, stream.topic)
    with clock.lock:
        now = clock.now()
        stamps = []
        for row, stamp in zip(rows, explicit_ts, strict=True):
            if ts_index is not None:
                if row[ts_index] is None:
                    row[ts_index] = now if stamp is None else stamp
                stamps.append(int(row[ts_index]))
            else:
                stamps.append(now if stamp is None else stamp)
        payloads = encode([tuple(r) for r in rows])
        if stream.key:  # partitioned by the key's hash, as Kafka's producers partition keys
            from pycql.log.formats import key_bytes

            at = [names.index(k) for k in stream.key]
            keys: list[bytes | None] = [key_bytes([r[i] for i in at]) for r in rows]
        else:
            keys = [None] * len(rows)
        _produce(
            db if conn is None else conn, stream.topic,
            [OutRecord(value, key, ts)
             for value, key, ts in zip(payloads, keys, stamps, strict=True)],
        )
    return len(payloads)


def _heartbeat(
    db: Database, envelope: Envelope, params: tuple[Any, ...], conn: Connection | None = None
) -> int:
    """``ALTER STREAM S HEARTBEAT τ``: S has no more records before τ. A watermark control
    record (:mod:`pycql.log.control`) of ``τ - 1`` goes to every partition of S's topic,
    so queries close the instants before τ at once. Returns the partitions written."""
    from pycql.log.control import watermark_record
    from pycql.runtime.expr import compile_row

    db.catalog.refresh()
    target = _target(db, envelope)
    if not isinstance(target, Stream):
        raise ProgrammingError(f"{target.name} is a table: heartbeats are for streams")
    declared = _declared_params(envelope)
    values = bind_params(declared, params)
    expr = envelope.get("timestamp")
    if isinstance(expr, dict):
        param_columns = [{"name": f"?{p['index']}", "type": p["type"]} for p in declared]
        expr = compile_row([_params_as_inputs(expr)], param_columns)(tuple(values))[0]
    tau = _rowtime(expr)
    if tau is None:
        raise ProgrammingError("a heartbeat needs a timestamp, not NULL")
    partitions = db.log.partitions(target.topic)
    _produce(db if conn is None else conn, target.topic, [
        watermark_record(tau - 1, producer="heartbeat", partition=p) for p in range(partitions)
    ])
    return partitions


def _write_table_rows(
    db: Database, table: Table, rows: list[Row], upsert: bool, conn: Connection | None = None
) -> int:
    from pycql.driver._tables import key_indexes, row_key
    from pycql.log.base import OutRecord
    from pycql.log.formats import make_encoder

    if upsert and not table.primary_key:
        raise ProgrammingError(
            f"UPSERT needs a primary key, and table {table.name} has none: use INSERT"
        )
    indexes = key_indexes(table)
    keys = [row_key(table, row, indexes) for row in rows]
    if table.primary_key:
        for row in rows:
            if any(row[i] is None for i in indexes):
                raise IntegrityError(f"the primary key of {table.name} cannot be NULL")
        if len(set(keys)) != len(keys) and not upsert:
            raise IntegrityError(f"duplicate primary key in the rows inserted into {table.name}")
        if not upsert:
            state = _table_state(db, table)
            with state.lock:
                existing = state.refresh()
                clash = [k for k in keys if k in existing]
            if clash:
                raise IntegrityError(
                    f"a row with primary key {clash[0].decode()} already exists in "
                    f"{table.name}: use UPSERT INTO to replace it"
                )
    encode = make_encoder([c.to_json() for c in table.columns], table.format)
    now = int(time.time() * 1000)
    payloads = encode(rows)
    _produce(
        db if conn is None else conn,
        table.topic, [OutRecord(value, key, now) for value, key in zip(payloads, keys, strict=True)]
    )
    return len(rows)


def _delete(
    db: Database, envelope: Envelope, target: Stream | Table, bound: list[list[Any]],
    conn: Connection | None = None,
) -> int:
    from pycql.log.base import OutRecord
    from pycql.runtime.expr import compile_batch

    if isinstance(target, Stream):
        raise NotSupportedError(
            f"{target.name} is a stream, and streams are append-only: DELETE works on tables"
        )
    state = _table_state(db, target)
    columns = [c.to_json() for c in target.columns]
    condition = envelope.get("condition")
    with state.lock:
        current = list(state.refresh().items())
    doomed: dict[bytes, None] = {}
    for values in bound:
        if condition is None:
            doomed.update((key, None) for key, _ in current)
            continue
        keep = compile_batch(condition, None, columns, values, counted=True)
        doomed.update((key, None) for _, key in keep([(row, key) for key, row in current]))
    if doomed:
        now = int(time.time() * 1000)
        _produce(db if conn is None else conn, target.topic,
                 [OutRecord(None, key, now) for key in doomed])
    return len(doomed)
