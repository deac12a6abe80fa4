"""The process-wide garbage-collection policies of running queries (pycql.runtime.collector)."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from pycql.log.base import OutRecord, TopicSpec
from pycql.log.memory import MemoryLog
from pycql.runtime import collector
from pycql.runtime.collector import RESCAN_S, StateFreezer
from pycql.runtime.runner import QueryRunner

from .plans import PlanBuilder


class _Node:
    def __init__(self) -> None:
        self.other: _Node | None = None


def _cycle() -> weakref.ref[_Node]:
    """A reference cycle only the cyclic collector frees; a weak reference to it."""
    a, b = _Node(), _Node()
    a.other, b.other = b, a
    return weakref.ref(a)


@pytest.fixture
def clean_gc() -> Iterator[None]:
    gc.collect()
    gc.unfreeze()
    yield
    gc.unfreeze()


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_opening_freezes_and_the_last_close_gives_everything_back(clean_gc: None) -> None:
    freezer = StateFreezer()
    alive = _cycle()  # reachable from nothing but itself, yet frozen before collected
    freezer.open()
    assert gc.get_freeze_count() > 0
    freezer.open()  # a second query
    gc.collect()
    assert alive() is not None  # frozen: full collections do not look at it
    freezer.close()
    assert gc.get_freeze_count() > 0  # a query is still open
    freezer.close()
    assert gc.get_freeze_count() == 0
    assert freezer._watch not in gc.callbacks
    gc.collect()
    assert alive() is None


def test_an_older_generation_collection_is_followed_by_a_freeze_at_a_polls_end(
        clean_gc: None) -> None:
    freezer = StateFreezer()
    freezer.open()
    try:
        gc.unfreeze()
        state = [{"row": i} for i in range(1000)]  # long-lived, tracked
        freezer.after_poll()
        assert freezer.freezes == 0  # no collection yet: nothing to do
        gc.collect(0)  # a young collection leaves the survivors to the collector
        freezer.after_poll()
        assert freezer.freezes == 0
        gc.collect(1)
        assert gc.get_freeze_count() == 0  # not inside the collection's callback
        freezer.after_poll()
        assert freezer.freezes == 1
        assert gc.get_freeze_count() >= len(state)
    finally:
        freezer.close()


def test_a_cycle_among_frozen_objects_is_freed_at_the_rescan(clean_gc: None) -> None:
    clock = _Clock()
    freezer = StateFreezer(clock=clock)
    garbage = _cycle()
    freezer.open()
    try:
        gc.collect()
        assert garbage() is not None
        clock.now += RESCAN_S - 1
        freezer.after_poll()
        assert freezer.rescans == 0
        clock.now += 1
        freezer.after_poll()
        assert freezer.rescans == 1
        assert gc.get_freeze_count() == 0
        freezes = freezer.freezes
        gc.collect(1)  # not a full collection: nothing is frozen before one
        freezer.after_poll()
        assert freezer.freezes == freezes
        assert gc.get_freeze_count() == 0
        gc.collect()
        assert garbage() is None
        freezer.after_poll()  # the full collection looked at everything: freeze again
        assert freezer.freezes == freezes + 1
    finally:
        freezer.close()


def test_a_runner_opens_the_process_freezer_and_closing_it_closes_it(
        clean_gc: None, monkeypatch: pytest.MonkeyPatch) -> None:
    from pycql.runtime import runner as runner_module

    freezer = StateFreezer()
    monkeypatch.setattr(runner_module, "state_freezer", freezer)
    b = PlanBuilder()
    b.to_stream("istream", b.window(b.source("S", "A", "B"), "unbounded"))
    log = MemoryLog()
    log.create_topic(TopicSpec("S"))
    log.produce("S", [OutRecord(b'{"A": 1, "B": 2}', timestamp_ms=5)])
    runner = QueryRunner(b.plan(), log, start="earliest", stop="end")
    assert freezer._open == 1
    assert gc.get_freeze_count() > 0
    while not runner.done:
        runner.poll(0.1)
    runner.close()
    runner.close()  # closing twice closes once
    assert freezer._open == 0
    assert gc.get_freeze_count() == 0


def test_the_module_has_one_freezer_for_the_process() -> None:
    from pycql.runtime import runner as runner_module

    assert runner_module.state_freezer is collector.state_freezer
