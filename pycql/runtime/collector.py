"""The cyclic garbage collector around running queries: process-wide policies.

CPython has one collector per process, so both policies are the process's, shared
by every query that runs in it (a job's tasks beside a cursor) and undone when
the last query that needed them is done.

* **Fewer young collections while a poll runs** (:func:`fewer_collections`): the
  young generation's threshold is raised to :data:`GC_YOUNG_THRESHOLD` while any
  :meth:`~pycql.runtime.runner.QueryRunner.poll` runs, and put back when the
  last one returns.
* **Long-lived state frozen out of full collections** (:class:`StateFreezer`):
  a full collection traverses every tracked object of the process, and a query's
  synopses are most of them: a join or an aggregate with a few hundred thousand
  rows made full collections of 50-200 ms, each one a stall of every query of the
  process (Nexmark at 10,000 events/s: q4, q6, q9 and q16-q20 had p99 latencies of
  47-250 ms, every one of them with such pauses in its trace). When the first
  query opens, and after every collection of the middle or the oldest generation
  while one is open, every object then alive is frozen (:func:`gc.freeze`): what
  survives young collections goes out of the collector's sight instead of into
  the generation that full collections traverse. Frozen objects are still freed
  by reference counting, as state is (it holds no reference cycles); only a
  cycle among them would wait for the next rescan: every :data:`RESCAN_S` the
  frozen objects are given back (:func:`gc.unfreeze`) and nothing more is frozen
  until one full collection has looked at everything again.
* **No collections while a large state is built** (:func:`building_state`, a
  restore), then what was built is frozen.
"""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

#: The youngest generation's garbage-collection threshold while
#: :meth:`~pycql.runtime.runner.QueryRunner.poll` runs (CPython's default is 700;
#: a threshold of 0, collection switched off, or one above this is left alone). A
#: poll of 10,000 records holds tens of thousands of tracked objects at once
#: (confluent-kafka's messages, rows, their ``(row, instant)`` pairs), nearly all
#: freed by reference counting when it returns: a threshold below that many runs
#: young collections in the middle of every poll, each traversing all of them
#: (py-spy: 15% of Nexmark q2's main thread in ``gc_collect_main`` and
#: ``Message_traverse`` at 20,000). Above it, a collection runs only as often as
#: objects survive polls (a query's state), traversing only those. Nexmark q2
#: over Kafka (368,000 bids, main thread CPU s): 0.56-0.64 at 20,000, 0.51-0.59
#: at 100,000, 0.47-0.49 at 300,000, the same as with collection off.
GC_YOUNG_THRESHOLD = 300_000

#: Seconds between the rescans that give the frozen objects back to the collector.
RESCAN_S = 600.0


class _FewerCollections:
    """Raises the young generation's threshold while any poll runs, in any thread.

    The threshold is one setting of the process: polls of several threads (a
    job's tasks beside a cursor) share it. The first poll to enter saves the
    threshold and raises it, the last one to leave puts it back, so the
    application's setting is never lost nor left raised.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._inside = 0
        self._saved: tuple[int, int, int] | None = None

    def enter(self) -> None:
        with self._lock:
            if self._inside == 0:
                threshold = gc.get_threshold()
                if 0 < threshold[0] < GC_YOUNG_THRESHOLD:
                    self._saved = threshold
                    gc.set_threshold(GC_YOUNG_THRESHOLD, *threshold[1:])
            self._inside += 1

    def leave(self) -> None:
        with self._lock:
            self._inside -= 1
            if self._inside == 0 and self._saved is not None:
                gc.set_threshold(*self._saved)
                self._saved = None


_fewer_collections = _FewerCollections()


@contextmanager
def fewer_collections() -> Iterator[None]:
    """The young generation's raised threshold (:data:`GC_YOUNG_THRESHOLD`) around a block
    that goes on with a poll's output (a job's task encoding it, a cursor converting it):
    outside a poll the application's threshold is back, and every few hundred objects a
    young collection traverses the output still held. Nests with
    :meth:`~pycql.runtime.runner.QueryRunner.poll`."""
    _fewer_collections.enter()
    try:
        yield
    finally:
        _fewer_collections.leave()


class StateFreezer:
    """Freezes what is alive after each older-generation collection, while a query is open.

    :meth:`open` and :meth:`close` count the open queries (a
    :class:`~pycql.runtime.runner.QueryRunner` each); the first ``open`` freezes what
    is alive (the planner's objects, the application's) and watches the collector
    (``gc.callbacks``), the last ``close`` stops watching and gives the frozen
    objects back. The freeze after a collection waits for :meth:`after_poll`
    (the end of a poll of any thread): a callback runs inside the collection.
    ``clock`` is for tests.
    """

    def __init__(self, clock: Any = time.monotonic) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self._open = 0
        self._due = False
        self._rescanning = False
        self._since_rescan = 0.0
        #: freezes after collections of the older generations, and rescans (for tests)
        self.freezes = 0
        self.rescans = 0

    def open(self) -> None:
        with self._lock:
            self._open += 1
            if self._open == 1:
                self._since_rescan = self._clock()
                gc.freeze()
                gc.callbacks.append(self._watch)

    def close(self) -> None:
        with self._lock:
            self._open -= 1
            if self._open == 0:
                gc.callbacks.remove(self._watch)
                self._due = self._rescanning = False
                gc.unfreeze()

    def _watch(self, phase: str, info: dict[str, int]) -> None:
        if phase != "stop":
            return
        if info["generation"] == 2:
            self._rescanning = False
            self._due = True
        elif info["generation"] == 1 and not self._rescanning:
            self._due = True

    def after_poll(self) -> None:
        """Freeze after a collection of the older generations; rescan when it is time.

        A rescan gives the frozen objects back and freezes nothing more until a full
        collection has looked at them."""
        now = self._clock()
        rescan = now - self._since_rescan >= RESCAN_S
        if not self._due and not rescan:
            return
        with self._lock:
            if self._open == 0:
                return
            if rescan:
                self._since_rescan = now
                if gc.get_freeze_count():
                    self._rescanning = True
                    self._due = False
                    gc.unfreeze()
                    self.rescans += 1
                    return
            if self._due:
                self._due = False
                gc.freeze()
                self.freezes += 1


state_freezer = StateFreezer()


_bulk_lock = threading.Lock()
_bulk_inside = 0
_bulk_gc_was_enabled = True


@contextmanager
def building_state() -> Iterator[None]:
    """Build a large state (a restore) without the cyclic garbage collector.

    Millions of new containers otherwise trigger collections that traverse
    all of them again and again (a third to two thirds of a restore's time).
    Afterwards every object alive is frozen (:func:`gc.freeze`): the state is
    long-lived, and later full collections no longer traverse it. State holds
    no reference cycles, so what it drops later is still freed (by reference
    counting). Threads that build at once share the switch.
    """
    global _bulk_inside, _bulk_gc_was_enabled
    with _bulk_lock:
        _bulk_inside += 1
        if _bulk_inside == 1:
            _bulk_gc_was_enabled = gc.isenabled()
            gc.disable()
    try:
        yield
    finally:
        with _bulk_lock:
            _bulk_inside -= 1
            if _bulk_inside == 0:
                gc.freeze()
                if _bulk_gc_was_enabled:
                    gc.enable()
