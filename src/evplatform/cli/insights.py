"""`evplatform insights …`: business figures, platform investment scenarios, the risk register."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from evplatform.cli.common import JsonOpt, WorkspaceArg, console, err_console, print_json
from evplatform.insights import business_report, export_csv, load_risks, risks_report, scenarios_report
from evplatform.insights import plots as ip
from evplatform.insights.scaleout import cluster, monte_carlo_sweep
from evplatform.insights.scenarios import DEFAULT_DRAWS, DEFAULT_SEED, DEFAULT_SOBOL_SAMPLES
from evplatform.workspace import load_workspace

insights_app = typer.Typer(help="Business figures, NPV scenarios with Monte Carlo and sensitivity, risks.",
                           no_args_is_help=True)

OutOpt = Annotated[Path | None, typer.Option("--out", help="Folder for the PNG plots and index.html "
                                             "(default: out/insights/<command>).", show_default=False)]
NoPlotsOpt = Annotated[bool, typer.Option("--no-plots", help="Do not write the PNG and HTML files.")]


def _progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=err_console, transient=True)


def _bn(value: float) -> str:
    return f"{value / 1e9:,.2f}"


def _growth(change: dict[str, Any] | None) -> str:
    if change is None:
        return "—"
    if "change_pp" in change:
        return f"{change['change_pp']:+.1f} pp"
    return f"{100 * change['growth']:+.0f} %"


MARK = {"reported": "", "derived": " ᵈ", "estimate": " ᵉ"}


@insights_app.command("business")
def business(
    csv_file: Annotated[Path | None, typer.Argument(help="Business figures CSV, or a workspace folder to read its "
                                                         "business.csv (default: the demo's).",
                                                    show_default=False)] = None,
    entity: Annotated[str | None, typer.Option("--entity", help="Company to report (default: the file's first).")]
    = None,
    out: OutOpt = None,
    no_plots: NoPlotsOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Quarterly deliveries, revenue, gross margin and ASP with QoQ/YoY growth, margin trend and peers."""
    report = business_report(csv_file, entity)
    if not report["available"]:
        _say_no_business(report, as_json)
        return
    out = out or Path("out/insights/business")
    written: list[Path] = []
    if not no_plots:
        written = ip.write_images(out, {"business.png": ip.business_plot(report)})
        written.append(ip.write_index(out, f"Business figures: {report['entity']}", [
            ("Peers", ip.html_table(*_peer_rows(report)), [p.name for p in written])]))
    if as_json:
        print_json({**report, "plots": [str(p) for p in written]})
        return
    series = report["series"]
    table = Table(title=f"{report['entity']} by quarter (ᵈ derived, ᵉ estimate; growth QoQ / YoY)",
                  title_justify="left")
    table.add_column("quarter")
    for name in series:
        table.add_column(f"{series[name]['metric']}\n({series[name]['unit']})", justify="right")
    periods = sorted({q["period"] for s in series.values() for q in s["quarters"]})
    for period in periods:
        cells = [period]
        for s in series.values():
            q = next((q for q in s["quarters"] if q["period"] == period), None)
            cells.append("" if q is None else
                         f"{_figure(q['value'], q['unit'], q['basis'])}\n{_growth(q['qoq'])} / {_growth(q['yoy'])}")
        table.add_row(*cells)
    console.print(table)
    header, rows = _peer_rows(report)
    peers = Table(title="Peers (latest quarter)", title_justify="left")
    for column in header:
        peers.add_column(column, justify="left" if column == "entity" else "right")
    for row in rows:
        peers.add_row(*[str(c) for c in row])
    console.print(peers)
    trend = report["margin_trend"]
    if trend:
        console.print(f"{report['entity']} {trend['metric']}: {trend['first']['value']} % ({trend['first']['period']}) "
                      f"→ {trend['last']['value']} % ({trend['last']['period']}), "
                      f"{trend['slope_pp_per_quarter']:+.2f} pp per quarter")
    counts = report["by_basis"]
    console.print(f"{report['figures']} figures: {counts['reported']} reported, {counts['derived']} derived, "
                  f"{counts['estimate']} estimates" + (f" — plots: {written[-1]}" if written else ""))


def _say_no_business(report: dict[str, Any], as_json: bool) -> None:
    """A workspace without business.csv: the explicit empty payload, or its message."""
    if as_json:
        print_json({**report, "plots": []})
    else:
        console.print(report["message"], highlight=False)


SHORT = {"gross_margin": "GM", "segment_gross_margin": "segment GM", "gross_margin_total_gaap": "GAAP GM (total)"}


def _figure(value: float, unit: str, basis: str) -> str:
    digits = 0 if unit in ("vehicles",) or "/vehicle" in unit else 1
    return f"{value:,.{digits}f}{MARK[basis]}"


