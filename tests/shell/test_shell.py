"""The ``pycql`` shell, driven through a pseudo-terminal (pexpect) and as a script runner."""

from __future__ import annotations

import os
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
