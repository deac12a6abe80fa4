"""Driving pycql's runtime over a complete input, and checking it against the oracle.

Inputs are in the oracle's format (see :mod:`tests.oracle.naive`): per source
name ``[(t, row)]`` (stream) or ``[(t, sign, row)]`` (table).

* :func:`run_executor` pushes every instant's input in time order into a
  :class:`pycql.runtime.Executor` and advances the watermark on a schedule,
  returning the initial snapshot (relation-valued roots) and the emissions.
* :func:`compare_with_oracle` checks those emissions against
  :class:`~tests.oracle.naive.NaiveEvaluator`, instant by instant: for a stream
  root, the multiset emitted at each instant; for a relation root, the
  relation's value after each instant (the runtime's initial snapshot plus its
  delta stream) against ``R(tau)`` recomputed from scratch, at every instant
  either side names, and before the first.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tests.oracle.naive import NaiveEvaluator

Row = tuple[Any, ...]
Inputs = Mapping[str, Sequence[tuple[Any, ...]]]


@dataclass
class RuntimeRun:
    """What the runtime produced."""

    root_is_stream: bool
    initial: Counter | None  # the relation before any instant (relation roots)
    emissions: list[tuple[int, int, Row]] = field(default_factory=list)


def _is_stream_root(plan: Mapping[str, Any]) -> bool:
    ops = {op["id"]: op for op in plan["operators"]}
    return bool(ops[plan["root"]].get("output") == "stream")


def events_by_instant(
    plan: Mapping[str, Any], inputs: Inputs
) -> dict[int, dict[str, tuple[list[Row], list[Row]]]]:
    """``{t: {source name as the plan spells it: (inserts, deletes)}}``."""
    kinds = {
        str(op["name"]): op.get("source_kind", "stream")
        for op in plan["operators"]
        if op["op"] == "source"
    }
    by_upper = {k.upper(): v for k, v in inputs.items()}
    out: dict[int, dict[str, tuple[list[Row], list[Row]]]] = {}
    for name, kind in kinds.items():
        for element in by_upper.get(name.upper(), []):
            if kind == "table":
                t, sign, row = element
            else:
                (t, row), sign = element, 1
            slot = out.setdefault(int(t), {}).setdefault(name, ([], []))
            (slot[0] if sign > 0 else slot[1]).append(tuple(row))
    return out


def run_executor(
    plan: Mapping[str, Any],
    inputs: Inputs,
    until: int,
    *,
    advance_after: Callable[[int], bool] = lambda t: True,
    params: Sequence[Any] = (),
) -> RuntimeRun:
    """Push the input instant by instant; ``advance(t)`` after instant ``t``
    when ``advance_after(t)``; finally ``advance(until)``."""
    from pycql.runtime import Executor

    ex = Executor(dict(plan), params)
    stream_root = _is_stream_root(plan)
    run = RuntimeRun(stream_root, None if stream_root else Counter(map(tuple, ex.snapshot())))
    for t, per_source in sorted(events_by_instant(plan, inputs).items()):
        if t > until:
            break
        for name, (ins, dels) in per_source.items():
            ex.push(name, t, ins, dels)
        if advance_after(t):
            run.emissions.extend((e.timestamp, e.sign, tuple(e.row)) for e in ex.advance(t))
    run.emissions.extend((e.timestamp, e.sign, tuple(e.row)) for e in ex.advance(until))
    return run


def _fmt(c: Counter) -> str:
    items = sorted(((repr(r), n) for r, n in c.items() if n), key=lambda kv: kv[0])
    shown = ", ".join(f"{r}x{n}" for r, n in items[:10])
    return "{" + shown + (f", ... ({len(items)} rows)" if len(items) > 10 else "") + "}"


def compare_with_oracle(
    run: RuntimeRun,
    oracle: NaiveEvaluator,
    until: int,
    normalize: Callable[[Row], Row] = lambda r: r,
) -> str | None:
    """The first difference between the runtime's run and the oracle, or None."""
    times = [e[0] for e in run.emissions]
    if times != sorted(times):
        return f"emissions are not in time order: {times[:20]}"
    late = [e for e in run.emissions if e[0] > until]
    if late:
        return f"emission after the final watermark {until}: {late[0]}"
    if run.root_is_stream != oracle.is_stream():
        return f"root kinds differ: runtime stream={run.root_is_stream}"
    instants = sorted({t for t in oracle.instants() if t <= until} | set(times))
    if run.root_is_stream:
        bad = [e for e in run.emissions if e[1] != 1]
        if bad:
            return f"a stream-valued root emitted a delete: {bad[0]}"
        got: dict[int, Counter] = {}
        for t, _, row in run.emissions:
            got.setdefault(t, Counter())[normalize(row)] += 1
        for tau in instants:
            want = Counter(normalize(r) for r in oracle.stream_at(tau))
            have = got.get(tau, Counter())
            if want != have:
                return _difference(tau, want, have, "elements")
        return None
    assert run.initial is not None
    current = Counter(normalize(r) for r in run.initial.elements())
    first = instants[0] - 1 if instants else 0
    want0 = Counter(normalize(r) for r in oracle.relation_at(first).elements())
    if current != want0:
        return _difference(first, want0, current, "initial relation (before any input)")
    deltas: dict[int, Counter] = {}
    for t, sign, row in run.emissions:
        deltas.setdefault(t, Counter())[normalize(row)] += sign
    for tau in instants:
        current.update(deltas.get(tau, Counter()))
        negative = {r: n for r, n in current.items() if n < 0}
        if negative:
            return f"instant {tau}: the runtime deleted rows it never inserted: {negative}"
        current = +current
        want = Counter(normalize(r) for r in oracle.relation_at(tau).elements())
        if want != current:
            return _difference(tau, want, current, "relation")
    return None


