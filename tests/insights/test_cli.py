"""`evplatform insights business|scenarios|risks`: --json payloads, plots, export, errors."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from evplatform.cli.main import app, run

runner = CliRunner()


def invoke(*args: str) -> dict[str, Any]:
    result = runner.invoke(app, ["insights", *args])
    assert result.exit_code == 0, (result.output, result.exception)
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def test_business_json_and_plots(tmp_path: Path) -> None:
    data = invoke("business", "--json", "--out", str(tmp_path))
    assert data["entity"] == "Xiaomi" and data["series"]["deliveries"]["quarters"]
    assert [Path(p).name for p in data["plots"]] == ["business.png", "index.html"]
    assert (tmp_path / "business.png").read_bytes().startswith(b"\x89PNG")


def test_business_of_another_file_and_entity(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_text("entity,period,metric,value,unit,basis,source\nB,2025Q1,deliveries,7,vehicles,reported,s\n")
    data = invoke("business", str(path), "--entity", "B", "--json", "--no-plots")
    assert data["series"]["deliveries"]["quarters"][0]["value"] == 7 and data["plots"] == []


def test_scenarios_json_is_seeded(tmp_path: Path) -> None:
    args = ("scenarios", "--draws", "2000", "--seed", "4", "--scenario", "plan", "--scenario", "max-range",
            "--sobol-samples", "64", "--json")
    first = invoke(*args, "--out", str(tmp_path))
    again = invoke(*args, "--no-plots")
    assert [s["name"] for s in first["scenarios"]] == ["plan", "max-range"]
    assert first["scenarios"] == again["scenarios"]
    assert first["draws"] == 2000 and first["seed"] == 4
    names = {Path(p).name for p in first["plots"]}
    assert {"scenarios.png", "tornado-plan.png", "sobol-max-range.png", "index.html"} <= names


def test_scenarios_human_output() -> None:
    result = runner.invoke(app, ["insights", "scenarios", "--draws", "500", "--scenario", "plan", "--no-plots",
                                 "--sobol-samples", "32"])
    assert result.exit_code == 0, result.output
    assert "Platform NPV" in result.stdout and "Platform plan" in result.stdout


def test_risks_json_and_export(tmp_path: Path) -> None:
    export = tmp_path / "register.csv"
    data = invoke("risks", "--json", "--export", str(export), "--out", str(tmp_path / "plots"))
    assert data["risks"][0]["id"] == "R-02" and data["export"] == str(export)
    with export.open(encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    assert [r["id"] for r in rows] == [r["id"] for r in data["risks"]]
    assert (tmp_path / "plots" / "risks.png").exists()


def test_unknown_scenario_exits_1_naming_the_file(monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "argv", ["evplatform", "insights", "scenarios", "--scenario", "moonshot", "--json"])
    with pytest.raises(SystemExit) as stop:
        run()
    assert stop.value.code == 1
    captured = capsys.readouterr()
    assert "scenarios.yaml" in captured.err and "unknown scenario" in captured.err and "'moonshot'" in captured.err
    assert captured.out == ""


def test_bad_business_csv_exits_1_with_file_and_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "f.csv"
    path.write_text("entity,period,metric,value,unit,basis,source\nB,2025Q1,deliveries,many,vehicles,reported,s\n")
    monkeypatch.setattr(sys, "argv", ["evplatform", "insights", "business", str(path), "--json"])
    with pytest.raises(SystemExit) as stop:
        run()
    assert stop.value.code == 1
    assert f"{path}:2:" in capsys.readouterr().err.replace("\n", "")
