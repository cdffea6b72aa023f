"""The vehicle registry and fleet CSV import: derived configuration and software, every bad-row case."""

from __future__ import annotations

import logging
import re
import shutil
from pathlib import Path

import pytest

from evplatform.errors import FleetError, SourceError
from evplatform.fleet.registry import (
    VehicleSpec,
    check_vin,
    import_csv,
    market_policies,
    register_vehicles,
)
from evplatform.store import Store
from evplatform.store import vehicles as vdb
from evplatform.workspace import Workspace, demo_path, load_workspace
from fleet_support import T0
from tiny_workspace import edit_file, write_vehicle_workspace

HEADER = "vin,model,trim,market,timezone,consent_telemetry,consent_updates\n"
GOOD = (
    "LMDAB100000000001,su7,max,DE,,true,true\n"
    "LMDAB100000000002,yu7,standard,CN,Asia/Urumqi,no,yes\n"
)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "fleet.csv"
    path.write_text(text)
    return path


def test_registered_vehicle_carries_its_configuration_and_software(store: Store, demo: Workspace) -> None:
    register_vehicles(store, demo, [VehicleSpec("LMDAB100000000001", "su7", "max", "DE")], at=T0)
    record = vdb.vehicle_by_vin(store, "LMDAB100000000001")
    assert record is not None
    trim = demo.trim("su7/max")
    assert record.configuration == demo.configuration(trim, "DE")
    assert record.timezone == "Europe/Berlin"
    assert record.software["adas"] == {"component": "adas-high", "version": "2.4.0"}
    assert record.hardware_ids["adas"] == "MD-ADAS-ORIN-X2"
    assert record.rxswin["R156"].startswith("SU7-")  # DE is a UNECE market
    assert record.registered_at == T0


def test_market_policies_follow_the_update_regulations(demo: Workspace) -> None:
    policies = {p.id: p for p in market_policies(demo)}
    assert policies["CN"].approval_required and "CN-GB44496" in policies["CN"].approval_basis
    assert policies["DE"].approval_required and "UN-R156" in policies["DE"].approval_basis
    assert policies["CN"].timezone == "Asia/Shanghai"


def test_csv_import(store: Store, demo: Workspace, tmp_path: Path) -> None:
    assert import_csv(store, demo, write(tmp_path, HEADER + GOOD), at=T0) == 2
    second = vdb.vehicle_by_vin(store, "LMDAB100000000002")
    assert second is not None and second.timezone == "Asia/Urumqi"
    assert second.consent_telemetry is False and second.consent_updates is True
    assert [c["vehicles"] for c in vdb.fleet_counts(store)] == [1, 1]


@pytest.mark.parametrize(
    ("rows", "line", "message"),
    [
        ("LMDAB10000000000,su7,max,DE,,,\n", 3, "vin: VIN 'LMDAB10000000000' is not 17"),
        ("LMDAB1000000000O3,su7,max,DE,,,\n", 3, "vin: VIN"),
        ("LMDAB100000000003,su9,max,DE,,,\n", 3, "model: unknown model 'su9'"),
        ("LMDAB100000000003,su7,mega,DE,,,\n", 3, "trim: unknown trim 'mega' of su7"),
        ("LMDAB100000000003,su7,max,XX,,,\n", 3, "market: unknown market 'XX'"),
        ("LMDAB100000000003,su7-ultra,ultra,DE,,,\n", 3, "market: su7-ultra/ultra is not sold in market DE"),
        ("LMDAB100000000003,su7,max,DE,Mars/Base,,\n", 3, "timezone: unknown time zone 'Mars/Base'"),
        ("LMDAB100000000003,su7,max,DE,,maybe,\n", 3, "consent_telemetry: 'maybe' is not true/false"),
        ("LMDAB100000000003,,max,DE,,,\n", 3, "model: empty"),
        ("LMDAB100000000001,su7,max,DE,,,\n", 3, "vin: LMDAB100000000001 already appears on line 1"),
        ("LMDAB100000000003,su7,max,DE,,,,extra\n", 3, "more values than columns"),
    ],
)
def test_bad_rows_name_file_line_field_and_import_nothing(
    store: Store, demo: Workspace, tmp_path: Path, rows: str, line: int, message: str
) -> None:
    path = write(tmp_path, HEADER + GOOD.splitlines(keepends=True)[0] + rows)
    with pytest.raises(SourceError) as caught:
        import_csv(store, demo, path)
    error = caught.value
    assert isinstance(error, FleetError)
    assert error.file == str(path) and error.line == line
    assert message.replace("line 1", "line 2") in str(error)
    assert vdb.count_vehicles(store) == 0


