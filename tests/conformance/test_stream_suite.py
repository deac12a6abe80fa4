"""The STREAM script/data/expected readers (no planner or runtime needed)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from tests.conformance.stream_suite import (
    STREAM_DIR,
    TEST_NAMES,
    catalog_for,
    expected_deltas,
    load_data,
    load_expected,
    load_inputs,
    load_test,
    parse_register,
    parse_script,
    read_suite_file,
    row_normalizer,
    sql_column,
)


def test_parse_register_keeps_parenthesised_types_together() -> None:
    d = parse_register("register stream S (A integer, B float, C byte, D char(4));")
    assert (d.name, d.kind) == ("S", "stream")
    assert d.columns == [("A", "integer"), ("B", "float"), ("C", "byte"), ("D", "char(4)")]
    with pytest.raises(ValueError):
        parse_register("register table S (A integer)")


def test_parse_script_with_view_and_comments() -> None:
    text = (
        "#\n# a comment: with a colon\n#\n"
        "table : register stream S (A integer);\n\nsource : test/data/S1.dat\n\n"
        "vquery : select A/2, A from S where (S.A / 2) * 2 = S.A;\n\n"
        "vtable : register stream VS (A integer, B integer);\n\n"
        "query : select A, B from VS;\n\ndest : test/out/test2"
    )
    t = parse_script(text, "x")
    assert [(d.name, d.data_file) for d in t.inputs] == [("S", "S1.dat")]
    assert len(t.views) == 1
    assert t.views[0].query == "select A/2, A from S where (S.A / 2) * 2 = S.A"
    assert t.views[0].declaration.name == "VS"
    assert t.query == "select A, B from VS"
    cat = catalog_for(t)
    assert cat["views"][0]["name"] == "VS"
    assert [c["name"] for c in cat["views"][0]["columns"]] == ["A", "B"]
    assert cat["streams"][0]["columns"][0]["type"] == "INTEGER"
    with pytest.raises(ValueError):
        parse_script("vtable : register stream VS (A integer);", "bad")


def test_sql_columns_for_stream_types() -> None:
    assert sql_column("A", "integer")["type"] == "INTEGER"
    assert sql_column("B", "float")["type"] == "FLOAT"
    assert (sql_column("C", "byte")["type"], sql_column("C", "byte")["precision"]) == ("CHAR", 1)
    assert sql_column("D", "char(4)")["precision"] == 4
    with pytest.raises(ValueError):
        sql_column("E", "blob")


def test_load_data_for_streams_and_relations(tmp_path: Path) -> None:
    s = tmp_path / "S.dat"
    s.write_text("i,i,f,b,c4\n1,1,1.1,a,abc\n2,-2,2.5,b,bcd")
    assert load_data(s, "stream") == [(1, (1, 1.1, "a", "abc")), (2, (-2, 2.5, "b", "bcd"))]
    r = tmp_path / "R.dat"
    r.write_text("i,b,i\n1,+,1\n2,-,1\n")
    assert load_data(r, "relation") == [(1, 1, (1,)), (2, -1, (1,))]
    bad = tmp_path / "B.dat"
    bad.write_text("i,i\n1,2,3\n")
    with pytest.raises(ValueError):
        load_data(bad, "stream")


def test_char_quirk_allows_exactly_n_minus_one_characters() -> None:
    cols = [sql_column("D", "char(4)"), sql_column("C", "byte"), sql_column("B", "float")]
    norm = row_normalizer(cols)
    # STREAM prints 'ijk' for a char(4) holding 'ijk9'; an engine keeps all four
    assert norm(("ijk9", "a", 1.100000023841858)) == norm(("ijk", "a", "1.1"))
    assert norm(("abc ", "a", 1.1)) == norm(("abc", "a", "1.1"))
    assert norm(("ijk9x", "a", 1.1)) != norm(("ijk", "a", "1.1"))  # longer than n
    assert norm(("ijx9", "a", 1.1)) != norm(("ijk", "a", "1.1"))
    assert norm(("abc", "b", 1.1)) != norm(("abc", "a", "1.1"))  # byte compared whole
    assert norm(("abc", "a", 1.2)) != norm(("abc", "a", "1.1"))


@pytest.mark.parametrize("name", TEST_NAMES)
def test_every_reference_script_and_file_reads(name: str) -> None:
    t = load_test(name)
    assert t.query and t.inputs
    inputs = load_inputs(t)
    assert all(len(v) > 0 for v in inputs.values())
    expected = load_expected(name)
    assert expected


def test_reference_files_read_as_documented() -> None:
    t9 = load_test("test9")
    assert (t9.inputs[0].kind, t9.query) == ("relation", "select * from R")
    r = load_inputs(t9)["R"]
    assert r[:2] == [(1, 1, (1,)), (2, -1, (1,))]
    t4 = load_test("test4")
    assert t4.query == "Rstream(select * from S1 [Now], S2 Where S1.A = S2.A)"
    assert [d.name for d in t4.inputs] == ["S1", "S2"]
    # test8: a NOW window's insert and the next instant's delete
    d8 = expected_deltas("test8", [sql_column("A", "integer")])
    assert d8[2] == Counter({(2,): 1, (1,): -1})
    assert max(d8) == 9999


def test_the_vendored_suite_is_complete() -> None:
    """Every file the tests read is in the repository, with the licence."""
    assert (STREAM_DIR / "LICENSE").is_file()
    assert "Stanford University" in (STREAM_DIR / "LICENSE").read_text()
    for name in TEST_NAMES:
        t = load_test(name)
        assert read_suite_file(STREAM_DIR / "expected" / name)
        for d in t.inputs:
            assert d.data_file is not None
            assert read_suite_file(STREAM_DIR / "data" / d.data_file)


def test_a_missing_reference_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        load_test("test1", root=tmp_path)
    (tmp_path / "expected").mkdir()
    with pytest.raises(FileNotFoundError):
        load_expected("test1", root=tmp_path)
