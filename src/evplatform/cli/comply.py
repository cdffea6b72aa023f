"""`evplatform comply`: compliance verdicts per trim × market × date, and the compliance roadmap."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import typer
from rich.table import Table

from evplatform.cli.common import JsonOpt, WorkspaceArg, console, money, print_json
from evplatform.markets import MODES, compliance_matrix, compliance_report, parse_date, parse_mode, roadmap_report
from evplatform.markets.roadmap import at_risk_summary, group_markets
from evplatform.markets.rules import require_market
from evplatform.workspace import load_workspace

STATUS_STYLE = {"compliant": "[green]✓[/]", "non-compliant": "[red]✗[/]", "not-applicable": "[dim]–[/]"}
MODE_LABEL = {"new_types": "new type", "all": "registration"}


def comply(
    workspace: WorkspaceArg = None,
    market: Annotated[str | None, typer.Option("--market", help="One market (default: a matrix of all).")] = None,
    on: Annotated[str | None, typer.Option("--date", help="Date YYYY-MM-DD (default: today).")] = None,
    mode: Annotated[
        str | None,
        typer.Option("--mode", help="new-types (type approval on the date) or all (registration on the date); "
                                    "default: both for people, new-types for --json with --market."),
    ] = None,
    roadmap: Annotated[bool, typer.Option("--roadmap", help="When each model stops complying, and the fix.")] = False,
    include_unverified: Annotated[
        bool, typer.Option("--include-unverified", help="Roadmap: treat unverified regulations as binding.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Compliance of every model × trim in a market on a date, or the roadmap of fixes with their cost."""
    ws = load_workspace(workspace)
    day = parse_date(on) if on is not None else date.today()
    modes = (parse_mode(mode),) if mode is not None else MODES
    if market is not None:
        require_market(ws, market)
    if roadmap:
        report = roadmap_report(ws, [market] if market else None, include_unverified, modes, as_of=day)
        if as_json:
            print_json(report)
        else:
            _print_roadmap(report)
        return
    if market is None:
        matrix = compliance_matrix(ws, day)
        if as_json:
            print_json(matrix)
        else:
            _print_matrix(matrix, modes)
        return
    if as_json:
        print_json(compliance_report(ws, market, day, modes[0]))
        return
    _print_market([compliance_report(ws, market, day, m) for m in modes])


def _print_matrix(matrix: dict[str, Any], modes: tuple[str, ...]) -> None:
    legend = " / ".join(MODE_LABEL[m] for m in modes)
    table = Table(title=f"Compliance on {matrix['date']} (each cell: {legend}; ✗n = n regulations broken)",
                  title_justify="left")
    table.add_column("trim")
    markets = matrix["markets"]
    for entry in markets:
        table.add_column(entry["market"], justify="center")
    keys = [(v["model"], v["trim"]) for v in markets[0]["modes"]["new_types"]["verdicts"]]
    for index, (model, trim) in enumerate(keys):
        cells = []
        for entry in markets:
            parts = [_cell(entry["modes"][m]["verdicts"][index]) for m in modes]
            cells.append(" / ".join(parts))
        table.add_row(f"{model}/{trim}", *cells)
    console.print(table)
    console.print("[dim]✓ compliant, ✗ non-compliant, – not applicable (not sold, or no rule in force); "
                  "! = unverified regulations broken (warnings). Details: --market M.[/]")


def _cell(verdict: dict[str, Any]) -> str:
    text = STATUS_STYLE[verdict["status"]]
    if verdict["reasons"]:
        text += str(len(verdict["reasons"]))
    if verdict["warnings"]:
        text += "[yellow]![/]"
    return text


def _print_market(reports: list[dict[str, Any]]) -> None:
    first = reports[0]
    console.print(f"[bold]Compliance in {first['market']} ({first['market_name']}) on {first['date']}[/]")
    table = Table()
    table.add_column("trim")
    for report in reports:
        table.add_column(MODE_LABEL[report["mode"]], justify="center")
    for index, verdict in enumerate(first["verdicts"]):
        cells = [STATUS_STYLE[r["verdicts"][index]["status"]] + " " + r["verdicts"][index]["status"] for r in reports]
        table.add_row(f"{verdict['model']}/{verdict['trim']}", *cells)
    console.print(table)
    reasons = Table(title="Reasons (+ missing, − violating; unverified regulations, in yellow, are warnings only)",
                    title_justify="left")
    for column in ("mode", "regulation", "change", "trims", "new type from", "registration from"):
        reasons.add_column(column, no_wrap=column in ("regulation", "change"))
    for report in reports:
        every: dict[str, list[str]] = {}
        for verdict in report["verdicts"]:
            every.setdefault(verdict["model"], []).append(verdict["trim"])
        for (regulation, change), (reason, trims) in _by_reason(report).items():
            style = "red" if reason["status"] == "confirmed" else "yellow"
            reasons.add_row(MODE_LABEL[report["mode"]], f"[{style}]{regulation}[/]", change.replace(" ", "\n"),
                            _trims_text(trims, every), reason["applies_new_types"] or "—", reason["applies_all"] or "—")
    if reasons.row_count:
        console.print(reasons)
    for report in reports:
        counts = ", ".join(f"{n} {status}" for status, n in report["summary"].items())
        console.print(f"[dim]{MODE_LABEL[report['mode']]}: {len(report['regulations_in_force'])} regulations in "
                      f"force; {counts}. Sources and notes: --json.[/]", highlight=False)



