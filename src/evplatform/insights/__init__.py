"""Insights: business figures, platform investment scenarios (NPV, Monte Carlo, tornado, Sobol), risks.

The payloads of ``evplatform insights business|scenarios|risks --json`` (and of the dashboard)::

    business_report(path=None, entity=None) -> dict       # quarterly figures, growth, margin trend, peers
    scenarios_report(ws=None, draws, seed, names) -> dict  # NPV P5/P50/P95, P(loss), tornado, Sobol
    risks_report(ws=None) -> dict                          # register, likelihood × impact matrix, links

Charts of those payloads as PNG or SVG bytes are in ``evplatform.insights.plots``; large sweeps on
Dask in ``evplatform.insights.scaleout``.
"""

from evplatform.insights.business import BusinessData, Figure, business_report, load_business
from evplatform.insights.distributions import Distribution, Fixed, LogNormal, Pert, Triangular, Uniform
from evplatform.insights.errors import InsightsSourceError
from evplatform.insights.montecarlo import Plan, run_monte_carlo, summarize
from evplatform.insights.npv import INPUTS, Economics, NpvResult, economics, evaluate
from evplatform.insights.risks import Risk, export_csv, load_risks, risks_report
from evplatform.insights.scenarios import Scenario, ScenarioSet, load_scenarios, scenarios_report

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
