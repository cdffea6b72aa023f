"""Bulk Director publishing (``ota.bulk``): a campaign's vehicles signed by worker processes, as one by one."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from tuf.api.metadata import Metadata, Targets

from evplatform.errors import OtaError
from evplatform.ota.bulk import publish_campaign
from evplatform.ota.image_repository import ImageTarget
from evplatform.ota.keys import KeyRing, generate_private_key, signer_of
from evplatform.ota.metadata_common import system_clock
from evplatform.ota.service import OtaService

VINS = [f"VIN-BULK-{n:04d}" for n in range(6)]


@pytest.fixture
def service(tmp_path: Path) -> OtaService:
    ring = KeyRing.init(tmp_path / "ota" / "keys", insecure_demo_keys=True)
    service = OtaService.initialise(tmp_path / "ota", system_clock, ring)
    data = b"firmware 2.0" * 100
    (service.images_dir / hashlib.sha256(data).hexdigest()).write_bytes(data)
    item = ImageTarget.from_data("hub-os/2.0", data, component="hub-os", version="2.0", hardware_id="MD-HUB-A1",
                                 release_counter=20)
    service.image_repository.add_targets([item], ring.signers("image", "targets"))
    for vin in VINS:
        key = signer_of(generate_private_key()).public_key
        service.register_vehicle(vin, f"{vin}-hub", {f"{vin}-hub": ("MD-HUB-A1", key)})
    return service


def test_every_vehicle_gets_verifiable_metadata_naming_it(service: OtaService) -> None:
    result = publish_campaign(service.root, [(vin, f"{vin}-hub", "hub-os/2.0") for vin in VINS], processes=2, chunk=2)
    assert (result.published, result.failed_count, result.processes) == (len(VINS), 0, 2)
    reopened = OtaService(service.root, system_clock)  # read back from disk, as a server process would
    root = reopened.director.root.signed
    for vin in VINS:
        documents: dict[str, Metadata[Any]] = {role: Metadata.from_bytes(reopened.director_metadata(vin, role))
                     for role in ("targets", "snapshot", "timestamp")}
        for role, metadata in documents.items():
            root.verify_delegate(role, metadata.signed_bytes, metadata.signatures)
        targets: Targets = documents["targets"].signed
        assert targets.unrecognized_fields["custom"] == {"vin": vin}
        assert targets.targets["hub-os/2.0"].unrecognized_fields["custom"]["ecu_serial"] == f"{vin}-hub"
        assert reopened.director.vehicle(vin).assignments[f"{vin}-hub"].filepath == "hub-os/2.0"


def test_a_refused_vehicle_is_reported_and_the_others_go_on(service: OtaService) -> None:
    items = [(VINS[0], f"{VINS[0]}-hub", "hub-os/2.0"), ("VIN-UNKNOWN", "VIN-UNKNOWN-hub", "hub-os/2.0"),
             (VINS[1], f"{VINS[1]}-hub", "hub-os/2.0")]
    result = publish_campaign(service.root, items, processes=1)
    assert (result.published, result.failed_count) == (2, 1)
    assert "unknown VIN" in result.failed["VIN-UNKNOWN"]


def test_a_vin_listed_twice_is_refused_before_anything_is_written(service: OtaService) -> None:
    items = [(VINS[0], f"{VINS[0]}-hub", "hub-os/2.0")] * 2
    with pytest.raises(OtaError, match="listed twice"):
        publish_campaign(service.root, items, processes=1)
    assert not (service.director.vehicle_folder(VINS[0]) / "targets.json").exists()
