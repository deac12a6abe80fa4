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

Start-up cost: the first JVM of a given planner jar writes, in a background
process, a class-data-sharing archive of every class the planner loads
(``-XX:ArchiveClassesAtExit`` over ``io.pycql.planner.Warmup``); later JVMs map
it and plan their first query about a third faster. ``PYCQL_CDS=0`` turns this off.

Signals: the JVM always runs with ``-Xrs``, so it installs no handler for
SIGINT, SIGTERM, SIGHUP or SIGQUIT and leaves them to Python; and JPype is
asked for no handler of its own (``interrupt=True`` makes JPype skip its
``sun.misc.Signal`` handlers, which, without ``-Xrs``, forward SIGTERM into
Python from a Java thread that holds no Python thread state and crash the
process with SIGSEGV). Ctrl-C is therefore a ``KeyboardInterrupt`` as in
any Python program, and what SIGTERM does is decided in Python
(:mod:`pycql._signals`). A JVM that somebody else started keeps its own
options: start it with ``-Xrs`` too.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import Any

from pycql.errors import InterfaceError, InternalError

_JAR_NAME = "pycql-planner.jar"
#: ``-Xrs``: the JVM leaves SIGINT, SIGTERM, SIGHUP and SIGQUIT to the Python process
#: (see the module docstring).
_DEFAULT_OPTIONS = ("-Xrs", "-Xss4m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                    "-Xshare:auto")

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


def _cds_archive(jar: Path) -> Path:
    """Where the class-data-sharing archive of this jar lives (one per jar build)."""
    stat = jar.stat()
    name = f"pycql-planner-{stat.st_size}-{int(stat.st_mtime)}.jsa"
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "pycql"
    return cache / name


def _write_cds_archive_in_background(jvm_path: str, jar: Path, archive: Path,
                                     options: list[str]) -> None:
    """Run the planner's warm-up in a separate JVM that dumps a CDS archive at exit."""
    java = Path(jvm_path).resolve().parents[2] / "bin" / "java"
    if not java.is_file():
        return
    try:
        archive.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=archive.parent, suffix=".jsa.tmp")
        os.close(fd)
        os.unlink(tmp)
    except OSError:
        return
    command = (
        f"{shlex.quote(str(java))} -XX:ArchiveClassesAtExit={shlex.quote(tmp)} "
        + " ".join(shlex.quote(o) for o in options if not o.startswith("-Xshare"))
        + f" -cp {shlex.quote(str(jar))} io.pycql.planner.Warmup"
        + f" && mv -f {shlex.quote(tmp)} {shlex.quote(str(archive))}"
        + f"; rm -f {shlex.quote(tmp)}"
    )
    subprocess.Popen(
        ["/bin/sh", "-c", command],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        close_fds=True,
    )


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
        use_cds = os.environ.get("PYCQL_CDS", "1") != "0"
        archive = _cds_archive(jar) if use_cds else None
        if not jpype.isJVMStarted():
            jvm_options = list(options)
            if archive is not None and archive.is_file():
                jvm_options.append(f"-XX:SharedArchiveFile={archive}")
            try:
                jvm_path = jpype.getDefaultJVMPath()
                # -Xrs (in the options) keeps the JVM's hands off SIGINT/SIGTERM/SIGHUP/
                # SIGQUIT; interrupt=True keeps JPype from registering its own INT and
                # TERM handlers (its TERM handler calls into Python without a thread
                # state: SIGSEGV). Ctrl-C stays Python's: it cancels a query.
                jpype.startJVM(*jvm_options, jvmpath=jvm_path, classpath=[str(jar)],
                               convertStrings=False, interrupt=True)
            except (OSError, jpype.JVMNotFoundException, jpype.JVMNotSupportedException) as exc:
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
        if archive is not None and not archive.is_file():
            _write_cds_archive_in_background(str(jpype.getDefaultJVMPath()), jar, archive,
                                             options)
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
