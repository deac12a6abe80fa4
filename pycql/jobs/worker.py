"""Workers: processes (or threads of an embedded database) that run jobs' tasks.

A :class:`Worker` follows the command log (the catalog store, ``_pycql_catalog``
on Kafka) and runs every job whose status is ``RUNNING``, one thread per job
(:class:`JobRunner`). A job runner joins the job's consumer group (on the
job's tasks topic, :func:`~pycql.jobs.spec.tasks_topic`), so the tasks of a
job are shared by every worker that runs it; it runs the tasks it owns,
publishes their status about every second (:mod:`pycql.jobs.status`),
restarts them from their last commit after a transient error (the broker
lost, or a task fenced: backoff 0.5 s doubling to 30 s) and marks the job
``FAILED`` after an error of its statement (its uncommitted output is
dropped). It never loads the planner: a worker runs the stored JSON plans.

``pycql worker --connect kafka://HOST:PORT`` (:func:`main`) runs one until
SIGTERM or SIGINT, then stops cleanly: every task finishes the batch in hand
and commits its output with its state, publishes a last status, and the worker
leaves its groups, so the other workers take the tasks over at once; the exit
status is 0.
It logs one line per event to stderr.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
import sys
import threading
import time
import traceback
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from pycql.errors import OperationalError
from pycql.jobs.spec import Job, tasks_topic
from pycql.jobs.stages import Stage, create_stage_topics, job_stages
from pycql.jobs.status import StatusPublisher
from pycql.jobs.task import Task
from pycql.log.base import GroupMembership

if TYPE_CHECKING:
    from pycql.catalog import Catalog
    from pycql.log.base import Log

__all__ = ["JobRunner", "Worker", "main"]

log = logging.getLogger("pycql.worker")

#: How often (seconds) a worker looks for new jobs and terminations.
POLL_INTERVAL_S = 0.2
#: How often (seconds) tasks publish their status.
STATUS_INTERVAL_S = 1.0
BACKOFF_FIRST_S = 0.5
BACKOFF_MAX_S = 30.0


def _event(event: str, **fields: Any) -> None:
    """One log line per event: ``event=... key=value ...``."""
    parts = [f"event={event}"]
    for key, value in fields.items():
        text = str(value)
        if " " in text or "=" in text:
            text = '"' + text.replace('"', "'") + '"'
        parts.append(f"{key}={text}")
    log.info(" ".join(parts))


def _group_id(stage: Stage) -> str:
    return f"_pycql_job.{stage.name}"


class JobRunner:
    """Runs the tasks of one job this worker owns, in one thread: of each of its stages
    (:mod:`pycql.jobs.stages`), the tasks the stage's consumer group gives it."""

    def __init__(self, worker: Worker, job: Job) -> None:
        self.worker = worker
        self.job = job
        self._stop = threading.Event()
        self._final_state = "STOPPED"
        self.stages = job_stages(job)
        #: the tasks it runs, by (stage, task number)
        self._tasks: dict[tuple[int, int], Task] = {}
        #: its membership of each stage's group, by stage
        self._memberships: dict[int, GroupMembership] = {}
        self._last_error: str | None = None
        self._restarts = 0
        self._counts: dict[tuple[int, int], tuple[float, int, int, list[int]]] = {}
        #: when this runner joined the job's groups (monotonic), and the tasks whose
        #: first output since they started is not committed yet
        self._joined_at = 0.0
        self._awaiting_output: set[tuple[int, int]] = set()
        self.thread = threading.Thread(target=self._run, name=f"pycql-job-{job.id}", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self, final_state: str = "STOPPED") -> None:
        """Ask the runner to stop; its tasks report ``final_state``."""
        self._final_state = final_state
        self._stop.set()

    def join(self, timeout: float) -> None:
        """Wait for the runner's thread to end. A runner stopped between its registration
        and its start (an embedded TERMINATE racing the worker's sync) has no thread to
        wait for yet: once started it sees the stop and ends at once."""
        if self.thread.ident is not None:
            self.thread.join(timeout)

    # -- the loop ------------------------------------------------------------------
    def _run(self) -> None:
        backoff = BACKOFF_FIRST_S
        _event("job_started", job=self.job.id, worker=self.worker.id)
        while not self._stop.is_set():
            try:
                self._loop()
                break
            except OperationalError as exc:  # the log is in trouble: try again later
                self._last_error = str(exc)
                self._restarts += 1
                _event("task_restart", job=self.job.id, worker=self.worker.id,
                       backoff_s=f"{backoff:g}", error=exc)
                try:
                    self._publish("RESTARTING", force=True)
                except OperationalError as again:  # the broker is down: say it once back
                    _event("status_lost", job=self.job.id, error=again)
                self._close_tasks()
                self._stop.wait(backoff)
                backoff = min(backoff * 2, BACKOFF_MAX_S)
            except Exception as exc:  # the statement fails at run time
                self._fail(exc)
                return
        for task in list(self._tasks.values()):  # a clean stop: commit what each task has
            try:
                task.commit()
            except Exception as exc:  # fenced, or the log is gone: the changelog has the rest
                _event("task_commit_failed", job=self.job.id, task=task.index,
                       worker=self.worker.id, error=exc)
        try:
            self._publish(self._final_state, force=True)
        except Exception as exc:  # the log is gone: nothing more to say
            _event("status_lost", job=self.job.id, error=exc)
        self._close_tasks()
        self._leave()
        _event("job_stopped", job=self.job.id, worker=self.worker.id, state=self._final_state)

    def _loop(self) -> None:
        worker = self.worker
        if not self._memberships:
            create_stage_topics(worker.log, self.job)
            self._joined_at = time.monotonic()
            for stage in self.stages:
                self._memberships[stage.id] = worker.log.group(
                    _group_id(stage), tasks_topic(stage.name),
                    worker.id if worker.static else None)
        last_publish = 0.0
        staged = len(self.stages) > 1
        while not self._stop.is_set():
            for stage in self.stages:
                owned = {(stage.id, i) for i in self._memberships[stage.id].poll()}
                mine = {k for k in self._tasks if k[0] == stage.id}
                for key in sorted(owned - mine):
                    assigned_s = time.monotonic() - self._joined_at
                    began = time.monotonic()
                    task = self._tasks[key] = Task(self.job, key[1], worker.log, stage=stage)
                    self._awaiting_output.add(key)
                    _event("task_started", job=self.job.id, task=_task_name(key, staged),
                           worker=worker.id, restored=f"{task.metrics.restored_pieces}_pieces",
                           assigned_s=f"{assigned_s:.3f}",
                           producer_s=f"{task.metrics.producer_s:.3f}",
                           restore_s=f"{task.metrics.restore_s:.3f}",
                           start_s=f"{time.monotonic() - began:.3f}")
                for key in sorted(mine - owned):
                    self._close(self._tasks.pop(key), commit=True)
                    self._awaiting_output.discard(key)
                    _event("task_moved", job=self.job.id, task=_task_name(key, staged),
                           worker=worker.id)
            if not self._tasks:
                self._stop.wait(0.1)
            else:
                timeout = 0.1 / len(self._tasks)
                for index, task in list(self._tasks.items()):
                    if task.step(timeout) and index in self._awaiting_output:
                        self._awaiting_output.discard(index)
                        _event("task_first_output", job=self.job.id,
                               task=_task_name(index, len(self.stages) > 1),
                               worker=worker.id,
                               after_start_s=f"{time.time() - task.started:.3f}")
            now = time.monotonic()
            if now - last_publish >= STATUS_INTERVAL_S:
                last_publish = now
                self._publish(None)

    def _fail(self, exc: BaseException) -> None:
        message = f"{type(exc).__name__}: {exc}"
        self._last_error = message
        _event("job_failed", job=self.job.id, worker=self.worker.id, error=message)
        log.debug("%s", "".join(traceback.format_exception(exc)))
        try:
            self._publish("FAILED", force=True)
            self.worker.catalog.put_job(self.job.with_status("FAILED", message))
        except Exception as again:
            _event("status_lost", job=self.job.id, error=again)
        self._close_tasks()
        self._leave()

    # -- status ----------------------------------------------------------------------
    def _publish(self, state: str | None, force: bool = False) -> None:
        tasks = self._tasks
        reports = [self._report(k, t, state) for k, t in sorted(tasks.items())]
        if not reports and force and state is not None:
            reports = [self._bare_report(k, state) for k in self._counts]
        self.worker.status.publish(reports)

    def _stage_of(self, key: tuple[int, int]) -> dict[str, Any]:
        """The ``stage`` member of a multi-stage job's report."""
        return {"stage": key[0]} if len(self.stages) > 1 else {}

    def _bare_report(self, key: tuple[int, int], state: str) -> dict[str, Any]:
        return {"job": self.job.id, "task": key[1], **self._stage_of(key),
                "worker": self.worker.id, "state": state,
                "updated_ms": int(time.time() * 1000), "last_error": self._last_error,
                "restarts": self._restarts}

    def _report(self, key: tuple[int, int], task: Task, state: str | None) -> dict[str, Any]:
        index = key[1]
        runner = task.runner
        m = runner.metrics
        now = time.time()
        task.measure_state(time.monotonic())
        rows_out = list(runner.executor.rows_out)
        then, was_in, was_out, was_ops = self._counts.get(
            key, (task.started, 0, 0, [0] * len(rows_out)))
        span = max(now - then, 1e-3)
        self._counts[key] = (now, m.records_in, task.metrics.records_out, rows_out)
        lag = runner.lag()
        specs = runner.executor.plan["operators"]
        tm = task.metrics
        operators = [
            {"id": spec["id"], "op": spec["op"], "rows_out": rows_out[k],
             "rows_per_s": round((rows_out[k] - was_ops[k]) / span, 1),
             "state_bytes": tm.state_bytes.get(spec["id"]),
             "state_entries": tm.state_entries.get(spec["id"])}
            for k, spec in enumerate(specs)
        ]
        if state is None:
            state = "RUNNING"
        return {
            "job": self.job.id, "task": index, **self._stage_of(key), "worker": self.worker.id,
            "state": state,
            "updated_ms": int(now * 1000), "started_ms": int(task.started * 1000),
            "records_in": m.records_in, "records_out": tm.records_out,
            "in_per_s": round((m.records_in - was_in) / span, 1),
            "out_per_s": round((tm.records_out - was_out) / span, 1),
            "lag": sum(lag.values()),
            "lag_by_partition": {f"{t}:{p}": n for (t, p), n in sorted(lag.items())},
            "watermark": runner.executor.watermark, "newest": runner.newest,
            "late_records": m.late_records, "malformed_records": m.malformed_records,
            "expression_errors": m.expression_errors,
            "processing_guarantee": self.job.processing_guarantee,
            "commits": tm.commits, "uncommitted": task.uncommitted,
            "commit_ms": None if tm.commit_ms is None else round(tm.commit_ms, 2),
            "commit_interval_ms": round(task.commit_interval_s * 1000),
            "changelog_records": tm.changelog_records, "changelog_bytes": tm.changelog_bytes,
            "restore_s": round(tm.restore_s, 3), "restored_pieces": tm.restored_pieces,
            "state_bytes": sum(tm.state_bytes.values()) if tm.state_bytes else 0,
            "state_entries": sum(tm.state_entries.values()) if tm.state_entries else 0,
            "last_error": self._last_error, "restarts": self._restarts,
            "operators": operators,
        }

    # -- cleanup ---------------------------------------------------------------------
    def _close(self, task: Task, commit: bool) -> None:
        try:
            task.close(commit=commit)
        except Exception as exc:  # fenced, or the log is gone: the changelog has the rest
            _event("task_close_failed", job=self.job.id, task=task.index, worker=self.worker.id,
                   error=exc)

    def _close_tasks(self, commit: bool = False) -> None:
        """Close every task: ``commit`` what they hold (a clean stop), or drop it (after an
        error: the next owner restores the last commit)."""
        for task in self._tasks.values():
            self._close(task, commit)
        self._tasks.clear()

    def _leave(self) -> None:
        memberships, self._memberships = self._memberships, {}
        for membership in memberships.values():
            try:
                membership.close()
            except Exception:
                pass


