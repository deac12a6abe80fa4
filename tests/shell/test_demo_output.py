"""``python -m pycql.demo`` prints its rows' timestamps as ISO times with the zone."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_demo_prints_iso_times_with_the_zone(tmp_path: Path) -> None:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    done = subprocess.run(
        [sys.executable, "-m", "pycql.demo", "--rows", "3"],
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
        cwd=tmp_path,
        check=True,
    )
    lines = done.stdout.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("rowtime"))
    rows = lines[header + 1 : header + 4]
    assert len(rows) == 3, done.stdout
    for row in rows:
        assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} UTC\s+\d+\s+\d+", row), row
    assert not re.search(r"\b1\d{12}\b", done.stdout)  # no raw epoch milliseconds


def test_the_shell_says_the_zone() -> None:
    import io

    import pycql
    from pycql.shell import Shell

    out, err = io.StringIO(), io.StringIO()
    conn = pycql.connect(rowtime_column=True)
    shell = Shell(conn, out, err, stop="latest")
    try:
        assert shell.run("CREATE STREAM S (a INTEGER)")
        assert shell.run("INSERT INTO S (ROWTIME, a) VALUES (TIMESTAMP '2026-01-02 03:04:05', 1)")
        assert shell.run("SELECT * FROM S"), err.getvalue()
        assert "2026-01-02 03:04:05.000 UTC" in out.getvalue(), out.getvalue()
        shell.command("\\set")
        assert "zone = UTC" in out.getvalue()
    finally:
        conn.close()
