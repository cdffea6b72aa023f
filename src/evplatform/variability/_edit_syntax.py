"""The syntactic part of a model diff: features, parents, groups, attributes, constraints.

Constraints are matched by their canonical text (``str`` of the parsed expression), so the
same rule written with other spacing or parentheses, or read from another format, matches.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

from evplatform.variability.model import AttributeValue, FeatureModel, Group, GroupKind


@dataclass(frozen=True)
class FeatureEdit:
    """A feature added, removed or moved: its parent before and after (``None`` where it is absent)."""

    name: str
    old_parent: str | None
    new_parent: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "old_parent": self.old_parent, "new_parent": self.new_parent}


@dataclass(frozen=True)
class GroupEdit:
    """Children of ``parent`` whose group kind changed (``"[2..3]"`` for a cardinality)."""

    parent: str
    children: tuple[str, ...]
    old: str
    new: str

    def to_dict(self) -> dict[str, Any]:
        return {"parent": self.parent, "children": list(self.children), "old": self.old, "new": self.new}


@dataclass(frozen=True)
class AttributeEdit:
    """An attribute of a feature both versions have, before and after (``None`` when unset)."""

    feature: str
    attribute: str
    old: AttributeValue | None
    new: AttributeValue | None

    def to_dict(self) -> dict[str, Any]:
        return {"feature": self.feature, "attribute": self.attribute, "old": self.old, "new": self.new}


@dataclass(frozen=True)
class ConstraintEdit:
    """A cross-tree constraint only one version has, with its line in each (``None`` on the side without it)."""

    text: str
    line_a: int | None
    line_b: int | None

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "line_a": self.line_a, "line_b": self.line_b}


@dataclass(frozen=True)
class SyntaxDiff:
    """What was edited, name by name; :meth:`to_dict` is the syntactic part of ``fm diff --json``."""

    added: tuple[FeatureEdit, ...]
    removed: tuple[FeatureEdit, ...]
    moved: tuple[FeatureEdit, ...]
    groups: tuple[GroupEdit, ...]
    attributes: tuple[AttributeEdit, ...]
    constraints_added: tuple[ConstraintEdit, ...]
    constraints_removed: tuple[ConstraintEdit, ...]

    def to_dict(self) -> dict[str, Any]:
        """Counts under the keys the issue names (``features_added`` …), then every edit."""
        return {
            "features_added": len(self.added),
            "features_removed": len(self.removed),
            "features_moved": len(self.moved),
            "constraints_added": len(self.constraints_added),
            "constraints_removed": len(self.constraints_removed),
            "added_features": [e.to_dict() for e in self.added],
            "removed_features": [e.to_dict() for e in self.removed],
            "moved_features": [e.to_dict() for e in self.moved],
            "group_changes": [e.to_dict() for e in self.groups],
            "attribute_changes": [e.to_dict() for e in self.attributes],
            "added_constraints": [e.to_dict() for e in self.constraints_added],
            "removed_constraints": [e.to_dict() for e in self.constraints_removed],
        }


def syntax_diff(a: FeatureModel, b: FeatureModel) -> SyntaxDiff:
    """What was edited, name by name (no reasoning about configurations)."""
    added = tuple(FeatureEdit(n, None, f.parent) for n, f in b.features.items() if n not in a.features)
    removed = tuple(FeatureEdit(n, f.parent, None) for n, f in a.features.items() if n not in b.features)
    shared = [n for n in a.features if n in b.features]
    moved = tuple(FeatureEdit(n, a.features[n].parent, b.features[n].parent) for n in shared
                  if a.features[n].parent != b.features[n].parent)
    added_c, removed_c = _constraints(a, b)
    return SyntaxDiff(added, removed, moved, _groups(a, b, shared), _attributes(a, b, shared), added_c, removed_c)


def group_label(group: Group) -> str:
    if group.kind is not GroupKind.CARDINALITY:
        return str(group.kind.value)
    low, high = group.card_min, group.card_max
    return f"[{low}..{'*' if high is None else high}]"


def _group_of(model: FeatureModel) -> dict[str, str]:
    """The group label of each non-root feature."""
    return {child: group_label(group) for feature in model.features.values()
            for group in feature.groups for child in group.children}


def _groups(a: FeatureModel, b: FeatureModel, shared: list[str]) -> tuple[GroupEdit, ...]:
    """Kind changes of features that kept their parent, one entry per (parent, old, new)."""
    old, new = _group_of(a), _group_of(b)
    changed: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    for name in shared:
        parent = a.features[name].parent
        if parent is None or parent != b.features[name].parent:
            continue
        if old.get(name) != new.get(name):
            changed[(parent, old.get(name, "?"), new.get(name, "?"))].append(name)
    return tuple(GroupEdit(parent, tuple(children), o, n) for (parent, o, n), children in changed.items())


def _attributes(a: FeatureModel, b: FeatureModel, shared: list[str]) -> tuple[AttributeEdit, ...]:
    """Attribute values that differ, plus ``abstract`` when a feature became (non-)abstract."""
    out: list[AttributeEdit] = []
    for name in shared:
        fa, fb = a.features[name], b.features[name]
        if fa.abstract != fb.abstract:
            out.append(AttributeEdit(name, "abstract", fa.abstract, fb.abstract))
        for key in list(fa.attributes) + [k for k in fb.attributes if k not in fa.attributes]:
            before, after = fa.attributes.get(key), fb.attributes.get(key)
            if before != after or type(before) is not type(after):
                out.append(AttributeEdit(name, key, before, after))
    return tuple(out)


def _constraints(a: FeatureModel, b: FeatureModel) -> tuple[tuple[ConstraintEdit, ...], tuple[ConstraintEdit, ...]]:
    """Constraints only in ``b`` (added) and only in ``a`` (removed), as multisets of canonical texts."""
    texts_a = [str(c.expr) for c in a.constraints]
    texts_b = [str(c.expr) for c in b.constraints]
    left_a = Counter(texts_a) - Counter(texts_b)
    left_b = Counter(texts_b) - Counter(texts_a)
    removed: list[ConstraintEdit] = []
    for text, constraint in zip(texts_a, a.constraints, strict=True):
        if left_a[text] > 0:
            left_a[text] -= 1
            removed.append(ConstraintEdit(text, constraint.line, None))
    added: list[ConstraintEdit] = []
    for text, constraint in zip(texts_b, b.constraints, strict=True):
        if left_b[text] > 0:
            left_b[text] -= 1
            added.append(ConstraintEdit(text, None, constraint.line))
    return tuple(added), tuple(removed)
