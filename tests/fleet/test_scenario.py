"""Fleet scenarios as data: any workspace, its own names, errors at file:line, the demo's unchanged."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from evplatform.fleet.scenario import (
    SCENARIO_FILE,
    ScenarioError,
    bump_version,
    derive_scenario,
    load_scenario,
    read_scenario,
    wmi_from_name,
)
from evplatform.fleet.simulator import fleet_plan
from evplatform.workspace import Workspace, load_workspace
from tiny_workspace import write_tiny_workspace

DEMO_NAMES = ("hub-os", "adas-high", "su7", "yu7", "xiaomi", "modena", "LMD")

SOFTWARE = """components:
  - id: fw
    name: Firmware
    ecu: main
    hardware_id: HW-1
    compatible: Car
    version: 1.0.0
  - id: tuner
    name: Radio tuner
    ecu: radio
    hardware_id: HW-R
    compatible: Radio
    version: 2.3.0
"""

SCENARIO = """# a two-market plan of the tiny platform
fleet_size: 1200
vin_prefix: TNY
seed: 3
market_shares:
  HOME: 0.6
  AWAY: 0.4
releases:
  - component: fw
    version: "1.1.0"
  - component: tuner
    version: "2.4.0"
    crash_cohort: beta/base
    crash_rate: 0.5
"""


def _workspace(root: Path, scenario: str | None = SCENARIO) -> Path:
    """The tiny workspace with a second market and a second component (names unlike the demo's)."""
    write_tiny_workspace(root)
    platform = (root / "platform.yaml").read_text().replace("markets: [HOME]", "markets: [HOME, AWAY]")
    (root / "platform.yaml").write_text(platform)
    (root / "markets" / "AWAY.yaml").write_text("name: Away\nhomologation_cycle: WLTC\nmodels: [alpha, beta]\n"
                                                "select: []\n")
    (root / "software.yaml").write_text(SOFTWARE)
    if scenario is not None:
        (root / SCENARIO_FILE).write_text(scenario)
    return root


@pytest.fixture
def tiny(tmp_path: Path) -> Workspace:
    return load_workspace(_workspace(tmp_path / "ws"))


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "evplatform", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=600)


def _no_demo_names(text: str) -> None:
    low = text.lower()
    assert not [n for n in DEMO_NAMES if n.lower() in low], text[:2000]


