"""pycql's operator runtime: executes the planner's JSON plan over insert/delete batches.

* :class:`Executor` runs one plan: ``push`` deltas per source and instant,
  ``advance`` a watermark, get :class:`Emission` s back; rows an expression
  failed on come back from ``take_rejected()`` as :class:`RejectedRow` s.
* :class:`~pycql.runtime.runner.QueryRunner` ties an executor to a log
  (:class:`pycql.log.base.Log`): decoding, watermarks, lateness, idleness.

See ``docs/plan-json.md`` for the plan format.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pycql.runtime.executor import Emission, Executor, OnError, RejectedRow

if TYPE_CHECKING:
    from pycql.runtime.runner import QueryRunner, RunnerMetrics

__all__ = ["Emission", "Executor", "OnError", "QueryRunner", "RejectedRow", "RunnerMetrics"]


def __getattr__(name: str) -> Any:
    # the runner imports the log layer; load it only when asked for
    if name in ("QueryRunner", "RunnerMetrics"):
        from pycql.runtime import runner

        return getattr(runner, name)
    raise AttributeError(name)
