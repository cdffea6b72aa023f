"""The vocabulary the workspace schema is written in: keys of YAML mappings, CSV columns, attributes.

One declaration per file type (:mod:`evplatform.workspace.schema.files`) is the single source
for three things: the readers refuse keys it does not name (:mod:`.validate`), the JSON Schema
files editors use, and the reference page docs/workspace.md (:mod:`.render`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: The value types a key may have; :mod:`.render` maps each to JSON Schema and to prose.
TYPES = (
    "string",       # any text
    "number",       # an int or a float
    "boolean",      # true or false
    "date",         # YYYY-MM-DD
    "file",         # a file name relative to the workspace folder
    "ids",          # a list of ids (text)
    "features",     # a list of feature names of features.uvl
    "expression",   # a feature expression in UVL constraint syntax
    "feature-ref",  # one feature name, a list of feature names, or null
    "mapping",      # a mapping with the keys of ``table``
    "map-of",       # a mapping from free ids to mappings with the keys of ``table``
    "list-of",      # a list of mappings with the keys of ``table``
)


@dataclass(frozen=True)
class Key:
    """One key of a YAML mapping."""

    name: str
    type: str
    description: str
    required: bool = False
    default: Any = None  # the value used when absent (``None``: no default, or stated in ``default_text``)
    default_text: str = ""  # a default that is not a plain value ("the trim id", "the parent's")
    unit: str = ""
    allowed: tuple[str, ...] = ()
    minimum: float | None = None
    exclusive_minimum: bool = False  # ``minimum`` itself is not allowed (a lifecycle must be > 0 years)
    maximum: float | None = None
    example: Any = None
    table: Table | None = None  # the keys of a nested mapping (mapping, map-of, list-of)

    def __post_init__(self) -> None:
        if self.type not in TYPES:
            raise ValueError(f"key {self.name!r}: unknown schema type {self.type!r}")
        if (self.table is None) == (self.type in ("mapping", "map-of", "list-of")):
            raise ValueError(f"key {self.name!r}: a table goes with mapping, map-of and list-of only")


@dataclass(frozen=True)
class Table:
    """The keys a YAML mapping may have; every other key is refused."""

    title: str
    description: str
    keys: tuple[Key, ...]
    #: A module that checks this mapping's keys itself (with its own messages); the readers' schema
    #: check then skips it, the editors' JSON Schema and the docs still list the keys.
    checked_by: str = ""

    def key(self, name: str) -> Key:
        return next(k for k in self.keys if k.name == name)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(k.name for k in self.keys)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(k.name for k in self.keys if k.required)


@dataclass(frozen=True)
class Column:
    """One column of a CSV file; required columns must be in the header, values may still be empty."""

    name: str
    type: str
    description: str
    required: bool = True
    unit: str = ""
    allowed: tuple[str, ...] = ()
    minimum: float | None = None
    empty: str = ""  # what an empty value means ("" : it may not be empty)
    example: str = ""


@dataclass(frozen=True)
class YamlFile:
    """A YAML file of the workspace: its path pattern and its top-level mapping."""

    id: str  # short name, also the JSON Schema file stem
    path: str  # as written in the workspace ("models/<id>.yaml")
    table: Table
    example: str = ""


@dataclass(frozen=True)
class CsvFile:
    """A CSV file: a header line, then one row per item; ``#`` lines and blank lines are comments."""

    id: str
    path: str
    title: str
    description: str
    columns: tuple[Column, ...]
    owner: str = "workspace"  # the package whose reader reads it (documented here, read there)
    example: str = ""

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


@dataclass(frozen=True)
class Attribute:
    """A feature attribute in features.uvl that a tool reads."""

    name: str
    type: str  # "number" or "string"
    unit: str
    description: str
    summed: bool = False  # added up over the selected features, else given by one feature
    minimum: float | None = None
    exclusive_minimum: bool = False  # ``minimum`` itself is not allowed (a capacity must be > 0)
    maximum: float | None = None
    allowed: tuple[str, ...] = ()
    used_by: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()  # names people write for it, used only to suggest the real one
    default_text: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
