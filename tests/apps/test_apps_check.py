"""Issue 19 §2: app manifests and the store policy as workspace files, and ``apps check``.

The demo's three apps are checked as they ship; every other case copies the demo workspace to a
temporary folder and writes one manifest (or edits one), so each reason and each load error is
produced by the data the test names.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from evplatform.apps.compat import check_apps, configuration_facts
from evplatform.apps.manifest import load_apps
from evplatform.cli import apps as apps_cli
from evplatform.errors import WorkspaceError
from evplatform.vehicle.hub import vss
from evplatform.workspace import demo_path, load_workspace
from evplatform.workspace.model import Workspace

BASE = """id: {id}
publisher: tester
version: 1.0.0
signals:
  read: [Vehicle.Speed]
markets: [CN, EU]
data_categories: [energy]
min_hub_version: "1.0"
"""


@pytest.fixture(scope="module")
def demo() -> Workspace:
    return load_workspace(None)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A copy of the demo workspace to edit."""
    target = tmp_path / "ws"
    shutil.copytree(demo_path(), target)
    return target


def _write(folder: Path, app_id: str, text: str) -> Path:
    path = folder / "apps" / f"{app_id}.yaml"
    path.write_text(text)
    return path


def _verdicts(folder: Path, app_id: str) -> dict[tuple[str, str], list[tuple[str, str]]]:
    ws = load_workspace(folder)
    return {(v.trim, v.market): [(r.code, r.message) for r in v.reasons]
            for v in check_apps(ws, load_apps(ws)) if v.app == app_id}


def test_the_demo_apps_load_and_one_is_refused_on_a_trim(demo: Workspace) -> None:
    catalogue = load_apps(demo)
    assert set(catalogue.apps) == {"charging-planner", "insurance-ubi", "home-bridge"}
    home = catalogue.apps["home-bridge"]
    assert home.actuates and all(s.startswith("Vehicle.Cabin.HVAC.") for s in home.actuates)
    assert catalogue.apps["insurance-ubi"].owner_consent
    verdicts = check_apps(demo, catalogue)
    assert len(verdicts) == 3 * len(demo.configurations)
    refused = {(v.app, v.trim) for v in verdicts if not v.compatible}
    # su7/standard has the 4G module only; the home bridge needs the 5G module's remote link
    standard_features = demo.configuration(demo.trim("su7/standard"))
    assert "Telematics5G" not in standard_features
    assert ("home-bridge", "su7/standard") in refused
    assert all(v.compatible for v in verdicts if v.app == "charging-planner")


def test_a_feature_expression_false_for_the_configuration_is_a_reason(demo: Workspace) -> None:
    by_cell = {(v.app, v.trim, v.market): v for v in check_apps(demo, load_apps(demo))}
    refused = by_cell[("home-bridge", "su7/standard", "CN")]
    assert [r.code for r in refused.reasons] == ["features"]
    assert "Telematics5G" in refused.reasons[0].message
    assert by_cell[("home-bridge", "su7/pro", "CN")].compatible


def test_a_market_rule_of_the_store_policy_is_a_reason(demo: Workspace) -> None:
    by_cell = {(v.app, v.trim, v.market): v for v in check_apps(demo, load_apps(demo))}
    cn = by_cell[("insurance-ubi", "su7/max", "CN")]
    assert [(r.code, "driving_behaviour" in r.message) for r in cn.reasons] == [("market", True)]
    assert by_cell[("insurance-ubi", "su7/max", "DE")].compatible  # DE is under EU, which the app lists


def test_a_market_the_app_is_not_offered_in(folder: Path) -> None:
    _write(folder, "probe", BASE.format(id="probe").replace("markets: [CN, EU]", "markets: [FR]"))
    verdicts = _verdicts(folder, "probe")
    assert verdicts[("su7/max", "FR")] == []
    assert [code for code, _ in verdicts[("su7/max", "DE")]] == ["market"]
    assert "not offered in DE" in verdicts[("su7/max", "DE")][0][1]


def test_a_signal_the_trims_hub_does_not_provide(folder: Path, demo: Workspace) -> None:
    """The steering target exists only on steer-by-wire hubs (yu7/max); reading it elsewhere is refused."""
    text = BASE.format(id="probe").replace("read: [Vehicle.Speed]", f"read: [{vss.STEERING_TARGET}]")
    _write(folder, "probe", text)
    verdicts = _verdicts(folder, "probe")
    by_wire = {t.key for t in demo.trims() if demo.roles.present("steer_by_wire", demo.configuration(t))}
    assert by_wire and by_wire != {t.key for t in demo.trims()}
    for (trim, _), reasons in verdicts.items():
        assert (reasons == []) == (trim in by_wire), (trim, reasons)
        if trim not in by_wire:
            assert reasons == [("signal", f"{vss.STEERING_TARGET} is not provided by this trim's hub")]


@pytest.mark.parametrize("signal", [vss.BRAKE_FORCE, vss.STEERING_TARGET, vss.CRUISE_SPEED])
def test_actuating_braking_steering_or_propulsion_is_beyond_the_store_policy(folder: Path, signal: str) -> None:
    _write(folder, "probe", BASE.format(id="probe").replace("  read: [Vehicle.Speed]",
                                                            f"  read: [Vehicle.Speed]\n  actuate: [{signal}]"))
    verdicts = _verdicts(folder, "probe")
    assert all(any(code == "policy" and signal in message for code, message in reasons)
               for reasons in verdicts.values())


