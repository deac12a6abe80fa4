"""Differential tests for stream set operations and stream-valued subqueries in FROM
(issue "SQL and CQL coverage", item 13): ``ISTREAM(q1) UNION ALL ISTREAM(q2)`` is the merge
of two streams, ``UNION`` of streams the distinct tuples of each instant
(``RSTREAM(S1 [NOW] UNION S2 [NOW])``), and ``FROM (ISTREAM(...)) [window]`` a window over a
derived stream. Each query is planned, run and compared with the naive evaluator on random
inputs (see test_queries.py). A ROWS window over a derived stream takes the elements of one
instant in the order of their values (docs/cql.md, "Ties in a ROWS window"), as the oracle
does. The oracle knows none of these constructs by name, only the operators their plans are
made of.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given

from tests.differential.grammar import inputs
from tests.differential.test_queries import _EVERY, SETTINGS, check_query

QUERIES = [
    "ISTREAM(SELECT A FROM S1 [NOW] WHERE B > 1) UNION ALL ISTREAM(SELECT B FROM S2 [NOW])",
    "RSTREAM(SELECT A, B FROM S1 [NOW]) UNION ALL DSTREAM(SELECT A, B FROM S2 [ROWS 2]) "
    "UNION ALL SELECT A, B FROM S1 WHERE A > 2",
    "ISTREAM(SELECT A FROM S1 [RANGE 2 SECONDS]) UNION DSTREAM(SELECT A FROM S2 [ROWS 2])",
    "SELECT COUNT(*), SUM(A) FROM (ISTREAM(SELECT A FROM S1 [NOW] WHERE B > 0)) "
    "[RANGE 2 SECONDS] AS X",
    "SELECT A, COUNT(*) FROM (ISTREAM(SELECT A FROM S1 [NOW]) UNION ALL "
    "RSTREAM(SELECT A FROM S2 [NOW])) [UNBOUNDED] AS U GROUP BY A",
    "SELECT ISTREAM(X.A, X.B) FROM (DSTREAM(SELECT A, B FROM S1 [ROWS 2])) [NOW] AS X",
    "SELECT * FROM (RSTREAM(SELECT A, B FROM S2 [ROWS 1])) AS X WHERE B > 1",
    # ROWS windows over derived streams: ties of one instant by value (issue 12, q6's shape)
    "SELECT A, AVG(B) FROM (ISTREAM(SELECT A, B FROM S1 [RANGE 2 SECONDS])) "
    "[PARTITION BY A ROWS 2] AS X GROUP BY A",
    "SELECT * FROM (RSTREAM(SELECT A, B FROM S1 [NOW] UNION ALL SELECT A, B FROM S2 [NOW])) "
    "[ROWS 3] AS X",
    "SELECT B, COUNT(*) FROM (DSTREAM(SELECT A, B FROM S2 [ROWS 2])) "
    "[PARTITION BY B ROWS 2 SLIDE 1] AS X GROUP BY B",
]


@pytest.mark.parametrize("sql", QUERIES)
@SETTINGS
@given(data=inputs(), every=_EVERY)
def test_stream_set_operations_and_derived_streams_match_the_oracle(
    sql: str, data: dict[str, Any], every: int
) -> None:
    check_query(sql, data, every)
