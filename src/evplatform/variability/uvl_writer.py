"""The UVL writer: the inverse of :mod:`evplatform.variability.uvl` (one flat file, imports resolved).

Names that are not plain identifiers are quoted; typed features (an attribute ``type`` of
Boolean/Integer/Real/String, as the reader keeps it) get their type keyword back; abstract
features and attributes are written in braces; groups keep their keyword or ``[n..m]``.
"""

from __future__ import annotations

import re

from evplatform.variability.model import AttributeValue, FeatureModel, GroupKind

_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_TYPES = ("Boolean", "Integer", "Real", "String")
_INDENT = "    "


def quote_name(name: str) -> str:
    """A feature name as UVL writes it: bare when it is an identifier, quoted otherwise."""
    if _PLAIN.match(name) and name not in ("true", "false"):
        return name
    return '"' + name.replace('"', '\\"') + '"'


def format_uvl(model: FeatureModel) -> str:
    """UVL text of ``model``: the tree, then one constraint a line."""
    out = ["features"]
    stack: list[tuple[str, int] | str] = [(model.root, 1)]
    while stack:  # depth-first, explicit stack: deep trees must not hit the recursion limit
        item = stack.pop()
        if isinstance(item, str):
            out.append(item)
            continue
        name, depth = item
        out.append(_INDENT * depth + _feature_line(model, name))
        todo: list[tuple[str, int] | str] = []
        for group in model.features[name].groups:
            todo.append(_INDENT * (depth + 1) + _group_word(group.kind, group.card_min, group.card_max))
            todo.extend((child, depth + 2) for child in group.children)
        stack.extend(reversed(todo))
    if model.constraints:
        out.append("constraints")
        out.extend(_INDENT + _expression(c.expr) for c in model.constraints)
    return "\n".join(out) + "\n"


def _group_word(kind: GroupKind, low: int, high: int | None) -> str:
    if kind is GroupKind.CARDINALITY:
        return f"[{low}..{'*' if high is None else high}]"
    return str(kind.value)


def _feature_line(model: FeatureModel, name: str) -> str:
    feature = model.features[name]
    attributes = dict(feature.attributes)
    prefix = ""
    if attributes.get("type") in _TYPES:
        prefix = f"{attributes.pop('type')} "
    items = ["abstract"] if feature.abstract else []
    items.extend(f"{quote_name(key) if not _PLAIN.match(key) else key} {_value(value)}"
                 for key, value in attributes.items())
    return prefix + quote_name(name) + (" {" + ", ".join(items) + "}" if items else "")


def _value(value: AttributeValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    text = str(value)
    return f'"{text}"' if "'" in text else f"'{text}'"


def _expression(expr: object) -> str:
    from evplatform.variability.model import And, Const, Iff, Implies, Not, Or, Var

    def wrap(e: object) -> str:
        text = render(e)
        return text if isinstance(e, Var | Const | Not) else f"({text})"

    def render(e: object) -> str:
        if isinstance(e, Var):
            return quote_name(e.name)
        if isinstance(e, Const):
            return "true" if e.value else "false"
        if isinstance(e, Not):
            return "!" + wrap(e.operand)
        if isinstance(e, And):
            return " & ".join(wrap(o) for o in e.operands)
        if isinstance(e, Or):
            return " | ".join(wrap(o) for o in e.operands)
        if isinstance(e, Implies):
            return f"{wrap(e.left)} => {wrap(e.right)}"
        if isinstance(e, Iff):
            return f"{wrap(e.left)} <=> {wrap(e.right)}"
        raise TypeError(f"not an expression: {e!r}")

    return render(expr)
