"""The content-addressed image store: hashes checked on the way in and on the way out."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from evplatform.errors import OtaError
from evplatform.ota.storage import DirectoryImageStore, ImageStore, sha256_file


def test_put_bytes_returns_the_sha256_and_reads_back(tmp_path: Path) -> None:
    store = DirectoryImageStore(tmp_path / "images")
    data = b"firmware 1.7.0" * 1000
    digest = store.put(data)
    assert digest == hashlib.sha256(data).hexdigest()
    assert store.exists(digest) and store.length(digest) == len(data)
    assert store.read(digest) == data
    assert (tmp_path / "images" / digest).read_bytes() == data  # the layout the OTA server serves


def test_put_file_copies_and_is_idempotent(tmp_path: Path) -> None:
    source = tmp_path / "hub-os.img"
    source.write_bytes(os.urandom(3 * (1 << 20) + 17))  # several chunks
    store = DirectoryImageStore(tmp_path / "images")
    first = store.put(source)
    assert first == sha256_file(source)[0]
    assert store.put(source.read_bytes()) == first
    assert sorted(p.name for p in (tmp_path / "images").iterdir()) == [first]  # no temporary files left


def test_corrupted_image_is_rejected_on_read(tmp_path: Path) -> None:
    store = DirectoryImageStore(tmp_path)
    digest = store.put(b"good image")
    (tmp_path / digest).write_bytes(b"evil image")
    with pytest.raises(OtaError, match="corrupted"):
        store.read(digest)


def test_truncated_image_is_rejected_on_read(tmp_path: Path) -> None:
    store = DirectoryImageStore(tmp_path)
    digest = store.put(b"a complete image of some length")
    with (tmp_path / digest).open("r+b") as handle:
        handle.truncate(5)
    with pytest.raises(OtaError, match="corrupted"):
        store.open(digest)


def test_missing_image_and_bad_digest(tmp_path: Path) -> None:
    store = DirectoryImageStore(tmp_path)
    absent = "0" * 64
    assert not store.exists(absent)
    with pytest.raises(OtaError, match="no image"):
        store.read(absent)
    with pytest.raises(OtaError, match="no image"):
        store.length(absent)
    with pytest.raises(OtaError, match="not a SHA-256"):
        store.exists("../../etc/passwd")


def test_unreadable_source_file_is_an_ota_error(tmp_path: Path) -> None:
    with pytest.raises(OtaError, match="cannot read image"):
        DirectoryImageStore(tmp_path / "s").put(tmp_path / "missing.img")


def test_failed_write_leaves_nothing_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = DirectoryImageStore(tmp_path)

    def broken_replace(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OtaError, match="No space left"):
        store.put(b"image")
    assert list(tmp_path.iterdir()) == []


def test_the_interface_is_abstract() -> None:
    with pytest.raises(TypeError):
        ImageStore()  # type: ignore[abstract]
