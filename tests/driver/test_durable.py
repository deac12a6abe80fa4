"""The durable embedded database, ``pycql.connect("db.pycql")``: streams, tables, the
catalog and persistent queries survive closing and reopening (and a ``kill -9``), one
process writes at a time, and a live cursor in one process sees another's inserts.
Expected results are computed by hand from the rows inserted."""

from __future__ import annotations

import collections
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import pycql
from pycql.driver import _database

ROOT = Path(__file__).resolve().parents[2]
Counter = collections.Counter


def child(code: str, *args: str, stdin: bool = False) -> subprocess.Popen[str]:
    """``code`` in a new Python process importing this checkout's pycql."""
    return subprocess.Popen(
        [sys.executable, "-u", "-c", textwrap.dedent(code), *args],
        stdin=subprocess.PIPE if stdin else None, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, env=dict(os.environ, PYTHONPATH=str(ROOT)))


def rows(conn: pycql.Connection, sql: str) -> Counter[tuple[Any, ...]]:
    cur = conn.cursor()
    cur.execute(sql, start="earliest", stop="latest")
    return Counter(cur.fetchall())


def table(conn: pycql.Connection, sql: str) -> Counter[tuple[Any, ...]]:
    cur = conn.cursor()
    cur.execute(sql)
    return Counter(cur.fetchall())


def eventually(fn: Callable[[], Any], want: Any, seconds: float = 40) -> Any:
    deadline = time.monotonic() + seconds
    got = fn()
    while got != want and time.monotonic() < deadline:
        time.sleep(0.25)
        got = fn()
    return got


def test_streams_tables_and_the_catalog_survive_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "db.pycql"
    with pycql.connect(str(path)) as conn:
        cur = conn.cursor()
        cur.execute("CREATE STREAM S (a INTEGER, b VARCHAR(5))")
        cur.execute("CREATE TABLE T (k INTEGER, name VARCHAR(10), PRIMARY KEY (k))")
        cur.executemany("INSERT INTO S VALUES (?, ?)", [(i, f"x{i}") for i in range(10)])
        cur.executemany("INSERT INTO T VALUES (?, ?)", [(1, "one"), (2, "two"), (3, "three")])
        cur.execute("UPSERT INTO T VALUES (2, 'deux')")
        cur.execute("DELETE FROM T WHERE k = 3")
        cur.execute("CREATE VIEW Big AS SELECT a FROM S WHERE a >= 8")
        conn.autocommit = False
        cur.execute("INSERT INTO S VALUES (100, 'gone')")
        conn.rollback()
        cur.execute("INSERT INTO S VALUES (10, 'x10')")
        conn.commit()
    assert not [k for k in _database._shared if str(path.name) in k]  # released on close
    with pycql.connect(f"file://{path}") as conn:
        assert rows(conn, "SELECT a, b FROM S") == Counter((i, f"x{i}") for i in range(11))
        assert table(conn, "SELECT * FROM T") == Counter([(1, "one"), (2, "deux")])
        assert rows(conn, "SELECT * FROM Big") == Counter([(8,), (9,), (10,)])
        assert table(conn, "SELECT COUNT(*) FROM S") == Counter([(11,)])
        conn.cursor().execute("INSERT INTO S VALUES (11, 'x11')")
        assert table(conn, "SELECT COUNT(*) FROM S") == Counter([(12,)])


