"""The one and only JPype boundary of pycql.

Everything that touches Java goes through this module: starting the JVM (lazily,
once per process), attaching threads, calling the planner facade
``io.pycql.planner.CqlPlanner`` and turning Java failures into pycql errors.
No Java exception or stack trace leaves this module.

The facade takes and returns JSON strings, so one call carries the whole
catalog and brings back the whole answer: there are no per-column round trips.

JVM options come from :func:`configure` (before the first plan) or from the
``PYCQL_JVM_OPTIONS`` environment variable (space-separated), for example::

    PYCQL_JVM_OPTIONS="-Xmx1g -XX:+UseSerialGC"
"""

from __future__ import annotations

import os
import shlex
import threading
from pathlib import Path
from typing import Any

from pycql.errors import InterfaceError, InternalError

_JAR_NAME = "pycql-planner.jar"
_DEFAULT_OPTIONS = ("-Xss4m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xshare:auto")

_lock = threading.Lock()
_facade: Any = None
_class_loader: Any = None
_extra_options: list[str] = []
_thread_state = threading.local()


def jar_path() -> Path:
    """Where the planner jar is: ``$PYCQL_PLANNER_JAR`` or the copy shipped in the package."""
    override = os.environ.get("PYCQL_PLANNER_JAR")
    if override:
        return Path(override)
    return Path(__file__).resolve().parent / "jars" / _JAR_NAME


def configure(options: list[str]) -> None:
    """Set extra JVM options (``["-Xmx2g"]``); only effective before the JVM starts."""
    with _lock:
        if _facade is not None:
            raise InterfaceError("the JVM is already running: configure it before the first query")
        _extra_options[:] = list(options)


def is_started() -> bool:
    """True once this process has started the planner's JVM."""
    return _facade is not None


def _start() -> Any:
    global _facade, _class_loader
    with _lock:
        if _facade is not None:
            return _facade
        import jpype  # the one import of JPype in pycql

        jar = jar_path()
        if not jar.is_file():
            raise InterfaceError(
                f"the CQL planner jar is missing ({jar}); build it with `mvn -B -q package` "
                "in the pycql checkout, or set PYCQL_PLANNER_JAR"
            )
        options = [*_DEFAULT_OPTIONS, *shlex.split(os.environ.get("PYCQL_JVM_OPTIONS", "")),
                   *_extra_options]
        if not jpype.isJVMStarted():
            try:
                jpype.startJVM(*options, classpath=[str(jar)], convertStrings=False)
            except OSError as exc:
                raise InterfaceError(
                    f"could not start the Java VM for the CQL planner: {exc}. "
                    "Install Java 17 or newer, or set JAVA_HOME."
                ) from None
        else:  # somebody else started it: put our jar on its class path
            jpype.addClassPath(str(jar))
        try:
            facade = jpype.JClass("io.pycql.planner.CqlPlanner")
        except Exception as exc:  # a broken jar: no Java trace for the user
            raise InterfaceError(f"the CQL planner jar {jar} is unusable: {exc}") from None
        _class_loader = facade.class_.getClassLoader()
        _thread_state.attached = True
        _facade = facade
        return facade


def _enter_thread(facade: Any) -> None:
    """Give a Python thread entering Java the planner's context class loader.

    Threads attached by JPype have a null context class loader, and Calcite
    loads classes (code generation, service files) through it.
    """
    if getattr(_thread_state, "attached", False):
        return
    import jpype

    jpype.java.lang.Thread.currentThread().setContextClassLoader(_class_loader)
    _thread_state.attached = True


def call_analyze(sql: str, catalog_json: str, options_json: str) -> str:
    """Call ``CqlPlanner.analyze`` and return its JSON answer as a Python ``str``.

    The facade never throws by contract; should it anyway, the Java exception
    becomes an :class:`InternalError` carrying only its message.
    """
    facade = _facade if _facade is not None else _start()
    _enter_thread(facade)
    try:
        answer = facade.analyze(sql, catalog_json, options_json)
    except Exception as exc:  # jpype.JException and friends
        message = exc.getMessage() if hasattr(exc, "getMessage") else str(exc)
        raise InternalError(f"the CQL planner failed: {message}") from None
    return str(answer)
