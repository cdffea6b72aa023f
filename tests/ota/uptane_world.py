"""A small two-repository Uptane world built from plain dicts, for conformance and attack tests.

Independent of the project's repository code on purpose: it writes TUF/Uptane metadata the way a
(possibly broken or malicious) server could, so a test can set a threshold of zero, a wrong key
id, a duplicate signature or a wrong ``_type`` — things the real repository classes refuse to
produce. Signing is securesystemslib ed25519 over canonical JSON, as the client expects.

Key indices follow the public tuf-test-vectors list (Image repository root 0, targets 1,
snapshot 2, timestamp 3; Director root 4, targets 5; 6 and 7 for rotations and delegations);
our Director also has snapshot (8) and timestamp (9) roles, as Uptane 2.x requires.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from securesystemslib.signer import CryptoSigner

from evplatform.ota.client.fetcher import InMemoryFetcher
from evplatform.ota.client.primary import Ecu, VehicleClient

KEYS = [CryptoSigner.generate_ed25519() for _ in range(12)]
VIN = "VECTOR0000000001"
ECU_SERIAL = "ecu-primary"
HARDWARE_ID = "hw-primary"
TARGET_NAME = "file.txt"
TARGET_CONTENT = b"wat wat wat"
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
ROLES = ("root", "targets", "snapshot", "timestamp")
Hook = Callable[[dict[str, Any]], None]


def keyid(index: int) -> str:
    return str(KEYS[index].public_key.keyid)


def canonical(value: Any) -> bytes:
    """Canonical JSON: the world's strings hold no escapes, so sorted compact JSON is canonical."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def flip(hexdigest: str) -> str:
    """The same digest with its first bit flipped (the vectors' "bad" hash and key id)."""
    return f"{int(hexdigest[:2], 16) ^ 1:02x}" + hexdigest[2:]


def expires(expired: bool) -> str:
    moment = NOW - timedelta(days=1) if expired else NOW + timedelta(days=365)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def target(content: bytes, custom: dict[str, Any], alteration: str | None = None) -> dict[str, Any]:
    """A target fileinfo; ``alteration`` as in the vectors: bad-hash, oversized, bad-hw-id, bad-ecu-id."""
    hashes = {"sha256": sha256(content), "sha512": hashlib.sha512(content).hexdigest()}
    info: dict[str, Any] = {"length": len(content), "hashes": hashes, "custom": dict(custom)}
    if alteration == "bad-hash":
        info["hashes"] = {name: flip(value) for name, value in hashes.items()}
    elif alteration == "oversized":
        info["length"] = len(content) - 1
    elif alteration == "bad-hw-id":
        info["custom"]["hardware_id"] += "-XXX"
    elif alteration == "bad-ecu-id":
        info["custom"]["ecu_serial"] += "-XXX"
    elif alteration is not None:
        raise ValueError(alteration)
    return info


@dataclass
class RootSpec:
    """One root version: keys and thresholds per role, who signs it, what it states."""

    keys: dict[str, list[int]]
    thresholds: dict[str, int] = field(default_factory=dict)
    sign_with: list[int] | None = None  # default: the root keys
    stated_version: int | None = None
    expired: bool = False
    type: str = "root"
    bad_key_ids: list[int] = field(default_factory=list)


@dataclass
class Delegated:
    """A delegated targets role of the Image repository."""

    keys: list[int]
    targets: dict[str, dict[str, Any]]
    paths: list[str] = field(default_factory=lambda: [TARGET_NAME])
    threshold: int | None = None
    sign_with: list[int] | None = None
    expired: bool = False
    listed_keys: bool = True  # False: the delegating targets omits the keys (vector DelegationKeyMissing)
    bad_key_ids: bool = False
    snapshot_version: int | None = None  # what snapshot lists; None: the real version
    in_snapshot: bool = True
    served: bool = True
    terminating: bool = False
    custom: dict[str, Any] | None = None  # Uptane delegation fields: hardware_ids, multi_role


