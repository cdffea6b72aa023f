"""Min-cost completion and minimal change against brute force, RC2 and the demo platform."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pysat.examples.rc2 import RC2
from pysat.formula import WCNF
from pysat.solvers import Solver

from evplatform.errors import VariabilityError
from evplatform.variability.cnf import encode
from evplatform.variability.completion import complete_min_cost, integer_weights, minimal_change
from evplatform.variability.expression import parse_expression
from evplatform.variability.model import Constraint, Expr, FeatureModel
from evplatform.workspace import load_workspace
from variability.fm_strategies import brute_force, expressions, feature_models

COSTS = st.one_of(st.integers(-20, 100), st.decimals(-5, 50, places=2).map(float))


@st.composite
def costed_models(draw: st.DrawFn) -> FeatureModel:
    model = draw(feature_models(max_features=7))
    for feature in model.features.values():
        if draw(st.booleans()) or feature.name == model.root:
            feature.attributes["cost"] = draw(COSTS)
    return model


def _cost(model: FeatureModel, config: frozenset[str]) -> float:
    return model.attribute_sum(config, "cost")


@settings(max_examples=50, deadline=None)
@given(data=st.data())
def test_complete_min_cost_matches_brute_force(data: st.DataObject) -> None:
    model = data.draw(costed_models())
    names = list(model.features)
    selected = data.draw(st.sets(st.sampled_from(names), max_size=2))
    deselected = data.draw(st.sets(st.sampled_from(names), max_size=2)) - selected
    extra: list[Expr] = data.draw(st.lists(expressions(names), max_size=1))
    candidates = [c for c in brute_force(model)
                  if selected <= c and not (c & deselected) and all(e.evaluate(c) for e in extra)]
    if not candidates:
        with pytest.raises(VariabilityError):
            complete_min_cost(model, selected, deselected, extra=extra)
        return
    result = complete_min_cost(model, selected, deselected, extra=extra)
    assert model.configuration_errors(result.selected) == []
    assert selected <= result.selected and not (result.selected & deselected)
    assert all(e.evaluate(result.selected) for e in extra)
    assert result.cost == pytest.approx(min(_cost(model, c) for c in candidates))
    assert result.cost == pytest.approx(_cost(model, result.selected))
    assert result.added == result.selected - selected and result.removed == frozenset()
    assert result.added_cost == pytest.approx(_cost(model, result.added))


@settings(max_examples=50, deadline=None)
@given(data=st.data())
def test_minimal_change_is_lexicographically_optimal(data: st.DataObject) -> None:
    model = data.draw(costed_models())
    names = list(model.features)
    current = data.draw(st.sets(st.sampled_from(names), max_size=len(names)))
    extra: list[Expr] = data.draw(st.lists(expressions(names), min_size=1, max_size=2))
    candidates = [c for c in brute_force(model) if all(e.evaluate(c) for e in extra)]
    if not candidates:
        with pytest.raises(VariabilityError, match=r"no valid configuration|void"):
            minimal_change(model, current, extra)
        return
    best = min((len(current - c), _cost(model, c - current)) for c in candidates)
    result = minimal_change(model, current, extra)
    assert model.configuration_errors(result.selected) == []
    assert all(e.evaluate(result.selected) for e in extra)
    assert len(result.removed) == best[0]
    assert result.added_cost == pytest.approx(best[1])
    assert result.removed == current - result.selected and result.added == result.selected - current


def test_float_costs_scale_to_exact_integers() -> None:
    assert integer_weights({"a": 1.25, "b": 3.0, "c": -0.5}) == {"a": 125, "b": 300, "c": -50}
    assert integer_weights({"a": 2.0, "b": 7.0}) == {"a": 2, "b": 7}
    assert integer_weights({"a": 1 / 3}) == {"a": 333333}  # beyond six decimals: rounded at 10^6


# --- the demo platform ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo() -> FeatureModel:
    return load_workspace(None).feature_model


def _rc2_optimum(model: FeatureModel, units: list[int]) -> int:
    """The independent oracle: python-sat RC2 on the same CNF with integer costs."""
    cnf = encode(model)
    wcnf = WCNF()
    for clause in cnf.clauses:
        wcnf.append(clause)
    for lit in units:
        wcnf.append([lit])
    for name, value in integer_weights({n: float(f.attributes["cost"]) for n, f in model.features.items()
                                        if isinstance(f.attributes.get("cost"), int | float)}).items():
        wcnf.append([-cnf.var[name]], weight=value)
    with RC2(wcnf) as rc2:
        assert rc2.compute() is not None
        return int(rc2.cost)


def test_demo_cheapest_configuration_agrees_with_rc2(demo: FeatureModel) -> None:
    result = complete_min_cost(demo)
    assert demo.configuration_errors(result.selected) == []
    assert round(result.cost) == _rc2_optimum(demo, [])
    assert result.added == result.selected


def test_demo_completion_keeps_the_choices(demo: FeatureModel) -> None:
    cnf = encode(demo)
    result = complete_min_cost(demo, ["AirSuspension", "Pack_NMC_101"], ["LHD"])
    assert {"AirSuspension", "Pack_NMC_101", "RHD"} <= result.selected and "LHD" not in result.selected
    assert demo.configuration_errors(result.selected) == []
    units = [cnf.var["AirSuspension"], cnf.var["Pack_NMC_101"], -cnf.var["LHD"]]
    assert round(result.cost) == _rc2_optimum(demo, units)
    assert result.added_cost == pytest.approx(result.cost - demo.attribute_sum(["AirSuspension", "Pack_NMC_101"],
                                                                                "cost"))


def test_demo_minimal_change_removes_only_what_it_must(demo: FeatureModel) -> None:
    ws = load_workspace(None)
    current = next(iter(ws.configurations.values()))
    same = minimal_change(demo, current, [parse_expression(sorted(current)[0])])
    assert same.removed == frozenset() and same.added == frozenset() and same.selected == current
    side = "RHD" if "LHD" in current else "LHD"
    changed = minimal_change(demo, current, [parse_expression(side)])
    assert side in changed.selected and changed.removed  # the other drive side has to go
    cnf = encode(demo)
    kept = current - changed.removed
    with Solver(name="glucose4", bootstrap_with=cnf.clauses) as solver:
        for feature in changed.removed:  # keeping any removed feature as well is impossible
            assumptions = [cnf.var[n] for n in kept | {feature}] + [cnf.var[side]]
            assert not solver.solve(assumptions=assumptions), feature


def test_bad_requests_are_clear_errors(demo: FeatureModel) -> None:
    with pytest.raises(VariabilityError, match=r"unknown feature 'Nope'.*selection"):
        complete_min_cost(demo, ["Nope"])
    with pytest.raises(VariabilityError, match="did you mean LHD"):
        complete_min_cost(demo, [], ["LHDD"])
    with pytest.raises(VariabilityError, match="both selected and deselected"):
        complete_min_cost(demo, ["LHD"], ["LHD"])
    with pytest.raises(VariabilityError, match=r"contradictory decisions.*(LHD.*RHD|RHD.*LHD)"):
        complete_min_cost(demo, ["LHD", "RHD"])
    with pytest.raises(VariabilityError, match=r"required constraint.*LHD & RHD"):
        minimal_change(demo, set(), [parse_expression("LHD & RHD")])
    with pytest.raises(VariabilityError, match="unknown feature 'Nowhere'"):
        minimal_change(demo, {"Nowhere"}, [])


def test_void_model_is_named(demo: FeatureModel) -> None:
    void = FeatureModel(demo.root, demo.features, [*demo.constraints, *_constraints("LHD & RHD")], demo.source)
    with pytest.raises(VariabilityError, match="void"):
        complete_min_cost(void)
    with pytest.raises(VariabilityError, match="void"):
        minimal_change(void, set(), [parse_expression("LHD")])


def _constraints(text: str) -> list[Constraint]:
    return [Constraint(parse_expression(text), None, text)]
