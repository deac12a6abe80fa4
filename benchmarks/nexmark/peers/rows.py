"""The peers' output rows: their shapes, and a plain-Python check of them.

Every peer hands back its output as a list of tuples in one shape per query, whatever
the engine (times are epoch milliseconds, as in the topics):

* ``q0``: ``(auction, bidder, price, date_time, extra)``, one per bid;
* ``q2``: ``(auction, price)``, one per bid of an auction that is a multiple of 123;
* ``q5_count``: ``(window_end, auction, count)``, one per 10 s window sliding by 2 s
  (aligned to the epoch, Flink's HOP windows) and auction with at least one bid in it:
  every window, those that end after the last bid included (a bounded run closes them
  all at the end of its input, as Flink, Bytewax and Pathway do);
* Flink's other queries: their SQL's columns, in the SELECT's order.

A stream's rows are all its rows; an updating result (Flink's changelog of q4, q18, ...)
is the table its changes leave at the end (:func:`final_table`).

:func:`expected_rows` computes q0, q2 and q5_count from the generator's bids with
nothing but Python (no pycql, no peer): the check the runner falls back on where
``benchmarks/nexmark/reference.py`` has nothing to say.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

import orjson

WINDOW_MS = 10_000
SLIDE_MS = 2_000

Row = tuple[Any, ...]

#: The queries :func:`expected_rows` knows.
CHECKED_QUERIES = ("q0", "q2", "q5_count")


def final_table(changes: Iterable[Sequence[Any]]) -> list[Row]:
    """The rows a changelog (``[kind, field, ...]``, kinds +I -U +U -D) leaves.

    >>> final_table([["+I", 1, "a"], ["-U", 1, "a"], ["+U", 1, "b"], ["+I", 2, "c"],
    ...              ["-D", 2, "c"]])
    [(1, 'b')]
    """
    table: Counter[Row] = Counter()
    for change in changes:
        kind, row = change[0], tuple(change[1:])
        if kind in ("+I", "+U"):
            table[row] += 1
        elif kind in ("-U", "-D"):
            table[row] -= 1
            if table[row] == 0:
                del table[row]
        else:
            raise ValueError(f"unknown row kind {kind!r}")
    if any(n < 0 for n in table.values()):
        raise ValueError("a changelog retracts a row it never inserted")
    return sorted(table.elements(), key=repr)


def expected_rows(query: str, bids: Iterable[bytes]) -> list[Row]:
    """The rows of ``query`` over the encoded bids ``bids`` (in topic order).

    >>> bids = [orjson.dumps({"auction": a, "bidder": 7, "price": 5, "date_time": t,
    ...                       "extra": ""}) for a, t in ((123, 0), (5, 1_000), (123, 3_000))]
    >>> expected_rows("q2", bids)
    [(123, 5), (123, 5)]
    >>> sorted(expected_rows("q5_count", bids))[:3]
    [(2000, 123, 1), (4000, 5, 1), (4000, 123, 1)]
    >>> len(expected_rows("q5_count", bids))  # 5 windows hold each bid: 3 + 5 + 5 - shared
    12
    """
    decoded = (orjson.loads(b) for b in bids)
    if query == "q0":
        return [(v["auction"], v["bidder"], v["price"], v["date_time"], v["extra"])
                for v in decoded]
    if query == "q2":
        return [(v["auction"], v["price"]) for v in decoded if v["auction"] % 123 == 0]
    if query == "q5_count":
        counts: Counter[tuple[int, int]] = Counter()
        for v in decoded:
            t = v["date_time"]
            # the windows [s, s + 10 s) with s a multiple of 2 s that hold t
            first = (t - WINDOW_MS) // SLIDE_MS + 1
            for k in range(first, t // SLIDE_MS + 1):
                counts[(k * SLIDE_MS + WINDOW_MS, v["auction"])] += 1
        return [(end, auction, n) for (end, auction), n in counts.items()]
    raise ValueError(f"no expected rows for {query}")


def same_rows(got: Iterable[Sequence[Any]], want: Iterable[Sequence[Any]]) -> bool:
    """Equal as multisets of rows (engines emit in different orders).

    >>> same_rows([(1, 2), (3, 4)], [[3, 4], [1, 2]]), same_rows([(1, 2)], [(1, 2), (1, 2)])
    (True, False)
    """
    return Counter(map(tuple, got)) == Counter(map(tuple, want))


def differences(got: Iterable[Sequence[Any]], want: Iterable[Sequence[Any]],
                limit: int = 3) -> str:
    """A short account of how ``got`` differs from ``want`` (for a failed check).

    >>> differences([(1,), (2,)], [(1,), (3,)])
    '1 rows missing (e.g. [(3,)]), 1 unexpected (e.g. [(2,)])'
    """
    g, w = Counter(map(tuple, got)), Counter(map(tuple, want))
    missing, extra = w - g, g - w
    return (f"{sum(missing.values())} rows missing (e.g. {list(missing)[:limit]}), "
            f"{sum(extra.values())} unexpected (e.g. {list(extra)[:limit]})")
