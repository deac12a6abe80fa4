"""Multi-stage jobs (pycql.jobs.stages) on the embedded log: each stage runs as its own
tasks, exchanges carry rows and changes through intermediate topics with the upstream
tasks' watermarks, and the output is what the bounded cursor over the same inputs gives
(the cursor runs the plan in one piece: see stage_cases.py), with the stage split on and
off. The same cases run on a real broker over 1, 2 and 3 workers in test_stages_kafka.py."""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Iterator
from typing import Any

import orjson
import pytest

import pycql
from pycql.jobs.sink import ExchangeSink
from pycql.jobs.stages import job_stages, split_stage_specs, stage_plan
from pycql.log.control import CONTROL_KEY, parse_control
from pycql.runtime.executor import Emission
from tests.jobs.conftest import eventually
from tests.jobs.stage_cases import QUERIES, declare, insert, oracle, output, rows


@pytest.fixture
def conn() -> Iterator[pycql.Connection]:
    conn = pycql.connect(f"memory://stages-{uuid.uuid4().hex[:8]}", rowtime_column=True)
    try:
        declare(conn, "S", "T")
        yield conn
    finally:
        conn.close()


def _base() -> int:
    return int(time.time() * 1000) + 60_000


@pytest.mark.parametrize("stages", ["on", "off"])
@pytest.mark.parametrize(("name", "query", "kind"), QUERIES, ids=[q[0] for q in QUERIES])
def test_a_staged_job_writes_what_a_bounded_cursor_returns(
        conn: pycql.Connection, name: str, query: str, kind: str, stages: str) -> None:
    query = query.format(S="S", T="T")
    insert(conn, "S", "T", rows(_base()))
    create = "STREAM" if kind == "stream" else "TABLE"
    cur = conn.cursor()
    cur.execute(f"CREATE {create} Out1 WITH (stages = '{stages}') AS {query}")
    (job,) = conn.database.catalog.jobs()
    assert job.staged == (stages == "on")
    assert len(job_stages(job)) == (len(split_stage_specs(job.plan)) if job.staged else 1)
    want = oracle(conn, query, kind)
    assert sum(want.values()) > 0
    assert eventually(lambda: output(conn, "Out1", kind), want, 30) == want


def test_input_arriving_while_the_stages_run_gives_the_same_output(
        conn: pycql.Connection) -> None:
    _, query, kind = QUERIES[2]          # two stages: S hashed on b to meet T on c
    query = query.format(S="S", T="T")
    base = _base()
    conn.cursor().execute(f"CREATE STREAM Out1 WITH (stages = 'on') AS {query}")
    for part in range(3):
        insert(conn, "S", "T", rows(base, 80, start=80 * part))
        time.sleep(0.3)
    want = oracle(conn, query, kind)
    assert eventually(lambda: output(conn, "Out1", kind), want, 30) == want


def test_a_job_reading_another_jobs_output_makes_a_dag_of_stages(
        conn: pycql.Connection) -> None:
    """The first job is per partition (no state); its output declares no key, so the
    second job's GROUP BY repartitions it. (The second starts once the first's output is
    complete: Kept keeps the default idle timeout of a second, so a task of the second
    job whose partition of Kept is still empty may call it idle and close instants
    before the first job's task writes them; the next test runs the two at once.)"""
    insert(conn, "S", "T", rows(_base()))
    cur = conn.cursor()
    cur.execute("CREATE STREAM Kept AS SELECT a, b FROM S WHERE b <> 1")
    kept = oracle(conn, "SELECT a, b FROM S WHERE b <> 1", "stream")
    assert eventually(lambda: output(conn, "Kept", "stream"), kept, 30) == kept
    cur.execute("CREATE TABLE PerB WITH (stages = 'on') AS "
                "SELECT b, COUNT(*) AS n FROM Kept GROUP BY b")
    jobs = {j.sink: j for j in conn.database.catalog.jobs()}
    assert not jobs["Kept"].staged and jobs["PerB"].staged
    want = oracle(conn, "SELECT b, COUNT(*) FROM S WHERE b <> 1 GROUP BY b", "table")
    assert eventually(lambda: output(conn, "PerB", "table"), want, 30) == want


