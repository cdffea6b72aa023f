"""The compliance workbench's routes without a browser: bad controls answer a 4xx page, never a 500."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from evplatform.api import create_app


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    folder: Path = tmp_path_factory.mktemp("compliance-web")
    with TestClient(create_app(None, f"sqlite:///{folder / 'web.db'}")) as test_client:
        yield test_client


@pytest.mark.parametrize(("query", "status", "message"), [
    ("mode=sideways", 400, "mode must be one of both, new_types, all"),
    ("market=XX", 400, "unknown market"),
    ("on=9999-01-01", 400, "date must be between 1950 and 2200"),
    ("on=2026-02-30", 400, "date must be YYYY-MM-DD"),
    ("market=" + "Y" * 40, 400, "at most 64 markets of at most 32 characters"),
])
@pytest.mark.parametrize("path", ["/compliance", "/compliance/matrix.csv", "/compliance/roadmap.csv"])
def test_bad_controls_are_explained(client: TestClient, path: str, query: str, status: int, message: str) -> None:
    response = client.get(f"{path}?{query}")
    assert response.status_code == status and message in response.text


def test_unknown_regulation_and_market_are_404_pages(client: TestClient) -> None:
    for path, message in (("/compliance/regulations/NOPE", "no regulation NOPE"),
                          ("/compliance/markets/XX", "no market XX")):
        response = client.get(path)
        assert response.status_code == 404 and message in response.text and 'id="page-error"' in response.text


def test_the_page_defaults_to_both_modes_and_every_market(client: TestClient) -> None:
    text = client.get("/compliance?on=2027-03-01").text
    for market in ("CN", "EU", "DE", "FR", "ES", "IT"):
        assert f'data-market="{market}"' in text
    assert 'data-mode="new_types"' in text and 'data-mode="all"' in text
    assert "/compliance/matrix.csv?on=2027-03-01&amp;mode=both" in text


def test_csv_cells_are_never_formulas() -> None:
    from evplatform.web.compliance_pages import _cell

    assert _cell("=HYPERLINK(\"x\")") == "'=HYPERLINK(\"x\")" and _cell("@SUM(A1)") == "'@SUM(A1)"
    assert _cell("-42.50") == "-42.50" and _cell("EU-GSR2-ADDW") == "EU-GSR2-ADDW" and _cell("") == ""
