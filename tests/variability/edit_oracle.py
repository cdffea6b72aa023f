"""Brute-force oracle for model diffs, and Hypothesis strategies for random edits of small models.

Imported by the variability tests as ``variability.edit_oracle`` (tests/ is on the path).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

from hypothesis import strategies as st

from evplatform.variability.model import And, Constraint, Expr, Feature, FeatureModel, Group, Iff, Implies, Not, Or, Var
from variability.fm_strategies import KINDS, brute_force, expressions

Config = frozenset[str]


@dataclass(frozen=True)
class Expected:
    """Configurations of A and B under one semantics, by enumeration."""

    a: set[Config]
    b: set[Config]

    @property
    def lost(self) -> set[Config]:
        return self.a - self.b

    @property
    def gained(self) -> set[Config]:
        return self.b - self.a

    @property
    def edit_class(self) -> str:
        if self.lost:
            return "arbitrary" if self.gained else "specialisation"
        return "generalisation" if self.gained else "refactoring"


def full(a: FeatureModel, b: FeatureModel) -> Expected:
    """Full semantics: absent features deselected; a root only one version has counts as selected in the other."""
    def extend(configs: set[Config], own: FeatureModel, other: FeatureModel) -> set[Config]:
        extra = {other.root} if other.root not in own.features else set()
        return {c | extra for c in configs}

    return Expected(extend(brute_force(a), a, b), extend(brute_force(b), b, a))


def projected(a: FeatureModel, b: FeatureModel) -> Expected:
    shared = a.features.keys() & b.features.keys()
    return Expected({c & shared for c in brute_force(a)}, {c & shared for c in brute_force(b)})


def agreeing(configs: set[Config], on: tuple[str, ...], off: tuple[str, ...]) -> set[Config]:
    return {c for c in configs if set(on) <= c and not set(off) & c}


# --- random edits ------------------------------------------------------------------------------


def _leaves(model: FeatureModel) -> list[str]:
    return [n for n, f in model.features.items() if f.parent is not None and not list(f.children())]


def _detach(model: FeatureModel, name: str) -> None:
    parent = model.features[model.features[name].parent or ""]
    for group in parent.groups:
        if name in group.children:
            group.children.remove(name)
    parent.groups = [g for g in parent.groups if g.children]


@st.composite
def edited(draw: st.DrawFn, model: FeatureModel, max_edits: int = 3) -> FeatureModel:
    """``model`` after a few random edits: add, remove or move a feature, change a group, add or drop a constraint."""
    out = copy.deepcopy(model)
    for step in range(draw(st.integers(1, max_edits))):
        edit = draw(st.sampled_from(["add", "remove", "move", "group", "constrain", "unconstrain", "rename-root"]))
        leaves = _leaves(out)
        if edit == "add" and len(out.features) < 9:
            name = f"N{step}"
            parent = draw(st.sampled_from(list(out.features)))
            out.features[name] = Feature(name, parent, line=300 + step)
            kind = draw(st.sampled_from(KINDS))
            out.features[parent].groups.append(Group(kind, [name], 0, draw(st.one_of(st.none(), st.integers(0, 2)))))
        elif edit == "remove" and leaves:
            name = draw(st.sampled_from(leaves))
            _detach(out, name)
            del out.features[name]
            out.constraints = [c for c in out.constraints if name not in c.expr.variables()]
        elif edit == "move" and leaves and len(out.features) > 2:
            name = draw(st.sampled_from(leaves))
            target = draw(st.sampled_from([n for n in out.features if n != name]))
            _detach(out, name)
            out.features[name].parent = target
            out.features[target].groups.append(Group(draw(st.sampled_from(KINDS)), [name], 1, None))
        elif edit == "group":
            groups = [g for f in out.features.values() for g in f.groups]
            if groups:
                group = draw(st.sampled_from(groups))
                group.kind = draw(st.sampled_from(KINDS))
                group.card_min, group.card_max = draw(st.integers(0, 2)), draw(st.one_of(st.none(), st.integers(1, 3)))
        elif edit == "constrain":
            out.constraints.append(Constraint(draw(expressions(list(out.features))), line=400 + step))
        elif edit == "unconstrain" and out.constraints:
            del out.constraints[draw(st.integers(0, len(out.constraints) - 1))]
        elif edit == "rename-root":
            _rename_root(out, "R" + out.root)
    return out


def _rename_root(model: FeatureModel, new: str) -> None:
    old = model.root
    root = model.features.pop(old)
    root.name = new
    model.features = {new: root, **model.features}
    for feature in model.features.values():
        if feature.parent == old:
            feature.parent = new
    model.root = new
    model.constraints = [Constraint(_renamed(c.expr, old, new), c.line) for c in model.constraints]


def _renamed(expr: Expr, old: str, new: str) -> Expr:
    """The expression with the variable ``old`` renamed to ``new``."""
    if isinstance(expr, Var):
        return Var(new if expr.name == old else expr.name)
    if isinstance(expr, Not):
        return Not(_renamed(expr.operand, old, new))
    if isinstance(expr, And):
        return And(tuple(_renamed(o, old, new) for o in expr.operands))
    if isinstance(expr, Or):
        return Or(tuple(_renamed(o, old, new) for o in expr.operands))
    if isinstance(expr, Implies):
        return Implies(_renamed(expr.left, old, new), _renamed(expr.right, old, new))
    if isinstance(expr, Iff):
        return Iff(_renamed(expr.left, old, new), _renamed(expr.right, old, new))
    return expr


def pigeonhole_uvl(holes: int, extra: str = "") -> str:
    """A model whose optional feature G is dead, but only a pigeonhole proof shows it.

    Selecting G puts each of ``holes + 1`` pigeons (features ``PiHj``) in some hole, at most one per
    hole: unsatisfiable, and resolution needs exponentially many steps, so Glucose takes seconds at
    8 holes and far longer at 10. ``extra`` is one more constraint (``!G`` makes a refactoring that
    only that proof can recognise).
    """
    pigeons = holes + 1
    lines = ["features", "    Root", "        optional", "            G"]
    lines += [f"            P{i}H{j}" for i in range(pigeons) for j in range(holes)]
    lines.append("constraints")
    lines += ["    G => (" + " | ".join(f"P{i}H{j}" for j in range(holes)) + ")" for i in range(pigeons)]
    lines += [f"    !(P{i}H{j} & P{k}H{j})"
              for j in range(holes) for i in range(pigeons) for k in range(i + 1, pigeons)]
    if extra:
        lines.append(f"    {extra}")
    return "\n".join(lines) + "\n"
