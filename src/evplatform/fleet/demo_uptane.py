"""The demo fleet's vehicles known to the Uptane Director, and a demo vehicle that can ask for updates.

A real vehicle gets its ECU keys at the end of the production line and the factory registers the
public halves with the Director. The demo fleet has no production line, so its ECU keys are
derived from one secret (``demo-vehicles.secret`` in the OTA key folder, made with
``--insecure-demo-keys``): HMAC-SHA256(secret, "VIN/serial") is the ECU's ed25519 seed. The
server registers the public keys (``register_fleet``); ``demo_vehicle_client`` re-derives the
private keys to play one of those vehicles against a running server, so ``make run`` serves
signed per-vehicle Director metadata and a real update check works against the demo.

Anyone holding the secret can sign as any demo ECU: it is a throw-away demo key like the other
``--insecure-demo-keys`` (docs/ota-key-ceremony.md), never for a real fleet.

ECU serials are ``<VIN>-<ecu>`` (unique across the fleet, Uptane 5.3.2.2); the primary is the
vehicle's first ECU in ``software.yaml``'s order.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from evplatform.errors import FleetError
from evplatform.ota.keys import signer_of
from evplatform.store import Store
from evplatform.store import vehicles as vdb

if TYPE_CHECKING:
    import httpx

    from evplatform.ota.client import VehicleClient
    from evplatform.ota.metadata_common import Clock
    from evplatform.ota.service import OtaService

logger = logging.getLogger(__name__)

SECRET_FILE = "demo-vehicles.secret"  # noqa: S105 - a file name, not a secret
#: Vehicles read from the store per page while registering.
PAGE = 2_000


@dataclass(frozen=True, slots=True)
class DemoEcu:
    serial: str
    ecu: str
    hardware_id: str


@dataclass(frozen=True, slots=True)
class Registration:
    """What ``register_fleet`` did: vehicles newly registered, already there, and the time it took."""

    registered: int
    already: int
    ecus: int
    seconds: float

    def to_dict(self) -> dict[str, float | int]:
        return {"registered": self.registered, "already_registered": self.already, "ecus": self.ecus,
                "seconds": round(self.seconds, 3)}


def create_secret(keys_dir: Path) -> Path:
    """The demo secret in ``keys_dir`` (made once, owner-only); an existing one is kept."""
    keys_dir.mkdir(parents=True, exist_ok=True)
    path = keys_dir / SECRET_FILE
    if not path.exists():
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="ascii") as handle:
            handle.write(secrets.token_hex(32) + "\n")
        logger.warning("demo vehicle secret %s created: every demo ECU key derives from it (demo only)", path.name)
    return path


def load_secret(keys_dir: Path) -> bytes:
    path = keys_dir / SECRET_FILE
    try:
        text = path.read_text(encoding="ascii").strip()
        return bytes.fromhex(text)
    except FileNotFoundError:
        raise FleetError(f"{path}: no demo vehicle secret; create it with --insecure-demo-keys") from None
    except ValueError:
        raise FleetError(f"{path}:1: the demo vehicle secret is not hexadecimal") from None


def ecu_private_key(secret: bytes, serial: str) -> Ed25519PrivateKey:
    """The demo ECU's private key: its seed is HMAC-SHA256(secret, serial)."""
    seed = hmac.new(secret, serial.encode(), hashlib.sha256).digest()
    return Ed25519PrivateKey.from_private_bytes(seed)


def ecus_of(vin: str, hardware_ids: Mapping[str, str]) -> list[DemoEcu]:
    """The vehicle's ECUs in the registry's order (software.yaml's); the first is the primary."""
    return [DemoEcu(f"{vin}-{ecu}", ecu, hardware) for ecu, hardware in hardware_ids.items()]


def _vehicles(store: Store) -> Iterator[vdb.VehicleRecord]:
    offset = 0
    while True:
        page = vdb.list_vehicles(store, limit=PAGE, offset=offset)
        yield from page
        if len(page) < PAGE:
            return
        offset += PAGE


def register_fleet(store: Store, service: OtaService, secret: bytes, *, threads: int = 8,
                   progress: Callable[[int], None] | None = None) -> Registration:
    """Register every vehicle of the store with the Director (public keys derived from ``secret``).

    Vehicles already registered are left as they are (a rerun of ``make run`` is quick and keeps
    their metadata versions and replay counters). Registration is file-system bound (a vehicle
    file and one index file per ECU, ~10 files a vehicle), so ``threads`` vehicles are written at
    a time; each vehicle has its own folder and ECU serials are claimed atomically (O_EXCL), and
    the whole registration is synced once at its end.
    """
    started = time.perf_counter()
    known = set(service.director.vehicles())
    todo = [v for v in _vehicles(store) if v.vin not in known and v.hardware_ids]
    done = ecu_count = 0
    with ThreadPoolExecutor(max_workers=max(1, threads)) as pool:
        for ecus in pool.map(lambda vehicle: _register(service, secret, vehicle), todo):
            done += 1
            ecu_count += ecus
            if progress is not None and done % 500 == 0:
                progress(done)
    os.sync()  # one sync for the whole registration instead of one fsync per vehicle
    seconds = time.perf_counter() - started
    logger.info("registered %d demo vehicles (%d ECUs) with the Director in %.1f s; %d already were",
                len(todo), ecu_count, seconds, len(known))
    return Registration(len(todo), len(known), ecu_count, seconds)


def _register(service: OtaService, secret: bytes, vehicle: vdb.VehicleRecord) -> int:
    parts = ecus_of(vehicle.vin, vehicle.hardware_ids)
    keys = {e.serial: (e.hardware_id, signer_of(ecu_private_key(secret, e.serial)).public_key) for e in parts}
    # the Director directly, not OtaService.register_vehicle: its lock would serialise the writes
    service.director.register_vehicle(vehicle.vin, parts[0].serial, keys, durable=False)
    return len(parts)


def demo_vehicle_client(
    store: Store, vin: str, secret: bytes, server_url: str, folder: Path, clock: Clock,
    trusted_roots: Mapping[str, bytes] | None = None, http: httpx.Client | None = None,
) -> VehicleClient:
    """One demo vehicle's primary over HTTP (``server_url``: the server's ``/uptane/`` base).

    ``folder`` keeps the vehicle's state and slots between checks; ``trusted_roots`` provisions it
    the first time (the factory's copy of both repositories' first root); ``http`` is the HTTP
    client to use (default: a new one).
    """
    from evplatform.ota.client import Ecu, HttpFetcher, VehicleClient

    vehicle = vdb.vehicle_by_vin(store, vin)
    if vehicle is None:
        raise FleetError(f"unknown vehicle {vin}")
    parts = ecus_of(vin, vehicle.hardware_ids)
    if not parts:
        raise FleetError(f"vehicle {vin} has no ECU")
    signers = {e.serial: signer_of(ecu_private_key(secret, e.serial)) for e in parts}
    ecus = [Ecu(e.serial, e.hardware_id, signers[e.serial]) for e in parts]
    return VehicleClient(vin, signers[parts[0].serial], ecus, HttpFetcher(server_url, client=http), folder, clock,
                         primary_serial=parts[0].serial, trusted_roots=trusted_roots)
