"""Issue 15 item 3: the feature-model explorer ``/features`` on the demo and on a second platform.

The expectations come from the workspace and from the configurator's analysis (the engine), never
from numbers written here; the browser test checks the search box filters the tree.
"""

from __future__ import annotations

import copy
import csv
import dataclasses
import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from evplatform.api import create_app
from evplatform.service.configurator import workspace_analysis
from evplatform.service.feature_explorer import explorer_view, group_label
from evplatform.variability.model import Constraint, Group, GroupKind, Not, Var
from evplatform.workspace import Workspace, demo_path, load_workspace
from web.conftest import SCREENSHOTS, Server

LUMEN = Path(__file__).parents[1] / "any_platform" / "lumen"
PLATFORMS = {"demo": None, "lumen": LUMEN}


@pytest.fixture(scope="module", params=list(PLATFORMS))
def site(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
         ) -> Iterator[tuple[TestClient, Workspace]]:
    root: Path | None = PLATFORMS[request.param]
    database = tmp_path_factory.mktemp("features") / "empty.db"
    ws = load_workspace(root or demo_path())
    with TestClient(create_app(root, f"sqlite:///{database}")) as client:
        yield client, ws


def _page(client: TestClient) -> str:
    response = client.get("/features")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    return response.text


def test_tree_has_every_feature_with_its_line(site: tuple[TestClient, Workspace]) -> None:
    client, ws = site
    html = _page(client)
    ids = re.findall(r'<li class="feature[^"]*" id="f-([^"]+)"', html)
    assert sorted(ids) == sorted(ws.feature_model.features)
    for name, feature in ws.feature_model.features.items():
        if feature.line:
            assert f'href="/features/source#L{feature.line}">features.uvl:{feature.line}<' in html, name
    assert 'href="/features"' in html  # in the navigation


def test_group_kinds_are_phrased_for_featureide_users(site: tuple[TestClient, Workspace]) -> None:
    client, ws = site
    shown = re.findall(r'class="gkind">([^<]*)<', _page(client))
    features = ws.feature_model.features

    def in_page_order(name: str) -> list[str]:
        return [label for g in features[name].groups
                for label in [group_label(g), *(x for child in g.children for x in in_page_order(child))]]

    assert shown == in_page_order(ws.feature_model.root)
    assert not any(re.search(r"(mandatory|optional|alternative|or).*\[\d", label) for label in shown)


def test_group_labels_of_cardinalities() -> None:
    """A cardinality that is a named kind gets its name; only the others show [lo..hi]."""
    children = ["A", "B", "C"]
    assert group_label(Group(GroupKind.CARDINALITY, children, 3, 3)) == "mandatory"
    assert group_label(Group(GroupKind.CARDINALITY, children, 1, 1)) == "alternative (exactly one)"
    assert group_label(Group(GroupKind.CARDINALITY, children, 1, None)) == "or (at least one)"
    assert group_label(Group(GroupKind.CARDINALITY, children, 0, 3)) == "optional"
    assert group_label(Group(GroupKind.CARDINALITY, children, 2, 3)) == "[2..3]"
    assert group_label(Group(GroupKind.ALTERNATIVE, children)) == "alternative (exactly one)"


def test_core_dead_and_false_optional_come_from_the_analysis(site: tuple[TestClient, Workspace]) -> None:
    client, ws = site
    html = _page(client)
    found = workspace_analysis(ws)
    for status, names in (("core", found["core"]), ("dead", found["dead"]),
                          ("false-optional", found["false_optional"])):
        marked = re.findall(rf'<li class="feature fm-{status}" id="f-([^"]+)"', html)
        assert sorted(marked) == sorted(names), status
    assert found["core"] or found["dead"] or found["false_optional"]
    for explanation in found["explanations"]["dead"]:
        assert explanation["subject"] in html
        for reason in explanation["reasons"]:
            if reason["where"]:
                assert reason["where"] in html


def test_constraints_are_cross_linked(site: tuple[TestClient, Workspace]) -> None:
    client, ws = site
    html = _page(client)
    for i, constraint in enumerate(ws.feature_model.constraints, 1):
        item = re.search(rf'<li id="c{i}">(.*?)</li>', html, re.S)
        assert item is not None
        for name in constraint.expr.variables():
            assert f'href="#f-{name}"' in item.group(1)
            assert f'class="cref" href="#c{i}"' in html


def test_attributes_have_units_and_thousands_separators(site: tuple[TestClient, Workspace]) -> None:
    client, ws = site
    html = _page(client)
    currency = ws.platform.currency
    costs = [(n, f.attributes["cost"]) for n, f in ws.feature_model.features.items()
             if isinstance(f.attributes.get("cost"), int) and int(f.attributes["cost"]) >= 1000]
    for name, cost in costs:
        assert f"cost <b>{int(cost):,} {currency}</b>" in html, name
    masses = [f.attributes["mass_kg"] for f in ws.feature_model.features.values() if "mass_kg" in f.attributes]
    assert masses and " kg</b>" in html


