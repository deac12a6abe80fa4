"""Bad records are counted where the user sees them: ``cursor.metrics``."""

from __future__ import annotations

import orjson

import pycql
from pycql.log import OutRecord


def test_malformed_records_are_counted_and_kept() -> None:
    with pycql.connect() as conn:
        cur = conn.cursor()
        cur.execute("CREATE STREAM S (A INTEGER)")
        cur.executemany("INSERT INTO S VALUES (?)", [(1,), (2,)])
        conn.database.log.produce("S", [OutRecord(b"{bad", timestamp_ms=2**41),
                                        OutRecord(b'{"A": "x"}', timestamp_ms=2**41)])
        assert cur.metrics is None  # an INSERT runs no query
        cur.execute("SELECT COUNT(*) FROM S")
        assert cur.fetchall() == [(2,)]
        metrics = cur.metrics
        assert metrics is not None
        assert (metrics.records_in, metrics.malformed_records, metrics.late_records) == (4, 2, 0)
        kept = conn.database.log.reader(["S.dead-letters"]).poll(10, 1.0)
        assert sorted(orjson.loads(r.value)["offset"] for r in kept) == [2, 3]


def test_a_stream_query_counts_as_it_runs() -> None:
    with pycql.connect() as conn:
        cur = conn.cursor()
        cur.execute("CREATE STREAM S (A INTEGER)")
        cur.executemany("INSERT INTO S VALUES (?)", [(1,), (2,), (3,)])
        cur.execute("SELECT ISTREAM(*) FROM S WHERE A > 1", start="earliest", stop="latest")
        assert sorted(cur.fetchall()) == [(2,), (3,)]
        metrics = cur.metrics
        assert metrics is not None and metrics.records_in == 3 and metrics.emitted == 2
        cur.execute("SHOW STREAMS")
        assert cur.metrics is None
