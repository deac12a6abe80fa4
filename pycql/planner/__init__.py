"""The query management layer's planner: CQL text in, a streaming plan out.

The work happens in Java (Apache Calcite extended for CQL, see ``java/``); this
package hands it the catalog and the statement and turns the answer into Python
values and pycql errors.

>>> catalog = {"streams": [{"name": "S", "columns": [{"name": "A", "type": "INTEGER"}],
...                         "topic": "S"}]}
>>> answer = analyze("SELECT ISTREAM(*) FROM S [NOW] WHERE A > 1", catalog)  # doctest: +SKIP
>>> answer["statement"], answer["plan"]["result"]["kind"]  # doctest: +SKIP
('query', 'stream')
"""

from __future__ import annotations

from typing import Any

import orjson

from pycql.errors import InternalError, NotSupportedError, ProgrammingError
from pycql.planner import _jvm

__all__ = ["analyze", "configure_jvm", "jvm_started"]


def configure_jvm(options: list[str]) -> None:
    """Extra options for the planner's JVM (e.g. ``["-Xmx2g"]``), before the first query."""
    _jvm.configure(options)


def jvm_started() -> bool:
    """True once the planner's JVM runs in this process."""
    return _jvm.is_started()


def analyze(
    sql: str, catalog: dict[str, Any], options: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Parse, validate and plan one statement.

    Returns the statement envelope described in ``docs/plan-json.md``.
    Raises :class:`~pycql.errors.ProgrammingError` for CQL errors and
    :class:`~pycql.errors.NotSupportedError` for features pycql does not have,
    both with line and column in ``sql`` where the error has a place in it.
    """
    answer_text = _jvm.call_analyze(
        sql, orjson.dumps(catalog).decode(), orjson.dumps(options or {}).decode()
    )
    answer: dict[str, Any] = orjson.loads(answer_text)
    error = answer.get("error")
    if error is not None:
        raise _error_from(error, sql)
    return answer


def _error_from(error: dict[str, Any], sql: str) -> Exception:
    message = str(error.get("message") or "invalid statement")
    kind = error.get("kind")
    if kind == "internal":
        return InternalError(f"the CQL planner failed: {message}")
    error_class = NotSupportedError if kind == "unsupported" else ProgrammingError
    return error_class(
        message,
        line=error.get("line"),
        column=error.get("column"),
        end_line=error.get("end_line"),
        end_column=error.get("end_column"),
        sql=sql,
    )
