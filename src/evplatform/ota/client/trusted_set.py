"""The trusted metadata of one Uptane repository: a rule checker with no I/O.

Modelled on python-tuf's ``ngclient/_internal/trusted_metadata_set.py``: metadata is loaded in
order root → timestamp → snapshot → targets → delegated targets, every ``update_*`` method
either accepts the bytes or raises a specific :mod:`~evplatform.ota.client.errors` class, and the
caller (``primary.py``) does the downloading. Unlike python-tuf's ngclient it takes "now" from
the caller (an injected clock, so skewed clocks can be modelled), keeps the versions it trusted
before (rollback protection across update checks) and applies the Uptane additions: unique key
ids that are the hash of their key, no delegations in Director targets (``matching.py``).

Clauses cited as "U 5.4.4.x" are the Uptane Standard 2.1.0 in-vehicle verification steps.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, TypeVar

import nacl.exceptions
import nacl.signing
from securesystemslib.exceptions import Error as SslibError
from securesystemslib.exceptions import UnverifiedSignatureError
from securesystemslib.signer import Key, Signature
from tuf.api.metadata import DelegatedRole, Metadata, MetaFile, Role, Root, Signed, Snapshot, Targets, Timestamp

from evplatform.ota.client.errors import (
    BadKeyIdError,
    BadSignatureError,
    EndlessDataError,
    ExpiredMetadataError,
    IllegalThresholdError,
    MalformedMetadataError,
    MixAndMatchError,
    NonUniqueSignaturesError,
    RoleTypeMismatchError,
    RollbackError,
    RootRotationError,
    ThresholdError,
    VerificationError,
)
from evplatform.ota.metadata_common import canonical_bytes

S = TypeVar("S", bound=Signed)

#: Hash algorithms a client computes; anything else in metadata is refused, never guessed at.
HASH_ALGORITHMS = frozenset({"sha256", "sha384", "sha512"})

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

    def for_role(self, role: str) -> int:
        """Cap for a role's metadata file (delegated targets count as targets)."""
        return {"root": self.root, "timestamp": self.timestamp, "snapshot": self.snapshot}.get(role, self.targets)


