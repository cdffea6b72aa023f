"""`evplatform check` and `evplatform kpi` through the real entry point, as a user runs them."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from evplatform.workspace import demo_path


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "evplatform", *args], capture_output=True, text=True, cwd=cwd, timeout=120
    )


def test_check_demo_human_output() -> None:
    result = run_cli("check")
    assert result.returncode == 0, result.stderr
    assert "valid" in result.stdout
    assert "su7/standard" in result.stdout


def test_check_json_lists_every_configuration() -> None:
    result = run_cli("check", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["valid"] is True
    trims = {c["trim"] for c in data["configurations"]}
    assert len(trims) == 7
    assert all(c["valid"] for c in data["configurations"])


def test_kpi_json_shape() -> None:
    result = run_cli("kpi", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert {m["id"] for m in data["models"]} == {"su7", "su7-ultra", "yu7"}
    for model in data["models"]:
        for trim in model["trims"]:
            assert {"id", "bom_cost", "unit_cost"} <= set(trim)
            assert trim["unit_cost"] > trim["bom_cost"] > 0
    assert set(data["reuse"]) >= {"part_share", "spend_share"}
    assert set(data["commonality"]) == {"dci", "tcci", "ci", "ci_c"}


def test_broken_workspace_exits_1_naming_file_and_line(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    shutil.copytree(demo_path(), ws)
    with (ws / "parts.csv").open("a") as f:
        f.write("MD-X-1,Widget,Body,-5,1,Acme,1,SedanBody\n")
    lines = (ws / "parts.csv").read_text().count("\n")
    result = run_cli("check", str(ws))
    assert result.returncode == 1
    assert f"parts.csv:{lines}:" in result.stderr
    assert "unit_cost" in result.stderr
    assert result.stdout == ""


def test_missing_workspace_exits_1(tmp_path: Path) -> None:
    result = run_cli("kpi", str(tmp_path / "nope"))
    assert result.returncode == 1
    assert "workspace folder not found" in result.stderr


def test_bom_json_adds_up() -> None:
    result = run_cli("bom", "--trim", "yu7/max", "--market", "DE", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["market"] == "DE"
    assert "Market_EU" in data["features"] and "Inlet_CCS2" in data["features"]
    assert abs(sum(line["cost"] for line in data["lines"]) - data["bom_cost"]) < 0.01
    assert abs(sum(data["cost_by_module"].values()) - data["bom_cost"]) < 0.01


def test_bom_of_trim_not_sold_in_market_is_an_error() -> None:
    result = run_cli("bom", "--trim", "su7-ultra/ultra", "--market", "EU")
    assert result.returncode == 1
    assert "not sold in market 'EU'" in result.stderr