def test_matrix_rows_are_the_trims_and_the_csv_parses(site: tuple[TestClient, Workspace]) -> None:
    client, ws = site
    response = client.get("/features.csv")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.text)))
    header, body = rows[0], rows[1:]
    concrete = [n for n, f in ws.feature_model.features.items() if not f.abstract]
    assert header == ["trim", "markets", *concrete]
    assert {r[0] for r in body} == {t.key for t in ws.trims()}
    for row in body:
        trim = ws.trim(row[0])
        for market in row[1].split(";"):
            config = ws.configuration(trim, market)
            assert [int(c in config) for c in concrete] == [int(v) for v in row[2:]]
    html = _page(client)
    shown = re.findall(r'<tr><th scope="row">([^<]+)</th>', html)
    assert shown == [r[0] for r in body]


def test_source_view_has_one_anchor_per_line(site: tuple[TestClient, Workspace]) -> None:
    client, ws = site
    response = client.get("/features/source")
    assert response.status_code == 200
    source = ws.feature_model.source
    assert source is not None
    lines = Path(source).read_text(encoding="utf-8").splitlines()
    assert response.text.count('<tr id="L') == len(lines)


@pytest.mark.browser
def test_search_filters_the_tree(page: Any, server: Server) -> None:
    """Typing an attribute value or a name hides the features that do not match (and keeps their
    ancestors); clearing the box shows every feature again. Screenshot: out/screenshots/features.png."""
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(server.url + "/features")
    total = page.locator("#feature-tree li.feature").count()
    box = page.get_by_label("Search features by name or attribute value")
    box.focus()
    box.fill("nmc")
    page.wait_for_function("() => document.getElementById('feature-search-status').textContent !== ''")
    visible = page.locator("#feature-tree li.feature:visible")
    matched = page.locator("#feature-tree li.fm-match")
    assert 0 < matched.count() < visible.count() < total
    for text in matched.evaluate_all("items => items.map(li => li.dataset.search)"):
        assert "nmc" in text
    sideways = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "features.png"), full_page=False)
    box.fill("")
    page.wait_for_function("() => document.getElementById('feature-search-status').textContent === ''")
    assert page.locator("#feature-tree li.feature:visible").count() == total
    assert sideways <= 0


@pytest.mark.browser
def test_explorer_has_no_serious_accessibility_violation(browser: Any, server: Server) -> None:
    """The explorer passes axe-core (serious and critical findings fail) at 390 px; skips without axe."""
    axe = Path(__file__).parents[2] / ".cache" / "axe-core-4.14.1" / "axe.min.js"
    if not axe.exists():
        pytest.skip("axe-core is fetched by scripts/ensure-services.sh")
    context = browser.new_context(viewport={"width": 390, "height": 844}, bypass_csp=True)
    try:
        page = context.new_page()
        page.goto(server.url + "/features")
        page.add_script_tag(content=axe.read_text(encoding="utf-8"))
        found = page.evaluate("""async () => (await axe.run(document, { runOnly: { type: "tag",
            values: ["wcag2a", "wcag2aa", "best-practice"] }, rules: { "color-contrast": { enabled: false } } }))
            .violations.filter(v => v.impact === "serious" || v.impact === "critical")
            .map(v => v.id + ": " + v.nodes.slice(0, 3).map(n => n.target.join(" ")).join(", "))""")
        assert found == []
    finally:
        context.close()


def test_a_dead_feature_is_marked_with_the_engines_explanation() -> None:
    """Neither platform has a dead feature, so one is made: a constraint ``!X`` on a feature not core
    (the page reads the workspace's precomputed configurations, which are not checked again here)."""
    ws = load_workspace(LUMEN)
    core = set(workspace_analysis(ws)["core"])
    unused = next(n for n, f in ws.feature_model.features.items() if not f.abstract and n not in core)
    model = copy.deepcopy(ws.feature_model)
    source = model.source
    assert source is not None
    model.constraints.append(Constraint(Not(Var(unused)), line=len(Path(source).read_text().splitlines())))
    view = explorer_view(dataclasses.replace(ws, feature_model=model))
    assert unused in view["dead"]

    def find(node: dict[str, Any]) -> dict[str, Any] | None:
        if node["name"] == unused:
            return node
        return next((hit for g in node["groups"] for c in g["children"] if (hit := find(c))), None)

    node = find(view["tree"])
    assert node is not None and node["status"] == "dead"
    assert node["explanation"]["feature"] == unused and node["explanation"]["reasons"]
    assert any(r["where"] for r in node["explanation"]["reasons"])
