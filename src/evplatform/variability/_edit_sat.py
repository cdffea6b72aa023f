"""Two versions of a feature model over one variable space, and the SAT checks between them.

Both versions are encoded over the **union** of their features (shared names share a
variable). Each side's clauses come in two parts:

- *definitions*: full equivalences ``g ⇔ f(inputs)`` of auxiliary variables (sequential
  counters, Tseitin gates of constraints). Every assignment of the features extends to exactly
  one assignment of these, so they may stand as hard clauses under a negation, and the
  conjunction of both sides stays count-preserving;
- *requirements*: the rules themselves, each with the rule it came from (for explanations).
  Under the *full* semantics a side also requires each feature the other version has and it
  lacks to be deselected; a root missing from the other side is taken as selected there, since
  a root is selected in every configuration (renaming the root is a refactoring).

"Some configuration of X is not one of Y" is then ``defs_X ∧ reqs_X ∧ defs_Y ∧ ⋁ᵢ vᵢ`` with
``vᵢ ⇒ ¬reqᵢ(Y)`` — one SAT call instead of one per requirement (FeatureIDE's edit view
checks each clause of the other model separately; Thüm, Batory and Kästner, ICSE 2009, §4).
Requirements X has itself, or that unit propagation alone shows X implies (``X ∧ ¬reqᵢ``
conflicts at once: most of them when few things changed), are left out of the disjunction first: with all 74k
requirements of Automotive02 v4 in it, proving v4 ⇒ v4 took Glucose 788 s, against 1.6 s for
one call per requirement.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import cast

from pysat.solvers import Glucose4

from evplatform.variability._watchdog import NotDecided, Watchdog
from evplatform.variability.cnf import PAIRWISE_LIMIT, ConstraintEncoder, VarAllocator, normalise_clause
from evplatform.variability.model import FeatureModel, Group, GroupKind

Clause = list[int]
CONFLICT_BUDGET = 20_000
"""Conflicts one SAT call may take before a cheaper or more cautious way is taken."""

logger = logging.getLogger(__name__)


@dataclass
class Side:
    """One version's clauses over the shared variable space."""

    model: FeatureModel
    definitions: list[Clause] = field(default_factory=list)
    requirements: list[Clause] = field(default_factory=list)
    rules: list[str] = field(default_factory=list)
    """``rules[i]`` says in words which rule ``requirements[i]`` encodes (with its line)."""
    absent: list[Clause] = field(default_factory=list)
    """Unit clauses fixing the other version's features (full semantics only)."""
    absent_rules: list[str] = field(default_factory=list)

    def clauses(self, full: bool = True) -> list[Clause]:
        return self.definitions + self.requirements + (self.absent if full else [])

    def checks(self, full: bool = True) -> tuple[list[Clause], list[str]]:
        """The requirements a configuration must meet, with their rules."""
        if full:
            return self.requirements + self.absent, self.rules + self.absent_rules
        return self.requirements, self.rules


@dataclass
class Union:
    """Both versions over one variable space: features ``1..n_features`` then auxiliaries."""

    names: list[str]
    var: dict[str, int]
    a: Side
    b: Side
    alloc: VarAllocator

    @property
    def n_features(self) -> int:
        return len(self.names)

    @property
    def n_vars(self) -> int:
        return self.alloc.top

    def shared(self) -> list[int]:
        """Variables of the features both versions have."""
        return [self.var[n] for n in self.names if n in self.a.model.features and n in self.b.model.features]

    def selected(self, model: Sequence[int]) -> list[str]:
        return [self.names[lit - 1] for lit in model if 0 < lit <= self.n_features]


def union_encoding(a: FeatureModel, b: FeatureModel) -> Union:
    """Both models over the union of their features (``a``'s order, then the features only ``b`` has)."""
    names = list(a.features) + [n for n in b.features if n not in a.features]
    var = {name: i for i, name in enumerate(names, start=1)}
    alloc = VarAllocator(len(names) + 1)
    sides = []
    for own, other in ((a, b), (b, a)):
        side = Side(own)
        _encode_side(side, var, alloc)
        for name in other.features:
            if name not in own.features:
                selected = name == other.root
                side.absent.append([var[name] if selected else -var[name]])
                side.absent_rules.append(f"{name} is not a feature of this version"
                                         + (" (its root: taken as selected)" if selected else ""))
        sides.append(side)
    return Union(names, var, sides[0], sides[1], alloc)


