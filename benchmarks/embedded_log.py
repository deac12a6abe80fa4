"""The durable embedded log against the in-memory one: write and read rates.

::

    python -m benchmarks.embedded_log                 # 200,000 records, 20,000 rows
    python -m benchmarks.embedded_log --records 50000 --rows 5000

**Log level** (``pycql.log``, no planner): ``--records`` records of ~60 bytes
(a JSON row, a key) produced to a 3-partition topic of a
:class:`~pycql.log.memory.MemoryLog` and of a :class:`~pycql.log.file.FileLog`
(``synchronous=FULL``, the default, and ``NORMAL``), in batches of
``--batch`` (1,000: one SQLite transaction each) and of 1 (one transaction per
record: what batching saves); then read back by a reader of the same log
(the file log's cache), by a fresh ``FileLog`` opening the file (loading it
from SQLite: what a restart costs), and by a log in **another process** that
follows the writer (records/s from the first to the last record seen there).

**Driver level** (``pycql.connect``): ``--rows`` rows inserted with one
``executemany("INSERT INTO S VALUES (?, ?, ?)")`` into a memory database and
into a database file, and read with a bounded cursor
(``SELECT * FROM S``, ``start="earliest", stop="latest"``).

Every rate is the median of ``--repeat`` (3) runs. Results: tables on stdout,
``benchmarks/results/embedded_log.json`` and ``embedded_log.md``.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from pycql.log.base import Log, OutRecord, TopicSpec  # noqa: E402
from pycql.log.file import FileLog  # noqa: E402
from pycql.log.memory import MemoryLog  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"


def _records(count: int) -> list[OutRecord]:
    return [OutRecord(orjson.dumps({"K": i % 100, "V": i, "TS": 1_700_000_000_000 + i}),
                      key=b"%d" % (i % 100)) for i in range(count)]


def _median(fn: Callable[[], float], repeat: int) -> float:
    return statistics.median(fn() for _ in range(repeat))


def _write_rate(make: Callable[[], Log], records: list[OutRecord], batch: int) -> float:
    log = make()
    try:
        log.create_topic(TopicSpec("S", partitions=3))
        began = time.perf_counter()
        for i in range(0, len(records), batch):
            log.produce("S", records[i:i + batch])
        return len(records) / (time.perf_counter() - began)
    finally:
        log.close()


def _read_rate(log: Log, count: int) -> float:
    began = time.perf_counter()
    reader = log.reader(["S"])
    seen = 0
    while seen < count:
        seen += len(reader.poll(50_000, 1.0))
    reader.close()
    return count / (time.perf_counter() - began)


_FOLLOWER = """
    import sys, time
    from pycql.log.file import FileLog
    log = FileLog(sys.argv[1], poll_interval=0.01)
    reader = log.reader(["S"])
    count = int(sys.argv[2])
    print("ready", flush=True)
    seen, first = 0, None
    while seen < count:
        got = reader.poll(50_000, 1.0)
        if got and first is None:
            first = time.perf_counter()
        seen += len(got)
    print(count / (time.perf_counter() - first), flush=True)