def test_a_workspace_runs_its_own_scenario_and_names_nothing_of_the_demo(tmp_path: Path) -> None:
    root = _workspace(tmp_path / "ws")
    db = tmp_path / "fleet.db"
    done = _run("fleet", "simulate", str(root), "--json", "--no-plot", "--database", f"sqlite:///{db}", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    _no_demo_names(done.stdout + done.stderr)
    data = json.loads(done.stdout)
    assert data["vehicles"] == 1200  # the scenario's fleet_size
    assert data["scenario"]["derived"] is False and data["scenario"]["source"].endswith(SCENARIO_FILE)
    good, bad = data["campaigns"]
    assert (good["release"], good["state"]) == ("fw-1.1.0", "completed")
    assert (bad["release"], bad["state"]) == ("tuner-2.4.0", "halted")
    with sqlite3.connect(db) as connection:
        vins = [r[0] for r in connection.execute("select vin from vehicles")]
        markets = dict(connection.execute("select market, count(*) from vehicles group by market").fetchall())
    assert len(vins) == 1200 and all(v.startswith("TNY") for v in vins)
    # both markets sell both models, so the fleet splits like the shares (multinomial noise aside)
    assert markets["HOME"] / 1200 == pytest.approx(0.6, abs=0.05)


def test_without_a_scenario_file_one_is_derived_and_said_so(tmp_path: Path) -> None:
    root = _workspace(tmp_path / "ws", scenario=None)
    done = _run("fleet", "simulate", str(root), "--vehicles", "600", "--json", "--no-plot", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    _no_demo_names(done.stdout + done.stderr)
    data = json.loads(done.stdout)
    assert data["scenario"]["derived"] is True
    assert "derived from the workspace" in done.stderr
    assert any("derived" in note for note in data["scenario"]["notes"])
    assert [c["release"] for c in data["campaigns"]] == ["fw-1.1.0", "tuner-2.4.0"]
    assert all(c["state"] == "completed" for c in data["campaigns"])  # no bad release was invented


def test_fleet_demo_builds_any_workspace(tmp_path: Path) -> None:
    root = _workspace(tmp_path / "ws")
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    done = _run("fleet", "demo", str(root), "--vehicles", "800", "--database", url, "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    _no_demo_names(done.stdout + done.stderr)
    data = json.loads(done.stdout)
    assert data["created"] and data["vehicles"] == 800
    assert [(c["release"], c["state"]) for c in data["campaigns"]] == [("fw-1.1.0", "completed"),
                                                                        ("tuner-2.4.0", "halted")]


def test_derived_scenario(tiny: Workspace) -> None:
    scenario = derive_scenario(tiny)
    assert scenario.derived and scenario.vin_prefix == "TNY"
    assert [(r.component, r.version, r.crash_cohort) for r in scenario.releases] == [
        ("fw", "1.1.0", None), ("tuner", "2.4.0", None)]
    assert scenario.market_shares == {"HOME": 0.5, "AWAY": 0.5}
    plan = fleet_plan(tiny, 3000, 1, dict(scenario.market_shares))
    by_trim: dict[str, int] = {}
    for trim, _, n in plan:
        by_trim[trim.key] = by_trim.get(trim.key, 0) + n
    assert by_trim["alpha/base"] / 3000 == pytest.approx(1000 / 1500, abs=0.04)  # planned volumes 1000 : 500


def test_the_demo_ships_its_scenario() -> None:
    demo = load_workspace(None)
    scenario = load_scenario(demo)
    assert not scenario.derived and scenario.source.endswith(SCENARIO_FILE)
    assert scenario.market_shares == {"CN": 0.85, "DE": 0.05, "FR": 0.04, "ES": 0.03, "IT": 0.03}
    assert [(r.component, r.version, r.crash_cohort, r.crash_rate) for r in scenario.releases] == [
        ("hub-os", "1.7.0", None, 0.0), ("adas-high", "2.5.0", "su7/max", 0.05)]
    assert (scenario.vin_prefix, scenario.fleet_size, scenario.seed) == ("LMD", 10_000, 7)


@pytest.mark.parametrize(("old", "new", "line", "message"), [
    ("releases:", "relases:", 8, "unknown key 'relases' in the scenario (did you mean 'releases'?)"),
    ("component: fw\n", "component: fx\n", 9, "unknown software component 'fx' (did you mean 'fw'?"),
    ("  AWAY: 0.4", "  AWYA: 0.4", 7, "unknown market 'AWYA' (did you mean 'AWAY'?"),
    ("crash_cohort: beta/base", "crash_cohort: beta/bse", 13, "unknown trim 'beta/bse' (did you mean 'beta/base'?"),
    ("  AWAY: 0.4", "  AWAY: 0.3", 5, "market_shares sum to 0.9, not 1"),
    ("crash_cohort: beta/base", "crash_cohort: alpha/base", 13, "tuner is not compatible with alpha/base"),
    ("vin_prefix: TNY", "vin_prefix: TIN", 3, "vin_prefix must be 3 characters"),
    ('version: "1.1.0"', 'version: "1.0.0"', 10, "fw 1.0.0 is the version already in production"),
    ('version: "1.1.0"', "version: 1.1", 10, "version must be a quoted string"),
    ("    crash_rate: 0.5\n", "", 11, "needs both crash_cohort"),
    ("    crash_rate: 0.5", "    crash_rate: 5", 14, "crash_rate must be a number from 0 to 1"),
    ("seed: 3", "seed: [3", 5, "malformed YAML"),  # where the parser notices
    ("fleet_size: 1200", "fleet_size: 0", 2, "fleet_size must be a whole number ≥ 1"),
    ("# a two", "window: [1, 5]\n# a two", 1, "window must be two quoted local times"),
])
def test_scenario_errors_name_file_and_line(tmp_path: Path, old: str, new: str, line: int, message: str) -> None:
    assert old in SCENARIO
    root = _workspace(tmp_path / "ws", SCENARIO.replace(old, new, 1))
    ws = load_workspace(root)
    with pytest.raises(ScenarioError) as caught:
        load_scenario(ws)
    assert caught.value.file == str(root / SCENARIO_FILE)
    assert caught.value.line == line, str(caught.value)
    assert message in caught.value.message


def test_without_market_shares_the_market_files_fleet_share_count(tmp_path: Path) -> None:
    without = "\n".join(line for line in SCENARIO.splitlines() if not line.startswith(("market_shares", "  HOME",
                                                                                          "  AWAY")))
    root = _workspace(tmp_path / "ws", without)
    away = root / "markets" / "AWAY.yaml"
    away.write_text(away.read_text() + "fleet_share: 0.25\n")
    scenario = load_scenario(load_workspace(root))
    assert scenario.market_shares == {"AWAY": 0.25, "HOME": 0.75}  # HOME declares none: it takes the rest
    assert "HOME declare none" in scenario.notes[0]
    assert derive_scenario(load_workspace(root)).market_shares == {"AWAY": 0.25, "HOME": 0.75}
    home = root / "markets" / "HOME.yaml"
    home.write_text(home.read_text() + "fleet_share: 0.85\n")
    with pytest.raises(ScenarioError, match=r"fleet_share sum to 1\.1, not 1") as caught:
        load_scenario(load_workspace(root))
    assert (caught.value.file, caught.value.line) == (str(home), 5)


def test_a_group_market_cannot_take_a_share(tmp_path: Path) -> None:
    demo = load_workspace(None)
    path = tmp_path / "s.yaml"
    path.write_text('vin_prefix: ABC\nmarket_shares: {CN: 0.5, EU: 0.5}\nreleases: [{component: hub-os, '
                    'version: "9.0.0"}]\n')
    with pytest.raises(ScenarioError, match="market EU only groups DE, FR, ES, IT") as caught:
        read_scenario(path, demo)
    assert caught.value.line == 2


def test_the_cli_reports_a_bad_scenario_with_its_location(tmp_path: Path) -> None:
    root = _workspace(tmp_path / "ws", SCENARIO.replace("releases:", "relases:"))
    done = _run("fleet", "simulate", str(root), "--no-plot", cwd=tmp_path)
    assert done.returncode == 1
    assert f"{root / SCENARIO_FILE}:8" in done.stderr and "did you mean 'releases'" in done.stderr


def test_versions_and_vin_prefixes() -> None:
    assert bump_version("1.6.0") == "1.7.0" and bump_version("3.9") == "3.10" and bump_version("r7") == "r7.1"
    assert wmi_from_name("Tiny") == "TNY" and wmi_from_name("io") == "XXX" and wmi_from_name("Q-7 Bolt") == "7BL"


def test_fleet_scenario_command_shows_what_would_run(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from evplatform.cli.main import app

    root = _workspace(tmp_path / "ws", scenario=None)
    done = CliRunner().invoke(app, ["fleet", "scenario", str(root), "--json"])
    assert done.exit_code == 0, done.output
    data = json.loads(done.stdout)
    assert data["derived"] is True and data["market_shares"] == {"HOME": 0.5, "AWAY": 0.5}
    _no_demo_names(done.stdout)
    text = CliRunner().invoke(app, ["fleet", "scenario"])
    assert text.exit_code == 0 and "of su7/max" in text.stdout and SCENARIO_FILE in text.stdout


LUMEN = Path(__file__).resolve().parents[1] / "any_platform" / "lumen"
LUMEN_SCENARIO = """fleet_size: 3000  # at 1500 a cohort of ~30 vehicles can trip the gate on noise
vin_prefix: LUM
market_shares: {FR: 0.5, ES: 0.2, UK: 0.3}
releases:
  - {component: vcu-core, version: "4.2.0"}
  - {component: pilot-stack, version: "1.3.0", crash_cohort: volpe/pilot, crash_rate: 0.6}
"""


def test_the_second_platform_runs_a_scenario_given_with_the_option(tmp_path: Path) -> None:
    plan = tmp_path / "plan.yaml"
    plan.write_text(LUMEN_SCENARIO)
    db = tmp_path / "lumen.db"
    done = _run("fleet", "simulate", str(LUMEN), "--scenario", str(plan), "--json", "--no-plot", "--database",
                f"sqlite:///{db}", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    _no_demo_names(done.stdout + done.stderr)
    data = json.loads(done.stdout)
    assert data["scenario"]["source"] == str(plan) and data["vehicles"] == 3000
    assert [(c["release"], c["state"]) for c in data["campaigns"]] == [("vcu-core-4.2.0", "completed"),
                                                                        ("pilot-stack-1.3.0", "halted")]
    with sqlite3.connect(db) as connection:
        markets = {m for (m,) in connection.execute("select distinct market from vehicles")}
    assert markets == {"FR", "ES", "UK"}  # EU only groups FR and ES
