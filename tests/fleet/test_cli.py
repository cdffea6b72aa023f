"""`evplatform fleet import` and `fleet stability` through the real entry point."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "evplatform", *args], capture_output=True, text=True, timeout=120,
                          cwd=cwd)


def test_import_then_stability(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'f.db'}"
    csv = tmp_path / "fleet.csv"
    csv.write_text("vin,model,trim,market\nLMDAB100000000001,su7,max,DE\nLMDAB100000000002,yu7,pro,CN\n")
    done = run("fleet", "import", str(csv), "--database", url, "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"file": str(csv), "imported": 2}
    kpis = run("fleet", "stability", "--database", url, "--json", cwd=tmp_path)
    assert kpis.returncode == 0, kpis.stderr
    assert json.loads(kpis.stdout) == {"releases": [], "quarters": []}


def test_bad_csv_exits_1_with_file_and_line(tmp_path: Path) -> None:
    csv = tmp_path / "fleet.csv"
    csv.write_text("vin,model,trim,market\nLMDAB100000000001,su7,max,DE\nSHORT,su7,max,DE\n")
    done = run("fleet", "import", str(csv), "--database", f"sqlite:///{tmp_path / 'f.db'}", cwd=tmp_path)
    assert done.returncode == 1
    assert f"{csv}:3: vin: VIN 'SHORT'" in done.stderr.replace("\n", "")


def test_unreachable_database_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    done = run("fleet", "stability", "--database", "postgresql+psycopg://x:pw@127.0.0.1:9/db", cwd=tmp_path)
    assert done.returncode == 1
    assert "cannot reach the database" in done.stderr and "Traceback" not in done.stderr


def test_demo_command_builds_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    first = run("fleet", "demo", "--vehicles", "800", "--database", url, "--json", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    data = json.loads(first.stdout)
    assert data["created"] is True and data["vehicles"] == 800
    assert [c["state"] for c in data["campaigns"]] == ["completed", "halted"]
    again = run("fleet", "demo", "--database", url, "--json", cwd=tmp_path)
    assert json.loads(again.stdout)["created"] is False


def test_campaigns_list_and_control(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    assert run("fleet", "demo", "--vehicles", "600", "--database", url, cwd=tmp_path).returncode == 0
    listed = json.loads(run("fleet", "campaigns", "--database", url, "--json", cwd=tmp_path).stdout)
    assert [(c["release"], c["state"]) for c in listed["campaigns"]] == [
        ("hub-os-1.7.0", "completed"), ("adas-high-2.5.0", "halted")]
    refused = run("fleet", "campaign", "pause", "2", "--database", url, cwd=tmp_path)
    assert refused.returncode == 1 and "cannot pause campaign 2: it is halted" in refused.stderr
    done = run("fleet", "campaign", "cancel", "2", "--reason", "bad build", "--database", url, cwd=tmp_path)
    assert done.returncode == 0 and "campaign 2: cancelled" in done.stdout
    unknown = run("fleet", "campaign", "explode", "2", "--database", url, cwd=tmp_path)
    assert unknown.returncode == 1 and "unknown action 'explode'" in unknown.stderr
