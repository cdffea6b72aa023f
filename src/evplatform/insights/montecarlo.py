"""Monte Carlo of the platform NPV: seeded, vectorised with numpy, split into fixed-size chunks.

Draws are generated chunk by chunk, chunk ``i`` from child ``i`` of ``SeedSequence(seed)``, so a
run's draws do not depend on how many chunks there are or on which machine computes each one:
the in-memory run here, the serial sweep and the Dask sweep (``insights.scaleout``) see the same
numbers and give the same answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from evplatform.errors import InsightsError
from evplatform.insights.distributions import Distribution
from evplatform.insights.npv import INPUTS, Economics, NpvResult, evaluate

Array = NDArray[np.float64]

CHUNK_DRAWS = 100_000
PERCENTILES = (5, 10, 50, 90, 95)


@dataclass(frozen=True)
class Plan:
    """Everything one Monte Carlo needs, small enough to ship to a Dask worker."""

    economics: Economics
    inputs: Mapping[str, Distribution]
    horizon_years: int
    development_years: int

    def uncertain(self) -> list[str]:
        """Names of the inputs that vary, in the fixed order of ``INPUTS`` (sampling order)."""
        return [name for name in INPUTS if name in self.inputs and not self.inputs[name].is_fixed]


def chunk_sizes(draws: int, chunk: int = CHUNK_DRAWS) -> list[int]:
    if draws < 1:
        raise InsightsError(f"draws must be ≥ 1, not {draws}")
    full, rest = divmod(draws, chunk)
    return [chunk] * full + ([rest] if rest else [])


def sample_inputs(plan: Plan, n: int, rng: np.random.Generator) -> dict[str, Array]:
    """One array of ``n`` draws per input, sampled in ``INPUTS`` order so a seed means one thing."""
    out: dict[str, Array] = {}
    for name in INPUTS:
        if name in plan.inputs:
            out[name] = plan.inputs[name].sample(rng, n)
    return out


def chunk_rng(seed: int, index: int) -> np.random.Generator:
    """The generator of chunk ``index``: child ``index`` of ``SeedSequence(seed)``."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(index,)))


def run_chunk(plan: Plan, seed: int, index: int, n: int) -> NpvResult:
    """The NPVs of chunk ``index`` (``n`` draws)."""
    x = sample_inputs(plan, n, chunk_rng(seed, index))
    return evaluate(plan.economics, x, plan.horizon_years, plan.development_years)


def run_monte_carlo(plan: Plan, draws: int, seed: int) -> NpvResult:
    """All draws in memory (fine up to a few million)."""
    parts = [run_chunk(plan, seed, i, n) for i, n in enumerate(chunk_sizes(draws))]
    return NpvResult(np.concatenate([p.platform for p in parts]), np.concatenate([p.separate for p in parts]))


def summarize(result: NpvResult) -> dict[str, Any]:
    """Percentiles and loss probabilities of a run: P(NPV < 0) and P(platform worse than separate)."""
    out: dict[str, Any] = {"draws": int(result.platform.size)}
    for key, values in (("platform", result.platform), ("separate", result.separate), ("advantage", result.advantage)):
        q = np.percentile(values, PERCENTILES)
        out[key] = {
            "mean": float(values.mean()),
            "std": float(values.std(ddof=1)) if values.size > 1 else 0.0,
            **{f"p{p}": float(v) for p, v in zip(PERCENTILES, q, strict=True)},
        }
    out["probability_loss"] = float(np.mean(result.platform < 0))
    out["probability_separate_loss"] = float(np.mean(result.separate < 0))
    out["probability_platform_worse"] = float(np.mean(result.advantage < 0))
    return out
