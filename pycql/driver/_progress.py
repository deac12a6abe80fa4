"""Progress reports of a running query to the ``progress=`` callback of
``cursor.execute`` (and ``cursor.progress``): :class:`ProgressReporter`."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from pycql.runtime.progress import Progress

#: what ``cursor.execute(..., progress=...)`` takes: called with each :class:`Progress`
ProgressCallback = Callable[[Progress], object]

#: seconds between two reports (the last one, at the end, comes whenever it comes)
REPORT_INTERVAL_S = 0.1


class ProgressReporter:
    """Asks a runner for its :class:`Progress` at most every ``interval`` seconds, keeps
    the last one (``last``) and hands each to ``callback``; ``final=True`` reports the end
    (``done`` set) whatever the time. A callback's exception stops the query and reaches
    the caller of ``execute`` or of the fetch that polled."""

    def __init__(self, callback: ProgressCallback | None,
                 interval: float = REPORT_INTERVAL_S) -> None:
        self._callback = callback
        self._interval = interval
        self._next_at = 0.0
        self._finished = False
        self.last: Progress | None = None

    def update(self, runner: Any, *, final: bool = False) -> None:
        if self._finished:
            return
        now = time.monotonic()
        if not final and now < self._next_at:
            return
        measure = getattr(runner, "progress", None)
        if measure is None:  # a runner without offsets to tell
            return
        self._next_at = now + self._interval
        report: Progress = measure()
        if final and not report.done:
            report = replace(report, done=True)
        if report.done:  # the last report
            self._finished = True
        self.last = report
        if self._callback is not None:
            self._callback(report)
