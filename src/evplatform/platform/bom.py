"""From the 150 % BOM to the BOM of one configuration.

A part belongs to a configuration's BOM when its ``when`` expression holds on the selected
features. The BOM is what cost, mass, reuse and commonality are computed from.
"""

from __future__ import annotations

from collections.abc import Iterable, Set
from dataclasses import dataclass
from typing import Any

from evplatform.workspace.model import Part


@dataclass(frozen=True, slots=True)
class BomLine:
    part: Part
    qty: float

    @property
    def cost(self) -> float:
        return self.part.unit_cost * self.qty

    @property
    def mass_kg(self) -> float:
        return self.part.mass_kg * self.qty


@dataclass(frozen=True, slots=True)
class Bom:
    lines: tuple[BomLine, ...]

    @property
    def cost(self) -> float:
        return sum(line.cost for line in self.lines)

    @property
    def mass_kg(self) -> float:
        return sum(line.mass_kg for line in self.lines)

    def quantities(self) -> dict[str, float]:
        return {line.part.part_no: line.qty for line in self.lines}

    def cost_by_module(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for line in self.lines:
            out[line.part.module] = out.get(line.part.module, 0.0) + line.cost
        return dict(sorted(out.items(), key=lambda kv: -kv[1]))

    def to_dict(self, trim: str, market: str, configuration: Set[str]) -> dict[str, Any]:
        """The ``evplatform bom --json`` payload (also the API's and the dashboard's BOM)."""
        return {
            "trim": trim,
            "market": market,
            "features": sorted(configuration),
            "bom_cost": round(self.cost, 2),
            "bom_mass_kg": round(self.mass_kg, 2),
            "cost_by_module": {k: round(v, 2) for k, v in self.cost_by_module().items()},
            "lines": [
                {"part_no": line.part.part_no, "name": line.part.name, "module": line.part.module,
                 "supplier": line.part.supplier, "qty": line.qty, "unit_cost": line.part.unit_cost,
                 "cost": round(line.cost, 2), "when": line.part.when_text}
                for line in self.lines
            ],
        }


def bom_of(parts: Iterable[Part], configuration: Set[str]) -> Bom:
    """The parts whose ``when`` holds for this configuration, with their quantities."""
    return Bom(tuple(BomLine(p, p.qty) for p in parts if p.qty > 0 and p.when.evaluate(configuration)))
