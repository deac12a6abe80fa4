"""The changelog's pieces: any state cut into pieces and put back is the same state;
unchanged pieces are not written again; a large piece is chunked under Kafka's limit."""

from __future__ import annotations

from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from pycql.jobs.changelog import CHUNK_BYTES, Changelog, assemble, pieces
from pycql.log.memory import MemoryLog

scalars = st.one_of(st.none(), st.integers(-5, 5), st.text(alphabet="ab/[]\"", max_size=3),
                    st.booleans())
rows = st.lists(scalars, max_size=3)
pairs_int = st.dictionaries(st.integers(-3, 50), st.lists(rows, max_size=3)).map(
    lambda d: [[k, v] for k, v in sorted(d.items())])
pairs_keyed = st.dictionaries(st.tuples(scalars, scalars), st.integers(1, 3)).map(
    lambda d: [[list(k), v] for k, v in d.items()])
json_any = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3)
                        | st.dictionaries(st.text("xyz", max_size=2), inner, max_size=3),
                        max_leaves=10)
rows_int_first = st.lists(st.tuples(st.integers(-9, 9), scalars).map(list), max_size=5)
op_state = st.one_of(st.none(), pairs_int, pairs_keyed, json_any, rows_int_first,
                     st.fixed_dictionaries({"relation": pairs_keyed, "top": rows_int_first}),
                     st.fixed_dictionaries({"entering": pairs_int, "leaving": pairs_int}),
                     st.fixed_dictionaries({"left": pairs_keyed, "rejected": st.lists(
                         pairs_keyed, min_size=2, max_size=2)}))


def _state(operators: dict[str, Any]) -> dict[str, Any]:
    executor = {"pycql_state": 1, "plan": "x", "watermark": 5, "pending": [],
                "operators": operators, "root": []}
    return {"runner": {"pycql_checkpoint": 1, "executor": executor, "positions": []},
            "sink": 3}


def _same(a: Any, b: Any) -> bool:
    """Equal, where the order of a keyed list (a map) does not matter."""
    return orjson.dumps(_canon(a)) == orjson.dumps(_canon(b))


def _canon(x: Any) -> Any:
    if isinstance(x, dict):
        return {k: _canon(v) for k, v in sorted(x.items())}
    if isinstance(x, list):
        items = [_canon(v) for v in x]
        if items and all(isinstance(i, list) and len(i) == 2 and isinstance(i[0], list)
                         for i in items):
            return sorted(items, key=orjson.dumps)
        return items
    return x


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(["0", "1", "3", "12"]), op_state))
def test_pieces_put_back_are_the_same_state(operators: dict[str, Any]) -> None:
    state = _state(operators)
    back = assemble(pieces(state))
    assert back is not None
    assert _same(back["runner"]["executor"]["operators"], operators)
    assert back["sink"] == 3


def test_only_changed_pieces_are_written_and_large_ones_are_chunked() -> None:
    log = MemoryLog()
    changelog = Changelog(log, "J", 1, 0)
    groups = [[[k], [k, k * 2]] for k in range(1000)]
    first = changelog.deltas(_state({"2": groups}))
    changelog.committed()
    assert len(first) == 1000 + 2                  # every group, the runner, the sink
    groups[7][1] = [7, 99]
    second = changelog.deltas(_state({"2": groups[:-1]}))
    changelog.committed()
    names = {r.key: r.value for r in second}
    assert names[b'op/2/[7]'] == b"[7,99]"
    assert names[b'op/2/[999]'] is None          # a tombstone for the group gone
    assert set(names) == {b'op/2/[7]', b'op/2/[999]'}  # the runner piece did not change
    big = "x" * (3 * CHUNK_BYTES)
    third = changelog.deltas(_state({"2": big}))
    assert all(len(r.value or b"") <= CHUNK_BYTES for r in third)
    found = {r.key: r.value for r in third if r.value is not None}
    assert assemble(found)["runner"]["executor"]["operators"]["2"] == big  # type: ignore[index]


def _apply(partition: dict[bytes, bytes], records: list[Any]) -> None:
    """What compaction keeps of a partition after ``records``: the newest of each key."""
    for r in records:
        if r.value is None:
            partition.pop(r.key, None)
        else:
            partition[r.key] = r.value


def _chunk_names(partition: dict[bytes, bytes]) -> set[bytes]:
    return {name for name in partition if b"\x00" in name}


def test_a_tracked_piece_that_goes_away_or_shrinks_leaves_no_chunks() -> None:
    changelog = Changelog(MemoryLog(), "J", 1, 0)
    partition: dict[bytes, bytes] = {}
    state = _state({})
    big = ["y" * (3 * CHUNK_BYTES)]            # 4 chunks (the JSON is a bit longer)
    steps: list[dict[int, list[tuple[str | None, Any, Any]]]] = [
        {4: [(None, ["a"], big), (None, ["b"], big), ("left", 7, big)]},
        {4: [(None, ["a"], None)]},                     # gone
        {4: [(None, ["b"], ["y" * CHUNK_BYTES])]},      # 2 chunks now
        {4: [(None, ["b"], [1])]},                      # whole now
        {4: [("left", 7, None)]},
    ]
    want: dict[bytes, int] = {}  # per piece, its chunks in the partition (an oracle)
    for changes in steps:
        _apply(partition, changelog.deltas(state, changes))
        changelog.committed()
        for member, key, value in changes[4]:
            name = b"op/4/" + (b"" if member is None else member.encode() + b"/") + \
                orjson.dumps(key)
            size = 0 if value is None else len(orjson.dumps(value))
            want[name] = -(-size // CHUNK_BYTES) if size > CHUNK_BYTES else 0
        expected = {name + b"\x00" + str(i).encode() for name, n in want.items()
                    for i in range(n)}
        assert _chunk_names(partition) == expected
    assert _chunk_names(partition) == set()
    assert b'op/4/["a"]' not in partition and partition[b'op/4/["b"]'] == b"[1]"


def test_chunks_left_behind_are_removed_after_a_restore() -> None:
    """Chunks of a tracked piece that the partition kept (its piece gone or shrunk, as an
    older pycql left them) go on the first commit after a restore; live chunks stay."""
    partition = {b"runner": b"{}", b"sink": b"3",
                 b'op/4/["gone"]\x000': b"x", b'op/4/["gone"]\x001': b"x",
                 b'op/4/["less"]': b"\x00chunks:1", b'op/4/["less"]\x000': b"[1]",
                 b'op/4/["less"]\x001': b"x",
                 b'op/4/["kept"]': b"\x00chunks:2", b'op/4/["kept"]\x000': b"[",
                 b'op/4/["kept"]\x001': b"1]"}
    changelog = Changelog(MemoryLog(), "J", 1, 0)
    changelog.remember(partition, (b"op/4/",))
    _apply(partition, changelog.deltas(_state({}), {}))
    changelog.committed()
    assert _chunk_names(partition) == {b'op/4/["less"]\x000', b'op/4/["kept"]\x000',
                                       b'op/4/["kept"]\x001'}
    _apply(partition, changelog.deltas(_state({}), {4: [(None, ["kept"], None)]}))
    changelog.committed()
    assert _chunk_names(partition) == {b'op/4/["less"]\x000'}
