"""features.uvl, and the feature expressions and feature lists every other file uses."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from evplatform.errors import ParseError, WorkspaceError
from evplatform.variability.expression import parse_expression
from evplatform.variability.model import (
    And,
    Const,
    Expr,
    FeatureModel,
    Iff,
    Implies,
    Not,
    Or,
    Var,
)
from evplatform.variability.uvl import parse_uvl
from evplatform.workspace.schema.attributes import check_attributes
from evplatform.workspace.sources import read_text


def read_feature_model(path: Path) -> FeatureModel:
    """The platform's feature model (UVL), its attributes checked against what the tools read."""
    text = read_text(path, "feature model")
    if not text.strip():
        raise WorkspaceError("feature model is empty", path, 1)
    model = parse_uvl(text, source=str(path))
    check_attributes(model, path)
    return model


def expression(text: str, model: FeatureModel, path: Path, line: int, field: str) -> Expr:
    """Parse a feature expression and resolve every name to a feature of the model."""
    if not text.strip():
        raise WorkspaceError(f"{field} is empty: expected a feature expression", path, line)
    try:
        parsed = parse_expression(text, source=str(path), line=line)
    except ParseError as error:
        raise WorkspaceError(f"{field}: {error.message}", path, line, error.column) from error
    return _resolve(parsed, model, path, line, field)


def _resolve(expr: Expr, model: FeatureModel, path: Path, line: int, field: str) -> Expr:
    if isinstance(expr, Var):
        name = model.resolve(expr.name)
        if name is None:
            raise WorkspaceError(f"{field}: unknown feature {expr.name!r}", path, line)
        return Var(name)
    if isinstance(expr, Const):
        return expr
    if isinstance(expr, Not):
        return Not(_resolve(expr.operand, model, path, line, field))
    if isinstance(expr, And | Or):
        operands = tuple(_resolve(o, model, path, line, field) for o in expr.operands)
        return And(operands) if isinstance(expr, And) else Or(operands)
    if isinstance(expr, Implies | Iff):
        left = _resolve(expr.left, model, path, line, field)
        right = _resolve(expr.right, model, path, line, field)
        return Implies(left, right) if isinstance(expr, Implies) else Iff(left, right)
    raise WorkspaceError(f"{field}: unsupported expression {expr!r}", path, line)


def feature_names(value: Any, model: FeatureModel, path: Path, line: int, field: str) -> frozenset[str]:
    """A YAML list of feature references resolved to feature names (``None``: empty)."""
    if value is None:
        return frozenset()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise WorkspaceError(f"{field} must be a list of feature names", path, line)
    out = set()
    for index, ref in enumerate(value):
        name = model.resolve(ref)
        item_line = value.line_of(index) if hasattr(value, "line_of") else line
        if name is None:
            raise WorkspaceError(f"{field}: unknown feature {ref!r}", path, item_line)
        out.add(name)
    return frozenset(out)
