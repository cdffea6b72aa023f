"""`evplatform comply` through the real entry point, as a user runs it."""

from __future__ import annotations

import json
import subprocess
import sys


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "evplatform", "comply", *args], capture_output=True, text=True,
                          timeout=180, env={"COLUMNS": "160", "PATH": ""})


def test_one_market_as_json() -> None:
    done = run("--market", "DE", "--date", "2027-03-01", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["market"] == "DE" and report["date"] == "2027-03-01" and report["mode"] == "new_types"
    su7 = next(v for v in report["verdicts"] if v["model"] == "su7")
    assert su7["status"] == "non-compliant" and "EU-GSR2-ADDW" in {r["regulation"] for r in su7["reasons"]}


def test_matrix_for_people() -> None:
    done = run("--date", "2027-03-01")
    assert done.returncode == 0, done.stderr
    assert "su7/standard" in done.stdout and "ES" in done.stdout and "new type / registration" in done.stdout


def test_roadmap_as_json() -> None:
    done = run("--roadmap", "--date", "2026-12-01", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["as_of"] == "2026-12-01" and report["roadmap"]
    assert {e["market"] for e in report["roadmap"]} == {"CN", "EU", "DE", "FR", "ES", "IT"}


def test_unknown_market_exits_1() -> None:
    done = run("--market", "UK", "--date", "2027-01-01")
    assert done.returncode == 1
    assert "unknown market 'UK'" in done.stderr and "Traceback" not in done.stderr


def test_bad_date_and_mode_exit_1() -> None:
    bad_date = run("--market", "EU", "--date", "2027-02-30")
    assert bad_date.returncode == 1 and "date must be YYYY-MM-DD, not '2027-02-30'" in bad_date.stderr
    bad_mode = run("--market", "EU", "--mode", "sometimes")
    assert bad_mode.returncode == 1 and "mode must be new-types or all" in bad_mode.stderr
