"""Which regulations bind a market, and from which day, for each of the two questions asked.

Two questions have different answers on the same day, so every check names its ``mode``:

- ``new_types`` — *type approval of a new type on date D*: a regulation binds from its
  ``applies_new_types`` date; a rule dated only for all registrations binds new types from that
  date too (a type approved then will be registered after it). Of two dates, the earlier counts.
- ``all`` — *registration of a new vehicle on date D*, whatever its type's approval date: a
  regulation binds from its ``applies_all`` date only. A rule without one (e.g. eCall, approved
  types only) never binds vehicles of types approved before its new-types date.

A regulation applies to a market when its ``markets`` column names the market or one of its
ancestors (EU → DE), when it names ``UNECE`` and the market adopts the UNECE regulations
(``unece: true``), or when the market's yaml lists its id under ``regulations``.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from evplatform.errors import MarketsError
from evplatform.workspace.model import IN_FORCE, Market, Regulation, Workspace

Mode = Literal["new_types", "all"]
MODES: tuple[Mode, ...] = ("new_types", "all")
MODE_MEANING = {
    "new_types": "type approval of a new type on this date",
    "all": "registration of a new vehicle on this date (type approved earlier)",
}
UNECE = "UNECE"


def parse_mode(text: str) -> Mode:
    """``new_types`` / ``new-types`` / ``all`` → the mode, else a MarketsError saying what is allowed."""
    value = text.strip().lower().replace("-", "_")
    if value == "new_types":
        return "new_types"
    if value == "all":
        return "all"
    raise MarketsError(f"mode must be new-types or all, not {text!r}")


def parse_date(text: str) -> date:
    """An ISO date (YYYY-MM-DD), else a MarketsError naming the bad value."""
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise MarketsError(f"date must be YYYY-MM-DD, not {text!r}") from None


def require_market(ws: Workspace, market_id: str) -> Market:
    """The market, or a MarketsError listing the known ones."""
    try:
        return ws.markets[market_id]
    except KeyError:
        raise MarketsError(f"unknown market {market_id!r} (known: {', '.join(ws.markets)})") from None


def applicable_regulations(ws: Workspace, market_id: str) -> list[Regulation]:
    """Every regulation that applies to the market, in file order (dates not yet considered)."""
    market = require_market(ws, market_id)
    chain = set(ws.lineage(market_id))
    listed = set(market.regulations)
    return [
        r for r in ws.regulations.values()
        if chain & set(r.markets) or (UNECE in r.markets and market.unece) or r.id in listed
    ]


def effective_date(regulation: Regulation, mode: Mode) -> date | None:
    """The first day the regulation binds in this mode, or ``None`` when it never does."""
    if mode == "all":
        return regulation.applies_all
    dates = [d for d in (regulation.applies_new_types, regulation.applies_all) if d is not None]
    return min(dates) if dates else None


def in_force(regulation: Regulation, on: date, mode: Mode) -> bool:
    """True from the effective date on (the day itself included)."""
    start = effective_date(regulation, mode)
    return start is not None and start <= on


def date_text(value: date | None) -> str | None:
    """ISO text, ``"in force"`` for the in-force marker, ``None`` when there is no date."""
    if value is None:
        return None
    return "in force" if value == IN_FORCE else value.isoformat()
