"""Golden files: the demo's `--json` outputs compared byte for byte.

A change to the demo data or to a KPI formula shows up here as a diff to review. After a
deliberate change, regenerate with `EVPLATFORM_UPDATE_GOLDEN=1 pytest tests/cli/test_golden.py`.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

GOLDEN = Path(__file__).parent / "golden"
CASES = {"kpi_demo.json": ["kpi", "--json"]}


@pytest.mark.parametrize("name", sorted(CASES))
def test_json_output_matches_golden_file(name: str) -> None:
    result = subprocess.run([sys.executable, "-m", "evplatform", *CASES[name]], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    path = GOLDEN / name
    if os.environ.get("EVPLATFORM_UPDATE_GOLDEN") == "1":
        path.write_text(result.stdout)
    assert result.stdout == path.read_text()
