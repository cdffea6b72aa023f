"""Uptane routes over a real OtaService: metadata byte for byte, 404 for a newer root, ranged images, manifests."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from securesystemslib.signer import CryptoSigner

from api.support import error_of
from evplatform.api import create_app
from evplatform.ota._delegation_spec import DelegationSpec
from evplatform.ota.image_repository import ImageTarget
from evplatform.ota.keys import KeyRing, generate_private_key, signer_of
from evplatform.ota.manifests import sign_ecu_report, sign_vehicle_manifest
from evplatform.ota.service import OtaService

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
VIN = "LMDUPTANE00000001"
IMAGE = bytes(range(256)) * 64
PATH = "hub-os/1.8.0"


@dataclass
class World:
    client: TestClient
    service: OtaService
    signer: CryptoSigner
    target: ImageTarget


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """One OTA server folder for the module (creating keys and repositories is the slow part)."""
    tmp_path = tmp_path_factory.mktemp("uptane")
    db_url = f"sqlite:///{tmp_path / 'api.db'}"
    root = tmp_path / "ota"
    keyring = KeyRing.init(root / "keys", insecure_demo_keys=True)
    service = OtaService.initialise(root, lambda: NOW, keyring)
    target = ImageTarget.from_data(PATH, IMAGE, component="hub-os", version="1.8.0", hardware_id="hub-hw-2",
                                   release_counter=3)
    service.image_repository.add_targets([target], keyring.signers("image", "targets"))
    (root / "images" / target.sha256).write_bytes(IMAGE)
    signer = signer_of(generate_private_key())
    service.register_vehicle(VIN, "hub-1", {"hub-1": ("hub-hw-2", signer.public_key)})
    service.assign(VIN, "hub-1", PATH)
    with TestClient(create_app(None, db_url, clock=lambda: NOW, ota_root=root)) as client:
        yield World(client, service, signer, target)


def test_image_metadata_is_served_byte_for_byte(world: World) -> None:
    for role in ("root", "timestamp", "snapshot", "targets"):
        response = world.client.get(f"/uptane/image/{role}.json")
        assert response.status_code == 200
        assert response.content == world.service.image_metadata(role)
    assert world.client.get("/uptane/image/1.root.json").content == world.service.image_metadata("root", 1)


def test_a_newer_root_that_does_not_exist_is_404(world: World) -> None:
    status, kind, message = error_of(world.client.get("/uptane/image/2.root.json"))
    assert (status, kind) == (404, "NotFound")
    assert message.startswith("image/2.root.json: ") and "/ota/" not in message  # no server folders


def test_director_metadata_names_the_vehicle_target(world: World) -> None:
    response = world.client.get(f"/uptane/director/{VIN}/targets.json")
    assert response.content == world.service.director_metadata(VIN, "targets")
    targets = json.loads(response.content)["signed"]["targets"]
    assert targets[PATH]["hashes"]["sha256"] == world.target.sha256
    assert targets[PATH]["custom"]["ecu_serial"] == "hub-1"
    assert error_of(world.client.get("/uptane/director/NOBODY/targets.json"))[0] == 404


def test_not_a_metadata_file_is_404(world: World) -> None:
    assert error_of(world.client.get("/uptane/image/keys.json"))[0] == 404
    assert error_of(world.client.get("/uptane/image/0.root.json"))[0] == 404
    # Issue 14 item 20: a trailing newline must not slip past a "$"-anchored pattern.
    assert error_of(world.client.get("/uptane/image/root.json%0a"))[0] == 404
    assert error_of(world.client.get(f"/uptane/director/{VIN}%0a/root.json"))[0] in (404, 422)


def test_image_by_hash_with_range(world: World) -> None:
    whole = world.client.get(f"/uptane/images/{world.target.sha256}")
    assert hashlib.sha256(whole.content).hexdigest() == world.target.sha256
    part = world.client.get(f"/uptane/images/{world.target.sha256}", headers={"Range": "bytes=1000-"})
    assert part.status_code == 206
    assert part.content == IMAGE[1000:]
    assert error_of(world.client.get("/uptane/images/" + "0" * 64))[0] == 404
    assert error_of(world.client.get("/uptane/images/NOT-A-HASH"))[0] == 404


def test_manifest_is_verified_and_recorded(world: World) -> None:
    report = sign_ecu_report(world.signer, "hub-1", PATH, world.target.sha256, world.target.length,
                             time=NOW.isoformat().replace("+00:00", "Z"), report_counter=1)
    manifest = sign_vehicle_manifest(world.signer, VIN, "hub-1", {"hub-1": report})
    response = world.client.post(f"/uptane/director/{VIN}/manifest", content=manifest)
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["accepted"] is True and data["vin"] == VIN
    assert data["reports"]["hub-1"]


def test_forged_or_malformed_manifest_is_refused(world: World) -> None:
    report = sign_ecu_report(world.signer, "hub-1", PATH, world.target.sha256, world.target.length,
                             time=NOW.isoformat().replace("+00:00", "Z"), report_counter=1)
    forged = sign_vehicle_manifest(signer_of(generate_private_key()), VIN, "hub-1", {"hub-1": report})
    status, kind, _ = error_of(world.client.post(f"/uptane/director/{VIN}/manifest", content=forged))
    assert (status, kind) == (400, "OtaError")
    status, kind, _ = error_of(world.client.post(f"/uptane/director/{VIN}/manifest", content=b"not json"))
    assert (status, kind) == (400, "OtaError")


def test_a_delegated_role_is_served_and_the_director_has_none(world: World) -> None:
    """Issue 14 item 6: vehicles fetch ``image/<role>.json`` of delegated roles; names stay safe file names."""
    keyring = KeyRing(world.service.root / "keys", insecure_demo_keys=True)  # the test server's plaintext keys
    signers = keyring.new_delegation_keys("hub-supplier")
    world.service.image_repository.delegate(
        DelegationSpec("hub-supplier", [s.public_key for s in signers], paths=["hub-os/*"]),
        keyring.signers("image", "targets"), signers)
    served = world.client.get("/uptane/image/hub-supplier.json")
    assert served.status_code == 200
    assert served.content == world.service.image_metadata("hub-supplier")
    assert world.client.get("/uptane/image/1.hub-supplier.json").content == served.content
    assert world.client.get(f"/uptane/director/{VIN}/hub-supplier.json").status_code == 404
    for bad in ("Hub.json", "..%2Fkeys.json", "-x.json"):
        assert world.client.get(f"/uptane/image/{bad}").status_code == 404
