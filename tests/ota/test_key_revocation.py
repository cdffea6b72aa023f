"""Client-side key revocation (uptane-test plan row "key revocation", issue 14 item 6 note).

Keys are revoked by a root rotation that names new ones; a vehicle that followed the rotation must
refuse what the old keys sign, even when the attacker holds every one of them.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from securesystemslib.signer import Signer

from evplatform.ota.client import errors as e
from evplatform.ota.keys import generate_private_key, public_key_of
from ota.test_attacks import assign_only, attack, director, director_keys, forge
from ota.vehicle_support import Server, Vehicle, build_server, build_vehicle, no_fsync  # noqa: F401

pytestmark = pytest.mark.usefixtures("no_fsync")
ONLINE = ("targets", "snapshot", "timestamp")


@pytest.fixture
def server(tmp_path: Path) -> Server:
    server = build_server(tmp_path / "server")
    server.release_many([("main/1.0", b"main 1.0 " * 40, "hw-main", 1), ("main/2.0", b"main 2.0 " * 40, "hw-main", 2),
                         ("brake/1.0", b"brake 1.0 " * 40, "hw-brake", 1),
                         ("brake/2.0", b"brake 2.0 " * 40, "hw-brake", 2)])
    return server


@pytest.fixture
def car(server: Server, tmp_path: Path) -> Vehicle:
    return build_vehicle(server, tmp_path / "car", factory={"ecu-main": "main/1.0", "ecu-brake": "brake/1.0"})


def _forge_empty_director(server: Server, car: Vehicle, stolen: dict[str, list[Signer]]) -> None:
    """Director metadata that assigns nothing (the pending update hidden), signed with ``stolen`` keys."""
    mirror = server.mirror(car.registered.vin)
    forge(mirror, director(car), assign_only(), stolen["targets"], stolen["snapshot"], stolen["timestamp"])
    car.client.fetcher = mirror


def test_stolen_director_online_keys_work_until_they_are_revoked(server: Server, car: Vehicle) -> None:
    stolen = director_keys(server)
    server.service.assign(car.registered.vin, "ecu-main", "main/2.0")
    _forge_empty_director(server, car, stolen)
    assert car.client.update_check().status == "up-to-date"  # the stolen keys hide the update


def test_revoked_director_online_keys_are_refused(server: Server, car: Vehicle) -> None:
    stolen = director_keys(server)
    fresh = {role: generate_private_key() for role in ONLINE}
    root_signers = server.keyring.signers("director", "root")
    server.director.rotate_root(root_signers, root_signers, keys={r: [public_key_of(k)] for r, k in fresh.items()},
                                online_keys=fresh)
    server.service.assign(car.registered.vin, "ecu-main", "main/2.0")
    assert car.client.update_check().status == "installed"  # root 2 followed, new keys trusted
    car.client.boot()
    server.service.assign(car.registered.vin, "ecu-brake", "brake/2.0")
    mirror = server.mirror(car.registered.vin)
    forge(mirror, director(car), assign_only(), stolen["targets"], stolen["snapshot"], stolen["timestamp"])
    attack(car, mirror, e.ThresholdError)
