"""The Nexmark queries in CQL, each with how it maps from the Flink SQL version.

The Flink texts referred to are those of the Nexmark benchmark for Flink
(``nexmark-flink/src/main/resources/queries/q*.sql``). pycql speaks the CQL
subset of ``docs/cql.md``: windows follow a stream in ``FROM``
(``[NOW]``, ``[RANGE .. SLIDE ..]``, ``[PARTITION BY .. ROWS n]``,
``[PARTITION BY .. SESSION gap]``),
``ISTREAM``/``RSTREAM`` turn relations into streams, and a query that only
selects, projects, filters and joins unbounded streams is itself a stream (the
implicit ISTREAM). There are no ``TUMBLE``/``HOP`` table functions and no
processing time (``ROW_NUMBER() OVER (...)`` is there, over relations); each query below
says how it gets the same answer without them, or where it differs.

Column names are Flink's in snake case (``dateTime`` -> ``date_time``).

>>> sorted(QUERIES) == sorted(QUERY_ORDER)
True
>>> QUERIES["q2"].reads
('bid',)
"""

from __future__ import annotations

from dataclasses import dataclass

from benchmarks.nexmark.generator import SCHEMAS


@dataclass(frozen=True)
class NexmarkQuery:
    """One benchmark query.

    ``sql`` is the CQL query; ``views`` are ``(name, query)`` pairs it needs;
    ``reads`` the streams (and tables) whose topics it consumes; ``kind`` the
    result's kind (``stream`` or ``relation``), as the planner will say.
    """

    name: str
    title: str
    sql: str
    reads: tuple[str, ...]
    kind: str
    views: tuple[tuple[str, str], ...] = ()


#: q13's side table: ``MOD(auction, 10000)`` looks up ``side_key``.
SIDE_INPUT_KEYS = 10_000


def stream_ddl(name: str, topic: str | None = None) -> str:
    """``CREATE STREAM`` for one of ``person``, ``auction``, ``bid``.

    >>> stream_ddl("bid", topic="t_bid").splitlines()[0]
    'CREATE STREAM bid ('
    """
    columns = ",\n".join(f"    {col} {typ}" for col, typ in SCHEMAS[name])
    return (
        f"CREATE STREAM {name} (\n{columns}\n) WITH (topic = '{topic or name}', "
        "format = 'json', timestamp = 'date_time')"
    )


def side_input_ddl(topic: str = "side_input") -> str:
    """``CREATE TABLE`` for q13's side input."""
    return (
        "CREATE TABLE side_input (side_key BIGINT, side_value VARCHAR, "
        f"PRIMARY KEY (side_key)) WITH (topic = '{topic}', format = 'json')"
    )


# -- the queries ------------------------------------------------------------------

Q0 = NexmarkQuery(
    "q0",
    "pass through",
    # Flink: SELECT auction, bidder, price, dateTime, extra FROM bid
    # The same text: selecting from an unbounded stream is monotonic, so the
    # query is the stream of its rows (implicit ISTREAM, a stateless stream_filter).
    "SELECT auction, bidder, price, date_time, extra FROM bid",
    ("bid",),
    "stream",
)

Q1 = NexmarkQuery(
    "q1",
    "currency conversion",
    # Flink: SELECT auction, bidder, 0.908 * price as price, dateTime, extra FROM bid
    # The same text (0.908 is a DECIMAL literal, so the price is a DECIMAL).
    "SELECT auction, bidder, 0.908 * price AS price, date_time, extra FROM bid",
    ("bid",),
    "stream",
)

Q2 = NexmarkQuery(
    "q2",
    "selection",
    # Flink: SELECT auction, price FROM bid WHERE MOD(auction, 123) = 0
    # The same text.
    "SELECT auction, price FROM bid WHERE MOD(auction, 123) = 0",
    ("bid",),
    "stream",
)

Q3 = NexmarkQuery(
    "q3",
    "local item suggestion",
    # Flink: an unbounded (regular) join of auction and person on seller = id,
    # filtered on category 10 and state in (OR, ID, CA). In CQL both streams
    # without a window are [UNBOUNDED] and the join only grows, so the query is
    # a stream (implicit ISTREAM), exactly Flink's append-only output. Both
    # sides are kept forever, as in Flink.
    """SELECT P.name, P.city, P.state, A.id
FROM auction AS A, person AS P
WHERE A.seller = P.id
  AND (P.state = 'OR' OR P.state = 'ID' OR P.state = 'CA')
  AND A.category = 10""",
    ("auction", "person"),
    "stream",
)