def test_a_consent_category_without_consent_is_beyond_the_store_policy(folder: Path) -> None:
    _write(folder, "probe", BASE.format(id="probe").replace("[energy]", "[location]"))
    assert all(("policy", "collects location without asking the owner's consent (store policy)") in r
               for r in _verdicts(folder, "probe").values())
    _write(folder, "probe", BASE.format(id="probe").replace("[energy]", "[location]") + "owner_consent: true\n")
    assert all(r == [] for r in _verdicts(folder, "probe").values())


def test_a_hub_older_than_the_app_needs(folder: Path) -> None:
    _write(folder, "probe", BASE.format(id="probe").replace('"1.0"', '"9.1"'))
    reasons = _verdicts(folder, "probe")[("su7/max", "CN")]
    assert [code for code, _ in reasons] == ["hub_version"] and "older than the 9.1" in reasons[0][1]


@pytest.mark.parametrize(("edit", "line", "message"), [
    (("read: [Vehicle.Speed]", "read: [Vehicle.Sped]"), 5, "'Vehicle.Sped' is not a VSS signal of the hub's "
                                                          "catalogue; did you mean 'Vehicle.Speed'?"),
    (("read: [Vehicle.Speed]", "actuate: [Vehicle.Speed]"), 5, "Vehicle.Speed is a VSS sensor, not an actuator"),
    (("markets: [CN, EU]", "markets: [CN, XX]"), 6, "unknown market 'XX'"),
    (("[energy]", "[secrets]"), 7, "'secrets' is not a category of the store policy"),
    (("publisher: tester", "publisher: Tester!"), 2, "publisher 'Tester!'"),
    (("version: 1.0.0", "version: one"), 3, "version 'one' is not a version"),
    (("markets: [CN, EU]", "markets: [CN, EU]\nfeatures: Telematics6G"), 7, "features: unknown feature"),
    (("markets: [CN, EU]", "markets: [CN, EU]\ncolour: red"), 7, "unknown key 'colour'"),
    (("signals:\n  read: [Vehicle.Speed]", "signals: {}"), 4, "at least one signal"),
    (("id: probe", "id: other"), 1, "must equal the file name"),
])
def test_a_bad_manifest_is_refused_naming_file_and_line(folder: Path, edit: tuple[str, str], line: int,
                                                         message: str) -> None:
    text = BASE.format(id="probe")
    assert edit[0] in text
    path = _write(folder, "probe", text.replace(*edit))
    ws = load_workspace(folder)
    with pytest.raises(WorkspaceError) as caught:
        load_apps(ws)
    assert caught.value.file == str(path) and caught.value.line == line
    assert message in caught.value.message


def test_malformed_yaml_and_a_missing_policy_are_refused(folder: Path) -> None:
    path = _write(folder, "probe", "id: [probe\n")
    ws = load_workspace(folder)
    with pytest.raises(WorkspaceError, match="malformed YAML") as caught:
        load_apps(ws)
    assert caught.value.file == str(path)
    path.unlink()
    (folder / "apps" / "store-policy.yaml").unlink()
    with pytest.raises(WorkspaceError, match="no store policy"):
        load_apps(ws)


def test_a_policy_pattern_that_matches_no_signal_is_refused(folder: Path) -> None:
    policy = folder / "apps" / "store-policy.yaml"
    text = policy.read_text()
    policy.write_text(text.replace("  - Vehicle.ADAS.*\nnever_provide", "  - Vehicle.Wings.*\nnever_provide"))
    with pytest.raises(WorkspaceError, match=r"'Vehicle.Wings.\*' matches no VSS signal") as caught:
        load_apps(load_workspace(folder))
    assert caught.value.file == str(policy) and caught.value.line is not None


def test_a_workspace_without_apps_has_none(folder: Path) -> None:
    shutil.rmtree(folder / "apps")
    ws = load_workspace(folder)
    catalogue = load_apps(ws)
    assert catalogue.apps == {} and check_apps(ws, catalogue) == []


def test_every_configuration_gets_its_hubs_signals_and_version(demo: Workspace) -> None:
    facts = configuration_facts(demo, load_apps(demo).policy)
    assert {(f.trim, f.market) for f in facts} == set(demo.configurations)
    assert {f.hub_version_text for f in facts} == {demo.software["hub-os"].version}
    assert all({vss.SPEED, vss.SOC, vss.HVAC_DRIVER_TEMP} <= f.signals for f in facts)


def test_the_cli_prints_every_verdict_as_json(demo: Workspace) -> None:
    app = typer.Typer()
    apps_cli.register(app)
    result = CliRunner().invoke(app, ["apps", "check", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert len(data["verdicts"]) == 3 * len(demo.configurations) == 3 * len(data["configurations"])
    home = next(a for a in data["apps"] if a["id"] == "home-bridge")
    assert home["incompatible"] == sum(1 for v in data["verdicts"] if v["app"] == "home-bridge" and not v["compatible"])
    text = CliRunner().invoke(app, ["apps", "check", "--incompatible"])
    assert text.exit_code == 0 and "Telematics5G" in text.stdout


def test_evplatform_check_refuses_a_bad_manifest(folder: Path) -> None:
    from evplatform.cli.main import app

    path = _write(folder, "probe", BASE.format(id="probe").replace("Vehicle.Speed", "Vehicle.Sped"))
    result = CliRunner().invoke(app, ["check", str(folder)])
    assert isinstance(result.exception, WorkspaceError)  # the console script prints it and exits 1
    assert str(result.exception).startswith(f"{path}:5:") and "Vehicle.Sped" in str(result.exception)
    path.unlink()
    assert CliRunner().invoke(app, ["check", str(folder)]).exit_code == 0
