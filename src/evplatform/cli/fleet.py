"""`evplatform fleet …`: simulate a fleet through campaigns, import a fleet CSV, stability KPIs; the vehicle
list by filter query and saved groups come from ``cli.fleet_query``."""

from __future__ import annotations

import tempfile
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from evplatform.cli import fleet_commands, fleet_detail
from evplatform.cli.common import JsonOpt, WorkspaceArg, console, err_console, pct, print_json
from evplatform.cli.fleet_query import attach as attach_query_commands
from evplatform.errors import FleetError
from evplatform.fleet import campaigns as fc
from evplatform.fleet.demo import build_demo_database
from evplatform.fleet.plots import plot_waves
from evplatform.fleet.registry import import_csv
from evplatform.fleet.scenario import Scenario, load_scenario
from evplatform.fleet.simulator import scenario_failures, simulate_fleet, summary_json
from evplatform.fleet.stability import release_stability, updates_per_vehicle_per_quarter
from evplatform.fleet.uptane_link import UptaneLink
from evplatform.store import default_database_url, open_store, redact
from evplatform.store.campaigns import list_campaigns
from evplatform.workspace import load_workspace

fleet_app = typer.Typer(help="Vehicle fleet: registry, campaigns, simulation, stability.", no_args_is_help=True)

DatabaseOpt = Annotated[
    str | None,
    typer.Option("--database", help="Database URL (default: EVPLATFORM_DATABASE_URL or the workspace's .evplatform/)."),
]


ScenarioOpt = Annotated[
    Path | None,
    typer.Option("--scenario", help="Fleet scenario YAML (default: the workspace's fleet-scenario.yaml, else one "
                                    "derived from the workspace).", show_default=False),
]


def _say_scenario(scenario: Scenario) -> None:
    """Where the scenario came from, and what was assumed when it was derived (stderr: JSON stays clean)."""
    err_console.print(f"scenario: {scenario.source}", highlight=False)
    for note in scenario.notes:
        err_console.print(f"  [yellow]•[/] {note}", highlight=False)


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=err_console, transient=True,
    )


@fleet_app.command("scenario")
def scenario_command(workspace: WorkspaceArg = None, scenario_file: ScenarioOpt = None, as_json: JsonOpt = False
                     ) -> None:
    """The fleet scenario simulate and demo would run: its source, releases, shares and what was derived."""
    scenario = load_scenario(load_workspace(workspace), scenario_file)
    if as_json:
        print_json(scenario.to_dict())
        return
    console.print(f"[bold]scenario[/]: {scenario.source}", highlight=False)
    for note in scenario.notes:
        console.print(f"  [yellow]•[/] {note}", highlight=False)
    console.print(f"{scenario.fleet_size:,} vehicles, VIN prefix {scenario.vin_prefix}, seed {scenario.seed}, "
                  f"start {scenario.start:%Y-%m-%d}, window "
                  + ("–".join(scenario.window) if scenario.window else "any time"), highlight=False)
    shares = Table(title="Market shares", title_justify="left")
    shares.add_column("market")
    shares.add_column("share", justify="right")
    for market, share in scenario.market_shares.items():
        shares.add_row(market, pct(share))
    console.print(shares)
    releases = Table(title="Releases, in order", title_justify="left")
    for column in ("component", "version", "crashes"):
        releases.add_column(column)
    for r in scenario.releases:
        releases.add_row(r.component, r.version, f"{pct(r.crash_rate)} of {r.crash_cohort}" if r.crash_cohort else "—")
    console.print(releases)