Q4 = NexmarkQuery(
    "q4",
    "average price per category",
    # Flink: the highest bid of each auction among the bids inside its lifetime
    # (dateTime BETWEEN A.dateTime AND A.expires), grouped by A.id, A.category,
    # then AVG(final) per category: an updating (retracting) result. In CQL the
    # same text over [UNBOUNDED] streams is relation-valued; its result is the
    # relation's delta stream, as Flink's changelog.
    """SELECT Q.category, AVG(Q.final) AS avg_final
FROM (SELECT MAX(B.price) AS final, A.category
      FROM auction AS A, bid AS B
      WHERE A.id = B.auction AND B.date_time BETWEEN A.date_time AND A.expires
      GROUP BY A.id, A.category) AS Q
GROUP BY Q.category""",
    ("auction", "bid"),
    "relation",
)

Q5 = NexmarkQuery(
    "q5",
    "hot items",
    # Flink: bids counted per auction in HOP windows (10 s, sliding by 2 s); per
    # window the auctions whose count is the window's maximum. In CQL the hop
    # window is [RANGE 10 SECONDS SLIDE 2 SECONDS] (its content changes only at
    # multiples of 2 s), and "count >= the max count" is a join of the counts
    # with their MAX. The result is relation-valued: at any time it holds the
    # hot auctions of the current window, and its delta stream changes at each
    # slide; Flink instead appends one row per window (with window_start and
    # window_end, which CQL has no expression for).
    """SELECT C.auction, C.num
FROM (SELECT auction, COUNT(*) AS num
      FROM bid [RANGE 10 SECONDS SLIDE 2 SECONDS]
      GROUP BY auction) AS C,
     (SELECT MAX(num) AS maxn
      FROM (SELECT auction, COUNT(*) AS num
            FROM bid [RANGE 10 SECONDS SLIDE 2 SECONDS]
            GROUP BY auction) AS D) AS M
WHERE C.num = M.maxn""",
    ("bid",),
    "relation",
)

Q5_COUNT = NexmarkQuery(
    "q5_count",
    "windowed count (q5's first half)",
    # Bids per auction in a 10 s window sliding by 2 s, the part of q5 that the
    # Python peer (Quix Streams) runs too: it is the like-for-like comparison.
    """SELECT auction, COUNT(*) AS num
FROM bid [RANGE 10 SECONDS SLIDE 2 SECONDS]
GROUP BY auction""",
    ("bid",),
    "relation",
)

# q6 reads this stream-valued view: each time an auction's highest bid (among
# the bids inside its lifetime) changes, the new (auction, seller, final).
AUCTION_MAX_PRICE = (
    "auction_max_price",
    """ISTREAM(SELECT A.id AS auction, A.seller AS seller, MAX(B.price) AS final
FROM auction AS A, bid AS B
WHERE A.id = B.auction AND B.date_time BETWEEN A.date_time AND A.expires
GROUP BY A.id, A.seller)""",
)

Q6 = NexmarkQuery(
    "q6",
    "average selling price by seller",
    # Flink: AVG(Q.final) OVER (PARTITION BY Q.seller ORDER BY Q.dateTime ROWS
    # BETWEEN 10 PRECEDING AND CURRENT ROW) over Q = MAX(B.price) per auction
    # (bids inside the auction's lifetime), GROUP BY A.id, A.seller. (Flink
    # itself cannot run it: its OVER window does not take Q's retractions.)
    # In CQL the OVER window is [PARTITION BY seller ROWS 10] over the stream
    # of Q's new rows (the view above, ISTREAM of Q). Like Flink's text, Q's
    # rows are the auction's highest bid so far, not only at its close: CQL has
    # no clock to say an auction has expired without a later event, so "the
    # last 10 closing prices" become "the last 10 new highest prices" of the
    # seller's auctions.
    """SELECT seller, AVG(final) AS avg_price
FROM auction_max_price [PARTITION BY seller ROWS 10]
GROUP BY seller""",
    ("auction", "bid"),
    "relation",
    views=(AUCTION_MAX_PRICE,),
)

Q7 = NexmarkQuery(
    "q7",
    "highest bid",
    # Flink: the bids whose price is the MAX of their 10 s TUMBLE window (a join
    # of bid with the per-window max, B.dateTime within the window). In CQL a
    # tumbling window is [RANGE 10 SECONDS SLIDE 10 SECONDS]; both sides use
    # it, so the equality on price pairs each bid with its own window's max.
    # ISTREAM emits the winning bids once, when their window closes.
    """SELECT ISTREAM(B.auction, B.price, B.bidder, B.date_time, B.extra)
FROM bid [RANGE 10 SECONDS SLIDE 10 SECONDS] AS B,
     (SELECT MAX(price) AS maxprice
      FROM bid [RANGE 10 SECONDS SLIDE 10 SECONDS]) AS M
WHERE B.price = M.maxprice""",
    ("bid",),
    "stream",
)

