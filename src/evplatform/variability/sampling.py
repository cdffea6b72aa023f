"""Samples of valid configurations: uniform random ones, and t-wise covering samples for testing.

**Random** (:func:`random_sample`): exactly uniform over the valid configurations. The CNF
(root units removed) is compiled to a d-DNNF by d4 and models are drawn top-down with exact
counts (see ``_ddnnf``); the encoding is count-preserving, so uniform over CNF models is
uniform over configurations. Seeded: same seed, same sample.

**t-wise** (:func:`twise_sample`, t = 1 or 2): YASA-style. Interactions (pairs of feature
literals) are taken feature by feature in a seeded random order; each is added to the first
candidate configuration that can take it — at once when the candidate's current solution
already satisfies it, else after a SAT check under the candidate's literals as assumptions —
or starts a new candidate; an interaction no valid configuration has is proven invalid (by
unit propagation or SAT) and excluded. Candidates are finally their solutions (complete,
valid). Several iterations with different orders keep the smallest sample, then
configurations whose interactions the others all cover are dropped. Interactions are over
the features that vary (not core, not dead): a pair with a core or dead feature is covered
exactly when the other literal is, which every pairwise sample covers.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from pysat.solvers import Solver

from evplatform.errors import VariabilityError
from evplatform.variability._ddnnf import compile_ddnnf
from evplatform.variability._decisions import SOLVER_NAME
from evplatform.variability.analysis import backbone
from evplatform.variability.cnf import CNF
from evplatform.variability.counting import reduce

Progress = Callable[[int, int], None]  # (done, total) features of the current iteration
MAX_PASSES = 20


def random_sample(cnf: CNF, n: int, seed: int = 0) -> list[frozenset[str]]:
    """``n`` configurations drawn uniformly at random (with replacement), reproducible by ``seed``."""
    if n < 0:
        raise VariabilityError(f"the sample size must be ≥ 0, got {n}")
    reduction = reduce(cnf)
    if reduction is None:
        raise VariabilityError("the feature model is void: it has no valid configuration to sample")
    rng = random.Random(seed)
    ddnnf = compile_ddnnf(reduction.clauses, len(reduction.used)) if reduction.clauses else None
    if ddnnf is not None and ddnnf.model_count() == 0:
        raise VariabilityError("the feature model is void: it has no valid configuration to sample")
    names = cnf.names
    out: list[frozenset[str]] = []
    for _ in range(n):
        chosen = {names[v - 1] for v in range(1, cnf.n_features + 1) if reduction.value[v] > 0}
        if ddnnf is not None:
            values = ddnnf.sample(rng)
            chosen.update(names[v - 1] for i, v in enumerate(reduction.used, start=1)
                          if values[i] and v <= cnf.n_features)
        chosen.update(names[v - 1] for v in reduction.free if v <= cnf.n_features and rng.random() < 0.5)
        out.append(frozenset(chosen))
    return out


@dataclass(frozen=True)
class TwiseSample:
    """A covering sample: ``coverage`` = covered / valid interactions (1.0 is full coverage)."""

    configs: list[frozenset[str]]
    coverage: float
    t: int
    covered: int
    valid: int
    invalid: int
    iterations: int


def twise_sample(cnf: CNF, t: int = 2, seed: int = 0, iterations: int = 3,
                 progress: Progress | None = None) -> TwiseSample:
    """A sample of valid configurations covering every valid t-wise interaction (t = 1 or 2)."""
    if t not in (1, 2):
        raise VariabilityError(f"t-wise sampling supports t = 1 or 2, got t = {t}")
    if iterations < 1:
        raise VariabilityError(f"iterations must be ≥ 1, got {iterations}")
    fixed = backbone(cnf)
    if not fixed.valid:
        raise VariabilityError("the feature model is void: it has no valid configuration to sample")
    constant = set(fixed.core) | set(fixed.dead)
    variables = [v for v in range(1, cnf.n_features + 1) if cnf.names[v - 1] not in constant]
    with Solver(name=SOLVER_NAME, bootstrap_with=cnf.clauses) as solver:
        builder = _Builder(cnf, solver, variables, t)
        best: np.ndarray | None = None
        rng = random.Random(seed)
        for _ in range(iterations):
            sample = builder.build(rng, progress)
            if best is None or len(sample) < len(best):
                best = sample
    assert best is not None
    best = _drop_redundant(best, t)
    covered, total = _coverage(best, t), builder.total_interactions()
    invalid = builder.invalid_count()
    valid = total - invalid
    solutions = [frozenset(fixed.core) | {cnf.names[variables[j] - 1] for j in np.flatnonzero(row)} for row in best]
    return TwiseSample(solutions, covered / valid if valid else 1.0, t, covered, valid, invalid, iterations)


class _Builder:
    """One YASA pass: candidates with committed literals (masks) and a current solution each."""

    def __init__(self, cnf: CNF, solver: Solver, variables: list[int], t: int) -> None:
        self.cnf, self.solver, self.variables, self.t = cnf, solver, variables, t
        self.m = len(variables)
        self.index = {v: j for j, v in enumerate(variables)}
        self.positions = np.asarray(variables, dtype=np.int64) - 1  # model[v-1] is variable v's literal
        self.vars_array = np.asarray(variables, dtype=np.int64)
        # invalid[a][b][i, j]: feature i = a together with feature j = b has no valid configuration
        self.invalid = np.zeros((2, 2, self.m, self.m), dtype=bool)
        for j, v in enumerate(variables):
            for a in (0, 1):
                _, implied = solver.propagate(assumptions=[v if a else -v])
                for lit in implied or ():
                    k = self.index.get(abs(lit))
                    if k is not None and k != j:
                        self.invalid[a, 0 if lit > 0 else 1, j, k] = True  # j=a forces k, so k=¬ is invalid
                        self.invalid[0 if lit > 0 else 1, a, k, j] = True

    def total_interactions(self) -> int:
        return 2 * self.m if self.t == 1 else 2 * self.m * (self.m - 1)

    def invalid_count(self) -> int:
        if self.t == 1:
            return 0
        upper = np.triu(np.ones((self.m, self.m), dtype=bool), 1)
        return int(sum((self.invalid[a, b] & upper).sum() for a in (0, 1) for b in (0, 1)))

    def _literal(self, j: int, a: int) -> int:
        v = self.variables[j]
        return v if a else -v

    def build(self, rng: random.Random, progress: Progress | None) -> np.ndarray:
        order = list(range(self.m))
        rng.shuffle(order)
        self.commit = np.zeros((0, 2, self.m), dtype=bool)  # commit[k, a, j]: candidate k has feature j = a
        self.solution = np.zeros((0, self.m), dtype=bool)
        self.literals: list[list[int]] = []
        position = np.empty(self.m, dtype=np.int64)
        position[order] = np.arange(self.m)
        for _ in range(MAX_PASSES):  # solutions move when candidates take new pairs: repeat until stable
            before = (len(self.solution), sum(len(x) for x in self.literals))
            for step, i in enumerate(order):
                later = np.flatnonzero(position > position[i]) if self.t == 2 else np.array([], dtype=np.int64)
                for a in (1, 0):
                    if self.t == 1:
                        self._cover_literal(i, a)
                    else:
                        self._cover_pairs(i, a, later)
                if progress is not None:
                    progress(step + 1, self.m)
            if (len(self.solution), sum(len(x) for x in self.literals)) == before:
                return self.solution.copy()
        raise VariabilityError(f"t-wise sampling did not settle in {MAX_PASSES} passes")  # pragma: no cover

    def _cover_literal(self, i: int, a: int) -> None:
        if not (self.solution[:, i] == bool(a)).any():
            self._place([(i, a)])

    def _cover_pairs(self, i: int, a: int, later: np.ndarray) -> None:
        if later.size == 0:
            self._cover_literal(i, a)
            return
        for b in (1, 0):
            todo = later[~self.invalid[a, b, i, later]]
            while todo.size:
                todo = self._uncovered(i, a, b, todo)
                if todo.size:
                    self._place([(i, a), (int(todo[0]), b)])  # its new solution may cover many of the rest
                    todo = todo[1:]

    def _uncovered(self, i: int, a: int, b: int, todo: np.ndarray) -> np.ndarray:
        """The pairs no candidate's current solution has yet (lazy: re-checked in later passes)."""
        rows = np.flatnonzero(self.solution[:, i] == bool(a))
        if not rows.size:
            return todo
        fits = self.solution[np.ix_(rows, todo)] == bool(b)
        return todo[~fits.any(axis=0)]

    def _commit(self, k: int, j: int, a: int) -> None:
        if not self.commit[k, a, j]:
            self.commit[k, a, j] = True
            self.literals[k].append(self._literal(j, a))

    def _place(self, literals: list[tuple[int, int]]) -> None:
        """Add the interaction to the first candidate that can take it, or start a new one."""
        new = [self._literal(j, a) for j, a in literals]
        clash = np.zeros(len(self.solution), dtype=bool)
        for j, a in literals:  # unit propagation already rules these candidates out: no SAT call
            clash |= self.commit[:, 1 - a, j]
            clash |= (self.commit[:, 1] & self.invalid[a, 1, j]).any(axis=1)
            clash |= (self.commit[:, 0] & self.invalid[a, 0, j]).any(axis=1)
        for k in np.flatnonzero(~clash).tolist():
            self.solver.set_phases(np.where(self.solution[k], self.vars_array, -self.vars_array).tolist())
            if self.solver.solve(assumptions=self.literals[k] + new):
                self._set(k, literals)
                return
        if not self.solver.solve(assumptions=new):
            if len(literals) == 1:  # pragma: no cover - the literal of a varying feature is always possible
                raise VariabilityError(f"internal: literal {new[0]} of a varying feature has no configuration")
            (i, a), (j, b) = literals
            self.invalid[a, b, i, j] = self.invalid[b, a, j, i] = True
            return
        self.commit = np.concatenate([self.commit, np.zeros((1, 2, self.m), dtype=bool)])
        self.solution = np.concatenate([self.solution, np.zeros((1, self.m), dtype=bool)])
        self.literals.append([])
        self._set(len(self.solution) - 1, literals)

    def _set(self, k: int, literals: list[tuple[int, int]]) -> None:
        model = self.solver.get_model() or []
        self.solution[k] = np.asarray(model, dtype=np.int64)[self.positions] > 0
        for j, a in literals:
            self._commit(k, j, a)


