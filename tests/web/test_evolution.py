"""The Evolution page: trends and history of a workspace under git, the diff form, CSV; and a
workspace outside git, which gets a sentence and nothing to pick."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from evolution_support import commit_all, copy_demo, edited_demo, git, init_repo
from evplatform.api import create_app
from web.conftest import SCREENSHOTS, serving


@pytest.fixture(scope="module")
def evolution_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, list[str]]]:
    """``evplatform serve`` of a workspace with two versions in git (the work tree at the first)."""
    folder = tmp_path_factory.mktemp("evo-web")
    root = init_repo(folder / "repo")
    ws = copy_demo(root / "ws")
    base = commit_all(root, "demo platform")
    edited_demo(ws)
    changed = commit_all(root, "price, DashCam, telematics rule, no ISA in the EU")
    git(root, "checkout", "-q", base, "--", "ws")
    with serving(folder, str(ws), "--database", f"sqlite:///{folder / 'evo.db'}") as url:
        yield url, [base, changed]


@pytest.mark.browser
def test_evolution_page_trends_history_diff_and_csv(page: Any, evolution_server: tuple[str, list[str]]) -> None:
    url, (base, changed) = evolution_server
    page.goto(url + "/evolution")
    rows = page.locator("#evo-history tbody tr")
    assert rows.count() == 2
    assert rows.nth(0).get_attribute("data-revision") == base
    assert page.locator("#evo-charts svg").count() == 4
    page.select_option("#evo-before", base)
    page.select_option("#evo-after", changed)
    page.get_by_role("button", name="Compare").click()
    page.wait_for_selector("#evo-diff")
    assert "su7/standard@CN" in page.locator("#evo-invalid").inner_text()
    standard = page.locator('#evo-trims tr[data-trim="su7/standard"][data-market="CN"]')
    assert "yes → no" in standard.inner_text() and "Telematics5G" in standard.inner_text()
    pro_eu = page.locator('#evo-trims tr[data-trim="su7/pro"][data-market="EU"]').inner_text()
    assert "EU-GSR2-ISA" in pro_eu and "MD-SOF-0030" in pro_eu and "+1,000" not in pro_eu
    assert "DashCam" in page.locator("#evo-fm").inner_text()
    assert "su7 in EU, new types, " in page.locator("#evo-roadmap").inner_text()  # ISA gone: events move
    assert "+EU-GSR2-ISA" in page.locator("#evo-roadmap").inner_text()
    assert page.locator("#evo-npv").count() == 1
    page.screenshot(path=str(SCREENSHOTS / "evolution.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})  # a phone: tables scroll in their box, not the page
    assert page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth") <= 0
    csv = httpx.get(url + "/evolution/history.csv", timeout=60)
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    lines = csv.text.strip().splitlines()
    assert lines[0].startswith("revision,date,subject,features") and len(lines) == 3 and lines[1].startswith(base)
    assert httpx.get(url + "/evolution?before=0123456789", timeout=60).status_code == 404  # not a listed commit


def test_a_workspace_outside_git_says_so_and_offers_nothing(tmp_path: Path) -> None:
    ws = copy_demo(tmp_path / "loose")
    client = TestClient(create_app(workspace=ws, database_url=f"sqlite:///{tmp_path / 'x.db'}"))
    page = client.get("/evolution")
    assert page.status_code == 200
    assert 'id="evo-no-git"' in page.text and "not inside a git repository" in page.text
    assert "<select" not in page.text.split('<main id="main"', 1)[1]
    assert client.get("/evolution/history.csv").status_code == 404
