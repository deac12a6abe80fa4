"""``Executor.push_many`` and the one-pass path of stateless plans give what instant-by-instant
pushes through the general path give: the same emissions, errors, pending input and state."""

from __future__ import annotations

import random
from typing import Any

import pytest

from pycql.errors import DataError
from pycql.runtime.executor import Emission, Executor
from tests.runtime.plans import PlanBuilder, agg, call, col, lit


def _stateless_plan() -> dict[str, Any]:
    """``SELECT A + 1, B FROM S WHERE A % 3 <> 0`` then ``WHERE B > 2``: a line of
    stream operators (stream_filter, filter and project over a stream)."""
    b = PlanBuilder()
    s = b.source("S", "A", "B")
    f = b.stream_filter(s, call("<>", call("MOD", col(0), lit(3), type_="INTEGER"), lit(0)))
    p = b.project(f, call("+", col(0), lit(1), type_="INTEGER"), col(1), names=["A1", "B"])
    b.ops[p]["output"] = "stream"
    g = b.filter(p, call(">", col(1), lit(2)))
    b.ops[g]["output"] = "stream"
    return b.plan()


def _division_plan() -> dict[str, Any]:
    """``SELECT 10 / A FROM S``: fails at an instant holding ``A = 0``."""
    b = PlanBuilder()
    s = b.source("S", "A")
    b.stream_filter(s, None, call("/", lit(10), col(0), type_="INTEGER"))
    return b.plan()


def _windowed_plan() -> dict[str, Any]:
    """``ISTREAM(SELECT A, COUNT(*) FROM S [RANGE 5] GROUP BY A)``: the general path."""
    b = PlanBuilder()
    s = b.source("S", "A", "B")
    w = b.range(s, 5)
    a = b.aggregate(w, [0], agg("COUNT"))
    b.to_stream("istream", a)
    return b.plan()


def _exchange_plan() -> dict[str, Any]:
    """A stage writing its exchange: ``SELECT B, A FROM S WHERE A % 3 <> 0`` into an
    exchange hashed on ``B`` (the identity over a stream, so still a line)."""
    b = PlanBuilder()
    s = b.source("S", "A", "B")
    f = b.stream_filter(s, call("<>", call("MOD", col(0), lit(3), type_="INTEGER"), lit(0)),
                        col(1), col(0))
    b._add("exchange", [f], b.cols(f), "stream", distribution="hash", keys=[0], partitions=3)
    return b.plan()


def _general(plan: dict[str, Any], on_error: str = "dead_letter") -> Executor:
    """An executor that runs every instant through the operator-by-operator path."""
    ex = Executor(plan, on_error=on_error)  # type: ignore[arg-type]
    ex._chain = None  # the reference: what the one-pass path must reproduce
    return ex


def _input(seed: int, n: int = 400) -> list[tuple[int, tuple[int, int]]]:
    rng = random.Random(seed)
    return [(rng.randrange(1, 60), (rng.randrange(0, 10), rng.randrange(0, 6))) for _ in range(n)]


def _by_instant(ex: Executor, events: list[tuple[int, tuple[int, int]]],
                watermarks: list[int]) -> list[Emission]:
    out: list[Emission] = []
    for lo, hi in zip([0, *watermarks], watermarks, strict=False):
        batch = [(t, r) for t, r in events if lo < t <= hi]
        for t in sorted({t for t, _ in batch}):
            ex.push("S", t, [r for u, r in batch if u == t])
        out += ex.advance(hi)
    return out


def _batched(ex: Executor, events: list[tuple[int, tuple[int, int]]],
             watermarks: list[int], lag: int) -> list[Emission]:
    """Batches in arrival order (unsorted times), advancing ``lag`` behind each batch."""
    out: list[Emission] = []
    for lo, hi in zip([0, *watermarks], watermarks, strict=False):
        batch = [(t, r) for t, r in events if lo < t <= hi]
        ex.push_many("S", [t for t, _ in batch], [r for _, r in batch])
        out += ex.advance(hi - lag)
    out += ex.advance(10_000)
    return out


