"""Turning results into per-instant signed multisets and comparing them.

A *delta* is a ``Counter`` of rows with signed counts (+n inserted, -n
deleted, net within one instant: an insert and a delete of the same tuple in
the same instant cancel). ``{instant: delta}`` is how every layer's output is
compared here: the runtime's emissions, the naive evaluator's results and
STREAM's expected files.

>>> from collections import Counter
>>> d = deltas_from_emissions([(1, 1, (5,)), (1, -1, (5,)), (2, 1, (6,))])
>>> d
{2: Counter({(6,): 1})}
>>> first_difference({2: Counter({(6,): 1})}, d) is None
True
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from tests.oracle.naive import NaiveEvaluator

Row = tuple[Any, ...]
Delta = Counter  # Counter[Row], signed counts
Normalizer = Callable[[Row], Row]


def _identity(row: Row) -> Row:
    return row


def deltas_from_emissions(
    emissions: Iterable[tuple[int, int, Row]], normalize: Normalizer = _identity
) -> dict[int, Delta]:
    """``[(timestamp, sign, row), ...]`` -> ``{instant: net signed Counter}`` (zeros dropped)."""
    out: dict[int, Delta] = {}
    for ts, sign, row in emissions:
        out.setdefault(int(ts), Counter())[normalize(tuple(row))] += int(sign)
    return _drop_zeros(out)


def _drop_zeros(d: Mapping[int, Delta]) -> dict[int, Delta]:
    out: dict[int, Delta] = {}
    for ts in sorted(d):
        c = Counter({r: n for r, n in d[ts].items() if n != 0})
        if c:
            out[ts] = c
    return out


def oracle_deltas(
    ev: NaiveEvaluator,
    until: int | None = None,
    normalize: Normalizer = _identity,
    extra_instants: Iterable[int] = (),
) -> dict[int, Delta]:
    """The oracle's output as deltas: a stream's elements per instant, or a
    relation's change ``R(tau) - R(previous instant)`` (from its value over
    empty inputs, which the runtime publishes without emitting it)."""
    instants = sorted(set(ev.instants()) | set(extra_instants))
    out: dict[int, Delta] = {}
    previous: Counter = Counter()
    if instants and not ev.is_stream():
        previous = Counter(normalize(r) for r in ev.relation_at(instants[0] - 1).elements())
    for tau in instants:
        if until is not None and tau > until:
            break
        if ev.is_stream():
            out[tau] = Counter(normalize(r) for r in ev.stream_at(tau))
        else:
            now = Counter(normalize(r) for r in ev.relation_at(tau).elements())
            delta = Counter(now)
            delta.subtract(previous)
            out[tau] = delta
            previous = now
    return _drop_zeros(out)


def integrate(deltas: Mapping[int, Delta]) -> dict[int, Counter]:
    """The relation after each instant's delta: ``{instant: bag}``."""
    out: dict[int, Counter] = {}
    current: Counter = Counter()
    for ts in sorted(deltas):
        current = Counter(current)
        current.update(deltas[ts])
        out[ts] = Counter({r: n for r, n in current.items() if n != 0})
    return out


def first_difference(
    expected: Mapping[int, Delta], got: Mapping[int, Delta], until: int | None = None
) -> str | None:
    """A readable description of the first instant where the two differ, or None."""
    for ts in sorted(set(expected) | set(got)):
        if until is not None and ts > until:
            break
        e = expected.get(ts, Counter())
        g = got.get(ts, Counter())
        if e != g:
            diff = Counter(e)
            diff.subtract(g)
            missing = {r: n for r, n in diff.items() if n > 0}
            extra = {r: -n for r, n in diff.items() if n < 0}
            return (
                f"instant {ts}: expected {_fmt(e)}, got {_fmt(g)}"
                f" (missing {_fmt(Counter(missing))}, unexpected {_fmt(Counter(extra))})"
            )
    return None


def _fmt(c: Counter) -> str:
    items = sorted(c.items(), key=lambda kv: repr(kv[0]))
    if len(items) > 12:
        return "{" + ", ".join(f"{r!r}:{n:+d}" for r, n in items[:12]) + f", ... {len(items)}}}"
    return "{" + ", ".join(f"{r!r}:{n:+d}" for r, n in items) + "}"


def float_normalizer(digits: int = 9) -> Callable[[Any], Any]:
    """Rounds floats to ``digits`` significant digits (and -0.0 to 0.0)."""

    def norm(v: Any) -> Any:
        if isinstance(v, float):
            r = float(f"{v:.{digits}g}")
            return 0.0 if r == 0 else r
        return v

    return norm
