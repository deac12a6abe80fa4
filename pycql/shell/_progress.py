"""The shell's progress bar for a bounded query (a snapshot, or a replay with a ``stop``):
records read of the total, rate and time left, drawn by tqdm on the shell's error stream
while the query reads its inputs, and only on a terminal."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TextIO

from tqdm import tqdm

from pycql.runtime.progress import Progress

#: a query that ends sooner shows no bar at all
SHOW_AFTER_S = 0.5


class ProgressBar:
    """A ``progress=`` callback for ``cursor.execute`` that draws one bar on ``err``.

    The bar appears once the query has run ``delay`` seconds (:data:`SHOW_AFTER_S`),
    and goes when the query ends (its last report) or :meth:`close` is called. Not on
    a terminal (``err.isatty()`` false) it draws nothing.
    """

    def __init__(self, err: TextIO, *, delay: float | None = None) -> None:
        self._err = err
        self._delay = SHOW_AFTER_S if delay is None else delay
        self._bar: tqdm[None] | None = None
        self._closed = False

    def __call__(self, progress: Progress) -> None:
        if self._closed or progress.total is None:  # no stop: no total to go towards
            return
        bar = self._bar
        if bar is None:
            bar = self._bar = tqdm(
                total=progress.total, file=self._err, desc="read", unit=" records",
                unit_scale=True, delay=self._delay, leave=False, dynamic_ncols=True,
                mininterval=0,  # reports come at most ten times a second already
                disable=None,  # on a terminal only
            )
        if bar.total != progress.total:
            bar.total = progress.total
        if progress.read > bar.n:
            bar.update(progress.read - bar.n)
        if progress.done:
            self.close()

    @contextlib.contextmanager
    def writing(self) -> Iterator[None]:
        """Around output to the same terminal (rows): the bar steps aside, then comes back."""
        if self._bar is None or self._closed:
            yield
            return
        with tqdm.external_write_mode(file=self._err):
            yield

    def close(self) -> None:
        """Take the bar away (at the end, or when the query is stopped)."""
        self._closed = True
        if self._bar is not None:
            self._bar.close()
            self._bar = None
