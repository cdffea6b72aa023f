"""The demo fleet at the Uptane Director: derived ECU keys, registration, a real check over HTTP."""

from __future__ import annotations

import hashlib
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from evplatform.api import create_app
from evplatform.cli.main import app as cli_app
from evplatform.fleet import demo_uptane
from evplatform.fleet.registry import register_vehicles
from evplatform.ota.image_repository import ImageTarget
from evplatform.ota.keys import KeyRing, public_key_of
from evplatform.ota.metadata_common import system_clock
from evplatform.ota.service import OtaService
from evplatform.store import Store, open_store
from evplatform.store import vehicles as vdb
from evplatform.workspace import Workspace
from fleet_support import T0, small_fleet_specs

SECRET = bytes(range(32))


@pytest.fixture
def few(tmp_path: Path, demo: Workspace) -> Iterator[tuple[Store, str]]:
    """A file database with one vehicle of every trim in CN and DE."""
    url = f"sqlite:///{tmp_path / 'few.db'}"
    store = open_store(url)
    register_vehicles(store, demo, small_fleet_specs(demo, 1), at=T0)
    yield store, url
    store.dispose()


@pytest.fixture
def service(tmp_path: Path) -> OtaService:
    ring = KeyRing.init(tmp_path / "ota" / "keys", "pw")
    return OtaService.initialise(tmp_path / "ota", system_clock, ring)


def test_ecu_keys_derive_from_the_secret_and_the_serial() -> None:
    one = public_key_of(demo_uptane.ecu_private_key(SECRET, "VIN-hub")).keyid
    assert one == public_key_of(demo_uptane.ecu_private_key(SECRET, "VIN-hub")).keyid
    assert one != public_key_of(demo_uptane.ecu_private_key(SECRET, "VIN-bms")).keyid
    assert one != public_key_of(demo_uptane.ecu_private_key(bytes(32), "VIN-hub")).keyid


def test_every_vehicle_is_registered_once_with_its_derived_keys(few: tuple[Store, str], service: OtaService) -> None:
    store, _ = few
    vehicles = vdb.list_vehicles(store, limit=1000)
    done = demo_uptane.register_fleet(store, service, SECRET, threads=4)
    assert done.registered == len(vehicles) > 10 and done.already == 0
    assert done.ecus == sum(len(v.hardware_ids) for v in vehicles)
    for vehicle in vehicles[:5]:
        record = service.director.vehicle(vehicle.vin)
        first = next(iter(vehicle.hardware_ids))
        assert record.primary_serial == f"{vehicle.vin}-{first}"
        assert set(record.ecus) == {f"{vehicle.vin}-{ecu}" for ecu in vehicle.hardware_ids}
        for serial, ecu in record.ecus.items():
            assert ecu.hardware_id == vehicle.hardware_ids[serial.removeprefix(f"{vehicle.vin}-")]
            assert ecu.public_key.keyid == public_key_of(demo_uptane.ecu_private_key(SECRET, serial)).keyid
    again = demo_uptane.register_fleet(store, service, SECRET)
    assert again.registered == 0 and again.already == len(vehicles)


def test_a_demo_vehicle_installs_an_assigned_image_over_http(
    few: tuple[Store, str], service: OtaService, tmp_path: Path
) -> None:
    """The server of ``make run`` serves signed per-vehicle metadata and the images it assigns."""
    store, url = few
    demo_uptane.register_fleet(store, service, SECRET)
    vehicle = vdb.list_vehicles(store, limit=1)[0]
    ecu, hardware = next(iter(vehicle.hardware_ids.items()))
    data = b"hub firmware 9.9.9 " * 200
    (service.images_dir / hashlib.sha256(data).hexdigest()).write_bytes(data)
    image = ImageTarget.from_data("hub-os/9.9.9", data, component="hub-os", version="9.9.9", hardware_id=hardware,
                                  release_counter=3)
    ring = KeyRing(tmp_path / "ota" / "keys", "pw")
    service.image_repository.add_targets([image], ring.signers("image", "targets"))
    roots = {"image": (service.root / "image" / "metadata" / "1.root.json").read_bytes(),
             "director": (service.root / "director" / "metadata" / "1.root.json").read_bytes()}
    with TestClient(create_app(None, url, ota_root=service.root)) as http:
        client = demo_uptane.demo_vehicle_client(store, vehicle.vin, SECRET, "http://testserver/uptane/",
                                                 tmp_path / "car", system_clock, roots, http=http)
        assert client.update_check().status == "up-to-date"
        OtaService(service.root, system_clock).assign(vehicle.vin, f"{vehicle.vin}-{ecu}", "hub-os/9.9.9")
        outcome = client.update_check()
        assert outcome.status == "installed"
        assert [u.image.sha256 for u in outcome.updates] == [hashlib.sha256(data).hexdigest()]
        answer = http.post(f"/uptane/director/{vehicle.vin}/manifest", content=client.version_manifest())
        assert answer.status_code == 200, answer.text
        other = vdb.list_vehicles(store, limit=2)[1]
        wrong = http.post(f"/uptane/director/{other.vin}/manifest", content=client.version_manifest())
        assert wrong.status_code >= 400  # another vehicle's keys do not sign for this one


def test_the_cli_makes_the_secret_only_when_asked(few: tuple[Store, str], service: OtaService) -> None:
    _, url = few
    runner = CliRunner()
    refused = runner.invoke(cli_app, ["ota", "vehicles", "register", "--root", str(service.root), "--database", url])
    assert refused.exit_code == 1 and "--insecure-demo-keys" in str(refused.exception)
    assert not (service.root / "keys" / demo_uptane.SECRET_FILE).exists()
    made = runner.invoke(cli_app, ["ota", "vehicles", "register", "--root", str(service.root), "--database", url,
                                   "--insecure-demo-keys", "--json"])
    assert made.exit_code == 0, made.output
    assert '"registered"' in made.output
    secret = service.root / "keys" / demo_uptane.SECRET_FILE
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert len(demo_uptane.load_secret(service.root / "keys")) == 32
