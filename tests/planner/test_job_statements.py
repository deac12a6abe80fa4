"""The planner's envelopes for the statements of persistent queries (jobs), and their errors.

CREATE STREAM | TABLE name [WITH (...)] AS query, INSERT INTO stream query, TERMINATE and
EXPLAIN ANALYZE query_id, planned by ``pycql.planner.analyze`` alone (no driver, no log):
docs/plan-json.md, "The statement envelope".
"""

from __future__ import annotations

from typing import Any

import pytest

import pycql
from pycql.planner import analyze


def _col(name: str, type_name: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "type": type_name, "nullable": True, **extra}


CATALOG: dict[str, Any] = {
    "streams": [
        {"name": "S", "topic": "S", "timestamp": None, "format": "json",
         "columns": [_col("k", "INTEGER"), _col("k2", "VARCHAR", precision=10),
                     _col("v", "INTEGER")]},
        {"name": "T", "topic": "T", "timestamp": None, "format": "json",
         "columns": [_col("k", "INTEGER"), _col("V", "INTEGER")]},
    ],
    "tables": [
        {"name": "R", "topic": "R", "format": "json", "primary_key": ["a"],
         "columns": [{"name": "a", "type": "INTEGER", "nullable": False}]},
    ],
    "views": [{"name": "RV", "query": "select a from R", "columns": []}],
}


def _error(cls: type[Exception], sql: str, line: int, column: int, message: str) -> None:
    with pytest.raises(cls) as info:
        analyze(sql, CATALOG)
    err: Any = info.value
    assert (err.line, err.column) == (line, column), err
    assert err.message.startswith(message), err.message


# -- CREATE TABLE ... AS ----------------------------------------------------------------
def test_create_table_as_envelope() -> None:
    query = "SELECT k, COUNT(*) AS n, SUM(v) AS total FROM S GROUP BY k"
    answer = analyze(f"CREATE TABLE Counts WITH (Topic = 'counts', partitions = 3) AS {query}",
                     CATALOG)
    assert set(answer) == {"statement", "name", "options", "if_not_exists", "query", "plan",
                           "text", "columns", "key"}
    assert answer["statement"] == "create_table_as"
    assert answer["name"] == "Counts"
    assert answer["options"] == {"topic": "counts", "partitions": "3"}
    assert answer["if_not_exists"] is False
    assert answer["query"] == query
    assert answer["key"] == ["k"]
    assert answer["plan"]["result"]["kind"] == "relation"
    assert answer["columns"] == answer["plan"]["result"]["columns"]
    assert [c["name"] for c in answer["columns"]] == ["k", "n", "total"]
    plain = analyze(query, CATALOG)
    assert answer["plan"]["operators"] == plain["plan"]["operators"]
    assert answer["plan"]["sql"] == query
    assert answer["text"] == analyze(f"EXPLAIN {query}", CATALOG)["text"]


@pytest.mark.parametrize(
    ("query", "key"),
    [
        ("SELECT k, COUNT(*) AS n, SUM(v) AS total FROM S GROUP BY k", ["k"]),
        ("SELECT k2, k, COUNT(*) AS n FROM S GROUP BY k, k2", ["k2", "k"]),
        ("SELECT k, k2, MAX(v) AS m FROM S [RANGE 1 MINUTE] GROUP BY k2, k", ["k", "k2"]),
        ("SELECT COUNT(*) AS n FROM S", None),  # one row: only the empty key
        ("SELECT k, v FROM S [RANGE 10 SECONDS]", None),  # no key
        ("SELECT COUNT(*) AS n FROM S GROUP BY k", None),  # the key is not selected
        ("SELECT DISTINCT k FROM S [ROWS 5]", ["k"]),
    ],
)
def test_create_table_as_key(query: str, key: list[str] | None) -> None:
    assert analyze(f"CREATE TABLE C AS {query}", CATALOG)["key"] == key


# -- CREATE STREAM ... AS ---------------------------------------------------------------
def test_create_stream_as_envelope() -> None:
    answer = analyze("CREATE STREAM IF NOT EXISTS Big WITH (topic = 'big') AS\n"
                     "  ISTREAM(SELECT k, v FROM S [NOW] WHERE v > 3)", CATALOG)
    assert answer["statement"] == "create_stream_as"
    assert answer["name"] == "Big"
    assert answer["options"] == {"topic": "big"}
    assert answer["if_not_exists"] is True
    assert answer["query"] == "ISTREAM(SELECT k, v FROM S [NOW] WHERE v > 3)"
    assert answer["key"] is None
    assert answer["plan"]["result"]["kind"] == "stream"
    assert [c["name"] for c in answer["columns"]] == ["k", "v"]
    assert "Source(stream S)" in answer["text"]