def _by_reason(report: dict[str, Any]) -> dict[tuple[str, str], tuple[dict[str, Any], list[tuple[str, str]]]]:
    """(regulation, change) → (the reason, the trims it concerns), confirmed reasons before warnings."""
    out: dict[tuple[str, str], tuple[dict[str, Any], list[tuple[str, str]]]] = {}
    for kind in ("reasons", "warnings"):
        for verdict in report["verdicts"]:
            for reason in verdict[kind]:
                change = " ".join([f"+{f}" for f in reason["missing"]] + [f"−{f}" for f in reason["violating"]])
                entry = out.setdefault((reason["regulation"], change), (reason, []))
                entry[1].append((verdict["model"], verdict["trim"]))
    return out


def _trims_text(trims: list[tuple[str, str]], every: dict[str, list[str]]) -> str:
    """``city, sedan/max``: a model name alone means all its trims."""
    by_model: dict[str, list[str]] = {}
    for model, trim in trims:
        by_model.setdefault(model, []).append(trim)
    return ", ".join(model if names == every[model] else " ".join(f"{model}/{n}" for n in names)
                     for model, names in by_model.items())


def _print_roadmap(report: dict[str, Any]) -> None:
    cur = report["currency"]
    groups = group_markets(report)
    for mode in MODES:
        chosen = [g for g in groups if g["entry"]["mode"] == mode and g["entry"]["events"]]
        if not chosen:
            continue
        what = "type approval of a new type" if mode == "new_types" else "registration of a new vehicle"
        console.print(f"[bold]Roadmap, {what}[/]: when each model stops complying unless something changes, "
                      f"and the cheapest fix ({cur})", highlight=False)
        table = Table()
        table.add_column("model")
        table.add_column("markets", max_width=9)
        table.add_column("from", no_wrap=True)
        table.add_column("breaks")
        table.add_column("features to add (−: remove)", min_width=22)
        table.add_column("per vehicle", justify="right", no_wrap=True)
        table.add_column("per year", justify="right", no_wrap=True)
        for group in chosen:
            entry = group["entry"]
            for event in entry["events"]:
                costs = [t["cost_per_vehicle"] for t in event["trims"] if t["cost_per_vehicle"] is not None]
                low, high = (min(costs), max(costs)) if costs else (0.0, 0.0)
                per_vehicle = money(low) if low == high else f"{money(low)}–{money(high)}"
                table.add_row(entry["model"], " ".join(group["markets"]), event["date"],
                              "\n".join(event["new_regulations"]), _changes(event["trims"]), per_vehicle,
                              money(event["cost_per_year"]))
            table.add_section()
        console.print(table)
    risks = at_risk_summary(report)
    if risks:
        risk_table = Table(title="At risk: unverified regulations, not counted (--include-unverified counts them)",
                           title_justify="left")
        modes = [m for m in MODES if any(m in r["from"] for r in risks)]
        for column in ("regulation", *(f"{MODE_LABEL[m]} from" for m in modes), "needs", "models", "markets"):
            risk_table.add_column(column)
        for risk in risks:
            risk_table.add_row(f"[yellow]{risk['regulation']}[/]", *(risk["from"].get(m) or "—" for m in modes),
                               " ".join("+" + f for f in risk["missing"]), " ".join(risk["models"]),
                               " ".join(risk["markets"]))
        console.print(risk_table)
    console.print(f"[dim]The first line of each block is what is needed already on {report['as_of']}. Features: "
                  "added at that date; costs: cumulative (everything needed by then); per year = per vehicle × the "
                  "trim's volume_per_year in models/*.yaml (all markets together: an upper bound for one).[/]",
                  highlight=False)


def _changes(rows: list[dict[str, Any]]) -> str:
    """One line per distinct change, naming the trims that share it."""
    by_text: dict[str, list[str]] = {}
    for row in rows:
        if not row["failing"]:
            text = "compliant"
        elif row.get("error"):
            text = f"no fix: {row['error']}"
        else:
            text = _features(row["added_since_previous"], row["removed_since_previous"]) or "—"
        by_text.setdefault(text, []).append(row["trim"])
    if len(by_text) == 1:
        return next(iter(by_text))
    return "\n".join(f"{', '.join(trims)}: {text}" for text, trims in by_text.items())


def _features(added: list[str], removed: list[str]) -> str:
    return " ".join([f"+{f}" for f in added] + [f"−{f}" for f in removed])


def register(app: typer.Typer) -> None:
    app.command("comply")(comply)
