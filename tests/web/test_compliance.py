"""Issue 15 §4, the compliance workbench in Chromium: cells that open their reasons in both modes,
unverified rules shown as warnings, the roadmap from the as-of date in date order, the controls as
a GET form, the regulation and market pages, and the CSV exports."""

from __future__ import annotations

import csv
import io
from typing import Any

import httpx
import pytest

from web.conftest import SCREENSHOTS, Server

pytestmark = pytest.mark.browser

AS_OF = "2026-12-03"
MODES = ("new_types", "all")


def shot(page: Any, name: str) -> None:
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def _report(server: Server, market: str, mode: str) -> dict[str, Any]:
    report: dict[str, Any] = server.api(f"/api/compliance?market={market}&date={AS_OF}&mode={mode}")
    return report


def test_a_cell_opens_its_reasons_in_both_modes(page: Any, server: Server) -> None:
    page.goto(f"{server.url}/compliance?on={AS_OF}")
    assert page.locator("#compliance-date").inner_text() == AS_OF
    for mode in MODES:
        verdict = next(v for v in _report(server, "EU", mode)["verdicts"] if v["model"] == "su7")
        key = f"su7/{verdict['trim']}"
        details = page.locator(f'#compliance-matrix tr[data-trim="{key}"] td[data-market="EU"] '
                               f'details[data-mode="{mode}"]')
        assert details.get_attribute("data-status") == verdict["status"] == "non-compliant"
        summary = details.locator("summary")
        assert not details.locator(".c-reasons").is_visible()
        summary.focus()  # keyboard: a summary is focusable and Enter opens it
        page.keyboard.press("Enter")
        assert details.locator(".c-reasons").is_visible()
        shown = details.locator("li.c-failure").evaluate_all("els => els.map(e => e.dataset.regulation)")
        assert shown == [r["regulation"] for r in verdict["reasons"]]
        first = verdict["reasons"][0]
        item = details.locator(f'li.c-failure[data-regulation="{first["regulation"]}"]')
        text = item.inner_text()
        assert first["title"] in text and first["source"][:30] in text
        assert f"new type from {first['applies_new_types'] or '—'}" in text
        assert f"registration from {first['applies_all'] or '—'}" in text
        assert "+" + first["missing"][0] in text
    shot(page, "compliance")


def test_unverified_rules_are_visible_as_warnings(page: Any, server: Server) -> None:
    page.goto(f"{server.url}/compliance?on={AS_OF}&mode=new_types&market=EU")
    report = _report(server, "EU", "new_types")
    listed = page.locator("#unverified li").count()
    assert listed == len(report["warnings"]) > 0
    verdict = next(v for v in report["verdicts"] if v["warnings"])
    details = page.locator(f'#compliance-matrix tr[data-trim="{verdict["model"]}/{verdict["trim"]}"] '
                           f'td[data-market="EU"] details[data-mode="new_types"]')
    assert f"⚠{len(verdict['warnings'])}" in details.locator("summary").inner_text()
    details.locator("summary").click()
    warned = details.locator("li.c-warning")
    assert warned.count() == len(verdict["warnings"])
    assert "unverified — warning, not a failure" in warned.first.inner_text()


def test_the_roadmap_starts_at_the_as_of_date_in_date_order(page: Any, server: Server) -> None:
    page.goto(f"{server.url}/compliance?on={AS_OF}")
    dates = page.locator("#roadmap tbody tr").evaluate_all("rows => rows.map(r => r.dataset.date)")
    assert dates and dates == sorted(dates) and min(dates) == AS_OF  # ISO dates sort as text
    assert all(d >= AS_OF for d in dates)
    markets = page.locator("#roadmap tbody tr td:nth-child(4) a").all_inner_texts()
    assert "EU" in markets and "DE" not in markets  # the member states are folded into the EU line
    assert "cumulative" in page.locator("#roadmap thead").inner_text()
    assert page.locator("#compliance-timeline svg.chart").count() == 1
    later = "2027-06-01"
    page.goto(f"{server.url}/compliance?on={later}")
    dates = page.locator("#roadmap tbody tr").evaluate_all("rows => rows.map(r => r.dataset.date)")
    assert dates and min(dates) == later and dates == sorted(dates)


def test_the_controls_are_a_labelled_get_form(page: Any, server: Server) -> None:
    page.goto(f"{server.url}/compliance?on={AS_OF}")
    assert page.get_by_label("mode").get_attribute("id") == "c-mode"  # every control has its label
    assert page.get_by_label("as of (date)").get_attribute("id") == "c-on"
    page.get_by_label("mode").select_option("all")
    page.get_by_label("CN", exact=True).check()
    page.get_by_label("as of (date)").fill("2027-01-15")
    page.get_by_role("button", name="Show").click()
    page.wait_for_load_state()
    assert "mode=all" in page.url and "market=CN" in page.url and "on=2027-01-15" in page.url
    assert page.locator("#compliance-matrix thead th").all_inner_texts() == ["trim", "CN"]
    assert page.locator('#compliance-matrix details[data-mode="new_types"]').count() == 0
    assert page.locator('#compliance-matrix details[data-mode="all"]').count() > 0