def _encode_side(side: Side, var: dict[str, int], alloc: VarAllocator) -> None:
    model = side.model

    def require(clause: Clause, rule: str, line: int | None) -> None:
        side.requirements.append(clause)
        side.rules.append(rule + (f" (line {line})" if line else ""))

    require([var[model.root]], f"{model.root} is the root feature", model.features[model.root].line)
    for name, feature in model.features.items():
        if feature.parent is not None:
            require([-var[name], var[feature.parent]], f"{name} requires its parent {feature.parent}", feature.line)
        for group in feature.groups:
            for clause, rule in _group(name, group, var, alloc, side.definitions):
                require(clause, rule, group.line)
    for constraint in model.constraints:
        encoder = ConstraintEncoder(var, alloc, constraint)
        body = encoder.cnf(encoder.nnf(constraint.expr, True))
        side.definitions.extend(encoder.definitions)
        for clause in body:
            kept = normalise_clause(clause)
            if kept is not None:
                require(kept if kept else [-var[model.root]], f"constraint {constraint}", constraint.line)


def _group(parent: str, group: Group, var: dict[str, int], alloc: VarAllocator,
           definitions: list[Clause]) -> Iterable[tuple[Clause, str]]:
    """Requirements of one group; counter variables go to ``definitions`` as full equivalences."""
    p = var[parent]
    children = [var[c] for c in group.children]
    n = len(children)
    low, high = group.bounds()
    if low > min(high, n):  # e.g. [2..1]: no choice of children satisfies it, so the parent is dead
        yield [-p], f"{parent}'s [{low}..{high}] group can never be satisfied"
        return
    if group.kind is GroupKind.MANDATORY or (low == n > 0 and group.kind is not GroupKind.OPTIONAL):
        for child, c in zip(group.children, children, strict=True):
            yield [-p, c], f"{child} is mandatory under {parent}"
        return
    kind = group.kind.value if group.kind is not GroupKind.CARDINALITY else f"[{low}..{high}]"
    rule = f"{parent}'s {kind} group needs {low}..{high} of {', '.join(group.children)}"
    if low > n:
        yield [-p], rule
        return
    if low == 1:
        yield [-p, *children], rule
    if high == 1 and n > 1:
        yield from ((clause, rule) for clause in _at_most_one(children, alloc, definitions))
    elif low > 1 or high < n:
        yield from ((clause, rule) for clause in _counter(p, children, 0 if low == 1 else low, high, alloc,
                                                          definitions))


def _at_most_one(lits: list[int], alloc: VarAllocator, definitions: list[Clause]) -> list[Clause]:
    """Pairwise for few literals; else ``s_i ⇔ s_{i-1} ∨ x_i`` (definitions) and ``¬(s_{i-1} ∧ x_i)``."""
    if len(lits) <= PAIRWISE_LIMIT:
        return [[-x, -y] for i, x in enumerate(lits) for y in lits[i + 1:]]
    out: list[Clause] = []
    prev = lits[0]
    for i, x in enumerate(lits[1:], start=2):
        out.append([-prev, -x])
        if i == len(lits):
            break
        s = alloc.new()
        definitions.extend([[-prev, s], [-x, s], [-s, prev, x]])
        prev = s
    return out


def _counter(parent: int, lits: list[int], low: int, high: int, alloc: VarAllocator,
             definitions: list[Clause]) -> list[Clause]:
    """``parent ⇒ low ≤ Σ lits ≤ high`` by a sequential counter of defined "at least j so far" gates."""
    k = max(low, high + 1) if high < len(lits) else low
    prev: list[int | None] = [None] * (k + 1)
    for i, x in enumerate(lits, start=1):
        cur: list[int | None] = [None] * (k + 1)
        for j in range(1, min(i, k) + 1):
            carry = x if j == 1 else _gate("and", x, prev[j - 1], alloc, definitions)
            cur[j] = _gate("or", prev[j], carry, alloc, definitions)
        prev = cur
    out: list[Clause] = []
    if low > 0:
        at_least = prev[low]
        out.append([-parent] if at_least is None else [-parent, at_least])
    if high < len(lits) and prev[high + 1] is not None:
        out.append([-cast("int", prev[high + 1])])
    return out


