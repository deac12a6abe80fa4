"""Exchanges and stages (ExchangeRule): EXPLAIN text and the JSON ``stages`` of queries
over partitioned streams, checked against golden files.

The catalog (conftest.py) has ``Orders`` and ``Payments`` hashed by ``customer`` over 6
partitions (co-partitioned), ``Items`` by ``sku`` over 6 and ``Clicks`` over 4
partitions by nothing known.
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from pycql.planner import analyze
from tests.planner import golden_file

STAGES_FILE = "stages.txt"
STAGES_CASES = golden_file.load(STAGES_FILE)


@pytest.mark.parametrize("case", STAGES_CASES, ids=[c.name for c in STAGES_CASES])
def test_stages(case: golden_file.Case, catalog: dict[str, Any]) -> None:
    answer = analyze("EXPLAIN PLAN FOR " + case.sql, catalog)
    plan = answer["plan"]
    exchanges = [op for op in plan["operators"] if op["op"] == "exchange"]
    want = int(case.headers["exchanges"])
    assert len(exchanges) == want, answer["text"]
    assert (len(plan["stages"]) > 1) == (want > 0)
    # every operator is in exactly one stage; an exchange's reader is in a later stage
    stage_of = {i: s["id"] for s in plan["stages"] for i in s["operators"]}
    assert sorted(stage_of) == [op["id"] for op in plan["operators"]]
    for op in plan["operators"]:
        for i in op["inputs"]:
            if plan["operators"][i]["op"] == "exchange":
                assert stage_of[i] < stage_of[op["id"]]
            else:
                assert stage_of[i] == stage_of[op["id"]]
    golden_file.check(STAGES_FILE, STAGES_CASES, case, "plan", answer["text"])
    shown = {"exchanges": [{k: op[k] for k in ("id", "distribution", "keys", "partitions",
                                               "topic", "writes")} for op in exchanges],
             "stages": plan["stages"]}
    golden_file.check(STAGES_FILE, STAGES_CASES, case, "json",
                      orjson.dumps(shown, option=orjson.OPT_INDENT_2).decode())


def test_without_the_rule_a_plan_is_one_stage(catalog: dict[str, Any]) -> None:
    answer = analyze("EXPLAIN PLAN FOR SELECT item, COUNT(*) FROM Orders GROUP BY item",
                     catalog, {"disabled_rules": ["ExchangeRule"]})
    assert [op for op in answer["plan"]["operators"] if op["op"] == "exchange"] == []
    assert len(answer["plan"]["stages"]) == 1
    assert "Stages" not in answer["text"]
