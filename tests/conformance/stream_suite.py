"""Reading the Stanford STREAM regression tests (vendored in ``tests/conformance/stream``).

A script is a list of ``key : value`` statements::

    table : register stream S (A integer, B float, C byte, D char(4));
    source : test/data/S3.dat
    vquery : select A/2, A from S where (S.A / 2) * 2 = S.A;
    vtable : register stream VS (A integer, B integer);
    query : select * from S;

>>> t = parse_script("table : register relation R (A integer);\\n"
...                  "source : test/data/R1.dat\\nquery : select * from R;", "t")
>>> t.inputs[0].name, t.inputs[0].kind, t.inputs[0].data_file, t.query
('R', 'relation', 'R1.dat', 'select * from R')
>>> sql_column("D", "char(4)")
{'name': 'D', 'type': 'CHAR', 'nullable': True, 'precision': 4, 'scale': None}
"""

from __future__ import annotations

import gzip
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.oracle.compare import Delta, float_normalizer

#: The vendored copy (BSD-3, STREAM 0.6.0; see its README and LICENSE). Data and
#: expected outputs are stored gzipped (``X.dat.gz``, ``testN.gz``) to keep the
#: repository small; :func:`read_suite_file` reads either form.
STREAM_DIR = Path(__file__).resolve().parent / "stream"
TEST_NAMES = [f"test{i}" for i in range(1, 11)]

Row = tuple[Any, ...]


@dataclass
class Declaration:
    """``register stream|relation NAME (cols)``; ``data_file`` from the ``source :`` after it."""

    name: str
    kind: str  # "stream" or "relation"
    columns: list[tuple[str, str]]  # (name, STREAM type as written, lower case)
    data_file: str | None = None


@dataclass
class View:
    """A ``vquery :`` registered under the ``vtable :`` declaration that follows it."""

    query: str
    declaration: Declaration


@dataclass
class StreamTest:
    name: str
    inputs: list[Declaration] = field(default_factory=list)
    views: list[View] = field(default_factory=list)
    query: str = ""


_REGISTER = re.compile(
    r"^\s*register\s+(stream|relation)\s+(\w+)\s*\((.*)\)\s*;?\s*$", re.IGNORECASE | re.DOTALL
)


def parse_register(text: str) -> Declaration:
    """Parse ``register stream S (A integer, D char(4))``."""
    m = _REGISTER.match(text)
    if not m:
        raise ValueError(f"not a register statement: {text!r}")
    columns = []
    for part in re.split(r",(?![^()]*\))", m.group(3)):
        name, type_ = part.strip().split(None, 1)
        columns.append((name, re.sub(r"\s+", "", type_.lower())))
    return Declaration(m.group(2), m.group(1).lower(), columns)


def parse_script(text: str, name: str) -> StreamTest:
    """Parse one STREAM test script."""
    test = StreamTest(name)
    pending_vquery: str | None = None
    last_input: Declaration | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition(":")
        if not sep:
            raise ValueError(f"{name}: unreadable line {raw!r}")
        key, value = key.strip().lower(), value.strip()
        if key == "table":
            last_input = parse_register(value)
            test.inputs.append(last_input)
        elif key == "source":
            if last_input is None:
                raise ValueError(f"{name}: source before any table")
            last_input.data_file = Path(value).name
        elif key == "vquery":
            pending_vquery = value.rstrip(";").strip()
        elif key == "vtable":
            if pending_vquery is None:
                raise ValueError(f"{name}: vtable without vquery")
            test.views.append(View(pending_vquery, parse_register(value)))
            pending_vquery = None
        elif key == "query":
            test.query = value.rstrip(";").strip()
        elif key == "dest":
            pass
        else:
            raise ValueError(f"{name}: unknown statement {key!r}")
    return test


def read_suite_file(path: Path) -> str:
    """The text of ``path`` or, if only that is there, of ``path.gz``; a missing
    file is an error (FileNotFoundError), never a reason to skip."""
    if path.is_file():
        return path.read_text()
    gz = path.with_name(path.name + ".gz")
    if gz.is_file():
        return gzip.decompress(gz.read_bytes()).decode()
    raise FileNotFoundError(f"STREAM reference file missing: {path} (nor {gz.name})")


def load_test(name: str, root: Path = STREAM_DIR) -> StreamTest:
    """Parse ``scripts/<name>`` of the suite."""
    return parse_script(read_suite_file(root / "scripts" / name), name)


# ---- types --------------------------------------------------------------------


def sql_column(name: str, stream_type: str) -> dict[str, Any]:
    """The catalog column for a STREAM column type (integer, float, byte, char(n))."""
    t = stream_type.lower()
    if t in ("integer", "int"):
        return {"name": name, "type": "INTEGER", "nullable": True, "precision": None, "scale": None}
    if t == "float":
        return {"name": name, "type": "FLOAT", "nullable": True, "precision": None, "scale": None}
    if t == "byte":
        return {"name": name, "type": "CHAR", "nullable": True, "precision": 1, "scale": None}
    m = re.fullmatch(r"char\((\d+)\)", t)
    if m:
        n = int(m.group(1))
        return {"name": name, "type": "CHAR", "nullable": True, "precision": n, "scale": None}
    raise ValueError(f"unknown STREAM type {stream_type!r}")


