"""The primary ECU's update cycle: full verification, download, install, version manifest.

This is the orchestrator; the rules live in ``trusted_set.py``, ``signatures.py`` and
``matching.py`` (no I/O), the transport in ``fetcher.py``, the A/B switch in ``slots.py``.
One :meth:`update_check` follows Uptane 2.1.0 5.4.4.2 (full verification):

1. the time from the injected clock, refused if earlier than a time already trusted;
2-5. Director root chain, timestamp, snapshot, targets; the Director's targets are checked
   against this vehicle's ECUs (serials, hardware ids);
6-9. if an ECU must change image: Image repository root chain, timestamp, snapshot, targets;
10. each Director target must equal the Image repository's (after delegation resolution,
   5.4.4.7) and its release counter must not go down;

then the latest Director targets go to every partial-verification Secondary (5.4.2.4), update
or not; with a vehicle state wired, an install waits while the vehicle is not parked or not
charged enough (UN R156 7.2.2.1: status ``deferred``, said in the signed manifest, retried at the
next check); then every image is downloaded (a delta when the Director offers one and the old
image is the one installed) and checked against length and hashes, partial-verification
Secondaries check their own against the metadata they kept, and only when all of that
succeeded are the images written to the inactive slots (all or nothing: a partial bundle is
never installed). The new slots boot on trial at the next
:meth:`boot` and are committed after the health check. Any failure raises the specific
:mod:`~evplatform.ota.client.errors` class, records it for the next version report and leaves
the installed software as it was.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal

from securesystemslib.signer import Signer
from tuf.api.metadata import Root, TargetFile, Targets

from evplatform.errors import OtaError
from evplatform.ota.assignment import Assignment
from evplatform.ota.client.delegations import MAX_DELEGATED_ROLES, find_target
from evplatform.ota.client.errors import (
    ClientError,
    ClockSkewError,
    EndlessDataError,
    ImageVerificationError,
    InstallError,
    NotFoundError,
)
from evplatform.ota.client.fetcher import Fetcher
from evplatform.ota.client.matching import (
    check_image,
    check_release_counter,
    check_vehicle,
    director_assignments,
    match_image_target,
)
from evplatform.ota.client.preconditions import InstallPreconditions, VehicleState
from evplatform.ota.client.reports import ecu_version_report, vehicle_manifest
from evplatform.ota.client.secondary import SecondaryEcu
from evplatform.ota.client.secure_time import corrected, signed_time
from evplatform.ota.client.slots import BootResult, EcuSlots, HealthCheck, SlotImage
from evplatform.ota.client.state import REPOSITORIES, ClientState
from evplatform.ota.client.trusted_set import Limits, TrustedRepository, VerifiedTargets
from evplatform.ota.metadata_common import Clock, now_of

logger = logging.getLogger(__name__)

MAX_DELEGATIONS = MAX_DELEGATED_ROLES  # roles loaded per target, as python-tuf's ngclient bounds it
MAX_ROOT_ROTATIONS = 256  # root versions accepted per check (an endless chain is endless data)


@dataclass(frozen=True, slots=True)
class Ecu:
    """One ECU as provisioned at the factory: serial, hardware id, its report key, its verification.

    The vehicle client hands a Secondary's key to that Secondary and keeps only its own.
    """

    serial: str
    hardware_id: str
    signer: Signer
    partial: bool = False  # a Secondary doing partial verification (5.4.4.1)


@dataclass(frozen=True, slots=True)
class ServerLayout:
    """Where the files are, relative to the fetcher (``{file}`` is e.g. ``3.targets.json``)."""

    image_metadata: str = "image/{file}"
    director_metadata: str = "director/{vin}/{file}"
    images: str = "images/{sha256}"


@dataclass(frozen=True, slots=True)
class EcuUpdate:
    """One ECU's image change in this check (installed on trial, not yet committed)."""

    ecu_serial: str
    from_sha256: str | None
    image: SlotImage
    slot: str
    via_delta: bool
    downloaded_bytes: int


@dataclass(frozen=True, slots=True)
class UpdateOutcome:
    """Result of a successful update check (failures raise)."""

    status: Literal["up-to-date", "installed", "deferred"]  # deferred: install preconditions not met
    updates: tuple[EcuUpdate, ...] = ()
    manifest: bytes = b""
    notes: tuple[str, ...] = field(default_factory=tuple)


