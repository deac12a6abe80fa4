"""The cost of a stage split: a job run as its stages against the same job as one stage.

``python -m benchmarks.stages [--rows N]`` fills a 6-partition stream ``S (a, b, ts)``
of the embedded log hashed on ``a``, then for each query creates a job (the driver's
``CREATE ... AS``; the embedded database runs its worker in-process) and measures, in
this process, the
CPU seconds from the job's creation until its output holds every row the bounded cursor
gives (the cursor's own run is left out). Figures are input records per CPU second of
the process that runs the tasks (the embedded log's cost is in them; Kafka's broker
would not be).

* ``group_by_key`` (``GROUP BY a``, the key: one stage, six tasks, no exchange) against
  ``group_by_non_key`` (``GROUP BY b``: two stages, the rows hashed on ``b`` through an
  intermediate topic): the cost of the exchange;
* ``windowed_non_key`` (``[RANGE 2 SECONDS] GROUP BY b``) as stages and
  ``WITH (stages = 'off')`` (one task over every partition).

The CPU includes the tasks' polling while they wait for the last instants to close; it
is a measure of cost, not of speed (the machine has two cores: see the issue's note).
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import time
import uuid
from typing import Any

import pycql
from pycql.log.control import CONTROL_KEY

QUERIES = {
    "group_by_key": ("SELECT a, COUNT(*) AS n, SUM(b) AS s FROM S GROUP BY a", "TABLE", "on"),
    "group_by_non_key": ("SELECT b, COUNT(*) AS n, SUM(a) AS s FROM S GROUP BY b", "TABLE",
                         "on"),
    "windowed_non_key": ("SELECT ISTREAM(b, COUNT(*)) FROM S [RANGE 2 SECONDS] GROUP BY b",
                         "STREAM", "on"),
    "windowed_non_key_one_stage": (
        "SELECT ISTREAM(b, COUNT(*)) FROM S [RANGE 2 SECONDS] GROUP BY b", "STREAM", "off"),
}


def _expected(conn: pycql.Connection, sql: str, kind: str) -> collections.Counter[Any]:
    cur = conn.cursor()
    if kind == "STREAM":
        cur.execute(sql, start="earliest", stop="latest")
    else:
        cur.execute(sql)
    return collections.Counter(cur.fetchall())


def _run_bounded(job: Any, log: Any) -> tuple[float, int]:
    """Every task of every stage, upstream first, each to the end of its input
    (``Task(stop="end")``; a downstream task ends at its upstream tasks' end-of-stream
    records), committed: ``(CPU seconds, records read)``."""
    from pycql.jobs.stages import create_stage_topics, job_stages
    from pycql.jobs.task import Task

    create_stage_topics(log, job)
    cpu0 = time.process_time()
    read = 0
    for stage in job_stages(job):
        tasks = [Task(job, i, log, stop="end", stage=stage) for i in range(stage.tasks)]
        while tasks:
            for task in list(tasks):
                task.step(0.01)
                if task.runner.done:
                    task.step(0.0)           # the end-of-stream records, if any
                    task.commit()
                    read += task.runner.metrics.records_in
                    task.close()
                    tasks.remove(task)
    return time.process_time() - cpu0, read


def run(rows: int) -> dict[str, Any]:
    from dataclasses import replace

    results: dict[str, Any] = {}
    for name, (sql, kind, stages) in QUERIES.items():
        conn = pycql.connect(f"memory://stages-{uuid.uuid4().hex[:8]}")
        cur = conn.cursor()
        s = f"S_{uuid.uuid4().hex[:6]}"
        cur.execute(f"CREATE STREAM {s} (a INTEGER, b INTEGER, ts BIGINT) "
                    "WITH (timestamp = 'ts', partitions = 6, key = 'a')")
        base = int(time.time() * 1000) + 60_000
        data = [(i % 1000, i % 37, base + i // 10) for i in range(rows)]
        for start in range(0, rows, 50_000):
            cur.executemany(f"INSERT INTO {s} VALUES (?, ?, ?)", data[start:start + 50_000])
        query = sql.replace("FROM S", f"FROM {s}")
        want = _expected(conn, query, kind)
        out = f"O_{uuid.uuid4().hex[:6]}"
        cur.execute(f"CREATE {kind} {out} WITH (stages = '{stages}') AS {query}")
        (qid, *_), = cur.fetchall()
        job = next(j for j in conn.database.catalog.jobs() if j.id == qid)
        cur.execute(f"TERMINATE {qid}")     # the benchmark runs its tasks itself
        log = conn.database.log
        job = replace(job, id=job.id + "_B", topic=out + "_b")
        from pycql.log.base import TopicSpec

        log.create_topic(TopicSpec(job.topic, partitions=log.partitions(out),
                                   compacted=kind == "TABLE"), exist_ok=True)
        cpu, read = _run_bounded(job, log)
        got = collections.Counter()
        reader = log.reader([job.topic], "earliest")
        while (batch := reader.poll(100_000, 0.2)):
            got["records"] += sum(r.key != CONTROL_KEY for r in batch)  # rows, not marks
        reader.close()
        results[name] = {"rows": rows, "stages": len(job.plan.get("stages") or [1])
                         if job.staged else 1, "last_stage_tasks": job.tasks,
                         "records_read_by_all_stages": read, "cpu_s": round(cpu, 3),
                         "records_per_cpu_s": round(rows / cpu),
                         "output_records": got["records"],
                         "cursor_output_rows": sum(want.values())}
        print(name, results[name], flush=True)
        conn.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    args = parser.parse_args()
    results = run(args.rows)
    results["load_average"] = os.getloadavg()
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