def test_the_data_source_forms(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    first = pycql.connect("rel.pycql")
    try:
        # a relative path, an absolute one and file: URLs name one database of this process
        for dsn in (str(tmp_path / "rel.pycql"), f"file://{tmp_path}/rel.pycql",
                    f"file://localhost{tmp_path}/rel.pycql", "file:rel.pycql"):
            with pycql.connect(dsn) as other:
                assert other.database is first.database
        assert (tmp_path / "rel.pycql").exists()
        with pytest.raises(pycql.InterfaceError, match="catalog_path"):
            pycql.connect("other.pycql", catalog_path=str(tmp_path / "c.json"))
        with pytest.raises(pycql.InterfaceError, match="bad connection option"):
            pycql.connect("other2.pycql", no_such_option=1)
        with pytest.raises(pycql.InterfaceError, match="not a file URL"):
            pycql.connect("file://somehost/x.pycql")
        with pytest.raises(pycql.InterfaceError, match="unknown data source"):
            pycql.connect("nosuch://x")
        with pytest.raises(pycql.OperationalError, match="cannot open"):
            pycql.connect(str(tmp_path / "missing-dir" / "x.pycql"))
    finally:
        first.close()


_HOLD_WRITER = """
    import sys
    from pycql.log.base import OutRecord, TopicSpec
    from pycql.log.file import FileLog
    log = FileLog(sys.argv[1])
    log.create_topic(TopicSpec("Other"))
    print("writing", flush=True)
    sys.stdin.readline()
"""


def test_a_second_writer_process_gets_an_operational_error(tmp_path: Path) -> None:
    path = tmp_path / "db.pycql"
    with pycql.connect(str(path)) as conn:
        conn.cursor().execute("CREATE STREAM S (a INTEGER)")
        conn.cursor().execute("INSERT INTO S VALUES (1)")
    holder = child(_HOLD_WRITER, str(path), stdin=True)
    assert holder.stdin is not None and holder.stdout is not None
    try:
        assert holder.stdout.readline().strip() == "writing"
        with pycql.connect(str(path)) as conn:  # reading is fine
            assert table(conn, "SELECT COUNT(*) FROM S") == Counter([(1,)])
            conn.cursor().execute("SHOW QUERIES")  # no status topic yet: nothing to show
            with pytest.raises(pycql.OperationalError,
                               match=rf"written by another process \(pid {holder.pid}\)"):
                conn.cursor().execute("INSERT INTO S VALUES (2)")
            with pytest.raises(pycql.OperationalError, match="another process"):
                conn.cursor().execute("CREATE STREAM S2 (a INTEGER)")
    finally:
        holder.stdin.close()
        holder.wait(30)
    with pycql.connect(str(path)) as conn:  # the writer is gone: this process may write
        conn.cursor().execute("INSERT INTO S VALUES (2)")
        assert rows(conn, "SELECT a FROM S") == Counter([(1,), (2,)])


_NEW_FILE_WRITER = """
    import sys, time
    from pycql.log.base import TopicSpec
    from pycql.log.file import FileLog
    log = FileLog(sys.argv[1])
    log.create_topic(TopicSpec("First"))  # the writer now, without a catalog yet
    print("writing", flush=True)
    time.sleep(1.0)
    log.create_topic(TopicSpec("_pycql_catalog", compacted=True))
    sys.stdin.readline()
"""


def test_opening_a_new_file_another_process_began_waits_for_its_catalog(
        tmp_path: Path) -> None:
    path = tmp_path / "db.pycql"
    holder = child(_NEW_FILE_WRITER, str(path), stdin=True)
    assert holder.stdin is not None and holder.stdout is not None
    try:
        assert holder.stdout.readline().strip() == "writing"
        began = time.monotonic()
        with pycql.connect(str(path)) as conn:
            assert time.monotonic() - began > 0.5
            assert sorted(conn.database.log.topics()) == ["First", "_pycql_catalog"]
    finally:
        holder.stdin.close()
        holder.wait(30)


_INSERTER = """
    import sys, time, pycql
    conn = pycql.connect(sys.argv[1])
    cur = conn.cursor()
    cur.execute("SELECT COUNT(*) FROM S")  # the planner's JVM is up
    print("ready", flush=True)
    sys.stdin.readline()
    for n in range(int(sys.argv[2])):
        cur.execute("INSERT INTO S VALUES (?)", (n,))
        print(n, flush=True)  # acknowledged
        time.sleep(float(sys.argv[3]))
    print("done", flush=True)
    sys.stdin.readline()
"""


def test_a_live_cursor_sees_the_inserts_of_another_process(tmp_path: Path) -> None:
    path = tmp_path / "db.pycql"
    with pycql.connect(str(path)) as conn:
        conn.cursor().execute("CREATE STREAM S (a INTEGER)")
    with pycql.connect(str(path)) as conn:  # a reader now: it writes nothing
        cur = conn.cursor()
        cur.execute("SELECT a * 10 AS t FROM S")  # a continuous query, from now on
        writer = child(_INSERTER, str(path), "5", "0.3", stdin=True)
        assert writer.stdin is not None and writer.stdout is not None
        try:
            assert writer.stdout.readline().strip() == "ready", writer.stderr
            writer.stdin.write("go\n")
            writer.stdin.flush()
            for n in range(5):
                assert writer.stdout.readline().strip() == str(n)
                acked = time.monotonic()
                assert cur.fetchone(timeout=5.0) == (n * 10,)
                assert time.monotonic() - acked < 1.5
            assert writer.stdout.readline().strip() == "done"
            assert not conn.database.log.writing  # type: ignore[attr-defined]
        finally:
            writer.stdin.write("end\n")
            writer.stdin.flush()
            writer.wait(30)


def test_kill_9_during_inserts_loses_no_acknowledged_row(tmp_path: Path) -> None:
    path = tmp_path / "db.pycql"
    with pycql.connect(str(path)) as conn:
        conn.cursor().execute("CREATE STREAM S (a INTEGER)")
    writer = child(_INSERTER, str(path), "1000000", "0", stdin=True)
    assert writer.stdin is not None and writer.stdout is not None
    assert writer.stdout.readline().strip() == "ready"
    writer.stdin.write("go\n")
    writer.stdin.flush()
    acked = -1
    kill_after = random.uniform(0.5, 1.5)
    started = time.monotonic()
    while time.monotonic() - started < kill_after:
        acked = int(writer.stdout.readline())
    os.kill(writer.pid, signal.SIGKILL)
    writer.wait()
    assert acked > 0
    with pycql.connect(str(path)) as conn:
        got = sorted(a for (a,) in rows(conn, "SELECT a FROM S").elements())
    # every acknowledged row, once, and at most the one in flight besides
    assert got[: acked + 1] == list(range(acked + 1))
    assert got in (list(range(acked + 1)), list(range(acked + 2)))


def test_a_persistent_query_goes_on_after_reopening(tmp_path: Path) -> None:
    path = tmp_path / "db.pycql"
    with pycql.connect(str(path)) as conn:
        cur = conn.cursor()
        cur.execute("CREATE STREAM S (k INTEGER, v INTEGER)")
        cur.execute("CREATE STREAM Doubled AS SELECT k, v * 2 AS w FROM S WHERE k <> 1")
        cur.execute("CREATE TABLE Counts AS SELECT k, COUNT(*) AS n FROM S GROUP BY k")
        cur.executemany("INSERT INTO S VALUES (?, ?)", [(i % 3, i) for i in range(12)])
        want = Counter((i % 3, 2 * i) for i in range(12) if i % 3 != 1)
        assert eventually(lambda: rows(conn, "SELECT * FROM Doubled"), want) == want
        counts = Counter([(0, 4), (1, 4), (2, 4)])
        assert eventually(lambda: table(conn, "SELECT * FROM Counts"), counts) == counts
    with pycql.connect(str(path)) as conn:  # the jobs run again, from their last commit
        cur = conn.cursor()
        cur.executemany("INSERT INTO S VALUES (?, ?)", [(i % 3, i) for i in range(12, 18)])
        want = Counter((i % 3, 2 * i) for i in range(18) if i % 3 != 1)
        assert eventually(lambda: rows(conn, "SELECT * FROM Doubled"), want) == want
        counts = Counter([(0, 6), (1, 6), (2, 6)])
        assert eventually(lambda: table(conn, "SELECT * FROM Counts"), counts) == counts
        cur.execute("SHOW QUERIES")
        assert sum(1 for r in cur.fetchall() if r[1] == "RUNNING") == 2


_TIMED_INSERTER = """
    import sys, pycql
    conn = pycql.connect(sys.argv[1])
    cur = conn.cursor()
    base = int(sys.argv[2])
    for step in ([(1, 1000), (3, 2000), (4, 3000)], [(2, 500), (5, 4000), (6, 5000)]):
        sys.stdin.readline()
        cur.executemany("INSERT INTO S VALUES (?, ?)", [(a, base + t) for a, t in step])
        print("inserted", flush=True)
    sys.stdin.readline()
"""


def test_a_reading_process_counts_late_records_it_cannot_keep(tmp_path: Path) -> None:
    """A query in a reading process sets a late record aside as everywhere, but only the
    writer may write the dead letters: it counts them, and goes on."""
    path = tmp_path / "db.pycql"
    with pycql.connect(str(path)) as conn:
        conn.cursor().execute("CREATE STREAM S (a INTEGER, ts BIGINT) "
                              "WITH (timestamp = 'ts', lateness = '0 s')")
    with pycql.connect(str(path)) as conn:
        cur = conn.cursor()
        cur.execute("SELECT a FROM S")
        base = int(time.time() * 1000) - 60_000
        writer = child(_TIMED_INSERTER, str(path), str(base), stdin=True)
        assert writer.stdin is not None and writer.stdout is not None

        def step(until: tuple[int]) -> list[tuple[int]]:
            assert writer.stdin is not None and writer.stdout is not None
            writer.stdin.write("go\n")
            writer.stdin.flush()
            assert writer.stdout.readline().strip() == "inserted", writer.stderr
            got: list[tuple[int]] = []
            deadline = time.monotonic() + 20
            while until not in got and time.monotonic() < deadline:
                row = cur.fetchone(timeout=1.0)
                if row is not None:
                    got.append(row)
            return got

        try:
            assert step((3,)) == [(1,), (3,)]
            assert step((5,)) == [(4,), (5,)]  # 2 was late: set aside
            assert cur.metrics is not None
            assert cur.metrics.late_records == 1
            assert cur.metrics.dead_letters_not_kept == 1
        finally:
            writer.stdin.write("end\nend\n")
            writer.stdin.flush()
            writer.wait(30)
