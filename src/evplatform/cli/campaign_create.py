"""`evplatform campaign create|start|dry-run|template`: plan a campaign, see what it would do, create it.

Issue 16 §1. The commands parse options into a ``fleet.campaign_planning.CampaignPlan`` and call the
domain: ``dry_run`` (writes nothing), ``fleet.campaigns.create_campaign`` /
``create_and_start_campaign`` (a refused start leaves no draft) and ``start_campaign``.
``--template ID`` starts from a past campaign's plan; every other option given overrides it.
"""

from __future__ import annotations

import enum
import re
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any

import click
import typer
from rich.table import Table
from typer.core import TyperCommand

from evplatform.cli.common import JsonOpt, WorkspaceArg, console, print_json
from evplatform.fleet import campaigns as fc
from evplatform.fleet.campaign_planning import CampaignPlan, DryRun, dry_run, plan_of
from evplatform.fleet.gates import DEFAULT_WAVES, CampaignInputError, MaintenanceWindow, WavePolicy
from evplatform.fleet.targets import TargetFilter
from evplatform.store import Store, default_database_url, open_store
from evplatform.workspace import Workspace, load_workspace


class Update(enum.StrEnum):
    """Forced or soft: whether the driver may postpone the offer."""

    soft = "soft"
    forced = "forced"


class Consent(enum.StrEnum):
    """The consent rule (``fleet.gates.CONSENT_RULES``): choices listed in --help, no free text."""

    auto = "auto"
    required = "required"
    not_required = "not_required"


DatabaseOpt = Annotated[
    str | None,
    typer.Option("--database", help="Database URL (default: EVPLATFORM_DATABASE_URL or the workspace's .evplatform/)."),
]
ReleaseOpt = Annotated[str | None, typer.Option("--release", help="Release id to roll out (<component>-<version>); "
                                                "required unless --template gives it.", show_default=False)]
TemplateOpt = Annotated[int | None, typer.Option("--template", min=1, help="Start from campaign ID's plan; the "
                                                 "other options override it.", show_default=False)]
NameOpt = Annotated[str | None, typer.Option("--name", help="Campaign name (default: '<release> campaign').",
                                             show_default=False)]
ModelOpt = Annotated[list[str] | None, typer.Option("--model", help="Target model id (repeat; none: every model).",
                                                    show_default=False)]
TrimOpt = Annotated[list[str] | None, typer.Option("--trim", help="Target trim as model/trim (repeat).",
                                                   show_default=False)]
MarketOpt = Annotated[list[str] | None, typer.Option("--market", help="Target market or region (repeat; a region "
                                                     "covers its member markets).", show_default=False)]
ExpressionOpt = Annotated[str | None, typer.Option("--expression", help="Feature expression on the vehicle's "
                                                   "configuration, e.g. 'FeatureA & !FeatureB'.",
                                                   show_default=False)]
VersionOpt = Annotated[list[str] | None, typer.Option("--current-version", help="Only vehicles running this "
                                                      "version on the release's ECU (repeat).", show_default=False)]
WaveOpt = Annotated[list[str] | None, typer.Option(
    "--wave", help="A wave as SHARE[:SUCCESS[:ERROR[:SOAK]]]: cumulative share of the targets in %, success "
                   "threshold in % (default 90), error threshold in % (default 2), soak in hours (default 0); "
                   "repeat in order, the last at 100. Default plan: 1, 10, 50, 100.", show_default=False)]
UpdateOpt = Annotated[Update | None, typer.Option(
    "--update", case_sensitive=False, help="soft: offered only to vehicles whose owner consents to updates "
                                           "(default); forced: every target, without asking (recall).",
    show_default=False)]
ConsentOpt = Annotated[Consent | None, typer.Option(
    "--consent", case_sensitive=False, help="auto (default): soft asks for the owner's consent, forced does not; "
                                            "required: only vehicles whose owner consents to updates; "
                                            "not_required: every target, without asking.", show_default=False)]
