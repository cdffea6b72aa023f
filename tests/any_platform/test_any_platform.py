"""A second carmaker's platform, described with its own names, through every command and page.

``lumen`` (this folder) is a 400 V LFP city-car platform in EUR sold in the EU (France and Spain)
and the UK, right-hand drive there; every feature that means something to the engines has a name
unlike the demo's and is declared by its role in platform.yaml. Nothing the product prints for it
may mention the demo, and the results that depend on roles must follow the roles, not the names.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from evplatform.api import create_app
from evplatform.fleet.registry import market_policies
from evplatform.workspace import load_workspace

LUMEN = Path(__file__).resolve().parent / "lumen"
DEMO_NAMES = re.compile(r"su7|yu7|xiaomi|modena|hub-os|adas-high|adas-std|UpdateManagement|BrakeByWire|LidarSuite"
                        r"|SteerByWire|ZoneControllers|HighwayNOA|\bCNY\b", re.IGNORECASE)
SCENARIO = """fleet_size: 3000
vin_prefix: LUM
market_shares: {FR: 0.5, ES: 0.2, UK: 0.3}
releases:
  - {component: vcu-core, version: "4.2.0"}
  - {component: pilot-stack, version: "1.3.0", crash_cohort: volpe/pilot, crash_rate: 0.6}
"""


def run(*args: str, cwd: Path) -> str:
    done = subprocess.run([sys.executable, "-m", "evplatform", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=300)
    assert done.returncode == 0, f"evplatform {' '.join(args)}: {done.stderr}"
    output = done.stdout + done.stderr
    assert not DEMO_NAMES.findall(output), (args, sorted(set(DEMO_NAMES.findall(output))))
    return done.stdout


@pytest.fixture(scope="module")
def fleet_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    folder = tmp_path_factory.mktemp("lumen-fleet")
    (folder / "plan.yaml").write_text(SCENARIO)
    url = f"sqlite:///{folder / 'lumen.db'}"
    data = json.loads(run("fleet", "simulate", str(LUMEN), "--scenario", str(folder / "plan.yaml"), "--json",
                          "--no-plot", "--database", url, cwd=folder))
    assert [(c["release"], c["state"]) for c in data["campaigns"]] == [("vcu-core-4.2.0", "completed"),
                                                                        ("pilot-stack-1.3.0", "halted")]
    return url


@pytest.mark.parametrize(
    "args",
    [
        ("check", "--json"),
        ("kpi", "--json"),
        ("bom", "--json"),
        ("comply", "--roadmap", "--json"),
        ("comply", "--market", "UK", "--date", "2027-10-01", "--json"),
        ("simulate", "--json"),
        ("hub", "faults", "--json"),
        ("hub", "aeb", "--json"),
        ("apps", "check", "--json"),
        ("europe", "--json"),
    ],
    ids=lambda a: "-".join(a),
)
def test_every_command_runs_on_the_second_platform_and_names_nothing_of_the_demo(
        args: tuple[str, ...], tmp_path: Path) -> None:
    command, *options = args
    words = [command] if command not in ("hub", "apps") else [command, options.pop(0)]
    data = json.loads(run(*words, str(LUMEN), *options, cwd=tmp_path))
    assert data  # a real answer, not an empty document


def test_kpi_is_in_the_platforms_currency_and_bom_lists_every_trim(tmp_path: Path) -> None:
    bom = json.loads(run("bom", str(LUMEN), "--json", cwd=tmp_path))
    assert bom["currency"] == "EUR"
    assert {t["trim"] for t in bom["trims"]} == {
        "civetta/city", "civetta/plus", "volpe/core", "volpe/pilot"}


def test_the_r156_gate_follows_the_update_management_role() -> None:
    """R156 requires SwUpdateSuite, the feature lumen declares as its update-management role."""
    policies = {p.id: p for p in market_policies(load_workspace(LUMEN))}
    assert {m for m, p in policies.items() if p.approval_required} >= {"FR", "ES", "UK"}


@pytest.fixture(scope="module")
def client(fleet_db: str) -> Iterator[TestClient]:
    with TestClient(create_app(LUMEN, fleet_db)) as test_client:
        yield test_client


@pytest.mark.parametrize("page", ["/", "/platform", "/bom", "/compliance", "/simulation", "/insights", "/fleet",
                                  "/campaigns", "/releases", "/apps", "/europe"])
def test_every_page_serves_the_second_platform_and_names_nothing_of_the_demo(client: TestClient, page: str) -> None:
    response = client.get(page)
    assert response.status_code == 200, response.text[:300]
    assert not DEMO_NAMES.findall(response.text), sorted(set(DEMO_NAMES.findall(response.text)))


LUMEN_POLICY = """hub_component: vcu-core
data_categories:
  energy: {consent: false}
never_actuate: [Vehicle.Chassis.*]
"""
LUMEN_APP = """id: regen-coach
publisher: lumen-labs
version: "1.0"
signals:
  read: [Vehicle.MotionManagement.Brake.VehicleForceElectric]
markets: [EU]
data_categories: [energy]
min_hub_version: "4"
"""


def test_apps_check_follows_the_second_platforms_roles_and_markets(tmp_path: Path) -> None:
    """lumen's brake-by-wire is ElectroBrake and it declares no steer-by-wire: an app reading the
    electric brake force runs where ElectroBrake is selected, one reading the steer-by-wire target
    nowhere; both only in the markets under EU (not the UK); the feature expression uses lumen's names."""
    from evplatform.apps.compat import check_apps
    from evplatform.apps.manifest import load_apps

    folder = tmp_path / "lumen"
    shutil.copytree(LUMEN, folder)
    (folder / "apps").mkdir()
    (folder / "apps" / "store-policy.yaml").write_text(LUMEN_POLICY)
    (folder / "apps" / "regen-coach.yaml").write_text(LUMEN_APP + "features: RegionNodes\n")
    steering = "Vehicle.MotionManagement.Steering.SteeringWheel.AngleTarget"
    (folder / "apps" / "lane-art.yaml").write_text(LUMEN_APP.replace("regen-coach", "lane-art").replace(
        "Vehicle.MotionManagement.Brake.VehicleForceElectric", steering))
    ws = load_workspace(folder)
    verdicts = check_apps(ws, load_apps(ws))
    assert len(verdicts) == 2 * len(ws.configurations)
    for v in verdicts:
        config = ws.configurations[(v.trim, v.market)]
        codes = {r.code for r in v.reasons}
        if v.app == "regen-coach":
            assert ("signal" in codes) != ws.roles.present("brake_by_wire", config), v
            assert ("features" in codes) != ("RegionNodes" in config), v
        else:
            assert "signal" in codes, v
        assert ("market" in codes) == (v.market == "UK"), v
    assert any(v.compatible for v in verdicts)
    data = json.loads(run("apps", "check", str(folder), "--json", cwd=tmp_path))
    assert [a["id"] for a in data["apps"]] == ["lane-art", "regen-coach"]


def test_campaign_create_help_lists_the_workspace_choices(tmp_path: Path) -> None:
    """``campaign create --help`` names the models, trims and markets of the workspace it is given."""
    lumen = load_workspace(LUMEN)
    for command in ("create", "dry-run"):
        text = run("campaign", command, str(LUMEN), "--help", cwd=tmp_path)
        choices = " ".join(text[text.index("Choices in workspace"):].split())
        for model in lumen.models:
            assert model in choices
        assert "civetta/city" in choices and "FR" in choices and "regions: EU" in choices
