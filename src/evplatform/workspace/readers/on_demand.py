"""on-demand.yaml: paid software features, their price, the hardware they need, the sales channels.

Optional: a workspace without the file sells no feature on demand. Every ``requires`` expression
names features of the feature model (file:line otherwise), and the delivery component must be one
of software.yaml, since its ECU is where the signed activation configuration is installed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from evplatform.errors import WorkspaceError
from evplatform.variability.model import FeatureModel
from evplatform.workspace.model import OnDemand, PaidFeature, SoftwareComponent
from evplatform.workspace.readers.features import expression
from evplatform.workspace.schema import ON_DEMAND, check_mapping
from evplatform.workspace.schema.files import BILLINGS
from evplatform.workspace.sources import read_yaml_mapping

#: A feature id goes into target paths, URLs and CLI arguments.
FEATURE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")


def read_on_demand(path: Path, fm: FeatureModel, software: Mapping[str, SoftwareComponent]) -> OnDemand:
    """The paid features of ``path``, or none when the file does not exist."""
    if not path.exists():
        return OnDemand()
    spec = read_yaml_mapping(path, path.name)
    check_mapping(spec, ON_DEMAND.table, path)
    delivery = str(spec["delivery"])
    if delivery not in software:
        raise WorkspaceError(f"delivery: {delivery!r} is not a component of software.yaml "
                             f"(known: {', '.join(software)})", path, spec.line_of("delivery"))
    channels = spec["channels"]
    if not isinstance(channels, list) or not channels or not all(isinstance(c, str) and c for c in channels):
        raise WorkspaceError("channels must be a non-empty list of names", path, spec.line_of("channels"))
    items = spec["features"]
    if not isinstance(items, list):
        raise WorkspaceError("features must be a list", path, spec.line_of("features"))
    features: dict[str, PaidFeature] = {}
    for index, item in enumerate(items):
        line = items.line_of(index) if hasattr(items, "line_of") else spec.line
        feature = _feature(item, fm, path, line)
        if feature.id in features:
            raise WorkspaceError(f"duplicate feature id {feature.id!r}", path, line)
        features[feature.id] = feature
    return OnDemand(features, tuple(channels), software[delivery], path)


def _feature(item: object, fm: FeatureModel, path: Path, line: int) -> PaidFeature:
    if not isinstance(item, dict):
        raise WorkspaceError("each feature must be a mapping", path, line)
    fid = str(item["id"])
    if not FEATURE_ID.fullmatch(fid):
        raise WorkspaceError(f"feature id {fid!r}: 1 to 64 letters, digits, '-' or '_'", path, line)
    billing = str(item["billing"])
    if billing not in BILLINGS:
        raise WorkspaceError(f"feature {fid!r}: billing must be one of {', '.join(BILLINGS)}, not {billing!r}",
                             path, _line(item, "billing", line))
    text = str(item["requires"])
    return PaidFeature(
        id=fid,
        name=str(item.get("name", fid)),
        description=str(item.get("description", "")),
        billing=billing,
        price=float(item["price"]),
        requires=expression(text, fm, path, _line(item, "requires", line), f"feature {fid!r} requires"),
        requires_text=text,
        type_approval_relevant=bool(item["type_approval_relevant"]),
        regulation=str(item.get("regulation", "")),
        estimated_take_up=float(item.get("estimated_take_up", 0.0)),
        estimated_monthly_churn=float(item.get("estimated_monthly_churn", 0.0)),
        line=line,
    )


def _line(item: dict[str, object], key: str, default: int) -> int:
    """The line of ``key`` in a feature's mapping (the feature's own line when unknown)."""
    line_of = getattr(item, "line_of", None)
    return int(line_of(key)) if callable(line_of) else default
