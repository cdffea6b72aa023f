"""`evplatform diff` and `evplatform history`: what a change does to the platform, and KPIs over git.

Exit codes: 0 the comparison was made; 2 a side could not be read (unknown revision, a path that
is not a workspace at that revision, a workspace that does not load — the message names the side
and file:line); 1 any other error of the project. When a side's workspace does not load but both
feature models read, the feature models are still compared and that partial report is printed
before the exit with code 2.
"""

from __future__ import annotations

from contextlib import ExitStack
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from evplatform.cli.common import JsonOpt, WorkspaceArg, console, err_console, print_json
from evplatform.clock import system_clock
from evplatform.evolution import SideError
from evplatform.evolution.history import history_chart, workspace_history
from evplatform.evolution.impact import (
    DEFAULT_DRAWS,
    DEFAULT_FM_TIME_LIMIT_S,
    ImpactOptions,
    compare_sides,
    partial_report,
)
from evplatform.evolution.markdown import render_diff, render_partial
from evplatform.evolution.revisions import Side, open_side
from evplatform.markets import parse_date
from evplatform.workspace.loader import demo_path

EXIT_UNREADABLE = 2
DateOpt = Annotated[str | None, typer.Option("--date", help="Compliance date YYYY-MM-DD (default: today, UTC).")]
DrawsOpt = Annotated[int, typer.Option("--draws", min=100, max=200_000,
                                       help="Monte Carlo draws per side for the NPV P50 (seeded).")]
TimeLimitOpt = Annotated[float, typer.Option(
    "--time-limit", min=0.1, max=86_400,
    help="Wall-clock seconds for each feature-model check (edit class, projected class, core/dead, counts); "
         "what is not settled in time is reported as not decided or not counted.")]


def day_of(text: str | None) -> date:
    return parse_date(text) if text is not None else system_clock().date()


def compare(before: str, after: str | None, workspace: Path | None, options: ImpactOptions) -> dict[str, Any]:
    """Open both sides (exporting revisions to temporary folders) and build the impact report.

    ``diff REV FOLDER`` (no WS) reads REV from FOLDER's repository: the change since REV. When a
    side's workspace does not load but both feature models read, the report is the partial one
    (``partial: true``, the errors, the feature-model comparison); else the first SideError is raised.
    """
    if workspace is None and after is not None and Path(after).is_dir() and not Path(before).is_dir():
        workspace = Path(after)
    folder = workspace or demo_path()
    with ExitStack() as stack:
        a = _opened(stack, before, folder, "before")
        b = _opened(stack, after, folder, "after")
        if isinstance(a, Side) and isinstance(b, Side):
            return compare_sides(a, b, options)
        partial = partial_report(a, b, options)
        if partial is None:
            raise next(s for s in (a, b) if isinstance(s, SideError))
        return partial


def _opened(stack: ExitStack, spec: str | None, folder: Path, name: str) -> Side | SideError:
    """The side, or its SideError when its workspace does not load but its feature model does."""
    try:
        return stack.enter_context(open_side(spec, folder, name))
    except SideError as error:
        if error.feature_model is None:
            raise
        return error


def unreadable(error: SideError) -> typer.Exit:
    err_console.print(f"[bold red]error:[/] {error}", highlight=False, soft_wrap=True)
    return typer.Exit(EXIT_UNREADABLE)


def diff(
    before: Annotated[str, typer.Argument(help="Before: a git revision of WS's repository, or a folder.")],
    after: Annotated[str | None, typer.Argument(help="After: a revision or a folder (default: WS as it is now; "
                                                     "REV FOLDER reads REV from FOLDER's repository).",
                                                show_default=False)] = None,
    workspace: WorkspaceArg = None,
    on: DateOpt = None,
    draws: DrawsOpt = DEFAULT_DRAWS,
    seed: Annotated[int, typer.Option("--seed", help="Monte Carlo seed.")] = 7,
    markdown: Annotated[bool, typer.Option("--markdown", help="Print Markdown for a pull-request comment.")] = False,
    time_limit: TimeLimitOpt = DEFAULT_FM_TIME_LIMIT_S,
    as_json: JsonOpt = False,
) -> None:
    """The impact of a change on every trim × market: validity, cost, mass, parts, compliance, simulation,
    software; and on the platform: reuse, commonality, platform vs separate, NPV P50. Exit 2 when a
    side cannot be read."""
    options = ImpactOptions(on=day_of(on), draws=draws, seed=seed, feature_time_limit_s=time_limit)
    try:
        report = compare(before, after, workspace, options)
    except SideError as error:
        raise unreadable(error) from None
    render = render_partial if report.get("partial") else render_diff
    if as_json:
        print_json(report)
    elif markdown:
        typer.echo(render(report), nl=False)
    else:
        _print_markdown(render(report))
    for message in report.get("errors", ()):
        err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    if report.get("partial"):
        raise typer.Exit(EXIT_UNREADABLE)


def _print_markdown(text: str) -> None:
    """The Markdown report is readable as text; tables render through Rich's Markdown."""
    from rich.markdown import Markdown

    console.print(Markdown(text))


def history(
    workspace: WorkspaceArg = None,
    since: Annotated[str | None, typer.Option("--since", help="Only commits after this revision.")] = None,
    on: DateOpt = None,
    chart: Annotated[Path | None, typer.Option("--chart", help="Write the trends as a PNG here.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """KPIs of every commit that touched the workspace: unit cost and range per trim, reuse, DCI/TCCI/CI,
    features, configurations, compliant trim × markets on the date. Exit 2 when it cannot be read."""
    try:
        data = workspace_history(workspace or demo_path(), since=since, on=day_of(on))
    except SideError as error:
        raise unreadable(error) from None
    if chart is not None:
        chart.write_bytes(history_chart(data, "png"))
    if as_json:
        print_json(data)
        return
    table = Table(title=f"History of {data['workspace']} (compliance on {data['date']})", title_justify="left")
    for column in ("commit", "date", "subject", "features", "configurations", "reuse", "DCI", "TCCI", "CI",
                   "compliant new/all", "mean unit cost", "mean range km"):
        table.add_column(column, justify="left" if column in ("commit", "date", "subject") else "right")
    for row in data["rows"]:
        if row.get("error"):
            table.add_row(row["short"], row["date"][:10], row["subject"][:40], f"[red]{row['error'][:60]}[/]")
            continue
        table.add_row(row["short"], row["date"][:10], row["subject"][:40], f"{row['features']:,}",
                      row["configurations"], f"{100 * row['reuse_part_share']:.1f} %", f"{row['dci']:.3f}",
                      f"{row['tcci']:.3f}", f"{row['ci']:.3f}",
                      f"{row['compliant']:,}/{row['compliant_all']:,} of {row['sold']:,}",
                      f"{row['mean_unit_cost']:,.0f}", f"{row['mean_range_km']:,.0f}")
    console.print(table)
    if chart is not None:
        console.print(f"chart: {chart}")


def register(app: typer.Typer) -> None:
    app.command("diff")(diff)
    app.command("history")(history)
