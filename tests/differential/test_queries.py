"""Differential testing of whole queries: planner + runtime against the naive oracle.

For every generated query (:mod:`tests.differential.grammar`) and input:

1. the planner plans it twice: optimized (what pycql runs) and with its five
   streaming rewrite rules disabled (the *reference* plan, a direct
   translation of the query);
2. the runtime runs the optimized plan, pushing instant by instant and
   advancing the watermark on a random schedule;
3. the naive oracle evaluates both plans from scratch at every instant.

Two checks, reported separately: RUNTIME (the runtime against the oracle on
the optimized plan it ran) and PLANNER (the oracle on the optimized plan
against the oracle on the reference plan: a rewrite rule that changes the
query's meaning).

A query the planner rejects fails the test: the grammar only produces what
the issue requires pycql to support.

Some families run again over the streams declared partitioned (:data:`PARTITIONED`,
S1 hashed by A, S2 by B, over 6 partitions), so that their plans carry exchanges
(docs/plan-json.md, "Stages and exchanges"), and their reference plans are planned
without ``ExchangeRule`` too.

``PYCQL_DIFF_EXAMPLES`` sets the number of cases per query family (default 60,
six families).
"""

from __future__ import annotations

import copy
import os
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.differential.grammar import (
    CATALOG,
    aggregate_query,
    distinct_query,
    inputs,
    join_query,
    lookup_join_query,
    set_query,
    spj_query,
)
from tests.oracle.driver import (
    compare_oracles,
    compare_with_oracle,
    describe_inputs,
    run_executor,
)
from tests.oracle.naive import NaiveEvaluator

EXAMPLES = int(os.environ.get("PYCQL_DIFF_EXAMPLES", "60"))
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

#: The planner's streaming rewrites (see tests/planner/test_rules.py).
STREAMING_RULES = [
    "FilterWindowTransposeRule",
    "ProjectWindowTransposeRule",
    "IStreamToStreamFilterRule",
    "RStreamLookupJoinRule",
    "SharedSubplanRule",
]

#: The grammar's catalog with partitioned streams: S1 hashed by A, S2 by B (6 each).
PARTITIONED: dict[str, Any] = copy.deepcopy(CATALOG)
for _stream, _key in zip(PARTITIONED["streams"], (["A"], ["B"]), strict=True):
    _stream.update(partitions=6, key=_key)

#: Past the last input, long enough for every window of the grammar to empty.
DRAIN_MS = 5000


def _plan(sql: str, disabled: list[str],
          catalog: dict[str, Any] | None = None) -> dict[str, Any]:
    from pycql.planner import analyze

    try:
        answer = analyze(sql, catalog or CATALOG, {"disabled_rules": disabled})
    except Exception as exc:  # a rejected query of the grammar is a finding
        raise AssertionError(
            f"the planner rejected a generated query:\n  {sql}\n  {exc!r}"
        ) from exc
    assert answer["statement"] == "query", answer
    plan: dict[str, Any] = answer["plan"]
    return plan


def _operators(plan: dict[str, Any]) -> str:
    parts = []
    for op in plan["operators"]:
        extra = op.get("window") or op.get("join_type") or ""
        parts.append(
            f"{op['id']}:{op['op']}{'(' + str(extra) + ')' if extra else ''}<-{op['inputs']}"
        )
    return " ".join(parts)


def check_query(sql: str, data: dict[str, Any], every: int, partitioned: bool = False) -> None:
    """Plan, run and compare one case; fails with a full description. ``partitioned``:
    over :data:`PARTITIONED`, the reference plan also without exchanges."""
    catalog = PARTITIONED if partitioned else CATALOG
    optimized = _plan(sql, [], catalog)
    reference = _plan(sql, [*STREAMING_RULES, "ExchangeRule"] if partitioned
                      else STREAMING_RULES, catalog)
    times = sorted({int(e[0]) for v in data.values() for e in v})
    until = (times[-1] if times else 0) + DRAIN_MS
    advance_points = set(times[::every])
    run = run_executor(optimized, data, until, advance_after=lambda t: t in advance_points)
    oracle = NaiveEvaluator(optimized, data)
    problems = []
    runtime_difference = compare_with_oracle(run, oracle, until)
    if runtime_difference is not None:
        problems.append(
            f"RUNTIME: it disagrees with the oracle on the plan it ran: {runtime_difference}"
        )
    rule_difference = compare_oracles(oracle, NaiveEvaluator(reference, data), until)
    if rule_difference is not None:
        problems.append(
            "PLANNER: the optimized plan and the plan without streaming rules mean "
            f"different things: {rule_difference}"
        )
    if problems:
        raise AssertionError(
            "\n".join(problems) + f"\nquery: {sql}\n"
            f"optimized plan: {_operators(optimized)}\n"
            f"reference plan: {_operators(reference)}\n"
            f"advance after every {every} input instant(s), then to {until}\n"
            f"inputs:\n{describe_inputs(data)}"
        )


_EVERY = st.integers(1, 3)


@SETTINGS
@given(sql=spj_query(), data=inputs(), every=_EVERY)
def test_select_project_filter(sql: str, data: dict[str, Any], every: int) -> None:
    check_query(sql, data, every)


@SETTINGS
@given(sql=distinct_query(), data=inputs(), every=_EVERY)
def test_distinct(sql: str, data: dict[str, Any], every: int) -> None:
    check_query(sql, data, every)


@SETTINGS
@given(sql=aggregate_query(), data=inputs(), every=_EVERY)
def test_group_by_having(sql: str, data: dict[str, Any], every: int) -> None:
    check_query(sql, data, every)


@SETTINGS
@given(sql=join_query(), data=inputs(), every=_EVERY)
def test_joins(sql: str, data: dict[str, Any], every: int) -> None:
    check_query(sql, data, every)


@SETTINGS
@given(sql=lookup_join_query(), data=inputs(), every=_EVERY)
def test_lookup_join(sql: str, data: dict[str, Any], every: int) -> None:
    check_query(sql, data, every)


@SETTINGS
@given(sql=set_query(), data=inputs(), every=_EVERY)
def test_set_operations(sql: str, data: dict[str, Any], every: int) -> None:
    check_query(sql, data, every)


@SETTINGS
@given(sql=aggregate_query(), data=inputs(), every=_EVERY)
def test_group_by_over_partitioned_streams(sql: str, data: dict[str, Any], every: int) -> None:
    check_query(sql, data, every, partitioned=True)


@SETTINGS
@given(sql=join_query(), data=inputs(), every=_EVERY)
def test_joins_over_partitioned_streams(sql: str, data: dict[str, Any], every: int) -> None:
    check_query(sql, data, every, partitioned=True)


def test_partitioned_plans_have_exchanges() -> None:
    """The partitioned families do run multi-stage plans."""
    grouped = _plan("SELECT B, COUNT(*) FROM S1 [RANGE 1 SECOND] GROUP BY B", [], PARTITIONED)
    joined = _plan("SELECT * FROM S1 [RANGE 1 SECOND] JOIN S2 [RANGE 1 SECOND] "
                   "ON S1.A = S2.A", [], PARTITIONED)
    for plan in (grouped, joined):
        assert any(op["op"] == "exchange" for op in plan["operators"])
        assert len(plan["stages"]) == 2
