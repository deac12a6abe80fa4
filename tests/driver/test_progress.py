"""``cursor.execute(..., progress=callback)`` and ``cursor.progress``: records read of the
total (from the log's offsets), on the embedded log and on Kafka. The expected totals are
counted by hand (the rows inserted) or, on Kafka, asked of the broker through
confluent-kafka's own consumer."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest

import pycql

ROWS = 3000


def _name(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


def _fill(cur: pycql.Cursor, stream: str, partitions: int, rows: int = ROWS) -> None:
    cur.execute(f"CREATE STREAM {stream} (k INTEGER, v INTEGER, ts BIGINT) "
                f"WITH (timestamp = 'ts', partitions = {partitions})")
    cur.executemany(f"INSERT INTO {stream} VALUES (?, ?, ?)",
                    [(i % 5, i, 1000 + i) for i in range(rows)])


def _check_reports(reports: list[pycql.Progress], total: int | None) -> None:
    assert reports, "no progress was reported"
    assert all(r.total == total for r in reports)
    reads = [r.read for r in reports]
    assert reads == sorted(reads), "read went backwards"
    assert [r.done for r in reports] == [False] * (len(reports) - 1) + [True]
    assert reports[-1].read == total  # the whole input was read
    assert reports[-1].fraction == 1.0 and reports[-1].eta == 0.0


@pytest.fixture
def cur() -> Iterator[pycql.Cursor]:
    conn = pycql.connect()
    try:
        yield conn.cursor()
    finally:
        conn.close()


def test_a_snapshot_reports_its_progress_to_the_end(cur: pycql.Cursor) -> None:
    _fill(cur, "S", partitions=3)
    reports: list[pycql.Progress] = []
    cur.execute("SELECT k, COUNT(*) FROM S [RANGE UNBOUNDED] GROUP BY k", progress=reports.append)
    assert sorted(cur.fetchall()) == [(k, ROWS // 5) for k in range(5)]
    _check_reports(reports, ROWS)
    assert cur.progress == reports[-1]


def test_a_bounded_replay_between_offsets_counts_only_what_it_reads(cur: pycql.Cursor) -> None:
    _fill(cur, "S", partitions=1)
    reports: list[pycql.Progress] = []
    cur.execute("SELECT ISTREAM(k, v) FROM S [RANGE 1 SECOND]", start={0: 500}, stop={0: 2500},
                progress=reports.append)
    rows = cur.fetchall()
    assert sorted(v for _, v in rows) == list(range(500, 2500))
    _check_reports(reports, 2000)
    assert cur.progress == reports[-1]


def test_a_continuous_query_has_no_total(cur: pycql.Cursor) -> None:
    _fill(cur, "S", partitions=2, rows=10)
    reports: list[pycql.Progress] = []
    cur.execute("SELECT ISTREAM(k, v) FROM S [NOW]", start="earliest", progress=reports.append)
    cur.fetchmany(10, timeout=2)
    assert cur.progress is not None and cur.progress.total is None
    assert cur.progress.read == 10 and cur.progress.eta is None and not cur.progress.done


def test_statements_without_a_query_have_no_progress(cur: pycql.Cursor) -> None:
    cur.execute("CREATE STREAM S (a INTEGER)")
    assert cur.progress is None


def test_an_exception_in_the_callback_stops_the_query(cur: pycql.Cursor) -> None:
    _fill(cur, "S", partitions=1)

    def refuse(progress: pycql.Progress) -> None:
        raise RuntimeError("enough")

    with pytest.raises(RuntimeError, match="enough"):
        cur.execute("SELECT COUNT(*) FROM S [RANGE UNBOUNDED]", progress=refuse)
    cur.execute("SELECT COUNT(*) FROM S [RANGE UNBOUNDED]")  # the cursor is still usable
    assert cur.fetchall() == [(ROWS,)]


def _ends_on_the_broker(bootstrap: str, topic: str, partitions: int) -> dict[int, int]:
    """The high watermark of each partition, asked of the broker by confluent-kafka, once
    it has settled (a transaction's commit markers land just after the commit returns)."""
    from confluent_kafka import Consumer, TopicPartition

    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": _name("probe")})
    try:
        def ends() -> dict[int, int]:
            return {p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1]
                    for p in range(partitions)}

        before, now = None, ends()
        while now != before:
            time.sleep(0.3)
            before, now = now, ends()
        return now
    finally:
        consumer.close()


@pytest.mark.kafka
def test_progress_on_kafka(kafka_bootstrap: str) -> None:
    conn = pycql.connect(f"kafka://{kafka_bootstrap}")
    try:
        cur = conn.cursor()
        stream = _name("progress")
        _fill(cur, stream, partitions=2)
        ends = _ends_on_the_broker(kafka_bootstrap, stream, 2)
        assert sum(ends.values()) >= ROWS  # the records, and any transaction markers

        reports: list[pycql.Progress] = []
        cur.execute(f"SELECT k, COUNT(*) FROM {stream} [RANGE UNBOUNDED] GROUP BY k",
                    progress=reports.append)
        assert sorted(cur.fetchall()) == [(k, ROWS // 5) for k in range(5)]
        _check_reports(reports, sum(ends.values()))

        reports.clear()
        cur.execute(f"SELECT ISTREAM(k, v) FROM {stream} [NOW]", start={0: 100, 1: 100},
                    stop="latest", progress=reports.append)
        cur.fetchall()
        # a start past a partition's end starts at its end (how rows spread is the
        # partitioner's business: a partition may hold fewer than 100)
        _check_reports(reports, sum(max(0, end - 100) for end in ends.values()))
    finally:
        conn.close()
