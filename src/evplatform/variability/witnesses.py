"""Witness configurations kept across a configurator session, so each decision costs only its neighbourhood.

The complete answer to a decision is the backbone under the decisions: a feature is open only
if one valid configuration selects it and another does not. Re-proving that for every feature
after each click costs the whole model (~17k local moves on Automotive02 v4, ~0.3 s). But a
decision changes little: one *base* configuration is kept valid (repaired by one local move, or
a SAT call guided by the base's phases), and each open feature keeps a *witness* — the set of
changes that flips it in the base — filed under keys that say which relations those changes
can touch (``LocalMoves.witness_keys``). A witness none of whose keys the base's repair hits
(``LocalMoves.conflict_keys``) is still valid on the repaired base (no relation sees both
changes), so only witnesses near the decision are redone. A retracted decision keeps the base
and the witnesses (fewer decisions keep every configuration valid) and re-proves only what was
fixed.

Soundness does not depend on the heuristics: every feature called open has a base and a witness
that are valid configurations under the current decisions, and every feature called fixed is
proven by an unsatisfiable SAT call.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from pysat.solvers import Solver

from evplatform.variability.cnf import CNF
from evplatform.variability.local_moves import LocalMoves


class NoConfiguration(Exception):
    """The decisions admit no valid configuration (the caller explains why)."""


class WitnessStore:
    """A base configuration valid under the decisions, plus one witness per open feature.

    ``fixed`` holds literals proven by SAT under the decisions (unit propagation's are the
    caller's); they stay fixed when decisions are added.
    """

    def __init__(self, cnf: CNF, solver: Solver, moves: LocalMoves | None) -> None:
        self.cnf, self.solver, self.moves = cnf, solver, moves
        # Without a source model the relations are clauses, which auxiliary variables take part in too.
        self.n = cnf.n_features if moves is not None else cnf.n_vars
        self._signed = np.arange(1, self.n + 1, dtype=np.int64)
        self.decisions: frozenset[int] = frozenset()
        self.fixed: set[int] = set()
        self.base = np.zeros(self.n + 1, dtype=bool)  # base[v]: the base selects feature v
        # A witness is one change set of the base, shared by every open feature it flips:
        # its keys (where its changes sit) are filed once, however many features it covers.
        self.witness: dict[int, int] = {}  # feature variable → witness id
        self.covers: dict[int, set[int]] = {}  # witness id → feature variables it witnesses
        self.keys: dict[int, set[int]] = {}  # witness id → its keys
        self.index: dict[int, set[int]] = {}  # key → witness ids filed under it
        # A SAT witness also keeps its whole solution: valid on its own while it agrees with
        # every decision, whatever happens to the base.
        self.solutions: dict[int, np.ndarray] = {}  # witness id → features it selects (index v-1)
        self._next_id = 0
        self.walkers: dict[int, LocalMoves] = {}  # witness id → a walker on its solution (made on first repair)
        self.started = False
        self.occurrences: list[list[int]] | None = None if moves is not None else _occurrences(cnf)

    # --- decisions ---------------------------------------------------------------------

    def decide(self, decisions: list[int]) -> None:
        """Bring the base to the decisions: repair it when they extend the last ones, else start over."""
        wanted = frozenset(decisions)
        if not self.started:
            self._restart(decisions)
            return
        if not self.decisions <= wanted:
            self._relax(self.decisions & wanted)
        for lit in decisions:
            if lit not in self.decisions:
                self._add(lit)

    def _relax(self, kept: frozenset[int]) -> None:
        """Decisions taken back: fewer decisions keep every configuration valid, so the base and the
        witnesses stay; only the proofs of fixed literals go (they may be open now)."""
        self.decisions = kept
        self.fixed = set()
        self._freeze()

    def _restart(self, decisions: list[int]) -> None:
        self.started = False  # until the base exists: a failed solve must not leave a half-made store
        model = self._solve(decisions, None)
        self.decisions, self.fixed = frozenset(decisions), set()
        self.witness, self.covers, self.keys, self.index, self.solutions = {}, {}, {}, {}, {}
        self.walkers = {}
        self._set_base(model)
        self._freeze()
        self.started = True

    def _add(self, lit: int) -> None:
        """One more decision: repair the base and the kept solutions, drop the witnesses it may break."""
        v = abs(lit)
        name = self.cnf.names[v - 1]
        before = self.decisions
        changed: list[int] = []
        if self.base[v] != (lit > 0):
            changed = self._repair_base(lit, name, before)  # first: it raises when nothing is left
        self.decisions = before | {lit}
        self._forget(v)
        self._repair_solutions(lit, name, before)
        self._freeze()
        self._invalidate([v, *changed])
        self._drop_stale_covers()

    def _repair_base(self, lit: int, name: str, before: frozenset[int]) -> list[int]:
        """Make the base satisfy ``lit``: one local move, else a SAT solution close to it; the variables changed.

        The walker's frozen features are still the decisions ``before`` ``lit``: its own feature may move.
        """
        if self.moves is not None:
            changed = self.moves.move(name, select=lit > 0)
            if changed is not None:
                flipped = [self.cnf.var[changed_name] for changed_name in changed]
                self.base[flipped] = ~self.base[flipped]
                return flipped
        model = self._solve([*before, lit], self._base_literals())
        old = self.base.copy()
        self._set_base(model)
        changed_vars: list[int] = np.flatnonzero(old != self.base).tolist()
        return changed_vars

    def _repair_solutions(self, lit: int, name: str, before: frozenset[int]) -> None:
        """Kept SAT solutions that contradict ``lit``: repaired by one local move, or given up."""
        v = abs(lit)
        frozen = self._decided_names(before)
        for wid, chosen in list(self.solutions.items()):
            if chosen[v - 1] == (lit > 0):
                continue
            if self.moves is not None:
                walker = self.walkers.get(wid)
                if walker is None:
                    walker = self.walkers[wid] = self.moves.fork(self._names_of(chosen))
                walker.frozen = frozen
                moved = walker.move(name, select=lit > 0)
                if moved is not None:
                    for moved_name in moved:
                        u = self.cnf.var[moved_name] - 1
                        chosen[u] = not chosen[u]
                    continue
            self.solutions.pop(wid)  # still a witness if its change of the base survives the repair
            self.walkers.pop(wid, None)
            if wid not in self.keys:
                self._drop(wid)

    def _drop_stale_covers(self) -> None:
        """A witness known only by its solution covers the features where that solution differs from the base."""
        for wid, chosen in list(self.solutions.items()):
            if wid in self.keys:
                continue
            same = [v for v in self.covers.get(wid, ()) if chosen[v - 1] == self.base[v]]
            for v in same:
                self._forget(v)

    def _decided_names(self, decisions: frozenset[int]) -> set[str]:
        return {self.cnf.names[abs(d) - 1] for d in decisions}

    def _freeze(self) -> None:
        """The base's walker may not change decided features: kept equal to the current decisions."""
        if self.moves is not None:
            self.moves.frozen = self._decided_names(self.decisions)

    def _names_of(self, chosen: np.ndarray) -> set[str]:
        names = self.cnf.names
        return {names[i] for i in np.flatnonzero(chosen[: self.cnf.n_features])}

    def _invalidate(self, variables: list[int]) -> None:
        """Drop every witness that touches a relation these (changed or decided) variables are in."""
        for v in variables:
            self._forget(v)
        for key in self._keys(variables, conflict=True):
            for wid in list(self.index.get(key, ())):
                if wid in self.solutions:
                    self._unfile(wid)  # no longer a change of the base, still a valid solution
                else:
                    self._drop(wid)

    # --- witnesses ---------------------------------------------------------------------

    def open_without_witness(self, open_vars: Iterable[int]) -> list[int]:
        """The open feature variables that still need a witness (not proven fixed either)."""
        fixed_vars = {abs(lit) for lit in self.fixed}
        return [v for v in open_vars if v not in self.witness and v not in fixed_vars]

    def probe(self, candidates: list[int]) -> list[int]:
        """Witness candidates by local moves from the base; the candidates left for SAT."""
        moves = self.moves
        if moves is None:
            return candidates
        names, var = self.cnf.names, self.cnf.var
        todo = set(candidates)
        for v in sorted(candidates, reverse=True):
            if v not in todo:
                continue
            changed = moves.probe(names[v - 1], select=not self.base[v])
            if changed is None:
                continue
            flipped = [u for u in (var[name] for name in changed) if u in todo]
            todo.difference_update(flipped)
            self._remember(flipped, moves.witness_keys(changed))
        return [v for v in candidates if v in todo]

    def prove(self, candidates: list[int]) -> set[int]:
        """SAT rounds over the candidates: witnesses for the open ones, the fixed literals returned.

        Each round asks for a solution flipping at least one candidate (phases: base for every
        feature, the opposite for candidates, so one solution flips as many as it can); the
        unsatisfiable round proves the rest fixed at once.
        """
        todo = set(candidates)
        solver = self.solver
        while todo:
            phases = self._base_literals()
            for v in todo:
                phases[v - 1] = -phases[v - 1]
            solver.set_phases(phases)
            activation = _fresh(solver)
            solver.add_clause([-activation, *(phases[v - 1] for v in todo)])
            found = solver.solve(assumptions=[*self.decisions, activation])
            solver.add_clause([-activation])
            if not found:
                proven = {v if self.base[v] else -v for v in todo}
                self.fixed |= proven
                return proven
            model = np.asarray((solver.get_model() or [])[: self.n], dtype=np.int64) > 0
            flipped = [v for v in todo if model[v - 1] != self.base[v]]
            diff = np.flatnonzero(model != self.base[1:]) + 1
            todo.difference_update(flipped)
            wid = self._remember(flipped, self._keys(diff.tolist(), conflict=False))
            if wid is not None:
                self.solutions[wid] = model
        return set()

    def example(self) -> frozenset[str]:
        """The base: a valid configuration under the decisions."""
        return frozenset(self._names_of(self.base[1:]))

    # --- bookkeeping -------------------------------------------------------------------

    def _remember(self, flipped: list[int], keys: set[int]) -> int | None:
        """File one change set of the base as the witness of the open features it flips (its id)."""
        if not flipped:
            return None
        for v in flipped:
            self._forget(v)
        wid = self._next_id
        self._next_id += 1
        self.covers[wid], self.keys[wid] = set(flipped), keys
        for v in flipped:
            self.witness[v] = wid
        for key in keys:
            self.index.setdefault(key, set()).add(wid)
        return wid

    def _forget(self, v: int) -> None:
        wid = self.witness.pop(v, None)
        if wid is not None:
            covered = self.covers[wid]
            covered.discard(v)
            if not covered:
                self._drop(wid)

    def _drop(self, wid: int) -> None:
        """A witness no longer valid (or no longer needed): its features need a new one."""
        for v in self.covers.pop(wid, ()):
            self.witness.pop(v, None)
        self.solutions.pop(wid, None)
        self.walkers.pop(wid, None)
        self._unfile(wid)

    def _unfile(self, wid: int) -> None:
        for key in self.keys.pop(wid, ()):
            holders = self.index.get(key)
            if holders is not None:
                holders.discard(wid)

    def _keys(self, variables: list[int], conflict: bool) -> set[int]:
        """Keys a change set is filed under, or (``conflict``) the keys it invalidates."""
        if self.moves is not None:
            names = [self.cnf.names[u - 1] for u in variables]
            return self.moves.conflict_keys(names) if conflict else self.moves.witness_keys(names)
        occurrences = self.occurrences
        if occurrences is None:
            raise AssertionError("cannot happen")  # an invariant, kept under python -O
        return {c for u in variables for c in occurrences[u]}

    def _base_literals(self) -> list[int]:
        literals: list[int] = np.where(self.base[1:], self._signed, -self._signed).tolist()
        return literals

    def _set_base(self, model: list[int]) -> None:
        self.base = np.zeros(self.n + 1, dtype=bool)
        self.base[1:] = np.asarray(model[: self.n], dtype=np.int64) > 0
        if self.moves is not None:
            self.moves.reset(set(self.example()))

    def _solve(self, assumptions: list[int], phases: list[int] | None) -> list[int]:
        if phases is not None:
            self.solver.set_phases(phases)
        if not self.solver.solve(assumptions=list(assumptions)):
            raise NoConfiguration()
        return self.solver.get_model() or []


def _fresh(solver: Solver) -> int:
    """A variable the solver has not seen (activation literals for one round)."""
    return int(solver.nof_vars()) + 1


def _occurrences(cnf: CNF) -> list[list[int]]:
    """Per variable, the clauses it occurs in: the relations of a CNF without a source model."""
    out: list[list[int]] = [[] for _ in range(cnf.n_vars + 1)]
    for index, clause in enumerate(cnf.clauses):
        for lit in clause:
            out[abs(lit)].append(index)
    return out
