"""Monte Carlo: seeded reproducibility, chunk independence, loss probabilities, the 100k path."""

from __future__ import annotations

import numpy as np
import pytest

from evplatform.errors import InsightsError
from evplatform.insights.distributions import Fixed, Triangular, Uniform
from evplatform.insights.montecarlo import CHUNK_DRAWS, Plan, chunk_sizes, run_monte_carlo, summarize
from evplatform.insights.npv import NpvResult, economics
from evplatform.insights.scenarios import load_scenarios
from evplatform.workspace import load_workspace


@pytest.fixture(scope="module")
def plan() -> Plan:
    ws = load_workspace(None)
    return load_scenarios(ws).scenarios["ai-autonomous"].plan(economics(ws))


def test_same_seed_same_answer_other_seed_other_answer(plan: Plan) -> None:
    a = run_monte_carlo(plan, 5_000, seed=11)
    b = run_monte_carlo(plan, 5_000, seed=11)
    c = run_monte_carlo(plan, 5_000, seed=12)
    assert np.array_equal(a.platform, b.platform) and np.array_equal(a.separate, b.separate)
    assert not np.array_equal(a.platform, c.platform)
    assert summarize(a) == summarize(b)


def test_draws_do_not_depend_on_the_run_length(plan: Plan) -> None:
    """Chunk i always comes from child i of the seed, so a longer run extends a shorter one."""
    short = run_monte_carlo(plan, CHUNK_DRAWS, seed=3)
    long = run_monte_carlo(plan, CHUNK_DRAWS + 500, seed=3)
    assert np.array_equal(long.platform[:CHUNK_DRAWS], short.platform)
    assert chunk_sizes(2 * CHUNK_DRAWS + 1) == [CHUNK_DRAWS, CHUNK_DRAWS, 1]


def test_summary_of_known_values() -> None:
    platform = np.array([-2.0, -1.0, 1.0, 2.0, 3.0])
    separate = np.array([-1.0, 0.0, 2.0, 1.0, 1.0])
    s = summarize(NpvResult(platform, separate))
    assert s["draws"] == 5
    assert s["probability_loss"] == pytest.approx(0.4)
    assert s["probability_separate_loss"] == pytest.approx(0.2)
    assert s["probability_platform_worse"] == pytest.approx(0.6)  # −1, −1, −1, +1, +2
    assert s["platform"]["p50"] == 1.0
    assert s["platform"]["mean"] == pytest.approx(0.6)


def test_uncertain_inputs_widen_the_distribution(plan: Plan) -> None:
    s = summarize(run_monte_carlo(plan, 20_000, seed=0))
    assert s["platform"]["p5"] < s["platform"]["p50"] < s["platform"]["p95"]
    fixed = Plan(plan.economics, {k: Fixed(d.median) for k, d in plan.inputs.items()}, plan.horizon_years,
                 plan.development_years)
    f = summarize(run_monte_carlo(fixed, 100, seed=0))
    assert f["platform"]["p5"] == pytest.approx(f["platform"]["p95"])
    assert plan.uncertain() and not fixed.uncertain()


def test_monte_carlo_mean_matches_a_linear_input() -> None:
    """NPV is linear in the conversion cost: the MC mean must sit at the NPV of the input's mean."""
    econ = economics(load_workspace(None))
    base = {"conversion_cost_per_vehicle": Triangular(5_000, 10_000, 30_000)}
    s = summarize(run_monte_carlo(Plan(econ, base, 6, 1), 200_000, seed=9))
    at_mean = summarize(run_monte_carlo(Plan(econ, {"conversion_cost_per_vehicle": Fixed(15_000)}, 6, 1), 1, seed=0))
    assert s["platform"]["mean"] == pytest.approx(at_mean["platform"]["mean"], rel=2e-3)
    assert s["platform"]["std"] > 0
    assert Uniform(0, 1).mean == 0.5


def test_draws_must_be_positive(plan: Plan) -> None:
    with pytest.raises(InsightsError, match="draws must be ≥ 1"):
        run_monte_carlo(plan, 0, seed=0)
