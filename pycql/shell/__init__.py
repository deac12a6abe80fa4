"""``pycql``, the command-line shell.

::

    pycql                                   # interactive, embedded log
    pycql --connect kafka://127.0.0.1:9092  # on a Kafka cluster
    pycql -e "SHOW STREAMS" -e "SELECT * FROM S" --from earliest --stop latest
    pycql < script.cql                      # statements from standard input

Statements end with ``;`` and may span lines. Results print as aligned
tables; a continuous query prints each row as it arrives until Ctrl-C,
which stops the query, not the shell. ``\\q`` quits, ``\\?`` lists the
commands. History is kept in ``~/.pycql_history`` (or ``$PYCQL_HISTFILE``).

SIGTERM (``kill``) and SIGHUP (the terminal went away) end the shell as
Ctrl-D does: the running query stops, the connection closes, the exit status
is 0. A second one while the shell closes ends it at once.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
from collections.abc import Sequence
from typing import Any, TextIO

import pycql
from pycql.driver._dot import render_svg
from pycql.shell._progress import ProgressBar
from pycql.shell._split import split_statements
from pycql.shell._table import StreamTable, render_table

__all__ = ["Shell", "main"]

_HELP = """\
Statements end with ';' and may span several lines.
  \\q                quit (also Ctrl-D)
  \\?                this help
  \\explain QUERY    the query's plan as a picture: an SVG file drawn by Graphviz's
                    dot when it is on PATH (its path is printed), else the DOT text
  \\set              show the settings
  \\set NAME VALUE   change one: start (earliest|latest|ISO time|epoch ms),
                    stop (same, or none), timeout (seconds or none), rowtime (on|off)
