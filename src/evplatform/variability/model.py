"""The feature model as plain data: features, groups as cardinalities, constraints.

Every reader (UVL, FeatureIDE XML, DIMACS) produces this; every analysis consumes it.
Groups are one relation with ``card_min``/``card_max`` (mandatory/optional/or/alternative are
the usual names for particular cardinalities), so encoders handle one case, not five.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Set
from dataclasses import dataclass, field
from enum import Enum

AttributeValue = float | int | str | bool


class GroupKind(str, Enum):
    """How a group's children relate to their parent."""

    MANDATORY = "mandatory"
    OPTIONAL = "optional"
    OR = "or"
    ALTERNATIVE = "alternative"
    CARDINALITY = "cardinality"


@dataclass(slots=True)
class Group:
    """Children of one feature sharing one cardinality ``[card_min..card_max]``.

    ``card_max`` is ``None`` for ``*`` (unbounded). Mandatory means each child is required,
    optional that each child is free: those two are per child, not a count over the group.
    """

    kind: GroupKind
    children: list[str]
    card_min: int = 0
    card_max: int | None = None
    line: int | None = None

    def bounds(self) -> tuple[int, int]:
        """(min, max) selected children when the parent is selected, for every kind."""
        n = len(self.children)
        if self.kind is GroupKind.MANDATORY:
            return n, n
        if self.kind is GroupKind.OPTIONAL:
            return 0, n
        if self.kind is GroupKind.OR:
            return 1, n
        if self.kind is GroupKind.ALTERNATIVE:
            return 1, 1
        return self.card_min, n if self.card_max is None else min(self.card_max, n)


@dataclass(slots=True)
class Feature:
    """One feature; ``parent`` is ``None`` only for the root."""

    name: str
    parent: str | None = None
    groups: list[Group] = field(default_factory=list)
    attributes: dict[str, AttributeValue] = field(default_factory=dict)
    abstract: bool = False
    line: int | None = None

    def children(self) -> Iterator[str]:
        for group in self.groups:
            yield from group.children


# --- constraint expressions -------------------------------------------------------------


class Expr:
    """A propositional formula over feature names (UVL constraint syntax)."""

    __slots__ = ()

    def evaluate(self, selected: Set[str]) -> bool:
        raise NotImplementedError

    def variables(self) -> set[str]:
        out: set[str] = set()
        self._collect(out)
        return out

    def _collect(self, out: set[str]) -> None:
        raise NotImplementedError


@dataclass(frozen=True, slots=True)
class Const(Expr):
    value: bool

    def evaluate(self, selected: Set[str]) -> bool:
        return self.value

    def _collect(self, out: set[str]) -> None:
        return None

    def __str__(self) -> str:
        return "true" if self.value else "false"


@dataclass(frozen=True, slots=True)
class Var(Expr):
    name: str

    def evaluate(self, selected: Set[str]) -> bool:
        return self.name in selected

    def _collect(self, out: set[str]) -> None:
        out.add(self.name)

    def __str__(self) -> str:
        return _quote(self.name)


@dataclass(frozen=True, slots=True)
class Not(Expr):
    operand: Expr

    def evaluate(self, selected: Set[str]) -> bool:
        return not self.operand.evaluate(selected)

    def _collect(self, out: set[str]) -> None:
        self.operand._collect(out)

    def __str__(self) -> str:
        return f"!{_wrap(self.operand)}"


@dataclass(frozen=True, slots=True)
class And(Expr):
    operands: tuple[Expr, ...]

    def evaluate(self, selected: Set[str]) -> bool:
        return all(o.evaluate(selected) for o in self.operands)

    def _collect(self, out: set[str]) -> None:
        for o in self.operands:
            o._collect(out)

    def __str__(self) -> str:
        return " & ".join(_wrap(o) for o in self.operands)


@dataclass(frozen=True, slots=True)
class Or(Expr):
    operands: tuple[Expr, ...]

    def evaluate(self, selected: Set[str]) -> bool:
        return any(o.evaluate(selected) for o in self.operands)

    def _collect(self, out: set[str]) -> None:
        for o in self.operands:
            o._collect(out)

    def __str__(self) -> str:
        return " | ".join(_wrap(o) for o in self.operands)


@dataclass(frozen=True, slots=True)
class Implies(Expr):
    left: Expr
    right: Expr

    def evaluate(self, selected: Set[str]) -> bool:
        return (not self.left.evaluate(selected)) or self.right.evaluate(selected)

    def _collect(self, out: set[str]) -> None:
        self.left._collect(out)
        self.right._collect(out)

    def __str__(self) -> str:
        return f"{_wrap(self.left)} => {_wrap(self.right)}"


@dataclass(frozen=True, slots=True)
class Iff(Expr):
    left: Expr
    right: Expr

    def evaluate(self, selected: Set[str]) -> bool:
        return self.left.evaluate(selected) == self.right.evaluate(selected)

    def _collect(self, out: set[str]) -> None:
        self.left._collect(out)
        self.right._collect(out)

    def __str__(self) -> str:
        return f"{_wrap(self.left)} <=> {_wrap(self.right)}"


