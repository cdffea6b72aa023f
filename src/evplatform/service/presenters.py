"""The payloads the JSON routes return and the dashboard pages draw, computed in one place.

Each function takes the application context (or the store) and returns JSON-ready data by
calling the domains: a page shows exactly the numbers its API route returns, and neither layer
imports the other. Results that depend only on the workspace are cached per workspace
(``AppContext.cached``).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from evplatform.fleet import campaigns as fc
from evplatform.fleet.timeline import campaign_timeline
from evplatform.insights import business_report, risks_report, scenarios_report
from evplatform.insights.scenarios import DEFAULT_DRAWS, DEFAULT_SEED, DEFAULT_SOBOL_SAMPLES
from evplatform.markets import compliance_report, roadmap_report
from evplatform.service.context import AppContext
from evplatform.service.views import iso
from evplatform.store import Store
from evplatform.store import campaigns as cdb
from evplatform.store import releases as rdb
from evplatform.store.stability import report_timeline
from evplatform.vehicle.drive_cycles import canonical_name
from evplatform.vehicle.simulate import simulate_workspace, workspace_cycle

REPORT_OUTCOMES = ("succeeded", "failed", "rolled_back")


# --- campaigns and releases --------------------------------------------------------------------


def campaign_progress(store: Store, campaign_id: int, *, timeline: bool = True) -> dict[str, Any]:
    """``fleet.progress`` as JSON (dates as ISO text), with the report timeline when asked.

    An unknown campaign is the store's ``NotFoundError`` (404 in the API, a 404 page on the dashboard).
    """
    data = fc.progress(store, campaign_id)
    for key in ("started_at", "finished_at"):
        data[key] = iso(data[key])
    data["reports"] = {o: sum(w[o] for w in data["waves"]) for o in REPORT_OUTCOMES}
    if timeline:
        data["timeline"] = campaign_timeline(report_timeline(store, campaign_id), _timeline_window(store, campaign_id))
    return data


def _timeline_window(store: Store, campaign_id: int) -> tuple[datetime, datetime] | None:
    """From the campaign's start to the last moment it knows of (its own simulated clock may run ahead)."""
    campaign = cdb.campaign(store, campaign_id)
    if campaign.started_at is None:
        return None
    known = [t for t in (store.now(), campaign.last_tick_at, campaign.finished_at) if t is not None]
    return campaign.started_at, max(known)


def release_view(r: rdb.ReleaseRecord) -> dict[str, Any]:
    return {"id": r.id, "component": r.component, "ecu": r.ecu, "hardware_id": r.hardware_id, "version": r.version,
            "compatible": r.compatible, "notes": r.notes, "created_at": iso(r.created_at)}


def approval_view(a: rdb.ApprovalRecord) -> dict[str, Any]:
    return {"market": a.market, "authority": a.authority, "reference": a.reference, "approved_by": a.approved_by,
            "approved_at": iso(a.approved_at)}


def release_detail(store: Store, release: rdb.ReleaseRecord,
                   campaigns: list[cdb.CampaignRecord] | None = None) -> dict[str, Any]:
    """A release with its approvals and the campaigns that deliver it (``campaigns``: all, to filter)."""
    data = release_view(release)
    data["approvals"] = [approval_view(a) for a in rdb.approvals(store, release.id)]
    chosen = cdb.list_campaigns(store, release_id=release.id) if campaigns is None else [
        c for c in campaigns if c.release_id == release.id]
    data["campaigns"] = [{"id": c.id, "name": c.name, "state": c.state} for c in chosen]
    return data


# --- workspace questions, cached per workspace -------------------------------------------------


def compliance(context: AppContext, market: str, on: date, mode: str = "new_types") -> dict[str, Any]:
    """The ``comply --json`` payload of a market on a date."""
    key = ("comply", market, on.isoformat(), mode)
    return context.cached(key, lambda: compliance_report(context.workspace(), market, on, mode=mode))


def roadmap(context: AppContext) -> dict[str, Any]:
    """The ``comply --roadmap --json`` payload."""
    return context.cached(("roadmap",), lambda: roadmap_report(context.workspace()))


def business(context: AppContext) -> dict[str, Any]:
    """The ``insights business --json`` payload."""
    return context.cached(("business",), lambda: business_report(context.workspace_path))


def scenarios(context: AppContext, draws: int = DEFAULT_DRAWS, seed: int = DEFAULT_SEED,
              sobol_samples: int = DEFAULT_SOBOL_SAMPLES) -> dict[str, Any]:
    """The ``insights scenarios --json`` payload, cached per workspace and (draws, seed, Sobol samples):
    the defaults are the CLI's, so the dashboard and the API answer what the command prints."""
    return context.cached(
        ("scenarios", draws, seed, sobol_samples),
        lambda: scenarios_report(context.workspace(), draws, seed, None, sobol_samples=sobol_samples),
    )


def risks(context: AppContext) -> dict[str, Any]:
    """The ``insights risks --json`` payload."""
    return context.cached(("risks",), lambda: risks_report(context.workspace()))


def simulation_results(
    context: AppContext, model: str | None = None, cycle: str | None = None, market: str | None = None
) -> dict[str, Any]:
    """The ``simulate --json`` payload; the same question is simulated once per workspace."""
    ws = context.workspace()
    name = canonical_name(cycle) if cycle else workspace_cycle(ws, market)
    rows = context.cached(("simulate", model, name, market), lambda: simulate_workspace(ws, model, name, market))
    return {"cycle": name, "market": market or ws.platform.base_market, "results": rows}