WindowOpt = Annotated[str | None, typer.Option("--window", help="Daily local maintenance window HH:MM-HH:MM, e.g. "
                                               "01:00-05:00 (may span midnight); 'none' for any time.",
                                               show_default=False)]
SeedOpt = Annotated[int | None, typer.Option("--seed", min=0, max=2**31 - 1, help="Orders the vehicles into waves "
                                             "(default 0).", show_default=False)]
ActorOpt = Annotated[str, typer.Option("--as", help="Who does it (audit log).")]

_WAVE = re.compile(r"^\s*(\d+(?:\.\d+)?)(?::(\d+(?:\.\d+)?))?(?::(\d+(?:\.\d+)?))?(?::(\d+(?:\.\d+)?))?\s*$")


def parse_wave(text: str) -> WavePolicy:
    """``SHARE[:SUCCESS[:ERROR[:SOAK]]]`` (percent, percent, percent, hours) as a wave policy."""
    match = _WAVE.match(text)
    if match is None:
        raise CampaignInputError(f"--wave {text!r}: expected SHARE[:SUCCESS[:ERROR[:SOAK]]], e.g. 10:95:2:24")
    share, success, error, soak = match.groups()
    return WavePolicy(float(share) / 100, float(success or 90) / 100, float(error or 2) / 100, float(soak or 0))


def parse_window(text: str) -> MaintenanceWindow | None:
    if text.strip().lower() == "none":
        return None
    start, sep, end = text.partition("-")
    if not sep:
        raise CampaignInputError(f"--window {text!r}: expected HH:MM-HH:MM, e.g. 01:00-05:00")
    return MaintenanceWindow.parse(start.strip(), end.strip())


def build_plan(store: Store, *, template: int | None, release: str | None, name: str | None,
               models: list[str] | None, trims: list[str] | None, markets: list[str] | None,
               expression: str | None, versions: list[str] | None, waves: list[str] | None,
               update: Update | None, window: str | None, seed: int | None,
               consent: Consent | None = None) -> CampaignPlan:
    """The plan the options describe: the template's (or the defaults), with every given option applied."""
    if template is not None:
        base = plan_of(store, template)
    elif release is None:
        raise CampaignInputError("--release: name the release to roll out (or --template ID to copy a campaign)")
    else:
        base = CampaignPlan(release_id=release, name=f"{release} campaign")
    target = base.target
    target = TargetFilter(
        models=tuple(models) if models else target.models,
        trims=tuple(trims) if trims else target.trims,
        markets=tuple(markets) if markets else target.markets,
        expression=expression if expression is not None else target.expression,
        current_versions=tuple(versions) if versions else target.current_versions,
    )
    return replace(
        base,
        release_id=release or base.release_id,
        name=name or (base.name if template is not None or release is None else f"{release} campaign"),
        target=target,
        waves=tuple(parse_wave(w) for w in waves) if waves else (base.waves or DEFAULT_WAVES),
        forced=base.forced if update is None else update is Update.forced,
        consent=base.consent if consent is None else consent.value,
        window=base.window if window is None else parse_window(window),
        seed=base.seed if seed is None else seed,
    )


def _open(workspace: Path | None, database: str | None) -> tuple[Workspace, Store]:
    ws = load_workspace(workspace)
    return ws, open_store(database or default_database_url(ws.root, bundled=workspace is None))