class VehicleClient:
    """The primary ECU of vehicle ``vin`` and the Secondaries it serves.

    ``trusted_roots`` (``{"director": bytes, "image": bytes}``) provisions a new vehicle; later
    checks start from the roots stored under ``slots_dir/uptane``.
    """

    def __init__(
        self,
        vin: str,
        primary_key: Signer,
        ecus: Sequence[Ecu],
        fetcher: Fetcher,
        slots_dir: Path,
        clock: Clock,
        *,
        primary_serial: str | None = None,
        trusted_roots: Mapping[str, bytes] | None = None,
        layout: ServerLayout | None = None,
        limits: Limits | None = None,
        clock_tolerance: timedelta = timedelta(minutes=5),
        vehicle_state: Callable[[], VehicleState] | None = None,
        preconditions: InstallPreconditions | None = None,
    ) -> None:
        if not ecus:
            raise ClientError(f"vehicle {vin}: at least one ECU is needed")
        self.vin = vin
        self.primary_key = primary_key
        self.primary_serial = primary_serial or ecus[0].serial
        if self.primary_serial not in {ecu.serial for ecu in ecus}:
            raise ClientError(f"vehicle {vin}: primary ECU {self.primary_serial} is not among its ECUs")
        primary = next(ecu for ecu in ecus if ecu.serial == self.primary_serial)
        self._report_key = primary.signer
        self.hardware = {ecu.serial: ecu.hardware_id for ecu in ecus}
        self.fetcher = fetcher
        self.slots_dir = Path(slots_dir)
        self.clock = clock
        self.layout = layout or ServerLayout()
        self.limits = limits or Limits()
        self.clock_tolerance = clock_tolerance
        # UN R156 7.2.2.1: with a state source, an install starts only when the preconditions hold
        self.vehicle_state = vehicle_state
        self.preconditions = preconditions or InstallPreconditions()
        self.state_folder = self.slots_dir / "uptane"
        self._verified = VerifiedTargets()
        self.slots = {serial: EcuSlots(self.slots_dir, serial) for serial in self.hardware}
        self.secondaries = {
            e.serial: SecondaryEcu(e.serial, e.hardware_id, self.slots_dir, self.limits, vin=vin, signer=e.signer,
                                   partial=e.partial)
            for e in ecus if e.serial != self.primary_serial
        }
        if trusted_roots is not None:
            self._provision_roots(trusted_roots)

    def _provision_roots(self, roots: Mapping[str, bytes]) -> None:
        state = ClientState.load(self.state_folder)
        for repository in REPOSITORIES:
            if not state.root_path(repository).exists():
                state.store_root(repository, roots[repository])
        for secondary in self.secondaries.values():
            if secondary.partial and not secondary.verifier._root_path.exists():
                secondary.verifier.provision(roots["director"])

    # -- the update cycle ------------------------------------------------------------------------
    def update_check(self) -> UpdateOutcome:
        """One full-verification update cycle; raises a specific ClientError on any failure."""
        state = ClientState.load(self.state_folder)
        local = now_of(self.clock)
        now = corrected(local, state.clock_offset)  # never earlier than the Director's signed time allows
        try:
            self._check_time(now, state)
            outcome = self._update(now, state, local)
        except OtaError as error:
            logger.warning("vehicle %s: update check refused: %s", self.vin, error, extra={
                "event": "verification_failed", "vin": self.vin, "error": type(error).__name__})
            state = ClientState.load(self.state_folder)  # roots verified so far stay trusted
            state.attacks_detected = f"{type(error).__name__}: {error}"[:500]
            state.save()
            raise
        return outcome

    def _check_time(self, now: datetime, state: ClientState) -> None:
        """U 5.4.4.2 step 1: a clock earlier than a time already trusted is refused."""
        if state.last_time is not None and now < state.last_time - self.clock_tolerance:
            raise ClockSkewError(
                f"the clock reads {now:%Y-%m-%dT%H:%M:%SZ}, before the last verified check at "
                f"{state.last_time:%Y-%m-%dT%H:%M:%SZ}: refusing to judge expiry with it"
            )

    def _update(self, now: datetime, state: ClientState, local: datetime) -> UpdateOutcome:
        director = self._refresh("director", now, state)
        # before anything is trusted or saved: a replay must leave this vehicle's real metadata usable
        check_vehicle(director.targets, self.vin)
        director_time = signed_time(director.timestamp, state.nonce_sent)
        if director_time is not None:  # the Director answered our last nonce: a time no one signed in advance
            state.clock_offset = max(state.clock_offset, director_time - local)
            state.nonce_sent = ""  # each nonce answers once
        assignments = director_assignments(director.targets, self.hardware)
        pending = {serial: a for serial, a in sorted(assignments.items()) if not self._has(serial, a)}
        # Both repositories are checked on every cycle, even with nothing to install (5.4.4.2 step 6
        # allows it): root rotations and attacks on the Image repository are noticed early.
        image = self._refresh("image", now, state)
        # U 5.4.4.2 step 10: every Director target, installed ones too, must be the Image repository's
        # (a Director key alone must not be able to make an ECU report "up to date" on anything)
        for serial, assignment in assignments.items():
            match_image_target(assignment, self._find_image_target(image, assignment))
            installed = self.slots[serial].installed()
            check_release_counter(assignment, installed.release_counter if installed else None)
        self._send_metadata(director, now, pending)
        state.install_deferred = ""
        if pending and (unmet := self._unmet_preconditions()) is not None:
            state.install_deferred = unmet
        if not pending or state.install_deferred:
            state.versions["director"] = director.versions()
            state.versions["image"] = image.versions()
            return self._finish(now, state, "deferred" if pending else "up-to-date", ())
        downloads = {serial: self._download(a) for serial, a in pending.items()}
        for serial, secondary in self.secondaries.items():
            if secondary.partial and serial in downloads:
                secondary.receive_image(downloads[serial][0])
        updates = self._install_all(pending, downloads)
        state.versions["director"] = director.versions()
        state.versions["image"] = image.versions()
        return self._finish(now, state, "installed", updates)

    def _send_metadata(self, director: TrustedRepository, now: datetime, pending: Mapping[str, Assignment]) -> None:
        """U 5.4.2.4: the latest verified Director metadata goes to every Secondary, update or not.

        Each partial-verification Secondary checks it itself (5.4.4.1) and keeps it, so its own
        rollback bound and lower bound on time follow the Director even while it has nothing to
        install. One that refuses it records the refusal in its own signed report and keeps its
        image; if it has an update in this check, the whole bundle is refused (all or nothing).
        Full-verification Secondaries are not modelled (no ``Ecu`` option makes one).
        """
        director_targets = director.targets_bytes()  # exactly what the primary verified
        for serial, secondary in sorted(self.secondaries.items()):
            if not secondary.partial:
                continue  # the primary verifies and writes its image: nothing of its own to check
            try:
                roots = self._director_roots_after(secondary.verifier.root_version(), director)
                secondary.receive_metadata(director_targets, now, roots)
            except OtaError as error:
                if serial in pending:
                    raise
                logger.warning("vehicle %s: ECU %s refused the Director metadata: %s", self.vin, serial, error,
                               extra={"event": "secondary_refused_metadata", "vin": self.vin, "ecu": serial,
                                      "error": type(error).__name__})

    def _unmet_preconditions(self) -> str | None:
        """Why the install may not start now (UN R156 7.2.2.1), None when it may or no state is wired."""
        if self.vehicle_state is None:
            return None
        unmet = self.preconditions.unmet(self.vehicle_state())
        if unmet is not None:
            logger.info("vehicle %s: install deferred: %s", self.vin, unmet,
                        extra={"event": "install_deferred", "vin": self.vin})
        return unmet

    def _has(self, serial: str, assignment: Assignment) -> bool:
        """The ECU runs this image already, or holds it in a slot waiting for its trial boot."""
        slots = self.slots[serial]
        installed = slots.installed()
        if installed is not None and installed.sha256 == assignment.sha256:
            return True
        trial = slots.trial
        waiting = slots.image_info(trial) if trial is not None else None
        return waiting is not None and waiting.sha256 == assignment.sha256

    def _finish(
        self,
        now: datetime,
        state: ClientState,
        status: Literal["up-to-date", "installed", "deferred"],
        updates: Sequence[EcuUpdate],
    ) -> UpdateOutcome:
        state.last_time = max(now, state.last_time) if state.last_time else now
        manifest = self._manifest(now, state)  # still tells the Director about an attack refused before
        state.attacks_detected = ""  # (a deferred install is not one)
        state.save()
        notes = (f"install deferred: {state.install_deferred}",) if state.install_deferred else ()
        return UpdateOutcome(status, tuple(updates), manifest, notes)

    # -- repositories ------------------------------------------------------------------------------
    def _url(self, repository: str, file: str) -> str:
        if repository == "director":
            return self.layout.director_metadata.format(vin=self.vin, file=file)
        return self.layout.image_metadata.format(file=file)

    def _refresh(self, repository: str, now: datetime, state: ClientState) -> TrustedRepository:
        """Root chain, timestamp, snapshot and top-level targets of one repository."""
        name = "Director" if repository == "director" else "Image repository"
        trusted = TrustedRepository(name, state.trusted_root(repository), now, state.versions.get(repository),
                                    self.limits, self._verified)
        for _ in range(MAX_ROOT_ROTATIONS):
            try:
                data = self.fetcher.fetch(self._url(repository, f"{trusted.root.version + 1}.root.json"),
                                          self.limits.root)
            except NotFoundError:
                break
            trusted.update_root(data)
            state.store_root(repository, trusted.root_bytes)  # U 5.4.4.3 2.5: N+1 is now the latest
            # (the trusted versions name the keys they were signed under: should this check fail
            # later, the next one still sees the rotation and makes its fast-forward reset)
        trusted.update_timestamp(self.fetcher.fetch(self._url(repository, "timestamp.json"), self.limits.timestamp))
        snapshot_file = self._versioned(trusted, "snapshot", trusted.timestamp.snapshot_meta.version)
        trusted.update_snapshot(self.fetcher.fetch(self._url(repository, snapshot_file), trusted.snapshot_max_length()))
        self._load_targets(repository, trusted, Targets.type, Root.type)
        return trusted

    @staticmethod
    def _versioned(trusted: TrustedRepository, role: str, version: int) -> str:
        """TUF 5.2.7 file names: ``VERSION.ROLE.json`` under consistent snapshots."""
        return f"{version}.{role}.json" if trusted.root.consistent_snapshot else f"{role}.json"

    def _load_targets(self, repository: str, trusted: TrustedRepository, role: str, delegator: str) -> Targets:
        file = self._versioned(trusted, role, trusted.targets_meta(role).version)
        data = self.fetcher.fetch(self._url(repository, file), trusted.targets_max_length(role))
        return trusted.update_delegated_targets(data, role, delegator)

    def _director_roots_after(self, version: int, director: TrustedRepository) -> list[bytes]:
        """Director roots ``version+1 … N`` for a Secondary to follow the rotation step by step."""
        return [
            self.fetcher.fetch(self._url("director", f"{v}.root.json"), self.limits.root)
            for v in range(version + 1, director.root.version + 1)
        ]

    def _find_image_target(self, image: TrustedRepository, assignment: Assignment) -> TargetFile | None:
        """U 5.4.4.7: the Image repository's entry for this image, delegations resolved (``delegations.py``:
        listed order, hardware ids, terminating and multi-role delegations, at most 32 roles)."""

        def load(role: str, delegator: str) -> Targets:
            if role == Targets.type:
                return image.targets
            if image.is_loaded(role):  # reached again, maybe from another delegator: its keys must sign it too
                return image.update_delegated_targets(image.targets_bytes(role), role, delegator)
            return self._load_targets("image", image, role, delegator)

        return find_target(load, assignment.filepath, assignment.hardware_id, MAX_DELEGATIONS)

    # -- images ------------------------------------------------------------------------------------
    def _download(self, assignment: Assignment) -> tuple[bytes, bool, int]:
        """Image bytes (rebuilt from a delta when possible), checked; (bytes, via delta, downloaded)."""
        if assignment.delta is not None:
            rebuilt = self._try_delta(assignment)
            if rebuilt is not None:
                return rebuilt, True, assignment.delta.length
        if assignment.length > self.limits.image:
            raise EndlessDataError(f"image {assignment.filepath}: {assignment.length} bytes, over the image limit")
        url = self.layout.images.format(sha256=assignment.sha256)
        data = self.fetcher.fetch(url, assignment.length)
        check_image(assignment, data, f"image {assignment.filepath}")
        return data, False, len(data)

    def _try_delta(self, assignment: Assignment) -> bytes | None:
        """The delta path (E's ``apply_delta``); None to fall back to the full image."""
        offer = assignment.delta
        installed = self.slots[assignment.ecu_serial].installed()
        if offer is None or installed is None or installed.sha256 != offer.from_sha256:
            return None
        if offer.length > self.limits.image:  # the Director's stated length is capped like an image's
            logger.warning("vehicle %s: delta for %s is %d bytes, over the %d-byte image limit: not fetched",
                           self.vin, assignment.filepath, offer.length, self.limits.image,
                           extra={"event": "delta_refused", "vin": self.vin})
            return None
        try:
            from evplatform.ota.delta import Delta, DeltaRefusedError, apply_delta
        except ImportError:
            return None
        try:
            # never more than the signed delta length (EndlessDataError past it), itself under the image cap
            payload = self.fetcher.fetch(self.layout.images.format(sha256=offer.sha256), offer.length)
            if len(payload) != offer.length or hashlib.sha256(payload).hexdigest() != offer.sha256:
                raise ImageVerificationError(f"delta for {assignment.filepath}: payload differs from its metadata")
            old = self.slots[assignment.ecu_serial].image_bytes(self.slots[assignment.ecu_serial].active)
            delta = Delta(offer.algorithm, offer.from_sha256, len(old), assignment.sha256, assignment.length,
                          offer.sha256, offer.length, 0, payload)
            rebuilt = apply_delta(old, delta, assignment.sha256)
            # the reconstructed image, against the signed target
            check_image(assignment, rebuilt, f"image {assignment.filepath}")
        except DeltaRefusedError as error:  # a patch bomb or a malformed patch: nothing was written
            logger.warning("vehicle %s: delta for %s refused (%s): fetching the full image", self.vin,
                           assignment.filepath, error, extra={"event": "delta_refused", "vin": self.vin})
            return None
        except OtaError:
            return None  # corrupted or unusable delta: the full image is verified the same way
        return rebuilt

    def _install_all(
        self, pending: Mapping[str, Assignment], downloads: Mapping[str, tuple[bytes, bool, int]]
    ) -> list[EcuUpdate]:
        """Write every inactive slot; if one fails, cancel the trials already set (all or nothing)."""
        done: list[EcuUpdate] = []
        try:
            for serial, assignment in pending.items():
                data, via_delta, downloaded = downloads[serial]
                before = self.slots[serial].installed()
                image = SlotImage(assignment.filepath, assignment.sha256, assignment.length,
                                  assignment.release_counter)
                slot = self.slots[serial].install(image, data)
                done.append(EcuUpdate(serial, before.sha256 if before else None, image, slot, via_delta, downloaded))
        except (OSError, InstallError) as error:
            for update in done:
                self.slots[update.ecu_serial].cancel_trial()
            if isinstance(error, InstallError):
                raise
            raise InstallError(f"installing the update failed: {error}") from error
        return done

    # -- boot and reports ------------------------------------------------------------------------
    def boot(self, health_check: HealthCheck | None = None) -> list[BootResult]:
        """The next boot of every ECU: trial slots run, then commit or roll back."""
        return [self.slots[serial].boot(health_check) for serial in sorted(self.hardware)]

    def installed(self) -> dict[str, SlotImage | None]:
        """What each ECU runs now (its active, committed slot)."""
        return {serial: slots.installed() for serial, slots in sorted(self.slots.items())}

    def version_manifest(self) -> bytes:
        """A fresh signed vehicle version manifest (counters advance and are saved)."""
        state = ClientState.load(self.state_folder)
        manifest = self._manifest(now_of(self.clock), state)
        state.save()
        return manifest

    def _manifest(self, now: datetime, state: ClientState) -> bytes:
        state.nonce_sent = secrets.token_hex(16)
        # the primary signs its own report; each Secondary signs its own, and the primary forwards it
        reports = {self.primary_serial: ecu_version_report(
            self.primary_serial, self.slots[self.primary_serial].installed(), now,
            state.next_report_counter(self.primary_serial), state.attacks_detected, self._report_key)}
        for serial, secondary in sorted(self.secondaries.items()):
            reports[serial] = secondary.version_report(now, state.attacks_detected)
        return vehicle_manifest(self.vin, self.primary_serial, reports, self.primary_key, state.nonce_sent,
                                install_deferred=state.install_deferred or None)
