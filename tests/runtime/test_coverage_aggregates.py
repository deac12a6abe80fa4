"""Issue "SQL and CQL coverage", aggregates: STDDEV_POP/STDDEV_SAMP/STDDEV and
VAR_POP/VAR_SAMP/VARIANCE (exact moments, so incremental under deletes without drift) and
FILTER (WHERE ...) on any aggregate, end to end through the DB-API on the embedded log,
plus the operator's state round trip.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

import pycql
from pycql.runtime.operators import Aggregate

ROWS = [
    (1, 12, 0.2, 1.5, Decimal("1.25"), "ann", 1000),
    (1, 13, 0.5, 2.5, Decimal("2.50"), "bob", 2000),
    (2, 10, 0.2, 3.0, Decimal("0"), "cy", 3000),
    (2, 11, 4.0, 0.5, Decimal("3"), "dee", 30000),
    (1, 20, 1.0, 1.0, Decimal("1"), "eve", 31000),
    (3, 5, 2.0, 2.0, Decimal("2"), "fay", 90000),
]


@pytest.fixture
def cur() -> Iterator[pycql.Cursor]:
    with pycql.connect() as conn:
        c = conn.cursor()
        c.execute("CREATE STREAM S (k INTEGER, v INTEGER, r REAL, d DOUBLE, m DECIMAL(5, 2), "
                  "name VARCHAR(10), ts BIGINT) WITH (timestamp = 'ts')")
        c.executemany("INSERT INTO S VALUES (?, ?, ?, ?, ?, ?, ?)", ROWS)
        yield c


def bounded(cur: pycql.Cursor, sql: str) -> list[tuple[Any, ...]]:
    cur.execute(sql, start="earliest", stop="latest")
    return cur.fetchall()


def snapshot(cur: pycql.Cursor, sql: str) -> list[tuple[Any, ...]]:
    cur.execute(sql)
    return cur.fetchall()


def close(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is b
    return math.isclose(float(a), float(b), rel_tol=1e-12, abs_tol=1e-12)


def test_stddev_pop_of_integers(cur: pycql.Cursor) -> None:
    assert snapshot(cur, "SELECT STDDEV_POP(v) FROM S [RANGE UNBOUNDED] WHERE k = 2") == [(0.5,)]


@pytest.mark.parametrize("col", ["v", "r", "d", "m"])
def test_every_moment_aggregate_per_group(cur: pycql.Cursor, col: str) -> None:
    got = snapshot(cur, f"SELECT k, STDDEV_POP({col}), STDDEV_SAMP({col}), STDDEV({col}), "
                        f"VAR_POP({col}), VAR_SAMP({col}), VARIANCE({col}) "
                        "FROM S [RANGE UNBOUNDED] GROUP BY k")
    idx = {"v": 1, "r": 2, "d": 3, "m": 4}[col]
    for row in got:
        vals = [r[idx] for r in ROWS if r[0] == row[0]]
        vals = [float(v) if col == "r" else v for v in vals]
        want_samp = statistics.variance(vals) if len(vals) > 1 else None
        want = (statistics.pstdev(vals), None if want_samp is None else math.sqrt(want_samp),
                None if want_samp is None else math.sqrt(want_samp),
                statistics.pvariance(vals), want_samp, want_samp)
        assert all(isinstance(x, float) or x is None for x in row[1:]), row
        assert all(close(a, b) for a, b in zip(row[1:], want, strict=True)), (row, want)
    assert sorted(r[0] for r in got) == [1, 2, 3]


def test_sample_variance_of_one_value_is_null(cur: pycql.Cursor) -> None:
    assert snapshot(cur, "SELECT VAR_SAMP(v), STDDEV_SAMP(v), VAR_POP(v) "
                         "FROM S [RANGE UNBOUNDED] WHERE k = 3") == [(None, None, 0.0)]
    assert snapshot(cur, "SELECT STDDEV_POP(v) FROM S [RANGE UNBOUNDED] WHERE k = 9") == [(None,)]


def test_variance_under_deletes_of_a_sliding_window(cur: pycql.Cursor) -> None:
    # ROWS 2: after each arrival the window holds the last two values of v
    got = bounded(cur, "SELECT RSTREAM(VAR_POP(v), STDDEV_SAMP(d)) FROM S [ROWS 2]")
    vs = [r[1] for r in ROWS]
    ds = [r[3] for r in ROWS]
    want = [(0.0, None)] + [(statistics.pvariance(vs[i - 1:i + 1]),
                             statistics.stdev(ds[i - 1:i + 1])) for i in range(1, 6)]
    assert len(got) == len(want)
    assert all(close(a, b) for g, w in zip(got, want, strict=True)
               for a, b in zip(g, w, strict=True)), got


def test_variance_does_not_drift_with_large_offsets() -> None:
    # a naive float sum of squares loses everything at 1e9: moments are exact
    spec = {"id": 1, "op": "aggregate", "output": "relation", "group": [], "aggs": [
        {"fn": "VAR_SAMP", "args": [0], "distinct": False, "type": "DOUBLE"}]}
    cols = [{"name": "x", "type": "DOUBLE"}]
    agg = Aggregate(spec, [{"columns": cols}], [])
    values = [1e9 + 4, 1e9 + 7, 1e9 + 13, 1e9 + 16]
    agg.step(1, [[((v,), 1) for v in values]])
    out = agg.step(2, [[((values[0],), -1), ((1e9 + 1,), 1)]])
    assert out is not None
    assert out[-1] == ((statistics.variance([1e9 + 7, 1e9 + 13, 1e9 + 16, 1e9 + 1]),), 1)


def test_moment_state_round_trip() -> None:
    spec = {"id": 1, "op": "aggregate", "output": "relation", "group": [], "aggs": [
        {"fn": "STDDEV_POP", "args": [0], "distinct": False, "type": "DOUBLE"},
        {"fn": "VAR_SAMP", "args": [1], "distinct": False, "type": "DOUBLE"},
        {"fn": "COUNT", "args": [], "distinct": False, "type": "BIGINT", "filter": 2}]}
    cols = [{"name": "i", "type": "INTEGER"}, {"name": "x", "type": "DOUBLE"},
            {"name": "f", "type": "BOOLEAN"}]
    a = Aggregate(spec, [{"columns": cols}], [])
    a.step(1, [[((1, 0.1, True), 1), ((4, 0.7, False), 1)]])
    b = Aggregate(spec, [{"columns": cols}], [])
    b.load(a.state())
    assert a.step(2, [[((6, 2.5, True), 1)]]) == b.step(2, [[((6, 2.5, True), 1)]])


def test_nan_makes_the_variance_nan(cur: pycql.Cursor) -> None:
    got = snapshot(cur, "SELECT VAR_POP(CASE WHEN k = 3 THEN CAST('NaN' AS DOUBLE) ELSE d END) "
                        "FROM S [RANGE UNBOUNDED]")
    assert math.isnan(got[0][0])


def test_filter_on_count_star(cur: pycql.Cursor) -> None:
    assert snapshot(cur, "SELECT COUNT(*) FILTER (WHERE v > 11) FROM S [RANGE UNBOUNDED]") \
        == [(3,)]


def test_filter_on_every_aggregate_per_group(cur: pycql.Cursor) -> None:
    got = snapshot(cur, "SELECT k, COUNT(*) FILTER (WHERE v > 11), SUM(v) FILTER (WHERE name "
                        "< 'c'), AVG(d) FILTER (WHERE v >= 12), MIN(v) FILTER (WHERE v > 10), "
                        "COUNT(DISTINCT r) FILTER (WHERE v < 20), STDDEV_POP(v) FILTER "
                        "(WHERE v < 20), COUNT(*) FROM S [RANGE UNBOUNDED] GROUP BY k")
    assert sorted(got) == [
        (1, 3, 25, 5.0 / 3, 12, 2, 0.5, 3),
        (2, 0, None, None, 11, 2, 0.5, 2),
        (3, 0, None, None, None, 1, 0.0, 1),
    ]


def test_filter_under_deletes(cur: pycql.Cursor) -> None:
    got = bounded(cur, "SELECT RSTREAM(COUNT(*) FILTER (WHERE k = 1), SUM(v) FILTER "
                       "(WHERE k = 2)) FROM S [ROWS 2]")
    assert got == [(1, None), (2, None), (1, 10), (0, 21), (1, 11), (1, None)]


def test_filter_with_a_null_condition_skips_the_row(cur: pycql.Cursor) -> None:
    got = snapshot(cur, "SELECT COUNT(v) FILTER (WHERE CASE WHEN k = 1 THEN NULL ELSE v > 0 "
                        "END) FROM S [RANGE UNBOUNDED]")
    assert got == [(3,)]
