"""t-wise covering samples of valid configurations (t = 1 or 2), for testing variants.

**t-wise** (:func:`twise_sample`, t = 1 or 2): interactions are over the features that vary
(not core, not dead): a pair with a core or dead feature is covered exactly when the other literal
is, which every pairwise sample covers. Literals are numbered ``2j + 1`` (feature j selected) and
``2j`` (deselected); a matrix of the pairs unit propagation already rules out is built once.

1. *Exclusive sets*: greedy cliques of that matrix, sets of literals of which at most one holds
   (alternative groups, plus the parent's negation when the parent is optional). The valid pairs
   across the two largest are mutually exclusive, so their number is a lower bound on any
   full-coverage sample (:func:`pairwise_lower_bound`) and they seed one configuration each,
   with the next sets (each feature in one set only, so they are distinct groups) laid out
   orthogonally over that grid (``(i + k·j) mod q``): their cross pairs come almost for free.
2. *Placement* (YASA-style): each interaction no configuration's current solution has yet goes to
   a candidate that can take it — candidates whose unit-propagation closure contradicts it are
   skipped for free, the others tried by propagation and then SAT (under the candidate's
   committed literals, phases from its solution) — or opens a new candidate, or is proven
   invalid and excluded. Solutions move as candidates take pairs, so passes repeat until none is
   left; pair counts come from one matrix product, updated by the rows that moved.
3. *Improvement* (each further iteration, ``IMPROVE_ROUNDS`` rounds): drop the configurations that
   alone cover the fewest pairs, keep as commits of the others only the pairs each alone covers,
   and cover again; the smallest complete sample is kept. Last, configurations whose pairs the
   others all cover are dropped.

Deterministic for a given seed. The coverage reported is counted from the final sample.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

import numpy as np
from pysat.solvers import Solver

from evplatform.errors import VariabilityError
from evplatform.variability._decisions import SOLVER_NAME
from evplatform.variability.analysis import backbone
from evplatform.variability.cnf import CNF
from evplatform.variability.interactions import InteractionSpace, cross_pair_bound, disjoint_sets, exclusive_sets

Progress = Callable[[int, int], None]  # (done, total) interactions of the current pass
MAX_PASSES = 20  # passes of general placement before the rest only open new candidates
PROBES = 40  # candidates tried (unit propagation, then SAT) for one interaction
UP_TRIES = 4  # candidates refused by unit propagation before the pair's validity is checked
DROP_SHARE = 0.07  # configurations an improvement round drops and re-covers
IMPROVE_ROUNDS = 3  # improvement rounds per iteration after the first
SELECT_PHASE = 0.5  # chance that a new configuration's solver phase selects a feature
WANTED_FROM = 5000  # uncovered pairs from which solves lean towards the others
MOVED_LIMIT = 64  # moved rows up to which pair counts are updated, not recomputed
SAT_TRIES = 3  # failed SAT calls before an interaction opens a new candidate


@dataclass(frozen=True)
class TwiseSample:
    """A covering sample: ``coverage`` = covered / valid interactions (1.0 is full coverage).

    ``lower_bound`` is :func:`pairwise_lower_bound`'s figure for t = 2 (how far from optimal the
    size can be at most), 0 for t = 1.
    """

    configs: list[frozenset[str]]
    coverage: float
    t: int
    covered: int
    valid: int
    invalid: int
    iterations: int
    lower_bound: int = 0


def twise_sample(cnf: CNF, t: int = 2, seed: int = 0, iterations: int = 3,
                 progress: Progress | None = None) -> TwiseSample:
    """A sample of valid configurations covering every valid t-wise interaction (t = 1 or 2).

    ``iterations``: the first builds a sample, each further one runs ``IMPROVE_ROUNDS`` rounds
    of drop-and-re-cover on it; the smallest complete sample is returned (when rounds follow,
    the build stops after one pass: its later passes would add rows the rounds drop again).
    ``lower_bound`` in the result is :func:`pairwise_lower_bound`'s figure, computed on the way.
    """
    if t not in (1, 2):
        raise VariabilityError(f"t-wise sampling supports t = 1 or 2, got t = {t}")
    if iterations < 1:
        raise VariabilityError(f"iterations must be ≥ 1, got {iterations}")
    fixed = backbone(cnf)
    if not fixed.valid:
        raise VariabilityError("the feature model is void: it has no valid configuration to sample")
    with Solver(name=SOLVER_NAME, bootstrap_with=cnf.clauses) as solver:
        space = InteractionSpace.build(cnf, solver, fixed)
        sets = exclusive_sets(space) if t == 2 else []
        bound = cross_pair_bound(space, solver, sets) if t == 2 else 0
        builder = _Builder(space, solver, t, seed, progress)
        rounds = IMPROVE_ROUNDS * (iterations - 1) if t == 2 else 0
        best: np.ndarray | None = builder.build(sets, complete=rounds == 0)
        for _ in range(rounds):
            sample = builder.improve()
            if best is None or len(sample) < len(best):
                best = sample
    if best is None:
        raise AssertionError("cannot happen")  # an invariant, kept under python -O
    if not len(best):  # nothing varies: the one configuration there is
        best = np.zeros((1, space.m), dtype=bool)
    best = _drop_redundant(best, t)
    covered, total, invalid = _coverage(best, t), space.interactions(t), space.invalid_count(t)
    valid = total - invalid
    names = cnf.names
    solutions = [frozenset(fixed.core) | {names[int(space.variables[j]) - 1] for j in np.flatnonzero(row)}
                 for row in best]
    return TwiseSample(solutions, covered / valid if valid else 1.0, t, covered, valid, invalid, iterations, bound)


def _prime_at_least(n: int) -> int:
    q = max(n, 2)
    while any(q % d == 0 for d in range(2, int(q**0.5) + 1)):
        q += 1
    return q


class _Builder:
    """Candidates with committed literals, their unit-propagation closure and a current solution each.

    Arrays are literal-code major (``fix[c, k]``, ``has[c, k]``) so the candidates that have or
    exclude a literal are one contiguous row; they grow by doubling.
    """

    def __init__(self, space: InteractionSpace, solver: Solver, t: int, seed: int, progress: Progress | None) -> None:
        self.space, self.solver, self.t, self.progress = space, solver, t, progress
        self.rng = np.random.default_rng(seed)
        self.k = 0
        self.fix = np.zeros((2 * space.m, 64), dtype=bool)  # the commits of k imply code c by unit propagation
        self.has = np.zeros((2 * space.m, 64), dtype=bool)  # the current solution of k has code c
        self.commits: list[list[int]] = []
        self.wanted: np.ndarray | None = None  # wanted[c, d]: the pair was uncovered when the pass began
        self.last_todo = WANTED_FROM + 1
        self.home: np.ndarray | None = None  # phases for new candidates while a dropped row's pairs are placed
        self.counts: tuple[np.ndarray, np.ndarray] | None = None  # x.T @ x and column sums of the solutions
        self.moved: dict[int, np.ndarray] = {}  # rows whose solution changed since, with the old one
        self.positions = space.variables - 1

    def sample(self) -> np.ndarray:
        """The current solutions: one row per configuration, one column per varying feature."""
        return self.has[1::2, :self.k].T.copy()

    def build(self, sets: list[np.ndarray], complete: bool = True) -> np.ndarray | None:
        """Seed from the exclusive sets (t = 2), then cover what is left.

        With ``complete=False`` (improvement rounds follow) only one pass is made and nothing is
        returned: the rows later passes would add are what the rounds drop again.
        """
        if self.t == 2:
            self._seed_grid(sets)
            self._place_set_pairs(sets)
        self._refill(None if complete else 1)
        return self.sample() if complete else None

    def improve(self) -> np.ndarray:
        """Drop the configurations that alone cover the fewest pairs, loosen the rest, cover again.

        Commits pile up while a sample is built and make candidates rigid; in hindsight a
        configuration only needs the literals of the pairs no other configuration has. The
        configurations left keep just those as commits, so the pairs of the dropped ones (and any
        that moving solutions lose) find room in them instead of in new configurations.
        """
        sample = self.sample()
        owner_pairs = _sole_pairs(sample)
        counts = np.bincount(owner_pairs[0], minlength=len(sample))
        dropped = np.argsort(counts, kind="stable")[:max(1, int(DROP_SHARE * len(sample)))].tolist()
        drop = set(dropped)
        keep = [k for k in range(len(sample)) if k not in drop]
        needed: list[set[int]] = [set() for _ in range(len(sample))]
        orphans: dict[int, list[list[int]]] = {k: [] for k in dropped}
        for k, c, d in zip(*owner_pairs, strict=True):
            needed[k].update((int(c), int(d)))
            if k in drop:
                orphans[k].append([int(c), int(d)])
        old_has = self.has[:, keep].copy()
        self.counts, self.moved, self.last_todo = None, {}, WANTED_FROM + 1
        self.k = 0
        self.fix[:] = False
        self.has[:] = False
        self.commits = []
        for column, k in enumerate(keep):
            row = self._new()
            self.has[:, row] = old_has[:, column]
            self.commits[row] = [self.space.dimacs(c) for c in sorted(needed[k])]
            _, implied = self.solver.propagate(assumptions=self.commits[row])
            self._set_fix(row, implied or [])
        for k in dropped:  # a dropped row's pairs together: what finds no room goes to one row like it
            self.home = sample[k]
            for codes in orphans[k]:
                if not self.has[codes, :self.k].all(axis=0).any():
                    self._place(codes)
        self.home = None
        self._refill()
        return self.sample()

    def _refill(self, passes: int | None = None) -> None:  # noqa: C901 - one algorithm (refill a dropped row's pairs)
        """Passes over the interactions no solution has until none is left (solutions move as they take pairs).

        A solution that moves can lose pairs only it had, so passes repeat; after ``MAX_PASSES``
        the rest go to new candidates only, which move no solution: the next pass finds none left.
        """
        order = self.rng.permutation(self.space.m)
        rank = np.empty(self.space.m, dtype=np.int64)
        rank[order] = np.arange(self.space.m)
        for number in itertools.count():
            if number == passes:
                return
            todo = self._uncovered(rank)
            if not todo:
                self.wanted = None
                return
            for step, codes in enumerate(todo):
                if self.progress is not None and step % 1000 == 0:
                    self.progress(step, len(todo))
                if self.has[codes, :self.k].all(axis=0).any():
                    continue
                if len(codes) == 2 and self.space.conflict[codes[0], codes[1]]:
                    continue
                if number < MAX_PASSES:
                    self._place(codes)
                elif self._possible(codes):
                    self._open([self.space.dimacs(c) for c in codes])
            if self.progress is not None:
                self.progress(len(todo), len(todo))

    def _seed_grid(self, sets: list[np.ndarray]) -> None:
        """One candidate per valid pair of the two largest exclusive sets, the next sets laid out orthogonally.

        Row (i, j) commits literal i of the first set, j of the second and, of set k ≥ 3, literal
        ``(i + (k - 2)·j) mod q`` (q the smallest prime ≥ both sizes): over the full q × q grid any two
        of these columns take every pair of values, so the cross pairs of up to q + 1 sets are
        covered by the |A|·|B| rows the bound needs anyway. A target that conflicts (unit propagation,
        then the SAT core) is dropped from the row and left to the general placement.
        """
        columns = disjoint_sets(sets)
        if len(columns) < 2:
            return
        first, second = columns[0], columns[1]
        q = _prime_at_least(max(len(first), len(second)))
        others = columns[2:q + 1]
        conflict = self.space.conflict
        for i in range(len(first)):
            for j in range(len(second)):
                hard = [int(first[i]), int(second[j])]
                if conflict[hard[0], hard[1]]:
                    continue
                targets = list(hard)
                for k, column in enumerate(others, start=1):
                    index = (i + k * j) % q
                    if index < len(column) and not conflict[int(column[index]), targets].any():
                        targets.append(int(column[index]))
                self._seed_row(hard, targets)

    def _seed_row(self, hard: list[int], targets: list[int]) -> None:
        """A new candidate committing the targets, less those a SAT core blames (soft ones first)."""
        space = self.space
        self.solver.set_phases(self._phases(self.rng.random(space.m) < SELECT_PHASE, []))
        while True:
            literals = [space.dimacs(c) for c in targets]
            if self.solver.solve(assumptions=literals):
                break
            core = set(self.solver.get_core() or literals)
            soft = [c for c in targets[2:] if space.dimacs(c) in core]
            if not soft:
                if not self.solver.solve(assumptions=[space.dimacs(c) for c in hard]):
                    space.mark_invalid(hard[0], hard[1])
                    return
                soft = targets[2:]
            targets.remove(soft[-1])
        self._open(literals)

    def _place_set_pairs(self, sets: list[np.ndarray]) -> None:
        """Cross pairs of the exclusive sets next, biggest products first: they are the tightest."""
        pairs: list[tuple[int, np.ndarray, np.ndarray]] = []
        for x, first in enumerate(sets):
            for second in sets[x + 1:]:
                second = second[~np.isin(second >> 1, first >> 1)]
                rows, cols = np.nonzero(~self.space.conflict[np.ix_(first, second)])
                pairs.append((len(rows), first[rows], second[cols]))
        pairs.sort(key=lambda p: -p[0])
        for _, lefts, rights in pairs:
            shuffle = self.rng.permutation(len(lefts))
            for c, d in zip(lefts[shuffle].tolist(), rights[shuffle].tolist(), strict=True):
                if not self.space.conflict[c, d] and not (self.has[c, :self.k] & self.has[d, :self.k]).any():
                    self._place([c, d])

    def _uncovered(self, rank: np.ndarray) -> list[list[int]]:
        """Interactions no current solution has and not proven invalid, in the pass's feature order.

        Also keeps them as ``wanted``, so a solve for one pair can lean towards the others.
        """
        m = self.space.m
        missing = np.flatnonzero(~self.has[:, :self.k].any(axis=1))
        literals = [[int(c)] for c in missing[np.argsort(rank[missing >> 1], kind="stable")]]
        if self.t == 1 or m == 1:  # (with one varying feature there are no pairs, but its literals count)
            return literals
        earlier = rank[:, None] < rank[None, :]  # feature i comes before j in this pass's order
        self.wanted = np.zeros((2 * m, 2 * m), dtype=bool) if self.last_todo > WANTED_FROM else None
        keys, lefts, rights = [], [], []
        for (a, b), count in zip(((1, 1), (1, 0), (0, 1), (0, 0)), self._pair_counts(), strict=True):
            open_ = (count < 0.5) & earlier & ~self.space.conflict[a::2, b::2]
            if self.wanted is not None:
                self.wanted[a::2, b::2] |= open_
                self.wanted[b::2, a::2] |= open_.T
            i, j = np.nonzero(open_)
            keys.append(rank[i] * m + rank[j])
            lefts.append(2 * i + a)
            rights.append(2 * j + b)
        order = np.argsort(np.concatenate(keys), kind="stable")
        self.last_todo = len(order)
        pairs = np.stack([np.concatenate(lefts)[order], np.concatenate(rights)[order]], axis=1)
        return cast("list[list[int]]", pairs.tolist())

    def _pair_counts(self) -> list[np.ndarray]:
        """:func:`_pair_counts` of the current solutions, updated from the last call by the rows that moved."""
        if self.counts is None or len(self.moved) > max(MOVED_LIMIT, self.k // 8):
            x = self.sample().astype(np.float32)
            self.counts = (x.T @ x, x.sum(axis=0))
        elif self.moved:
            rows = sorted(self.moved)
            new = self.has[1::2, rows].T.astype(np.float32)
            old = np.stack([self.moved[k] for k in rows]).astype(np.float32)
            both, ones = self.counts
            both += new.T @ new
            both -= old.T @ old
            ones += new.sum(axis=0) - old.sum(axis=0)
        self.moved = {}
        both, ones = self.counts
        return _four_counts(both, ones, float(self.k))

    def _place(self, codes: list[int]) -> None:
        """Add the interaction to a candidate that can take it, or start a new one, or prove it invalid.

        Candidates whose closure contradicts a consequence of the new literals are skipped without
        a call; the others are tried, those already holding the literals first, by unit propagation
        and then SAT, but only a few SAT failures are paid before opening a new candidate. When
        unit propagation refuses several, one SAT call first asks whether the pair is possible at all.
        """
        space, k_n = self.space, self.k
        consequences = np.concatenate([space.implied[c] for c in codes]) ^ 1
        candidates = np.flatnonzero(~self.fix[consequences, :k_n].any(axis=0))
        if candidates.size:
            rows = np.asarray(codes, dtype=np.int64)
            held = self.fix[np.ix_(rows, candidates)].sum(axis=0)
            score = 2 * held + self.has[np.ix_(rows, candidates)].sum(axis=0)
            candidates = candidates[np.argsort(-score, kind="stable")[:PROBES]]
        failures = 0
        for tried, k in enumerate(candidates.tolist()):
            if tried == UP_TRIES and len(codes) == 2 and not self._possible(codes):
                return
            new = [space.dimacs(c) for c in codes if not self.fix[c, k]]
            assumptions = self.commits[k] + new
            ok, implied = self.solver.propagate(assumptions=assumptions)
            if not ok:
                continue
            if not self.has[codes, k].all():
                self.solver.set_phases(self._phases(self.has[1::2, k], codes))
                if not self.solver.solve(assumptions=assumptions):
                    failures += 1
                    if failures >= SAT_TRIES:
                        break
                    continue
                self._set_solution(k)
            self.commits[k] += new
            self._set_fix(k, implied or [])
            return
        literals = [space.dimacs(c) for c in codes]
        start = self.rng.random(space.m) < SELECT_PHASE if self.home is None else self.home
        self.solver.set_phases(self._phases(start, codes))
        if not self.solver.solve(assumptions=literals):
            if len(codes) == 1:  # pragma: no cover - the literal of a varying feature is always possible
                raise VariabilityError(f"internal: literal {literals[0]} of a varying feature has no configuration")
            space.mark_invalid(codes[0], codes[1])
            return
        self._open(literals)

    def _possible(self, codes: list[int]) -> bool:
        """Whether some configuration has the interaction (its model is then the solver's); if not, record it."""
        if self.solver.solve(assumptions=[self.space.dimacs(c) for c in codes]):
            return True
        if len(codes) == 2:
            self.space.mark_invalid(codes[0], codes[1])
        return False

    def _open(self, literals: list[int]) -> None:
        """A new candidate committing ``literals``, with the solver's last model as its solution."""
        k = self._new()
        self.commits[k] = literals
        self._set_solution(k)
        _, implied = self.solver.propagate(assumptions=literals)
        self._set_fix(k, implied or [])

    def _new(self) -> int:
        if self.k == self.fix.shape[1]:
            self.fix = np.concatenate([self.fix, np.zeros_like(self.fix)], axis=1)
            self.has = np.concatenate([self.has, np.zeros_like(self.has)], axis=1)
        self.commits.append([])
        self.k += 1
        return self.k - 1

    def _phases(self, selected: np.ndarray, codes: list[int]) -> list[int]:
        """Phases from a solution, turned towards the literals still wanted together with the new ones."""
        if self.wanted is not None and codes:
            selected = selected.copy()
            for c in codes:  # only where one value is wanted: both wanted says nothing (e.g. at the start)
                up, down = self.wanted[c, 1::2], self.wanted[c, 0::2]
                selected[up & ~down] = True
                selected[down & ~up] = False
        return cast("list[int]", np.where(selected, self.space.variables, -self.space.variables).tolist())

    def _set_solution(self, k: int) -> None:
        if self.counts is not None and k not in self.moved:
            self.moved[k] = self.has[1::2, k].copy()  # a new row's column is all False: it adds nothing yet
        model = np.asarray(self.solver.get_model() or [], dtype=np.int64)
        selected = model[self.positions] > 0
        self.has[1::2, k] = selected
        self.has[0::2, k] = ~selected

    def _set_fix(self, k: int, implied: list[int]) -> None:
        codes = self.space.code_of[np.asarray(implied, dtype=np.int64) + self.space.n_vars]
        self.fix[:, k] = False
        self.fix[codes[codes >= 0], k] = True


def _sole_pairs(sample: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(configuration, code, code) for every pair exactly one configuration covers (t = 2).

    A count product and a product weighted by configuration number: where the count is 1 the
    weighted sum names the one configuration.
    """
    m = sample.shape[1]
    x = sample.astype(np.float32)
    weights = np.arange(1, len(sample) + 1, dtype=np.float32)[:, None]
    upper = np.triu(np.ones((m, m), dtype=bool), 1)
    owners, lefts, rights = [], [], []
    for a, left in ((1, x), (0, 1.0 - x)):
        for b, right in ((1, x), (0, 1.0 - x)):
            sole = ((left.T @ right) == 1) & upper
            i, j = np.nonzero(sole)
            owners.append(((left * weights).T @ right)[i, j].astype(np.int64) - 1)
            lefts.append(2 * i + a)
            rights.append(2 * j + b)
    return np.concatenate(owners), np.concatenate(lefts), np.concatenate(rights)


def _pair_counts(sample: np.ndarray) -> list[np.ndarray]:
    """For (a, b) in TT, TF, FT, FF: how many configurations have feature i = a and j = b (one product)."""
    x = sample.astype(np.float32)
    return _four_counts(x.T @ x, x.sum(axis=0), float(len(sample)))


def _four_counts(both: np.ndarray, ones: np.ndarray, n: float) -> list[np.ndarray]:
    """TT, TF, FT, FF pair counts from the TT counts, each feature's selections and the sample size."""
    return [both, ones[:, None] - both, ones[None, :] - both, n - ones[:, None] - ones[None, :] + both]


def _coverage(sample: np.ndarray, t: int) -> int:
    """Interactions covered by the sample (t = 1: literals; t = 2: pairs of features i < j)."""
    if t == 1:
        return int(sample.any(axis=0).sum() + (~sample).any(axis=0).sum())
    m = sample.shape[1]
    upper = np.triu(np.ones((m, m), dtype=bool), 1)
    return int(sum(((c > 0.5) & upper).sum() for c in _pair_counts(sample)))


def _drop_redundant(sample: np.ndarray, t: int) -> np.ndarray:
    """Drop configurations (fewest selected features first) whose interactions the rest all cover.

    For t = 2 a configuration is redundant when no pair has it as its only cover; one is dropped
    at a time (two redundant ones may share their pairs), recounting after each.
    """
    keep = list(range(len(sample)))
    if t == 1 or sample.shape[1] < 2:  # (one varying feature: its literals are what must stay covered)
        for k in sorted(keep, key=lambda k: int(sample[k].sum())):
            trial = [r for r in keep if r != k]
            if trial and _coverage(sample[trial], 1) == _coverage(sample[keep], 1):
                keep = trial
        return sample[keep]
    while len(keep) > 1:
        owners = np.bincount(_sole_pairs(sample[keep])[0], minlength=len(keep))
        spare = [k for k in range(len(keep)) if owners[k] == 0]
        if not spare:
            break
        del keep[min(spare, key=lambda k: int(sample[keep[k]].sum()))]
    return sample[keep]
