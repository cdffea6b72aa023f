"""A trim's own targets against the simulation (issue 24 item 6): statuses, tolerances, check warnings."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from evplatform.cli.main import app
from evplatform.vehicle import simulate_trims
from evplatform.vehicle.targets import RULES, compare_targets, rule_of, target_findings
from evplatform.workspace import demo_path, load_workspace
from evplatform.workspace.check import check_workspace

runner = CliRunner()
PRO_TARGETS = "targets: {cltc_range_km: 830, accel_0_100_s: 5.7, top_speed_kmh: 210}"


def _demo_copy(tmp_path: Path, targets: str) -> Path:
    root = tmp_path / "ws"
    shutil.copytree(demo_path(), root)
    text = (root / "models" / "su7.yaml").read_text()
    assert PRO_TARGETS in text
    (root / "models" / "su7.yaml").write_text(text.replace(PRO_TARGETS, targets))
    return root


def _line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


def test_range_targets_are_judged_on_their_cycle_against_the_simulation() -> None:
    ws = load_workspace(None)
    simulated = {r["vehicle"]: r for r in simulate_trims(ws, cycle="cltc", market="CN").results}
    checks = [c for c in compare_targets(ws) if c.key == "cltc_range_km"]
    assert len(checks) == sum("cltc_range_km" in t.targets for t in ws.trims())
    for check in checks:
        assert check.simulated == simulated[check.trim]["range_km"] and check.cycle == "cltc"
        short = check.target - check.simulated
        expected = "met" if short <= 0 else "within" if short <= 0.05 * check.target else "missed"
        assert check.status == expected, check


def test_tolerance_boundaries(tmp_path: Path) -> None:
    ws = load_workspace(None)
    pro = next(r for r in simulate_trims(ws, market="CN").results if r["vehicle"] == "su7/pro")
    near, far = round(pro["range_km"] * 1.04), round(pro["range_km"] * 1.06)
    slow = round(pro["accel_0_100_s"] - 0.35, 2)
    root = _demo_copy(tmp_path, f"targets: {{cltc_range_km: {near}, wltc_range_km: {far}, accel_0_100_s: {slow}, "
                                f"top_speed_kmh: 1}}")
    checks = {c.key: c for c in compare_targets(load_workspace(root)) if c.trim == "su7/pro"}
    assert checks["cltc_range_km"].status == "within"
    assert checks["wltc_range_km"].status == "missed" and checks["wltc_range_km"].cycle == "wltc"
    ws2 = load_workspace(root)
    wltc = [m for m in ws2.markets if ws2.markets[m].homologation_cycle == "WLTC" and ("su7/pro", m) in
            ws2.configurations]
    assert checks["wltc_range_km"].market == wltc[0]  # the first market homologating on WLTC that sells it
    assert checks["accel_0_100_s"].status == "missed" and checks["accel_0_100_s"].shortfall == pytest.approx(0.35)
    assert checks["top_speed_kmh"].status == "met" and checks["top_speed_kmh"].shortfall == 0


def test_check_warns_on_a_missed_target_with_file_and_line(tmp_path: Path) -> None:
    root = _demo_copy(tmp_path, "targets: {cltc_range_km: 2000, accel_0_100_s: 5.7}")
    line = _line_of(root / "models" / "su7.yaml", "cltc_range_km: 2000")
    ws = load_workspace(root)
    report = check_workspace(ws, target_findings(ws))
    mine = [f for f in report.findings if "su7/pro" in f.message]
    warning = next(f for f in mine if "cltc_range_km" in f.message)
    assert (warning.level, warning.file, warning.line) == ("warning", "models/su7.yaml", line)
    assert "2000 km" in warning.message and "tolerance 5%" in warning.message
    assert not any("target accel_0_100_s" in f.message for f in mine)  # 5.7 s is met
    done = runner.invoke(app, ["check", str(root), "--json"])
    assert done.exit_code == 0  # a warning, not an error
    assert any("cltc_range_km = 2000" in w["message"] for w in json.loads(done.stdout)["warnings"])


def test_a_workspace_that_cannot_be_simulated_is_warned_not_crashed(tmp_path: Path) -> None:
    from tiny_workspace import write_tiny_workspace

    root = write_tiny_workspace(tmp_path / "tiny")
    model = root / "models" / "alpha.yaml"
    model.write_text(model.read_text().replace("    select: []", "    select: []\n    targets: {wltc_range_km: 300}"))
    ws = load_workspace(root)
    findings = check_workspace(ws, target_findings(ws)).findings
    line = _line_of(model, "wltc_range_km: 300")
    assert any(f.level == "warning" and "cannot simulate" in f.message and f.line == line for f in findings)


def test_simulate_json_adds_the_targets_table() -> None:
    done = runner.invoke(app, ["simulate", "--model", "yu7", "--json", "--no-plots"])
    assert done.exit_code == 0, done.output
    data = json.loads(done.stdout)
    assert {r["vehicle"] for r in data["results"]} == {"yu7/standard", "yu7/pro", "yu7/max"}
    ws = load_workspace(None)
    expected = sum(len(ws.trim(k).targets) for k in ("yu7/standard", "yu7/pro", "yu7/max"))
    assert len(data["targets"]) == expected
    assert {"trim", "target", "target_value", "simulated", "difference", "tolerance", "status"} <= set(
        data["targets"][0])


def test_rules() -> None:
    assert rule_of("epa_range_km") == (RULES["range_km"], "udds")
    assert rule_of("range_km") == (RULES["range_km"], None)
    assert rule_of("moon_range_km") is None and rule_of("colour") is None
