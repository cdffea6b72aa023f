"""A Secondary ECU: its own report key and, optionally, partial verification (Uptane 2.1.0 5.4.4.1).

Every Secondary signs its own ECU version report with a key that stays on its side, with a
report counter it keeps itself (Uptane 5.4.2.1, 5.4.3.6): the primary only forwards the signed
reports, so a compromised primary cannot forge what a Secondary says it runs.

It trusts only its copy of the Director's root, checks the Director targets metadata the
primary forwards (signed by a threshold of the Director targets keys, not older than the last
one it accepted, not expired, no delegations, each ECU once) and only its own target (hardware
id, release counter never lower) and the image's length and hashes before it writes its
inactive slot. A compromised primary can therefore not make it install an image the Director
did not sign for it. It follows Director root rotations the primary forwards (5.4.4.1 note).

The primary sends the latest Director targets to every such Secondary on every check, whether it
has an update or not (5.4.2.4): the Secondary verifies them, keeps them (its rollback bound and
its own lower bound on time move with the Director) and later checks its image against what it
kept. A refusal changes nothing it trusts and is recorded for its next signed version report.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from securesystemslib.signer import Signer
from tuf.api.metadata import Root, Targets

from evplatform.errors import OtaError
from evplatform.ota.assignment import Assignment
from evplatform.ota.client.errors import (
    ClockSkewError,
    EcuMismatchError,
    ExpiredMetadataError,
    InstallError,
    RollbackError,
)
from evplatform.ota.client.matching import check_image, check_release_counter, check_vehicle, director_assignments
from evplatform.ota.client.reports import ecu_version_report
from evplatform.ota.client.signatures import load, verify_signatures
from evplatform.ota.client.slots import EcuSlots, SlotImage, write_durably
from evplatform.ota.client.trusted_set import Limits, TrustedRepository


class PartialVerifier:
    """Partial verification state of one Secondary: Director root and last targets version."""

    def __init__(self, ecu_serial: str, hardware_id: str, folder: Path, limits: Limits | None = None, *,
                 vin: str, clock_tolerance: timedelta = timedelta(minutes=5)) -> None:
        self.vin = vin  # set at the factory with the Director root; never taken from the primary's messages
        self.clock_tolerance = clock_tolerance
        self.ecu_serial = ecu_serial
        self.hardware_id = hardware_id
        self.folder = Path(folder)
        self.limits = limits or Limits()

    @property
    def _root_path(self) -> Path:
        return self.folder / "director-root.json"

    @property
    def _state_path(self) -> Path:
        return self.folder / "partial-verification.json"

    def provision(self, director_root: bytes) -> None:
        """Factory step: store the Director root this ECU will trust."""
        write_durably(self._root_path, director_root)

    def root_version(self) -> int:
        """Version of the Director root this ECU trusts (0 before provisioning)."""
        if not self._root_path.exists():
            return 0
        root = load(self._root_path.read_bytes(), Root.type, "Director root", self.limits.root).metadata.signed
        return int(root.version)

    def _state(self) -> dict[str, Any]:
        return dict(json.loads(self._state_path.read_bytes())) if self._state_path.exists() else {}

    def _targets_version(self) -> int:
        return int(self._state().get("targets_version", 0))

    def _check_time(self, now: datetime) -> None:
        """U 5.4.4.1 step 1: this ECU's own lower bound on time, the latest time it verified at.

        The time comes from the primary; a primary (or its clock) turned back could otherwise make
        this ECU accept metadata that expired long ago.
        """
        last = self._state().get("last_time")
        if last is not None and now < datetime.fromisoformat(last) - self.clock_tolerance:
            raise ClockSkewError(f"ECU {self.ecu_serial}: the time {now:%Y-%m-%dT%H:%M:%SZ} is before the last "
                                 f"verified {last}: refusing to judge expiry with it")

    @property
    def _targets_path(self) -> Path:
        return self.folder / "director-targets.json"

    @property
    def attacks_detected(self) -> str:
        """What this ECU's last metadata verification refused ("" after one that succeeded)."""
        return str(self._state().get("attacks_detected", ""))

    @property
    def trusted_targets_version(self) -> int:
        """Version of the latest Director targets this ECU verified and keeps (0 before any)."""
        return self._targets_version()

    @property
    def last_time(self) -> datetime | None:
        """This ECU's own lower bound on time: the latest time it verified metadata at."""
        last = self._state().get("last_time")
        return datetime.fromisoformat(last) if last else None

    def verify_metadata(
        self, director_targets: bytes, now: datetime, installed: SlotImage | None, root_updates: Sequence[bytes] = ()
    ) -> Targets:
        """U 5.4.4.1: verify the latest Director targets the primary sends (every check) and keep them.

        On success the targets, their version and this ECU's lower bound on time are saved; on a
        failure nothing trusted changes, the refusal is recorded for this ECU's next version report
        (U 5.4.2.1 ``attacks_detected``) and the error is raised.
        """
        try:
            chain, targets = self._verified_targets(director_targets, now, installed, root_updates)
        except OtaError as error:
            state = self._state()
            state["attacks_detected"] = f"{type(error).__name__}: {error}"[:500]
            write_durably(self._state_path, json.dumps(state).encode())
            raise
        if chain.root_bytes != self._root_path.read_bytes():
            write_durably(self._root_path, chain.root_bytes)
        write_durably(self._targets_path, director_targets)
        last = self.last_time
        write_durably(self._state_path, json.dumps({"targets_version": targets.version,
                                                    "last_time": max(now, last).isoformat() if last else
                                                    now.isoformat(),
                                                    "attacks_detected": ""}).encode())
        return targets

    def _verified_targets(
        self, director_targets: bytes, now: datetime, installed: SlotImage | None, root_updates: Sequence[bytes]
    ) -> tuple[TrustedRepository, Targets]:
        try:
            trusted_root = self._root_path.read_bytes()
        except FileNotFoundError as error:
            raise InstallError(f"ECU {self.ecu_serial}: no Director root provisioned") from error
        self._check_time(now)
        chain = TrustedRepository("Director", trusted_root, now, limits=self.limits)
        for data in root_updates:
            chain.update_root(data)
        chain.finish_root()
        what = f"ECU {self.ecu_serial}: Director targets.json"
        loaded = load(director_targets, Targets.type, what, self.limits.targets)
        verify_signatures(chain.root.keys, chain.root.roles[Targets.type], loaded, what)
        targets: Targets = loaded.metadata.signed
        previous = self._targets_version()
        if targets.version < previous:
            raise RollbackError(f"{what}: version {targets.version} is older than trusted {previous}")
        if targets.is_expired(now):
            raise ExpiredMetadataError(f"{what}: version {targets.version} expired {targets.expires}")
        check_vehicle(targets, self.vin, what)
        # Other ECUs' targets are not this ECU's business; only its own must be sound (when it has one).
        mine = director_assignments(targets, {self.ecu_serial: self.hardware_id}, only=self.ecu_serial)
        if self.ecu_serial in mine:
            check_release_counter(mine[self.ecu_serial], installed.release_counter if installed else None)
        return chain, targets

    def verify_image(self, image: bytes, installed: SlotImage | None) -> Assignment:
        """This ECU's assignment in the Director targets it verified last, with the image checked against it."""
        what = f"ECU {self.ecu_serial}: Director targets.json"
        if not self._targets_path.exists():
            raise InstallError(f"ECU {self.ecu_serial}: no verified Director targets to check the image against")
        kept = load(self._targets_path.read_bytes(), Targets.type, what, self.limits.targets)
        targets: Targets = kept.metadata.signed
        mine = director_assignments(targets, {self.ecu_serial: self.hardware_id}, only=self.ecu_serial)
        if self.ecu_serial not in mine:
            raise EcuMismatchError(f"{what}: no target for this ECU")
        assignment = mine[self.ecu_serial]
        check_release_counter(assignment, installed.release_counter if installed else None)
        check_image(assignment, image, f"ECU {self.ecu_serial}: image")
        return assignment

    def verify(
        self,
        director_targets: bytes,
        now: datetime,
        image: bytes,
        installed: SlotImage | None,
        root_updates: Sequence[bytes] = (),
    ) -> Assignment:
        """This ECU's verified assignment from the Director targets, with its image checked."""
        self.verify_metadata(director_targets, now, installed, root_updates)
        return self.verify_image(image, installed)


