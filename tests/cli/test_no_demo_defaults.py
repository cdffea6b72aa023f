"""No demo defaults outside the demo (issue 24 item 5): bom without --trim, business without a CSV,
compliance years from the workspace."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from evplatform.api import create_app
from evplatform.cli.main import app
from evplatform.markets.lookup import compliance_years
from evplatform.platform import bom_of
from evplatform.workspace import load_workspace
from evplatform.workspace.model import IN_FORCE
from tiny_workspace import write_tiny_workspace

runner = CliRunner()
DEMO_NAMES = ("su7", "yu7", "xiaomi", "modena", "hub-os")


def _tiny(tmp_path: Path) -> Path:
    return write_tiny_workspace(tmp_path / "tiny")


def test_bom_without_trim_summarises_every_trim(tmp_path: Path) -> None:
    root = _tiny(tmp_path)
    ws = load_workspace(root)
    done = runner.invoke(app, ["bom", str(root), "--json"])
    assert done.exit_code == 0, done.output
    data = json.loads(done.stdout)
    assert data["market"] == "HOME" and data["not_sold"] == []
    assert [t["trim"] for t in data["trims"]] == [t.key for t in ws.trims()]
    for row in data["trims"]:
        bom = bom_of(ws.parts, ws.configurations[(row["trim"], "HOME")])
        assert row["bom_cost"] == round(bom.cost, 2) and row["parts"] == len(bom.lines)
    text = runner.invoke(app, ["bom", str(root)])
    assert text.exit_code == 0 and "alpha/base" in text.stdout and "beta/base" in text.stdout
    assert not any(n in text.stdout.lower() for n in DEMO_NAMES)


def test_bom_without_trim_names_the_trims_a_market_does_not_sell() -> None:
    data = json.loads(runner.invoke(app, ["bom", "--market", "DE", "--json"]).stdout)
    assert "su7-ultra/ultra" in data["not_sold"]
    assert "su7-ultra/ultra" not in {t["trim"] for t in data["trims"]}


def test_business_of_a_workspace_without_csv_says_so(tmp_path: Path) -> None:
    root = _tiny(tmp_path)
    done = runner.invoke(app, ["insights", "business", str(root), "--json"])
    assert done.exit_code == 0, done.output
    data = json.loads(done.stdout)
    assert data["available"] is False and data["figures"] == 0 and data["entities"] == [] and data["plots"] == []
    assert "no business.csv" in data["message"]
    text = runner.invoke(app, ["insights", "business", str(root), "--out", str(tmp_path / "out")])
    assert text.exit_code == 0 and "no business.csv" in text.stdout
    assert "xiaomi" not in text.stdout.lower() and not (tmp_path / "out").exists()


def test_business_of_a_workspace_with_its_csv(tmp_path: Path) -> None:
    root = _tiny(tmp_path)
    (root / "business.csv").write_text("entity,period,metric,value,unit,basis,source\n"
                                       "Tinyco,2025Q1,deliveries,70,vehicles,reported,s\n")
    data = json.loads(runner.invoke(app, ["insights", "business", str(root), "--json", "--no-plots"]).stdout)
    assert data["available"] is True and data["entity"] == "Tinyco"


def test_web_pages_of_another_workspace(tmp_path: Path) -> None:
    root = _tiny(tmp_path)
    with TestClient(create_app(root, f"sqlite:///{tmp_path / 'web.db'}")) as client:
        insights = client.get("/insights")
        assert insights.status_code == 200 and "no business.csv" in insights.text
        assert "Xiaomi" not in insights.text
        compliance = client.get("/compliance")
        assert compliance.status_code == 200
        for year in compliance_years(load_workspace(root), date.today()):
            assert f">{year}<" in compliance.text


def test_compliance_years_come_from_the_workspace(tmp_path: Path) -> None:
    demo = load_workspace(None)
    launches = [m.launch_date.year for m in demo.markets.values() if m.launch_date]
    rules = [d.year for r in demo.regulations.values() for d in (r.applies_new_types, r.applies_all)
             if d and d != IN_FORCE]
    years = compliance_years(demo, date(2026, 6, 1))
    assert years == list(range(min(launches), max(launches + rules) + 2))
    root = _tiny(tmp_path)
    (root / "markets" / "HOME.yaml").write_text("name: Home\nhomologation_cycle: WLTC\nlaunch_date: 2031-05-01\n"
                                               "models: [alpha, beta]\nselect: []\n")
    assert compliance_years(load_workspace(root), date(2026, 6, 1)) == [2031, 2032]  # launch 2031, rule 2030
