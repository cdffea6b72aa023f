"""Issue 14: the Uptane vehicle client, against attacks the conformance vectors do not cover."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from evplatform.ota.client import errors as e
from ota.uptane_world import VIN, RootSpec, World


@pytest.fixture(autouse=True)
def _no_fsync(monkeypatch: pytest.MonkeyPatch) -> None:
    """Disk flushes cost ~15 ms each here; the write order they protect is tested in test_client_slots."""
    monkeypatch.setattr(os, "fsync", lambda fd: None)


@pytest.mark.parametrize(("which", "prefix", "new_key"), [("director", f"director/{VIN}/", 6), ("image", "image/", 7)])
def test_fast_forward_recovery_survives_a_check_that_fails_after_the_root_update(
        tmp_path: Path, which: str, prefix: str, new_key: int) -> None:
    """Issue 14 item 2: the fast-forward reset is not lost when the check fails after the new root was stored.

    An attacker with the old timestamp key inflates the timestamp to version 1000; the repository
    rotates its timestamp key in a new root and restarts at version 2 (U 5.4.4.3 step 4 says to
    forget the trusted timestamp and snapshot then). The link drops at the snapshot, after the
    new root was stored: the vehicle must still recover at the next check, not be locked out
    with "version 2 is older than trusted 1000" for ever.
    """
    world = World()
    repository = world.director if which == "director" else world.image
    client = world.client(tmp_path)
    assert client.update_check().status == "installed"
    repository.versions["timestamp"] = 1000  # signed with the old (compromised) timestamp key
    world.publish()
    assert client.update_check().status == "up-to-date"

    repository.add_root(RootSpec({**repository.keys, "timestamp": [new_key]}))
    repository.versions["timestamp"] = 2
    fetcher = world.publish()

    def link_drops(url: str) -> None:
        if url == f"{prefix}snapshot.json":
            raise e.DownloadError(f"{url}: connection reset")
    fetcher.on_fetch = link_drops
    with pytest.raises(e.DownloadError):
        client.update_check()
    assert (client.state_folder / f"{which}-root.json").read_bytes() == fetcher.files[f"{prefix}2.root.json"]

    fetcher.on_fetch = None
    assert client.update_check().status == "up-to-date"  # recovered: version 2 under the new key
    repository.versions["timestamp"] = 1  # and rollback protection holds again from there
    world.publish()
    with pytest.raises(e.RollbackError, match="older than trusted 2"):
        client.update_check()
