"""Vehicle and release detail routes: payloads, exports (JSON and CSV), 404 in the one error shape."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from fastapi.testclient import TestClient

from evplatform.api import create_app
from evplatform.fleet import TargetFilter, WavePolicy, create_campaign, start_campaign
from evplatform.ota.records import CSV_COLUMNS
from evplatform.service.details import HISTORY_COLUMNS, RELEASE_TABLES
from evplatform.store import Store
from evplatform.store import campaigns as cdb
from evplatform.store import releases as rdb


def _updated_vin(client: TestClient) -> str:
    """A demo vehicle that some campaign reported on."""
    for v in client.get("/api/fleet/vehicles", params={"limit": 300}).json()["vehicles"]:
        if client.get(f"/api/fleet/vehicles/{v['vin']}/history").json()["history"]:
            return str(v["vin"])
    raise AssertionError("no demo vehicle has a history")


def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_unknown_vin_or_release_is_404_in_the_one_shape(client: TestClient) -> None:
    for path in ("/api/fleet/vehicles/NOSUCHVIN", "/api/fleet/vehicles/NOSUCHVIN/update-records",
                 "/api/fleet/vehicles/NOSUCHVIN/update-records?format=csv", "/api/fleet/vehicles/NOSUCHVIN/history",
                 "/api/releases/no-such-release", "/api/releases/no-such-release/tables/approvals?format=csv"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert set(response.json()) == {"error"} and response.json()["error"]["status"] == 404, path
    assert client.get("/api/releases/x/tables/secrets").status_code == 422


def test_vehicle_detail_has_history_last_seen_and_telemetry_units(client: TestClient) -> None:
    vin = _updated_vin(client)
    detail = client.get(f"/api/fleet/vehicles/{vin}").json()
    assert {"configuration", "hardware_ids", "rxswin", "history", "last_seen", "telemetry_series"} <= set(detail)
    reported = [e for e in detail["history"] if e["action"] == "reported"]
    assert reported and reported[0]["outcome"] in ("succeeded", "failed", "rolled_back")
    assert {s["kind"]: s["unit"] for s in detail["telemetry_series"] if s["kind"] in ("soc", "odometer")} == {
        "soc": "%", "odometer": "km"}
    assert detail["last_seen"] is not None


def test_update_records_export_csv_and_json(client: TestClient) -> None:
    vin = _updated_vin(client)
    as_csv = client.get(f"/api/fleet/vehicles/{vin}/update-records", params={"format": "csv"})
    assert as_csv.status_code == 200 and as_csv.headers["content-type"] == "text/csv; charset=utf-8"
    assert "attachment" in as_csv.headers["content-disposition"]
    rows = _rows(as_csv.text)
    assert tuple(rows[0]) == CSV_COLUMNS and len(rows) > 1 and all(r[0] == vin for r in rows[1:])
    document = client.get(f"/api/fleet/vehicles/{vin}/update-records").json()
    assert document["count"] == len(rows) - 1 and document["records"][0]["vin"] == vin
    campaign = document["records"][0]["campaign_id"]
    only = client.get(f"/api/fleet/vehicles/{vin}/update-records", params={"campaign": campaign}).json()
    assert {r["campaign_id"] for r in only["records"]} == {campaign}


def test_history_csv(client: TestClient) -> None:
    vin = _updated_vin(client)
    response = client.get(f"/api/fleet/vehicles/{vin}/history", params={"format": "csv"})
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    rows = _rows(response.text)
    assert tuple(rows[0]) == HISTORY_COLUMNS
    assert [r[1] for r in rows[1:]] == [e["action"] for e in client.get(
        f"/api/fleet/vehicles/{vin}/history").json()["history"]]


def test_release_detail_and_tables(client: TestClient) -> None:
    release = client.get("/api/releases").json()["releases"][0]["id"]
    detail = client.get(f"/api/releases/{release}").json()
    assert {"approvals", "campaigns", "images", "fleet_versions", "rxswin", "stability", "stability_over_time",
            "published"} <= set(detail)
    assert detail["published"] is False  # this server has no OTA folder
    assert sum(v["vehicles"] for v in detail["fleet_versions"]) > 0
    for table, columns in RELEASE_TABLES.items():
        response = client.get(f"/api/releases/{release}/tables/{table}", params={"format": "csv"})
        assert response.headers["content-type"] == "text/csv; charset=utf-8", table
        rows = _rows(response.text)
        assert tuple(rows[0]) == columns and len(rows) - 1 == len(detail[table]), table
    approvals = client.get(f"/api/releases/{release}/tables/approvals").json()
    assert approvals["rows"] == detail["approvals"] and approvals["columns"] == list(RELEASE_TABLES["approvals"])


def test_a_new_release_is_too_young_everywhere(client: TestClient, store: Store) -> None:
    """No "crash-free 7 d: 100 %" for a release registered now: the detail and the list say too young."""
    old = client.get("/api/releases").json()["releases"][0]
    rdb.save_release(store, rdb.ReleaseRecord("fresh-9.9.9", old["component"], old["ecu"], old["hardware_id"], "9.9.9",
                                              old["compatible"], created_at=datetime.now(UTC)))
    stability = client.get("/api/releases/fresh-9.9.9").json()["stability"]
    assert stability["too_young"] is True and stability["crash_free_7d"] is None
    page = client.get("/releases/fresh-9.9.9").text
    assert 'id="crash-free">too young' in page
    kpis = client.get("/api/stability").json()["releases"]
    assert kpis and all(k["too_young"] is False for k in kpis)  # the demo's releases ran for weeks
    # installed by a few vehicles minutes ago: reports, a success rate, but no crash-free figure
    now = datetime.now(UTC)
    rdb.save_approval(store, rdb.ApprovalRecord("fresh-9.9.9", "CN", "MIIT", "GB44496-9", "rita", now))
    cid = create_campaign(store, name="fresh", release_id="fresh-9.9.9", target=TargetFilter(markets=("CN",)),
                          waves=(WavePolicy(1.0),), forced=True, now=now)
    start_campaign(store, cid, now=now)
    offered, _ = cdb.offer_pending(store, cid, max_wave=0, timezones=None, now=now, reoffer_before=now)
    cdb.record_reports(store, cid, offered[:5], np.array(["succeeded"] * 5, dtype=object), at=now)
    (fresh,) = [k for k in client.get("/api/stability").json()["releases"] if k["release"] == "fresh-9.9.9"]
    assert (fresh["succeeded"], fresh["too_young"], fresh["crash_free_7d"]) == (5, True, None)
    for path, row in (("/", "<td><a href=\"/releases/fresh-9.9.9\">"), ("/releases", 'data-release="fresh-9.9.9"')):
        html = client.get(path).text
        assert "too young" in html.split(row, 1)[1].split("</tr>", 1)[0], path


def test_a_published_release_shows_images_and_delta_sizes(db_url: str, tmp_path: Path) -> None:
    """With an OTA folder whose catalogue lists the release, images and the stored delta's size appear."""
    image = {"component": "hub-os", "ecu": "central-compute", "hardware_id": "MD-HUB-A1", "file": "hub.bin"}
    (tmp_path / "releases").mkdir()
    for entry in ({"id": "hub-os-1.6.0", "version": "1.6.0", "images": [image | {"sha256": "a" * 64, "length": 9}]},
                  {"id": "hub-os-1.7.0", "version": "1.7.0", "images": [image | {"sha256": "b" * 64,
                                                                                 "length": 5_000_000}],
                   "deltas": {"central-compute": {"from_release": "hub-os-1.6.0", "algorithm": "hdiffpatch",
                                                  "patch_length": 420_000}}}):
        (tmp_path / "releases" / f"{entry['id']}.json").write_text(json.dumps(entry))
    with TestClient(create_app(None, db_url, ota_root=tmp_path)) as client:
        detail = client.get("/api/releases/hub-os-1.7.0").json()
        page = client.get("/releases/hub-os-1.7.0").text
    assert detail["published"] and detail["images"][0]["delta"]["patch_length"] == 420_000
    assert {(v["version"], v["download"], v["bytes"]) for v in detail["fleet_versions"]} >= {
        ("1.6.0", "delta", 420_000), ("1.7.0", "installed", 0)}
    assert "420,000 B" in page and "5,000,000 B" in page
