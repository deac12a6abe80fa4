"""Differential tests for the numeric typing and grammar fixes of the issue "SQL and CQL
coverage": AVG of integers (a DOUBLE), approximate meeting exact numerics, REAL against
decimal literals, CASE literals of different lengths (VARCHAR), REPLACE with an empty
pattern, and the comma binding looser than JOIN, each query planned, run and compared with
the naive evaluator on random inputs (see test_queries.py).
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given

from tests.differential.grammar import inputs
from tests.differential.test_queries import _EVERY, SETTINGS, check_query

QUERIES = [
    "SELECT A, AVG(B) FROM S1 [RANGE 1 SECOND] GROUP BY A",
    "SELECT ISTREAM(AVG(A), AVG(DISTINCT B), SUM(B) / 2) FROM S1 [ROWS 3]",
    "SELECT ISTREAM(CAST(A AS DOUBLE) + 1.5, CAST(B AS REAL) * 0.5, 2.25 - CAST(A AS REAL)) "
    "FROM S1 [NOW] WHERE CAST(A AS REAL) / 2 <> 0.5",
    "SELECT RSTREAM(A) FROM S1 [ROWS 2] WHERE CAST(B AS REAL) / 4 BETWEEN 0.25 AND 0.75",
    "SELECT ISTREAM(CASE WHEN A > 1 THEN 'hi' ELSE 'lowest' END, "
    "CASE B WHEN 1 THEN 'one' WHEN 2 THEN 'three' END) FROM S1 [NOW]",
    "SELECT ISTREAM(REPLACE(C, '', 'x'), REPLACE(C, 'a', 'bb'), C) FROM S1 [NOW]",
    "SELECT ISTREAM(*) FROM S1 [ROWS 2] AS X LEFT JOIN S2 [ROWS 2] AS Y ON X.A = Y.A, "
    "S1 [NOW] AS Z RIGHT JOIN S2 [RANGE 1 SECOND] AS W ON Z.B = W.B",
]


@pytest.mark.parametrize("sql", QUERIES)
@SETTINGS
@given(data=inputs(), every=_EVERY)
def test_numeric_typing_and_join_precedence_match_the_oracle(
    sql: str, data: dict[str, Any], every: int
) -> None:
    check_query(sql, data, every)
