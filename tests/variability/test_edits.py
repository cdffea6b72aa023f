"""Semantic diff of feature models (variability.edits): known cases, random edits against enumeration, Automotive02."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pysat.solvers import Glucose4

from evplatform.variability import _edit_sat, edits
from evplatform.variability._edit_count import CountJob, count, count_jobs
from evplatform.variability._watchdog import NotDecided, Watchdog
from evplatform.variability.cnf import encode
from evplatform.variability.counting import count_configurations
from evplatform.variability.edits import Figures, ModelDiff, compare_models
from evplatform.variability.formats import load_model
from evplatform.variability.model import FeatureModel
from evplatform.variability.uvl import parse_uvl
from reference_data import shared_data_path
from variability.edit_oracle import Expected, agreeing, edited, full, pigeonhole_uvl, projected
from variability.fm_strategies import feature_models


def _in_process(parts: dict[str, list[list[int]]], n_vars: int, jobs: list[CountJob],
                time_limit_s: float, timings: dict[str, float] | None = None) -> dict[str, int | None]:
    return {job.name: count([c for p in job.parts for c in parts[p]], n_vars, job.show) for job in jobs}


@contextmanager
def counting_in_process() -> Iterator[None]:
    """Counts without the child process (same arithmetic and jobs; Hypothesis runs hundreds of diffs)."""
    with mock.patch.object(edits, "count_jobs", _in_process):
        yield


def diff(a: FeatureModel, b: FeatureModel) -> ModelDiff:
    with counting_in_process():
        return compare_models(a, b, time_limit_s=30)


def uvl(text: str) -> FeatureModel:
    return parse_uvl("features\n" + text)


CAR = """    Car
        optional
            Radio
            Nav
