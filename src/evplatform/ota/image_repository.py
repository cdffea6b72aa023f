"""The Uptane Image repository on python-tuf metadata (Uptane standard 1.2, 5.3.1, 5.2).

It lists every image the platform may ever install, with Uptane custom fields
(``component``, ``version``, ``hardware_id``, ``release_counter``), and is signed like a TUF
repository: root and targets with offline keys, snapshot and timestamp with online keys.
A compromise of the online keys alone cannot add an image (targets is offline), and the Director
may only point at images listed here (the vehicle checks that both match).

Layout: ``<path>/metadata/{1.root.json, …, root.json, N.targets.json, targets.json,
N.snapshot.json, snapshot.json, timestamp.json}``, plus ``N.<role>.json`` and ``<role>.json`` for
each delegated targets role.

Delegations (Uptane 5.2.3.2, e.g. an app publisher or a supplier restricted to its paths and
hardware ids) are made by the offline targets key; each delegated role signs its own images with
its own keys. The format of hardware ids, terminating and multi-role delegations is the one the
vehicle resolves (``ota/client/delegations.py``); ``target()`` resolves the same way, so the
Director only assigns what a vehicle will find.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from securesystemslib.signer import Key, Signer
from tuf.api.exceptions import LengthOrHashMismatchError, UnsignedMetadataError
from tuf.api.metadata import (
    DelegatedRole,
    Delegations,
    Metadata,
    MetaFile,
    Root,
    Snapshot,
    TargetFile,
    Targets,
    Timestamp,
)

from evplatform.errors import OtaError
from evplatform.ota import _roots
from evplatform.ota._delegation_spec import DelegationSpec, multi_role_names, sign_delegated
from evplatform.ota._role_files import RoleFiles, serialize
from evplatform.ota._verification import VerificationReport, verify_repository
from evplatform.ota.client.delegations import check_role_name, find_target, hardware_ids, multi_role
from evplatform.ota.keys import KeyRing
from evplatform.ota.metadata_common import DEFAULT_EXPIRY, Clock, now_of

logger = logging.getLogger(__name__)

_HEX64 = frozenset("0123456789abcdef")


@dataclass(frozen=True, slots=True)
class ImageTarget:
    """One image of the Image repository and its Uptane custom fields."""

    filepath: str
    length: int
    sha256: str
    component: str
    version: str
    hardware_id: str
    release_counter: int

    def __post_init__(self) -> None:
        if not self.filepath or self.filepath.startswith("/") or ".." in self.filepath.split("/"):
            raise OtaError(f"target path {self.filepath!r} must be relative and stay inside the repository")
        if len(self.sha256) != 64 or not _HEX64.issuperset(self.sha256):
            raise OtaError(f"target {self.filepath}: sha256 must be 64 lowercase hex digits")
        if self.length < 0:
            raise OtaError(f"target {self.filepath}: negative length {self.length}")
        if self.release_counter < 0:
            raise OtaError(f"target {self.filepath}: negative release counter {self.release_counter}")
        if not self.hardware_id:
            raise OtaError(f"target {self.filepath}: a hardware id is required")

    @classmethod
    def from_data(
        cls, filepath: str, data: bytes, *, component: str, version: str, hardware_id: str, release_counter: int
    ) -> ImageTarget:
        return cls(filepath, len(data), hashlib.sha256(data).hexdigest(), component, version, hardware_id,
                   release_counter)

    def custom(self) -> dict[str, Any]:
        return {
            "component": self.component,
            "version": self.version,
            "hardware_id": self.hardware_id,
            "release_counter": self.release_counter,
        }

    def to_target_file(self) -> TargetFile:
        return TargetFile(self.length, {"sha256": self.sha256}, self.filepath, {"custom": self.custom()})

    @classmethod
    def from_target_file(cls, target: TargetFile, source: str) -> ImageTarget:
        custom = target.unrecognized_fields.get("custom")
        if not isinstance(custom, dict):
            raise OtaError(f"{source}: target {target.path} has no Uptane custom fields")
        sha = target.hashes.get("sha256")
        try:
            return cls(target.path, target.length, str(sha), str(custom["component"]), str(custom["version"]),
                       str(custom["hardware_id"]), _int(custom["release_counter"]))
        except (KeyError, TypeError, ValueError) as error:
            raise OtaError(f"{source}: target {target.path}: bad custom fields ({error})") from error


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{value!r} is not an integer")
    return int(value)


class ImageRepository:
    """An Image repository folder; online signers (snapshot, timestamp) are held, offline ones passed in."""

    repository = "image"

    def __init__(self, path: Path, clock: Clock, online_signers: Mapping[str, Signer] | None = None,
                 expiry: Mapping[str, timedelta] | None = None) -> None:
        self.path = Path(path)
        self.clock = clock
        self.files = RoleFiles(self.path / "metadata", delegated=True)
        if not self.files.exists():
            raise OtaError(f"{self.path}: no Image repository here (metadata/root.json missing)")
        self.online_signers = dict(online_signers or {})
        self.expiry = {**DEFAULT_EXPIRY, **(expiry or {})}
        self.root: Metadata[Root] = self.files.read("root")
        self.targets: Metadata[Targets] = self.files.read("targets")
        self.snapshot: Metadata[Snapshot] = self.files.read("snapshot")
        self.timestamp: Metadata[Timestamp] = self.files.read("timestamp")

    # -- creation and opening -------------------------------------------------------------
    @classmethod
    def create(
        cls,
        path: Path,
        clock: Clock,
        *,
        keys: Mapping[str, Sequence[Key]],
        thresholds: Mapping[str, int],
        root_signers: Sequence[Signer],
        targets_signers: Sequence[Signer],
        online_signers: Mapping[str, Signer],
        expiry: Mapping[str, timedelta] | None = None,
    ) -> ImageRepository:
        """A new repository: root v1, empty targets v1, snapshot v1, timestamp v1."""
        files = RoleFiles(Path(path) / "metadata", delegated=True)
        if files.exists():
            raise OtaError(f"{path}: a repository already exists here")
        lifetimes = {**DEFAULT_EXPIRY, **(expiry or {})}
        now = now_of(clock)
        root = _roots.new_root(keys, thresholds, now + lifetimes["root"])
        _roots.sign_threshold(root, root_signers, root.signed, "root")
        files.write("root", serialize(root), 1)
        targets: Metadata[Targets] = Metadata(Targets(version=1, expires=now + lifetimes["targets"]))
        _roots.sign_threshold(targets, targets_signers, root.signed, "targets")
        files.write("targets", serialize(targets), 1)
        snapshot = snapshot_for(files.read_bytes("targets"), 1, 1, now + lifetimes["snapshot"])
        _roots.sign_threshold(snapshot, [online_signers["snapshot"]], root.signed, "snapshot")
        files.write("snapshot", serialize(snapshot), 1)
        timestamp = timestamp_for(files.read_bytes("snapshot"), 1, 1, now + lifetimes["timestamp"])
        _roots.sign_threshold(timestamp, [online_signers["timestamp"]], root.signed, "timestamp")
        files.write("timestamp", serialize(timestamp), 1)
        return cls(path, clock, online_signers, expiry)

    @classmethod
    def create_from_keyring(cls, path: Path, clock: Clock, keyring: KeyRing,
                            expiry: Mapping[str, timedelta] | None = None) -> ImageRepository:
        """Create with the keys of a key directory (offline keys need the keyring's passphrase)."""
        r = cls.repository
        return cls.create(
            path, clock,
            keys={role: keyring.public_keys(r, role) for role in ("root", "targets", "snapshot", "timestamp")},
            thresholds={role: keyring.threshold(r, role) for role in ("root", "targets", "snapshot", "timestamp")},
            root_signers=keyring.signers(r, "root"),
            targets_signers=keyring.signers(r, "targets"),
            online_signers={role: keyring.signers(r, role)[0] for role in ("snapshot", "timestamp")},
            expiry=expiry,
        )

    @classmethod
    def open_with_keyring(cls, path: Path, clock: Clock, keyring: KeyRing) -> ImageRepository:
        """Open for serving and for online signing (snapshot, timestamp keys from the keyring)."""
        online = {role: keyring.signers(cls.repository, role)[0] for role in ("snapshot", "timestamp")}
        return cls(path, clock, online)

    # -- reading ---------------------------------------------------------------------------
    def metadata_bytes(self, role: str, version: int | None = None) -> bytes:
        """The exact bytes of a metadata file as served to vehicles."""
        return self.files.read_bytes(role, version)

    def image_targets(self) -> list[ImageTarget]:
        source = str(self.files.path("targets"))
        return [ImageTarget.from_target_file(t, source) for t in self.targets.signed.targets.values()]

    def target(self, filepath: str, hardware_id: str | None = None) -> ImageTarget:
        """The image at ``filepath`` as a vehicle with an ECU of ``hardware_id`` resolves it (top-level
        targets, then delegations in priority order; ``None`` skips the delegations' hardware check)."""
        found = find_target(self._load_role, filepath, hardware_id)
        if found is None:
            raise OtaError(f"{self.path}: no image {filepath!r} in the Image repository")
        return ImageTarget.from_target_file(found, str(self.files.path("targets")))

    def target_by_sha256(self, sha256: str) -> ImageTarget:
        """An image listed by the top-level targets or by a delegated role, by its sha256."""
        for role in (Targets.type, *self._role_names()):
            for target in self._load_role(role, "").targets.values():
                if target.hashes.get("sha256") == sha256:
                    return ImageTarget.from_target_file(target, str(self.files.path(role)))
        raise OtaError(f"{self.path}: no image with sha256 {sha256[:16]}… in the Image repository")

    def _load_role(self, role: str, delegator: str) -> Targets:
        """Targets metadata of ``role`` as written here (the repository trusts its own folder)."""
        if role == Targets.type:
            return self.targets.signed
        return self.delegated_role(role).signed

    # -- delegations -----------------------------------------------------------------------
    def delegations(self) -> list[DelegatedRole]:
        """The top-level targets' delegations, in priority order."""
        delegations = self.targets.signed.delegations
        return list(delegations.roles.values()) if delegations is not None and delegations.roles else []

    def delegation(self, name: str) -> DelegatedRole:
        found = next((d for d in self.delegations() if d.name == name), None)
        if found is None:
            raise OtaError(f"{self.path}: no delegated role {name!r}")
        return found

    def delegated_role(self, name: str) -> Metadata[Targets]:
        """The current metadata of a delegated role (also of a revoked one, whose file stays)."""
        check_role_name(name)
        metadata: Metadata[Targets] = self.files.read(name)
        return metadata

    def delegated_targets(self, name: str) -> list[ImageTarget]:
        source = str(self.files.path(name))
        return [ImageTarget.from_target_file(t, source) for t in self.delegated_role(name).signed.targets.values()]

    def _role_names(self) -> list[str]:
        """Every delegated role snapshot lists or a delegation names (revoked ones stay listed:
        TUF 5.5.5 forbids a snapshot to drop a file a vehicle already trusts)."""
        names = [m[: -len(".json")] for m in self.snapshot.signed.meta if m != "targets.json"]
        names += [d.name for d in self.delegations() if multi_role(d) is None and d.name not in names]
        return [n for n in names if self.files.path(n).exists()]

    def delegate(self, spec: DelegationSpec, targets_signers: Sequence[Signer], role_signers: Sequence[Signer] = (),
                 position: int | None = None) -> int:
        """Add a delegation to the top-level targets (offline targets key) at ``position`` (0 = first,
        highest priority; default last); an ordinary role's empty first version is signed by
        ``role_signers`` (a threshold of ``spec.keys``). Returns the new targets version."""
        current = self.delegations()
        if any(d.name == spec.name for d in current):
            raise OtaError(f"delegation {spec.name} already exists; revoke it first to change it")
        for member in spec.members:
            found = next((d for d in current if d.name == member), None)
            if found is None or multi_role(found) is not None:
                raise OtaError(f"delegation {spec.name}: member {member!r} is not an ordinary delegated role here")
        role = spec.to_role()
        if not spec.members:
            previous = self.delegated_role(spec.name).signed.version if self.files.path(spec.name).exists() else 0
            document: Metadata[Targets] = Metadata(Targets(version=previous + 1, expires=self._expires("targets")))
            sign_delegated(document, role_signers, role, {k.keyid: k for k in spec.keys})
            self.files.write(spec.name, serialize(document), document.signed.version)
        ordered = list(current)
        ordered.insert(len(ordered) if position is None else max(0, min(position, len(ordered))), role)
        keys = {**(self.targets.signed.delegations.keys if self.targets.signed.delegations else {}),
                **{k.keyid: k for k in spec.keys}}
        version = self._write_targets(self.targets.signed.targets, ordered, keys, targets_signers)
        logger.warning("Image repository delegated %s to role %s", list(spec.paths), spec.name, extra={
            "event": "delegation_created", "repository": "image", "role": spec.name, "paths": list(spec.paths),
            "hardware_ids": list(spec.hardware_ids or []), "terminating": spec.terminating,
            "members": list(spec.members), "targets_version": version})
        return version

    def revoke_delegation(self, name: str, targets_signers: Sequence[Signer]) -> int:
        """Remove a delegation (offline targets key): vehicles stop trusting the role at their next check.

        Its file stays, listed by snapshot at its last version, but nothing delegates to it any more.
        """
        self.delegation(name)
        users = [d.name for d in self.delegations() if name in multi_role_names(d)]
        if users:
            raise OtaError(f"delegation {name} is a member of multi-role delegation(s) {users}; revoke those first")
        ordered = [d for d in self.delegations() if d.name != name]
        used = {kid for d in ordered for kid in d.keyids}
        old_keys = self.targets.signed.delegations.keys if self.targets.signed.delegations else {}
        version = self._write_targets(self.targets.signed.targets, ordered,
                                      {k: v for k, v in old_keys.items() if k in used}, targets_signers)
        logger.warning("Image repository revoked delegation %s", name, extra={
            "event": "delegation_revoked", "repository": "image", "role": name, "targets_version": version})
        return version

    def add_delegated_targets(self, name: str, images: Sequence[ImageTarget], role_signers: Sequence[Signer],
                              lifetime: timedelta | None = None) -> int:
        """List images in delegated role ``name`` (signed by its own keys), then snapshot and timestamp.

        Uptane 5.3.1: the repository checks the writer is authorised for each image: the path must
        match the delegation's paths and the hardware id its hardware ids. ``lifetime``: how long the
        role's new version is valid (default: the repository's targets lifetime).
        """
        if lifetime is not None and lifetime <= timedelta(0):
            raise OtaError(f"role {name}: a lifetime must be positive, not {lifetime}")
        delegation = self.delegation(name)
        if multi_role(delegation) is not None:
            raise OtaError(f"{name} is a multi-role delegation; publish into its member roles")
        # its own delegation, and the multi-role delegations it is a member of, grant paths and hardware
        grants = [delegation, *(d for d in self.delegations() if name in multi_role_names(d))]
        current = self.delegated_role(name).signed
        for image in images:
            if not any(g.paths and g.is_delegated_path(image.filepath) for g in grants):
                raise OtaError(f"role {name} may not sign {image.filepath}: outside its paths "
                               f"{sorted({p for g in grants for p in g.paths or []})}")
            if not any(g.is_delegated_path(image.filepath) and _hardware_allowed(g, image.hardware_id)
                       for g in grants):
                raise OtaError(f"role {name} may not sign {image.filepath} for hardware {image.hardware_id}")
            existing = current.targets.get(image.filepath)
            if existing is not None and (existing.hashes.get("sha256"), existing.length) != (image.sha256,
                                                                                            image.length):
                raise OtaError(f"target {image.filepath} already exists with other content; images are immutable")
        expires = now_of(self.clock) + lifetime if lifetime is not None else self._expires("targets")
        document: Metadata[Targets] = Metadata(Targets(
            version=current.version + 1, expires=expires,
            targets={**current.targets, **{i.filepath: i.to_target_file() for i in images}}))
        keys = self.targets.signed.delegations.keys if self.targets.signed.delegations else {}
        sign_delegated(document, role_signers, delegation, keys)
        self.files.write(name, serialize(document), document.signed.version)
        logger.info("Image repository role %s version %d published (%d new images)", name, document.signed.version,
                    len(images), extra={"event": "metadata_published", "repository": "image", "role": name,
                                        "version": document.signed.version,
                                        "targets": [i.filepath for i in images]})
        self._publish_snapshot_and_timestamp()
        return document.signed.version

    def _write_targets(self, targets: Mapping[str, TargetFile], roles: Sequence[DelegatedRole],
                       keys: Mapping[str, Key], targets_signers: Sequence[Signer]) -> int:
        """Next top-level targets with these delegations, signed offline, then snapshot and timestamp."""
        delegations = Delegations(dict(keys), roles={r.name: r for r in roles}) if roles else None
        new = Metadata(Targets(version=self.targets.signed.version + 1, expires=self._expires("targets"),
                               targets=dict(targets), delegations=delegations))
        _roots.sign_threshold(new, targets_signers, self.root.signed, "targets")
        self.files.write("targets", serialize(new), new.signed.version)
        self.targets = new
        self._publish_snapshot_and_timestamp()
        return new.signed.version

    # -- signing ---------------------------------------------------------------------------
    def add_targets(self, images: Sequence[ImageTarget], targets_signers: Sequence[Signer]) -> int:
        """List new images (offline targets key), then publish snapshot and timestamp; new targets version.

        An existing path may only be re-added with identical content: images are immutable, a
        new build gets a new path.
        """
        signed = self.targets.signed
        for image in images:
            existing = signed.targets.get(image.filepath)
            if existing is not None and (existing.hashes.get("sha256"), existing.length) != (image.sha256,
                                                                                            image.length):
                raise OtaError(f"target {image.filepath} already exists with other content; images are immutable")
        new = Metadata(Targets(version=signed.version + 1, expires=self._expires("targets"),
                               targets={**signed.targets, **{i.filepath: i.to_target_file() for i in images}},
                               delegations=signed.delegations))
        _roots.sign_threshold(new, targets_signers, self.root.signed, "targets")
        self.files.write("targets", serialize(new), new.signed.version)
        self.targets = new
        logger.info("Image repository targets version %d published (%d new images)", new.signed.version, len(images),
                    extra={"event": "metadata_published", "repository": "image", "role": "targets",
                           "version": new.signed.version, "targets": [i.filepath for i in images]})
        self._publish_snapshot_and_timestamp()
        return new.signed.version

    def resign_targets(self, targets_signers: Sequence[Signer]) -> int:
        """Same targets, next version, new expiry (run before targets metadata expires)."""
        return self.add_targets([], targets_signers)

    def refresh_snapshot(self) -> int:
        """New snapshot and timestamp with fresh expiries (online keys)."""
        self._publish_snapshot_and_timestamp()
        return self.snapshot.signed.version

    def refresh_timestamp(self) -> int:
        """New timestamp only (the routine, e.g. daily, job that bounds freeze attacks)."""
        self._publish_timestamp()
        return self.timestamp.signed.version

    def rotate_root(
        self,
        old_signers: Sequence[Signer],
        new_signers: Sequence[Signer],
        *,
        keys: Mapping[str, Sequence[Key]] | None = None,
        thresholds: Mapping[str, int] | None = None,
        online_signers: Mapping[str, Signer] | None = None,
    ) -> int:
        """Write root ``N+1`` (new keys and/or thresholds), signed by old and new root thresholds.

        When the snapshot or timestamp keys change, pass their new ``online_signers``: snapshot and
        timestamp are re-signed right away so the repository stays consistent with the new root.
        Changing the targets keys needs ``resign_targets`` with the new targets signers afterwards.
        """
        rotated = _roots.rotate(self.root, keys, thresholds, self._expires("root"), old_signers, new_signers)
        self.files.write("root", serialize(rotated), rotated.signed.version)
        self.root = rotated
        logger.warning("Image repository root rotated to version %d", rotated.signed.version, extra={
            "event": "root_rotated", "repository": "image", "version": rotated.signed.version})
        self.online_signers.update(online_signers or {})
        if keys and ({"snapshot", "timestamp"} & set(keys)):
            self._publish_snapshot_and_timestamp()
        return rotated.signed.version

    def _expires(self, role: str) -> datetime:
        return now_of(self.clock) + self.expiry[role]

    def _online(self, role: str) -> Signer:
        signer = self.online_signers.get(role)
        if signer is None:
            raise OtaError(f"{self.path}: no online {role} key loaded; open the repository with its keys")
        return signer

    def _publish_snapshot_and_timestamp(self) -> None:
        version = self.snapshot.signed.version + 1
        delegated = {name: (self.delegated_role(name).signed.version, self.files.read_bytes(name))
                     for name in self._role_names()}
        snapshot = snapshot_for(self.files.read_bytes("targets"), self.targets.signed.version, version,
                                self._expires("snapshot"), delegated)
        _roots.sign_threshold(snapshot, [self._online("snapshot")], self.root.signed, "snapshot")
        self.files.write("snapshot", serialize(snapshot), version)
        self.snapshot = snapshot
        self._publish_timestamp()

    def _publish_timestamp(self) -> None:
        version = self.timestamp.signed.version + 1
        timestamp = timestamp_for(self.files.read_bytes("snapshot"), self.snapshot.signed.version, version,
                                  self._expires("timestamp"))
        _roots.sign_threshold(timestamp, [self._online("timestamp")], self.root.signed, "timestamp")
        self.files.write("timestamp", serialize(timestamp), version)
        self.timestamp = timestamp
        logger.info("Image repository timestamp version %d published", version, extra={
            "event": "metadata_published", "repository": "image", "role": "timestamp", "version": version,
            "snapshot_version": self.snapshot.signed.version})

    # -- checking --------------------------------------------------------------------------
    def verify(self) -> VerificationReport:
        """Check the whole chain on disk (roots, signatures, versions, hashes, expiry, custom fields)."""
        report = verify_repository(self.files, now_of(self.clock), str(self.path), uptane_fields=_IMAGE_FIELDS)
        for delegation in self.delegations():
            if multi_role(delegation) is None:
                report.extend(self._verify_delegated(delegation))
        return report

    def _verify_delegated(self, delegation: DelegatedRole) -> VerificationReport:
        """A delegated role's file: signed by a threshold of its delegation's keys, listed by snapshot
        at its version and hashes, not expired, Uptane custom fields on every image."""
        name = delegation.name
        report = VerificationReport(str(self.path))
        try:
            data = self.files.read_bytes(name)
            document = self.delegated_role(name)
        except OtaError as error:
            report.add(f"{name}", False, str(error))
            return report
        try:
            self.targets.signed.verify_delegate(name, document.signed_bytes, document.signatures)
            report.add(f"{name} signatures", True, f"v{document.signed.version}")
        except UnsignedMetadataError as error:
            report.add(f"{name} signatures", False, str(error))
        expired = document.signed.is_expired(now_of(self.clock))
        report.add(f"{name} expiry", not expired,
                   ("expired " if expired else "expires ") + f"{document.signed.expires:%Y-%m-%d %H:%M}")
        meta = self.snapshot.signed.meta.get(f"{name}.json")
        listed = meta is not None and meta.version == document.signed.version
        try:
            if meta is not None:
                meta.verify_length_and_hashes(data)
        except LengthOrHashMismatchError:
            listed = False
        report.add(f"snapshot → {name}", listed, "" if listed else "not listed at this version and hashes")
        bad = [path for path, target in document.signed.targets.items()
               if not isinstance(target.unrecognized_fields.get("custom"), dict)]
        report.add(f"{name} Uptane custom fields", not bad, "; ".join(f"{p}: no custom fields" for p in bad)
                   or f"{len(document.signed.targets)} target(s)")
        return report


def _hardware_allowed(delegation: DelegatedRole, hardware_id: str) -> bool:
    allowed = hardware_ids(delegation)
    return allowed is None or hardware_id in allowed


def snapshot_for(targets_bytes: bytes, targets_version: int, version: int, expires: datetime,
                 delegated: Mapping[str, tuple[int, bytes]] | None = None) -> Metadata[Snapshot]:
    """Unsigned snapshot pinning the targets file and each delegated role's (name → version, bytes)
    by version, length and sha256 (TUF 4.4)."""
    files = {"targets": (targets_version, targets_bytes), **(delegated or {})}
    meta = {f"{name}.json": MetaFile(v, len(data), {"sha256": hashlib.sha256(data).hexdigest()})
            for name, (v, data) in files.items()}
    return Metadata(Snapshot(version=version, expires=expires, meta=meta))


def timestamp_for(snapshot_bytes: bytes, snapshot_version: int, version: int, expires: datetime) -> Metadata[Timestamp]:
    """Unsigned timestamp pinning the snapshot file by version, length and sha256 (TUF 4.6)."""
    meta = MetaFile(snapshot_version, len(snapshot_bytes), {"sha256": hashlib.sha256(snapshot_bytes).hexdigest()})
    return Metadata(Timestamp(version=version, expires=expires, snapshot_meta=meta))


_IMAGE_FIELDS = {"component": str, "version": str, "hardware_id": str, "release_counter": int}
