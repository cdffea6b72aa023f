"""The vehicle domain reads feature roles, never feature names: renaming a feature changes nothing,
a feature that merely carries a familiar name changes nothing, and a missing role is reported absent."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from evplatform.cli.main import app
from evplatform.vehicle.adas import AebSetup, ccrs_impact_speeds
from evplatform.vehicle.hub.faults import Fault
from evplatform.vehicle.scenarios import absent_roles, aeb_report, alks_report, fault_report
from evplatform.vehicle.simulate import simulate_workspace
from evplatform.workspace import Workspace, load_workspace
from tiny_workspace import edit_file, write_vehicle_workspace

SPEED_40 = 6  # index of 40 km/h in the CCRs speeds


def results(ws: Workspace) -> dict[str, Any]:
    return {"aeb": aeb_report(ws), "faults": fault_report(ws), "alks": alks_report(ws),
            "simulate": simulate_workspace(ws)}


def add_unrelated_brake_by_wire(root: Path) -> None:
    """A feature that is called BrakeByWire but plays no role, selected by the trim."""
    edit_file(root / "features.uvl", "Spare {cost 1}", "Spare {cost 1}\n            BrakeByWire {cost 1}")
    edit_file(root / "models" / "car.yaml", "select: [StopAssist_Cyclist]",
              "select: [StopAssist_Cyclist, BrakeByWire]")


def test_results_do_not_depend_on_what_the_brake_feature_is_called(tmp_path: Path) -> None:
    own = load_workspace(write_vehicle_workspace(tmp_path / "own"))
    demo_names = load_workspace(write_vehicle_workspace(tmp_path / "demo", {"OneBoxBrake": "BrakeByWire"}))
    assert demo_names.roles.features("brake_by_wire") == {"BrakeByWire"}
    assert results(own) == results(demo_names)
    expected = ccrs_impact_speeds([AebSetup("x", has_aeb=True, lidar=False, brake_by_wire=True)])[0]
    assert aeb_report(own)[0]["impact_kmh"][SPEED_40] == round(float(expected[SPEED_40]), 1) == 0.0


def test_a_feature_named_brake_by_wire_without_the_role_changes_nothing(tmp_path: Path) -> None:
    root = write_vehicle_workspace(tmp_path)
    edit_file(root / "platform.yaml", "brake_by_wire: OneBoxBrake", "brake_by_wire: null")
    before = results(load_workspace(root))
    add_unrelated_brake_by_wire(root)
    after_ws = load_workspace(root)
    assert "BrakeByWire" in after_ws.configuration(after_ws.trim("car/base"))
    assert results(after_ws) == before
    booster = ccrs_impact_speeds([AebSetup("x", has_aeb=True, lidar=False, brake_by_wire=False)])[0]
    assert before["aeb"][0]["brake_by_wire"] is False
    assert before["aeb"][0]["impact_kmh"][SPEED_40] == round(float(booster[SPEED_40]), 1) > 0.0


def test_the_brake_by_wire_role_decides_the_aeb_result_and_the_regen_rule(tmp_path: Path) -> None:
    with_role = results(load_workspace(write_vehicle_workspace(tmp_path / "a")))
    root = write_vehicle_workspace(tmp_path / "b")
    edit_file(root / "platform.yaml", "brake_by_wire: OneBoxBrake", "brake_by_wire: null")
    without = results(load_workspace(root))
    assert with_role["aeb"][0]["impact_kmh"][SPEED_40] < without["aeb"][0]["impact_kmh"][SPEED_40]
    assert with_role["simulate"][0]["consumption_kwh_per_100km"] != without["simulate"][0]["consumption_kwh_per_100km"]
    brake = {r["fault"]: r for r in without["faults"]}[Fault.BRAKE_CHANNEL_LOSS.value]
    assert brake["mode"] == "redundant_channel"  # hydraulic brakes keep their two circuits


def test_an_aeb_role_of_several_features_is_present_when_any_is_selected(tmp_path: Path) -> None:
    root = write_vehicle_workspace(tmp_path, {"StopAssist": "CityBrake", "StopAssist_Cyclist": "CyclistBrake"})
    edit_file(root / "platform.yaml", "aeb: [CityBrake, CyclistBrake]", "aeb: [CyclistBrake, Spare]")
    assert aeb_report(load_workspace(root))[0]["aeb"] is True
    edit_file(root / "models" / "car.yaml", "select: [CyclistBrake]", "select: [Motor]")
    assert aeb_report(load_workspace(root))[0]["aeb"] is False
    edit_file(root / "models" / "car.yaml", "select: [Motor]", "select: [Spare]")
    assert aeb_report(load_workspace(root))[0]["aeb"] is True


def test_absent_roles_are_reported_with_their_reason(tmp_path: Path) -> None:
    root = write_vehicle_workspace(tmp_path)
    edit_file(root / "platform.yaml", "  lidar: null\n", "")
    ws = load_workspace(root)
    absent = {a["role"]: a["reason"] for a in absent_roles(ws, "aeb")}
    assert absent == {"lidar": "no feature has role 'lidar'"}
    faults = {r["fault"]: r for r in fault_report(ws)}
    assert faults["zone_link_loss"]["mode"] == "not applicable"
    assert "zone controllers are absent" in faults["zone_link_loss"]["reason"]
    assert "zone_controllers: null" in faults["zone_link_loss"]["reason"]
    assert absent_roles(load_workspace(None), "faults") == []


def test_hub_commands_show_absent_roles(tmp_path: Path) -> None:
    root = write_vehicle_workspace(tmp_path)
    edit_file(root / "platform.yaml", "  lidar: null\n", "")
    runner = CliRunner()
    text = runner.invoke(app, ["hub", "aeb", str(root)], env={"COLUMNS": "200"})
    assert text.exit_code == 0, text.output
    assert "lidar: absent (no feature has role 'lidar')" in text.output
    as_json = runner.invoke(app, ["hub", "aeb", str(root), "--json"])
    payload = json.loads(as_json.stdout)
    assert payload["absent_roles"] == [{"role": "lidar", "title": "lidar sensor suite",
                                        "reason": "no feature has role 'lidar'"}]
    alks = runner.invoke(app, ["hub", "alks", str(root)], env={"COLUMNS": "200"})
    assert alks.exit_code == 0 and "alks: absent (platform.yaml declares alks: null)" in alks.output
    assert "absent" in alks.output.split("alks: absent")[0]  # the table's "ALKS fitted" column
    demo = json.loads(runner.invoke(app, ["hub", "alks", "--json"]).stdout)
    assert "absent_roles" not in demo and demo["alks"]


def test_a_second_platform_with_its_own_names() -> None:
    lumen = load_workspace(Path(__file__).resolve().parents[1] / "any_platform" / "lumen")
    rows = aeb_report(lumen)
    assert rows and all(r["aeb"] and r["brake_by_wire"] and not r["lidar"] for r in rows)
    expected = ccrs_impact_speeds([AebSetup("x", has_aeb=True, lidar=False, brake_by_wire=True)])[0]
    assert all(r["impact_kmh"] == [round(float(x), 1) for x in expected] for r in rows)
    assert [a["role"] for a in absent_roles(lumen, "aeb")] == ["lidar"]
    modes = {(r["vehicle"], r["fault"]): r["mode"] for r in fault_report(lumen, faults=[Fault.BRAKE_CHANNEL_LOSS])}
    with_circuit = {t.key for t in lumen.trims() if "DualBrakeCircuit" in lumen.configuration(t)}
    assert with_circuit and all(
        mode == ("redundant_channel" if vehicle in with_circuit else "controlled_stop")
        for (vehicle, _), mode in modes.items()
    )
