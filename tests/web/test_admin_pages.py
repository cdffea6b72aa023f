"""Issue 16 §4 in Chromium: an admin manages accounts and tokens on /admin (a token issued there works,
and once revoked there it is refused), others see the page disabled with the API's 401/403, and the
audit page filters, pages and exports CSV. Screenshots out/screenshots/admin.png and audit.png."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import httpx
import pytest

from evplatform.store import (
    AuditQuery,
    count_audit,
    create_account,
    issue_token_record,
    open_store,
    record_audit,
    set_role,
)
from web.conftest import SCREENSHOTS, Server

pytestmark = pytest.mark.browser

WAIT = 60_000


def _sign_in(page: Any, server: Server, token: str, path: str) -> None:
    """Keep ``token`` in the browser as the sign-in page does, then open ``path``."""
    page.goto(server.url + "/signin")
    page.evaluate("t => window.localStorage.setItem('evplatform-token', t)", token)
    page.goto(server.url + path)
    page.wait_for_load_state("load")


def _me(server: Server, token: str) -> int:
    return httpx.get(server.url + "/api/me", headers={"Authorization": f"Bearer {token}"}, timeout=30).status_code


def test_admin_issues_a_token_in_the_browser_and_revokes_it(page: Any, server: Server) -> None:
    _sign_in(page, server, server.tokens["admin"], "/admin")
    page.wait_for_selector("#admin-status[data-state='ok']", timeout=WAIT)
    assert page.locator("#admin-status").inner_text() == "Signed in as admin-ann (admin)."
    page.wait_for_selector("#admin-tools:not([disabled])", timeout=WAIT)
    page.fill("#new-name", "web-rita")
    page.select_option("#new-role", "release_manager")
    page.click("#create-button")
    page.wait_for_selector("#accounts tr[data-account='web-rita']", timeout=WAIT)
    assert page.locator("#admin-result").inner_text() == "Created web-rita (release_manager)."
    page.select_option("#token-account", "web-rita")
    page.fill("#token-label", "browser")
    page.fill("#token-days", "7")
    page.click("#issue-button")
    page.wait_for_selector("#new-token:not([hidden])", timeout=WAIT)
    token = page.locator("#new-token-value").inner_text().strip()
    token_id = page.locator("#new-token-id").inner_text()
    assert len(token) >= 40 and page.locator("#new-token-expires time").count() == 1
    assert _me(server, token) == 200
    row = page.locator(f"#tokens tr[data-token='{token_id}']")
    row.wait_for(timeout=WAIT)
    assert "live" in row.inner_text() and "browser" in row.inner_text()
    page.screenshot(path=str(SCREENSHOTS / "admin.png"), full_page=True)
    row.get_by_role("button", name="Revoke").click()
    page.wait_for_selector(f"#admin-result:text-is('Revoked token {token_id}.')", timeout=WAIT)
    page.wait_for_selector(f"#tokens tr[data-token='{token_id}'] td:text-is('revoked')", timeout=WAIT)
    assert _me(server, token) == 401
    # the revoked token signing in, in the browser
    page.goto(server.url + "/signin")
    page.fill("#token", token)
    page.click("#signin-button")
    page.wait_for_selector("#signin-status:has-text('Sign-in refused')", timeout=WAIT)
    assert "401" in page.locator("#signin-status").inner_text()
    store = open_store(server.database)
    try:
        assert count_audit(store, AuditQuery(actor="admin-ann", action="token")) >= 2
        assert count_audit(store, AuditQuery(actor="admin-ann", action="account.create")) >= 1
    finally:
        store.dispose()


def test_the_last_admin_cannot_be_demoted_in_the_browser(page: Any, server: Server) -> None:
    _sign_in(page, server, server.tokens["admin"], "/admin")
    page.wait_for_selector("#admin-tools:not([disabled])", timeout=WAIT)
    row = page.locator("#accounts tr[data-account='admin-ann']")
    row.locator("select").select_option("viewer")
    row.get_by_role("button").click()
    page.wait_for_selector("#admin-result:has-text('Role change refused')", timeout=WAIT)
    assert "409" in page.locator("#admin-result").inner_text() and "last admin" in page.locator(
        "#admin-result").inner_text()
    assert _me(server, server.tokens["admin"]) == 200
    assert row.locator("select").input_value() == "admin"


def test_an_admin_revoking_their_own_token_loses_the_page(page: Any, server: Server) -> None:
    store = open_store(server.database)
    try:
        create_account(store, "admin-bea", "admin", actor="test")
        token, info = issue_token_record(store, "admin-bea", label="own", actor="test")
    finally:
        store.dispose()
    _sign_in(page, server, token, "/admin")
    page.wait_for_selector("#admin-tools:not([disabled])", timeout=WAIT)
    page.locator(f"#tokens tr[data-token='{info.id}']").get_by_role("button", name="Revoke").click()
    page.wait_for_selector("#admin-status:has-text('can no longer administer')", timeout=WAIT)
    assert page.locator("#admin-result").inner_text() == f"Revoked token {info.id}."
    assert page.locator("#admin-tools").get_attribute("disabled") is not None
    assert _me(server, token) == 401
    store = open_store(server.database)
    try:
        set_role(store, "admin-bea", "viewer", actor="test")  # admin-ann is the only admin again for other tests
    finally:
        store.dispose()


@pytest.mark.parametrize(("who", "status"), [("viewer", "403"), ("release_manager", "403"), (None, "401")])
def test_others_see_the_admin_page_disabled(page: Any, server: Server, who: str | None, status: str) -> None:
    _sign_in(page, server, server.tokens[who] if who else "", "/admin")
    page.wait_for_selector("#admin-status[data-state='denied']", timeout=WAIT)
    message = page.locator("#admin-status").inner_text()
    assert message.startswith(status) and ("needs admin" in message or "Sign-in needed" in message), message
    assert page.locator("#admin-tools").get_attribute("disabled") is not None
    assert page.locator("#accounts tbody tr").count() == 0 and page.locator("#tokens tbody tr").count() == 0


def test_audit_page_filters_pages_and_exports_csv(page: Any, server: Server, tmp_path: Path) -> None:
    _sign_in(page, server, server.tokens["viewer"], "/audit")
    page.wait_for_selector("#audit-status[data-state='ok']", timeout=WAIT)
    page.wait_for_selector("#audit tbody tr", timeout=WAIT)
    page.fill("#audit-who", "release_manager-ann")
    page.click("#audit-filter")
    page.wait_for_url("**/audit?who=release_manager-ann**", timeout=WAIT)
    page.wait_for_selector("#audit-range:has-text('of')", timeout=WAIT)
    whos = page.locator("#audit tbody tr td:nth-child(3)").all_inner_texts()
    assert whos and set(whos) == {"release_manager-ann"}
    store = open_store(server.database)
    try:
        expected = count_audit(store, AuditQuery(actor="release_manager-ann"))
        everything = count_audit(store)
    finally:
        store.dispose()
    assert page.locator("#audit-range").inner_text().endswith(f"of {expected:,}.")
    page.fill("#audit-action", "campaign")
    page.click("#audit-filter")
    page.wait_for_url("**action=campaign**", timeout=WAIT)
    page.wait_for_selector("#audit tbody tr", timeout=WAIT)
    assert all(a.startswith("campaign.") for a in page.locator("#audit tbody tr td:nth-child(4)").all_inner_texts())
    page.fill("#audit-from", "2999-01-01T00:00")
    page.click("#audit-filter")
    page.wait_for_selector("#audit-range:text-is('No entry matches.')", timeout=WAIT)
    # paging: 55 entries of one actor are a page of 50 and a page of 5
    store = open_store(server.database)
    try:
        for index in range(55):
            record_audit(store, "bulk-importer", "vehicle.import", f"vehicle:{index}")
    finally:
        store.dispose()
    page.goto(server.url + "/audit?who=bulk-importer")
    page.wait_for_selector("#audit tbody tr", timeout=WAIT)
    size = int(page.locator("#audit").get_attribute("data-page-size"))
    assert size == 50 and page.locator("#audit tbody tr").count() == 50
    assert page.locator("#audit-range").inner_text() == "Entries 1–50 of 55."
    assert page.locator("#audit-prev").is_hidden()
    page.click("#audit-next")
    page.wait_for_url("**page=1**", timeout=WAIT)
    page.wait_for_selector("#audit-range:text-is('Entries 51–55 of 55.')", timeout=WAIT)
    subjects = page.locator("#audit tbody tr td:nth-child(5)").all_inner_texts()
    assert subjects == [f"vehicle:{i}" for i in range(4, -1, -1)] and page.locator("#audit-next").is_hidden()
    everything += 55
    page.goto(server.url + "/audit")
    page.wait_for_selector("#audit-csv:not([disabled])", timeout=WAIT)
    page.screenshot(path=str(SCREENSHOTS / "audit.png"), full_page=True)
    with page.expect_download(timeout=WAIT) as download:
        page.click("#audit-csv")
    saved = tmp_path / "audit.csv"
    download.value.save_as(saved)
    rows = list(csv.reader(io.StringIO(saved.read_text(encoding="utf-8"))))
    assert rows[0] == ["id", "at_utc", "who", "action", "subject", "detail_json"]
    assert len(rows) - 1 >= everything  # entries may be added while the test runs, never fewer


def test_the_audit_page_needs_a_sign_in(page: Any, server: Server) -> None:
    page.goto(server.url + "/audit")
    page.wait_for_selector("#audit-status[data-state='denied']", timeout=WAIT)
    assert page.locator("#audit-status").inner_text().startswith("401")
    assert page.locator("#audit tbody tr").count() == 0