@pytest.mark.parametrize(
    "query",
    [
        "SELECT ISTREAM(k, v * 2 AS doubled) FROM S [NOW]",
        "RSTREAM(SELECT k FROM S [ROWS 1])",
        "SELECT k FROM S WHERE v > 1",
        "SELECT * FROM S",
    ],
)
def test_create_stream_as_takes_any_stream_query(query: str) -> None:
    answer = analyze(f"CREATE STREAM X AS {query}", CATALOG)
    assert answer["query"] == query
    assert answer["plan"]["result"]["kind"] == "stream"


@pytest.mark.parametrize(
    "query",
    [
        "SELECT k FROM S [ROWS 3] ORDER BY k",  # Calcite places an ORDER BY query at its key
        "(SELECT k FROM S [ROWS 3])",
        "WITH q AS (SELECT k FROM S [ROWS 3]) SELECT * FROM q",
    ],
)
def test_query_text_is_the_whole_query(query: str) -> None:
    assert analyze(f"CREATE TABLE X AS {query}", CATALOG)["query"] == query
    assert analyze(f"CREATE VIEW X AS {query}", CATALOG)["query"] == query


def test_create_as_if_not_exists_of_an_existing_name() -> None:
    answer = analyze("CREATE TABLE IF NOT EXISTS R AS SELECT a FROM R", CATALOG)
    assert answer["statement"] == "create_table_as" and answer["if_not_exists"] is True


@pytest.mark.parametrize(
    ("sql", "column", "message"),
    [
        ("CREATE STREAM C AS SELECT k FROM S [ROWS 5]", 20,
         "CREATE STREAM ... AS needs a stream-valued query (ISTREAM, DSTREAM, RSTREAM, or a "
         "query over streams without a window); use CREATE TABLE ... AS for a relation"),
        ("CREATE TABLE C AS SELECT k FROM S", 19,
         "CREATE TABLE ... AS needs a relation-valued query; use CREATE STREAM ... AS for a "
         "stream"),
        ("CREATE TABLE C AS ISTREAM(SELECT k FROM S [NOW])", 19,
         "CREATE TABLE ... AS needs a relation-valued query"),
        ("CREATE STREAM C AS SELECT k, v AS K FROM S", 20,
         "The query has two columns named 'K'"),
        ("CREATE STREAM C AS SELECT * FROM S, T", 20, "The query has two columns named 'k'"),
        ("CREATE TABLE r AS SELECT a FROM R", 14, "Stream or table 'R' already exists"),
        ("CREATE STREAM s AS SELECT k FROM S", 15, "Stream or table 'S' already exists"),
        ("CREATE STREAM RV AS SELECT k FROM S", 15, "Stream or table 'RV' already exists"),
        ("CREATE STREAM C AS SELECT nope FROM S", 27, "Column 'nope' not found"),
    ],
)
def test_create_as_errors(sql: str, column: int, message: str) -> None:
    _error(pycql.ProgrammingError, sql, 1, column, message)


def test_duplicate_column_error_says_to_alias() -> None:
    with pytest.raises(pycql.ProgrammingError) as info:
        analyze("CREATE STREAM C AS SELECT k, v AS K FROM S", CATALOG)
    assert "with AS" in info.value.message


# -- INSERT INTO stream query -----------------------------------------------------------
def test_insert_query_envelope() -> None:
    answer = analyze("INSERT INTO t SELECT k, v FROM S WHERE v > 1", CATALOG)
    assert set(answer) == {"statement", "target", "query", "plan", "text", "columns"}
    assert answer["statement"] == "insert_query"
    assert answer["target"] == "T"
    assert answer["query"] == "SELECT k, v FROM S WHERE v > 1"
    assert answer["plan"]["result"]["kind"] == "stream"
    assert answer["columns"] == answer["plan"]["result"]["columns"]
    assert answer["text"] == analyze("EXPLAIN SELECT k, v FROM S WHERE v > 1", CATALOG)["text"]


@pytest.mark.parametrize(
    "query",
    [
        "ISTREAM(SELECT k, v FROM S [NOW])",
        "SELECT ISTREAM(k, v) FROM S [NOW]",
        "SELECT k, CAST(v AS SMALLINT) FROM S",
        "SELECT * FROM T",
    ],
)
def test_insert_query_takes_any_stream_query(query: str) -> None:
    answer = analyze(f"INSERT INTO T {query}", CATALOG)
    assert answer["statement"] == "insert_query" and answer["query"] == query


def test_insert_values_is_unchanged() -> None:
    assert analyze("INSERT INTO T VALUES (1, 2)", CATALOG)["statement"] == "insert"


