"""What tasks report, and reading it back: the status topic ``_pycql_status``.

Every task publishes one record about a second apart (and when it stops): key
``<query id>/<task>``, value a JSON object (documented in ``docs/jobs.md``):

``{"job", "task", "worker", "state", "updated_ms", "started_ms", "records_in",
"records_out", "in_per_s", "out_per_s", "lag", "lag_by_partition", "watermark",
"newest", "late_records", "malformed_records", "expression_errors",
"processing_guarantee", "commits", "commit_ms", "commit_interval_ms",
"changelog_records", "changelog_bytes", "restore_s", "restored_pieces",
"state_bytes", "state_entries", "last_error",
"restarts", "operators": [{"id", "op", "rows_out", "rows_per_s",
"state_bytes", "state_entries"}]}``

``state`` is ``RUNNING``, ``RESTARTING`` (waiting out a transient error),
``STOPPED`` (its worker left; another member of the group takes it over),
``TERMINATED`` or ``FAILED``. The topic is compacted: it keeps the newest
record of each task.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import orjson

from pycql.log.base import Log, LogReader, NotWriter, OutRecord, TopicSpec

__all__ = ["FRESH_S", "STATUS_TOPIC", "StatusBoard", "StatusPublisher"]

#: The status topic of a cluster (or of an embedded database's log).
STATUS_TOPIC = "_pycql_status"

#: A task whose last report is older than this (seconds) is not known to run.
FRESH_S = 5.0


def status_key(job: str, task: int, stage: int | None = None) -> bytes:
    """``<job>/<task>``, or ``<job>/<stage>.<task>`` for a stage of a multi-stage job."""
    if stage is None:
        return f"{job}/{task}".encode()
    return f"{job}/{stage}.{task}".encode()


class StatusPublisher:
    """Writes task reports to the status topic."""

    def __init__(self, log: Log) -> None:
        self._log = log
        log.create_topic(TopicSpec(STATUS_TOPIC, partitions=1, compacted=True), exist_ok=True)

    def publish(self, reports: list[dict[str, Any]]) -> None:
        if not reports:
            return
        self._log.produce(STATUS_TOPIC, [
            OutRecord(orjson.dumps(r, default=str),
                      status_key(r["job"], int(r["task"]), r.get("stage")), int(r["updated_ms"]))
            for r in reports
        ])


class StatusBoard:
    """The newest report of every task, read from the status topic (thread-safe)."""

    def __init__(self, log: Log) -> None:
        self._log = log
        self._reader: LogReader | None = None
        self._reports: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def refresh(self) -> None:
        """Read what was published since the last call."""
        with self._lock:
            if self._reader is None:
                try:
                    self._log.create_topic(
                        TopicSpec(STATUS_TOPIC, partitions=1, compacted=True), exist_ok=True)
                except NotWriter:  # a process reading a database file: no reports yet
                    return
                self._reader = self._log.reader([STATUS_TOPIC], "earliest")
            reader = self._reader
            end = reader.end_offsets()
            deadline = time.monotonic() + 10.0
            while any(reader.position().get(tp, 0) < off for tp, off in end.items()):
                for record in reader.poll(10_000, 0.2):
                    key = (record.key or b"").decode()
                    if record.value is None:
                        self._reports.pop(key, None)
                        continue
                    try:
                        self._reports[key] = orjson.loads(record.value)
                    except orjson.JSONDecodeError:
                        continue
                if time.monotonic() > deadline:
                    break

    def tasks(self, job: str) -> list[dict[str, Any]]:
        """The newest report of each task of ``job``, by task number."""
        with self._lock:
            found = [r for r in self._reports.values() if r.get("job") == job]
        return sorted(found, key=lambda r: (int(r.get("stage") or 0), int(r.get("task", 0))))

    def close(self) -> None:
        with self._lock:
            if self._reader is not None:
                self._reader.close()
                self._reader = None


def is_fresh(report: dict[str, Any], now_ms: int | None = None) -> bool:
    """Whether ``report`` is recent enough to say its task runs."""
    now = int(time.time() * 1000) if now_ms is None else now_ms
    return now - int(report.get("updated_ms", 0)) <= FRESH_S * 1000


def job_state(status: str, reports: list[dict[str, Any]]) -> tuple[str, list[str]]:
    """What ``SHOW QUERIES`` says of a job whose command-log status is ``status``, from its
    task reports: the state and the workers running it now."""
    if status in ("TERMINATED", "FAILED"):
        return status, []
    live = [r for r in reports if is_fresh(r) and r.get("state") not in ("STOPPED",)]
    workers = sorted({str(r.get("worker")) for r in live})
    if not live:
        return "PENDING", []
    states = {r.get("state") for r in live}
    if "FAILED" in states:
        return "FAILED", workers
    if "RESTARTING" in states:
        return "RESTARTING", workers
    return "RUNNING", workers