@pytest.mark.parametrize("plan", [_stateless_plan(), _windowed_plan(), _exchange_plan()],
                         ids=["line", "window", "exchange"])
@pytest.mark.parametrize("seed", range(5))
def test_push_many_equals_instant_by_instant_pushes(plan: dict[str, Any], seed: int) -> None:
    events = _input(seed)
    rng = random.Random(seed)
    watermarks = [*sorted(rng.sample(range(1, 60), 6)), 60]
    reference = _general(plan)
    expected = _by_instant(reference, events, watermarks) + reference.advance(10_000)
    batched = Executor(plan)
    got = _batched(batched, events, watermarks, lag=rng.randrange(0, 4))
    assert got == expected
    assert got, "the input must produce output for the comparison to mean something"
    assert batched.last_instant == reference.last_instant


def test_the_stateless_plan_takes_the_one_pass_path() -> None:
    assert Executor(_stateless_plan())._chain is not None
    assert Executor(_windowed_plan())._chain is None
    assert Executor(_exchange_plan())._chain is not None
    b = PlanBuilder()  # an exchange of a relation's changes is not a stream's identity
    a = b.aggregate(b.range(b.source("S", "A", "B"), 5), [0], agg("COUNT"))
    b._add("exchange", [a], b.cols(a), "relation", distribution="hash", keys=[0], partitions=3)
    assert Executor(b.plan())._chain is None


def test_push_many_keeps_arrival_order_within_an_instant() -> None:
    ex = Executor(_stateless_plan())
    ex.push_many("S", [9, 4, 9, 4], [(1, 5), (2, 6), (4, 7), (5, 8)])
    assert ex.advance(9) == [
        Emission(4, 1, (3, 6)), Emission(4, 1, (6, 8)),
        Emission(9, 1, (2, 5)), Emission(9, 1, (5, 7)),
    ]
    assert ex.last_instant == 9


def test_push_many_refuses_a_closed_instant_and_buffers_nothing() -> None:
    for plan in (_stateless_plan(), _windowed_plan()):
        ex = Executor(plan)
        ex.push_many("S", [3], [(1, 5)])
        ex.advance(5)
        with pytest.raises(ValueError, match="already closed"):
            ex.push_many("S", [8, 5], [(1, 5), (2, 5)])
        with pytest.raises(ValueError, match="timestamps"):
            ex.push_many("S", [8], [])
        assert ex.state()["pending"] == []


def test_pending_input_round_trips_through_state() -> None:
    plan = _stateless_plan()
    ex = Executor(plan)
    ex.push_many("S", [7, 3, 7, 12], [(1, 5), (2, 6), (4, 7), (5, 8)])
    assert ex.advance(5) == [Emission(3, 1, (3, 6))]
    state = ex.state()
    assert state["pending"] == [[7, "S", [[1, 5], [4, 7]], []], [12, "S", [[5, 8]], []]]
    again = Executor.restore(plan, state)
    reference = _general(plan)
    reference.push("S", 7, [(1, 5), (4, 7)])
    reference.push("S", 12, [(5, 8)])
    assert again.advance(20) == reference.advance(20) == [
        Emission(7, 1, (2, 5)), Emission(7, 1, (5, 7)), Emission(12, 1, (6, 8))]


def test_an_error_fails_at_its_instant_as_the_general_path_does() -> None:
    plan = _division_plan()
    results = []
    for ex in (Executor(plan, on_error="fail"), _general(plan, "fail")):
        ex.push_many("S", [1, 2, 3, 3, 4], [(5,), (2,), (1,), (0,), (10,)])
        with pytest.raises(DataError, match="division by zero") as info:
            ex.advance(10)
        # instants 1 and 2 closed, 3 (with the zero) and 4 still pending
        results.append((str(info.value), ex.last_instant, ex.watermark, ex.state()["pending"]))
    assert results[0] == results[1]
    assert results[0][1:] == (2, None, [[3, "S", [[1], [0]], []], [4, "S", [[10]], []]])
