"""Refuse what the schema does not declare: unknown keys (with a suggestion), missing required keys,
and scalar values of the wrong kind or outside the declared range.

Runs on the parsed YAML before a reader looks at values, so a misspelt key is reported as
itself (``parnet``, at its own line) rather than as the absence of the key it was meant to be,
and a number the schema bounds (``lifecycle_years: 0``, ``price: 1.0e308``) is refused at its
line instead of turning into a division by zero or an ``inf`` in a KPI.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from evplatform.errors import WorkspaceError
from evplatform.workspace.schema.spec import Key, Table
from evplatform.workspace.sources import LineDict, LineList, did_you_mean


def check_mapping(data: LineDict, table: Table, path: Path, where: str = "") -> None:  # noqa: C901 - one rule a check
    """Raise a WorkspaceError at the first unknown or missing key of ``data`` and its nested mappings.

    ``where`` names the nested mapping in messages ("trim 'pro'"); values of the wrong type are
    left to the readers, which know what to say about them.
    """
    if table.checked_by:
        return
    prefix = f"{where}: " if where else ""
    for key in data:
        if key not in table.names:
            hint = did_you_mean(key, table.names) or f" (known keys: {', '.join(table.names)})"
            raise WorkspaceError(f"{prefix}unknown key {key!r}{hint}", path, data.line_of(key))
    for name in table.required:
        if name not in data:
            raise WorkspaceError(f"{prefix}missing required key {name!r}", path, data.line)
    for spec in table.keys:
        value = data.get(spec.name)
        problem = value_problem(spec, value) if spec.name in data else ""
        if problem:
            raise WorkspaceError(f"{prefix}{problem}", path, data.line_of(spec.name))
        if spec.table is None or value is None:
            continue
        inner = f"{where} {spec.name}".strip() if where else spec.name
        if spec.type == "mapping" and isinstance(value, LineDict):
            check_mapping(value, spec.table, path, inner)
        elif spec.type == "map-of" and isinstance(value, LineDict):
            for item_id, item in value.items():
                if isinstance(item, LineDict):
                    check_mapping(item, spec.table, path, f"{spec.table.title} {item_id!r}")
        elif spec.type == "list-of" and isinstance(value, LineList):
            for item in value:
                if isinstance(item, LineDict):
                    label = f"{spec.table.title} {item['id']!r}" if "id" in item else spec.table.title
                    check_mapping(item, spec.table, path, label)


def value_problem(spec: Key, value: Any) -> str:
    """What is wrong with the value of a text, number or yes/no key, or ``""``.

    Other kinds (lists of ids, features, nested mappings) are left to the readers, which can name
    the unknown id. Numbers are read as the readers read them (``1e9`` written without a dot is
    text to YAML but a number here).
    """
    if spec.type == "string":
        if isinstance(value, dict | list) or (value is None and spec.required):
            return f"{spec.name} must be text, not {_shown(value)}"
        return ""
    if spec.type == "boolean":
        return "" if isinstance(value, bool) else f"{spec.name} must be true or false, not {_shown(value)}"
    if spec.type != "number":
        return ""
    number = _as_number(value)
    if number is None or not math.isfinite(number):
        return f"{spec.name} must be a finite number, not {_shown(value)}"
    unit = f" {spec.unit}" if spec.unit and not spec.unit.startswith("share") else ""
    low, high = spec.minimum, spec.maximum
    if low is not None and high is not None and not spec.exclusive_minimum and not low <= number <= high:
        return f"{spec.name} must be between {low:g} and {high:g}{unit}, not {_shown(value)}"
    if low is not None and (number < low or (spec.exclusive_minimum and number == low)):
        return f"{spec.name} must be {'>' if spec.exclusive_minimum else '≥'} {low:g}{unit}, not {_shown(value)}"
    if high is not None and number > high:
        return f"{spec.name} must be ≤ {high:g}{unit}, not {_shown(value)}"
    return ""


def _as_number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        return float(value)
    except (ValueError, OverflowError):
        return None


def _shown(value: Any) -> str:
    """The value as the user wrote it, shortened: a message must not echo a huge value back."""
    text = repr(list(value) if isinstance(value, list) else dict(value) if isinstance(value, dict) else value)
    return text if len(text) <= 60 else text[:57] + "..."
