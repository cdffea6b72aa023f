"""The risk register: ``risks.csv`` in the workspace, its uncertainty matrix and a CSV export.

Columns: ``id, title, likelihood, impact, owner, mitigation, features, markets, releases``
(likelihood and impact are whole numbers 1–5). The three link columns hold ids separated by
``;`` or spaces and are checked against the workspace: a feature of features.uvl, a market of
platform.yaml, a release written ``component@version`` (or just ``component``) whose component
is in software.yaml — the software a risk would ship in. An unknown link is an error naming
file:line and the column.

Score = likelihood × impact; rating: low ≤ 4, medium 5–9, high 10–14, critical ≥ 15.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evplatform.errors import WorkspaceError
from evplatform.workspace.loader import load_workspace
from evplatform.workspace.model import Workspace
from evplatform.workspace.sources import read_csv

RISKS_FILE = "risks.csv"
COLUMNS = ("id", "title", "likelihood", "impact", "owner", "mitigation", "features", "markets", "releases")
LEVELS = (1, 2, 3, 4, 5)
RELEASE = re.compile(r"^(?P<component>[A-Za-z0-9._-]+)(@(?P<version>[0-9A-Za-z.+-]+))?\Z")


def rating(score: int) -> str:
    if score >= 15:
        return "critical"
    if score >= 10:
        return "high"
    if score >= 5:
        return "medium"
    return "low"


@dataclass(frozen=True, slots=True)
class Risk:
    id: str
    title: str
    likelihood: int
    impact: int
    owner: str
    mitigation: str
    features: tuple[str, ...]
    markets: tuple[str, ...]
    releases: tuple[str, ...]
    line: int

    @property
    def score(self) -> int:
        return self.likelihood * self.impact

    @property
    def rating(self) -> str:
        return rating(self.score)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "title": self.title, "likelihood": self.likelihood, "impact": self.impact,
            "score": self.score, "rating": self.rating, "owner": self.owner, "mitigation": self.mitigation,
            "features": list(self.features), "markets": list(self.markets), "releases": list(self.releases),
            "line": self.line,
        }


def _links(text: str) -> tuple[str, ...]:
    return tuple(t for t in re.split(r"[;\s]+", text.strip()) if t)


def _level(value: str, path: Path, line: int, field: str) -> int:
    try:
        level = int(value)
    except ValueError:
        raise WorkspaceError(f"{field} must be a whole number 1–5, not {value!r}", path, line) from None
    if level not in LEVELS:
        raise WorkspaceError(f"{field} must be a whole number 1–5, not {value!r}", path, line)
    return level


def _check_links(
    risk_id: str, ws: Workspace, values: dict[str, str], path: Path, line: int
) -> dict[str, tuple[str, ...]]:
    features, markets, releases = _links(values["features"]), _links(values["markets"]), _links(values["releases"])
    for feature in features:
        if feature not in ws.feature_model.features:
            raise WorkspaceError(f"risk {risk_id}: features: unknown feature {feature!r} (not in features.uvl)",
                                 path, line)
    for market in markets:
        if market not in ws.markets:
            raise WorkspaceError(f"risk {risk_id}: markets: unknown market {market!r} (markets: "
                                 f"{', '.join(ws.markets)})", path, line)
    for release in releases:
        match = RELEASE.match(release)
        if not match or match.group("component") not in ws.software:
            raise WorkspaceError(f"risk {risk_id}: releases: unknown release {release!r} (write component@version "
                                 f"with a component of software.yaml: {', '.join(ws.software)})", path, line)
    return {"features": features, "markets": markets, "releases": releases}


def load_risks(ws: Workspace, path: Path | None = None) -> tuple[Path, tuple[Risk, ...]]:
    """Read and check the register (default: the workspace's risks.csv)."""
    path = path or ws.root / RISKS_FILE
    risks: list[Risk] = []
    seen: dict[str, int] = {}
    for row in read_csv(path, RISKS_FILE, COLUMNS):
        v = row.values
        for name in ("id", "title", "owner"):
            if not v[name]:
                raise WorkspaceError(f"{name} is empty", path, row.line)
        if v["id"] in seen:
            raise WorkspaceError(f"risk id {v['id']!r} is used twice (first on line {seen[v['id']]})", path, row.line)
        seen[v["id"]] = row.line
        links = _check_links(v["id"], ws, v, path, row.line)
        risks.append(Risk(
            id=v["id"], title=v["title"],
            likelihood=_level(v["likelihood"], path, row.line, "likelihood"),
            impact=_level(v["impact"], path, row.line, "impact"),
            owner=v["owner"], mitigation=v["mitigation"], line=row.line, **links,
        ))
    return path, tuple(risks)


def matrix(risks: tuple[Risk, ...]) -> dict[str, Any]:
    """Likelihood (rows, 5 at the top) × impact (columns) with the ids in each cell."""
    ids = [[[r.id for r in risks if r.likelihood == lk and r.impact == im] for im in LEVELS] for lk in reversed(LEVELS)]
    return {
        "likelihood": list(reversed(LEVELS)),
        "impact": list(LEVELS),
        "ids": ids,
        "counts": [[len(cell) for cell in row] for row in ids],
        "ratings": [[rating(lk * im) for im in LEVELS] for lk in reversed(LEVELS)],
    }


def export_csv(risks: tuple[Risk, ...]) -> str:
    """The register with score and rating, sorted by score (highest first), as CSV text."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow((*COLUMNS[:4], "score", "rating", *COLUMNS[4:]))
    for r in sorted(risks, key=lambda r: (-r.score, r.id)):
        writer.writerow((r.id, r.title, r.likelihood, r.impact, r.score, r.rating, r.owner, r.mitigation,
                         ";".join(r.features), ";".join(r.markets), ";".join(r.releases)))
    return out.getvalue()


def risks_report(ws: Workspace | str | Path | None = None) -> dict[str, Any]:
    """The ``insights risks --json`` payload: the register by score, the matrix, counts and links."""
    workspace = ws if isinstance(ws, Workspace) else load_workspace(ws)
    path, risks = load_risks(workspace)
    ordered = sorted(risks, key=lambda r: (-r.score, r.id))
    links: dict[str, dict[str, list[str]]] = {"features": {}, "markets": {}, "releases": {}}
    for r in ordered:
        for kind, values in (("features", r.features), ("markets", r.markets), ("releases", r.releases)):
            for value in values:
                links[kind].setdefault(value, []).append(r.id)
    return {
        "workspace": str(workspace.root),
        "file": str(path),
        "risks": [r.to_dict() for r in ordered],
        "matrix": matrix(risks),
        "by_rating": {k: sum(1 for r in risks if r.rating == k) for k in ("critical", "high", "medium", "low")},
        "links": links,
    }
