"""Cutting shell input into statements at ``;`` (outside quotes and comments).

>>> split_statements("select 'a;b' from S; -- done;\\nshow streams;")
(["select 'a;b' from S", '-- done;\\nshow streams'], '')
>>> split_statements("select *\\nfrom S")
([], 'select *\\nfrom S')
"""

from __future__ import annotations


def split_statements(text: str) -> tuple[list[str], str]:
    """The complete statements of ``text`` (without their ``;``) and the unfinished rest."""
    statements: list[str] = []
    start = 0
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch in ("'", '"'):
            i = _skip_quoted(text, i, ch)
            continue
        if ch == "-" and text.startswith("--", i):
            end = text.find("\n", i)
            i = n if end < 0 else end + 1
            continue
        if ch == "/" and text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = n if end < 0 else end + 2
            continue
        if ch == ";":
            statement = text[start:i].strip()
            if statement and not _only_comments(statement):
                statements.append(statement)
            start = i + 1
        i += 1
    rest = text[start:]
    if _only_comments(rest):  # nothing left to run (an open /* ... is kept: it goes on)
        rest = ""
    return statements, rest


def _skip_quoted(text: str, i: int, quote: str) -> int:
    """The index after the quoted text starting at ``i`` (doubled quotes escape)."""
    j = i + 1
    while j < len(text):
        if text[j] == quote:
            if j + 1 < len(text) and text[j + 1] == quote:
                j += 2
                continue
            return j + 1
        j += 1
    return j


def _only_comments(text: str) -> bool:
    """Whether ``text`` holds nothing but whitespace and comments."""
    i = 0
    n = len(text)
    while i < n:
        if text[i].isspace():
            i += 1
        elif text.startswith("--", i):
            end = text.find("\n", i)
            i = n if end < 0 else end + 1
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            if end < 0:
                return False
            i = end + 2
        else:
            return False
    return True
