"""Decision propagation for an interactive configurator: what the user's choices force or forbid, and why.

Two answers, fast first:

1. **Unit propagation** (:meth:`Propagator.propagate_unit`, well under a millisecond on
   Automotive02 v4): our own watched-literal propagator keeps the clause that implied each
   literal, so every forced or forbidden feature has a reason — the model relation (parent,
   mandatory child, group, constraint with its line) and the decisions it follows from.
2. **The complete answer** (:meth:`Propagator.propagate`): the backbone under the decisions.
   A configurator session adds decisions one at a time, so the propagator keeps a
   :class:`~evplatform.variability.witnesses.WitnessStore`: one valid base configuration and,
   for every open feature, a witness (a local move or a SAT solution that flips it). A new
   decision repairs the base and re-proves only the witnesses near it; the features left are
   settled by SAT rounds with a persistent Glucose solver, the last, unsatisfiable one proving
   all remaining candidates fixed at once. On Automotive02 v4 a step costs milliseconds (see
   BENCHMARKS.md); retracting a decision keeps the base and witnesses, re-proving only what
   was fixed. A feature found only here gets as reason the smallest set of decisions that
   forces it (an unsatisfiable core under assumptions).

Forced/forbidden exclude the decisions themselves and include what the model alone fixes
(core and dead features: their reason lists no decisions).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from pysat.solvers import Solver

from evplatform.errors import VariabilityError
from evplatform.variability._decisions import SOLVER_NAME, decision_literals, describe, minimal_core
from evplatform.variability._unit import DECISION, DECISION_CONFLICT, UnitPropagator
from evplatform.variability.analysis import backbone
from evplatform.variability.cnf import CNF, new_allocator, relations
from evplatform.variability.local_moves import LocalMoves
from evplatform.variability.witnesses import NoConfiguration, WitnessStore


@dataclass(frozen=True)
class Reason:
    """Why a feature is forced (``value`` True) or forbidden: a model rule and the decisions behind it."""

    feature: str
    value: bool
    rule: str
    decisions: tuple[str, ...] = ()
    line: int | None = None
    """The line of the model file the rule comes from, when the rule is one relation of the model."""

    def __str__(self) -> str:
        state = "forced" if self.value else "forbidden"
        because = f" given {', '.join(self.decisions)}" if self.decisions else ""
        return f"{self.feature} is {state}: {self.rule}{because}"


@dataclass(frozen=True)
class Propagation:
    """The consequences of a set of decisions.

    ``complete`` is False for the unit-propagation answer (a subset of the truth: features it
    does not list may still be forced) and True for the backbone. ``example`` is one valid
    configuration satisfying the decisions (complete answers only).
    """

    forced: frozenset[str]
    forbidden: frozenset[str]
    complete: bool
    reasons: Mapping[str, Reason] = field(repr=False)
    example: frozenset[str] | None = field(default=None, repr=False)
    seconds: float = 0.0


class Reasons(Mapping[str, Reason]):
    """Reasons computed on first access: a step may force thousands of features, a person reads a few."""

    def __init__(self, names: Iterable[str], compute: Callable[[str], Reason]) -> None:
        self._names = frozenset(names)
        self._compute = compute
        self._done: dict[str, Reason] = {}

    def __getitem__(self, name: str) -> Reason:
        if name not in self._names:
            raise KeyError(name)
        if name not in self._done:
            self._done[name] = self._compute(name)
        return self._done[name]

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._names))

    def __len__(self) -> int:
        return len(self._names)


class Propagator:
    """Propagates decisions on one CNF; keep it for a configurator session (state is reused).

    Reasons of a result are computed lazily with this propagator's solver: read them before
    :meth:`close`.
    """

    def __init__(self, cnf: CNF) -> None:
        self.cnf = cnf
        self.unit = UnitPropagator(cnf.n_vars, cnf.clauses)
        self.rules = _clause_rules(cnf)
        self.solver = Solver(name=SOLVER_NAME, bootstrap_with=cnf.clauses)
        self._root: dict[int, int] | None = None
        self._witnesses: WitnessStore | None = None
        n = cnf.n_features
        base = [lit for lit in self.unit.base_trail if abs(lit) <= n]
        self._base_forced = frozenset(cnf.names[lit - 1] for lit in base if lit > 0)
        self._base_forbidden = frozenset(cnf.names[-lit - 1] for lit in base if lit < 0)

    def close(self) -> None:
        self.solver.delete()

    def __enter__(self) -> Propagator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- the fast answer ---------------------------------------------------------------

    def propagate_unit(self, selected: Iterable[str] = (), deselected: Iterable[str] = ()) -> Propagation:
        """What unit propagation derives; raises ``VariabilityError`` when it finds a contradiction."""
        start = time.perf_counter()
        decisions, value, reason, trail = self._unit_step(selected, deselected)
        forced, forbidden = self._unit_sets(trail, decisions)
        reasons = Reasons(forced | forbidden, lambda name: self._unit_reason(name, value, reason, decisions))
        return Propagation(forced, forbidden, False, reasons, None, time.perf_counter() - start)

    def _unit_step(self, selected: Iterable[str], deselected: Iterable[str]
                   ) -> tuple[list[int], list[int], list[int], list[int]]:
        """The decisions as literals and their unit propagation (value, reason, trail); a conflict raises."""
        decisions = decision_literals(self.cnf, selected, deselected)
        value, reason, trail, conflict = self.unit.propagate(decisions)
        if conflict is not None:
            raise self._contradiction(decisions)
        return decisions, value, reason, trail

    def _unit_sets(self, trail: list[int], decisions: list[int]) -> tuple[frozenset[str], frozenset[str]]:
        """Forced and forbidden features on the trail (root level cached), decisions left out."""
        n, names = self.cnf.n_features, self.cnf.names
        decided = {abs(d) for d in decisions}
        new = [lit for lit in trail[len(self.unit.base_trail):] if abs(lit) <= n and abs(lit) not in decided]
        forced = self._base_forced.union(names[lit - 1] for lit in new if lit > 0)
        forbidden = self._base_forbidden.union(names[-lit - 1] for lit in new if lit < 0)
        undecided = {names[v - 1] for v in decided}
        return forced - undecided, forbidden - undecided

    def _unit_reason(self, name: str, value: list[int], reason: list[int], decisions: list[int]) -> Reason:
        v = self.cnf.var[name]
        decided = {abs(d): d for d in decisions}
        behind = [decided[u] for u in self._decisions_behind(v, reason)]
        return Reason(name, value[v] > 0, self.rules(reason[v]), tuple(describe(self.cnf, [d]) for d in behind),
                      self.rules.line(reason[v]))

    def _decisions_behind(self, v: int, reason: list[int]) -> list[int]:
        """The decided variables the implication graph leads back to from variable ``v``."""
        seen = {v}
        stack = [v]
        found: list[int] = []
        clauses = self.unit.clauses
        while stack:
            u = stack.pop()
            why = reason[u]
            if why == DECISION:
                found.append(u)
                continue
            for lit in clauses[why]:
                w = abs(lit)
                if w not in seen:
                    seen.add(w)
                    stack.append(w)
        return sorted(found)

    # --- the complete answer -----------------------------------------------------------

    def propagate(self, selected: Iterable[str] = (), deselected: Iterable[str] = ()) -> Propagation:
        """The backbone under the decisions: every feature forced or forbidden, with reasons."""
        start = time.perf_counter()
        decisions, value, reason, trail = self._unit_step(selected, deselected)
        root = self._root_fixed()
        store = self._store()
        try:
            store.decide(decisions)
        except NoConfiguration:  # the store keeps the decisions it could take: the next step goes on from there
            raise self._contradiction(decisions) from None
        decided = {abs(d) for d in decisions}
        open_vars = [v for v in range(1, self.cnf.n_features + 1)
                     if value[v] == 0 and v not in root and v not in decided]
        left = store.probe(store.open_without_witness(open_vars))
        store.prove(left)
        unit_forced, unit_forbidden = self._unit_sets(trail, decisions)
        names = self.cnf.names
        fixed = {lit for lit in store.fixed if value[abs(lit)] == 0}
        fixed.update(lit for v, lit in root.items() if value[v] == 0 and v not in decided)
        forced = unit_forced.union(names[lit - 1] for lit in fixed if lit > 0)
        forbidden = unit_forbidden.union(names[-lit - 1] for lit in fixed if lit < 0)

        def explain(name: str) -> Reason:
            v = self.cnf.var[name]
            if value[v] != 0:
                return self._unit_reason(name, value, reason, decisions)
            if v in root:
                return Reason(name, root[v] > 0, "the model fixes it in every valid configuration")
            return self._core_reason(v if name in forced else -v, decisions)

        reasons = Reasons(forced | forbidden, explain)
        return Propagation(forced, forbidden, True, reasons, store.example(), time.perf_counter() - start)

    def _store(self) -> WitnessStore:
        """The session's witness store (base configuration and witnesses), made on first use."""
        if self._witnesses is None:
            model = self.cnf.source_model()
            moves = LocalMoves(model, set()) if model is not None else None
            self._witnesses = WitnessStore(self.cnf, self.solver, moves)
        return self._witnesses

    def _root_fixed(self) -> dict[int, int]:
        """Core and dead features of the model alone (variable → literal), computed once."""
        if self._root is None:
            found = backbone(self.cnf)
            var = self.cnf.var
            self._root = {var[n]: var[n] for n in found.core} | {var[n]: -var[n] for n in found.dead}
        return self._root

    def _core_reason(self, lit: int, decisions: list[int]) -> Reason:
        """The smallest set of decisions that forces ``lit`` (an unsatisfiable core under assumptions)."""
        name = self.cnf.names[abs(lit) - 1]
        rule = "every valid configuration with these decisions needs it"
        if self.solver.solve(assumptions=[*decisions, -lit]):
            raise VariabilityError(f"internal: {name} is not fixed by the decisions")  # pragma: no cover
        core = minimal_core(self.solver, [*decisions, -lit])
        words = tuple(describe(self.cnf, [d]) for d in core if d != -lit)
        return Reason(name, lit > 0, rule, words)

    def _contradiction(self, decisions: list[int]) -> VariabilityError:
        """The error for decisions no valid configuration satisfies, naming a minimal conflicting set."""
        if not self.solver.solve():
            return VariabilityError("the feature model is void: it has no valid configuration")
        if self.solver.solve(assumptions=decisions):  # pragma: no cover - unit propagation is sound
            return VariabilityError("internal: unit propagation found a conflict the solver does not confirm")
        core = minimal_core(self.solver, decisions)
        together = " together" if len(core) > 1 else " (the model forbids it)"
        return VariabilityError(f"contradictory decisions: no valid configuration can {describe(self.cnf, core)}"
                                + together)


