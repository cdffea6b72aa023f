"""Issue 14 (uptane-test plan row "metadata sent to all Secondaries", Uptane 5.4.2.4 / 5.4.4.1).

The primary sends the latest verified Director targets to every partial-verification Secondary
on every update check, whether or not that Secondary has an update; each verifies them itself
(signatures under its own Director root, VIN, rollback, expiry, its own lower bound on time) and
keeps them. A Secondary that refuses them records the refusal in its own signed report and keeps
its image.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from evplatform.errors import OtaError
from evplatform.ota.client.errors import VehicleMismatchError
from ota.vehicle_support import Server, Vehicle, build_server, build_vehicle, no_fsync  # noqa: F401

MAIN_1 = b"main firmware 1 " * 200
MAIN_2 = b"main firmware 2 " * 200
BRAKE_1 = b"brake firmware 1 " * 200
FACTORY = {"ecu-main": "main/1.0", "ecu-brake": "brake/1.0"}

pytestmark = pytest.mark.usefixtures("no_fsync")


@pytest.fixture
def server(tmp_path: Path) -> Server:
    server = build_server(tmp_path / "server")
    server.release_many([("main/1.0", MAIN_1, "hw-main", 1), ("main/2.0", MAIN_2, "hw-main", 2),
                         ("brake/1.0", BRAKE_1, "hw-brake", 1)])
    return server


def director_targets(car: Vehicle) -> bytes:
    return car.client.fetcher.fetch(f"director/{car.registered.vin}/targets.json", 1 << 20)


def brake_report(manifest: bytes) -> dict[str, Any]:
    signed: dict[str, Any] = json.loads(manifest)["signed"]["ecu_version_reports"]["ecu-brake"]["signed"]
    return signed


def test_a_secondary_without_an_update_receives_and_verifies_the_latest_director_targets(
        server: Server, tmp_path: Path) -> None:
    """Issue 14, test-plan row "metadata sent to all Secondaries": B verifies the targets of a check that updates A."""
    car = build_vehicle(server, tmp_path / "car", factory=FACTORY, partial=["ecu-brake"])
    brake = car.client.secondaries["ecu-brake"].verifier
    assert brake.trusted_targets_version == 0 and brake.last_time is None  # nothing sent yet
    server.service.assign(car.registered.vin, "ecu-main", "main/2.0")  # only the primary's ECU changes
    server.clock.advance(hours=1)
    outcome = car.client.update_check()
    assert [u.ecu_serial for u in outcome.updates] == ["ecu-main"]
    latest = director_targets(car)
    assert brake.trusted_targets_version == json.loads(latest)["signed"]["version"] >= 1
    assert brake.last_time == server.clock()  # its own lower bound on time moved with the check
    assert (brake.folder / "director-targets.json").read_bytes() == latest  # kept, as verified
    # and again on the next check, with nothing to install anywhere
    car.report()
    server.service.assign(car.registered.vin, "ecu-main", "main/1.0")  # Director targets version + 1
    server.clock.advance(hours=1)
    car.client.update_check()
    assert brake.trusted_targets_version == json.loads(director_targets(car))["signed"]["version"] > 1
    assert brake.last_time == server.clock()


def test_a_secondary_refusing_the_metadata_records_it_and_keeps_its_image(server: Server, tmp_path: Path) -> None:
    """Issue 14, test-plan row "metadata sent to all Secondaries": a refusal is recorded, the image stays."""
    car = build_vehicle(server, tmp_path / "car", factory=FACTORY, partial=["ecu-brake"])
    secondary = car.client.secondaries["ecu-brake"]
    other = build_server(tmp_path / "other")  # B trusts another Director's root: what the primary sends fails
    secondary.verifier.provision(other.director.files.read_bytes("root", 1))
    server.service.assign(car.registered.vin, "ecu-main", "main/2.0")
    outcome = car.client.update_check()
    assert [u.ecu_serial for u in outcome.updates] == ["ecu-main"]  # B's refusal does not concern A's image
    assert secondary.verifier.trusted_targets_version == 0  # nothing of it trusted or kept
    assert "signature" in secondary.verifier.attacks_detected.lower()
    report = brake_report(outcome.manifest)
    assert report["attacks_detected"] == secondary.verifier.attacks_detected
    assert report["installed_image"]["filepath"] == "brake/1.0"
    assert car.client.installed()["ecu-brake"] is not None
    assert car.client.installed()["ecu-brake"].filepath == "brake/1.0"  # type: ignore[union-attr]
    car.report()  # the Director takes the manifest with B's signed refusal in it


def test_a_secondary_refuses_another_vehicles_targets_sent_as_metadata_only(server: Server, tmp_path: Path) -> None:
    """Issue 14, test-plan row "metadata sent to all Secondaries": the VIN and time checks hold without an image."""
    car = build_vehicle(server, tmp_path / "car", factory=FACTORY, partial=["ecu-brake"])
    other = build_vehicle(server, tmp_path / "other", vin="VIN0000000000002",
                          hardware={"ecu-main-2": "hw-main", "ecu-brake-2": "hw-brake"})
    secondary = car.client.secondaries["ecu-brake"]
    secondary.receive_metadata(director_targets(car), server.clock())
    trusted = secondary.verifier.trusted_targets_version
    with pytest.raises(VehicleMismatchError):
        secondary.receive_metadata(director_targets(other), server.clock())  # a primary replaying B's file
    with pytest.raises(OtaError, match="before the last verified"):
        secondary.receive_metadata(director_targets(car), server.clock() - timedelta(days=2))
    assert secondary.verifier.trusted_targets_version == trusted
    assert "before the last verified" in secondary.verifier.attacks_detected
    secondary.receive_metadata(director_targets(car), server.clock())
    assert secondary.verifier.attacks_detected == ""  # cleared by the next metadata it verifies
    assert car.client.installed()["ecu-brake"] is not None
