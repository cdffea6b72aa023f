"""The valid configuration closest to a user's decisions under extra rules (a market's, for example).

A configurator session holds *decisions* (features selected, features deselected), not a complete
configuration; a market adds requirements (its regulations' feature expressions, its own
selections). When the decisions break them, the engineer wants the configuration that complies and
overturns the fewest decisions. ``minimal_change`` in ``completion`` starts from a complete
configuration and counts every feature it holds; here only the decisions count, so a feature the
user never touched may change freely.

Three criteria, lexicographic, in one CP-SAT objective when the weights fit in 2^53 (else one
solve per criterion with the previous optimum as a bound):

1. the fewest decisions overturned (a selected feature left out, a deselected one taken in);
2. the least sum of ``attribute`` (the cost of the configuration, features without it cost 0);
3. the fewest features selected — so a feature that costs nothing is not added for no reason and
   the answer does not depend on the solver's whims.

Decisions the ``keep`` set names are hard (a market's own selections), never counted as changes.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from evplatform.errors import VariabilityError
from evplatform.variability._cpsat import Infeasible, WeightedProblem
from evplatform.variability._decisions import check_known
from evplatform.variability.completion import _attribute_values, _encode_with, _why_infeasible, integer_weights
from evplatform.variability.model import Expr, FeatureModel

logger = logging.getLogger(__name__)

#: Largest objective coefficient sum folded into one CP-SAT solve (a double holds integers exactly below).
_SAFE_INT = 2**53


@dataclass(frozen=True)
class Closest:
    """The configuration found and how it departs from the decisions.

    ``dropped``: selected decisions it leaves out; ``taken``: deselected decisions it takes in
    (together the overturned decisions, ``changes``). ``cost`` is the ``attribute`` sum over
    ``selected``.
    """

    selected: frozenset[str]
    dropped: tuple[str, ...]
    taken: tuple[str, ...]
    cost: float

    @property
    def changes(self) -> int:
        return len(self.dropped) + len(self.taken)


def closest_to_decisions(
    model: FeatureModel,
    selected: Iterable[str],
    deselected: Iterable[str],
    extra: Sequence[Expr] = (),
    keep: Iterable[str] = (),
    attribute: str = "cost",
) -> Closest:
    """The valid configuration satisfying ``extra`` and selecting ``keep`` that overturns the fewest
    decisions, then costs least, then selects fewest features (see the module docstring).

    Raises ``VariabilityError`` (naming the rules or decisions in conflict) when no valid
    configuration satisfies ``extra`` and ``keep`` whatever the decisions.
    """
    on = check_known(list(dict.fromkeys(selected)), model.features, "the selection")
    off = check_known(list(dict.fromkeys(deselected)), model.features, "the deselection")
    hard = check_known(list(dict.fromkeys(keep)), model.features, "the features to keep")
    cnf = _encode_with(model, extra)
    units = [cnf.var[name] for name in hard]
    costs = integer_weights(_attribute_values(model, attribute))
    # Every criterion as a minimised sum over DIMACS literals: an overturned decision is x=0 for a
    # selected one (the literal -x, i.e. 1 - x) and x=1 for a deselected one.
    changes = {cnf.var[n]: -1 for n in on if n not in hard} | {cnf.var[n]: 1 for n in off if n not in hard}
    cost = {cnf.var[n]: w for n, w in costs.items() if w}
    size = {cnf.var[n]: 1 for n in cnf.feature_names()}
    problem = WeightedProblem(cnf, units)
    try:
        values = _lexicographic(problem, [changes, cost, size])
    except Infeasible:
        raise _why_infeasible(model, cnf, units, extra) from None
    chosen = frozenset(cnf.names[i] for i in range(cnf.n_features) if values[i])
    kept = set(hard)
    return Closest(chosen, tuple(n for n in on if n not in chosen and n not in kept),
                   tuple(n for n in off if n in chosen and n not in kept), model.attribute_sum(chosen, attribute))


def _lexicographic(problem: WeightedProblem, criteria: list[dict[int, int]]) -> list[bool]:
    """Minimise the criteria in order; folded into one objective when the weights allow it.

    A coefficient ``c`` on variable ``v`` counts ``c·x_v``; a negative one counts ``|c|·(1 - x_v)``
    up to a constant, which is how "a selected decision left out" becomes a minimised term.
    """
    spans = [sum(abs(c) for c in criterion.values()) + 1 for criterion in criteria]
    scale = 1
    folded: dict[int, int] = {}
    for criterion, span in zip(reversed(criteria), reversed(spans), strict=True):
        for v, c in criterion.items():
            folded[v] = folded.get(v, 0) + c * scale
        scale *= span
    if scale < _SAFE_INT:
        return problem.minimise(folded)[0]
    found: list[bool] | None = None
    for criterion in criteria:  # one solve per criterion, each bounded by the previous optimum
        found, best = problem.minimise(criterion, hint=found)
        problem.at_most(criterion, best)
    if found is None:
        raise VariabilityError("no criterion to optimise")
    return found