class _Rules:
    """Clause index → the model rule it encodes, in words (``DECISION``: the user's choice)."""

    def __init__(self, texts: list[str] | None, cnf: CNF, lines: list[int | None] | None = None) -> None:
        self.texts = texts
        self.cnf = cnf
        self.lines = lines

    def line(self, index: int) -> int | None:
        """The source line of the relation clause ``index`` encodes (None: a decision, or unknown)."""
        if self.lines is None or index < 0 or index >= len(self.lines):
            return None
        return self.lines[index]

    def __call__(self, index: int) -> str:
        if index == DECISION:
            return "decided"
        if index == DECISION_CONFLICT:
            return "contradicting decisions"
        if self.texts is not None:
            return self.texts[index]
        return "clause " + " ∨ ".join(self._word(lit) for lit in self.cnf.clauses[index])

    def _word(self, lit: int) -> str:
        name = self.cnf.names[abs(lit) - 1] or f"x{abs(lit)}"
        return name if lit > 0 else f"¬{name}"


def _clause_rules(cnf: CNF) -> _Rules:
    """Relations of the source model clause by clause, when the CNF still is what ``encode`` made."""
    model = cnf.source_model()
    if model is None:
        return _Rules(None, cnf)
    var, alloc = new_allocator(model)
    texts: list[str] = []
    lines: list[int | None] = []
    for relation, clauses in relations(model, var, alloc):
        where = f" (line {relation.line})" if relation.line else ""
        texts.extend([relation.text + where] * len(clauses))
        lines.extend([relation.line or None] * len(clauses))
    if len(texts) != len(cnf.clauses):
        return _Rules(None, cnf)
    return _Rules(texts, cnf, lines)
