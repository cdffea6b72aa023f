"""SAT analyses of a feature model: valid, core, dead, false-optional, atomic sets, redundant constraints.

Conventions (compare like with like when checking against other tools):

- Every feature is a variable, **abstract features included**, and **the root is included**:
  the root of a non-void model is always a core feature (flamapy does the same).
- Results list feature names in model order (the CNF's variable order).
- A **void** model (no valid configuration): every feature is dead and none is core (FeatureIDE's
  convention; flamapy returns empty lists there); false-optional, atomic sets and redundant
  constraints are empty.
- **False-optional**: a non-root feature that is not mandatory in the tree (its group does not
  require every child: optional children, or/alternative/cardinality group members) whose parent
  is not dead and which is selected in every configuration that selects its parent. flamapy also
  lists the children of dead parents (vacuously); we leave those out because they are dead.
- **Atomic sets** are semantic: features that are selected together in every valid
  configuration (``f ⇔ g``), a partition of the live (non-dead) features; the core features
  form one set with the root. flamapy's atomic sets follow mandatory edges of the tree only,
  so each of its sets (restricted to live features) lies inside one of ours.
- **Redundant constraints**: a set that can be removed *together* without changing the
  configurations. Each returned constraint is implied by the tree and the constraints kept;
  candidates are first found individually (implied by all the others), then confirmed
  greedily from the last constraint to the first so of two duplicates the first is kept.

Algorithms: one backbone computation gives core and dead (solution-based pruning: each
solution found removes every candidate it flips; phases are set to the opposite of the
candidates so a solve flips as many as it can; one "some candidate flips" clause under an
activation literal proves the rest at once). False-optional and atomic sets refine candidates
with the solutions found, then use one "some candidate is a counterexample" clause per round.
Glucose 4 is the solver (it beat CaDiCaL 1.7–6× on backbone work on this machine).
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import cast

from pysat.solvers import Glucose4

from evplatform.variability._watchdog import Watchdog
from evplatform.variability.cnf import CNF, ConstraintEncoder, VarAllocator, new_allocator, relations
from evplatform.variability.local_moves import LocalMoves, walk
from evplatform.variability.model import Constraint, FeatureModel, GroupKind


@dataclass(frozen=True)
class Backbone:
    """The literals fixed in every solution, restricted to features; ``solutions`` seen on the way."""

    valid: bool
    core: tuple[str, ...]
    dead: tuple[str, ...]
    solutions: tuple[tuple[int, ...], ...] = field(repr=False, default=())


class _Session:
    """One incremental solver over a CNF plus activation literals beyond its variables.

    With a ``watchdog``, each call is stopped at its deadline (raising ``NotDecided``).
    """

    def __init__(self, cnf: CNF, watchdog: Watchdog | None = None) -> None:
        self.cnf = cnf
        self.solver = Glucose4(bootstrap_with=cnf.clauses)
        self.top = cnf.n_vars
        self.watchdog = watchdog

    def __enter__(self) -> _Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.solver.delete()

    def new_var(self) -> int:
        self.top += 1
        return self.top

    def solve(self, assumptions: Iterable[int] = ()) -> list[int] | None:
        """A model (``model[v-1]`` is the literal of v) or ``None`` when unsatisfiable."""
        if self.watchdog is not None:
            if not self.watchdog.solve(self.solver, assumptions):
                return None
        elif not self.solver.solve(assumptions=list(assumptions)):
            return None
        return cast("list[int] | None", self.solver.get_model())

    def some(self, literals: Iterable[int]) -> int:
        """An activation literal ``a`` with the clause ``a ⇒ ∨ literals``; retire it with :meth:`retire`."""
        a = self.new_var()
        self.solver.add_clause([-a, *literals])
        return a

    def retire(self, activation: int) -> None:
        self.solver.add_clause([-activation])


def is_valid(cnf: CNF) -> bool:
    """Whether the model has at least one valid configuration."""
    with Glucose4(bootstrap_with=cnf.clauses) as solver:
        return bool(solver.solve())


def backbone(cnf: CNF, watchdog: Watchdog | None = None) -> Backbone:
    """Core and dead features in one backbone computation (stopped by ``watchdog``'s deadline, if given)."""
    model = cnf.source_model()
    n = cnf.n_features
    with _Session(cnf, watchdog) as session:
        first = session.solve()
        if first is None:
            return Backbone(False, (), tuple(cnf.feature_names()))
        solutions = [tuple(first[:n])]
        candidates = set(first[:n])
        repairer = LocalMoves(model, set(cnf.selected(first))) if model is not None else None
        walk_rate = walk(repairer, cnf, candidates) if repairer is not None else 0.0
        fixed = _failed_literals(session, sorted(candidates, key=abs))
        candidates -= fixed
        while candidates:
            started = time.perf_counter()
            session.solver.set_phases([-lit for lit in candidates])
            a = session.some(-lit for lit in candidates)
            solution = session.solve([a])
            session.retire(a)
            if solution is None:
                fixed |= candidates
                break
            solutions.append(tuple(solution[:n]))
            before = len(candidates)
            candidates = {lit for lit in candidates if solution[abs(lit) - 1] == lit}
            sat_rate = (before - len(candidates)) / max(time.perf_counter() - started, 1e-6)
            if repairer is not None and walk_rate > sat_rate and candidates:
                repairer.reset(set(cnf.selected(solution)))  # a new starting point: moves that failed may work now
                walk_rate = walk(repairer, cnf, candidates)
    names = cnf.names
    core = tuple(names[v - 1] for v in range(1, n + 1) if v in fixed)
    dead = tuple(names[v - 1] for v in range(1, n + 1) if -v in fixed)
    return Backbone(True, core, dead, tuple(solutions))


def _failed_literals(session: _Session, literals: list[int]) -> set[int]:
    """Literals whose negation unit propagation refutes: backbone literals, found without search."""
    fixed: set[int] = set()
    for lit in literals:
        ok, _ = session.solver.propagate(assumptions=[-lit])
        if not ok:
            fixed.add(lit)
            session.solver.add_clause([lit])
    return fixed


def core_features(cnf: CNF) -> list[str]:
    """Features selected in every valid configuration (the root included)."""
    return list(backbone(cnf).core)


def dead_features(cnf: CNF) -> list[str]:
    """Features selected in no valid configuration (every feature of a void model)."""
    return list(backbone(cnf).dead)


def _tree_mandatory(model: FeatureModel) -> set[str]:
    """Children whose group requires every child (mandatory, or a group [n..n] of n children)."""
    out: set[str] = set()
    for feature in model.features.values():
        for group in feature.groups:
            low, _ = group.bounds()
            if group.kind is GroupKind.MANDATORY or (group.kind is not GroupKind.OPTIONAL
                                                      and low == len(group.children) > 0):
                out.update(group.children)
    return out


def false_optional_features(model: FeatureModel, cnf: CNF, known: Backbone | None = None,  # noqa: C901 - one algorithm (pruning by solutions, then SAT)
                            watchdog: Watchdog | None = None) -> list[str]:
    """Optional-looking features that are selected whenever their parent is (see the module docstring)."""
    bb = known if known is not None else backbone(cnf, watchdog)
    if not bb.valid:
        return []
    core, dead = set(bb.core), set(bb.dead)
    mandatory = _tree_mandatory(model)
    result: set[str] = set()
    open_pairs: dict[str, tuple[int, int]] = {}
    for name, feature in model.features.items():
        parent = feature.parent
        if parent is None or name in mandatory or parent in dead or name in dead:
            continue
        if name in core:
            result.add(name)
        elif parent not in core:  # a core parent with a non-core child is a counterexample already
            open_pairs[name] = (cnf.var[parent], cnf.var[name])
    open_pairs = _drop_refuted(open_pairs, bb.solutions[-1:])
    if open_pairs and cnf.source_model() is not None and bb.solutions:
        repairer = LocalMoves(model, set(cnf.selected(list(bb.solutions[-1]))))
        for name in list(open_pairs):
            parent = model.features[name].parent
            if parent is None:
                raise AssertionError("cannot happen")  # an invariant, kept under python -O
            if parent not in repairer.chosen:
                repairer.move(parent, select=True)
            if parent in repairer.chosen and name in repairer.chosen:
                repairer.move(name, select=False)
            if parent in repairer.chosen and name not in repairer.chosen:
                del open_pairs[name]
    open_pairs = _drop_refuted(open_pairs, bb.solutions)
    if open_pairs:
        with _Session(cnf, watchdog) as session:
            witness = {name: session.new_var() for name in open_pairs}
            for name, (p, f) in open_pairs.items():
                session.solver.add_clause([-witness[name], p])
                session.solver.add_clause([-witness[name], -f])
            while open_pairs:
                a = session.some(witness[name] for name in open_pairs)
                solution = session.solve([a])
                session.retire(a)
                if solution is None:
                    break
                open_pairs = _drop_refuted(open_pairs, [solution])
        result.update(open_pairs)
    return [name for name in model.features if name in result]


def _drop_refuted(pairs: dict[str, tuple[int, int]], solutions: Iterable[tuple[int, ...] | list[int]]
                  ) -> dict[str, tuple[int, int]]:
    """Pairs (parent, feature) not refuted by a solution selecting the parent without the feature."""
    for solution in solutions:
        pairs = {n: (p, f) for n, (p, f) in pairs.items() if not (solution[p - 1] > 0 > solution[f - 1])}
    return pairs


def atomic_sets(model: FeatureModel, cnf: CNF, known: Backbone | None = None) -> list[list[str]]:
    """Partition of the live features into sets selected together in every configuration."""
    bb = known if known is not None else backbone(cnf)
    if not bb.valid:
        return []
    dead, core = set(bb.dead), set(bb.core)
    live = [v for v in range(1, cnf.n_features + 1) if cnf.names[v - 1] not in dead | core]
    classes = _refine([live], bb.solutions)
    if cnf.source_model() is not None and bb.solutions:
        classes = _split_by_moves(LocalMoves(model, set(cnf.selected(list(bb.solutions[-1])))), cnf, classes)
    with _Session(cnf) as session:
        rng = random.Random(0)  # noqa: S311 - solver phases, not secrets; random phases give diverse solutions; a fixed seed keeps runs repeatable
        drawn, before = 0, 0
        while drawn < RANDOM_SOLUTIONS and len(classes) > before * 1.01 and any(len(c) > 1 for c in classes):
            before = len(classes)  # batches of random solutions while they still split 1 % more classes
            for _ in range(RANDOM_BATCH):
                session.solver.set_phases([v if rng.random() < 0.5 else -v for v in live])
                solution = session.solve()
                if solution is None:
                    raise AssertionError("cannot happen")  # an invariant, kept under python -O
                classes = _refine(classes, [solution])
            drawn += RANDOM_BATCH
        classes = _confirm_classes(session, classes)
    names = cnf.names
    sets = [[names[v - 1] for v in sorted(c)] for c in classes]
    core_set = [name for name in model.features if name in core]
    return sorted([core_set, *sets] if core_set else sets, key=lambda s: cnf.var[s[0]])


RANDOM_SOLUTIONS = 512
RANDOM_BATCH = 32


def _confirm_classes(session: _Session, classes: list[list[int]]) -> list[list[int]]:
    """Prove each member equivalent to its class's first member, or split it off.

    Two assumption calls per member (``r ∧ ¬m``, ``¬r ∧ m``); a solution found refutes the pair
    and every other member it separates from ``r``, so most splits cost no call of their own.
    """
    done = [c for c in classes if len(c) == 1]
    pending = [c for c in classes if len(c) > 1]
    while pending:
        members = pending.pop()
        r, same, rest = members[0], [members[0]], []
        todo = members[1:]
        while todo:
            m = todo.pop()
            solution = session.solve([r, -m]) or session.solve([-r, m])
            if solution is None:
                same.append(m)
                continue
            rest.append(m)
            split = [v for v in todo if (solution[v - 1] > 0) != (solution[r - 1] > 0)]
            if split:  # the same solution separates these from r too: no call of their own
                rest.extend(split)
                todo = [v for v in todo if (solution[v - 1] > 0) == (solution[r - 1] > 0)]
        done.append(same)
        for part in _refine([rest], []) if rest else []:
            (pending if len(part) > 1 else done).append(part)
    return done


def _split_by_moves(repairer: LocalMoves, cnf: CNF, classes: list[list[int]]) -> list[list[int]]:
    """Split candidate classes with valid configurations reached by local moves (no SAT call).

    Invariant: members of a class agree in the current configuration, so the members a kept
    move changed are exactly the ones that leave their class (as a new class of their own).
    Classes are sets here, so a split costs the size of the change, not of the class.
    """
    members: list[set[int]] = [set(c) for c in classes]
    class_of = {v: i for i, c in enumerate(classes) for v in c}
    names, var = cnf.names, cnf.var
    i = 0
    while i < len(members):
        for v in sorted(members[i])[1:]:
            if v not in members[i] or len(members[i]) == 1:
                continue
            name = names[v - 1]
            changed = repairer.move(name, select=name not in repairer.chosen)
            moved: dict[int, list[int]] = {}
            for n in changed or ():
                u = var[n]
                if u in class_of:
                    moved.setdefault(class_of[u], []).append(u)
            for k, leaving in moved.items():
                if len(leaving) == len(members[k]):
                    continue  # the whole class flipped together: still one class
                members[k].difference_update(leaving)
                members.append(set(leaving))
                for u in leaving:
                    class_of[u] = len(members) - 1
        i += 1
    return [sorted(c) for c in members]


def _refine(classes: list[list[int]], solutions: Iterable[tuple[int, ...] | list[int]]) -> list[list[int]]:
    """Split every class by the value each solution gives its members."""
    for solution in solutions:
        out: list[list[int]] = []
        for members in classes:
            on = [v for v in members if solution[v - 1] > 0]
            off = [v for v in members if solution[v - 1] < 0]
            out.extend(part for part in (on, off) if part)
        classes = out
    return classes


def redundant_constraints(model: FeatureModel) -> list[Constraint]:
    """Constraints that can be removed together without changing the configurations (module docstring)."""
    var, alloc = new_allocator(model)
    hard: list[list[int]] = []
    selectors: list[int] = []
    gates: list[int] = []
    for relation, clauses in relations(_tree_only(model), var, alloc):
        del relation
        hard.extend(clauses)
    for constraint in model.constraints:
        s = alloc.new()
        selectors.append(s)
        hard.extend([-s, *c] for c in ConstraintEncoder(var, alloc, constraint).clauses())
        gates.append(_truth_gate(constraint, var, alloc, hard))
    cnf = CNF(alloc.top, hard, var, list(var), len(var))
    with _Session(cnf) as session:
        session.top = alloc.top
        if session.solve(selectors) is None:
            return []
        candidates = [i for i in range(len(selectors)) if _implied(session, selectors, gates, i, set())]
        removed: set[int] = set()
        for i in reversed(candidates):
            if _implied(session, selectors, gates, i, removed):
                removed.add(i)
    return [model.constraints[i] for i in sorted(removed)]


def _tree_only(model: FeatureModel) -> FeatureModel:
    return FeatureModel(model.root, model.features, [], model.source)


def _truth_gate(constraint: Constraint, var: dict[str, int], alloc: VarAllocator, out: list[list[int]]) -> int:
    """A variable defined as the truth value of ``constraint`` (definitions appended to ``out``)."""
    encoder = ConstraintEncoder(var, alloc, constraint)
    literal = encoder.literal(encoder.nnf(constraint.expr, True))
    out.extend(encoder.definitions)
    return literal


def _implied(session: _Session, selectors: list[int], gates: list[int], i: int, removed: set[int]) -> bool:
    """Whether constraint ``i`` follows from the tree and every other constraint not in ``removed``."""
    assumptions = [s if j != i and j not in removed else -s for j, s in enumerate(selectors)]
    return session.solve([*assumptions, -gates[i]]) is None
