"""Net present value of the platform against one product per model, vectorised over draws.

The cost side comes from the workspace through ``platform.comparison.platform_vs_separate`` (the
same counterfactual ``evplatform kpi`` reports): it is called on a copy of the workspace with
development costs set to zero, so its unit costs are pure parts costs — on the platform, and per
model alone at that model's volume along the experience curve. It is called once per point of a
grid of scale elasticities so an uncertain elasticity can be sampled without re-deriving the curve
(``log`` of the alone-cost is interpolated linearly between grid points 0.005 apart).

Cash flows (years t = 0 … D+H−1, D development years, H sales years, discount rate r):

- development, spread evenly over t < D: platform arm P·f + X + ΣM·f; separate arm
  Σ(M·f + s·(P·f + X)) — each model alone redoes the shared work at share s (comparison.py's rule);
  P = platform development, M = a model's own, f = ``development_factor``, X = ``extra_development``;
- each sales year: net revenue − units·(conversion + extra BOM) − parts cost (platform or alone);
- services: ``service_margin_per_vehicle_year`` × the fleet on the road (k years' sales in sales year k).

Both arms sell the same vehicles at the same prices; they differ in parts cost and development.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from evplatform.errors import InsightsError
from evplatform.platform.comparison import platform_vs_separate
from evplatform.platform.kpi import trim_costs
from evplatform.workspace.model import Workspace

Array = NDArray[np.float64]

ELASTICITY_GRID = np.round(np.arange(0.0, 0.4 + 1e-9, 0.005), 6)


@dataclass(frozen=True, slots=True)
class InputSpec:
    """One input of the NPV model: its unit, what it means and the values it may take."""

    unit: str
    meaning: str
    lower: float = -math.inf
    upper: float = math.inf
    default: float | None = None  # None: taken from the workspace


INPUTS: dict[str, InputSpec] = {
    "discount_rate": InputSpec("1/year", "discount rate (WACC)", -0.99, 1.0, 0.08),
    "price_factor": InputSpec("×", "list prices relative to the models' price lists", 0.0, default=1.0),
    "volume_factor": InputSpec("×", "sales relative to the planned volumes", 0.0, default=1.0),
    "bom_cost_factor": InputSpec("×", "parts cost relative to parts.csv", 0.0, default=1.0),
    "development_factor": InputSpec("×", "development cost relative to the workspace's (overrun)", 0.0, default=1.0),
    "scale_elasticity": InputSpec("", "experience-curve elasticity of part cost on volume", 0.0, 0.4),
    "standalone_development_share": InputSpec("", "share of the platform's development a model alone redoes", 0.0,
                                              1.0),
    "net_price_share": InputSpec("", "share of the list price the maker keeps (VAT, dealer margin)", 0.0, 1.0, 1.0),
    "conversion_cost_per_vehicle": InputSpec("currency", "assembly, logistics, warranty per vehicle", 0.0, default=0.0),
    "extra_bom_cost_per_vehicle": InputSpec("currency", "parts a scenario adds to every vehicle", default=0.0),
    "price_premium_per_vehicle": InputSpec("currency", "list-price premium a scenario earns", default=0.0),
    "extra_development": InputSpec("currency", "shared development a scenario adds to the platform", default=0.0),
    "service_margin_per_vehicle_year": InputSpec("currency", "net service margin per vehicle on the road per year",
                                                 default=0.0),
}


@dataclass(frozen=True)
class Economics:
    """What the NPV needs from a workspace, per model (arrays in the order of ``models``)."""

    currency: str
    models: tuple[str, ...]
    volume_per_year: Array
    revenue_per_year: Array  # Σ trims list price × planned volume
    platform_parts_unit: Array
    model_development: Array
    platform_development: float
    scale_elasticity: float
    standalone_development_share: float
    lifecycle_years: float
    elasticity_grid: Array
    separate_parts_unit_grid: Array  # (grid points, models)

    def defaults(self) -> dict[str, float]:
        """Every input's base value: the INPUTS default, or the workspace's for the two comparison parameters."""
        out = {name: spec.default for name, spec in INPUTS.items() if spec.default is not None}
        out["scale_elasticity"] = self.scale_elasticity
        out["standalone_development_share"] = self.standalone_development_share
        return out

    def separate_parts_unit(self, elasticity: Array) -> Array:
        """(N, models) parts cost per vehicle of each model built alone, at each draw's elasticity."""
        b = np.asarray(elasticity, dtype=np.float64)
        grid = self.elasticity_grid
        if b.size and (b.min() < grid[0] or b.max() > grid[-1]):
            raise InsightsError(f"scale_elasticity must be within [{grid[0]:g}, {grid[-1]:g}]")
        logs = np.log(self.separate_parts_unit_grid)
        cols = [np.exp(np.interp(b, grid, logs[:, j])) for j in range(len(self.models))]
        return np.stack(cols, axis=-1)


