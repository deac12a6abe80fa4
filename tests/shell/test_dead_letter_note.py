"""The shell tells the user when a query met records it could not use."""

from __future__ import annotations

import io

import pycql
from pycql.log import OutRecord
from pycql.shell import Shell


def test_shell_notes_malformed_records() -> None:
    with pycql.connect() as conn:
        out, err = io.StringIO(), io.StringIO()
        shell = Shell(conn, out, err)
        assert shell.run("CREATE STREAM S (A INTEGER)")
        assert shell.run("INSERT INTO S VALUES (1)")
        conn.database.log.produce("S", [OutRecord(b"{oops", timestamp_ms=2**41)])
        assert shell.run("SELECT COUNT(*) FROM S")
        assert "(1 row)" in out.getvalue()
        assert "1 malformed and 0 late record(s)" in err.getvalue()


def test_shell_says_nothing_when_every_record_was_used() -> None:
    with pycql.connect() as conn:
        out, err = io.StringIO(), io.StringIO()
        shell = Shell(conn, out, err)
        shell.run("CREATE STREAM S (A INTEGER)")
        shell.run("INSERT INTO S VALUES (1)")
        shell.run("SELECT COUNT(*) FROM S")
        assert "dead-letter" not in err.getvalue()
