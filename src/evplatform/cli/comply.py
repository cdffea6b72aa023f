"""`evplatform comply`: compliance verdicts per trim × market × date, the roadmap, one regulation, one market.

``comply [WS]`` answers the matrix (or one market, or the roadmap); ``comply regulation ID`` and
``comply market CODE`` look one thing up (``markets.lookup``). How lines are grouped and ordered
is the domain's (``markets.grouping``), shared with the dashboard.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import click
import typer
from rich.table import Table
from typer.core import TyperGroup

from evplatform.cli.common import JsonOpt, WorkspaceArg, console, money, print_json
from evplatform.markets import MODES, compliance_matrix, compliance_report, parse_date, parse_mode, roadmap_report
from evplatform.markets.grouping import collapse_members, reasons_by_change, roadmap_lines
from evplatform.markets.lookup import market_view, regulation_view
from evplatform.markets.roadmap import at_risk_summary
from evplatform.markets.rules import require_market
from evplatform.workspace import Workspace, load_workspace

STATUS_STYLE = {"compliant": "[green]✓[/]", "non-compliant": "[red]✗[/]", "not-applicable": "[dim]–[/]"}
MODE_LABEL = {"new_types": "new type", "all": "registration"}
DateOpt = Annotated[str | None, typer.Option("--date", help="Date YYYY-MM-DD (default: today).")]


class ComplyGroup(TyperGroup):
    """``comply [WS] [options]`` and ``comply regulation ID`` / ``comply market CODE`` in one group.

    A plain group would read ``regulation`` as the workspace argument of ``comply``; here a first
    word that names a subcommand goes to that subcommand, anything else is ``comply``'s own
    (options may follow the workspace, as they always could).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.allow_interspersed_args = True  # `comply WS --market CN`: options after the workspace

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] in self.commands:
            click.Command.parse_args(self, ctx, [])
            ctx._protected_args, ctx.args = args[:1], args[1:]
            return ctx.args
        return super().parse_args(ctx, args)


app = typer.Typer(cls=ComplyGroup, invoke_without_command=True, add_completion=False)