@fleet_app.command("simulate")
def simulate(
    workspace: WorkspaceArg = None,
    vehicles: Annotated[int | None, typer.Option("--vehicles", help="How many vehicles to simulate (default: the "
                                                 "scenario's fleet_size).", show_default=False)] = None,
    scenario_file: ScenarioOpt = None,
    database: Annotated[
        str | None, typer.Option("--database", help="Keep the simulated fleet in this database (default: temporary).")
    ] = None,
    out: Annotated[Path, typer.Option("--out", help="Folder for the waves plot (PNG).")] = Path("out/fleet"),
    no_plot: Annotated[bool, typer.Option("--no-plot", help="Do not write the plot.")] = False,
    client: Annotated[
        str, typer.Option("--client", help="Who answers: 'simulated' (vectorised draws) or 'uptane' (real in-process "
                                           "Uptane clients, one per vehicle; slower).")
    ] = "simulated",
    as_json: JsonOpt = False,
) -> None:
    """N vehicles in the planned proportions through the scenario's releases (the demo's: a good one and a bad
    one that must halt)."""
    if client not in ("simulated", "uptane"):
        raise FleetError(f"--client must be 'simulated' or 'uptane', got {client!r}")
    ws = load_workspace(workspace)
    scenario = load_scenario(ws, scenario_file)
    vehicles = scenario.fleet_size if vehicles is None else vehicles
    _say_scenario(scenario)
    link = UptaneLink(scenario.seed, scenario_failures(scenario),
                      factory_versions={k: s.version for k, s in ws.software.items()}) if client == "uptane" else None
    with tempfile.TemporaryDirectory(prefix="evplatform-fleet-") as scratch:
        try:
            with open_store(database or f"sqlite:///{Path(scratch) / 'fleet.db'}") as store:
                with _progress() as bar:
                    populate_task = bar.add_task("registering vehicles", total=vehicles)
                    campaign_tasks: dict[int, TaskID] = {}

                    def on_populate(done: int) -> None:
                        bar.update(populate_task, completed=done)

                    def on_tick(campaign_id: int, now: datetime, step: fc.StepResult) -> None:
                        if campaign_id not in campaign_tasks:
                            info = fc.progress(store, campaign_id)
                            campaign_tasks[campaign_id] = bar.add_task(
                                f"campaign {campaign_id} {info['release']}", total=info["targets"]
                            )
                        bar.update(campaign_tasks[campaign_id], advance=step.reported)

                    result = simulate_fleet(store, ws, vehicles, scenario=scenario, on_populate=on_populate,
                                            on_tick=on_tick, link=link)
                kpis = [k.to_dict() for k in release_stability(store)]
                plot = None if no_plot else plot_waves(store, result.campaigns, out / "waves.png")
        finally:
            if link is not None:
                link.close()
    uptane = link.stats() if link is not None else None
    if as_json:
        data = summary_json(result, kpis)
        data["plot"] = str(plot) if plot else None
        data["client"] = client
        data["uptane"] = uptane
        print_json(data)
        return
    _render_campaigns(result.campaigns)
    _render_stability(kpis)
    console.print(f"{result.vehicles:,} vehicles in {result.seconds:.1f} s" + (f" — plot: {plot}" if plot else ""))
    if uptane is not None:
        console.print(f"Uptane client: {uptane['client_runs']:,} update cycles (full verification, A/B install, "
                      f"trial boot) at {uptane['vehicles_per_second']} vehicles/s "
                      f"({uptane['vehicles_per_cpu_second']} per CPU-second)")


def _render_campaigns(campaigns: list[dict[str, Any]]) -> None:
    for campaign in campaigns:
        state = campaign["state"]
        colour = {"completed": "green", "halted": "red"}.get(state, "yellow")
        table = Table(
            title=f"campaign {campaign['id']}: {campaign['release']} — [{colour}]{state}[/]", title_justify="left"
        )
        for column in ("wave", "share", "size", "succeeded", "failed", "rolled back", "pending", "state"):
            table.add_column(column, justify="left" if column in ("wave", "state") else "right")
        for wave in campaign["waves"]:
            table.add_row(
                str(wave["index"] + 1), f"{wave['fraction']:.0%}", f"{wave['size']:,}", f"{wave['succeeded']:,}",
                f"{wave['failed']:,}", f"{wave['rolled_back']:,}", f"{wave['pending']:,}", wave["state"],
            )
        console.print(table)
        if campaign["halt_reason"]:
            console.print(f"[red]halted:[/] {campaign['halt_reason']}")


def _render_stability(kpis: list[dict[str, Any]]) -> None:
    table = Table(title="Stability per release", title_justify="left")
    for column in ("release", "reports", "install success", "rollback", "crash-free 7 d"):
        table.add_column(column, justify="left" if column == "release" else "right")
    for k in kpis:
        table.add_row(
            k["release"], f"{k['reports']:,}", pct(k["install_success_rate"]), pct(k["rollback_rate"]),
            "too young" if k.get("too_young") else pct(k["crash_free_7d"]),
        )
    console.print(table)


