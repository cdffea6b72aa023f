"""The KPIs that decide a platform's worth: cost per model and trim, reuse, commonality.

Costs are computed in the platform's base market (the configuration a trim's price list
refers to). Unit cost = BOM cost + the per-unit share of development: the platform's cost
spread over every vehicle built on it during its lifecycle, plus the model's own development
spread over that model's vehicles.

Commonality is reported at two levels: across *models* (the contract's ``commonality``: a
platform exists to share parts between models) and across *trims* (``commonality_trims``).
A model's quantity of a part is the volume-weighted mean over its trims, so spend-weighted
figures (CI(C), spend share) are exact.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from evplatform.platform.bom import Bom, bom_of
from evplatform.platform.commonality import Commonality, Product, commonality
from evplatform.workspace.model import Trim, Workspace


@dataclass(frozen=True, slots=True)
class TrimCost:
    trim: Trim
    bom: Bom
    bom_cost: float
    development_per_unit: float
    unit_cost: float
    margin: float  # price − unit cost (price taken as net of VAT is out of scope: gross list price)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.trim.id,
            "name": self.trim.name,
            "price": self.trim.price,
            "volume_per_year": self.trim.volume_per_year,
            "bom_cost": round(self.bom_cost, 2),
            "development_per_unit": round(self.development_per_unit, 2),
            "unit_cost": round(self.unit_cost, 2),
            "margin_per_unit": round(self.margin, 2),
            "parts": len(self.bom.lines),
            "bom_mass_kg": round(self.bom.mass_kg, 1),
        }


@dataclass(frozen=True, slots=True)
class KpiReport:
    currency: str
    base_market: str
    trims: tuple[TrimCost, ...]
    models: dict[str, Product[float]]
    by_model: Commonality[float]
    by_trim: Commonality[float]
    parts_in_catalogue: int
    parts_used: int

    def to_dict(self) -> dict[str, Any]:
        """The DESIGN.md ``kpi`` JSON shape (keys may be added, never renamed)."""
        models = []
        for model_id in self.models:
            trims = [t.to_dict() for t in self.trims if t.trim.model_id == model_id]
            models.append({"id": model_id, "trims": trims})
        by_model = self.by_model.to_dict()
        return {
            "currency": self.currency,
            "base_market": self.base_market,
            "models": models,
            "reuse": {
                "part_share": by_model["part_share"],
                "spend_share": by_model["spend_share"],
                "definition": "share of part numbers (and of annual spend) used by 2 or more models",
            },
            "commonality": {k: by_model[k] for k in ("dci", "tcci", "ci", "ci_c")},
            "commonality_trims": {k: v for k, v in self.by_trim.to_dict().items()},
            "parts": {"catalogue": self.parts_in_catalogue, "used": self.parts_used},
        }


def trim_costs(ws: Workspace) -> tuple[TrimCost, ...]:
    """BOM cost and unit cost of every trim in the base market."""
    platform = ws.platform
    life = platform.lifecycle_years
    total_volume = sum(t.volume_per_year for t in ws.trims()) * life
    platform_share = platform.development_cost / total_volume if total_volume else 0.0
    out = []
    for model in ws.models.values():
        model_volume = model.volume_per_year * life
        model_share = model.development_cost / model_volume if model_volume else 0.0
        for trim in model.trims:
            bom = bom_of(ws.parts, ws.configuration(trim))
            development = platform_share + model_share
            unit = bom.cost + development
            out.append(TrimCost(trim, bom, bom.cost, development, unit, trim.price - unit))
    return tuple(out)


def model_products(costs: tuple[TrimCost, ...]) -> dict[str, Product[float]]:
    """Each model as one product: volume = Σ trims, quantity = volume-weighted mean over trims."""
    spend_qty: dict[str, dict[str, float]] = {}
    volume: dict[str, float] = {}
    for cost in costs:
        model_id = cost.trim.model_id
        volume[model_id] = volume.get(model_id, 0.0) + cost.trim.volume_per_year
        bucket = spend_qty.setdefault(model_id, {})
        for part_no, qty in cost.bom.quantities().items():
            bucket[part_no] = bucket.get(part_no, 0.0) + qty * cost.trim.volume_per_year
    return {
        m: Product(m, volume[m], {p: q / volume[m] if volume[m] else q for p, q in bucket.items()})
        for m, bucket in spend_qty.items()
    }


def kpi_report(ws: Workspace) -> KpiReport:
    """Every KPI of the platform in one pass."""
    costs = trim_costs(ws)
    prices = {p.part_no: p.unit_cost for p in ws.parts}
    models = model_products(costs)
    trims = [Product(c.trim.key, c.trim.volume_per_year, c.bom.quantities()) for c in costs]
    used = {p for c in costs for p in c.bom.quantities()}
    return KpiReport(
        currency=ws.platform.currency,
        base_market=ws.platform.base_market,
        trims=costs,
        models=models,
        by_model=commonality(list(models.values()), prices, 1.0),
        by_trim=commonality(trims, prices, 1.0),
        parts_in_catalogue=len(ws.parts),
        parts_used=len(used),
    )