def test_regulation_and_market_pages(page: Any, server: Server) -> None:
    page.goto(f"{server.url}/compliance?on={AS_OF}")
    page.locator('#compliance-matrix thead a:text-is("CN")').click()
    page.wait_for_load_state()
    assert page.url.endswith(f"/compliance/markets/CN?on={AS_OF}")
    report = _report(server, "CN", "new_types")
    failing = [f"{v['model']}/{v['trim']}" for v in report["verdicts"] if v["status"] == "non-compliant"]
    assert ", ".join(failing) in page.locator("#market-summary-new_types").inner_text()
    row = page.locator('#market-regulations tr[data-regulation="CN-DOOR-HANDLE"]')
    assert "2028-01-01" in row.inner_text() and "2029-01-01" in row.inner_text()
    assert row.locator("div[data-trim]").count() > 0
    dates = page.locator("#market-roadmap tbody tr").evaluate_all("rows => rows.map(r => r.dataset.date)")
    assert dates == sorted(dates) and dates[0] == AS_OF
    assert "+MechanicalDoorRelease" in page.locator("#market-roadmap").inner_text()
    shot(page, "compliance_market")
    row.locator("a").first.click()
    page.wait_for_load_state()
    assert "/compliance/regulations/CN-DOOR-HANDLE" in page.url
    assert page.locator("#regulation-new-types").inner_text() == "2028-01-01"
    assert page.locator("#regulation-all").inner_text() == "2029-01-01"
    assert page.locator('#regulation-markets tr[data-markets="CN"] div[data-trim]').count() > 0
    page.goto(f"{server.url}/compliance/regulations/EU-ECALL?on={AS_OF}")
    assert page.locator("#regulation-status").inner_text() == "unverified"
    assert page.locator("#regulation-warning").is_visible()
    shot(page, "compliance_regulation")
    assert httpx.get(f"{server.url}/compliance/regulations/NO-SUCH", timeout=30).status_code == 404
    assert httpx.get(f"{server.url}/compliance/markets/XX", timeout=30).status_code == 404


def _csv(server: Server, href: str) -> tuple[httpx.Response, list[dict[str, str]]]:
    response = httpx.get(server.url + href, timeout=60)
    return response, list(csv.DictReader(io.StringIO(response.text)))


def test_csv_exports_of_the_matrix_and_the_roadmap(page: Any, server: Server) -> None:
    page.goto(f"{server.url}/compliance?on={AS_OF}&mode=both&market=EU&market=CN")
    href = page.locator("#matrix-csv").get_attribute("href")
    assert href.startswith("/compliance/matrix.csv?") and "market=EU" in href and f"on={AS_OF}" in href
    response, rows = _csv(server, href)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    assert response.text.splitlines()[0] == ("date,market,mode,model,trim,status,broken_regulations,"
                                             "unverified_warnings,missing_features,violating_features,note")
    trims = len(server.api("/api/compliance?market=CN&date=" + AS_OF)["verdicts"])
    assert len(rows) == 2 * 2 * trims and {r["market"] for r in rows} == {"CN", "EU"}
    for mode in MODES:
        for verdict in _report(server, "EU", mode)["verdicts"]:
            row = next(r for r in rows if (r["market"], r["mode"], r["model"], r["trim"])
                       == ("EU", mode, verdict["model"], verdict["trim"]))
            assert row["status"] == verdict["status"]
            assert row["broken_regulations"].split() == [r["regulation"] for r in verdict["reasons"]]
            assert row["unverified_warnings"].split() == [r["regulation"] for r in verdict["warnings"]]
    href = page.locator("#roadmap-csv").get_attribute("href")
    response, rows = _csv(server, href)
    header = response.text.splitlines()[0].split(",")
    assert header[:4] == ["date", "mode", "model", "markets"]
    assert header[-3:] == ["cumulative_cost_per_vehicle_min_CNY", "cumulative_cost_per_vehicle_max_CNY",
                           "cumulative_cost_per_year_CNY"]
    dates = [r["date"] for r in rows]
    assert dates == sorted(dates) and dates[0] == AS_OF
    assert {r["markets"] for r in rows} == {"CN", "EU"}
    shown = page.locator("#roadmap tbody tr").count()
    assert len(rows) == shown
    _, only_all = _csv(server, f"/compliance/roadmap.csv?on={AS_OF}&mode=all&market=CN")
    assert only_all and {r["mode"] for r in only_all} == {"all"} and {r["markets"] for r in only_all} == {"CN"}
    assert httpx.get(f"{server.url}/compliance/roadmap.csv?on=2026-13-01", timeout=30).status_code == 400
