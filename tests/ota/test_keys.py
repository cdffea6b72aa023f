"""Key files: 0600 from the start, passphrase encryption of offline keys, clear errors."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from evplatform.errors import OtaError
from evplatform.ota.keys import (
    KeyRing,
    generate_private_key,
    load_private_key,
    nacl_signing_key,
    nacl_verify_key,
    public_key_of,
    signer_of,
    write_private_key,
)


def test_private_key_file_is_0600_and_round_trips(tmp_path: Path) -> None:
    key = generate_private_key()
    path = tmp_path / "k.pem"
    write_private_key(key, path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert public_key_of(load_private_key(path)).keyid == public_key_of(key).keyid


def test_passphrase_encrypts_and_is_required(tmp_path: Path) -> None:
    key = generate_private_key()
    path = tmp_path / "k.pem"
    write_private_key(key, path, passphrase="correct horse")
    assert b"ENCRYPTED PRIVATE KEY" in path.read_bytes()
    with pytest.raises(OtaError, match="passphrase is needed"):
        load_private_key(path)
    with pytest.raises(OtaError, match="wrong passphrase"):
        load_private_key(path, "battery staple")
    assert public_key_of(load_private_key(path, "correct horse")).keyid == public_key_of(key).keyid


def test_too_open_permissions_refused(tmp_path: Path) -> None:
    path = tmp_path / "k.pem"
    write_private_key(generate_private_key(), path)
    path.chmod(0o644)
    with pytest.raises(OtaError, match="too open"):
        load_private_key(path)


def test_refuses_to_overwrite_and_reports_missing(tmp_path: Path) -> None:
    path = tmp_path / "k.pem"
    write_private_key(generate_private_key(), path)
    with pytest.raises(OtaError, match="refusing to overwrite"):
        write_private_key(generate_private_key(), path)
    with pytest.raises(OtaError, match="not found"):
        load_private_key(tmp_path / "missing.pem")


def test_garbage_key_file(tmp_path: Path) -> None:
    path = tmp_path / "k.pem"
    path.write_bytes(b"not a key")
    path.chmod(0o600)
    with pytest.raises(OtaError, match="not a PEM private key"):
        load_private_key(path)


def test_keyring_offline_keys_encrypted_online_keys_not(tmp_path: Path) -> None:
    ring = KeyRing.init(tmp_path / "keys", "pw", root_keys=3, root_threshold=2)
    by_name = {e.name: e for e in ring.entries}
    assert by_name["image-root-1"].encrypted and not by_name["image-root-1"].online
    assert by_name["image-targets"].encrypted and by_name["director-root"].encrypted
    assert not by_name["image-timestamp"].encrypted and by_name["image-timestamp"].online
    assert by_name["director-targets"].online  # the Director signs per vehicle on demand
    assert ring.threshold("image", "root") == 2 and len(ring.public_keys("image", "root")) == 3
    assert stat.S_IMODE((tmp_path / "keys").stat().st_mode) == 0o700
    for pem in (tmp_path / "keys").glob("*.pem"):
        assert stat.S_IMODE(pem.stat().st_mode) == 0o600
    # No private material in the public index.
    index = (tmp_path / "keys" / "keys.json").read_text()
    assert "PRIVATE" not in index
    # Offline keys need the passphrase; online ones load without it.
    locked = KeyRing(tmp_path / "keys")
    assert locked.signers("image", "timestamp")
    with pytest.raises(OtaError, match="passphrase"):
        locked.signers("image", "targets")
    assert len(KeyRing(tmp_path / "keys", "pw").signers("image", "root")) == 3


def test_keyring_refuses_second_init_and_bad_threshold(tmp_path: Path) -> None:
    KeyRing.init(tmp_path / "keys", insecure_demo_keys=True)
    with pytest.raises(OtaError, match="already exist"):
        KeyRing.init(tmp_path / "keys", insecure_demo_keys=True)
    with pytest.raises(OtaError, match="threshold"):
        KeyRing.init(tmp_path / "other", root_keys=2, root_threshold=3)
    with pytest.raises(OtaError, match="no key index"):
        KeyRing(tmp_path / "nowhere")


def test_swapped_key_file_detected(tmp_path: Path) -> None:
    ring = KeyRing.init(tmp_path / "keys", insecure_demo_keys=True)
    target = tmp_path / "keys" / "image-snapshot.pem"
    target.unlink()
    write_private_key(generate_private_key(), target)
    with pytest.raises(OtaError, match="does not match its public key"):
        ring.signers("image", "snapshot")


def test_nacl_and_securesystemslib_signatures_agree() -> None:
    key = generate_private_key()
    signer = signer_of(key)
    message = b"canonical bytes"
    assert nacl_signing_key(key).sign(message).signature.hex() == signer.sign(message).signature
    nacl_verify_key(signer.public_key).verify(message, bytes.fromhex(signer.sign(message).signature))


def test_errors_never_contain_private_key(tmp_path: Path) -> None:
    key = generate_private_key()
    path = tmp_path / "k.pem"
    write_private_key(key, path, passphrase="pw")
    pem_body = path.read_text().splitlines()[1]
    with pytest.raises(OtaError) as caught:
        load_private_key(path, "wrong")
    assert pem_body not in str(caught.value)
    assert "PRIVATE" not in repr(signer_of(key))
