"""The features-on-demand page in Chromium: the figures `fod revenue --json` gives, ESTIMATE said, CSV, charts."""

from __future__ import annotations

import csv
import io
from typing import Any

import httpx
import pytest

from evplatform.workspace import load_workspace
from web.conftest import SCREENSHOTS, Server

pytestmark = pytest.mark.browser


def test_page_shows_mrr_attach_and_churn_and_says_the_demo_take_up_is_an_estimate(page: Any, server: Server) -> None:
    page.goto(server.url + "/features-on-demand")
    report = server.api("/api/fod/revenue")
    ws = load_workspace(None)
    assert page.locator("#fod-mrr").inner_text() == f"{report['mrr']:,.0f} {report['currency']}/month"
    assert page.locator("#fod-subscribers").inner_text() == f"{report['subscribers']:,}"
    assert page.locator("#fod-basis").get_attribute("data-basis") == report["basis"] == "estimate"
    assert "ESTIMATE" in page.locator("#fod-basis").inner_text()
    assert page.locator("#fod-offers tbody tr").count() == len(ws.on_demand.features)
    relevant = [f.id for f in ws.on_demand.features.values() if f.type_approval_relevant]
    for feature in relevant:
        assert "RXSWIN changes" in page.locator(f'#fod-offers tr[data-feature="{feature}"]').inner_text()
    for f in report["by_feature"]:
        row = page.locator(f'#fod-features tr[data-feature="{f["feature"]}"]')
        assert row.locator(".holders").inner_text() == f"{f['holders']:,}"
        assert row.locator(".mrr").inner_text() == f"{f['mrr']:,.0f}"
    assert page.locator("#fod-attach tbody tr").count() == len(report["attach"])
    first = report["attach"][0]
    cell = page.locator(f'#fod-attach tr[data-trim="{first["trim"]}"][data-market="{first["market"]}"] .any')
    assert cell.inner_text() == f"{100 * first['attach_rate']:.1f} %"
    assert page.locator("#fod-revenue svg.chart").count() == 2
    page.screenshot(path=str(SCREENSHOTS / "features-on-demand.png"), full_page=True)

    link = page.locator('a[href="/features-on-demand/attach.csv"]')
    assert link.get_attribute("download") is not None
    download = httpx.get(server.url + "/features-on-demand/attach.csv", timeout=30)
    rows = list(csv.DictReader(io.StringIO(download.text)))
    assert len(rows) == len(report["attach"]) and {r["basis"] for r in rows} == {"estimate"}
    assert int(rows[0]["vehicles"]) == first["vehicles"]


def test_nav_reaches_the_page(page: Any, server: Server) -> None:
    page.goto(server.url + "/")
    page.click('nav a[href="/features-on-demand"]')
    page.wait_for_load_state()
    assert page.url.endswith("/features-on-demand") and page.locator("#fod-summary h2").count() == 1
