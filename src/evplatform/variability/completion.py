"""Valid configurations chosen by cost: min-cost completion and minimal change.

Both are weighted MaxSAT over the model's CNF: hard clauses are the model (plus ``extra``
constraints and the user's decisions), the objective is a linear sum over feature variables.
We solve with OR-Tools CP-SAT. Measured on Automotive02 v4 (18,616 features, every feature
weighted with a seeded pseudo-random cost 1..1000, load average 6-13 on 2 cores): python-sat
RC2 (Glucose 4, core-guided) needed 340 s and RC2 stratified had not finished after 400 s;
CP-SAT proved the same optimum (1,130,427) in 4-6 s including the encoding. Its presolve
shrinks the model to ~800 variables, then search is instant; presolve is most of the time, so
its probing and symmetry passes are off (same optimum, 3.5× faster; see ``_cpsat``).

Costs may be floats: they are scaled by the smallest power of ten (at most 10^6) that makes
every weight an integer, and rounded at 10^6, so the optimum is exact for costs with up to six
decimals. Reported costs are recomputed from the model's attribute values, not the scaled ones.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence, Set
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pysat.solvers import Solver

from evplatform.errors import VariabilityError
from evplatform.variability._decisions import SOLVER_NAME, check_known, decision_literals, explain_conflict
from evplatform.variability.cnf import CNF, encode
from evplatform.variability.model import Constraint, Expr, FeatureModel, Var

if TYPE_CHECKING:
    from evplatform.variability._cpsat import WeightedProblem

MAX_DECIMALS = 6
#: Largest objective coefficient sum for which a lexicographic objective is folded into one solve.
_SAFE_INT = 2**53


@dataclass(frozen=True)
class Completion:
    """A valid configuration and how it differs from what was asked.

    ``cost`` is the attribute sum over ``selected``; ``added_cost`` over ``added`` (features not
    asked for, or not in the current configuration); ``removed`` are features that had to go.
    """

    selected: frozenset[str]
    cost: float
    added: frozenset[str]
    removed: frozenset[str]
    added_cost: float


def complete_min_cost(
    model: FeatureModel,
    selected: Iterable[str] = (),
    deselected: Iterable[str] = (),
    attribute: str = "cost",
    extra: Sequence[Expr] = (),
) -> Completion:
    """The valid configuration ⊇ ``selected``, disjoint from ``deselected``, satisfying every
    expression in ``extra``, with the least sum of ``attribute`` (features without it cost 0).

    Raises ``VariabilityError`` for unknown features, contradictory decisions (naming a minimal
    conflicting set) and a void model.
    """
    from evplatform.variability._cpsat import Infeasible, WeightedProblem  # OR-Tools (and pandas): ~0.3 s to import

    cnf = _encode_with(model, extra)
    asked = check_known(selected, model.features, "the selection")
    units = decision_literals(cnf, asked, deselected)
    weights = integer_weights(_attribute_values(model, attribute))
    problem = WeightedProblem(cnf, units)
    try:
        values, _ = problem.minimise({cnf.var[name]: w for name, w in weights.items() if w})
    except Infeasible:
        raise _why_infeasible(model, cnf, units, extra) from None
    chosen = _selected_features(cnf, values)
    added = chosen - set(asked)
    return Completion(chosen, model.attribute_sum(chosen, attribute), added, frozenset(),
                      model.attribute_sum(added, attribute))


def minimal_change(
    model: FeatureModel,
    current: Set[str],
    extra: Sequence[Expr],
    attribute: str = "cost",
) -> Completion:
    """The valid configuration satisfying ``extra`` that is closest to ``current``.

    Lexicographic: first the fewest features of ``current`` removed (so a feature is removed
    only when no valid configuration keeps it together with the others), then the least
    ``attribute`` sum over the features added. Raises ``VariabilityError`` naming the conflict
    when no valid configuration satisfies ``extra``.
    """
    from evplatform.variability._cpsat import Infeasible, WeightedProblem  # OR-Tools (and pandas): ~0.3 s to import

    cnf = _encode_with(model, extra)
    kept = set(check_known(sorted(current), model.features, "the current configuration"))
    costs = integer_weights(_attribute_values(model, attribute))
    added_costs = {cnf.var[n]: w for n, w in costs.items() if w and n not in kept}
    keep_vars = {cnf.var[n]: 1 for n in kept}
    problem = WeightedProblem(cnf)
    try:
        values = _lexicographic(problem, keep_vars, added_costs)
    except Infeasible:
        raise _why_infeasible(model, cnf, [], extra) from None
    chosen = _selected_features(cnf, values)
    added = chosen - kept
    return Completion(chosen, model.attribute_sum(chosen, attribute), added, frozenset(kept - chosen),
                      model.attribute_sum(added, attribute))


def _lexicographic(problem: WeightedProblem, keep: Mapping[int, int], added: Mapping[int, int]) -> list[bool]:
    """Maximise kept features, then minimise added cost (one solve when the weights allow it)."""
    spread = sum(abs(w) for w in added.values()) + 1
    if spread * (len(keep) + 1) < _SAFE_INT:
        objective = dict(added)
        for v in keep:
            objective[v] = -spread  # one removed feature outweighs any difference in added cost
        values, _ = problem.minimise(objective)
        return values
    values, best = problem.minimise({v: -1 for v in keep})
    problem.at_most({v: -1 for v in keep}, best)
    values, _ = problem.minimise(dict(added), hint=values)
    return values


def integer_weights(values: Mapping[str, float]) -> dict[str, int]:
    """The values scaled by the smallest power of ten ≤ 10^6 making all integral, then rounded."""
    for decimals in range(MAX_DECIMALS + 1):
        scale = 10**decimals
        if all(abs(v * scale - round(v * scale)) < 1e-9 * max(1.0, abs(v * scale)) for v in values.values()):
            break
    return {name: round(v * scale) for name, v in values.items()}


def _attribute_values(model: FeatureModel, attribute: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for name, feature in model.features.items():
        value = feature.attributes.get(attribute)
        if isinstance(value, int | float) and not isinstance(value, bool):
            out[name] = float(value)
    return out


def _encode_with(model: FeatureModel, extra: Sequence[Expr]) -> CNF:
    """The model's CNF with the ``extra`` expressions as further constraints (names checked)."""
    if not extra:
        return encode(model)
    constraints = list(model.constraints)
    for expr in extra:
        constraints.append(Constraint(_resolved(model, expr), None, str(expr)))
    return encode(FeatureModel(model.root, model.features, constraints, model.source))


