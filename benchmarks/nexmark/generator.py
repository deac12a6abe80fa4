"""A deterministic Nexmark event generator: persons, auctions and bids as JSON.

It follows the Nexmark generator of Apache Beam / Flink (``NexmarkGenerator``,
``GeneratorConfig``, ``PersonGenerator``, ``AuctionGenerator``,
``BidGenerator``), re-written for pycql:

* out of every 50 events, 1 is a person, 3 are auctions and 46 are bids, at
  fixed offsets inside each epoch of 50 (offset 0 a person, 1-3 auctions, the
  rest bids), so event ``n`` always has the same kind;
* ids are dense: person ids start at 1000 and grow by one per epoch, auction
  ids start at 1000 and grow by three per epoch;
* a bid goes to a *hot* auction (the newest multiple of 100) with probability
  1/2 and to one of the ~100 in-flight auctions otherwise; the bidder is a hot
  bidder with probability 3/4 (a multiple of 100, plus one) and one of the last
  1000 active persons otherwise; an auction's seller is hot with probability 3/4;
* prices are ``round(10 ** (6 * u) * 100)`` (cents, log-uniform 100 .. 10^8),
  ``reserve = initial_bid + price``, auctions expire within twice the time it
  takes 100 auctions to arrive;
* event time: event number ``n`` has ``date_time = base_time_ms + n * 1000 // rate``.

Randomness comes from :class:`random.Random`, reseeded for every chunk of
:data:`CHUNK_EVENTS` events from ``(seed, chunk number)``, so the stream is a
pure function of the seed: the same seed gives byte-identical JSON whatever the
batch size, and the first N events of a longer run equal a run of N events.

>>> gen = NexmarkGenerator(GeneratorConfig(seed=7, events=100))
>>> batch = gen.generate()
>>> len(batch.persons), len(batch.auctions), len(batch.bids)
(2, 6, 92)
>>> import orjson
>>> sorted(orjson.loads(batch.bids[0]))
['auction', 'bidder', 'channel', 'date_time', 'extra', 'price', 'url']
>>> NexmarkGenerator(GeneratorConfig(seed=7, events=100)).generate().bids == batch.bids
True
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import orjson

if TYPE_CHECKING:
    from pycql.log.base import Log

#: The three topics (and stream names) of Nexmark.
TOPICS = ("person", "auction", "bid")

PERSON_PROPORTION = 1
AUCTION_PROPORTION = 3
BID_PROPORTION = 46
TOTAL_PROPORTION = PERSON_PROPORTION + AUCTION_PROPORTION + BID_PROPORTION

FIRST_PERSON_ID = 1000
FIRST_AUCTION_ID = 1000
FIRST_CATEGORY_ID = 10
NUM_CATEGORIES = 5
PERSON_ID_LEAD = 10
AUCTION_ID_LEAD = 10
HOT_AUCTION_RATIO = 100
HOT_SELLER_RATIO = 100
HOT_BIDDER_RATIO = 100
CHANNELS_NUMBER = 10_000

#: Events per reseeding of the random generator (a multiple of 50).
CHUNK_EVENTS = 10_000

FIRST_NAMES = ("Peter", "Paul", "Luke", "John", "Saul", "Vicky", "Kate", "Julie", "Sarah",
               "Deiter", "Walter")
LAST_NAMES = ("Shultz", "Abrams", "Spencer", "White", "Bartels", "Walton", "Smith", "Jones",
              "Noris")
US_STATES = ("AZ", "CA", "ID", "OR", "WA", "WY")
US_CITIES = ("Phoenix", "Los Angeles", "San Francisco", "Boise", "Portland", "Bend", "Redmond",
             "Seattle", "Kent", "Cheyenne")
HOT_CHANNELS = ("Google", "Facebook", "Baidu", "Apple")

#: The column names and SQL types of the three streams, in JSON key order.
SCHEMAS: dict[str, tuple[tuple[str, str], ...]] = {
    "person": (
        ("id", "BIGINT"), ("name", "VARCHAR"), ("email_address", "VARCHAR"),
        ("credit_card", "VARCHAR"), ("city", "VARCHAR"), ("state", "VARCHAR"),
        ("date_time", "TIMESTAMP"), ("extra", "VARCHAR"),
    ),
    "auction": (
        ("id", "BIGINT"), ("item_name", "VARCHAR"), ("description", "VARCHAR"),
        ("initial_bid", "BIGINT"), ("reserve", "BIGINT"), ("date_time", "TIMESTAMP"),
        ("expires", "TIMESTAMP"), ("seller", "BIGINT"), ("category", "BIGINT"),
        ("extra", "VARCHAR"),
    ),
    "bid": (
        ("auction", "BIGINT"), ("bidder", "BIGINT"), ("price", "BIGINT"),
        ("channel", "VARCHAR"), ("url", "VARCHAR"), ("date_time", "TIMESTAMP"),
        ("extra", "VARCHAR"),
    ),
}

_LETTERS = "abcdefghijklmnopqrstuvwxyz"
_POOL_SIZE = 1 << 16
#: Random bytes -> letters (and about one space in eight): the strings' alphabet.
_POOL_TABLE = bytes((_LETTERS[b % 26] if b < 224 else " ").encode()[0] for b in range(256))


@dataclass(frozen=True)
class GeneratorConfig:
    """What to generate.

    ``rate`` is in events per second of *event time* (all three kinds together);
    ``events`` is the total count, ``first_event`` the number of the first one
    (so a run can continue another). Average sizes are those of Nexmark.
    """

    seed: int = 0
    events: int = 100_000
    rate: int = 10_000
    base_time_ms: int = 1_436_918_400_000  # 2015-07-15T00:00:00Z, as Flink's Nexmark
    first_event: int = 0
    num_active_people: int = 1000
    num_in_flight_auctions: int = 100
    hot_auction_ratio: int = 2
    hot_sellers_ratio: int = 4
    hot_bidders_ratio: int = 4
    avg_person_bytes: int = 200
    avg_auction_bytes: int = 500
    avg_bid_bytes: int = 100

    def __post_init__(self) -> None:
        if self.rate <= 0:
            raise ValueError(f"rate must be positive, not {self.rate}")
        if self.events < 0 or self.first_event < 0:
            raise ValueError("events and first_event must not be negative")

    def timestamp(self, event_number: int) -> int:
        """The event time (epoch ms) of event number ``event_number``.

        >>> GeneratorConfig(rate=1000, base_time_ms=0).timestamp(2500)
        2500
        """
        return self.base_time_ms + event_number * 1000 // self.rate


@dataclass
class EventBatch:
    """Encoded events of one kind each, in event order, with their event times."""

    persons: list[bytes] = field(default_factory=list)
    person_times: list[int] = field(default_factory=list)
    auctions: list[bytes] = field(default_factory=list)
    auction_times: list[int] = field(default_factory=list)
    bids: list[bytes] = field(default_factory=list)
    bid_times: list[int] = field(default_factory=list)
    first_event: int = 0
    events: int = 0

    def by_topic(self) -> dict[str, tuple[list[bytes], list[int]]]:
        """``topic -> (values, event times)``."""
        return {
            "person": (self.persons, self.person_times),
            "auction": (self.auctions, self.auction_times),
            "bid": (self.bids, self.bid_times),
        }

    def extend(self, other: EventBatch) -> None:
        """Append ``other`` (the events right after these)."""
        if not self.events:
            self.first_event = other.first_event
        self.persons += other.persons
        self.person_times += other.person_times
        self.auctions += other.auctions
        self.auction_times += other.auction_times
        self.bids += other.bids
        self.bid_times += other.bid_times
        self.events += other.events


def event_kind(event_id: int) -> str:
    """``person``, ``auction`` or ``bid``: the kind of event ``event_id``.

    >>> [event_kind(i) for i in (0, 1, 3, 4, 49, 50)]
    ['person', 'auction', 'auction', 'bid', 'bid', 'person']
    """
    rem = event_id % TOTAL_PROPORTION
    if rem < PERSON_PROPORTION:
        return "person"
    if rem < PERSON_PROPORTION + AUCTION_PROPORTION:
        return "auction"
    return "bid"


def last_base0_person_id(event_id: int) -> int:
    """The 0-based id of the last person created at or before ``event_id``."""
    epoch, offset = divmod(event_id, TOTAL_PROPORTION)
    if offset >= PERSON_PROPORTION:
        offset = PERSON_PROPORTION - 1
    return epoch * PERSON_PROPORTION + offset


def last_base0_auction_id(event_id: int) -> int:
    """The 0-based id of the last auction created at or before ``event_id`` (may be -1)."""
    epoch, offset = divmod(event_id, TOTAL_PROPORTION)
    if offset < PERSON_PROPORTION:
        epoch -= 1
        offset = AUCTION_PROPORTION - 1
    elif offset >= PERSON_PROPORTION + AUCTION_PROPORTION:
        offset = AUCTION_PROPORTION - 1
    else:
        offset -= PERSON_PROPORTION
    return epoch * AUCTION_PROPORTION + offset


def _channel_table(seed: int) -> tuple[list[str], list[str]]:
    """Hot channel URLs and the URLs of the 10 000 numbered channels, fixed per seed."""
    rnd = random.Random(f"nexmark-channels-{seed}")

    def word() -> str:
        return "".join(rnd.choice(_LETTERS) for _ in range(1 + rnd.randrange(5)))

    def base_url() -> str:
        return f"https://www.nexmark.com/{word()}/{word()}/{word()}/item.htm?query=1"

    hot = [base_url() for _ in HOT_CHANNELS]
    urls = []
    for n in range(CHANNELS_NUMBER):
        url = base_url()
        if rnd.randrange(10) > 0:
            reversed_bits = int(f"{n:032b}"[::-1], 2)
            url += f"&channel_id={reversed_bits}"
        urls.append(url)
    return hot, urls


class NexmarkGenerator:
    """Generates the events of a :class:`GeneratorConfig`, chunk by chunk."""

    def __init__(self, config: GeneratorConfig) -> None:
        self.config = config
        self._hot_urls, self._channel_urls = _channel_table(config.seed)
        self._channel_names = [f"channel-{n}" for n in range(CHANNELS_NUMBER)]
        # auction length horizon: the time 100 in-flight auctions take to arrive
        self._events_for_auctions = (
            config.num_in_flight_auctions * TOTAL_PROPORTION
        ) // AUCTION_PROPORTION

    # -- public API -------------------------------------------------------------

    def chunks(self, batch_events: int = CHUNK_EVENTS) -> Iterator[EventBatch]:
        """Batches of about ``batch_events`` events, in order, covering the config."""
        cfg = self.config
        end = cfg.first_event + cfg.events
        pending = EventBatch(first_event=cfg.first_event)
        n = cfg.first_event
        while n < end:
            chunk_no = n // CHUNK_EVENTS
            stop = min(end, (chunk_no + 1) * CHUNK_EVENTS)
            pending.extend(self._chunk(n, stop))
            n = stop
            if pending.events >= batch_events:
                yield pending
                pending = EventBatch(first_event=n)
        if pending.events:
            yield pending

    def generate(self) -> EventBatch:
        """Every event of the config in one batch."""
        out = EventBatch(first_event=self.config.first_event)
        for batch in self.chunks():
            out.extend(batch)
        return out

    # -- one chunk ----------------------------------------------------------------

    def _chunk(self, start: int, stop: int) -> EventBatch:
        """Events ``start`` .. ``stop - 1``, all inside one reseeding chunk.

        The chunk's random stream is consumed from its first event, so a batch
        that starts mid-chunk replays the skipped events' draws.
        """
        cfg = self.config
        chunk_no = start // CHUNK_EVENTS
        rnd = random.Random((cfg.seed << 32) ^ chunk_no)
        pool = rnd.randbytes(_POOL_SIZE).translate(_POOL_TABLE).decode("ascii")
        batch = EventBatch(first_event=start, events=stop - start)
        bids, bid_times = batch.bids, batch.bid_times
        first_epoch = (chunk_no * CHUNK_EVENTS) // TOTAL_PROPORTION
        last_epoch = (stop - 1) // TOTAL_PROPORTION
        r = rnd.random
        dumps = orjson.dumps
        base, rate = cfg.base_time_ms, cfg.rate
        hot_auction_ratio, hot_bidders_ratio = cfg.hot_auction_ratio, cfg.hot_bidders_ratio
        in_flight, active_people = cfg.num_in_flight_auctions, cfg.num_active_people
        hot_urls, channel_names, channel_urls = (
            self._hot_urls, self._channel_names, self._channel_urls)
        bid_average = cfg.avg_bid_bytes - 32  # Beam counts 8 bytes per number
        pool_room = _POOL_SIZE - max(bid_average, 0) * 2 - 1
        first_bid = PERSON_PROPORTION + AUCTION_PROPORTION
        for epoch in range(first_epoch, last_epoch + 1):
            e0 = epoch * TOTAL_PROPORTION
            for event_id in range(e0, e0 + first_bid):
                if event_id >= stop:
                    break
                if event_id < PERSON_PROPORTION + e0:
                    value, ts = self._person(rnd, pool, event_id)
                    if event_id >= start:
                        batch.persons.append(value)
                        batch.person_times.append(ts)
                else:
                    value, ts = self._auction(rnd, pool, event_id)
                    if event_id >= start:
                        batch.auctions.append(value)
                        batch.auction_times.append(ts)
            # every bid of an epoch sees the same last person and last auction
            last_person = epoch * PERSON_PROPORTION + PERSON_PROPORTION - 1
            last_auction = epoch * AUCTION_PROPORTION + AUCTION_PROPORTION - 1
            hot_auction = (last_auction // HOT_AUCTION_RATIO) * HOT_AUCTION_RATIO + FIRST_AUCTION_ID
            hot_bidder = (last_person // HOT_BIDDER_RATIO) * HOT_BIDDER_RATIO + 1 + FIRST_PERSON_ID
            min_auction = max(last_auction - in_flight, 0)
            auction_span = last_auction - min_auction + 1 + AUCTION_ID_LEAD
            num_people = last_person + 1
            active = min(num_people, active_people)
            first_active = num_people - active + FIRST_PERSON_ID
            people_span = active + PERSON_ID_LEAD
            for event_id in range(e0 + first_bid, min(e0 + TOTAL_PROPORTION, stop)):
                if int(r() * hot_auction_ratio) > 0:
                    auction = hot_auction
                else:
                    auction = min_auction + int(r() * auction_span) + FIRST_AUCTION_ID
                if int(r() * hot_bidders_ratio) > 0:
                    bidder = hot_bidder
                else:
                    bidder = first_active + int(r() * people_span)
                price = round(10.0 ** (r() * 6.0) * 100.0)
                if r() < 0.5:
                    i = int(r() * 4)
                    channel = HOT_CHANNELS[i]
                    url = hot_urls[i]
                else:
                    i = int(r() * CHANNELS_NUMBER)
                    channel = channel_names[i]
                    url = channel_urls[i]
                # Beam's nextExtra: pad towards the average size, if below it
                room = bid_average - len(channel) - len(url)
                if room > 0:
                    delta = round(room * 0.2)
                    at = int(r() * pool_room)
                    extra = pool[at : at + room - delta + int(r() * 2 * delta)]
                else:
                    extra = ""
                if event_id < start:
                    continue
                ts = base + event_id * 1000 // rate
                bids.append(dumps({
                    "auction": auction,
                    "bidder": bidder,
                    "price": price,
                    "channel": channel,
                    "url": url,
                    "date_time": ts,
                    "extra": extra,
                }))
                bid_times.append(ts)
        return batch

    # -- helpers (Beam's GeneratorUtils / PriceGenerator / StringsGenerator) ------

    @staticmethod
    def _price(rnd: random.Random) -> int:
        scale: float = 10.0 ** (rnd.random() * 6.0)
        return round(scale * 100.0)

    @staticmethod
    def _string(rnd: random.Random, pool: str, max_length: int) -> str:
        """A string of 1 .. ``max_length`` letters and spaces."""
        length = 1 + int(rnd.random() * max_length)
        at = int(rnd.random() * (_POOL_SIZE - max_length - 1))
        return pool[at : at + length]

    @staticmethod
    def _exact(rnd: random.Random, pool: str, length: int) -> str:
        at = int(rnd.random() * (_POOL_SIZE - length - 1))
        return pool[at : at + length]

    def _extra(self, rnd: random.Random, pool: str, current: int, average: int) -> str:
        if current > average:
            return ""
        average -= current
        delta = round(average * 0.2)
        size = average - delta + (int(rnd.random() * 2 * delta) if delta else 0)
        return self._exact(rnd, pool, size)

    def _next_person_id(self, rnd: random.Random, event_id: int) -> int:
        """A recently active person (or one about to be created), 0-based."""
        num_people = last_base0_person_id(event_id) + 1
        active = min(num_people, self.config.num_active_people)
        return num_people - active + int(rnd.random() * (active + PERSON_ID_LEAD))

    # -- the three kinds ----------------------------------------------------------

    def _person(self, rnd: random.Random, pool: str, event_id: int) -> tuple[bytes, int]:
        cfg = self.config
        ts = cfg.timestamp(event_id)
        r = rnd.random
        name = f"{FIRST_NAMES[int(r() * 11)]} {LAST_NAMES[int(r() * 9)]}"
        email = f"{self._exact(rnd, pool, 7)}@{self._exact(rnd, pool, 5)}.com".replace(" ", "_")
        card = " ".join(f"{int(r() * 10_000):04d}" for _ in range(4))
        city = US_CITIES[int(r() * 10)]
        state = US_STATES[int(r() * 6)]
        size = 8 + len(name) + len(email) + len(card) + len(city) + len(state)
        person = {
            "id": last_base0_person_id(event_id) + FIRST_PERSON_ID,
            "name": name,
            "email_address": email,
            "credit_card": card,
            "city": city,
            "state": state,
            "date_time": ts,
            "extra": self._extra(rnd, pool, size, cfg.avg_person_bytes),
        }
        return orjson.dumps(person), ts

    def _auction(self, rnd: random.Random, pool: str, event_id: int) -> tuple[bytes, int]:
        cfg = self.config
        ts = cfg.timestamp(event_id)
        r = rnd.random
        if int(r() * cfg.hot_sellers_ratio) > 0:
            seller = (last_base0_person_id(event_id) // HOT_SELLER_RATIO) * HOT_SELLER_RATIO
        else:
            seller = self._next_person_id(rnd, event_id)
        category = FIRST_CATEGORY_ID + int(r() * NUM_CATEGORIES)
        initial_bid = self._price(rnd)
        horizon_ms = cfg.timestamp(event_id + self._events_for_auctions) - ts
        expires = ts + 1 + int(r() * max(horizon_ms * 2, 1))
        item_name = self._string(rnd, pool, 20)
        description = self._string(rnd, pool, 100)
        reserve = initial_bid + self._price(rnd)
        size = 8 + len(item_name) + len(description) + 8 + 8 + 8 + 8 + 8
        auction = {
            "id": last_base0_auction_id(event_id) + FIRST_AUCTION_ID,
            "item_name": item_name,
            "description": description,
            "initial_bid": initial_bid,
            "reserve": reserve,
            "date_time": ts,
            "expires": expires,
            "seller": seller + FIRST_PERSON_ID,
            "category": category,
            "extra": self._extra(rnd, pool, size, cfg.avg_auction_bytes),
        }
        return orjson.dumps(auction), ts


def side_input_rows(keys: int = 10_000) -> list[bytes]:
    """The side table of q13: ``side_key`` 0 .. keys-1 and a string ``side_value``.

    Flink's Nexmark reads a file of ``key,value`` lines; ours is computed
    (the columns are renamed: VALUE is a reserved word).

    >>> side_input_rows(2)
    [b'{"side_key":0,"side_value":"side-0"}', b'{"side_key":1,"side_value":"side-1"}']
    """
    return [orjson.dumps({"side_key": k, "side_value": f"side-{k}"}) for k in range(keys)]


def write_to_log(
    log: Log,
    config: GeneratorConfig,
    *,
    partitions: int = 1,
    batch_events: int = 50_000,
    topic_prefix: str = "",
) -> dict[str, int]:
    """Create the three topics in ``log`` and append every event of ``config``.

    Record timestamps are the events' ``date_time``. Returns records per topic.
    """
    from pycql.log.base import OutRecord, TopicSpec

    for topic in TOPICS:
        log.create_topic(TopicSpec(topic_prefix + topic, partitions=partitions), exist_ok=True)
    counts = dict.fromkeys(TOPICS, 0)
    for batch in NexmarkGenerator(config).chunks(batch_events):
        for topic, (values, times) in batch.by_topic().items():
            if values:
                log.produce(
                    topic_prefix + topic,
                    [OutRecord(v, None, t) for v, t in zip(values, times, strict=True)],
                )
                counts[topic] += len(values)
    return counts
