"""NPV of the platform against one product per model: a hand-computed example and the workspace link."""

from __future__ import annotations

import dataclasses
from fractions import Fraction

import numpy as np
import pytest

from evplatform.errors import InsightsError
from evplatform.insights.npv import Economics, cash_flows, economics, evaluate, npv
from evplatform.platform import platform_vs_separate
from evplatform.workspace import load_workspace


def tiny() -> Economics:
    """One model: 100 vehicles a year at 1,000; parts 600 on the platform, 700 alone (any elasticity);
    own development 10,000; platform development 20,000; a model alone redoes half of it."""
    return Economics(
        currency="EUR",
        models=("m",),
        volume_per_year=np.array([100.0]),
        revenue_per_year=np.array([100_000.0]),
        platform_parts_unit=np.array([600.0]),
        model_development=np.array([10_000.0]),
        platform_development=20_000.0,
        scale_elasticity=0.1,
        standalone_development_share=0.5,
        lifecycle_years=2,
        elasticity_grid=np.array([0.0, 0.4]),
        separate_parts_unit_grid=np.array([[700.0], [700.0]]),
    )


def test_hand_computed_two_year_example() -> None:
    # Platform: year 0 −(20,000 + 10,000); years 1, 2: 100,000 − 100·600 = 40,000; at 10 %.
    platform = Fraction(-30_000) + Fraction(40_000) / Fraction(11, 10) + Fraction(40_000) / Fraction(121, 100)
    # Separate: year 0 −(10,000 + 0.5·20,000); years 1, 2: 100,000 − 100·700 = 30,000.
    separate = Fraction(-20_000) + Fraction(30_000) / Fraction(11, 10) + Fraction(30_000) / Fraction(121, 100)
    result = evaluate(tiny(), {"discount_rate": 0.1}, horizon_years=2, development_years=1)
    assert result.platform[0] == pytest.approx(float(platform), rel=1e-12)
    assert result.separate[0] == pytest.approx(float(separate), rel=1e-12)
    assert result.advantage[0] == pytest.approx(float(platform - separate), rel=1e-12)
    assert float(platform) == pytest.approx(39_421.4876, abs=1e-3)


def test_hand_computed_with_every_lever() -> None:
    # 2 development years, 3 sales years at 0 %: easy sums. Inputs:
    x = {"discount_rate": 0.0, "price_factor": 0.9, "volume_factor": 2.0, "bom_cost_factor": 1.1,
         "development_factor": 1.5, "net_price_share": 0.8, "conversion_cost_per_vehicle": 50.0,
         "extra_bom_cost_per_vehicle": 20.0, "price_premium_per_vehicle": 100.0, "extra_development": 4_000.0,
         "service_margin_per_vehicle_year": 5.0, "standalone_development_share": 0.25}
    units = 200
    revenue = 0.8 * (0.9 * 2.0 * 100_000 + 100 * units)  # 160,000
    common = units * (50 + 20)  # 14,000
    shared = 20_000 * 1.5 + 4_000  # 34,000
    own = 10_000 * 1.5
    services = 5.0 * units * (1 + 2 + 3)  # fleet of 200, 400, 600
    platform = -(shared + own) + 3 * (revenue - common - 1.1 * 600 * units) + services
    separate = -(own + 0.25 * shared) + 3 * (revenue - common - 1.1 * 700 * units) + services
    result = evaluate(tiny(), x, horizon_years=3, development_years=2)
    assert result.platform[0] == pytest.approx(platform, rel=1e-12)
    assert result.separate[0] == pytest.approx(separate, rel=1e-12)
    flows = cash_flows(tiny(), x, 3, 2)
    assert [r["platform"] for r in flows["years"]][:2] == [-(shared + own) / 2] * 2
    assert flows["npv"]["platform"] == pytest.approx(platform, rel=1e-12)


def test_vectorised_npv_equals_the_year_by_year_one() -> None:
    econ = economics(load_workspace(None))
    rng = np.random.default_rng(5)
    x = {"discount_rate": rng.uniform(0.0, 0.15, 20), "volume_factor": rng.uniform(0.5, 1.5, 20),
         "scale_elasticity": rng.uniform(0.0, 0.3, 20), "service_margin_per_vehicle_year": rng.uniform(0, 900, 20)}
    result = evaluate(econ, x, horizon_years=5, development_years=2)
    for i in range(20):
        one = cash_flows(econ, {k: float(v[i]) for k, v in x.items()}, 5, 2)
        rate = float(x["discount_rate"][i])
        assert result.platform[i] == pytest.approx(npv([r["platform"] for r in one["years"]], rate), rel=1e-9)
        assert result.separate[i] == pytest.approx(one["npv"]["separate"], rel=1e-9)


def test_undiscounted_advantage_is_the_comparison_saving() -> None:
    """At 0 %, over the lifecycle, with list prices kept, platform − separate = kpi's lifecycle saving."""
    ws = load_workspace(None)
    econ = economics(ws)
    comparison = platform_vs_separate(ws)
    result = evaluate(econ, {"discount_rate": 0.0}, horizon_years=round(econ.lifecycle_years))
    assert result.advantage[0] == pytest.approx(comparison.saving, rel=1e-9)
    assert econ.models == tuple(m.model_id for m in comparison.models)


def test_parts_costs_come_from_the_comparison() -> None:
    ws = load_workspace(None)
    econ = economics(ws)
    without_development = dataclasses.replace(
        ws, platform=dataclasses.replace(ws.platform, development_cost=0.0),
        models={k: dataclasses.replace(m, development_cost=0.0) for k, m in ws.models.items()},
    )
    alone = platform_vs_separate(without_development)
    for j, model in enumerate(alone.models):
        assert econ.platform_parts_unit[j] == pytest.approx(model.platform_unit_cost)
        assert econ.separate_parts_unit(np.array([ws.platform.scale_elasticity]))[0, j] == pytest.approx(
            model.separate_unit_cost, rel=1e-12)
    # between grid points the log-linear interpolation stays within 0.01 % of the exact curve
    b = 0.0825
    exact = platform_vs_separate(dataclasses.replace(
        without_development, platform=dataclasses.replace(without_development.platform, scale_elasticity=b)))
    approx = econ.separate_parts_unit(np.array([b]))[0]
    for j, model in enumerate(exact.models):
        assert approx[j] == pytest.approx(model.separate_unit_cost, rel=1e-4)


def test_services_and_prices_move_both_arms_alike() -> None:
    econ = economics(load_workspace(None))
    low = evaluate(econ, {"price_factor": 0.9, "service_margin_per_vehicle_year": 0.0}, 6)
    high = evaluate(econ, {"price_factor": 1.1, "service_margin_per_vehicle_year": 1000.0}, 6)
    assert high.platform[0] > low.platform[0]
    assert high.advantage[0] == pytest.approx(low.advantage[0], rel=1e-9)


def test_bad_inputs() -> None:
    econ = tiny()
    with pytest.raises(InsightsError, match="unknown input"):
        evaluate(econ, {"discount": 0.1}, 2)
    with pytest.raises(InsightsError, match="horizon_years"):
        evaluate(econ, {}, 0)
    with pytest.raises(InsightsError, match="scale_elasticity must be within"):
        evaluate(econ, {"scale_elasticity": 0.5}, 2)
