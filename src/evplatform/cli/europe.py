"""`evplatform europe`: landed cost, customer price and incentives of every trim per EU country."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from evplatform.cli.common import JsonOpt, WorkspaceArg, console, money, print_json
from evplatform.europe import (
    DEFAULT_LOGISTICS_EUR,
    DEFAULT_MARGIN,
    EuropeInputError,
    Origin,
    Scenario,
    europe_report,
    exchange_rate,
    load_eu_data,
    parse_duty,
)
from evplatform.workspace import load_workspace


def europe(
    workspace: WorkspaceArg = None,
    country: Annotated[str | None, typer.Option("--country", help="One country of the data (default: all).")] = None,
    duty: Annotated[str, typer.Option(
        "--duty", help="Countervailing-duty scenario: 35.3, 20.7 or undertaking:EUR (minimum import price).")] = "35.3",
    eur_per_cny: Annotated[float | None, typer.Option(
        "--eur-per-cny", help="Exchange rate, EUR per CNY (required when the workspace is in CNY).")] = None,
    rate_date: Annotated[str | None, typer.Option(
        "--rate-date", help="Date of the exchange rate (YYYY-MM-DD).")] = None,
    logistics: Annotated[float, typer.Option(
        "--logistics", min=0, max=100_000, help="ESTIMATE: shipping, insurance, port per car (EUR).")
    ] = DEFAULT_LOGISTICS_EUR,
    margin: Annotated[float, typer.Option(
        "--margin", min=0, max=5, help="ESTIMATE: importer and dealer margin on the landed cost (0.15 = 15 %).")
    ] = DEFAULT_MARGIN,
    assembly: Annotated[str, typer.Option("--assembly", help="Country of final assembly.")] = "CN",
    battery: Annotated[str, typer.Option("--battery", help="Country where the battery pack is assembled.")] = "CN",
    eco_score: Annotated[float | None, typer.Option(
        "--eco-score", min=0, max=100, help="France's environmental score, when known.")] = None,
    on: Annotated[str | None, typer.Option("--date", help="Date incentives are evaluated on (default: today).")] = None,
    data: Annotated[Path | None, typer.Option(
        "--data", help="Folder of EU input files (default: the packaged demo copy).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Landed cost per trim and EU country under a duty scenario, customer price after VAT,
    registration tax and incentives, each incentive's eligibility with its reasons."""
    ws = load_workspace(workspace)
    eu = load_eu_data(data)
    try:
        day = date.fromisoformat(on) if on else date.today()
    except ValueError:
        raise EuropeInputError(f"--date {on!r} is not a date (YYYY-MM-DD)") from None
    scenario = Scenario(parse_duty(duty, eu), exchange_rate(ws.platform.currency, eur_per_cny, rate_date),
                        logistics, margin, Origin(assembly.upper(), battery.upper(), eco_score), day, country)
    report = europe_report(ws, eu, scenario)
    if as_json:
        print_json(report)
        return
    table = Table(title=f"Europe: {report['duty_scenario']['label']}, EUR (low-confidence inputs marked *)",
                  title_justify="left")
    for column in ("trim", "country", "landed cost", "gross price", "incentive", "after incentives", "eligible",
                   "WLTP range (simulated)"):
        table.add_column(column, justify="left" if column in ("trim", "country") else "right")
    why: dict[tuple[str, str, str], None] = {}
    for row in report["rows"]:
        landed = row["landed"]
        customer = row["customer"]
        for e in row["incentives"]:
            for reason in e["reasons"]:
                why[(f"{row['trim']} {row['country']}", e["scheme"], reason["message"])] = None
        eligible = f"{sum(e['eligible'] for e in row['incentives'])}/{len(row['incentives'])}"
        star = "*" if row["low_confidence"] else ""
        table.add_row(row["trim"], row["country"], money(landed["landed_cost_eur"]) + star,
                      money(customer["gross_price_eur"]), money(customer["incentive_eur"]),
                      money(customer["price_after_incentives_eur"]), eligible,
                      f"{row['wltp_range_km_simulated']:.0f} km")
    console.print(table)
    for (where, scheme, message) in why:
        console.print(f"[yellow]not eligible[/] {where} — {scheme}: {message}", highlight=False)
    if report["rows"]:
        console.print("[dim]* low confidence: " + ", ".join(sorted({n for r in report["rows"]
                                                                     for n in r["low_confidence"]})) + "[/]")


def register(app: typer.Typer) -> None:
    app.command("europe")(europe)
