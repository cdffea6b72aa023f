"""Random and t-wise samples: validity, uniformity, seeds, coverage against brute force."""

from __future__ import annotations

import itertools
from collections import Counter

import pytest
from hypothesis import given, settings

from evplatform.errors import VariabilityError
from evplatform.variability import twise
from evplatform.variability.cnf import CNF, encode
from evplatform.variability.formats import load_model
from evplatform.variability.model import FeatureModel
from evplatform.variability.sampling import pairwise_lower_bound, random_sample, twise_sample
from evplatform.variability.uvl import parse_uvl
from evplatform.workspace import load_workspace
from reference_data import shared_data_path
from variability.fm_strategies import brute_force, feature_models

Pair = tuple[str, bool, str, bool]


def _valid_pairs(model: FeatureModel, configs: set[frozenset[str]], names: list[str]) -> set[Pair]:
    out: set[Pair] = set()
    for c in configs:
        for x, y in itertools.combinations(names, 2):
            out.add((x, x in c, y, y in c))
    return out


@settings(max_examples=40, deadline=None)
@given(model=feature_models(max_features=7))
def test_pairwise_sample_covers_exactly_the_valid_pairs(model: FeatureModel) -> None:
    configs = brute_force(model)
    cnf = encode(model)
    if not configs:
        with pytest.raises(VariabilityError, match="void"):
            twise_sample(cnf)
        return
    result = twise_sample(cnf, 2, seed=1, iterations=2)
    assert all(c in configs for c in result.configs)
    varying = [n for n in model.features if any(n in c for c in configs) and not all(n in c for c in configs)]
    assert _valid_pairs(model, set(result.configs), varying) == _valid_pairs(model, configs, varying)
    assert result.coverage == 1.0 and result.valid == len(_valid_pairs(model, configs, varying))
    assert result.lower_bound == pairwise_lower_bound(cnf) <= len(result.configs)


def _two_groups() -> CNF:
    """r with a mandatory alternative A (a1..a3) and an optional alternative B (b1, b2)."""
    return encode(parse_uvl("features\n    r\n        mandatory\n            A\n                alternative\n"
                            "                    a1\n                    a2\n                    a3\n"
                            "        optional\n            B\n                alternative\n"
                            "                    b1\n                    b2\n"))


def test_lower_bound_counts_the_exclusive_cross_pairs() -> None:
    """{a1, a2, a3} × {b1, b2, not B}: 9 valid pairs, no two in one configuration, and 9 configurations suffice."""
    cnf = _two_groups()
    assert pairwise_lower_bound(cnf) == 9
    result = twise_sample(cnf, 2, seed=3)
    assert result.coverage == 1.0 and result.lower_bound == 9 and len(result.configs) == 9


def test_pairs_still_covered_when_passes_run_out(monkeypatch: pytest.MonkeyPatch) -> None:
    """Past MAX_PASSES the interactions left open new configurations only: the sample still covers all."""
    monkeypatch.setattr(twise, "MAX_PASSES", 0)
    model = load_workspace(None).feature_model
    cnf = encode(model)
    result = twise_sample(cnf, 2, seed=2, iterations=2)
    assert result.coverage == 1.0 and result.covered == result.valid > 0
    assert all(model.configuration_errors(c) == [] for c in result.configs)


def test_car_model_pairwise_against_brute_force() -> None:
    """A real model: every configuration enumerated, every valid pair checked against the sample."""
    model = load_model(shared_data_path("feature-models", "small", "car.featureide.xml"))
    configs = brute_force(model)
    result = twise_sample(encode(model), 2, seed=4)
    varying = [n for n in model.features if any(n in c for c in configs) and not all(n in c for c in configs)]
    valid = _valid_pairs(model, configs, varying)
    assert set(result.configs) <= configs
    assert _valid_pairs(model, set(result.configs), varying) == valid
    assert result.coverage == 1.0 and result.valid == len(valid)
    assert 1 < result.lower_bound <= len(result.configs)


def test_random_sample_is_uniform_and_seeded() -> None:
    """Five configurations of very different 'weight' in a tree must each get about 1/5."""
    cnf = CNF(4, [[1], [-2, 1], [-3, 1], [-4, 3], [-2, -3]], {"r": 1, "a": 2, "b": 3, "c": 4},
              ["r", "a", "b", "c"], 4)  # r; a xor-ish b; c needs b: {r}, {r,a}, {r,b}, {r,b,c}
    draws = random_sample(cnf, 4000, seed=5)
    counts = Counter(draws)
    assert set(counts) == {frozenset({"r"}), frozenset({"r", "a"}), frozenset({"r", "b"}), frozenset({"r", "b", "c"})}
    assert all(850 < n < 1150 for n in counts.values()), counts
    assert random_sample(cnf, 10, seed=5) == draws[:10]
    assert random_sample(cnf, 10, seed=6) != draws[:10]


def test_demo_samples_are_valid() -> None:
    model = load_workspace(None).feature_model
    cnf = encode(model)
    assert all(model.configuration_errors(c) == [] for c in random_sample(cnf, 25, seed=2))
    single = twise_sample(cnf, 1, iterations=1)
    assert single.coverage == 1.0 and all(model.configuration_errors(c) == [] for c in single.configs)


def test_bad_parameters() -> None:
    cnf = encode(load_workspace(None).feature_model)
    with pytest.raises(VariabilityError, match="t = 1 or 2"):
        twise_sample(cnf, 3)
    with pytest.raises(VariabilityError, match="iterations"):
        twise_sample(cnf, 2, iterations=0)
    with pytest.raises(VariabilityError, match="sample size"):
        random_sample(cnf, -1)
    void = CNF(1, [[1], [-1]], {"r": 1}, ["r"], 1)
    with pytest.raises(VariabilityError, match="void"):
        random_sample(void, 3)
