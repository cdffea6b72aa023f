"""One regulation, or one market, looked up: the JSON of `comply regulation` / `comply market` and their pages.

A homologation engineer asks two questions the matrix does not answer at a glance: *what does
this regulation demand, where, from when, and which trims break it?* and *what applies in this
market, from when, which trims fail, and what is the cheapest fix?* Both answers are built from
the same pieces as the matrix (``rules``, ``verdict``, ``report``) and the roadmap, so the numbers
agree everywhere. Which trims break a rule is a property of the trim's configuration in that
market, whatever the date; whether it *binds* on the asked date is per mode.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from evplatform.errors import NotFoundError
from evplatform.markets.grouping import collapse_members, roadmap_lines
from evplatform.markets.reasons import unmet
from evplatform.markets.report import compliance_report, regulation_dict
from evplatform.markets.roadmap import roadmap_report
from evplatform.markets.rules import MODES, applicable_regulations, date_text, effective_date, in_force, require_market
from evplatform.workspace.model import IN_FORCE, Regulation, Workspace

#: At most this many yearly columns, so a regulation dated decades ahead cannot widen a page without end.
MAX_COMPLIANCE_YEARS = 15


def require_regulation(ws: Workspace, regulation_id: str) -> Regulation:
    """The regulation, or a NotFoundError (404 on the web) naming the identifier."""
    try:
        return ws.regulations[regulation_id]
    except KeyError:
        raise NotFoundError("regulation", regulation_id) from None


def _describe(regulation: Regulation) -> dict[str, Any]:
    """The regulation's own fields with its first day per mode (``applies_from``: mode → date text)."""
    out = regulation_dict(regulation, "new_types")
    out["applies_from"] = {mode: date_text(effective_date(regulation, mode)) for mode in MODES}
    return out


def _breaking(ws: Workspace, regulation: Regulation, market_id: str) -> list[dict[str, Any]]:
    """The trims sold in the market whose configuration there breaks the regulation, with the change."""
    market = ws.markets[market_id]
    out = []
    for trim in ws.trims():
        if trim.model_id not in market.models:
            continue
        configuration = ws.configuration(trim, market_id)
        if not regulation.requires.evaluate(configuration):
            missing, violating = unmet(regulation.requires, configuration)
            out.append({"trim": trim.key, "missing": list(missing), "violating": list(violating)})
    return out


def regulation_view(ws: Workspace, regulation_id: str, on: date) -> dict[str, Any]:
    """A regulation, the markets it applies to (members of a market with the same answer folded in)."""
    regulation = require_regulation(ws, regulation_id)
    per_market: dict[str, dict[str, Any]] = {}
    for market_id in ws.markets:
        if regulation in applicable_regulations(ws, market_id):
            per_market[market_id] = {"binding_on_date": {mode: in_force(regulation, on, mode) for mode in MODES},
                                     "breaking_trims": _breaking(ws, regulation, market_id)}
    groups: dict[str, list[str]] = {}
    for market_id, answer in per_market.items():
        groups.setdefault(json.dumps(answer, sort_keys=True), []).append(market_id)
    markets = []
    for key, ids in groups.items():
        shown, members = collapse_members(ws, ids)
        markets.append({"markets": shown, "members": members, **json.loads(key)})
    return {"date": on.isoformat(), **_describe(regulation), "markets": markets,
            "warning": None if regulation.status == "confirmed" else
            "unverified: a broken rule is reported as a warning, never as a failure"}


def market_view(ws: Workspace, market_id: str, on: date) -> dict[str, Any]:
    """What applies in a market and from when, which trims fail, and the roadmap's cheapest fixes."""
    market = require_market(ws, market_id)
    rules = sorted(applicable_regulations(ws, market_id), key=_first_day)
    regulations = []
    for regulation in rules:
        regulations.append({**_describe(regulation),
                            "binding_on_date": {mode: in_force(regulation, on, mode) for mode in MODES},
                            "breaking_trims": _breaking(ws, regulation, market_id)})
    reports = {mode: compliance_report(ws, market_id, on, mode) for mode in MODES}
    plan = roadmap_report(ws, [market_id], as_of=on)
    return {
        "market": market_id, "name": market.name, "parent": market.parent, "lineage": ws.lineage(market_id),
        "launch_date": date_text(market.launch_date), "homologation_cycle": market.homologation_cycle,
        "unece": market.unece, "models": list(market.models), "date": on.isoformat(),
        "currency": ws.platform.currency,
        "summary": {mode: report["summary"] for mode, report in reports.items()},
        "failing": {mode: [f"{v['model']}/{v['trim']}" for v in report["verdicts"] if v["status"] == "non-compliant"]
                    for mode, report in reports.items()},
        "warnings": {mode: report["warnings"] for mode, report in reports.items()},
        "regulations": regulations,
        "roadmap": roadmap_lines(ws, plan),
        "volume_basis": plan["volume_basis"],
    }


def _first_day(regulation: Regulation) -> tuple[date, str]:
    """Order regulations by the first day they bind in either mode (never-binding ones last)."""
    days = [d for mode in MODES if (d := effective_date(regulation, mode)) is not None]
    return (min(days) if days else date.max, regulation.id)


def compliance_years(ws: Workspace, today: date) -> list[int]:
    """The years a by-year table shows, from the workspace's own dates.

    From the first market launch (nothing is sold before it; with no launch date, this year or the
    first regulation date if earlier) to the year after the last launch or regulation date, so the state after the
    last change shows too. "in force" regulations carry no date; a workspace with no date at all
    shows this year and the next six.
    """
    launches = [m.launch_date.year for m in ws.markets.values() if m.launch_date]
    rules = [d.year for r in ws.regulations.values() for d in (r.applies_new_types, r.applies_all)
             if d is not None and d != IN_FORCE]
    if not launches and not rules:
        return list(range(today.year, today.year + 7))
    first = min(launches or [*rules, today.year])
    last = max(launches + rules) + 1
    return list(range(first, min(last, first + MAX_COMPLIANCE_YEARS - 1) + 1))
