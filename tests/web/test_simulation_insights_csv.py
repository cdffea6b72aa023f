"""CSV twins of the simulation, hub and insights tables, rendered in process (no browser)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from evplatform.api import create_app
from evplatform.insights import business_report
from evplatform.insights.scenarios import DEFAULT_DRAWS, DEFAULT_SEED
from evplatform.vehicle.hub.services import build_hub
from evplatform.vehicle.scenarios import fault_report
from evplatform.vehicle.simulate import trim_params
from evplatform.workspace import load_workspace

#: path → (file name, first header cells)
EXPORTS = {
    "/simulation.csv?cycle=wltc&market=EU": ("simulation-EU-wltc.csv", ["vehicle", "cycle", "market",
                                                                        "battery kWh/100 km", "plug kWh/100 km"]),
    "/simulation/consumption.csv?cycle=cltc": ("consumption-CN-cltc.csv", ["vehicle", "cycle", "market",
                                                                           "battery kWh/100 km"]),
    "/simulation/targets.csv": ("targets-CN.csv", ["trim", "target", "unit", "target value", "simulated"]),
    "/hub/faults.csv": ("hub-faults.csv", ["vehicle", "fault", "mode", "detected s", "reaction s", "limit s"]),
    "/hub/aeb.csv": ("hub-aeb.csv", ["vehicle", "AEB", "lidar", "brake by wire", "impact km/h at 10 km/h"]),
    "/hub/alks.csv": ("hub-alks.csv", ["vehicle", "market", "ALKS fitted", "ALKS limit km/h"]),
    "/hub/signals.csv": ("hub-signals.csv", ["VSS path", "kind", "datatype", "unit"]),
    "/insights/peers.csv": ("peers.csv", ["company", "measure", "metric reported", "definition", "period"]),
    "/insights/risks.csv": ("risks.csv", ["id", "title", "likelihood", "impact", "score", "rating"]),
    "/insights/npv.csv?draws=200&seed=1": ("npv-200-draws-seed-1.csv", ["scenario", "title", "draws", "seed"]),
}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    database = tmp_path_factory.mktemp("csv") / "empty.db"
    with TestClient(create_app(None, f"sqlite:///{database}")) as test_client:
        yield test_client


def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


@pytest.mark.parametrize("path", list(EXPORTS))
def test_every_table_downloads_as_csv(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200, response.text[:300]
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    name, header = EXPORTS[path]
    assert response.headers["content-disposition"] == f'attachment; filename="{name}"'
    rows = _rows(response.text)
    assert rows[0][:len(header)] == header and len(rows) > 1


def test_csv_holds_the_domains_numbers(client: TestClient) -> None:
    faults = _rows(client.get("/hub/faults.csv").text)
    assert len(faults) - 1 == len(fault_report(load_workspace(None)))
    peers = _rows(client.get("/insights/peers.csv").text)
    tesla = next(r for r in peers if r[0] == "Tesla" and r[1] == "gross margin")
    assert tesla[2] == "gross_margin_total_gaap" and "not an automotive segment margin" in tesla[3]
    assert float(tesla[6]) == next(p for p in business_report(None)["peers"]
                                   if p["entity"] == "Tesla")["gross_margin"]["value"]
    npv = _rows(client.get("/insights/npv.csv?draws=200&seed=1").text)
    assert {(r[2], r[3]) for r in npv[1:]} == {("200", "1")}


def test_the_api_signals_follow_each_trims_services(client: TestClient) -> None:
    ws = load_workspace(None)
    rows = _rows(client.get("/hub/signals.csv").text)
    header, body = rows[0], {r[0]: r for r in rows[1:]}
    for trim in ws.trims():
        served = build_hub(ws.configuration(trim), trim_params(ws, trim), ws.roles).served_signals()
        column = header.index(trim.key)
        assert {path for path, r in body.items() if r[column] == "yes"} == set(served), trim.key
    assert body["Vehicle.MotionManagement.Brake.VehicleForceMaximum"][4] == "no"  # never an app's
    assert body["Vehicle.Cabin.HVAC.Station.Row1.Driver.Temperature"][4] == "yes"
    assert 'id="api-signals"' in client.get("/hub").text


def test_the_page_defaults_are_the_clis(client: TestClient) -> None:
    text = client.get("/insights").text
    assert f'<b id="mc-draws">{DEFAULT_DRAWS:,}</b>' in text and f'<b id="mc-seed">{DEFAULT_SEED}</b>' in text


@pytest.mark.parametrize("path", ["/simulation?cycle=nope", "/simulation.csv?cycle=nope", "/insights?draws=10000000",
                                  "/insights/npv.csv?seed=-1", "/simulation?market=" + "x" * 500])
def test_bad_parameters_are_explained_not_500(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert 400 <= response.status_code < 500
    assert response.headers["content-type"].startswith("text/html")


def test_a_trim_not_sold_in_the_market_falls_back_with_a_note(client: TestClient) -> None:
    text = client.get("/simulation?market=EU&trim=su7-ultra/ultra").text
    assert 'id="trace-note"' in text and "su7-ultra/ultra is not sold in EU" in text
    assert 'id="sim-traces" data-trim="su7/standard"' in text
