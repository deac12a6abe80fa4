"""The Nexmark queries' answers computed in plain Python, to check pycql (and the peers).

Every query of ``queries.py`` has a reference here: a class that reads the generated
events, decoded with :mod:`json` (not orjson, not pycql's decoder), instant by instant,
and works out what the query must emit, following ``docs/cql.md``: an instant is every
event with one timestamp (all topics together); a stream query emits its rows at their
instants; a relation-valued query emits, at each instant where the relation changes, the
rows deleted (sign -1) and inserted (+1); windows ``[RANGE r SLIDE s]`` change at the
multiples of ``s``, sessions close at ``last + gap``, and an instant after the last event
never comes (a bounded run ends with the last event's instant). Nothing here imports
pycql, and the module imports only the standard library (the Quix Streams peer loads
it in its own environment to digest its output).

What is compared is a :class:`Digest` of the output, not the rows: a sum, modulo 2**64,
of a hash of every ``(instant, row)`` times its sign, so a relation's insert and delete
of the same row at one instant cancel and the order of rows does not matter, plus the
net row count and the same per second of event time (to say where a difference is).
Two outputs with equal digests are equal as a multiset of ``(instant, row, sign)`` up to
cancelling pairs, i.e. equal per instant, with a 2**-64 chance of a false match.

>>> from benchmarks.nexmark.generator import GeneratorConfig
>>> digests = compute(GeneratorConfig(seed=1, events=2_000, rate=1_000), ["q0", "q2"])
>>> digests["q0"].net, digests["q2"].net
(1840, 1)
"""

from __future__ import annotations

import functools
import hashlib
import heapq
import json
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from benchmarks.nexmark.generator import GeneratorConfig

Row = tuple[Any, ...]
Event = dict[str, Any]

_MASK = (1 << 64) - 1
BID_COLUMNS = ("auction", "bidder", "price", "channel", "url", "date_time", "extra")
AUCTION_COLUMNS = ("id", "item_name", "description", "initial_bid", "reserve", "date_time",
                   "expires", "seller", "category", "extra")


# -- the digest ---------------------------------------------------------------------------


_blake2b = hashlib.blake2b


def _canonical(value: Any) -> Any:
    return ("decimal", str(value.normalize())) if isinstance(value, Decimal) else value


def row_hash(instant: int, row: Iterable[Any]) -> int:
    """A stable 64-bit hash of one output row at one instant (the same in every process).

    Decimals count by value (``Decimal('90.800')`` is ``Decimal('90.8')``), other values
    by their ``repr``: an int is not the float of the same value.
    """
    if type(row) is not tuple:
        row = tuple(row)
    if Decimal in map(type, row):
        row = tuple(map(_canonical, row))
    return int.from_bytes(_blake2b(repr((instant, row)).encode(), digest_size=8).digest(),
                          "little")


