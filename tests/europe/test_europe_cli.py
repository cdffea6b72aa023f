"""`evplatform europe`: the JSON holds every trim × country with the formula's figures; bad input exits 1
naming what is missing."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from evplatform.cli.main import app
from evplatform.errors import EvplatformError
from evplatform.platform import trim_costs
from evplatform.workspace import load_workspace

runner = CliRunner()
RATE = ["--eur-per-cny", "0.125", "--rate-date", "2026-12-01", "--date", "2027-01-01"]


def test_json_rows_follow_the_landed_cost_formula() -> None:
    done = runner.invoke(app, ["europe", "--json", *RATE])
    assert done.exit_code == 0, done.output
    data = json.loads(done.stdout)
    costs = {c.trim.key: c.unit_cost for c in trim_costs(load_workspace(None))}
    assert len(data["rows"]) == len(costs) * len(data["countries"]) and "DE" in data["countries"]
    for row in data["rows"]:
        cif = costs[row["trim"]] * 0.125 + 1500
        assert row["landed"]["landed_cost_eur"] == pytest.approx(cif * 1.453, abs=0.01)  # 10 % + 35.3 %
        assert "countervailing_duty" in row["low_confidence"]  # Xiaomi's rate is an inference in the data
        for figure in ("net_price", "vat", "registration_tax"):
            assert row["customer"][figure]["source"] and row["customer"][figure]["confidence"]
    assert data["exchange_rate"] == {"eur_per_unit": 0.125, "currency": "CNY", "date": "2026-12-01"}


def test_one_country_and_the_undertaking_scenario() -> None:
    done = runner.invoke(app, ["europe", "--json", "--country", "fr", "--duty", "undertaking:60000", *RATE])
    assert done.exit_code == 0, done.output
    data = json.loads(done.stdout)
    assert data["countries"] == ["FR"] and data["duty_scenario"]["min_import_price_eur"] == 60000
    for row in data["rows"]:
        landed = row["landed"]
        assert landed["countervailing_duty"]["value"] == 0
        assert landed["customs_value_eur"] == pytest.approx(max(landed["cif_eur"], 60000), abs=0.01)


def test_the_table_lists_reasons_when_not_eligible() -> None:
    done = runner.invoke(app, ["europe", "--country", "FR", *RATE], terminal_width=200)
    assert done.exit_code == 0, done.output
    assert "not eligible" in done.stdout and "environmental score unknown" in done.stdout


@pytest.mark.parametrize(("args", "needle"), [
    (["--country", "XX", *RATE], "countries.csv"),
    (["--date", "2027-01-01"], "--eur-per-cny"),
    (["--eur-per-cny", "0.125", "--date", "2027-01-01"], "--rate-date"),
    (["--duty", "12", *RATE], "duties.csv"),
])
def test_bad_input_exits_1_naming_the_file_or_field(args: list[str], needle: str) -> None:
    done = runner.invoke(app, ["europe", *args])
    assert done.exit_code == 1 and isinstance(done.exception, EvplatformError)
    assert needle in str(done.exception)
