"""DIMACS CNF with feature names in ``c <variable> <name>`` comment lines (FeatureIDE's convention).

Reading keeps the file's exact semantics as a :class:`CNF`. Variables named by ``c`` lines are
features; when the named ones are exactly ``1..k`` the unnamed ones after them are auxiliary
(the layout :func:`format_dimacs` produces from :func:`evplatform.variability.cnf.encode`),
otherwise an unnamed variable is a feature called ``_<n>``. A file without any name is all
features ``_1 … _n``. The ``p cnf V C`` header must agree with the clauses (at most V
variables, exactly C clauses): a disagreement is an error naming the header line.

As a :class:`FeatureModel` (for tree-based analyses and conversion) a DIMACS file becomes a
flat tree: an abstract root (``__root__``, or ``__root__2`` … when that name is taken) with every
variable an optional child, each clause a constraint citing its line. Auxiliary variables
become abstract features: our encoder defines each one from the features, so the number of
configurations does not change.
"""

from __future__ import annotations

from pathlib import Path

from evplatform.errors import ParseError
from evplatform.variability.cnf import CNF
from evplatform.variability.model import Constraint, Expr, Feature, FeatureModel, Group, GroupKind, Not, Or, Var

#: The most variables a DIMACS header may declare: 100× the largest public feature models (tens of
#: thousands of variables), and small enough that their names fit in memory.
MAX_VARIABLES = 5_000_000


def read_dimacs(path: str | Path) -> CNF:
    """The CNF of a DIMACS file, names from its ``c`` lines."""
    return parse_dimacs(_read_text(path), str(path))[0]


def parse_dimacs(text: str, source: str = "<string>") -> tuple[CNF, list[int]]:  # noqa: C901 - one pass over the lines, a branch per line kind
    """The CNF and the line each clause ends on."""
    names: dict[int, str] = {}
    header: tuple[int, int, int] | None = None  # (variables, clauses, line)
    clauses: list[list[int]] = []
    lines: list[int] = []
    current: list[int] = []
    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw.strip()
        if not line or line.startswith("%"):
            continue
        if line.startswith("c"):
            _name_line(line, names, source, number)
            continue
        if line.startswith("p"):
            header = _header(line, header, source, number, len(text))
            continue
        if header is None:
            raise ParseError("clause before the 'p cnf <variables> <clauses>' header", source, number, 1)
        column = 1
        for token in line.split():
            column = raw.index(token, column - 1) + 1
            try:
                lit = int(token)
            except ValueError:
                raise ParseError(f"expected an integer literal, found {token!r}", source, number, column) from None
            if abs(lit) > header[0]:
                raise ParseError(f"literal {lit} exceeds the {header[0]} variables of the header (line {header[2]})",
                                 source, number, column)
            if lit == 0:
                clauses.append(current)
                lines.append(number)
                current = []
            else:
                current.append(lit)
            column += len(token)
    if header is None:
        raise ParseError("empty file: expected a 'p cnf <variables> <clauses>' header", source, 1, 1)
    if current:
        clauses.append(current)
        lines.append(text.count("\n") + 1)
    if len(clauses) != header[1]:
        raise ParseError(f"header says {header[1]} clauses but the file has {len(clauses)}", source, header[2], 1)
    return _cnf(header[0], clauses, names, source), lines


def _read_text(path: str | Path) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ParseError("file not found", path) from None
    except UnicodeDecodeError as error:
        raise ParseError(f"not UTF-8 text ({error.reason})", path) from error


def _name_line(line: str, names: dict[int, str], source: str, number: int) -> None:
    parts = line.split(None, 2)
    if len(parts) == 3 and parts[1].rstrip("$").isdigit():
        variable = int(parts[1].rstrip("$"))
        if variable in names and names[variable] != parts[2]:
            raise ParseError(f"variable {variable} named twice ({names[variable]!r} and {parts[2]!r})", source, number)
        names[variable] = parts[2]


