"""Differential testing of the log-driven runner: QueryRunner over MemoryLog vs the oracle.

The same generated queries and inputs as :mod:`tests.differential.test_queries`,
but the input goes through topics (record timestamps) and
:class:`pycql.runtime.runner.QueryRunner` decides the watermarks, reading in
small batches so that one instant's records are split across polls. A bounded
run (``stop="end"``) closes the instants up to the last input timestamp; they
are compared with the oracle. No record may be late or malformed.
"""

from __future__ import annotations

import os
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.differential.grammar import CATALOG, inputs, query
from tests.differential.test_queries import _operators, _plan
from tests.oracle.driver import RuntimeRun, compare_with_oracle, describe_inputs
from tests.oracle.naive import NaiveEvaluator

EXAMPLES = int(os.environ.get("PYCQL_DIFF_EXAMPLES", "60"))


def _produce(log: Any, data: dict[str, Any]) -> None:
    from pycql.log.base import OutRecord, TopicSpec

    for entry in CATALOG["streams"] + CATALOG["tables"]:
        name, columns = entry["name"], [c["name"] for c in entry["columns"]]
        log.create_topic(TopicSpec(entry["topic"]))
        records = []
        for element in data[name]:
            if name in ("S1", "S2"):
                t, row = element
                records.append(
                    OutRecord(orjson.dumps(dict(zip(columns, row, strict=True))), timestamp_ms=t)
                )
            else:
                t, sign, row = element
                key = orjson.dumps(row[0])
                value = orjson.dumps(dict(zip(columns, row, strict=True))) if sign > 0 else None
                records.append(OutRecord(value, key, timestamp_ms=t))
        if records:
            log.produce(entry["topic"], records)


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(sql=query(), data=inputs(), batch=st.integers(1, 4))
def test_runner_over_memory_log(sql: str, data: dict[str, Any], batch: int) -> None:
    from pycql.log.memory import MemoryLog
    from pycql.runtime.runner import QueryRunner

    plan = _plan(sql, [])
    read = {op["name"].upper() for op in plan["operators"] if op["op"] == "source"}
    # a bounded run closes the instants up to the last timestamp of the topics it reads
    times = sorted({int(e[0]) for name, v in data.items() if name in read for e in v})
    if not times:
        return
    log = MemoryLog()
    _produce(log, data)
    with QueryRunner(plan, log, stop="end", max_records=batch) as runner:
        initial = None if runner.executor.result_kind == "stream" else runner.executor.snapshot()
        emissions = [(e.timestamp, e.sign, tuple(e.row)) for e in runner]
        metrics = runner.metrics
    root_is_stream = (
        next(o for o in plan["operators"] if o["id"] == plan["root"])["output"] == "stream"
    )
    from collections import Counter

    run = RuntimeRun(
        root_is_stream, None if root_is_stream else Counter(map(tuple, initial or [])), emissions
    )
    context = (
        f"\nquery: {sql}\nplan: {_operators(plan)}\nread {batch} record(s) per poll\n"
        f"inputs:\n{describe_inputs(data)}"
    )
    assert metrics.late_records == 0 and metrics.malformed_records == 0, f"{metrics}{context}"
    difference = compare_with_oracle(run, NaiveEvaluator(plan, data), times[-1])
    assert difference is None, difference + context
