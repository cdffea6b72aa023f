"""`evplatform campaign …`: watch one campaign and recover it after a halt (issue 16 §1).

`show` (state, waves, cohorts, history, what is allowed now) and `vehicles` (paged, by wave and
status) read; `pause`, `resume`, `ack`, `exclude`, `next-wave`, `retry` and `cancel` decide, each
checked against the domain's transition table and recorded in the campaign's history and the audit
log with `--as` as the actor. The JSON of every command is the API's for the same question.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.table import Table

from evplatform.cli import campaign_create
from evplatform.cli.common import JsonOpt, WorkspaceArg, console, pct, print_json
from evplatform.fleet import campaign_recovery as rec
from evplatform.fleet import campaigns as fc
from evplatform.service.campaign_views import cohorts_view, history_view, vehicles_view
from evplatform.service.presenters import campaign_progress
from evplatform.store import Store, default_database_url, open_store
from evplatform.workspace import load_workspace

campaign_app = typer.Typer(help="Campaigns: plan and create them (dry-run, create, start, template), watch them (show, "
                                "vehicles) and recover after a halt (ack, exclude, "
                                "next-wave, retry, resume) or cancel it.", no_args_is_help=True)


class Status(StrEnum):
    """A vehicle's status in a campaign (``store.campaign_roster`` says how each is derived)."""

    pending = "pending"
    postponed = "postponed"
    downloading = "downloading"
    offline = "offline"
    installed = "installed"
    crashed = "crashed"
    failed = "failed"
    rolled_back = "rolled_back"
    excluded = "excluded"
    cancelled = "cancelled"


CampaignArg = Annotated[int, typer.Argument(help="Campaign id.", min=1, max=2**31 - 1)]
DatabaseOpt = Annotated[
    str | None,
    typer.Option("--database", help="Database URL (default: EVPLATFORM_DATABASE_URL or the workspace's .evplatform/)."),
]
ActorOpt = Annotated[str, typer.Option("--as", help="Who decides (recorded in the history and the audit log).")]
ReasonOpt = Annotated[str, typer.Option("--reason", help="Why (required; kept in the history).")]


@contextmanager
def _store(workspace: Any, database: str | None) -> Iterator[Store]:
    root = load_workspace(workspace).root
    with open_store(database or default_database_url(root, bundled=workspace is None)) as store:
        yield store


def _decided(store: Store, campaign_id: int, as_json: bool, extra: dict[str, Any] | None = None) -> None:
    """Print the campaign after a decision: its JSON (the API's), or one line."""
    data = {**campaign_progress(store, campaign_id, timeline=False), **(extra or {})}
    if as_json:
        print_json(data)
        return
    more = "".join(f", {k.replace('_', ' ')} {v:,}" for k, v in (extra or {}).items())
    console.print(f"campaign {campaign_id}: {data['state']}{more}; now allowed: "
                  f"{', '.join(data['allowed_actions']) or 'nothing'}", highlight=False)


def _decide(workspace: Any, database: str | None, campaign_id: int, as_json: bool,
            act: Callable[[Store], dict[str, Any] | None]) -> None:
    with _store(workspace, database) as store:
        extra = act(store)
        _decided(store, campaign_id, as_json, extra)


@campaign_app.command("show")
def show(campaign_id: CampaignArg, workspace: WorkspaceArg = None, database: DatabaseOpt = None,
         as_json: JsonOpt = False) -> None:
    """State, waves, cohorts per wave, the history of decisions, and the actions allowed now."""
    with _store(workspace, database) as store:
        data = campaign_progress(store, campaign_id, timeline=False)
        data["cohorts"] = cohorts_view(store, campaign_id)
        data["history"] = history_view(store, campaign_id)["history"]
    if as_json:
        print_json(data)
        return
    console.print(f"[bold]campaign {data['id']}[/] {data['name']} — {data['release']}: {data['state']}; "
                  f"{data['targets']:,} targets", highlight=False)
    for key, label in (("halt_reason", "halt reason"), ("acknowledgement", "acknowledged"),
                       ("cancel_reason", "cancel reason")):
        if data.get(key):
            console.print(f"{label}: {data[key]}", highlight=False)
    console.print(f"allowed now: {', '.join(data['allowed_actions']) or 'nothing'}", highlight=False)
    _waves_table(data["waves"])
    _cohorts_table(data["cohorts"])
    _history_table(data["history"])


