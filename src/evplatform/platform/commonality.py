"""Product-family commonality indices over a single-level BOM.

Definitions follow Thevenot & Simpson (2006), "Commonality indices for product family design:
a detailed comparison", J. Eng. Design 17(2), and the primary papers:

* DCI  — Collier (1981): ΣΦ_j / d, the mean number of parents per distinct part.
* TCCI — Wacker & Treleven (1986): 1 − (d − 1)/(ΣΦ_j − 1), in [0, 1].
* CI   — Martin & Ishii (1997): 1 − (u − max p_j)/(Σ p_j − max p_j), in [0, 1].
* CI(C)— Jiao & Tseng (2000): Σ Φ_j w_j / Σ w_j with w_j = p_j Σ_i r_i q_ij (annual spend).

A "part" is a part number (not an instance); Φ_j counts the distinct products that use part j;
quantities enter only CI(C). Arithmetic is generic so tests can use exact ``Fraction`` values.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Generic, TypeVar

from evplatform.errors import EvplatformError

Num = TypeVar("Num", float, Fraction)


@dataclass(frozen=True, slots=True)
class Product(Generic[Num]):
    """An end item of the family: its volume and the quantity of each part number per unit."""

    id: str
    volume: Num
    quantities: Mapping[str, Num]


@dataclass(frozen=True, slots=True)
class Commonality(Generic[Num]):
    dci: Num
    tcci: Num | None
    ci: Num | None
    ci_c: Num | None
    part_share: Num
    spend_share: Num | None

    def to_dict(self) -> dict[str, float | None]:
        def f(x: Num | None) -> float | None:
            return None if x is None else float(x)

        return {
            "dci": f(self.dci),
            "tcci": f(self.tcci),
            "ci": f(self.ci),
            "ci_c": f(self.ci_c),
            "part_share": f(self.part_share),
            "spend_share": f(self.spend_share),
        }


def parents(products: Sequence[Product[Num]]) -> dict[str, int]:
    """Φ_j: the number of products that use each part number (quantity > 0)."""
    phi: dict[str, int] = {}
    for product in products:
        for part, qty in product.quantities.items():
            if qty > 0:
                phi[part] = phi.get(part, 0) + 1
    return phi


def spend(products: Sequence[Product[Num]], prices: Mapping[str, Num]) -> dict[str, Num]:
    """w_j = p_j · Σ_i r_i q_ij: what the family spends on each part number per period."""
    out: dict[str, Num] = {}
    for product in products:
        for part, qty in product.quantities.items():
            if qty > 0:
                out[part] = out.get(part, 0 * qty) + prices[part] * product.volume * qty
    return out


def commonality(products: Sequence[Product[Num]], prices: Mapping[str, Num], one: Num) -> Commonality[Num]:
    """All indices at once. ``one`` is 1 in the number type wanted (1.0 or Fraction(1)).

    Undefined indices are ``None`` rather than a division error: TCCI when ΣΦ = 1, CI with a
    single product, CI(C) and the spend share when nothing is spent.
    """
    if not products:
        raise EvplatformError("commonality needs at least one product")
    phi = parents(products)
    d = len(phi)
    if d == 0:
        raise EvplatformError("commonality needs at least one part used by a product")
    total_phi = sum(phi.values())
    dci = one * total_phi / d
    tcci = None if total_phi == 1 else one - one * (d - 1) / (total_phi - 1)
    per_product = [sum(1 for q in p.quantities.values() if q > 0) for p in products]
    largest = max(per_product)
    denominator = sum(per_product) - largest
    ci = None if denominator == 0 else one - one * (d - largest) / denominator
    weights = spend(products, prices)
    total_spend = sum(weights.values(), 0 * one)
    ci_c = None if total_spend == 0 else sum((phi[j] * w for j, w in weights.items()), 0 * one) / total_spend
    shared = [j for j, n in phi.items() if n >= 2]
    part_share = one * len(shared) / d
    spend_share = None if total_spend == 0 else sum((weights[j] for j in shared), 0 * one) / total_spend
    return Commonality(dci, tcci, ci, ci_c, part_share, spend_share)