@pytest.mark.parametrize(
    ("cls", "sql", "column", "message"),
    [
        (pycql.NotSupportedError, "INSERT INTO R SELECT a FROM R", 13,
         "INSERT INTO a table from a query is not supported: use CREATE TABLE ... AS"),
        (pycql.NotSupportedError, "INSERT INTO T (k, V) SELECT k, v FROM S", 15,
         "A target column list is not supported"),
        (pycql.NotSupportedError, "UPSERT INTO T SELECT k, v FROM S", 15,
         "UPSERT from a query is not supported"),
        (pycql.ProgrammingError, "INSERT INTO T SELECT k, v FROM S [ROWS 3]", 15,
         "INSERT INTO a stream needs a stream-valued query (ISTREAM, DSTREAM, RSTREAM, or a "
         "query over streams without a window)"),
        (pycql.ProgrammingError, "INSERT INTO T SELECT k FROM S", 15,
         "The query has 1 columns but stream 'T' has 2"),
        (pycql.ProgrammingError, "INSERT INTO T SELECT k, k2 FROM S", 25,
         "Column 2 (k2) of the query is VARCHAR but column V of stream T is INTEGER"),
        (pycql.ProgrammingError, "INSERT INTO T SELECT ISTREAM(k, k2) FROM S [NOW]", 33,
         "Column 2 (k2) of the query is VARCHAR"),
        (pycql.ProgrammingError, "INSERT INTO T ISTREAM(SELECT k2, k FROM S [NOW])", 30,
         "Column 1 (k2) of the query is VARCHAR but column k of stream T is INTEGER"),
        (pycql.ProgrammingError, "INSERT INTO T SELECT k, v FROM S UNION ALL "
         "SELECT k, k2 FROM S", 15, "Column 2 (v) of the query is VARCHAR"),
        (pycql.ProgrammingError, "INSERT INTO RV SELECT k, v FROM S", 13,
         "INSERT into view 'RV' is not supported"),
        (pycql.ProgrammingError, "INSERT INTO Nope SELECT k, v FROM S", 13,
         "Unknown stream or table 'Nope'"),
    ],
)
def test_insert_query_errors(cls: type[Exception], sql: str, column: int, message: str) -> None:
    _error(cls, sql, 1, column, message)


# -- TERMINATE ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("sql", "answer"),
    [
        ("TERMINATE CSAS_BIG_1", {"statement": "terminate", "query_id": "CSAS_BIG_1"}),
        ("terminate csas_Big_1", {"statement": "terminate", "query_id": "csas_Big_1"}),
        ('TERMINATE "CSAS big"', {"statement": "terminate", "query_id": "CSAS big"}),
        ("TERMINATE 'INSERT_T_2'", {"statement": "terminate", "query_id": "INSERT_T_2"}),
        ("TERMINATE ALL", {"statement": "terminate", "all": True, "query_id": None}),
    ],
)
def test_terminate_envelope(sql: str, answer: dict[str, Any]) -> None:
    assert analyze(sql, CATALOG) == answer


def test_terminate_is_not_reserved() -> None:
    answer = analyze("CREATE STREAM terminate (terminate INTEGER)", CATALOG)
    assert answer["statement"] == "create_stream"
    assert [c["name"] for c in answer["columns"]] == ["terminate"]


def test_terminate_errors() -> None:
    _error(pycql.ProgrammingError, "TERMINATE a b", 1, 13, 'Encountered "b"')
    with pytest.raises(pycql.ProgrammingError):
        analyze("TERMINATE", CATALOG)


# -- EXPLAIN ANALYZE query_id -------------------------------------------------------------
def test_explain_analyze_of_a_query_id() -> None:
    assert analyze("EXPLAIN ANALYZE CSAS_BIG_1", CATALOG) == {
        "statement": "explain", "analyze": True, "query_id": "CSAS_BIG_1", "format": "text"}
    assert analyze("explain analyze 'q 1'", CATALOG)["query_id"] == "q 1"
    assert analyze('EXPLAIN ANALYZE "Q"', CATALOG)["query_id"] == "Q"


def test_explain_analyze_of_a_query_is_unchanged() -> None:
    for sql in ("EXPLAIN ANALYZE SELECT * FROM S", "EXPLAIN ANALYZE PLAN FOR SELECT * FROM S"):
        answer = analyze(sql, CATALOG)
        assert answer["statement"] == "explain" and answer["analyze"] is True
        assert answer["query_id"] is None
        assert answer["plan"]["result"]["kind"] == "stream" and "text" in answer
    assert analyze("EXPLAIN SELECT * FROM S", CATALOG)["analyze"] is False
