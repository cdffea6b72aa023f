"""Reading YAML and CSV files while remembering where each value came from.

Every later check ("unknown feature", "negative cost") must name file:line, so the readers
here return values that carry their line numbers: YAML mappings become ``LineDict`` (a dict
with ``.line`` and ``.key_lines``) and CSV rows come with the physical line they started on.
"""

from __future__ import annotations

import csv
import difflib
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from evplatform.errors import WorkspaceError


class LineDict(dict[str, Any]):
    """A YAML mapping that knows its own line and the line of each key (1-based)."""

    line: int = 0
    key_lines: dict[str, int]

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


class LineList(list[Any]):
    """A YAML sequence that knows the line of each item (1-based)."""

    line: int = 0
    item_lines: list[int]

    def line_of(self, index: int) -> int:
        return self.item_lines[index] if index < len(self.item_lines) else self.line


#: How deep YAML mappings and sequences may nest. Workspace files nest four or five levels; PyYAML
#: composes nodes recursively, so without a bound a file of a few thousand ``[`` ends in a
#: RecursionError instead of an error at its line.
MAX_YAML_DEPTH = 64


class _LineLoader(yaml.SafeLoader):
    """SafeLoader whose mappings and sequences remember line numbers, and that refuses deep nesting."""

    _depth = 0

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        """Compose one node, refusing collections nested deeper than ``MAX_YAML_DEPTH``."""
        self._depth += 1
        try:
            if self._depth > MAX_YAML_DEPTH:
                raise yaml.composer.ComposerError(
                    None, None, f"nested deeper than {MAX_YAML_DEPTH} levels", self.peek_event().start_mark
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> LineDict:
    loader.flatten_mapping(node)
    out = LineDict()
    out.line = node.start_mark.line + 1
    out.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str | int | float | bool):
            raise yaml.constructor.ConstructorError(
                None, None, "mapping keys must be plain values", key_node.start_mark
            )
        key = str(key)
        if key in out:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        out[key] = loader.construct_object(value_node, deep=True)
        out.key_lines[key] = key_node.start_mark.line + 1
    return out


def _construct_sequence(loader: _LineLoader, node: yaml.SequenceNode) -> LineList:
    out = LineList(loader.construct_object(child, deep=True) for child in node.value)
    out.line = node.start_mark.line + 1
    out.item_lines = [child.start_mark.line + 1 for child in node.value]
    return out


def _construct_timestamp(loader: _LineLoader, node: yaml.ScalarNode) -> Any:
    """A YAML date or time; an impossible one (2024-02-30) is an error at its line, not a ValueError."""
    try:
        return yaml.constructor.SafeConstructor.construct_yaml_timestamp(loader, node)
    except (ValueError, OverflowError) as error:
        raise yaml.constructor.ConstructorError(
            None, None, f"{node.value!r} is not a valid date ({error})", node.start_mark
        ) from None


_LineLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


def read_text(path: Path, what: str) -> str:
    """The file's text, or a WorkspaceError saying which required file is missing."""
    if not path.is_file():
        raise WorkspaceError(f"missing {what}", path)
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise WorkspaceError(f"not UTF-8 text ({error.reason})", path) from error


def load_yaml(text: str) -> Any:
    """Parsed YAML (safe tags only, nesting bounded, impossible dates refused); raises yaml.YAMLError."""
    return yaml.load(text, Loader=_LineLoader)  # noqa: S506 - _LineLoader is a SafeLoader subclass


def read_yaml_mapping(path: Path, what: str) -> LineDict:
    """A YAML file whose top level must be a mapping."""
    text = read_text(path, what)
    try:
        data = load_yaml(text)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else None
        column = mark.column + 1 if mark else None
        problem = error.problem or error.context or "malformed YAML"
        raise WorkspaceError(f"malformed YAML: {problem}", path, line, column) from error
    except yaml.YAMLError as error:
        raise WorkspaceError(f"malformed YAML: {error}", path) from error
    if not isinstance(data, LineDict):
        raise WorkspaceError(f"{what} must be a YAML mapping (key: value lines)", path, 1)
    return data


@dataclass(frozen=True, slots=True)
class CsvRow:
    """One data row of a CSV file with the physical line it starts on."""

    line: int
    values: dict[str, str]


def did_you_mean(word: str, known: Iterable[str]) -> str:
    """``"; did you mean 'x'?"`` for the closest known name, or ``""`` when none is close."""
    close = difflib.get_close_matches(word, list(known), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def read_csv(
    path: Path, what: str, required: tuple[str, ...], optional: tuple[str, ...] | None = None
) -> list[CsvRow]:
    """Rows of a CSV file with a header; ``#`` lines and blank lines are comments.

    Raises a WorkspaceError naming the header line when a required column is missing (or, when
    ``optional`` is given, a column is neither required nor optional) and the data line when a
    row has the wrong number of fields.
    """
    text = read_text(path, what)
    reader = csv.reader(io.StringIO(text))
    header: list[str] | None = None
    header_line = 0
    rows: list[CsvRow] = []
    try:
        for record, line in _records(reader):
            if not record or (len(record) == 1 and not record[0].strip()):
                continue
            if record[0].lstrip().startswith("#"):
                continue
            if header is None:
                header = [h.strip() for h in record]
                header_line = line
                missing = [c for c in required if c not in header]
                if missing:
                    raise WorkspaceError(
                        f"missing column(s) {', '.join(missing)} (header has {', '.join(header)})",
                        path,
                        line,
                    )
                if optional is not None:
                    _refuse_unknown_columns(header, required + optional, path, line)
                continue
            if len(record) != len(header):
                raise WorkspaceError(
                    f"expected {len(header)} fields ({', '.join(header)}), found {len(record)}",
                    path,
                    line,
                )
            rows.append(CsvRow(line, {h: v.strip() for h, v in zip(header, record, strict=True)}))
    except csv.Error as error:
        raise WorkspaceError(f"malformed CSV: {error}", path, reader.line_num) from error
    if header is None:
        raise WorkspaceError(f"{what} is empty: expected a header line", path, header_line or 1)
    return rows


def _refuse_unknown_columns(header: list[str], known: tuple[str, ...], path: Path, line: int) -> None:
    for column in header:
        if column not in known:
            hint = did_you_mean(column, known) or f" (known columns: {', '.join(known)})"
            raise WorkspaceError(f"unknown column {column!r}{hint}", path, line)


def _records(reader: Any) -> Iterator[tuple[list[str], int]]:
    """Each CSV record with the line it started on (records may span lines when quoted)."""
    start = 1
    for record in reader:
        yield record, start
        start = reader.line_num + 1


def number(value: Any, path: Path, line: int, field: str, *, minimum: float | None = 0.0) -> float:
    """A numeric field, rejecting text and (by default) negative values with file:line."""
    if isinstance(value, bool):
        raise WorkspaceError(f"{field} must be a number, not {value!r}", path, line)
    try:
        result = float(value)
    except (TypeError, ValueError):
        raise WorkspaceError(f"{field} must be a number, not {value!r}", path, line) from None
    if result != result or result in (float("inf"), float("-inf")):
        raise WorkspaceError(f"{field} must be a finite number, not {value!r}", path, line)
    if minimum is not None and result < minimum:
        raise WorkspaceError(f"{field} must be ≥ {minimum:g}, not {value!r}", path, line)
    return result


def iso_date(value: Any, path: Path, line: int, field: str) -> date | None:
    """An optional date written YYYY-MM-DD (YAML may already have parsed it); empty means none."""
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise WorkspaceError(f"{field} must be a date YYYY-MM-DD, not {value!r}", path, line) from None