def _header(line: str, seen: tuple[int, int, int] | None, source: str, number: int,
            text_length: int) -> tuple[int, int, int]:
    """The header's (variables, clauses, line), refused when it cannot describe this file.

    Every variable becomes a feature with a name, so a header is a promise of memory: a 4.5 KB
    file saying ``p cnf 2000000000 264`` once made the reader allocate 23.7 GB. A clause needs at
    least two characters (``0`` and a separator), so no file holds more than half its length in
    clauses; variables are capped at ``MAX_VARIABLES``, far above any feature model known.
    """
    if seen is not None:
        raise ParseError(f"second header (the first is on line {seen[2]})", source, number, 1)
    parts = line.split()
    if len(parts) != 4 or parts[1] != "cnf" or not parts[2].isdigit() or not parts[3].isdigit():
        raise ParseError(f"expected 'p cnf <variables> <clauses>', found {line!r}", source, number, 1)
    variables, clauses = int(parts[2]), int(parts[3])
    if variables > MAX_VARIABLES:
        raise ParseError(f"the header declares {variables:,} variables; this reader takes at most "
                         f"{MAX_VARIABLES:,}", source, number, 1)
    if clauses > text_length // 2 + 1:
        raise ParseError(f"the header declares {clauses:,} clauses, more than a file of {text_length:,} characters "
                         "can hold", source, number, 1)
    return variables, clauses, number


def _cnf(n_vars: int, clauses: list[list[int]], names: dict[int, str], source: str) -> CNF:
    named = sorted(v for v in names if 1 <= v <= n_vars)
    if named and named == list(range(1, len(named) + 1)):
        n_features = len(named)
        labels = [names[v] for v in named] + [""] * (n_vars - n_features)
    else:
        n_features = n_vars
        labels = [names.get(v, f"_{v}") for v in range(1, n_vars + 1)]
    var: dict[str, int] = {}
    for v in range(1, n_features + 1):
        if labels[v - 1] in var:
            raise ParseError(f"variables {var[labels[v - 1]]} and {v} share the name {labels[v - 1]!r}", source)
        var[labels[v - 1]] = v
    return CNF(n_vars, clauses, var, labels, n_features)


def read_dimacs_model(path: str | Path) -> FeatureModel:
    """A DIMACS file as a flat feature model (see the module docstring)."""
    cnf, lines = parse_dimacs(_read_text(path), str(path))
    return cnf_to_model(cnf, lines, str(path))


def cnf_to_model(cnf: CNF, lines: list[int] | None = None, source: str | None = None) -> FeatureModel:
    labels = [cnf.names[v - 1] or f"_{v}" for v in range(1, cnf.n_vars + 1)]
    root = "__root__"
    suffix = 2
    while root in set(labels):
        root = f"__root__{suffix}"
        suffix += 1
    features = {root: Feature(root, None, [Group(GroupKind.OPTIONAL, list(labels))] if labels else [], {}, True)}
    for v, name in enumerate(labels, start=1):
        features[name] = Feature(name, root, abstract=v > cnf.n_features)
    constraints = []
    for i, clause in enumerate(cnf.clauses):
        literals: list[Expr] = [Var(labels[abs(x) - 1]) if x > 0 else Not(Var(labels[abs(x) - 1])) for x in clause]
        expr: Expr = literals[0] if len(literals) == 1 else Or(tuple(literals))
        if not literals:
            expr = Not(Var(root))
        constraints.append(Constraint(expr, lines[i] if lines else None))
    return FeatureModel(root, features, constraints, source)


def format_dimacs(cnf: CNF) -> str:
    """DIMACS text: a ``c`` line per feature, the header, one clause a line."""
    out = [f"c {v} {cnf.names[v - 1]}" for v in range(1, cnf.n_features + 1)]
    out.append(f"p cnf {cnf.n_vars} {len(cnf.clauses)}")
    out.extend(" ".join(map(str, clause)) + " 0" if clause else "0" for clause in cnf.clauses)
    return "\n".join(out) + "\n"