"""

CASES = {
    # name: (A, B, full class, lost, gained, projected class)
    "alternative written as or + exclusion": (
        "    Car\n        alternative\n            X\n            Y\n",
        "    Car\n        or\n            X\n            Y\nconstraints\n    !(X & Y)\n",
        "refactoring", 0, 0, "refactoring"),
    "constraint added": (CAR, CAR + "constraints\n    Nav => Radio\n", "specialisation", 1, 0, "specialisation"),
    "constraint removed": (CAR + "constraints\n    Nav => Radio\n", CAR, "generalisation", 0, 1, "generalisation"),
    "optional feature added": (CAR, CAR + "            Heat\n", "generalisation", 0, 4, "refactoring"),
    "optional feature removed": (CAR, "    Car\n        optional\n            Radio\n", "specialisation", 2, 0,
                                 "refactoring"),
    "optional made mandatory, feature added": (
        CAR, "    Car\n        mandatory\n            Radio\n        optional\n            Nav\n            Heat\n",
        "arbitrary", 2, 2, "specialisation"),
    "root renamed": (CAR, CAR.replace("Car", "Vehicle"), "refactoring", 0, 0, "refactoring"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_hand_made_edits(name: str) -> None:
    a_text, b_text, klass, lost, gained, projected_class = CASES[name]
    a, b = uvl(a_text), uvl(b_text)
    result = diff(a, b)
    assert (result.edit_class, result.full.lost_count, result.full.gained_count) == (klass, lost, gained)
    assert result.projected.edit_class == projected_class
    expected = full(a, b)
    assert (result.full.count_a, result.full.count_b) == (len(expected.a), len(expected.b))


SEVEN = "".join(f"            C{i}\n" for i in range(7))


@pytest.mark.parametrize(("a_group", "b_group", "klass", "gained"),
                         [("alternative", "[1..2]", "generalisation", 21), ("or", "[2..3]", "specialisation", 0),
                          ("[2..3]", "alternative", "arbitrary", 7)])
def test_groups_above_the_pairwise_limit(a_group: str, b_group: str, klass: str, gained: int) -> None:
    """Seven children: the counters (not pairwise clauses) encode these groups; checked by enumeration too."""
    a, b = uvl(f"    P\n        {a_group}\n{SEVEN}"), uvl(f"    P\n        {b_group}\n{SEVEN}")
    result = diff(a, b)
    assert (result.edit_class, result.full.gained_count) == (klass, gained)
    check_against_enumeration(a, b)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_past_the_conflict_budget_the_checks_go_one_by_one(data: st.DataObject) -> None:
    """When the disjunction runs out of its conflict budget, each requirement is checked alone: same answers."""
    a = data.draw(feature_models(max_features=6, max_constraints=2))
    with mock.patch.object(_edit_sat.DifferenceFinder, "_limited", lambda self, assumptions: None):
        check_against_enumeration(a, data.draw(edited(a)))


def test_witness_names_the_features_that_matter_and_the_rule() -> None:
    result = diff(uvl(CAR), uvl(CAR + "constraints\n    Nav => Radio\n"))
    assert result.full.witness_lost == ("Nav",)
    assert result.full.deselected_lost == ("Radio",)
    assert result.full.rule_lost == "constraint Nav => Radio (line 7)"
    assert result.full.witness_gained is None


def test_dict_has_the_documented_keys() -> None:
    a = uvl(CAR + "constraints\n    Nav => Radio\n")
    b = uvl("    Car\n        or\n            Radio\n            Heat\nconstraints\n    Heat => Radio\n")
    payload = diff(a, b).to_dict()
    required = {"semantics", "edit_class", "lost_exists", "gained_exists", "witness_lost", "witness_gained",
                "lost_count", "gained_count", "projected", "features_added", "features_removed",
                "constraints_added", "constraints_removed", "added_features", "removed_features", "moved_features",
                "group_changes", "attribute_changes", "added_constraints", "removed_constraints", "analyses"}
    assert required <= payload.keys()
    assert payload["semantics"] == "full" and payload["projected"]["semantics"] == "projected"
    assert isinstance(payload["lost_count"], str) and isinstance(payload["projected"]["gained_count"], str)
    assert (payload["features_added"], payload["features_removed"]) == (1, 1)
    assert payload["added_features"] == [{"name": "Heat", "old_parent": None, "new_parent": "Car"}]
    assert payload["removed_constraints"] == [{"text": "Nav => Radio", "line_a": 7, "line_b": None}]
    assert payload["added_constraints"] == [{"text": "Heat => Radio", "line_a": None, "line_b": 7}]
    assert payload["group_changes"] == [{"parent": "Car", "children": ["Radio"], "old": "optional", "new": "or"}]
    assert payload["analyses"]["core"] == {"appeared": ["Radio"], "disappeared": []}
    assert payload["edit_class_note"] is None and payload["projected"]["edit_class_note"] is None
    assert payload["analyses_note"] is None


def test_syntax_moves_groups_attributes() -> None:
    a = uvl("    Car\n        optional\n            Radio {cost 100}\n            Nav\n        alternative\n"
            "            X\n            Y\n")
    b = uvl("    Car\n        optional\n            Radio {cost 120}\n        or\n            X\n            Y\n"
            "                optional\n                    Nav\n")
    result = diff(a, b)
    assert [(m.name, m.old_parent, m.new_parent) for m in result.syntax.moved] == [("Nav", "Car", "Y")]
    groups = [(g.parent, g.children, g.old, g.new) for g in result.syntax.groups]
    assert groups == [("Car", ("X", "Y"), "alternative", "or")]
    assert [(e.feature, e.attribute, e.old, e.new) for e in result.syntax.attributes] == [("Radio", "cost", 100, 120)]


def _check_figures(figures: Figures, expected: Expected, shared_check: bool) -> None:
    assert figures.edit_class == expected.edit_class
    assert (figures.lost_exists, figures.gained_exists) == (bool(expected.lost), bool(expected.gained))
    assert (figures.count_a, figures.count_b) == (len(expected.a), len(expected.b))
    assert (figures.lost_count, figures.gained_count) == (len(expected.lost), len(expected.gained))
    for mine, theirs, on, off in ((expected.a, expected.b, figures.witness_lost, figures.deselected_lost),
                                  (expected.b, expected.a, figures.witness_gained, figures.deselected_gained)):
        if on is None or off is None:
            assert not mine - theirs
            continue
        matching = agreeing(mine, on, off)
        assert matching and not matching & theirs  # a real witness: every configuration agreeing with it differs
        for i in range(len(on) + len(off)):  # subset-minimal: dropping any literal lets a common one agree
            fewer_on = tuple(n for j, n in enumerate(on) if j != i)
            fewer_off = tuple(n for j, n in enumerate(off) if j != i - len(on))
            pool = theirs if shared_check else mine & theirs
            assert agreeing(pool, fewer_on, fewer_off)


def check_against_enumeration(a: FeatureModel, b: FeatureModel) -> None:
    result = diff(a, b)
    _check_figures(result.full, full(a, b), shared_check=False)
    _check_figures(result.projected, projected(a, b), shared_check=True)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_random_edits_match_enumeration(data: st.DataObject) -> None:
    a = data.draw(feature_models(max_features=6, max_constraints=2))
    check_against_enumeration(a, data.draw(edited(a)))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(a=feature_models(max_features=6, max_constraints=2), b=feature_models(max_features=6, max_constraints=2))
def test_unrelated_models_match_enumeration(a: FeatureModel, b: FeatureModel) -> None:
    check_against_enumeration(a, b)


def test_counts_in_the_child_process() -> None:
    result = compare_models(uvl(CAR), uvl(CAR + "            Heat\n"), time_limit_s=120)
    assert (result.full.count_a, result.full.count_b, result.full.gained_count) == (4, 8, 4)
    assert (result.projected.count_a, result.projected.count_b, result.projected.gained_count) == (4, 4, 0)
    assert result.full.count_note is None
    assert {"count_full_a", "count_full_b", "count_proj_a", "count_proj_b"} <= result.seconds.keys()


def test_count_false_leaves_counts_out() -> None:
    result = compare_models(uvl(CAR), uvl(CAR + "            Heat\n"), count=False)
    assert result.edit_class == "generalisation"
    assert result.full.gained_count is None and result.to_dict()["gained_count"] is None


def test_counting_stops_at_the_time_limit() -> None:
    """d4 needs seconds for Automotive02 v4; with half a second the figure is None and the child is stopped."""
    cnf = encode(load_model(shared_data_path("feature-models", "automotive02", "automotive02_v4.featureide.xml")))
    started = time.perf_counter()
    results = count_jobs({"all": cnf.clauses}, cnf.n_vars, [CountJob("v4", ("all",))], time_limit_s=0.5)
    assert results == {"v4": None}
    assert time.perf_counter() - started < 5


def test_checks_not_decided_in_the_time_limit_say_so() -> None:
    """Deciding this refactoring needs a pigeonhole proof (10 holes: minutes for Glucose). With half a
    second per check, each check stops at its limit and says so, instead of running for minutes."""
    a, b = parse_uvl(pigeonhole_uvl(10)), parse_uvl(pigeonhole_uvl(10, "!G"))
    started = time.perf_counter()
    result = compare_models(a, b, time_limit_s=0.5, count=False)
    elapsed = time.perf_counter() - started
    payload = result.to_dict()
    assert payload["edit_class"] is None and payload["lost_exists"] is None
    assert payload["gained_exists"] is None  # both directions share the check's half second
    assert payload["edit_class_note"] == "not decided in 0.5 s"
    assert payload["projected"]["edit_class"] is None
    assert payload["projected"]["edit_class_note"] == "not decided in 0.5 s"
    assert payload["analyses"] == {} and payload["analyses_note"] == "not decided in 0.5 s"
    assert max(result.seconds[k] for k in ("edit_class", "projected_class", "analyses")) < 3
    assert elapsed < 10


def test_the_same_question_decided_within_a_longer_limit() -> None:
    """At 6 holes the proof is quick: the same edit is a refactoring and G is dead in both versions."""
    result = compare_models(parse_uvl(pigeonhole_uvl(6)), parse_uvl(pigeonhole_uvl(6, "!G")), time_limit_s=60,
                            count=False)
    assert result.edit_class == "refactoring" and result.full.decision_note is None
    assert result.projected.edit_class == "refactoring"
    assert result.analyses["dead"].appeared == () and result.analyses_note is None


def test_watchdog_interrupts_a_solver_and_leaves_budgets_to_the_caller() -> None:
    from pysat.examples.genhard import PHP

    with Glucose4(bootstrap_with=PHP(10).clauses) as solver, Watchdog(0.3) as watchdog:
        assert watchdog.solve(solver, budget=10) is None  # out of conflicts: unknown, not "not decided"
        started = time.perf_counter()
        with pytest.raises(NotDecided, match=r"not decided in 0\.3 s"):
            watchdog.solve(solver)
        assert time.perf_counter() - started < 3
        with pytest.raises(NotDecided):  # past the deadline no call starts
            watchdog.solve(solver, budget=10)
    with Glucose4(bootstrap_with=PHP(4).clauses) as solver, Watchdog(None) as unlimited:
        assert unlimited.solve(solver) is False
        assert unlimited.solve(solver, [-1]) is False


def test_projected_count_by_d4() -> None:
    # (x1 ∨ x2 ∨ x3) ∧ (¬x1 ∨ x2): 5 models; onto x1: both values occur; onto x3: both values occur
    clauses = [[1, 2, 3], [-1, 2]]
    assert count(clauses, 3) == 5
    assert count(clauses, 3, (1,)) == 2
    assert count([*clauses, [-2]], 3, (1,)) == 1  # x2 false forces x1 false
    assert count([*clauses, [4, 5]], 5, (1, 4)) == 4  # d4 projects a formula left after propagation


# --- Automotive02 v1 → v4 against a plain reference ------------------------------------------


def _union_solver(a: FeatureModel, b: FeatureModel) -> Glucose4:
    """Both CNFs from the project's encoder in one solver, features shared by name, absent ones deselected."""
    names = list(a.features) + [n for n in b.features if n not in a.features]
    var = {n: i for i, n in enumerate(names, start=1)}
    solver = Glucose4()
    top = len(names)
    for own, other in ((a, b), (b, a)):
        cnf = encode(own)
        mapping = {i: var[n] for n, i in cnf.var.items()}
        for v in range(cnf.n_features + 1, cnf.n_vars + 1):
            top += 1
            mapping[v] = top
        for clause in cnf.clauses:
            solver.add_clause([mapping[abs(x)] if x > 0 else -mapping[abs(x)] for x in clause])
        for n in other.features:
            if n not in own.features:
                solver.add_clause([var[n] if n == other.root else -var[n]])
    return solver


