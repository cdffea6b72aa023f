"""Issue 22: the Europe 2027 page asks for the exchange rate, then shows landed cost, customer price after
incentives and eligibility with reasons per country × trim, with every figure's source and confidence, and a CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from evplatform.api import create_app
from evplatform.platform import trim_costs
from evplatform.workspace import load_workspace
from web.conftest import SCREENSHOTS, Server

QUERY = "eur_per_unit=0.125&rate_date=2026-12-01&on=2027-01-01"


@pytest.mark.browser
def test_the_europe_page_asks_for_the_rate_then_answers_per_country_and_trim(page: Any, server: Server) -> None:
    page.goto(server.url + "/")
    page.click("nav >> text=Europe 2027")
    page.wait_for_load_state()
    assert "exchange rate" in page.locator("#europe-problem").inner_text()  # no rate: asked, not guessed
    page.fill("#eur-per-unit", "0.125")
    page.fill("#rate-date", "2026-12-01")
    page.fill("input[name=on]", "2027-01-01")
    page.click("#europe-scenario button[type=submit]")
    page.wait_for_load_state()
    costs = trim_costs(load_workspace(None))
    data = httpx.get(f"{server.url}/api/europe?{QUERY}", timeout=60).json()
    assert page.locator("#europe tbody tr").count() == len(costs) * len(data["countries"])
    first = costs[0]
    row = page.locator(f'#europe tr[data-row="DE|{first.trim.key}"]')
    landed = (first.unit_cost * 0.125 + 1500) * 1.453
    assert row.locator("td").nth(2).inner_text() == f"{landed:,.0f}"
    assert "⚠ countervailing_duty" in row.inner_text()
    fr = page.locator('#europe tr[data-row^="FR|"]').first
    assert "environmental score unknown" in fr.inner_text()
    assert page.locator("#sources tbody tr.neg").count() >= 1  # low-confidence sources are flagged
    href = page.locator("#europe-csv").get_attribute("href")
    assert href is not None and httpx.get(server.url + href, timeout=60).status_code == 200
    page.screenshot(path=str(SCREENSHOTS / "europe.png"), full_page=True)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    database = tmp_path_factory.mktemp("europe") / "empty.db"
    with TestClient(create_app(None, f"sqlite:///{database}")) as test_client:
        yield test_client


def test_the_csv_holds_every_row_of_the_payload(client: TestClient) -> None:
    data = client.get(f"/api/europe?{QUERY}").json()
    response = client.get(f"/europe.csv?{QUERY}")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0][:3] == ["trim", "country", "landed cost EUR"] and len(rows) - 1 == len(data["rows"])
    for line, row in zip(rows[1:], data["rows"], strict=True):
        assert (line[0], line[1], float(line[2])) == (row["trim"], row["country"], row["landed"]["landed_cost_eur"])
        assert float(line[9]) == row["customer"]["price_after_incentives_eur"]


@pytest.mark.parametrize(("query", "needle"), [("duty=20.7", "exchange rate"), (f"{QUERY}&country=XX", "countries.csv"),
                                               (f"{QUERY}&duty=12", "duties.csv")])
def test_bad_input_is_a_400_naming_what_is_missing(client: TestClient, query: str, needle: str) -> None:
    for path in ("/europe", "/api/europe"):
        response = client.get(f"{path}?{query}")
        assert response.status_code == 400, response.text[:200]
        assert needle in response.text
        assert "/work/" not in response.text and "site-packages" not in response.text  # no server path


def test_the_first_visit_asks_for_the_rate_without_an_error_status(client: TestClient) -> None:
    response = client.get("/europe")
    assert response.status_code == 200
    assert 'id="europe-problem"' in response.text and 'id="eur-per-unit"' in response.text
    assert 'id="europe"' not in response.text  # no table without a rate
