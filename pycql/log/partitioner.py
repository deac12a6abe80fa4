"""Kafka's default partitioner, so both logs put a key in the same partition.

Apache Kafka's Java clients (and librdkafka with ``partitioner=murmur2_random``,
which :class:`pycql.log.kafka.KafkaLog` sets) send a keyed record to partition
``(murmur2(key) & 0x7fffffff) % partitions``:

>>> murmur2(b"hello")
2132663229
>>> partition_for_key(b"hello", 3)
0

Keys repeat (an exchange hashes every row on its key columns, a table's upserts
hit the same keys): :func:`partition_for_key` remembers the partitions of the
last :data:`CACHED_KEYS` short keys it hashed, so a repeated key costs a dict
look-up, not the pure-Python hash.
"""

from __future__ import annotations

from functools import lru_cache

__all__ = ["CACHED_KEYS", "CACHED_KEY_BYTES", "murmur2", "partition_for_key"]

#: how many ``(key, partitions)`` pairs :func:`partition_for_key` remembers
CACHED_KEYS = 1 << 16
#: keys longer than this are hashed every time (the cache holds no big keys)
CACHED_KEY_BYTES = 128

_M = 0x5BD1E995
_MASK = 0xFFFFFFFF


def murmur2(data: bytes) -> int:
    """Kafka's 32-bit murmur2 hash of ``data`` (seed 0x9747b28c), as unsigned."""
    length = len(data)
    h = (0x9747B28C ^ length) & _MASK
    whole = length & ~3
    for i in range(0, whole, 4):
        k = (int.from_bytes(data[i : i + 4], "little") * _M) & _MASK
        k ^= k >> 24
        k = (k * _M) & _MASK
        h = ((h * _M) & _MASK) ^ k
    rest = length & 3
    if rest == 3:
        h ^= data[whole + 2] << 16
    if rest >= 2:
        h ^= data[whole + 1] << 8
    if rest >= 1:
        h ^= data[whole]
        h = (h * _M) & _MASK
    h ^= h >> 13
    h = (h * _M) & _MASK
    h ^= h >> 15
    return h


@lru_cache(maxsize=CACHED_KEYS)
def _cached_partition(key: bytes, partitions: int) -> int:
    return (murmur2(key) & 0x7FFFFFFF) % partitions


def partition_for_key(key: bytes, partitions: int) -> int:
    """The partition Kafka's default partitioner chooses for ``key``."""
    if partitions == 1:
        return 0
    if len(key) <= CACHED_KEY_BYTES and type(key) is bytes:  # hashable, compared exactly
        return _cached_partition(key, partitions)
    return (murmur2(key) & 0x7FFFFFFF) % partitions
