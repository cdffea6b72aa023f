"""Signing keys of the two Uptane repositories: generation, files, passphrases, signers.

Uptane (standard 1.2, 5.3 "Repositories") keeps the Image repository's root and targets keys
offline and its snapshot and timestamp keys online; the Director's root key is offline and its
targets, snapshot and timestamp keys are online, because it signs per-vehicle metadata on demand.

A key directory made by ``KeyRing.init`` holds::

    keys.json                      public index: name -> repository, role, online, keyid, public key
    image-root-1.pem …             PKCS#8 PEM private keys, mode 0600 (offline ones encrypted
    image-targets.pem …            with the passphrase; plaintext only with insecure_demo_keys)
    director-timestamp.pem

Private keys are never logged, never part of an error message or a ``repr``; files are created
with 0600 from the start (``os.open`` mode, not a later chmod) and written atomically. Loading a
private key whose file is readable by group or others is refused, as ssh does.

Offline keys (both roots, the Image targets key, delegation keys) are encrypted with a passphrase:
creating or loading a plaintext one is refused unless the caller says ``insecure_demo_keys=True``
(the CLI's ``--insecure-demo-keys``), which logs a warning. Online keys stay unencrypted: the
server signs with them unattended. A key directory with offline keys is refused inside a server
folder (``check_key_destination``); ``export_online`` gives the server the online keys alone.
See docs/ota-key-ceremony.md.
"""

from __future__ import annotations

import json
import logging
import os
import stat
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nacl.signing
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    BestAvailableEncryption,
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)
from securesystemslib.signer import CryptoSigner, SSlibKey

from evplatform.errors import OtaError
from evplatform.ota.metadata_common import parse_json, write_atomic

logger = logging.getLogger(__name__)
_WARNED_PLAINTEXT_FILES: set[Path] = set()

REPOSITORIES = ("image", "director")
ONLINE = {
    "image": frozenset({"snapshot", "timestamp"}),
    "director": frozenset({"targets", "snapshot", "timestamp"}),
}
INDEX_FILE = "keys.json"
DATA_FOLDER = ".evplatform"  # where the server keeps its database and OTA folder (store.DB_FOLDER)
INSECURE_HINT = ("give a passphrase with --passphrase-env VAR (see docs/ota-key-ceremony.md), "
                 "or --insecure-demo-keys for a throw-away demo")


def generate_private_key() -> Ed25519PrivateKey:
    """A new ed25519 private key (cryptography's CSPRNG)."""
    return Ed25519PrivateKey.generate()


def public_key_of(private_key: Ed25519PrivateKey) -> SSlibKey:
    """The securesystemslib public key (keyid = sha256 of its canonical form) of a private key."""
    return SSlibKey.from_crypto(private_key.public_key(), scheme="ed25519")


def signer_of(private_key: Ed25519PrivateKey) -> CryptoSigner:
    """A securesystemslib signer for python-tuf's ``Metadata.sign``."""
    return CryptoSigner(private_key, public_key_of(private_key))


def nacl_signing_key(private_key: Ed25519PrivateKey) -> nacl.signing.SigningKey:
    """The same key for PyNaCl, which signs about 1.3× and verifies about 2× faster here."""
    seed = private_key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    return nacl.signing.SigningKey(seed)


def nacl_verify_key(public_key: SSlibKey) -> nacl.signing.VerifyKey:
    """PyNaCl verify key of an ed25519 securesystemslib key; OtaError for other key types."""
    if public_key.keytype != "ed25519" or public_key.scheme != "ed25519":
        raise OtaError(f"key {public_key.keyid[:12]}: only ed25519 keys are supported, got {public_key.keytype}")
    try:
        return nacl.signing.VerifyKey(bytes.fromhex(public_key.keyval["public"]))
    except (KeyError, ValueError, TypeError) as error:
        raise OtaError(f"key {public_key.keyid[:12]}: malformed ed25519 public key") from error


