"""Issue 19 §2: the apps page shows ``apps check`` (summary, matrix per app, reasons) and its CSV.

The browser test runs against the shared session server (the bundled demo); the CSV is checked in
process against the domain's verdicts.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from evplatform.api import create_app
from evplatform.apps.compat import check_apps
from evplatform.apps.manifest import load_apps
from evplatform.workspace import load_workspace
from web.conftest import SCREENSHOTS, Server


def _verdicts() -> dict[tuple[str, str, str], Any]:
    ws = load_workspace(None)
    return {(v.app, v.trim, v.market): v for v in check_apps(ws, load_apps(ws))}


@pytest.mark.browser
def test_the_apps_page_shows_where_each_app_runs_and_why_not(page: Any, server: Server) -> None:
    page.goto(server.url + "/")
    page.click("nav >> text=Apps")
    page.wait_for_load_state()
    verdicts = _verdicts()
    apps = sorted({app for app, _, _ in verdicts})
    assert page.locator("#apps tbody tr").count() == len(apps)
    for app in apps:
        cells = page.locator(f'table[data-matrix="{app}"] td[data-cell]')
        assert cells.count() == sum(1 for key in verdicts if key[0] == app)
        refused = page.locator(f'table[data-matrix="{app}"] td[data-compatible="no"]')
        assert refused.count() == sum(1 for key, v in verdicts.items() if key[0] == app and not v.compatible)
    cell = page.locator('table[data-matrix="home-bridge"] td[data-cell="su7/standard|CN"]')
    assert cell.get_attribute("data-compatible") == "no"
    assert "features: needs Telematics5G" in str(cell.get_attribute("title"))
    reasons = page.locator("#reasons tbody tr")
    assert reasons.count() == sum(len(v.reasons) for v in verdicts.values())
    assert "driving_behaviour" in page.locator('#reasons tr[data-app="insurance-ubi"]').first.inner_text()
    link = page.locator('a[href="/apps.csv"]')
    assert link.count() == 1
    assert httpx.get(server.url + "/apps.csv", timeout=30).status_code == 200
    page.screenshot(path=str(SCREENSHOTS / "apps.png"), full_page=True)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    database = tmp_path_factory.mktemp("apps") / "empty.db"
    with TestClient(create_app(None, f"sqlite:///{database}")) as test_client:
        yield test_client


def test_the_csv_holds_every_verdict(client: TestClient) -> None:
    response = client.get("/apps.csv")
    assert response.status_code == 200
    assert response.headers["content-disposition"] == 'attachment; filename="apps-check.csv"'
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == ["app", "trim", "market", "compatible", "reason codes", "reasons"]
    verdicts = _verdicts()
    assert len(rows) - 1 == len(verdicts)
    for app, trim, market, compatible, codes, text in rows[1:]:
        verdict = verdicts[(app, trim, market)]
        assert compatible == ("yes" if verdict.compatible else "no")
        assert codes.split() == sorted({r.code for r in verdict.reasons})
        assert text == "; ".join(r.message for r in verdict.reasons)


def test_a_workspace_without_apps_says_so(tmp_path: Path) -> None:
    lumen = Path(__file__).resolve().parents[1] / "any_platform" / "lumen"
    with TestClient(create_app(lumen, f"sqlite:///{tmp_path / 'x.db'}")) as lumen_client:
        page = lumen_client.get("/apps")
        assert page.status_code == 200 and 'id="no-apps"' in page.text
        assert lumen_client.get("/apps.csv").text.strip() == "app,trim,market,compatible,reason codes,reasons"


def test_the_api_serves_the_clis_payload(client: TestClient) -> None:
    from evplatform.apps.compat import report

    ws = load_workspace(None)
    response = client.get("/api/apps/check")
    assert response.status_code == 200
    assert response.json() == report(ws, load_apps(ws))
