"""The fixture catalog of the statement fuzzer, on the embedded log.

::

    STREAM Trades (id INTEGER, qty BIGINT, sym VARCHAR(16), px DOUBLE,
                   amt DECIMAL(12, 2), ok BOOLEAN, ts TIMESTAMP)  WITH (timestamp = 'ts')
    STREAM Events (k INTEGER, v BIGINT, s VARCHAR, d DOUBLE, flag BOOLEAN)  -- record time
    STREAM Ticks  (n BIGINT, t BIGINT)  WITH (timestamp = 't', format = 'csv')
    STREAM Far    (id INTEGER, note VARCHAR, ts TIMESTAMP)  WITH (timestamp = 'ts')
    TABLE  Acct   (id INTEGER, name VARCHAR, bal DECIMAL(12, 2), opened TIMESTAMP,
                   PRIMARY KEY (id))
    TABLE  Bag    (x INTEGER, y VARCHAR)                      -- no key: a multiset
    VIEW   BigTrades AS SELECT * FROM Trades WHERE qty > 100  -- stream-valued
    VIEW   SymCounts AS SELECT sym, COUNT(*) AS n FROM Trades [RANGE 1 HOUR] GROUP BY sym

The rows hold edge values: 0, negatives, NULLs, the limits of INTEGER and BIGINT,
unicode and empty strings, -0.0 and 1e308, equal timestamps. ``Far`` alone holds
timestamps at the ends of the calendar (year 1 and 9999), so that only queries
naming it meet them. Rows go in through parameters, so that building the
fixture does not depend on how literals are parsed (which the fuzzer tests).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pycql

#: Column name -> fuzzer type (``int``, ``double``, ``decimal``, ``str``, ``bool``, ``ts``).
STREAMS: dict[str, list[tuple[str, str]]] = {
    "Trades": [
        ("id", "int"), ("qty", "int"), ("sym", "str"), ("px", "double"),
        ("amt", "decimal"), ("ok", "bool"), ("ts", "ts"),
    ],
    "Events": [("k", "int"), ("v", "int"), ("s", "str"), ("d", "double"), ("flag", "bool")],
    "Ticks": [("n", "int"), ("t", "int")],
    "Far": [("id", "int"), ("note", "str"), ("ts", "ts")],
}
TABLES: dict[str, list[tuple[str, str]]] = {
    "Acct": [("id", "int"), ("name", "str"), ("bal", "decimal"), ("opened", "ts")],
    "Bag": [("x", "int"), ("y", "str")],
}
VIEWS: dict[str, list[tuple[str, str]]] = {
    "BigTrades": STREAMS["Trades"],
    "SymCounts": [("sym", "str"), ("n", "int")],
}
#: Stream-valued views may take a window like a stream.
STREAM_VIEWS = {"BigTrades"}

DDL = [
    "CREATE STREAM Trades (id INTEGER, qty BIGINT, sym VARCHAR(16), px DOUBLE, "
    "amt DECIMAL(12, 2), ok BOOLEAN, ts TIMESTAMP) WITH (timestamp = 'ts')",
    "CREATE STREAM Events (k INTEGER, v BIGINT, s VARCHAR, d DOUBLE, flag BOOLEAN)",
    "CREATE STREAM Ticks (n BIGINT, t BIGINT) WITH (timestamp = 't', format = 'csv')",
    "CREATE STREAM Far (id INTEGER, note VARCHAR, ts TIMESTAMP) WITH (timestamp = 'ts')",
    "CREATE TABLE Acct (id INTEGER, name VARCHAR, bal DECIMAL(12, 2), opened TIMESTAMP, "
    "PRIMARY KEY (id))",
    "CREATE TABLE Bag (x INTEGER, y VARCHAR)",
    "CREATE VIEW BigTrades AS SELECT * FROM Trades WHERE qty > 100",
    "CREATE VIEW SymCounts AS SELECT sym, COUNT(*) AS n FROM Trades [RANGE 1 HOUR] GROUP BY sym",
]

T0 = dt.datetime(2024, 1, 1)
I32 = 2**31 - 1
I64 = 2**63 - 1

ROWS: list[tuple[str, list[tuple[Any, ...]]]] = [
    ("INSERT INTO Trades VALUES (?, ?, ?, ?, ?, ?, ?)", [
        (0, 0, "", 0.0, Decimal("0"), False, T0),
        (1, 150, "héllo ☃ 日本", -1.5, Decimal("-9999999999.99"), True, T0),
        (-1, -(2**63), "x", -0.0, Decimal("0.01"), True, T0 + dt.timedelta(seconds=1)),
        (I32, I64, None, None, None, None, T0 + dt.timedelta(seconds=1)),
        (-(2**31), 101, "ACME", 1e308, Decimal("1.25"), False, T0 + dt.timedelta(minutes=2)),
        (None, None, "😀", 2.5, Decimal("9999999999.99"), None, T0 + dt.timedelta(hours=1)),
    ]),
    ("INSERT INTO Events VALUES (?, ?, ?, ?, ?)", [
        (1, 2, "a", 0.5, True),
        (None, -1, "", None, False),
        (0, I64, "\u00e9\u0301 tab\tnew\nline", -0.0, None),
    ]),
    ("INSERT INTO Ticks VALUES (?, ?)", [
        (1, 0), (2, 1000), (3, 1000), (None, 5000), (-5, 86_400_000),
    ]),
    ("INSERT INTO Far VALUES (?, ?, ?)", [
        (1, "year one", dt.datetime(1, 1, 1)),
        (2, "epoch", dt.datetime(1970, 1, 1)),
        (3, "end", dt.datetime(9999, 12, 31, 23, 59, 59, 999000)),
    ]),
    ("INSERT INTO Acct VALUES (?, ?, ?, ?)", [
        (1, "alice", Decimal("10.50"), T0),
        (2, "", None, None),
        (-3, "ü", Decimal("-1"), T0 + dt.timedelta(days=1)),
        (I32, None, Decimal("9999999999.99"), dt.datetime(1970, 1, 1)),
    ]),
    ("INSERT INTO Bag VALUES (?, ?)", [(1, "a"), (1, "a"), (None, None), (0, "")]),
]


def build(conn: pycql.Connection) -> None:
    """Create the fixture objects and rows on ``conn`` (an empty embedded database)."""
    cur = conn.cursor()
    for statement in DDL:
        cur.execute(statement)
    for statement, rows in ROWS:
        for row in rows:  # one instant per row (a statement's rows share one instant)
            cur.execute(statement, row)
    cur.close()