def write_private_key(private_key: Ed25519PrivateKey, path: Path, passphrase: str | None = None) -> None:
    """Write a PKCS#8 PEM private key with mode 0600, encrypted when a passphrase is given.

    Refuses to overwrite an existing file: replacing a signing key is a decision (key rotation),
    not a side effect of running a command twice.
    """
    if path.exists():
        raise OtaError(f"{path}: a key file already exists; refusing to overwrite it")
    encryption = BestAvailableEncryption(passphrase.encode("utf-8")) if passphrase else NoEncryption()
    pem = private_key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, encryption)
    write_atomic(path, pem, mode=0o600)


def load_private_key(path: Path, passphrase: str | None = None) -> Ed25519PrivateKey:
    """Read an ed25519 private key file; OtaError if missing, too open, encrypted or wrong."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError as error:
        raise OtaError(f"{path}: private key file not found") from error
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise OtaError(f"{path}: permissions {stat.S_IMODE(mode):04o} are too open for a private key (chmod 600)")
    data = path.read_bytes()
    encrypted = b"ENCRYPTED PRIVATE KEY" in data
    if encrypted and not passphrase:
        raise OtaError(f"{path}: the private key is encrypted; a passphrase is needed")
    try:
        key = load_pem_private_key(data, passphrase.encode("utf-8") if encrypted and passphrase else None)
    except ValueError as error:
        reason = "wrong passphrase" if encrypted else "not a PEM private key"
        raise OtaError(f"{path}: cannot load the private key ({reason})") from error
    if not isinstance(key, Ed25519PrivateKey):
        raise OtaError(f"{path}: not an ed25519 private key")
    return key


def is_encrypted_key_file(path: Path) -> bool:
    """Whether a PEM private key file is passphrase-encrypted (PKCS#8 ``ENCRYPTED PRIVATE KEY``)."""
    try:
        return b"-----BEGIN ENCRYPTED PRIVATE KEY-----" in path.read_bytes()
    except FileNotFoundError as error:
        raise OtaError(f"{path}: private key file not found") from error


def require_offline_protection(what: str, passphrase: str | None, insecure_demo_keys: bool) -> None:
    """OtaError unless an offline key will be encrypted or the caller accepted a plaintext demo key.

    Uptane 5.3 (and TUF's key-management advice) keeps root and targets keys offline: a plaintext
    copy on a disk that a server or a laptop mounts is one stolen file away from a compromise.
    """
    if passphrase:
        return
    if not insecure_demo_keys:
        raise OtaError(f"{what}: refusing to write an offline key unencrypted; {INSECURE_HINT}")
    logger.warning("%s: offline keys written unencrypted (--insecure-demo-keys)", what, extra={
        "event": "offline_key_unencrypted_created", "where": what})


def write_offline_key(private_key: Ed25519PrivateKey, path: Path, passphrase: str | None, *,
                      insecure_demo_keys: bool = False) -> None:
    """Write an offline key (root, targets, delegation): encrypted, or plaintext only for a demo."""
    require_offline_protection(str(path), passphrase, insecure_demo_keys)
    write_private_key(private_key, path, passphrase)


def generate_offline_key(path: Path, passphrase: str | None, *, insecure_demo_keys: bool = False) -> Ed25519PrivateKey:
    """A new offline key written to ``path`` (see ``write_offline_key``); returns the private key."""
    key = generate_private_key()
    write_offline_key(key, path, passphrase, insecure_demo_keys=insecure_demo_keys)
    return key


def load_offline_key(path: Path, passphrase: str | None, *, insecure_demo_keys: bool = False) -> Ed25519PrivateKey:
    """Read an offline key; a plaintext file is refused unless ``insecure_demo_keys`` (then a warning)."""
    if not is_encrypted_key_file(path):
        if not insecure_demo_keys:
            raise OtaError(f"{path}: refusing to use an unencrypted offline key; re-create it encrypted "
                           f"({INSECURE_HINT})")
        if path not in _WARNED_PLAINTEXT_FILES:
            _WARNED_PLAINTEXT_FILES.add(path)  # once per file and process, not at every signature
            logger.warning("offline key %s is stored unencrypted (--insecure-demo-keys)", path, extra={
                "event": "offline_key_unencrypted", "key": path.stem, "path": str(path)})
    return load_private_key(path, passphrase)


def check_key_destination(directory: Path, server_folders: Sequence[Path], *, insecure_demo_keys: bool) -> None:
    """OtaError when offline keys would land inside a server folder (its OTA root or data folder).

    The server signs only with online keys; offline keys on its disk would fall with it. A folder
    named ``.evplatform`` is the server's data folder wherever it is.
    """
    if insecure_demo_keys:
        return
    target = Path(directory).resolve()
    inside = [Path(f) for f in server_folders if target == Path(f).resolve() or Path(f).resolve() in target.parents]
    if DATA_FOLDER in target.parts or inside:
        where = inside[0] if inside else DATA_FOLDER
        raise OtaError(f"{directory}: refusing to keep offline keys inside the server's folder ({where}); "
                       "create them on separate media (see docs/ota-key-ceremony.md), "
                       "or give --insecure-demo-keys for a throw-away demo")


def key_to_json(key: SSlibKey) -> dict[str, Any]:
    """Public key as stored in ``keys.json`` (the TUF key dict plus its keyid)."""
    return {"keyid": key.keyid, **key.to_dict()}


def key_from_json(data: Mapping[str, Any], source: str) -> SSlibKey:
    """Public key from ``key_to_json`` output; OtaError naming ``source`` if malformed."""
    try:
        body = {k: v for k, v in data.items() if k != "keyid"}
        key = SSlibKey.from_dict(str(data["keyid"]), dict(body))
    except (KeyError, ValueError, TypeError) as error:
        raise OtaError(f"{source}: malformed public key: {error}") from error
    if not isinstance(key, SSlibKey):
        raise OtaError(f"{source}: unsupported public key type")
    return key


@dataclass(frozen=True, slots=True)
class KeyEntry:
    """One key of a key directory (public part only)."""

    name: str
    repository: str
    role: str
    online: bool
    encrypted: bool
    public_key: SSlibKey
    retired: bool = False  # replaced by a root rotation; kept so old roots can still be checked

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "repository": self.repository,
            "role": self.role,
            "online": self.online,
            "encrypted": self.encrypted,
            "retired": self.retired,
            "public_key": key_to_json(self.public_key),
        }


