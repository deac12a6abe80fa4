"""Two-phase aggregation (``TwoPhaseAggregateRule``, docs/explain-format.md) against one
phase, over random inputs, checked with the naive evaluator.

Every query reads S1 or S2 declared partitioned (``WITH (partitions = 6, key = 'A')``
for S1, ``key = 'B'`` for S2: :data:`tests.differential.test_queries.PARTITIONED`), so
that ExchangeRule plans an exchange below each aggregate that does not group by the key.
Each case is planned with the rule on and off, and two checks are made:

* RUNTIME: what the runtime computes from the two-phase plan equals what the naive
  evaluator computes from the one-phase plan (an independent reference that shares no
  code with the runtime);
* PLANNER: the naive evaluator gives the same answers for both plans.

The inputs have NULLs, duplicates and equal timestamps (tests/differential/grammar.py);
windows expire their elements (RANGE, SLIDE, NOW), so the partials are retracted and the
final aggregates see deletes; ``[UNBOUNDED]`` only inserts. Each query says whether the
rule must split it: a case where the rule does not fire checks that it leaves the plan
alone.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given

from tests.differential.grammar import inputs
from tests.differential.test_queries import _EVERY, DRAIN_MS, PARTITIONED, SETTINGS, _plan
from tests.oracle.driver import (
    compare_oracles,
    compare_with_oracle,
    describe_inputs,
    run_executor,
)
from tests.oracle.naive import NaiveEvaluator

RULE = "TwoPhaseAggregateRule"
SLIDE = "[RANGE 750 MILLISECONDS SLIDE 250 MILLISECONDS]"
SLIDE_LONG = "[RANGE 1250 MILLISECONDS SLIDE 500 MILLISECONDS]"
GLOBAL = "COUNT(*), COUNT(B), SUM(B), AVG(B), MIN(B), MAX(B)"

#: (query, whether the rule splits its aggregate)
CASES: list[tuple[str, bool]] = [
    # a global aggregate over a partitioned input: always split
    (f"SELECT {GLOBAL} FROM S1 [RANGE 500 MILLISECONDS]", True),
    (f"SELECT {GLOBAL} FROM S1 {SLIDE}", True),
    (f"SELECT {GLOBAL} FROM S1 [UNBOUNDED]", True),
    (f"SELECT {GLOBAL} FROM S1 [NOW]", True),
    ("SELECT ISTREAM(COUNT(*), SUM(A), MIN(C), MAX(C)) FROM S1 [RANGE 1 SECOND]", True),
    ("SELECT DSTREAM(AVG(A), MAX(A)) FROM S2 [RANGE 250 MILLISECONDS] WHERE A IS NOT NULL",
     True),
    ("SELECT COUNT(*) FILTER (WHERE B > 1), SUM(A) FILTER (WHERE C = 'x'), AVG(A) "
     "FROM S1 [RANGE 750 MILLISECONDS]", True),
    ("SELECT SUM(A) / 2, AVG(A) + 1 FROM S1 [RANGE 500 MILLISECONDS] WHERE B <> 0", True),
    # a grouped aggregate over a sliding window, by a column other than the key
    (f"SELECT B, {GLOBAL} FROM S1 {SLIDE} GROUP BY B", True),
    (f"SELECT C, COUNT(*), SUM(A), AVG(A), MIN(A), MAX(B) FROM S1 {SLIDE_LONG} GROUP BY C",
     True),
    (f"SELECT B, C, COUNT(A), MIN(A) FROM S1 {SLIDE} GROUP BY B, C HAVING COUNT(*) > 1", True),
    (f"SELECT ISTREAM(A, SUM(B)) FROM S2 {SLIDE} GROUP BY A", True),
    (f"SELECT DISTINCT B FROM S1 {SLIDE}", True),
    # left alone: an unslid window, a call that does not decompose, grouping by the key
    ("SELECT B, COUNT(*), SUM(A), AVG(A) FROM S1 [RANGE 500 MILLISECONDS] GROUP BY B", False),
    ("SELECT B, MIN(A), MAX(A) FROM S1 [UNBOUNDED] GROUP BY B", False),
    ("SELECT COUNT(DISTINCT B), COUNT(*) FROM S1 [RANGE 500 MILLISECONDS]", False),
    (f"SELECT A, COUNT(*), SUM(B) FROM S1 {SLIDE} GROUP BY A", False),
]


def _aggregates(plan: dict[str, Any]) -> int:
    return sum(op["op"] == "aggregate" for op in plan["operators"])


@pytest.mark.parametrize(("sql", "splits"), CASES, ids=[c[0] for c in CASES])
@SETTINGS
@given(data=inputs(), every=_EVERY)
def test_two_phases_give_what_one_phase_gives(
    sql: str, splits: bool, data: dict[str, Any], every: int
) -> None:
    on = _plan(sql, [], PARTITIONED)
    off = _plan(sql, [RULE], PARTITIONED)
    assert (_aggregates(on) == 2 * _aggregates(off)) == splits, on["operators"]
    if splits:
        assert any(op["op"] == "exchange" for op in off["operators"])
    times = sorted({int(e[0]) for v in data.values() for e in v})
    until = (times[-1] if times else 0) + DRAIN_MS
    advance_points = set(times[::every])
    run = run_executor(on, data, until, advance_after=lambda t: t in advance_points)
    one_phase = NaiveEvaluator(off, data)
    problems = []
    runtime_difference = compare_with_oracle(run, one_phase, until)
    if runtime_difference is not None:
        problems.append(f"RUNTIME: two phases differ from the oracle's one phase: "
                        f"{runtime_difference}")
    planner_difference = compare_oracles(NaiveEvaluator(on, data), one_phase, until)
    if planner_difference is not None:
        problems.append(f"PLANNER: the oracle differs on the two plans: {planner_difference}")
    assert not problems, "\n".join(problems) + (
        f"\nquery: {sql}\nadvance after every {every} input instant(s), then to {until}\n"
        f"inputs:\n{describe_inputs(data)}")
