"""The fleet page in a browser: VIN search, dropdown filters (a region covers its markets, ids are
case-insensitive), numbered paging and the page past the end, saving a group, the list first."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx

from evplatform.store import open_store
from evplatform.store import vehicles as vdb
from web.conftest import SCREENSHOTS, VEHICLES, Server


def money(value: float) -> str:
    return f"{value:,.0f}"


def _eu_members(server: Server) -> set[str]:
    store = open_store(server.database)
    try:
        return {m.id for m in vdb.markets(store).values() if m.parent == "EU"}
    finally:
        store.dispose()


def test_search_by_vin(page: Any, server: Server) -> None:
    vin = server.api("/api/fleet/vehicles?limit=1&offset=37")["vehicles"][0]["vin"]
    page.goto(server.url + "/fleet")
    page.fill("#f-vin", vin.lower())
    page.click("text=Filter")
    page.wait_for_load_state()
    assert page.locator("#fleet-matching").inner_text() == "1"
    rows = page.locator("#vehicle-list tbody tr")
    assert rows.count() == 1 and rows.first.get_attribute("data-vin") == vin


def test_market_eu_from_the_dropdown_includes_de_vehicles(page: Any, server: Server) -> None:
    page.goto(server.url + "/fleet")
    page.select_option("#f-market", "EU")
    page.click("text=Filter")
    page.wait_for_load_state()
    counts = server.api("/api/fleet/counts")["cells"]
    members = _eu_members(server)
    expected = sum(c["vehicles"] for c in counts if c["market"] in members)
    assert expected > 0 and page.locator("#fleet-matching").inner_text() == money(expected)
    markets = set(page.locator("#vehicle-list tbody td:nth-child(4)").all_inner_texts())
    assert "DE" in markets and markets <= members
    assert page.locator("#f-market").input_value() == "EU"  # the choice stays selected


def test_model_is_case_insensitive(page: Any, server: Server) -> None:
    page.goto(server.url + "/fleet?model=SU7")
    counts = server.api("/api/fleet/counts")["cells"]
    expected = sum(c["vehicles"] for c in counts if c["model"] == "su7")
    assert expected > 0 and page.locator("#fleet-matching").inner_text() == money(expected)
    assert page.locator("#f-model").input_value() == "su7"


def test_numbered_paging_and_the_page_past_the_end(page: Any, server: Server) -> None:
    page.goto(server.url + "/fleet")
    assert page.locator("#fleet-total").inner_text() == money(VEHICLES)
    assert "Showing 1–50, page 1 of 6." in page.locator("#fleet-summary").inner_text()
    page.click("#fleet-pages a:text-is('3')")
    page.wait_for_load_state()
    assert parse_qs(urlparse(page.url).query)["page"] == ["2"]
    assert "Showing 101–150, page 3 of 6." in page.locator("#fleet-summary").inner_text()
    assert page.locator("#fleet-pages [aria-current=page]").inner_text() == "3"
    page.click("#vehicle-list thead a:text('market')")  # sort by market
    page.wait_for_load_state()
    markets = page.locator("#vehicle-list tbody td:nth-child(4)").all_inner_texts()
    assert markets == sorted(markets) and "sort=market" in page.url
    page.goto(server.url + "/fleet?page=500")
    note = page.locator("#fleet-note").inner_text()
    assert note == f"Page 501 is past the end: {money(VEHICLES)} vehicles fill 6 pages."
    assert "Showing" not in page.locator("#fleet-summary").inner_text()
    assert page.locator("#vehicle-list tbody").inner_text().strip() == "No vehicles on this page."


def test_the_list_comes_first_and_a_bad_query_says_where(page: Any, server: Server) -> None:
    page.goto(server.url + "/fleet")
    top = page.locator("#vehicle-list").bounding_box()["y"]
    assert top < page.locator("#fleet-matrix").bounding_box()["y"] and top < 900
    page.fill("#f-q", "model = su7 and")
    page.click("text=Filter")
    page.wait_for_load_state()
    assert page.locator("#fleet-query-error").inner_text() == (
        "query column 16: expected a condition, found the end")


def test_save_as_group_lists_it_with_its_count(page: Any, server: Server) -> None:
    page.goto(server.url + "/signin")
    page.fill("#token", server.tokens["release_manager"])
    page.click("#signin-button")
    page.wait_for_selector("text=Signed in as release_manager-ann")
    page.goto(server.url + "/fleet?market=EU&model=SU7")
    matching = page.locator("#fleet-matching").inner_text()
    page.fill("#group-name", "eu-su7")
    page.click("text=Save as group")
    row = page.locator('#group-list tr[data-group="eu-su7"]')
    row.wait_for()
    assert row.locator(".group-count").inner_text() == matching
    assert row.locator("code").inner_text() == 'model = "SU7" and market = "EU"'
    assert row.locator("a.start-campaign").get_attribute("href") == "/campaigns/new?group=eu-su7"
    groups = server.api("/api/fleet/groups")["groups"]
    assert [(g["name"], money(g["vehicles"])) for g in groups] == [("eu-su7", matching)]
    page.screenshot(path=str(SCREENSHOTS / "fleet.png"), full_page=True)


def _sign_in(page: Any, server: Server, role: str) -> None:
    page.goto(server.url + "/signin")
    page.fill("#token", server.tokens[role])
    page.click("#signin-button")
    page.wait_for_selector(f"text=Signed in as {role}-ann")


def test_delete_a_saved_group_asks_first_and_needs_a_release_manager(page: Any, server: Server) -> None:
    name = "to-delete"
    saved = httpx.post(server.url + "/api/fleet/groups", json={"name": name, "query": "market in (EU)"},
                       headers={"Authorization": "Bearer " + server.tokens["release_manager"]}, timeout=30)
    assert saved.status_code == 201, saved.text
    row = f'#group-list tr[data-group="{name}"]'
    _sign_in(page, server, "viewer")  # a viewer sees the button; the server refuses the deletion
    page.goto(server.url + "/fleet")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click(f"{row} button.delete-group")
    page.wait_for_selector("#group-status:has-text('Not deleted: 403')")
    _sign_in(page, server, "release_manager")
    page.goto(server.url + "/fleet")
    page.once("dialog", lambda dialog: dialog.dismiss())  # not confirmed: nothing happens
    page.click(f"{row} button.delete-group")
    page.wait_for_selector("#group-status:has-text('not confirmed')")
    assert any(g["name"] == name for g in server.api("/api/fleet/groups")["groups"])
    page.once("dialog", lambda dialog: dialog.accept())
    page.click(f"{row} button.delete-group")
    page.wait_for_selector(f"#group-status:has-text('Deleted {name}.')")
    assert page.locator(row).count() == 0
    page.screenshot(path=str(SCREENSHOTS / "fleet-group-deleted.png"), full_page=True)
    assert all(g["name"] != name for g in server.api("/api/fleet/groups")["groups"])
