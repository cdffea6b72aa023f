"""Distributions: sampling moments against the analytic ones, quantiles, and every bad parameter."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from evplatform.errors import InsightsError
from evplatform.insights.distributions import (
    Distribution,
    Fixed,
    LogNormal,
    Pert,
    Triangular,
    Uniform,
    distribution_from_spec,
)

N = 400_000


@pytest.mark.parametrize(
    ("dist", "mean", "variance"),
    [
        # Triangular: mean (a+c+b)/3, variance (a²+b²+c²−ab−ac−bc)/18.
        (Triangular(2.0, 3.0, 7.0), 4.0, (4 + 49 + 9 - 14 - 6 - 21) / 18),
        # PERT(0, 2, 10), λ=4: α = 1.8, β = 4.2; mean (0 + 8 + 10)/6 = 3; var = 100·αβ/((α+β)²(α+β+1)).
        (Pert(0.0, 2.0, 10.0), 3.0, 100 * 1.8 * 4.2 / (36 * 7)),
        # LogNormal(median 2, σ 0.5): mean 2·e^{0.125}, variance (e^{0.25} − 1)·4·e^{0.25}.
        (LogNormal(2.0, 0.5), 2 * math.exp(0.125), (math.exp(0.25) - 1) * 4 * math.exp(0.25)),
        (Uniform(-1.0, 3.0), 1.0, 16 / 12),
    ],
)
def test_sample_moments_match_the_analytic_ones(dist: Distribution, mean: float, variance: float) -> None:
    assert dist.mean == pytest.approx(mean, rel=1e-12)
    assert dist.variance == pytest.approx(variance, rel=1e-12)
    x = dist.sample(np.random.default_rng(7), N)
    se = math.sqrt(variance / N)
    assert abs(x.mean() - mean) < 5 * se
    assert x.var(ddof=1) == pytest.approx(variance, rel=0.02)


def test_pert_is_a_scaled_beta_with_the_textbook_mean() -> None:
    d = Pert(10.0, 20.0, 60.0)
    assert d.mean == pytest.approx((10 + 4 * 20 + 60) / 6)
    x = d.sample(np.random.default_rng(1), N)
    assert x.min() >= 10 and x.max() <= 60


@pytest.mark.parametrize("dist", [Triangular(0.9, 1.0, 1.3), Pert(0.0, 0.2, 1.0), LogNormal(1.1, 0.2), Uniform(2, 5)])
def test_quantiles_agree_with_the_samples(dist: Distribution) -> None:
    x = dist.sample(np.random.default_rng(3), N)
    for q in (0.1, 0.5, 0.9):
        assert np.quantile(x, q) == pytest.approx(float(dist.ppf(q)), rel=0.01)
    assert dist.median == pytest.approx(float(dist.ppf(0.5)))


@pytest.mark.parametrize("dist", [Fixed(2.5), Uniform(2, 5), Triangular(0.9, 1.0, 1.3), Triangular(3, 3, 3),
                                  Pert(0.0, 0.2, 1.0), Pert(4, 4, 4), LogNormal(1.1, 0.2), LogNormal(2.0, 0.0)])
def test_support_is_the_quantiles_at_0_and_1(dist: Distribution) -> None:
    """``support`` (what a scenario's bounds are checked against, without importing SciPy) is ppf(0), ppf(1)."""
    assert dist.support == (float(dist.ppf(0.0)), float(dist.ppf(1.0)))


def test_lognormal_median_is_the_parameter() -> None:
    assert LogNormal(3.0, 0.4).median == 3.0
    assert Triangular(0, 0, 1).median == pytest.approx(1 - math.sqrt(0.5))


def test_same_seed_same_draws() -> None:
    d = Pert(0, 1, 5)
    a = d.sample(np.random.default_rng(42), 1000)
    b = d.sample(np.random.default_rng(42), 1000)
    c = d.sample(np.random.default_rng(43), 1000)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_degenerate_ranges_are_fixed_values() -> None:
    for d in (Triangular(2, 2, 2), Pert(2, 2, 2), LogNormal(2, 0), Fixed(2), Uniform(2, 2)):
        assert d.is_fixed
        assert np.all(d.sample(np.random.default_rng(0), 5) == 2)
        assert float(d.ppf(0.3)) == 2


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Triangular(2, 1.5, 1), "min 2 > max 1"),
        (lambda: Pert(5, 6, 4), "min 5 > max 4"),
        (lambda: Triangular(0, 3, 2), "mode 3 is outside"),
        (lambda: Uniform(3, 1), "min 3 > max 1"),
        (lambda: LogNormal(-1, 0.2), "median must be > 0"),
        (lambda: LogNormal(1, -0.2), "sigma must be ≥ 0"),
        (lambda: Pert(0, 1, 2, lam=0), "lambda must be > 0"),
        (lambda: Fixed(float("nan")), "finite"),
    ],
)
def test_bad_parameters_raise(make: Callable[[], object], message: str) -> None:
    with pytest.raises(InsightsError, match=message):
        make()


def test_specs_from_files() -> None:
    assert distribution_from_spec(3) == Fixed(3.0)
    assert distribution_from_spec({"dist": "pert", "min": 1, "mode": 2, "max": 4, "lambda": 6}) == Pert(1, 2, 4, 6)
    assert distribution_from_spec({"dist": "lognormal", "median": 2, "sigma": 0.1}) == LogNormal(2, 0.1)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"dist": "gamma", "k": 1}, "unknown distribution 'gamma'"),
        ({"dist": "triangular", "min": 1, "max": 2}, "needs 'mode'"),
        ({"dist": "triangular", "min": 1, "mode": 1, "max": 2, "peak": 3}, "unknown key"),
        ({"dist": "pert", "min": "a", "mode": 1, "max": 2}, "min must be a number"),
        ({"dist": "lognormal", "median": "1.0e9", "sigma": 0.1}, "write 1.0e\\+9"),
        ({"dist": "triangular", "min": 3, "mode": 2, "max": 1}, "min 3 > max 1"),
        (True, "expected a number"),
        ("high", "expected a number"),
    ],
)
def test_bad_specs_raise(spec: Any, message: str) -> None:
    with pytest.raises(InsightsError, match=message):
        distribution_from_spec(spec)
