"""The inputs and queries of the multi-stage job tests (test_stages*.py).

S and T have 6 partitions each, hashed on different keys (S on ``a``, T on ``c``),
so every query below needs at least one exchange: a GROUP BY on a non-key column,
a global COUNT(*), a join of the two streams on columns that are not both keys, a
``PARTITION BY`` window on a non-key column, a global ``ROWS`` window, sessions
by a non-key column and of all tuples.
The oracle is the bounded cursor over the same inputs: it runs the whole plan in
one process, exchanges passing their input through, and none of the stage code.

Time moves by heartbeats only (the streams' idle timeout is an hour): a task whose
inputs turn quiet says it is idle and stops holding the next stage back, and input
that reaches it later may then be late there (as it may be in one task that took a
quiet partition for idle), so the comparisons do not depend on how the machine
schedules the tasks.
"""

from __future__ import annotations

import collections
from typing import Any

import pycql

Counter = collections.Counter

#: (name, query, kind): a stream job's output is compared as a multiset of rows with
#: their instants, a table job's as its relation
QUERIES: list[tuple[str, str, str]] = [
    ("group_by_non_key",
     "SELECT ISTREAM(b, COUNT(*), SUM(a)) FROM {S} [RANGE 2 SECONDS] GROUP BY b", "stream"),
    # ISTREAM, not RSTREAM: RSTREAM emits the relation at every instant its input runs
    # at, and which instants run depends on how far each advance of the watermark goes
    ("global_count", "SELECT ISTREAM(COUNT(*)) FROM {S} [RANGE 3 SECONDS]", "stream"),
    ("join_on_different_keys",
     "SELECT ISTREAM({S}.a, {S}.b, {T}.a AS ta) FROM {S} [RANGE 1 SECOND], "
     "{T} [RANGE 1 SECOND] WHERE {S}.b = {T}.c", "stream"),
    ("three_stages",  # the join's rows lose T's key (c) to the projection: hashed again
     "SELECT ISTREAM({S}.a, {T}.c) FROM {S} [RANGE 1 SECOND], {T} [RANGE 1 SECOND] "
     "WHERE {S}.b = {T}.c", "stream"),
    ("partition_by_non_key", "SELECT DSTREAM(b, a) FROM {S} [PARTITION BY b ROWS 2]", "stream"),
    ("global_rows", "SELECT ISTREAM(b, MAX(a)) FROM {S} [ROWS 5] GROUP BY b", "stream"),
    # sessions of a key span the tuples of every partition: hashed on b, or one task
    ("session_by_non_key",
     "SELECT DSTREAM(b, COUNT(*), MIN(a)) FROM {S} [PARTITION BY b SESSION 2 SECONDS] "
     "GROUP BY b", "stream"),
    ("global_session",
     "SELECT ISTREAM(COUNT(*), MAX(a)) FROM {S} [SESSION 400 MILLISECONDS]", "stream"),
    ("table_by_non_key", "SELECT b, COUNT(*) AS n, MIN(a) AS lo FROM {S} GROUP BY b", "table"),
    # q5's shape: the windowed counts (one aggregate, SharedSubplanRule) feed two
    # exchanges, to the join and to the global MAX: their stage writes both
    ("hot_keys",
     "SELECT ISTREAM(C.b, C.n) FROM "
     "(SELECT b, COUNT(*) AS n FROM {S} [RANGE 2 SECONDS SLIDE 1 SECOND] GROUP BY b) AS C, "
     "(SELECT MAX(n) AS m FROM (SELECT b, COUNT(*) AS n FROM {S} "
     "[RANGE 2 SECONDS SLIDE 1 SECOND] GROUP BY b) AS D) AS M WHERE C.n = M.m", "stream"),
]


def declare(conn: pycql.Connection, s: str, t: str) -> None:
    cur = conn.cursor()
    cur.execute(f"CREATE STREAM {s} (a INTEGER, b INTEGER, ts BIGINT) "
                "WITH (timestamp = 'ts', partitions = 6, key = 'a', idle_timeout = '1 hour')")
    cur.execute(f"CREATE STREAM {t} (a INTEGER, c INTEGER, ts BIGINT) "
                "WITH (timestamp = 'ts', partitions = 6, key = 'c', idle_timeout = '1 hour')")


def rows(base_ms: int, n: int = 240, start: int = 0) -> tuple[list[Any], list[Any]]:
    """Rows of S (one per instant: a ``[ROWS n]`` window of S has no ties to order) and of T
    (three per instant), keys spread over the partitions, from ``base_ms + 250 * start``."""
    s = [(i % 17, i % 5, base_ms + 250 * i) for i in range(start, start + n)]
    t = [(i % 7, i % 5, base_ms + 250 * start + 300 * ((i - start) // 3) + 3)
         for i in range(start, start + n)]
    return s, t


def insert(conn: pycql.Connection, s: str, t: str, data: tuple[list[Any], list[Any]]) -> None:
    """The rows, then a heartbeat of both streams just after the newest of them. T's rows
    go in first: a partition of T never heard from does not hold time back once it is
    read to its end, so S's rows (and the watermarks of the tasks reading them) must not
    move time while T's are not there yet."""
    cur = conn.cursor()
    cur.executemany(f"INSERT INTO {t} VALUES (?, ?, ?)", data[1])
    cur.executemany(f"INSERT INTO {s} VALUES (?, ?, ?)", data[0])
    newest = max(r[2] for part in data for r in part)
    for stream in (s, t):
        cur.execute(f"ALTER STREAM {stream} HEARTBEAT {newest + 1}")


def oracle(conn: pycql.Connection, query: str, kind: str) -> Counter[tuple[Any, ...]]:
    """What the query gives from a bounded cursor (a stream) or a snapshot (a table)."""
    cur = conn.cursor()
    if kind == "stream":
        cur.execute(query, start="earliest", stop="latest")
    else:
        cur.execute(query)
    return Counter(cur.fetchall())


def output(conn: pycql.Connection, sink: str, kind: str) -> Counter[tuple[Any, ...]]:
    return oracle(conn, f"SELECT * FROM {sink}", kind)