def _task_name(key: tuple[int, int], staged: bool) -> str:
    """A task in the log: its number, or ``<stage>.<number>`` in a multi-stage job."""
    return f"{key[0]}.{key[1]}" if staged else str(key[1])


class Worker:
    """Runs every live job of a command log (see the module docstring).

    ``catalog`` is the catalog whose store is the command log; ``log`` the log
    the jobs read and write. :meth:`start` runs it in a thread (embedded
    databases); :meth:`run` in the calling thread until :meth:`stop`.
    """

    def __init__(self, log: Log, catalog: Catalog, *, worker_id: str | None = None,
                 static: bool = False) -> None:
        self.log = log
        self.catalog = catalog
        self.id = worker_id or f"{socket.gethostname()}-{os.getpid()}-{id(self) % 10_000}"
        #: a static member of its jobs' groups under its id (see ``--static``)
        self.static = static and worker_id is not None
        self.status = StatusPublisher(log)
        self.runners: dict[str, JobRunner] = {}
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Run in a background thread."""
        self._thread = threading.Thread(target=self.run, name="pycql-worker", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """Look at the command log now (a job was just created or terminated)."""
        self._wake.set()

    def run(self) -> None:
        """Follow the command log until :meth:`stop`."""
        _event("worker_started", worker=self.id)
        try:
            while not self._stop.is_set():
                try:
                    self.sync()
                except OperationalError as exc:
                    _event("command_log_unreachable", worker=self.id, error=exc)
                self._wake.wait(POLL_INTERVAL_S)
                self._wake.clear()
        finally:
            self._stop_all("STOPPED")
            _event("worker_stopped", worker=self.id)

    def sync(self) -> None:
        """Start the runners of new live jobs; stop those of jobs no longer live."""
        self.catalog.refresh()
        jobs = {job.id: job for job in self.catalog.jobs()}
        for job_id, runner in list(self.runners.items()):
            job = jobs.get(job_id)
            if job is None or not job.live:
                state = "STOPPED" if job is None else job.status
                _event("job_stop", job=job_id, worker=self.id,
                       reason="removed" if job is None else state)
                runner.stop(state)
                runner.join(10)
                del self.runners[job_id]
        for job_id, job in jobs.items():
            if job.live and job_id not in self.runners:
                runner = JobRunner(self, job)
                self.runners[job_id] = runner
                runner.start()

    def stop_job(self, job_id: str, state: str = "TERMINATED", wait: float = 10.0) -> None:
        """Stop the runner of ``job_id`` now (an embedded TERMINATE) and wait for it."""
        runner = self.runners.pop(job_id, None)
        if runner is not None:
            runner.stop(state)
            runner.join(wait)

    def _stop_all(self, state: str) -> None:
        runners = list(self.runners.values())
        for runner in runners:
            runner.stop(state)
        for runner in runners:
            runner.join(30)
        self.runners.clear()

    def stop(self, wait: float = 30.0) -> None:
        """Stop every job runner (each task finishes its batch and reports) and return."""
        self._stop.set()
        self._wake.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(wait)
        elif thread is None:
            self._stop_all("STOPPED")


# -- the command ----------------------------------------------------------------------
def main(argv: Sequence[str] | None = None) -> int:
    """``pycql worker``: run jobs until SIGTERM or SIGINT (exit status 0)."""
    parser = argparse.ArgumentParser(
        prog="pycql worker",
        description="Run pycql's persistent queries (CREATE STREAM/TABLE ... AS, "
                    "INSERT INTO ... SELECT) from a Kafka cluster's command log.")
    parser.add_argument("--connect", "-c", required=True,
                        help="the cluster: kafka://HOST:PORT")
    parser.add_argument("--id", help="this worker's name in SHOW QUERIES, stable across "
                                     "its restarts (default host-pid, which is not)")
    parser.add_argument("--static", action=argparse.BooleanOptionalAction, default=False,
                        help="be a static member of the jobs' consumer groups under --id "
                             "(Kafka's group.instance.id): restarted under the same id "
                             "within the session timeout (6 s), the worker gets its tasks "
                             "back at once, with no rebalance, but a restart in the middle "
                             "of a cooperative rebalance can leave tasks with no owner "
                             "(docs/jobs.md). The default, --no-static: a dynamic member, "
                             "whose every start and stop rebalances the group")
    parser.add_argument("--quiet", "-q", action="store_true", help="log warnings only")
    args = parser.parse_args(argv)
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING if args.quiet else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    from urllib.parse import parse_qsl, urlsplit

    from pycql.catalog import Catalog, LogCatalogStore
    from pycql.log import open_log

    parts = urlsplit(args.connect)
    if parts.scheme != "kafka" or not parts.netloc:
        parser.error(f"--connect needs kafka://HOST:PORT, not {args.connect!r}")
    try:
        the_log = open_log(f"kafka://{parts.netloc}", **dict(parse_qsl(parts.query)))
    except OperationalError as exc:
        print(f"pycql worker: {exc}", file=sys.stderr)
        return 2
    if args.static and not args.id:
        parser.error("--static needs --id (the member's name across restarts)")
    static = bool(args.static)
    stopping = threading.Event()
    worker: Worker | None = None

    def on_signal(signum: int, frame: object) -> None:
        _event("signal", worker=args.id or "-", signal=signal.Signals(signum).name)
        stopping.set()
        if worker is not None:
            worker._stop.set()
            worker._wake.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        backoff = BACKOFF_FIRST_S
        while worker is None and not stopping.is_set():
            try:  # the broker may be down: wait for it rather than die
                worker = Worker(the_log, Catalog(LogCatalogStore(the_log)), worker_id=args.id,
                                static=static)
            except OperationalError as exc:
                _event("command_log_unreachable", worker=args.id or "-",
                       backoff_s=f"{backoff:g}", error=exc)
                stopping.wait(backoff)
                backoff = min(backoff * 2, BACKOFF_MAX_S)
        if worker is not None and not stopping.is_set():
            worker.run()
    finally:
        the_log.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