def test_a_job_reading_a_running_jobs_output_moves_on_its_forwarded_watermarks(
        conn: pycql.Connection) -> None:
    """Both jobs run from the start, and no idle timeout helps: S and Kept wait an hour
    before they call a partition idle, and only S gets a heartbeat. The last instant of
    Kept's rows closes in PerB only through the watermarks Kept's tasks write to their
    output partitions after their rows; the answer is the bounded cursor's over S."""
    cur = conn.cursor()
    cur.execute("CREATE STREAM Kept WITH (idle_timeout = '1 hour') AS "
                "SELECT a, b FROM S WHERE b <> 1")
    cur.execute("CREATE TABLE PerB WITH (stages = 'on') AS "
                "SELECT b, COUNT(*) AS n, MAX(a) AS hi FROM Kept GROUP BY b")
    jobs = {j.sink: j for j in conn.database.catalog.jobs()}
    assert jobs["Kept"].tasks == 6 and jobs["PerB"].staged
    insert(conn, "S", "T", rows(_base()))       # rows, then a heartbeat after the newest
    want = oracle(conn, "SELECT b, COUNT(*), MAX(a) FROM S WHERE b <> 1 GROUP BY b", "table")
    assert sum(want.values()) > 0
    assert eventually(lambda: output(conn, "PerB", "table"), want, 30) == want
    assert all(j.live for j in conn.database.catalog.jobs())     # Kept still runs
    reader = conn.database.log.reader([jobs["Kept"].topic], "earliest")
    marks: set[int] = set()
    try:
        while batch := reader.poll(timeout=0.05):
            marks |= {r.partition for r in batch if r.key == CONTROL_KEY}
    finally:
        reader.close()
    assert marks == set(range(6))


def test_a_stopped_staged_job_restores_every_stage_and_writes_nothing_twice(
        conn: pycql.Connection) -> None:
    _, query, kind = QUERIES[0]
    query = query.format(S="S", T="T")
    base = _base()
    cur = conn.cursor()
    cur.execute(f"CREATE STREAM Out1 WITH (stages = 'on') AS {query}")
    (qid, *_), = cur.fetchall()
    insert(conn, "S", "T", rows(base, 120))
    first = oracle(conn, query, kind)
    assert eventually(lambda: output(conn, "Out1", kind), first, 30) == first
    worker = conn.database._worker
    assert worker is not None
    worker.stop_job(qid, "STOPPED")     # every stage's tasks and state are gone
    insert(conn, "S", "T", rows(base, 120, start=120))
    worker.sync()                       # new tasks: each restores its stage's last commit
    want = oracle(conn, query, kind)
    assert eventually(lambda: output(conn, "Out1", kind), want, 30) == want


# -- the parts --------------------------------------------------------------------------

def _plan(conn: pycql.Connection, query: str) -> dict[str, Any]:
    conn.cursor().execute(f"CREATE STREAM Planned WITH (stages = 'on') AS {query}")
    (job,) = conn.database.catalog.jobs()
    return job.plan


def test_a_stage_plan_reads_each_exchange_it_needs_as_a_source(conn: pycql.Connection) -> None:
    plan = _plan(conn, QUERIES[3][1].format(S="S", T="T"))
    assert [len(s["operators"]) > 0 for s in plan["stages"]] == [True, True, True]
    first, middle, last = (stage_plan(plan, s, "J") for s in plan["stages"])
    exchanges = [op for op in plan["operators"] if op["op"] == "exchange"]
    assert first["root"] == exchanges[0]["id"]
    assert [op["op"] for op in first["operators"]][-1] == "exchange"
    source = next(op for op in middle["operators"] if op["id"] == exchanges[0]["id"])
    assert source["op"] == "source" and source["exchange"] == {"producers": 6}
    assert source["topic"] == "_pycql_repartition.J.0" and source["output"] == "stream"
    assert middle["root"] == exchanges[1]["id"] and middle["result"]["kind"] == "relation"
    relation = next(op for op in last["operators"] if op["id"] == exchanges[1]["id"])
    assert relation["output"] == "relation" and relation["source_kind"] == "table"
    assert last["root"] == plan["root"] and last["result"] == plan["result"]
    assert "stages" not in last


def test_a_stage_writing_two_exchanges_runs_as_one_stage_per_exchange(
        conn: pycql.Connection) -> None:
    plan = _plan(conn, dict((q[0], q[1]) for q in QUERIES)["hot_keys"].format(S="S", T="T"))
    ops = {op["id"]: op for op in plan["operators"]}
    exchanges_of = [[i for i in s["operators"] if ops[i]["op"] == "exchange"]
                    for s in plan["stages"]]
    assert max(len(e) for e in exchanges_of) == 2       # the shared windowed counts
    split = split_stage_specs(plan)
    assert len(split) == len(plan["stages"]) + 1
    assert len({s["id"] for s in split}) == len(split)
    written = [i for s in split for i in s["operators"] if ops[i]["op"] == "exchange"]
    assert sorted(written) == sorted(i for e in exchanges_of for i in e)  # each once
    for spec in split[:-1]:
        (exchange,) = [i for i in spec["operators"] if ops[i]["op"] == "exchange"]
        # a part holds what its exchange needs, and nothing of the other part's
        inputs = {i for o in spec["operators"] for i in ops[o]["inputs"]}
        assert set(spec["operators"]) - {exchange} <= inputs
        sub = stage_plan(plan, spec, "J")
        assert sub["root"] == exchange


