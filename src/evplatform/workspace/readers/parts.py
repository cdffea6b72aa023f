"""parts.csv: the 150 % BOM, one row per part with the feature expression that selects it."""

from __future__ import annotations

from pathlib import Path

from evplatform.errors import WorkspaceError
from evplatform.variability.model import FeatureModel
from evplatform.workspace.model import Part
from evplatform.workspace.readers.features import expression
from evplatform.workspace.schema import PARTS
from evplatform.workspace.sources import number, read_csv

PART_COLUMNS = PARTS.required


def read_parts(path: Path, model: FeatureModel) -> tuple[Part, ...]:
    """Every part of the catalogue; an empty ``when`` means the part is in every configuration."""
    parts: list[Part] = []
    seen: dict[str, int] = {}
    for row in read_csv(path, "parts catalogue", PART_COLUMNS, PARTS.names):
        v = row.values
        part_no = v["part_no"]
        if not part_no:
            raise WorkspaceError("part_no is empty", path, row.line)
        if part_no in seen:
            raise WorkspaceError(
                f"duplicate part number {part_no!r} (first on line {seen[part_no]})", path, row.line
            )
        seen[part_no] = row.line
        when_text = v["when"] or model.root
        parts.append(
            Part(
                part_no=part_no,
                name=v["name"],
                module=v["module"],
                unit_cost=number(v["unit_cost"], path, row.line, "unit_cost"),
                mass_kg=number(v["mass_kg"], path, row.line, "mass_kg"),
                supplier=v["supplier"],
                qty=number(v["qty"], path, row.line, "qty"),
                when=expression(when_text, model, path, row.line, "when"),
                when_text=when_text,
                line=row.line,
            )
        )
    return tuple(parts)