@app.callback()
def comply(
    ctx: typer.Context,
    workspace: WorkspaceArg = None,
    market: Annotated[str | None, typer.Option("--market", help="One market (default: a matrix of all).")] = None,
    on: DateOpt = None,
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
    """Compliance of every model × trim in a market on a date, or the roadmap of fixes with their cost.

    `comply regulation ID` and `comply market CODE` look up one regulation or one market.
    """
    if ctx.invoked_subcommand is not None:
        return
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
            _print_roadmap(report, ws)
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


@app.command("regulation")
def regulation(
    regulation_id: Annotated[str, typer.Argument(metavar="ID", help="Regulation id (regulations.csv).")],
    workspace: WorkspaceArg = None,
    on: DateOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """One regulation: title, source, dates, status, the markets it applies to and the trims that break it."""
    ws = load_workspace(workspace)
    view = regulation_view(ws, regulation_id, parse_date(on) if on is not None else date.today())
    if as_json:
        print_json(view)
        return
    style = "green" if view["status"] == "confirmed" else "yellow"
    console.print(f"[bold]{view['regulation']}[/] {view['title']} ([{style}]{view['status']}[/])", highlight=False)
    console.print(f"source: {view['source']}\nrequires: {view['requires']}\nnew type from: "
                  f"{view['applies_from']['new_types'] or '—'}; registration from: {view['applies_from']['all'] or '—'}"
                  + (f"\nnotes: {view['notes']}" if view["notes"] else ""), highlight=False)
    table = Table(title=f"Markets on {view['date']} (+ missing, − violating)", title_justify="left")
    for column in ("markets", "binds new types", "binds registrations", "trims that break it"):
        table.add_column(column)
    for row in view["markets"]:
        breaking = "\n".join(f"{t['trim']}: {_features(t['missing'], t['violating'])}" for t in row["breaking_trims"])
        table.add_row(_markets_text(row), *(_yes(row["binding_on_date"][m]) for m in MODES), breaking or "none")
    console.print(table)


@app.command("market")
def market_command(
    code: Annotated[str, typer.Argument(metavar="CODE", help="Market id (markets/<id>.yaml).")],
    workspace: WorkspaceArg = None,
    on: DateOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """One market: what applies and from when, which trims fail, and the cheapest fix at each date."""
    ws = load_workspace(workspace)
    view = market_view(ws, code, parse_date(on) if on is not None else date.today())
    if as_json:
        print_json(view)
        return
    console.print(f"[bold]{view['market']} ({view['name']})[/] on {view['date']}; models: "
                  f"{', '.join(view['models']) or 'none'}", highlight=False)
    table = Table(title="Regulations (yellow: unverified, a warning only)", title_justify="left")
    for column in ("regulation", "new type from", "registration from", "binds today", "trims that break it"):
        table.add_column(column)
    for row in view["regulations"]:
        style = "yellow" if row["status"] != "confirmed" else "bold"
        binds = " / ".join(MODE_LABEL[m] for m in MODES if row["binding_on_date"][m]) or "no"
        table.add_row(f"[{style}]{row['regulation']}[/]", row["applies_from"]["new_types"] or "—",
                      row["applies_from"]["all"] or "—", binds,
                      ", ".join(t["trim"] for t in row["breaking_trims"]) or "none")
    console.print(table)
    if view["roadmap"]:
        console.print(f"[bold]Cheapest fix ({view['currency']}, costs cumulative)[/]", highlight=False)
        console.print(_roadmap_table(view["roadmap"]))


def _yes(value: bool) -> str:
    return "yes" if value else "no"


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
        for item in reasons_by_change(report):
            reason = item["reason"]
            style = "yellow" if item["warning"] else "red"
            reasons.add_row(MODE_LABEL[report["mode"]], f"[{style}]{reason['regulation']}[/]",
                            "\n".join(_features(reason["missing"], reason["violating"]).split(" ")),
                            item["trims_text"], reason["applies_new_types"] or "—", reason["applies_all"] or "—")
    if reasons.row_count:
        console.print(reasons)
    for report in reports:
        counts = ", ".join(f"{n} {status}" for status, n in report["summary"].items())
        console.print(f"[dim]{MODE_LABEL[report['mode']]}: {len(report['regulations_in_force'])} regulations in "
                      f"force; {counts}. Sources and notes: --json.[/]", highlight=False)


def _markets_text(line: dict[str, Any]) -> str:
    """``EU`` (its member states with the same answer are folded into it: ``EU +4``)."""
    shown = " ".join(line["markets"])
    return f"{shown} +{len(line['members'])}" if line["members"] else shown


def _print_roadmap(report: dict[str, Any], ws: Workspace) -> None:
    cur = report["currency"]
    lines = roadmap_lines(ws, report)
    for mode in MODES:
        chosen = [line for line in lines if line["mode"] == mode]
        if not chosen:
            continue
        what = "type approval of a new type" if mode == "new_types" else "registration of a new vehicle"
        console.print(f"[bold]Roadmap, {what}[/]: when each model stops complying unless something changes, "
                      f"and the cheapest fix ({cur})", highlight=False)
        console.print(_roadmap_table(chosen))
    risks = at_risk_summary(report)
    if risks:
        risk_table = Table(title="At risk: unverified regulations, not counted (--include-unverified counts them)",
                           title_justify="left")
        modes = [m for m in MODES if any(m in r["from"] for r in risks)]
        for column in ("regulation", *(f"{MODE_LABEL[m]} from" for m in modes), "needs", "models", "markets"):
            risk_table.add_column(column)
        for risk in risks:
            shown, members = collapse_members(ws, risk["markets"])
            risk_table.add_row(f"[yellow]{risk['regulation']}[/]", *(risk["from"].get(m) or "—" for m in modes),
                               " ".join("+" + f for f in risk["missing"]), " ".join(risk["models"]),
                               _markets_text({"markets": shown, "members": members}))
        console.print(risk_table)
    console.print(f"[dim]Lines dated {report['as_of']} are what is needed already on that day; lines are in date "
                  "order. Markets: a market with its member states (EU +4) when they answer the same. Features: "
                  "added at that date; costs: cumulative (everything needed by then); per year = per vehicle × the "
                  "trim's volume_per_year in models/*.yaml (all markets together: an upper bound for one).[/]",
                  highlight=False)


def _roadmap_table(lines: list[dict[str, Any]]) -> Table:
    table = Table()
    table.add_column("from", no_wrap=True)
    table.add_column("model")
    table.add_column("markets", max_width=9)
    table.add_column("breaks")
    table.add_column("features to add (−: remove)", min_width=22)
    table.add_column("per vehicle (cum.)", justify="right", no_wrap=True)
    table.add_column("per year (cum.)", justify="right", no_wrap=True)
    for line in lines:
        low, high = line["cumulative_cost_per_vehicle_min"], line["cumulative_cost_per_vehicle_max"]
        if low is None or high is None:
            per_vehicle = "—"
        else:
            per_vehicle = money(low) if low == high else f"{money(low)}–{money(high)}"
        table.add_row(line["date"], line["model"], _markets_text(line), "\n".join(line["new_regulations"]),
                      _changes(line["changes"]), per_vehicle, money(line["cumulative_cost_per_year"]))
    return table


def _changes(groups: list[dict[str, Any]]) -> str:
    """One line per distinct change, naming the trims that share it."""
    texts = []
    for group in groups:
        if group["kind"] == "compliant":
            texts.append("compliant")
        elif group["kind"] == "no-fix":
            texts.append(f"no fix: {group['error']}")
        else:
            texts.append(_features(group["added"], group["removed"]) or "—")
    if len(texts) == 1:
        return texts[0]
    return "\n".join(f"{', '.join(g['trims'])}: {text}" for g, text in zip(groups, texts, strict=True))


def _features(added: list[str], removed: list[str]) -> str:
    return " ".join([f"+{f}" for f in added] + [f"−{f}" for f in removed])


def register(parent: typer.Typer) -> None:
    parent.add_typer(app, name="comply")