def _pair_counts(sample: np.ndarray) -> list[np.ndarray]:
    """For (a, b) in TT, TF, FT, FF: how many configurations have feature i = a and j = b."""
    x = sample.astype(np.float32)
    y = 1.0 - x
    return [x.T @ x, x.T @ y, y.T @ x, y.T @ y]


def _coverage(sample: np.ndarray, t: int) -> int:
    """Interactions covered by the sample (t = 1: literals; t = 2: pairs of features i < j)."""
    if t == 1:
        return int(sample.any(axis=0).sum() + (~sample).any(axis=0).sum())
    m = sample.shape[1]
    upper = np.triu(np.ones((m, m), dtype=bool), 1)
    return int(sum(((c > 0) & upper).sum() for c in _pair_counts(sample)))


def _drop_redundant(sample: np.ndarray, t: int) -> np.ndarray:
    """Drop configurations (fewest selected features first) whose interactions the rest all cover.

    Keeps per-pair counts and removes a configuration only if none of its pairs has count 1,
    so each check costs the configuration's own pairs, not a recount of the whole sample.
    """
    if t == 1:
        keep = list(range(len(sample)))
        for k in sorted(keep, key=lambda k: int(sample[k].sum())):
            trial = [r for r in keep if r != k]
            if trial and _coverage(sample[trial], t) == _coverage(sample[keep], t):
                keep = trial
        return sample[keep]
    counts = _pair_counts(sample)
    kept = set(range(len(sample)))
    for k in sorted(kept, key=lambda k: int(sample[k].sum())):
        if len(kept) == 1:
            break
        sides = [np.flatnonzero(sample[k]), np.flatnonzero(~sample[k])]
        blocks = [(sides[0], sides[0]), (sides[0], sides[1]), (sides[1], sides[0]), (sides[1], sides[1])]
        unique = False
        for c, (rows, cols) in zip(counts, blocks, strict=True):
            block = c[np.ix_(rows, cols)] == 1
            if rows is cols:
                np.fill_diagonal(block, False)  # a feature paired with itself is no interaction
            if block.any():
                unique = True
                break
        if not unique:
            kept.discard(k)
            for c, (rows, cols) in zip(counts, blocks, strict=True):
                c[np.ix_(rows, cols)] -= 1
    return sample[sorted(kept)]
