"""A real OTA server (the project's Image repository, Director, image store, OtaService) and
vehicles running ``VehicleClient`` against it in-process — for the client and attack tests.

The server side comes from ``tests/ota/conftest.py`` (``build_test_repositories``); images go
into a ``DirectoryImageStore`` under the same folder, which is the layout ``OtaService`` opens.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from evplatform.ota.client.fetcher import Fetcher, InMemoryFetcher, ServiceFetcher
from evplatform.ota.client.primary import Ecu, VehicleClient
from evplatform.ota.client.slots import EcuSlots, SlotImage
from evplatform.ota.director import Director
from evplatform.ota.image_repository import ImageRepository, ImageTarget
from evplatform.ota.keys import KeyRing
from evplatform.ota.service import OtaService
from evplatform.ota.storage import DirectoryImageStore
from ota.conftest import FakeClock, TestVehicle, add_images, build_test_repositories, register_test_vehicle

ROLE_FILE = re.compile(r"^(\d+\.)?(root|targets|snapshot|timestamp)\.json$")
HARDWARE = {"ecu-main": "hw-main", "ecu-brake": "hw-brake"}


@dataclass
class Server:
    root: Path
    clock: FakeClock
    image: ImageRepository
    director: Director
    keyring: KeyRing
    store: DirectoryImageStore
    service: OtaService
    images: dict[str, bytes] = field(default_factory=dict)

    def release(self, path: str, data: bytes, hardware_id: str, counter: int) -> ImageTarget:
        """Sign an image into the Image repository (offline targets key) and store its bytes."""
        [target] = self.release_many([(path, data, hardware_id, counter)])
        return target

    def release_many(self, items: Sequence[tuple[str, bytes, str, int]]) -> list[ImageTarget]:
        """Several images in one new targets version (path, bytes, hardware id, release counter)."""
        for path, data, _, _ in items:
            self.store.put(data)
            self.images[path] = data
        return add_images(self.image, self.keyring, items)

    def root_bytes(self) -> dict[str, bytes]:
        return {"image": self.image.files.read_bytes("root", 1), "director": self.director.files.read_bytes("root", 1)}

    def mirror(self, vin: str, paths: Sequence[str] = ()) -> InMemoryFetcher:
        """A copy of what the server serves to ``vin`` now, as an editable dict (for attacks)."""
        fetcher = ServiceFetcher(self.service)
        fetcher.fetch(f"director/{vin}/timestamp.json", 1 << 20)  # the Director publishes on first request
        files: dict[str, bytes] = {}
        for repo, prefix in (("image", "image/"), ("director", f"director/{vin}/")):
            folder = (self.root / "image" / "metadata") if repo == "image" else (self.root / "director")
            names = [p.name for p in folder.rglob("*.json")
                     if ROLE_FILE.match(p.name) and (repo == "image" or p.parent.name in (vin, "metadata"))]
            for name in names:
                files[prefix + name] = fetcher.fetch(prefix + name, 1 << 26)
        for digest_path in (self.root / "images").iterdir():
            if not digest_path.name.startswith("."):
                files[f"images/{digest_path.name}"] = digest_path.read_bytes()
        return InMemoryFetcher(files)


@pytest.fixture(autouse=False)
def no_fsync(monkeypatch: pytest.MonkeyPatch) -> None:
    """Skip the disk flush in tests that do not simulate power loss (the write order is unchanged)."""
    monkeypatch.setattr(os, "fsync", lambda fd: None)


def build_server(tmp_path: Path, clock: FakeClock | None = None) -> Server:
    clock = clock or FakeClock()
    _, _, keyring = build_test_repositories(tmp_path, clock)
    store = DirectoryImageStore(tmp_path / "images")
    service = OtaService(tmp_path, clock)  # the one set of repository objects every test uses
    return Server(tmp_path, clock, service.image_repository, service.director, keyring, store, service)


@dataclass
class Vehicle:
    client: VehicleClient
    registered: TestVehicle
    server: Server

    def report(self) -> None:
        """Send a fresh version manifest to the Director (as the vehicle would after each check)."""
        self.server.service.submit_manifest(self.registered.vin, self.client.version_manifest())


def build_vehicle(
    server: Server,
    slots_dir: Path,
    vin: str = "VIN0000000000001",
    factory: dict[str, str] | None = None,
    fetcher: Fetcher | None = None,
    partial: Sequence[str] = (),
    hardware: dict[str, str] | None = None,
) -> Vehicle:
    """Register ``vin`` with the Director, provision its roots and factory images (serial → path)."""
    hardware = hardware or HARDWARE
    registered = register_test_vehicle(server.director, vin, hardware)
    ecus = [Ecu(s, hardware[s], registered.signers[s], partial=s in partial) for s in hardware]
    client = VehicleClient(vin, registered.signers[registered.primary_serial], ecus,
                           fetcher or ServiceFetcher(server.service), slots_dir, server.clock,
                           trusted_roots=server.root_bytes())
    for serial, path in (factory or {}).items():
        target = server.image.target(path)
        EcuSlots(slots_dir, serial).provision(
            SlotImage(path, target.sha256, target.length, target.release_counter), server.images[path])
    vehicle = Vehicle(client, registered, server)
    vehicle.report()
    return vehicle
