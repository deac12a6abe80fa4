"""How a pycql process ends: on SIGTERM, and at interpreter exit.

SIGTERM. Unless the application chose what SIGTERM does, pycql installs a
handler the first time it connects or starts the planner's JVM from the main
thread (the only thread Python lets set handlers). On SIGTERM it

1. cancels every running continuous query of the process, so fetches blocked
   in other threads return within about 50 ms (``fetchone()`` returns ``None``,
   iteration stops), and
2. raises :class:`Terminated` (a :class:`SystemExit` with code 143, the
   conventional ``128 + SIGTERM``) in the main thread, so ``finally`` blocks,
   ``with`` blocks and :mod:`atexit` functions run and the process exits with
   status 143.

A second SIGTERM while that shutdown runs ends the process at once (the
default action of the signal). A handler the application installed itself,
before or after, is never replaced; nor is an ignored SIGTERM.

At interpreter exit (:mod:`atexit`) pycql cancels and closes the queries
still running and closes every database it opened: Kafka consumers are
closed and producers flushed, so no client thread outlives the interpreter.

The planner's JVM runs with ``-Xrs`` and JPype registers no handler
(:mod:`pycql.planner._jvm`), so none of this is disturbed by Java.
"""

from __future__ import annotations

import atexit
import signal
import threading
import weakref
from types import FrameType
from typing import Any, Protocol

__all__ = ["TERMINATED_STATUS", "Terminated", "install", "reassert_after_jvm_start"]

#: The exit status of a process that pycql's handler ended on SIGTERM.
TERMINATED_STATUS = 128 + int(signal.SIGTERM)


class Terminated(SystemExit):
    """Raised in the main thread when the process receives SIGTERM.

    A :class:`SystemExit` (code 143): ``except Exception`` does not catch it,
    ``finally`` and ``with`` blocks run, and the interpreter exits with status
    143 when nothing catches it.
    """

    def __init__(self) -> None:
        super().__init__(TERMINATED_STATUS)


class _Cancellable(Protocol):
    def cancel(self) -> None: ...

    def close(self) -> None: ...


_lock = threading.RLock()  # the SIGTERM handler may run while the main thread holds it
# by id(): a dataclass with eq=True (Database) is not hashable
_queries: weakref.WeakValueDictionary[int, Any] = weakref.WeakValueDictionary()
_databases: weakref.WeakValueDictionary[int, Any] = weakref.WeakValueDictionary()
_atexit_registered = False
_terminating = False


def track_query(query: _Cancellable) -> None:
    """Remember a running query so that SIGTERM and exit cancel it (kept weakly)."""
    with _lock:
        _queries[id(query)] = query


def forget_query(query: _Cancellable) -> None:
    with _lock:
        if _queries.get(id(query)) is query:
            del _queries[id(query)]


def track_database(database: Any) -> None:
    """Remember an open database (anything with ``close()``) to close at exit."""
    global _atexit_registered
    with _lock:
        _databases[id(database)] = database
        if not _atexit_registered:
            _atexit_registered = True
            atexit.register(_close_everything)


def cancel_all_queries() -> None:
    """Cancel every running query of the process (any thread; does not block)."""
    with _lock:
        queries = list(_queries.values())
    for query in queries:
        try:
            query.cancel()
        except Exception:  # pragma: no cover - cancel() only sets flags
            pass


def _close_everything() -> None:
    """At exit: stop and release the queries still running, then close the databases."""
    cancel_all_queries()
    with _lock:
        queries = list(_queries.values())
        databases = list(_databases.values())
    for query in queries:
        try:
            query.close()
        except Exception:
            pass
    for database in databases:
        try:
            database.close()
        except Exception:
            pass


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    global _terminating
    if _terminating:  # a second SIGTERM: the shutdown is taking too long, stop now
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.raise_signal(signal.SIGTERM)
        return
    _terminating = True
    # From another thread: this handler interrupts the main thread anywhere, maybe
    # inside one of the locks cancel() takes (a result's Event); the main thread
    # unwinds and lets go of it, the canceller then takes it.
    threading.Thread(target=cancel_all_queries, name="pycql-sigterm", daemon=True).start()
    raise Terminated()


def _may_set_handlers() -> bool:
    return threading.current_thread() is threading.main_thread()


def install() -> bool:
    """Install pycql's SIGTERM handler if SIGTERM still has its default action.

    Only from the main thread; returns whether pycql's handler is in place.
    """
    if not _may_set_handlers():
        return False
    try:
        current = signal.getsignal(signal.SIGTERM)
        if current is _on_sigterm:
            return True
        if current != signal.SIG_DFL:  # the application's own handler, SIG_IGN, or C code's
            return False
        signal.signal(signal.SIGTERM, _on_sigterm)
    except (ValueError, OSError):  # pragma: no cover - not the main interpreter
        return False
    return True


def is_installed() -> bool:
    """Whether pycql's SIGTERM handler is the current one."""
    return signal.getsignal(signal.SIGTERM) is _on_sigterm


def reassert_after_jvm_start() -> None:
    """After a JVM started: give SIGINT and SIGTERM back to Python, then :func:`install`.

    pycql's own JVM runs with ``-Xrs`` and leaves both alone; a JVM started by
    somebody else without it replaces Python's C-level handlers (Ctrl-C then
    ends the process, SIGTERM may crash it in JPype). Setting each signal
    again to the handler Python believes it has (from the main thread, the
    only one allowed to) puts Python's C handler back in front.
    """
    if not _may_set_handlers():
        return
    for signum in (signal.SIGINT, signal.SIGTERM):
        try:
            handler = signal.getsignal(signum)
            if handler is not None:  # None: installed by C code we know nothing of
                signal.signal(signum, handler)
        except (ValueError, OSError):  # pragma: no cover - not the main interpreter
            pass
    install()
