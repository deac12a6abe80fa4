"""A plan as a picture: the JSON plan (docs/plan-json.md) written as Graphviz DOT.

``EXPLAIN PLAN AS DOT FOR q`` answers this text (one row, column ``PLAN``). One
node per operator, labelled with its kind and what shapes its cost: the window,
the state it keeps (its bound), the join type, the topics it reads (sources) or
writes; relations are boxes, streams ellipses. One edge per input, from the input
to its consumer (data flows down the picture, sources at the top).

>>> plan = {"root": 1, "operators": [
...     {"id": 0, "op": "source", "inputs": [], "output": "stream", "name": "S",
...      "source_kind": "stream", "topic": "pos", "reads": ["pos"], "writes": [],
...      "state": {"kind": "none", "bound": None, "keys": []}},
...     {"id": 1, "op": "window", "inputs": [0], "output": "relation", "reads": [],
...      "writes": [], "window": {"kind": "range", "range_ms": 30000, "slide_ms": None},
...      "state": {"kind": "range", "bound": 30000, "keys": []}}]}
>>> print(plan_to_dot(plan), end="")
digraph plan {
  rankdir=TB;
  node [fontname="Helvetica", fontsize=11];
  edge [fontname="Helvetica", fontsize=9];
  op0 [label="Source(stream S)\\ntopic: pos", shape=ellipse];
  op1 [label="Window(RANGE 30 s)\\nstate: range 30 s", shape=box, peripheries=2];
  op0 -> op1;
}
"""

from __future__ import annotations

from typing import Any

__all__ = ["format_duration_ms", "plan_to_dot", "render_svg"]

_NAMES = {
    "source": "Source",
    "window": "Window",
    "filter": "Filter",
    "project": "Project",
    "stream_filter": "StreamFilter",
    "aggregate": "Aggregate",
    "join": "Join",
    "lookup_join": "LookupJoin",
    "union": "Union",
    "minus": "Minus",
    "intersect": "Intersect",
    "values": "Values",
    "sort": "Sort",
    "over": "Over",
    "top_n": "TopN",
    "istream": "IStream",
    "dstream": "DStream",
    "rstream": "RStream",
    "exchange": "Exchange",
}


def format_duration_ms(ms: int) -> str:
    """In the largest unit that divides it, as EXPLAIN's text does.

    >>> format_duration_ms(30000), format_duration_ms(3600000), format_duration_ms(1500)
    ('30 s', '1 h', '1500 ms')
    """
    for unit, size in (("h", 3_600_000), ("min", 60_000), ("s", 1000)):
        if ms and ms % size == 0:
            return f"{ms // size} {unit}"
    return f"{ms} ms"


def _keys(keys: list[Any]) -> str:
    return "[" + ", ".join(f"${k}" for k in keys) + "]"


def _bound(state: dict[str, Any]) -> str:
    kind = str(state.get("kind", "none"))
    bound = state.get("bound")
    if kind == "rows":
        text = f"rows {bound}"
    elif kind == "range":
        text = f"range {format_duration_ms(int(bound or 0))}"
    else:
        text = kind
    if state.get("keys"):
        text += f" per {_keys(state['keys'])}"
    return text


def _window(window: dict[str, Any]) -> str:
    kind = str(window.get("kind"))
    if kind == "range":
        text = f"RANGE {format_duration_ms(int(window.get('range_ms') or 0))}"
        if window.get("slide_ms"):
            text += f" SLIDE {format_duration_ms(int(window['slide_ms']))}"
        return text
    by = ", ".join(f"${k}" for k in window.get("partition_by", []))
    prefix = f"PARTITION BY {by} " if by else ""
    if kind in ("rows", "partition"):
        slide = f" SLIDE {window['slide_rows']}" if window.get("slide_rows") else ""
        return f"{prefix}ROWS {window.get('rows')}{slide}"
    if kind == "session":
        return f"{prefix}SESSION {format_duration_ms(int(window.get('gap_ms') or 0))}"
    return kind.upper()


def _label(op: dict[str, Any]) -> list[str]:
    kind = str(op.get("op"))
    name = _NAMES.get(kind, kind)
    if kind == "source":
        head = f"{name}({op.get('source_kind', '')} {op.get('name', '')})".replace("( ", "(")
    elif kind == "window" and isinstance(op.get("window"), dict):
        head = f"{name}({_window(op['window'])})"
    elif kind in ("join", "lookup_join") and op.get("join_type"):
        head = f"{name}({op['join_type']})"
    elif kind == "aggregate" and op.get("group") is not None:
        head = f"{name}(group={_keys(list(op['group']))})"
    elif kind == "top_n" and op.get("limit") is not None:
        head = f"{name}(partition={_keys(list(op.get('partition_by', [])))}, limit={op['limit']})"
    elif kind == "exchange":
        keys = _keys(list(op.get("keys") or []))
        head = (f"{name}(single)" if op.get("distribution") == "single"
                else f"{name}(hash {keys}, {op.get('partitions')} partitions)")
    elif kind in ("union", "minus", "intersect") and "all" in op:
        head = f"{name}(all={str(bool(op['all'])).lower()})"
    else:
        head = name
    lines = [head]
    if kind == "source" and op.get("topic"):
        lines.append(f"topic: {op['topic']}")
    state = op.get("state")
    if isinstance(state, dict) and state.get("kind", "none") != "none":
        lines.append(f"state: {_bound(state)}")
    for topic in op.get("writes") or []:
        lines.append(f"writes: {topic}")
    return lines


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def plan_to_dot(plan: dict[str, Any], name: str = "plan") -> str:
    """The plan's operators and edges as a DOT ``digraph`` (text ending in a newline)."""
    out = [
        f"digraph {name} {{",
        "  rankdir=TB;",
        '  node [fontname="Helvetica", fontsize=11];',
        '  edge [fontname="Helvetica", fontsize=9];',
    ]
    operators = plan.get("operators", [])
    root = plan.get("root")
    for op in operators:
        label = "\\n".join(_quote(line)[1:-1] for line in _label(op))
        shape = "box" if op.get("output") == "relation" else "ellipse"
        extra = ", peripheries=2" if op.get("id") == root else ""
        out.append(f'  op{op["id"]} [label="{label}", shape={shape}{extra}];')
    for op in operators:
        inputs = list(op.get("inputs") or [])
        for i, source in enumerate(inputs):
            attrs = ""
            if len(inputs) > 1:
                attrs = f' [label="{"left" if i == 0 else "right" if len(inputs) == 2 else i}"]'
            out.append(f"  op{source} -> op{op['id']}{attrs};")
    out.append("}")
    return "\n".join(out) + "\n"


def render_svg(dot: str, timeout: float = 30.0) -> str | None:
    """The SVG Graphviz's ``dot`` program draws of ``dot``, or None when ``dot`` is not
    on PATH (or fails)."""
    import shutil
    import subprocess

    program = shutil.which("dot")
    if program is None:
        return None
    try:
        done = subprocess.run(
            [program, "-Tsvg"],
            input=dot,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 and "<svg" in done.stdout else None
