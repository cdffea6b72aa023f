"""Reading and writing feature models by file suffix: ``.uvl``, ``.xml`` (FeatureIDE), ``.dimacs``/``.cnf``.

Writers build the whole text first and then replace the target through a temporary file in
the same folder, so a failure never leaves a half-written model behind.
"""

from __future__ import annotations

import os
from pathlib import Path

from evplatform.errors import ParseError
from evplatform.variability.cnf import CNF, encode
from evplatform.variability.dimacs import format_dimacs, read_dimacs, read_dimacs_model
from evplatform.variability.featureide import format_featureide, read_featureide
from evplatform.variability.model import FeatureModel
from evplatform.variability.uvl import read_uvl
from evplatform.variability.uvl_writer import format_uvl

SUFFIXES = (".uvl", ".xml", ".dimacs", ".cnf")


def format_suffix(path: Path) -> str:
    """The lower-case suffix of a model file, checked against the supported formats."""
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise ParseError(f"unknown feature-model format {suffix or '(no suffix)'!r}: expected one of "
                         f"{', '.join(SUFFIXES)}", path)
    return suffix


def load_model(path: str | Path) -> FeatureModel:
    """The feature model in ``path`` (format by suffix); ``ParseError`` with file:line:column otherwise."""
    path = Path(path)
    suffix = format_suffix(path)
    if path.is_file() and path.stat().st_size == 0:
        raise ParseError("empty file (0 bytes)", path, 1, 1)
    if suffix == ".uvl":
        return read_uvl(path)
    if suffix == ".xml":
        return read_featureide(path)
    return read_dimacs_model(path)


def load_cnf(path: str | Path) -> CNF:
    """The CNF of ``path``: DIMACS as written (names from ``c`` lines), other formats encoded."""
    path = Path(path)
    if format_suffix(path) in (".dimacs", ".cnf"):
        if path.is_file() and path.stat().st_size == 0:
            raise ParseError("empty file (0 bytes)", path, 1, 1)
        return read_dimacs(path)
    return encode(load_model(path))


def format_model(model: FeatureModel, suffix: str) -> str:
    """The text of ``model`` in the format of ``suffix``."""
    if suffix == ".uvl":
        return format_uvl(model)
    if suffix == ".xml":
        return format_featureide(model)
    return format_dimacs(encode(model))


def save_model(model: FeatureModel, path: str | Path) -> None:
    """Write ``model`` in the format of the suffix, replacing ``path`` only once the text is complete."""
    path = Path(path)
    write_text_atomically(path, format_model(model, format_suffix(path)))


def write_text_atomically(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        temporary.write_text(text, encoding="utf-8")
        temporary.replace(path)
    finally:
        temporary.unlink(missing_ok=True)
