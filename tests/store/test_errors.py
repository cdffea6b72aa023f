"""Typed store errors on SQLite and PostgreSQL: a missing thing is NotFoundError (404), an integrity
violation ConflictError (409); StoreError (503) is left for a database that cannot be used."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from evplatform.errors import ConflictError, NotFoundError, StoreError
from evplatform.store import Store, create_account
from evplatform.store import campaigns as cdb
from evplatform.store import progress as pdb
from evplatform.store import releases as rdb
from evplatform.store import vehicles as vdb

T0 = datetime(2030, 3, 1, 8, tzinfo=UTC)
RELEASE = rdb.ReleaseRecord("hub-os-2.0.0", "hub-os", "central-compute", "hw-1", "2.0.0", "true")


def _vehicle_row(store: Store, vin: str, configuration_id: int | None = None) -> dict[str, object]:
    if configuration_id is None:
        (configuration_id,) = vdb.configuration_ids(store, [frozenset({"A"})]).values()
    return {"vin": vin, "model": "m", "trim": "t", "market": "DE", "timezone": "Europe/Berlin",
            "configuration_id": configuration_id, "hardware_ids": {}, "software": {}, "rxswin": {},
            "consent_telemetry": True, "consent_updates": True, "registered_at": T0}


def _draft(store: Store) -> int:
    rdb.save_release(store, RELEASE)
    return cdb.create_campaign(store, name="c", release_id=RELEASE.id, target={}, waves=[(1.0, 0.9, 0.1, 0.0)],
                               forced=False, window=None, seed=0, created_by="test", at=T0)


def test_a_missing_campaign_is_not_found_everywhere(store: Store) -> None:
    for call in (
        lambda: cdb.campaign(store, 42),
        lambda: pdb.crashes_after_success(store, 42),
        lambda: cdb.record_reports(store, 42, np.array([1], dtype=np.int64), np.array(["succeeded"], dtype=object),
                                   at=T0),
    ):
        with pytest.raises(NotFoundError, match=r"^no campaign 42$") as caught:
            call()
        assert (caught.value.kind, caught.value.identifier, caught.value.http_status) == ("campaign", 42, 404)


def test_a_missing_release_is_not_found(store: Store) -> None:
    with pytest.raises(NotFoundError) as caught:
        cdb.create_campaign(store, name="c", release_id="nope-1", target={}, waves=[(1.0, 0.9, 0.1, 0.0)],
                            forced=False, window=None, seed=0, created_by="test", at=T0)
    assert (caught.value.kind, caught.value.identifier) == ("release", "nope-1")
    approval = rdb.ApprovalRecord("nope-1", "EU", "KBA", "e1*156", "rita", T0)
    with pytest.raises(NotFoundError, match="no release nope-1"):
        rdb.save_approval(store, approval)
    assert rdb.approvals(store, "nope-1") == []


def test_a_missing_vehicle_is_not_found(store: Store) -> None:
    with pytest.raises(NotFoundError) as caught:
        vdb.set_public_key(store, "LMDAB100000000099", "ed25519:ab")
    assert (caught.value.kind, caught.value.identifier) == ("vehicle", "LMDAB100000000099")


def test_duplicate_ids_are_conflicts_not_outages(store: Store) -> None:
    rdb.save_release(store, RELEASE)
    with pytest.raises(ConflictError, match=r"release 'hub-os-2\.0\.0' already exists") as caught:
        rdb.save_release(store, RELEASE)
    assert caught.value.http_status == 409 and not isinstance(caught.value, StoreError)
    approval = rdb.ApprovalRecord(RELEASE.id, "EU", "KBA", "e1*156", "rita", T0)
    rdb.save_approval(store, approval)
    with pytest.raises(ConflictError, match="already has an approval for market 'EU'"):
        rdb.save_approval(store, approval)
    create_account(store, "ada", "admin")
    with pytest.raises(ConflictError, match="an account named 'ada' already exists"):
        create_account(store, "ada", "viewer")
    vdb.insert_vehicles(store, [_vehicle_row(store, "LMDAB100000000001")])
    with pytest.raises(ConflictError, match="VIN already registered: LMDAB100000000001"):
        vdb.insert_vehicles(store, [_vehicle_row(store, "LMDAB100000000002"), _vehicle_row(store, "LMDAB100000000001")])
    assert vdb.count_vehicles(store) == 1  # all or nothing
    assert len(rdb.approvals(store, RELEASE.id)) == 1 and len(rdb.list_releases(store)) == 1


def test_any_integrity_violation_is_a_conflict_naming_the_database(store: Store) -> None:
    """A foreign key pointing nowhere: no specific message, but still 409 and never the password."""
    with pytest.raises(ConflictError, match="refused a write that conflicts with what it holds") as caught:
        vdb.insert_vehicles(store, [_vehicle_row(store, "LMDAB100000000003", configuration_id=999_999)])
    assert caught.value.http_status == 409
    assert vdb.count_vehicles(store) == 0


def test_starting_a_campaign_twice_is_a_conflict(store: Store) -> None:
    cid = _draft(store)
    vdb.insert_vehicles(store, [_vehicle_row(store, "LMDAB100000000004")])
    ids = np.array(list(vdb.vehicle_ids(store, ["LMDAB100000000004"]).values()), dtype=np.int64)
    start = {"vehicle_ids": ids, "waves": np.zeros(1, dtype=np.int64), "cohorts": np.array(["m/t"], dtype=object)}
    cdb.assign_targets(store, cid, **start, timezones=["Europe/Berlin"], actor="test", at=T0)
    with pytest.raises(ConflictError, match=f"campaign {cid} is not a draft any more"):
        cdb.assign_targets(store, cid, **start, timezones=["Europe/Berlin"], actor="test", at=T0)
    assert cdb.campaign(store, cid).state == "running"
