"""The workspace schema: every file's keys and columns and the feature attributes, declared once.

From the declarations come the readers' refusal of unknown keys (:func:`check_mapping`), the
feature-attribute check (:func:`check_attributes`), and the generated documentation
(:func:`generated_docs`: docs/workspace.md and docs/schema/*.schema.json).
"""

from __future__ import annotations

import json
from pathlib import Path

from evplatform.workspace.schema.attributes import ATTRIBUTES, check_attributes
from evplatform.workspace.schema.files import (
    CSV_FILES,
    MARKET,
    MODEL,
    ON_DEMAND,
    PARTS,
    PLATFORM,
    REGULATIONS,
    SOFTWARE,
    YAML_FILES,
)
from evplatform.workspace.schema.jsonschema import all_schemas
from evplatform.workspace.schema.reference import reference_markdown
from evplatform.workspace.schema.validate import check_mapping

__all__ = [
    "ATTRIBUTES",
    "CSV_FILES",
    "MARKET",
    "MODEL",
    "ON_DEMAND",
    "PARTS",
    "PLATFORM",
    "REGULATIONS",
    "SOFTWARE",
    "YAML_FILES",
    "check_attributes",
    "check_mapping",
    "generated_docs",
    "stale_docs",
    "write_docs",
]


def generated_docs() -> dict[str, str]:
    """Every generated documentation file by path relative to docs/, with its text."""
    out = {"workspace.md": reference_markdown()}
    for name, schema in all_schemas().items():
        out[f"schema/{name}"] = json.dumps(schema, indent=2, ensure_ascii=False) + "\n"
    return out


def stale_docs(docs: Path) -> list[str]:
    """The generated files under ``docs`` that are missing or differ from what the schema gives."""
    stale = []
    for name, text in generated_docs().items():
        path = docs / name
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            stale.append(name)
    return stale


def write_docs(docs: Path) -> list[str]:
    """Write the stale generated files under ``docs``; return what was written."""
    written = stale_docs(docs)
    texts = generated_docs()
    for name in written:
        path = docs / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(texts[name], encoding="utf-8")
    return written
