"""OtaService: the calls the HTTP API makes, on a folder made by ``initialise``."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from tuf.api.metadata import Metadata, Targets

from evplatform.errors import OtaError
from evplatform.ota.image_repository import ImageTarget
from evplatform.ota.keys import KeyRing, generate_private_key, signer_of
from evplatform.ota.manifests import sign_ecu_report, sign_vehicle_manifest
from evplatform.ota.service import OtaService
from ota.conftest import FakeClock


@pytest.fixture
def service(tmp_path: Path, clock: FakeClock) -> OtaService:
    ring = KeyRing.init(tmp_path / "ota" / "keys", "pw")
    service = OtaService.initialise(tmp_path / "ota", clock, ring)
    data = b"firmware 1.7.0" * 100
    (service.images_dir / hashlib.sha256(data).hexdigest()).write_bytes(data)
    item = ImageTarget.from_data("hub-os/1.7.0", data, component="hub-os", version="1.7.0",
                                 hardware_id="MD-HUB-A1", release_counter=7)
    service.image_repository.add_targets([item], ring.signers("image", "targets"))
    return service


def test_reopened_service_loads_only_online_keys(service: OtaService, clock: FakeClock) -> None:
    reopened = OtaService(service.root, clock)  # no passphrase: offline keys stay locked
    assert Metadata.from_bytes(reopened.image_metadata("targets")).signed.version == 2
    reopened.refresh_timestamps()
    assert reopened.verify().ok, reopened.verify().problems


def test_register_assign_serve_and_report(service: OtaService, clock: FakeClock) -> None:
    primary = signer_of(generate_private_key())
    service.register_vehicle("VIN-S1", "PRI", {"PRI": ("MD-HUB-A1", primary.public_key.keyval["public"])})
    service.assign("VIN-S1", "PRI", "hub-os/1.7.0")
    targets: Metadata[Targets] = Metadata.from_bytes(service.director_metadata("VIN-S1", "targets"))
    target = targets.signed.targets["hub-os/1.7.0"]
    assert target.unrecognized_fields["custom"]["ecu_serial"] == "PRI"
    assert service.image_path(target.hashes["sha256"]).read_bytes().startswith(b"firmware")
    root = Metadata.from_bytes(service.director_metadata("VIN-S1", "root"))
    root.verify_delegate("targets", targets)
    report = sign_ecu_report(primary, "PRI", "hub-os/1.7.0", target.hashes["sha256"], target.length,
                             time=clock().strftime("%Y-%m-%dT%H:%M:%SZ"), report_counter=1)
    result = service.submit_manifest("VIN-S1", sign_vehicle_manifest(primary, "VIN-S1", "PRI", {"PRI": report}))
    assert result.reports["PRI"].filepath == "hub-os/1.7.0"
    assert service.verify().ok


def test_publish_listeners_hear_every_vehicle_published(service: OtaService) -> None:
    """The fleet's generation numbers (update-check ETags) follow the Director through this hook."""
    heard: list[str] = []
    service.on_publish(heard.append)
    primary = signer_of(generate_private_key())
    service.register_vehicle("VIN-S2", "PRI", {"PRI": ("MD-HUB-A1", primary.public_key.keyval["public"])})
    service.assign("VIN-S2", "PRI", "hub-os/1.7.0")
    service.assign_many("VIN-S2", {"PRI": "hub-os/1.7.0"})
    assert heard == ["VIN-S2", "VIN-S2"]


def test_register_accepts_key_dicts(service: OtaService) -> None:
    key = signer_of(generate_private_key()).public_key
    record = service.register_vehicle("VIN-S2", "P", {"P": ("MD-HUB-A1", key.to_dict())})
    assert record.ecus["P"].public_key.keyid == key.keyid


def test_bad_requests(service: OtaService) -> None:
    with pytest.raises(OtaError, match="unknown VIN"):
        service.director_metadata("NOPE", "targets")
    with pytest.raises(OtaError, match="not a sha256"):
        service.image_path("../../etc/passwd")
    with pytest.raises(OtaError, match="no image"):
        service.image_path("0" * 64)
    with pytest.raises(OtaError, match="64 lowercase hex"):
        service.register_vehicle("V", "P", {"P": ("HW", "xyz")})
    with pytest.raises(OtaError, match="unknown VIN"):
        service.submit_manifest("NOPE", b"{}")
    with pytest.raises(OtaError, match="no version 3 of targets"):
        service.image_metadata("targets", 3)


def test_service_needs_keys(tmp_path: Path, clock: FakeClock) -> None:
    with pytest.raises(OtaError, match="no key index"):
        OtaService(tmp_path, clock)
