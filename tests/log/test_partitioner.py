"""The partitioner's cache gives Kafka's murmur2 partition bit for bit."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from pycql.log.partitioner import CACHED_KEY_BYTES, murmur2, partition_for_key


def _uncached(key: bytes, partitions: int) -> int:
    return (murmur2(key) & 0x7FFFFFFF) % partitions


#: Apache Kafka's UtilsTest.testMurmur2 vectors (Java's signed ints)
KAFKA_VECTORS = {
    b"21": -973932308,
    b"foobar": -790332482,
    b"a-little-bit-long-string": -985981536,
    b"a-little-bit-longer-string": -1486304829,
    b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8": -58897971,
    b"abc": 479470107,
}


def test_kafka_vectors() -> None:
    for data, signed in KAFKA_VECTORS.items():
        assert murmur2(data) == signed & 0xFFFFFFFF
        # the partition Java computes: Utils.toPositive(murmur2(key)) % partitions
        assert partition_for_key(data, 7) == (signed & 0x7FFFFFFF) % 7


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(max_size=CACHED_KEY_BYTES + 40), min_size=1, max_size=20),
       st.integers(min_value=1, max_value=64))
def test_cached_partition_equals_murmur2(keys: list[bytes], partitions: int) -> None:
    # twice each: the second look-up comes from the cache (or not, for long keys)
    for key in keys + keys:
        assert partition_for_key(key, partitions) == _uncached(key, partitions)


def test_same_key_other_partition_count() -> None:
    key = b'["k",7]'
    assert [partition_for_key(key, n) for n in range(1, 9)] == [
        _uncached(key, n) for n in range(1, 9)]


def test_bytearray_key_is_hashed_uncached() -> None:
    key = bytearray(b"[42]")
    assert partition_for_key(key, 5) == _uncached(bytes(key), 5)  # type: ignore[arg-type]
