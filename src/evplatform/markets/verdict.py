"""The compliance verdict of one trim in one market on one date, for one mode.

Statuses, precisely:

- ``not-applicable`` — the market does not sell the trim's model (its yaml ``models`` list), or
  no regulation that applies to the market is in force on that date in that mode (nothing to
  check yet). Unverified regulations count as rules here: if one is in force, the trim is checked.
- ``non-compliant`` — the trim's configuration in that market (ADR 0001: model ∪ trim ∪ market
  selections, closed by the tree) breaks at least one *confirmed* regulation in force. Each
  reason names the regulation and the features missing or violating (see ``reasons``).
- ``compliant`` — otherwise. A broken *unverified* regulation is listed under ``warnings`` and
  never changes the status.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from evplatform.markets.reasons import unmet
from evplatform.markets.rules import Mode, applicable_regulations, in_force, require_market
from evplatform.workspace.model import Regulation, Trim, Workspace

COMPLIANT = "compliant"
NON_COMPLIANT = "non-compliant"
NOT_APPLICABLE = "not-applicable"


@dataclass(frozen=True, slots=True)
class Reason:
    """One regulation a configuration breaks, with what to add and what to take out."""

    regulation: Regulation
    missing: tuple[str, ...]
    violating: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Verdict:
    trim: Trim
    market: str
    on: date
    mode: Mode
    status: str
    reasons: tuple[Reason, ...] = ()
    warnings: tuple[Reason, ...] = ()
    note: str = ""


def regulations_in_force(ws: Workspace, market_id: str, on: date, mode: Mode) -> list[Regulation]:
    """The regulations that apply to the market and bind on that date in that mode."""
    return [r for r in applicable_regulations(ws, market_id) if in_force(r, on, mode)]


def broken(configuration: frozenset[str], regulations: list[Regulation]) -> list[Reason]:
    """A Reason for each regulation whose requirement the configuration does not meet."""
    out = []
    for regulation in regulations:
        if not regulation.requires.evaluate(configuration):
            missing, violating = unmet(regulation.requires, configuration)
            out.append(Reason(regulation, missing, violating))
    return out


def verdict(ws: Workspace, trim: Trim, market_id: str, on: date, mode: Mode,
            rules: list[Regulation] | None = None) -> Verdict:
    """The verdict of one trim (``rules``: the regulations in force, when the caller has them)."""
    market = require_market(ws, market_id)
    if trim.model_id not in market.models:
        return Verdict(trim, market_id, on, mode, NOT_APPLICABLE,
                       note=f"{trim.model_id} is not sold in {market_id}")
    rules = regulations_in_force(ws, market_id, on, mode) if rules is None else rules
    if not rules:
        return Verdict(trim, market_id, on, mode, NOT_APPLICABLE,
                       note=f"no regulation of {market_id} is in force on {on.isoformat()} for this mode")
    found = broken(ws.configuration(trim, market_id), rules)
    reasons = tuple(r for r in found if r.regulation.status == "confirmed")
    warnings = tuple(r for r in found if r.regulation.status != "confirmed")
    return Verdict(trim, market_id, on, mode, NON_COMPLIANT if reasons else COMPLIANT, reasons, warnings)


def market_verdicts(ws: Workspace, market_id: str, on: date, mode: Mode) -> list[Verdict]:
    """The verdict of every trim of every model (not-applicable where the market does not sell it)."""
    rules = regulations_in_force(ws, market_id, on, mode)
    return [verdict(ws, trim, market_id, on, mode, rules) for trim in ws.trims()]
