"""Each streaming rule changes the plans it should and leaves the others alone.

Like Calcite's RelOptRulesTest: every case plans a query twice, once with the
rule disabled (``before``) and once with every rule (``after``), and checks
both against golden text.
"""

from __future__ import annotations

from typing import Any

import pytest

from pycql.planner import analyze
from tests.planner import golden_file

RULES_FILE = "rules.txt"
RULE_CASES = golden_file.load(RULES_FILE)


def _explain(sql: str, catalog: dict[str, Any], disabled: list[str]) -> str:
    answer = analyze("EXPLAIN PLAN FOR " + sql, catalog, {"disabled_rules": disabled})
    return str(answer["text"])


@pytest.mark.parametrize("case", RULE_CASES, ids=[c.name for c in RULE_CASES])
def test_rule(case: golden_file.Case, catalog: dict[str, Any]) -> None:
    before = _explain(case.sql, catalog, [case.headers["rule"]])
    after = _explain(case.sql, catalog, [])
    if case.headers["expect"] == "changed":
        assert before != after, f"{case.headers['rule']} did not change the plan:\n{after}"
    else:
        assert before == after, f"{case.headers['rule']} changed a plan it must leave alone"
    golden_file.check(RULES_FILE, RULE_CASES, case, "before", before)
    golden_file.check(RULES_FILE, RULE_CASES, case, "after", after)


def test_every_rule_is_covered() -> None:
    rules = {c.headers["rule"] for c in RULE_CASES}
    assert rules == {
        "FilterWindowTransposeRule",
        "ProjectWindowTransposeRule",
        "IStreamToStreamFilterRule",
        "RStreamLookupJoinRule",
        "SharedSubplanRule",
        "WindowTopNRule",
        "ExchangeRule",
        "TwoPhaseAggregateRule",
        "AggregateExtractProjectRule",
        "ProjectJoinTransposeRule",
    }
    for rule in rules:
        expectations = {c.headers["expect"] for c in RULE_CASES if c.headers["rule"] == rule}
        assert expectations == {"changed", "unchanged"}, rule
