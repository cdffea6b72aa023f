"""The fleet server's side of issue 14: the replay guard (item 13), reports that must not count
(item 14) and operations that leave nothing half done (item 18)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from nacl.signing import SigningKey

from evplatform.api import create_app
from evplatform.api.auth import public_key_text, sign_request
from evplatform.clock import FixedClock
from evplatform.errors import FleetError
from evplatform.fleet import build_demo_database
from evplatform.fleet import campaigns as fc
from evplatform.fleet import demo as demo_module
from evplatform.fleet.gates import WavePolicy
from evplatform.fleet.offers import update_check
from evplatform.fleet.registry import register_vehicles
from evplatform.fleet.reported_time import ReportedTimeError
from evplatform.service.presenters import campaign_progress
from evplatform.store import Store, audit_log, builds, create_account, issue_token, open_store
from evplatform.store import campaigns as cdb
from evplatform.store import offers as odb
from evplatform.store import progress as pdb
from evplatform.store import replay as rpdb
from evplatform.store import vehicles as vdb
from evplatform.web.campaign_pages import timeline_svg
from evplatform.workspace import load_workspace
from fleet_support import FLEET_NOW, T0, add_release, approve, small_fleet_specs
from store_fixtures import db_url, postgres_url, store  # noqa: F401


@pytest.fixture
def keyed_fleet(tmp_path: Path) -> Iterator[tuple[str, str, SigningKey]]:
    """A SQLite fleet of a few vehicles; the first has a provisioned key. (url, vin, key)."""
    url = f"sqlite:///{tmp_path / 'fleet.db'}"
    with open_store(url) as opened:
        register_vehicles(opened, load_workspace(None), small_fleet_specs(load_workspace(None), 1), at=T0)
        vin = vdb.list_vehicles(opened, limit=1)[0].vin
        key = SigningKey.generate()
        vdb.set_public_key(opened, vin, public_key_text(key))
    yield url, vin, key


# --- item 13: the replay guard survives a restart and expires its entries ----------------------


def test_a_request_replayed_after_a_restart_is_refused(keyed_fleet: tuple[str, str, SigningKey]) -> None:
    """Issue 14 item 13: the guard was in memory only, so a captured request replayed at a restarted
    server was accepted again (a crash event was stored twice)."""
    url, vin, key = keyed_fleet
    at = datetime.now(UTC).isoformat()
    body = json.dumps({"events": [{"vin": vin, "kind": "crash", "at": at, "release_id": "hub-os-1.7.0"}]}).encode()
    headers = {**sign_request(key, vin, "POST", "/api/telemetry", body), "Content-Type": "application/json"}
    with TestClient(create_app(None, url)) as first:
        assert first.post("/api/telemetry", content=body, headers=headers).status_code == 201
        assert first.post("/api/telemetry", content=body, headers=headers).status_code == 401
    with TestClient(create_app(None, url)) as restarted:  # a new process over the same database
        replayed = restarted.post("/api/telemetry", content=body, headers=headers)
        assert replayed.status_code == 401 and "replay" in replayed.json()["error"]["message"]
        fresh = sign_request(key, vin, "POST", "/api/telemetry", body)  # a new nonce: a new request
        assert restarted.post("/api/telemetry", content=body,
                              headers={**fresh, "Content-Type": "application/json"}).status_code == 201
    with open_store(url) as opened:
        vehicle = vdb.vehicle_by_vin(opened, vin)
        assert vehicle is not None
        assert len(vdb.telemetry(opened, vehicle_id=vehicle.id, kind="crash")) == 2  # not 3


def test_replay_guard_entries_expire_and_are_purged(store: Store) -> None:  # noqa: F811
    """Issue 14 item 13: entries live until their expiry, are then taken over or purged in batches."""
    ledger = rpdb.SignatureLedger(store, purge_every=2, purge_batch=3)
    for n in range(5):
        assert ledger.first_use(bytes([n]) * 64, now=100, expires_at=200)
    assert not ledger.first_use(bytes([0]) * 64, now=199, expires_at=299)  # still live: a replay
    assert rpdb.live_entries(store, now=150) == 5
    assert ledger.first_use(bytes([1]) * 64, now=200, expires_at=300)  # expired: taken over, not refused
    assert rpdb.live_entries(store, now=250) == 1
    assert rpdb.purge_expired(store, now=250, batch=2) == 2  # oldest first, at most a batch
    assert rpdb.purge_expired(store, now=250, batch=10) == 2  # the rest (one was purged by the ledger)
    assert rpdb.purge_expired(store, now=250) == 0
    assert not ledger.first_use(bytes([1]) * 64, now=250, expires_at=350)  # the live one stays


# --- item 14: only an answer to an open offer counts; stored times cannot stretch the timeline ---


@pytest.fixture
def two_wave_campaign(store: Store) -> tuple[Store, int]:  # noqa: F811
    """520 vehicles, hub-os 1.7.0 approved, a running campaign whose wave 2 (90 %) is not open yet."""
    demo = load_workspace(None)
    store.clock = FixedClock(FLEET_NOW)
    register_vehicles(store, demo, small_fleet_specs(demo, 40), at=T0)
    add_release(store, demo, "hub-os", "1.7.0")
    approve(store, "hub-os-1.7.0", "CN", "EU")
    cid = fc.create_campaign(store, name="two waves", release_id="hub-os-1.7.0", forced=True,
                             waves=(WavePolicy(0.1), WavePolicy(1.0)), now=FLEET_NOW)
    fc.start_campaign(store, cid, now=FLEET_NOW)
    return store, cid


def _vin_in(db: Store, cid: int, *, wave: int, state: str) -> str:
    by_id = {v.id: v.vin for v in vdb.list_vehicles(db, limit=1000)}
    for vehicle_id, row_state in pdb.vehicle_states(db, cid, list(by_id)).items():
        standing = odb.offer_standing(db, cid, vehicle_id)
        if row_state == state and standing is not None and standing.wave == wave:
            return by_id[vehicle_id]
    raise AssertionError(f"no vehicle of wave {wave} is {state}")


def test_reports_without_an_open_offer_are_refused_and_nothing_is_recorded(
    two_wave_campaign: tuple[Store, int],
) -> None:
    """Issue 14 item 14: reports from vehicles never offered (their wave not open) were counted, and
    three of them halted a campaign of 8,364 targets."""
    db, cid = two_wave_campaign
    at = FLEET_NOW
    later_wave = _vin_in(db, cid, wave=1, state="pending")
    with pytest.raises(FleetError, match=r"no open offer .* its wave 2 is not open"):
        fc.report(db, cid, later_wave, "failed", at=at)
    not_yet_offered = _vin_in(db, cid, wave=0, state="pending")
    with pytest.raises(FleetError, match=r"no open offer .* not been offered"):
        fc.report(db, cid, not_yet_offered, "failed", at=at)
    assert pdb.report_counts(db, cid) == {}
    assert cdb.campaign(db, cid).state == "running"
    # the same vehicle, once an update check has handed it the release, is heard
    assert update_check(db, not_yet_offered, at) is not None
    assert fc.report(db, cid, not_yet_offered, "succeeded", at=at) is True
    assert fc.report(db, cid, not_yet_offered, "failed", at=at) is False  # a repeat changes nothing
    assert pdb.report_counts(db, cid) == {"succeeded": 1}


@pytest.mark.parametrize(("final", "why"), [("halted", "the campaign is halted"),
                                           ("completed", "not been offered")])
def test_reports_to_a_finished_campaign_from_vehicles_never_offered_are_refused(
    two_wave_campaign: tuple[Store, int], final: str, why: str,
) -> None:
    """Issue 14 item 14: reports to completed or halted campaigns were counted."""
    db, cid = two_wave_campaign
    never_offered = _vin_in(db, cid, wave=0, state="pending")
    assert cdb.transition(db, cid, allowed_from=("running",), to=final, actor="test", at=FLEET_NOW)
    with pytest.raises(FleetError, match=f"no open offer .* {why}"):
        fc.report(db, cid, never_offered, "failed", at=FLEET_NOW)
    assert pdb.report_counts(db, cid) == {}


@pytest.mark.parametrize("dated", [datetime(1, 1, 1, tzinfo=UTC), datetime(9999, 12, 31, tzinfo=UTC)])
def test_reports_dated_far_away_are_refused_and_stored_ones_do_not_stretch_the_timeline(
    two_wave_campaign: tuple[Store, int], dated: datetime,
) -> None:
    """Issue 14 item 14: reports dated 0001-01-01 / 9999-12-31 were counted, and the timeline's axis
    spanned 70 million hours."""
    db, cid = two_wave_campaign
    offered = _vin_in(db, cid, wave=0, state="pending")
    assert update_check(db, offered, FLEET_NOW) is not None
    with pytest.raises(ReportedTimeError):
        fc.report(db, cid, offered, "failed", at=dated)
    assert pdb.report_counts(db, cid) == {}
    # a database written before the check may still hold such a report: the chart stays on the campaign
    vehicle = vdb.vehicle_by_vin(db, offered)
    assert vehicle is not None
    cdb.record_reports(db, cid, np.array([vehicle.id], dtype=np.int64), np.array(["failed"], dtype=object),
                       at=dated)
    progress = campaign_progress(db, cid)
    times = [datetime.fromisoformat(p["at"]) for p in progress["timeline"]["overall"]]
    assert times and all(FLEET_NOW <= t <= FLEET_NOW for t in times)
    svg = timeline_svg(progress)
    assert ">minutes since start<" in svg  # the axis spans the campaign's instant, in minutes, not hours


# --- item 18: nothing half done ------------------------------------------------------------------


def test_a_refused_create_and_start_leaves_no_draft(keyed_fleet: tuple[str, str, SigningKey]) -> None:
    """Issue 14 item 18: ``POST /api/campaigns {"start": true}`` refused for a missing approval left a
    draft behind."""
    url = keyed_fleet[0]
    with open_store(url) as opened:
        add_release(opened, load_workspace(None), "hub-os", "1.7.0")  # approved nowhere
        create_account(opened, "rita", "release_manager")
        token = issue_token(opened, "rita")
    body = {"name": "no approval", "release_id": "hub-os-1.7.0", "start": True}
    with TestClient(create_app(None, url)) as client:
        refused = client.post("/api/campaigns", json=body, headers={"Authorization": f"Bearer {token}"})
        assert refused.status_code == 409 and "no approval record" in refused.json()["error"]["message"]
        assert client.get("/api/campaigns").json()["campaigns"] == []
    with open_store(url) as opened:
        assert cdb.list_campaigns(opened) == []
        assert [e.action for e in audit_log(opened) if e.action.startswith("campaign.")] == []


KILL_MID_BUILD = """
import os, signal, sys
import evplatform.fleet.demo as demo
demo.add_telemetry = lambda *a, **k: os.kill(os.getpid(), signal.SIGKILL)  # after the fleet and campaigns
demo.build_demo_database(sys.argv[1], vehicles=int(sys.argv[2]))
"""


def test_a_demo_build_killed_midway_is_built_again(tmp_path: Path) -> None:
    """Issue 14 item 18: ``fleet demo`` killed mid-build left a database that a rerun declared "already
    there" and never finished (and a server would have served)."""
    database = tmp_path / ".evplatform" / "evplatform.db"
    url = f"sqlite:///{database}"
    killed = subprocess.run([sys.executable, "-c", KILL_MID_BUILD, url, "300"], capture_output=True, text=True,
                            timeout=300, env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert not database.exists() or _vehicles(url) == 0  # nothing half built at the real path
    rerun = build_demo_database(url, vehicles=300)
    assert rerun.created and rerun.vehicles == _vehicles(url) == 300
    assert [c["state"] for c in rerun.campaigns] == ["completed", "halted"]
    again = build_demo_database(url, vehicles=300)
    assert not again.created and again.vehicles == 300
    assert sorted(p.name for p in database.parent.iterdir() if "building" in p.name) == []


def test_an_interrupted_demo_build_on_a_database_that_cannot_be_renamed_is_redone(
    db_url: str, monkeypatch: pytest.MonkeyPatch,  # noqa: F811
) -> None:
    """Issue 14 item 18: where no file can be renamed (PostgreSQL) a build mark says the build did not
    finish, and the rerun starts again from an empty database."""
    if builds.sqlite_file(db_url) is not None:
        monkeypatch.setattr(builds, "sqlite_file", lambda _url: None)  # build in place, as on PostgreSQL

    def power_cut(*_args: object, **_kwargs: object) -> int:
        raise KeyboardInterrupt("killed")

    monkeypatch.setattr(demo_module, "add_telemetry", power_cut)
    with pytest.raises(KeyboardInterrupt):
        build_demo_database(db_url, vehicles=200)
    monkeypatch.undo()
    assert _vehicles(db_url) == 200  # the half-built fleet is there, marked as building
    rerun = build_demo_database(db_url, vehicles=200)
    assert rerun.created and _vehicles(db_url) == 200  # built again, not on top
    assert not build_demo_database(db_url, vehicles=200).created


def _vehicles(url: str) -> int:
    with open_store(url) as opened:
        return vdb.count_vehicles(opened)
