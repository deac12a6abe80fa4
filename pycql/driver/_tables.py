"""A table's current rows as the driver sees them, for INSERT, UPSERT and DELETE.

A table is a compacted topic: the record key identifies a row, the value is
the row (encoded in the table's format), a tombstone (``None`` value) deletes
it. Keys are written by :func:`row_key`:

* with a primary key, the JSON array of the key's values (``[1,"a"]``), so the
  same key always gives the same bytes and compaction keeps the latest row;
* without one, a fresh unique id per inserted row, so the table is a multiset.

:class:`TableState` reads the topic from the start once and then only what
was appended since, so repeated statements stay cheap.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from pycql.errors import OperationalError
from pycql.log.formats import key_bytes

if TYPE_CHECKING:
    from pycql.catalog import Table
    from pycql.log.base import Log, LogReader, Record
    from pycql.log.formats import Decoder

Row = tuple[Any, ...]

_CATCH_UP_LIMIT_S = 60.0


def key_indexes(table: Table) -> list[int]:
    """The positions of the table's primary-key columns."""
    names = [c.name for c in table.columns]
    return [names.index(k) for k in table.primary_key]


def row_key(table: Table, row: Sequence[Any], indexes: list[int] | None = None) -> bytes:
    """The record key of ``row`` in ``table`` (see the module docstring).

    >>> from pycql.catalog import Column, Table
    >>> t = Table("T", (Column("ID", "INTEGER"), Column("N", "VARCHAR")), "T", ("ID",))
    >>> row_key(t, (7, "x"))
    b'[7]'
    """
    if not table.primary_key:
        return uuid.uuid4().hex.encode()
    idx = key_indexes(table) if indexes is None else indexes
    return key_bytes([row[i] for i in idx])


class TableState:
    """``key -> row`` of one table, kept up to date by reading its topic."""

    def __init__(self, log: Log, table: Table, decode: Decoder) -> None:
        self.table = table
        self._decode = decode
        self._reader: LogReader = log.reader([table.topic], "earliest")
        self.rows: dict[bytes, Row] = {}
        self.lock = threading.RLock()

    def refresh(self) -> dict[bytes, Row]:
        """Read what was appended since the last call; return ``key -> row``."""
        with self.lock:
            reader = self._reader
            end = reader.end_offsets()
            deadline = time.monotonic() + _CATCH_UP_LIMIT_S
            while any(reader.position().get(tp, 0) < off for tp, off in end.items()):
                self._apply(reader.poll(10_000, 0.2))
                if time.monotonic() > deadline:
                    raise OperationalError(
                        f"could not read table {self.table.name} (topic {self.table.topic}) "
                        f"to its end within {_CATCH_UP_LIMIT_S:.0f} s"
                    )
            return self.rows

    def _apply(self, records: Sequence[Record]) -> None:
        """Apply records in order: a row replaces its key's row, a tombstone removes it.

        Records that do not decode (written by some other producer) are
        skipped here; queries reading the table send them to the dead-letter topic.
        """
        values = [r for r in records if r.key is not None and r.value is not None]
        rows, _, errors = self._decode(values)
        bad = {(r.partition, r.offset) for r, _ in errors}
        decoded = iter(rows)
        by_record = {
            (r.partition, r.offset): next(decoded)
            for r in values
            if (r.partition, r.offset) not in bad
        }
        for record in records:
            if record.key is None:
                continue
            row = by_record.get((record.partition, record.offset))
            if record.value is None:
                self.rows.pop(record.key, None)
            elif row is not None:
                self.rows[record.key] = row

    def close(self) -> None:
        self._reader.close()
