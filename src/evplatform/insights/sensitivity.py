"""Which uncertain inputs move the NPV: a one-at-a-time tornado and Sobol indices (SALib).

Tornado: every input at its median, then one input at a time at its P10 and its P90; the swing is
the difference of the outputs. Sobol: Saltelli's scheme (SALib ``sample.sobol`` / ``analyze.sobol``)
in the unit cube, each coordinate mapped onto its input through that input's quantile function,
so the indices are those of the inputs' own distributions (PERT included, which SALib lacks).
First-order S1 is the share of variance an input explains alone, total-order ST includes its
interactions; ST − S1 large means the input matters through others.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray
from SALib.analyze import sobol as sobol_analyze
from SALib.sample import sobol as sobol_sample

from evplatform.errors import InsightsError
from evplatform.insights.distributions import Distribution
from evplatform.insights.montecarlo import Plan
from evplatform.insights.npv import NpvResult, evaluate

Array = NDArray[np.float64]
OUTPUTS = ("platform", "advantage")


def _output(result: NpvResult, output: str) -> Array:
    if output == "platform":
        return result.platform
    if output == "advantage":
        return result.advantage
    if output == "separate":
        return result.separate
    raise InsightsError(f"unknown output {output!r}; known: platform, separate, advantage")


def medians(plan: Plan) -> dict[str, float]:
    return {name: dist.median for name, dist in plan.inputs.items()}


def tornado(plan: Plan, low_q: float = 0.10, high_q: float = 0.90) -> dict[str, Any]:
    """One-at-a-time swings for each output, largest first."""
    base = medians(plan)
    names = plan.uncertain()
    x: dict[str, Array] = {k: np.full(2 * len(names) + 1, v) for k, v in base.items()}
    for i, name in enumerate(names):  # row 0 is the base case; rows 2i+1, 2i+2 swing input i
        dist = plan.inputs[name]
        x[name][2 * i + 1] = float(dist.ppf(low_q))
        x[name][2 * i + 2] = float(dist.ppf(high_q))
    result = evaluate(plan.economics, x, plan.horizon_years, plan.development_years)
    out: dict[str, Any] = {"quantiles": [low_q, high_q], "base_inputs": base}
    for output in OUTPUTS:
        y = _output(result, output)
        bars: list[dict[str, Any]] = []
        for i, name in enumerate(names):
            low, high = float(y[2 * i + 1]), float(y[2 * i + 2])
            bars.append({
                "input": name,
                "low_value": float(x[name][2 * i + 1]),
                "high_value": float(x[name][2 * i + 2]),
                "npv_at_low": low,
                "npv_at_high": high,
                "swing": abs(high - low),
            })
        bars.sort(key=lambda b: -b["swing"])
        out[output] = {"base": float(y[0]), "bars": bars}
    return out


def sobol_indices(
    function: Callable[[Array], Array],
    distributions: Sequence[Distribution],
    names: Sequence[str],
    base_samples: int,
    seed: int,
) -> dict[str, dict[str, float]]:
    """First- and total-order Sobol indices of ``function`` (rows of inputs → one output per row).

    ``base_samples`` is rounded up to a power of two (Sobol sequences need it); the function is
    evaluated base_samples · (d + 2) times.
    """
    return sobol_multi(lambda rows: {"y": function(rows)}, distributions, names, base_samples, seed)["y"]


def _power_of_two(n: int) -> int:
    return 1 << max(0, int(n - 1).bit_length())


def sobol_multi(
    function: Callable[[Array], Mapping[str, Array]],
    distributions: Sequence[Distribution],
    names: Sequence[str],
    base_samples: int,
    seed: int,
) -> dict[str, dict[str, dict[str, float]]]:
    """Sobol indices of several outputs computed from one set of model runs."""
    if not names:
        return {}
    problem = {"num_vars": len(names), "names": list(names), "bounds": [[0.0, 1.0]] * len(names)}
    unit = sobol_sample.sample(problem, _power_of_two(base_samples), calc_second_order=False, seed=seed)
    unit = np.clip(unit, 1e-9, 1 - 1e-9)
    inputs = np.column_stack([d.ppf(unit[:, j]) for j, d in enumerate(distributions)])
    # SALib 1.5.1 passes the names list to pandas.unique, which pandas ≥ 3 refuses; an array is accepted.
    analysed = {**problem, "names": np.array(names, dtype=object)}
    out: dict[str, dict[str, dict[str, float]]] = {}
    for output, values in function(inputs).items():
        y = np.asarray(values, dtype=np.float64)
        if np.std(y) == 0:
            out[output] = {name: {"S1": 0.0, "S1_conf": 0.0, "ST": 0.0, "ST_conf": 0.0} for name in names}
            continue
        analysis = sobol_analyze.analyze(analysed, y, calc_second_order=False, seed=seed, print_to_console=False)
        out[output] = {
            name: {
                "S1": float(analysis["S1"][j]),
                "S1_conf": float(analysis["S1_conf"][j]),
                "ST": float(analysis["ST"][j]),
                "ST_conf": float(analysis["ST_conf"][j]),
            }
            for j, name in enumerate(names)
        }
    return out


def sobol_npv(plan: Plan, base_samples: int = 512, seed: int = 0) -> dict[str, Any]:
    """Sobol indices of the platform NPV and of its advantage over separate products."""
    names = plan.uncertain()
    dists = [plan.inputs[n] for n in names]
    fixed = {k: d.median for k, d in plan.inputs.items() if k not in names}

    def run(rows: Array) -> dict[str, Array]:
        x: dict[str, Array | float] = {**fixed, **{name: rows[:, j] for j, name in enumerate(names)}}
        result = evaluate(plan.economics, x, plan.horizon_years, plan.development_years)
        return {output: _output(result, output) for output in OUTPUTS}

    indices = sobol_multi(run, dists, names, base_samples, seed)
    return {"base_samples": _power_of_two(base_samples), "seed": seed, **indices}