Q8 = NexmarkQuery(
    "q8",
    "monitor new users",
    # Flink: persons and auction sellers grouped per 10 s TUMBLE window, joined
    # on id = seller and equal windows. In CQL both sides use the same tumbling
    # window, [RANGE 10 SECONDS SLIDE 10 SECONDS], so the join pairs equal
    # windows; DISTINCT stands for Flink's GROUP BY seller. The window start
    # (Flink's starttime) is the emission's instant rather than a column.
    """SELECT ISTREAM(P.id, P.name)
FROM person [RANGE 10 SECONDS SLIDE 10 SECONDS] AS P,
     (SELECT DISTINCT seller
      FROM auction [RANGE 10 SECONDS SLIDE 10 SECONDS]) AS A
WHERE P.id = A.seller""",
    ("person", "auction"),
    "stream",
)

Q13 = NexmarkQuery(
    "q13",
    "bounded side input join",
    # Flink: bid JOIN side_input FOR SYSTEM_TIME AS OF B.p_time ON
    # mod(B.auction, 10000) = S.key (a lookup join against a file-backed
    # table, at processing time). In CQL: RSTREAM of bid [NOW] joined with the
    # table, the stream-to-table lookup join; the table is as of the bid's
    # instant (event time, not processing time). key/value are renamed
    # side_key/side_value (VALUE is a reserved word).
    """RSTREAM(SELECT B.auction, B.bidder, B.price, B.date_time, S.side_value
FROM bid [NOW] AS B, side_input AS S
WHERE MOD(B.auction, 10000) = S.side_key)""",
    ("bid", "side_input"),
    "stream",
)

Q18 = NexmarkQuery(
    "q18",
    "find last bid",
    # Flink: ROW_NUMBER() OVER (PARTITION BY bidder, auction ORDER BY dateTime
    # DESC) = 1, the last bid of each (bidder, auction). In CQL that is the
    # partitioned window [PARTITION BY bidder, auction ROWS 1]; the result is a
    # relation (Flink's is an updating table too) and its delta stream retracts
    # the previous last bid whenever a new one arrives.
    """SELECT auction, bidder, price, channel, url, date_time, extra
FROM bid [PARTITION BY bidder, auction ROWS 1]""",
    ("bid",),
    "relation",
)

Q11 = NexmarkQuery(
    "q11",
    "user sessions",
    # Flink: GROUP BY bidder, SESSION(dateTime, INTERVAL '10' SECOND), with
    # SESSION_START/SESSION_END. In CQL the session is the window
    # [PARTITION BY bidder SESSION 10 SECONDS]: the relation holds each bidder's
    # open session, and DSTREAM emits a session's row when it is deleted: its
    # final count at the instant it closes, last_time + 10 s (Flink's
    # SESSION_END), and before that each count a later bid of the session
    # replaces (at that bid's instant, earlier than last_time + 10 s).
    """SELECT DSTREAM(bidder, COUNT(*) AS bid_count, MIN(date_time) AS start_time,
    MAX(date_time) AS last_time)
FROM bid [PARTITION BY bidder SESSION 10 SECONDS]
GROUP BY bidder""",
    ("bid",),
    "stream",
)

Q19 = NexmarkQuery(
    "q19",
    "auction TOP-10 price",
    # Flink: SELECT * FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY auction ORDER BY
    # price DESC) AS rank_number FROM bid) WHERE rank_number <= 10. The same in CQL over
    # bid [RANGE UNBOUNDED] (all bids so far), planned as one top_n operator keeping 10
    # bids per auction; the result is a relation (Flink's an updating table). Bids of
    # equal price are ordered by their column values (docs/cql.md), where Flink leaves
    # the order open.
    """SELECT auction, bidder, price, channel, url, date_time, extra, rank_number
FROM (SELECT auction, bidder, price, channel, url, date_time, extra,
             ROW_NUMBER() OVER (PARTITION BY auction ORDER BY price DESC) AS rank_number
      FROM bid [RANGE UNBOUNDED])
WHERE rank_number <= 10""",
    ("bid",),
    "relation",
)

#: Every query, in the order the benchmark runs them.
QUERY_ORDER = ("q0", "q1", "q2", "q3", "q4", "q5", "q5_count", "q6", "q7", "q8", "q11", "q13",
               "q18", "q19")
QUERIES: dict[str, NexmarkQuery] = {
    q.name: q for q in (Q0, Q1, Q2, Q3, Q4, Q5, Q5_COUNT, Q6, Q7, Q8, Q11, Q13, Q18, Q19)
}
