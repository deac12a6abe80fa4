"""The shell's ``\\explain QUERY``: an SVG file drawn by ``dot``, else the DOT text."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest

import pycql
from pycql.shell import Shell


def _shell() -> tuple[Shell, io.StringIO, io.StringIO]:
    out, err = io.StringIO(), io.StringIO()
    shell = Shell(pycql.connect(), out, err)
    assert shell.run("CREATE STREAM S (a INTEGER, b INTEGER) WITH (topic = 'ess')")
    out.truncate(0)
    out.seek(0)
    return shell, out, err


def test_without_dot_it_prints_the_dot_text(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None)
    shell, out, err = _shell()
    assert shell.command("\\explain SELECT ISTREAM(*) FROM S [RANGE 1 MINUTE];")
    text = out.getvalue()
    assert text.startswith("digraph plan {")
    assert "Window(RANGE 1 min)" in text and "topic: ess" in text
    assert "not on PATH" in err.getvalue()
    shell.conn.close()


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
def test_with_dot_it_draws_an_svg_file() -> None:
    shell, out, err = _shell()
    assert shell.command("\\explain SELECT ISTREAM(*) FROM S [ROWS 5]")
    line = out.getvalue().strip()
    assert line.startswith("plan drawn to ") and line.endswith(".svg"), (line, err.getvalue())
    path = Path(line.removeprefix("plan drawn to "))
    try:
        svg = path.read_text()
        assert "<svg" in svg and "ROWS 5" in svg
    finally:
        path.unlink()
    shell.conn.close()


def test_errors_and_usage() -> None:
    shell, _out, err = _shell()
    shell.command("\\explain")
    assert "usage: \\explain QUERY" in err.getvalue()
    shell.command("\\explain SELECT * FROM Nope")
    assert "ERROR:" in err.getvalue() and shell.failed
    shell.conn.close()


def test_explain_as_xml_is_an_error_in_the_shell() -> None:
    shell, _out, err = _shell()
    assert not shell.run("EXPLAIN PLAN AS XML FOR SELECT * FROM S")
    assert "XML" in err.getvalue() and "^^^" in err.getvalue()
    shell.conn.close()
