"""models/<id>.yaml: a vehicle model, its common selections and its trims."""

from __future__ import annotations

from pathlib import Path

from evplatform.errors import WorkspaceError
from evplatform.variability.model import FeatureModel
from evplatform.workspace.model import Trim, VehicleModel
from evplatform.workspace.readers.features import feature_names
from evplatform.workspace.schema import MODEL, check_mapping
from evplatform.workspace.sources import LineDict, number, read_yaml_mapping


def read_vehicle_model(path: Path, model_id: str, fm: FeatureModel) -> VehicleModel:
    """One model file; the model's ``select``/``deselect`` apply to every trim."""
    spec = read_yaml_mapping(path, f"model file for {model_id!r}")
    check_mapping(spec, MODEL.table, path)
    common = feature_names(spec.get("select"), fm, path, spec.line_of("select"), "select")
    common_off = feature_names(spec.get("deselect"), fm, path, spec.line_of("deselect"), "deselect")
    trims_spec = spec["trims"]
    if not isinstance(trims_spec, LineDict) or not trims_spec:
        raise WorkspaceError("trims must be a mapping of trim id to trim", path, spec.line_of("trims"))
    trims = []
    for trim_id, trim_spec in trims_spec.items():
        line = trims_spec.line_of(trim_id)
        if not isinstance(trim_spec, LineDict):
            raise WorkspaceError(f"trim {trim_id!r} must be a mapping", path, line)
        trims.append(_trim(path, model_id, trim_id, trim_spec, fm, common, common_off, line))
    return VehicleModel(
        id=model_id,
        name=str(spec["name"]),
        segment=str(spec.get("segment", "")),
        trims=tuple(trims),
        development_cost=number(spec.get("development_cost", 0), path, spec.line_of("development_cost"),
                                "development_cost"),
        file=path,
    )


def _trim(
    path: Path,
    model_id: str,
    trim_id: str,
    spec: LineDict,
    fm: FeatureModel,
    common: frozenset[str],
    common_off: frozenset[str],
    line: int,
) -> Trim:
    targets = spec.get("targets") or {}
    if not isinstance(targets, dict):
        raise WorkspaceError(f"trim {trim_id!r}: targets must be a mapping", path, spec.line_of("targets"))
    target_line = spec.line_of("targets")
    return Trim(
        id=trim_id,
        model_id=model_id,
        name=str(spec.get("name", trim_id)),
        price=number(spec["price"], path, spec.line_of("price"), "price"),
        volume_per_year=number(spec["volume_per_year"], path, spec.line_of("volume_per_year"),
                               "volume_per_year"),
        selected=common | feature_names(spec["select"], fm, path, spec.line_of("select"), "select"),
        deselected=common_off
        | feature_names(spec.get("deselect"), fm, path, spec.line_of("deselect"), "deselect"),
        targets={str(k): number(v, path, target_line, f"targets.{k}") for k, v in targets.items()},
        line=line,
    )
