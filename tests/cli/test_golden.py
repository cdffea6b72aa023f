"""Golden files: the demo's `--json` outputs compared byte for byte.

A change to the demo data, to a KPI formula, a compliance rule, the vehicle model or the campaign
controller shows up here as a diff to review. After a deliberate change, regenerate with
`EVPLATFORM_UPDATE_GOLDEN=1 pytest tests/cli/test_golden.py`.

Wall-clock measurements cannot be golden: for the cases in ``WALL_CLOCK`` those top-level keys are
replaced by ``"<wall clock>"`` (after checking they are there and numeric) before comparing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

GOLDEN = Path(__file__).parent / "golden"
CASES = {
    "kpi_demo.json": ["kpi", "--json"],
    "comply_demo_cn.json": ["comply", "--market", "CN", "--date", "2026-12-01", "--json"],
    "comply_demo_de_all.json": ["comply", "--market", "DE", "--date", "2027-07-07", "--mode", "all", "--json"],
    "comply_regulation_addw.json": ["comply", "regulation", "EU-GSR2-ADDW", "--date", "2026-12-01", "--json"],
    "comply_market_cn.json": ["comply", "market", "CN", "--date", "2026-12-01", "--json"],
    "simulate_demo.json": ["simulate", "--no-plots", "--json"],
    "simulate_demo_wltc_de.json": ["simulate", "--cycle", "wltc", "--market", "DE", "--no-plots", "--json"],
    "fleet_simulate_demo.json": ["fleet", "simulate", "--vehicles", "200", "--no-plot", "--json"],
}
#: Keys holding measured run times (seconds of this machine), per case.
WALL_CLOCK = {"fleet_simulate_demo.json": ("seconds", "timings")}
MASK = "<wall clock>"


def _numbers(value: Any) -> bool:
    if isinstance(value, dict):
        return all(_numbers(v) for v in value.values())
    return isinstance(value, int | float) and not isinstance(value, bool) and value >= 0


def comparable(name: str, stdout: str) -> str:
    """The output as compared: unchanged, or with its wall-clock keys masked."""
    keys = WALL_CLOCK.get(name)
    if not keys:
        return stdout
    data = json.loads(stdout)
    for key in keys:
        assert _numbers(data[key]), f"{key} should be measured seconds, got {data[key]!r}"
        data[key] = MASK
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


@pytest.mark.parametrize("name", sorted(CASES))
def test_json_output_matches_golden_file(name: str, tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "evplatform", *CASES[name]], capture_output=True, text=True,
                            timeout=300, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    output = comparable(name, result.stdout)
    path = GOLDEN / name
    if os.environ.get("EVPLATFORM_UPDATE_GOLDEN") == "1":
        path.write_text(output)
    assert output == path.read_text()


def test_masking_keeps_everything_else() -> None:
    stdout = json.dumps({"vehicles": 3, "seconds": 1.5, "timings": {"a_s": 0.5}, "campaigns": []}, indent=2) + "\n"
    masked = json.loads(comparable("fleet_simulate_demo.json", stdout))
    assert masked == {"vehicles": 3, "seconds": MASK, "timings": MASK, "campaigns": []}
    with pytest.raises(AssertionError, match="seconds"):
        comparable("fleet_simulate_demo.json", json.dumps({"seconds": "soon", "timings": {}}))
