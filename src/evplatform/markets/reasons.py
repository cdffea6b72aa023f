"""Why a configuration breaks a requirement, as features to add and features to take out.

A requirement is any feature expression, so "what is missing" is defined, not guessed: the
smallest set of the expression's own features whose flip makes it true. Among sets of the
same size, the one with fewer removals wins (a homologation engineer reads "ALKS =>
ALKSMaxSpeed130" as "add the speed cap", not "remove ALKS"), then the alphabetically first.
Flipped-on features are *missing*, flipped-off ones *violating*.
"""

from __future__ import annotations

from collections.abc import Set
from itertools import combinations

from evplatform.variability.model import And, Const, Expr, Iff, Implies, Not, Or, Var

#: Above this many distinct features in one requirement the exact search (2^n at worst) is
#: replaced by the polarity reading below; real regulations name a handful of features.
EXACT_LIMIT = 14


def unmet(requirement: Expr, selected: Set[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(missing, violating) features that make ``requirement`` true; both empty when it holds."""
    if requirement.evaluate(selected):
        return (), ()
    names = sorted(requirement.variables())
    if len(names) > EXACT_LIMIT:
        return _by_polarity(requirement, selected)
    for size in range(1, len(names) + 1):
        best: tuple[int, tuple[str, ...]] | None = None
        for flips in combinations(names, size):
            trial = set(selected).symmetric_difference(flips)
            if requirement.evaluate(trial):
                removals = sum(1 for f in flips if f in selected)
                if best is None or removals < best[0]:
                    best = (removals, flips)
        if best is not None:
            flips = best[1]
            return (tuple(f for f in flips if f not in selected), tuple(f for f in flips if f in selected))
    return (), ()  # unsatisfiable requirement: nothing to add or remove makes it true


def _by_polarity(requirement: Expr, selected: Set[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Features the requirement wants on but are off, and wants off but are on (large expressions)."""
    positive: set[str] = set()
    negative: set[str] = set()
    _polarity(requirement, True, positive, negative)
    missing = tuple(sorted(f for f in positive - negative if f not in selected))
    violating = tuple(sorted(f for f in negative - positive if f in selected))
    return missing, violating


def _polarity(expr: Expr, sign: bool, positive: set[str], negative: set[str]) -> None:
    if isinstance(expr, Var):
        (positive if sign else negative).add(expr.name)
    elif isinstance(expr, Not):
        _polarity(expr.operand, not sign, positive, negative)
    elif isinstance(expr, And | Or):
        for operand in expr.operands:
            _polarity(operand, sign, positive, negative)
    elif isinstance(expr, Implies):
        _polarity(expr.left, not sign, positive, negative)
        _polarity(expr.right, sign, positive, negative)
    elif isinstance(expr, Iff):
        for side in (expr.left, expr.right):
            _polarity(side, sign, positive, negative)
            _polarity(side, not sign, positive, negative)
    elif not isinstance(expr, Const):  # pragma: no cover - every Expr subclass is handled above
        raise TypeError(f"unsupported expression {expr!r}")
