"""`evplatform fm analyze|convert`: golden outputs on a small model, exit code 1 on bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from evplatform.cli.fm import _OPS, register
from evplatform.errors import EvplatformError

GOLDEN = Path(__file__).parent / "golden"
_APP = typer.Typer()
register(_APP)


@dataclass
class Outcome:
    returncode: int
    stdout: str
    stderr: str


def run(*args: str, cwd: Path = GOLDEN) -> Outcome:
    """The fm group in-process (starting the whole CLI per case is slow); project errors give exit code 1
    and their message, as ``evplatform.cli.main.run`` does (checked once by a real process below)."""
    previous = Path.cwd()
    os.chdir(cwd)
    try:
        result = CliRunner().invoke(_APP, ["fm", *args])
    finally:
        os.chdir(previous)
    if isinstance(result.exception, EvplatformError):
        return Outcome(1, result.stdout, str(result.exception))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Outcome(result.exit_code, result.stdout, "")


def test_real_process_exits_1_with_the_location(tmp_path: Path) -> None:
    (tmp_path / "bad.uvl").write_text("features\n    A\n        sometimes\n            B\n")
    result = subprocess.run([sys.executable, "-m", "evplatform", "fm", "analyze", "bad.uvl", "--op", "core"],
                            capture_output=True, text=True, cwd=tmp_path, timeout=300, check=False)
    assert result.returncode == 1
    assert "bad.uvl:3:9: expected a group keyword" in " ".join(result.stderr.split())
    assert result.stdout == ""


@pytest.mark.parametrize("op", _OPS)
def test_analyze_json_matches_golden(op: str) -> None:
    result = run("analyze", "small.uvl", "--op", op, "--json")
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert set(payload) == {"file", "op", "features", "result", "seconds"}
    assert isinstance(payload["seconds"], float | int) and payload["seconds"] >= 0
    payload["seconds"] = 0
    assert payload == json.loads((GOLDEN / f"analyze_{op}.json").read_text())


@pytest.mark.parametrize(("source", "target", "golden"),
                         [("small.uvl", "out.xml", "small.xml"), ("small.uvl", "out.dimacs", "small.dimacs"),
                          ("small.xml", "out.uvl", "small_from_xml.uvl")])
def test_convert_matches_golden(tmp_path: Path, source: str, target: str, golden: str) -> None:
    result = run("convert", str(GOLDEN / source), str(tmp_path / target))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / target).read_text() == (GOLDEN / golden).read_text()


def test_explain_dead_feature() -> None:
    result = run("analyze", "small.uvl", "--op", "dead", "--explain", "Tow", "--json")
    assert result.returncode == 0, result.stderr
    reasons = json.loads(result.stdout)["explanation"]["reasons"]
    assert any("small.uvl:1" in r for r in reasons)  # every reason cites its line
    assert all("(small.uvl:" in r for r in reasons)
    people = run("analyze", "small.uvl", "--op", "dead", "--explain", "Tow")
    assert "Why Tow is dead" in people.stdout and "Diesel" in people.stdout


@pytest.mark.parametrize(
    ("name", "text", "fragment"),
    [
        ("syntax.uvl", "features\n    A\n        sometimes\n            B\n",
         "syntax.uvl:3:9: expected a group keyword"),
        ("unknown.uvl", "features\n    A\n        optional\n            B\nconstraints\n    B => C\n",
         "unknown.uvl:6:10: unknown feature 'C'"),
        ("group.uvl", "features\n    A\n        optional\n", "group.uvl:3:1: empty optional group under A"),
        ("empty.xml", "", "empty.xml:1:1: empty file"),
        ("header.dimacs", "p cnf 2 2\n1 2 0\n", "header.dimacs:1:1: header says 2 clauses but the file has 1"),
    ],
)
def test_bad_input_exits_1_with_location(tmp_path: Path, name: str, text: str, fragment: str) -> None:
    (tmp_path / name).write_text(text)
    result = run("analyze", name, "--op", "core", cwd=tmp_path)
    assert result.returncode == 1
    assert fragment in " ".join(result.stderr.split())
    assert result.stdout == ""


def test_import_cycle_exits_1(tmp_path: Path) -> None:
    (tmp_path / "a.uvl").write_text("imports\n    b\nfeatures\n    A\n")
    (tmp_path / "b.uvl").write_text("imports\n    a\nfeatures\n    B\n")
    result = run("convert", "a.uvl", "a.xml", cwd=tmp_path)
    assert result.returncode == 1 and "import cycle: a.uvl → b.uvl → a.uvl" in result.stderr
    assert not (tmp_path / "a.xml").exists()


def test_explaining_a_live_feature_is_an_error() -> None:
    result = run("analyze", "small.uvl", "--op", "dead", "--explain", "Radio")
    assert result.returncode == 1 and "Radio is not dead" in result.stderr
