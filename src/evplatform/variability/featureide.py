"""FeatureIDE XML: reader and writer.

Reading uses the standard library's expat parser directly, so every element keeps the line it
starts on (for errors and explanations) and malformed XML is reported at its line and column;
expat resolves no external entities. The tree: ``<and>`` children are mandatory when they say
``mandatory="true"``, optional otherwise; ``<or>`` and ``<alt>`` make or- and alternative
groups (a single child of either is required, as FeatureIDE reads it); ``<feature>`` is a
leaf; ``abstract="true"`` marks abstract features; ``<attribute name type value>`` children
become attributes; ``<description>`` and ``<graphics>`` are ignored. Constraints are
``<rule>`` elements over ``var``, ``not``, ``conj``, ``disj``, ``imp`` and ``eq``.

Writing needs each feature to have one kind of decomposition: a feature that mixes groups (as
UVL allows) gets an abstract mandatory helper child per or/alternative group, named
``<feature>#<n>``, which is selected exactly when its parent is, so configurations correspond
one to one. Group cardinalities other than [0..n], [1..n], [1..1] and [n..n] cannot be written.
"""

from __future__ import annotations

import xml.parsers.expat
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from evplatform.errors import ParseError, VariabilityError
from evplatform.variability.expression import MAX_DEPTH
from evplatform.variability.model import (
    And,
    AttributeValue,
    Const,
    Constraint,
    Expr,
    Feature,
    FeatureModel,
    Group,
    GroupKind,
    Iff,
    Implies,
    Not,
    Or,
    Var,
)

_TREE_TAGS = {"and", "or", "alt", "feature"}

#: Work for the writer's explicit stack: a feature to write (name, mandatory, indent, groups,
#: abstract) or a closing tag line.
_Work = tuple[str, bool, int, list[Group] | None, bool | None] | str
_IGNORED = {"description", "graphics", "comment"}


@dataclass
class _Element:
    tag: str
    attrs: dict[str, str]
    line: int
    column: int
    children: list[_Element] = field(default_factory=list)
    text: list[str] = field(default_factory=list)


def read_featureide(path: str | Path) -> FeatureModel:
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise ParseError("file not found", path) from None
    return parse_featureide(data, str(path))


def parse_featureide(data: bytes | str, source: str = "<string>") -> FeatureModel:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if not raw.strip():
        raise ParseError("empty file: expected a FeatureIDE <featureModel>", source, 1, 1)
    root = _parse_xml(raw, source)
    return _Builder(source).model(root)


def _parse_xml(data: bytes, source: str) -> _Element:
    parser = xml.parsers.expat.ParserCreate()
    stack: list[_Element] = []
    top: list[_Element] = []

    def start(tag: str, attrs: dict[str, str]) -> None:
        element = _Element(tag, attrs, parser.CurrentLineNumber, parser.CurrentColumnNumber + 1)
        (stack[-1].children if stack else top).append(element)
        stack.append(element)

    def end(tag: str) -> None:
        stack.pop()

    def text(content: str) -> None:
        if stack:
            stack[-1].text.append(content)

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    try:
        parser.Parse(data, True)
    except xml.parsers.expat.ExpatError as error:
        message = xml.parsers.expat.errors.messages[error.code]
        raise ParseError(f"malformed XML: {message}", source, error.lineno, error.offset + 1) from None
    return top[0]


