"""The compliance roadmap: when each model stops being compliant in each market, and the cheapest fix.

For every model × market × mode, the *events* are the dates on which a regulation comes into
force that the current configuration of at least one trim breaks ("unless something changes":
the configurations are the workspace's as they are). At each event the fix of each trim is
the closest valid configuration that meets *every* regulation in force on that day (not only
the new one, so a fix never trades one breach for another), the market's own selections kept
— ``variability.completion.minimal_change``: removals only where unavoidable, then the least
added cost. Fixes are cumulative: the fix at a later event includes the earlier ones.

Cost is the ``cost`` attribute of features.uvl (per vehicle, the platform's currency); over
the planned volume means × the trim's ``volume_per_year`` (models/*.yaml), which is the trim's
volume in all markets — the workspace has no per-market volumes, so it is an upper bound for a
market-specific change. Unverified regulations are not events unless ``include_unverified``;
otherwise the ones a trim breaks are listed under ``at_risk`` with their dates.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from evplatform.errors import VariabilityError
from evplatform.markets.reasons import unmet
from evplatform.markets.report import source_and_notes
from evplatform.markets.rules import (
    MODES,
    Mode,
    applicable_regulations,
    date_text,
    effective_date,
    in_force,
    require_market,
)
from evplatform.variability.completion import minimal_change
from evplatform.variability.model import Expr, Var
from evplatform.workspace.model import Regulation, Trim, Workspace


@dataclass(frozen=True, slots=True)
class Fix:
    added: tuple[str, ...]
    removed: tuple[str, ...]
    cost_per_vehicle: float  # net: cost of the fixed configuration − cost of the current one
    added_cost_per_vehicle: float


class _Fixer:
    """``minimal_change`` with a cache: DE, FR, IT share the EU's configurations and rules."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        self.cache: dict[tuple[frozenset[str], frozenset[str], tuple[str, ...]], Fix | str] = {}

    def fix(self, configuration: frozenset[str], rules: Sequence[Regulation], keep: tuple[str, ...]) -> Fix | str:
        """The cheapest change, or the reason (in words) why none exists."""
        key = (configuration, frozenset(r.id for r in rules), keep)
        if key not in self.cache:
            extra: list[Expr] = [r.requires for r in rules] + [Var(f) for f in keep]
            fm = self.ws.feature_model
            try:
                done = minimal_change(fm, configuration, extra, attribute="cost")
            except VariabilityError as error:
                self.cache[key] = str(error)
            else:
                self.cache[key] = Fix(
                    added=tuple(sorted(done.added)),
                    removed=tuple(sorted(done.removed)),
                    cost_per_vehicle=fm.attribute_sum(done.selected, "cost") - fm.attribute_sum(configuration, "cost"),
                    added_cost_per_vehicle=float(done.added_cost),
                )
        return self.cache[key]


def roadmap_report(ws: Workspace, markets: Sequence[str] | None = None, include_unverified: bool = False,
                   modes: Sequence[Mode] = MODES, as_of: date | None = None) -> dict[str, Any]:
    """The roadmap of every model sold in each market (default: all), in both modes.

    With ``as_of``, the events on or before that day are one event dated ``as_of`` (what is needed
    already), and the later ones follow; without it, every event since the first rule is listed.
    """
    fixer = _Fixer(ws)
    chosen = list(markets) if markets is not None else list(ws.markets)
    entries = []
    for market_id in chosen:
        market = require_market(ws, market_id)
        rules = applicable_regulations(ws, market_id)
        for model_id in market.models:
            trims = list(ws.models[model_id].trims)
            for mode in modes:
                entries.append(_entry(ws, fixer, market_id, model_id, trims, rules, mode, include_unverified,
                                      as_of))
    return {
        "platform": ws.platform.name,
        "currency": ws.platform.currency,
        "include_unverified": include_unverified,
        "as_of": as_of.isoformat() if as_of else None,
        "volume_basis": "volume_per_year of each trim in models/*.yaml, all markets together (an upper bound for one)",
        "roadmap": entries,
    }


