"""Dashboard pages rendered in process (no browser): empty database, error pages, escaping, the live chart."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from evplatform.api import create_app

PAGES = ("/", "/platform", "/compliance", "/simulation", "/hub", "/apps", "/campaigns", "/releases", "/fleet",
         "/insights", "/signin")


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    database = tmp_path_factory.mktemp("pages") / "empty.db"
    with TestClient(create_app(None, f"sqlite:///{database}")) as test_client:
        yield test_client


@pytest.mark.parametrize("path", PAGES)
def test_every_page_renders_on_an_empty_database(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert 'href="/static/style.css"' in response.text and "<h1>" in response.text
    assert "http://" not in response.text.replace("http://www.w3.org/2000/svg", "")  # nothing from outside


def test_empty_states_say_so(client: TestClient) -> None:
    assert "No campaign yet." in client.get("/campaigns").text
    assert "No release yet." in client.get("/releases").text
    assert 'id="fleet-total">0<' in client.get("/fleet").text


def test_unknown_campaign_and_vehicle_pages_are_404_pages(client: TestClient) -> None:
    for path, message in (("/campaigns/42", "no campaign 42"), ("/fleet/NOPE", "no vehicle NOPE")):
        response = client.get(path)
        assert response.status_code == 404
        assert message in response.text and 'id="page-error"' in response.text


def test_bad_date_and_trim_are_explained(client: TestClient) -> None:
    response = client.get("/compliance?on=2026-02-30")
    assert response.status_code == 400 and "date must be YYYY-MM-DD, got &#39;2026-02-30&#39;" in response.text
    response = client.get("/bom?trim=<script>")
    assert response.status_code == 400
    assert "<script>" not in response.text and "&lt;script&gt;" in response.text


def test_unreachable_database_page(tmp_path: Path) -> None:
    with TestClient(create_app(None, "postgresql+psycopg://nobody@127.0.0.1:1/none")) as down:
        response = down.get("/fleet")
        assert response.status_code == 503 and "cannot reach the database" in response.text
        home = down.get("/")
        assert home.status_code == 200 and "Fleet database: cannot reach the database" in home.text


def test_static_assets_are_served_from_the_package(client: TestClient) -> None:
    script = client.get("/static/app.js")
    assert script.status_code == 200 and "POLL_MS = 2000" in script.text
    assert client.get("/static/style.css").status_code == 200
