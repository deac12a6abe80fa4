"""Operator state: keyed stores that serialize to JSON and split by key.

Every synopsis an operator keeps is one of two shapes:

* a :class:`Multiset`, a bag of rows (``row -> count``), and
* a :class:`KeyedStore`, a map from a key tuple to some value (a multiset, a
  deque of rows, an accumulator), partitioned by that key.

Both serialize to plain JSON-able lists (rows are tuples, so they become JSON
arrays and turn back into tuples on load) and a keyed store can be split into
``n`` partitions by a *stable* hash of its key (not Python's randomized
``hash``), so checkpointing to a changelog topic and running one operator over
several workers need no change to the operators.

>>> bag = Multiset()
>>> bag.add((1, "a"), 2)
2
>>> bag.add((1, "a"), -1)
1
>>> bag.to_json()
[[[1, 'a'], 1]]
>>> Multiset.from_json(bag.to_json()) == bag
True
>>> store: KeyedStore[int] = KeyedStore()
>>> store[("k",)] = 3
>>> [len(p) for p in store.partition(2)] in ([1, 0], [0, 1])
True
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from typing import Any, Generic, TypeVar

import orjson

Row = tuple[Any, ...]
Key = tuple[Any, ...]
V = TypeVar("V")


def as_row(value: Any) -> Any:
    """Turn a JSON-decoded row (nested lists) back into a tuple row."""
    return tuple(value)


def stable_partition(key: Key, partitions: int) -> int:
    """The partition of ``key`` among ``partitions``, equal in every process.

    >>> stable_partition((1, "a"), 4) == stable_partition((1, "a"), 4)
    True
    """
    return zlib.crc32(orjson.dumps(list(key))) % partitions


class Multiset(dict[Row, int]):
    """A bag of rows: ``row -> count``; counts that reach 0 are removed."""

    def add(self, row: Row, count: int = 1) -> int:
        """Add ``count`` (may be negative) copies of ``row``; return the new count."""
        new = self.get(row, 0) + count
        if new:
            self[row] = new
        else:
            self.pop(row, None)
        return new

    def update_pairs(self, pairs: Iterable[tuple[Row, int]]) -> None:
        """Apply ``(row, count)`` pairs."""
        for row, count in pairs:
            new = self.get(row, 0) + count
            if new:
                self[row] = new
            else:
                del self[row]

    def rows(self) -> list[Row]:
        """Every row, repeated by its count."""
        out: list[Row] = []
        for row, count in self.items():
            if count == 1:
                out.append(row)
            else:
                out.extend([row] * count)
        return out

    def to_json(self) -> list[list[Any]]:
        """``[[row, count], ...]``: JSON-able."""
        return [[list(row), count] for row, count in self.items()]

    @classmethod
    def from_json(cls, data: Iterable[list[Any]]) -> Multiset:
        """Inverse of :meth:`to_json`."""
        bag = cls()
        for row, count in data:
            bag[tuple(row)] = int(count)
        return bag


class KeyedStore(dict[Key, V], Generic[V]):
    """A map from key tuples to values, serializable and partitionable by key.

    ``to_json``/``from_json`` take a codec for the values so any value shape
    (a :class:`Multiset`, a deque of rows, a list of counters) can be stored.
    """

    def to_json(self, encode: Callable[[V], Any] = lambda v: v) -> list[list[Any]]:
        """``[[key, encoded value], ...]``."""
        return [[list(key), encode(value)] for key, value in self.items()]

    @classmethod
    def from_json(
        cls, data: Iterable[list[Any]], decode: Callable[[Any], V] = lambda v: v
    ) -> KeyedStore[V]:
        """Inverse of :meth:`to_json`."""
        store: KeyedStore[V] = cls()
        for key, value in data:
            store[tuple(key)] = decode(value)
        return store

    def partition(self, partitions: int) -> list[KeyedStore[V]]:
        """Split into ``partitions`` stores by :func:`stable_partition` of the key."""
        parts: list[KeyedStore[V]] = [KeyedStore() for _ in range(partitions)]
        for key, value in self.items():
            parts[stable_partition(key, partitions)][key] = value
        return parts

    def keys_in(self, partition: int, partitions: int) -> Iterator[Key]:
        """The keys that belong to ``partition`` of ``partitions``."""
        return (k for k in self if stable_partition(k, partitions) == partition)


_DECIMAL_TAG = "$decimal"

def encode_values(data: Any) -> Any:
    """``data`` with every :class:`~decimal.Decimal` replaced by ``{"$decimal": text}``.

    orjson cannot write decimals; checkpoints go through this on the way out.

    >>> encode_values([[1, Decimal("2.50")], None])
    [[1, {'$decimal': '2.50'}], None]
    """
    if isinstance(data, list):
        return [encode_values(v) for v in data]
    if isinstance(data, dict):
        return {k: encode_values(v) for k, v in data.items()}
    if isinstance(data, tuple):
        return [encode_values(v) for v in data]
    if isinstance(data, Decimal):
        return {_DECIMAL_TAG: str(data)}
    return data


def encode_state(data: Any) -> Any:
    """:func:`encode_values` of ``data`` as JSON carries it, at C speed: one orjson
    round trip (tuples become lists, decimals ``{"$decimal": text}``), which a commit's
    checkpoint of a large state (a replay's buffered instants) needs; data orjson
    cannot write (an integer past 64 bits, a key that is not a string) takes the
    Python walk. It is for state on its way to JSON (a job's commit): where JSON differs
    from Python it gives what JSON carries (a NaN or infinite float is ``None``, a date
    its ISO text), so ``orjson.dumps`` of either is the same.

    >>> encode_state({"a": [(1, Decimal("2.50"))]})
    {'a': [[1, {'$decimal': '2.50'}]]}
    """
    try:
        return orjson.loads(orjson.dumps(data, default=json_default))
    except TypeError:  # orjson.JSONEncodeError is one
        return encode_values(data)


def json_default(value: Any) -> Any:
    """orjson's ``default`` that writes what :func:`encode_values` rewrites, so
    ``orjson.dumps(x, default=json_default) == orjson.dumps(encode_values(x))``.

    >>> orjson.dumps([Decimal("2.50")], default=json_default)
    b'[{"$decimal":"2.50"}]'
    """
    if isinstance(value, Decimal):
        return {_DECIMAL_TAG: str(value)}
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def decode_values(data: Any) -> Any:
    """Inverse of :func:`encode_values`.

    >>> decode_values([[1, {"$decimal": "2.50"}]])
    [[1, Decimal('2.50')]]
    """
    if isinstance(data, list):
        return [decode_values(v) for v in data]
    if isinstance(data, dict):
        if len(data) == 1 and _DECIMAL_TAG in data:
            return Decimal(data[_DECIMAL_TAG])
        return {k: decode_values(v) for k, v in data.items()}
    return data


def consolidate(pairs: Iterable[tuple[Row, int]]) -> dict[Row, int]:
    """Net ``(row, count)`` pairs into ``row -> count`` without zero counts.

    >>> consolidate([((1,), 1), ((2,), 1), ((1,), -1)])
    {(2,): 1}
    """
    net: dict[Row, int] = {}
    for row, count in pairs:
        net[row] = net.get(row, 0) + count
    return {row: c for row, c in net.items() if c}