Times are UTC: ROWTIME prints as '2026-01-02 03:04:05.000 UTC', and an ISO start
or stop without a zone ('2026-01-02T03:04') is read as UTC.
A snapshot, or a query with a stop, that runs a while shows a progress bar on the
terminal: records read of the total, rate, time left.
Ctrl-C stops the running query; the shell stays.
"""

class _Quit(BaseException):
    """Raised in the main thread on SIGTERM or SIGHUP: leave as Ctrl-D does.

    Not an ``Exception``, so no ``except pycql.Error`` on the way takes it for
    a failed statement; ``finally`` blocks close the query and the connection.
    """


_QUIT_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


def _quit(signum: int, frame: object) -> None:
    for other in _QUIT_SIGNALS:  # a second one while closing ends the process at once
        signal.signal(other, signal.SIG_DFL)
    raise _Quit()


def _install_quit_handlers() -> None:
    """SIGTERM and SIGHUP quit the shell cleanly, unless they were set up otherwise
    (``nohup`` ignores SIGHUP: leave it ignored). Before connecting, so pycql's own
    SIGTERM handler (a SystemExit with status 143) is not installed."""
    for signum in _QUIT_SIGNALS:
        if signal.getsignal(signum) == signal.SIG_DFL:
            signal.signal(signum, _quit)


_PROMPT = "pycql> "
_MORE = "  ...> "


class Shell:
    """Runs statements on one connection and prints their results to ``out``."""

    def __init__(self, conn: pycql.Connection, out: TextIO = sys.stdout,
                 err: TextIO = sys.stderr, *, start: str | None = None,
                 stop: str | None = None, timeout: float | None = None) -> None:
        self.conn = conn
        self.out = out
        self.err = err
        self.settings: dict[str, Any] = {"start": start, "stop": stop, "timeout": timeout}
        self.failed = False

    # -- one statement ----------------------------------------------------------
    def run(self, sql: str) -> bool:
        """Execute and print one statement; return False when it failed."""
        cur = self.conn.cursor()
        bar = ProgressBar(self.err)
        try:
            try:
                is_query = _looks_like_query(sql)
                cur.execute(
                    sql,
                    start=self.settings["start"] if is_query else None,
                    stop=self.settings["stop"] if is_query else None,
                    timeout=self.settings["timeout"] if is_query else None,
                    progress=bar if is_query else None,
                )
                self._print_result(cur, bar)
            except KeyboardInterrupt:
                cur.cancel()
                self.out.flush()
                self.err.write("Query stopped.\n")
                self.err.flush()
            except pycql.Error as error:
                self.failed = True
                self.err.write(f"ERROR: {error}\n")
                self.err.flush()
                return False
            return True
        finally:
            bar.close()
            cur.close()
    def _print_result(self, cur: pycql.Cursor, bar: ProgressBar) -> None:
        if cur.description is None:
            statement = (cur.statement or "").upper()
            if statement in ("INSERT", "DELETE"):
                self.out.write(f"{statement} {cur.rowcount}\n")
            else:
                self.out.write("OK\n")
            self.out.flush()
            return
        names = [d.name for d in cur.description]
        if cur.kind == "stream":
            self._print_stream(cur, names, bar)
            return
        bar.close()
        rows = cur.fetchall()
        if cur.statement in ("explain",):
            self.out.write("\n".join(str(r[0]) for r in rows) + "\n")
        else:
            self.out.write(render_table(names, rows) + "\n")
            self.out.write(f"({len(rows)} row{'' if len(rows) == 1 else 's'})\n")
        self._report_dead_letters(cur)
        self.out.flush()

    def _report_dead_letters(self, cur: pycql.Cursor) -> None:
        """Say so when the query met records it could not use (kept in dead letters)."""
        metrics = cur.metrics
        if metrics is None or not (metrics.malformed_records or metrics.late_records):
            return
        self.err.write(
            f"Note: {metrics.malformed_records} malformed and {metrics.late_records} late "
            "record(s) were kept in the dead-letter topic, not used.\n"
        )
        self.err.flush()

    def _print_stream(self, cur: pycql.Cursor, names: list[str], bar: ProgressBar) -> None:
        assert cur.description is not None
        table = StreamTable(self.out, names, [d.type_code for d in cur.description],
                            [d.precision for d in cur.description])
        table.header()
        try:
            while True:
                rows = cur.fetchmany(1000, timeout=0.2)
                with bar.writing():
                    table.rows(rows)
                if not rows and cur.ended:
                    break
        except KeyboardInterrupt:
            bar.close()
            cur.cancel()
            self.out.flush()
            self.err.write(f"Query stopped ({table.count} row{'' if table.count == 1 else 's'}).\n")
            self._report_dead_letters(cur)
            return
        bar.close()
        self.out.write(f"({table.count} row{'' if table.count == 1 else 's'})\n")
        self.out.flush()
        self._report_dead_letters(cur)

    # -- backslash commands ------------------------------------------------------
    def command(self, line: str) -> bool:
        """Carry out a backslash command; return False to quit."""
        words = line.split()
        name = words[0]
        if name in ("\\q", "\\quit"):
            return False
        if name in ("\\?", "\\h", "\\help"):
            self.out.write(_HELP)
        elif name == "\\set":
            self._set(words[1:])
        elif name == "\\explain":
            self._explain(line.strip()[len(name):].strip().rstrip(";").strip())
        else:
            self.err.write(f"unknown command {name}; \\? lists the commands\n")
        self.out.flush()
        return True

    def _explain(self, query: str) -> None:
        """``\\explain QUERY``: ``EXPLAIN PLAN AS DOT``, drawn to an SVG file by ``dot``
        when it is on PATH (the file's path is printed), else the DOT text printed."""
        if not query:
            self.err.write("usage: \\explain QUERY\n")
            return
        cur = self.conn.cursor()
        try:
            cur.execute(f"EXPLAIN PLAN AS DOT FOR {query}")
            dot = str(cur.fetchone()[0])  # type: ignore[index]
        except pycql.Error as error:
            self.failed = True
            self.err.write(f"ERROR: {error}\n")
            return
        finally:
            cur.close()
        svg = render_svg(dot)
        if svg is None:
            self.out.write(dot)
            self.err.write("(Graphviz's dot is not on PATH: the plan is printed as DOT)\n")
            return
        fd, path = tempfile.mkstemp(prefix="pycql-plan-", suffix=".svg")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(svg)
        self.out.write(f"plan drawn to {path}\n")

    def _set(self, args: list[str]) -> None:
        if not args:
            for key, value in self.settings.items():
                self.out.write(f"{key} = {'none' if value is None else value}\n")
            self.out.write(f"rowtime = {'on' if self.conn.rowtime_column else 'off'}\n")
            self.out.write("zone = UTC (ROWTIME, and ISO start/stop times that name none)\n")
            return
        if len(args) != 2:
            self.err.write("usage: \\set NAME VALUE\n")
            return
        key, value = args[0].lower(), args[1]
        if key == "rowtime":
            self.conn.rowtime_column = value.lower() in ("on", "true", "1", "yes")
        elif key in ("start", "stop"):
            self.settings[key] = None if value.lower() == "none" else value
        elif key == "timeout":
            try:
                self.settings[key] = None if value.lower() == "none" else float(value)
            except ValueError:
                self.err.write(f"timeout must be a number of seconds or none, not {value!r}\n")
        else:
            self.err.write(f"unknown setting {key!r}: start, stop, timeout or rowtime\n")

    # -- whole inputs --------------------------------------------------------------
    def run_script(self, text: str) -> bool:
        """Run every statement of ``text``; return False if one failed."""
        ok = True
        buffer = ""
        for line in text.splitlines(keepends=True):
            if not buffer.strip() and line.strip().startswith("\\"):
                if not self.command(line.strip()):
                    return ok
                continue
            buffer += line
            statements, buffer = split_statements(buffer)
            for sql in statements:
                ok = self.run(sql) and ok
        if buffer.strip():
            ok = self.run(buffer.strip()) and ok
        return ok

    def interact(self, stdin: TextIO | None = None) -> None:
        """The read-eval-print loop, until ``\\q`` or end of input."""
        _enable_history()
        self.out.write(f"pycql {pycql.__version__} on {self.conn.dsn}. "
                       "End statements with ';'. Times are UTC. \\? for help, \\q to quit.\n")
        buffer = ""
        while True:
            try:
                line = input(_MORE if buffer else _PROMPT)
            except (EOFError, _Quit):  # Ctrl-D, SIGTERM or SIGHUP at the prompt
                self.out.write("\n")
                break
            except KeyboardInterrupt:  # Ctrl-C while typing: drop the statement
                self.out.write("\n")
                buffer = ""
                continue
            if not buffer.strip() and line.strip().startswith("\\"):
                if not self.command(line.strip()):
                    break
                continue
            buffer += line + "\n"
            statements, buffer = split_statements(buffer)
            for sql in statements:
                self.run(sql)


def _looks_like_query(sql: str) -> bool:
    """Whether ``sql`` is a query (SELECT, a relation-to-stream call, a parenthesized query)."""
    text = sql.lstrip()
    while text.startswith("--") or text.startswith("/*"):
        end = text.find("\n") + 1 if text.startswith("--") else text.find("*/") + 2
        if end <= 1:
            return False
        text = text[end:].lstrip()
    word = text.split(None, 1)[0].upper() if text else ""
    return word.startswith(("SELECT", "ISTREAM", "DSTREAM", "RSTREAM", "(", "WITH", "VALUES"))


def _enable_history() -> None:
    try:
        import readline
    except ImportError:  # pragma: no cover - no readline on this platform
        return
    import atexit

    path = os.environ.get("PYCQL_HISTFILE") or os.path.expanduser("~/.pycql_history")
    try:
        readline.read_history_file(path)
    except (FileNotFoundError, OSError):
        pass
    readline.set_history_length(1000)

    def save() -> None:
        try:
            readline.write_history_file(path)
        except OSError:
            pass

    atexit.register(save)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pycql", description="CQL continuous queries over Kafka: an interactive shell."
    )
    parser.add_argument("--connect", "-c", metavar="DSN", default=None,
                        help="kafka://HOST:PORT, memory://NAME, or nothing for an embedded log")
    parser.add_argument("-e", "--execute", action="append", metavar="SQL", default=[],
                        help="run these statements (repeatable) and exit")
    parser.add_argument("-f", "--file", metavar="PATH", help="run the statements of this file")
    parser.add_argument("--catalog", metavar="PATH",
                        help="embedded: keep the catalog in this JSON file")
    parser.add_argument("--from", dest="start", metavar="START",
                        help="where queries start: earliest, latest, an ISO time or epoch ms")
    parser.add_argument("--stop", metavar="STOP",
                        help="where queries stop (e.g. latest); continuous queries then end")
    parser.add_argument("--timeout", type=float, metavar="SECONDS",
                        help="stop each query after this many seconds")
    parser.add_argument("--rowtime", action="store_true",
                        help="add each stream row's timestamp as a ROWTIME column")
    parser.add_argument("--version", action="version", version=f"pycql {pycql.__version__}")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """The ``pycql`` console script; returns the exit status.

    ``pycql worker --connect kafka://HOST:PORT`` runs a worker instead
    (:func:`pycql.jobs.worker.main`).
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["worker"]:
        from pycql.jobs.worker import main as worker_main

        return worker_main(argv[1:])
    args = _parser().parse_args(argv)
    _install_quit_handlers()
    options: dict[str, Any] = {}
    if args.catalog:
        options["catalog_path"] = args.catalog
    if args.rowtime:
        options["rowtime_column"] = True
    try:
        conn = pycql.connect(args.connect, **options)
    except pycql.Error as error:
        sys.stderr.write(f"pycql: {error}\n")
        return 2
    except _Quit:  # SIGTERM or SIGHUP while connecting
        return 0
    shell = Shell(conn, start=args.start, stop=args.stop, timeout=args.timeout)
    try:
        if args.execute or args.file:
            ok = True
            for sql in args.execute:
                ok = shell.run_script(sql if sql.rstrip().endswith(";") else sql + ";") and ok
            if args.file:
                with open(args.file, encoding="utf-8") as script:
                    ok = shell.run_script(script.read()) and ok
            return 0 if ok else 1
        if not sys.stdin.isatty():
            return 0 if shell.run_script(sys.stdin.read()) else 1
        shell.interact()
        return 0
    except _Quit:  # SIGTERM or SIGHUP while a statement ran: Shell.run stopped it
        return 0
    finally:
        shell.out.flush()
        conn.close()
