"""Hostile vehicle requests answered in the one error shape with a 4xx (issue 14 items 13 and 16)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from api.support import KeyedVehicle, error_of, new_campaign
from api.test_vehicle import signed_post
from evplatform.api.auth import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign_request

PATH = "/api/vehicle/update-check"


@pytest.mark.parametrize("stamp", ["nan", "NaN", "inf", "-inf", "1e400", "1.5e9", " 1700000000", "-1"])
def test_a_timestamp_that_is_not_whole_unix_seconds_is_refused(
        client: TestClient, keyed_vehicle: KeyedVehicle, stamp: str) -> None:
    headers = sign_request(keyed_vehicle.key, keyed_vehicle.vin, "POST", PATH)
    headers[TIMESTAMP_HEADER] = stamp
    status, kind, message = error_of(client.post(PATH, headers=headers))
    assert (status, kind) == (401, "Unauthenticated") and "whole unix seconds" in message


@pytest.mark.parametrize("size", [0, 10, 63, 65, 200])
def test_a_signature_of_the_wrong_size_is_a_401_not_a_500(
        client: TestClient, keyed_vehicle: KeyedVehicle, size: int) -> None:
    headers = sign_request(keyed_vehicle.key, keyed_vehicle.vin, "POST", PATH)
    headers[SIGNATURE_HEADER] = base64.b64encode(b"\x01" * size).decode()
    status, kind, message = error_of(client.post(PATH, headers=headers))
    assert (status, kind) == (401, "Unauthenticated")
    assert "bad signature" in message or "needs" in message  # an empty header is a missing one


def test_security_headers_on_pages_and_api(client: TestClient) -> None:
    """The campaign page's pause/resume/cancel buttons cannot be framed (clickjacking)."""
    for path in ("/", "/campaigns", "/api/campaigns", "/no-such-page"):
        headers = client.get(path).headers
        assert "frame-ancestors 'none'" in headers["content-security-policy"], path
        assert headers["x-frame-options"] == "DENY"
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "same-origin"


def test_a_report_dated_ahead_of_the_servers_clock_is_refused_and_opens_no_wave(
        client: TestClient, keyed_vehicle: KeyedVehicle, tokens: dict[str, str]) -> None:
    """A report dated now + 49 h once skipped a 48 h soak and opened the next wave at once."""
    cid = new_campaign(client, tokens["release_manager"], tokens["admin"])["id"]
    before = client.get(f"/api/campaigns/{cid}").json()
    signed_post(client, keyed_vehicle, "/api/vehicle/update-check")
    ahead = (datetime.now(UTC) + timedelta(hours=49)).isoformat()
    response = signed_post(client, keyed_vehicle, "/api/vehicle/report",
                           {"campaign_id": cid, "outcome": "succeeded", "at": ahead})
    status, kind, message = error_of(response)
    assert (status, kind) == (422, "ReportedTimeError") and "ahead of the server's clock" in message
    after = client.get(f"/api/campaigns/{cid}").json()
    assert [w["state"] for w in after["waves"]] == [w["state"] for w in before["waves"]]


def test_an_anonymous_body_is_refused_before_it_is_read(client: TestClient) -> None:
    """A 200 MB POST without a token was once read and parsed before its 401 (152 MB → 795 MB)."""
    status, kind, message = error_of(client.post("/api/telemetry", content=b"x" * 4096,
                                                 headers={"Content-Type": "application/json"}))
    assert (status, kind) == (401, "Unauthenticated") and "before sending a body" in message
    refused = client.post("/api/telemetry", content=b"x" * 16, headers={"Content-Type": "application/json"})
    assert "frame-ancestors 'none'" in refused.headers["content-security-policy"]


def test_a_body_over_the_routes_limit_is_413_declared_or_not(client: TestClient, tokens: dict[str, str]) -> None:
    headers = {"Authorization": f"Bearer {tokens['engineer']}", "Content-Type": "application/json"}
    big = b"x" * (1024**2 + 1)
    status, kind, _ = error_of(client.post("/api/telemetry", content=big, headers=headers))
    assert (status, kind) == (413, "PayloadTooLarge")
    chunks = (big[i:i + 65536] for i in range(0, len(big), 65536))  # no Content-Length: counted as it arrives
    status, kind, _ = error_of(client.post("/api/telemetry", content=chunks, headers=headers))
    assert (status, kind) == (413, "PayloadTooLarge")


def test_a_vehicle_manifest_needs_no_token_its_body_is_signed(client: TestClient) -> None:
    response = client.post("/uptane/director/VIN0000000000001/manifest", content=b"{}")
    assert response.status_code != 401  # judged by the Director (no OTA root here), not by the guard
