"""Projected comparison: is some configuration of X, restricted to the shared features, no restriction of Y's?

This is an ∃∀ question (∃ shared assignment extendable in X such that ∀ extensions Y fails), so
it is answered by a counterexample-guided loop: a *candidate* solver proposes a restriction
``s`` of a configuration of X; a *checker* solver tries to extend ``s`` in Y. When it cannot,
``s`` is a witness (and the checker's failed assumptions name the shared features that
matter). When it can, with the non-shared values ``z``, the candidate solver learns that the
next ``s`` must break some clause of Y with ``z`` plugged in, which excludes every restriction
the same ``z`` extends. Each round excludes at least the current ``s``, so the loop ends; a
watchdog bounds it in wall-clock time and an unsettled check is reported as ``False`` (unknown).
"""

from __future__ import annotations

from typing import Literal, cast

from pysat.solvers import Glucose4

from evplatform.variability._edit_sat import Clause, Difference, Side, Union, essential_literals
from evplatform.variability._watchdog import NotDecided, Watchdog


def projected_difference(union: Union, deadline: float, watchdog: Watchdog | None = None
                         ) -> tuple[Difference | None | Literal[False], Difference | None | Literal[False]]:
    """(lost, gained) under the projected semantics: a witness, ``None`` (there is none) or ``False`` (unknown).

    ``watchdog`` bounds both directions (a direction it stops is unknown); ``deadline``
    (``time.perf_counter()``) only ends the shrinking of a witness.
    """
    watchdog = watchdog or Watchdog(None)
    return (_direction(union, union.a, union.b, deadline, watchdog),
            _direction(union, union.b, union.a, deadline, watchdog))


def _direction(union: Union, x: Side, y: Side, deadline: float, watchdog: Watchdog
               ) -> Difference | None | Literal[False]:
    try:
        return _settle(union, x, y, deadline, watchdog)
    except NotDecided:
        return False


def _settle(union: Union, x: Side, y: Side, deadline: float, watchdog: Watchdog) -> Difference | None:
    shared = union.shared()
    is_shared = [False] * (union.n_vars + 1)
    for v in shared:
        is_shared[v] = True
    y_clauses = y.clauses(full=False)
    top = union.n_vars
    breaks: dict[tuple[int, ...], int] = {}
    with Glucose4(bootstrap_with=x.clauses(full=False)) as candidates, Glucose4(bootstrap_with=y_clauses) as checker:
        while True:
            candidates.set_phases([-v for v in shared])
            if not watchdog.solve(candidates):
                return None
            model = cast("list[int]", candidates.get_model())
            restriction = [model[v - 1] for v in shared]
            checker.set_phases([-v for v in range(1, union.n_features + 1)])
            if not watchdog.solve(checker, restriction):
                return _witness(union, _shrunk(checker, restriction, deadline, watchdog))
            extension = cast("list[int]", checker.get_model())
            selectors = set()
            for clause in _reduce(y_clauses, extension, is_shared):
                if clause not in breaks:  # one selector per distinct clause: "s breaks this clause"
                    top += 1
                    breaks[clause] = top
                    for lit in clause:
                        candidates.add_clause([-top, -lit])
                selectors.add(breaks[clause])
            candidates.add_clause(sorted(selectors))


def _shrunk(checker: Glucose4, restriction: list[int], deadline: float, watchdog: Watchdog) -> list[int]:
    """The failed assumptions that matter; all of ``restriction`` when time ran out (still a witness)."""
    try:
        return essential_literals(checker, restriction, deadline, watchdog)
    except NotDecided:
        return restriction


def _reduce(clauses: list[Clause], extension: list[int], is_shared: list[bool]) -> list[tuple[int, ...]]:
    """Y's clauses with the non-shared values of ``extension`` plugged in (those it satisfies dropped)."""
    out: list[tuple[int, ...]] = []
    for clause in clauses:
        kept: list[int] = []
        for lit in clause:
            if is_shared[abs(lit)]:
                kept.append(lit)
            elif extension[abs(lit) - 1] == lit:
                break
        else:
            out.append(tuple(sorted(kept)))
    return out


def _witness(union: Union, core: list[int]) -> Difference:
    """The shared features the checker's failed assumptions name: no configuration of Y has these values."""
    on = [union.names[lit - 1] for lit in core if lit > 0]
    off = [union.names[-lit - 1] for lit in core if lit < 0]
    reason = "no configuration of the other version"
    if on:
        reason += " selects " + ", ".join(on)
    if off:
        reason += (" while deselecting " if on else " deselects ") + ", ".join(off)
    return Difference(tuple(on), tuple(off), reason)
