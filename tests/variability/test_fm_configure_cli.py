"""`evplatform fm configure` and `evplatform fm sample`: JSON shapes, results, bad input with exit code 1."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from evplatform.cli.main import app
from evplatform.errors import VariabilityError
from evplatform.variability.completion import complete_min_cost
from evplatform.workspace import demo_path, load_workspace

FEATURES = str(demo_path() / "features.uvl")
runner = CliRunner()


def _json(*args: str) -> dict[str, Any]:
    result = runner.invoke(app, ["fm", *args, "--json"])
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def test_configure_json_has_consequences_reasons_and_cheapest_completion() -> None:
    data = _json("configure", FEATURES, "--select", "AirSuspension", "--deselect", "LHD", "--min-cost", "cost")
    propagation = data["propagation"]
    assert propagation["complete"] is True
    assert {"RHD", "Market_EU"} <= set(propagation["forced"]) and "SteelSprings" in propagation["forbidden"]
    assert set(propagation["unit"]["forced"]) <= set(propagation["forced"])
    rhd = propagation["reasons"]["RHD"]
    assert rhd["state"] == "forced" and rhd["decisions"] == ["deselect LHD"] and rhd["by"] == "unit"
    model = load_workspace(None).feature_model
    best = complete_min_cost(model, ["AirSuspension"], ["LHD"])
    completion = data["completion"]
    assert completion["attribute"] == "cost" and completion["cost"] == pytest.approx(best.cost)
    assert model.configuration_errors(set(completion["selected"])) == []


def test_configure_without_min_cost_gives_a_valid_completion() -> None:
    data = _json("configure", FEATURES, "--select", "SuvBody")
    selected = set(data["completion"]["selected"])
    assert "SuvBody" in selected and data["completion"]["cost"] is None
    assert load_workspace(None).feature_model.configuration_errors(selected) == []


def test_sample_pairwise_covers_every_valid_pair() -> None:
    data = _json("sample", FEATURES, "--t", "2", "--iterations", "1")
    assert data["mode"] == "2-wise" and data["coverage"] == 1.0
    assert data["covered"] == data["valid_interactions"] > 0
    assert 2 <= data["lower_bound"] <= len(data["configurations"])  # the demo's LHD/RHD alone need two
    model = load_workspace(None).feature_model
    assert all(model.configuration_errors(set(c)) == [] for c in data["configurations"])


def test_sample_random_is_seeded() -> None:
    first = _json("sample", FEATURES, "--random", "4", "--seed", "7")
    again = _json("sample", FEATURES, "--random", "4", "--seed", "7")
    assert first["configurations"] == again["configurations"] and first["distribution"] == "uniform"
    assert len(first["configurations"]) == 4


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["configure", FEATURES, "--select", "Nope"], "unknown feature 'Nope'"),
        (["configure", FEATURES, "--select", "LHD", "--select", "RHD"], "contradictory decisions"),
        (["configure", FEATURES, "--select", "LHD", "--deselect", "LHD"], "both selected and deselected"),
        (["sample", FEATURES, "--t", "3"], "t = 1 or 2"),
    ],
)
def test_bad_input_is_a_project_error(args: list[str], message: str) -> None:
    result = runner.invoke(app, ["fm", *args])
    assert result.exit_code == 1
    assert isinstance(result.exception, VariabilityError) and message in str(result.exception)


def test_void_model_exits_1_with_a_clear_message(tmp_path: Path) -> None:
    """Through the real entry point: one line on stderr, exit code 1, nothing on stdout."""
    void = tmp_path / "void.uvl"
    void.write_text("features\n    Car\n        optional\n            A\n            B\nconstraints\n    A & !A\n",
                    encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "evplatform", "fm", "configure", str(void), "--json"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1, result.stderr
    assert "void" in result.stderr and result.stdout == ""
    sampled = runner.invoke(app, ["fm", "sample", str(void), "--json"])
    assert sampled.exit_code == 1 and "void" in str(sampled.exception)
