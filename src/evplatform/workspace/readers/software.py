"""software.yaml: software components, the ECU each targets and where it is compatible."""

from __future__ import annotations

from pathlib import Path

from evplatform.errors import WorkspaceError
from evplatform.variability.model import FeatureModel
from evplatform.workspace.model import SoftwareComponent
from evplatform.workspace.readers.features import expression
from evplatform.workspace.schema import SOFTWARE, check_mapping
from evplatform.workspace.sources import read_yaml_mapping


def read_software(path: Path, fm: FeatureModel) -> dict[str, SoftwareComponent]:
    """Every component of software.yaml by id."""
    spec = read_yaml_mapping(path, "software.yaml")
    check_mapping(spec, SOFTWARE.table, path)
    items = spec.get("components")
    if not isinstance(items, list):
        raise WorkspaceError("components must be a list", path, spec.line_of("components"))
    out: dict[str, SoftwareComponent] = {}
    for index, item in enumerate(items):
        line = items.line_of(index) if hasattr(items, "line_of") else spec.line
        if not isinstance(item, dict):
            raise WorkspaceError("each component must be a mapping", path, line)
        cid = str(item["id"])
        if cid in out:
            raise WorkspaceError(f"duplicate component id {cid!r}", path, line)
        text = str(item["compatible"])
        out[cid] = SoftwareComponent(
            id=cid,
            name=str(item.get("name", cid)),
            ecu=str(item["ecu"]),
            hardware_id=str(item["hardware_id"]),
            compatible=expression(text, fm, path, line, "compatible"),
            compatible_text=text,
            version=str(item["version"]),
            line=line,
        )
    return out
