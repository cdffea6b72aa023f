"""User decisions (selections, deselections) checked and turned into literals, conflicts named.

Shared by completion, propagation and the configurator CLI so every entry point rejects the
same bad input with the same words: an unknown feature (with close matches), a feature both
selected and deselected, a set of decisions that no valid configuration satisfies.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping

from pysat.solvers import Solver

from evplatform.errors import VariabilityError
from evplatform.variability.cnf import CNF

SOLVER_NAME = "glucose4"  # Glucose beat CaDiCaL 1.7-6x on backbone work on these models (DESIGN.md)


def check_known(names: Iterable[str], known: Mapping[str, object], what: str) -> list[str]:
    """The names in order, or ``VariabilityError`` naming the first unknown one and close matches."""
    out = list(names)
    for name in out:
        if name not in known:
            close = difflib.get_close_matches(name, list(known), n=3)
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            raise VariabilityError(f"unknown feature {name!r} in {what}{hint}")
    return out


def decision_literals(cnf: CNF, selected: Iterable[str], deselected: Iterable[str]) -> list[int]:
    """Literals for the decisions; rejects unknown names and a feature both selected and deselected."""
    chosen = check_known(selected, cnf.var, "the selection")
    dropped = check_known(deselected, cnf.var, "the deselection")
    both = sorted(set(chosen) & set(dropped))
    if both:
        raise VariabilityError(f"{', '.join(both)} cannot be both selected and deselected")
    return [cnf.var[n] for n in chosen] + [-cnf.var[n] for n in dropped]


def describe(cnf: CNF, literals: Iterable[int]) -> str:
    """``select A, deselect B`` for literals over feature variables."""
    words = [("select " if lit > 0 else "deselect ") + cnf.names[abs(lit) - 1] for lit in literals]
    return ", ".join(words)


def minimal_core(solver: Solver, assumptions: list[int]) -> list[int]:
    """A subset-minimal set of the assumptions that is unsatisfiable with the solver's clauses.

    Starts from the solver's core and drops literals one at a time (deletion-based MUS over
    assumptions); the caller has checked that the assumptions are unsatisfiable.
    """
    core = list(solver.get_core() or assumptions)
    i = 0
    while i < len(core):
        trial = core[:i] + core[i + 1:]
        if not solver.solve(assumptions=trial):
            smaller = solver.get_core()
            core = [lit for lit in trial if smaller is None or lit in set(smaller)]
        else:
            i += 1
    return core


def explain_conflict(cnf: CNF, literals: list[int]) -> VariabilityError:
    """The error to raise when the decisions ``literals`` admit no valid configuration."""
    with Solver(name=SOLVER_NAME, bootstrap_with=cnf.clauses) as solver:
        if not solver.solve():
            return VariabilityError("the feature model is void: it has no valid configuration")
        if solver.solve(assumptions=literals):
            return VariabilityError("no valid configuration satisfies the request")
        core = minimal_core(solver, literals)
    if len(core) == 1:
        return VariabilityError(f"no valid configuration can {describe(cnf, core)} (the model forbids it)")
    return VariabilityError(f"contradictory decisions: no valid configuration can {describe(cnf, core)} together")
