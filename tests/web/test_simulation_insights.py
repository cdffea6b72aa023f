"""Issue 15 §5–6 in Chromium: the simulation, hub and insights pages show what the CLI prints, and export CSV."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from evplatform.vehicle.scenarios import aeb_report, alks_report, api_signals_report, fault_report
from evplatform.vehicle.targets import compare_targets
from evplatform.workspace import load_workspace
from web.conftest import SCREENSHOTS, Server

pytestmark = pytest.mark.browser


def shot(page: Any, name: str) -> None:
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def test_simulation_targets_consumption_and_traces(page: Any, server: Server) -> None:
    page.goto(server.url + "/simulation")
    data = server.api("/api/simulation")
    ws = load_workspace(None)
    targets = compare_targets(ws, [ws.trim(r["vehicle"]) for r in data["results"]], None)
    assert page.locator("#sim-targets tbody tr").count() == len(targets)
    for t in targets:
        row = page.locator(f'#sim-targets tr[data-trim="{t.trim}"][data-target="{t.key}"]')
        assert row.get_attribute("data-status") == t.status
        assert ("miss" if t.status == "missed" else "pass") in row.locator("td").last.inner_text()
    assert page.locator('#sim-targets tr[data-status="missed"]').count() >= 1  # the demo misses some
    for r in data["results"]:
        cells = page.locator(f'#sim-consumption tr[data-vehicle="{r["vehicle"]}"]')
        assert cells.locator(".battery").inner_text() == f"{r['consumption_kwh_per_100km']['battery']:,.2f} kWh/100 km"
        assert cells.locator(".plug").inner_text() == f"{r['consumption_kwh_per_100km']['plug']:,.2f} kWh/100 km"
    assert "10.48 kWh/100 km" in page.locator("#sim-consumption").inner_text()  # su7/pro on CLTC: 10.484
    assert page.locator("#sim-traces svg.chart").count() == 3
    page.select_option("#sim-trim", "su7/max")
    page.click("text=Simulate")
    page.wait_for_load_state()
    traces = page.locator("#sim-traces")
    assert traces.get_attribute("data-trim") == "su7/max"
    titles = [str(t.text_content()) for t in traces.locator("svg.chart .chart-title").all()]
    assert len(titles) == 3 and all("su7/max" in t for t in titles)
    assert any("Speed" in t for t in titles) and any("State of charge" in t for t in titles)
    shot(page, "simulation")


def test_cycle_choice_is_the_clis(page: Any, server: Server) -> None:
    page.goto(server.url + "/simulation")
    options = page.locator("select[name=cycle] option").all_inner_texts()
    assert {"WLTC", "CLTC", "UDDS", "HWFET", "NEDC"} <= set(options)
    page.goto(server.url + "/simulation?cycle=udds&market=EU")
    assert page.locator("#sim-cycle").inner_text() == "UDDS"
    data = server.api("/api/simulation?cycle=udds&market=EU")
    assert "EPA label" in data["results"][0]["range_rule"]
    assert data["results"][0]["range_rule"] in page.locator("#sim-results").inner_text()


def test_hub_pages(page: Any, server: Server) -> None:
    page.goto(server.url + "/simulation")
    page.click("nav >> text=Hub")
    page.wait_for_load_state()
    ws = load_workspace(None)
    assert page.locator("#faults tbody tr").count() == len(fault_report(ws))
    assert page.locator("#aeb tbody tr").count() == len(aeb_report(ws))
    assert page.locator("#alks tbody tr").count() == len(alks_report(ws))
    first = fault_report(ws)[0]
    row = page.locator(f'#faults tr[data-vehicle="{first["vehicle"]}"][data-fault="{first["fault"]}"]')
    assert row.locator(".reaction").inner_text() == f"{first['reaction_s']:.2f}"
    api = api_signals_report(ws)
    assert page.locator("#api-signals tbody tr").count() == len(api["signals"])
    assert page.locator("#api-endpoint").inner_text() == f"127.0.0.1:{api['default_port']}"
    shot(page, "hub")


def _cli_scenarios() -> dict[str, Any]:
    """``evplatform insights scenarios --json`` with every default, as a user runs it."""
    result = subprocess.run([sys.executable, "-m", "evplatform", "insights", "scenarios", "--no-plots", "--json"],
                            capture_output=True, text=True, timeout=300, check=True)
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def test_insights_draws_seed_charts_and_peers(page: Any, server: Server) -> None:
    cli = _cli_scenarios()
    page.goto(server.url + "/insights")
    assert page.locator("#mc-draws").inner_text() == f"{cli['draws']:,}"
    assert page.locator("#mc-seed").inner_text() == str(cli["seed"])
    for row in cli["comparison"]:
        cell = page.locator(f'#scenarios tr[data-scenario="{row["name"]}"] .p50')
        assert cell.inner_text() == f"{row['npv_p50'] / 1e9:,.2f}"  # the same draws, the same numbers
    count = len(cli["scenarios"])
    assert page.locator(".sensitivity figure.tornado svg.chart").count() == count
    assert page.locator(".sensitivity figure.sobol svg.chart").count() == count
    assert page.locator(".sensitivity figure.tornado rect.bar-p10").count() >= count
    first = cli["scenarios"][0]
    top = first["tornado"]["advantage"]["bars"][0]
    driver = page.locator(f'#drivers tr[data-scenario="{first["name"]}"][data-output="advantage"]').first
    assert f"{top['swing'] / 1e9:,.2f}" in driver.inner_text() and top["input"] in driver.inner_text()
    tesla = page.locator('#peers tr[data-entity="Tesla"][data-measure="gross margin"]')
    assert "not an automotive segment margin" in tesla.locator(".definition").inner_text()
    byd = page.locator('#peers tr[data-entity="BYD"][data-measure="gross margin"]')
    assert byd.get_attribute("data-period") == "2025Q3" and "older" in byd.inner_text()
    assert page.locator('#peers tr[data-basis="derived"]').count() >= 1
    assert page.locator('#peers tr[data-basis="estimate"]').count() + page.locator(
        '#peers tr[data-basis="reported"]').count() >= 1
    width = page.evaluate("document.querySelector('#risks').getBoundingClientRect().width")
    main = page.evaluate("document.querySelector('main').getBoundingClientRect().width")
    assert width > 0.85 * main  # the register uses the page's width
    shot(page, "insights")


@pytest.mark.parametrize(("path", "header"), [
    ("/simulation.csv?cycle=cltc", "vehicle,cycle,market,battery kWh/100 km"),
    ("/simulation/consumption.csv", "vehicle,cycle,market,battery kWh/100 km,plug kWh/100 km"),
    ("/hub/faults.csv", "vehicle,fault,mode"),
    ("/hub/aeb.csv", "vehicle,AEB,lidar"),
    ("/hub/alks.csv", "vehicle,market,ALKS fitted"),
    ("/insights/peers.csv", "company,measure,metric reported,definition,period"),
    ("/insights/risks.csv", "id,title,likelihood,impact,score"),
    ("/insights/npv.csv", "scenario,title,draws,seed"),
])
def test_csv_exports(page: Any, server: Server, path: str, header: str) -> None:
    response = page.request.get(server.url + path)
    assert response.status == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.text().startswith(header)


def test_pages_link_their_csv(page: Any, server: Server) -> None:
    page.goto(server.url + "/simulation")
    links = page.locator("a[download]").evaluate_all("els => els.map(e => e.getAttribute('href'))")
    assert {h.split("?")[0] for h in links} == {"/simulation.csv", "/simulation/consumption.csv",
                                                "/simulation/targets.csv"}
    page.goto(server.url + "/insights")
    links = page.locator("a[download]").evaluate_all("els => els.map(e => e.getAttribute('href'))")
    assert {h.split("?")[0] for h in links} == {"/insights/peers.csv", "/insights/risks.csv", "/insights/npv.csv"}
