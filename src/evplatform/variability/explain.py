"""Explanations in plain words: why a feature is dead, why a (partial) configuration is invalid.

Each tree relation (root, child-to-parent, mandatory child, group) and each cross-tree
constraint gets a selector literal that switches its clauses on. The question is asked as a
SAT call under assumptions (all selectors on, plus the feature or the user's decisions); when
it is unsatisfiable, the solver's core names the relations involved, and deletion shrinks it to
a *minimal* unsatisfiable subset: dropping any one reason makes the conflict disappear.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from pysat.solvers import Glucose4

from evplatform.errors import VariabilityError
from evplatform.variability.cnf import Relation, new_allocator, relations
from evplatform.variability.model import FeatureModel


@dataclass(frozen=True)
class Explanation:
    """What is explained, and a minimal set of reasons (each a relation, its source line, or a decision)."""

    subject: str
    reasons: list[str]
    relations: tuple[Relation, ...]
    decisions: tuple[str, ...] = ()


def explain_dead(model: FeatureModel, feature: str) -> Explanation:
    """Why no valid configuration contains ``feature``; ``VariabilityError`` if some does."""
    _known(model, [feature])
    explanation = _explain(model, {feature: True}, f"{feature} is dead", show_decisions=False)
    if explanation is None:
        raise VariabilityError(f"{feature} is not dead: some valid configuration selects it")
    return explanation


def explain_invalid(model: FeatureModel, selected: Iterable[str] = (), deselected: Iterable[str] = ()) -> Explanation:
    """Why no valid configuration selects every feature of ``selected`` and none of ``deselected``."""
    decisions = {name: True for name in selected}
    for name in deselected:
        if decisions.get(name):
            raise VariabilityError(f"{name} is both selected and deselected")
        decisions[name] = False
    _known(model, decisions)
    explanation = _explain(model, decisions, "the configuration is invalid")
    if explanation is None:
        raise VariabilityError("the configuration is valid: it can be completed to a valid configuration")
    return explanation


def _known(model: FeatureModel, names: Iterable[str]) -> None:
    unknown = sorted(n for n in names if n not in model.features)
    if unknown:
        raise VariabilityError(f"unknown feature(s): {', '.join(unknown)}")


def _explain(model: FeatureModel, decisions: dict[str, bool], subject: str, show_decisions: bool = True
             ) -> Explanation | None:
    var, alloc = new_allocator(model)
    items = list(relations(model, var, alloc))
    selectors = {}
    with Glucose4() as solver:
        for relation, clauses in items:
            s = alloc.new()
            selectors[s] = relation
            for clause in clauses:
                solver.add_clause([-s, *clause])
        decision_lits = {(var[n] if value else -var[n]): n for n, value in decisions.items()}
        fixed = [] if show_decisions else list(decision_lits)  # a dead feature's selection is the question
        assumptions = [*selectors, *decision_lits] if show_decisions else list(selectors)
        if solver.solve(assumptions=[*fixed, *assumptions]):
            return None
        core = _minimal(solver, set(solver.get_core() or assumptions), assumptions, fixed)
    chosen = [s for s in selectors if s in core]
    picked = tuple(selectors[s] for s in chosen)
    used = tuple(decision_lits[lit] for lit in decision_lits if lit in core)
    reasons = [_decision_text(name, decisions[name]) for name in used] if show_decisions else []
    reasons += [render(relation, model.source) for relation in picked]
    return Explanation(subject, reasons, picked, used)


def _minimal(solver: Glucose4, core: set[int], order: list[int], fixed: list[int]) -> set[int]:
    """Deletion-based shrinking: drop each member whose absence keeps the rest unsatisfiable."""
    core = core - set(fixed)
    for lit in [x for x in order if x in core]:
        if lit not in core:
            continue
        trial = [x for x in order if x in core and x != lit]
        if not solver.solve(assumptions=[*fixed, *trial]):
            smaller = set(solver.get_core() or trial) - set(fixed)
            core = smaller if smaller <= core else core - {lit}
    return core


def _decision_text(name: str, value: bool) -> str:
    return f"you {'selected' if value else 'deselected'} {name}"


def render(relation: Relation, source: str | None) -> str:
    """One relation in words with the place it comes from (``file:line`` when known)."""
    if relation.line is None:
        return relation.text
    where = f"{source}:{relation.line}" if source else f"line {relation.line}"
    return f"{relation.text} ({where})"
