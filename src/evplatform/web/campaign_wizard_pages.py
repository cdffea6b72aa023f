"""The campaign wizard, ``/campaigns/new`` (issue 16 §1): release, target, waves, rules, dry run, create.

The page is rendered once with the workspace's models, trims and markets (regions too), the
releases and the versions installed per ECU, prefilled from the query (``?markets=EU&models=su7``,
``?template=<campaign id>`` for a past campaign's plan, ``?group=<saved group>`` passed through to
the filter when it knows groups). ``static/campaign_wizard.js`` then asks the API: the live count
(``POST /api/campaigns/preview``, debounced), the dry run, and the creation (``POST /api/campaigns``);
every rule stays in ``fleet.campaign_planning`` and ``fleet.campaigns``.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from evplatform.errors import EvplatformError
from evplatform.fleet.campaign_planning import CampaignPlan, plan_of
from evplatform.fleet.gates import CONSENT_RULES, CampaignInputError, MaintenanceWindow
from evplatform.fleet.targets import TargetFilter
from evplatform.service.params import INT32_MAX, NAME_LENGTH, RELEASE_ID_LENGTH
from evplatform.store import dashboard as ddb
from evplatform.store import releases as rdb
from evplatform.web.pages import context_of, error_page, render

logger = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)

#: Bounds of a prefilled list in the query (the API bounds what is finally sent).
MAX_ITEMS = 100
MAX_ITEM_LENGTH = 2 * NAME_LENGTH + 1
MAX_EXPRESSION_LENGTH = 2_000
#: Query names that prefill each filter field (plural and singular both read).
LIST_FIELDS = {"models": ("models", "model"), "trims": ("trims", "trim"), "markets": ("markets", "market"),
               "current_versions": ("current_versions", "current_version", "version")}


def _listed(request: Request, names: tuple[str, ...]) -> tuple[str, ...]:
    """Values of the query parameters ``names``, repeated or comma-separated, bounded."""
    values = [v.strip() for name in names for raw in request.query_params.getlist(name) for v in raw.split(",")]
    values = [v for v in values if v]
    if len(values) > MAX_ITEMS or any(len(v) > MAX_ITEM_LENGTH for v in values):
        raise CampaignInputError(f"?{names[0]}: at most {MAX_ITEMS} values of {MAX_ITEM_LENGTH} characters")
    return tuple(dict.fromkeys(values))


def _text(request: Request, name: str, limit: int) -> str | None:
    value = request.query_params.get(name)
    if value is not None and len(value) > limit:
        raise CampaignInputError(f"?{name}: at most {limit:,} characters")
    return value.strip() if value and value.strip() else None


def prefill(request: Request, template: CampaignPlan | None) -> dict[str, Any]:
    """The form's first state: the template's plan (or the defaults), then whatever the query names."""
    plan = (template or CampaignPlan(release_id="")).to_dict()
    target = plan["target"]
    for field_name, names in LIST_FIELDS.items():
        given = _listed(request, names)
        if given:
            target[field_name] = list(given)
    expression = _text(request, "expression", MAX_EXPRESSION_LENGTH)
    if expression is not None:
        target["expression"] = expression
    release = _text(request, "release", RELEASE_ID_LENGTH)
    if release is not None:
        plan["release_id"] = release
    group = _text(request, "group", 200)
    # saved groups belong to the fleet search; the wizard passes one through when the filter knows them
    plan["group"] = group if group and "group" in {f.name for f in dataclasses.fields(TargetFilter)} else None
    if request.query_params.get("forced") in ("1", "true", "forced"):
        plan["forced"] = True
    if request.query_params.get("consent") in CONSENT_RULES:
        plan["consent"] = request.query_params["consent"]
    window = _text(request, "window", 11)
    if window is not None and "-" in window:
        plan["window"] = list(MaintenanceWindow.parse(*window.split("-", 1)).text())
    return plan


def _choices(request: Request) -> dict[str, Any]:
    """What the dropdowns offer: the workspace's models, trims, markets and regions; releases; versions."""
    context = context_of(request)
    ws = context.workspace()
    store = context.store()
    children: dict[str, list[str]] = {}
    for market in ws.markets.values():
        if market.parent:
            children.setdefault(market.parent, []).append(market.id)
    markets = [{"id": m.id, "name": m.name, "members": children.get(m.id, [])} for m in ws.markets.values()]
    ecus = sorted({s.ecu for s in ws.software.values()})
    versions = []
    for ecu, counts in ddb.software_versions(store, ecus).items():
        for label, n in counts.items():
            component, _, version = label.partition(" ")
            if version:
                versions.append({"ecu": ecu, "component": component, "version": version, "vehicles": n})
    releases = [{"id": r.id, "ecu": r.ecu, "component": r.component, "version": r.version}
                for r in rdb.list_releases(store)]
    return {
        "models": [{"id": m_id, "name": m.name} for m_id, m in ws.models.items()],
        "trims": [{"key": t.key, "name": t.name} for t in ws.trims()],
        "markets": [m for m in markets if m["members"]] + [m for m in markets if not m["members"]],
        "releases": releases, "versions": versions,
    }


@router.get("/campaigns/new", response_class=HTMLResponse)
def new_campaign_page(
    request: Request,
    template: Annotated[int | None, Query(ge=1, le=INT32_MAX, description="a campaign whose plan to copy")] = None,
) -> HTMLResponse:
    try:
        base = plan_of(context_of(request).store(), template) if template is not None else None
        plan = prefill(request, base)
        choices = _choices(request)
    except EvplatformError as error:
        return error_page(request, error)
    return render(request, "campaign_new.html", title="New campaign", plan=plan, template_id=template,
                  consent_rules=CONSENT_RULES, **choices)
