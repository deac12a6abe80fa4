"""The shell's statement splitter and table printer."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

from pycql.shell._split import split_statements
from pycql.shell._table import StreamTable, format_value, render_table


def test_split_keeps_quotes_and_comments_intact() -> None:
    text = "select 'a;b' from S; select \"x;y\" from T -- c;\n; /* ; */ show streams;"
    statements, rest = split_statements(text)
    assert statements == [
        "select 'a;b' from S",
        'select "x;y" from T -- c;',
        "/* ; */ show streams",
    ]
    assert rest == ""


def test_split_returns_the_unfinished_rest() -> None:
    assert split_statements("select *\nfrom S") == ([], "select *\nfrom S")
    assert split_statements("select 'it''s;' from S; sel") == (["select 'it''s;' from S"], " sel")
    assert split_statements("select 1; -- trailing comment") == (["select 1"], "")
    assert split_statements(";;") == ([], "")


def test_values_are_written_plainly() -> None:
    assert format_value(None) == "NULL"
    assert format_value(True) == "TRUE"
    assert format_value(Decimal("1.50")) == "1.50"
    assert format_value(dt.datetime(2024, 1, 2, 3, 4, 5)) == "2024-01-02 03:04:05.000"
    assert format_value(dt.datetime(2024, 1, 2, tzinfo=dt.UTC)) == "2024-01-02 00:00:00.000 UTC"
    p2 = dt.timezone(dt.timedelta(hours=2))
    assert format_value(dt.datetime(2024, 1, 2, tzinfo=p2)) == "2024-01-02 00:00:00.000 +02:00"


def test_render_table_aligns_numbers_right_and_text_left() -> None:
    out = render_table(["ID", "NAME"], [(1, "a"), (100, "bbbb")])
    assert out.splitlines() == [
        " ID  | NAME",
        "-----+------",
        "   1 | a",
        " 100 | bbbb",
    ]


def test_render_table_splits_multiline_values() -> None:
    out = render_table(["PLAN"], [("line one\n  line two",)])
    assert out.splitlines()[2:] == [" line one", "   line two"]


def test_stream_table_prints_rows_as_they_come() -> None:
    sink = io.StringIO()
    table = StreamTable(sink, ["A", "NAME"], ["INTEGER", "VARCHAR"], [None, 4])
    table.header()
    table.rows([(1, "x")])
    table.rows([(22, "yy")])
    lines = sink.getvalue().splitlines()
    assert lines[0] == " A           | NAME"
    assert lines[2] == "           1 | x"
    assert lines[3] == "          22 | yy"
    assert table.count == 2
