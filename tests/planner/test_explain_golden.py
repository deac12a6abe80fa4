"""EXPLAIN text of a corpus of CQL queries, checked against golden files."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from pycql.planner import analyze
from tests.planner import golden_file

EXPLAIN_FILE = "explain.txt"
EXPLAIN_CASES = golden_file.load(EXPLAIN_FILE)
JSON_FILE = "explain_json.txt"
JSON_CASES = golden_file.load(JSON_FILE)


@pytest.mark.parametrize("case", EXPLAIN_CASES, ids=[c.name for c in EXPLAIN_CASES])
def test_explain_text(case: golden_file.Case, catalog: dict[str, Any]) -> None:
    answer = analyze("EXPLAIN PLAN FOR " + case.sql, catalog)
    assert answer["statement"] == "explain"
    assert answer["format"] == "text"
    golden_file.check(EXPLAIN_FILE, EXPLAIN_CASES, case, "plan", answer["text"])
    expected_kind = case.headers.get("result")
    if expected_kind is not None:
        assert answer["plan"]["result"]["kind"] == expected_kind


@pytest.mark.parametrize("case", JSON_CASES, ids=[c.name for c in JSON_CASES])
def test_explain_json(case: golden_file.Case, catalog: dict[str, Any]) -> None:
    answer = analyze("EXPLAIN PLAN AS JSON FOR " + case.sql, catalog)
    assert answer["statement"] == "explain"
    assert answer["format"] == "json"
    plan = answer["plan"]
    assert plan["pycql_plan"] == 1
    ids = [op["id"] for op in plan["operators"]]
    for op in plan["operators"]:  # topological order: inputs come first
        assert all(ids.index(i) < ids.index(op["id"]) for i in op["inputs"])
    pretty = orjson.dumps(
        {k: v for k, v in plan.items() if k != "sql"},
        option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS,
    ).decode()
    golden_file.check(JSON_FILE, JSON_CASES, case, "json", pretty)
