"""The records of an exchange (:class:`pycql.jobs.sink.ExchangeSink`), a batch at a time.

An exchange record's value is the JSON array ``[op, v1, ..., vn]`` and its key the
JSON array of the key values (:func:`pycql.log.formats.key_bytes`). Written one
``orjson.dumps`` per row, most of the cost is orjson's output buffer (it starts
at a kilobyte and shrinks once the bytes are kept), not the JSON; so the rows of
a batch are written by one ``orjson.dumps`` of them all and its output cut at the
boundaries between the rows. The cut is exact only when the boundary text occurs
nowhere else (a string or a nested array could hold it); when the number of pieces
is not the number of rows, the batch is written row by row instead. Either way the
bytes are those of one ``orjson.dumps`` per row:

>>> encode_changes([1, -1], [(7, "a"), (8, "],[")])
[b'[1,7,"a"]', b'[-1,8,"],["]']
>>> encode_keys([(7, "a"), (8, "b,c")], [1])
[b'["a"]', b'["b,c"]']

Reading is one ``orjson.loads`` per record (a C-level ``map``: as fast as one
``loads`` of the joined values, and it cannot take two malformed records for two
good ones); :func:`decode_changes` checks the shapes of the whole batch at once
and says None when any record is not a change, so the caller looks at each record
and dead-letters the bad ones with their reasons.

>>> decode_changes([b"[1,7]", b"[-1,8]"], 1)
[[1, 7], [-1, 8]]
>>> decode_changes([b"[1,7]", b"[2,8]"], 1) is None
True
"""

from __future__ import annotations

from collections.abc import Sequence
from operator import itemgetter
from typing import Any, cast

import orjson

from pycql.log.formats import key_bytes
from pycql.runtime.state import json_default

__all__ = ["decode_changes", "encode_changes", "encode_keys"]

_FIRST = itemgetter(0)
_OPS = frozenset((1, -1))
#: ``[op,`` of a change with values, by op
_OPEN = {1: b"[1,", -1: b"[-1,"}


def _cut(encoded: bytes, count: int, edge: int, boundary: bytes) -> list[bytes] | None:
    """The JSON of each of the ``count`` items of the array ``encoded``, without the
    ``edge`` bytes the items open and close with; None where ``boundary`` (what
    separates two items) occurs inside an item too."""
    pieces = encoded[1 + edge:-1 - edge].split(boundary)
    return pieces if len(pieces) == count else None


def encode_changes(signs: Sequence[int], rows: Sequence[Sequence[Any]]) -> list[bytes]:
    """``orjson.dumps((sign, *row), default=json_default)`` of each change, in order."""
    if not rows:
        return []
    try:
        inner = _cut(orjson.dumps(rows, default=json_default), len(rows), 1, b"],[")
    except TypeError:  # a value orjson cannot write: raise as the row's own dumps would
        inner = None
    if inner is None or not rows[0] or not set(signs) <= _OPS:  # (no values: no comma)
        return [orjson.dumps((sign, *row), default=json_default)
                for sign, row in zip(signs, rows, strict=True)]
    opens = _OPEN
    return [opens[sign] + values + b"]" for sign, values in zip(signs, inner, strict=True)]


def encode_keys(rows: Sequence[Sequence[Any]], keys: Sequence[int]) -> list[bytes]:
    """``key_bytes([row[i] for i in keys])`` of each row, in order."""
    if not rows or not keys:
        return [key_bytes([row[i] for i in keys]) for row in rows]
    if len(keys) == 1:  # the key values themselves, separated by commas
        k = keys[0]
        columns: list[Any] = [row[k] for row in rows]
        edge, boundary = 0, b","
    else:
        columns = list(map(itemgetter(*keys), rows))
        edge, boundary = 1, b"],["
    try:
        inner = _cut(key_bytes(columns), len(rows), edge, boundary)
    except TypeError:
        inner = None
    if inner is None:
        return [key_bytes([row[i] for i in keys]) for row in rows]
    return [b"[" + values + b"]" for values in inner]


def decode_changes(values: Sequence[bytes | None], width: int) -> list[list[Any]] | None:
    """Each value read as a change ``[op, v1, ..., v<width>]`` (op ``1`` or ``-1``), or
    None when any of them is not one (the caller then looks at each record)."""
    try:
        # a None value raises JSONDecodeError too (orjson refuses what is not text)
        changes = list(map(orjson.loads, cast("Sequence[bytes]", values)))
        if not changes:
            return []
        if set(map(type, changes)) != {list} or set(map(len, changes)) != {width + 1}:
            return None
        if not set(map(_FIRST, changes)) <= _OPS:
            return None
    except (orjson.JSONDecodeError, TypeError):  # TypeError: an op that is not hashable
        return None
    return changes