class KeyRing:
    """The keys of both repositories in one directory, loaded lazily and only when asked."""

    def __init__(self, directory: Path, passphrase: str | None = None, *, insecure_demo_keys: bool = False) -> None:
        self.directory = Path(directory)
        self._passphrase = passphrase
        self.insecure_demo_keys = insecure_demo_keys
        index_path = self.directory / INDEX_FILE
        try:
            raw = index_path.read_bytes()
        except FileNotFoundError as error:
            raise OtaError(f"{index_path}: no key index; create keys with `evplatform ota keys init`") from error
        index = parse_json(raw, str(index_path))
        if not isinstance(index, dict) or not isinstance(index.get("keys"), list):
            raise OtaError(f"{index_path}: expected an object with a 'keys' list")
        self.thresholds: dict[tuple[str, str], int] = {}
        for item in index.get("thresholds", []):
            self.thresholds[(str(item["repository"]), str(item["role"]))] = int(item["threshold"])
        self.entries: list[KeyEntry] = [self._entry(item, str(index_path)) for item in index["keys"]]

    @staticmethod
    def _entry(item: Any, source: str) -> KeyEntry:
        try:
            return KeyEntry(
                name=str(item["name"]),
                repository=str(item["repository"]),
                role=str(item["role"]),
                online=bool(item["online"]),
                encrypted=bool(item["encrypted"]),
                public_key=key_from_json(item["public_key"], source),
                retired=bool(item.get("retired", False)),
            )
        except (KeyError, TypeError) as error:
            raise OtaError(f"{source}: malformed key entry: {error}") from error

    @classmethod
    def init(
        cls,
        directory: Path,
        passphrase: str | None = None,
        *,
        root_keys: int = 3,
        root_threshold: int = 2,
        insecure_demo_keys: bool = False,
        server_folders: Sequence[Path] = (),
    ) -> KeyRing:
        """Generate every key of both repositories; offline keys encrypted with ``passphrase``.

        The Image repository's root gets ``root_keys`` keys and a ``root_threshold`` (2-of-3 by
        default, so losing one root key neither blocks nor compromises the repository). Without a
        passphrase, or inside one of ``server_folders`` (or a ``.evplatform`` data folder), this is
        refused unless ``insecure_demo_keys``.
        """
        if not 1 <= root_threshold <= root_keys:
            raise OtaError(f"root threshold {root_threshold} must be between 1 and the {root_keys} root keys")
        directory = Path(directory)
        check_key_destination(directory, server_folders, insecure_demo_keys=insecure_demo_keys)
        require_offline_protection(str(directory), passphrase, insecure_demo_keys)
        if (directory / INDEX_FILE).exists():
            raise OtaError(f"{directory / INDEX_FILE}: keys already exist here; refusing to overwrite them")
        directory.mkdir(parents=True, exist_ok=True)
        os.chmod(directory, 0o700)
        plan = [("image", "root", f"image-root-{i}") for i in range(1, root_keys + 1)]
        plan += [("image", role, f"image-{role}") for role in ("targets", "snapshot", "timestamp")]
        plan += [("director", role, f"director-{role}") for role in ("root", "targets", "snapshot", "timestamp")]
        entries = []
        for repository, role, name in plan:
            online = role in ONLINE[repository]
            private = generate_private_key()
            protect = passphrase if not online else None
            write_private_key(private, directory / f"{name}.pem", protect)
            entries.append(KeyEntry(name, repository, role, online, protect is not None, public_key_of(private)))
        thresholds = [{"repository": r, "role": role, "threshold": 1} for r in REPOSITORIES for role in _ROLES]
        thresholds[0]["threshold"] = root_threshold
        index = {"keys": [e.to_json() for e in entries], "thresholds": thresholds}
        write_atomic(directory / INDEX_FILE, json.dumps(index, indent=2, sort_keys=True).encode("utf-8"))
        logger.info("created %d keys in %s", len(entries), directory, extra={
            "event": "keys_created", "directory": str(directory), "offline_encrypted": passphrase is not None,
            "keyids": {e.name: e.public_key.keyid for e in entries}})
        return cls(directory, passphrase, insecure_demo_keys=insecure_demo_keys)

    def export_online(self, destination: Path) -> KeyRing:
        """Copy the online keys alone (files and index) to ``destination``: the server's key directory.

        The server signs snapshot, timestamp and the Director's metadata unattended and needs
        nothing else; the offline keys stay where they were made (separate media).
        """
        destination = Path(destination)
        if (destination / INDEX_FILE).exists():
            raise OtaError(f"{destination / INDEX_FILE}: keys already exist here; refusing to overwrite them")
        destination.mkdir(parents=True, exist_ok=True)
        os.chmod(destination, 0o700)
        online = [e for e in self.entries if e.online and not e.retired]
        for entry in online:
            write_private_key(self.private_key(entry.name), destination / f"{entry.name}.pem")
        thresholds = [{"repository": r, "role": role, "threshold": t}
                      for (r, role), t in sorted(self.thresholds.items()) if role in ONLINE[r]]
        index = {"keys": [e.to_json() for e in online], "thresholds": thresholds}
        write_atomic(destination / INDEX_FILE, json.dumps(index, indent=2, sort_keys=True).encode("utf-8"))
        logger.info("online keys copied to %s", destination, extra={
            "event": "online_keys_exported", "directory": str(destination), "keys": [e.name for e in online]})
        return KeyRing(destination)

    def entries_for(self, repository: str, role: str) -> list[KeyEntry]:
        """The current (not retired) keys of a role."""
        found = [e for e in self.entries if e.repository == repository and e.role == role and not e.retired]
        if not found:
            raise OtaError(f"{self.directory}: no {repository} {role} key in the key directory")
        return found

    def public_keys(self, repository: str, role: str) -> list[SSlibKey]:
        return [e.public_key for e in self.entries_for(repository, role)]

    def threshold(self, repository: str, role: str) -> int:
        return self.thresholds.get((repository, role), 1)

    def private_key(self, name: str) -> Ed25519PrivateKey:
        entry = next((e for e in self.entries if e.name == name), None)
        if entry is None:
            raise OtaError(f"{self.directory}: no key named {name!r}")
        path = self.directory / f"{name}.pem"
        if entry.online:
            key = load_private_key(path, self._passphrase if entry.encrypted else None)
        else:  # judged by the file, not by the index's "encrypted" flag
            key = load_offline_key(path, self._passphrase, insecure_demo_keys=self.insecure_demo_keys)
        if public_key_of(key).keyid != entry.public_key.keyid:
            raise OtaError(f"{self.directory / (name + '.pem')}: does not match its public key in {INDEX_FILE}")
        # the key id and where it came from, never the material
        logger.info("private key %s loaded", name, extra={
            "event": "key_loaded", "key": name, "repository": entry.repository, "role": entry.role,
            "keyid": entry.public_key.keyid, "online": entry.online, "encrypted": entry.encrypted})
        return key

    def signers(self, repository: str, role: str) -> list[CryptoSigner]:
        """Signers of a role (offline keys need the passphrase given to the KeyRing).

        An offline key whose file is absent (kept on its holder's medium, which is not here) is
        skipped while the role's threshold is still met: a 2-of-3 root needs two holders, not three.
        """
        entries = self.entries_for(repository, role)
        present = [e for e in entries if e.online or (self.directory / f"{e.name}.pem").exists()]
        threshold = self.threshold(repository, role)
        if len(present) < min(threshold, len(entries)):
            missing = ", ".join(f"{e.name}.pem" for e in entries if e not in present)
            raise OtaError(f"{self.directory}: the {repository} {role} role needs {threshold} of its keys and only "
                           f"{len(present)} are here (missing: {missing})")
        return [signer_of(self.private_key(e.name)) for e in present]

    def private_keys(self, repository: str, role: str) -> list[Ed25519PrivateKey]:
        return [self.private_key(e.name) for e in self.entries_for(repository, role)]

    def new_root_keys(self, repository: str, count: int) -> list[tuple[str, Ed25519PrivateKey]]:
        """Generate and write ``count`` new root key files (not yet in the index; see ``adopt_root_keys``).

        Root rotation writes the key files first, then ``N+1.root.json``, then the index, so a
        failure in between never leaves a root signed by keys that were not saved.
        """
        if count < 1:
            raise OtaError("a root needs at least one key")
        require_offline_protection(f"{self.directory} ({repository} root keys)", self._passphrase,
                                   self.insecure_demo_keys)
        taken = {e.name for e in self.entries}
        generation = 2
        while any(n.startswith(f"{repository}-root-g{generation}-") for n in taken):
            generation += 1
        created = []
        for i in range(1, count + 1):
            name = f"{repository}-root-g{generation}-{i}"
            key = generate_private_key()
            write_private_key(key, self.directory / f"{name}.pem", self._passphrase)
            created.append((name, key))
        return created

    def discard_keys(self, names: list[str]) -> None:
        """Remove key files written by ``new_root_keys`` when the rotation did not happen."""
        for name in names:
            (self.directory / f"{name}.pem").unlink(missing_ok=True)

    def adopt_root_keys(self, repository: str, created: list[tuple[str, Ed25519PrivateKey]], threshold: int) -> None:
        """Record rotated root keys in the index: the old ones retired, the new ones current."""
        self.entries = [
            KeyEntry(e.name, e.repository, e.role, e.online, e.encrypted, e.public_key,
                     e.retired or (e.repository == repository and e.role == "root"))
            for e in self.entries
        ] + [KeyEntry(name, repository, "root", False, self._passphrase is not None, public_key_of(key))
             for name, key in created]
        self.thresholds[(repository, "root")] = threshold
        thresholds = [{"repository": r, "role": role, "threshold": t}
                      for (r, role), t in sorted(self.thresholds.items())]
        index = {"keys": [e.to_json() for e in self.entries], "thresholds": thresholds}
        write_atomic(self.directory / INDEX_FILE, json.dumps(index, indent=2, sort_keys=True).encode("utf-8"))

    def new_delegation_keys(self, role_name: str, count: int = 1, *, replace: bool = False) -> list[CryptoSigner]:
        """Generate, write and index ``count`` keys for the Image repository's delegated role ``role_name``.

        Delegation keys are offline keys (encrypted with the keyring's passphrase; plaintext only with
        ``insecure_demo_keys``); their index role is ``delegation-<name>`` (``delegation_signers``).
        ``replace`` (a key rotation): the role's current keys are marked retired, the new ones get a
        generation suffix so no file is overwritten.
        """
        if count < 1:
            raise OtaError("a delegated role needs at least one key")
        require_offline_protection(f"{self.directory} (keys of delegated role {role_name})", self._passphrase,
                                   self.insecure_demo_keys)
        role = delegation_role(role_name)
        earlier = [e for e in self.entries if e.repository == "image" and e.role == role]
        if any(not e.retired for e in earlier) and not replace:
            raise OtaError(f"{self.directory}: keys for delegated role {role_name} already exist")
        prefix = f"image-{role}" if not earlier else f"image-{role}-g{len(earlier) + 1}"
        if replace:
            self.entries = [replace_entry(e, retired=True) if e in earlier else e for e in self.entries]
        created = []
        for i in range(1, count + 1):
            name = f"{prefix}-{i}"
            key = generate_private_key()
            write_private_key(key, self.directory / f"{name}.pem", self._passphrase)
            created.append(KeyEntry(name, "image", role, False, self._passphrase is not None, public_key_of(key)))
        self.entries = [*self.entries, *created]
        thresholds = [{"repository": r, "role": ro, "threshold": t} for (r, ro), t in sorted(self.thresholds.items())]
        index = {"keys": [e.to_json() for e in self.entries], "thresholds": thresholds}
        write_atomic(self.directory / INDEX_FILE, json.dumps(index, indent=2, sort_keys=True).encode("utf-8"))
        logger.info("created %d keys for delegated role %s", count, role_name, extra={
            "event": "keys_created", "directory": str(self.directory), "role": role,
            "offline_encrypted": self._passphrase is not None, "keyids": {e.name: e.public_key.keyid for e in created}})
        return [signer_of(self.private_key(e.name)) for e in created]

    def delegation_signers(self, role_name: str) -> list[CryptoSigner]:
        """Signers of a delegated role (offline: the passphrase given to the KeyRing)."""
        return self.signers("image", delegation_role(role_name))


def replace_entry(entry: KeyEntry, *, retired: bool) -> KeyEntry:
    """The same key, retired (or not): kept in the index so old metadata can still be checked."""
    return KeyEntry(entry.name, entry.repository, entry.role, entry.online, entry.encrypted, entry.public_key, retired)


def delegation_role(role_name: str) -> str:
    """The key index role of an Image repository delegated role."""
    return f"delegation-{role_name}"


_ROLES = ("root", "targets", "snapshot", "timestamp")