@pytest.mark.heavy
def test_automotive02_v1_to_v4() -> None:
    """v4 adds mandatory features under core ones: under the full semantics the versions share no configuration."""
    folder = ("feature-models", "automotive02")
    a = load_model(shared_data_path(*folder, "automotive02_v1.featureide.xml"))
    b = load_model(shared_data_path(*folder, "automotive02_v4.featureide.xml"))
    result = compare_models(a, b, time_limit_s=240)
    count_a, count_b = count_configurations(encode(a)), count_configurations(encode(b))
    with _union_solver(a, b) as solver:
        assert not solver.solve()  # plain reference: A ∧ B has no model, so every configuration is lost or gained
    assert result.edit_class == "arbitrary"
    assert (result.full.count_a, result.full.count_b) == (count_a, count_b)
    assert (result.full.lost_count, result.full.gained_count) == (count_a, count_b)
    assert result.full.witness_lost == () and result.full.deselected_lost == ()
    proj = result.projected
    assert proj.edit_class == "arbitrary"
    for side, other, on, off in ((a, b, proj.witness_lost, proj.deselected_lost),
                                 (b, a, proj.witness_gained, proj.deselected_gained)):
        assert on is not None and off is not None
        own_cnf, other_cnf = encode(side), encode(other)
        literals = [own_cnf.var[n] for n in on] + [-own_cnf.var[n] for n in off]
        with Glucose4(bootstrap_with=own_cnf.clauses) as mine:
            assert mine.solve(assumptions=literals)
        literals = [other_cnf.var[n] for n in on] + [-other_cnf.var[n] for n in off]
        with Glucose4(bootstrap_with=other_cnf.clauses) as theirs:
            assert not theirs.solve(assumptions=literals)
    assert (result.features_a, result.features_b) == (14_010, 18_616)
    assert {e.name for e in result.syntax.added} == b.features.keys() - a.features.keys()
    assert {e.name for e in result.syntax.removed} == a.features.keys() - b.features.keys()


def test_an_impossible_cardinality_group_kills_its_parent() -> None:
    """A [2..1] group (min above max) has no valid choice: every configuration with its parent is lost
    (found by the random-edit property test: it was encoded as mandatory, a refactoring)."""
    from evplatform.variability.model import Feature, Group, GroupKind

    def model(kind: GroupKind, low: int, high: int | None) -> FeatureModel:
        group = Group(kind=kind, children=["B", "C"], card_min=low, card_max=high, line=2)
        features = {"A": Feature(name="A", parent=None, groups=[group], attributes={}, abstract=False, line=1),
                    "B": Feature(name="B", parent="A", groups=[], attributes={}, abstract=False, line=3),
                    "C": Feature(name="C", parent="A", groups=[], attributes={}, abstract=False, line=4)}
        return FeatureModel(root="A", features=features, constraints=[], source="impossible.uvl")

    before, after = model(GroupKind.MANDATORY, 0, None), model(GroupKind.CARDINALITY, 2, 1)
    check_against_enumeration(before, after)
    assert compare_models(before, after, count=False).edit_class == "specialisation"
