"""One platform against one product per model: what sharing saves.

The counterfactual keeps every model's BOM as it is, but (1) each model develops its own
architecture at ``standalone_development_share`` of the platform's development cost, and
(2) each part is bought only at that model's volume, so its unit cost rises along an
experience curve: cost ∝ volume^(−``scale_elasticity``). Both parameters live in
platform.yaml, so the assumption is visible and can be argued with.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from evplatform.platform.kpi import TrimCost, trim_costs
from evplatform.workspace.model import Workspace


@dataclass(frozen=True, slots=True)
class ModelComparison:
    model_id: str
    vehicles: float
    platform_unit_cost: float
    separate_unit_cost: float

    @property
    def saving_per_unit(self) -> float:
        return self.separate_unit_cost - self.platform_unit_cost

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model_id,
            "vehicles": self.vehicles,
            "platform_unit_cost": round(self.platform_unit_cost, 2),
            "separate_unit_cost": round(self.separate_unit_cost, 2),
            "saving_per_unit": round(self.saving_per_unit, 2),
        }


@dataclass(frozen=True, slots=True)
class PlatformComparison:
    lifecycle_years: float
    platform_total: float
    separate_total: float
    platform_development: float
    separate_development: float
    models: tuple[ModelComparison, ...]

    @property
    def saving(self) -> float:
        return self.separate_total - self.platform_total

    @property
    def saving_share(self) -> float:
        return self.saving / self.separate_total if self.separate_total else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "lifecycle_years": self.lifecycle_years,
            "platform_total": round(self.platform_total, 2),
            "separate_total": round(self.separate_total, 2),
            "platform_development": round(self.platform_development, 2),
            "separate_development": round(self.separate_development, 2),
            "saving": round(self.saving, 2),
            "saving_share": self.saving_share,
            "models": [m.to_dict() for m in self.models],
        }


def platform_vs_separate(ws: Workspace, costs: tuple[TrimCost, ...] | None = None) -> PlatformComparison:
    """Lifecycle cost of the platform and of the one-product-per-model counterfactual."""
    costs = costs if costs is not None else trim_costs(ws)
    platform = ws.platform
    life = platform.lifecycle_years
    part_volume: dict[str, float] = {}
    model_part_volume: dict[tuple[str, str], float] = {}
    for cost in costs:
        for part_no, qty in cost.bom.quantities().items():
            v = qty * cost.trim.volume_per_year
            part_volume[part_no] = part_volume.get(part_no, 0.0) + v
            key = (cost.trim.model_id, part_no)
            model_part_volume[key] = model_part_volume.get(key, 0.0) + v
    prices = {p.part_no: p.unit_cost for p in ws.parts}
    b = platform.scale_elasticity
    models = []
    for model in ws.models.values():
        vehicles = model.volume_per_year * life
        own = [c for c in costs if c.trim.model_id == model.id]
        platform_parts = sum(c.bom_cost * c.trim.volume_per_year for c in own) * life
        separate_parts = sum(
            v * prices[p] * (v / part_volume[p]) ** (-b)
            for (m, p), v in model_part_volume.items()
            if m == model.id
        ) * life
        platform_dev = model.development_cost + platform.development_cost * (
            model.volume_per_year / sum(t.volume_per_year for t in ws.trims())
        )
        separate_dev = model.development_cost + platform.development_cost * platform.standalone_development_share
        models.append(
            ModelComparison(
                model.id,
                vehicles,
                (platform_parts + platform_dev) / vehicles if vehicles else 0.0,
                (separate_parts + separate_dev) / vehicles if vehicles else 0.0,
            )
        )
    platform_development = platform.development_cost + sum(m.development_cost for m in ws.models.values())
    separate_development = sum(
        m.development_cost + platform.development_cost * platform.standalone_development_share
        for m in ws.models.values()
    )
    return PlatformComparison(
        lifecycle_years=life,
        platform_total=sum(m.platform_unit_cost * m.vehicles for m in models),
        separate_total=sum(m.separate_unit_cost * m.vehicles for m in models),
        platform_development=platform_development,
        separate_development=separate_development,
        models=tuple(models),
    )
