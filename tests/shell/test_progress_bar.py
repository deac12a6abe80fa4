"""The shell's progress bar: records read of the total, rate and time left while a bounded
query runs, on a terminal only, gone when the query ends."""

from __future__ import annotations

import io
import re

import pytest

import pycql
from pycql.shell import Shell, _progress
from pycql.shell._progress import ProgressBar


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_bar_shows_read_of_total_with_rate_and_time_left() -> None:
    err = _Terminal()
    bar = ProgressBar(err, delay=0)
    bar(pycql.Progress(read=0, total=2000, elapsed=0.0))
    bar(pycql.Progress(read=1000, total=2000, elapsed=1.0))
    drawn = err.getvalue()
    assert "1.00k/2.00k" in drawn
    assert " 50%" in drawn
    assert re.search(r"records/s", drawn), drawn
    assert re.search(r"<\d\d:\d\d", drawn), drawn  # the time left
    bar(pycql.Progress(read=2000, total=2000, elapsed=2.0, done=True))
    assert err.getvalue().rstrip(" ").endswith("\r")  # the line is wiped at the end
    at_end = err.getvalue()
    bar(pycql.Progress(read=2000, total=2000, elapsed=3.0))  # after the end: nothing more
    assert err.getvalue() == at_end


def test_no_bar_off_a_terminal_nor_without_a_total() -> None:
    err = io.StringIO()
    bar = ProgressBar(err, delay=0)
    bar(pycql.Progress(read=10, total=100, elapsed=1.0))
    bar.close()
    assert err.getvalue() == ""
    tty = _Terminal()
    bar = ProgressBar(tty, delay=0)
    bar(pycql.Progress(read=10, total=None, elapsed=1.0))  # a continuous query
    bar.close()
    assert tty.getvalue() == ""


def test_the_shell_draws_it_for_a_snapshot_and_a_replay(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_progress, "SHOW_AFTER_S", 0.0)
    conn = pycql.connect()
    try:
        out, err = io.StringIO(), _Terminal()
        shell = Shell(conn, out, err)
        assert shell.run("CREATE STREAM S (k INTEGER, ts BIGINT) WITH (timestamp = 'ts')")
        cur = conn.cursor()
        cur.executemany("INSERT INTO S VALUES (?, ?)", [(i % 3, 1000 + i) for i in range(4000)])
        assert shell.run("SELECT k, COUNT(*) FROM S [RANGE UNBOUNDED] GROUP BY k")
        assert "4.00k/4.00k" in err.getvalue(), err.getvalue()
        assert "(3 rows)" in out.getvalue()

        err.seek(0)
        err.truncate()
        shell.settings["start"], shell.settings["stop"] = "earliest", "latest"
        assert shell.run("SELECT ISTREAM(k) FROM S [NOW]")
        assert "4.00k/4.00k" in err.getvalue(), err.getvalue()
        assert "(4000 rows)" in out.getvalue()
    finally:
        conn.close()
