"""Runs one evplatform variability operation in a fresh process and prints JSON on stdout.

The benchmark starts this script once per (model, operation) so that each figure includes what a
user of the CLI pays (reading the file, encoding) and so that peak memory is that operation's own.

Request (stdin): ``{"path": str, "op": str, "t": int, "seed": int}``. Response: ``{"op", "result",
"load_seconds", "seconds", "peak_mb", ...}``; ``seconds`` includes the load unless the op says
otherwise (``propagation`` reports the median step, ``completion`` the solve after encoding).
"""

from __future__ import annotations

import json
import random
import resource
import statistics
import sys
import time
from typing import Any

from evplatform.variability import analysis, cnf, formats


def _deterministic_costs(names: list[str], seed: int) -> dict[str, float]:
    """A seeded pseudo-random cost per feature, for models that carry no cost attribute."""
    rng = random.Random(seed)
    return {name: float(rng.randint(1, 1000)) for name in names}


def _propagation(encoded: Any, seed: int) -> dict[str, Any]:
    """20 random decisions, each on a feature still open; the unit answer, then the complete one."""
    from evplatform.variability.propagation import Propagator

    rng = random.Random(seed)
    names = [n for n in encoded.names[: encoded.n_features] if n]
    up_ms, full_ms, shares = [], [], []
    selected: list[str] = []
    deselected: list[str] = []
    decided: set[str] = set()
    with Propagator(encoded) as propagator:
        for _ in range(20):
            open_features = [n for n in names if n not in decided]
            if not open_features:
                break
            choice = rng.choice(open_features)
            (selected if rng.random() < 0.5 else deselected).append(choice)
            start = time.perf_counter()
            quick = propagator.propagate_unit(selected, deselected)
            up_ms.append(1000 * (time.perf_counter() - start))
            start = time.perf_counter()
            full = propagator.propagate(selected, deselected)
            full_ms.append(1000 * (time.perf_counter() - start))
            decided_full = len(full.forced) + len(full.forbidden)
            decided_quick = len(quick.forced) + len(quick.forbidden)
            shares.append(decided_quick / decided_full if decided_full else 1.0)
            decided = set(full.forced) | set(full.forbidden) | set(selected) | set(deselected)
    ordered = sorted(full_ms)
    return {"up_median_ms": statistics.median(up_ms), "full_median_ms": statistics.median(full_ms),
            "full_p90_ms": ordered[int(0.9 * (len(ordered) - 1))], "full_max_ms": ordered[-1],
            "first_step_ms": full_ms[0], "up_share": statistics.mean(shares), "steps": len(full_ms)}


def _run(op: str, path: str, t: int, seed: int) -> tuple[Any, dict[str, Any]]:
    extra: dict[str, Any] = {}
    start = time.perf_counter()
    if path.endswith((".dimacs", ".cnf")):
        model = None
        encoded = formats.load_cnf(path)
    else:
        model = formats.load_model(path)
        extra["load_seconds"] = time.perf_counter() - start
        if op == "load":
            return len(model), extra
        encoded = cnf.encode(model)
    extra.setdefault("load_seconds", time.perf_counter() - start)
    if op == "valid":
        return analysis.is_valid(encoded), extra
    if op == "core+dead":  # one backbone gives both, as analysis.backbone offers them
        found = analysis.backbone(encoded)
        return {"core": sorted(found.core), "dead": sorted(found.dead)}, extra
    if op == "core+dead+false-optional":
        found = analysis.backbone(encoded)
        return {"core": sorted(found.core), "dead": sorted(found.dead),
                "false-optional": sorted(analysis.false_optional_features(model, encoded, known=found))}, extra
    if op == "false-optional":
        return sorted(analysis.false_optional_features(model, encoded)), extra
    if op == "atomic-sets":
        return sorted(sorted(group) for group in analysis.atomic_sets(model, encoded)), extra
    if op == "count":
        from evplatform.variability.counting import count_configurations

        return str(count_configurations(encoded)), extra
    if op == "pairwise":
        from evplatform.variability.sampling import twise_sample

        sample = twise_sample(encoded, t=t)
        return {"configurations": len(sample.configs), "coverage": sample.coverage, "valid_pairs": sample.valid,
                "covered_pairs": sample.covered, "invalid_pairs": sample.invalid,
                "lower_bound": sample.lower_bound}, extra
    if op == "propagation":
        return _propagation(encoded, seed), extra
    if op == "completion":
        from evplatform.variability.completion import complete_min_cost
        from evplatform.variability.model import FeatureModel

        assert isinstance(model, FeatureModel)
        costs = _deterministic_costs(list(model.features), seed)
        for name, value in costs.items():
            model.features[name].attributes.setdefault("bench_cost", value)
        solve_start = time.perf_counter()
        done = complete_min_cost(model, attribute="bench_cost")
        extra["solve_seconds"] = time.perf_counter() - solve_start
        return {"cost": done.cost, "selected": len(done.selected)}, extra
    raise SystemExit(f"unknown operation: {op}")


def main() -> None:
    request = json.load(sys.stdin)
    start = time.perf_counter()
    result, extra = _run(request["op"], request["path"], int(request.get("t", 2)), int(request.get("seed", 7)))
    seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    json.dump({"op": request["op"], "result": result, "seconds": seconds, "peak_mb": peak_mb, **extra}, sys.stdout)


if __name__ == "__main__":
    main()
