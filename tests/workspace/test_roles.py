"""Feature roles in platform.yaml and per-market facts in market files: parsing, errors with file:line, check."""

from __future__ import annotations

from pathlib import Path

import pytest

from evplatform.errors import SourceError, WorkspaceError
from evplatform.workspace import load_workspace
from evplatform.workspace.check import check_workspace
from evplatform.workspace.roles import CATALOGUE, FeatureRoles
from tiny_workspace import edit_file, write_tiny_workspace, write_vehicle_workspace


def load_error(root: Path) -> SourceError:
    with pytest.raises(SourceError) as info:
        load_workspace(root)
    return info.value


def test_roles_map_to_features_and_presence_follows_the_configuration(tmp_path: Path) -> None:
    ws = load_workspace(write_vehicle_workspace(tmp_path))
    roles = ws.roles
    assert roles.features("aeb") == {"StopAssist", "StopAssist_Cyclist"}
    assert roles.features("brake_by_wire") == {"OneBoxBrake"}
    assert roles.present("aeb", {"StopAssist_Cyclist"}) and not roles.present("aeb", {"OneBoxBrake"})
    assert roles.declared("lidar") and not roles.has("lidar") and roles.features("lidar") == frozenset()
    assert roles.absence("lidar") == "platform.yaml declares lidar: null"
    assert roles.absence("aeb") is None
    assert roles.roles_of("StopAssist") == ("aeb",) and roles.roles_of("Body") == ()
    assert roles.undeclared() == ()


def test_unknown_role_key_names_platform_yaml_line_and_suggests(tmp_path: Path) -> None:
    root = write_vehicle_workspace(tmp_path)
    line = edit_file(root / "platform.yaml", "  brake_by_wire: OneBoxBrake", "  brake_bywire: OneBoxBrake")
    error = load_error(root)
    assert isinstance(error, WorkspaceError)
    assert error.file is not None and error.file.endswith("platform.yaml") and error.line == line
    assert "unknown role 'brake_bywire'" in error.message and "did you mean 'brake_by_wire'" in error.message


def test_unknown_feature_in_a_role_names_its_line(tmp_path: Path) -> None:
    root = write_vehicle_workspace(tmp_path)
    edit_file(root / "platform.yaml", "  aeb: [StopAssist, StopAssist_Cyclist]",
              "  aeb:\n    - StopAssist\n    - StopAsist_Cyclist")
    line = (root / "platform.yaml").read_text().splitlines().index("    - StopAsist_Cyclist") + 1
    error = load_error(root)
    assert error.file is not None and error.file.endswith("platform.yaml") and error.line == line
    assert "roles.aeb: unknown feature 'StopAsist_Cyclist'" in error.message
    assert "did you mean 'StopAssist_Cyclist'" in error.message


@pytest.mark.parametrize("value", ["{a: 1}", "[1, 2]", "3"])
def test_a_role_value_must_be_names_or_null(tmp_path: Path, value: str) -> None:
    root = write_vehicle_workspace(tmp_path)
    line = edit_file(root / "platform.yaml", "  lidar: null", f"  lidar: {value}")
    error = load_error(root)
    assert error.line == line and "roles.lidar must be a feature name" in error.message


def test_roles_must_be_a_mapping(tmp_path: Path) -> None:
    root = write_tiny_workspace(tmp_path)
    (root / "platform.yaml").write_text((root / "platform.yaml").read_text() + "roles: [lidar]\n")
    error = load_error(root)
    assert error.line == len((root / "platform.yaml").read_text().splitlines())
    assert "roles must be a mapping" in error.message


def test_undeclared_roles_are_absent_and_check_warns_once(tmp_path: Path) -> None:
    ws = load_workspace(write_tiny_workspace(tmp_path))
    assert ws.roles.undeclared() == tuple(r.id for r in CATALOGUE)
    assert ws.roles.absence("lidar") == "no feature has role 'lidar'"
    assert not ws.roles.present("lidar", {"Radio", "Small"})
    warnings = [f for f in check_workspace(ws).findings if "feature roles not declared" in f.message]
    assert len(warnings) == 1 and warnings[0].file == "platform.yaml" and warnings[0].level == "warning"
    assert all(r.id in warnings[0].message for r in CATALOGUE)


def test_roles_declared_null_are_not_reported_as_undeclared(tmp_path: Path) -> None:
    root = write_vehicle_workspace(tmp_path)
    edit_file(root / "platform.yaml", "  highway_assist: null\n", "")
    ws = load_workspace(root)
    warning = next(f for f in check_workspace(ws).findings if "feature roles not declared" in f.message)
    assert warning.message.startswith("feature roles not declared, so absent: highway_assist (")
    assert not ws.roles.declared("highway_assist") and ws.roles.declared("lidar")


