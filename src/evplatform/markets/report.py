"""The JSON payloads of `evplatform comply` (DESIGN.md `comply` shape, keys only added).

``compliance_report`` answers one market on one date in one mode; ``compliance_matrix`` every
market in both modes, which is what a person wants to scan (and the dashboard's matrix).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from evplatform.markets.rules import MODE_MEANING, MODES, Mode, date_text, effective_date, parse_mode, require_market
from evplatform.markets.verdict import (
    COMPLIANT,
    NON_COMPLIANT,
    NOT_APPLICABLE,
    Reason,
    Verdict,
    market_verdicts,
    regulations_in_force,
)
from evplatform.workspace.model import Regulation, Workspace


def source_and_notes(regulation: Regulation) -> tuple[str, str]:
    """The source column without its trailing ``; note: …`` and that note (or a ``notes`` column)."""
    source, _, note = regulation.source.partition("; note: ")
    return source, regulation.extra.get("notes") or note


def regulation_dict(regulation: Regulation, mode: Mode) -> dict[str, Any]:
    """What a reader needs to look a regulation up: id, title, source, status and its dates."""
    source, notes = source_and_notes(regulation)
    return {
        "regulation": regulation.id,
        "title": regulation.title,
        "source": source,
        "status": regulation.status,
        "requires": regulation.requires_text,
        "applies_new_types": date_text(regulation.applies_new_types),
        "applies_all": date_text(regulation.applies_all),
        "applies_from": date_text(effective_date(regulation, mode)),
        "notes": notes,
    }


def reason_dict(reason: Reason, mode: Mode) -> dict[str, Any]:
    return {
        **regulation_dict(reason.regulation, mode),
        "missing": list(reason.missing),
        "violating": list(reason.violating),
    }


def verdict_dict(v: Verdict) -> dict[str, Any]:
    return {
        "model": v.trim.model_id,
        "trim": v.trim.id,
        "trim_name": v.trim.name,
        "status": v.status,
        "reasons": [reason_dict(r, v.mode) for r in v.reasons],
        "warnings": [reason_dict(r, v.mode) for r in v.warnings],
        "note": v.note,
    }


def unverified_warnings(ws: Workspace, rules: list[Regulation]) -> list[dict[str, Any]]:
    """One warning per unverified regulation that was checked: its verdicts are advisory."""
    path = ws.root / "regulations.csv"
    return [
        {
            "regulation": r.id,
            "file": _rel(ws, path),
            "line": r.line,
            "message": f"{r.id} is unverified ({source_and_notes(r)[1] or 'dates not confirmed'}): "
                       "reported as warnings, never as failures",
        }
        for r in rules
        if r.status != "confirmed"
    ]


def compliance_report(ws: Workspace, market: str, on: date, mode: str = "new_types") -> dict[str, Any]:
    """Verdict of every trim in ``market`` on ``on``; ``mode`` new_types or all (see ``markets.rules``)."""
    chosen = parse_mode(mode)
    m = require_market(ws, market)
    rules = regulations_in_force(ws, market, on, chosen)
    verdicts = market_verdicts(ws, market, on, chosen)
    return {
        "market": market,
        "market_name": m.name,
        "date": on.isoformat(),
        "mode": chosen,
        "mode_meaning": MODE_MEANING[chosen],
        "regulations_in_force": [r.id for r in rules],
        "summary": {s: sum(v.status == s for v in verdicts) for s in (COMPLIANT, NON_COMPLIANT, NOT_APPLICABLE)},
        "verdicts": [verdict_dict(v) for v in verdicts],
        "warnings": unverified_warnings(ws, rules),
    }


def compliance_matrix(ws: Workspace, on: date, markets: list[str] | None = None) -> dict[str, Any]:
    """Every market in both modes on one date: ``{"date", "markets": [{"market", "modes": {mode: report}}]}``."""
    chosen = markets if markets is not None else list(ws.markets)
    return {
        "date": on.isoformat(),
        "markets": [
            {"market": m, "modes": {mode: compliance_report(ws, m, on, mode) for mode in MODES}} for m in chosen
        ],
    }


def _rel(ws: Workspace, path: Path) -> str:
    try:
        return str(path.relative_to(ws.root))
    except ValueError:
        return str(path)
