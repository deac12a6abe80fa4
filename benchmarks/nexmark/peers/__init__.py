"""Peers of the Nexmark benchmark: Flink SQL, Bytewax and Pathway, on the same topics.

Each peer runs in its own environment (a virtualenv under ``benchmarks/.venvs/``, or a
JVM built by ``peers/flink/pom.xml``), one process per query, over the topics the runner
pre-loaded, and hands back a dict shaped like the runner's Quix result: ``records``,
``wall_s``, ``cpu_s``, ``records_per_s``, ``records_per_cpu_s``, ``emitted``,
``max_rss_mb`` (the peer process's own VmHWM) and ``verified``: what
``verify(query, rows)`` said of its output rows (shapes in :mod:`.rows`; ``None`` where
nothing can check them). A peer that cannot be installed or built is reported with the
reason (``{"skipped": reason}``), never left out.

>>> sorted(PEERS)
['bytewax', 'flink', 'pathway']
>>> PEERS["bytewax"].queries
('q0', 'q2', 'q5_count')
>>> parse_peers("quix,flink", available=("quix", *PEERS))
['quix', 'flink']
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from benchmarks.nexmark.peers.rows import (
    CHECKED_QUERIES,
    Row,
    differences,
    expected_rows,
    final_table,
    same_rows,
)

PEERS_DIR = Path(__file__).resolve().parent
BENCH_DIR = PEERS_DIR.parents[1]
VENVS = BENCH_DIR / ".venvs"
FLINK_DIR = PEERS_DIR / "flink"

#: ``verify(query, rows)``: True if right, False if wrong, None if it cannot tell.
Verify = Callable[[str, list[Row]], "bool | None"]


@dataclass(frozen=True)
class Topics:
    """What a peer reads: the broker, the run's topic prefix, records per topic."""

    bootstrap: str
    prefix: str
    counts: Mapping[str, int]

    def records(self, streams: Iterable[str]) -> int:
        """Records of ``streams``' topics (the runner's ``records`` of a query)."""
        return sum(self.counts.get(s, 0) for s in streams)


@dataclass(frozen=True)
class Peer:
    """One peer engine: how to make it ready and how to run one query on it."""

    name: str
    title: str
    queries: tuple[str, ...]
    #: makes the environment; returns ``(version, None)`` or ``(None, why not)``
    prepare: Callable[[], tuple[str | None, str | None]]
    #: runs one query: the result dict and the output rows (``None`` when it failed)
    run: Callable[[Topics, str, Path], tuple[dict[str, Any], list[Row] | None]]


# -- Python peers in their own virtualenvs ---------------------------------------------------


