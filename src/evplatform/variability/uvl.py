"""The UVL reader: a hand-written, line-based parser (PyPI ``uvlparser`` is GPL-3.0 and slow).

Supported: ``namespace``, ``include`` of the language levels it implements (``uvl_levels.py``:
Boolean with group cardinalities; any other level is a ParseError), ``imports`` of sub-models
(relative to the file, ``a.b.c as alias``; cycles detected), the indented ``features`` tree
with ``mandatory``/``optional``/``or``/``alternative`` and ``[n..m]``/``[n]``/``[n..*]`` groups,
typed features (``Integer x`` — the type is kept as the attribute ``type``), attributes in
braces (numbers, quoted strings, booleans, bare flags such as ``abstract``), and the
``constraints`` section with one propositional constraint per line. ``//`` and ``/* */``
comments are skipped. Every error is a ``ParseError`` with file:line:column.
"""

from __future__ import annotations

import re
from pathlib import Path

from evplatform.errors import ParseError
from evplatform.variability.expression import parse_expression
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
from evplatform.variability.uvl_levels import feature_cardinality_problem, level_problem

_SECTIONS = ("namespace", "include", "imports", "features", "constraints")
_GROUP_WORDS = {
    "mandatory": GroupKind.MANDATORY,
    "optional": GroupKind.OPTIONAL,
    "or": GroupKind.OR,
    "alternative": GroupKind.ALTERNATIVE,
}
_CARDINALITY = re.compile(r"^(?:cardinality\s*)?\[\s*(\d+)\s*(?:\.\.\s*(\d+|\*)\s*)?\]\Z")
_TYPES = ("Boolean", "Integer", "Real", "String")
_NAME = re.compile(r'"((?:[^"\\]|\\.)*)"|([^\s{}"\[\]]+)')
_NUMBER = re.compile(r"^-?\d+(?:\.\d*)?(?:[eE][+-]?\d+)?\Z|^-?\.\d+(?:[eE][+-]?\d+)?\Z")
_ARITHMETIC = re.compile(r"[<>]|==|\+|\*|/|\bsum\(|\bavg\(|\blen\(")


def read_uvl(path: str | Path) -> FeatureModel:
    """Read a UVL file (and its imports)."""
    return _read(Path(path), ())


def _read(path: Path, loading: tuple[Path, ...]) -> FeatureModel:
    resolved = path.resolve()
    if resolved in loading:
        chain = " → ".join(p.name for p in (*loading, resolved))
        raise ParseError(f"import cycle: {chain}", path, 1, 1)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ParseError("file not found", path) from None
    except UnicodeDecodeError as error:
        raise ParseError(f"not UTF-8 text ({error.reason})", path) from error
    return _Reader(text, str(path), path.parent, (*loading, resolved)).parse()


def parse_uvl(text: str, source: str = "<string>") -> FeatureModel:
    """Parse UVL text; imports are resolved relative to ``source`` when it is a path."""
    base = Path(source).parent if source and not source.startswith("<") else Path.cwd()
    loading = (Path(source).resolve(),) if source and not source.startswith("<") else ()
    return _Reader(text, source, base, loading).parse()


def _strip_comments(text: str) -> list[str]:
    """Lines with ``//`` and ``/* */`` comments blanked out (line numbers preserved)."""
    if "/*" in text:
        text = re.sub(r"/\*.*?\*/", lambda m: "\n" * m.group(0).count("\n"), text, flags=re.S)
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if "//" in line:
            lines[i] = _cut_line_comment(line)
    return lines


def _cut_line_comment(line: str) -> str:
    in_quote = ""
    for i, ch in enumerate(line):
        if in_quote:
            if ch == in_quote:
                in_quote = ""
        elif ch in "\"'":
            in_quote = ch
        elif ch == "/" and line.startswith("//", i):
            return line[:i]
    return line


def _indent_of(line: str) -> int:
    width = 0
    for ch in line:
        if ch == " ":
            width += 1
        elif ch == "\t":
            width += 4
        else:
            break
    return width


