"""Samples of valid configurations: uniform random ones, and t-wise covering samples for testing.

**Random** (:func:`random_sample`): exactly uniform over the valid configurations. The CNF
(root units removed) is compiled to a d-DNNF by d4 and models are drawn top-down with exact
counts (see ``_ddnnf``); the encoding is count-preserving, so uniform over CNF models is
uniform over configurations. Seeded: same seed, same sample.

**t-wise** covering samples (:func:`twise_sample`) live in ``variability.twise``, the lower
bound on their size (:func:`pairwise_lower_bound`) in ``variability.interactions``; both are
re-exported here.
"""

from __future__ import annotations

import random

from evplatform.errors import VariabilityError
from evplatform.variability._ddnnf import compile_ddnnf
from evplatform.variability.cnf import CNF
from evplatform.variability.counting import reduce
from evplatform.variability.interactions import pairwise_lower_bound
from evplatform.variability.twise import TwiseSample, twise_sample

__all__ = ["TwiseSample", "pairwise_lower_bound", "random_sample", "twise_sample"]


def random_sample(cnf: CNF, n: int, seed: int = 0) -> list[frozenset[str]]:
    """``n`` configurations drawn uniformly at random (with replacement), reproducible by ``seed``."""
    if n < 0:
        raise VariabilityError(f"the sample size must be ≥ 0, got {n}")
    reduction = reduce(cnf)
    if reduction is None:
        raise VariabilityError("the feature model is void: it has no valid configuration to sample")
    rng = random.Random(seed)  # noqa: S311 - a reproducible statistical sample, not a secret
    ddnnf = compile_ddnnf(reduction.clauses, len(reduction.used)) if reduction.clauses else None
    if ddnnf is not None and ddnnf.model_count() == 0:
        raise VariabilityError("the feature model is void: it has no valid configuration to sample")
    names = cnf.names
    out: list[frozenset[str]] = []
    for _ in range(n):
        chosen = {names[v - 1] for v in range(1, cnf.n_features + 1) if reduction.value[v] > 0}
        if ddnnf is not None:
            values = ddnnf.sample(rng)
            chosen.update(names[v - 1] for i, v in enumerate(reduction.used, start=1)
                          if values[i] and v <= cnf.n_features)
        chosen.update(names[v - 1] for v in reduction.free if v <= cnf.n_features and rng.random() < 0.5)
        out.append(frozenset(chosen))
    return out
