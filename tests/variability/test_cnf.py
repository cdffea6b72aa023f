"""The CNF encoding: same configurations as brute force, models counted one-to-one, linear size."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from pysat.solvers import Glucose4

from evplatform.errors import VariabilityError
from evplatform.variability.cnf import CNF, at_most_one, encode
from evplatform.variability.model import (
    Constraint,
    Feature,
    FeatureModel,
    Group,
    GroupKind,
    Implies,
    Var,
)
from evplatform.variability.uvl import parse_uvl
from variability.fm_strategies import brute_force, feature_models


def all_models(cnf: CNF) -> list[list[int]]:
    """Every model over all variables (auxiliaries included) by blocking clauses."""
    out = []
    with Glucose4(bootstrap_with=cnf.clauses) as solver:
        while solver.solve():
            model = solver.get_model() or []
            model = [lit for lit in model if abs(lit) <= cnf.n_vars]
            out.append(model)
            solver.add_clause([-lit for lit in model])
    return out


@settings(max_examples=120, deadline=None)
@given(feature_models())
def test_solutions_match_brute_force_and_auxiliaries_are_defined(model: FeatureModel) -> None:
    cnf = encode(model)
    expected = brute_force(model)
    models = all_models(cnf)
    assert {cnf.selected(m) for m in models} == expected
    # count-preserving: no configuration has two models (every auxiliary is a defined gate)
    assert len(models) == len(expected)


def test_variables_and_names() -> None:
    model = parse_uvl("features\n    R\n        alternative\n" + "".join(f"            C{i}\n" for i in range(8)))
    cnf = encode(model)
    assert cnf.n_features == 9
    assert cnf.var["R"] == 1 and cnf.names[0] == "R"
    assert [1] in cnf.clauses  # the root is forced
    assert cnf.names[cnf.n_features:] == [""] * (cnf.n_vars - cnf.n_features)
    assert cnf.feature_names() == ["R", *(f"C{i}" for i in range(8))]
    assert cnf.literal("C0", False) == -2
    with pytest.raises(VariabilityError, match="unknown feature"):
        cnf.literal("nope")


def _wide_alternative(n: int) -> FeatureModel:
    children = [f"C{i}" for i in range(n)]
    features = {"R": Feature("R", groups=[Group(GroupKind.ALTERNATIVE, children)])}
    features.update({c: Feature(c, "R") for c in children})
    chain = [Constraint(Implies(Var(children[i]), Var(children[(i * 7 + 3) % n]))) for i in range(n)]
    return FeatureModel("R", features, chain)


def test_size_is_linear_in_the_model() -> None:
    small, big = encode(_wide_alternative(500)), encode(_wide_alternative(5000))
    assert big.n_vars <= 10.5 * small.n_vars
    assert len(big.clauses) <= 10.5 * len(small.clauses)
    assert len(big.clauses) < 8 * 5000  # pairwise at-most-one would need 12.5 million


def test_at_most_one_counter_is_exact() -> None:
    from evplatform.variability.cnf import VarAllocator

    lits = list(range(1, 9))
    clauses = at_most_one(lits, VarAllocator(9))
    with Glucose4(bootstrap_with=clauses) as solver:
        assert solver.solve(assumptions=[3])
        assert not solver.solve(assumptions=[2, 7])
        assert solver.solve(assumptions=[-i for i in lits])


def test_complex_constraint_uses_gates_but_stays_small() -> None:
    names = [f"X{i}" for i in range(12)]
    text = " | ".join(f"({a} & {b})" for a, b in zip(names[::2], names[1::2], strict=True))
    model = parse_uvl("features\n    R\n        optional\n" + "".join(f"            {n}\n" for n in names)
                      + f"constraints\n    {text}\n")
    cnf = encode(model)
    assert cnf.n_vars > cnf.n_features  # distribution (2^6 clauses) was replaced by gates
    assert len(cnf.clauses) < 13 + 1 + 30


def test_clausal_constraint_needs_no_auxiliary() -> None:
    model = parse_uvl("features\n    R\n        optional\n            A\n            B\n            C\n"
                      "constraints\n    A => B | !C\n    !(A & B)\n    A <=> C\n")
    cnf = encode(model)
    assert cnf.n_vars == cnf.n_features
    assert [-2, 3, -4] in cnf.clauses and [-2, -3] in cnf.clauses


def test_unknown_feature_in_constraint() -> None:
    model = _wide_alternative(3)
    model.constraints.append(Constraint(Var("Ghost"), line=9))
    with pytest.raises(VariabilityError, match=r"line 9.*'Ghost'"):
        encode(model)