def _render_plan(plan: dict[str, Any]) -> None:
    target = plan["target"]
    parts = [f"{key} {', '.join(target[key])}" for key in ("models", "trims", "markets", "current_versions")
             if target[key]]
    if target["expression"]:
        parts.append(f"expression {target['expression']}")
    console.print(f"[bold]{plan['name']}[/] — release {plan['release_id']}", highlight=False)
    console.print(f"target: {'; '.join(parts) or 'the whole fleet'}", highlight=False)
    console.print(f"update: {'forced' if plan['forced'] else 'soft'} · consent {plan['consent_rule']}",
                  highlight=False)
    console.print(f"window: {'–'.join(plan['window']) if plan['window'] else 'any time'} (local) · seed {plan['seed']}",
                  highlight=False)
    table = Table("wave", "share of targets", "success ≥", "errors ≤", "soak")
    for i, w in enumerate(plan["waves"], 1):
        table.add_row(str(i), f"{100 * w['fraction']:g} %", f"{100 * w['success_threshold']:g} %",
                      f"{100 * w['error_threshold']:g} %", f"{w['soak_hours']:g} h")
    console.print(table)


def _render_dry_run(found: DryRun) -> None:
    data = found.to_dict()
    _render_plan(data["plan"])
    console.print(f"matched {data['matched']:,} vehicles · targets {data['targets']['vehicles']:,} · waves "
                  + " + ".join(f"{n:,}" for n in data["wave_sizes"]), highlight=False)
    table = Table("left out because", "vehicles", "sample VINs", title="Excluded", title_justify="left")
    for e in data["excluded"]:
        table.add_row(e["reason"], f"{e['vehicles']:,}", ", ".join(e["sample_vins"]))
    console.print(table)
    approvals = data["approvals"]
    console.print(f"approvals: needed in {', '.join(approvals['required']) or 'no target market'}; missing in "
                  f"{', '.join(approvals['missing']) or 'none'}", highlight=False)
    for blocker in data["blockers"]:
        console.print(f"[red]would be refused:[/] {blocker}", highlight=False)
    if found.can_start:
        console.print("[green]would start[/]")


