"""How far a query has read its inputs: :class:`Progress`.

The figures come from the log's offsets, for the embedded log and Kafka alike:
``read`` is, summed over the partitions the query reads, how far its position
has moved from where it started; ``total`` is how far it has to go (the stop
offsets minus the start offsets), so ``read == total`` at the end of a bounded
run. Offsets count what the log holds, so on Kafka a transaction's commit
markers count as records too.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Progress:
    """One report of a running query's progress.

    >>> p = Progress(read=250, total=1000, elapsed=2.0)
    >>> p.fraction, p.rate, p.eta
    (0.25, 125.0, 6.0)
    >>> Progress(read=5, total=None, elapsed=1.0).eta is None
    True
    """

    #: records read so far (offsets moved past, over every partition read)
    read: int
    #: records to read in all; ``None`` when the query has no ``stop`` (it never ends by
    #: itself). With ``stop`` at a time, the records up to the end of the inputs when the
    #: query started: the run may end before reading them all.
    total: int | None
    #: seconds since the query started
    elapsed: float
    #: the run is over (its stop reached, or it was cancelled): the last report
    done: bool = False

    @property
    def fraction(self) -> float | None:
        """``read / total`` (1.0 for a run with nothing to read); ``None`` without a total."""
        if self.total is None:
            return None
        return 1.0 if self.total == 0 else min(1.0, self.read / self.total)

    @property
    def rate(self) -> float:
        """Records read per second, on average since the start."""
        return self.read / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def eta(self) -> float | None:
        """Seconds left at the average rate so far; ``None`` without a total or a rate."""
        if self.total is None:
            return None
        left = max(0, self.total - self.read)
        if left == 0:
            return 0.0
        rate = self.rate
        return left / rate if rate > 0 else None
