"""The Uptane Director repository (Uptane standard 1.2, 5.3.2 and 5.2.3).

The Director knows each vehicle: its primary ECU, every ECU's serial, hardware id and public key
(registered once, e.g. at the end of the production line), what each ECU last reported installed
(vehicle version manifests, ``manifests.py``) and what it must install next (``assign``, fed by
campaigns). From that it signs per-vehicle targets metadata — one target per ECU to update, with
``ecu_serial``, ``hardware_id`` and ``release_counter`` — and a snapshot and a timestamp per
vehicle. Image information (length, sha256, release counter) is copied from the Image
repository's targets, so the vehicle's check that both repositories agree (Uptane 5.4.4.2 step 9)
passes for honest metadata and fails for anything the Director alone invents.

Its root is offline, its targets/snapshot/timestamp keys online. Layout::

    <path>/metadata/{1.root.json, …, root.json}          one root for every vehicle
    <path>/vehicles/<VIN>/vehicle.json                   registration, assignments, counters
    <path>/vehicles/<VIN>/{N.targets.json, targets.json, N.snapshot.json, snapshot.json, timestamp.json}
    <path>/ecus/<sha256 of an ECU serial>                the VIN it belongs to (serials are unique)

Director targets are keyed by the Image repository's path, as the client matches them by name,
so one vehicle cannot install the same image path on two of its ECUs in the same round.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from securesystemslib.signer import Key, Signer, SSlibKey
from tuf.api.metadata import Metadata, Root

from evplatform.errors import OtaError
from evplatform.ota import _roots
from evplatform.ota._director_render import FastRenderer, check_fast_safe, expires_texts, target_fragment
from evplatform.ota._ecu_index import EcuIndex
from evplatform.ota._role_files import RoleFiles, serialize
from evplatform.ota._vehicles import EcuRecord, VehicleRecord, read_vehicle, write_vehicle
from evplatform.ota._verification import Check, VerificationReport, verify_top_level
from evplatform.ota.assignment import Assignment, DeltaOffer
from evplatform.ota.image_repository import ImageRepository, ImageTarget
from evplatform.ota.keys import KeyRing, public_key_of, signer_of
from evplatform.ota.manifests import ManifestResult, ManifestVerifier
from evplatform.ota.metadata_common import DIRECTOR_EXPIRY, Clock, expires_text, now_of

logger = logging.getLogger(__name__)

_VIN = re.compile(r"[A-Za-z0-9_-]{1,64}")
_DIRECTOR_FIELDS = {"ecu_serial": str, "hardware_id": str, "release_counter": int}
ONLINE_ROLES = ("targets", "snapshot", "timestamp")


def check_vin(vin: str) -> str:
    """A VIN that is safe as a folder name (letters, digits, ``-``, ``_``; at most 64)."""
    if not isinstance(vin, str) or not _VIN.fullmatch(vin):  # fullmatch: "$" alone lets "A\n" through
        raise OtaError(f"{vin!r} is not a valid VIN (letters, digits, '-' or '_', at most 64 characters)")
    return vin


class Director:
    """A Director repository folder with its online keys loaded."""

    repository = "director"

    def __init__(self, path: Path, clock: Clock, image_repository: ImageRepository,
                 online_keys: Mapping[str, Ed25519PrivateKey] | None = None,
                 expiry: Mapping[str, timedelta] | None = None) -> None:
        self.path = Path(path)
        self.clock = clock
        self.image_repository = image_repository
        self.files = RoleFiles(self.path / "metadata")
        if not self.files.exists():
            raise OtaError(f"{self.path}: no Director repository here (metadata/root.json missing)")
        self.root: Metadata[Root] = self.files.read("root")
        self.expiry = {**DIRECTOR_EXPIRY, **(expiry or {})}
        self._online_keys = dict(online_keys or {})
        self._renderer: FastRenderer | None = FastRenderer(self._online_keys) if online_keys else None
        self._vehicles: dict[str, VehicleRecord] = {}
        self._expires_cache: tuple[datetime, list[str]] | None = None
        self._manifests = ManifestVerifier()
        #: Called with the VIN after its metadata are published (the fleet's generation numbers).
        self.publish_listeners: list[Callable[[str], None]] = []

    # -- creation --------------------------------------------------------------------------
    @classmethod
    def create(cls, path: Path, clock: Clock, image_repository: ImageRepository, *,
               keys: Mapping[str, Sequence[Key]], thresholds: Mapping[str, int], root_signers: Sequence[Signer],
               online_keys: Mapping[str, Ed25519PrivateKey],
               expiry: Mapping[str, timedelta] | None = None) -> Director:
        """A new Director: its root v1 (no vehicle yet)."""
        files = RoleFiles(Path(path) / "metadata")
        if files.exists():
            raise OtaError(f"{path}: a repository already exists here")
        for role in ONLINE_ROLES:
            if role not in online_keys or public_key_of(online_keys[role]).keyid not in {k.keyid for k in keys[role]}:
                raise OtaError(f"Director {role}: the online private key is not one of the role's public keys")
        lifetimes = {**DIRECTOR_EXPIRY, **(expiry or {})}
        root = _roots.new_root(keys, thresholds, now_of(clock) + lifetimes["root"])
        _roots.sign_threshold(root, root_signers, root.signed, "root")
        files.write("root", serialize(root), 1)
        (Path(path) / "vehicles").mkdir(parents=True, exist_ok=True)
        return cls(path, clock, image_repository, online_keys, expiry)

    @classmethod
    def create_from_keyring(cls, path: Path, clock: Clock, image_repository: ImageRepository,
                            keyring: KeyRing) -> Director:
        r = cls.repository
        roles = ("root", "targets", "snapshot", "timestamp")
        return cls.create(path, clock, image_repository,
                          keys={role: keyring.public_keys(r, role) for role in roles},
                          thresholds={role: keyring.threshold(r, role) for role in roles},
                          root_signers=keyring.signers(r, "root"),
                          online_keys={role: keyring.private_keys(r, role)[0] for role in ONLINE_ROLES})

    @classmethod
    def open_with_keyring(cls, path: Path, clock: Clock, image_repository: ImageRepository,
                          keyring: KeyRing) -> Director:
        online = {role: keyring.private_keys(cls.repository, role)[0] for role in ONLINE_ROLES}
        return cls(path, clock, image_repository, online)

    # -- vehicles --------------------------------------------------------------------------
    @property
    def ecu_index(self) -> EcuIndex:
        """ECU serial → VIN for the whole fleet (``<path>/ecus/``)."""
        return EcuIndex(self.path / "ecus")

    def vehicle_folder(self, vin: str) -> Path:
        return self.path / "vehicles" / check_vin(vin)

    def register_vehicle(self, vin: str, primary_serial: str, ecus: Mapping[str, tuple[str, Key]], *,
                         durable: bool = True) -> VehicleRecord:
        """Register a vehicle's ECUs and their public keys (``durable=False``: no fsync, for a bulk
        registration that syncs once at its end).

        Re-registering (an ECU replaced in the workshop) keeps metadata versions, replay counters,
        installed images and the assignments of ECUs that are still there with the same hardware.
        """
        folder = self.vehicle_folder(vin)
        if primary_serial not in ecus:
            raise OtaError(f"vehicle {vin}: the primary ECU {primary_serial!r} is not among its ECUs")
        records: dict[str, EcuRecord] = {}
        for serial, (hardware_id, key) in ecus.items():
            check_fast_safe(serial, hardware_id)
            if not isinstance(key, SSlibKey) or key.keytype != "ed25519":
                raise OtaError(f"vehicle {vin} ECU {serial}: an ed25519 public key is required")
            records[serial] = EcuRecord(serial, hardware_id, key)
        previous = self._vehicles.get(vin) or (read_vehicle(folder) if (folder / "vehicle.json").exists() else None)
        claimed = self.ecu_index.claim(vin, records)
        record = VehicleRecord(vin, primary_serial, records)
        if previous is not None:
            record.versions = dict(previous.versions)
            record.assignments = {s: a for s, a in previous.assignments.items()
                                  if s in records and records[s].hardware_id == a.hardware_id}
            record.reports = {s: r for s, r in previous.reports.items() if s in records}
            record.installed = {s: i for s, i in previous.installed.items() if s in records}
            record.manifest_time = previous.manifest_time
        try:
            write_vehicle(folder, record, durable=durable)
        except BaseException:
            self.ecu_index.release(vin, claimed)  # no serial held by a vehicle that was not registered
            raise
        self._vehicles[vin] = record
        if previous is not None:
            self.ecu_index.release(vin, set(previous.ecus) - set(records))
        return record

    def vehicle(self, vin: str) -> VehicleRecord:
        """The registered vehicle; OtaError ``unknown VIN`` otherwise."""
        cached = self._vehicles.get(vin)
        if cached is not None:
            return cached
        folder = self.vehicle_folder(vin)
        if not (folder / "vehicle.json").exists():
            raise OtaError(f"unknown VIN {vin!r}: the vehicle is not registered with the Director")
        record = read_vehicle(folder)
        self._vehicles[vin] = record
        return record

    def forget(self, vin: str) -> None:
        """Drop the vehicle's cached record (a bulk writer keeps memory flat; the file stays)."""
        self._vehicles.pop(vin, None)

    def vehicles(self) -> list[str]:
        folder = self.path / "vehicles"
        return sorted(p.name for p in folder.iterdir() if (p / "vehicle.json").exists()) if folder.is_dir() else []

    def save_vehicle(self, record: VehicleRecord, *, durable: bool = True) -> None:
        write_vehicle(self.vehicle_folder(record.vin), record, durable=durable)
        self._vehicles[record.vin] = record

    # -- assignments -----------------------------------------------------------------------
    def assign(self, vin: str, ecu_serial: str, image_path: str, *, delta: Mapping[str, Any] | None = None,
               delta_from: str | None = None, publish: bool = True, durable: bool = True) -> Assignment:
        """Make ``ecu_serial`` of ``vin`` install ``image_path`` (an Image repository target).

        Refused: unknown VIN or ECU, an image built for another hardware id (Uptane 5.2.3.1.1),
        an image whose release counter is below the one installed (anti-rollback), and a second
        ECU of the same vehicle on the same image path.
        """
        record = self.vehicle(vin)
        ecu = record.ecus.get(ecu_serial)
        if ecu is None:
            raise OtaError(f"vehicle {vin}: no ECU {ecu_serial!r} registered")
        image = self.image_repository.target(image_path)
        if image.hardware_id != ecu.hardware_id:
            raise OtaError(f"vehicle {vin} ECU {ecu_serial}: image {image_path} is built for hardware "
                           f"{image.hardware_id}, the ECU is {ecu.hardware_id}")
        installed = record.installed.get(ecu_serial)
        if installed is not None:
            current = self._installed_image(installed["sha256"])
            if current is not None and image.release_counter < current.release_counter:
                raise OtaError(f"vehicle {vin} ECU {ecu_serial}: release counter {image.release_counter} of "
                               f"{image_path} is below the installed {current.release_counter} (rollback)")
        for serial, other in record.assignments.items():
            if serial != ecu_serial and other.filepath == image_path:
                raise OtaError(f"vehicle {vin}: image {image_path} is already assigned to ECU {serial}")
        check_fast_safe(image.filepath)
        assignment = Assignment(ecu_serial, image.hardware_id, image.filepath, image.length, {"sha256": image.sha256},
                                image.release_counter, _delta_offer(vin, ecu_serial, delta, delta_from))
        record.assignments[ecu_serial] = assignment
        record.fragments = None
        if not publish:
            self.save_vehicle(record, durable=durable)
            return assignment
        try:
            self.publish(vin, durable=durable)  # saves the record with its new versions: one write, not two
        except BaseException:
            self.save_vehicle(record, durable=durable)  # the assignment stands even if signing failed
            raise
        return assignment

    def clear_assignment(self, vin: str, ecu_serial: str, publish: bool = True) -> None:
        record = self.vehicle(vin)
        record.assignments.pop(ecu_serial, None)
        record.fragments = None
        self.save_vehicle(record)
        if publish:
            self.publish(vin)

    def _installed_image(self, sha256: str) -> ImageTarget | None:
        try:
            return self.image_repository.target_by_sha256(sha256)
        except OtaError:
            return None

    # -- manifests -------------------------------------------------------------------------
    def ingest_manifest(self, vin: str, data: bytes) -> ManifestResult:
        """Verify a vehicle version manifest (``manifests.ManifestVerifier``) and record it.

        OtaError for an unknown VIN, a bad signature, an unregistered ECU or a replay; then
        nothing is recorded.
        """
        record = self.vehicle(vin)
        result = self._manifests.verify(vin, data, record, now_of(self.clock))
        ManifestVerifier.apply(record, result)
        self.save_vehicle(record)
        if result.nonce is not None:
            self.publish(vin)  # the next timestamp answers the nonce with the Director's signed time
        return result

    # -- metadata --------------------------------------------------------------------------
    def fragments(self, record: VehicleRecord) -> list[bytes]:
        """Canonical target fragments of a vehicle's assignments, sorted by image path (cached)."""
        if record.fragments is not None:
            return record.fragments
        items = sorted(record.assignments.values(), key=lambda a: a.filepath)
        record.fragments = [target_fragment(a.filepath, a.length, a.sha256, a.custom()) for a in items]
        return record.fragments

    def render(self, record: VehicleRecord, versions: Sequence[int]) -> dict[str, bytes]:
        """Signed targets, snapshot and timestamp for ``record`` at ``versions`` (no I/O)."""
        if self._renderer is None:
            raise OtaError(f"{self.path}: the Director's online keys are not loaded")
        time_for = (record.nonce, expires_text(now_of(self.clock))) if record.nonce else None
        return self._renderer.render(record.vin, self.fragments(record), versions, self._expires_texts(), time_for)

    def _expires_texts(self) -> list[str]:
        """Expiry strings of the three roles, formatted once per clock second."""
        now = now_of(self.clock)
        if self._expires_cache is None or self._expires_cache[0] != now:
            self._expires_cache = (now, expires_texts([now + self.expiry[r] for r in ONLINE_ROLES]))
        return self._expires_cache[1]

    def publish(self, vin: str, *, durable: bool = True) -> dict[str, bytes]:
        """Sign and write the vehicle's next targets, snapshot and timestamp (``durable=False``: no
        fsync, for a bulk publisher that syncs once at its end, ``ota.bulk``)."""
        record = self.vehicle(vin)
        versions = [record.versions.get(role, 0) + 1 for role in ONLINE_ROLES]
        documents = self.render(record, versions)
        files = RoleFiles(self.vehicle_folder(vin))
        for role, version in zip(ONLINE_ROLES, versions, strict=True):
            files.write(role, documents[role], version, durable=durable)
        record.versions = dict(zip(ONLINE_ROLES, versions, strict=True))
        self.save_vehicle(record, durable=durable)
        # debug: the Director publishes once per vehicle and change, thousands an hour in a campaign
        logger.debug("Director metadata for %s published", vin, extra={
            "event": "metadata_published", "repository": "director", "vin": vin, "versions": record.versions})
        for listener in self.publish_listeners:
            listener(vin)
        return documents

    def metadata_bytes(self, vin: str, role: str, version: int | None = None) -> bytes:
        """Bytes served at ``director/<VIN>/<role>.json`` (root is the Director's shared root)."""
        self.vehicle(vin)
        if role == "root":
            return self.files.read_bytes("root", version)
        files = RoleFiles(self.vehicle_folder(vin))
        if not files.path(role).exists() and version is None:
            self.publish(vin)
        return files.read_bytes(role, version)

    def rotate_root(self, old_signers: Sequence[Signer], new_signers: Sequence[Signer], *,
                    keys: Mapping[str, Sequence[Key]] | None = None, thresholds: Mapping[str, int] | None = None,
                    online_keys: Mapping[str, Ed25519PrivateKey] | None = None) -> int:
        """Director root ``N+1`` signed by the old and new root thresholds (new online keys optional)."""
        rotated = _roots.rotate(self.root, keys, thresholds, now_of(self.clock) + self.expiry["root"],
                                old_signers, new_signers)
        self.files.write("root", serialize(rotated), rotated.signed.version)
        self.root = rotated
        logger.warning("Director root rotated to version %d", rotated.signed.version, extra={
            "event": "root_rotated", "repository": "director", "version": rotated.signed.version})
        if online_keys:
            self._online_keys.update(online_keys)
            self._renderer = FastRenderer(self._online_keys)
        return rotated.signed.version

    def online_signers(self) -> dict[str, Signer]:
        """securesystemslib signers of the online keys (for python-tuf's path in the benchmark)."""
        return {role: signer_of(key) for role, key in self._online_keys.items()}

    def verify(self, vins: Sequence[str] | None = None) -> VerificationReport:
        """Root chain, then every (or the given) vehicle's metadata, and its match with the Image repository."""
        now = now_of(self.clock)
        report = _root_only_report(self.files, now, str(self.path))
        for vin in vins if vins is not None else self.vehicles():
            folder = self.vehicle_folder(vin)
            files = RoleFiles(folder)
            if not files.path("timestamp").exists():
                report.add(f"{vin}", True, "no metadata published yet")
                continue
            sub = verify_top_level(files, self.root.signed, now, f"{folder}", _DIRECTOR_FIELDS)
            report.checks.extend(Check(f"{vin} {c.name}", c.ok, c.detail) for c in sub.checks)
            self._check_match(report, vin, files)
        return report

    def _check_match(self, report: VerificationReport, vin: str, files: RoleFiles) -> None:
        try:
            targets = files.read("targets").signed.targets
        except OtaError as error:
            report.add(f"{vin} image match", False, str(error))
            return
        bad = []
        for path, target in targets.items():
            try:
                image = self.image_repository.target(path)
            except OtaError:
                bad.append(f"{path} is not in the Image repository")
                continue
            if (image.length, image.sha256) != (target.length, target.hashes.get("sha256")):
                bad.append(f"{path} differs from the Image repository")
        report.add(f"{vin} image match", not bad, "; ".join(bad) or f"{len(targets)} target(s) match")


