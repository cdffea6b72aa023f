"""Image repository: metadata chain, thresholds, expirations, root rotation, atomic files."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from tuf.api.exceptions import UnsignedMetadataError
from tuf.api.metadata import Metadata, Targets

from evplatform.errors import OtaError
from evplatform.ota.image_repository import ImageRepository, ImageTarget
from evplatform.ota.keys import generate_private_key, public_key_of, signer_of
from ota.conftest import FakeClock, add_images, build_test_repositories


def test_new_repository_verifies_and_lists_images(tmp_path: Path, clock: FakeClock) -> None:
    image, _, keys = build_test_repositories(tmp_path, clock)
    add_images(image, keys, [("hub-os/1.7.0", b"hub" * 100, "MD-HUB-A1", 4)])
    report = image.verify()
    assert report.ok, report.problems
    target = image.target("hub-os/1.7.0")
    assert (target.hardware_id, target.release_counter, target.length) == ("MD-HUB-A1", 4, 300)
    names = {p.name for p in (tmp_path / "image" / "metadata").iterdir()}
    assert {"1.root.json", "root.json", "2.targets.json", "targets.json", "2.snapshot.json", "timestamp.json"} <= names
    assert not [n for n in names if n.endswith(".tmp")]


def test_metadata_verifies_with_python_tuf(repositories: tuple) -> None:
    image, _, keys = repositories
    add_images(image, keys, [("bms/5.2.0", b"b" * 50, "MD-BMS-C1", 2)])
    root = Metadata.from_bytes(image.metadata_bytes("root"))
    for role in ("targets", "snapshot", "timestamp"):
        root.verify_delegate(role, Metadata.from_bytes(image.metadata_bytes(role)))
    targets: Metadata[Targets] = Metadata.from_bytes(image.metadata_bytes("targets", 2))
    custom = targets.signed.targets["bms/5.2.0"].unrecognized_fields["custom"]
    assert custom == {"component": "bms", "version": "5.2.0", "hardware_id": "MD-BMS-C1", "release_counter": 2}


def test_root_threshold_2_of_3(repositories: tuple) -> None:
    image, _, _ = repositories
    root = Metadata.from_bytes(image.metadata_bytes("root"))
    assert root.signed.roles["root"].threshold == 2 and len(root.signed.roles["root"].keyids) == 3
    # Removing one signature still meets 2-of-3; removing two does not.
    signatures = dict(root.signatures)
    keyids = list(signatures)
    root.signed.verify_delegate("root", root.signed_bytes, {k: signatures[k] for k in keyids[:2]})
    with pytest.raises(UnsignedMetadataError):
        root.signed.verify_delegate("root", root.signed_bytes, {keyids[0]: signatures[keyids[0]]})


def test_root_rotation_signed_by_old_and_new(repositories: tuple) -> None:
    image, _, keys = repositories
    old_signers = keys.signers("image", "root")
    new_key = generate_private_key()
    version = image.rotate_root(old_signers[:2], [signer_of(new_key)],
                                keys={"root": [public_key_of(new_key)]}, thresholds={"root": 1})
    assert version == 2
    v1 = Metadata.from_bytes(image.metadata_bytes("root", 1))
    v2 = Metadata.from_bytes(image.metadata_bytes("root", 2))
    v1.verify_delegate("root", v2)  # old threshold
    v2.verify_delegate("root", v2)  # new threshold
    assert image.verify().ok


def test_root_rotation_below_old_threshold_refused(repositories: tuple) -> None:
    image, _, keys = repositories
    new_key = generate_private_key()
    with pytest.raises(OtaError, match="old root keys"):
        image.rotate_root(keys.signers("image", "root")[:1], [signer_of(new_key)],
                          keys={"root": [public_key_of(new_key)]}, thresholds={"root": 1})
    assert not (image.path / "metadata" / "2.root.json").exists()


def test_root_rotation_without_new_key_signature_refused(repositories: tuple) -> None:
    image, _, keys = repositories
    new_key = generate_private_key()
    with pytest.raises(OtaError, match="new root keys"):
        image.rotate_root(keys.signers("image", "root")[:2], [], keys={"root": [public_key_of(new_key)]},
                          thresholds={"root": 1})


def test_rotating_online_keys_resigns_snapshot_and_timestamp(repositories: tuple) -> None:
    image, _, keys = repositories
    new_ts = generate_private_key()
    image.rotate_root(keys.signers("image", "root")[:2], [], keys={"timestamp": [public_key_of(new_ts)]},
                      online_signers={"timestamp": signer_of(new_ts)})
    root = Metadata.from_bytes(image.metadata_bytes("root"))
    root.verify_delegate("timestamp", Metadata.from_bytes(image.metadata_bytes("timestamp")))
    assert image.verify().ok


def test_expirations_and_refresh(repositories: tuple, clock: FakeClock) -> None:
    image, _, _ = repositories
    clock.advance(days=2)
    report = image.verify()
    assert not report.ok and any("timestamp expiry" in p for p in report.problems)
    image.refresh_timestamp()
    assert image.verify().ok
    clock.advance(days=8)
    assert any("snapshot expiry" in p for p in image.verify().problems)
    image.refresh_snapshot()
    assert image.verify().ok
    clock.advance(days=100)
    assert any("targets expiry" in p for p in image.verify().problems)


def test_targets_need_the_offline_key(repositories: tuple) -> None:
    image, _, keys = repositories
    item = ImageTarget.from_data("x/1", b"x", component="x", version="1", hardware_id="HW", release_counter=1)
    with pytest.raises(OtaError, match="threshold"):
        image.add_targets([item], keys.signers("image", "snapshot"))
    assert image.targets.signed.version == 1 and image.verify().ok


def test_images_are_immutable(repositories: tuple) -> None:
    image, _, keys = repositories
    add_images(image, keys, [("a/1", b"one", "HW", 1)])
    add_images(image, keys, [("a/1", b"one", "HW", 1)])  # same content: fine
    with pytest.raises(OtaError, match="immutable"):
        add_images(image, keys, [("a/1", b"two", "HW", 1)])


@pytest.mark.parametrize("path", ["/abs", "../up", "a/../../b", ""])
def test_bad_target_paths(path: str) -> None:
    with pytest.raises(OtaError):
        ImageTarget.from_data(path, b"x", component="c", version="1", hardware_id="HW", release_counter=1)


def test_bad_target_fields() -> None:
    with pytest.raises(OtaError, match="sha256"):
        ImageTarget("a", 1, "XYZ", "c", "1", "HW", 0)
    with pytest.raises(OtaError, match="hardware id"):
        ImageTarget("a", 1, "0" * 64, "c", "1", "", 0)
    with pytest.raises(OtaError, match="release counter"):
        ImageTarget("a", 1, "0" * 64, "c", "1", "HW", -1)


def test_malformed_metadata_json_names_file_line_column(repositories: tuple, clock: FakeClock) -> None:
    image, _, _ = repositories
    path = image.path / "metadata" / "targets.json"
    path.write_text('{"signed": {\n  "version": 1,\n  oops}')
    with pytest.raises(OtaError, match=r"targets\.json:3:3: malformed JSON"):
        ImageRepository(image.path, clock)


def test_wrong_role_and_non_metadata(repositories: tuple, clock: FakeClock) -> None:
    image, _, _ = repositories
    meta = image.path / "metadata"
    (meta / "snapshot.json").write_bytes((meta / "timestamp.json").read_bytes())
    with pytest.raises(OtaError, match="expected snapshot metadata"):
        ImageRepository(image.path, clock)
    (meta / "snapshot.json").write_text(json.dumps({"hello": 1}))
    with pytest.raises(OtaError, match="not TUF metadata"):
        ImageRepository(image.path, clock)
    (meta / "snapshot.json").write_text('{"signed": {"_type": "snapshot", "version": 1.5}, "signatures": []}')
    with pytest.raises(OtaError, match="not an integer"):
        ImageRepository(image.path, clock)


def test_verify_detects_tampering(repositories: tuple) -> None:
    image, _, keys = repositories
    add_images(image, keys, [("a/1", b"one", "HW", 1)])
    meta = image.path / "metadata"
    doc = json.loads((meta / "targets.json").read_text())
    doc["signed"]["targets"]["a/1"]["length"] = 999
    (meta / "targets.json").write_text(json.dumps(doc))
    problems = " ".join(image.verify().problems)
    assert "targets signatures" in problems and "snapshot → targets" in problems


def test_unknown_target_and_missing_repository(repositories: tuple, tmp_path: Path, clock: FakeClock) -> None:
    image, _, keyring = repositories
    with pytest.raises(OtaError, match="no image"):
        image.target("nope")
    with pytest.raises(OtaError, match="no Image repository"):
        ImageRepository(tmp_path / "empty", clock)
    with pytest.raises(OtaError, match="already exists"):
        ImageRepository.create_from_keyring(image.path, clock, keyring)
    with pytest.raises(OtaError, match="no versioned file"):
        image.metadata_bytes("timestamp", 1)
    with pytest.raises(OtaError, match="unknown metadata role"):
        image.metadata_bytes("../keys")


def test_interrupted_write_leaves_old_metadata(repositories: tuple, monkeypatch: pytest.MonkeyPatch) -> None:
    """A crash between writing the temp file and renaming it: the old file stays whole, no temp left."""
    image, _, _ = repositories
    before = image.metadata_bytes("timestamp")

    def crash(*_: object) -> None:
        raise OSError("power lost")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="power lost"):
        image.refresh_timestamp()
    monkeypatch.undo()
    assert image.metadata_bytes("timestamp") == before
    assert not [p for p in (image.path / "metadata").iterdir() if p.name.endswith(".tmp")]
    assert image.verify().ok