def _entry(ws: Workspace, fixer: _Fixer, market_id: str, model_id: str, trims: list[Trim],
           rules: list[Regulation], mode: Mode, include_unverified: bool, as_of: date | None) -> dict[str, Any]:
    binding = [r for r in rules if effective_date(r, mode) is not None]
    counted = [r for r in binding if include_unverified or r.status == "confirmed"]
    configs = {t.key: ws.configuration(t, market_id) for t in trims}
    breaking = sorted({d for r in counted if (d := effective_date(r, mode)) is not None
                       and any(not r.requires.evaluate(c) for c in configs.values())})
    dates = breaking if as_of is None else ([as_of] if breaking and breaking[0] <= as_of else []) + [
        d for d in breaking if d > as_of]
    keep = tuple(sorted(ws.markets[market_id].select))
    events: list[dict[str, Any]] = []
    for index, day in enumerate(dates):
        in_force_now = [r for r in counted if in_force(r, day, mode)]
        since = dates[index - 1] if index else None
        event = _event(fixer, day, since, mode, trims, configs, in_force_now, keep)
        previous = {t["trim"]: t for t in events[-1]["trims"]} if events else {}
        for row in event["trims"]:
            before = previous.get(row["trim"], {"added": [], "removed": []})
            row["added_since_previous"] = [f for f in row["added"] if f not in before["added"]]
            row["removed_since_previous"] = [f for f in row["removed"] if f not in before["removed"]]
        events.append(event)
    at_risk = [
        {"regulation": r.id, "title": r.title, "applies_from": date_text(effective_date(r, mode)),
         "trims": [t.id for t in trims if not r.requires.evaluate(configs[t.key])],
         "missing": sorted({f for t in trims for f in unmet(r.requires, configs[t.key])[0]}),
         "notes": source_and_notes(r)[1]}
        for r in binding if r not in counted and any(not r.requires.evaluate(c) for c in configs.values())
    ]
    return {"model": model_id, "market": market_id, "mode": mode, "events": events, "at_risk": at_risk}


def _event(fixer: _Fixer, day: date, since: date | None, mode: Mode, trims: list[Trim],
           configs: dict[str, frozenset[str]], rules: list[Regulation], keep: tuple[str, ...]) -> dict[str, Any]:
    """The fix of each trim on ``day``; the regulations new since the previous event are listed."""
    new = [r for r in rules if since is None or (effective_date(r, mode) or day) > since]
    rows = []
    for trim in trims:
        config = configs[trim.key]
        failing = [r.id for r in rules if not r.requires.evaluate(config)]
        row: dict[str, Any] = {"trim": trim.id, "failing": failing, "volume_per_year": trim.volume_per_year}
        if failing:
            fix = fixer.fix(config, rules, keep)
            if isinstance(fix, Fix):
                row.update(added=list(fix.added), removed=list(fix.removed),
                           cost_per_vehicle=round(fix.cost_per_vehicle, 2),
                           added_cost_per_vehicle=round(fix.added_cost_per_vehicle, 2),
                           cost_per_year=round(fix.cost_per_vehicle * trim.volume_per_year, 2))
            else:
                row.update(added=[], removed=[], cost_per_vehicle=None, cost_per_year=None, error=fix)
        else:
            row.update(added=[], removed=[], cost_per_vehicle=0.0, added_cost_per_vehicle=0.0, cost_per_year=0.0)
        rows.append(row)
    return {
        "date": date_text(day),
        "new_regulations": [r.id for r in new if any(not r.requires.evaluate(configs[t.key]) for t in trims)],
        "trims": rows,
        "cost_per_year": round(sum(r["cost_per_year"] or 0.0 for r in rows), 2),
    }


def group_markets(report: dict[str, Any], on: str = "events") -> list[dict[str, Any]]:
    """Entries with the same model, mode and ``on`` (``events`` or ``at_risk``), their markets together.

    Returns ``[{"markets": [ids], "entry": first entry}]`` ordered by model, then mode; this is how
    the EU and the member states that add nothing of their own read as one line.
    """
    groups: dict[tuple[str, str, str], dict[str, Any]] = {}
    for entry in report["roadmap"]:
        key = (entry["model"], entry["mode"], json.dumps(entry[on], sort_keys=True))
        if key in groups:
            groups[key]["markets"].append(entry["market"])
        else:
            groups[key] = {"markets": [entry["market"]], "entry": entry}
    models = list(dict.fromkeys(e["model"] for e in report["roadmap"]))
    return sorted(groups.values(), key=lambda g: (models.index(g["entry"]["model"]),
                                                  MODES.index(g["entry"]["mode"])))


def at_risk_summary(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The unverified regulations a roadmap did not count, once each: models, markets, dates per mode."""
    out: dict[str, dict[str, Any]] = {}
    for entry in report["roadmap"]:
        for risk in entry["at_risk"]:
            item = out.setdefault(risk["regulation"], {"regulation": risk["regulation"], "title": risk["title"],
                                                       "missing": set(), "models": [], "markets": [], "from": {}})
            item["missing"].update(risk["missing"])
            for key, value in (("models", entry["model"]), ("markets", entry["market"])):
                if value not in item[key]:
                    item[key].append(value)
            item["from"][entry["mode"]] = risk["applies_from"]
    return [{**item, "missing": sorted(item["missing"])} for item in out.values()]
