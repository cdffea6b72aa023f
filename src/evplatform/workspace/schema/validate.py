"""Refuse what the schema does not declare: unknown keys (with a suggestion) and missing required keys.

Runs on the parsed YAML before a reader looks at values, so a misspelt key is reported as
itself (``parnet``, at its own line) rather than as the absence of the key it was meant to be.
"""

from __future__ import annotations

from pathlib import Path

from evplatform.errors import WorkspaceError
from evplatform.workspace.schema.spec import Table
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
