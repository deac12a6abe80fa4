"""``EXPLAIN PLAN AS DOT``: the plan as Graphviz DOT; other formats are errors."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from typing import Any

import orjson
import pytest

import pycql
from pycql.driver._dot import plan_to_dot

QUERY = (
    "SELECT RSTREAM(s.car_id, r.owner) FROM S [NOW] s JOIN R r ON s.car_id = r.car_id"
    " WHERE s.speed > 65"
)


@pytest.fixture(scope="module")
def cur() -> Iterator[pycql.Cursor]:
    conn = pycql.connect()
    c = conn.cursor()
    c.execute("CREATE STREAM S (car_id INTEGER, speed INTEGER) WITH (topic = 'pos')")
    c.execute(
        "CREATE TABLE R (car_id INTEGER, owner VARCHAR, PRIMARY KEY (car_id)) WITH (topic = 'cars')"
    )
    yield c
    conn.close()


def _plan(cur: pycql.Cursor, query: str) -> dict[str, Any]:
    cur.execute(f"EXPLAIN PLAN AS JSON FOR {query}")
    plan: dict[str, Any] = orjson.loads(cur.fetchone()[0])
    return plan


def _dot(cur: pycql.Cursor, query: str) -> str:
    cur.execute(f"EXPLAIN PLAN AS DOT FOR {query}")
    assert [d[0] for d in cur.description] == ["PLAN"]
    rows = cur.fetchall()
    assert len(rows) == 1
    text: str = rows[0][0]
    return text


_NODE = re.compile(r'^\s*op(\d+) \[label="((?:[^"\\]|\\.)*)"', re.MULTILINE)
_EDGE = re.compile(r"^\s*op(\d+) -> op(\d+)", re.MULTILINE)


def test_one_node_per_operator_and_one_edge_per_input(cur: pycql.Cursor) -> None:
    plan = _plan(cur, QUERY)
    dot = _dot(cur, QUERY)
    assert dot.startswith("digraph plan {") and dot.rstrip().endswith("}")
    nodes = {int(i): label for i, label in _NODE.findall(dot)}
    assert set(nodes) == {op["id"] for op in plan["operators"]}
    edges = sorted((int(a), int(b)) for a, b in _EDGE.findall(dot))
    expected = sorted((i, op["id"]) for op in plan["operators"] for i in op["inputs"])
    assert edges == expected
    labels = "\n".join(nodes.values())
    # kinds, the window, the state bound, the sources' topics
    assert "Source(stream S)" in labels and "topic: pos" in labels
    assert "Source(table R)" in labels and "topic: cars" in labels
    assert "LookupJoin(inner)" in labels
    assert "state: unbounded per [$0]" in labels


def test_windows_and_state_bounds_are_shown(cur: pycql.Cursor) -> None:
    dot = _dot(cur, "SELECT ISTREAM(*) FROM S [RANGE 30 SECONDS] WHERE speed > 65")
    assert "Window(RANGE 30 s)" in dot
    assert "state: range 30 s" in dot
    dot = _dot(cur, "SELECT * FROM S [PARTITION BY car_id ROWS 3]")
    assert "Window(PARTITION BY $0 ROWS 3)" in dot
    assert "state: rows 3 per [$0]" in dot
    dot = _dot(cur, "SELECT COUNT(*) FROM S [ROWS 10]")
    assert "Window(ROWS 10)" in dot and "Aggregate(group=[])" in dot


def test_labels_are_quoted(cur: pycql.Cursor) -> None:
    plan = {
        "root": 0,
        "operators": [
            {
                "id": 0,
                "op": "source",
                "inputs": [],
                "output": "stream",
                "name": 'we"ird',
                "source_kind": "stream",
                "topic": "a\\b",
                "reads": [],
                "writes": ['o"ut'],
                "state": {"kind": "none"},
            }
        ],
    }
    dot = plan_to_dot(plan)
    assert 'Source(stream we\\"ird)' in dot and "topic: a\\\\b" in dot


def test_pydot_parses_it(cur: pycql.Cursor) -> None:
    import pydot
    plan = _plan(cur, QUERY)
    (graph,) = pydot.graph_from_dot_data(_dot(cur, QUERY))
    names = {n.get_name() for n in graph.get_nodes()} - {"node", "edge"}
    assert names == {f"op{op['id']}" for op in plan["operators"]}
    assert len(graph.get_edges()) == sum(len(op["inputs"]) for op in plan["operators"])


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
def test_graphviz_renders_it(cur: pycql.Cursor) -> None:
    svg = subprocess.run(
        ["dot", "-Tsvg"],
        input=_dot(cur, QUERY),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    assert "<svg" in svg and "LookupJoin" in svg


@pytest.mark.parametrize("word", ["XML", "xml"])
def test_other_formats_are_errors_at_the_format_word(cur: pycql.Cursor, word: str) -> None:
    sql = f"EXPLAIN PLAN\n  AS {word} FOR SELECT * FROM S"
    with pytest.raises(pycql.ProgrammingError, match="XML") as info:
        cur.execute(sql)
    assert (info.value.line, info.value.column) == (2, 6)
    assert info.value.end_column == 8


def test_text_and_json_still_work(cur: pycql.Cursor) -> None:
    cur.execute("EXPLAIN PLAN FOR SELECT * FROM S")
    assert any("Source(stream S)" in r[0] for r in cur.fetchall())
    cur.execute("EXPLAIN PLAN AS JSON FOR SELECT * FROM S")
    assert orjson.loads(cur.fetchone()[0])["operators"][0]["op"] == "source"


def test_repr_html_shows_the_last_fetch(cur: pycql.Cursor) -> None:
    cur.execute("SELECT * FROM S", stop="latest")
    html = cur._repr_html_()
    assert "<th>car_id</th>" in html and "nothing fetched yet" in html
    conn = cur.connection
    c2 = conn.cursor()
    c2.execute("CREATE STREAM H (a INTEGER, b VARCHAR)")
    c2.execute("INSERT INTO H VALUES (1, '<x>'), (2, NULL)")
    c2.execute("SELECT a, b FROM H", stop="latest")
    assert c2.fetchone() == (1, "<x>")
    html = c2._repr_html_()
    assert "<td>1</td><td>&lt;x&gt;</td>" in html and "1 row fetched last" in html
    assert "<td>2</td>" not in html  # showing the cursor fetches nothing
    assert c2.fetchall() == [(2, None)]
    assert "<td>2</td><td><i>NULL</i></td>" in c2._repr_html_()


def test_repr_html_of_a_dot_plan(cur: pycql.Cursor) -> None:
    cur.execute(f"EXPLAIN PLAN AS DOT FOR {QUERY}")
    cur.fetchall()
    html = cur._repr_html_()
    if shutil.which("dot") is None:
        assert "digraph plan" in html and html.startswith("<table>")
    else:
        assert html.startswith("<svg") and "LookupJoin" in html
