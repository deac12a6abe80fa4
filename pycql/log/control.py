"""Control records: event-time statements that travel in-band with a stream's data.

A *watermark* control record on a partition says "this partition will carry no
more records stamped at or before ``watermark``", so a query can close those
instants without waiting for the next data record or for an idle timeout. It
is CQL's heartbeat (``ALTER STREAM S HEARTBEAT TIMESTAMP '...'`` writes one,
stamped ``τ - 1``, to every partition of ``S``), and the same record carries
time between the stages of a job (``../shared/design/jobs.md``: each upstream
task writes one to every partition of an intermediate topic).

Any Kafka client can write one: key ``pycql:control`` (UTF-8), value a JSON
object

.. code-block:: json

    {"type": "watermark", "watermark": 1704067204999, "producer": "sensor-7"}

``watermark`` is epoch milliseconds; ``producer`` names the writer (optional).
Between the stages of a job (:mod:`pycql.jobs.stages`) every upstream task is a
producer, and a downstream task's time for an intermediate topic's partition is
the minimum over the producers' watermarks. Two more members serve that:
``"idle": true`` says the producer has no input to read (its inputs are all
quiet), so it does not hold time back while it is idle (Flink's idle watermark
status); the type ``"end_of_stream"`` says a producer of a bounded run is done,
its ``watermark`` the last it reached. Readers never decode a control record
as a row.

>>> out = watermark_record(1999, producer="me")
>>> parse_control(out.value)
ControlRecord(type='watermark', watermark=1999, producer='me', idle=False)
>>> parse_control(end_of_stream_record(2500, producer="3").value).type
'end_of_stream'
"""

from __future__ import annotations

from typing import NamedTuple

import orjson

from pycql.log.base import OutRecord

__all__ = [
    "CONTROL_KEY", "ControlRecord", "end_of_stream_record", "parse_control",
    "watermark_record",
]

#: The key that marks a record as a control record.
CONTROL_KEY = b"pycql:control"

_TYPES = ("watermark", "end_of_stream")


class ControlRecord(NamedTuple):
    """A decoded control record."""

    type: str
    watermark: int
    producer: str | None
    idle: bool = False


def watermark_record(watermark: int, *, producer: str | None = None,
                     partition: int | None = None, idle: bool = False) -> OutRecord:
    """A watermark control record (its Kafka timestamp is the watermark too)."""
    value: dict[str, object] = {"type": "watermark", "watermark": watermark,
                                "producer": producer}
    if idle:
        value["idle"] = True
    return OutRecord(orjson.dumps(value), CONTROL_KEY, max(watermark, 0), partition)


def end_of_stream_record(watermark: int, *, producer: str,
                         partition: int | None = None) -> OutRecord:
    """The last control record of a producer of a bounded run: it reached ``watermark``."""
    value = {"type": "end_of_stream", "watermark": watermark, "producer": producer}
    return OutRecord(orjson.dumps(value), CONTROL_KEY, max(watermark, 0), partition)


def parse_control(value: bytes | None) -> ControlRecord:
    """Decode a control record's value; :class:`ValueError` says what is wrong with it."""
    try:
        data = orjson.loads(value or b"")
    except orjson.JSONDecodeError:
        raise ValueError("a control record's value must be a JSON object") from None
    if not isinstance(data, dict) or data.get("type") not in _TYPES:
        raise ValueError(f"a control record needs a type, one of {', '.join(_TYPES)}")
    mark = data.get("watermark")
    if isinstance(mark, bool) or not isinstance(mark, int):
        raise ValueError("a control record's watermark must be epoch milliseconds (an integer)")
    producer = data.get("producer")
    return ControlRecord(str(data["type"]), mark, None if producer is None else str(producer),
                         data.get("idle") is True)