def _peer_rows(report: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    header = ["entity", "deliveries", "YoY", "gross margin %", "YoY", "trend pp/q"]
    rows = []
    for p in report["peers"]:
        d, g, t = p["deliveries"], p["gross_margin"], p["gross_margin_trend"]
        rows.append([
            p["entity"], f"{d['value']:,.0f}{MARK[d['basis']]} ({d['period']})" if d else "—",
            _growth(d["yoy"]) if d else "—",
            f"{g['value']:.1f}{MARK[g['basis']]} {SHORT.get(g['metric'], g['metric'])} ({g['period']})" if g else "—",
            _growth(g["yoy"]) if g else "—", f"{t['slope_pp_per_quarter']:+.2f}" if t else "—",
        ])
    return header, rows


@insights_app.command("scenarios")
def scenarios(
    workspace: WorkspaceArg = None,
    draws: Annotated[int, typer.Option("--draws", help="Monte Carlo draws per scenario.")] = DEFAULT_DRAWS,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the random draws (same seed, same answer).")]
    = DEFAULT_SEED,
    scenario: Annotated[list[str] | None, typer.Option("--scenario", help="Only this scenario (repeatable).")]
    = None,
    dask: Annotated[bool, typer.Option("--dask", help="Run the Monte Carlo on Dask (a LocalCluster unless "
                                       "--scheduler is given).")] = False,
    scheduler: Annotated[str | None, typer.Option("--scheduler", help="Dask scheduler address (implies --dask), "
                                                  "e.g. tcp://10.0.0.5:8786.")] = None,
    workers: Annotated[int, typer.Option("--workers", help="LocalCluster worker processes.")] = 2,
    sobol_samples: Annotated[int, typer.Option("--sobol-samples", help="Sobol base samples (a power of two; "
                                               "the model runs N·(inputs + 2) times).")]
    = DEFAULT_SOBOL_SAMPLES,
    out: OutOpt = None,
    no_plots: NoPlotsOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """NPV of the platform against one product per model for each scenario: P5/P50/P95, P(loss), drivers."""
    ws = load_workspace(workspace)
    with _progress() as bar:
        task = bar.add_task("scenarios", total=None)

        def on_scenario(name: str, done: int, total: int) -> None:
            bar.update(task, completed=done, total=total, description=f"scenario {name}")

        if dask or scheduler:
            with cluster(scheduler, workers) as client:
                chunks = bar.add_task("Monte Carlo chunks on Dask", total=None)

                def on_chunk(done: int, total: int) -> None:
                    bar.update(chunks, completed=done, total=total)

                report = scenarios_report(ws, draws, seed, scenario, sobol_samples=sobol_samples, progress=on_scenario,
                                          sweep=lambda p, n, s: monte_carlo_sweep(p, n, s, client, on_chunk))
        else:
            report = scenarios_report(ws, draws, seed, scenario, sobol_samples=sobol_samples, progress=on_scenario)
    written = [] if no_plots else _scenario_plots(report, out or Path("out/insights/scenarios"))
    if as_json:
        print_json({**report, "plots": [str(p) for p in written]})
        return
    _render_scenarios(report)
    if written:
        console.print(f"plots: {written[-1]}")


def _scenario_plots(report: dict[str, Any], out: Path) -> list[Path]:
    images = {"scenarios.png": ip.scenario_comparison_plot(report)}
    for s in report["scenarios"]:
        images[f"tornado-{s['name']}.png"] = ip.tornado_plot(s, report["currency"])
        images[f"tornado-advantage-{s['name']}.png"] = ip.tornado_plot(s, report["currency"], "advantage")
        images[f"sobol-{s['name']}.png"] = ip.sobol_plot(s)
    written = ip.write_images(out, images)
    header, rows = _comparison_rows(report)
    written.append(ip.write_index(out, "Platform investment scenarios", [
        (f"NPV in bn {report['currency']}, {report['draws']:,} draws, seed {report['seed']}",
         ip.html_table(header, rows), [p.name for p in written])]))
    return written


def _comparison_rows(report: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    header = ["scenario", "feasibility", "NPV P5", "NPV P50", "NPV P95", "platform − separate P50", "P(NPV<0)",
              "P(platform worse)", "Δ mean NPV × feasibility", "top drivers (tornado)"]
    rows = []
    for c, s in zip(report["comparison"], report["scenarios"], strict=True):
        drivers = ", ".join(b["input"] for b in s["tornado"]["platform"]["bars"][:3])
        rows.append([c["title"], f"{c['feasibility']:.0%}", _bn(c["npv_p5"]), _bn(c["npv_p50"]), _bn(c["npv_p95"]),
                     _bn(c["advantage_p50"]), f"{c['probability_loss']:.1%}",
                     f"{c['probability_platform_worse']:.1%}", _bn(c["expected_npv_change"]), drivers])
    return header, rows


def _render_scenarios(report: dict[str, Any]) -> None:
    unit = f"bn {report['currency']}"
    npv = Table(title=f"Platform NPV, {unit} ({report['draws']:,} draws, seed {report['seed']})", title_justify="left")
    for column in ("scenario", "feasibility", "P5", "P50", "P95", "P(NPV<0)", "Δ mean × feas."):
        npv.add_column(column, justify="left" if column == "scenario" else "right")
    versus = Table(title=f"Platform − one product per model, {unit}", title_justify="left")
    for column in ("scenario", "P5", "P50", "P95", "P(platform worse)"):
        versus.add_column(column, justify="left" if column == "scenario" else "right")
    drivers = Table(title="Largest drivers: input, tornado swing P10→P90 (bn) · Sobol total order ST",
                    title_justify="left")
    for column in ("scenario", "platform NPV", "platform − separate"):
        drivers.add_column(column)
    for c, s in zip(report["comparison"], report["scenarios"], strict=True):
        a = s["npv"]["advantage"]
        npv.add_row(c["title"], f"{c['feasibility']:.0%}", _bn(c["npv_p5"]), _bn(c["npv_p50"]), _bn(c["npv_p95"]),
                    f"{c['probability_loss']:.1%}", _bn(c["expected_npv_change"]))
        versus.add_row(c["title"], _bn(a["p5"]), _bn(a["p50"]), _bn(a["p95"]),
                       f"{c['probability_platform_worse']:.1%}")
        cells = []
        for output in ("platform", "advantage"):
            bars = s["tornado"][output]["bars"][:3]
            st = s["sobol"][output]
            cells.append("\n".join(f"{b['input']} {b['swing'] / 1e9:.1f} · {st[b['input']]['ST']:.2f}"
                                    for b in bars))
        drivers.add_row(c["title"], *cells)
    console.print(npv)
    console.print(versus)
    console.print(drivers)


@insights_app.command("risks")
def risks(
    workspace: WorkspaceArg = None,
    export: Annotated[Path | None, typer.Option("--export", help="Write the register (with scores) to this CSV.")]
    = None,
    out: OutOpt = None,
    no_plots: NoPlotsOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """The risk register by score, its likelihood × impact matrix and the features/markets/releases at risk."""
    ws = load_workspace(workspace)
    report = risks_report(ws)
    if export is not None:
        export.parent.mkdir(parents=True, exist_ok=True)
        export.write_text(export_csv(load_risks(ws)[1]), encoding="utf-8")
    written: list[Path] = []
    out = out or Path("out/insights/risks")
    header = ["id", "title", "likelihood", "impact", "score", "rating", "owner", "features", "markets", "releases"]
    rows = [[r["id"], r["title"], r["likelihood"], r["impact"], r["score"], r["rating"], r["owner"],
             " ".join(r["features"]), " ".join(r["markets"]), " ".join(r["releases"])] for r in report["risks"]]
    if not no_plots:
        written = ip.write_images(out, {"risks.png": ip.risk_matrix_plot(report)})
        written.append(ip.write_index(out, "Risk register", [("Risks by score", ip.html_table(header, rows),
                                                               [p.name for p in written])]))
    if as_json:
        print_json({**report, "export": str(export) if export else None, "plots": [str(p) for p in written]})
        return
    colour = {"critical": "red", "high": "dark_orange", "medium": "yellow", "low": "green"}
    table = Table(title="Risk register (by score = likelihood × impact)", title_justify="left")
    for column in ("id", "L×I", "rating", "risk and links", "owner"):
        table.add_column(column, justify="right" if column == "L×I" else "left")
    for r in report["risks"]:
        links = "; ".join(f"{kind}: {' '.join(r[kind])}" for kind in ("features", "markets", "releases") if r[kind])
        table.add_row(r["id"], f"{r['likelihood']}×{r['impact']}={r['score']}",
                      f"[{colour[r['rating']]}]{r['rating']}[/]",
                      r["title"] + (f"\n[dim]{links}[/]" if links else ""), r["owner"])
    console.print(table)
    grid = Table(title="Uncertainty matrix (likelihood ↓ × impact →)", title_justify="left", show_lines=True)
    grid.add_column("L \\ I")
    for impact in report["matrix"]["impact"]:
        grid.add_column(str(impact), justify="center")
    for likelihood, cells, ratings in zip(report["matrix"]["likelihood"], report["matrix"]["ids"],
                                          report["matrix"]["ratings"], strict=True):
        grid.add_row(str(likelihood), *[f"[{colour[r]}]{' '.join(ids) or '·'}[/]" for ids, r in zip(cells, ratings,
                                                                                                   strict=True)])
    console.print(grid)
    notes = [f"exported: {export}"] if export else []
    if written:
        notes.append(f"plots: {written[-1]}")
    if notes:
        console.print(" — ".join(notes))


def register(app: typer.Typer) -> None:
    app.add_typer(insights_app, name="insights")