"""


def _cross_process_rate(path: Path, records: list[OutRecord], batch: int) -> float:
    """A writer here, a follower in another process: records/s the follower sees."""
    with FileLog(path) as log:
        log.create_topic(TopicSpec("S", partitions=3))
        follower = subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(_FOLLOWER), str(path), str(len(records))],
            stdout=subprocess.PIPE, text=True, env=dict(os.environ, PYTHONPATH=str(ROOT)))
        assert follower.stdout is not None
        assert follower.stdout.readline().strip() == "ready"
        for i in range(0, len(records), batch):
            log.produce("S", records[i:i + batch])
        rate = float(follower.stdout.readline())
        follower.wait(60)
    return rate


def log_level(args: argparse.Namespace, tmp: Path) -> list[dict[str, Any]]:
    records = _records(args.records)
    single = records[: args.single]
    rows: list[dict[str, Any]] = []
    counter = iter(range(1_000_000))

    def fresh(sync: str = "full") -> Callable[[], Log]:
        return lambda: FileLog(tmp / f"w{next(counter)}.pycql",
                               synchronous=sync)  # type: ignore[arg-type]

    for name, make in [("memory", MemoryLog), ("file, synchronous=FULL", fresh()),
                       ("file, synchronous=NORMAL", fresh("normal"))]:
        row: dict[str, Any] = {"log": name}
        row["write rec/s (batches)"] = _median(
            lambda make=make: _write_rate(make, records, args.batch), args.repeat)
        row["write rec/s (1 a batch)"] = _median(
            lambda make=make: _write_rate(make, single, 1), args.repeat)
        rows.append(row)
    # reads: the same process, after a restart, another process
    memory = MemoryLog()
    memory.create_topic(TopicSpec("S", partitions=3))
    path = tmp / "read.pycql"
    written = FileLog(path)
    written.create_topic(TopicSpec("S", partitions=3))
    for i in range(0, len(records), args.batch):
        memory.produce("S", records[i:i + args.batch])
        written.produce("S", records[i:i + args.batch])
    rows[0]["read rec/s (same process)"] = _median(
        lambda: _read_rate(memory, len(records)), args.repeat)
    rows[1]["read rec/s (same process)"] = _median(
        lambda: _read_rate(written, len(records)), args.repeat)
    written.close()

    def reopen() -> float:
        began = time.perf_counter()
        with FileLog(path) as log:
            rate = _read_rate(log, len(records))
        total = time.perf_counter() - began
        return len(records) / total if rate else 0.0

    rows[1]["open + read rec/s (restart)"] = _median(reopen, args.repeat)
    rows[1]["read rec/s (another process, live)"] = _median(
        lambda: _cross_process_rate(tmp / f"x{next(counter)}.pycql", records, args.batch),
        args.repeat)
    file_bytes = path.stat().st_size
    rows[1]["file bytes / record"] = round(file_bytes / len(records), 1)
    return rows


def driver_level(args: argparse.Namespace, tmp: Path) -> list[dict[str, Any]]:
    import pycql

    data = [(i % 100, i, 1_700_000_000_000 + i) for i in range(args.rows)]
    rows: list[dict[str, Any]] = []
    counter = iter(range(1_000_000))
    for name in ("memory", "file"):
        inserts: list[float] = []
        reads: list[float] = []
        for _ in range(args.repeat):
            dsn = None if name == "memory" else str(tmp / f"d{next(counter)}.pycql")
            with pycql.connect(dsn) as conn:
                cur = conn.cursor()
                cur.execute("CREATE STREAM S (k INTEGER, v BIGINT, ts BIGINT) "
                            "WITH (timestamp = 'ts', partitions = 3)")
                cur.execute("SELECT * FROM S", start="earliest", stop="latest")
                cur.fetchall()  # warm: the plan is cached, the JVM up
                began = time.perf_counter()
                cur.executemany("INSERT INTO S VALUES (?, ?, ?)", data)
                inserts.append(len(data) / (time.perf_counter() - began))
                began = time.perf_counter()
                cur.execute("SELECT * FROM S", start="earliest", stop="latest")
                got = cur.fetchall()
                reads.append(len(got) / (time.perf_counter() - began))
                assert len(got) == len(data)
        rows.append({"database": name, "executemany INSERT rows/s": statistics.median(inserts),
                     "bounded SELECT rows/s": statistics.median(reads)})
    return rows


def _table(rows: list[dict[str, Any]]) -> str:
    columns: list[str] = []
    for row in rows:
        columns += [c for c in row if c not in columns]
    lines = ["| " + " | ".join(columns) + " |",
             "|---" + "|---:" * (len(columns) - 1) + "|"]
    for row in rows:
        cells = []
        for c in columns:
            value = row.get(c, "")
            cells.append(f"{value:,.0f}" if isinstance(value, float) and value > 100
                         else str(value))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=1_000)
    parser.add_argument("--single", type=int, default=2_000,
                        help="records written one per produce call")
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-driver", action="store_true")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="pycql-bench-") as tmp:
        log_rows = log_level(args, Path(tmp))
        driver_rows = [] if args.no_driver else driver_level(args, Path(tmp))
    load = os.getloadavg()
    meta = {
        "date": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{os.cpu_count()} cores, Python {platform.python_version()}, "
                   f"SQLite {__import__('sqlite3').sqlite_version}, {platform.platform()}",
        "load average": "/".join(f"{x:.1f}" for x in load),
        "config": vars(args),
    }
    text = "\n".join([
        "# Embedded logs: memory against file (latest run)", "",
        *(f"- {k}: {v}" for k, v in meta.items()), "",
        f"## Log level ({args.records:,} records, batches of {args.batch:,}; "
        f"{args.single:,} one a batch)", "", _table(log_rows), "",
        *([f"## Driver level ({args.rows:,} rows)", "", _table(driver_rows), ""]
          if driver_rows else []),
    ])
    print(text)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "embedded_log.md").write_text(text)
    (RESULTS / "embedded_log.json").write_bytes(orjson.dumps(
        {"meta": meta, "log": log_rows, "driver": driver_rows}, option=orjson.OPT_INDENT_2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