def test_missing_and_unknown_columns(store: Store, demo: Workspace, tmp_path: Path) -> None:
    with pytest.raises(SourceError, match=r"fleet.csv:1: missing column\(s\) market"):
        import_csv(store, demo, write(tmp_path, "vin,model,trim\n"))
    with pytest.raises(SourceError, match=r"unknown column\(s\) colour"):
        import_csv(store, demo, write(tmp_path, "vin,model,trim,market,colour\n"))
    with pytest.raises(SourceError, match="cannot read the file"):
        import_csv(store, demo, tmp_path / "absent.csv")


def test_already_registered_vin_names_its_line(store: Store, demo: Workspace, tmp_path: Path) -> None:
    import_csv(store, demo, write(tmp_path, HEADER + GOOD))
    again = write(tmp_path, HEADER + "LMDAB100000000009,su7,max,DE,,,\n" + GOOD)
    with pytest.raises(SourceError, match=r"fleet.csv:3: vin: LMDAB100000000001 is already registered"):
        import_csv(store, demo, again)
    assert vdb.count_vehicles(store) == 2


def test_register_refuses_duplicates_and_bad_vins(store: Store, demo: Workspace) -> None:
    spec = VehicleSpec("LMDAB100000000001", "su7", "max", "DE")
    with pytest.raises(FleetError, match="appears twice"):
        register_vehicles(store, demo, [spec, spec])
    with pytest.raises(FleetError, match="ISO 3779"):
        check_vin("lmdab100000000001")
    assert vdb.count_vehicles(store) == 0


def _rename_everywhere(root: Path, old: str, new: str) -> None:
    for path in root.rglob("*"):
        if path.is_file() and path.suffix in {".yaml", ".uvl", ".csv"}:
            text = path.read_text()
            path.write_text(re.sub(rf"\b{old}\b", new, text))


def test_the_approval_gate_follows_the_update_management_role_not_its_name(demo: Workspace, tmp_path: Path) -> None:
    root = tmp_path / "ws"
    shutil.copytree(demo_path(), root)
    _rename_everywhere(root, "UpdateManagement", "SoftwareUpdateSystem")
    renamed = load_workspace(root)
    assert renamed.roles.features("update_management") == {"SoftwareUpdateSystem"}
    assert "UpdateManagement" not in renamed.feature_model.features
    assert market_policies(renamed) == market_policies(demo)
    assert all(p.approval_required for p in market_policies(renamed))


def test_the_approval_gate_of_a_small_platform(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    root = write_vehicle_workspace(tmp_path, {"SumsBox": "OtaManager"})
    policies = {p.id: p for p in market_policies(load_workspace(root))}
    assert {(p.approval_required, p.approval_basis, p.timezone) for p in policies.values()} == {
        (True, "UN-R156", "Europe/Vienna")
    }
    edit_file(root / "platform.yaml", "update_management: OtaManager", "update_management: null")
    with caplog.at_level(logging.WARNING, logger="evplatform.fleet.registry"):
        without = market_policies(load_workspace(root))
    assert not any(p.approval_required for p in without)
    assert "role update_management is absent" in caplog.text


def test_a_vehicle_takes_its_markets_time_zone_from_the_market_file(store: Store, tmp_path: Path) -> None:
    root = write_vehicle_workspace(tmp_path)
    edit_file(root / "markets" / "HOME.yaml", "time_zone: Europe/Vienna", "time_zone: America/Bogota")
    ws = load_workspace(root)
    register_vehicles(store, ws, [VehicleSpec("LMDAB100000000001", "car", "base", "CITY")], at=T0)
    record = vdb.vehicle_by_vin(store, "LMDAB100000000001")
    assert record is not None and record.timezone == "America/Bogota"


def test_a_second_platform_with_its_own_names_keeps_the_gate_and_its_clocks() -> None:
    lumen = load_workspace(Path(__file__).resolve().parents[1] / "any_platform" / "lumen")
    policies = {p.id: p for p in market_policies(lumen)}
    assert all(p.approval_required and p.approval_basis == "R156" for p in policies.values())
    assert {m: p.timezone for m, p in policies.items()} == {m.id: m.time_zone for m in lumen.markets.values()}
    assert policies["UK"].timezone == "Europe/London" and policies["FR"].timezone == "Europe/Paris"
