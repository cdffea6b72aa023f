"""`evplatform fm configure … --closest MARKET --date D --json`: the closest configuration complying in a market."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from evplatform.cli.main import app
from evplatform.markets.configuration import configuration_verdict, in_market
from evplatform.markets.rules import parse_date
from evplatform.workspace import load_workspace

ARGS = ["fm", "configure", "--trim", "yu7/standard", "--market", "CN", "--deselect", "ADDW", "--closest", "EU",
        "--date", "2028-06-01"]


def test_closest_overturns_the_one_decision_the_eu_forbids_and_complies() -> None:
    ws = load_workspace(None)
    model = str(ws.root / "features.uvl")
    result = CliRunner().invoke(app, [*ARGS[:2], model, *ARGS[2:], "--json"])
    assert result.exit_code == 0, result.output
    closest = json.loads(result.stdout)["closest"]
    assert closest["status"] == "compliant" and closest["changes"] == 1 and closest["taken"] == ["ADDW"]
    found = frozenset(closest["selected"])
    assert ws.feature_model.configuration_errors(found) == []
    assert configuration_verdict(ws, in_market(ws, found, "EU"), "EU", parse_date("2028-06-01")).status == "compliant"
    text = CliRunner().invoke(app, [*ARGS[:2], model, *ARGS[2:]])
    assert text.exit_code == 0 and "1 decision(s) overturned (+ADDW)" in " ".join(text.output.split())
