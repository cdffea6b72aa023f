"""Compliance of a configuration that is no trim yet (the configurator's), and its closest compliant fix.

``verdict`` judges a workspace trim; a platform engineer configuring a new variant has only a set
of features. The rules are the same: the regulations that apply to the market and are in force on
the date in the mode (a new variant is a new type: ``new_types`` by default), confirmed ones decide,
unverified ones warn. A configuration is judged *in* a market the way the workspace reads a trim
(ADR 0001): what the market selects itself (its inlet, ``Market_EU``, its mandated functions)
replaces what another market selected, closed by the tree.

``closest_compliant`` asks the variability engine for the valid configuration that meets every
confirmed regulation in force and the market's own selections while overturning the fewest of the
engineer's decisions (then the least cost): ``variability.closest``.
"""

from __future__ import annotations

from collections.abc import Iterable, Set
from dataclasses import dataclass
from datetime import date

from evplatform.markets.rules import Mode, require_market
from evplatform.markets.verdict import COMPLIANT, NON_COMPLIANT, NOT_APPLICABLE, Reason, broken, regulations_in_force
from evplatform.variability.closest import Closest, closest_to_decisions
from evplatform.workspace.model import Regulation, Workspace


@dataclass(frozen=True, slots=True)
class ConfigurationVerdict:
    """The verdict of a configuration in a market on a date; ``sold`` says whether the market lists the
    model the configuration started from (a new model is judged all the same)."""

    market: str
    on: date
    mode: Mode
    status: str
    reasons: tuple[Reason, ...]
    warnings: tuple[Reason, ...]
    rules: int
    note: str = ""


@dataclass(frozen=True, slots=True)
class CompliantFix:
    """The closest compliant configuration and the rules it was made to meet."""

    closest: Closest
    rules: tuple[Regulation, ...]
    keep: tuple[str, ...]


def market_selections(ws: Workspace) -> frozenset[str]:
    """Every feature some market selects itself (they follow the market, not the engineer)."""
    return frozenset(name for market in ws.markets.values() for name in market.select)


def in_market(ws: Workspace, configuration: Set[str], market_id: str) -> frozenset[str]:
    """The configuration as sold in ``market_id``: other markets' selections out, this one's in, closed."""
    market = require_market(ws, market_id)
    own = (set(configuration) - market_selections(ws)) | set(market.select)
    return frozenset(ws.feature_model.mandatory_closure(own))


def configuration_verdict(ws: Workspace, configuration: Set[str], market_id: str, on: date,
                          mode: Mode = "new_types") -> ConfigurationVerdict:
    """Compliant / non-compliant / not-applicable of a configuration already in the market's form."""
    rules = regulations_in_force(ws, market_id, on, mode)
    if not rules:
        return ConfigurationVerdict(market_id, on, mode, NOT_APPLICABLE, (), (), 0,
                                    f"no regulation of {market_id} is in force on {on.isoformat()} for this mode")
    found = broken(frozenset(configuration), rules)
    reasons = tuple(r for r in found if r.regulation.status == "confirmed")
    warnings = tuple(r for r in found if r.regulation.status != "confirmed")
    return ConfigurationVerdict(market_id, on, mode, NON_COMPLIANT if reasons else COMPLIANT, reasons, warnings,
                                len(rules))


def closest_compliant(ws: Workspace, selected: Iterable[str], deselected: Iterable[str], market_id: str, on: date,
                      mode: Mode = "new_types") -> CompliantFix:
    """The valid configuration meeting every confirmed regulation of the market in force on ``on`` and
    the market's selections, overturning the fewest decisions, then the cheapest (``cost``).

    Other markets' selections among the decisions are dropped first (they follow the market, so
    moving a configuration from China to the EU is not counted as overturning ``Market_CN``).
    Raises ``VariabilityError`` naming the regulations when no valid configuration meets them.
    """
    market = require_market(ws, market_id)
    by_markets = market_selections(ws)
    rules = tuple(r for r in regulations_in_force(ws, market_id, on, mode) if r.status == "confirmed")
    keep = tuple(market.select)
    closest = closest_to_decisions(ws.feature_model, [n for n in selected if n not in by_markets],
                                   [n for n in deselected if n not in by_markets and n not in keep],
                                   extra=[r.requires for r in rules], keep=keep, attribute="cost")
    return CompliantFix(closest, rules, keep)