def test_feature_roles_of_checks_role_ids() -> None:
    roles = FeatureRoles.of({"lidar": "Lidar", "aeb": ["A", "B"], "alks": None})
    assert roles.features("aeb") == {"A", "B"} and roles.declared("alks") and not roles.has("alks")
    assert roles.selected(("aeb", "lidar", "alks"), {"A", "Lidar", "X"}) == {"A", "Lidar"}
    with pytest.raises(WorkspaceError, match="did you mean 'lidar'"):
        FeatureRoles.of({"lidarr": "Lidar"})
    with pytest.raises(WorkspaceError, match="unknown feature role 'radar'"):
        roles.present("radar", set())


def test_demo_declares_every_role_and_every_aeb_feature() -> None:
    ws = load_workspace(None)
    assert ws.roles.undeclared() == ()
    aeb_features = {f for f in ws.feature_model.features if f == "AEB" or f.startswith("AEB_")}
    assert aeb_features and ws.roles.features("aeb") == aeb_features
    assert all(ws.roles.has(r.id) for r in CATALOGUE)
    assert not any("feature roles" in f.message for f in check_workspace(ws).findings)


# --- market facts ---------------------------------------------------------------------------------


def test_a_child_market_inherits_its_parents_time_zone_or_overrides_it(tmp_path: Path) -> None:
    root = write_vehicle_workspace(tmp_path)
    ws = load_workspace(root)
    assert (ws.markets["HOME"].time_zone, ws.markets["CITY"].time_zone) == ("Europe/Vienna", "Europe/Vienna")
    assert ws.markets["CITY"].time_zone_declared
    (root / "markets" / "CITY.yaml").write_text("name: City\nparent: HOME\ntime_zone: Europe/Zurich\n")
    assert load_workspace(root).markets["CITY"].time_zone == "Europe/Zurich"


def test_a_market_without_any_time_zone_uses_utc_and_check_warns(tmp_path: Path) -> None:
    root = write_vehicle_workspace(tmp_path)
    edit_file(root / "markets" / "HOME.yaml", "time_zone: Europe/Vienna\n", "")
    ws = load_workspace(root)
    assert {m.time_zone for m in ws.markets.values()} == {"UTC"}
    assert not any(m.time_zone_declared for m in ws.markets.values())
    warnings = [f for f in check_workspace(ws).findings if "declares no time_zone" in f.message]
    assert sorted(f.file for f in warnings) == ["markets/CITY.yaml", "markets/HOME.yaml"]
    assert all("UTC is used" in f.message for f in warnings)


@pytest.mark.parametrize(("value", "expected"), [("Mars/Olympus", "unknown time zone 'Mars/Olympus'"),
                                                 ("5", "must be an IANA time zone name"),
                                                 ("''", "must be an IANA time zone name")])
def test_a_bad_time_zone_names_the_market_file_and_line(tmp_path: Path, value: str, expected: str) -> None:
    root = write_vehicle_workspace(tmp_path)
    line = edit_file(root / "markets" / "HOME.yaml", "time_zone: Europe/Vienna", f"time_zone: {value}")
    error = load_error(root)
    assert error.file is not None and error.file.endswith("HOME.yaml") and error.line == line
    assert expected in error.message


def test_fleet_share_is_read_and_checked(tmp_path: Path) -> None:
    root = write_vehicle_workspace(tmp_path)
    assert load_workspace(root).markets["HOME"].fleet_share is None
    (root / "markets" / "CITY.yaml").write_text("name: City\nparent: HOME\nfleet_share: 0.25\n")
    ws = load_workspace(root)
    assert ws.markets["CITY"].fleet_share == 0.25 and ws.markets["HOME"].fleet_share is None
    (root / "markets" / "CITY.yaml").write_text("name: City\nparent: HOME\nfleet_share: 1.5\n")
    error = load_error(root)
    assert error.line == 3 and "fleet_share must be between 0 and 1" in error.message


def test_demo_markets_declare_their_time_zones() -> None:
    ws = load_workspace(None)
    zones = {m.id: m.time_zone for m in ws.markets.values()}
    assert zones == {"CN": "Asia/Shanghai", "EU": "Europe/Brussels", "DE": "Europe/Berlin", "FR": "Europe/Paris",
                     "ES": "Europe/Madrid", "IT": "Europe/Rome"}
    assert all(m.time_zone_declared for m in ws.markets.values())
