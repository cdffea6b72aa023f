"""Issue 15 section 2: the configurator's live figures and its closest-valid-configuration button in chromium.

Start from yu7/standard in China, select a feature with parts: the figures (unit cost delta, BOM,
range on CLTC and WLTC, verdicts) update. Then ask for the closest valid configuration to the EU's
rules on a date the EU's 2026-2027 rules are in force: the decisions change and the EU verdict
becomes compliant. Screenshot: out/screenshots/configurator.png (overwrites the basic test's, now
with the figures and the closest answer on it).
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from web.conftest import SCREENSHOTS, Server
from web.test_configurator import WAIT, _row, _signed_in

TRIM, MARKET, PICK, ON = "yu7/standard", "CN", "ALKS", "2028-06-01"


def test_figures_follow_each_decision_and_the_closest_button_makes_it_comply(page: Any, server: Server) -> None:
    _signed_in(page, server)
    page.fill("#cfg-date", ON)
    page.select_option("#cfg-trim", TRIM)
    page.select_option("#cfg-market", MARKET)
    page.get_by_role("button", name="Start session").click()
    expect(page.locator("#cfg-status")).to_contain_text("Session started", timeout=WAIT)
    expect(page.locator("#cfg-delta")).to_have_text("0", timeout=WAIT)  # the session is its base trim
    eu = page.locator('#cfg-figures tr[data-market="EU"]')
    expect(eu).to_have_attribute("data-verdict", "non-compliant", timeout=WAIT)
    assert "BatteryPassport" in eu.inner_text()
    assert "WLTC" in eu.inner_text() and "CLTC" in page.locator('#cfg-figures tr[data-market="CN"]').inner_text()
    bom_before = page.locator("#cfg-fig-bom").inner_text()

    _row(page, PICK).locator(".cfg-name").click()
    page.wait_for_selector('#cfg-features li[data-feature="DSSAD"][data-state="forced"]')
    expect(page.locator("#cfg-delta")).to_have_text(re.compile(r"^\+[\d,]+$"), timeout=WAIT)
    expect(page.locator("#cfg-fig-bom")).not_to_have_text(bom_before, timeout=WAIT)

    page.select_option("#cfg-closest-market", "EU")
    page.get_by_role("button", name="Closest valid configuration to the market's rules").click()
    expect(page.locator("#cfg-status")).to_contain_text("applied: compliant", timeout=WAIT)
    expect(eu).to_have_attribute("data-verdict", "compliant", timeout=WAIT)
    summary = page.locator("#cfg-closest-out")
    assert "non-compliant → compliant" in summary.inner_text() and "BatteryPassport" in summary.inner_text()
    assert _row(page, "Market_EU").get_attribute("data-state") in ("selected", "forced")
    # The unit-propagation answer is drawn first ("so far"); the complete answer follows it.
    expect(page.locator("#cfg-counts")).to_contain_text(" 0 open · every feature decided", timeout=WAIT)
    page.screenshot(path=str(SCREENSHOTS / "configurator.png"), full_page=True)

    with page.expect_download() as download:  # the figures table for a spreadsheet
        page.get_by_role("button", name="Download CSV of the figures").click()
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8"))))
    assert [r["market"] for r in rows] == ["CN", "EU"] and rows[1]["verdict"] == "compliant"
    assert float(rows[1]["range_km"]) > 0 and rows[1]["cycle"] == "wltc" and rows[1]["date"] == ON


def test_the_feature_list_filters_by_name(page: Any, server: Server) -> None:
    _signed_in(page, server)
    page.fill("#cfg-find", "inlet")
    expect(page.locator("#cfg-features li")).to_have_count(3)  # ChargeInlet and its two connectors
    assert "3 of" in page.locator("#cfg-shown").inner_text()
