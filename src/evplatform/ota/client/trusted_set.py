"""The trusted metadata of one Uptane repository: a rule checker with no I/O.

Modelled on python-tuf's ``ngclient/_internal/trusted_metadata_set.py``: metadata is loaded in
order root → timestamp → snapshot → targets → delegated targets, every ``update_*`` method
either accepts the bytes or raises a specific :mod:`~evplatform.ota.client.errors` class, and the
caller (``primary.py``) does the downloading. Unlike python-tuf's ngclient it takes "now" from
the caller (an injected clock, so skewed clocks can be modelled), keeps the versions it trusted
before (rollback protection across update checks) and applies the Uptane additions: unique key
ids that are the hash of their key (``signatures.py``, which checks each file on its own), no
delegations in Director targets (``matching.py``).

Clauses cited as "U 5.4.4.x" are the Uptane Standard 2.1.0 in-vehicle verification steps.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from securesystemslib.signer import Key
from tuf.api.metadata import DelegatedRole, MetaFile, Role, Root, Snapshot, Targets, Timestamp

from evplatform.ota.client.errors import (
    EndlessDataError,
    ExpiredMetadataError,
    MixAndMatchError,
    RollbackError,
    RootRotationError,
    VerificationError,
)
from evplatform.ota.client.signatures import digest, load, verify_signatures

KIB = 1024
MIB = 1024 * KIB


@dataclass(frozen=True, slots=True)
class Limits:
    """Most bytes read for each file (U 5.4.4.3 2.2 "X", 5.4.4.4 1 "Y", 5.4.4.6 1 "Z").

    Snapshot and targets use the length their parent lists when it lists one; these caps apply
    otherwise and always bound it. They defeat endless-data attacks before any parsing.
    """

    root: int = 512 * KIB
    timestamp: int = 64 * KIB
    snapshot: int = 4 * MIB
    targets: int = 8 * MIB
    image: int = 4 * 1024 * MIB


#: Roles whose key rotation resets the trusted versions (U 5.4.4.3 step 4: fast-forward recovery).
ONLINE_ROLES = (Timestamp.type, Snapshot.type)

#: A role's keys as a root states them: sorted key ids and threshold.
RoleKeys = tuple[tuple[str, ...], int]


def role_keys(root: Root, role: str) -> RoleKeys:
    entry = root.roles[role]
    return tuple(sorted(entry.keyids)), entry.threshold


@dataclass(frozen=True, slots=True)
class RepositoryVersions:
    """Versions trusted at the end of the last successful check, kept for rollback protection.

    ``signed_under`` records the timestamp and snapshot keys those versions were trusted under.
    A rotated root is stored the moment it is verified, before the check can still fail; the
    next check compares the keys of that stored root with these, not with the root it starts
    from, so a fast-forward reset is never lost with a failed check (U 5.4.4.3 step 4; "errors
    SHOULD NOT leave ECUs in an unrecoverable state").
    """

    timestamp: int = 0
    snapshot: int = 0
    targets: int = 0
    snapshot_meta: Mapping[str, int] = field(default_factory=dict)
    signed_under: Mapping[str, RoleKeys] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "timestamp": self.timestamp,
            "snapshot": self.snapshot,
            "targets": self.targets,
            "snapshot_meta": dict(self.snapshot_meta),
            "signed_under": {role: {"keyids": list(ids), "threshold": threshold}
                             for role, (ids, threshold) in sorted(self.signed_under.items())},
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RepositoryVersions:
        return cls(
            int(data.get("timestamp", 0)),
            int(data.get("snapshot", 0)),
            int(data.get("targets", 0)),
            {str(k): int(v) for k, v in dict(data.get("snapshot_meta", {})).items()},
            {str(role): (tuple(str(k) for k in entry["keyids"]), int(entry["threshold"]))
             for role, entry in dict(data.get("signed_under", {})).items()},
        )


def _check_meta(meta: MetaFile, data: bytes, version: int, what: str) -> None:
    """Version, length and hashes listed by the parent (U 5.4.4.5 2, 5.4.4.6 2: mix-and-match)."""
    if meta.length is not None and len(data) != meta.length:
        raise MixAndMatchError(f"{what}: {len(data)} bytes, the parent lists {meta.length}")
    for algorithm, expected in (meta.hashes or {}).items():
        try:
            actual = digest(algorithm, data)
        except ValueError as error:
            raise MixAndMatchError(f"{what}: {error}") from error
        if actual != expected:
            raise MixAndMatchError(f"{what}: {algorithm} differs from the one its parent lists")
    if version != meta.version:
        raise MixAndMatchError(f"{what}: version {version}, the parent lists version {meta.version}")


class VerifiedTargets:
    """Targets metadata already parsed and signature-checked, by (bytes, signing keys, threshold).

    A vehicle re-reads the same (large) Image repository targets on most checks; identical bytes
    under identical keys verify identically, so the parse and the signatures are done once.
    Version, parent hashes, rollback and expiry are still checked on every use. Bounded.
    """

    def __init__(self, size: int = 16) -> None:
        self.size = size
        self._entries: dict[tuple[Any, ...], Targets] = {}

    def get(self, key: tuple[Any, ...]) -> Targets | None:
        return self._entries.get(key)

    def put(self, key: tuple[Any, ...], targets: Targets) -> None:
        if len(self._entries) >= self.size:
            self._entries.pop(next(iter(self._entries)))
        self._entries[key] = targets


class TrustedRepository:
    """Verified metadata of one repository (Director or Image), for one update check.

    ``now`` is fixed for the whole check (U 5.4.4.2 step 1: "load and verify the current time").
    ``previous`` holds the versions trusted by the last successful check; new metadata may equal
    them (the Standard allows a same-version re-sign) but never be lower.
    """

    def __init__(
        self,
        name: str,
        trusted_root: bytes,
        now: datetime,
        previous: RepositoryVersions | None = None,
        limits: Limits | None = None,
        cache: VerifiedTargets | None = None,
    ) -> None:
        self.name = name
        self.cache = cache
        self.now = now
        self.limits = limits or Limits()
        self.previous = previous or RepositoryVersions()
        loaded = load(trusted_root, Root.type, self._what("root"), self.limits.root)
        root: Root = loaded.metadata.signed
        # The trust anchor is self-signed: check it like any root, against itself.
        verify_signatures(root.keys, root.roles[Root.type], loaded, self._what(f"{root.version}.root.json"))
        self._root = root
        self._root_bytes = trusted_root
        self._initial_root = root
        self._timestamp: Timestamp | None = None
        self._snapshot: Snapshot | None = None
        self._targets: dict[str, Targets] = {}
        self._targets_bytes: dict[str, bytes] = {}

    def _what(self, file: str) -> str:
        return f"{self.name} {file}"

    @property
    def root(self) -> Root:
        return self._root

    @property
    def root_bytes(self) -> bytes:
        """Bytes of the newest trusted root, for the vehicle to store as its next trust anchor."""
        return self._root_bytes

    @property
    def timestamp(self) -> Timestamp:
        if self._timestamp is None:
            raise VerificationError(f"{self.name}: timestamp not loaded yet")
        return self._timestamp

    @property
    def snapshot(self) -> Snapshot:
        if self._snapshot is None:
            raise VerificationError(f"{self.name}: snapshot not loaded yet")
        return self._snapshot

    @property
    def targets(self) -> Targets:
        return self.delegated("targets")

    def delegated(self, role: str) -> Targets:
        """Trusted targets metadata of ``role`` (top-level ``targets`` or a delegated role)."""
        if role not in self._targets:
            raise VerificationError(f"{self.name}: {role} not loaded yet")
        return self._targets[role]

    def is_loaded(self, role: str) -> bool:
        return role in self._targets

    # U 5.4.4.3: root chain -------------------------------------------------------------------
    def update_root(self, data: bytes) -> Root:
        """Accept ``N+1.root.json``: a threshold of root N's keys and of its own, version N+1."""
        if self._timestamp is not None:
            raise VerificationError(f"{self.name}: root cannot change after timestamp was loaded")
        expected = self._root.version + 1
        what = self._what(f"{expected}.root.json")
        loaded = load(data, Root.type, what, self.limits.root)
        new: Root = loaded.metadata.signed
        verify_signatures(self._root.keys, self._root.roles[Root.type], loaded, f"{what} (keys of root {expected - 1})")
        verify_signatures(new.keys, new.roles[Root.type], loaded, f"{what} (its own keys)")
        if new.version != expected:
            raise RootRotationError(f"{what}: states version {new.version}, expected {expected}")
        self._root = new
        self._root_bytes = data
        return new

    def finish_root(self) -> None:
        """Final root not expired (U 5.4.4.3 3); forget old versions if online keys rotated (3.4).

        The keys are compared with those the trusted versions were signed under (the root this
        check started from only for a state that does not record them).
        """
        if self._root.is_expired(self.now):
            root = self._root
            raise ExpiredMetadataError(f"{self._what('root')} version {root.version} expired {root.expires}")
        for role in ONLINE_ROLES:
            before = self.previous.signed_under.get(role) or role_keys(self._initial_root, role)
            if before != role_keys(self._root, role):
                # Fast-forward recovery: versions signed by the old keys may be inflated.
                self.previous = RepositoryVersions()

    # U 5.4.4.4: timestamp -------------------------------------------------------------------
    def update_timestamp(self, data: bytes) -> Timestamp:
        """Signed by the root's timestamp keys, not older than before, not expired."""
        self.finish_root()
        what = self._what("timestamp.json")
        loaded = load(data, Timestamp.type, what, self.limits.timestamp)
        verify_signatures(self._root.keys, self._root.roles[Timestamp.type], loaded, what)
        new: Timestamp = loaded.metadata.signed
        if new.version < self.previous.timestamp:
            raise RollbackError(f"{what}: version {new.version} is older than trusted {self.previous.timestamp}")
        if new.snapshot_meta.version < self.previous.snapshot:
            raise RollbackError(
                f"{what}: lists snapshot {new.snapshot_meta.version}, older than trusted {self.previous.snapshot}"
            )
        if new.is_expired(self.now):
            raise ExpiredMetadataError(f"{what}: version {new.version} expired {new.expires}")
        self._timestamp = new
        return new

    def snapshot_max_length(self) -> int:
        """Bytes to read for snapshot: the timestamp's stated length, within the cap."""
        length = self.timestamp.snapshot_meta.length
        return min(length, self.limits.snapshot) if length is not None else self.limits.snapshot

    # U 5.4.4.5: snapshot --------------------------------------------------------------------
    def update_snapshot(self, data: bytes) -> Snapshot:
        """Matches the timestamp, signed, no version or listed file older than before, not expired."""
        what = self._what("snapshot.json")
        if len(data) > self.snapshot_max_length():
            raise EndlessDataError(f"{what}: {len(data)} bytes, more than the {self.snapshot_max_length()} allowed")
        loaded = load(data, Snapshot.type, what, self.limits.snapshot)
        new: Snapshot = loaded.metadata.signed
        _check_meta(self.timestamp.snapshot_meta, data, new.version, what)
        verify_signatures(self._root.keys, self._root.roles[Snapshot.type], loaded, what)
        # U 5.4.4.5 step 4. Implied today by the timestamp's rollback check and step 2 above (an
        # equivalent mutant in the mutation run); kept because the Standard requires it of this step.
        if new.version < self.previous.snapshot:
            raise RollbackError(f"{what}: version {new.version} is older than trusted {self.previous.snapshot}")
        for name, version in self.previous.snapshot_meta.items():
            listed = new.meta.get(name)
            if listed is None:
                raise RollbackError(f"{what}: no longer lists {name}")
            if listed.version < version:
                raise RollbackError(f"{what}: lists {name} version {listed.version}, older than trusted {version}")
        if new.is_expired(self.now):
            raise ExpiredMetadataError(f"{what}: version {new.version} expired {new.expires}")
        self._snapshot = new
        return new

    def targets_meta(self, role: str) -> MetaFile:
        """The snapshot's entry for ``role``; a role snapshot does not list cannot be trusted."""
        meta = self.snapshot.meta.get(f"{role}.json")
        if meta is None:
            what = self._what(f"{role}.json")
            raise MixAndMatchError(f"{what}: not listed in snapshot version {self.snapshot.version}")
        return meta

    def targets_max_length(self, role: str) -> int:
        length = self.targets_meta(role).length
        return min(length, self.limits.targets) if length is not None else self.limits.targets

    # U 5.4.4.6: targets ---------------------------------------------------------------------
    def update_targets(self, data: bytes) -> Targets:
        """Top-level targets: listed by snapshot, signed by the root's targets keys."""
        return self.update_delegated_targets(data, Targets.type, Root.type)

    def update_delegated_targets(self, data: bytes, role: str, delegator: str) -> Targets:
        """Targets metadata of ``role`` as delegated by ``delegator`` (U 5.4.4.6, 5.4.4.7 1)."""
        what = self._what(f"{role}.json")
        meta = self.targets_meta(role)
        if len(data) > self.targets_max_length(role):
            raise EndlessDataError(f"{what}: {len(data)} bytes, more than the {self.targets_max_length(role)} allowed")
        keys, role_entry = self._delegation(role, delegator)
        # Key ids are the hashes of their keys (checked at load), so these ids and this threshold
        # name exactly the keys whose signatures were checked on exactly these bytes.
        cache_key = (self.name, role, hashlib.sha256(data).hexdigest(), tuple(sorted(role_entry.keyids)),
                     role_entry.threshold)
        new = self.cache.get(cache_key) if self.cache is not None else None
        if new is None:
            loaded = load(data, Targets.type, what, self.limits.targets)
            new = loaded.metadata.signed
            _check_meta(meta, data, new.version, what)
            verify_signatures(keys, role_entry, loaded, what)
            if self.cache is not None:
                self.cache.put(cache_key, new)
        else:
            _check_meta(meta, data, new.version, what)
        if role == Targets.type and new.version < self.previous.targets:
            raise RollbackError(f"{what}: version {new.version} is older than trusted {self.previous.targets}")
        if new.is_expired(self.now):
            raise ExpiredMetadataError(f"{what}: version {new.version} expired {new.expires}")
        self._targets[role] = new
        self._targets_bytes[role] = data
        return new

    def targets_bytes(self, role: str = Targets.type) -> bytes:
        """The exact bytes that were verified for ``role`` (forwarded to partial-verification ECUs)."""
        self.delegated(role)
        return self._targets_bytes[role]

    def _delegation(self, role: str, delegator: str) -> tuple[Mapping[str, Key], Role]:
        if delegator == Root.type:
            return self._root.keys, self._root.roles[role]
        parent = self.delegated(delegator)
        if parent.delegations is None or parent.delegations.roles is None or role not in parent.delegations.roles:
            raise VerificationError(f"{self.name}: {delegator} does not delegate to {role}")
        return parent.delegations.keys, parent.delegations.roles[role]

    def delegations_for(self, role: str, target_path: str) -> list[tuple[DelegatedRole, bool]]:
        """Roles ``role`` delegates ``target_path`` to, in listed order, with their terminating flag."""
        targets = self.delegated(role)
        if targets.delegations is None or targets.delegations.roles is None:
            return []
        return [
            (child, child.terminating)
            for child in targets.delegations.roles.values()
            if child.is_delegated_path(target_path)
        ]

    def versions(self) -> RepositoryVersions:
        """What to remember for the next check's rollback protection (only after full success)."""
        return replace(
            self.previous,
            timestamp=self.timestamp.version,
            snapshot=self.snapshot.version,
            targets=self.targets.version,
            snapshot_meta={name: meta.version for name, meta in self.snapshot.meta.items()},
            signed_under={role: role_keys(self._root, role) for role in ONLINE_ROLES},
        )