class WorkspaceHelp(TyperCommand):
    """A command whose ``--help`` ends with the choices of the workspace it is given (its models, trims
    and markets), read when the help is asked for: another platform's help names its own."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.meta["evplatform.raw_args"] = list(args)  # ``--help`` is answered before WORKSPACE is parsed
        return super().parse_args(ctx, args)

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        self.epilog = workspace_choices(ctx.meta.get("evplatform.raw_args", []))
        super().format_help(ctx, formatter)


def workspace_choices(args: list[str]) -> str:
    """The choices of the workspace named by the first argument that is a folder (else the default one)."""
    folder = next((Path(a) for a in args if not a.startswith("-") and Path(a).is_dir()), None)
    try:
        ws = load_workspace(folder)
    except Exception as error:  # help must answer even for a broken workspace: say why there is no list
        return f"(no workspace choices: {str(error).splitlines()[0]})"
    regions = {m.parent for m in ws.markets.values() if m.parent}
    return "\n\n".join([
        f"Choices in workspace {ws.root.name}:",
        "--model: " + ", ".join(sorted(ws.models)),
        "--trim: " + ", ".join(t.key for t in ws.trims()),
        "--market: " + ", ".join(sorted(m for m in ws.markets if m not in regions))
        + ("; regions: " + ", ".join(sorted(regions)) if regions else ""),
    ])


def add_to(app: typer.Typer) -> None:
    """Add ``create``, ``start``, ``dry-run`` and ``template`` to the ``campaign`` group ``app``."""
    app.command("create", cls=WorkspaceHelp)(create)
    app.command("start")(start)
    app.command("dry-run", cls=WorkspaceHelp)(dry_run_command)
    app.command("template")(template)


def create(
    workspace: WorkspaceArg = None, release: ReleaseOpt = None, template_id: TemplateOpt = None, name: NameOpt = None,
    model: ModelOpt = None, trim: TrimOpt = None, market: MarketOpt = None, expression: ExpressionOpt = None,
    current_version: VersionOpt = None, wave: WaveOpt = None, update: UpdateOpt = None, window: WindowOpt = None,
    seed: SeedOpt = None, consent: ConsentOpt = None,
    start_now: Annotated[bool, typer.Option("--start", help="Start at once: targets chosen, approvals checked; a "
                                            "refused start leaves no draft behind.")] = False,
    actor: ActorOpt = "cli", database: DatabaseOpt = None, as_json: JsonOpt = False,
) -> None:
    """Create a campaign as a draft, or with --start create and start it in one step."""
    ws, store = _open(workspace, database)
    with store:
        plan = build_plan(store, template=template_id, release=release, name=name, models=model, trims=trim,
                          markets=market, expression=expression, versions=current_version, waves=wave,
                          update=update, window=window, seed=seed, consent=consent)
        settings: dict[str, Any] = {
            "name": plan.name, "release_id": plan.release_id, "target": plan.target, "waves": plan.waves,
            "forced": plan.forced, "consent": plan.consent, "window": plan.window, "seed": plan.seed,
            "actor": actor, "workspace": ws,
        }
        excluded = None
        if start_now:
            campaign_id, summary = fc.create_and_start_campaign(store, **settings)
            excluded = summary.excluded
        else:
            campaign_id = fc.create_campaign(store, **settings)
        progress = fc.progress(store, campaign_id)
    out = {**progress, "plan": plan.to_dict(), "excluded": excluded}
    if as_json:
        print_json(out)
        return
    console.print(f"campaign {campaign_id} ({plan.name}): {progress['state']}, {progress['targets']:,} targets",
                  highlight=False)


def start(
    campaign_id: Annotated[int, typer.Argument(min=1, help="A draft campaign's id.")],
    workspace: WorkspaceArg = None, actor: ActorOpt = "cli", database: DatabaseOpt = None, as_json: JsonOpt = False,
) -> None:
    """Start a draft: choose its targets, check approvals, open the first wave."""
    _ws, store = _open(workspace, database)
    with store:
        summary = fc.start_campaign(store, campaign_id, actor=actor)
        progress = fc.progress(store, campaign_id)
    if as_json:
        print_json({**progress, "excluded": summary.excluded})
        return
    console.print(f"campaign {campaign_id}: {progress['state']}, {summary.targets:,} targets in waves of "
                  + " + ".join(f"{n:,}" for n in summary.waves), highlight=False)
    for reason, n in summary.excluded.items():
        console.print(f"  left out, {reason}: {n:,}", highlight=False)


def dry_run_command(
    workspace: WorkspaceArg = None, release: ReleaseOpt = None, template_id: TemplateOpt = None,
    model: ModelOpt = None, trim: TrimOpt = None, market: MarketOpt = None, expression: ExpressionOpt = None,
    current_version: VersionOpt = None, wave: WaveOpt = None, update: UpdateOpt = None, window: WindowOpt = None,
    seed: SeedOpt = None, consent: ConsentOpt = None, database: DatabaseOpt = None, as_json: JsonOpt = False,
) -> None:
    """Who a campaign would target, who not and why, its waves and missing approvals; writes nothing.

    Exits 0 whether or not it would start; the JSON's can_start and blockers say which.
    """
    ws, store = _open(workspace, database)
    with store:
        plan = build_plan(store, template=template_id, release=release, name=None, models=model, trims=trim,
                          markets=market, expression=expression, versions=current_version, waves=wave,
                          update=update, window=window, seed=seed, consent=consent)
        found = dry_run(store, plan, now=store.now(), workspace=ws)
    if as_json:
        print_json(found.to_dict())
        return
    _render_dry_run(found)


def template(
    campaign_id: Annotated[int, typer.Argument(min=1, help="The campaign to copy.")],
    workspace: WorkspaceArg = None, database: DatabaseOpt = None, as_json: JsonOpt = False,
) -> None:
    """A campaign's plan (target, waves, forced/soft, window, seed) as the start of a new one."""
    _ws, store = _open(workspace, database)
    with store:
        plan = plan_of(store, campaign_id)
    if as_json:
        print_json({**plan.to_dict(), "template_of": campaign_id})
        return
    _render_plan(plan.to_dict())
    console.print(f"use it: evplatform campaign create --template {campaign_id} [options that differ]",
                  highlight=False)
