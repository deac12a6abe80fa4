"""How a source's event time moves: lateness, idleness, the wall clock, the future bound.

One :class:`TimePolicy` per source (a stream's ``CREATE STREAM ... WITH (...)``
options, with the connection's options as defaults) tells the
:class:`~pycql.runtime.runner.QueryRunner`:

* ``lateness_ms``: how far out of timestamp order a record may arrive and still
  be placed in its instant (the watermark trails the newest timestamp by this);
* ``idle_timeout_ms``: how long a caught-up partition must be quiet before it
  stops holding the watermark back; when every input is idle, the instants
  already received close (a row shows up then at the latest);
* ``idle_advance``: what time an idle source moves to: ``"newest"`` (the
  default: the newest timestamp it delivered, never beyond its data) or
  ``"wall_clock"`` (the wall clock minus ``lateness_ms``, so RANGE windows
  expire without input; records older than that are late);
* ``max_future_ms``: a record stamped further than this ahead of the wall clock
  is set aside as malformed instead of moving time for everyone (``None``: no
  bound). The default, one hour, is Kafka's own ``message.timestamp.after.max.ms``.

Durations are written as in Flink and ksqlDB:

>>> parse_duration("2 s"), parse_duration("500 ms"), parse_duration("1 HOUR")
(2000, 500, 3600000)
>>> TimePolicy().with_options({"lateness": "2 s", "idle_advance": "wall_clock"})
TimePolicy(lateness_ms=2000, idle_timeout_ms=1000, idle_advance='wall_clock', max_future_ms=3600000)
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any, Literal

from pycql.errors import ProgrammingError

__all__ = ["TIME_OPTIONS", "TimePolicy", "format_duration", "parse_duration"]

IdleAdvance = Literal["newest", "wall_clock"]

#: The ``WITH (...)`` options of a stream that set its time policy.
TIME_OPTIONS = ("lateness", "idle_timeout", "idle_advance", "max_future")

_UNITS = {
    "ms": 1, "msec": 1, "millisecond": 1, "milliseconds": 1,
    "s": 1000, "sec": 1000, "second": 1000, "seconds": 1000,
    "m": 60_000, "min": 60_000, "minute": 60_000, "minutes": 60_000,
    "h": 3_600_000, "hour": 3_600_000, "hours": 3_600_000,
    "d": 86_400_000, "day": 86_400_000, "days": 86_400_000,
}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$")


def parse_duration(text: str, what: str = "duration") -> int:
    """Milliseconds of ``'2 s'``, ``'500 ms'``, ``'1.5 minutes'``; ``'0'`` is zero."""
    match = _DURATION.match(str(text))
    unit = match.group(2).lower() if match else ""
    if match is None or (unit not in _UNITS and not (unit == "" and float(match.group(1)) == 0)):
        raise ProgrammingError(
            f"{what} {text!r} is not a duration: write a number and a unit, "
            "e.g. '500 ms', '2 s', '1 min', '1 h'"
        )
    return round(float(match.group(1)) * _UNITS.get(unit, 1))


def format_duration(ms: int) -> str:
    """The shortest exact text of ``ms``: ``2000 -> '2 s'``."""
    for unit, size in (("d", 86_400_000), ("h", 3_600_000), ("min", 60_000), ("s", 1000)):
        if ms and ms % size == 0:
            return f"{ms // size} {unit}"
    return f"{ms} ms"


@dataclass(frozen=True)
class TimePolicy:
    """How one source's event time advances (see the module docstring)."""

    lateness_ms: int = 0
    idle_timeout_ms: int = 1000
    idle_advance: IdleAdvance = "newest"
    max_future_ms: int | None = 3_600_000

    def __post_init__(self) -> None:
        if self.lateness_ms < 0:
            raise ProgrammingError("lateness must not be negative")
        if self.idle_timeout_ms < 0:
            raise ProgrammingError("idle_timeout must not be negative")
        if self.idle_advance not in ("newest", "wall_clock"):
            raise ProgrammingError(
                f"idle_advance must be 'newest' or 'wall_clock', not {self.idle_advance!r}"
            )
        if self.max_future_ms is not None and self.max_future_ms < 0:
            raise ProgrammingError("max_future must not be negative")

    def with_options(self, options: Mapping[str, str]) -> TimePolicy:
        """This policy with a stream's ``WITH`` options (text values) applied."""
        changes: dict[str, Any] = {}
        if "lateness" in options:
            changes["lateness_ms"] = parse_duration(options["lateness"], "lateness")
        if "idle_timeout" in options:
            changes["idle_timeout_ms"] = parse_duration(options["idle_timeout"], "idle_timeout")
        if "idle_advance" in options:
            changes["idle_advance"] = str(options["idle_advance"]).lower()
        if "max_future" in options:
            text = str(options["max_future"]).strip().lower()
            changes["max_future_ms"] = (
                None if text in ("none", "unbounded") else parse_duration(text, "max_future")
            )
        return replace(self, **changes)

    def to_json(self) -> dict[str, Any]:
        """The ``"time"`` member of a source operator (``docs/plan-json.md``)."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None, default: TimePolicy) -> TimePolicy:
        """A source operator's ``"time"`` member over ``default`` (missing keys keep it)."""
        if not data:
            return default
        known = {k: data[k] for k in asdict(default) if k in data}
        return replace(default, **known)
