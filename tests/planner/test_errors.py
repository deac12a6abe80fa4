"""Wrong CQL gives a ProgrammingError that points at the right spot of the user's text."""

from __future__ import annotations

from typing import Any

import pytest

import pycql.errors
from pycql.planner import analyze
from tests.planner import golden_file

ERRORS_FILE = "errors.txt"
ERROR_CASES = golden_file.load(ERRORS_FILE)


@pytest.mark.parametrize("case", ERROR_CASES, ids=[c.name for c in ERROR_CASES])
def test_error_position_and_message(case: golden_file.Case, catalog: dict[str, Any]) -> None:
    expected_class = getattr(pycql.errors, case.headers["class"])
    with pytest.raises(expected_class) as info:
        analyze(case.sql, catalog)
    err = info.value
    line, column = (int(n) for n in case.headers["at"].split(":"))
    assert (err.line, err.column) == (line, column), str(err)
    text = str(err)
    assert "java." not in text and "org.apache" not in text and "Exception" not in text
    # The message shows the offending line with a caret under the spot.
    shown_line, caret_line = text.split("\n")[-2:]
    assert shown_line == case.sql.splitlines()[line - 1]
    assert caret_line.startswith(" " * (column - 1) + "^")
    golden_file.check(ERRORS_FILE, ERROR_CASES, case, "message", err.message)
