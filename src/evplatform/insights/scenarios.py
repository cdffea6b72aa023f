"""Named platform-investment scenarios from the workspace's ``scenarios.yaml``, compared side by side.

File layout (every figure a number or a distribution ``{dist: triangular|pert|lognormal|uniform|fixed, …}``)::

    horizon_years: 6            # sales years
    development_years: 2        # development before start of production
    base: {INPUT: figure, …}    # what every scenario starts from (names: insights.npv.INPUTS)
    scenarios:
      NAME:
        title: …
        description: …
        feasibility: 0.7        # probability the scenario's features can be delivered as planned
        features: [F, …]        # the platform features it depends on (checked against features.uvl)
        inputs: {INPUT: figure} # overrides and additions to ``base``

Impact of a scenario is measured against the first scenario (the reference, normally the plan):
the change of mean platform NPV, and that change times the feasibility.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from evplatform.errors import EvplatformError, WorkspaceError
from evplatform.insights.distributions import Distribution, Fixed, distribution_from_spec
from evplatform.insights.errors import InsightsSourceError
from evplatform.insights.montecarlo import Plan, run_monte_carlo, summarize
from evplatform.insights.npv import INPUTS, Economics, cash_flows, economics
from evplatform.workspace.loader import load_workspace
from evplatform.workspace.model import Workspace
from evplatform.workspace.sources import LineDict, read_yaml_mapping

SCENARIOS_FILE = "scenarios.yaml"
#: Monte Carlo draws per scenario, the seed and the Sobol base samples that the CLI, the API and the
#: dashboard use unless asked otherwise: one place, so a page and ``insights scenarios --json`` give the
#: same percentiles. The whole demo report at these defaults (Sobol included) takes 0.8 s on an idle
#: two-core machine (2.5–3 s when it is busy); the dashboard caches it per workspace and parameters.
DEFAULT_DRAWS = 20_000
DEFAULT_SEED = 0
DEFAULT_SOBOL_SAMPLES = 512


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    description: str
    feasibility: float
    features: tuple[str, ...]
    inputs: dict[str, Distribution]
    horizon_years: int
    development_years: int
    line: int = 0
    overrides: tuple[str, ...] = field(default=())

    def plan(self, econ: Economics) -> Plan:
        full: dict[str, Distribution] = {k: Fixed(v) for k, v in econ.defaults().items()}
        full.update(self.inputs)
        return Plan(econ, full, self.horizon_years, self.development_years)


@dataclass(frozen=True)
class ScenarioSet:
    file: Path
    scenarios: dict[str, Scenario]

    def select(self, names: Sequence[str] | None) -> list[Scenario]:
        """The named scenarios in the order asked (all, in file order, when none are named)."""
        if not names:
            return list(self.scenarios.values())
        unknown = [n for n in names if n not in self.scenarios]
        if unknown:
            raise InsightsSourceError(
                f"unknown scenario(s) {', '.join(repr(n) for n in unknown)}; known: {', '.join(self.scenarios)}",
                self.file,
            )
        return [self.scenarios[n] for n in dict.fromkeys(names)]


def _figure(spec: Any, path: Path, line: int, field_name: str) -> Distribution:
    """One input figure, with its bounds checked, or a WorkspaceError naming file:line and field."""
    if field_name not in INPUTS:
        raise WorkspaceError(f"unknown input {field_name!r}; known: {', '.join(INPUTS)}", path, line)
    try:
        dist = distribution_from_spec(spec)
    except EvplatformError as error:
        raise WorkspaceError(f"{field_name}: {error}", path, line) from None
    bounds = INPUTS[field_name]
    low, high = dist.support
    if low < bounds.lower or high > bounds.upper:
        raise WorkspaceError(
            f"{field_name}: values must lie within [{bounds.lower:g}, {bounds.upper:g}] "
            f"({bounds.meaning}); this distribution spans [{low:g}, {high:g}]",
            path,
            line,
        )
    return dist


def _figures(section: Any, path: Path, line: int, what: str) -> dict[str, Distribution]:
    if section is None:
        return {}
    if not isinstance(section, LineDict):
        raise WorkspaceError(f"{what} must be a mapping of input: figure", path, line)
    return {key: _figure(value, path, section.line_of(key), key) for key, value in section.items()}


def _years(spec: LineDict, key: str, default: int, path: Path) -> int:
    value = spec.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 50:
        raise WorkspaceError(f"{key} must be a whole number of years from 1 to 50, not {value!r}", path,
                             spec.line_of(key))
    return int(value)


def load_scenarios(ws: Workspace, path: Path | None = None) -> ScenarioSet:
    """Read and check ``scenarios.yaml`` (default: the workspace's)."""
    path = path or ws.root / SCENARIOS_FILE
    spec = read_yaml_mapping(path, SCENARIOS_FILE)
    horizon = _years(spec, "horizon_years", round(ws.platform.lifecycle_years), path)
    development = _years(spec, "development_years", 1, path)
    base = _figures(spec.get("base"), path, spec.line_of("base"), "base")
    entries = spec.get("scenarios")
    if not isinstance(entries, LineDict) or not entries:
        raise WorkspaceError("scenarios must be a mapping of name: scenario (at least one)", path,
                             spec.line_of("scenarios"))
    scenarios = {}
    for name, entry in entries.items():
        line = entries.line_of(name)
        if not isinstance(entry, LineDict):
            raise WorkspaceError(f"scenario {name!r} must be a mapping", path, line)
        unknown = sorted(set(entry) - {"title", "description", "feasibility", "features", "inputs", "horizon_years",
                                       "development_years"})
        if unknown:
            raise WorkspaceError(f"scenario {name!r}: unknown key(s) {', '.join(unknown)}", path, line)
        feasibility = entry.get("feasibility", 1.0)
        if isinstance(feasibility, bool) or not isinstance(feasibility, int | float) or not 0 <= feasibility <= 1:
            raise WorkspaceError(f"scenario {name!r}: feasibility must be a probability in [0, 1], not {feasibility!r}",
                                 path, entry.line_of("feasibility"))
        features = entry.get("features") or []
        if not isinstance(features, list):
            raise WorkspaceError(f"scenario {name!r}: features must be a list", path, entry.line_of("features"))
        for feature in features:
            if str(feature) not in ws.feature_model.features:
                raise WorkspaceError(f"scenario {name!r}: unknown feature {feature!r} (not in features.uvl)", path,
                                     entry.line_of("features"))
        overrides = _figures(entry.get("inputs"), path, entry.line_of("inputs"), f"scenario {name!r} inputs")
        scenarios[str(name)] = Scenario(
            name=str(name),
            title=str(entry.get("title", name)),
            description=str(entry.get("description", "")).strip(),
            feasibility=float(feasibility),
            features=tuple(str(f) for f in features),
            inputs={**base, **overrides},
            horizon_years=_years(entry, "horizon_years", horizon, path),
            development_years=_years(entry, "development_years", development, path),
            line=line,
            overrides=tuple(overrides),
        )
    return ScenarioSet(path, scenarios)


Progress = Callable[[str, int, int], None]


def scenarios_report(
    ws: Workspace | str | Path | None = None,
    draws: int = DEFAULT_DRAWS,
    seed: int = DEFAULT_SEED,
    names: Sequence[str] | None = None,
    *,
    sobol_samples: int = DEFAULT_SOBOL_SAMPLES,
    sweep: Callable[[Plan, int, int], dict[str, Any]] | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """The ``insights scenarios --json`` payload: each scenario's NPV distribution, tornado and Sobol indices.

    ``sweep(plan, draws, seed) -> summary`` replaces the in-memory Monte Carlo (the CLI passes the
    Dask sweep of ``insights.scaleout``); ``progress(scenario, done, total)`` is told after each step.
    """
    # Here, not at the top: SALib pulls in pandas (~0.3 s), which loading a scenario set does not need.
    from evplatform.insights.sensitivity import medians, sobol_npv, tornado

    workspace = ws if isinstance(ws, Workspace) else load_workspace(ws)
    scenario_set = load_scenarios(workspace)
    chosen = scenario_set.select(names)
    econ = economics(workspace)
    rows: list[dict[str, Any]] = []
    for i, scenario in enumerate(chosen):
        plan = scenario.plan(econ)
        summary = sweep(plan, draws, seed) if sweep else summarize(run_monte_carlo(plan, draws, seed))
        rows.append({
            "name": scenario.name,
            "title": scenario.title,
            "description": scenario.description,
            "feasibility": scenario.feasibility,
            "features": list(scenario.features),
            "horizon_years": scenario.horizon_years,
            "development_years": scenario.development_years,
            "inputs": {k: plan.inputs[k].to_dict() for k in INPUTS if k in plan.inputs},
            "overrides": list(scenario.overrides),
            "npv": summary,
            "base_case": cash_flows(econ, medians(plan), scenario.horizon_years, scenario.development_years),
            "tornado": tornado(plan),
            "sobol": sobol_npv(plan, sobol_samples, seed),
        })
        if progress:
            progress(scenario.name, i + 1, len(chosen))
    reference = rows[0]["npv"]["platform"]["mean"] if rows else 0.0
    for row in rows:
        change = row["npv"]["platform"]["mean"] - reference
        row["impact"] = {"reference": rows[0]["name"], "mean_npv_change": change,
                         "expected_npv_change": change * row["feasibility"]}
    return {
        "workspace": str(workspace.root),
        "file": str(scenario_set.file),
        "currency": econ.currency,
        "draws": draws,
        "seed": seed,
        "economics": _economics_dict(econ),
        "scenarios": rows,
        "comparison": [_comparison_row(r) for r in rows],
    }


def _economics_dict(econ: Economics) -> dict[str, Any]:
    separate = econ.separate_parts_unit(np.array([econ.scale_elasticity]))[0]
    return {
        "platform_development": econ.platform_development,
        "scale_elasticity": econ.scale_elasticity,
        "standalone_development_share": econ.standalone_development_share,
        "models": [
            {
                "model": m,
                "volume_per_year": float(econ.volume_per_year[j]),
                "mean_list_price": float(econ.revenue_per_year[j] / econ.volume_per_year[j])
                if econ.volume_per_year[j] else 0.0,
                "platform_parts_per_vehicle": float(econ.platform_parts_unit[j]),
                "separate_parts_per_vehicle": float(separate[j]),
                "development_cost": float(econ.model_development[j]),
            }
            for j, m in enumerate(econ.models)
        ],
    }


def _comparison_row(row: dict[str, Any]) -> dict[str, Any]:
    npv, tor = row["npv"], row["tornado"]["platform"]["bars"]
    return {
        "name": row["name"],
        "title": row["title"],
        "feasibility": row["feasibility"],
        "npv_p5": npv["platform"]["p5"],
        "npv_p50": npv["platform"]["p50"],
        "npv_p95": npv["platform"]["p95"],
        "advantage_p50": npv["advantage"]["p50"],
        "probability_loss": npv["probability_loss"],
        "probability_platform_worse": npv["probability_platform_worse"],
        "mean_npv_change": row["impact"]["mean_npv_change"],
        "expected_npv_change": row["impact"]["expected_npv_change"],
        "top_driver": tor[0]["input"] if tor else None,
    }