class _Builder:
    def __init__(self, source: str) -> None:
        self.source = source
        self.features: dict[str, Feature] = {}

    def error(self, message: str, element: _Element) -> ParseError:
        return ParseError(message, self.source, element.line, element.column)

    def model(self, root: _Element) -> FeatureModel:
        if root.tag != "featureModel":
            raise self.error(f"expected <featureModel>, found <{root.tag}>", root)
        struct = next((c for c in root.children if c.tag == "struct"), None)
        if struct is None:
            raise self.error("no <struct>: a feature model needs a root feature", root)
        tree = [c for c in struct.children if c.tag in _TREE_TAGS]
        if len(tree) != 1:
            raise self.error(f"<struct> must hold exactly one root feature, found {len(tree)}", struct)
        self.tree(tree[0])
        constraints: list[Constraint] = []
        for section in (c for c in root.children if c.tag == "constraints"):
            for rule in section.children:
                if rule.tag != "rule":
                    raise self.error(f"expected <rule>, found <{rule.tag}>", rule)
                formula = [c for c in rule.children if c.tag not in _IGNORED]
                if len(formula) != 1:
                    raise self.error(f"a <rule> holds one formula, found {len(formula)}", rule)
                constraints.append(Constraint(self.expr(formula[0]), rule.line))
        root_name = tree[0].attrs.get("name", "")
        return FeatureModel(root_name, self.features, constraints, self.source)

    def tree(self, root: _Element) -> None:
        """Every feature under ``root``, depth first with an explicit stack: a tree nested thousands of
        levels deep (as UVL allows) must not hit the interpreter's recursion limit."""
        stack: list[tuple[_Element, str | None, Group | None]] = [(root, None, None)]
        while stack:
            element, parent, group = stack.pop()
            name, children = self.feature(element, parent)
            if group is not None:
                group.children.append(name)
            stack.extend(reversed(children))

    def feature(
        self, element: _Element, parent: str | None
    ) -> tuple[str, list[tuple[_Element, str, Group]]]:
        """Add one feature; return its name and its child elements with the group each joins."""
        name = element.attrs.get("name")
        if not name:
            raise self.error(f"<{element.tag}> without a name", element)
        if name in self.features:
            raise self.error(f"duplicate feature {name!r} (first on line {self.features[name].line})", element)
        feature = Feature(name, parent, [], {}, element.attrs.get("abstract") == "true", element.line)
        self.features[name] = feature
        children = [c for c in element.children if c.tag in _TREE_TAGS]
        for child in element.children:
            if child.tag == "attribute":
                key, value = self.attribute(child)
                feature.attributes[key] = value
            elif child.tag not in _TREE_TAGS and child.tag not in _IGNORED:
                raise self.error(f"unexpected <{child.tag}> in feature {name!r}", child)
        if children and element.tag == "feature":
            raise self.error(f"<feature> {name!r} is a leaf but has children; use <and>, <or> or <alt>", element)
        work: list[tuple[_Element, str, Group]] = []
        if element.tag in ("or", "alt") and children:
            kind = GroupKind.OR if element.tag == "or" else GroupKind.ALTERNATIVE
            group = Group(kind, [], line=element.line)
            feature.groups.append(group)
            work = [(child, name, group) for child in children]
        else:
            for child in children:
                kind = GroupKind.MANDATORY if child.attrs.get("mandatory") == "true" else GroupKind.OPTIONAL
                if not feature.groups or feature.groups[-1].kind is not kind:
                    feature.groups.append(Group(kind, [], line=child.line))
                work.append((child, name, feature.groups[-1]))
        return name, work

    def attribute(self, element: _Element) -> tuple[str, AttributeValue]:
        key = element.attrs.get("name")
        if not key:
            raise self.error("<attribute> without a name", element)
        value = element.attrs.get("value", "")
        kind = element.attrs.get("type", "string").lower()
        try:
            if kind in ("long", "int", "integer"):
                return key, int(value)
            if kind in ("double", "float", "real"):
                return key, float(value)
        except ValueError:
            raise self.error(f"attribute {key!r}: {value!r} is not a {kind}", element) from None
        if kind == "boolean":
            return key, value.lower() == "true"
        return key, value

    def expr(self, element: _Element, depth: int = 1) -> Expr:  # noqa: C901 - one branch per formula element
        """The formula of a ``<rule>``, nested at most ``MAX_DEPTH`` levels (as in UVL constraints)."""
        if depth > MAX_DEPTH:
            raise self.error(f"formula nested deeper than {MAX_DEPTH} levels", element)
        tag = element.tag
        operands = [c for c in element.children if c.tag not in _IGNORED]
        if tag == "var":
            name = "".join(element.text).strip()
            if name not in self.features:
                raise self.error(f"unknown feature {name!r} in constraint", element)
            return Var(name)
        parts = [self.expr(c, depth + 1) for c in operands]
        arity = {"not": 1, "imp": 2, "eq": 2}
        if tag in arity and len(parts) != arity[tag]:
            raise self.error(f"<{tag}> takes {arity[tag]} operand(s), found {len(parts)}", element)
        if tag == "not":
            return Not(parts[0])
        if tag == "imp":
            return Implies(parts[0], parts[1])
        if tag == "eq":
            return Iff(parts[0], parts[1])
        if tag in ("conj", "disj"):
            if not parts:
                return Const(tag == "conj")
            if len(parts) == 1:
                return parts[0]
            return And(tuple(parts)) if tag == "conj" else Or(tuple(parts))
        raise self.error(f"expected a formula (var, not, conj, disj, imp, eq), found <{tag}>", element)


# --- writing ---------------------------------------------------------------------------------


