"""Issue 15 section 2: the configurator page in Debian's chromium against a real server.

One session from a trim in a market: select a feature, see a feature it forces with the rule and the
line of features.uvl, retract, complete at least cost, export the YAML — which the workspace reader
then loads as a valid trim. Screenshots: out/screenshots/configurator-export.png (and
configurator-390.png at phone width); configurator.png is test_configurator_figures.py's.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import yaml
from playwright.sync_api import expect

from evplatform.workspace import load_workspace
from evplatform.workspace.loader import demo_path
from web.conftest import SCREENSHOTS, Server

TRIM, MARKET, PICK = "yu7/standard", "CN", "ALKS"
FORCED = "DSSAD"  # ALKS => LidarSuite & DSSAD & SteerRedundancy & BrakeRedundancy & EDR
AXE = Path(__file__).parents[2] / ".cache" / "axe-core-4.14.1" / "axe.min.js"  # as test_everywhere.py

#: How long an answer may take on the shared machine (expect() alone waits 5 s).
WAIT = 60_000


def _row(page: Any, name: str) -> Any:
    return page.locator(f'#cfg-features li[data-feature="{name}"]')


def _signed_in(page: Any, server: Server) -> None:
    page.goto(server.url + "/configurator")
    page.evaluate("t => window.localStorage.setItem('evplatform-token', t)", server.tokens["viewer"])
    page.goto(server.url + "/configurator")
    page.wait_for_load_state("load")


def test_configurator_session_in_the_browser(page: Any, server: Server, tmp_path: Path) -> None:
    """Issue 15 section 2: select, a forced feature with its reason, retract, completion, export YAML that loads."""
    _signed_in(page, server)
    page.select_option("#cfg-trim", TRIM)
    page.select_option("#cfg-market", MARKET)
    page.get_by_role("button", name="Start session").click()
    expect(page.locator("#cfg-status")).to_contain_text("Session started", timeout=WAIT)
    assert _row(page, FORCED).get_attribute("data-state") == "open"

    _row(page, PICK).locator(".cfg-name").click()
    page.wait_for_selector(f'#cfg-features li[data-feature="{FORCED}"][data-state="forced"]')
    print("click to updated list:", page.locator("#cfg-status").inner_text())  # "Selected ALKS (N ms)"
    assert _row(page, PICK).get_attribute("data-state") == "selected"
    _row(page, FORCED).locator(".cfg-name").click()  # forced: the side panel says why
    reason = page.locator("#cfg-reason")
    assert f"{PICK} =>" in reason.locator(".cfg-rule").inner_text()
    assert reason.locator(".cfg-where").inner_text().startswith("features.uvl:")
    assert PICK in reason.inner_text()  # the decision it follows from
    expect(page.locator("#cfg-bom")).not_to_have_text("—", timeout=WAIT)
    bom_with = page.locator("#cfg-bom").inner_text()

    _row(page, PICK).get_by_role("button", name=f"Retract the decision on {PICK}").click()
    page.wait_for_selector(f'#cfg-features li[data-feature="{FORCED}"][data-state="open"]')
    assert _row(page, PICK).get_attribute("data-state") == "open"
    expect(page.locator("#cfg-bom")).not_to_have_text(bom_with, timeout=WAIT)

    page.get_by_role("button", name="Cheapest valid completion").click()
    expect(page.locator("#cfg-status")).to_contain_text("Cheapest completion", timeout=WAIT)
    # The unit-propagation answer is drawn first ("so far"); the complete answer follows it.
    expect(page.locator("#cfg-counts")).to_contain_text(" 0 open · every feature decided", timeout=WAIT)

    page.fill("#cfg-model-id", "yu7-web")
    page.fill("#cfg-trim-id", "lean")
    page.get_by_role("button", name="Export YAML").click()
    expect(page.locator("#cfg-yaml")).to_contain_text("trims:", timeout=WAIT)
    text = page.locator("#cfg-yaml").inner_text()
    assert page.locator("#cfg-problems li").count() == 0
    page.screenshot(path=str(SCREENSHOTS / "configurator-export.png"), full_page=True)

    root = tmp_path / "ws"  # what an engineer does with the export: save it, list the model, load
    shutil.copytree(demo_path(), root)
    (root / "models" / "yu7-web.yaml").write_text(text, encoding="utf-8")
    platform = root / "platform.yaml"
    spec = platform.read_text(encoding="utf-8")
    platform.write_text(spec.replace("models: [su7, su7-ultra, yu7]", "models: [su7, su7-ultra, yu7, yu7-web]"),
                        encoding="utf-8")
    ws = load_workspace(root)
    trim = ws.trim("yu7-web/lean")
    assert PICK not in trim.selected and set(yaml.safe_load(text)["trims"]["lean"]["select"]) <= trim.selected
    assert trim.price == load_workspace(None).trim(TRIM).price


def test_configurator_at_phone_width_keeps_the_list_in_its_box(browser: Any, server: Server) -> None:
    """Issue 15 sections 2 and 6: at 390 px the page does not scroll sideways; the controls have labels;
    no serious axe-core finding on a live session (when axe-core is fetched)."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, bypass_csp=True)  # to inject axe-core
    context.set_default_timeout(90_000)
    try:
        page = context.new_page()
        _signed_in(page, server)
        page.get_by_role("button", name="Start session").click()
        expect(page.locator("#cfg-status")).to_contain_text("Session started", timeout=WAIT)
        assert page.evaluate("document.scrollingElement.scrollWidth - window.innerWidth") <= 0
        unlabeled = page.evaluate("""() => [...document.querySelectorAll('main button, main select, main input')]
            .filter(e => !(e.getAttribute('aria-label') || e.textContent.trim() || e.labels?.length)).length""")
        assert unlabeled == 0
        page.screenshot(path=str(SCREENSHOTS / "configurator-390.png"), full_page=True)
        if AXE.exists():  # a live session's list, reasons and buttons, checked as test_everywhere checks pages
            page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
            serious = page.evaluate("""async () => (await axe.run(document, { runOnly: { type: "tag",
                values: ["wcag2a", "wcag2aa", "best-practice"] }, rules: { "color-contrast": { enabled: false } } }))
                .violations.filter(v => v.impact === "serious" || v.impact === "critical")
                .map(v => v.id + ": " + v.nodes.slice(0, 3).map(n => n.target.join(" ")).join(", "))""")
            assert serious == []
    finally:
        context.close()