def _root_only_report(files: RoleFiles, now: datetime, source: str) -> VerificationReport:
    report = VerificationReport(source)
    problems = _roots.verify_root_chain(files.root_chain(), source)
    report.add("director root chain", not problems, "; ".join(problems) or "ok")
    root = files.read("root")
    report.add("director root expiry", not root.signed.is_expired(now), f"expires {root.signed.expires:%Y-%m-%d}")
    return report


_SHA256 = re.compile(r"[0-9a-f]{64}")
_ALGORITHM = re.compile(r"[a-z0-9][a-z0-9_.-]{0,31}")


def _delta_offer(vin: str, serial: str, delta: Mapping[str, Any] | None, delta_from: str | None) -> DeltaOffer | None:
    """The delta fields of an assignment: both or neither, each of the form the vehicle reads.

    Refused here rather than signed: a float length, a control character in the algorithm or a
    malformed hash would otherwise go into the vehicle's metadata, which it then refuses as a whole.
    """
    where = f"vehicle {vin} ECU {serial}"
    if delta is None and delta_from is None:
        return None
    if delta is None or delta_from is None:
        raise OtaError(f"{where}: a delta needs both its fields and delta_from (the sha256 it applies to)")
    if not isinstance(delta, Mapping) or set(delta) != {"algorithm", "sha256", "length"}:
        raise OtaError(f"{where}: malformed delta: it needs exactly algorithm, sha256 and length")
    algorithm, sha256, length = delta["algorithm"], delta["sha256"], delta["length"]
    if not isinstance(algorithm, str) or not _ALGORITHM.fullmatch(algorithm):
        raise OtaError(f"{where}: malformed delta: algorithm {algorithm!r} is not a short lower-case name")
    for name, digest in (("sha256", sha256), ("delta_from", delta_from)):
        if not isinstance(digest, str) or not _SHA256.fullmatch(digest):
            raise OtaError(f"{where}: malformed delta: {name} {digest!r} is not 64 lower-case hex digits")
    if isinstance(length, bool) or not isinstance(length, int) or not 0 < length < 2**63:
        raise OtaError(f"{where}: malformed delta: length {length!r} is not a positive integer")
    return DeltaOffer(delta_from, algorithm, sha256, length)