def catalog_for(test: StreamTest, topics: dict[str, str] | None = None) -> dict[str, Any]:
    """The pycql catalog (see docs) declaring the test's inputs and views;
    ``topics`` renames the inputs' topics (default: the input's name)."""
    streams, tables = [], []
    for d in test.inputs:
        columns = [sql_column(n, t) for n, t in d.columns]
        topic = (topics or {}).get(d.name, d.name)
        entry: dict[str, Any] = {
            "name": d.name,
            "columns": columns,
            "topic": topic,
            "format": "json",
        }
        if d.kind == "stream":
            streams.append({**entry, "timestamp": None})
        else:
            # STREAM's relations have no key: the whole row is the key
            tables.append({**entry, "primary_key": [n for n, _ in d.columns]})
    views = [
        {
            "name": v.declaration.name,
            "query": v.query,
            "columns": [sql_column(n, t) for n, t in v.declaration.columns],
        }
        for v in test.views
    ]
    return {"streams": streams, "tables": tables, "views": views}


# ---- data ---------------------------------------------------------------------


def _parse_field(code: str, text: str) -> Any:
    if code == "i":
        return int(text)
    if code == "f":
        return float(text)
    if code == "b" or code.startswith("c"):
        return text
    raise ValueError(f"unknown data type code {code!r}")


def load_data(path: Path, kind: str) -> list[tuple[Any, ...]]:
    """A data file as ``[(t, row)]`` (stream) or ``[(t, sign, row)]`` (relation)."""
    lines = read_suite_file(path).splitlines()
    codes = [c.strip() for c in lines[0].split(",")]
    out: list[tuple[Any, ...]] = []
    for line in lines[1:]:
        if not line.strip():
            continue
        fields = [f.strip() for f in line.split(",")]
        if len(fields) != len(codes):
            raise ValueError(f"{path.name}: {len(codes)} fields expected in {line!r}")
        t = int(fields[0])
        if kind == "relation":
            sign = {"+": 1, "-": -1}[fields[1]]
            row = tuple(_parse_field(c, f) for c, f in zip(codes[2:], fields[2:], strict=True))
            out.append((t, sign, row))
        else:
            row = tuple(_parse_field(c, f) for c, f in zip(codes[1:], fields[1:], strict=True))
            out.append((t, row))
    return out


def load_inputs(test: StreamTest, root: Path = STREAM_DIR) -> dict[str, list[tuple[Any, ...]]]:
    """Every input of the test, by declared name."""
    out = {}
    for d in test.inputs:
        if d.data_file is None:
            raise ValueError(f"{test.name}: {d.name} has no source")
        out[d.name] = load_data(root / "data" / d.data_file, d.kind)
    return out


_EXPECTED_LINE = re.compile(r"^\[(-?\d+)\]:([+-]):(.*)$")


def load_expected(name: str, root: Path = STREAM_DIR) -> list[tuple[int, int, list[str]]]:
    """``expected/<name>`` as ``[(instant, sign, [field texts])]``."""
    out = []
    for line in read_suite_file(root / "expected" / name).splitlines():
        if not line.strip():
            continue
        m = _EXPECTED_LINE.match(line)
        if not m:
            raise ValueError(f"{name}: unreadable expected line {line!r}")
        fields = [f.strip() for f in m.group(3).split(",")]
        out.append((int(m.group(1)), 1 if m.group(2) == "+" else -1, fields))
    return out


# ---- normalising values for comparison ----------------------------------------

_round_float = float_normalizer(6)  # STREAM's floats are C floats printed with %g


def value_normalizers(columns: list[dict[str, Any]]) -> list[Callable[[Any], Any]]:
    """One function per result column mapping a value (engine's, or the
    expected file's text) to the form both are compared in."""
    out: list[Callable[[Any], Any]] = []
    for c in columns:
        t = str(c["type"]).upper()
        if t in ("TINYINT", "SMALLINT", "INTEGER", "BIGINT"):
            out.append(lambda v: None if v is None else int(v))
        elif t in ("FLOAT", "REAL", "DOUBLE", "DECIMAL"):
            out.append(lambda v: None if v is None else _round_float(float(v)))
        elif t in ("CHAR", "VARCHAR"):
            out.append(_char_normalizer(c.get("precision")))
        else:
            out.append(lambda v: v)
    return out


def _char_normalizer(precision: int | None) -> Callable[[Any], Any]:
    """STREAM keeps n-1 characters of a char(n) (C strings): an engine's value is
    compared after cutting it to n-1 characters (and its CHAR padding).
    CHAR(1) is STREAM's ``byte``, a single character, compared whole."""

    def norm(v: Any) -> Any:
        if v is None:
            return None
        s = str(v)
        if precision is not None and len(s) > precision:
            return ("TOO LONG FOR CHAR", precision, s)
        s = s.rstrip(" ")
        if precision is not None and precision > 1:
            s = s[: precision - 1]
        return s

    return norm


def row_normalizer(columns: list[dict[str, Any]]) -> Callable[[Row], Row]:
    """Normalise a whole row with :func:`value_normalizers`."""
    norms = value_normalizers(columns)

    def norm(row: Row) -> Row:
        if len(row) != len(norms):
            return ("WRONG WIDTH", *row)
        return tuple(f(v) for f, v in zip(norms, row, strict=True))

    return norm


def expected_deltas(
    name: str, columns: list[dict[str, Any]], root: Path = STREAM_DIR
) -> dict[int, Delta]:
    """The expected file as ``{instant: net signed Counter}`` of normalised rows."""
    norm = row_normalizer(columns)
    out: dict[int, Delta] = {}
    for ts, sign, fields in load_expected(name, root):
        out.setdefault(ts, Counter())[norm(tuple(fields))] += sign
    return {ts: Counter({r: n for r, n in c.items() if n}) for ts, c in sorted(out.items())}
