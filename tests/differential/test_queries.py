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

``PYCQL_DIFF_EXAMPLES`` sets the number of cases per query family (default 60,
six families).
"""

from __future__ import annotations

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
    "SharedWindowRule",
]

#: Past the last input, long enough for every window of the grammar to empty.
DRAIN_MS = 5000


def _plan(sql: str, disabled: list[str]) -> dict[str, Any]:
    from pycql.planner import analyze

    try:
        answer = analyze(sql, CATALOG, {"disabled_rules": disabled})
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


def check_query(sql: str, data: dict[str, Any], every: int) -> None:
    """Plan, run and compare one case; fails with a full description."""
    optimized = _plan(sql, [])
    reference = _plan(sql, STREAMING_RULES)
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
