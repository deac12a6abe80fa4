"""Differential tests for the aggregates and functions of the issue "SQL and CQL coverage":
STDDEV/VARIANCE (incremental under the deletes of sliding windows), FILTER (WHERE ...) on
aggregates, and the library functions (CONCAT, LPAD, GREATEST, ...), each query planned,
run and compared with the naive evaluator on random inputs (see test_queries.py).
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given

from tests.differential.grammar import inputs
from tests.differential.test_queries import _EVERY, SETTINGS, check_query

AGGREGATE_QUERIES = [
    "SELECT A, B, COUNT(*), SUM(B), GROUPING(A), GROUPING(A, B) FROM S1 [ROWS 4] "
    "GROUP BY ROLLUP(A, B)",
    "SELECT RSTREAM(A, C, MAX(B), GROUPING_ID(A, C)) FROM S1 [RANGE 2 SECONDS] "
    "GROUP BY CUBE(A, C)",
    "SELECT A, COUNT(DISTINCT B), LISTAGG(C) FROM S1 [ROWS 3] GROUP BY GROUPING SETS ((A), ())",
    "SELECT B FROM S1 [ROWS 2] GROUP BY ROLLUP(B)",
    "SELECT A, LISTAGG(C, ',') FROM S1 [ROWS 4] GROUP BY A",
    "SELECT RSTREAM(STRING_AGG(C, '-' ORDER BY B DESC), LISTAGG(DISTINCT C) WITHIN GROUP "
    "(ORDER BY C), COUNT(*)) FROM S1 [RANGE 2 SECONDS]",
    "SELECT B, LISTAGG(C, ';') WITHIN GROUP (ORDER BY A, C DESC) FILTER (WHERE A > 0) "
    "FROM S1 [ROWS 5] GROUP BY B",
    "SELECT A, STDDEV_POP(B), STDDEV_SAMP(B), VAR_POP(B), VAR_SAMP(B) "
    "FROM S1 [RANGE 1 SECOND] GROUP BY A",
    "SELECT ISTREAM(STDDEV(B), VARIANCE(A), STDDEV_POP(DISTINCT B)) FROM S1 [ROWS 3]",
    "SELECT RSTREAM(VAR_POP(CAST(B AS DOUBLE) / 3), STDDEV_SAMP(CAST(A AS DECIMAL(5, 2)))) "
    "FROM S1 [ROWS 4]",
    "SELECT A, COUNT(*) FILTER (WHERE B > 1), SUM(B) FILTER (WHERE C LIKE 'a%'), "
    "MAX(B) FILTER (WHERE A <> B), AVG(B) FILTER (WHERE B IS NOT NULL) "
    "FROM S1 [ROWS 5] GROUP BY A",
    "SELECT ISTREAM(COUNT(DISTINCT B) FILTER (WHERE A > 0), "
    "STDDEV_POP(B) FILTER (WHERE A < 3), COUNT(*)) FROM S1 [RANGE 2 SECONDS]",
]


@pytest.mark.parametrize("sql", AGGREGATE_QUERIES)
@SETTINGS
@given(data=inputs(), every=_EVERY)
def test_statistical_and_filtered_aggregates_match_the_oracle(
    sql: str, data: dict[str, Any], every: int
) -> None:
    check_query(sql, data, every)


_T = "(TIMESTAMP '2026-05-14 13:45:56' + CAST(A AS INTERVAL DAY) + CAST(B AS INTERVAL HOUR))"

FUNCTION_QUERIES = [
    f"SELECT ISTREAM(TO_CHAR({_T}, 'YYYY-MM-DD HH24:MI:SS Dy Mon Q'), "
    f"TO_CHAR({_T}, 'HH12 AM DDD'), DATE_TRUNC('month', {_T}), DATE_TRUNC('hour', {_T}), "
    f"LAST_DAY({_T}), DAYNAME({_T}), MONTHNAME({_T})) FROM S1 [NOW]",
    f"SELECT ISTREAM(EXTRACT(YEAR FROM {_T}), EXTRACT(ISOYEAR FROM {_T}), "
    f"EXTRACT(DOW FROM {_T}), EXTRACT(DOY FROM {_T}), EXTRACT(CENTURY FROM {_T}), "
    "EXTRACT(DAY FROM INTERVAL '1' DAY * A + INTERVAL '1' HOUR * B), "
    "EXTRACT(HOUR FROM INTERVAL '1' DAY * A + INTERVAL '1' HOUR * B), "
    "EXTRACT(YEAR FROM INTERVAL '1' YEAR * A + INTERVAL '1' MONTH * B), "
    "EXTRACT(MONTH FROM INTERVAL '1' YEAR * A + INTERVAL '1' MONTH * B)) FROM S1 [NOW]",
    "SELECT ISTREAM(TO_TIMESTAMP(CONCAT('2026-0', MOD(ABS(A), 9) + 1, '-1', MOD(ABS(B), 9), "
    "' 10:3', MOD(ABS(A), 6)), 'YYYY-MM-DD HH24:MI'), TO_DATE(CONCAT('0', MOD(ABS(B), 9) + 1, "
    "'/2026'), 'MM/YYYY')) FROM S1 [NOW] WHERE A IS NOT NULL AND B IS NOT NULL",
    "SELECT ISTREAM(TRANSLATE(C, 'ab', 'x'), MD5(C), SHA1(C), REGEXP_SUBSTR(C, 'a+'), "
    "REGEXP_SUBSTR(C, '(b)a'), SUBSTR(C, 2), LTRIM(C), CHR(65 + MOD(ABS(A), 26)), ASCII(C), "
    "TO_BASE64(C)) FROM S1 [NOW]",
    "SELECT ISTREAM(SIN(A), COS(B), ATAN2(A, 1), DEGREES(B), CBRT(A), PI, SINH(B) / 100) "
    "FROM S1 [NOW] WHERE A < 50 AND B < 50",
    "SELECT ISTREAM(A, C) FROM S1 [NOW] WHERE C ILIKE 'A%' OR C NOT ILIKE '%B'",
    "SELECT ISTREAM(CONCAT(C, '-', A, C), CONCAT_WS('/', C, 'x', B), LPAD(C, 3, '*'), "
    "RPAD(C, 5, 'ab'), LEFT(C, 2), RIGHT(C, A), LEFT(C, -1)) FROM S1 [NOW]",
    "SELECT ISTREAM(GREATEST(A, B, 2), LEAST(A, B), NVL(C, 'none'), LENGTH(C), "
    "INSTR(C, 'a'), INSTR(C, 'a', 2), STRPOS(C, 'b')) FROM S1 [NOW]",
    "SELECT ISTREAM(REGEXP_REPLACE(C, 'a+', '_'), SPLIT_PART(C, 'a', 2), REPEAT(C, B), "
    "REVERSE(C), STARTS_WITH(C, 'a')) FROM S1 [NOW] WHERE B < 4",
    "SELECT RSTREAM(C, COUNT(*)) FROM S1 [ROWS 3] WHERE REGEXP_LIKE(C, '^[ab]') GROUP BY C",
    "SELECT ISTREAM(TIMESTAMPDIFF(SECOND, TIMESTAMP '2026-01-01 00:00:00', "
    "TIMESTAMP '2026-01-01 00:00:00' + CAST(A AS INTERVAL SECOND))) FROM S1 [NOW]",
]


@pytest.mark.parametrize("sql", FUNCTION_QUERIES)
@SETTINGS
@given(data=inputs(), every=_EVERY)
def test_library_functions_match_the_oracle(sql: str, data: dict[str, Any], every: int) -> None:
    check_query(sql, data, every)
