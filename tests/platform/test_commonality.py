"""The commonality indices against the worked example of ../shared/data/kpi/commonality.md.

The example is reproduced here as numbers (it is a test vector, not data the package reads),
and computed with exact fractions so a formula slip cannot hide behind rounding.
"""

from __future__ import annotations

from fractions import Fraction as F

import pytest

from evplatform.errors import EvplatformError
from evplatform.platform.commonality import Product, commonality

PRICES = {"A": F(10), "B": F(40), "C": F(60), "D": F(5), "E": F(1), "F": F(2), "G": F(15), "H": F(20), "I": F(18)}
FAMILY = [
    Product("P1", F(10_000), {"A": F(1), "B": F(1), "D": F(1), "E": F(4), "G": F(1)}),
    Product("P2", F(2_000), {"A": F(1), "C": F(1), "D": F(1), "F": F(4), "H": F(1)}),
    Product("P3", F(8_000), {"A": F(1), "B": F(1), "D": F(1), "E": F(4), "I": F(1)}),
]


def test_worked_example_exact() -> None:
    result = commonality(FAMILY, PRICES, F(1))
    assert result.dci == F(5, 3)
    assert result.tcci == F(3, 7)
    assert result.ci == F(3, 5)
    assert result.ci_c == F(1477, 781)
    assert result.part_share == F(4, 9)
    assert result.spend_share == F(1_092_000, 1_562_000)


def test_all_parts_unique() -> None:
    products = [Product(f"P{i}", F(1), {f"{i}{k}": F(1) for k in "abc"}) for i in range(3)]
    prices = {p: F(1) for prod in products for p in prod.quantities}
    result = commonality(products, prices, F(1))
    assert (result.dci, result.tcci, result.ci, result.ci_c) == (F(1), F(0), F(0), F(1))
    assert result.part_share == 0


def test_identical_products_tcci_is_not_one() -> None:
    products = [Product(f"P{i}", F(1), {"a": F(1), "b": F(1), "c": F(1)}) for i in range(3)]
    result = commonality(products, {"a": F(1), "b": F(1), "c": F(1)}, F(1))
    assert (result.dci, result.tcci, result.ci, result.ci_c) == (F(3), F(3, 4), F(1), F(3))


def test_undefined_indices_are_none_not_errors() -> None:
    single = [Product("only", F(1), {"a": F(1)})]
    result = commonality(single, {"a": F(0)}, F(1))
    assert result.tcci is None  # ΣΦ = 1
    assert result.ci is None  # one product
    assert result.ci_c is None  # nothing spent


def test_float_arithmetic_matches_fractions() -> None:
    floats = [Product(p.id, float(p.volume), {k: float(v) for k, v in p.quantities.items()}) for p in FAMILY]
    result = commonality(floats, {k: float(v) for k, v in PRICES.items()}, 1.0)
    assert result.ci_c == pytest.approx(1477 / 781)
    assert result.tcci == pytest.approx(3 / 7)


def test_empty_family_is_an_error() -> None:
    with pytest.raises(EvplatformError):
        commonality([], {}, 1.0)
