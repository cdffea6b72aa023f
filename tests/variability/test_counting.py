"""Exact counting with d4: brute force on small models, real models from the shared data."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from hypothesis import given, settings

from evplatform.variability.cnf import CNF, encode
from evplatform.variability.counting import count_configurations, quiet_stdout, reduce
from evplatform.variability.formats import load_cnf, load_model
from evplatform.variability.model import FeatureModel
from reference_data import shared_data_path
from variability.fm_strategies import brute_force, feature_models


@settings(max_examples=60, deadline=None)
@given(model=feature_models(max_features=8))
def test_count_equals_brute_force(model: FeatureModel) -> None:
    assert count_configurations(encode(model)) == len(brute_force(model))


@settings(max_examples=40, deadline=None)
@given(model=feature_models(max_features=7))
def test_count_under_assumptions(model: FeatureModel) -> None:
    cnf = encode(model)
    name = list(model.features)[-1]
    with_it = sum(1 for c in brute_force(model) if name in c)
    assert count_configurations(cnf, [cnf.var[name]]) == with_it
    assert count_configurations(cnf, [-cnf.var[name]]) == len(brute_force(model)) - with_it


def test_free_and_fixed_variables_and_trivial_formulas() -> None:
    free = CNF(3, [[1]], {"a": 1, "b": 2, "c": 3}, ["a", "b", "c"], 3)
    assert count_configurations(free) == 4  # b and c occur in no clause: free
    assert count_configurations(CNF(2, [[1], [-1]], {"a": 1, "b": 2}, ["a", "b"], 2)) == 0
    assert count_configurations(CNF(2, [[1, 2], []], {"a": 1, "b": 2}, ["a", "b"], 2)) == 0
    assert count_configurations(CNF(0, [], {}, [], 0)) == 1
    reduction = reduce(CNF(3, [[1], [-1, 2], [2, 3]], {}, ["a", "b", "c"], 3))
    assert reduction is not None and reduction.clauses == [] and reduction.free == [3]
    assert reduction.value[1:] == [1, 1, 0]


def test_d4_prints_nothing_on_stdout() -> None:
    """--json needs a clean stdout: d4's C++ statistics must not reach it."""
    code = ("from evplatform.variability.cnf import CNF\n"
            "from evplatform.variability.counting import count_configurations\n"
            "print(count_configurations(CNF(3, [[1, 2], [-2, 3]], {}, ['a', 'b', 'c'], 3)))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout == "4\n"


def test_quiet_stdout_restores_the_descriptor() -> None:
    before = os.fstat(1)
    with quiet_stdout():
        pass
    assert os.fstat(1).st_ino == before.st_ino


def test_small_shared_model_counts_like_brute_force() -> None:
    path = shared_data_path("feature-models", "small", "car.featureide.xml")
    model = load_model(path)
    assert count_configurations(encode(model)) == len(brute_force(model))


def test_busybox_dimacs_and_uvl_agree() -> None:
    """Same model in two formats; the data README gives 2.1e201 configurations (counted by d4)."""
    uvl = count_configurations(encode(load_model(shared_data_path("feature-models", "busybox",
                                                                      "busybox-1.18.0.uvl"))))
    dimacs = count_configurations(load_cnf(shared_data_path("feature-models", "busybox", "busybox-1.18.0.dimacs")))
    assert uvl == dimacs
    assert 2.05e201 < dimacs < 2.15e201


@pytest.mark.heavy
def test_automotive01_exact_count() -> None:
    """Automotive01 (DIMACS/XML semantics): 5.3e210 configurations; the XML and DIMACS agree exactly."""
    dimacs = count_configurations(load_cnf(shared_data_path("feature-models", "automotive01",
                                                            "automotive01.dimacs")))
    xml = count_configurations(encode(load_model(shared_data_path("feature-models", "automotive01",
                                                                  "automotive01.featureide.xml"))))
    assert dimacs == xml
    assert 5.25 * 10**210 < dimacs < 5.35 * 10**210
