"""Golden fixture files, in the spirit of sqlglot's fixtures and Calcite's RelOptRulesTest.

A fixture file holds cases::

    === case_name
    key: value            (optional header lines, e.g. ``rule: FilterWindowTransposeRule``)
    SELECT ... the statement, one or more lines
    --- section           (e.g. ``plan``, ``before``, ``after``, ``error``)
    expected text, one or more lines

Run the tests with ``PYCQL_UPDATE_GOLDEN=1`` to rewrite the expected sections
from what the planner answers now; then read the diff before committing it.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

GOLDEN_DIR = Path(__file__).parent / "golden"
UPDATE = os.environ.get("PYCQL_UPDATE_GOLDEN") == "1"

_HEADER = re.compile(r"^([a-z_]+): (.*)$")


@dataclass
class Case:
    name: str
    sql: str
    headers: dict[str, str] = field(default_factory=dict)
    sections: dict[str, str] = field(default_factory=dict)


def load(file_name: str) -> list[Case]:
    """Read the cases of one fixture file."""
    cases: list[Case] = []
    text = (GOLDEN_DIR / file_name).read_text()
    for block in re.split(r"^=== ", text, flags=re.M)[1:]:
        lines = block.rstrip("\n").split("\n")
        case = Case(name=lines[0].strip(), sql="")
        body: list[str] = []
        section: str | None = None
        for line in lines[1:]:
            if line.startswith("--- "):
                _store(case, section, body)
                section, body = line[4:].strip(), []
            elif section is None and not body and _HEADER.match(line):
                key, value = _HEADER.match(line).groups()  # type: ignore[union-attr]
                case.headers[key] = value
            else:
                body.append(line)
        _store(case, section, body)
        cases.append(case)
    return cases


def _store(case: Case, section: str | None, body: list[str]) -> None:
    text = "\n".join(body).strip("\n")
    if section is None:
        case.sql = text
    else:
        case.sections[section] = text


def save(file_name: str, cases: list[Case]) -> None:
    """Write cases back (update mode)."""
    out: list[str] = []
    for case in cases:
        out.append(f"=== {case.name}")
        out.extend(f"{k}: {v}" for k, v in case.headers.items())
        out.append(case.sql)
        for section, text in case.sections.items():
            out.append(f"--- {section}")
            out.append(text)
        out.append("")
    (GOLDEN_DIR / file_name).write_text("\n".join(out))


def check(file_name: str, cases: list[Case], case: Case, section: str, actual: str) -> None:
    """Compare ``actual`` with the golden section, or record it in update mode."""
    actual = actual.strip("\n")
    if UPDATE:
        case.sections[section] = actual
        save(file_name, cases)
        return
    assert section in case.sections, f"{case.name}: no '--- {section}' in {file_name}"
    assert actual == case.sections[section], (
        f"{case.name} [{section}] differs from {file_name}:\n{actual}"
    )
