"""Statement fuzzing: generated and mutated CQL through ``cursor.execute``.

The property, for every statement: ``execute`` and the fetches after it either
work or raise a :class:`pycql.Error` that is not :class:`pycql.InternalError`
(``InternalError`` is pycql reporting its own bug); nothing else comes out (no
``TypeError``, ``OverflowError``, ``RecursionError``, Java exception...); rows
match ``description``; no statement runs for more than ``HANG_SECONDS``; and the
driver still works afterwards (a canary query on another database must plan
and run after every example, which catches a planner or JVM left broken).

Four families of examples run on the embedded log over the fixture catalog of
:mod:`tests.fuzz.catalog` (streams with and without a timestamp column, a
table with a primary key, one without, a stream view, a relation view, edge
values in the rows):

* ``test_grammar_statements``: valid-ish statements of every kind
  (:func:`tests.fuzz.grammar.statement`): queries with every window, joins,
  GROUP BY/HAVING, set operations, ISTREAM/DSTREAM/RSTREAM, functions, CASE,
  CAST, division by zero, cross-type comparisons, literals of every type,
  intervals, timestamps at the limits, ``?`` with Python values of any type;
  EXPLAIN in all its forms, DDL with odd options, INSERT/UPSERT/DELETE,
  SHOW, DESCRIBE;
* ``test_mutated_statements``: those statements with tokens deleted,
  duplicated, swapped, replaced, inserted (keywords, punctuation, random
  characters), truncated, wrapped in parentheses, commented;
* ``test_pathological_statements``: empty and whitespace-only text, comments
  only, several statements, parentheses thousands deep, operator chains,
  IN lists and select lists of thousands of terms, long literals;
* ``test_statement_sequences``: two to four statements on one database
  (DDL on scratch names, writes, then queries over what they made).

Queries run with ``start="earliest", stop="latest"`` and ``timeout=4`` and are
fetched with ``fetchmany`` then ``fetchall``; one in ten runs in the
continuous mode instead (a short ``timeout``, ``fetchmany(timeout=...)``,
``cancel()``).

Environment variables:

``PYCQL_FUZZ_EXAMPLES``
    examples in total over the four tests (default 500: about 30 s when nothing
    fails, up to a minute on a loaded two-core machine);
    ``PYCQL_FUZZ_EXAMPLES=10000`` for a long run (about ten minutes).
``PYCQL_FUZZ_SEED``
    unset: the run is derandomized (the same examples every time, so CI is
    stable); ``random``: fresh random examples; an integer: that seed.
``PYCQL_FUZZ_REPORT``
    a file path: instead of stopping and shrinking at the first failure, run
    every example, append each failure as a JSON line to the file, and fail at
    the end with one line per distinct kind of failure (a way to survey all
    the defects at once; shrink each by hand or by rerunning without it).
``PYCQL_FUZZ_HANG_SECONDS``
    the bound on one statement (default 20).
``PYCQL_FUZZ_SHRINK_SECONDS``
    how long hypothesis may shrink a failure (default 60); then the test fails
    with the smallest failing example found so far.

A failure shows the statement, its parameters and the traceback; hypothesis
shrinks it first (except hangs and a broken driver, which fail at once).
``python -m tests.fuzz.shrink "SQL"`` shrinks a statement further by hand.
While other work rebuilds the planner jar, run against a copy
(``PYCQL_PLANNER_JAR=/tmp/planner.jar``): a jar replaced under a running JVM
makes ``NoClassDefFoundError`` failures that are no bug of the code.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, given, note, seed, settings
from hypothesis import strategies as st

import pycql
from tests.fuzz import grammar, harness

TOTAL = int(os.environ.get("PYCQL_FUZZ_EXAMPLES", "500"))
SEED = os.environ.get("PYCQL_FUZZ_SEED", "").strip()
REPORT = os.environ.get("PYCQL_FUZZ_REPORT", "").strip()
HANG_SECONDS = float(os.environ.get("PYCQL_FUZZ_HANG_SECONDS", "20"))
SHRINK_SECONDS = float(os.environ.get("PYCQL_FUZZ_SHRINK_SECONDS", "60"))

#: Share of the examples per test.
SHARES = {"grammar": 0.40, "mutated": 0.30, "pathological": 0.12, "sequences": 0.18}


def _settings(family: str) -> settings:
    return settings(
        max_examples=max(1, round(TOTAL * SHARES[family])),
        deadline=None,
        derandomize=not SEED,
        database=None if not SEED else settings.default.database,
        print_blob=bool(SEED),
        report_multiple_bugs=False,
        suppress_health_check=list(HealthCheck),
    )


def _seeded(test: Any) -> Any:
    if SEED and SEED != "random":
        return seed(int(SEED))(test)
    return test


class FuzzFailure(AssertionError):
    """A statement broke the property (the message has the statement and traceback)."""


class FuzzAbort(BaseException):
    """Stop the test at once, without shrinking (a hang, a broken driver)."""


@dataclass
class Env:
    db: harness.FuzzDatabase
    watchdog: harness.Watchdog
    canary: harness.Canary
    failures: list[harness.Run] = field(default_factory=list)
    examples: int = 0
    #: While hypothesis shrinks: when the first failure came, and the smallest one so far.
    first_failure: float | None = None
    smallest: tuple[int, str] | None = None


@pytest.fixture(scope="module")
def env() -> Iterator[Env]:
    db = harness.FuzzDatabase()
    db.connection()  # starts the JVM in the main thread and checks the fixture builds
    environment = Env(db, harness.Watchdog(HANG_SECONDS, grace=40.0), harness.Canary())
    try:
        yield environment
    finally:
        db.close()
        environment.canary.close()


Statement = tuple[str, Any, str, int]


@st.composite
def _run_options(draw: st.DrawFn, sql: str) -> Statement:
    params = draw(grammar.params_for(sql))
    mode = "continuous" if draw(st.integers(0, 9)) == 0 else "bounded"
    return sql, params, mode, draw(st.sampled_from([0, 1, 2, 100]))


def _with_options(strategy: st.SearchStrategy[str]) -> st.SearchStrategy[Statement]:
    return strategy.flatmap(_run_options)


def _check(env: Env, statements: list[Statement]) -> None:
    """Run ``statements`` on the fixture database; fail on the first that breaks the property."""
    env.examples += 1
    conn = env.db.connection()
    for sql, params, mode, fetch_first in statements:
        if harness.may_write(sql):
            env.db.dirty = True  # the next example gets a fresh database
        note(f"statement: {sql[:3000]!r}  params={params!r}"[:4000] + f"  mode={mode}")
        outcome = harness.run(conn, env.watchdog, sql, params, mode=mode,
                              fetch_first=fetch_first)
        if outcome.hung:
            env.db.close()
            env.db.dirty = True
            if REPORT:
                env.failures.append(outcome)
                return
            raise FuzzAbort(f"a statement ran for more than {HANG_SECONDS} s\n"
                            f"{outcome.describe()}")
        if outcome.problem() is not None:
            if REPORT:
                env.failures.append(outcome)
                continue
            _bound_shrinking(env, statements, outcome)
            raise FuzzFailure(outcome.describe()) from outcome.error
    broken = env.canary.check(env.watchdog)
    if broken is not None:
        env.db.close()
        env.db.dirty = True
        if REPORT:
            canary = harness.Run(repr(statements), None, "canary")
            canary.error = pycql.InternalError(f"the canary failed after the example: {broken}")
            env.failures.append(canary)
            return
        raise FuzzAbort(f"the driver stopped working after {statements!r}: {broken}")


def _bound_shrinking(env: Env, statements: list[Statement], outcome: harness.Run) -> None:
    """Stop shrinking after ``SHRINK_SECONDS`` with the smallest failing example so far."""
    now = time.monotonic()
    size = sum(len(sql) for sql, *_ in statements) + 100 * len(statements)
    if env.smallest is None or size < env.smallest[0]:
        env.smallest = (size, f"{outcome.describe()}\nstatements of the example: {statements!r}")
    if env.first_failure is None:
        env.first_failure = now
    elif now - env.first_failure > SHRINK_SECONDS:
        raise FuzzAbort(f"(shrinking stopped after {SHRINK_SECONDS:.0f} s; the smallest failing "
                        f"example found:)\n{env.smallest[1]}"[:20000])


def _family(env: Env, family: str, strategy: st.SearchStrategy[list[Statement]]) -> None:
    """Run the examples of one family; in the PYCQL_FUZZ_REPORT mode, then fail with a summary."""
    env.failures.clear()
    env.first_failure, env.smallest = None, None

    def examples(statements: list[Statement]) -> None:
        _check(env, statements)

    # A name per family: hypothesis derives the derandomized seed and the key of
    # its example database from it.
    examples.__name__ = examples.__qualname__ = f"fuzz_{family}"
    try:
        _seeded(_settings(family)(given(strategy)(examples)))()
    except FuzzAbort as abort:
        pytest.fail(str(abort), pytrace=False)
    if REPORT and env.failures:
        _report(env.failures)


def _report(failures: list[harness.Run]) -> None:
    with open(REPORT, "a", encoding="utf-8") as out:
        for failure in failures:
            out.write(json.dumps({
                "signature": failure.signature(), "problem": failure.problem(),
                "sql": failure.sql, "params": repr(failure.params), "mode": failure.mode,
                "detail": failure.describe(),
            }) + "\n")
    kinds = Counter(f.signature() for f in failures)
    shortest: dict[str, str] = {}
    for failure in sorted(failures, key=lambda f: len(f.sql)):
        shortest.setdefault(failure.signature(), failure.sql)
    lines = [f"{n:5d} x {sig}\n        e.g. {shortest[sig][:300]!r}"
             for sig, n in kinds.most_common()]
    pytest.fail(f"{len(failures)} failing statements of {len(kinds)} kinds "
                f"(details in {REPORT}):\n" + "\n".join(lines), pytrace=False)


def test_grammar_statements(env: Env) -> None:
    _family(env, "grammar", st.lists(_with_options(grammar.statement()), min_size=1, max_size=2))


def test_mutated_statements(env: Env) -> None:
    _family(env, "mutated", _with_options(grammar.mutated_statement()).map(lambda s: [s]))


def test_pathological_statements(env: Env) -> None:
    _family(env, "pathological",
            _with_options(grammar.pathological_statement()).map(lambda s: [s]))


@st.composite
def _scratch_query(draw: st.DrawFn) -> str:
    name = draw(st.sampled_from([*grammar.SCRATCH, '"z z"', '"Ünïcødé"']))
    return draw(st.sampled_from([
        f"SELECT * FROM {name}", f"SELECT * FROM {name} [ROWS 2]",
        f"SELECT ISTREAM(*) FROM {name} [NOW]", f"SELECT COUNT(*) FROM {name}",
        f"SELECT * FROM {name} AS a JOIN Acct AS b ON a.c0 = b.id",
        f"DESCRIBE {name}", f"EXPLAIN PLAN AS JSON FOR SELECT * FROM {name}",
        f"INSERT INTO {name} VALUES (1)", f"INSERT INTO {name} VALUES (?, ?)",
        f"DELETE FROM {name} WHERE c0 = 1", "SHOW STREAMS", "SHOW TABLES", "SHOW VIEWS",
        "SHOW QUERIES", f"SELECT * FROM {name} [RANGE 1 HOUR] GROUP BY c0",
    ]))


_SEQUENCE_STATEMENT = st.one_of(
    grammar.ddl(), grammar.ddl(), grammar.dml(), _scratch_query(), _scratch_query(),
    grammar.statement(),
)


def test_statement_sequences(env: Env) -> None:
    _family(env, "sequences", st.lists(_with_options(_SEQUENCE_STATEMENT), min_size=2,
                                       max_size=4))
