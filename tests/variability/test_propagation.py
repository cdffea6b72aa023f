"""Decision propagation: the complete answer equals brute force, unit propagation is a sound part of it."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evplatform.errors import VariabilityError
from evplatform.variability.cnf import CNF, encode
from evplatform.variability.expression import parse_expression
from evplatform.variability.model import Constraint, FeatureModel
from evplatform.variability.propagation import Propagator
from evplatform.workspace import load_workspace
from variability.fm_strategies import brute_force, feature_models


@settings(max_examples=120, deadline=None)
@given(data=st.data())
def test_backbone_under_decisions_matches_brute_force(data: st.DataObject) -> None:
    model = data.draw(feature_models(max_features=8))
    names = list(model.features)
    selected = data.draw(st.sets(st.sampled_from(names), max_size=2))
    deselected = data.draw(st.sets(st.sampled_from(names), max_size=2)) - selected
    configs = [c for c in brute_force(model) if selected <= c and not (c & deselected)]
    decided = selected | deselected
    with Propagator(encode(model)) as propagator:
        if not configs:
            with pytest.raises(VariabilityError, match=r"contradictory|void"):
                propagator.propagate(selected, deselected)
            return
        full = propagator.propagate(selected, deselected)
        unit = propagator.propagate_unit(selected, deselected)
        assert full.complete and not unit.complete
        assert full.forced == frozenset.intersection(*configs) - decided
        assert full.forbidden == frozenset(names) - frozenset.union(*configs) - decided
        assert unit.forced <= full.forced and unit.forbidden <= full.forbidden
        assert full.example in configs
        decisions = {f"select {n}" for n in selected} | {f"deselect {n}" for n in deselected}
        for name in full.forced | full.forbidden:
            reason = full.reasons[name]
            assert reason.value == (name in full.forced) and reason.rule
            assert set(reason.decisions) <= decisions


@pytest.fixture(scope="module")
def demo() -> FeatureModel:
    return load_workspace(None).feature_model


def test_reasons_name_the_relation_and_the_decision(demo: FeatureModel) -> None:
    with Propagator(encode(demo)) as propagator:
        unit = propagator.propagate_unit(["AirSuspension"], ["LHD"])
        assert {"RHD", "Market_EU", "Inlet_CCS2"} <= unit.forced
        assert {"SteelSprings", "Market_CN"} <= unit.forbidden
        rhd = unit.reasons["RHD"]
        assert rhd.decisions == ("deselect LHD",)
        assert "alternative group" in rhd.rule and "line" in rhd.rule
        assert unit.reasons["SteelSprings"].decisions == ("select AirSuspension",)
        assert "Market_CN => Inlet_GBT & LHD" in unit.reasons["Market_CN"].rule
        assert str(unit.reasons["RHD"]).startswith("RHD is forced: ")
        full = propagator.propagate(["AirSuspension"], ["LHD"])
        assert unit.forced <= full.forced and full.example is not None
        assert demo.configuration_errors(full.example) == []
        assert demo.root in full.forced and full.reasons[demo.root].decisions == ()


def test_reasons_carry_the_line_of_their_rule(demo: FeatureModel) -> None:
    """Issue 15 item 2: a forced feature's reason names the model line as a number (the API links it)."""
    assert demo.source is not None
    with Propagator(encode(demo)) as propagator:
        unit = propagator.propagate_unit(["AirSuspension"], ["LHD"])
        cn = unit.reasons["Market_CN"]
        assert cn.line is not None and f"(line {cn.line})" in cn.rule
        text = Path(demo.source).read_text(encoding="utf-8").splitlines()[cn.line - 1]
        assert "Market_CN" in text and "Inlet_GBT" in text
    cnf = CNF(2, [[1], [-2, 1]], {"r": 1, "x": 2}, ["r", "x"], 2)  # no source model: no line to give
    with Propagator(cnf) as propagator:
        assert propagator.propagate_unit(["x"]).reasons["r"].line is None