def economics(ws: Workspace) -> Economics:
    """Per-model volumes, revenues and parts costs of the workspace (see the module docstring)."""
    platform = ws.platform
    no_dev = dataclasses.replace(
        ws,
        platform=dataclasses.replace(platform, development_cost=0.0),
        models={mid: dataclasses.replace(m, development_cost=0.0) for mid, m in ws.models.items()},
    )
    costs = trim_costs(no_dev)
    grid_rows = []
    base = None
    for b in ELASTICITY_GRID:
        variant = dataclasses.replace(no_dev, platform=dataclasses.replace(no_dev.platform, scale_elasticity=float(b)))
        comparison = platform_vs_separate(variant, costs)
        grid_rows.append([m.separate_unit_cost for m in comparison.models])
        base = base or comparison
    if base is None:
        raise AssertionError("cannot happen")  # an invariant, kept under python -O
    models = tuple(m.model_id for m in base.models)
    revenue = [sum(t.price * t.volume_per_year for t in ws.models[mid].trims) for mid in models]
    if platform.scale_elasticity < ELASTICITY_GRID[0] or platform.scale_elasticity > ELASTICITY_GRID[-1]:
        raise InsightsError(f"platform.yaml scale_elasticity {platform.scale_elasticity:g} is outside [0, 0.4]")
    return Economics(
        currency=platform.currency,
        models=models,
        volume_per_year=np.array([ws.models[mid].volume_per_year for mid in models], dtype=np.float64),
        revenue_per_year=np.array(revenue, dtype=np.float64),
        platform_parts_unit=np.array([m.platform_unit_cost for m in base.models], dtype=np.float64),
        model_development=np.array([ws.models[mid].development_cost for mid in models], dtype=np.float64),
        platform_development=platform.development_cost,
        scale_elasticity=platform.scale_elasticity,
        standalone_development_share=platform.standalone_development_share,
        lifecycle_years=platform.lifecycle_years,
        elasticity_grid=ELASTICITY_GRID.astype(np.float64),
        separate_parts_unit_grid=np.array(grid_rows, dtype=np.float64),
    )


@dataclass(frozen=True)
class NpvResult:
    """NPV of each arm for each draw; ``advantage`` = platform − separate."""

    platform: Array
    separate: Array

    @property
    def advantage(self) -> Array:
        return np.asarray(self.platform - self.separate)


def _full(econ: Economics, x: Mapping[str, Array | float]) -> dict[str, Array]:
    """Every input as a 1-D array (defaults filled in), all of one length."""
    unknown = sorted(set(x) - set(INPUTS))
    if unknown:
        raise InsightsError(f"unknown input(s) {', '.join(unknown)}; known: {', '.join(INPUTS)}")
    values = {**econ.defaults(), **x}
    arrays = {k: np.atleast_1d(np.asarray(v, dtype=np.float64)) for k, v in values.items()}
    n = max(a.size for a in arrays.values())
    return {k: np.broadcast_to(a, (n,)) for k, a in arrays.items()}


def _check_years(horizon_years: int, development_years: int) -> None:
    if horizon_years < 1 or development_years < 1:
        raise InsightsError(
            f"horizon_years and development_years must be ≥ 1 (got {horizon_years}, {development_years})"
        )