def _gate(kind: str, a: int | None, b: int | None, alloc: VarAllocator, definitions: list[Clause]) -> int | None:
    """A variable defined as ``a ∧ b`` or ``a ∨ b`` (``None`` stands for false)."""
    if a is None or b is None:
        return None if kind == "and" else (b if a is None else a)
    g = alloc.new()
    if kind == "and":
        definitions.extend([[-g, a], [-g, b], [g, -a, -b]])
    else:
        definitions.extend([[g, -a], [g, -b], [-g, a, b]])
    return g


# --- "some configuration of X is not one of Y" -------------------------------------------------


@dataclass(frozen=True)
class Difference:
    """Why one version has configurations the other lacks.

    Every configuration of X that selects ``selected`` and deselects ``deselected`` is rejected
    by Y (a subset-minimal such set of literals, taken from one witness configuration); ``rule``
    is a rule of Y the witness breaks.
    """

    selected: tuple[str, ...]
    deselected: tuple[str, ...]
    rule: str


class DifferenceFinder:
    """One incremental solver for ``X ∧ ¬Y``: finds a witness and shrinks it to a minimal one.

    Every SAT call goes through ``watchdog``, which raises :class:`NotDecided` at its deadline.
    """

    def __init__(self, union: Union, x: Side, y: Side, *, full: bool = True, watchdog: Watchdog | None = None) -> None:
        self.union = union
        self.watchdog = watchdog or Watchdog(None)
        self.solver = Glucose4(bootstrap_with=x.clauses(full) + y.definitions)
        self.top = union.n_vars
        checks, rules = y.checks(full)
        self.rules: list[str] = []
        self.selectors: list[int] = []
        self.implied = 0
        own = {tuple(sorted(clause)) for clause in x.clauses(full)}
        for i, (clause, rule) in enumerate(zip(checks, rules, strict=True)):
            if i % 1024 == 0:
                self.watchdog.check()
            if tuple(sorted(clause)) in own or not self.solver.propagate(assumptions=[-lit for lit in clause])[0]:
                self.implied += 1  # unit propagation alone proves X implies it: leave it out of the disjunction
                continue
            v = self._new()
            self.selectors.append(v)
            self.rules.append(rule)
            for lit in clause:
                self.solver.add_clause([-v, -lit])
        self.active = self._new()
        self.solver.add_clause([-self.active, *self.selectors])

    def __enter__(self) -> DifferenceFinder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.solver.delete()

    def _new(self) -> int:
        self.top += 1
        return self.top

    def find(self) -> list[int] | None:
        """A model of ``X ∧ ¬Y``, or ``None``.

        One call over the disjunction, within ``CONFLICT_BUDGET`` conflicts; past it, one call
        per requirement left (each is easy: the per-requirement method never needed a search).
        """
        self.solver.set_phases([-v for v in range(1, self.union.n_features + 1)])
        found = self._limited([self.active])
        if found is None:
            logger.info("the disjunction of %d requirements took over %d conflicts: checking one by one",
                        len(self.selectors), CONFLICT_BUDGET)
            found = any(self.watchdog.solve(self.solver, [v]) for v in self.selectors)
        return cast("list[int]", self.solver.get_model()) if found else None

    def _limited(self, assumptions: list[int]) -> bool | None:
        return self.watchdog.solve(self.solver, assumptions, CONFLICT_BUDGET)

    def minimise(self, model: list[int], deadline: float, assumptions: Sequence[int] = ()) -> list[int]:
        """A model whose selected features are a subset-minimal set among models of ``X ∧ ¬Y``.

        Each round asks for a model that keeps every deselected feature deselected and drops at
        least one selected one; stops at the first failure, at ``deadline`` or when the watchdog's
        time is up (the model is then still a witness, only perhaps not minimal).
        """
        n = self.union.n_features
        while time.perf_counter() < deadline:
            selected = [v for v in range(1, n + 1) if model[v - 1] > 0]
            if not selected:
                break
            shrink = self._new()
            self.solver.add_clause([-shrink, *(-v for v in selected)])
            keep = [-v for v in range(1, n + 1) if model[v - 1] < 0]
            try:
                found = self._limited([self.active, shrink, *assumptions, *keep])
            except NotDecided:
                break
            self.solver.add_clause([-shrink])
            if not found:  # none smaller, or not found within the budget: keep this one
                break
            model = cast("list[int]", self.solver.get_model())
        return model

    def rule_broken(self, model: Sequence[int]) -> str:
        """The first rule of Y that ``model`` breaks."""
        for v, rule in zip(self.selectors, self.rules, strict=True):
            if model[v - 1] > 0:
                return rule
        return ""


