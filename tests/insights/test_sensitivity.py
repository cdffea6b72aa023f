"""Sensitivity: Sobol indices of functions whose indices are known, and the tornado of the demo."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from evplatform.insights.distributions import Distribution, Triangular, Uniform
from evplatform.insights.montecarlo import Plan
from evplatform.insights.npv import economics
from evplatform.insights.scenarios import load_scenarios
from evplatform.insights.sensitivity import sobol_indices, sobol_npv, tornado
from evplatform.workspace import load_workspace


def test_sobol_of_an_additive_linear_function() -> None:
    """Y = X1 + 2·X2 + 3·X3, Xi ~ U(0, 1) independent: S_i = ST_i = a_i² / Σa² = 1/14, 4/14, 9/14."""
    dists = [Uniform(0, 1)] * 3
    result = sobol_indices(lambda x: x @ np.array([1.0, 2.0, 3.0]), dists, ["x1", "x2", "x3"], 4096, seed=1)
    for name, expected in (("x1", 1 / 14), ("x2", 4 / 14), ("x3", 9 / 14)):
        assert result[name]["S1"] == pytest.approx(expected, abs=0.02)
        assert result[name]["ST"] == pytest.approx(expected, abs=0.02)


def test_sobol_sees_interactions_and_other_distributions() -> None:
    """Y = X1·X2 with Xi ~ U(−1, 1): no first-order effect, all of it interaction (ST = 1 each);
    an unused input has zero indices; a triangular input is mapped through its quantiles."""
    dists: Sequence[Distribution] = [Uniform(-1, 1), Uniform(-1, 1), Triangular(0, 1, 5)]
    result = sobol_indices(lambda x: x[:, 0] * x[:, 1], dists, ["a", "b", "unused"], 4096, seed=2)
    assert result["a"]["S1"] == pytest.approx(0.0, abs=0.03)
    assert result["a"]["ST"] == pytest.approx(1.0, abs=0.05)
    assert result["unused"]["ST"] == pytest.approx(0.0, abs=1e-9)


def test_sobol_of_an_additive_linear_function_with_unequal_variances() -> None:
    """Y = X1 + X2, X1 ~ U(0, 1) (variance 1/12), X2 triangular(0, 0, 3) (variance 9/18): S1 = (1/12)/(1/12 + 1/2)."""
    dists: Sequence[Distribution] = [Uniform(0, 1), Triangular(0, 0, 3)]
    result = sobol_indices(lambda x: x.sum(axis=1), dists, ["u", "t"], 4096, seed=3)
    expected = (1 / 12) / (1 / 12 + 9 / 18)
    assert result["u"]["S1"] == pytest.approx(expected, abs=0.02)
    assert result["t"]["S1"] == pytest.approx(1 - expected, abs=0.02)


@pytest.fixture(scope="module")
def plan() -> Plan:
    ws = load_workspace(None)
    return load_scenarios(ws).scenarios["plan"].plan(economics(ws))


def test_tornado_swings_are_sorted_and_start_from_the_medians(plan: Plan) -> None:
    t = tornado(plan)
    bars = t["platform"]["bars"]
    assert [b["swing"] for b in bars] == sorted((b["swing"] for b in bars), reverse=True)
    assert {b["input"] for b in bars} == set(plan.uncertain())
    volume = next(b for b in bars if b["input"] == "volume_factor")
    assert volume["low_value"] == pytest.approx(float(plan.inputs["volume_factor"].ppf(0.1)))
    assert volume["npv_at_high"] > volume["npv_at_low"]
    # price moves both arms alike: no swing of the platform's advantage
    price = next(b for b in t["advantage"]["bars"] if b["input"] == "price_factor")
    assert price["swing"] == pytest.approx(0.0, abs=1e-3)
    assert t["advantage"]["bars"][0]["input"] in ("scale_elasticity", "volume_factor", "standalone_development_share")


def test_sobol_of_the_demo_ranks_like_the_tornado(plan: Plan) -> None:
    s = sobol_npv(plan, 256, seed=0)
    st = {k: v["ST"] for k, v in s["platform"].items()}
    top = max(st, key=lambda k: st[k])
    assert top == tornado(plan)["platform"]["bars"][0]["input"]
    assert s["advantage"]["price_factor"]["ST"] == pytest.approx(0.0, abs=1e-6)
    assert s["base_samples"] == 256