def _waves_table(waves: list[dict[str, Any]]) -> None:
    table = Table(title="Waves", title_justify="left")
    for column in ("wave", "state", "size", "succeeded", "failed", "rolled back", "crashed", "pending", "excluded"):
        table.add_column(column, justify="left" if column in ("wave", "state") else "right")
    for w in waves:
        table.add_row(str(w["index"] + 1), w["state"], *(f"{w[k]:,}" for k in (
            "size", "succeeded", "failed", "rolled_back", "crashed", "pending", "excluded")))
    console.print(table)


def _cohorts_table(rows: list[dict[str, Any]]) -> None:
    table = Table(title="Cohorts per wave", title_justify="left")
    for column in ("wave", "cohort", "size", "succeeded", "failed", "rolled back", "crashed", "error rate",
                   "excluded"):
        table.add_column(column, justify="left" if column in ("wave", "cohort") else "right")
    for r in rows:
        table.add_row(str(r["wave"]), r["cohort"], *(f"{r[k]:,}" for k in (
            "size", "succeeded", "failed", "rolled_back", "crashed")), pct(r["error_rate"]), f"{r['excluded']:,}")
    console.print(table)


def _history_table(rows: list[dict[str, Any]]) -> None:
    table = Table(title="History", title_justify="left")
    for column in ("at (UTC)", "who", "action", "from → to", "reason"):
        table.add_column(column)
    for h in rows:
        table.add_row(h["at"][:19].replace("T", " "), h["actor"], h["action"], f"{h['from']} → {h['to']}",
                      h["reason"])
    console.print(table)