class Repository:
    """One repository's knobs; :meth:`files` renders and signs everything."""

    def __init__(self, name: str, keys: dict[str, list[int]]) -> None:
        self.name = name
        self.roots = [RootSpec(copy.deepcopy(keys))]
        self.targets: dict[str, dict[str, Any]] = {}
        self.versions = {"targets": 1, "snapshot": 1, "timestamp": 1}
        self.expired: set[str] = set()
        self.sign_with: dict[str, list[int]] = {}
        self.types: dict[str, str] = {}
        self.delegations: dict[str, Delegated] = {}
        self.snapshot_targets_version: int | None = None
        self.snapshot_hashes = False
        self.hooks: dict[str, Hook] = {}
        self.extra_targets = 0

    @property
    def keys(self) -> dict[str, list[int]]:
        return self.roots[-1].keys

    def add_root(self, spec: RootSpec) -> None:
        self.roots.append(spec)

    def _envelope(self, role: str, signed: dict[str, Any], signers: list[int]) -> bytes:
        if role in self.hooks:
            self.hooks[role](signed)
        payload = canonical(signed)
        signatures = [KEYS[i].sign(payload).to_dict() for i in signers]
        return json.dumps({"signed": signed, "signatures": signatures}, sort_keys=True).encode()

    def _root(self, version: int, spec: RootSpec) -> bytes:
        keys: dict[str, Any] = {}
        roles: dict[str, Any] = {}
        for role, indices in spec.keys.items():
            roles[role] = {"keyids": [keyid(i) for i in indices], "threshold": spec.thresholds.get(role, len(indices))}
            for i in indices:
                kid = flip(keyid(i)) if i in spec.bad_key_ids else keyid(i)
                keys[kid] = KEYS[i].public_key.to_dict()
        signed = {
            "_type": spec.type,
            "spec_version": "1.0.31",
            "version": spec.stated_version or version,
            "expires": expires(spec.expired),
            "consistent_snapshot": False,
            "keys": keys,
            "roles": roles,
        }
        return self._envelope("root", signed, spec.sign_with if spec.sign_with is not None else spec.keys["root"])

    def _targets_signed(self, name: str, version: int, targets: dict[str, Any], expired: bool) -> dict[str, Any]:
        return {
            "_type": self.types.get(name, "targets"),
            "spec_version": "1.0.31",
            "version": version,
            "expires": expires(expired),
            "targets": copy.deepcopy(targets),
        }

    def _delegations(self) -> dict[str, Any]:
        keys: dict[str, Any] = {}
        roles = []
        for name, d in self.delegations.items():
            roles.append({
                "name": name,
                "keyids": [keyid(i) for i in d.keys],
                "threshold": d.threshold if d.threshold is not None else len(d.keys),
                "paths": d.paths,
                "terminating": d.terminating,
                **({"custom": d.custom} if d.custom is not None else {}),
            })
            if d.listed_keys:
                for i in d.keys:
                    keys[flip(keyid(i)) if d.bad_key_ids else keyid(i)] = KEYS[i].public_key.to_dict()
        return {"keys": keys, "roles": roles}

    def files(self) -> dict[str, bytes]:
        """File name (as the client asks for it) → bytes."""
        out = {f"{v}.root.json": self._root(v, spec) for v, spec in enumerate(self.roots, start=1)}
        targets = dict(self.targets)
        for i in range(self.extra_targets):  # the vectors' "too large" targets
            for path, info in self.targets.items():
                targets[f"{path}{i}"] = info
        signed = self._targets_signed("targets", self.versions["targets"], targets, "targets" in self.expired)
        if self.name == "director":  # Uptane 5.2.3.1: the vehicle the Director signed for
            signed["custom"] = {"vin": VIN}
        if self.delegations:
            signed["delegations"] = self._delegations()
        out["targets.json"] = self._envelope("targets", signed, self.sign_with.get("targets", self.keys["targets"]))
        meta: dict[str, Any] = {"targets.json": {"version": self.snapshot_targets_version or self.versions["targets"]}}
        if self.snapshot_hashes:
            meta["targets.json"].update(length=len(out["targets.json"]), hashes={"sha256": sha256(out["targets.json"])})
        for name, d in self.delegations.items():
            delegated = self._targets_signed(name, 1, d.targets, d.expired)
            data = self._envelope(name, delegated, d.sign_with if d.sign_with is not None else d.keys)
            if d.served:
                out[f"{name}.json"] = data
            if d.in_snapshot:
                meta[f"{name}.json"] = {"version": d.snapshot_version or 1}
        snapshot = {
            "_type": self.types.get("snapshot", "snapshot"),
            "spec_version": "1.0.31",
            "version": self.versions["snapshot"],
            "expires": expires("snapshot" in self.expired),
            "meta": meta,
        }
        out["snapshot.json"] = self._envelope(
            "snapshot", snapshot, self.sign_with.get("snapshot", self.keys["snapshot"])
        )
        timestamp = {
            "_type": self.types.get("timestamp", "timestamp"),
            "spec_version": "1.0.31",
            "version": self.versions["timestamp"],
            "expires": expires("timestamp" in self.expired),
            "meta": {"snapshot.json": {
                "version": self.versions["snapshot"],
                "length": len(out["snapshot.json"]),
                "hashes": {"sha256": sha256(out["snapshot.json"])},
            }},
        }
        out["timestamp.json"] = self._envelope(
            "timestamp", timestamp, self.sign_with.get("timestamp", self.keys["timestamp"])
        )
        return out