class SecondaryEcu:
    """A Secondary with its own slots, report key and counter; partial verification when ``partial``."""

    def __init__(self, ecu_serial: str, hardware_id: str, slots_dir: Path, limits: Limits | None = None, *,
                 vin: str, signer: Signer, partial: bool = False) -> None:
        self.serial = ecu_serial
        self.partial = partial
        self.slots = EcuSlots(slots_dir, ecu_serial)
        self.verifier = PartialVerifier(ecu_serial, hardware_id, self.slots.folder / "uptane", limits, vin=vin)
        self.__signer = signer  # provisioned at the factory; no method hands it out

    @property
    def _counter_path(self) -> Path:
        return self.slots.folder / "uptane" / "report-counter.json"

    def version_report(self, now: datetime, attacks_detected: str) -> dict[str, Any]:
        """This ECU's report of its committed image, signed by its own key, with its own next counter."""
        counter = 1 + (int(json.loads(self._counter_path.read_bytes())["counter"]) if self._counter_path.exists()
                       else 0)
        write_durably(self._counter_path, json.dumps({"counter": counter}).encode())
        # what this ECU refused itself comes first: the primary (maybe the attacker) does not choose it
        attacks = "; ".join(a for a in (self.verifier.attacks_detected, attacks_detected) if a)[:500]
        return ecu_version_report(self.serial, self.slots.installed(), now, counter, attacks, self.__signer)

    def receive_metadata(self, director_targets: bytes, now: datetime, root_updates: Sequence[bytes] = ()) -> None:
        """U 5.4.2.4 / 5.4.4.1: the latest Director metadata, sent on every check, update or not."""
        self.verifier.verify_metadata(director_targets, now, self.slots.installed(), root_updates)

    def receive_image(self, image: bytes) -> Assignment:
        """This ECU's image, checked against the metadata it verified; the primary installs only after this."""
        return self.verifier.verify_image(image, self.slots.installed())

    def receive(
        self, director_targets: bytes, now: datetime, image: bytes, root_updates: Sequence[bytes] = ()
    ) -> Assignment:
        """Metadata then image, as the primary sends them when this ECU has an update."""
        self.receive_metadata(director_targets, now, root_updates)
        return self.receive_image(image)
