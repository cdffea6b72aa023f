"""Issue 15 item 6 (everywhere) in Chromium: error pages, favicon, the phone width (390 px) and a
desktop (1,440 px), keyboard access and an axe-core accessibility check on every page.

axe-core (MPL-2.0, a test-only asset, never shipped in the package nor served by the app) is fetched
at a pinned version into ``.cache/`` by ``scripts/ensure-services.sh`` (``make test`` runs it); the
accessibility test skips with a reason when it is absent.
It is injected into a browser context that bypasses the page's Content-Security-Policy (the app
only allows its own scripts), so the pages under test are the pages users get.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from web.conftest import SCREENSHOTS, Server

pytestmark = pytest.mark.browser

AXE = Path(__file__).parents[2] / ".cache" / "axe-core-4.14.1" / "axe.min.js"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1440, "height": 900}
#: axe impacts that fail the test (minor and moderate findings are printed, not fatal).
FATAL = ("serious", "critical")


def pages(server: Server) -> list[tuple[str, str]]:
    """(screenshot name, path) of every dashboard page, detail pages and the 404 page included."""
    trim = server.api("/api/models")["models"][0]["trims"][0]["key"]
    vin = server.api("/api/fleet/vehicles?limit=1")["vehicles"][0]["vin"]
    return [("home", "/"), ("platform", "/platform"), ("bom", f"/bom?trim={trim}"), ("compliance", "/compliance"),
            ("simulation", "/simulation"), ("hub", "/hub"), ("apps", "/apps"), ("campaigns", "/campaigns"),
            ("campaign", f"/campaigns/{server.running_campaign}"), ("releases", "/releases"), ("fleet", "/fleet"),
            ("vehicle", f"/fleet/{vin}"), ("release", "/releases/hub-os-1.8.0"), ("insights", "/insights"),
            ("signin", "/signin"), ("docs", "/docs"),
            ("features", "/features"), ("admin", "/admin"), ("audit", "/audit"),
            ("compliance-market", "/compliance/markets/EU"),
            ("compliance-regulation", "/compliance/regulations/UN-R155"),
            ("configurator", "/configurator"), ("evolution", "/evolution"),
            ("campaign_new", "/campaigns/new?markets=EU"),
            ("not-found", "/no-such-page")]


@pytest.fixture
def checked(browser: Any, server: Server) -> Iterator[Any]:
    """A page in a context that may inject axe-core despite the app's script policy, signed in as an
    admin (the admin and audit pages show their tools and tables only then)."""
    context = browser.new_context(viewport=PHONE, bypass_csp=True)
    context.add_init_script(f"window.localStorage.setItem('evplatform-token', {json.dumps(server.tokens['admin'])})")
    context.set_default_timeout(90_000)
    context.set_default_navigation_timeout(120_000)
    yield context.new_page()
    context.close()


def _open(page: Any, url: str) -> None:
    page.goto(url)
    page.wait_for_load_state("load")
    # pages that ask the API who is signed in (admin, audit) are checked once they have drawn the answer
    page.wait_for_function("() => !document.querySelector('[data-state=checking]')")


def _sideways(page: Any) -> int:
    """How far the page itself scrolls sideways beyond the viewport (0: not at all)."""
    return int(page.evaluate("document.scrollingElement.scrollWidth - window.innerWidth"))


def _too_wide(page: Any) -> list[str]:
    """The outermost elements that end right of the viewport (what to fix when the page scrolls sideways)."""
    return list(page.evaluate("""() => [...document.querySelectorAll('body *')].filter(e => {
        const r = e.getBoundingClientRect();
        return r.right > window.innerWidth + 1 && !e.closest('.table-scroll') &&
               !(e.parentElement && e.parentElement.getBoundingClientRect().right > window.innerWidth + 1);
    }).slice(0, 5).map(e => e.tagName + (e.id ? '#' + e.id : '') + '.' + e.className + ' ' +
                        Math.round(e.getBoundingClientRect().right))"""))


def _axe_violations(page: Any) -> list[dict[str, Any]]:
    page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
    result = page.evaluate("""async () => {
        const r = await axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "best-practice"] },
                                            rules: { "color-contrast": { enabled: false } } });
        return r.violations.map(v => ({ id: v.id, impact: v.impact, help: v.help,
                                        nodes: v.nodes.slice(0, 3).map(n => n.target.join(" ")) }));
    }""")
    return list(result)


def test_error_pages_in_the_browser(page: Any, server: Server) -> None:
    """Issue 15 item 6: a web 404 is a page with the navigation; /api keeps its JSON error shape."""
    response = page.goto(server.url + "/no-such-page")
    assert response.status == 404 and response.headers["content-type"].startswith("text/html")
    assert page.locator("h1").inner_text() == "Page not found"
    assert page.locator("nav a").count() >= 8
    api = httpx.get(server.url + "/api/no-such", timeout=30)
    assert api.status_code == 404 and api.json()["error"]["type"] == "NotFound"


def test_favicon_is_served(server: Server) -> None:
    """Issue 15 item 6: browsers ask /favicon.ico; it answers the SVG icon instead of a 404."""
    response = httpx.get(server.url + "/favicon.ico", timeout=30)
    assert response.status_code == 200 and response.headers["content-type"].startswith("image/svg+xml")


def test_every_page_at_phone_and_desktop_width(checked: Any, server: Server) -> None:
    """Issue 15 item 6: at 390 px no page scrolls sideways (wide tables scroll in their own box), no
    serious axe-core violation; screenshots at 390 px and 1,440 px."""
    problems: dict[str, Any] = {}
    for name, path in pages(server):
        checked.set_viewport_size(PHONE)
        _open(checked, server.url + path)
        sideways = _sideways(checked)
        if sideways > 0:
            problems[f"{name}: scrolls sideways by px"] = [sideways, _too_wide(checked)]
        boxes = checked.evaluate("""() => [...document.querySelectorAll('main table')].filter(
            t => !t.parentElement.classList.contains('table-scroll')).length""")
        if boxes:
            problems[f"{name}: tables outside a scroll box"] = boxes
        checked.screenshot(path=str(SCREENSHOTS / f"{name}-390.png"), full_page=True)
        fatal = [v for v in _axe_violations(checked) if v["impact"] in FATAL] if AXE.exists() else []
        if fatal:
            problems[f"{name}: axe"] = fatal
        checked.set_viewport_size(DESKTOP)
        _open(checked, server.url + path)
        if _sideways(checked) > 0:
            problems[f"{name}: scrolls sideways at 1440 px"] = _sideways(checked)
        checked.screenshot(path=str(SCREENSHOTS / f"{name}-1440.png"), full_page=True)
    assert not problems, json.dumps(problems, indent=1)
    if not AXE.exists():
        if os.environ.get("EVPLATFORM_REQUIRE_SERVICES") == "1":
            pytest.fail(f"axe-core missing at {AXE} (scripts/ensure-services.sh fetches it)")
        pytest.skip(f"layout checked; accessibility not checked: axe-core missing at {AXE} "
                    "(scripts/ensure-services.sh fetches it)")


def test_keyboard_reaches_the_skip_link_and_every_nav_link(page: Any, server: Server) -> None:
    """Issue 15 item 6: Tab from the top reaches the skip link first, then each navigation link."""
    page.set_viewport_size(PHONE)
    _open(page, server.url + "/fleet")
    focused: list[str] = []
    labels = page.locator("nav a").all_inner_texts()
    for _ in range(len(labels) + 2):  # the skip link, the brand, then each navigation link
        page.keyboard.press("Tab")
        focused.append(page.evaluate("document.activeElement.textContent.trim()"))
    assert focused[0] == "Skip to content"
    assert set(labels) <= set(focused), focused
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Home")
    _open(page, server.url + "/fleet")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


def test_times_show_in_the_viewers_zone(browser: Any, server: Server) -> None:
    """Issue 15 item 6: a <time> from the server (UTC, no microseconds) shows in the viewer's zone."""
    context = browser.new_context(timezone_id="Asia/Tokyo", locale="en-GB")
    try:
        page = context.new_page()
        page.set_default_timeout(90_000)
        _open(page, f"{server.url}/campaigns/{server.running_campaign}")
        time = page.locator("time").first
        stamp = str(time.get_attribute("datetime"))
        assert stamp.endswith("Z") and "." not in stamp
        shown = time.inner_text()
        assert "UTC" not in shown and "." not in shown.split(",")[-1], shown
        assert "GMT+9" in shown or "JST" in shown, shown
    finally:
        context.close()
