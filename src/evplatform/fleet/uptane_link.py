"""``UptaneLink``: campaign offers answered by real in-process Uptane vehicles.

Where ``SimulatedLink`` draws each answer, this link makes it happen. One ``OtaService`` (Image
repository, Director, image store, keys from ``ota.keys``) lives in a folder for the whole
simulation; each offered vehicle gets, on first contact, ECU keys registered with the Director,
a factory image in slot A and a ``VehicleClient`` whose state and A/B slots are on disk. Per
offer the Director assigns the release's image, the client runs ``update_check()`` (full
verification of both repositories, download, install into the inactive slot), boots the trial
slot with a health check and reports a signed version manifest. The answer is what happened:

* committed after the health check → ``succeeded``;
* the first image transfer cut mid-body → the client's ``HttpFetcher`` resumes it with a
  ``Range`` request (over an in-process ``httpx.MockTransport``) → still ``succeeded``;
* a write error injected into the slots → ``InstallError`` → ``failed``;
* power lost while writing the slot or during the trial boot → the next boot runs the previous
  slot → ``rolled_back``;
* a bad release crashing a share of one cohort → the health check fails at the trial boot →
  ``rolled_back`` with ``crashed``;
* offline → ``no_answer``; a soft update the driver defers → ``postponed`` (no client run);
* with a ``vehicle_state`` source, a vehicle not parked or charged below ``min_soc_pct`` → the
  client itself defers the install (UN R156 7.2.2.1) and says so in its signed manifest →
  ``postponed``; the Director keeps the assignment and a later offer retries it.

Which vehicle meets which fault uses the same ``uniform`` draws and salts as ``SimulatedLink``,
so the campaign gates see the same shares, and a vehicle offered again meets the same fault.
VINs are ``V`` + the store's vehicle id (the link sees ids only).
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from securesystemslib.signer import CryptoSigner

from evplatform.clock import FixedClock
from evplatform.errors import FleetError, OtaError
from evplatform.fleet.link import Delivery, FailureModel, offer_draws
from evplatform.fleet.offer_faults import POWER_LOSS_STEPS, Faults, PowerLoss, fault_hook
from evplatform.fleet.update_records import DEFAULT_SOC_THRESHOLD_PCT, PreconditionSource
from evplatform.fleet.uptane_transport import ImageTransport, VehicleFetcher, scratch_dir
from evplatform.ota.client import Ecu, InstallPreconditions, SlotImage, VehicleClient, VehicleState
from evplatform.ota.client.errors import InstallError
from evplatform.ota.client.slots import EcuSlots
from evplatform.ota.image_repository import ImageTarget
from evplatform.ota.keys import KeyRing, generate_private_key, signer_of
from evplatform.ota.service import OtaService
from evplatform.store.releases import ReleaseRecord

#: Bytes of each simulated image (content derived from the release id: same release, same hash).
IMAGE_SIZE = 4096
#: Re-sign Image repository metadata that would expire within this margin of the simulated time.
FRESHNESS_MARGIN = timedelta(hours=2)
#: Where the link's clock stands until the first offer moves it to the campaign's simulated time.
BEFORE_FIRST_OFFER = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class _Server:
    service: OtaService
    targets_signers: list[CryptoSigner]
    roots: dict[str, bytes]
    http: httpx.Client


@dataclass
class _Vehicle:
    vin: str
    folder: Path
    hardware: dict[str, str] = field(default_factory=dict)  # ECU serial -> hardware id (primary first)
    serials: dict[str, str] = field(default_factory=dict)  # ECU name (software.yaml) -> this vehicle's serial
    signers: dict[str, CryptoSigner] = field(default_factory=dict)
    fetcher: VehicleFetcher | None = None
    client: VehicleClient | None = None
    state: VehicleState = field(default_factory=lambda: VehicleState(None, None))  # read at the current offer


class UptaneLink:
    """A ``VehicleLink`` whose vehicles are real ``VehicleClient`` instances against one ``OtaService``.

    ``folder`` holds the server (``server/``) and the vehicles (``vehicles/<VIN>/``); without one a
    temporary folder (on ``/dev/shm`` when present, see :func:`scratch_dir`) is used and removed by
    :meth:`close`. ``factory_versions`` (component → version) names the image each ECU leaves the
    factory with (default ``factory``). ``vehicle_state`` (e.g. ``TelemetryPreconditions``) gives each
    offered vehicle its parked state and charge, which its client checks before installing; without
    one the clients install regardless (no state wired).
    """

    def __init__(
        self,
        seed: int = 0,
        failures: FailureModel | None = None,
        *,
        folder: Path | None = None,
        factory_versions: Mapping[str, str] | None = None,
        image_size: int = IMAGE_SIZE,
        vehicle_state: PreconditionSource | None = None,
        min_soc_pct: float = DEFAULT_SOC_THRESHOLD_PCT,
    ) -> None:
        self.seed = seed
        self.vehicle_state = vehicle_state
        self.preconditions = InstallPreconditions(min_soc_pct)
        self.failures = failures or FailureModel()
        self.factory_versions = dict(factory_versions or {})
        self.image_size = image_size
        self._temporary = folder is None
        self.folder = Path(tempfile.mkdtemp(prefix="evplatform-uptane-", dir=scratch_dir())) if folder is None \
            else Path(folder)
        self.clock = FixedClock(BEFORE_FIRST_OFFER)  # the campaign's time, shared by the server and every vehicle
        self._server: _Server | None = None  # created at the first offer, at the simulated time
        self._vehicles: dict[int, _Vehicle] = {}
        self._images: dict[str, ImageTarget] = {}  # release id -> its image
        self._factory: dict[tuple[str, str], ImageTarget] = {}  # (component, hardware id) -> factory image
        self._counter = 1  # release counter of the last image signed
        self.offers = 0
        self.client_runs = 0
        self.client_seconds = 0.0
        self.client_cpu_seconds = 0.0  # this process's CPU time in those runs (less sensitive to a busy machine)
        self.outcomes: dict[str, int] = {}

    # -- the seam ------------------------------------------------------------------------------
    def deliver(
        self, release: ReleaseRecord, vehicle_ids: np.ndarray, cohorts: np.ndarray, *, forced: bool, now: datetime
    ) -> Delivery:
        """Offer ``release`` to each vehicle; offline and deferring ones do not run the client."""
        self._move_clock(now)
        f = self.failures
        n = len(vehicle_ids)
        self.offers += n
        self._start()
        self._keep_fresh(now)
        image = self._release_image(release)
        u_install, u_crash, u_download, u_away, u_defer = offer_draws(self.seed, release.id, vehicle_ids, now)
        bad = f.bad_releases.get(release.id)
        parked: list[bool | None] = [None] * n
        soc: list[float | None] = [None] * n
        if self.vehicle_state is not None:  # read once per batch, as RecordingLink reads it for the record
            parked, soc = self.vehicle_state(vehicle_ids, now)
        outcomes = np.full(n, "no_answer", dtype=object)
        details = np.full(n, "offline", dtype=object)
        crashed = np.zeros(n, dtype=bool)
        for i, vid in enumerate(vehicle_ids.tolist()):
            if u_away[i] < f.offline:
                continue
            if not forced and u_defer[i] < f.postpone:
                outcomes[i], details[i] = "postponed", "driver postponed"
                continue
            power = bool(u_install[i] < f.power_loss)
            failed = not power and bool(u_install[i] < f.power_loss + f.install_failure)
            step = POWER_LOSS_STEPS[int(u_install[i] / f.power_loss * len(POWER_LOSS_STEPS))] if power else None
            faults = Faults(
                interrupt=bool(u_download[i] < f.download_interruption),
                install_failure=failed,
                power_loss_at=step,
                crash=bad is not None and cohorts[i] == bad[0] and bool(u_crash[i] < bad[1]) and not power
                and not failed,
            )
            started, cpu = time.perf_counter(), time.process_time()
            vehicle = self._vehicle(int(vid), release)
            vehicle.state = VehicleState(parked[i], soc[i])
            outcomes[i], details[i], crashed[i] = self._offer(vehicle, release, image, faults)
            self.client_seconds += time.perf_counter() - started
            self.client_cpu_seconds += time.process_time() - cpu
            self.client_runs += 1
        for outcome in outcomes.tolist():
            self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1
        return Delivery(vehicle_ids, outcomes, details, crashed)

    @property
    def service(self) -> OtaService:
        """The OTA server of this simulation (exists from the first offer on)."""
        return self._started().service

    def _started(self) -> _Server:
        if self._server is None:
            raise OtaError("the Uptane link has not delivered anything yet: no OTA server")
        return self._server

    def _start(self) -> None:
        """Keys, both repositories and the image transport, created at the first offer's time."""
        if self._server is not None:
            return
        root = self.folder / "server"
        keyring = KeyRing.init(root / "keys", insecure_demo_keys=True)  # a simulation: throw-away keys
        service = OtaService.initialise(root, self.clock, keyring)
        roots = {"image": service.image_metadata("root", 1), "director": service.director.files.read_bytes("root", 1)}
        http = httpx.Client(transport=httpx.MockTransport(ImageTransport(service)))
        self._server = _Server(service, keyring.signers("image", "targets"), roots, http)

    @property
    def vehicles_per_second(self) -> float | None:
        """Offers run through a client per second of client time (setup of new vehicles included)."""
        return self.client_runs / self.client_seconds if self.client_seconds > 0 else None

    def stats(self) -> dict[str, Any]:
        rate = self.vehicles_per_second
        cpu_rate = self.client_runs / self.client_cpu_seconds if self.client_cpu_seconds > 0 else None
        return {
            "offers": self.offers,
            "client_runs": self.client_runs,
            "client_seconds": round(self.client_seconds, 3),
            "vehicles_per_second": round(rate, 1) if rate is not None else None,
            "vehicles_per_cpu_second": round(cpu_rate, 1) if cpu_rate is not None else None,
            "vehicles": len(self._vehicles),
            "outcomes": dict(sorted(self.outcomes.items())),
        }

    def installed(self, vehicle_id: int) -> dict[str, SlotImage | None]:
        """What each ECU of the vehicle runs now (read from its slots on disk)."""
        vehicle = self._vehicles.get(vehicle_id)
        if vehicle is None:
            raise OtaError(f"vehicle {vehicle_id} was never offered an update through this link")
        return {ecu: EcuSlots(vehicle.folder, serial).installed() for ecu, serial in vehicle.serials.items()}

    def slots(self, vehicle_id: int, ecu: str) -> EcuSlots:
        """The A/B slots of one ECU of a vehicle that was offered an update."""
        vehicle = self._vehicles.get(vehicle_id)
        if vehicle is None or ecu not in vehicle.serials:
            raise OtaError(f"vehicle {vehicle_id} has no simulated ECU {ecu!r}")
        return EcuSlots(vehicle.folder, vehicle.serials[ecu])

    def image(self, release_id: str) -> ImageTarget:
        """The Image repository target signed for a release this link delivered."""
        try:
            return self._images[release_id]
        except KeyError as error:
            raise OtaError(f"release {release_id!r} was never delivered through this link") from error

    def close(self) -> None:
        """Release the HTTP transport; remove the folder if it was a temporary one."""
        if self._server is not None:
            self._server.http.close()
        if self._temporary:
            shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> UptaneLink:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- one offer -----------------------------------------------------------------------------
    def _offer(self, vehicle: _Vehicle, release: ReleaseRecord, image: ImageTarget,
               faults: Faults) -> tuple[str, str, bool]:
        serial = vehicle.serials[release.ecu]
        self.service.assign(vehicle.vin, serial, image.filepath)
        client = self._client(vehicle)
        fetcher = self._fetcher(vehicle)
        fetcher.interrupt_after = image.length // 2 if faults.interrupt else None
        resumed_before = fetcher.resumed
        client.slots[serial].fault = fault_hook(faults)

        def healthy(booted: SlotImage, data: bytes) -> bool:
            return not (faults.crash and booted.sha256 == image.sha256)

        try:
            try:
                outcome = client.update_check()
            except InstallError as error:
                return self._give_up(vehicle, serial, "failed", f"installation failed: {error}")
            except OtaError as error:  # verification or transport: nothing installed
                return self._give_up(vehicle, serial, "failed", f"update refused: {type(error).__name__}: {error}")
            if outcome.status == "deferred":  # preconditions not met: the assignment stays for a later offer
                self._report(vehicle)
                return "postponed", "; ".join(outcome.notes), False
            booted = {r.ecu_serial: r for r in client.boot(healthy)}[serial]
        except PowerLoss:
            return self._after_power_loss(vehicle, serial, healthy, faults.power_loss_at or "")
        finally:
            client.slots[serial].fault = None
        self._report(vehicle)
        if booted.rolled_back:
            outcome_, detail, _ = self._give_up(vehicle, serial, "rolled_back",
                                                f"new software failed at the trial boot ({booted.reason}): "
                                                f"fell back to slot {booted.slot}")
            return outcome_, detail, faults.crash
        running = client.installed()[serial]
        if running is None or running.sha256 != image.sha256:
            return self._give_up(vehicle, serial, "failed", "the committed slot does not hold the release's image")
        if outcome.status == "up-to-date":
            return "succeeded", "already installed", False
        if fetcher.resumed > resumed_before:
            return "succeeded", "download interrupted, resumed with a Range request", False
        return "succeeded", f"committed in slot {booted.slot} after the health check", False

    def _after_power_loss(self, vehicle: _Vehicle, serial: str, healthy: Callable[[SlotImage, bytes], bool],
                          step: str) -> tuple[str, str, bool]:
        """Power returns: a fresh client (nothing survives in memory) boots from what is on disk."""
        vehicle.client = None
        booted = {r.ecu_serial: r for r in self._client(vehicle).boot(healthy)}[serial]
        self._report(vehicle)
        where = "while writing the inactive slot" if step == "image-written" else "during the trial boot"
        how = f"rolled back ({booted.reason})" if booted.rolled_back else "the trial was never armed"
        return self._give_up(vehicle, serial, "rolled_back",
                             f"power loss {where}: booted the previous slot {booted.slot}, {how}")

    def _give_up(self, vehicle: _Vehicle, serial: str, outcome: str, detail: str) -> tuple[str, str, bool]:
        """A final failure: the Director stops offering this image to the ECU (the campaign ended for it)."""
        self.service.director.clear_assignment(vehicle.vin, serial)
        return outcome, detail, False

    def _report(self, vehicle: _Vehicle) -> None:
        if vehicle.client is None:
            raise AssertionError("cannot happen")  # an invariant, kept under python -O
        self.service.submit_manifest(vehicle.vin, vehicle.client.version_manifest())

    # -- vehicles ------------------------------------------------------------------------------
    def _vehicle(self, vehicle_id: int, release: ReleaseRecord) -> _Vehicle:
        """The simulated vehicle, with the release's ECU registered and factory-provisioned."""
        vehicle = self._vehicles.get(vehicle_id)
        if vehicle is None:
            vin = f"V{vehicle_id:010d}"
            vehicle = _Vehicle(vin, self.folder / "vehicles" / vin)
            self._vehicles[vehicle_id] = vehicle
        if release.ecu not in vehicle.serials:
            # serials are unique across the fleet (Uptane 5.3.2.2), so each carries its vehicle's VIN
            serial = vehicle.serials[release.ecu] = f"{vehicle.vin}-{release.ecu}"
            factory = self._factory_image(release)
            vehicle.hardware[serial] = release.hardware_id
            vehicle.signers[serial] = signer_of(generate_private_key())
            primary = next(iter(vehicle.hardware))
            self.service.register_vehicle(
                vehicle.vin, primary, {s: (h, vehicle.signers[s].public_key) for s, h in vehicle.hardware.items()})
            EcuSlots(vehicle.folder, serial).provision(
                SlotImage(factory.filepath, factory.sha256, factory.length, factory.release_counter),
                self._bytes(factory.filepath, factory.hardware_id))
            vehicle.client = None  # rebuilt with the new ECU; its first manifest goes with the first cycle
        return vehicle

    def _fetcher(self, vehicle: _Vehicle) -> VehicleFetcher:
        if vehicle.fetcher is None:
            vehicle.fetcher = VehicleFetcher(self.service, self._started().http)
        return vehicle.fetcher

    def _client(self, vehicle: _Vehicle) -> VehicleClient:
        if vehicle.client is None:
            primary = next(iter(vehicle.hardware))
            ecus = [Ecu(s, h, vehicle.signers[s]) for s, h in vehicle.hardware.items()]
            vehicle.client = VehicleClient(
                vehicle.vin, vehicle.signers[primary], ecus, self._fetcher(vehicle),
                vehicle.folder, self.clock, primary_serial=primary, trusted_roots=self._started().roots,
                vehicle_state=(lambda: vehicle.state) if self.vehicle_state is not None else None,
                preconditions=self.preconditions)
        return vehicle.client

    # -- images --------------------------------------------------------------------------------
    def _bytes(self, filepath: str, hardware_id: str) -> bytes:
        return hashlib.shake_256(f"{filepath}:{hardware_id}".encode()).digest(self.image_size)

    def _sign(self, filepath: str, component: str, version: str, hardware_id: str) -> ImageTarget:
        data = self._bytes(filepath, hardware_id)
        self._counter += 1
        target = ImageTarget.from_data(filepath, data, component=component, version=version,
                                       hardware_id=hardware_id, release_counter=self._counter)
        self.service.image_store.put(data)
        self.service.image_repository.add_targets([target], self._started().targets_signers)
        return target

    def _factory_image(self, release: ReleaseRecord) -> ImageTarget:
        key = (release.component, release.hardware_id)
        if key not in self._factory:
            version = self.factory_versions.get(release.component, "factory")
            if version == release.version:
                version = "factory"
            self._factory[key] = self._sign(f"{release.component}/{version}/{release.hardware_id}",
                                            release.component, version, release.hardware_id)
        return self._factory[key]

    def _release_image(self, release: ReleaseRecord) -> ImageTarget:
        if release.id not in self._images:
            self._factory_image(release)  # signed first, so the release's counter is the higher one
            self._images[release.id] = self._sign(f"{release.component}/{release.version}/{release.hardware_id}",
                                                  release.component, release.version, release.hardware_id)
        return self._images[release.id]

    def _move_clock(self, now: datetime) -> None:
        """Set the shared clock to the offer's time, which only grows (as the controller's ticks do)."""
        if now < self.clock():
            raise FleetError(f"offer at {now.isoformat()} is before the link's last one at {self.clock().isoformat()}")
        self.clock.advance(now - self.clock())

    def _keep_fresh(self, now: datetime) -> None:
        """Re-sign Image repository metadata about to expire in simulated time (the server's routine jobs)."""
        repository = self.service.image_repository
        soon = now + FRESHNESS_MARGIN
        if repository.targets.signed.expires <= soon:
            repository.resign_targets(self._started().targets_signers)
        elif repository.snapshot.signed.expires <= soon:
            repository.refresh_snapshot()
        elif repository.timestamp.signed.expires <= soon:
            repository.refresh_timestamp()
