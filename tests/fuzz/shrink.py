"""Shrink a failing statement by hand: ``python -m tests.fuzz.shrink "SQL" ["SQL"...]``.

For each statement, runs it on a fresh fixture database (:mod:`tests.fuzz.catalog`,
the same the fuzz test uses) and, if it breaks the fuzz property, removes tokens
and parenthesized groups for as long as it still fails in the same way (the
same exception type and the same start of its message), then prints the
smallest statement and its failure. ``--params "(1, 'x')"`` passes parameters
(a Python literal) to every run; ``--mode continuous`` runs as the continuous
mode of the test does.

Only for people reading failures: the test suite does not import it.
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
from typing import Any

from tests.fuzz import grammar, harness


def failure_key(outcome: harness.Run) -> str | None:
    """What must stay the same while shrinking: the problem's type and its first words."""
    problem = outcome.problem()
    if problem is None:
        return None
    problem = re.split(r"['\"(\[{]", problem, maxsplit=1)[0]
    return re.sub(r"\d+", "N", problem)[:60]


class Shrinker:
    def __init__(self, params: Any, mode: str) -> None:
        self.db = harness.FuzzDatabase()
        self.watchdog = harness.Watchdog(limit=20.0, grace=40.0)
        self.params = params
        self.mode = mode
        self.runs = 0

    def outcome(self, sql: str) -> harness.Run:
        self.runs += 1
        conn = self.db.connection()
        if harness.may_write(sql):
            self.db.dirty = True
        return harness.run(conn, self.watchdog, sql, self.params, mode=self.mode)

    def fails_as(self, sql: str, key: str) -> bool:
        return failure_key(self.outcome(sql)) == key

    def shrink(self, sql: str) -> tuple[str, harness.Run | None]:
        first = self.outcome(sql)
        key = failure_key(first)
        if key is None:
            return sql, None
        toks = [t for t in grammar.tokens(sql) if not t.isspace()]
        changed = True
        while changed:
            changed = False
            # parenthesized groups first (a whole argument or subquery at once)
            for i in range(len(toks)):
                if i >= len(toks) or toks[i] != "(":
                    continue
                j = _closing(toks, i)
                if j is None:
                    continue
                for candidate in (toks[:i] + toks[j + 1:],
                                  toks[:i] + toks[i + 1:j] + toks[j + 1:]):
                    if candidate and self.fails_as(_join(candidate), key):
                        toks, changed = candidate, True
                        break
            size = max(1, len(toks) // 2)
            while size >= 1:
                i = 0
                while i < len(toks):
                    candidate = toks[:i] + toks[i + size:]
                    if candidate and self.fails_as(_join(candidate), key):
                        toks, changed = candidate, True
                    else:
                        i += size
                size //= 2
        smallest = _join(toks)
        return smallest, self.outcome(smallest)


def _closing(toks: list[str], i: int) -> int | None:
    depth = 0
    for j in range(i, len(toks)):
        if toks[j] == "(":
            depth += 1
        elif toks[j] == ")":
            depth -= 1
            if depth == 0:
                return j
    return None


def _join(toks: list[str]) -> str:
    out, previous = "", ""
    for tok in toks:
        if previous.startswith("--"):
            out += "\n"  # a line comment ends at the end of its line
        elif out and not (tok in ",)]." or previous in ("(", "[", ".")):
            out += " "
        out += tok
        previous = tok
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sql", nargs="+")
    parser.add_argument("--params", default=None, help="a Python literal: a tuple or a list")
    parser.add_argument("--mode", default="bounded", choices=["bounded", "continuous"])
    args = parser.parse_args(argv)
    params = None if args.params is None else ast.literal_eval(args.params)
    shrinker = Shrinker(params, args.mode)
    for sql in args.sql:
        smallest, outcome = shrinker.shrink(sql)
        if outcome is None:
            print(f"does not fail: {sql!r}")
            continue
        print(f"{smallest}\n    -> {outcome.problem()}  ({shrinker.runs} runs)")
    shrinker.db.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
