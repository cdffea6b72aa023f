"""Director metadata is bound to one vehicle (Uptane 2.x 5.2.3.1 and 5.3.2.2).

Every vehicle trusts the same Director keys, so without a vehicle identifier in the signed
targets, vehicle A's metadata served at vehicle B's address was accepted by B: A's *empty* targets
made B report "up to date" while an update was pending for it (and B then refused its own, older
versioned, metadata for ever); A's *non-empty* targets made B install A's image.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from evplatform.errors import OtaError
from evplatform.ota.client import errors as e
from evplatform.ota.client.fetcher import InMemoryFetcher, ServiceFetcher
from evplatform.ota.keys import generate_private_key, public_key_of
from ota.vehicle_support import Server, Vehicle, build_server, build_vehicle, no_fsync  # noqa: F401

pytestmark = pytest.mark.usefixtures("no_fsync")

MAIN_1 = b"main ecu firmware 1.0 " * 120
MAIN_2 = b"main ecu firmware 2.0 " * 120
BRAKE_1 = b"brake ecu firmware 1.0 " * 80
BRAKE_2 = b"brake ecu firmware 2.0 " * 80
VIN_A, VIN_B = "VINA000000000001", "VINB000000000002"


@pytest.fixture
def server(tmp_path: Path) -> Server:
    server = build_server(tmp_path / "server")
    server.release_many([("main/1.0", MAIN_1, "hw-main", 1), ("main/2.0", MAIN_2, "hw-main", 2),
                         ("brake/1.0", BRAKE_1, "hw-brake", 1), ("brake/2.0", BRAKE_2, "hw-brake", 2)])
    return server


def car(server: Server, folder: Path, vin: str, partial: tuple[str, ...] = ()) -> Vehicle:
    """A vehicle whose ECU serials carry its VIN (serials are unique across the fleet)."""
    hardware = {f"{vin}-main": "hw-main", f"{vin}-brake": "hw-brake"}
    factory = {f"{vin}-main": "main/1.0", f"{vin}-brake": "brake/1.0"}
    return build_vehicle(server, folder, vin=vin, factory=factory, hardware=hardware, partial=partial)


def replayed(server: Server, victim: str, source: str) -> InMemoryFetcher:
    """What the victim is served when an attacker answers with the source vehicle's Director files."""
    mirror = server.mirror(victim)
    theirs = server.mirror(source).files
    for name in [n for n in mirror.files if n.startswith(f"director/{victim}/")]:
        del mirror.files[name]
    for name, data in theirs.items():
        if name.startswith(f"director/{source}/"):
            mirror.files[name.replace(f"director/{source}/", f"director/{victim}/")] = data
    return mirror


def test_director_targets_name_the_vehicle(server: Server, tmp_path: Path) -> None:
    a = car(server, tmp_path / "a", VIN_A)
    targets = a.client.fetcher.fetch(f"director/{VIN_A}/targets.json", 1 << 20)
    assert f'"custom":{{"vin":"{VIN_A}"}}'.encode() in targets


def test_another_vehicles_empty_targets_do_not_hide_a_pending_update(server: Server, tmp_path: Path) -> None:
    a = car(server, tmp_path / "a", VIN_A)
    b = car(server, tmp_path / "b", VIN_B)
    for _ in range(3):  # A's versions run ahead of B's, as they would in a real fleet
        server.director.publish(VIN_A)
    server.service.assign(VIN_B, f"{VIN_B}-main", "main/2.0")
    b.client.fetcher = replayed(server, VIN_B, VIN_A)
    with pytest.raises(e.VehicleMismatchError, match=f"signed for vehicle {VIN_A}"):
        b.client.update_check()
    assert b.client.installed()[f"{VIN_B}-main"].filepath == "main/1.0"  # type: ignore[union-attr]
    # nothing of A's was kept: B's own metadata, with lower versions, is still accepted
    b.client.fetcher = ServiceFetcher(server.service)
    outcome = b.client.update_check()
    assert outcome.status == "installed"
    assert [u.ecu_serial for u in outcome.updates] == [f"{VIN_B}-main"]
    assert a.client.update_check().status == "up-to-date"


def test_another_vehicles_assignment_is_not_installed(server: Server, tmp_path: Path) -> None:
    car(server, tmp_path / "a", VIN_A)
    b = car(server, tmp_path / "b", VIN_B)
    server.service.assign(VIN_A, f"{VIN_A}-main", "main/2.0")
    b.client.fetcher = replayed(server, VIN_B, VIN_A)
    with pytest.raises(e.VehicleMismatchError):
        b.client.update_check()
    assert b.client.installed()[f"{VIN_B}-main"].filepath == "main/1.0"  # type: ignore[union-attr]


def test_a_partial_verification_secondary_checks_the_vehicle_itself(server: Server, tmp_path: Path) -> None:
    a = car(server, tmp_path / "a", VIN_A)
    b = car(server, tmp_path / "b", VIN_B, partial=(f"{VIN_B}-brake",))
    server.service.assign(VIN_A, f"{VIN_A}-brake", "brake/2.0")
    a_targets = a.client.fetcher.fetch(f"director/{VIN_A}/targets.json", 1 << 20)
    secondary = b.client.secondaries[f"{VIN_B}-brake"]
    with pytest.raises(e.VehicleMismatchError):  # even a compromised primary cannot forward A's targets
        secondary.receive(a_targets, server.clock(), BRAKE_2)
    assert secondary.slots.installed().filepath == "brake/1.0"  # type: ignore[union-attr]


def test_ecu_serials_are_unique_across_the_fleet(server: Server, tmp_path: Path) -> None:
    car(server, tmp_path / "a", VIN_A)
    key = public_key_of(generate_private_key())
    with pytest.raises(OtaError, match=f"ECU {VIN_A}-main is already registered to vehicle {VIN_A}"):
        server.director.register_vehicle(VIN_B, f"{VIN_A}-main", {f"{VIN_A}-main": ("hw-main", key)})
    assert VIN_B not in server.director.vehicles()
    # re-registering the same vehicle (an ECU replaced in the workshop) keeps its own serials
    server.director.register_vehicle(VIN_A, f"{VIN_A}-main", {f"{VIN_A}-main": ("hw-main", key)})


def test_a_failed_registration_holds_no_serial(server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    import evplatform.ota.director as director_module

    key = public_key_of(generate_private_key())

    def disk_full(*_: object, **__: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(director_module, "write_vehicle", disk_full)
    with pytest.raises(OSError):
        server.director.register_vehicle(VIN_A, "SER-1", {"SER-1": ("hw-main", key)})
    monkeypatch.undo()
    server.director.register_vehicle(VIN_B, "SER-1", {"SER-1": ("hw-main", key)})  # the serial is free
    assert server.director.ecu_index.owner("SER-1") == VIN_B