def _quote(name: str) -> str:
    plain = name.replace("_", "a").replace(".", "a").isalnum() and not name[:1].isdigit()
    return name if plain else '"' + name.replace('"', '\\"') + '"'


def _wrap(expr: Expr) -> str:
    return str(expr) if isinstance(expr, Var | Const | Not) else f"({expr})"


@dataclass(slots=True)
class Constraint:
    """A cross-tree constraint with the line it came from (for explanations and errors)."""

    expr: Expr
    line: int | None = None
    text: str | None = None

    def __str__(self) -> str:
        return self.text if self.text is not None else str(self.expr)


@dataclass(slots=True)
class FeatureModel:
    """A feature tree plus cross-tree constraints.

    ``features`` keeps file order (the root first); names are unique. ``source`` is the file
    the model came from, so errors and explanations can point at it.
    """

    root: str
    features: dict[str, Feature]
    constraints: list[Constraint] = field(default_factory=list)
    source: str | None = None

    def __contains__(self, name: object) -> bool:
        return name in self.features

    def __len__(self) -> int:
        return len(self.features)

    def parent(self, name: str) -> str | None:
        return self.features[name].parent

    def ancestors(self, name: str) -> Iterator[str]:
        parent = self.features[name].parent
        while parent is not None:
            yield parent
            parent = self.features[parent].parent

    def attribute(self, name: str, key: str) -> AttributeValue | None:
        return self.features[name].attributes.get(key)

    def attribute_sum(self, selected: Iterable[str], key: str) -> float:
        """Sum of a numeric attribute over selected features (missing counts as 0)."""
        total = 0.0
        for name in selected:
            value = self.features[name].attributes.get(key)
            if isinstance(value, int | float) and not isinstance(value, bool):
                total += value
        return total

    def resolve(self, reference: str) -> str | None:
        """The feature a constraint reference names, or ``None``.

        A name resolves to itself; a dotted reference ``A.B`` that is not itself a feature name
        resolves to the feature ``B`` one of whose ancestors is ``A`` (when exactly one matches),
        so workspaces may qualify names the way UVL namespaces do.
        """
        if reference in self.features:
            return reference
        if "." not in reference:
            return None
        qualifier, _, leaf = reference.rpartition(".")
        if leaf not in self.features:
            return None
        wanted = qualifier.split(".")[-1]
        return leaf if wanted in self.ancestors(leaf) else None

    def configuration_errors(self, selected: Set[str]) -> list[str]:
        """Every rule of the model that a complete configuration breaks, in words.

        An empty list means the configuration is valid. Checks the root, parent links, group
        cardinalities and each cross-tree constraint (citing its line).
        """
        errors: list[str] = []
        unknown = sorted(set(selected) - self.features.keys())
        if unknown:
            errors.append("unknown features: " + ", ".join(unknown))
        if self.root not in selected:
            errors.append(f"the root feature {self.root} is not selected")
        for name in selected:
            feature = self.features.get(name)
            if feature is None:
                continue
            if feature.parent is not None and feature.parent not in selected:
                errors.append(f"{name} is selected but its parent {feature.parent} is not")
            for group in feature.groups:
                errors.extend(_group_errors(name, group, selected))
        for constraint in self.constraints:
            if not constraint.expr.evaluate(selected):
                where = f" (line {constraint.line})" if constraint.line else ""
                errors.append(f"constraint{where} violated: {constraint}")
        return errors

    def mandatory_closure(self, selected: Iterable[str]) -> set[str]:
        """Selected features plus everything the tree forces: ancestors and mandatory children.

        This is the cheap propagation a platform engineer expects when writing a trim as a short
        list of choices; it never guesses among alternatives.
        """
        out: set[str] = set()
        stack = list(selected)
        while stack:
            name = stack.pop()
            if name in out or name not in self.features:
                continue
            out.add(name)
            feature = self.features[name]
            if feature.parent is not None:
                stack.append(feature.parent)
            for group in feature.groups:
                low, _ = group.bounds()
                if group.kind is GroupKind.MANDATORY or (low == len(group.children) and low > 0):
                    stack.extend(group.children)
        return out


def _group_errors(parent: str, group: Group, selected: Set[str]) -> list[str]:
    chosen = [c for c in group.children if c in selected]
    low, high = group.bounds()
    where = f" (line {group.line})" if group.line else ""
    if group.kind is GroupKind.MANDATORY:
        missing = [c for c in group.children if c not in selected]
        return [f"{parent} needs its mandatory feature {m}{where}" for m in missing]
    if low <= len(chosen) <= high:
        return []
    kind = group.kind.value
    return [
        f"{parent}'s {kind} group{where} needs {low}..{high} of "
        f"{', '.join(group.children)}, but {len(chosen)} selected"
        + (f" ({', '.join(chosen)})" if chosen else "")
    ]