class _Reader:
    def __init__(self, text: str, source: str, base: Path, loading: tuple[Path, ...]) -> None:
        self.lines = _strip_comments(text)
        self.source = source
        self.base = base
        self.loading = loading
        self.features: dict[str, Feature] = {}
        self.root: str | None = None
        self.constraints: list[Constraint] = []
        self.imports: dict[str, FeatureModel] = {}
        self.group_owner: dict[int, str] = {}

    def error(self, message: str, line: int, column: int = 1) -> ParseError:
        return ParseError(message, self.source, line, column)

    def parse(self) -> FeatureModel:  # noqa: C901 - one pass over the lines, a branch per UVL construct
        if not any(line.strip() for line in self.lines):
            raise self.error("empty file: expected 'features' and a root feature", 1)
        section: str | None = None
        body: dict[str, list[tuple[int, str]]] = {name: [] for name in _SECTIONS}
        for number, raw in enumerate(self.lines, start=1):
            stripped = raw.strip()
            if not stripped:
                continue
            if _indent_of(raw) == 0:
                word = stripped.split(None, 1)[0]
                if word not in _SECTIONS:
                    raise self.error(f"expected a section keyword ({', '.join(_SECTIONS)}), found {word!r}",
                                     number)
                section = word
                rest = stripped[len(word):].strip()
                if word == "namespace":
                    continue
                if rest:
                    body[word].append((number, raw[len(raw) - len(raw.lstrip()) + len(word):]))
                continue
            if section is None:
                raise self.error("indented line before any section", number, _indent_of(raw) + 1)
            body[section].append((number, raw))
        for number, raw in body["include"]:
            self.read_include(number, raw)
        for number, raw in body["imports"]:
            self.read_import(number, raw.strip())
        if not body["features"]:
            raise self.error("no 'features' section: a model needs a root feature", len(self.lines))
        self.read_tree(body["features"])
        for number, raw in body["constraints"]:
            self.read_constraint(number, raw)
        if self.root is None:
            raise AssertionError("cannot happen")  # an invariant, kept under python -O
        return FeatureModel(self.root, self.features, self.constraints, self.source)

    # --- language levels and imports ----------------------------------------------------

    def read_include(self, number: int, raw: str) -> None:
        """One ``include`` line: every level on it must be one the reader implements."""
        column = len(self.lines[number - 1]) - len(raw) + 1
        for match in re.finditer(r"\S+", raw):
            problem = level_problem(match.group())
            if problem is not None:
                raise self.error(problem, number, column + match.start())


    def read_import(self, number: int, text: str) -> None:
        match = re.fullmatch(r"([\w.\-/]+)(?:\s+as\s+(\w+))?", text)
        if not match:
            raise self.error(f"expected 'path.to.model [as alias]', found {text!r}", number)
        dotted, alias = match.group(1), match.group(2)
        path = self.base / (dotted.replace(".", "/") + ".uvl")
        if not path.exists():
            path = self.base / (dotted + ".uvl")
        if not path.exists():
            raise self.error(f"imported model not found: {path}", number)
        self.imports[alias or dotted] = _read(path, self.loading)

    # --- the tree -----------------------------------------------------------------------

    def read_tree(self, lines: list[tuple[int, str]]) -> None:
        stack: list[tuple[int, Feature | Group]] = []
        for number, raw in lines:
            indent = _indent_of(raw)
            text = raw.strip()
            while stack and stack[-1][0] >= indent:
                stack.pop()
            top = stack[-1][1] if stack else None
            if isinstance(top, Feature):
                group = self.group(text, number, indent)
                top.groups.append(group)
                self.group_owner[id(group)] = top.name
                stack.append((indent, group))
                continue
            if top is None and self.root is not None:
                raise self.error("a second root feature: the tree has exactly one root", number, indent + 1)
            feature = self.feature(text, number, indent, top)
            if isinstance(top, Group):
                top.children.append(feature.name)
            stack.append((indent, feature))
        if self.root is None:
            raise self.error("the 'features' section has no root feature", lines[0][0])
        for feature in self.features.values():
            for group in feature.groups:
                if not group.children:
                    raise self.error(f"empty {group.kind.value} group under {feature.name}", group.line or 1)

    def group(self, text: str, number: int, indent: int) -> Group:
        kind = _GROUP_WORDS.get(text)
        if kind is not None:
            return Group(kind, [], line=number)
        match = _CARDINALITY.match(text)
        if match:
            low = int(match.group(1))
            high_text = match.group(2)
            high = low if high_text is None else (None if high_text == "*" else int(high_text))
            if high is not None and high < low:
                raise self.error(f"group cardinality [{low}..{high}] has max < min", number, indent + 1)
            return Group(GroupKind.CARDINALITY, [], low, high, line=number)
        raise self.error(
            f"expected a group keyword (mandatory, optional, or, alternative, [n..m]), found {text!r}",
            number, indent + 1,
        )

    def feature(self, text: str, number: int, indent: int, parent: Group | None) -> Feature:
        column = indent + 1
        type_name = None
        first = text.split(None, 1)
        if len(first) == 2 and first[0] in _TYPES:
            type_name = first[0]
            offset = len(text) - len(first[1])
            text, column = first[1], column + offset
        match = _NAME.match(text)
        if not match:
            raise self.error(f"expected a feature name, found {text!r}", number, column)
        name = match.group(1).replace('\\"', '"') if match.group(1) is not None else match.group(2)
        rest = text[match.end():].strip()
        if rest.startswith("cardinality"):
            raise self.error(feature_cardinality_problem(), number, column + text.index(rest))
        attributes: dict[str, AttributeValue] = {}
        if rest:
            if not (rest.startswith("{") and rest.endswith("}")):
                raise self.error(f"expected attributes in braces after {name!r}, found {rest!r}", number,
                                 column + match.end())
            attributes = self.attributes(rest[1:-1], number, column + text.index(rest) + 1)
        if type_name is not None:
            attributes.setdefault("type", type_name)
        parent_name = self.parent_feature(parent)
        if match.group(2) is not None and name in self.import_roots():
            return self.graft(name, parent_name, number, column)
        if name in self.features:
            first_line = self.features[name].line
            raise self.error(f"duplicate feature {name!r} (first on line {first_line})", number, column)
        abstract = bool(attributes.pop("abstract", False))
        feature = Feature(name, parent_name, [], attributes, abstract, number)
        self.features[name] = feature
        if parent is None:
            self.root = name
        return feature

    def parent_feature(self, group: Group | None) -> str | None:
        return None if group is None else self.group_owner[id(group)]

    def import_roots(self) -> dict[str, str]:
        return {f"{alias}.{model.root}": alias for alias, model in self.imports.items()}

    def graft(self, reference: str, parent: str | None, number: int, column: int) -> Feature:
        """Place an imported model's tree (and constraints) where its root is referenced."""
        model = self.imports[self.import_roots()[reference]]
        for name, feature in model.features.items():
            if name in self.features:
                raise self.error(f"imported feature {name!r} clashes with an existing feature", number, column)
            self.features[name] = Feature(name, feature.parent, feature.groups, dict(feature.attributes),
                                          feature.abstract, number)
        root = self.features[model.root]
        root.parent = parent
        if parent is None:
            self.root = root.name
        self.constraints.extend(Constraint(c.expr, number, c.text) for c in model.constraints)
        return root

    def attributes(self, text: str, number: int, column: int) -> dict[str, AttributeValue]:
        out: dict[str, AttributeValue] = {}
        for item, offset in _split_top_level(text):
            item = item.strip()
            if not item:
                continue
            key, _, value = item.partition(" ")
            if key == "constraint" or key == "constraints":
                continue  # attribute-level constraints: not part of the propositional semantics here
            out[key.strip("'\"")] = _attribute_value(value.strip()) if value.strip() else True
            del offset
        return out

    # --- constraints --------------------------------------------------------------------

    def read_constraint(self, number: int, raw: str) -> None:
        text = raw.strip()
        if _ARITHMETIC.search(_without_quoted(text)):
            raise self.error("arithmetic constraints are not supported; expected a propositional constraint",
                             number, _indent_of(raw) + 1)
        try:
            expr = parse_expression(text, self.source, number)
        except ParseError as error:
            column = (error.column or 1) + _indent_of(raw)
            raise ParseError(error.message, self.source, number, column) from None
        self.constraints.append(Constraint(self.resolve(expr, number, raw), number, text))

    def resolve(self, expr: Expr, number: int, raw: str) -> Expr:
        if isinstance(expr, Var):
            name = self.lookup(expr.name)
            if name is None:
                column = raw.find(expr.name) + 1 or 1
                raise self.error(f"unknown feature {expr.name!r} in constraint", number, column)
            return expr if name == expr.name else Var(name)
        if isinstance(expr, Const):
            return expr
        if isinstance(expr, Not):
            return Not(self.resolve(expr.operand, number, raw))
        if isinstance(expr, And):
            return And(tuple(self.resolve(o, number, raw) for o in expr.operands))
        if isinstance(expr, Or):
            return Or(tuple(self.resolve(o, number, raw) for o in expr.operands))
        if isinstance(expr, Implies):
            return Implies(self.resolve(expr.left, number, raw), self.resolve(expr.right, number, raw))
        if isinstance(expr, Iff):
            return Iff(self.resolve(expr.left, number, raw), self.resolve(expr.right, number, raw))
        raise self.error(f"unsupported expression {expr!r}", number)

    def lookup(self, reference: str) -> str | None:
        if reference in self.features:
            return reference
        alias, _, rest = reference.partition(".")
        if rest and alias in self.imports and rest in self.features:
            return rest
        if "." in reference:
            model = FeatureModel(self.root or "", self.features)
            return model.resolve(reference)
        return None


def _without_quoted(text: str) -> str:
    """The text with quoted names and the logical arrows blanked, for the arithmetic check."""
    return re.sub(r'"(?:[^"\\]|\\.)*"', '""', text).replace("<=>", " ").replace("=>", " ")


def _split_top_level(text: str) -> list[tuple[str, int]]:
    """Split attribute text on commas outside quotes, brackets and braces."""
    parts: list[tuple[str, int]] = []
    depth = 0
    quote = ""
    start = 0
    for i, ch in enumerate(text):
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch in "[{(":
            depth += 1
        elif ch in "]})":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append((text[start:i], start))
            start = i + 1
    parts.append((text[start:], start))
    return parts


def _attribute_value(text: str) -> AttributeValue:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    if text in ("true", "false"):
        return text == "true"
    if _NUMBER.match(text):
        number = float(text)
        return int(number) if re.fullmatch(r"-?\d+", text) else number
    return text