def _resolved(model: FeatureModel, expr: Expr) -> Expr:
    """``expr`` if every name is a feature; dotted references resolved; unknown names rejected."""
    renames: dict[str, str] = {}
    for name in expr.variables():
        target = model.resolve(name)
        if target is None:
            check_known([name], model.features, f"the constraint {expr}")
        elif target != name:
            renames[name] = target
    return _rename(expr, renames) if renames else expr


def _rename(expr: Expr, renames: Mapping[str, str]) -> Expr:
    if isinstance(expr, Var):
        return Var(renames.get(expr.name, expr.name))
    fields: dict[str, object] = {}
    slots: tuple[str, ...] = type(expr).__slots__
    for slot in slots:
        value = getattr(expr, slot)
        if isinstance(value, Expr):
            fields[slot] = _rename(value, renames)
        elif isinstance(value, tuple):
            fields[slot] = tuple(_rename(o, renames) for o in value)
        else:
            fields[slot] = value
    return type(expr)(**fields)


def _selected_features(cnf: CNF, values: list[bool]) -> frozenset[str]:
    return frozenset(cnf.names[i] for i in range(cnf.n_features) if values[i])


def _why_infeasible(model: FeatureModel, cnf: CNF, units: list[int], extra: Sequence[Expr]) -> VariabilityError:
    """Name the reason: a void model, conflicting ``extra`` constraints, or conflicting decisions."""
    if extra and not _satisfiable(encode(model)):
        return VariabilityError("the feature model is void: it has no valid configuration")
    if extra and not _satisfiable(cnf):
        needed = list(extra)
        for expr in list(needed):  # deletion-based: keep only the constraints that matter
            trial = [e for e in needed if e is not expr]
            if not _satisfiable(_encode_with(model, trial)):
                needed = trial
        listed = "; ".join(str(e) for e in needed)
        return VariabilityError(f"no valid configuration satisfies the required constraint(s): {listed}")
    return explain_conflict(cnf, units)


def _satisfiable(cnf: CNF) -> bool:
    with Solver(name=SOLVER_NAME, bootstrap_with=cnf.clauses) as solver:
        return bool(solver.solve())
