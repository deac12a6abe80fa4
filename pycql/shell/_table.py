"""Aligned tables for the shell, for finite results and for rows that keep coming.

A finite result is measured first, then printed:

>>> print(render_table(["A", "NAME"], [(1, "x"), (22, None)]))
 A  | NAME
----+------
  1 | x
 22 | NULL

A stream cannot be measured in advance: :class:`StreamTable` picks column
widths from the column types and prints each row as it arrives.
"""

from __future__ import annotations

import datetime as _dt
import decimal
from collections.abc import Sequence
from typing import Any, TextIO

_TYPE_WIDTH = {
    "BOOLEAN": 5, "TINYINT": 4, "SMALLINT": 6, "INTEGER": 11, "BIGINT": 20,
    "FLOAT": 12, "REAL": 12, "DOUBLE": 12, "DATE": 10, "TIME": 12, "TIMESTAMP": 27,
}
_MAX_STREAM_WIDTH = 30


def format_value(value: Any) -> str:
    """How the shell writes one value."""
    if value is None:
        return "NULL"
    if value is True:
        return "TRUE"
    if value is False:
        return "FALSE"
    if isinstance(value, _dt.datetime):
        return format_datetime(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, decimal.Decimal):
        return format(value, "f")
    return str(value)


def format_datetime(value: _dt.datetime) -> str:
    """ISO date and time to the millisecond, and the zone when the value has one:
    ``UTC`` for UTC (a stream's ``ROWTIME``), else its offset. A ``TIMESTAMP``
    column's value has no zone (a wall-clock time) and is written without one.

    >>> format_datetime(_dt.datetime(2026, 12, 2, 7, 29, 1, 493000, tzinfo=_dt.UTC))
    '2026-12-02 07:29:01.493 UTC'
    >>> plus_one = _dt.timezone(_dt.timedelta(hours=1))
    >>> format_datetime(_dt.datetime(2026, 12, 2, 8, 29, tzinfo=plus_one))
    '2026-12-02 08:29:00.000 +01:00'
    >>> format_datetime(_dt.datetime(2024, 1, 2, 3, 4, 5))
    '2024-01-02 03:04:05.000'
    """
    text = value.isoformat(sep=" ", timespec="milliseconds")
    offset = value.utcoffset()
    if offset is None:
        return text
    if offset == _dt.timedelta(0):
        return text[:-6] + " UTC"
    return text[:-6] + " " + text[-6:]


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | decimal.Decimal) and not isinstance(value, bool)


def _line(cells: Sequence[str], widths: Sequence[int], right: Sequence[bool]) -> str:
    parts = [c.rjust(w) if r else c.ljust(w) for c, w, r in zip(cells, widths, right, strict=True)]
    return (" " + " | ".join(parts)).rstrip()


def render_table(names: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A whole result as an aligned table (no row count line)."""
    texts = [[format_value(v) for v in row] for row in rows]
    widths = [len(n) for n in names]
    for row in texts:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], max((len(p) for p in cell.splitlines()), default=0))
    right = [bool(rows) and all(_is_number(r[i]) or r[i] is None for r in rows)
             and any(_is_number(r[i]) for r in rows) for i in range(len(names))]
    out = [_line(names, widths, [False] * len(names)),
           "-" + "-+-".join("-" * w for w in widths) + "-"]
    for row in texts:
        if any("\n" in cell for cell in row):
            # multi-line values (EXPLAIN output, JSON): one physical line each
            parts = [cell.splitlines() or [""] for cell in row]
            height = max(len(p) for p in parts)
            for k in range(height):
                out.append(_line([p[k] if k < len(p) else "" for p in parts], widths,
                                 [False] * len(row)))
        else:
            out.append(_line(row, widths, right))
    return "\n".join(out)


def stream_width(name: str, type_name: str, precision: int | None) -> int:
    """The width a stream column gets before any row is seen."""
    base = _TYPE_WIDTH.get(type_name)
    if base is None:
        if type_name in ("CHAR", "VARCHAR") and precision is not None and precision > 0:
            base = min(precision, _MAX_STREAM_WIDTH)
        elif type_name == "DECIMAL" and precision is not None and precision > 0:
            base = precision + 2
        else:
            base = 12
    return max(base, len(name))


class StreamTable:
    """Prints a header, then each row on its own aligned line as it comes."""

    def __init__(self, out: TextIO, names: Sequence[str], types: Sequence[str],
                 precisions: Sequence[int | None]) -> None:
        self.out = out
        self.widths = [stream_width(n, t, p) for n, t, p in zip(names, types, precisions,
                                                                 strict=True)]
        self.right = [(t in _TYPE_WIDTH and t not in ("BOOLEAN", "DATE", "TIME", "TIMESTAMP"))
                      or t == "DECIMAL" for t in types]
        self.names = list(names)
        self.count = 0

    def header(self) -> None:
        self.out.write(_line(self.names, self.widths, [False] * len(self.names)) + "\n")
        self.out.write("-" + "-+-".join("-" * w for w in self.widths) + "-\n")
        self.out.flush()

    def rows(self, rows: Sequence[Sequence[Any]]) -> None:
        for row in rows:
            self.out.write(_line([format_value(v) for v in row], self.widths, self.right) + "\n")
        self.count += len(rows)
        if rows:
            self.out.flush()
