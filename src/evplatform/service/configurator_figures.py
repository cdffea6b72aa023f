"""Live figures of a configurator session and its closest compliant configuration (issue 15 section 2).

After every decision the page asks for the figures of the configuration so far: BOM and unit cost
with the difference to the base trim (the trim the session started from, or one chosen), mass,
range and consumption on each market's homologation cycle (CLTC for China, WLTC for Europe: the
market's ``homologation_cycle``) and the compliance verdict in the chosen markets on a date with
the features missing. A partial configuration has no range or BOM yet, so the figures are those of
its *cheapest completion* (fewest overturned decisions — none —, least cost, fewest features:
``variability.closest``) and the answer says so (``basis``) and lists what the completion adds.

The engines are the project's own: ``platform.bom_of`` and ``platform.kpi.trim_costs`` (unit cost =
BOM + development share), ``vehicle.simulate_vehicles`` (the batch simulator, on the configuration's
aggregated attributes, as ``simulate`` does for a trim), ``markets.configuration`` (the verdict and
the closest compliant configuration). This module only assembles them for one session.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence, Set
from datetime import date
from typing import Any

from evplatform.errors import EvplatformError, NotFoundError, VariabilityError
from evplatform.markets.configuration import (
    closest_compliant,
    configuration_verdict,
    in_market,
    market_selections,
)
from evplatform.markets.rules import Mode, require_market
from evplatform.markets.verdict import Reason
from evplatform.platform import bom_of
from evplatform.platform.kpi import trim_costs
from evplatform.service.configurator import ConfiguratorSession
from evplatform.variability.closest import closest_to_decisions
from evplatform.workspace.model import Workspace, aggregate_attributes

logger = logging.getLogger(__name__)

#: Markets one figures request may name (the demo has six).
MAX_MARKETS = 12
#: Completions remembered (per session and decisions): the page asks for figures after each decision.
_CACHE_SIZE = 128
_cache: OrderedDict[tuple[str, tuple[str, ...], tuple[str, ...]], frozenset[str]] = OrderedDict()
_cache_lock = threading.Lock()


def session_market(ws: Workspace, session: ConfiguratorSession) -> str:
    """The market the session configures for (from scratch: the platform's base market)."""
    return session.market or ws.platform.base_market


def configuration_so_far(session: ConfiguratorSession) -> tuple[frozenset[str], str, list[str]]:
    """The configuration the figures are computed on, its basis and what the completion added.

    Complete (every feature decided or forced): the decisions and their consequences. Otherwise the
    cheapest completion of the decisions, remembered per decisions.
    """
    state = session.state()
    chosen = frozenset(state["selected"]) | {row["feature"] for row in state["forced"]}
    if not state["open"]:  # every feature decided or forced (``complete`` is the propagation's own flag)
        return chosen, "complete", []
    closure = frozenset(session.model.mandatory_closure(chosen))
    if _least(session, closure, state["deselected"]):
        return closure, "cheapest completion", sorted(closure - chosen, key=session.cnf.var.__getitem__)
    key = (session.id, tuple(sorted(state["selected"])), tuple(sorted(state["deselected"])))
    with _cache_lock:
        done = _cache.get(key)
    if done is None:
        done = closest_to_decisions(session.model, state["selected"], state["deselected"]).selected
        with _cache_lock:
            _cache[key] = done
            while len(_cache) > _CACHE_SIZE:
                _cache.popitem(last=False)
    return done, "cheapest completion", sorted(done - chosen, key=session.cnf.var.__getitem__)


def _least(session: ConfiguratorSession, closure: frozenset[str], deselected: Sequence[str]) -> bool:
    """Whether the tree closure of what is chosen is already the cheapest completion, no solver needed.

    Every valid completion holds the chosen features' ancestors and mandatory children, so when that
    closure is itself valid (and avoids the deselected features) and no feature costs less than
    nothing, nothing cheaper or smaller exists: the solver would return the same set. This is the
    common case of a session started from a trim (the workspace reads a trim the same way).
    """
    model = session.model
    if closure & set(deselected) or model.configuration_errors(closure):
        return False
    return all(not isinstance(v, int | float) or v >= 0
               for f in model.features.values() for k, v in f.attributes.items() if k == "cost")


def _base_cost(ws: Workspace, base: str | None, market: str) -> dict[str, Any] | None:
    """The base trim's BOM and unit cost in ``market`` (its base-market figures when not sold there)."""
    if base is None:
        return None
    trim = ws.trim(base)
    cost = next(c for c in trim_costs(ws) if c.trim.key == trim.key)
    where = market if (trim.key, market) in ws.configurations else ws.platform.base_market
    bom = bom_of(ws.parts, ws.configuration(trim, where)).cost
    return {"trim": trim.key, "market": where, "bom_cost": round(bom, 2),
            "development_per_unit": round(cost.development_per_unit, 2),
            "unit_cost": round(bom + cost.development_per_unit, 2), "price": trim.price}


def _reason(reason: Reason) -> dict[str, Any]:
    r = reason.regulation
    return {"regulation": r.id, "title": r.title, "requires": r.requires_text, "status": r.status,
            "missing": list(reason.missing), "violating": list(reason.violating)}


def _verdict(ws: Workspace, configuration: Set[str], market: str, on: date, mode: Mode) -> dict[str, Any]:
    found = configuration_verdict(ws, configuration, market, on, mode)
    missing = sorted({n for r in found.reasons for n in r.missing})
    violating = sorted({n for r in found.reasons for n in r.violating})
    return {"status": found.status, "rules": found.rules, "missing": missing, "violating": violating,
            "reasons": [_reason(r) for r in found.reasons], "warnings": [_reason(r) for r in found.warnings],
            "note": found.note}


def _simulated(ws: Workspace, configuration: frozenset[str], cycle_of_market: str, name: str) -> dict[str, Any]:
    """Range and consumption on the market's cycle (the batch simulator, as ``simulate`` for a trim)."""
    from evplatform.vehicle.batch import simulate_cycle  # numpy and the cycles load on first use only
    from evplatform.vehicle.drive_cycles import load_cycle
    from evplatform.vehicle.params import params_from_attributes
    from evplatform.vehicle.simulate import HOMOLOGATION_CYCLE, homologation_range_km

    cycle = HOMOLOGATION_CYCLE.get(cycle_of_market.upper())
    if cycle is None:
        return {"cycle": cycle_of_market, "range_km": None, "consumption_kwh_per_100km": None, "range_rule": None,
                "note": f"unknown homologation cycle {cycle_of_market!r}"}
    try:
        params = params_from_attributes(aggregate_attributes(ws.feature_model, configuration), name,
                                        brake_by_wire=ws.roles.present("brake_by_wire", configuration))
        # Only the cycle and its range rule (``simulate_vehicles`` adds 0-100, top speed and charging,
        # four times the time); rounded as ``simulate`` rounds them.
        result = simulate_cycle([params], load_cycle(cycle))
        ranges, rule = homologation_range_km([params], cycle, result)
    except EvplatformError as error:  # a configuration without a battery or a motor: say so, no figure
        return {"cycle": cycle, "range_km": None, "consumption_kwh_per_100km": None, "range_rule": None,
                "note": str(error)}
    return {"cycle": cycle, "range_km": round(float(ranges[0]), 1), "range_rule": rule,
            "consumption_kwh_per_100km": round(float(result.battery_kwh_per_100km[0]), 3), "note": ""}


def _market_row(ws: Workspace, configuration: frozenset[str], market: str, on: date, mode: Mode,
                base: dict[str, Any] | None, name: str) -> dict[str, Any]:
    sold = in_market(ws, configuration, market)
    bom = bom_of(ws.parts, sold)
    row: dict[str, Any] = {"market": market, "name": ws.markets[market].name,
                           "homologation_cycle": ws.markets[market].homologation_cycle,
                           "bom_cost": round(bom.cost, 2), "mass_kg": round(bom.mass_kg, 1),
                           "problems": ws.feature_model.configuration_errors(sold)}
    row.update(_simulated(ws, sold, ws.markets[market].homologation_cycle, name))
    row["verdict"] = _verdict(ws, sold, market, on, mode)
    row["bom_delta"] = round(bom.cost - base["bom_cost"], 2) if base and base["market"] == market else None
    return row


def session_figures(ws: Workspace, session: ConfiguratorSession, markets: Sequence[str], on: date,
                    mode: Mode = "new_types", base: str | None = None) -> dict[str, Any]:
    """Cost, mass, range, consumption and verdicts of the session's configuration (see the module doc)."""
    start = time.perf_counter()
    chosen = list(dict.fromkeys(markets)) or [session_market(ws, session)]
    if len(chosen) > MAX_MARKETS:
        raise VariabilityError(f"at most {MAX_MARKETS} markets at once, not {len(chosen)}")
    for market in chosen:
        if market not in ws.markets:
            raise NotFoundError("market", f"{market!r} (markets: {', '.join(ws.markets)})")
    home = session_market(ws, session)
    configuration, basis, added = configuration_so_far(session)
    base_cost = _base_cost(ws, base or session.trim, home)
    sold = in_market(ws, configuration, home)
    bom = bom_of(ws.parts, sold)
    development = base_cost["development_per_unit"] if base_cost else None
    unit = round(bom.cost + development, 2) if development is not None else None
    cost = {"bom": round(bom.cost, 2), "development_per_unit": development, "unit": unit,
            "unit_delta": round(unit - base_cost["unit_cost"], 2) if unit is not None and base_cost else None}
    rows = [_market_row(ws, configuration, m, on, mode, base_cost, session.trim or "configured") for m in chosen]
    return {
        "id": session.id, "market": home, "on": on.isoformat(), "mode": mode, "currency": ws.platform.currency,
        "basis": basis, "complete": basis == "complete", "added_by_completion": added,
        "note": ("every feature is decided: the figures are final" if basis == "complete" else
                 f"figures of the cheapest completion of the open features: {len(added):,} of them selected "
                 f"({', '.join(added[:5])}{' …' if len(added) > 5 else ''}), the rest off"
                 if added else "figures with every open feature off (the cheapest completion)"),
        "base": base_cost, "cost": cost, "mass_kg": round(bom.mass_kg, 1), "features": len(sold),
        "markets": rows, "seconds": round(time.perf_counter() - start, 4),
    }


# --- the closest compliant configuration ------------------------------------------------------


def _why_added(name: str, reasons: dict[str, list[str]]) -> str:
    ids = reasons.get(name)
    return ("required by " + ", ".join(ids)) if ids else "needed by the feature model with the required features"


def session_closest(ws: Workspace, session: ConfiguratorSession, market: str, on: date, mode: Mode = "new_types",
                    apply: bool = False) -> dict[str, Any]:
    """The configuration that complies in ``market`` on ``on`` and overturns the fewest of the session's
    decisions (then costs least), what changes and why; with ``apply`` the session takes it."""
    require_market(ws, market)
    state = session.state()
    before_config, basis, _ = configuration_so_far(session)
    before_sold = in_market(ws, before_config, market)
    before = _verdict(ws, before_sold, market, on, mode)
    fix = closest_compliant(ws, state["selected"], state["deselected"], market, on, mode)
    after_config = fix.closest.selected
    needs: dict[str, list[str]] = {}
    breaks: dict[str, list[str]] = {}
    for reason in before["reasons"]:
        for name in reason["missing"]:
            needs.setdefault(name, []).append(reason["regulation"])
        for name in reason["violating"]:
            breaks.setdefault(name, []).append(reason["regulation"])
    by_markets = market_selections(ws)
    overturned = [{"feature": n, "was": "selected", "now": "off",
                   "why": ("breaks " + ", ".join(breaks[n])) if n in breaks
                   else "cannot stay with the features the rules require (feature model)"}
                  for n in fix.closest.dropped]
    overturned += [{"feature": n, "was": "deselected", "now": "on", "why": _why_added(n, needs)}
                   for n in fix.closest.taken]
    decided = {row["feature"] for row in overturned}
    order = session.cnf.var.__getitem__
    added = [{"feature": n, "why": _why_added(n, needs) if n not in ws.markets[market].select
              else f"selected by market {market}"}
             for n in sorted(after_config - before_sold, key=order) if n not in decided]
    removed = [{"feature": n, "why": ("breaks " + ", ".join(breaks[n])) if n in breaks
                else (f"another market's selection (not {market})" if n in by_markets
                      else "cannot stay with the features the rules require (feature model)")}
               for n in sorted(before_sold - after_config, key=order) if n not in decided]
    after = _verdict(ws, after_config, market, on, mode)
    cost_before, cost_after = bom_of(ws.parts, before_sold).cost, bom_of(ws.parts, after_config).cost
    out: dict[str, Any] = {
        "id": session.id, "market": market, "on": on.isoformat(), "mode": mode, "basis": basis,
        "rules": [r.id for r in fix.rules], "changes": fix.closest.changes, "overturned": overturned,
        "added": added, "removed": removed, "before": before, "after": after,
        "bom_before": round(cost_before, 2), "bom_after": round(cost_after, 2),
        "bom_delta": round(cost_after - cost_before, 2), "applied": False,
    }
    if apply:
        take(session, after_config, market)
        out["applied"] = True
    return out


def take(session: ConfiguratorSession, configuration: frozenset[str], market: str) -> None:
    """Make the session's decisions select exactly ``configuration`` (a valid one): the decisions it keeps,
    the features it adds, then every feature still open decided as the configuration has it."""
    state = session.state()
    if market != state["market"]:
        logger.info("configurator session %s now configures for market %s", session.id[:6], market)
    session.market = market  # before the decisions, so the state they render names it
    chosen = set(state["selected"]) | {row["feature"] for row in state["forced"]}
    order = session.cnf.var.__getitem__
    select = [n for n in state["selected"] if n in configuration]
    select += [n for n in sorted(configuration - chosen, key=order) if n not in select]
    deselect = [n for n in state["deselected"] if n not in configuration]
    retract = [*state["selected"], *state["deselected"]]
    new = session.apply(select=select, deselect=deselect, retract=retract)
    if new["open"]:
        session.apply(select=[n for n in new["open"] if n in configuration],
                      deselect=[n for n in new["open"] if n not in configuration])

