"""A linear-size CNF encoding of a feature model, for SAT analyses and counting.

Variables ``1..n_features`` are the features in model order (the root first); auxiliary
variables (sequential counters, Tseitin gates) follow and are named ``""``. The encoding is
**count-preserving**: every auxiliary variable is defined by a full equivalence over
feature variables, so the models of the CNF and the valid configurations are in one-to-one
correspondence and a #SAT count of the CNF is the number of configurations.

Relations and their clauses (``p`` a parent, ``c`` a child):

- root: the unit clause ``root``; every child: ``c ⇒ p``;
- mandatory child: ``p ⇒ c``; or-group: ``p ⇒ c1 ∨ … ∨ cn``;
- alternative group: the or-clause plus an at-most-one, pairwise for up to
  ``PAIRWISE_LIMIT`` children and a sequential counter above (4n clauses, n-1 variables,
  instead of n²/2 clauses);
- group cardinality ``[lo..hi]``: a sequential counter up to ``max(lo, hi+1)``;
- cross-tree constraints: negation normal form, then clauses directly when the constraint is
  (nearly) clausal and Tseitin gates for sub-formulas whose distribution would exceed
  ``DISTRIBUTION_LIMIT`` clauses.

:func:`relations` yields the clauses relation by relation (used by explanations, which put
a selector literal on each); :func:`encode` concatenates them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import product

from evplatform.errors import VariabilityError
from evplatform.variability.model import (
    And,
    Const,
    Constraint,
    Expr,
    FeatureModel,
    Group,
    GroupKind,
    Iff,
    Implies,
    Not,
    Or,
    Var,
)

PAIRWISE_LIMIT = 5
DISTRIBUTION_LIMIT = 16

Clause = list[int]


@dataclass
class CNF:
    """Clauses over DIMACS variables with the feature each variable stands for."""

    n_vars: int
    clauses: list[list[int]]
    var: dict[str, int]
    names: list[str]
    n_features: int
    model: FeatureModel | None = field(default=None, repr=False, compare=False)
    """The model :func:`encode` made this from (analyses use its tree for fast local moves)."""
    encoded_clauses: int = field(default=-1, repr=False, compare=False)

    def source_model(self) -> FeatureModel | None:
        """The encoded model, or ``None`` if there is none or clauses were added since encoding."""
        return self.model if len(self.clauses) == self.encoded_clauses else None

    def feature_names(self) -> list[str]:
        """The feature names in variable order (auxiliary variables excluded)."""
        return self.names[: self.n_features]

    def literal(self, name: str, value: bool = True) -> int:
        """The literal meaning ``name`` is selected (or deselected); unknown names raise."""
        try:
            variable = self.var[name]
        except KeyError:
            raise VariabilityError(f"unknown feature {name!r}") from None
        return variable if value else -variable

    def selected(self, model: list[int] | set[int]) -> frozenset[str]:
        """The features a SAT model (list of literals) selects."""
        return frozenset(self.names[lit - 1] for lit in model if 0 < lit <= self.n_features)


@dataclass(frozen=True, slots=True)
class Relation:
    """One rule of the model the clauses come from, for explanations: what, where, which features."""

    kind: str  # "root", "parent", "mandatory", "group", "constraint"
    text: str
    line: int | None
    features: tuple[str, ...]
    constraint: Constraint | None = field(default=None, compare=False)


class VarAllocator:
    """Hands out auxiliary variables after the feature variables."""

    def __init__(self, first: int) -> None:
        self.top = first - 1

    def new(self) -> int:
        self.top += 1
        return self.top


def encode(model: FeatureModel) -> CNF:
    """The CNF of ``model``: linear in the number of features, group children and constraint size."""
    var = {name: i for i, name in enumerate(model.features, start=1)}
    clauses: list[Clause] = []
    alloc = VarAllocator(len(var) + 1)
    for _, relation_clauses in relations(model, var, alloc):
        clauses.extend(relation_clauses)
    root = var[model.root]
    clauses = [clause if clause else [-root] for clause in clauses]  # a false constraint voids the model
    names = [*var, *([""] * (alloc.top - len(var)))]
    return CNF(alloc.top, clauses, var, names, len(var), model, len(clauses))


def relations(
    model: FeatureModel, var: dict[str, int], alloc: VarAllocator
) -> Iterator[tuple[Relation, list[Clause]]]:
    """Each relation of the tree and each constraint with its clauses (auxiliary variables from ``alloc``)."""
    root = model.root
    yield Relation("root", f"{root} is the root feature", model.features[root].line, (root,)), [[var[root]]]
    for name, feature in model.features.items():
        if feature.parent is not None:
            text = f"{name} requires its parent {feature.parent}"
            yield Relation("parent", text, feature.line, (name, feature.parent)), [[-var[name], var[feature.parent]]]
        for group in feature.groups:
            yield from _group_relations(name, group, var, alloc)
    for constraint in model.constraints:
        clauses = ConstraintEncoder(var, alloc, constraint).clauses()
        relation = Relation("constraint", f"constraint {constraint}", constraint.line,
                            tuple(sorted(constraint.expr.variables())), constraint)
        yield relation, clauses


def new_allocator(model: FeatureModel) -> tuple[dict[str, int], VarAllocator]:
    """Feature variables in model order and an allocator for auxiliaries (for callers of :func:`relations`)."""
    var = {name: i for i, name in enumerate(model.features, start=1)}
    return var, VarAllocator(len(var) + 1)


def _group_relations(
    parent: str, group: Group, var: dict[str, int], alloc: VarAllocator
) -> Iterator[tuple[Relation, list[Clause]]]:
    p = var[parent]
    children = [var[c] for c in group.children]
    n = len(children)
    low, high = group.bounds()
    if low > min(high, n):  # e.g. [2..1]: no choice of children satisfies it, so the parent is dead
        yield Relation("group", f"{parent}'s [{low}..{high}] group can never be satisfied", group.line,
                       (parent, *group.children)), [[-p]]
        return
    if group.kind is GroupKind.MANDATORY or (low == n and n > 0 and group.kind is not GroupKind.OPTIONAL):
        for child, c in zip(group.children, children, strict=True):
            yield Relation("mandatory", f"{child} is mandatory under {parent}", group.line, (parent, child)), [[-p, c]]
        return
    clauses: list[Clause] = []
    if low > n:
        clauses.append([-p])  # the group can never be satisfied: the parent is dead
    else:
        if low == 1:
            clauses.append([-p, *children])
        if high == 1 and n > 1:
            clauses.extend(at_most_one(children, alloc))
        elif low > 1 or high < n:
            clauses.extend(_cardinality(p, children, 0 if low == 1 else low, high, alloc))
    if not clauses:
        return
    kind = group.kind.value if group.kind is not GroupKind.CARDINALITY else f"[{low}..{high}]"
    text = f"{parent}'s {kind} group needs {low}..{high} of {', '.join(group.children)}"
    yield Relation("group", text, group.line, (parent, *group.children)), clauses


def at_most_one(lits: list[int], alloc: VarAllocator) -> list[Clause]:
    """At most one literal true: pairwise for few, a defined sequential counter for many.

    The counter variable ``s_i`` is defined as ``x_1 ∨ … ∨ x_i`` (both directions), so it is
    determined by the inputs and model counts are preserved.
    """
    if len(lits) <= PAIRWISE_LIMIT:
        return [[-a, -b] for i, a in enumerate(lits) for b in lits[i + 1:]]
    clauses: list[Clause] = []
    prev = lits[0]  # s_1 is x_1 itself
    for x in lits[1:-1]:
        s = alloc.new()
        clauses += [[-prev, -x], [-prev, s], [-x, s], [-s, prev, x]]
        prev = s
    clauses.append([-prev, -lits[-1]])
    return clauses


def _cardinality(parent: int, lits: list[int], low: int, high: int, alloc: VarAllocator) -> list[Clause]:
    """``parent ⇒ low ≤ Σ lits`` and ``Σ lits ≤ high`` by a defined sequential counter.

    ``r[j]`` after input ``i`` means "at least j of the first i are true", defined by
    ``r_i[j] ⇔ r_{i-1}[j] ∨ (x_i ∧ r_{i-1}[j-1])``; O(n·k) clauses with k = max(low, high+1).
    """
    k = max(low, high + 1) if high < len(lits) else low
    clauses: list[Clause] = []
    prev: list[int | None] = [None] * (k + 1)  # prev[j]: literal for "≥ j so far"; None = false; index 0 unused
    for i, x in enumerate(lits, start=1):
        cur: list[int | None] = [None] * (k + 1)
        for j in range(1, min(i, k) + 1):
            keep = prev[j]
            carry = x if j == 1 else _and_gate(x, prev[j - 1], clauses, alloc)
            cur[j] = _or_gate(keep, carry, clauses, alloc)
        prev = cur
    if low > 0:
        at_least = prev[low]
        clauses.append([-parent] if at_least is None else [-parent, at_least])
    if high < len(lits):
        too_many = prev[high + 1]
        if too_many is not None:
            clauses.append([-too_many])
    return clauses


def _and_gate(a: int, b: int | None, clauses: list[Clause], alloc: VarAllocator) -> int | None:
    if b is None:
        return None
    g = alloc.new()
    clauses += [[-g, a], [-g, b], [g, -a, -b]]
    return g


def _or_gate(a: int | None, b: int | None, clauses: list[Clause], alloc: VarAllocator) -> int | None:
    if a is None or b is None:
        return b if a is None else a
    g = alloc.new()
    clauses += [[g, -a], [g, -b], [-g, a, b]]
    return g


# --- cross-tree constraints --------------------------------------------------------------

# Negation normal form: an int is a literal; ("and", parts) / ("or", parts); () and ("or", ()) are constants.
Nnf = int | tuple[str, tuple["Nnf", ...]]
_TRUE: Nnf = ("and", ())
_FALSE: Nnf = ("or", ())


class ConstraintEncoder:
    """Clauses of one constraint: distribution while small, Tseitin gates (full equivalences) beyond."""

    def __init__(self, var: dict[str, int], alloc: VarAllocator, constraint: Constraint) -> None:
        self.var = var
        self.alloc = alloc
        self.constraint = constraint
        self.gates: dict[Nnf, int] = {}
        self.definitions: list[Clause] = []

    def clauses(self) -> list[Clause]:
        body = self.cnf(self.nnf(self.constraint.expr, True))
        return [c for c in (normalise_clause(c) for c in body) if c is not None] + self.definitions

    def nnf(self, expr: Expr, positive: bool) -> Nnf:
        if isinstance(expr, Var):
            if expr.name not in self.var:
                where = f" (line {self.constraint.line})" if self.constraint.line else ""
                raise VariabilityError(f"constraint{where} names unknown feature {expr.name!r}: {self.constraint}")
            v = self.var[expr.name]
            return v if positive else -v
        if isinstance(expr, Const):
            return _TRUE if expr.value == positive else _FALSE
        if isinstance(expr, Not):
            return self.nnf(expr.operand, not positive)
        if isinstance(expr, And | Or):
            kind = "and" if isinstance(expr, And) == positive else "or"
            return _flat(kind, [self.nnf(o, positive) for o in expr.operands])
        if isinstance(expr, Implies):
            if positive:
                return _flat("or", [self.nnf(expr.left, False), self.nnf(expr.right, True)])
            return _flat("and", [self.nnf(expr.left, True), self.nnf(expr.right, False)])
        if isinstance(expr, Iff):
            a = self.literal(self.nnf(expr.left, True))
            b = self.literal(self.nnf(expr.right, True))
            if positive:
                return _flat("and", [_flat("or", [-a, b]), _flat("or", [a, -b])])
            return _flat("and", [_flat("or", [a, b]), _flat("or", [-a, -b])])
        raise VariabilityError(f"unsupported expression {expr!r}")

    def cnf(self, node: Nnf) -> list[Clause]:
        if isinstance(node, int):
            return [[node]]
        kind, parts = node
        if kind == "and":
            return [clause for part in parts for clause in self.cnf(part)]
        # a disjunction: distribute the parts' CNFs, naming the biggest parts by gates while too large
        cnfs = [self.cnf(part) for part in parts]
        while _product_size(cnfs) > DISTRIBUTION_LIMIT:
            biggest = max(range(len(cnfs)), key=lambda i: len(cnfs[i]))
            cnfs[biggest] = [[self.literal(parts[biggest])]]
        return [[lit for clause in combo for lit in clause] for combo in product(*cnfs)]

    def literal(self, node: Nnf) -> int:
        """A literal equivalent to ``node`` (a Tseitin gate unless it is one already)."""
        if isinstance(node, int):
            return node
        if node in self.gates:
            return self.gates[node]
        kind, parts = node
        if not parts:  # a constant: a gate fixed to its value
            g = self.alloc.new()
            self.definitions.append([g] if kind == "and" else [-g])
            self.gates[node] = g
            return g
        lits = [self.literal(part) for part in parts]
        g = self.alloc.new()
        if kind == "and":
            self.definitions += [[-g, lit] for lit in lits] + [[g, *(-lit for lit in lits)]]
        else:
            self.definitions += [[g, -lit] for lit in lits] + [[-g, *lits]]
        self.gates[node] = g
        return g


def _flat(kind: str, parts: list[Nnf]) -> Nnf:
    out: list[Nnf] = []
    for part in parts:
        if not isinstance(part, int) and part[0] == kind:
            out.extend(part[1])
        elif part == (_FALSE if kind == "and" else _TRUE):
            return part
        else:
            out.append(part)
    if len(out) == 1:
        return out[0]
    return (kind, tuple(out))


def _product_size(cnfs: list[list[Clause]]) -> int:
    size = 1
    for c in cnfs:
        size *= len(c)
    return size


def normalise_clause(clause: Clause) -> Clause | None:
    """Duplicate literals removed; ``None`` for a tautology (x ∨ ¬x)."""
    seen: dict[int, None] = {}
    for lit in clause:
        if -lit in seen:
            return None
        seen[lit] = None
    return list(seen)