@campaign_app.command("vehicles")
def vehicles(
    campaign_id: CampaignArg,
    workspace: WorkspaceArg = None,
    wave: Annotated[int | None, typer.Option("--wave", min=1, help="Only this wave (1-based).")] = None,
    status: Annotated[Status | None, typer.Option("--status", help="Only vehicles in this status.")] = None,
    page: Annotated[int, typer.Option("--page", min=1, help="Page number, from 1.")] = 1,
    size: Annotated[int, typer.Option("--size", min=1, max=rec.MAX_PAGE_SIZE, help="Vehicles per page.")] = 50,
    after: Annotated[int | None, typer.Option("--after", min=0, help="Page by key: the previous page's next_after "
                                              "(--page is then not used); cheap at any depth.")] = None,
    database: DatabaseOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The campaign's vehicles with their status, failure reason and reported detail, a page at a time."""
    query = rec.VehicleQuery(wave=None if wave is None else wave - 1, status=status.value if status else None,
                             page=page, size=size, after=after)
    with _store(workspace, database) as store:
        data = vehicles_view(store, campaign_id, query)
    if as_json:
        print_json(data)
        return
    where = f"after {after}" if after is not None else f"page {data['page']:,} of {data['pages']:,}"
    table = Table(title=f"campaign {campaign_id}: {where} ({data['total']:,} vehicles)", title_justify="left")
    for column in ("vin", "trim", "market", "wave", "status", "attempts", "failure reason"):
        table.add_column(column, justify="right" if column in ("wave", "attempts") else "left")
    for v in data["vehicles"]:
        status_text = v["status"] + (" (excluded)" if v["excluded"] and v["status"] != "excluded" else "")
        table.add_row(v["vin"], v["cohort"], v["market"], str(v["wave"]), status_text, str(v["attempts"]),
                      v["failure_reason"] or "")
    console.print(table)
    if data["message"]:
        console.print(data["message"], highlight=False)
    console.print(", ".join(f"{k} {n:,}" for k, n in data["counts"].items() if n), highlight=False)
    if data["next_after"] is not None:
        console.print(f"next page: --after {data['next_after']}", highlight=False)


@campaign_app.command("pause")
def pause(campaign_id: CampaignArg, workspace: WorkspaceArg = None, database: DatabaseOpt = None,
          actor: ActorOpt = "cli", as_json: JsonOpt = False) -> None:
    """Stop offering until resumed (running campaigns)."""
    _decide(workspace, database, campaign_id, as_json,
            lambda store: fc.pause_campaign(store, campaign_id, actor=actor))


@campaign_app.command("resume")
def resume(campaign_id: CampaignArg, workspace: WorkspaceArg = None, database: DatabaseOpt = None,
           actor: ActorOpt = "cli",
           reason: Annotated[str | None, typer.Option("--reason", help="Why (optional).")] = None,
           as_json: JsonOpt = False) -> None:
    """Offer again after a pause, or after a halt that was acknowledged."""
    _decide(workspace, database, campaign_id, as_json,
            lambda store: fc.resume_campaign(store, campaign_id, actor=actor, reason=reason))


@campaign_app.command("ack")
def ack(campaign_id: CampaignArg,
        comment: Annotated[str, typer.Option("--comment", help="What was found, what happens next (required).")],
        workspace: WorkspaceArg = None, database: DatabaseOpt = None, actor: ActorOpt = "cli",
        as_json: JsonOpt = False) -> None:
    """Acknowledge a halt with a comment; then resume, exclude, retry, open the next wave or cancel."""
    _decide(workspace, database, campaign_id, as_json,
            lambda store: rec.acknowledge(store, campaign_id, actor=actor, comment=comment))


@campaign_app.command("exclude")
def exclude(
    campaign_id: CampaignArg,
    reason: ReasonOpt,
    workspace: WorkspaceArg = None,
    model: Annotated[str | None, typer.Option("--model", help="A model id (e.g. su7).")] = None,
    trim: Annotated[str | None, typer.Option("--trim", help="A trim of --model (e.g. max).")] = None,
    market: Annotated[str | None, typer.Option("--market", help="A market id (e.g. DE).")] = None,
    resume_after: Annotated[bool, typer.Option("--resume", help="Then resume it (when paused or acknowledged).")
                            ] = False,
    database: DatabaseOpt = None,
    actor: ActorOpt = "cli",
    as_json: JsonOpt = False,
) -> None:
    """Leave a model, model/trim or market out: never offered again, not counted by the gate."""

    def act(store: Store) -> dict[str, Any]:
        return {"vehicles_affected": rec.exclude(store, campaign_id, rec.Cohort(model, trim, market), actor=actor,
                                                 reason=reason, resume=resume_after)}

    _decide(workspace, database, campaign_id, as_json, act)


@campaign_app.command("next-wave")
def next_wave(campaign_id: CampaignArg, reason: ReasonOpt, workspace: WorkspaceArg = None,
              database: DatabaseOpt = None, actor: ActorOpt = "cli", as_json: JsonOpt = False) -> None:
    """Open the next wave now, before its gate passes (hawkBit's "trigger next group")."""
    _decide(workspace, database, campaign_id, as_json, lambda store: {
        "opened_wave": rec.open_next_wave(store, campaign_id, actor=actor, reason=reason) + 1})


@campaign_app.command("retry")
def retry(campaign_id: CampaignArg, reason: ReasonOpt, workspace: WorkspaceArg = None,
          wave: Annotated[int | None, typer.Option("--wave", min=1, help="Only this wave (1-based).")] = None,
          database: DatabaseOpt = None, actor: ActorOpt = "cli", as_json: JsonOpt = False) -> None:
    """Offer the release again to the failed and rolled-back vehicles (their reports are kept)."""
    _decide(workspace, database, campaign_id, as_json, lambda store: {
        "vehicles_affected": rec.retry_failed(store, campaign_id, actor=actor, reason=reason,
                                              wave=None if wave is None else wave - 1)})


@campaign_app.command("cancel")
def cancel(campaign_id: CampaignArg, reason: ReasonOpt, workspace: WorkspaceArg = None,
           database: DatabaseOpt = None, actor: ActorOpt = "cli", as_json: JsonOpt = False) -> None:
    """Stop for good; a halt's reason and the waves' states stay as they were."""
    _decide(workspace, database, campaign_id, as_json,
            lambda store: fc.cancel_campaign(store, campaign_id, actor=actor, reason=rec.checked_reason(reason,
                                                                                                       "cancel")))


def register(app: typer.Typer) -> None:
    # `campaign create|start|dry-run|template` come from cli/campaign_create.py
    if "create" not in {c.name for c in campaign_app.registered_commands}:
        campaign_create.add_to(campaign_app)
    app.add_typer(campaign_app, name="campaign")
