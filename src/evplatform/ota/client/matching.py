"""Uptane rules between the two repositories and the vehicle: pure functions, no I/O.

- Director targets: signed for this vehicle (its VIN in the targets' ``custom``, Uptane 5.2.3.1:
  metadata replayed from another vehicle is refused), no delegations, each ECU once, only ECUs
  this vehicle has, each with the hardware id that ECU reports (Uptane 2.1.0 5.4.4.6 steps 6-8,
  5.4.3.4 step 3);
- the Director's target must equal the Image repository's target of the same path: length,
  hashes, hardware id and release counter (5.4.4.2 step 10.2);
- the release counter never goes down (5.4.4.2 step 10.2.3, 5.4.3.4 step 5): anti-rollback
  even when both repositories were to agree on an old image.

Custom fields are those of docs INTERFACES (python-tuf ``TargetFile.custom``):
Image repository ``{"component", "version", "hardware_id", "release_counter"}``; Director
``{"ecu_serial", "hardware_id", "release_counter"}`` plus optional ``"delta_from"`` and
``"delta": {"algorithm", "sha256", "length"}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tuf.api.metadata import TargetFile, Targets

from evplatform.ota.assignment import Assignment, DeltaOffer
from evplatform.ota.client.errors import (
    DirectorDelegationError,
    DuplicateEcuTargetError,
    EcuMismatchError,
    HardwareMismatchError,
    ImageVerificationError,
    MalformedMetadataError,
    RollbackError,
    TargetMismatchError,
    VehicleMismatchError,
)
from evplatform.ota.client.signatures import digest


def _custom(target: TargetFile) -> Mapping[str, Any]:
    custom = target.unrecognized_fields.get("custom", {})
    if not isinstance(custom, dict):
        raise MalformedMetadataError(f"target {target.path}: 'custom' is not an object")
    return custom


def _int_field(custom: Mapping[str, Any], name: str, where: str) -> int:
    value = custom.get(name, 0)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise MalformedMetadataError(f"{where}: {name} must be a non-negative integer, got {value!r}")
    return value


def _str_field(custom: Mapping[str, Any], name: str, where: str) -> str:
    value = custom.get(name)
    if not isinstance(value, str) or not value:
        raise MalformedMetadataError(f"{where}: custom field {name} is missing or not a string")
    return value


def _delta(custom: Mapping[str, Any], where: str) -> DeltaOffer | None:
    delta = custom.get("delta")
    if delta is None:
        return None
    if not isinstance(delta, dict):
        raise MalformedMetadataError(f"{where}: 'delta' is not an object")
    return DeltaOffer(
        from_sha256=_str_field(custom, "delta_from", where),
        algorithm=_str_field(delta, "algorithm", where + " delta"),
        sha256=_str_field(delta, "sha256", where + " delta"),
        length=_int_field(delta, "length", where + " delta"),
    )


def check_vehicle(targets: Targets, vin: str, what: str = "Director targets.json") -> None:
    """The Director signed these targets for ``vin`` (``signed.custom.vin``).

    Every vehicle trusts the same Director keys, so a signature alone does not say whose metadata
    this is: without the VIN, vehicle A's (empty or not) targets served at vehicle B's address
    would make B report "up to date" or install A's image (Uptane 5.2.3.1).
    """
    custom = targets.unrecognized_fields.get("custom")
    signed_for = custom.get("vin") if isinstance(custom, dict) else None
    if not isinstance(signed_for, str):
        raise VehicleMismatchError(f"{what}: names no vehicle (custom.vin); refusing metadata that could be replayed")
    if signed_for != vin:
        raise VehicleMismatchError(f"{what}: signed for vehicle {signed_for}, this vehicle is {vin} (replay?)")


def director_assignments(
    targets: Targets, ecus: Mapping[str, str], only: str | None = None
) -> dict[str, Assignment]:
    """Check the Director's targets against the vehicle's ECUs (serial → hardware id).

    Raises on delegations, a repeated ECU, an ECU the vehicle lacks, a hardware id that is not
    the ECU's, or a target without sha256 (the image store is addressed by it). ``only`` (a
    Secondary's partial verification, U 5.4.4.1) skips the targets of other ECUs.
    """
    if targets.delegations is not None:
        raise DirectorDelegationError("Director targets metadata has delegations; Uptane 5.4.4.6 step 6 forbids them")
    assignments: dict[str, Assignment] = {}
    for path, target in targets.targets.items():
        where = f"Director target {path}"
        custom = _custom(target)
        serial = _str_field(custom, "ecu_serial", where)
        if only is not None and serial != only:
            continue
        if serial in assignments:
            raise DuplicateEcuTargetError(f"{where}: ECU {serial} already has target {assignments[serial].filepath}")
        if serial not in ecus:
            raise EcuMismatchError(f"{where}: ECU {serial} is not in this vehicle")
        hardware_id = _str_field(custom, "hardware_id", where)
        if hardware_id != ecus[serial]:
            raise HardwareMismatchError(f"{where}: hardware id {hardware_id}, ECU {serial} is {ecus[serial]}")
        if "sha256" not in target.hashes:
            raise MalformedMetadataError(f"{where}: no sha256 hash")
        assignments[serial] = Assignment(
            ecu_serial=serial,
            hardware_id=hardware_id,
            filepath=path,
            length=target.length,
            hashes=dict(target.hashes),
            release_counter=_int_field(custom, "release_counter", where),
            delta=_delta(custom, where),
        )
    return assignments


def match_image_target(assignment: Assignment, image_target: TargetFile | None) -> None:
    """The Image repository signs the same image (U 5.4.4.2 step 10.2.1-10.2.2).

    ``None`` means the Image repository has no such path after delegation resolution: the
    Director alone (one compromised key) cannot make a vehicle install anything.
    """
    where = f"target {assignment.filepath} for ECU {assignment.ecu_serial}"
    if image_target is None:
        raise TargetMismatchError(f"{where}: the Image repository does not sign this image")
    if image_target.length != assignment.length:
        raise TargetMismatchError(
            f"{where}: length {assignment.length} (Director) ≠ {image_target.length} (Image repository)"
        )
    if dict(image_target.hashes) != dict(assignment.hashes):
        raise TargetMismatchError(f"{where}: hashes differ between the Director and the Image repository")
    custom = _custom(image_target)
    image_hardware = custom.get("hardware_id")
    if image_hardware != assignment.hardware_id:
        raise TargetMismatchError(
            f"{where}: hardware id {assignment.hardware_id} (Director) ≠ {image_hardware!r} (Image repository)"
        )
    image_counter = _int_field(custom, "release_counter", f"Image repository target {image_target.path}")
    if image_counter != assignment.release_counter:
        raise TargetMismatchError(
            f"{where}: release counter {assignment.release_counter} (Director) ≠ {image_counter} (Image repository)"
        )


def check_release_counter(assignment: Assignment, installed_counter: int | None) -> None:
    """Never install an image with a lower release counter than the installed one."""
    if installed_counter is not None and assignment.release_counter < installed_counter:
        raise RollbackError(
            f"ECU {assignment.ecu_serial}: release counter {assignment.release_counter} is lower than the "
            f"installed {installed_counter} (anti-rollback)"
        )


def check_image(assignment: Assignment, data: bytes, what: str) -> None:
    """U 5.4.3.4 step 7: the signed length (a short read is a truncated download) and every listed
    hash; ``what`` names the image in the error (the primary's file, or a Secondary's ECU)."""
    if len(data) != assignment.length:
        raise ImageVerificationError(
            f"{what}: {len(data)} bytes, the signed length is {assignment.length} (truncated?)"
        )
    for algorithm, expected in assignment.hashes.items():
        try:
            actual = digest(algorithm, data)
        except ValueError as error:
            raise ImageVerificationError(f"{what}: {error}") from error
        if actual != expected:
            raise ImageVerificationError(f"{what}: {algorithm} differs from the signed one")
