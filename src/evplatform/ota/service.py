"""``OtaService``: what the HTTP API (and the fleet simulator in-process) calls on the OTA server.

One folder holds everything the server side needs::

    <root>/image/metadata/…       Image repository
    <root>/director/…             Director repository and its vehicles
    <root>/images/<sha256 hex>    image store (content-addressed)
    <root>/keys/                  the online keys (``initialise`` copies them from the key directory)

The service never holds offline keys: adding images (targets) takes the targets signers as an
argument (``add_targets``, what publishing a release through the API calls), and rotating roots
is done with the key directory and its passphrase through the CLI. Calls are serialised by a
lock, so one service object can back a threaded web server.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from securesystemslib.signer import Key, Signer, SSlibKey

from evplatform.errors import OtaError
from evplatform.ota._vehicles import VehicleRecord
from evplatform.ota._verification import VerificationReport
from evplatform.ota.assignment import Assignment
from evplatform.ota.director import Director
from evplatform.ota.image_repository import ImageRepository, ImageTarget
from evplatform.ota.keys import KeyRing, key_from_json
from evplatform.ota.manifests import ManifestResult
from evplatform.ota.metadata_common import Clock
from evplatform.ota.storage import DirectoryImageStore

_SHA256 = re.compile(r"[0-9a-f]{64}")

PublicKeyLike = SSlibKey | Mapping[str, Any] | str


class OtaService:
    """The Image repository, the Director and the image store behind one object."""

    def __init__(self, root: Path, clock: Clock, *, keys_dir: Path | None = None) -> None:
        self.root = Path(root)
        self.clock = clock
        keyring = KeyRing(keys_dir or self.root / "keys")
        self.image_repository = ImageRepository.open_with_keyring(self.root / "image", clock, keyring)
        self.director = Director.open_with_keyring(self.root / "director", clock, self.image_repository, keyring)
        self.images_dir = self.root / "images"
        self.image_store = DirectoryImageStore(self.images_dir)
        self._lock = threading.RLock()

    @classmethod
    def initialise(cls, root: Path, clock: Clock, keyring: KeyRing) -> OtaService:
        """Create both repositories with the keys of ``keyring`` (offline keys need its passphrase).

        A key directory kept elsewhere (the normal case: offline keys on separate media) gives the
        server a copy of its online keys in ``<root>/keys``, the only keys the server reads.
        """
        root = Path(root)
        server_keys = root / "keys"
        if server_keys.resolve() != keyring.directory.resolve() and (server_keys / "keys.json").exists():
            raise OtaError(f"{server_keys}: the server already has keys; refusing to replace them")
        image = ImageRepository.create_from_keyring(root / "image", clock, keyring)
        Director.create_from_keyring(root / "director", clock, image, keyring)
        (root / "images").mkdir(parents=True, exist_ok=True)
        if server_keys.resolve() != keyring.directory.resolve():
            keyring.export_online(server_keys)
        return cls(root, clock)

    def on_publish(self, listener: Callable[[str], None]) -> None:
        """Call ``listener(vin)`` whenever the Director publishes a vehicle's metadata (an assignment,
        a cleared one, a manifest's nonce answered): the fleet bumps the vehicle's generation number."""
        with self._lock:
            self.director.publish_listeners.append(listener)

    # -- served to vehicles ----------------------------------------------------------------
    def image_metadata(self, role: str, version: int | None = None) -> bytes:
        """``image/<role>.json`` or ``image/<version>.<role>.json``."""
        with self._lock:
            return self.image_repository.metadata_bytes(role, version)

    def director_metadata(self, vin: str, role: str, version: int | None = None) -> bytes:
        """``director/<VIN>/<role>.json``; OtaError ``unknown VIN`` for an unregistered vehicle."""
        with self._lock:
            return self.director.metadata_bytes(vin, role, version)

    def image_path(self, sha256: str) -> Path:
        """Where the image with this sha256 lies; OtaError if the hash is malformed or unknown."""
        if not isinstance(sha256, str) or not _SHA256.fullmatch(sha256):
            raise OtaError(f"{sha256!r} is not a sha256 hex digest (64 lowercase hex digits)")
        path = self.image_store.path(sha256)
        if not path.is_file():
            raise OtaError(f"no image {sha256[:16]}… in the image store")
        return path

    def submit_manifest(self, vin: str, manifest: bytes) -> ManifestResult:
        """Verify and record a vehicle version manifest (Uptane 5.4.2)."""
        with self._lock:
            return self.director.ingest_manifest(vin, manifest)

    # -- fleet side ------------------------------------------------------------------------
    def register_vehicle(self, vin: str, primary_serial: str,
                         ecus: Mapping[str, tuple[str, PublicKeyLike]], *, durable: bool = True) -> VehicleRecord:
        """Register a vehicle's ECUs: serial -> (hardware id, ed25519 public key).

        A key may be a securesystemslib key, a TUF key dict (optionally with ``keyid``) or the
        64-hex-digit raw ed25519 public key.
        """
        keys = {serial: (hardware_id, _public_key(key, f"vehicle {vin} ECU {serial}"))
                for serial, (hardware_id, key) in ecus.items()}
        with self._lock:
            return self.director.register_vehicle(vin, primary_serial, keys, durable=durable)

    def assign(self, vin: str, ecu_serial: str, target: str, *, delta: Mapping[str, Any] | None = None,
               delta_from: str | None = None) -> Assignment:
        """Make an ECU install the Image repository target ``target`` (path) and publish the metadata."""
        with self._lock:
            return self.director.assign(vin, ecu_serial, target, delta=delta, delta_from=delta_from)

    def assign_many(self, vin: str, targets: Mapping[str, str]) -> list[Assignment]:
        """Several ECUs of one vehicle (serial -> target path), published once."""
        with self._lock:
            done = [self.director.assign(vin, serial, path, publish=False) for serial, path in targets.items()]
            self.director.publish(vin)
            return done

    def add_targets(self, images: Sequence[ImageTarget], targets_signers: Sequence[Signer]) -> int:
        """List new images in the Image repository this service serves (new targets version).

        The offline targets signers are passed in, never kept. Going through the service (not a
        second ``ImageRepository`` on the same folder) keeps the metadata it serves and signs
        next current: ``ota.publishing`` takes it as its ``TargetsWriter``.
        """
        with self._lock:
            return self.image_repository.add_targets(images, targets_signers)

    def vehicle(self, vin: str) -> VehicleRecord:
        with self._lock:
            return self.director.vehicle(vin)

    def refresh_timestamps(self, vins: Sequence[str] | None = None) -> int:
        """Re-sign the Image timestamp and every (or the given) vehicle's Director metadata."""
        with self._lock:
            self.image_repository.refresh_timestamp()
            chosen = list(vins) if vins is not None else self.director.vehicles()
            for vin in chosen:
                self.director.publish(vin)
            return len(chosen)

    def verify(self) -> VerificationReport:
        """Both repositories checked as a client would (signatures, links, expiry, image match)."""
        with self._lock:
            report = self.image_repository.verify()
            report.extend(self.director.verify())
            return report


def _public_key(key: PublicKeyLike | Key, where: str) -> SSlibKey:
    if isinstance(key, SSlibKey):
        return key
    if isinstance(key, Mapping):
        if "keyid" in key:
            return key_from_json(key, where)
        if key.get("keytype") != "ed25519" or not isinstance(key.get("keyval"), Mapping):
            raise OtaError(f"{where}: an ed25519 TUF key dict is required")
        key = str(key["keyval"].get("public", ""))
    if isinstance(key, str):
        if not re.fullmatch(r"[0-9a-f]{64}", key):
            raise OtaError(f"{where}: a raw ed25519 public key is 64 lowercase hex digits")
        return SSlibKey.from_crypto(Ed25519PublicKey.from_public_bytes(bytes.fromhex(key)), scheme="ed25519")
    raise OtaError(f"{where}: unsupported public key {type(key).__name__}")
