"""The stages of a job: the parts of its plan between Kafka topics.

The planner cuts a plan at its ``exchange`` operators into stages
(docs/plan-json.md, "Stages and exchanges"). Each stage runs as its own tasks
with its own consumer group, changelog and transactional producers, so a
stage's tasks are spread over the workers like a one-stage job's:

* a stage that *writes* an exchange ends at it: the exchange is its root, and
  its tasks write what it passes (a stream's rows, or a relation's changes with
  their +/- ops) to the exchange's intermediate topic, each record to the
  partition of the hash of its key columns (:class:`~pycql.jobs.sink.ExchangeSink`);
* a stage that *reads* an exchange has, in the exchange's place, a source over
  the intermediate topic that knows how many upstream tasks write it
  (``"exchange": {"producers": n}``). Its time comes from the watermark control
  records each upstream task writes to every partition
  (:mod:`pycql.log.control`): an instant closes only once every upstream task
  has passed it, so CQL's instants stay atomic across stages.

Jobs run as their stages unless created ``WITH (stages = 'off')``. A plan of one
stage (no exchange, a job created with that option, or one created before stages
ran) is one :class:`Stage` under the job's own names, as before stages existed, so
the changelogs of jobs created earlier restore as they were.

Names, for job ``J``: a one-stage job's tasks, group, changelog and producers are
named after ``J``; stage ``k`` of a multi-stage job after ``J.s<k>``; the
intermediate topics are the plan's templates with ``{job}`` replaced by ``J``.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pycql.jobs.spec import Job
    from pycql.log.base import Log

__all__ = ["Stage", "create_stage_topics", "is_staged_plan", "job_stages", "split_stage_specs",
           "stage_plan"]


@dataclass(frozen=True)
class Stage:
    """One stage of a job (see the module docstring)."""

    #: the stage's number in the plan (0 for a one-stage job)
    id: int
    #: what its tasks, group, changelog and producers are named after
    name: str
    #: how many tasks run it
    tasks: int
    #: the stage's own plan: its operators, each exchange it reads as a source
    plan: dict[str, Any] = field(compare=False)
    #: the exchange it writes (its root), with ``topic`` resolved; None for the last stage
    exchange: dict[str, Any] | None = field(default=None, compare=False)

    @property
    def last(self) -> bool:
        """Whether it is the job's last stage (it writes the job's output, not an exchange)."""
        return self.exchange is None


def is_staged_plan(plan: dict[str, Any]) -> bool:
    """Whether the planner cut ``plan`` into more than one stage that can run apart:
    every stage but the last writes at least one exchange, the last none."""
    stages = plan.get("stages") or []
    if len(stages) < 2:
        return False
    kinds = {op["id"]: op["op"] for op in plan["operators"]}
    writes = [sum(kinds.get(i) == "exchange" for i in s["operators"]) for s in stages]
    return writes[-1] == 0 and all(n >= 1 for n in writes[:-1])


def split_stage_specs(plan: dict[str, Any]) -> list[dict[str, Any]]:
    """``plan["stages"]`` with each stage that writes several exchanges split into one
    stage per exchange, holding the operators of the stage its exchange needs.

    A stage's tasks write one exchange, the root of their plan, so a subplan that feeds
    two exchanges (q5's windowed counts: one to the join, one to the global MAX) is
    computed by each of the two stages: the same operators over the same input, run
    twice, each under its own consumer group. The first part keeps the stage's id;
    the others take ids after the plan's last stage."""
    ops = {op["id"]: op for op in plan["operators"]}
    specs: list[dict[str, Any]] = plan["stages"]
    next_id = max(int(s["id"]) for s in specs) + 1
    out: list[dict[str, Any]] = []
    for spec in specs:
        members = list(spec["operators"])
        exchanges = [i for i in members if ops[i]["op"] == "exchange"]
        if len(exchanges) < 2:
            out.append(spec)
            continue
        inside = set(members)
        for n, exchange in enumerate(exchanges):
            need: set[int] = set()
            todo = [exchange]
            while todo:
                i = todo.pop()
                if i in need or i not in inside:
                    continue
                need.add(i)
                todo.extend(ops[i].get("inputs", []))
            part = dict(spec, operators=[i for i in members if i in need],
                        writes=[ops[exchange]["writes"][0]] if ops[exchange].get("writes")
                        else [])
            if n:
                part["id"] = next_id
                next_id += 1
            out.append(part)
    return out


def _topic(template: str, job_id: str) -> str:
    return template.replace("{job}", job_id)


def stage_plan(plan: dict[str, Any], stage: dict[str, Any], job_id: str) -> dict[str, Any]:
    """The plan of one stage of ``plan`` (``stage`` is one of ``plan["stages"]``):
    its operators in their order, each exchange of an earlier stage that it reads
    replaced by a source over the exchange's topic, rooted at its own exchange
    (or at the plan's root, for the last stage)."""
    ops = {op["id"]: op for op in plan["operators"]}
    mine = set(stage["operators"])
    producers = {s["id"]: int(s["tasks"]) for s in plan["stages"]}
    stage_of = {i: s["id"] for s in plan["stages"] for i in s["operators"]}
    read: set[int] = {i for o in mine for i in ops[o].get("inputs", []) if i not in mine}
    out: list[dict[str, Any]] = []
    for op in plan["operators"]:
        if op["id"] in mine:
            out.append(copy.deepcopy(op))
        elif op["id"] in read:
            if op["op"] != "exchange":
                raise ValueError(f"stage {stage['id']} reads operator {op['id']} ({op['op']}) "
                                 "of another stage, which is not an exchange")
            out.append(_exchange_source(op, job_id, producers[stage_of[op["id"]]]))
    root = plan["root"] if plan["root"] in mine else next(
        op["id"] for op in out if op["op"] == "exchange")
    sub = {k: v for k, v in plan.items() if k not in ("operators", "stages", "root")}
    sub["operators"] = out
    sub["root"] = root
    if root != plan["root"]:
        exchange = ops[root]
        sub["result"] = {"kind": exchange.get("output", "stream"),
                         "columns": copy.deepcopy(exchange["columns"])}
    return sub


def _exchange_source(exchange: dict[str, Any], job_id: str, producers: int) -> dict[str, Any]:
    """A source over an exchange's intermediate topic, in the exchange's place."""
    topic = _topic(str(exchange["topic"]), job_id)
    relation = exchange.get("output") == "relation"
    return {
        "id": exchange["id"], "op": "source", "name": topic, "topic": topic,
        "source_kind": "table" if relation else "stream", "format": "exchange",
        "timestamp": None, "inputs": [], "output": exchange.get("output", "stream"),
        "columns": copy.deepcopy(exchange["columns"]),
        "exchange": {"producers": producers},
        # time comes from the upstream tasks' watermarks: nothing is out of order
        "time": {"lateness_ms": 0, "idle_timeout_ms": 0, "idle_advance": "newest",
                 "max_future_ms": None},
    }


def job_stages(job: Job) -> list[Stage]:
    """The stages of ``job``, in the plan's order (upstream first; the last writes the
    job's output)."""
    plan = job.plan
    if not job.staged or not is_staged_plan(plan):
        return [Stage(0, job.id, job.tasks, plan)]
    specs: Sequence[dict[str, Any]] = split_stage_specs(plan)
    stages = []
    for k, spec in enumerate(specs):
        last = k == len(specs) - 1
        sub = stage_plan(plan, spec, job.id)
        exchange = None
        if not last:
            exchange = copy.deepcopy(next(op for op in sub["operators"]
                                          if op["id"] == sub["root"]))
            exchange["topic"] = _topic(str(exchange["topic"]), job.id)
        tasks = job.tasks if last else int(spec["tasks"])
        stages.append(Stage(int(spec["id"]), f"{job.id}.s{spec['id']}", tasks, sub,
                            exchange))
    return stages


def create_stage_topics(log: Log, job: Job) -> None:
    """Create what the stages of ``job`` need (idempotent): per stage its tasks topic and
    changelog; per exchange its intermediate topic."""
    from pycql.jobs.changelog import changelog_topic
    from pycql.jobs.spec import tasks_topic
    from pycql.log.base import TopicSpec

    for stage in job_stages(job):
        log.create_topic(TopicSpec(tasks_topic(stage.name), partitions=stage.tasks),
                         exist_ok=True)
        log.create_topic(TopicSpec(changelog_topic(stage.name), partitions=stage.tasks,
                                   compacted=True), exist_ok=True)
        if stage.exchange is not None:
            log.create_topic(TopicSpec(str(stage.exchange["topic"]),
                                       partitions=int(stage.exchange.get("partitions") or 1)),
                             exist_ok=True)