def test_an_exchange_sink_hashes_rows_by_key_and_marks_every_partition() -> None:
    exchange = {"topic": "x", "partitions": 4, "distribution": "hash", "keys": [1]}
    sink = ExchangeSink(exchange, producer=2)
    out = sink.records([Emission(10, 1, ("p", 7)), Emission(10, -1, ("q", 7)),
                        Emission(11, 1, ("r", 8))])
    assert [orjson.loads(r.value) for r in out] == [[1, "p", 7], [-1, "q", 7], [1, "r", 8]]
    assert [r.key for r in out] == [b"[7]", b"[7]", b"[8]"]
    assert out[0].partition == out[1].partition and [r.timestamp_ms for r in out] == [10, 10, 11]
    marks = sink.watermarks(11, idle=False)
    assert [m.partition for m in marks] == [0, 1, 2, 3] and {m.key for m in marks} == {
        CONTROL_KEY}
    said = parse_control(marks[0].value)
    assert (said.type, said.watermark, said.producer, said.idle) == ("watermark", 11, "2", False)
    assert parse_control(sink.watermarks(None, idle=True)[0].value).idle
    assert parse_control(sink.end_of_stream(11)[3].value).type == "end_of_stream"
    single = ExchangeSink({"topic": "x", "partitions": 1, "distribution": "single",
                           "keys": []}, producer=0)
    assert {r.partition for r in single.records([Emission(1, 1, (i,)) for i in range(9)])} == {0}


def test_a_downstream_partition_waits_for_every_upstream_task() -> None:
    from pycql.runtime.runner import _Producers

    said = _Producers()
    said.marks.update({"0": 50, "1": 80})
    assert said.offer(3) == (None, False)       # task 2 never heard from: wait
    said.marks["2"] = 20
    assert said.offer(3) == (20, False)         # the slowest task
    said.idle.add("2")
    assert said.offer(3) == (50, False)         # an idle task does not hold time back
    said.ended.update({"0", "1"})
    assert said.offer(3) == (80, True)          # all quiet: as far as any went
    assert _Producers.from_json(said.to_json()) == said


def test_explain_analyze_of_a_staged_job_names_each_stages_tasks(conn: pycql.Connection) -> None:
    insert(conn, "S", "T", rows(_base(), 60))
    cur = conn.cursor()
    cur.execute("CREATE TABLE PerB WITH (stages = 'on') AS "
                "SELECT b, COUNT(*) AS n FROM S GROUP BY b")
    (qid, *_), = cur.fetchall()

    def shown() -> str:
        cur.execute(f"EXPLAIN ANALYZE {qid}")
        return "\n".join(r[0] for r in cur.fetchall())

    text = eventually(lambda: "task 1.5 on" in shown(), True, 20)
    assert text, shown()
    assert "task 0.0 on" in shown()


def test_explain_analyze_counts_an_exchange_once_across_its_stages(
        conn: pycql.Connection) -> None:
    """The downstream stage reads the exchange through a source under the exchange's id:
    its figures are the same rows read back, not more rows of the exchange."""
    insert(conn, "S", "T", rows(_base(), 60))
    cur = conn.cursor()
    cur.execute("CREATE TABLE PerB2 AS SELECT b, COUNT(*) AS n FROM S GROUP BY b")
    (qid, *_), = cur.fetchall()
    want = Counter({(b, 12) for b in range(5)})
    assert eventually(lambda: oracle(conn, "SELECT * FROM PerB2", "table"), want, 20) == want

    def lines() -> dict[str, str]:
        cur.execute(f"EXPLAIN ANALYZE {qid}")
        plan = [r[0].strip() for r in cur.fetchall()]
        return {word: next(x for x in plan if x.startswith(word))
                for word in ("Exchange", "Window")}

    # once the downstream stage reported its figures (its window read the 60 rows)
    assert eventually(lambda: "out=60 " in lines()["Window"], True, 20), lines()
    shown = lines()
    assert "in=60 out=60 " in shown["Exchange"], shown  # not out=120: written + read back
    assert "in=60 out=60 " in shown["Window"], shown
