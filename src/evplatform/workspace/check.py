"""What `evplatform check` reports about a workspace that loaded.

Loading already rejects every error (with file:line). What is left are findings a platform
engineer wants to see but that do not make the workspace wrong: parts that no configuration
uses, features no trim selects, regulations whose dates are not confirmed. Findings that need a
higher layer — a trim whose simulation misses its own ``targets``
(``vehicle.targets.target_findings``) — come in through ``extra``, since the workspace sits below
the vehicle domain. Each finding names the file and line to open.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evplatform.workspace.model import Workspace
from evplatform.workspace.schema.attributes import missing_for_simulation


@dataclass(frozen=True, slots=True)
class Finding:
    level: str  # "warning" or "info"
    file: str
    line: int | None
    message: str

    def location(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file

    def to_dict(self) -> dict[str, Any]:
        return {"level": self.level, "file": self.file, "line": self.line, "message": self.message}


@dataclass(frozen=True, slots=True)
class CheckReport:
    workspace: str
    configurations: tuple[tuple[str, str, int], ...]  # (trim key, market, number of features)
    findings: tuple[Finding, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "workspace": self.workspace,
            "valid": True,
            "configurations": [
                {"trim": t, "market": m, "features": n, "valid": True} for t, m, n in self.configurations
            ],
            "problems": [],
            "warnings": [f.to_dict() for f in self.findings],
        }


def check_workspace(ws: Workspace, extra: Iterable[Finding] = ()) -> CheckReport:
    """Findings on a loaded (hence valid) workspace, then ``extra`` ones from higher layers."""
    findings: list[Finding] = _simulation_findings(ws)
    configs = list(ws.configurations.values())
    parts_file = _rel(ws, ws.root / "parts.csv")
    for part in ws.parts:
        if not any(part.when.evaluate(c) for c in configs):
            findings.append(
                Finding("info", parts_file, part.line,
                        f"part {part.part_no} ({part.name}) is in no configuration: when = {part.when_text}")
            )
    used = set().union(*configs) if configs else set()
    fm = ws.feature_model
    for name, feature in fm.features.items():
        if name not in used and not feature.abstract and not list(feature.children()):
            findings.append(
                Finding("info", _rel(ws, Path(fm.source or "features.uvl")), feature.line,
                        f"feature {name} is selected by no trim in any market")
            )
    regulations_file = _rel(ws, ws.root / "regulations.csv")
    for regulation in ws.regulations.values():
        if regulation.status != "confirmed":
            findings.append(
                Finding("warning", regulations_file, regulation.line,
                        f"regulation {regulation.id} is {regulation.status}: its dates are not confirmed")
            )
    findings += _role_and_zone_findings(ws)
    findings.extend(extra)
    return CheckReport(
        workspace=str(ws.root),
        configurations=tuple(
            (trim, market, len(config)) for (trim, market), config in ws.configurations.items()
        ),
        findings=tuple(findings),
    )


def _role_and_zone_findings(ws: Workspace) -> list[Finding]:
    """Roles platform.yaml leaves undeclared (absent) and markets that fall back to UTC."""
    findings = []
    undeclared = ws.roles.undeclared()
    if undeclared:
        findings.append(
            Finding("warning", _rel(ws, ws.root / "platform.yaml"), ws.roles.line,
                    f"feature roles not declared, so absent: {', '.join(undeclared)} (under roles:, name the "
                    "feature(s) that play each, or null when the platform has none)")
        )
    for market in ws.markets.values():
        if not market.time_zone_declared:
            findings.append(
                Finding("warning", _rel(ws, market.file or ws.root / "markets"), None,
                        f"market {market.id} declares no time_zone (nor does a parent): UTC is used for its "
                        "maintenance windows")
            )
    return findings


def _rel(ws: Workspace, path: Path) -> str:
    try:
        return str(path.relative_to(ws.root))
    except ValueError:
        return str(path)


def _simulation_findings(ws: Workspace) -> list[Finding]:
    """Trims ``simulate`` would refuse because no selected feature gives an attribute it needs."""
    findings = []
    for model in ws.models.values():
        for trim in model.trims:
            missing = missing_for_simulation(ws.attributes(trim))
            if missing:
                findings.append(
                    Finding("info", _rel(ws, model.file or ws.root), trim.line,
                            f"trim {trim.key} cannot be simulated: no selected feature gives {', '.join(missing)} "
                            "(see docs/workspace.md, features.uvl attributes)")
                )
    return findings