class Digest:
    """An order-free summary of an output: ``(instant, row, sign)`` triples added up."""

    def __init__(self) -> None:
        self.value = 0
        self.net = 0
        #: second of event time -> [digest, net rows]
        self.seconds: dict[int, list[int]] = {}

    def add(self, instant: int, row: Iterable[Any], sign: int = 1) -> None:
        h = row_hash(instant, row)
        self.value = (self.value + sign * h) & _MASK
        self.net += sign
        cell = self.seconds.setdefault(instant // 1000, [0, 0])
        cell[0] = (cell[0] + sign * h) & _MASK
        cell[1] += sign

    def add_all(self, emissions: Iterable[tuple[int, int, Iterable[Any]]]) -> None:
        """Add ``(instant, sign, row)`` triples (pycql's ``Emission``)."""
        for instant, sign, row in emissions:
            self.add(instant, row, sign)

    def to_json(self) -> dict[str, Any]:
        return {"digest": f"{self.value:016x}", "net": self.net,
                "seconds": {str(s): [f"{d:016x}", n] for s, (d, n) in self.seconds.items()}}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Digest:
        out = cls()
        out.value = int(data["digest"], 16)
        out.net = int(data["net"])
        out.seconds = {int(s): [int(d, 16), int(n)] for s, (d, n) in data["seconds"].items()}
        return out

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, Digest) and self.value == other.value
                and self.net == other.net)

    def __hash__(self) -> int:
        return hash((self.value, self.net))

    def differences(self, other: Digest, limit: int = 3) -> str:
        """Where ``other`` differs from this (the expected) output, in words."""
        if self == other:
            return "equal"
        seconds = sorted(set(self.seconds) | set(other.seconds))
        bad = [s for s in seconds if self.seconds.get(s, [0, 0]) != other.seconds.get(s, [0, 0])]
        shown = ", ".join(
            f"second {s}: {other.seconds.get(s, [0, 0])[1]} rows, expected "
            f"{self.seconds.get(s, [0, 0])[1]}" for s in bad[:limit])
        return (f"net rows {other.net}, expected {self.net}; {len(bad)} of {len(seconds)} "
                f"seconds differ ({shown})")


# -- the events, instant by instant -----------------------------------------------------------


def instants(config: GeneratorConfig) -> Iterator[tuple[int, list[Event], list[Event],
                                                         list[Event]]]:
    """``(instant, persons, auctions, bids)`` in time order, each in arrival order."""
    from benchmarks.nexmark.generator import NexmarkGenerator, event_kind

    current: int | None = None
    persons: list[Event] = []
    auctions: list[Event] = []
    bids: list[Event] = []
    for batch in NexmarkGenerator(config).chunks(50_000):
        sources = {"person": iter(batch.persons), "auction": iter(batch.auctions),
                   "bid": iter(batch.bids)}
        targets = {"person": persons, "auction": auctions, "bid": bids}
        for n in range(batch.first_event, batch.first_event + batch.events):
            kind = event_kind(n)
            event = json.loads(next(sources[kind]))
            t = event["date_time"]
            if t != current:
                if current is not None:
                    yield current, persons, auctions, bids
                current, persons, auctions, bids = t, [], [], []
                targets = {"person": persons, "auction": auctions, "bid": bids}
            targets[kind].append(event)
    if current is not None:
        yield current, persons, auctions, bids


# -- the queries ------------------------------------------------------------------------------


class Reference:
    """One query's expected output, fed every instant in order."""

    def __init__(self) -> None:
        self.digest = Digest()

    def emit(self, instant: int, row: Row, sign: int = 1) -> None:
        self.digest.add(instant, row, sign)

    def emit_change(self, instant: int, old: list[Row], new: list[Row]) -> None:
        """A relation's delta: ``old`` rows (a multiset) replaced by ``new``."""
        if len(old) <= 1 and len(new) <= 1:  # one row per key: the usual case
            if old != new:
                for row in old:
                    self.emit(instant, row, -1)
                for row in new:
                    self.emit(instant, row, 1)
            return
        before, after = Counter(old), Counter(new)
        for row, n in (before - after).items():
            for _ in range(n):
                self.emit(instant, row, -1)
        for row, n in (after - before).items():
            for _ in range(n):
                self.emit(instant, row, 1)

    def instant(self, t: int, persons: list[Event], auctions: list[Event],
                bids: list[Event]) -> None:
        raise NotImplementedError

    def finish(self) -> None:
        """The input has ended (instants after the last event never come)."""


class BidMap(Reference):
    """A stream of one row per bid (or none), at the bid's instant: q0-q2, q10, q13, q14,
    q21, q22."""

    def __init__(self, row: Callable[[Event], Row | None]) -> None:
        super().__init__()
        self.row = row

    def instant(self, t: int, persons: list[Event], auctions: list[Event],
                bids: list[Event]) -> None:
        for b in bids:
            row = self.row(b)
            if row is not None:
                self.emit(t, row)