def ensure_venv(name: str, requirements: Sequence[str], module: str) -> tuple[str | None,
                                                                              str | None]:
    """``benchmarks/.venvs/NAME`` with ``requirements``; ``(module's version, None)``."""
    python = VENVS / name / "bin" / "python"
    check = [str(python), "-c", f"import {module}, importlib.metadata as m; "
             f"print(m.version('{module}'))"]
    if python.exists():
        done = subprocess.run(check, capture_output=True, text=True, check=False)
        if done.returncode == 0:
            return done.stdout.strip(), None
    print(f"creating benchmarks/.venvs/{name} ({', '.join(requirements)}) ...", flush=True)
    try:
        subprocess.run([sys.executable, "-m", "venv", str(VENVS / name)], check=True,
                       capture_output=True, timeout=300)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *requirements],
                       check=True, capture_output=True, timeout=1800)
    except (subprocess.SubprocessError, OSError) as exc:
        detail = getattr(exc, "stderr", b"") or b""
        text = detail.decode(errors="replace") if isinstance(detail, bytes) else str(detail)
        return None, f"could not install {' '.join(requirements)}: {text.strip()[-200:] or exc}"
    done = subprocess.run(check, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        return None, f"{module} does not import: {done.stderr.strip()[-200:]}"
    return done.stdout.strip(), None


def failure_reason(output: str) -> str:
    """What a failed peer process said: its exception lines (a JVM's ``Exception in
    thread ...`` and ``Caused by: ...``, a Python traceback's last line), else its last
    three lines; stack frames (``at ...``) are left out."""
    lines = [line.strip() for line in output.strip().splitlines() if line.strip()]
    said = [line for line in lines if not line.startswith(("at ", "..."))
            and ("Exception" in line or "Error" in line)]
    return " | ".join(said[:1] + said[-2:] if len(said) > 3 else said) or " | ".join(
        lines[-3:])


def run_script(command: list[str], rows_file: Path, timeout: float,
               changelog: bool = False) -> tuple[dict[str, Any], list[Row] | None]:
    """Run a peer process; its last JSON line is the result, ``rows_file`` its rows.

    With ``changelog`` each row starts with its kind (+I, -U, +U, -D): a stream's rows
    (all +I) are returned without it, an updating result as the table it leaves.
    """
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                              check=False)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}, None
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if not lines:
        return {"error": failure_reason(done.stderr or done.stdout)
                or f"exit status {done.returncode}"}, None
    result: dict[str, Any] = orjson.loads(lines[-1])
    if "error" in result or not rows_file.exists():
        return result, None
    with rows_file.open("rb") as f:
        parsed = [orjson.loads(line) for line in f]
    if not changelog:
        return result, [tuple(r) for r in parsed]
    if all(r[0] == "+I" for r in parsed):
        return result, [tuple(r[1:]) for r in parsed]
    result["updating"] = True
    return result, final_table(parsed)


def _python_peer(name: str, script: str) -> Callable[[Topics, str, Path],
                                                     tuple[dict[str, Any], list[Row] | None]]:
    def run(topics: Topics, query: str, work: Path) -> tuple[dict[str, Any], list[Row] | None]:
        rows_file = work / f"{name}-{query}.jsonl"
        command = [str(VENVS / name / "bin" / "python"), str(PEERS_DIR / script),
                   "--bootstrap", topics.bootstrap, "--topic", topics.prefix + "bid",
                   "--query", query, "--rows-out", str(rows_file)]
        if name == "pathway":
            command += ["--records", str(topics.records(["bid"]))]
        return run_script(command, rows_file, timeout=900)

    return run


# -- Flink SQL: a Maven project and a JVM per query ---------------------------------------------


def flink_classpath() -> str | None:
    """``target/classes`` plus the dependencies, when the project is built."""
    classes = FLINK_DIR / "target" / "classes"
    deps = FLINK_DIR / "target" / "classpath.txt"
    if not (classes / "pycql" / "bench" / "flink" / "NexmarkFlinkPeer.class").exists() \
            or not deps.exists():
        return None
    return f"{classes}:{deps.read_text().strip()}"


def prepare_flink() -> tuple[str | None, str | None]:
    """Build ``peers/flink`` with Maven if it is not built (or its sources are newer)."""
    sources = [p for p in (FLINK_DIR / "src").rglob("*") if p.is_file()]
    sources.append(FLINK_DIR / "pom.xml")
    deps = FLINK_DIR / "target" / "classpath.txt"
    stale = not deps.exists() or max(p.stat().st_mtime for p in sources) > deps.stat().st_mtime
    if flink_classpath() is None or stale:
        print("building benchmarks/nexmark/peers/flink (Maven) ...", flush=True)
        try:
            done = subprocess.run(["mvn", "-B", "-q", "package"], cwd=FLINK_DIR,
                                  capture_output=True, text=True, timeout=1800, check=False)
        except (subprocess.SubprocessError, OSError) as exc:
            return None, f"could not run Maven: {exc}"
        if done.returncode != 0:
            return None, f"Maven build failed: {(done.stdout + done.stderr).strip()[-300:]}"
    if flink_classpath() is None:
        return None, "the Flink peer did not build"
    return _pom_property("flink.version"), None