def test_incremental_steps_and_retracted_decisions(demo: FeatureModel) -> None:
    """Propagation continues from the previous step, and starts over when a decision is taken back."""
    with Propagator(encode(demo)) as propagator:
        first = propagator.propagate_unit(["AirSuspension"])
        assert "SteelSprings" in first.forbidden and "RHD" not in first.forced
        second = propagator.propagate_unit(["AirSuspension"], ["LHD"])
        assert "SteelSprings" in second.forbidden and "RHD" in second.forced
        retracted = propagator.propagate_unit([], ["LHD"])
        assert "RHD" in retracted.forced and "SteelSprings" not in retracted.forbidden
        assert retracted.reasons["RHD"].decisions == ("deselect LHD",)


def test_backbone_only_consequence_gets_a_minimal_decision_set() -> None:
    """With z deselected, x ∨ y and x ∨ ¬y force x; unit propagation alone cannot see it."""
    cnf = CNF(4, [[1], [-2, 1], [-3, 1], [-4, 1], [2, 3, 4], [2, -3, 4]],
              {"r": 1, "x": 2, "y": 3, "z": 4}, ["r", "x", "y", "z"], 4)
    with Propagator(cnf) as propagator:
        unit = propagator.propagate_unit(["r"], ["z"])
        full = propagator.propagate(["r"], ["z"])
        assert "x" not in unit.forced and "x" in full.forced
        assert full.reasons["x"].decisions == ("deselect z",)


def test_bad_decisions_are_clear_errors(demo: FeatureModel) -> None:
    with Propagator(encode(demo)) as propagator:
        with pytest.raises(VariabilityError, match=r"unknown feature .Airsuspension.*did you mean AirSuspension"):
            propagator.propagate_unit(["Airsuspension"])
        with pytest.raises(VariabilityError, match="both selected and deselected"):
            propagator.propagate(["LHD"], ["LHD"])
        with pytest.raises(VariabilityError, match=r"contradictory decisions.*select (LHD|RHD).*together"):
            propagator.propagate_unit(["LHD", "RHD"])
        with pytest.raises(VariabilityError, match="contradictory decisions"):
            propagator.propagate(["LHD", "RHD"])


def test_void_model_is_named(demo: FeatureModel) -> None:
    void = FeatureModel(demo.root, demo.features,
                        [*demo.constraints, Constraint(parse_expression("LHD & RHD"), None, "LHD & RHD")])
    with Propagator(encode(void)) as propagator, pytest.raises(VariabilityError, match="void"):
        propagator.propagate()


def _expected(configs: list[frozenset[str]], names: list[str],
              decided: set[str]) -> tuple[frozenset[str], frozenset[str]]:
    return (frozenset.intersection(*configs) - decided, frozenset(names) - frozenset.union(*configs) - decided)


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_a_session_of_decisions_stays_exact_step_by_step(data: st.DataObject) -> None:
    """Witnesses carried from step to step (and a retraction) never make a fixed feature look open.

    One propagator takes decisions one at a time, as a configurator does; every step is checked
    against brute force, so a witness kept past a decision that broke it would be caught here.
    """
    model = data.draw(feature_models(max_features=9, max_constraints=4))
    names = list(model.features)
    everything = brute_force(model)
    steps = data.draw(st.lists(st.tuples(st.sampled_from(names), st.booleans()), min_size=1, max_size=6))
    selected: list[str] = []
    deselected: list[str] = []
    with Propagator(encode(model)) as propagator:
        for name, select in steps:
            if name in selected or name in deselected:
                continue
            (selected if select else deselected).append(name)
            configs = [c for c in everything if set(selected) <= c and not (c & set(deselected))]
            if not configs:
                with pytest.raises(VariabilityError, match=r"contradictory|void"):
                    propagator.propagate(selected, deselected)
                (selected if select else deselected).remove(name)  # the user takes it back
                continue
            full = propagator.propagate(selected, deselected)
            assert (full.forced, full.forbidden) == _expected(configs, names, set(selected) | set(deselected))
            assert full.example in configs
        if selected:  # retract the first selection: the propagator starts over and is still exact
            selected.pop(0)
            configs = [c for c in everything if set(selected) <= c and not (c & set(deselected))]
            full = propagator.propagate(selected, deselected)
            assert (full.forced, full.forbidden) == _expected(configs, names, set(selected) | set(deselected))