def evaluate(
    econ: Economics, x: Mapping[str, Array | float], horizon_years: int, development_years: int = 1
) -> NpvResult:
    """NPV of both arms for every draw in ``x`` (arrays of one length, or scalars); vectorised."""
    _check_years(horizon_years, development_years)
    v = _full(econ, x)
    d, h = development_years, horizon_years
    years = np.arange(d + h, dtype=np.float64)
    disc = (1.0 + v["discount_rate"])[:, None] ** -years[None, :]
    dev_disc = disc[:, :d].sum(axis=1) / d
    sales_disc = disc[:, d:].sum(axis=1)
    fleet_disc = (disc[:, d:] * np.arange(1, h + 1, dtype=np.float64)).sum(axis=1)
    units = v["volume_factor"][:, None] * econ.volume_per_year[None, :]
    total_units = units.sum(axis=1)
    revenue = v["net_price_share"] * (
        v["price_factor"] * v["volume_factor"] * econ.revenue_per_year.sum()
        + v["price_premium_per_vehicle"] * total_units
    )
    common = total_units * (v["conversion_cost_per_vehicle"] + v["extra_bom_cost_per_vehicle"])
    platform_parts = v["bom_cost_factor"] * (units @ econ.platform_parts_unit)
    separate_parts = v["bom_cost_factor"] * (units * econ.separate_parts_unit(v["scale_elasticity"])).sum(axis=1)
    shared = econ.platform_development * v["development_factor"] + v["extra_development"]
    own = econ.model_development.sum() * v["development_factor"]
    platform_dev = shared + own
    separate_dev = own + len(econ.models) * v["standalone_development_share"] * shared
    services = v["service_margin_per_vehicle_year"] * total_units * fleet_disc
    platform = -platform_dev * dev_disc + (revenue - common - platform_parts) * sales_disc + services
    separate = -separate_dev * dev_disc + (revenue - common - separate_parts) * sales_disc + services
    return NpvResult(np.asarray(platform), np.asarray(separate))


def cash_flows(
    econ: Economics, x: Mapping[str, float], horizon_years: int, development_years: int = 1
) -> dict[str, Any]:
    """Year-by-year cash flows of both arms for one set of inputs (scalars): the base case a person can read."""
    _check_years(horizon_years, development_years)
    v = {k: float(a[0]) for k, a in _full(econ, x).items()}
    d, h = development_years, horizon_years
    units = v["volume_factor"] * econ.volume_per_year
    total_units = float(units.sum())
    revenue = v["net_price_share"] * (
        v["price_factor"] * v["volume_factor"] * float(econ.revenue_per_year.sum())
        + v["price_premium_per_vehicle"] * total_units
    )
    common = total_units * (v["conversion_cost_per_vehicle"] + v["extra_bom_cost_per_vehicle"])
    platform_parts = v["bom_cost_factor"] * float(units @ econ.platform_parts_unit)
    separate_unit = econ.separate_parts_unit(np.array([v["scale_elasticity"]]))[0]
    separate_parts = v["bom_cost_factor"] * float(units @ separate_unit)
    shared = econ.platform_development * v["development_factor"] + v["extra_development"]
    own = float(econ.model_development.sum()) * v["development_factor"]
    dev = {"platform": shared + own, "separate": own + len(econ.models) * v["standalone_development_share"] * shared}
    parts = {"platform": platform_parts, "separate": separate_parts}
    rows = []
    for t in range(d + h):
        k = t - d + 1  # sales year number, ≤ 0 while developing
        row: dict[str, Any] = {"year": t}
        for arm in ("platform", "separate"):
            if k <= 0:
                flow = -dev[arm] / d
            else:
                flow = revenue - common - parts[arm] + v["service_margin_per_vehicle_year"] * total_units * k
            row[arm] = flow
        rows.append(row)
    rate = v["discount_rate"]
    return {
        "inputs": v,
        "years": rows,
        "npv": {arm: npv([r[arm] for r in rows], rate) for arm in ("platform", "separate")},
    }


def npv(flows: list[float], rate: float) -> float:
    """Σ flow_t / (1 + rate)^t, t from 0: the textbook definition, for one series."""
    return float(sum(f / (1.0 + rate) ** t for t, f in enumerate(flows)))
