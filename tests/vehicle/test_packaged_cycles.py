"""The wheel carries the drive cycles: `simulate` works from an unpacked wheel, far from ../shared."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from evplatform.vehicle.drive_cycles import CYCLES

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.heavy
def test_wheel_simulates_every_cycle_from_elsewhere(tmp_path: Path) -> None:
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path / "w"),
         str(ROOT)],
        capture_output=True, text=True, timeout=300,
    )
    assert build.returncode == 0, build.stderr
    wheel = next((tmp_path / "w").glob("evplatform-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        archive.extractall(tmp_path / "site")
    for stem, _homologation in CYCLES.values():
        if stem != "nedc":  # generated from its definition, no file
            assert f"evplatform/vehicle/cycles/{stem}.csv" in names
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "site")}
    for cycle in CYCLES:
        result = subprocess.run(
            [sys.executable, "-m", "evplatform", "simulate", "--model", "su7", "--cycle", cycle, "--json",
             "--no-plots"],
            capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120,
        )
        assert result.returncode == 0, result.stderr
        assert {r["cycle"] for r in json.loads(result.stdout)["results"]} == {cycle}