def _pom_property(name: str) -> str | None:
    text = (FLINK_DIR / "pom.xml").read_text()
    start = text.find(f"<{name}>")
    end = text.find(f"</{name}>")
    return text[start + len(name) + 2:end] if start >= 0 and end > start else None


#: The streams each Flink query reads (its ``records``).
FLINK_READS: dict[str, tuple[str, ...]] = {
    "q0": ("bid",), "q1": ("bid",), "q2": ("bid",), "q3": ("auction", "person"),
    "q4": ("auction", "bid"), "q5": ("bid",), "q5_count": ("bid",), "q6": ("auction", "bid"),
    "q7": ("bid",), "q8": ("person", "auction"), "q13": ("bid", "side_input"),
    "q18": ("bid",),
}


def run_flink(topics: Topics, query: str, work: Path) -> tuple[dict[str, Any],
                                                               list[Row] | None]:
    classpath = flink_classpath()
    if classpath is None:
        return {"error": "the Flink peer is not built"}, None
    rows_file = work / f"flink-{query}.jsonl"
    # the heap is the MiniCluster's whole memory; the JVM's defaults otherwise
    command = ["java", "-Xmx4g", "-cp", classpath, "pycql.bench.flink.NexmarkFlinkPeer",
               topics.bootstrap, topics.prefix, query, str(rows_file)]
    result, rows = run_script(command, rows_file, timeout=900, changelog=True)
    if "error" in result:
        return result, None
    records = topics.records(FLINK_READS[query])
    if query == "q13":  # the side table's records are read too, as pycql's q13 reads them
        records = topics.records(["bid", "side_input"])
    result["records"] = records
    result["records_per_s"] = records / result["wall_s"] if result.get("wall_s") else None
    result["records_per_cpu_s"] = records / result["cpu_s"] if result.get("cpu_s") else None
    return result, rows


PEERS: dict[str, Peer] = {
    "flink": Peer("flink", "Flink SQL", tuple(FLINK_READS), prepare_flink, run_flink),
    "bytewax": Peer("bytewax", "Bytewax", ("q0", "q2", "q5_count"),
                    lambda: ensure_venv("bytewax", ["bytewax[kafka]==0.21.1", "orjson"],
                                        "bytewax"),
                    _python_peer("bytewax", "bytewax_peer.py")),
    "pathway": Peer("pathway", "Pathway", ("q0", "q2", "q5_count"),
                    lambda: ensure_venv("pathway", ["pathway==0.33.0"], "pathway"),
                    _python_peer("pathway", "pathway_peer.py")),
}


def parse_peers(text: str | None, available: Sequence[str]) -> list[str]:
    """The ``--peers`` list (default: every one of ``available``), unknown names refused."""
    if not text:
        return list(available)
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in available]
    if unknown:
        raise SystemExit(f"unknown peers {unknown}; choose from {', '.join(available)}")
    return names


def reference_verify(config: Any) -> Verify:
    """``verify`` for a run of ``config`` (a ``GeneratorConfig``): each peer's rows of q0,
    q2 and q5_count against :func:`.rows.expected_rows` over the generator's bids (plain
    Python, no pycql); other queries are not checked here (``None``)."""
    expected: dict[str, list[Row]] = {}
    bids: list[bytes] = []

    def verify(query: str, rows: list[Row]) -> bool | None:
        if query not in CHECKED_QUERIES:
            return None
        if not bids:
            from benchmarks.nexmark.generator import NexmarkGenerator

            bids.extend(NexmarkGenerator(config).generate().bids)
        if query not in expected:
            expected[query] = expected_rows(query, bids)
        ok = same_rows(rows, expected[query])
        if not ok:
            print(f"    {query}: {differences(rows, expected[query])}", flush=True)
        return ok

    return verify


def digest(rows: Iterable[Row]) -> str:
    """An order-free digest of rows (sha256 of their sorted JSON), to compare runs."""
    encoded = sorted(orjson.dumps(list(r)) for r in rows)
    return hashlib.sha256(b"\n".join(encoded)).hexdigest()[:16]