@functools.lru_cache(maxsize=256)
def _utc(ms: int, fmt: str) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime(fmt)


def _q14(b: Event) -> Row | None:
    price = Decimal("0.908") * b["price"]
    if not 1_000_000 < price < 50_000_000:
        return None
    hour = datetime.fromtimestamp(b["date_time"] / 1000, tz=UTC).hour
    kind = ("dayTime" if 8 <= hour <= 18 else "nightTime" if hour <= 6 or hour >= 20
            else "otherTime")
    return (b["auction"], b["bidder"], price, kind, b["date_time"], b["extra"],
            b["extra"].count("c"))


_HOT_CHANNEL_IDS = {"apple": "0", "google": "1", "facebook": "2", "baidu": "3"}


def _q21(b: Event) -> Row | None:
    query = b["url"].partition("?")[2]
    ids = [v for k, _, v in (p.partition("=") for p in query.split("&")) if k == "channel_id"]
    channel_id = _HOT_CHANNEL_IDS.get(b["channel"].lower(), ids[0] if ids else None)
    if channel_id is None:
        return None
    return (b["auction"], b["bidder"], b["price"], b["channel"], channel_id)


def _side_values() -> dict[int, str]:
    from benchmarks.nexmark.generator import side_input_rows

    return {d["side_key"]: d["side_value"] for d in map(json.loads, side_input_rows())}


