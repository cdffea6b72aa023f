"""Issue 14 (uptane-test plan row "install preconditions", UN R156 7.2.2.1).

The vehicle client reads its own state (parked, traction-battery charge) before an install and
defers the install when a precondition is not met: nothing is written, the signed manifest says
why (not as an attack), and a later check installs once the preconditions hold.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from evplatform.fleet.link import FailureModel
from evplatform.fleet.uptane_link import UptaneLink
from evplatform.ota.client import InstallPreconditions, VehicleState
from evplatform.store.releases import ReleaseRecord
from ota.vehicle_support import Server, Vehicle, build_server, build_vehicle, no_fsync  # noqa: F401

MAIN_1 = b"main firmware 1 " * 200
MAIN_2 = b"main firmware 2 " * 200
NOW = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)

pytestmark = pytest.mark.usefixtures("no_fsync")


@pytest.fixture
def server(tmp_path: Path) -> Server:
    server = build_server(tmp_path / "server")
    server.release_many([("main/1.0", MAIN_1, "hw-main", 1), ("main/2.0", MAIN_2, "hw-main", 2)])
    return server


def signed(manifest: bytes) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(manifest)["signed"]
    return value


@pytest.mark.parametrize(("state", "reason"), [
    (VehicleState(parked=False, state_of_charge_pct=80.0), "not parked"),
    (VehicleState(parked=True, state_of_charge_pct=12.5), "state of charge 12.5 % below the 40 % minimum"),
    (VehicleState(parked=None, state_of_charge_pct=None), "parked state unknown, state of charge unknown"),
])
def test_install_waits_for_the_preconditions_and_is_retried(
        server: Server, tmp_path: Path, state: VehicleState, reason: str) -> None:
    """Issue 14, test-plan row "install preconditions": refused while unmet, reported, installed on a later check."""
    car: Vehicle = build_vehicle(server, tmp_path / "car", factory={"ecu-main": "main/1.0"},
                                 hardware={"ecu-main": "hw-main"})
    now = [state]
    car.client.vehicle_state = lambda: now[0]
    car.client.preconditions = InstallPreconditions(min_state_of_charge_pct=40.0)
    server.service.assign(car.registered.vin, "ecu-main", "main/2.0")

    outcome = car.client.update_check()
    assert outcome.status == "deferred" and outcome.updates == ()
    assert outcome.notes == (f"install deferred: {reason}",)
    slots = car.client.slots["ecu-main"]
    assert slots.trial is None and slots.image_info("b") is None  # nothing written
    manifest = signed(outcome.manifest)
    assert manifest["install_deferred"] == reason
    assert manifest["ecu_version_reports"]["ecu-main"]["signed"]["attacks_detected"] == ""  # not an attack
    assert signed(car.client.version_manifest())["install_deferred"] == reason  # until the next check
    car.report()  # the Director accepts the signed manifest

    now[0] = VehicleState(parked=True, state_of_charge_pct=40.0)  # parked, charged just enough
    retried = car.client.update_check()
    assert retried.status == "installed" and [u.image.filepath for u in retried.updates] == ["main/2.0"]
    assert "install_deferred" not in signed(retried.manifest)
    [boot] = car.client.boot()
    assert boot.committed and car.client.installed()["ecu-main"] is not None


def test_preconditions_rule() -> None:
    """Issue 14, test-plan row "install preconditions": the rule itself, NaN charge included."""
    rule = InstallPreconditions(min_state_of_charge_pct=30.0)
    assert rule.unmet(VehicleState(True, 30.0)) is None
    assert rule.unmet(VehicleState(True, 29.9)) == "state of charge 29.9 % below the 30 % minimum"
    assert rule.unmet(VehicleState(True, float("nan"))) is not None
    assert rule.unmet(VehicleState(False, 100.0)) == "not parked"


def test_the_simulated_fleet_defers_installs_of_vehicles_not_ready(tmp_path: Path) -> None:
    """Issue 14, test-plan row "install preconditions": the fleet's Uptane link hands each client its state."""
    states = {1: (True, 80.0), 2: (False, 80.0), 3: (True, 10.0)}

    def source(vehicle_ids: np.ndarray, now: datetime) -> tuple[list[bool | None], list[float | None]]:
        return [states[int(v)][0] for v in vehicle_ids], [states[int(v)][1] for v in vehicle_ids]

    release = ReleaseRecord("hub-os-1.7.0", "hub-os", "central-compute", "MD-HUB-A1", "1.7.0", "true")
    quiet = FailureModel(download_interruption=0, install_failure=0, power_loss=0, postpone=0, offline=0)
    ids = np.array([1, 2, 3], dtype=np.int64)
    cohorts = np.full(3, "su7/max", dtype=object)
    with UptaneLink(3, quiet, folder=tmp_path / "link", vehicle_state=source, min_soc_pct=30.0) as link:
        first = link.deliver(release, ids, cohorts, forced=True, now=NOW)
        assert first.outcomes.tolist() == ["succeeded", "postponed", "postponed"]  # a recall waits as well
        assert first.details.tolist()[1:] == ["install deferred: not parked",
                                             "install deferred: state of charge 10 % below the 30 % minimum"]
        for vid in (2, 3):
            assert link.slots(vid, "central-compute").trial is None
            assert link.installed(vid)["central-compute"].sha256 != link.image(release.id).sha256  # type: ignore[union-attr]
        states.update({2: (True, 55.0), 3: (True, 31.0)})  # parked and charged by the next offer
        again = link.deliver(release, ids[1:], cohorts[1:], forced=True, now=NOW + timedelta(hours=1))
        assert again.outcomes.tolist() == ["succeeded", "succeeded"]
        assert link.installed(3)["central-compute"].sha256 == link.image(release.id).sha256  # type: ignore[union-attr]
