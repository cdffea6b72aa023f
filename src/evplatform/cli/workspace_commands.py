"""`evplatform check` and `evplatform kpi`: is the platform valid, and what is it worth."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from evplatform.cli.common import JsonOpt, WorkspaceArg, console, money, num, pct, print_json
from evplatform.platform import bom_of, kpi_report, platform_vs_separate
from evplatform.service.views import bom_summary_view
from evplatform.vehicle.targets import target_findings
from evplatform.workspace import Workspace, load_workspace
from evplatform.workspace.check import check_workspace


def check(
    workspace: WorkspaceArg = None,
    against: Annotated[str | None, typer.Option(
        "--against", help="CI gate: compare with this git revision; exit 1 when the change breaks the platform, "
                          "2 when a side cannot be read (docs/ci-gate.md).", show_default=False)] = None,
    max_cost_increase: Annotated[str, typer.Option(
        "--max-cost-increase", help="With --against: largest allowed unit-cost increase of a trim.")] = "1%",
    allow_specialisation: Annotated[bool, typer.Option(
        "--allow-specialisation", help="With --against: allow edits that remove configurations.")] = False,
    on: Annotated[str | None, typer.Option("--date", help="With --against: compliance date (default: today).")] = None,
    markdown: Annotated[Path | None, typer.Option(
        "--markdown", help="With --against: write the verdict and impact as Markdown to this file.")] = None,
    time_limit: Annotated[float, typer.Option(
        "--time-limit", min=0.1, max=86_400,
        help="With --against: wall-clock seconds for each feature-model check; a criterion not decided in "
             "time is listed as not checked.")] = 20.0,
    as_json: JsonOpt = False,
) -> None:
    """Validate every file of the workspace and prove each model × market configuration valid; with
    --against REV, the CI gate of the change since REV."""
    if against is not None:
        from evplatform.cli.gate_command import run_gate

        run_gate(workspace, against, max_cost_increase=max_cost_increase,
                 allow_specialisation=allow_specialisation, on=on, markdown=markdown, as_json=as_json,
                 time_limit_s=time_limit)
        return
    ws = load_workspace(workspace)
    if (ws.root / "apps").is_dir():  # app manifests are workspace files too: a bad one fails here (file:line)
        from evplatform.apps.manifest import load_apps

        load_apps(ws)
    report = check_workspace(ws, target_findings(ws))
    if as_json:
        print_json(report.to_dict())
        return
    console.print(f"[bold]{ws.platform.name}[/] {ws.platform.version} — {ws.root}")
    table = Table(title="Configurations proven valid (trim × market)", title_justify="left")
    table.add_column("trim")
    for market in ws.markets:
        table.add_column(market, justify="center")
    for trim in ws.trims():
        cells = []
        for market in ws.markets:
            config = ws.configurations.get((trim.key, market))
            cells.append(f"[green]✓[/] {len(config)}" if config is not None else "[dim]not sold[/]")
        table.add_row(trim.key, *cells)
    console.print(table)
    for finding in report.findings:
        style = "yellow" if finding.level == "warning" else "dim"
        console.print(f"[{style}]{finding.level}[/] {finding.location()}: {finding.message}", highlight=False)
    console.print(
        f"[bold green]valid[/]: {len(ws.feature_model)} features, {len(ws.parts)} parts, "
        f"{len(ws.trims())} trims, {len(ws.configurations)} configurations, "
        f"{len(ws.regulations)} regulations, {len(ws.software)} software components; "
        f"{sum(f.level == 'warning' for f in report.findings)} warnings"
    )


def kpi(workspace: WorkspaceArg = None, as_json: JsonOpt = False) -> None:
    """Cost per model and trim, reuse rate, commonality indices, platform vs one product per model."""
    ws = load_workspace(workspace)
    report = kpi_report(ws)
    comparison = platform_vs_separate(ws, report.trims)
    if as_json:
        data = report.to_dict()
        data["platform_vs_separate"] = comparison.to_dict()
        print_json(data)
        return
    cur = ws.platform.currency
    table = Table(title=f"Cost per trim ({cur}, base market {ws.platform.base_market})", title_justify="left")
    for column in ("trim", "price", "volume/yr", "parts", "BOM cost", "dev./unit", "unit cost", "margin"):
        table.add_column(column, justify="left" if column == "trim" else "right")
    for cost in report.trims:
        t = cost.trim
        margin_style = "green" if cost.margin >= 0 else "red"
        table.add_row(
            f"{t.key}  [dim]{t.name}[/]", money(t.price), f"{t.volume_per_year:,.0f}", str(len(cost.bom.lines)),
            money(cost.bom_cost), money(cost.development_per_unit), money(cost.unit_cost),
            f"[{margin_style}]{money(cost.margin)}[/]",
        )
    console.print(table)
    c = report.by_model
    tr = report.by_trim
    idx = Table(title="Reuse and commonality", title_justify="left")
    idx.add_column("indicator")
    idx.add_column("across models", justify="right")
    idx.add_column("across trims", justify="right")
    idx.add_column("meaning", style="dim")
    idx.add_row("part-number reuse", pct(c.part_share), pct(tr.part_share), "share of part numbers used by ≥ 2")
    idx.add_row("spend reuse", pct(c.spend_share), pct(tr.spend_share), "share of annual spend on parts used by ≥ 2")
    idx.add_row("DCI (Collier)", num(c.dci), num(tr.dci), "mean users per part number, 1 = none shared")
    idx.add_row("TCCI (Wacker & Treleven)", num(c.tcci), num(tr.tcci), "0 = all unique … 1 = one part")
    idx.add_row("CI (Martin & Ishii)", num(c.ci), num(tr.ci), "0 = nothing shared … 1 = all from the largest")
    idx.add_row("CI(C) (Jiao & Tseng)", num(c.ci_c), num(tr.ci_c), "spend-weighted DCI")
    console.print(idx)
    cmp_table = Table(
        title=f"One platform vs one product per model (over {comparison.lifecycle_years:g} years, {cur})",
        title_justify="left",
    )
    for column in ("model", "vehicles", "unit cost on platform", "unit cost alone", "saving / vehicle"):
        cmp_table.add_column(column, justify="left" if column == "model" else "right")
    for m in comparison.models:
        cmp_table.add_row(m.model_id, f"{m.vehicles:,.0f}", money(m.platform_unit_cost),
                          money(m.separate_unit_cost), money(m.saving_per_unit))
    console.print(cmp_table)
    console.print(
        f"Platform saves [bold]{money(comparison.saving, cur)}[/] over the lifecycle "
        f"({pct(comparison.saving_share)} of the one-product-per-model cost); development "
        f"{money(comparison.platform_development, cur)} vs {money(comparison.separate_development, cur)}."
    )


def bom(
    workspace: WorkspaceArg = None,
    trim: Annotated[str | None, typer.Option("--trim", help="Trim as model/trim (default: a summary of every trim).",
                                             show_default=False)] = None,
    market: Annotated[str | None, typer.Option("--market", help="Market (default: the base market).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """The bill of materials of one trim in one market by module, or every trim's BOM summary."""
    ws = load_workspace(workspace)
    if trim is None:
        _bom_summary(ws, market, as_json)
        return
    chosen = ws.trim(trim)
    configuration = ws.configuration(chosen, market)
    result = bom_of(ws.parts, configuration)
    if as_json:
        print_json(result.to_dict(chosen.key, market or ws.platform.base_market, configuration))
        return
    cur = ws.platform.currency
    table = Table(title=f"BOM of {chosen.key} in {market or ws.platform.base_market} ({cur})", title_justify="left")
    for column in ("module", "parts", "cost", "share"):
        table.add_column(column, justify="left" if column == "module" else "right")
    for module, cost in result.cost_by_module().items():
        count = sum(1 for line in result.lines if line.part.module == module)
        table.add_row(module, str(count), money(cost), pct(cost / result.cost if result.cost else None))
    table.add_row("[bold]total[/]", str(len(result.lines)), f"[bold]{money(result.cost)}[/]", "100.0 %")
    console.print(table)
    console.print(f"BOM mass {result.mass_kg:,.1f} kg; {len(configuration)} features selected.")


def _bom_summary(ws: Workspace, market: str | None, as_json: bool) -> None:
    """One line per trim sold in the market: parts, BOM cost and mass (``bom --json`` without ``--trim``)."""
    summary = bom_summary_view(ws, market)
    chosen, rows, not_sold = summary["market"], summary["trims"], summary["not_sold"]
    if as_json:
        print_json(summary)
        return
    table = Table(title=f"BOM of every trim in {chosen} ({ws.platform.currency}); --trim MODEL/TRIM for one "
                        "trim's modules", title_justify="left")
    for column in ("trim", "parts", "BOM cost", "BOM mass kg"):
        table.add_column(column, justify="left" if column == "trim" else "right")
    for r in rows:
        table.add_row(f"{r['trim']}  [dim]{r['name']}[/]", str(r["parts"]), money(r["bom_cost"]),
                      f"{r['bom_mass_kg']:,.1f}")
    console.print(table)
    if not rows:
        console.print(f"no trim is sold in {chosen}")
    if not_sold:
        console.print(f"[dim]not sold in {chosen}: {', '.join(not_sold)}[/]")


def register(app: typer.Typer) -> None:
    app.command("check")(check)
    app.command("kpi")(kpi)
    app.command("bom")(bom)
