"""`evplatform fm diff`: text and --json, formats mixed, bad input gives file:line and exit code 1."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from evplatform.cli.fm import register
from evplatform.cli.fm_diff import count_text
from evplatform.errors import EvplatformError
from evplatform.variability.formats import load_model, save_model
from variability.edit_oracle import pigeonhole_uvl

GOLDEN = Path(__file__).parent / "golden"
_APP = typer.Typer()
register(_APP)

OLD = """features
    Car
        mandatory
            Engine
        optional
            Radio
            Nav
constraints
    Nav => Radio
"""
NEW = """features
    Car
        mandatory
            Engine
        optional
            Radio
            Nav
            Heat
"""


def run(*args: str) -> tuple[int, str, str]:
    """The fm group in-process; project errors become exit code 1 and their message, as the real CLI does."""
    result = CliRunner().invoke(_APP, ["fm", *args])
    if isinstance(result.exception, EvplatformError):
        return 1, result.stdout, str(result.exception)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, ""


@pytest.fixture
def versions(tmp_path: Path) -> tuple[Path, Path]:
    (tmp_path / "old.uvl").write_text(OLD)
    (tmp_path / "new.uvl").write_text(NEW)
    return tmp_path / "old.uvl", tmp_path / "new.uvl"


def test_json_payload(versions: tuple[Path, Path]) -> None:
    code, out, err = run("diff", str(versions[0]), str(versions[1]), "--json")
    assert code == 0, err
    payload = json.loads(out)
    assert payload["a"] == str(versions[0]) and payload["b"] == str(versions[1])
    assert (payload["edit_class"], payload["lost_count"], payload["gained_count"]) == ("generalisation", "0", "5")
    assert (payload["count_a"], payload["count_b"]) == ("3", "8")
    assert payload["witness_gained"] == ["Nav"] and payload["deselected_gained"] == ["Radio"]
    assert payload["projected"]["edit_class"] == "generalisation" and payload["projected"]["gained_count"] == "1"
    assert payload["removed_constraints"] == [{"text": "Nav => Radio", "line_a": 9, "line_b": None}]


def test_text_summary(versions: tuple[Path, Path]) -> None:
    code, out, err = run("diff", str(versions[0]), str(versions[1]), "--no-count")
    assert code == 0, err
    text = " ".join(out.split())
    assert "Edit class: generalisation" in text
    assert "added: Heat under Car" in text
    assert "constraint removed: A line 9: Nav => Radio" in text
    assert "gained: breaks" in text and "(line 9)" in text  # the rule the gained witness breaks (a wrapped cell)


def test_formats_mixed(tmp_path: Path, versions: tuple[Path, Path]) -> None:
    """The same model as UVL, FeatureIDE XML and DIMACS is a refactoring; an edit reads the same across formats."""
    old = load_model(versions[0])
    save_model(old, tmp_path / "old.xml")
    save_model(old, tmp_path / "old.dimacs")
    save_model(load_model(versions[1]), tmp_path / "new.xml")
    for a, b in (("old.uvl", "old.xml"), ("old.xml", "old.dimacs"), ("old.dimacs", "old.uvl")):
        code, out, err = run("diff", str(tmp_path / a), str(tmp_path / b), "--json", "--no-count")
        assert code == 0, err
        payload = json.loads(out)
        assert (payload["edit_class"], payload["projected"]["edit_class"]) == ("refactoring", "refactoring"), (a, b)
    code, out, _ = run("diff", str(tmp_path / "old.dimacs"), str(tmp_path / "new.xml"), "--json")
    assert json.loads(out)["edit_class"] == "generalisation"
    assert json.loads(out)["gained_count"] == "5"


def test_golden_small_model_across_formats() -> None:
    """The XML writer wraps Car's second group in an abstract feature (Car#1): a new feature, selected whenever
    Car is, so the full semantics sees every configuration change while the projected one sees a refactoring."""
    code, out, err = run("diff", str(GOLDEN / "small.uvl"), str(GOLDEN / "small.xml"), "--json", "--no-count")
    assert code == 0, err
    payload = json.loads(out)
    assert payload["edit_class"] == "arbitrary" and payload["projected"]["edit_class"] == "refactoring"
    assert payload["added_features"] == [{"name": "Car#1", "old_parent": None, "new_parent": "Car"}]
    code, out, _ = run("diff", str(GOLDEN / "small.uvl"), str(GOLDEN / "small.dimacs"), "--json", "--no-count")
    assert json.loads(out)["edit_class"] == "refactoring"


def test_bad_file_gives_its_location(tmp_path: Path, versions: tuple[Path, Path]) -> None:
    (tmp_path / "bad.uvl").write_text("features\n    A\n        sometimes\n            B\n")
    code, out, err = run("diff", str(versions[0]), str(tmp_path / "bad.uvl"))
    assert code == 1 and out == ""
    assert "bad.uvl:3:9: expected a group keyword" in " ".join(err.split())
    code, _, err = run("diff", str(tmp_path / "missing.xml"), str(versions[0]))
    assert code == 1 and "missing.xml" in err


def test_real_process_json_is_clean(versions: tuple[Path, Path], tmp_path: Path) -> None:
    """d4 prints statistics from C++; in the real CLI (counting in a child process) stdout stays pure JSON."""
    result = subprocess.run([sys.executable, "-m", "evplatform", "fm", "diff", str(versions[0]), str(versions[1]),
                             "--json"], capture_output=True, text=True, cwd=tmp_path, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["gained_count"] == "5"
    (tmp_path / "bad.uvl").write_text("features\n    A\n        sometimes\n            B\n")
    result = subprocess.run([sys.executable, "-m", "evplatform", "fm", "diff", "bad.uvl", str(versions[1])],
                            capture_output=True, text=True, cwd=tmp_path, timeout=300, check=False)
    assert result.returncode == 1 and result.stdout == ""
    assert "bad.uvl:3:9" in " ".join(result.stderr.split())


def test_time_limit_reports_what_was_not_decided(tmp_path: Path) -> None:
    """A refactoring only a pigeonhole proof shows (minutes for the solver): ``--time-limit 0.5`` answers in
    seconds, with the edit class null and the reason, in JSON and in text."""
    (tmp_path / "a.uvl").write_text(pigeonhole_uvl(10))
    (tmp_path / "b.uvl").write_text(pigeonhole_uvl(10, "!G"))
    args = ("diff", str(tmp_path / "a.uvl"), str(tmp_path / "b.uvl"), "--time-limit", "0.5", "--no-count")
    code, out, err = run(*args, "--json")
    assert code == 0, err
    payload = json.loads(out)
    assert payload["edit_class"] is None and payload["edit_class_note"] == "not decided in 0.5 s"
    assert payload["projected"]["edit_class"] is None and payload["analyses_note"] == "not decided in 0.5 s"
    assert payload["total_seconds"] < 10
    code, out, err = run(*args)
    assert code == 0, err
    text = " ".join(out.split())
    assert "Edit class: unknown (not decided in 0.5 s)" in text
    assert "core, dead, false-optional: not decided in 0.5 s" in text


def test_count_text() -> None:
    assert count_text("1234567") == "1,234,567"
    assert count_text("5" + "0" * 20) == "≈ 5.00 × 10^20"
    assert count_text(None, "not counted in 60 s") == "not counted in 60 s"