def run_peers(names: Iterable[str], topics: Topics, queries: Iterable[str], verify: Verify,
              log: Callable[[str], None] = print) -> dict[str, Any]:
    """Run each peer of ``names`` on those of ``queries`` it has: ``{peer: {...}}``."""
    wanted = list(queries)
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="nexmark-peers-") as tmp:
        work = Path(tmp)
        for name in names:
            peer = PEERS[name]
            version, why_not = peer.prepare()
            if version is None and why_not is not None:
                out[name] = {"skipped": why_not}
                log(f"{peer.title}: skipped ({why_not})")
                continue
            entry: dict[str, Any] = {"title": peer.title, "version": version}
            for query in (q for q in wanted if q in peer.queries):
                log(f"{peer.title} {version} {query} ...")
                result, rows = peer.run(topics, query, work)
                if rows is not None:
                    result["rows"] = len(rows)
                    result["digest"] = digest(rows)
                    result["verified"] = verify(query, rows)
                else:
                    result["verified"] = None
                entry[query] = result
                log(f"  {_describe(result)}")
            out[name] = entry
    return out


def _describe(result: Mapping[str, Any]) -> str:
    if "error" in result:
        return f"error: {str(result['error'])[:200]}"
    rate = result.get("records_per_cpu_s")
    ok = {True: "right", False: "WRONG", None: "not checked"}[result.get("verified")]
    return (f"{result.get('records', 0):,} records, {rate or 0:,.0f} per CPU second, "
            f"{result.get('emitted', 0):,} rows out ({ok})")


def summary_lines(peers: Mapping[str, Any], pycql: Mapping[str, Any]) -> list[str]:
    """pycql against each peer per CPU second, query by query (pycql / peer)."""
    lines = []
    for name, entry in peers.items():
        title = PEERS[name].title if name in PEERS else name
        if "skipped" in entry:
            lines.append(f"{title}: skipped ({entry['skipped']})")
            continue
        parts = []
        for query, r in entry.items():
            if not isinstance(r, dict):
                continue
            mine = pycql.get(query, {}).get("throughput", {}).get("records_per_cpu_s")
            theirs = r.get("records_per_cpu_s")
            check = {True: "", False: " WRONG", None: " unchecked"}[r.get("verified")]
            if "error" in r:
                parts.append(f"{query} error")
            elif mine and theirs:
                parts.append(f"{query} {mine / theirs:.2f}x{check}")
            elif theirs:
                parts.append(f"{query} {theirs:,.0f}/s{check}")
        lines.append(f"vs {title} {entry.get('version')}, per CPU second (pycql / peer): "
                     + (", ".join(parts) or "nothing ran"))
    return lines


def table_rows(peers: Mapping[str, Any], width: int) -> list[list[str]]:
    """Rows for the runner's table (its columns: query, verified, records, rec/s, per core,
    with broker, x ceiling, x ceiling CPU, x Quix, emitted, late, p50, p99, RSS, state):
    a peer's query, whether its rows were checked, records, rec/s, per core, emitted and
    RSS."""
    rows = []
    for name, entry in peers.items():
        title = PEERS[name].title if name in PEERS else name
        if "skipped" in entry:
            rows.append([title, "skipped: " + entry["skipped"][:80]] + [""] * (width - 2))
            continue
        for query, r in entry.items():
            if not isinstance(r, dict):
                continue
            if "error" in r:
                rows.append([f"{title} {query}", "error: " + str(r["error"])[:80]]
                            + [""] * (width - 2))
                continue
            cells = [f"{title} {query}",
                     {True: "yes", False: "FAILED", None: "not checked"}[r.get("verified")],
                     f"{r.get('records', 0):,}", f"{r.get('records_per_s') or 0:,.0f}",
                     f"{r.get('records_per_cpu_s') or 0:,.0f}", "", "", "", "",
                     f"{r.get('emitted', 0):,}", "", "", "",
                     f"{r.get('max_rss_mb') or 0:.0f}", ""]
            rows.append((cells + [""] * width)[:width])
    return rows
