"""How a pycql process ends: SIGTERM, Ctrl-C and interpreter exit after the JVM started.

Every test runs a child Python process (the planner's JVM starts in it), waits
until it is where the test wants it, signals it and checks how it ended: the
exit status, what its ``finally`` blocks printed, and that the JVM left no
crash report (``hs_err_pid*.log``) behind.
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

#: How long a child may take to end after SIGTERM: queries cancelled, logs closed,
#: the JVM shut down.
EXIT_BOUND_S = 15.0
#: Between the child's marker line and the signal (see Child.signal_and_wait).
SETTLE_S = 0.5


class Child:
    """A Python child process running ``script``, its output read line by line."""

    def __init__(self, tmp_path: Path, script: str, *args: str) -> None:
        self.cwd = tmp_path
        path = tmp_path / "child.py"
        path.write_text(textwrap.dedent(script))
        env = dict(os.environ)
        env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
        env["PYTHONUNBUFFERED"] = "1"
        self.process = subprocess.Popen(
            [sys.executable, str(path), *args],
            cwd=tmp_path,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._stderr: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._read_stderr, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def _read_stderr(self) -> None:
        assert self.process.stderr is not None
        self._stderr.extend(self.process.stderr)

    @property
    def stderr(self) -> str:
        return "".join(self._stderr)

    def wait_for(self, marker: str, timeout: float = 120.0) -> None:
        """Read output until a line starts with ``marker``."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                self.process.kill()
                pytest.fail(f"the child never printed {marker!r}; output: {self.lines}, "
                            f"stderr: {self.stderr}")
            if line is None:
                self.process.wait()
                pytest.fail(f"the child ended ({self.process.returncode}) before printing "
                            f"{marker!r}; output: {self.lines}, stderr: {self.stderr}")
            self.lines.append(line)
            if line.startswith(marker):
                return

    def signal_and_wait(self, signum: int, bound: float = EXIT_BOUND_S) -> tuple[int, float]:
        """Send ``signum``; return the exit status and how long the child took to end.

        Waits a moment first: the child printed its marker just before blocking
        (in a fetch, a sleep, a join), and the signal is meant for that wait.
        """
        time.sleep(SETTLE_S)
        started = time.monotonic()
        self.process.send_signal(signum)
        try:
            status = self.process.wait(timeout=bound)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            pytest.fail(f"the child did not end within {bound} s of signal {signum}; "
                        f"output: {self.lines}, stderr: {self.stderr}")
        elapsed = time.monotonic() - started
        self.drain()
        return status, elapsed

    def drain(self) -> None:
        while True:
            try:
                line = self._queue.get(timeout=5.0)
            except queue.Empty:
                return
            if line is None:
                return
            self.lines.append(line)

    def crash_reports(self) -> list[Path]:
        return sorted(self.cwd.glob("hs_err_pid*.log")) + sorted(self.cwd.glob("core*"))


PLAIN = """
    import time
    import pycql

    cur = pycql.connect().cursor()
    cur.execute("CREATE STREAM S (a INTEGER)")
    cur.execute("EXPLAIN PLAN FOR SELECT * FROM S")
    cur.fetchall()
    print("ready", flush=True)
    try:
        time.sleep(120)
    finally:
        print("finally", flush=True)
"""


def test_sigterm_ends_a_process_with_a_jvm_cleanly(tmp_path: Path) -> None:
    child = Child(tmp_path, PLAIN)
    child.wait_for("ready")
    status, elapsed = child.signal_and_wait(signal.SIGTERM)
    assert status == 143, child.stderr  # SystemExit(143): finally blocks and atexit ran
    assert "finally" in child.lines
    assert child.crash_reports() == []
    assert "A fatal error has been detected" not in child.stderr
    assert "Traceback" not in child.stderr
    assert elapsed < EXIT_BOUND_S


MAIN_THREAD_FETCH = """
    import pycql

    conn = pycql.connect()
    cur = conn.cursor()
    cur.execute("CREATE STREAM S (a INTEGER)")
    cur.execute("SELECT * FROM S")
    conn.cursor().execute("INSERT INTO S VALUES (1)")
    try:
        for row in cur:
            print("row", row, flush=True)
    finally:
        print(f"finally cancelled={cur.cancelled} ended={cur.ended}", flush=True)
        print(f"running={len(conn.database.running_queries())}", flush=True)
"""


def test_sigterm_cancels_a_query_iterated_in_the_main_thread(tmp_path: Path) -> None:
    child = Child(tmp_path, MAIN_THREAD_FETCH)
    child.wait_for("row (1,)")
    status, elapsed = child.signal_and_wait(signal.SIGTERM)
    assert status == 143, child.stderr
    assert "finally cancelled=True ended=True" in child.lines
    assert "running=0" in child.lines  # gone from SHOW QUERIES
    assert child.crash_reports() == []
    assert "Traceback" not in child.stderr
    assert elapsed < EXIT_BOUND_S


BACKGROUND_FETCH = """
    import threading
    import pycql

    conn = pycql.connect()
    cur = conn.cursor()
    cur.execute("CREATE STREAM S (a INTEGER)")
    cur.execute("SELECT * FROM S")

    def fetch():
        try:
            for row in cur:
                print("row", row, flush=True)
        finally:
            print(f"thread done cancelled={cur.cancelled}", flush=True)

    thread = threading.Thread(target=fetch)  # not a daemon: exit waits for it
    thread.start()
    conn.cursor().execute("INSERT INTO S VALUES (1)")
    try:
        thread.join()
    finally:
        print("main finally", flush=True)
"""