def witness(union: Union, x: Side, y: Side, deadline: float, *, full: bool = True,
            watchdog: Watchdog | None = None) -> Difference | None:
    """Why some configuration of X is not one of Y, or ``None`` when every configuration of X is one of Y.

    ``deadline`` (``time.perf_counter()``) ends the shrinking of the witness; ``watchdog`` bounds
    the whole check and raises :class:`NotDecided` when it cannot tell whether there is a witness.
    Time running out while shrinking keeps the witness found so far.
    """
    watchdog = watchdog or Watchdog(None)
    with DifferenceFinder(union, x, y, full=full, watchdog=watchdog) as finder:
        model = finder.find()
        if model is None:
            return None
        model = finder.minimise(model, deadline)
        rule = finder.rule_broken(model)
    configuration = model[: union.n_features]
    try:
        with Glucose4(bootstrap_with=x.clauses(full) + y.clauses(full)) as both:
            literals = essential_literals(both, configuration, deadline, watchdog)
    except NotDecided:
        literals = configuration
    on = tuple(union.names[lit - 1] for lit in literals if lit > 0)
    off = tuple(union.names[-lit - 1] for lit in literals if lit < 0)
    return Difference(on, off, rule)


def essential_literals(solver: Glucose4, literals: Sequence[int], deadline: float,
                       watchdog: Watchdog | None = None) -> list[int]:
    """A subset-minimal part of ``literals`` that the solver's clauses refute (deletion-based core shrinking).

    ``solver`` holds X ∧ Y; ``literals`` are a configuration of X that Y rejects, so they are
    refuted, and so is any configuration of X agreeing with the part returned. Stops shrinking
    at ``deadline`` (the part is then still refuted, only perhaps not minimal). Raises
    :class:`NotDecided` only if ``watchdog``'s time runs out before the first refutation.
    """
    watchdog = watchdog or Watchdog(None)
    if watchdog.solve(solver, literals):
        raise AssertionError("a witness of X ∧ ¬Y satisfied Y")  # an invariant, kept under python -O
    core = list(dict.fromkeys(cast("list[int]", solver.get_core() or [])))
    order = {lit: i for i, lit in enumerate(literals)}
    core.sort(key=order.__getitem__)
    i = 0
    while i < len(core) and time.perf_counter() < deadline and not watchdog.expired:
        trial = core[:i] + core[i + 1:]
        try:
            refuted = watchdog.solve(solver, trial, CONFLICT_BUDGET) is False
        except NotDecided:
            break
        if not refuted:  # satisfiable or unknown: keep the literal
            i += 1
            continue
        smaller = set(cast("list[int]", solver.get_core() or []))
        core = [lit for lit in trial if lit in smaller]
    return core


def clause_by_clause(union: Union, x: Side, y: Side, deadline: float | None = None) -> bool | None:
    """Whether some configuration of X is not one of Y, one SAT call per requirement of Y.

    The straightforward method (as FeatureIDE checks an edit): kept as the baseline the
    benchmark compares :func:`witness` against. ``None`` when ``deadline`` passes first.
    """
    checks, _ = y.checks(True)
    with Glucose4(bootstrap_with=x.clauses(True) + y.definitions) as solver:
        for clause in checks:
            if deadline is not None and time.perf_counter() > deadline:
                return None
            if solver.solve(assumptions=[-lit for lit in clause]):
                return True
    return False