@fleet_app.command("import")
def import_command(
    csv_file: Annotated[Path, typer.Argument(help="CSV with vin, model, trim, market[, timezone, consent_…].")],
    workspace: WorkspaceArg = None,
    database: DatabaseOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Register the vehicles of a CSV file (all rows or none)."""
    ws = load_workspace(workspace)
    with open_store(database or default_database_url(ws.root, bundled=workspace is None)) as store:
        count = import_csv(store, ws, csv_file)
    if as_json:
        print_json({"file": str(csv_file), "imported": count})
    else:
        console.print(f"imported {count:,} vehicles from {csv_file}")


@fleet_app.command("stability")
def stability(workspace: WorkspaceArg = None, database: DatabaseOpt = None, as_json: JsonOpt = False) -> None:
    """Install success, rollback and crash-free rates per release; updates per vehicle per quarter."""
    root = load_workspace(workspace).root
    with open_store(database or default_database_url(root, bundled=workspace is None)) as store:
        kpis = [k.to_dict() for k in release_stability(store)]
        quarters = updates_per_vehicle_per_quarter(store)
    if as_json:
        print_json({"releases": kpis, "quarters": quarters})
        return
    _render_stability(kpis)
    for q in quarters:
        per = q["updates_per_vehicle"]
        console.print(f"{q['quarter']}: {q['updates']:,} updates, {'—' if per is None else f'{per:.2f}'} per vehicle")


@fleet_app.command("campaigns")
def campaigns(workspace: WorkspaceArg = None, database: DatabaseOpt = None, as_json: JsonOpt = False) -> None:
    """Every campaign with its waves, state and halt reason."""
    root = load_workspace(workspace).root
    with open_store(database or default_database_url(root, bundled=workspace is None)) as store:
        found = [fc.progress(store, c.id) for c in list_campaigns(store)]
    if as_json:
        print_json({"campaigns": found})
        return
    if not found:
        console.print("no campaigns")
    _render_campaigns(found)


@fleet_app.command("campaign")
def campaign_control(
    action: Annotated[str, typer.Argument(help="pause, resume or cancel")],
    campaign_id: Annotated[int, typer.Argument(help="Campaign id.")],
    workspace: WorkspaceArg = None,
    database: DatabaseOpt = None,
    actor: Annotated[str, typer.Option("--as", help="Who does it (audit log).")] = "cli",
    reason: Annotated[str, typer.Option("--reason", help="Why (cancel).")] = "cancelled",
) -> None:
    """Pause, resume or cancel a campaign."""
    root = load_workspace(workspace).root
    with open_store(database or default_database_url(root, bundled=workspace is None)) as store:
        if action == "pause":
            fc.pause_campaign(store, campaign_id, actor=actor)
        elif action == "resume":
            fc.resume_campaign(store, campaign_id, actor=actor)
        elif action == "cancel":
            fc.cancel_campaign(store, campaign_id, actor=actor, reason=reason)
        else:
            raise FleetError(f"unknown action {action!r} (pause, resume or cancel)")
        state = fc.progress(store, campaign_id)["state"]
    console.print(f"campaign {campaign_id}: {state}")


@fleet_app.command("demo")
def demo(
    workspace: WorkspaceArg = None,
    vehicles: Annotated[int | None, typer.Option("--vehicles", help="Fleet size of a new demo database (default: "
                                                 "the scenario's fleet_size).", show_default=False)] = None,
    scenario_file: ScenarioOpt = None,
    database: DatabaseOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Build the demo database (simulated fleet, the scenario's campaigns, telemetry) unless it exists."""
    ws = load_workspace(workspace)
    scenario = load_scenario(ws, scenario_file)
    url = database or (None if workspace is None else default_database_url(ws.root))
    with err_console.status("building the demo database…"):
        built = build_demo_database(url, vehicles, workspace=ws, scenario=scenario)
    if built.created:
        _say_scenario(scenario)
    if as_json:
        print_json({"url": redact(built.url), "vehicles": built.vehicles, "created": built.created,
                    "campaigns": [{"id": c["id"], "release": c["release"], "state": c["state"]}
                                  for c in built.campaigns],
                    "scenario": scenario.to_dict() if built.created else None})
        return
    verb = "built" if built.created else "already there:"
    console.print(f"demo database {verb} {redact(built.url)} — {built.vehicles:,} vehicles, "
                  + ", ".join(f"{c['release']} {c['state']}" for c in built.campaigns))


attach_query_commands(fleet_app)


def register(app: typer.Typer) -> None:
    if "vehicle" not in {c.name for c in fleet_app.registered_commands}:
        fleet_detail.add_commands(fleet_app)
        fleet_commands.add_commands(fleet_app)
    app.add_typer(fleet_app, name="fleet")