def format_featureide(model: FeatureModel) -> str:
    """FeatureIDE XML text of ``model`` (see the module docstring for what cannot be written)."""
    out = ['<?xml version="1.0" encoding="UTF-8" standalone="no"?>', "<featureModel>", "\t<struct>"]
    _write_tree(model, out)
    out.append("\t</struct>")
    out.append("\t<constraints>")
    for constraint in model.constraints:
        out.append("\t\t<rule>")
        _write_expr(constraint.expr, 3, out)
        out.append("\t\t</rule>")
    out.append("\t</constraints>")
    out.append("</featureModel>")
    return "\n".join(out) + "\n"


def _kind(group: Group) -> GroupKind:
    """The FeatureIDE decomposition a group's bounds correspond to."""
    low, high = group.bounds()
    n = len(group.children)
    if group.kind in (GroupKind.MANDATORY, GroupKind.OPTIONAL):
        return group.kind
    if low == n:
        return GroupKind.MANDATORY
    if (low, high) == (0, n):
        return GroupKind.OPTIONAL
    if (low, high) == (1, 1):
        return GroupKind.ALTERNATIVE
    if (low, high) == (1, n):
        return GroupKind.OR
    where = f" (line {group.line})" if group.line else ""
    raise VariabilityError(f"FeatureIDE XML cannot express the group cardinality [{low}..{high}]{where} "
                           f"of {', '.join(group.children)}")


def _write_tree(model: FeatureModel, out: list[str]) -> None:
    """The ``<struct>`` content, depth first with an explicit stack (deep trees, as in the reader)."""
    stack: list[_Work] = [(model.root, False, 2, None, None)]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            out.append(item)
        else:
            stack.extend(reversed(_write_feature(model, *item, out)))


def _write_feature(model: FeatureModel, name: str, mandatory: bool, depth: int,
                   groups: list[Group] | None, abstract: bool | None, out: list[str]) -> list[_Work]:
    """Write one feature's opening lines; return its children and closing tag, still to write."""
    feature = model.features.get(name)
    groups = feature.groups if groups is None and feature is not None else (groups or [])
    kinds = [_kind(g) for g in groups]
    attrs = f"name={quoteattr(name)}"
    if mandatory:
        attrs = 'mandatory="true" ' + attrs
    if abstract if abstract is not None else (feature is not None and feature.abstract):
        attrs = 'abstract="true" ' + attrs
    pad = "\t" * depth
    extra = [f"{pad}\t<attribute name={quoteattr(k)} type={quoteattr(_type(v))} value={quoteattr(_text(v))}/>"
             for k, v in (feature.attributes.items() if feature is not None else ())]
    if not groups:
        out.extend([f"{pad}<feature {attrs}>", *extra, f"{pad}</feature>"] if extra else [f"{pad}<feature {attrs}/>"])
        return []
    if len(groups) == 1 and kinds[0] in (GroupKind.OR, GroupKind.ALTERNATIVE):
        tag = "or" if kinds[0] is GroupKind.OR else "alt"
        out.append(f"{pad}<{tag} {attrs}>")
        out.extend(extra)
        return [*((child, False, depth + 1, None, None) for child in groups[0].children), f"{pad}</{tag}>"]
    out.append(f"{pad}<and {attrs}>")
    out.extend(extra)
    work: list[_Work] = []
    helper = 0
    for group, kind in zip(groups, kinds, strict=True):
        if kind in (GroupKind.MANDATORY, GroupKind.OPTIONAL):
            work += [(child, kind is GroupKind.MANDATORY, depth + 1, None, None) for child in group.children]
        else:
            helper += 1
            work.append((f"{name}#{helper}", True, depth + 1, [group], True))
    return [*work, f"{pad}</and>"]


def _type(value: AttributeValue) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "long"
    if isinstance(value, float):
        return "double"
    return "string"


def _text(value: AttributeValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _write_expr(expr: Expr, depth: int, out: list[str]) -> None:
    pad = "\t" * depth
    if isinstance(expr, Var):
        out.append(f"{pad}<var>{escape(expr.name)}</var>")
        return
    if isinstance(expr, Const):
        out.append(f"{pad}<{'conj' if expr.value else 'disj'}/>")
        return
    tag, parts = _tag_parts(expr)
    out.append(f"{pad}<{tag}>")
    for part in parts:
        _write_expr(part, depth + 1, out)
    out.append(f"{pad}</{tag}>")


def _tag_parts(expr: Expr) -> tuple[str, tuple[Expr, ...]]:
    if isinstance(expr, Not):
        return "not", (expr.operand,)
    if isinstance(expr, And):
        return "conj", expr.operands
    if isinstance(expr, Or):
        return "disj", expr.operands
    if isinstance(expr, Implies):
        return "imp", (expr.left, expr.right)
    if isinstance(expr, Iff):
        return "eq", (expr.left, expr.right)
    raise VariabilityError(f"cannot write {expr!r} as FeatureIDE XML")
