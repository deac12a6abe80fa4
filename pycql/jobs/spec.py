"""A persistent query (a *job*) as the command log holds it.

The client that runs ``CREATE STREAM x AS ...``, ``CREATE TABLE x AS ...`` or
``INSERT INTO s <query>`` plans the query and stores everything a worker
needs in one :class:`Job`: the JSON plan (with each source's time policy),
where its output goes and in which format, and how many tasks share it. A
worker runs a job from this alone; it never starts a JVM.

A job's ``status`` is what it should be: ``RUNNING`` until ``TERMINATE``
(``TERMINATED``) or a run-time error of its statement (``FAILED``, with the
error). What it *is* doing, task by task, is in the status topic
(:mod:`pycql.jobs.status`).

>>> job = Job("CSAS_BIG_1", "stream", "CREATE STREAM Big AS SELECT ...", "Big", "Big",
...           plan={"operators": []}, columns=[{"name": "K", "type": "INTEGER"}])
>>> Job.from_json(job.to_json()) == job
True
>>> job.name
'query:CSAS_BIG_1'
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any, Literal

__all__ = ["JOB_KEY_PREFIX", "Job", "job_id", "tasks_topic"]

#: Jobs share the command log (``_pycql_catalog``) with streams, tables and views;
#: their keys start with this, which no SQL name can.
JOB_KEY_PREFIX = "query:"

Status = Literal["RUNNING", "TERMINATED", "FAILED"]
SinkKind = Literal["stream", "table", "insert"]

_PREFIX = {"stream": "CSAS", "table": "CTAS", "insert": "INSERTQUERY"}


def job_id(kind: SinkKind, sink: str, number: int) -> str:
    """ksqlDB-style ids: ``CSAS_BIG_1``, ``CTAS_COUNTS_2``, ``INSERTQUERY_3``.

    >>> job_id("stream", "Big", 1), job_id("insert", "Out", 3), job_id("table", "a-b", 2)
    ('CSAS_BIG_1', 'INSERTQUERY_3', 'CTAS_A_B_2')
    """
    if kind == "insert":
        return f"{_PREFIX[kind]}_{number}"
    word = re.sub(r"[^A-Za-z0-9]+", "_", sink).strip("_").upper() or "X"
    return f"{_PREFIX[kind]}_{word}_{number}"


def tasks_topic(job: str) -> str:
    """The topic whose partitions stand for a job's tasks: members of the job's consumer
    group own tasks by owning its partitions. Nothing is ever written to it."""
    return f"_pycql_tasks.{job}"


@dataclass(frozen=True)
class Job:
    """One persistent query (see the module docstring)."""

    id: str
    #: ``stream`` (CREATE STREAM AS), ``table`` (CREATE TABLE AS) or ``insert``
    #: (INSERT INTO an existing stream)
    sink_kind: SinkKind
    #: the statement as the user wrote it
    statement: str
    #: the stream or table written to, and its topic
    sink: str
    topic: str
    #: the JSON plan, each source with its ``"time"`` policy
    plan: dict[str, Any] = field(default_factory=dict, compare=True)
    #: the output columns (``{"name", "type", ...}``), in the sink's order
    columns: list[dict[str, Any]] = field(default_factory=list)
    #: the output's format (``json`` or ``csv``)
    format: str = "json"
    #: a relation output's key columns (upserts and tombstones by key), else ``[]``
    key: list[str] = field(default_factory=list)
    #: how many tasks share the job: task ``i`` reads the stream partitions ``p`` with
    #: ``p % tasks == i`` (tables whole) and writes output partition ``i`` when
    #: ``tasks > 1``
    tasks: int = 1
    #: where the job's input starts: ``"earliest"`` or explicit offsets
    #: ``{"topic:partition": offset}`` (``start = 'latest'`` resolved at creation)
    start: str | dict[str, int] = "earliest"
    #: the EXPLAIN text of the plan, for EXPLAIN ANALYZE
    explain: str = ""
    #: what a row an expression fails on does (the creating connection's ``on_error``)
    on_error: str = "dead_letter"
    #: ``exactly_once`` (one transaction per commit: output, state, positions) or
    #: ``at_least_once``; and how often tasks commit (milliseconds)
    processing_guarantee: str = "exactly_once"
    commit_interval_ms: int = 100
    #: whether the job runs as the stages the planner cut its plan into
    #: (:mod:`pycql.jobs.stages`), each with its own tasks; else as one stage, its
    #: exchanges passing their input through (``WITH (stages = 'off')``, and jobs
    #: created before stages ran)
    staged: bool = False
    status: Status = "RUNNING"
    error: str | None = None
    created_ms: int = 0

    @property
    def name(self) -> str:
        """The job's key in the command log."""
        return JOB_KEY_PREFIX + self.id

    kind: Literal["query"] = field(default="query", init=False, compare=False)

    @property
    def live(self) -> bool:
        """Whether workers should run it."""
        return self.status == "RUNNING"

    def with_status(self, status: Status, error: str | None = None) -> Job:
        return replace(self, status=status, error=error)

    def start_offsets(self) -> str | dict[tuple[str, int], int]:
        """``start`` as a reader takes it."""
        if isinstance(self.start, str):
            return self.start
        out: dict[tuple[str, int], int] = {}
        for where, offset in self.start.items():
            topic, _, partition = where.rpartition(":")
            out[(topic, int(partition))] = int(offset)
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "object": "query",
            "id": self.id,
            "sink_kind": self.sink_kind,
            "statement": self.statement,
            "sink": self.sink,
            "topic": self.topic,
            "plan": self.plan,
            "columns": self.columns,
            "format": self.format,
            "key": self.key,
            "tasks": self.tasks,
            "start": self.start,
            "explain": self.explain,
            "on_error": self.on_error,
            "processing_guarantee": self.processing_guarantee,
            "commit_interval_ms": self.commit_interval_ms,
            "staged": self.staged,
            "status": self.status,
            "error": self.error,
            "created_ms": self.created_ms,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Job:
        return cls(
            id=str(data["id"]),
            sink_kind=data.get("sink_kind", "stream"),
            statement=str(data.get("statement", "")),
            sink=str(data["sink"]),
            topic=str(data.get("topic") or data["sink"]),
            plan=dict(data.get("plan") or {}),
            columns=list(data.get("columns") or []),
            format=str(data.get("format") or "json"),
            key=list(data.get("key") or []),
            tasks=int(data.get("tasks") or 1),
            start=data.get("start") or "earliest",
            explain=str(data.get("explain") or ""),
            on_error=str(data.get("on_error") or "dead_letter"),
            processing_guarantee=str(data.get("processing_guarantee") or "exactly_once"),
            commit_interval_ms=int(data.get("commit_interval_ms") or 100),
            staged=bool(data.get("staged", False)),
            status=data.get("status", "RUNNING"),
            error=data.get("error"),
            created_ms=int(data.get("created_ms") or 0),
        )
