"""Statements the statement fuzzer (tests/fuzz) found the planner failing on with InternalError."""

from __future__ import annotations

from typing import Any

import pytest

from pycql.planner import analyze

PLANS = [
    # Interval comparisons of different precision: Calcite's coercion casts to a plain type
    # name (INTERVAL_DAY(10, 6)) that made a non-interval type (ClassCastException).
    "SELECT INTERVAL '1' DAY = INTERVAL '3000000' DAY(7) FROM S",
    "SELECT NULLIF(INTERVAL '99' DAY, INTERVAL '3000000' DAY(7)) FROM S",
    "SELECT INTERVAL '1' HOUR < INTERVAL '2' DAY, INTERVAL '1.5' SECOND = "
    "INTERVAL '1.500' SECOND(3, 3) FROM S",
    "SELECT NULL FROM S UNION SELECT INTERVAL '1' DAY FROM S",
    "SELECT INTERVAL '1' SECOND FROM S UNION SELECT NULL FROM S",
]


@pytest.mark.parametrize("sql", PLANS)
def test_plans(sql: str, catalog: dict[str, Any]) -> None:
    answer = analyze(sql, catalog)
    assert answer["statement"] == "query"


def test_an_integer_literal_too_large_for_any_type_in_insert_values(
    catalog: dict[str, Any],
) -> None:
    from pycql.errors import ProgrammingError

    stream = next(s for s in catalog["streams"] if s["name"] == "S")
    columns = stream["columns"][0]["name"]
    sql = f"INSERT INTO S ({columns}) VALUES (1{'0' * 40})"
    with pytest.raises(ProgrammingError, match="out of range") as info:
        analyze(sql, catalog)
    assert (info.value.line, info.value.column) == (1, sql.index("1" + "0" * 40) + 1)
