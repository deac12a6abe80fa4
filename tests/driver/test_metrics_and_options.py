"""Bad records are counted where the user sees them (``cursor.metrics``); connection options."""

from __future__ import annotations

import time

import orjson
import pytest

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


def test_connect_timeout_bounds_the_wait_for_a_missing_broker() -> None:
    started = time.monotonic()
    with pytest.raises(pycql.OperationalError) as info:
        pycql.connect("kafka://127.0.0.1:1", connect_timeout=1)
    assert time.monotonic() - started < 30
    assert "127.0.0.1:1" in str(info.value) and "pycql.kafka start" in str(info.value)


def test_an_unknown_kafka_option_is_an_interface_error() -> None:
    with pytest.raises(pycql.InterfaceError, match=r"no\.such\.thing"):
        pycql.connect("kafka://127.0.0.1:1", no_such_thing=1)
