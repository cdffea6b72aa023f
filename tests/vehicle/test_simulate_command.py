"""`evplatform simulate` through the real entry point, as a user runs it (JSON, plots, errors)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "evplatform", "simulate", *args], capture_output=True, text=True,
                          timeout=180, cwd=cwd)


def test_json_for_one_model_and_plots(tmp_path: Path) -> None:
    result = run("--model", "yu7", "--cycle", "wltc", "--json", "--out", "plots", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)["results"]
    assert [r["vehicle"] for r in rows] == ["yu7/standard", "yu7/pro", "yu7/max"]
    assert all(r["cycle"] == "wltc" and r["range_rule"] == "WLTP" for r in rows)
    assert all(10 < r["consumption_kwh_per_100km"]["battery"] < r["consumption_kwh_per_100km"]["plug"] < 25
               for r in rows)
    written = {p.name for p in (tmp_path / "plots").iterdir()}
    assert written == {"speed.png", "power.png", "soc.png", "consumption_range.png", "index.html"}
    assert (tmp_path / "plots" / "speed.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "yu7/max" in (tmp_path / "plots" / "index.html").read_text()


def test_default_folder_and_table(tmp_path: Path) -> None:
    result = run(cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "su7/standard" in result.stdout and "CLTC" in result.stdout
    assert (tmp_path / "out" / "simulate" / "index.html").exists()


def test_vehicle_params_file_with_a_weak_motor_reports_the_miss(tmp_path: Path) -> None:
    (tmp_path / "weak.yaml").write_text(
        "mass_kg: 1500\ndrive: FWD\nbattery_usable_kwh: 40\nmotor_power_kw: 20\n"
        "road_load_abc: [150.0, 1.5, 0.45]\ntest_mass_kg: 1640\n"
    )
    result = run("--vehicle-params", "weak.yaml", "--cycle", "wltc", "--json", "--no-plots", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    row = json.loads(result.stdout)["results"][0]
    assert row["trace_miss"]["seconds"] > 0 and row["trace_miss"]["max_speed_error_kmh"] > 2
    assert row["accel_0_100_s"] is None
    assert not (tmp_path / "out").exists()


def test_bad_input_exits_1_with_the_reason(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("mass_kg: 1500\ndrive: FWD\nmotor_power_kw: 100\n")
    cases = [
        (["--cycle", "artemis"], "unknown cycle 'artemis'"),
        (["--vehicle-params", "bad.yaml"], "bad.yaml: missing field 'battery_usable_kwh'"),
        (["--vehicle-params", "nowhere.yaml"], "nowhere.yaml: cannot read"),
        (["--model", "model-z"], "unknown model 'model-z'"),
        (["--hz", "3"], "--hz must be 1 or 10"),
    ]
    for args, message in cases:
        result = run(*args, "--no-plots", cwd=tmp_path)
        assert result.returncode == 1, (args, result.stdout)
        assert message in result.stderr.replace("\n", ""), (args, result.stderr)