def _difference(
    tau: int,
    want: Counter,
    have: Counter,
    what: str,
    labels: tuple[str, str] = ("oracle", "runtime"),
) -> str:
    diff = Counter(want)
    diff.subtract(have)
    missing = Counter({r: n for r, n in diff.items() if n > 0})
    extra = Counter({r: -n for r, n in diff.items() if n < 0})
    w, h = labels
    return (
        f"instant {tau}: {what} differs: {w} {_fmt(want)}, {h} {_fmt(have)}; "
        f"missing from {h} {_fmt(missing)}, unexpected in {h} {_fmt(extra)}"
    )


def describe_inputs(inputs: Inputs) -> str:
    """A compact, reproducible listing of an input."""
    lines = []
    for name, elements in inputs.items():
        lines.append(f"  {name}: {list(elements)!r}")
    return "\n".join(lines)


def instants_of(inputs: Inputs) -> Iterable[int]:
    """Every input timestamp."""
    for elements in inputs.values():
        for e in elements:
            yield int(e[0])


def compare_oracles(optimized: NaiveEvaluator, reference: NaiveEvaluator, until: int) -> str | None:
    """Whether two plans of one query mean the same, by the oracle: the first
    difference or None. Stream roots are compared per instant, relation roots
    by value; when both roots are RSTREAM the relations under them are compared
    (at which instants RSTREAM repeats them depends on the plan's timers, see
    :mod:`tests.oracle.naive`)."""

    both_rstream = all(ev.ops[ev.root]["op"] == "rstream" for ev in (optimized, reference))

    def unwrap(ev: NaiveEvaluator) -> tuple[int, bool]:
        if both_rstream:
            return ev.ops[ev.root]["inputs"][0], False
        return ev.root, ev.is_stream()

    a_id, a_stream = unwrap(optimized)
    b_id, b_stream = unwrap(reference)
    if a_stream != b_stream:
        return "the plans' roots are of different kinds"
    instants = sorted(
        {t for t in optimized.plan_instants() | reference.plan_instants() if t <= until}
    )
    for tau in instants:
        if a_stream:
            a = Counter(optimized.stream_at(tau, a_id))
            b = Counter(reference.stream_at(tau, b_id))
        else:
            a = optimized.relation_at(tau, a_id)
            b = reference.relation_at(tau, b_id)
        if +a != +b:
            return _difference(tau, b, a, "the value", ("reference plan", "optimized plan"))
    return None
