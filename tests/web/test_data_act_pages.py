"""Issue 20 §2 in the browser: an admin registers the insurance recipient on the data recipients
page; an owner signs in to the owner portal (their own token), sees the categories, grants the
insurer driving data with the form; the insurer reads it through OAuth; the owner revokes with the
button and the insurer's next read is refused; the access log on the page shows all of it."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from evplatform.store import dataact as db
from evplatform.store import open_store
from evplatform.store import vehicles as vdb
from web.conftest import SCREENSHOTS, Server

CATEGORY = "driving_behaviour"


def _owner(server: Server) -> tuple[str, str]:
    store = open_store(server.database)
    try:
        vins = [v.vin for v in vdb.list_vehicles(store, limit=50)]
        consent = vdb.telemetry_consent(store, vins)
        vin = next(v for v in reversed(vins) if consent[v])
        db.create_owner(store, "owner-web")
        db.assign_vehicle(store, "owner-web", vin)
        return vin, db.issue_owner_token(store, "owner-web")
    finally:
        store.dispose()


def _read(server: Server, client_id: str, secret: str, vin: str) -> int:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        answer = client.post("/oauth/token", data={"grant_type": "client_credentials", "scope": CATEGORY},
                             auth=(client_id, secret))
        assert answer.status_code == 200, answer.text
        token = answer.json()["access_token"]
        return client.get(f"/api/data/vehicles/{vin}/{CATEGORY}",
                          headers={"Authorization": f"Bearer {token}"}).status_code


@pytest.mark.browser
def test_owner_grants_then_revokes_in_the_portal(page: Any, server: Server) -> None:
    page.goto(server.url + "/signin")
    page.evaluate("t => window.localStorage.setItem('evplatform-token', t)", server.tokens["admin"])
    page.goto(server.url + "/")
    page.click("nav >> text=Data")
    page.fill("#recipient-id", "insurer-web")
    page.fill("#recipient-name", "Pay-how-you-drive insurer")
    page.click("#register-button")
    page.wait_for_selector("#register-status:has-text('Client secret')")
    secret = page.locator("#register-status").inner_text().rsplit(": ", 1)[1].strip()
    page.reload()
    assert "insurer-web" in page.locator("#recipients").inner_text()
    page.screenshot(path=str(SCREENSHOTS / "data-recipients.png"), full_page=True)

    vin, owner_token = _owner(server)
    page.goto(server.url + "/owner")
    assert page.locator("nav").count() == 0  # not the operators' dashboard
    page.fill("#owner-token", server.tokens["admin"])  # an operator's token is not an owner's
    page.click("#owner-signin-button")
    page.wait_for_selector("#owner-status:has-text('refused')")
    page.fill("#owner-token", owner_token)
    page.click("#owner-signin-button")
    page.wait_for_selector("#owner-status:has-text('Signed in as owner-web')")
    assert CATEGORY in page.locator(f'section[data-vin="{vin}"] table.categories').inner_text()
    assert _read(server, "insurer-web", secret, vin) == 403  # nothing granted yet
    page.select_option("#grant-recipient", "insurer-web")
    page.check(f'#grant-categories input[value="{CATEGORY}"]')
    page.fill("#grant-days", "30")
    page.click("#grant-button")
    page.wait_for_selector("#grant-status:has-text('Granted consent')")
    assert "live" in page.locator("#grants tbody tr").first.inner_text()
    assert _read(server, "insurer-web", secret, vin) == 200
    page.screenshot(path=str(SCREENSHOTS / "owner-portal-granted.png"), full_page=True)

    page.click("#grants tbody tr >> button.revoke")
    page.wait_for_selector("#grant-status:has-text('Revoked consent')")
    assert "revoked" in page.locator("#grants tbody tr").first.inner_text()
    assert _read(server, "insurer-web", secret, vin) == 403
    page.reload()
    page.wait_for_selector("#owner-status:has-text('Signed in as owner-web')")
    actions = page.locator("#access-log tbody tr td:nth-child(4)").all_inner_texts()
    assert actions[:4] == ["refused", "revoke", "read", "grant"]
    page.screenshot(path=str(SCREENSHOTS / "owner-portal-revoked.png"), full_page=True)
