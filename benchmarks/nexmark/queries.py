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

Q10 = NexmarkQuery(
    "q10",
    "log to file system",
    # Flink: the bids with DATE_FORMAT(dateTime, 'yyyy-MM-dd') and 'HH:mm',
    # written to a file system sink partitioned by those two columns (files
    # rolled and committed each minute). The query is the same in CQL, with
    # TO_CHAR (UTC) for DATE_FORMAT; the partitioned files are the sink's
    # business, which pycql's (topics, docs/jobs.md) does not do, so the
    # benchmark measures the query alone, as a stream.
    """SELECT auction, bidder, price, date_time, extra,
    TO_CHAR(date_time, 'YYYY-MM-DD') AS dt,
    TO_CHAR(date_time, 'HH24:MI') AS hm
FROM bid""",
    ("bid",),
    "stream",
)

Q12 = NexmarkQuery(
    "q12",
    "processing time windows (in event time)",
    # Flink: bids per bidder in 10 s TUMBLE windows of processing time
    # (PROCTIME()), with window_start and window_end. CQL has no processing
    # time: every instant is an event time, so that a query's answer is a
    # function of its input (docs/cql.md). This is the event-time equivalent:
    # the tumbling window [RANGE 10 SECONDS SLIDE 10 SECONDS] per bidder, and
    # ISTREAM emits each window's counts once, at its end. CQL's window ending
    # at t holds the bids in (t - 10 s, t], Flink's [start, start + 10 s); in
    # place of window_start/window_end (no expression for them in CQL), the
    # emission's instant is the window's end, and the bidder's first and last
    # bid times in the window are columns (they also keep equal counts of
    # successive windows apart, which ISTREAM would otherwise not repeat).
    """SELECT ISTREAM(bidder, COUNT(*) AS bid_count, MIN(date_time) AS first_time,
    MAX(date_time) AS last_time)
FROM bid [RANGE 10 SECONDS SLIDE 10 SECONDS]
GROUP BY bidder""",
    ("bid",),
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

Q14 = NexmarkQuery(
    "q14",
    "calculation",
    # Flink: q1's price, a CASE over HOUR(dateTime) naming the time of day, and
    # count_char(extra, 'c'), a Java UDF counting the c's of extra, over the bids
    # whose converted price is in (1 000 000, 50 000 000). pycql has no UDFs:
    # the count is the length lost when REPLACE drops every 'c'. HOUR is UTC
    # (docs/cql.md, Time), Flink's that of the session's time zone.
    """SELECT auction, bidder, 0.908 * price AS price,
    CASE
        WHEN HOUR(date_time) >= 8 AND HOUR(date_time) <= 18 THEN 'dayTime'
        WHEN HOUR(date_time) <= 6 OR HOUR(date_time) >= 20 THEN 'nightTime'
        ELSE 'otherTime'
    END AS bid_time_type,
    date_time, extra,
    CHAR_LENGTH(extra) - CHAR_LENGTH(REPLACE(extra, 'c', '')) AS c_counts
FROM bid
WHERE 0.908 * price > 1000000 AND 0.908 * price < 50000000""",
    ("bid",),
    "stream",
)

# The price ranks of q15-q17 (Flink's filters, as they are).
_RANK_FILTERS = (
    ("rank1", "price < 10000"),
    ("rank2", "price >= 10000 AND price < 1000000"),
    ("rank3", "price >= 1000000"),
)


def _ranked(call: str, name: str) -> str:
    """``call`` in total and FILTERed by each price rank: q15-q17's select items."""
    items = [f"{call} AS total_{name}"]
    items += [f"{call} FILTER (WHERE {cond}) AS {rank}_{name}" for rank, cond in _RANK_FILTERS]
    return ",\n    ".join(items)


Q15 = NexmarkQuery(
    "q15",
    "bidding statistics report",
    # Flink: per day (DATE_FORMAT(dateTime, 'yyyy-MM-dd')) the bids, distinct
    # bidders and distinct auctions, in total and FILTERed by three price
    # ranks; an unbounded GROUP BY, so an updating table. In CQL the same over
    # bid [UNBOUNDED] (relation-valued); DATE_FORMAT is TO_CHAR with
    # PostgreSQL's format ('YYYY-MM-DD'), in UTC. Each COUNT(DISTINCT ...)
    # FILTER keeps its own counts of the values, as Flink's distinct views.
    f"""SELECT TO_CHAR(date_time, 'YYYY-MM-DD') AS "day",
    {_ranked("COUNT(*)", "bids")},
    {_ranked("COUNT(DISTINCT bidder)", "bidders")},
    {_ranked("COUNT(DISTINCT auction)", "auctions")}
FROM bid
GROUP BY TO_CHAR(date_time, 'YYYY-MM-DD')""",
    ("bid",),
    "relation",
)

Q16 = NexmarkQuery(
    "q16",
    "channel statistics report",
    # Flink: q15 per channel and day, with the day's latest 'HH:mm' (the MAX
    # of DATE_FORMAT(dateTime, 'HH:mm')). In CQL the same, TO_CHAR(date_time,
    # 'HH24:MI') for the minute; MAX of a string is the greatest in code point
    # order, as Flink's.
    f"""SELECT channel, TO_CHAR(date_time, 'YYYY-MM-DD') AS "day",
    MAX(TO_CHAR(date_time, 'HH24:MI')) AS "minute",
    {_ranked("COUNT(*)", "bids")},
    {_ranked("COUNT(DISTINCT bidder)", "bidders")},
    {_ranked("COUNT(DISTINCT auction)", "auctions")}
FROM bid
GROUP BY channel, TO_CHAR(date_time, 'YYYY-MM-DD')""",
    ("bid",),
    "relation",
)

Q17 = NexmarkQuery(
    "q17",
    "auction statistics report",
    # Flink: per auction and day the bids (in total and per price rank) and
    # MIN/MAX/AVG/SUM of the price, an unbounded GROUP BY. In CQL the same;
    # Flink's AVG of a BIGINT is a truncated BIGINT, pycql's a DOUBLE with the
    # fraction (docs/cql.md), so the CAST keeps Flink's column (it truncates).
    f"""SELECT auction, TO_CHAR(date_time, 'YYYY-MM-DD') AS "day",
    {_ranked("COUNT(*)", "bids")},
    MIN(price) AS min_price,
    MAX(price) AS max_price,
    CAST(AVG(price) AS BIGINT) AS avg_price,
    SUM(price) AS sum_price
FROM bid
GROUP BY auction, TO_CHAR(date_time, 'YYYY-MM-DD')""",
    ("bid",),
    "relation",
)

Q20 = NexmarkQuery(
    "q20",
    "expand bid with auction",
    # Flink: bid INNER JOIN auction ON B.auction = A.id WHERE A.category = 10,
    # a regular (unbounded) join with an append-only result. In CQL, as q3,
    # both streams are [UNBOUNDED] and the join only grows: a stream (implicit
    # ISTREAM); a bid that arrives before its auction (the generator's lead)
    # is joined when the auction arrives, as in Flink. The two date_time and
    # extra columns are named bid_/auction_ as Flink's sink names them.
    """SELECT B.auction, B.bidder, B.price, B.channel, B.url,
    B.date_time AS bid_date_time, B.extra AS bid_extra,
    A.item_name, A.description, A.initial_bid, A.reserve,
    A.date_time AS auction_date_time, A.expires, A.seller, A.category,
    A.extra AS auction_extra
FROM bid AS B, auction AS A
WHERE B.auction = A.id AND A.category = 10""",
    ("bid", "auction"),
    "stream",
)

Q21 = NexmarkQuery(
    "q21",
    "add channel id",
    # Flink: the channel id, a CASE over LOWER(channel) for the four hot
    # channels, else REGEXP_EXTRACT(url, '(&|^)channel_id=([^&]*)', 2); the
    # bids with neither are filtered out. REGEXP_SUBSTR is REGEXP_EXTRACT with
    # one group (NULL when nothing matches, as Flink's): the first group is
    # made non-capturing, (?:&|^).
    """SELECT auction, bidder, price, channel,
    CASE
        WHEN LOWER(channel) = 'apple' THEN '0'
        WHEN LOWER(channel) = 'google' THEN '1'
        WHEN LOWER(channel) = 'facebook' THEN '2'
        WHEN LOWER(channel) = 'baidu' THEN '3'
        ELSE REGEXP_SUBSTR(url, '(?:&|^)channel_id=([^&]*)')
    END AS channel_id
FROM bid
WHERE REGEXP_SUBSTR(url, '(?:&|^)channel_id=([^&]*)') IS NOT NULL
   OR LOWER(channel) IN ('apple', 'google', 'facebook', 'baidu')""",
    ("bid",),
    "stream",
)

Q22 = NexmarkQuery(
    "q22",
    "get URL directories",
    # Flink: SPLIT_INDEX(url, '/', 3), 4 and 5, the 0-based fields of the URL
    # split at '/': the three directories after 'https:', '' and the host.
    # SPLIT_PART counts from 1, so they are its fields 4, 5 and 6. (Past the
    # last field SPLIT_INDEX is NULL and SPLIT_PART ''; every generated URL has
    # the three directories.)
    """SELECT auction, bidder, price, channel,
    SPLIT_PART(url, '/', 4) AS dir1,
    SPLIT_PART(url, '/', 5) AS dir2,
    SPLIT_PART(url, '/', 6) AS dir3
FROM bid""",
    ("bid",),
    "stream",
)

Q9 = NexmarkQuery(
    "q9",
    "winning bids",
    # Flink: ROW_NUMBER() OVER (PARTITION BY A.id ORDER BY B.price DESC,
    # B.dateTime ASC) <= 1 over auction joined with bid on A.id = B.auction and
    # B.dateTime BETWEEN A.dateTime AND A.expires: an updating table of each
    # auction with its highest bid so far among the bids inside its lifetime.
    # The same text in CQL over the [UNBOUNDED] streams, planned as a top_n
    # over the join; the result is a relation. As in Flink (and unlike Beam's
    # original q9, which emits the winner once, when the auction closes) a
    # row is the best bid so far: CQL has no clock to close an auction without
    # a later event. Bids of equal price and time are ordered by their column
    # values, where Flink leaves the order open.
    """SELECT id, item_name, description, initial_bid, reserve, date_time, expires, seller,
    category, extra, auction, bidder, price, bid_date_time, bid_extra
FROM (SELECT A.id, A.item_name, A.description, A.initial_bid, A.reserve, A.date_time,
             A.expires, A.seller, A.category, A.extra, B.auction, B.bidder, B.price,
             B.date_time AS bid_date_time, B.extra AS bid_extra,
             ROW_NUMBER() OVER (PARTITION BY A.id ORDER BY B.price DESC, B.date_time ASC)
                 AS rownum
      FROM auction AS A, bid AS B
      WHERE A.id = B.auction AND B.date_time BETWEEN A.date_time AND A.expires)
WHERE rownum <= 1""",
    ("auction", "bid"),
    "relation",
)

#: Every query, in the order the benchmark runs them.
QUERY_ORDER = ("q0", "q1", "q2", "q3", "q4", "q5", "q5_count", "q6", "q7", "q8", "q9", "q10",
               "q11", "q12", "q13", "q14", "q15", "q16", "q17", "q18", "q19", "q20", "q21",
               "q22")
QUERIES: dict[str, NexmarkQuery] = {
    q.name: q for q in (Q0, Q1, Q2, Q3, Q4, Q5, Q5_COUNT, Q6, Q7, Q8, Q9, Q10, Q11, Q12, Q13,
                        Q14, Q15, Q16, Q17, Q18, Q19, Q20, Q21, Q22)
}