class Windowed(Reference):
    """A relation over ``[RANGE size SLIDE slide]`` windows: recomputed at every multiple
    of ``slide`` (the instants where the window changes) from the events in
    ``(m - size, m]``; the delta against the previous window is emitted, or with
    ``istream`` only the rows new to it."""

    def __init__(self, size: int, slide: int, relation: Callable[[list[tuple[str, Event]]],
                                                                  list[Row]],
                 *, istream: bool = False) -> None:
        super().__init__()
        self.size, self.slide, self.relation, self.istream = size, slide, relation, istream
        self.events: deque[tuple[int, str, Event]] = deque()
        self.previous: list[Row] = []
        self.last: int | None = None

    def _fire(self, m: int) -> None:
        while self.events and self.events[0][0] <= m - self.size:
            self.events.popleft()
        rows = self.relation([(kind, e) for t, kind, e in self.events if t <= m])
        if self.istream:
            for row, n in (Counter(rows) - Counter(self.previous)).items():
                for _ in range(n):
                    self.emit(m, row)
        else:
            self.emit_change(m, self.previous, rows)
        self.previous = rows

    def instant(self, t: int, persons: list[Event], auctions: list[Event],
                bids: list[Event]) -> None:
        if self.last is not None:
            m = (self.last // self.slide + 1) * self.slide
            while m < t:
                self._fire(m)
                m += self.slide
        for kind, events in (("person", persons), ("auction", auctions), ("bid", bids)):
            self.events.extend((t, kind, e) for e in events)
        if t % self.slide == 0:
            self._fire(t)
        self.last = t


def _q5_counts(events: list[tuple[str, Event]]) -> list[Row]:
    return list(Counter(e["auction"] for kind, e in events if kind == "bid").items())


def _q5(events: list[tuple[str, Event]]) -> list[Row]:
    counts = _q5_counts(events)
    if not counts:
        return []
    top = max(n for _, n in counts)
    return [(a, n) for a, n in counts if n == top]


def _q7(events: list[tuple[str, Event]]) -> list[Row]:
    bids = [e for kind, e in events if kind == "bid"]
    if not bids:
        return []
    top = max(b["price"] for b in bids)
    return [(b["auction"], b["price"], b["bidder"], b["date_time"], b["extra"])
            for b in bids if b["price"] == top]


def _q8(events: list[tuple[str, Event]]) -> list[Row]:
    sellers = {e["seller"] for kind, e in events if kind == "auction"}
    return [(e["id"], e["name"]) for kind, e in events if kind == "person" and e["id"] in sellers]


def _q12(events: list[tuple[str, Event]]) -> list[Row]:
    by_bidder: dict[int, list[int]] = {}
    for kind, e in events:
        if kind == "bid":
            by_bidder.setdefault(e["bidder"], []).append(e["date_time"])
    return [(b, len(ts), min(ts), max(ts)) for b, ts in by_bidder.items()]


class Keyed(Reference):
    """A relation kept as ``key -> rows``; at each instant the keys touched are compared
    before and after (:meth:`touch` before changing a key)."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[Any, list[Row]] = {}
        self._before: dict[Any, list[Row]] = {}

    def touch(self, key: Any) -> None:
        if key not in self._before:
            self._before[key] = list(self.rows.get(key, ()))

    def set(self, key: Any, rows: list[Row]) -> None:
        self.touch(key)
        if rows:
            self.rows[key] = rows
        else:
            self.rows.pop(key, None)

    def flush(self, t: int) -> None:
        for key, old in self._before.items():
            new = self.rows.get(key, [])
            if old != new:
                self.emit_change(t, old, new)
        self._before = {}


class Q3(Reference):
    """auction JOIN person ON seller = id, category 10, state OR/ID/CA: a pair at the
    later of its two events."""

    def __init__(self) -> None:
        super().__init__()
        self.persons: dict[int, Event] = {}
        self.waiting: dict[int, list[int]] = {}  # seller -> auction ids seen before them

    def instant(self, t: int, persons: list[Event], auctions: list[Event],
                bids: list[Event]) -> None:
        for p in persons:
            if p["state"] in ("OR", "ID", "CA"):
                self.persons[p["id"]] = p
                for a in self.waiting.pop(p["id"], []):
                    self.emit(t, (p["name"], p["city"], p["state"], a))
            else:
                self.waiting.pop(p["id"], None)
        for auction in auctions:
            if auction["category"] != 10:
                continue
            seller = self.persons.get(auction["seller"])
            if seller is not None:
                self.emit(t, (seller["name"], seller["city"], seller["state"], auction["id"]))
            else:
                self.waiting.setdefault(auction["seller"], []).append(auction["id"])


class AuctionMax:
    """The highest bid price of each auction among the bids inside its lifetime."""

    def __init__(self) -> None:
        self.auctions: dict[int, Event] = {}
        self.best: dict[int, int] = {}

    def changes(self, auctions: list[Event], bids: list[Event]) -> dict[int, int | None]:
        """Take one instant: the auctions whose highest price changed, in the order of
        their first change, each with its price before the instant (None: it had none)."""
        for a in auctions:
            self.auctions[a["id"]] = a
        changed: dict[int, int | None] = {}
        for b in bids:
            found = self.auctions.get(b["auction"])
            if found is None:
                continue
            a = found
            if not a["date_time"] <= b["date_time"] <= a["expires"]:
                continue
            held = self.best.get(a["id"])
            if held is None or b["price"] > held:
                if a["id"] not in changed:
                    changed[a["id"]] = held
                self.best[a["id"]] = b["price"]
        return changed


class Q4(Keyed):
    """AVG of each auction's highest in-lifetime bid, per category."""

    def __init__(self) -> None:
        super().__init__()
        self.max = AuctionMax()
        self.sums: dict[int, list[int]] = {}

    def instant(self, t: int, persons: list[Event], auctions: list[Event],
                bids: list[Event]) -> None:
        for a, old in self.max.changes(auctions, bids).items():
            category = self.max.auctions[a]["category"]
            cell = self.sums.setdefault(category, [0, 0])
            if old is not None:
                cell[0] -= old
            else:
                cell[1] += 1
            cell[0] += self.max.best[a]
            self.set(category, [(category, cell[0] / cell[1])])
        self.flush(t)


class Q6(Keyed):
    """AVG of the last 10 new highest prices of each seller's auctions.

    The window's elements are the rows ``(auction, seller, final)`` of the derived
    stream; several auctions of one seller can get a new highest price at one instant,
    and a ROWS window takes the elements of one instant in ascending order of their
    values (docs/cql.md, "Windows"). Here that is the order of the auction ids (one row
    per auction per instant), so of more than 10 at once the 10 highest ids stay.
    """

    def __init__(self) -> None:
        super().__init__()
        self.max = AuctionMax()
        self.last: dict[int, deque[int]] = {}

    def instant(self, t: int, persons: list[Event], auctions: list[Event],
                bids: list[Event]) -> None:
        for a in sorted(self.max.changes(auctions, bids)):  # the window's order
            seller = self.max.auctions[a]["seller"]
            window = self.last.setdefault(seller, deque(maxlen=10))
            window.append(self.max.best[a])
            self.set(seller, [(seller, sum(window) / len(window))])
        self.flush(t)


class Q9(Keyed):
    """Each auction with its best bid inside its lifetime: price descending, then time,
    then the columns' values."""

    def __init__(self) -> None:
        super().__init__()
        self.auctions: dict[int, Event] = {}

    def instant(self, t: int, persons: list[Event], auctions: list[Event],
                bids: list[Event]) -> None:
        for a in auctions:
            self.auctions[a["id"]] = a
        for b in bids:
            found = self.auctions.get(b["auction"])
            if found is None:
                continue
            a = found
            if not a["date_time"] <= b["date_time"] <= a["expires"]:
                continue
            row = (*(a[c] for c in AUCTION_COLUMNS), b["auction"], b["bidder"], b["price"],
                   b["date_time"], b["extra"])
            held = self.rows.get(a["id"])
            if held is None or self._order(row) < self._order(held[0]):
                self.set(a["id"], [row])
        self.flush(t)

    @staticmethod
    def _order(row: Row) -> tuple[Any, ...]:
        return (-row[12], row[13], row)


class Q11(Reference):
    """DSTREAM of each bidder's open session (count, first, last); a session closes at
    ``last + 10 s``."""

    GAP = 10_000

    def __init__(self) -> None:
        super().__init__()
        self.sessions: dict[int, list[int]] = {}  # bidder -> [count, first, last]
        self.closing: list[tuple[int, int]] = []  # (last + gap, bidder)

    def instant(self, t: int, persons: list[Event], auctions: list[Event],
                bids: list[Event]) -> None:
        while self.closing and self.closing[0][0] <= t:
            at, bidder = heapq.heappop(self.closing)
            s = self.sessions.get(bidder)
            if s is not None and s[2] + self.GAP == at:
                self.emit(at, (bidder, *s))
                del self.sessions[bidder]
        extended: set[int] = set()
        for b in bids:
            bidder = b["bidder"]
            s = self.sessions.get(bidder)
            if s is None:
                self.sessions[bidder] = [1, t, t]
                extended.add(bidder)  # new this instant: nothing deleted
                continue
            if bidder not in extended:
                self.emit(t, (bidder, *s))
                extended.add(bidder)
            s[0] += 1
            s[2] = t
        for bidder in extended:
            heapq.heappush(self.closing, (t + self.GAP, bidder))


_RANKS: tuple[Callable[[int], bool], ...] = (
    lambda p: True, lambda p: p < 10_000, lambda p: 10_000 <= p < 1_000_000,
    lambda p: p >= 1_000_000)


class DayStatistics(Keyed):
    """q15 (per day), q16 (per channel and day) and q17 (per auction and day)."""

    def __init__(self, query: str) -> None:
        super().__init__()
        self.query = query
        self.groups: dict[Any, dict[str, Any]] = {}

    def instant(self, t: int, persons: list[Event], auctions: list[Event],
                bids: list[Event]) -> None:
        if not bids:
            return
        day, minute = _utc(t, "%Y-%m-%d"), _utc(t, "%H:%M")
        for b in bids:
            key = ((day,) if self.query == "q15" else
                   (b["channel"], day) if self.query == "q16" else (b["auction"], day))
            g = self.groups.get(key)
            if g is None:
                g = self.groups[key] = {
                    "bids": [0] * 4, "bidders": [set() for _ in _RANKS],
                    "auctions": [set() for _ in _RANKS], "minute": "", "prices": []}
            price = b["price"]
            for i, keep in enumerate(_RANKS):
                if keep(price):
                    g["bids"][i] += 1
                    g["bidders"][i].add(b["bidder"])
                    g["auctions"][i].add(b["auction"])
            g["minute"] = max(g["minute"], minute)
            if self.query == "q17":
                g["prices"] = [min(price, g["prices"][0]) if g["prices"] else price,
                               max(price, g["prices"][1]) if g["prices"] else price,
                               (g["prices"][2] if g["prices"] else 0) + price]
            self.set(key, [self._row(key, g)])
        self.flush(t)

    def _row(self, key: Any, g: dict[str, Any]) -> Row:
        counts = tuple(g["bids"])
        if self.query == "q17":
            low, high, total = g["prices"]
            return (*key, *counts, low, high, total // counts[0], total)
        distinct = (*map(len, g["bidders"]), *map(len, g["auctions"]))
        if self.query == "q16":
            return (key[0], key[1], g["minute"], *counts, *distinct)
        return (*key, *counts, *distinct)


class Q18(Keyed):
    """The last bid of each (bidder, auction): of several at one instant, the greatest
    by its columns' values in order (a ROWS window's order within an instant)."""

    def instant(self, t: int, persons: list[Event], auctions: list[Event],
                bids: list[Event]) -> None:
        last: dict[tuple[int, int], Row] = {}
        for b in bids:
            row = tuple(b[c] for c in BID_COLUMNS)
            key = (b["bidder"], b["auction"])
            if key not in last or row > last[key]:
                last[key] = row
        for key, row in last.items():
            self.set(key, [row])
        self.flush(t)


class Q19(Keyed):
    """The 10 highest bids of each auction, numbered: price descending, then the columns'
    values."""

    def __init__(self) -> None:
        super().__init__()
        self.top: dict[int, list[Row]] = {}

    def instant(self, t: int, persons: list[Event], auctions: list[Event],
                bids: list[Event]) -> None:
        for b in bids:
            top = self.top.setdefault(b["auction"], [])
            top.append(tuple(b[c] for c in BID_COLUMNS))
            top.sort(key=lambda r: (-r[2], r))
            del top[10:]
            self.set(b["auction"], [(*r, i + 1) for i, r in enumerate(top)])
        self.flush(t)


class Q20(Reference):
    """bid JOIN auction ON auction = id, category 10: a pair at the later of its events."""

    def __init__(self) -> None:
        super().__init__()
        self.auctions: dict[int, Event] = {}
        self.seen: set[int] = set()
        self.waiting: dict[int, list[Event]] = {}

    def _row(self, b: Event, a: Event) -> Row:
        return (*(b[c] for c in BID_COLUMNS),
                *(a[c] for c in ("item_name", "description", "initial_bid", "reserve",
                                 "date_time", "expires", "seller", "category", "extra")))

    def instant(self, t: int, persons: list[Event], auctions: list[Event],
                bids: list[Event]) -> None:
        for a in auctions:
            self.seen.add(a["id"])
            early = self.waiting.pop(a["id"], [])
            if a["category"] == 10:
                self.auctions[a["id"]] = a
                for b in early:
                    self.emit(t, self._row(b, a))
        for b in bids:
            found = self.auctions.get(b["auction"])
            if found is not None:
                self.emit(t, self._row(b, found))
            elif b["auction"] not in self.seen:
                self.waiting.setdefault(b["auction"], []).append(b)


def _bid_row(*columns: str) -> Callable[[Event], Row]:
    return lambda b: tuple(b[c] for c in columns)


def make(name: str) -> Reference:
    """The reference of query ``name``."""
    if name == "q13":
        side = _side_values()
        return BidMap(lambda b: (b["auction"], b["bidder"], b["price"], b["date_time"],
                                 side[b["auction"] % 10_000]))
    makers: dict[str, Callable[[], Reference]] = {
        "q0": lambda: BidMap(_bid_row("auction", "bidder", "price", "date_time", "extra")),
        "q1": lambda: BidMap(lambda b: (b["auction"], b["bidder"], Decimal("0.908") * b["price"],
                                        b["date_time"], b["extra"])),
        "q2": lambda: BidMap(lambda b: (b["auction"], b["price"]) if b["auction"] % 123 == 0
                             else None),
        "q3": Q3,
        "q4": Q4,
        "q5": lambda: Windowed(10_000, 2_000, _q5),
        "q5_count": lambda: Windowed(10_000, 2_000, _q5_counts),
        "q6": Q6,
        "q7": lambda: Windowed(10_000, 10_000, _q7, istream=True),
        "q8": lambda: Windowed(10_000, 10_000, _q8, istream=True),
        "q9": Q9,
        "q10": lambda: BidMap(lambda b: (b["auction"], b["bidder"], b["price"], b["date_time"],
                                         b["extra"], _utc(b["date_time"], "%Y-%m-%d"),
                                         _utc(b["date_time"], "%H:%M"))),
        "q11": Q11,
        "q12": lambda: Windowed(10_000, 10_000, _q12, istream=True),
        "q14": lambda: BidMap(_q14),
        "q15": lambda: DayStatistics("q15"),
        "q16": lambda: DayStatistics("q16"),
        "q17": lambda: DayStatistics("q17"),
        "q18": Q18,
        "q19": Q19,
        "q20": Q20,
        "q21": lambda: BidMap(_q21),
        "quix_q5_count": QuixWindowCounts,
        "q22": lambda: BidMap(lambda b: (b["auction"], b["bidder"], b["price"], b["channel"],
                                         *b["url"].split("/")[3:6])),
    }
    return makers[name]()


def compute(config: GeneratorConfig, names: Iterable[str]) -> dict[str, Digest]:
    """The expected output digest of each query in ``names``, in one pass over the events."""
    references = {name: make(name) for name in names}
    for t, persons, auctions, bids in instants(config):
        for reference in references.values():
            reference.instant(t, persons, auctions, bids)
    for reference in references.values():
        reference.finish()
    return {name: r.digest for name, r in references.items()}


# -- Quix Streams' windowed count -----------------------------------------------------------


class QuixWindowCounts(Reference):
    """What a hopping window count per auction emits when windows close per partition
    (Quix Streams' ``final(closing_strategy="partition")``): windows ``[start, start +
    size)`` at multiples of ``step``, each as ``(auction, start, end, count)`` at ``end``,
    for the windows that the last bid's time has closed (``end <= last``)."""

    def __init__(self, size: int = 10_000, step: int = 2_000) -> None:
        super().__init__()
        self.size, self.step = size, step
        self.counts: Counter[tuple[int, int]] = Counter()
        self.last: int | None = None

    def instant(self, t: int, persons: list[Event], auctions: list[Event],
                bids: list[Event]) -> None:
        if not bids:
            return
        first = (t - self.size) // self.step * self.step + self.step
        starts = range(first, t + 1, self.step)
        counts = self.counts
        for b in bids:
            for start in starts:
                counts[(start, b["auction"])] += 1
        self.last = t

    def finish(self) -> None:
        if self.last is None:
            return
        for (start, auction), n in self.counts.items():
            end = start + self.size
            if end <= self.last:
                self.emit(end, (auction, start, end, n))
