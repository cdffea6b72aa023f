"""JSON Schemas (draft 2020-12) of the workspace files, generated from the declarations in :mod:`.files`.

Editors use them (yaml-language-server: completion, hover text, unknown keys underlined). The
YAML files get a schema of the whole file; a CSV file gets the schema of one row (column → value),
and features.uvl the schema of one feature's attributes.
"""

from __future__ import annotations

from typing import Any

from evplatform.workspace.schema.attributes import ATTRIBUTES
from evplatform.workspace.schema.files import CSV_FILES, YAML_FILES
from evplatform.workspace.schema.spec import Column, CsvFile, Key, Table, YamlFile

DIALECT = "https://json-schema.org/draft/2020-12/schema"


def schema_file_name(file_id: str) -> str:
    return f"{file_id}.schema.json"


def all_schemas() -> dict[str, dict[str, Any]]:
    """Every generated schema by file name (``platform.schema.json`` …)."""
    out: dict[str, dict[str, Any]] = {}
    for yaml_file in YAML_FILES:
        out[schema_file_name(yaml_file.id)] = yaml_schema(yaml_file)
    for csv_file in CSV_FILES:
        out[schema_file_name(csv_file.id)] = csv_row_schema(csv_file)
    out[schema_file_name("attributes")] = attributes_schema()
    return out


def yaml_schema(yaml_file: YamlFile) -> dict[str, Any]:
    return {"$schema": DIALECT, "$id": schema_file_name(yaml_file.id), **_table(yaml_file.table)}


def _table(table: Table) -> dict[str, Any]:
    out: dict[str, Any] = {
        "title": table.title,
        "description": table.description,
        "type": "object",
        "properties": {key.name: _key(key) for key in table.keys},
        "additionalProperties": False,
    }
    if table.required:
        out["required"] = list(table.required)
    return out


def _key(key: Key) -> dict[str, Any]:
    out = _value(key)
    out["description"] = key.description + (f" Unit: {key.unit}." if key.unit else "") + (
        f" Default: {key.default_text}." if key.default_text else ""
    )
    if key.default is not None:
        out["default"] = key.default
    if key.example is not None and key.table is None:
        out["examples"] = [key.example]
    return out


def _value(key: Key) -> dict[str, Any]:  # noqa: C901 - one branch per kind of key the schema declares
    if key.table is not None:
        inner = _table(key.table)
        if key.type == "map-of":
            return {"type": "object", "additionalProperties": inner}
        if key.type == "list-of":
            return {"type": "array", "items": inner}
        return inner
    if key.type in ("ids", "features"):
        return {"type": "array", "items": {"type": "string"}}
    if key.type == "feature-ref":
        return {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}, {"type": "null"}]}
    if key.type == "boolean":
        return {"type": "boolean"}
    if key.type == "number":
        out: dict[str, Any] = {"type": "number"}
        if key.minimum is not None:
            out["exclusiveMinimum" if key.exclusive_minimum else "minimum"] = key.minimum
        if key.maximum is not None:
            out["maximum"] = key.maximum
        return out
    out = {"type": "string"}
    if key.type == "date":
        out["format"] = "date"
    if key.allowed:
        out["enum"] = list(key.allowed)
    return out


def csv_row_schema(csv_file: CsvFile) -> dict[str, Any]:
    """One row of the CSV file as an object (every value is text in the file)."""
    return {
        "$schema": DIALECT,
        "$id": schema_file_name(csv_file.id),
        "title": f"{csv_file.title}: one row",
        "description": csv_file.description,
        "type": "object",
        "properties": {c.name: _column(c) for c in csv_file.columns},
        "required": list(csv_file.required),
        "additionalProperties": False,
    }


def _column(column: Column) -> dict[str, Any]:
    text = column.description + (f" Unit: {column.unit}." if column.unit else "")
    if column.empty:
        text += f" Empty: {column.empty}."
    out: dict[str, Any] = {"type": "string", "description": text}
    if column.allowed:
        out["enum"] = [*column.allowed, ""] if column.empty else list(column.allowed)
    if column.example:
        out["examples"] = [column.example]
    return out


def attributes_schema() -> dict[str, Any]:
    """The attributes of one feature in features.uvl (others are allowed and ignored by the tools)."""
    properties: dict[str, Any] = {}
    for a in ATTRIBUTES:
        prop: dict[str, Any] = {"type": a.type}
        if a.allowed:
            prop["enum"] = list(a.allowed)
        if a.minimum is not None:
            prop["exclusiveMinimum" if a.exclusive_minimum else "minimum"] = a.minimum
        if a.maximum is not None:
            prop["maximum"] = a.maximum
        unit = f" Unit: {a.unit}." if a.unit else ""
        how = " Summed over the selected features." if a.summed else " Given by one selected feature."
        prop["description"] = a.description + unit + how
        properties[a.name] = prop
    return {
        "$schema": DIALECT,
        "$id": schema_file_name("attributes"),
        "title": "features.uvl: the attributes of one feature",
        "description": "Feature attributes the tools read; other attributes are allowed and ignored.",
        "type": "object",
        "properties": properties,
    }