@dataclass(frozen=True, slots=True)
class RepositoryVersions:
    """Versions trusted at the end of the last successful check, kept for rollback protection."""

    timestamp: int = 0
    snapshot: int = 0
    targets: int = 0
    snapshot_meta: Mapping[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "timestamp": self.timestamp,
            "snapshot": self.snapshot,
            "targets": self.targets,
            "snapshot_meta": dict(self.snapshot_meta),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RepositoryVersions:
        return cls(
            int(data.get("timestamp", 0)),
            int(data.get("snapshot", 0)),
            int(data.get("targets", 0)),
            {str(k): int(v) for k, v in dict(data.get("snapshot_meta", {})).items()},
        )


@dataclass(frozen=True, slots=True)
class Loaded:
    """Parsed metadata with the exact bytes its signatures cover."""

    metadata: Metadata[Any]
    payload: bytes


def load(data: bytes, role_type: str, what: str, limit: int) -> Loaded:
    """Parse ``data`` as metadata of ``role_type`` with the structural Uptane/TUF checks.

    Checks, in order: size (endless data), JSON, envelope shape, ``_type``, unique signature
    key ids, thresholds ≥ 1, then python-tuf's own parsing. The signed payload is canonicalised
    from the bytes as received (before python-tuf, whose ``from_dict`` consumes the dict), so a
    signature is checked over exactly what the repository signed.
    """
    if len(data) > limit:
        raise EndlessDataError(f"{what}: {len(data)} bytes, more than the {limit} allowed")
    try:
        parsed = json.loads(data, parse_float=_no_float, parse_constant=_no_float)
    except (ValueError, UnicodeDecodeError) as error:
        raise MalformedMetadataError(f"{what}: not JSON: {error}") from error
    if not isinstance(parsed, dict) or not isinstance(parsed.get("signed"), dict):
        raise MalformedMetadataError(f"{what}: not TUF metadata (no 'signed' object)")
    signatures = parsed.get("signatures")
    if not isinstance(signatures, list) or not all(isinstance(s, dict) for s in signatures):
        raise MalformedMetadataError(f"{what}: 'signatures' is not a list of objects")
    signed = parsed["signed"]
    if signed.get("_type") != role_type:
        raise RoleTypeMismatchError(f"{what}: expected {role_type} metadata, found _type {signed.get('_type')!r}")
    keyids = [s.get("keyid") for s in signatures]
    repeated = sorted({str(k) for k in keyids if keyids.count(k) > 1})
    if repeated:
        raise NonUniqueSignaturesError(f"{what}: key {repeated[0][:12]}… signed more than once")
    _check_thresholds(signed, what)
    try:
        payload = _canonical(signed, data)
        metadata: Metadata[Any] = Metadata.from_dict(parsed)
    except (KeyError, ValueError, TypeError, AttributeError) as error:
        raise MalformedMetadataError(f"{what}: invalid {role_type} metadata: {error}") from error
    _check_key_ids(metadata.signed, what)
    return Loaded(metadata, payload)


def _no_float(text: str) -> Any:
    raise ValueError(f"number {text} is not an integer (canonical JSON has no floats)")


def _canonical(signed: Mapping[str, Any], raw: bytes) -> bytes:
    """Canonical JSON of ``signed`` (TUF 4.2, securesystemslib's dialect).

    Without a backslash in the raw bytes no string holds a quote, a backslash or a control
    character (JSON must escape those), and there are no floats (refused above): then sorted,
    compact ``json.dumps`` is byte-identical to ``encode_canonical`` and runs in C. This is the
    fast path ``metadata_common.canonical_bytes`` takes, decided here from the bytes in O(n)
    instead of walking every value.
    """
    if b"\\" not in raw:
        return json.dumps(signed, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return canonical_bytes(signed)


def _check_thresholds(signed: Mapping[str, Any], what: str) -> None:
    """A threshold below one would let unsigned metadata through (vectors *ZeroThreshold*)."""
    roles: list[tuple[str, Any]] = []
    if isinstance(signed.get("roles"), dict):
        roles += list(signed["roles"].items())
    delegations = signed.get("delegations")
    if isinstance(delegations, dict) and isinstance(delegations.get("roles"), list):
        roles += [(str(r.get("name")), r) for r in delegations["roles"] if isinstance(r, dict)]
    for name, role in roles:
        threshold = role.get("threshold") if isinstance(role, dict) else None
        if isinstance(threshold, int) and not isinstance(threshold, bool) and threshold < 1:
            raise IllegalThresholdError(f"{what}: role {name} has threshold {threshold}")


def key_id_of(key: Key) -> str:
    """sha256 of the key's canonical JSON: the only key id Uptane clients accept here."""
    return hashlib.sha256(canonical_bytes(key.to_dict())).hexdigest()


def _check_key_ids(signed: Signed, what: str) -> None:
    """Every listed key id is its key's hash, and every role names only listed keys."""
    keys: Mapping[str, Key]
    roles: list[tuple[str, Role]]
    if isinstance(signed, Root):
        keys, roles = signed.keys, list(signed.roles.items())
    elif isinstance(signed, Targets) and signed.delegations is not None:
        keys = signed.delegations.keys
        roles = [(r.name, r) for r in (signed.delegations.roles or {}).values()]
    else:
        return
    for keyid, key in keys.items():
        if key_id_of(key) != keyid:
            raise BadKeyIdError(f"{what}: key id {keyid[:12]}… is not the hash of its key")
    for name, role in roles:
        for keyid in role.keyids:
            if keyid not in keys:
                raise BadKeyIdError(f"{what}: role {name} names key {keyid[:12]}…, which is not listed")


@functools.lru_cache(maxsize=1024)
def _nacl_key(public_hex: str) -> nacl.signing.VerifyKey | None:
    try:
        return nacl.signing.VerifyKey(bytes.fromhex(public_hex))
    except (ValueError, TypeError, nacl.exceptions.CryptoError):
        return None


def _signature_ok(key: Key, signature: Signature, payload: bytes) -> bool:
    """ed25519 through PyNaCl (about twice as fast as ``cryptography`` here), other keys as sslib does."""
    public = key.keyval.get("public") if key.keytype == "ed25519" and key.scheme == "ed25519" else None
    verify_key = _nacl_key(public) if isinstance(public, str) else None
    if verify_key is None:
        try:
            key.verify_signature(signature, payload)
        except (UnverifiedSignatureError, SslibError):
            return False
        return True
    try:
        verify_key.verify(payload, bytes.fromhex(signature.signature))
    except (ValueError, nacl.exceptions.BadSignatureError):
        return False
    return True


def verify_signatures(keys: Mapping[str, Key], role: Role, loaded: Loaded, what: str) -> None:
    """A threshold of the role's unique keys signed the payload (U 5.4.4.3-6, "arbitrary software")."""
    signatures: Mapping[str, Signature] = loaded.metadata.signatures
    valid = 0
    failed = 0
    for keyid in role.keyids:
        signature = signatures.get(keyid)
        key = keys.get(keyid)
        if signature is None or key is None:
            continue
        if _signature_ok(key, signature, loaded.payload):
            valid += 1
        else:
            failed += 1
    if valid >= role.threshold:
        return
    message = f"{what}: {valid} valid signature(s), threshold {role.threshold}"
    if failed:
        raise BadSignatureError(f"{message} ({failed} signature(s) by authorised keys do not verify)")
    raise ThresholdError(message)


def digest(algorithm: str, data: bytes) -> str:
    """Hex digest; ValueError for an algorithm outside :data:`HASH_ALGORITHMS`."""
    if algorithm not in HASH_ALGORITHMS:
        raise ValueError(f"unsupported hash algorithm {algorithm!r}")
    return hashlib.new(algorithm, data).hexdigest()


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
        """Final root not expired (U 5.4.4.3 3); forget old versions if online keys rotated (3.4)."""
        if self._root.is_expired(self.now):
            root = self._root
            raise ExpiredMetadataError(f"{self._what('root')} version {root.version} expired {root.expires}")
        for role in (Timestamp.type, Snapshot.type):
            before = self._initial_root.roles[role]
            after = self._root.roles[role]
            if set(before.keyids) != set(after.keyids) or before.threshold != after.threshold:
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
        )
