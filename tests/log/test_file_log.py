"""The durable embedded log (FileLog) beyond the shared contract (test_log_behaviour.py and
test_transactions.py run on it too): what survives closing and reopening, a ``kill -9``
at a random point, one writer process at a time, and readers in other processes."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from pycql.errors import OperationalError
from pycql.log.base import OutRecord, Record, TopicSpec
from pycql.log.file import FileLog

ROOT = Path(__file__).resolve().parents[2]


def read_all(log: FileLog, topic: str) -> list[Record]:
    """Every record of ``topic`` (its end taken when called)."""
    reader = log.reader([topic])
    end = reader.end_offsets()
    got: list[Record] = []
    deadline = time.monotonic() + 10
    while any(reader.position()[tp] < e for tp, e in end.items()):
        got += reader.poll(100_000, 0.1)
        assert time.monotonic() < deadline, "the reader did not reach the end"
    reader.close()
    return got


def child(code: str, *args: str) -> subprocess.Popen[str]:
    """``code`` in a new Python process (the worktree's pycql), stdout piped, line-buffered."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.Popen([sys.executable, "-u", "-c", textwrap.dedent(code), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def test_everything_survives_closing_and_reopening(tmp_path: Path) -> None:
    path = tmp_path / "db.pycql"
    with FileLog(path) as log:
        log.create_topic(TopicSpec("S", partitions=3))
        log.create_topic(TopicSpec("C", compacted=True))
        log.create_topic(TopicSpec("Gone"))
        log.produce("S", [OutRecord(b"v%d" % i, key=b"k%d" % i, timestamp_ms=1000 + i)
                          for i in range(30)])
        log.produce("C", [OutRecord(None, key=b"tomb", timestamp_ms=5)])
        log.produce("Gone", [OutRecord(b"x")])
        log.delete_topic("Gone")
        committed = log.transactional_producer("t")
        committed.begin()
        committed.produce("S", [OutRecord(b"txn", partition=1, timestamp_ms=7)])
        committed.commit()
        aborted = log.transactional_producer("u")
        aborted.begin()
        aborted.produce("S", [OutRecord(b"aborted", partition=1)])
        aborted.abort()
        before = sorted(read_all(log, "S"))
    with FileLog(path) as log:
        assert log.topics() == ["C", "S"]
        assert log.spec("S") == TopicSpec("S", 3) and log.spec("C") == TopicSpec("C", 1, True)
        after = sorted(read_all(log, "S"))
        assert after == before
        assert len(after) == 31 and b"aborted" not in {r.value for r in after}
        # the keys went where Kafka's partitioner puts them, the offsets go on from the end
        assert [(r.key, r.value) for r in read_all(log, "C")] == [(b"tomb", None)]
        log.produce("S", [OutRecord(b"next", partition=1)])
        ones = [r for r in read_all(log, "S") if r.partition == 1]
        assert [r.offset for r in ones] == list(range(len(ones)))
        assert ones[-1].value == b"next"


def test_a_transaction_is_one_sqlite_transaction(tmp_path: Path) -> None:
    path = tmp_path / "db.pycql"
    with FileLog(path) as log:
        log.create_topic(TopicSpec("A"))
        log.create_topic(TopicSpec("B", partitions=2))
        producer = log.transactional_producer("t")
        producer.begin()
        producer.produce("A", [OutRecord(b"a1"), OutRecord(b"a2")])
        producer.produce("B", [OutRecord(b"b1", partition=1)])
        producer.produce("A", [OutRecord(b"a3")])
        producer.commit()
        open_one = log.transactional_producer("u")
        open_one.begin()
        open_one.produce("A", [OutRecord(b"never")])  # open when the log closes
        assert [r.value for r in read_all(log, "A")] == [b"a1", b"a2", b"a3"]
    rows = sqlite3.connect(path).execute(
        "SELECT t.name, r.partition, r.offset, r.value FROM records r "
        "JOIN topics t ON t.id = r.topic ORDER BY r.seq").fetchall()
    assert rows == [("A", 0, 0, b"a1"), ("A", 0, 1, b"a2"), ("B", 1, 0, b"b1"),
                    ("A", 0, 2, b"a3")]


def test_a_fenced_producer_writes_nothing_to_the_file(tmp_path: Path) -> None:
    path = tmp_path / "db.pycql"
    with FileLog(path) as log:
        log.create_topic(TopicSpec("A"))
        old = log.transactional_producer("t")
        old.begin()
        old.produce("A", [OutRecord(b"zombie")])
        log.transactional_producer("t")
        with pytest.raises(OperationalError):
            old.commit()
    with FileLog(path) as log:
        assert read_all(log, "A") == []


_WRITER = """
    import sys, time
    from pycql.log.base import OutRecord, TopicSpec
    from pycql.log.file import FileLog
    log = FileLog(sys.argv[1])
    log.create_topic(TopicSpec("S", partitions=2))
    log.create_topic(TopicSpec("T"))
    producer = log.transactional_producer("p")
    for n in range(int(sys.argv[2])):
        if n % 2:
            log.produce("S", [OutRecord(b"%d.%d" % (n, i), key=b"%d" % i) for i in range(50)])
        else:  # a transaction over two topics
            producer.begin()
            producer.produce("S", [OutRecord(b"%d.%d" % (n, i)) for i in range(25)])
            producer.produce("T", [OutRecord(b"%d" % n)])
            producer.produce("S", [OutRecord(b"%d.%d" % (n, i)) for i in range(25, 50)])
            producer.commit()
        print(n, flush=True)  # acknowledged: durable
        time.sleep(float(sys.argv[3]))
    print("done", flush=True)
    time.sleep(60)
"""


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_kill_9_loses_no_acknowledged_write(tmp_path: Path, seed: int) -> None:
    """A child writes batches and transactions and acknowledges each; SIGKILL at a random
    point; after reopening every acknowledged batch is there, whole, and every batch that
    is there is whole (none half-written)."""
    path = tmp_path / "db.pycql"
    proc = child(_WRITER, str(path), "100000", "0")
    assert proc.stdout is not None
    acked = -1
    kill_after = random.Random(seed).uniform(0.3, 1.5)
    started = time.monotonic()
    while time.monotonic() - started < kill_after:
        line = proc.stdout.readline()
        assert line, proc.stderr.read() if proc.stderr else "the writer ended"
        acked = int(line)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    # acknowledgements the writer made before the kill that the pipe still holds
    for line in proc.stdout.read().splitlines():
        if line.strip().isdigit():
            acked = int(line)
    assert acked >= 1, "the writer acknowledged nothing before the kill"
    with FileLog(path) as log:
        values = [r.value for r in read_all(log, "S")]
        marks = [r.value for r in read_all(log, "T")]
    batches: dict[int, int] = {}
    for value in values:
        assert value is not None
        batch = int(value.split(b".")[0])
        batches[batch] = batches.get(batch, 0) + 1
    assert set(batches) >= set(range(acked + 1)), "an acknowledged batch is missing"
    assert set(batches) <= set(range(acked + 2))  # the one in flight, at most
    assert all(count == 50 for count in batches.values()), "a batch was half written"
    assert len(values) == len(set(values))
    assert marks == [b"%d" % n for n in sorted(batches) if n % 2 == 0]


def test_one_writer_at_a_time(tmp_path: Path) -> None:
    path = tmp_path / "db.pycql"
    proc = child(_WRITER, str(path), "1", "0")
    assert proc.stdout is not None
    try:
        assert proc.stdout.readline().strip() == "0"
        assert proc.stdout.readline().strip() == "done"  # the child still holds the lock
        with FileLog(path) as reader:
            assert len(read_all(reader, "S")) == 50  # reading is fine
            reader.create_topic(TopicSpec("S", partitions=2))  # exists: no write needed
            with pytest.raises(OperationalError, match=rf"another process \(pid {proc.pid}\)"):
                reader.produce("S", [OutRecord(b"second writer")])
            with pytest.raises(OperationalError, match="one process writes"):
                reader.create_topic(TopicSpec("New"))
            with pytest.raises(OperationalError, match="another process"):
                reader.transactional_producer("x")
            assert not reader.try_become_writer()
    finally:
        proc.kill()
        proc.wait()
    with FileLog(path) as log:  # the lock went with the process
        log.produce("S", [OutRecord(b"now I write")])
        assert log.writing and len(read_all(log, "S")) == 51


_TRICKLE = """
    import sys, time
    from pycql.log.base import OutRecord, TopicSpec
    from pycql.log.file import FileLog
    log = FileLog(sys.argv[1])
    print("open", flush=True)
    sys.stdin.readline()
    for n in range(5):
        log.produce("S", [OutRecord(b"%d" % n)])
        print(n, flush=True)
        time.sleep(0.3)
    log.create_topic(TopicSpec("Later"))
    log.produce("Later", [OutRecord(b"later")])
    log.delete_topic("S")
    print("deleted", flush=True)
    sys.stdin.readline()
"""


def test_a_reader_in_another_process_sees_new_records_soon(tmp_path: Path) -> None:
    path = tmp_path / "db.pycql"
    with FileLog(path) as log:
        log.create_topic(TopicSpec("S"))
    with FileLog(path, poll_interval=0.02) as log:
        reader = log.reader(["S"], "latest")
        proc = subprocess.Popen(
            [sys.executable, "-u", "-c", textwrap.dedent(_TRICKLE), str(path)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
            env=dict(os.environ, PYTHONPATH=str(ROOT)))
        assert proc.stdin is not None and proc.stdout is not None
        try:
            assert proc.stdout.readline().strip() == "open"
            proc.stdin.write("go\n")
            proc.stdin.flush()
            for n in range(5):
                assert proc.stdout.readline().strip() == str(n)
                acked = time.monotonic()
                got = reader.poll(10, 5.0)
                delay = time.monotonic() - acked
                assert [r.value for r in got] == [b"%d" % n]
                assert delay < 1.0, f"seen {delay:.2f} s after the write"
            assert proc.stdout.readline().strip() == "deleted"
            assert log.topics() == ["Later"]
            assert [r.value for r in read_all(log, "Later")] == [b"later"]
            with pytest.raises(OperationalError, match="deleted"):
                reader.poll(10, 1.0)
        finally:
            proc.stdin.write("end\n")
            proc.stdin.flush()
            proc.wait(30)


def test_files_that_are_not_pycql_databases_are_refused(tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE people (name TEXT)").connection.commit()
    with pytest.raises(OperationalError, match="not a pycql one"):
        FileLog(other)
    junk = tmp_path / "junk.pycql"
    junk.write_bytes(b"this is not a database at all, just some bytes" * 100)
    with pytest.raises(OperationalError, match="cannot open"):
        FileLog(junk)
    with pytest.raises(OperationalError, match="cannot open"):
        FileLog(tmp_path / "no" / "such" / "dir.pycql")
