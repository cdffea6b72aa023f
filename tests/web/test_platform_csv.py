"""CSV exports of the platform and BOM pages: the page's figures, unformatted, with units in the header."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from evplatform.api import create_app
from evplatform.platform.bom import bom_of
from evplatform.web.csv_tables import csv_text
from evplatform.workspace import Workspace, load_workspace


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    database = tmp_path_factory.mktemp("platform-csv") / "empty.db"
    with TestClient(create_app(None, f"sqlite:///{database}")) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def demo() -> Workspace:
    return load_workspace(None)


def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_trims_csv_has_every_trim_with_its_costs(client: TestClient, demo: Workspace) -> None:
    response = client.get("/platform/trims.csv")
    assert response.status_code == 200 and response.headers["content-type"] == "text/csv; charset=utf-8"
    assert 'filename="trims.csv"' in response.headers["content-disposition"]
    header, *rows = _rows(response.text)
    assert header[:4] == ["model", "trim", "name", f"price {demo.platform.currency}"]
    assert {f"{r[0]}/{r[1]}" for r in rows} == {t.key for t in demo.trims()}
    assert all(float(r[7]) > float(r[6]) > 0 for r in rows)  # unit cost = BOM cost + development per unit


def test_kpi_csv_has_the_six_indicators(client: TestClient) -> None:
    header, *rows = _rows(client.get("/platform/kpi.csv").text)
    assert header == ["indicator", "across models", "across trims", "meaning"]
    assert [r[0] for r in rows][:3] == ["part-number reuse", "spend reuse", "DCI (Collier)"]
    assert 0 < float(rows[0][1]) <= 1 and float(rows[2][1]) >= 1  # a share, and users per part number


def test_bom_csv_sums_to_the_bom_cost(client: TestClient, demo: Workspace) -> None:
    trim = next(iter(demo.trims()))
    market = next(iter(demo.markets))
    response = client.get(f"/bom.csv?trim={trim.key}&market={market}")
    if response.status_code != 200:  # the first market may not sell the first trim: use the page's default
        response = client.get(f"/bom.csv?trim={trim.key}")
        market = _rows(response.text)[1][1]
    assert response.status_code == 200
    header, *rows = _rows(response.text)
    assert header[2:4] == ["part", "name"]
    expected = bom_of(demo.parts, demo.configuration(trim, market)).cost
    assert sum(float(r[8]) for r in rows) == pytest.approx(expected)


def test_bom_summary_csv_lists_the_markets_trims(client: TestClient) -> None:
    header, *rows = _rows(client.get("/bom.csv?market=CN").text)
    assert header[:3] == ["market", "trim", "name"] and rows and {r[0] for r in rows} == {"CN"}


def test_a_bad_trim_is_a_4xx_page(client: TestClient) -> None:
    response = client.get("/bom.csv?trim=nope/nothing")
    assert 400 <= response.status_code < 500 and "text/html" in response.headers["content-type"]


def test_formula_like_text_is_neutralised() -> None:
    rows = _rows(csv_text(["name", "value"], [["=HYPERLINK(\"x\")", "-12.5"], ["@SUM(A1)", None]]))
    assert rows[1] == ["'=HYPERLINK(\"x\")", "-12.5"] and rows[2] == ["'@SUM(A1)", ""]


def test_the_pages_link_their_csv(client: TestClient) -> None:
    assert 'href="/platform/trims.csv"' in client.get("/platform").text
    assert 'href="/bom.csv?market=' in client.get("/bom").text