def image_custom(hardware_id: str = HARDWARE_ID, release_counter: int = 1) -> dict[str, Any]:
    return {"component": "app", "version": "1.0", "hardware_id": hardware_id, "release_counter": release_counter}


def director_custom(ecu_serial: str = ECU_SERIAL, hardware_id: str = HARDWARE_ID, release_counter: int = 1) -> dict:
    return {"ecu_serial": ecu_serial, "hardware_id": hardware_id, "release_counter": release_counter}


class World:
    """An Image repository and a Director serving one single-ECU vehicle, as in the vectors."""

    def __init__(self) -> None:
        self.image = Repository("image", {"root": [0], "targets": [1], "snapshot": [2], "timestamp": [3]})
        self.director = Repository("director", {"root": [4], "targets": [5], "snapshot": [8], "timestamp": [9]})
        self.images: dict[str, bytes] = {}
        self.set_target(TARGET_NAME, TARGET_CONTENT)
        self.fetcher = InMemoryFetcher()

    def set_target(self, path: str, content: bytes, image_alteration: str | None = None,
                   director_alteration: str | None = None, director: bool = True, image: bool = True) -> None:
        """Sign ``content`` at ``path`` in the Image repository and assign it in the Director."""
        if image:
            self.image.targets[path] = target(content, image_custom(), image_alteration)
        if director:
            self.director.targets[path] = target(content, director_custom(), director_alteration)
        self.images[sha256(content)] = content

    def publish(self) -> InMemoryFetcher:
        """Render both repositories into the fetcher, as the client will ask for them."""
        files: dict[str, bytes] = {}
        for name, data in self.image.files().items():
            files[f"image/{name}"] = data
        for name, data in self.director.files().items():
            files[f"director/{VIN}/{name}"] = data
        for digest, data in self.images.items():
            files[f"images/{digest}"] = data
        self.fetcher.files.clear()
        self.fetcher.files.update(files)
        return self.fetcher

    def client(self, slots_dir: Path, clock: Callable[[], datetime] = lambda: NOW) -> VehicleClient:
        """A vehicle provisioned with the current ``1.root.json`` of each repository."""
        files = self.publish()
        roots = {"image": files.files["image/1.root.json"], "director": files.files[f"director/{VIN}/1.root.json"]}
        ecu = Ecu(ECU_SERIAL, HARDWARE_ID, KEYS[10])
        return VehicleClient(VIN, KEYS[11], [ecu], files, slots_dir, clock, trusted_roots=roots)
