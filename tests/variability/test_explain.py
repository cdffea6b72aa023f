"""Explanations: minimal (each reason needed), in words, with source lines."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from pysat.solvers import Glucose4

from evplatform.errors import VariabilityError
from evplatform.variability.analysis import dead_features
from evplatform.variability.cnf import encode
from evplatform.variability.explain import explain_dead, explain_invalid
from evplatform.variability.model import FeatureModel
from evplatform.variability.uvl import parse_uvl
from variability.fm_strategies import feature_models

MODEL = """features
    Car
        mandatory
            Engine
                alternative
                    Electric
                    Diesel
        optional
            Radio
            Tow
constraints
    Tow => Diesel
    Radio => Electric
    Radio => !Tow
"""


def test_dead_feature_is_explained_by_its_constraints_and_lines() -> None:
    model = parse_uvl(MODEL + "    Radio\n", "car.uvl")
    assert dead_features(encode(model)) == ["Diesel", "Tow"]
    explanation = explain_dead(model, "Tow")
    # two minimal reasons exist: Radio with Radio => !Tow, or Radio => Electric with the alternative and Tow => Diesel
    short = ["constraint Radio => !Tow (car.uvl:14)", "constraint Radio (car.uvl:15)"]
    assert explanation.reasons == short or (
        "constraint Tow => Diesel (car.uvl:12)" in explanation.reasons
        and "constraint Radio => !Tow (car.uvl:14)" not in explanation.reasons
    )
    assert explanation.subject == "Tow is dead"
    _unsat_without_each(model, "Tow")


def test_invalid_configuration_names_decisions_and_rules() -> None:
    model = parse_uvl(MODEL, "car.uvl")
    explanation = explain_invalid(model, selected=["Radio", "Diesel"])
    assert "you selected Radio" in explanation.reasons and "you selected Diesel" in explanation.reasons
    text = "\n".join(explanation.reasons)
    assert "constraint Radio => Electric (car.uvl:13)" in text
    assert "alternative group" in text and "car.uvl:5" in text
    with pytest.raises(VariabilityError, match="valid"):
        explain_invalid(model, selected=["Radio"])
    with pytest.raises(VariabilityError, match="not dead"):
        explain_dead(model, "Tow")
    with pytest.raises(VariabilityError, match="unknown"):
        explain_dead(model, "Wings")


def _unsat_without_each(model: FeatureModel, feature: str) -> None:
    """Check minimality semantically: the relations kept are unsatisfiable with the feature, and
    removing any one of them makes it satisfiable."""
    from evplatform.variability.cnf import new_allocator, relations

    explanation = explain_dead(model, feature)
    var, alloc = new_allocator(model)
    items = list(relations(model, var, alloc))
    kept = [clauses for relation, clauses in items if relation in explanation.relations]
    assert len(kept) == len(explanation.relations)

    def sat(groups: list[list[list[int]]]) -> bool:
        with Glucose4(bootstrap_with=[c for g in groups for c in g]) as solver:
            return bool(solver.solve(assumptions=[var[feature]]))

    assert not sat(kept)
    for i in range(len(kept)):
        assert sat(kept[:i] + kept[i + 1:])


@settings(max_examples=80, deadline=None)
@given(feature_models(max_features=7, max_constraints=3))
def test_explanations_are_minimal(model: FeatureModel) -> None:
    for feature in dead_features(encode(model))[:2]:
        _unsat_without_each(model, feature)
