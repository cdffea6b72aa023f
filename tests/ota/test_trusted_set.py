"""Rules of ``trusted_set.py`` that the conformance vectors and the attack suite do not reach.

Issue 14 ("tests that must gain teeth"): removing any of these checks from the client left every
other test passing. Each test here fails when its check is removed, and names the file at fault
where a later check would also refuse the attack (the error must blame what was forged).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from evplatform.ota.client import errors as e
from evplatform.ota.client.state import ClientState
from evplatform.ota.client.trusted_set import RepositoryVersions, TrustedRepository
from ota.uptane_world import NOW, TARGET_CONTENT, TARGET_NAME, Delegated, RootSpec, World, image_custom, keyid, target


@pytest.fixture(autouse=True)
def _no_fsync(monkeypatch: pytest.MonkeyPatch) -> None:
    """Disk flushes cost ~15 ms each here; the write order they protect is tested in test_client_slots."""
    monkeypatch.setattr(os, "fsync", lambda fd: None)


@pytest.fixture
def world() -> World:
    return World()


@pytest.mark.parametrize(("role", "new_key"), [("timestamp", 7), ("snapshot", 6)])
def test_rotating_an_online_key_recovers_from_a_fast_forward(world: World, tmp_path: Path, role: str,
                                                               new_key: int) -> None:
    """U 5.4.4.3 step 4: a new timestamp or snapshot key forgets the versions the old one inflated."""
    client = world.client(tmp_path)
    client.update_check()
    world.image.versions[role] = 1000  # signed with the old, compromised key
    world.publish()
    client.update_check()
    world.image.add_root(RootSpec({**world.image.keys, role: [new_key]}))
    world.image.versions[role] = 2
    world.publish()
    assert client.update_check().status == "up-to-date"


def test_snapshot_must_be_the_one_the_timestamp_lists(world: World, tmp_path: Path) -> None:
    """U 5.4.4.5 step 2: an older, genuinely signed snapshot under today's timestamp is mix-and-match."""
    client = world.client(tmp_path)
    client.update_check()
    old = world.publish().files["image/snapshot.json"]
    world.image.versions["snapshot"] = 2
    fetcher = world.publish()
    fetcher.files["image/snapshot.json"] = old
    with pytest.raises(e.MixAndMatchError, match=r"Image repository snapshot\.json: sha256 differs"):
        client.update_check()


def test_snapshot_may_not_drop_a_role_it_listed(world: World, tmp_path: Path) -> None:
    """U 5.4.4.5 step 5: every targets file the trusted snapshot listed is still listed."""
    world.image.delegations["foo"] = Delegated([6], {TARGET_NAME: target(TARGET_CONTENT, image_custom())})
    client = world.client(tmp_path)
    client.update_check()
    world.image.delegations["foo"].in_snapshot = False  # the snapshot key's holder hides a role
    world.image.versions["snapshot"] = 2
    world.publish()
    with pytest.raises(e.RollbackError, match=r"snapshot\.json: no longer lists foo\.json"):
        client.update_check()


def test_snapshot_may_not_list_an_older_targets_version(world: World, tmp_path: Path) -> None:
    """U 5.4.4.5 step 6: no targets file listed below the version the trusted snapshot listed."""
    client = world.client(tmp_path)
    client.update_check()
    world.image.versions.update(targets=2, snapshot=2)
    world.publish()
    client.update_check()
    world.image.versions.update(targets=1, snapshot=3)  # online keys replay yesterday's targets
    world.publish()
    with pytest.raises(e.RollbackError, match=r"snapshot\.json: lists targets\.json version 1, older than trusted 2"):
        client.update_check()


def test_timestamp_may_not_list_an_older_snapshot(world: World, tmp_path: Path) -> None:
    """TUF 5.4.3.2 / U 5.4.4.4: the timestamp key alone cannot point back to an older snapshot.

    Refused at the timestamp, before the snapshot is even downloaded.
    """
    client = world.client(tmp_path)
    client.update_check()
    world.image.versions["snapshot"] = 2
    world.publish()
    client.update_check()
    world.image.versions.update(snapshot=1, timestamp=3)
    fetcher = world.publish()
    fetcher.requests.clear()
    with pytest.raises(e.RollbackError, match=r"timestamp\.json: lists snapshot 1, older than trusted 2"):
        client.update_check()
    assert "image/snapshot.json" not in fetcher.requests


def test_top_level_targets_rollback_is_refused_by_its_own_rule(world: World) -> None:
    """U 5.4.4.6 step 3, held even when the snapshot's record of earlier versions is missing."""
    files = world.publish().files
    trusted = TrustedRepository("Image repository", files["image/1.root.json"], NOW,
                                RepositoryVersions(targets=2))
    trusted.update_timestamp(files["image/timestamp.json"])
    trusted.update_snapshot(files["image/snapshot.json"])
    with pytest.raises(e.RollbackError, match=r"targets\.json: version 1 is older than trusted 2"):
        trusted.update_targets(files["image/targets.json"])


def test_the_keys_versions_were_trusted_under_are_saved_and_read_back(world: World, tmp_path: Path) -> None:
    """Issue 14 item 2: the record the fast-forward reset depends on survives the state file."""
    client = world.client(tmp_path)
    client.update_check()
    state = ClientState.load(client.state_folder)
    assert state.versions["image"].signed_under["timestamp"] == ((keyid(3),), 1)
    assert RepositoryVersions.from_json(state.versions["image"].to_json()) == state.versions["image"]
    data = json.loads((client.state_folder / "state.json").read_bytes())
    del data["versions"]["image"]["signed_under"]["snapshot"]["threshold"]
    (client.state_folder / "state.json").write_text(json.dumps(data))
    with pytest.raises(e.ClientError, match="unreadable client state"):
        ClientState.load(client.state_folder)


@pytest.mark.parametrize("rotated", [True, False])
def test_a_state_without_the_keys_record_compares_with_the_root_it_starts_from(world: World, rotated: bool) -> None:
    """A state saved before the keys were recorded: reset only when this check's roots rotate the key."""
    first = world.publish().files["image/1.root.json"]
    if rotated:
        world.image.add_root(RootSpec({**world.image.keys, "timestamp": [7]}))
    files = world.publish().files
    trusted = TrustedRepository("Image repository", first, NOW, RepositoryVersions(timestamp=1000))
    if rotated:
        trusted.update_root(files["image/2.root.json"])
        assert trusted.update_timestamp(files["image/timestamp.json"]).version == 1
    else:
        with pytest.raises(e.RollbackError, match="older than trusted 1000"):
            trusted.update_timestamp(files["image/timestamp.json"])
