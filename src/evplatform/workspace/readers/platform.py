"""platform.yaml: the platform's identity, its file references, models, markets and figures."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from evplatform.errors import WorkspaceError
from evplatform.workspace.model import Platform
from evplatform.workspace.schema import PLATFORM, check_mapping
from evplatform.workspace.sources import LineDict, number


def read_platform(spec: LineDict, path: Path) -> Platform:
    """The ``Platform`` of a parsed platform.yaml (unknown keys refused, see the schema)."""
    check_mapping(spec, PLATFORM.table, path)
    development = spec.get("development") or LineDict()
    comparison = spec.get("comparison") or LineDict()
    for section, name in ((development, "development"), (comparison, "comparison")):
        if not isinstance(section, dict):
            raise WorkspaceError(f"{name} must be a mapping", path, spec.line_of(name))

    def num(section: Any, key: str, default: float) -> float:
        if key not in section:
            return default
        line = section.line_of(key) if isinstance(section, LineDict) else spec.line
        return number(section[key], path, line, key)

    return Platform(
        name=str(spec["name"]),
        version=str(spec.get("version", "")),
        currency=str(spec["currency"]),
        base_market=str(spec["base_market"]),
        description=str(spec.get("description", "")),
        development_cost=num(development, "platform_cost", 0.0),
        lifecycle_years=max(num(development, "lifecycle_years", 1.0), 1e-9),
        standalone_development_share=num(comparison, "standalone_development_share", 0.5),
        scale_elasticity=num(comparison, "scale_elasticity", 0.0),
    )


def file_ref(spec: LineDict, key: str, default: str, path: Path) -> str:
    """The file name platform.yaml gives for ``key`` (``features``, ``parts``, …)."""
    value = spec.get(key, default)
    if not isinstance(value, str) or not value:
        raise WorkspaceError(f"{key} must be a file name", path, spec.line_of(key))
    return value


def id_list(spec: LineDict, key: str, path: Path) -> list[str]:
    """A non-empty list of unique ids (``models``, ``markets``)."""
    value = spec.get(key)
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise WorkspaceError(f"{key} must be a non-empty list of ids", path, spec.line_of(key))
    duplicates = sorted({v for v in value if value.count(v) > 1})
    if duplicates:
        raise WorkspaceError(f"duplicate {key}: {', '.join(duplicates)}", path, spec.line_of(key))
    return list(value)
