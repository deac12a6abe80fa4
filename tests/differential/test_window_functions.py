"""Differential tests for SQL window functions over relations (``over``) and the incremental
top-N per group (``top_n``): each query planned, run instant by instant and compared with the
naive evaluator, which computes every window function from its definition over the whole
relation at each instant (see test_queries.py). The inputs have NULLs and many ties (peers),
windows that delete (RANGE, ROWS) and a table with updates.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given

from pycql.planner import analyze
from tests.differential.grammar import CATALOG, inputs
from tests.differential.test_queries import _EVERY, SETTINGS, check_query

OVER_QUERIES = [
    "SELECT A, B, ROW_NUMBER() OVER (PARTITION BY A ORDER BY B DESC), "
    "RANK() OVER (PARTITION BY A ORDER BY B), DENSE_RANK() OVER (PARTITION BY A ORDER BY B) "
    "FROM S1 [RANGE 1 SECOND]",
    "SELECT A, B, SUM(B) OVER (PARTITION BY A ORDER BY B), COUNT(*) OVER (PARTITION BY A), "
    "MIN(B) OVER (ORDER BY A ROWS UNBOUNDED PRECEDING), MAX(B) OVER (PARTITION BY C), "
    "AVG(B) OVER (PARTITION BY A ORDER BY B) FROM S1 [ROWS 4]",
    "SELECT C, COUNT(B) OVER (PARTITION BY C ORDER BY A ROWS BETWEEN UNBOUNDED PRECEDING AND "
    "CURRENT ROW), SUM(A) OVER (PARTITION BY C ORDER BY A RANGE BETWEEN UNBOUNDED PRECEDING "
    "AND UNBOUNDED FOLLOWING) FROM S1 [RANGE 2 SECONDS] WHERE A > 0",
    "SELECT K, V, RANK() OVER (ORDER BY V DESC), SUM(V) OVER (ORDER BY K) FROM R",
    "SELECT ISTREAM(A, B, ROW_NUMBER() OVER (PARTITION BY A ORDER BY B)) FROM S2 [ROWS 3]",
    "SELECT ISTREAM(B, ROW_NUMBER() OVER (ORDER BY B DESC), COUNT(*) OVER ()) FROM S2",
    "SELECT DSTREAM(A, MAX(B) OVER (PARTITION BY A)) FROM S1 [RANGE UNBOUNDED] WHERE B > 0",
    "SELECT A, n FROM (SELECT A, DENSE_RANK() OVER (ORDER BY A) AS n FROM S2 [RANGE 1 SECOND]) "
    "WHERE n <= 2",
]

TOP_N_QUERIES = [
    "SELECT A, B FROM (SELECT A, B, ROW_NUMBER() OVER (PARTITION BY A ORDER BY B DESC) AS rn "
    "FROM S1 [RANGE UNBOUNDED]) WHERE rn <= 2",
    "SELECT A, B, C, rn FROM (SELECT A, B, C, ROW_NUMBER() OVER (PARTITION BY C ORDER BY B, A "
    "DESC) AS rn FROM S1 [RANGE 1 SECOND]) WHERE rn < 3 AND B IS NOT NULL",
    "SELECT A, B FROM (SELECT A, B, ROW_NUMBER() OVER (ORDER BY B) AS rn FROM S2 [ROWS 4]) "
    "WHERE 1 = rn",
    "SELECT K, V, rn FROM (SELECT K, V, ROW_NUMBER() OVER (PARTITION BY V ORDER BY K DESC) AS rn "
    "FROM R) WHERE rn <= 1",
    "SELECT RSTREAM(A, B) FROM (SELECT A, B, ROW_NUMBER() OVER (PARTITION BY A ORDER BY B) AS "
    "rn FROM S2 [RANGE 500 MILLISECONDS]) WHERE rn <= 2",
]


@pytest.mark.parametrize("sql", OVER_QUERIES)
@SETTINGS
@given(data=inputs(), every=_EVERY)
def test_window_functions_match_the_oracle(sql: str, data: dict[str, Any], every: int) -> None:
    check_query(sql, data, every)


@pytest.mark.parametrize("sql", TOP_N_QUERIES)
@SETTINGS
@given(data=inputs(), every=_EVERY)
def test_top_n_matches_the_oracle(sql: str, data: dict[str, Any], every: int) -> None:
    check_query(sql, data, every)


#: Over the streams declared partitioned (S1 hashed by A, S2 by B): the exchanges on the
#: PARTITION BY columns (or to one task) leave the answers as they are.
PARTITIONED_QUERIES = [*OVER_QUERIES[:3], OVER_QUERIES[6], TOP_N_QUERIES[0], TOP_N_QUERIES[1],
                       TOP_N_QUERIES[4]]


@pytest.mark.parametrize("sql", PARTITIONED_QUERIES)
@SETTINGS
@given(data=inputs(), every=_EVERY)
def test_window_functions_over_partitioned_streams_match_the_oracle(
    sql: str, data: dict[str, Any], every: int
) -> None:
    check_query(sql, data, every, partitioned=True)


@pytest.mark.parametrize("sql", TOP_N_QUERIES)
def test_top_n_queries_plan_a_top_n(sql: str) -> None:
    ops = [op["op"] for op in analyze(sql, CATALOG)["plan"]["operators"]]
    assert "top_n" in ops and "over" not in ops, ops