def test_sigterm_wakes_a_fetch_in_another_thread(tmp_path: Path) -> None:
    child = Child(tmp_path, BACKGROUND_FETCH)
    child.wait_for("row (1,)")
    status, elapsed = child.signal_and_wait(signal.SIGTERM)
    assert status == 143, child.stderr
    assert "thread done cancelled=True" in child.lines
    assert "main finally" in child.lines
    assert child.crash_reports() == []
    assert "Traceback" not in child.stderr
    assert elapsed < EXIT_BOUND_S


APPLICATION_HANDLER = """
    import signal
    import sys
    import time
    import pycql

    def on_term(signum, frame):
        print("application handler", flush=True)
        sys.exit(7)

    signal.signal(signal.SIGTERM, on_term)
    cur = pycql.connect().cursor()
    cur.execute("CREATE STREAM S (a INTEGER)")
    print("ready", signal.getsignal(signal.SIGTERM) is on_term, flush=True)
    try:
        time.sleep(120)
    finally:
        print("finally", flush=True)
"""


def test_an_application_sigterm_handler_is_left_alone(tmp_path: Path) -> None:
    child = Child(tmp_path, APPLICATION_HANDLER)
    child.wait_for("ready")
    assert child.lines[-1] == "ready True"  # connecting and starting the JVM kept it
    status, _ = child.signal_and_wait(signal.SIGTERM)
    assert status == 7
    assert child.lines[-2:] == ["application handler", "finally"]
    assert child.crash_reports() == []


CTRL_C = """
    import pycql

    conn = pycql.connect()
    cur = conn.cursor()
    cur.execute("CREATE STREAM S (a INTEGER)")
    cur.execute("SELECT * FROM S")
    conn.cursor().execute("INSERT INTO S VALUES (1)")
    try:
        for row in cur:
            print("row", row, flush=True)
    except KeyboardInterrupt:
        print(f"interrupted cancelled={cur.cancelled}", flush=True)
    cur.execute("SELECT COUNT(*) FROM S")
    print("still usable", cur.fetchall(), flush=True)
"""


def test_ctrl_c_still_cancels_the_query_and_keeps_the_connection(tmp_path: Path) -> None:
    child = Child(tmp_path, CTRL_C)
    child.wait_for("row (1,)")
    status, _ = child.signal_and_wait(signal.SIGINT)
    assert status == 0, child.stderr
    assert "interrupted cancelled=True" in child.lines
    assert "still usable [(1,)]" in child.lines
    assert child.crash_reports() == []


NORMAL_EXIT = """
    import faulthandler
    import sys

    if sys.argv[1] == "pytest-like":
        faulthandler.enable()  # what pytest's faulthandler plugin does at start
    import pycql

    conn = pycql.connect()
    cur = conn.cursor()
    cur.execute("CREATE STREAM S (a INTEGER)")
    for i in range(20):
        cur.execute(f"EXPLAIN PLAN FOR SELECT * FROM S WHERE a > {i}")
        cur.fetchall()
    cur.execute("SELECT * FROM S")  # left running: exit must still be clean
    if sys.argv[1] == "pytest-like":
        faulthandler.disable()  # ... and at its end, with the JVM still running
    print("bye", flush=True)
"""


@pytest.mark.parametrize("how", ["plain", "pytest-like"])
def test_interpreter_exit_after_the_jvm_started_is_clean(tmp_path: Path, how: str) -> None:
    child = Child(tmp_path, NORMAL_EXIT, how)
    child.wait_for("bye")
    status = child.process.wait(timeout=EXIT_BOUND_S)
    child.drain()
    assert status == 0, child.stderr
    assert child.crash_reports() == []
    assert "Fatal Python error" not in child.stderr


KAFKA_FETCH = """
    import gc
    import os
    import sys
    import pycql

    def librdkafka_threads():
        names = []
        for task in os.listdir("/proc/self/task"):
            try:
                with open(f"/proc/self/task/{task}/comm") as comm:
                    names.append(comm.read().strip())
            except OSError:
                pass
        return sorted(name for name in names if name.startswith("rdk:"))

    bootstrap, stream = sys.argv[1], sys.argv[2]
    conn = pycql.connect(f"kafka://{bootstrap}")
    cur = conn.cursor()
    cur.execute(f"CREATE STREAM {stream} (a INTEGER)")
    cur.execute(f"SELECT * FROM {stream}")
    conn.cursor().execute(f"INSERT INTO {stream} VALUES (1)")
    try:
        for row in cur:
            print("row", row, "client threads", len(librdkafka_threads()), flush=True)
    finally:
        print(f"finally cancelled={cur.cancelled}", flush=True)
        conn.close()
        gc.collect()
        print("client threads after close", librdkafka_threads(), flush=True)
"""


@pytest.mark.kafka
def test_sigterm_on_kafka_closes_consumers_and_producers(
    tmp_path: Path, kafka_bootstrap: str
) -> None:
    stream = f"Sig_{uuid.uuid4().hex[:8]}"
    child = Child(tmp_path, KAFKA_FETCH, kafka_bootstrap, stream)
    child.wait_for("row (1,)")
    assert int(child.lines[-1].rsplit(" ", 1)[1]) > 0  # the clients run while it reads
    status, elapsed = child.signal_and_wait(signal.SIGTERM)
    assert status == 143, child.stderr
    assert "finally cancelled=True" in child.lines
    assert "client threads after close []" in child.lines  # no librdkafka thread left
    assert child.crash_reports() == []
    assert "Traceback" not in child.stderr
    assert elapsed < EXIT_BOUND_S
