"""Insights: business figures, platform investment scenarios (NPV, Monte Carlo, tornado, Sobol), risks.

The payloads of ``evplatform insights business|scenarios|risks --json`` (and of the dashboard)::

    business_report(path=None, entity=None) -> dict       # quarterly figures, growth, margin trend, peers
    scenarios_report(ws=None, draws, seed, names) -> dict  # NPV P5/P50/P95, P(loss), tornado, Sobol
    risks_report(ws=None) -> dict                          # register, likelihood × impact matrix, links

Charts of those payloads as PNG or SVG bytes are in ``evplatform.insights.plots``; large sweeps on
Dask in ``evplatform.insights.scaleout``.

The names below are imported on first use (PEP 562): importing one submodule, such as
``insights.montecarlo`` for an NPV P50 in ``evplatform diff``, must not pay for SciPy's stats,
SALib and pandas that the business figures and the sensitivity analyses need (~1 s together).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from evplatform.insights.business import BusinessData, Figure, business_report, load_business
    from evplatform.insights.distributions import Distribution, Fixed, LogNormal, Pert, Triangular, Uniform
    from evplatform.insights.errors import InsightsSourceError
    from evplatform.insights.montecarlo import Plan, run_monte_carlo, summarize
    from evplatform.insights.npv import INPUTS, Economics, NpvResult, economics, evaluate
    from evplatform.insights.risks import Risk, export_csv, load_risks, risks_report
    from evplatform.insights.scenarios import Scenario, ScenarioSet, load_scenarios, scenarios_report

_SOURCES: dict[str, tuple[str, ...]] = {
    "business": ("BusinessData", "Figure", "business_report", "load_business"),
    "distributions": ("Distribution", "Fixed", "LogNormal", "Pert", "Triangular", "Uniform"),
    "errors": ("InsightsSourceError",),
    "montecarlo": ("Plan", "run_monte_carlo", "summarize"),
    "npv": ("INPUTS", "Economics", "NpvResult", "economics", "evaluate"),
    "risks": ("Risk", "export_csv", "load_risks", "risks_report"),
    "scenarios": ("Scenario", "ScenarioSet", "load_scenarios", "scenarios_report"),
}
_MODULE_OF = {name: module for module, names in _SOURCES.items() for name in names}

__all__ = [
    "INPUTS",
    "BusinessData",
    "Distribution",
    "Economics",
    "Figure",
    "Fixed",
    "InsightsSourceError",
    "LogNormal",
    "NpvResult",
    "Pert",
    "Plan",
    "Risk",
    "Scenario",
    "ScenarioSet",
    "Triangular",
    "Uniform",
    "business_report",
    "economics",
    "evaluate",
    "export_csv",
    "load_business",
    "load_risks",
    "load_scenarios",
    "risks_report",
    "run_monte_carlo",
    "scenarios_report",
    "summarize",
]


def __getattr__(name: str) -> Any:
    """Import the submodule that defines ``name`` on first access (then it is a plain module attribute)."""
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
