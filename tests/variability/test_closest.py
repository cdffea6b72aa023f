"""The configuration closest to a set of decisions under extra rules, against brute force."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evplatform.errors import VariabilityError
from evplatform.variability.closest import closest_to_decisions
from evplatform.variability.model import Expr, FeatureModel
from variability.fm_strategies import brute_force, expressions, feature_models


@st.composite
def costed_models(draw: st.DrawFn) -> FeatureModel:
    model = draw(feature_models(max_features=7))
    for feature in model.features.values():
        if draw(st.booleans()):
            feature.attributes["cost"] = draw(st.integers(0, 100))
    return model


def _changes(config: frozenset[str], selected: set[str], deselected: set[str]) -> int:
    return len(selected - config) + len(deselected & config)


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_closest_overturns_fewest_decisions_then_costs_least(data: st.DataObject) -> None:
    model = data.draw(costed_models())
    names = list(model.features)
    selected = data.draw(st.sets(st.sampled_from(names), max_size=3))
    deselected = data.draw(st.sets(st.sampled_from(names), max_size=3)) - selected
    extra: list[Expr] = data.draw(st.lists(expressions(names), max_size=2))
    candidates = [c for c in brute_force(model) if all(e.evaluate(c) for e in extra)]
    if not candidates:
        with pytest.raises(VariabilityError):
            closest_to_decisions(model, selected, deselected, extra)
        return
    found = closest_to_decisions(model, sorted(selected), sorted(deselected), extra)
    assert model.configuration_errors(found.selected) == []
    assert all(e.evaluate(found.selected) for e in extra)
    fewest = min(_changes(c, selected, deselected) for c in candidates)
    assert found.changes == fewest == _changes(found.selected, selected, deselected)
    cheapest = min(model.attribute_sum(c, "cost") for c in candidates if _changes(c, selected, deselected) == fewest)
    assert found.cost == pytest.approx(cheapest)
    assert set(found.dropped) == selected - found.selected and set(found.taken) == deselected & found.selected


def test_kept_features_are_hard_and_never_counted() -> None:
    from evplatform.variability.uvl import parse_uvl

    model = parse_uvl("features\n    Car\n        alternative\n            Market_CN\n            Market_EU\n"
                      "        optional\n            ISA\n")
    found = closest_to_decisions(model, ["Market_CN"], ["ISA"], keep=["Market_EU", "ISA"])
    assert found.selected == {"Car", "Market_EU", "ISA"}
    assert found.dropped == ("Market_CN",) and found.taken == ()  # ISA is the rules' to decide, not a change
    assert found.changes == 1
