"""The ``pycql`` shell, driven through a pseudo-terminal (pexpect) and as a script runner."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pexpect
import pytest

ROOT = Path(__file__).resolve().parents[2]


def _env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env["PYCQL_HISTFILE"] = str(tmp_path / "history")
    env["TERM"] = "dumb"
    return env


def _shell(
    *args: str, tmp_path: Path, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pycql.shell", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        env=_env(tmp_path),
        cwd=tmp_path,
    )


def test_interactive_session(tmp_path: Path) -> None:
    child = pexpect.spawn(
        sys.executable,
        ["-m", "pycql.shell"],
        env=_env(tmp_path),
        cwd=str(tmp_path),
        encoding="utf-8",
        timeout=60,
        dimensions=(40, 200),
    )
    try:
        child.expect_exact("pycql> ")
        # a statement over several lines
        child.sendline("CREATE STREAM S (a INTEGER,")
        child.expect_exact("...> ")
        child.sendline("  b VARCHAR(5));")
        child.expect_exact("OK")
        child.expect_exact("pycql> ")
        child.sendline("INSERT INTO S VALUES (1, 'x'), (22, 'yy');")
        child.expect_exact("INSERT 2")
        child.expect_exact("pycql> ")
        # a snapshot prints an aligned table and its row count
        child.sendline("SELECT COUNT(*) AS n FROM S [ROWS 10];")
        child.expect(r" n\s*\r\n-+\r\n\s+2\r\n\(1 row\)")
        child.expect_exact("pycql> ")
        # a continuous query prints rows as they come until Ctrl-C stops it
        child.sendline("\\set start earliest")
        child.expect_exact("pycql> ")
        child.sendline("SELECT * FROM S;")
        child.expect(r" a\s+\| b")
        child.expect(r"\s+22 \| yy")
        child.sendintr()
        child.expect_exact("Query stopped (2 rows).")
        child.expect_exact("pycql> ")
        # the shell (and its connection) still work
        child.sendline("EXPLAIN PLAN FOR SELECT ISTREAM(*) FROM S [NOW] WHERE a > 1;")
        child.expect_exact("pycql> ")
        assert "S" in (child.before or "")
        child.sendline("SELECT * FRM S;")
        child.expect(r"ERROR: .*line 1, column \d+")
        child.expect_exact("^")
        child.expect_exact("pycql> ")
        # Ctrl-C while typing drops the unfinished statement. (Pause as a person
        # would: a SIGINT arriving before readline waits for input is only seen
        # at the next key, a CPython readline race outside pycql.)
        time.sleep(0.5)
        child.send("SELECT")
        time.sleep(0.5)
        child.sendintr()
        child.expect_exact("pycql> ")
        child.sendline("\\q")
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert child.exitstatus == 0
    history = (tmp_path / "history").read_text()
    assert "INSERT INTO S VALUES (1, 'x'), (22, 'yy');" in history


def test_execute_option_runs_statements_and_exits(tmp_path: Path) -> None:
    done = _shell(
        "-e",
        "CREATE STREAM S (a INTEGER)",
        "-e",
        "INSERT INTO S VALUES (5), (6);",
        "-e",
        "SELECT a FROM S WHERE a > 5",
        "--from",
        "earliest",
        "--stop",
        "latest",
        tmp_path=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "OK",
        "INSERT 2",
        " a",
        "-" * 13,
        " " + "6".rjust(11),
        "(1 row)",
    ]


def test_errors_set_the_exit_status(tmp_path: Path) -> None:
    done = _shell("-e", "SELECT * FROM Missing", tmp_path=tmp_path)
    assert done.returncode == 1
    assert "ERROR:" in done.stderr and "line 1, column 15" in done.stderr


def test_script_on_stdin_and_catalog_file(tmp_path: Path) -> None:
    script = (
        "CREATE TABLE T (id INTEGER, name VARCHAR(10), PRIMARY KEY (id));\n"
        "-- a comment; with a semicolon\n"
        "INSERT INTO T VALUES (1, 'one'),\n  (2, 'two');\n"
        "SELECT name FROM T WHERE id = 2;\n"
    )
    catalog = tmp_path / "cat.json"
    done = _shell("--catalog", str(catalog), tmp_path=tmp_path, stdin=script)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["OK", "INSERT 2", " name", "------", " two", "(1 row)"]
    again = _shell("--catalog", str(catalog), "-e", "SHOW TABLES", tmp_path=tmp_path)
    assert " T " in again.stdout or again.stdout.splitlines()[2].startswith(" T")


def test_unreachable_broker_is_reported(tmp_path: Path) -> None:
    done = _shell("--connect", "kafka://127.0.0.1:1", "-e", "SHOW STREAMS", tmp_path=tmp_path)
    assert done.returncode == 2
    assert "127.0.0.1:1" in done.stderr


@pytest.mark.parametrize("flag", ["--help", "--version"])
def test_help_and_version(flag: str, tmp_path: Path) -> None:
    done = _shell(flag, tmp_path=tmp_path)
    assert done.returncode == 0 and "pycql" in done.stdout


def _spawn_shell(tmp_path: Path, *args: str) -> pexpect.spawn:
    return pexpect.spawn(
        sys.executable,
        ["-m", "pycql.shell", *args],
        env=_env(tmp_path),
        cwd=str(tmp_path),
        encoding="utf-8",
        timeout=60,
        dimensions=(40, 200),
    )


def _alarming(text: str) -> list[str]:
    words = ("Traceback", "Error", "error", "Terminated", "Killed", "fatal", "hs_err")
    return [word for word in words if word in text]


def test_sigterm_at_the_prompt_quits_like_ctrl_d(tmp_path: Path) -> None:
    child = _spawn_shell(tmp_path)
    try:
        child.expect_exact("pycql> ")
        child.sendline("CREATE STREAM S (a INTEGER);")  # the JVM runs from here on
        child.expect_exact("OK")
        child.expect_exact("pycql> ")
        time.sleep(0.5)  # let readline wait for input (see test_interactive_session)
        child.kill(signal.SIGTERM)
        child.expect(pexpect.EOF, timeout=20)
        rest = child.before or ""
    finally:
        child.close()
    assert child.signalstatus is None and child.exitstatus == 0, rest
    assert rest.strip() == "", rest  # a new line, as after Ctrl-D; nothing else
    assert not list(tmp_path.glob("hs_err_pid*.log"))
    assert "CREATE STREAM S (a INTEGER);" in (tmp_path / "history").read_text()


def test_sigterm_while_a_query_streams_stops_it_and_quits(tmp_path: Path) -> None:
    child = _spawn_shell(tmp_path, "--from", "earliest")
    try:
        child.expect_exact("pycql> ")
        child.sendline("CREATE STREAM S (a INTEGER);")
        child.expect_exact("pycql> ")
        child.sendline("INSERT INTO S VALUES (41), (42);")
        child.expect_exact("INSERT 2")
        child.expect_exact("pycql> ")
        child.sendline("SELECT * FROM S;")
        child.expect(r"\s+42\r\n")
        time.sleep(0.5)  # streaming: waiting for more rows
        child.kill(signal.SIGTERM)
        child.expect(pexpect.EOF, timeout=20)
        rest = child.before or ""
    finally:
        child.close()
    assert child.signalstatus is None and child.exitstatus == 0, rest
    assert _alarming(rest) == [], rest
    assert "pycql> " not in rest  # it quit, it did not go back to the prompt
    assert not list(tmp_path.glob("hs_err_pid*.log"))


def test_sigterm_stops_a_script_running_a_continuous_query(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "pycql.shell", "--from", "earliest", "-e",
         "CREATE STREAM S (a INTEGER); INSERT INTO S VALUES (7); SELECT * FROM S;"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(tmp_path),
        cwd=tmp_path,
    )
    assert process.stdout is not None
    lines = []
    for line in process.stdout:
        lines.append(line)
        if line.strip() == "7":
            break
    time.sleep(0.5)
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    _out, err = process.communicate(timeout=30)
    assert time.monotonic() - started < 15
    assert process.returncode == 0, err
    assert _alarming(err) == [], err
    assert lines[:2] == ["OK\n", "INSERT 1\n"]
    assert not list(tmp_path.glob("hs_err_pid*.log"))
