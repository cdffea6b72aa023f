"""Markets and compliance: regulations as dated data, verdict per model × trim × market × date.

``compliance_report(ws, market, on, mode)`` and ``roadmap_report(ws)`` return the JSON payloads
of ``evplatform comply``; the rules of applicability are in ``markets.rules``, the statuses in
``markets.verdict``, the roadmap in ``markets.roadmap``.
"""

from evplatform.markets.report import compliance_matrix, compliance_report
from evplatform.markets.roadmap import roadmap_report
from evplatform.markets.rules import MODES, Mode, applicable_regulations, in_force, parse_date, parse_mode
from evplatform.markets.verdict import COMPLIANT, NON_COMPLIANT, NOT_APPLICABLE, Reason, Verdict, market_verdicts

__all__ = [
    "COMPLIANT",
    "MODES",
    "NON_COMPLIANT",
    "NOT_APPLICABLE",
    "Mode",
    "Reason",
    "Verdict",
    "applicable_regulations",
    "compliance_matrix",
    "compliance_report",
    "in_force",
    "market_verdicts",
    "parse_date",
    "parse_mode",
    "roadmap_report",
]
