"""regulations.csv: regulations as dated data, each requiring a feature expression."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from evplatform.errors import WorkspaceError
from evplatform.variability.model import FeatureModel
from evplatform.workspace.model import IN_FORCE, Regulation
from evplatform.workspace.readers.features import expression
from evplatform.workspace.schema import REGULATIONS
from evplatform.workspace.schema.files import STATUSES
from evplatform.workspace.sources import iso_date, read_csv

REGULATION_COLUMNS = REGULATIONS.required


def read_regulations(path: Path, fm: FeatureModel, markets: list[str]) -> dict[str, Regulation]:
    """Rows of regulations.csv; ``markets`` are the workspace's market ids (UNECE is always known)."""
    out: dict[str, Regulation] = {}
    for row in read_csv(path, "regulations", REGULATION_COLUMNS, REGULATIONS.names):
        v = row.values
        rid = v["id"]
        if not rid:
            raise WorkspaceError("id is empty", path, row.line)
        if rid in out:
            raise WorkspaceError(f"duplicate regulation id {rid!r} (first on line {out[rid].line})", path,
                                 row.line)
        targets = tuple(v["markets"].split())
        if not targets:
            raise WorkspaceError("markets is empty: expected market ids or UNECE", path, row.line)
        for m in targets:
            if m != "UNECE" and m not in markets:
                raise WorkspaceError(f"unknown market {m!r} (known: UNECE, {', '.join(markets)})", path,
                                     row.line)
        status = v["status"] or "unverified"
        if status not in STATUSES:
            raise WorkspaceError(f"status must be one of {', '.join(STATUSES)}, not {status!r}", path,
                                 row.line)
        out[rid] = Regulation(
            id=rid,
            title=v["title"],
            markets=targets,
            requires=expression(v["requires"], fm, path, row.line, "requires"),
            requires_text=v["requires"],
            applies_new_types=_regulation_date(v["applies_new_types"], path, row.line, "applies_new_types"),
            applies_all=_regulation_date(v["applies_all"], path, row.line, "applies_all"),
            source=v["source"],
            status=status,
            line=row.line,
            extra={k: val for k, val in v.items() if k not in REGULATION_COLUMNS},
        )
    return out


def _regulation_date(value: str, path: Path, line: int, field: str) -> date | None:
    """A regulation date: ISO, empty (does not apply in that mode) or ``in force`` (applies on every date)."""
    if value.strip().lower() == "in force":
        return IN_FORCE
    try:
        return iso_date(value, path, line, field)
    except WorkspaceError:
        raise WorkspaceError(f"{field} must be a date YYYY-MM-DD, 'in force' or empty, not {value!r}", path,
                             line) from None
