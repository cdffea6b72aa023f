"""The witness store on its own: every feature it calls open is open, every literal it proves is fixed.

The propagator hides most of the store's claims behind unit propagation (a feature unit
propagation fixes is never asked about). Here every undecided feature is asked about at every
step, so a witness kept past a decision that broke it shows up as a wrong "open".
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from pysat.solvers import Solver

from evplatform.variability._decisions import SOLVER_NAME
from evplatform.variability.cnf import CNF, encode
from evplatform.variability.local_moves import LocalMoves
from evplatform.variability.model import FeatureModel
from evplatform.variability.witnesses import NoConfiguration, WitnessStore
from variability.fm_strategies import brute_force, feature_models


def _check_step(store: WitnessStore, cnf: CNF, decisions: list[int], configs: list[frozenset[str]]) -> None:
    decided = {abs(d) for d in decisions}
    asked = [v for v in range(1, cnf.n_features + 1) if v not in decided]
    store.prove(store.probe(store.open_without_witness(asked)))
    for v in asked:
        name = cnf.names[v - 1]
        values = {name in c for c in configs}
        if v in store.witness:
            assert values == {True, False}, f"{name} called open but fixed to {values}"
        else:
            lit = v if True in values else -v
            assert values != {True, False} and lit in store.fixed, f"{name}: {values}, fixed {store.fixed}"
    assert store.example() in configs


@settings(max_examples=200, deadline=None)
@given(data=st.data(), with_model=st.booleans())
def test_store_claims_match_brute_force_over_a_session(data: st.DataObject, with_model: bool) -> None:
    model = data.draw(feature_models(max_features=9, max_constraints=4))
    everything = brute_force(model)
    if not everything:
        return
    cnf = encode(model)
    if not with_model:  # the clause-level path, as for a DIMACS file
        cnf = CNF(cnf.n_vars, cnf.clauses, cnf.var, cnf.names, cnf.n_features)
    names = list(model.features)
    steps = data.draw(st.lists(st.tuples(st.sampled_from(names), st.booleans()), min_size=1, max_size=7))
    with Solver(name=SOLVER_NAME, bootstrap_with=cnf.clauses) as solver:
        moves = LocalMoves(model, set()) if with_model else None
        store = WitnessStore(cnf, solver, moves)
        decisions: list[int] = []
        for name, select in steps:
            lit = cnf.var[name] if select else -cnf.var[name]
            if lit in decisions or -lit in decisions:
                continue
            trial = [*decisions, lit]
            configs = [c for c in everything
                       if all((cnf.names[abs(d) - 1] in c) == (d > 0) for d in trial)]
            try:
                store.decide(trial)
            except NoConfiguration:
                assert not configs
                store.decide(decisions)  # back to the last good decisions (the store starts over)
                continue
            assert configs
            decisions = trial
            _check_step(store, cnf, decisions, configs)
        while decisions:  # the user takes decisions back, oldest first: base and witnesses carry over
            decisions = decisions[1:]
            configs = [c for c in everything if all((cnf.names[abs(d) - 1] in c) == (d > 0) for d in decisions)]
            store.decide(decisions)
            _check_step(store, cnf, decisions, configs)


@settings(max_examples=150, deadline=None)
@given(model=feature_models(max_features=8, max_constraints=3), data=st.data())
def test_change_sets_with_disjoint_keys_combine_into_valid_configurations(model: FeatureModel,
                                                                          data: st.DataObject) -> None:
    """The property the store rests on: a witness survives any repair whose keys it does not share."""
    everything = sorted(brute_force(model), key=sorted)
    if not everything:
        return
    base = data.draw(st.sampled_from(everything))
    moves = LocalMoves(model, set(base))
    changes = []
    for name in model.features:
        changed = moves.probe(name, select=name not in base)
        if changed:
            changes.append(set(changed))
    assert set(moves.chosen) == set(base)  # probing leaves the configuration as it was
    for a in changes:
        for b in changes:
            if moves.witness_keys(sorted(a)).isdisjoint(moves.conflict_keys(sorted(b))):
                combined = set(base) ^ a ^ b
                assert not model.configuration_errors(frozenset(combined)), (sorted(base), sorted(a), sorted(b))
