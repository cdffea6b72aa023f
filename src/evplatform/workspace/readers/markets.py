"""markets/<id>.yaml: a market, inheriting selections and regulations from its parent."""

from __future__ import annotations

from pathlib import Path

from evplatform.errors import WorkspaceError
from evplatform.variability.model import FeatureModel
from evplatform.workspace.market_facts import market_fleet_share, market_time_zone
from evplatform.workspace.model import Market, Regulation, VehicleModel
from evplatform.workspace.readers.features import feature_names
from evplatform.workspace.schema.files import CYCLES, MARKET
from evplatform.workspace.schema.validate import check_mapping
from evplatform.workspace.sources import LineDict, iso_date, read_yaml_mapping


def read_markets(
    folder: Path,
    ids: list[str],
    fm: FeatureModel,
    models: dict[str, VehicleModel],
    known_regulations: dict[str, Regulation],
) -> dict[str, Market]:
    """Every market file of ``folder`` named in platform.yaml, parents resolved."""
    raw = {mid: read_yaml_mapping(folder / f"{mid}.yaml", f"market file for {mid!r}") for mid in ids}
    for mid, data in raw.items():
        check_mapping(data, MARKET.table, folder / f"{mid}.yaml")
    for mid, data in raw.items():
        parent = data.get("parent")
        if parent is not None and parent not in raw:
            raise WorkspaceError(f"unknown parent market {parent!r}", folder / f"{mid}.yaml",
                                 data.line_of("parent"))
    _check_inheritance_cycles(raw, folder)
    markets: dict[str, Market] = {}
    for mid in ids:
        markets[mid] = _market(mid, raw, folder, fm, models, known_regulations)
    return markets


def _check_inheritance_cycles(raw: dict[str, LineDict], folder: Path) -> None:
    for start in raw:
        chain = [start]
        current = raw[start].get("parent")
        while current is not None:
            if current in chain:
                cycle = " → ".join([*chain[chain.index(current):], current])
                path = folder / f"{start}.yaml"
                raise WorkspaceError(f"market inheritance cycle: {cycle}", path, raw[start].line_of("parent"))
            chain.append(current)
            current = raw[current].get("parent")


def _market(
    mid: str,
    raw: dict[str, LineDict],
    folder: Path,
    fm: FeatureModel,
    models: dict[str, VehicleModel],
    known_regulations: dict[str, Regulation],
) -> Market:
    """A market with its parent's values inherited (selections and rules accumulate)."""
    path = folder / f"{mid}.yaml"
    data = raw[mid]
    parent_id = data.get("parent")
    parent = _market(parent_id, raw, folder, fm, models, known_regulations) if parent_id else None
    select = feature_names(data.get("select"), fm, path, data.line_of("select"), "select")
    model_ids = data.get("models", list(parent.models) if parent else [])
    if not isinstance(model_ids, list):
        raise WorkspaceError("models must be a list of model ids", path, data.line_of("models"))
    for m in model_ids:
        if m not in models:
            raise WorkspaceError(f"unknown model {m!r} (known: {', '.join(models)})", path,
                                 data.line_of("models"))
    cycle = str(data.get("homologation_cycle", parent.homologation_cycle if parent else "WLTC")).upper()
    if cycle not in CYCLES:
        raise WorkspaceError(f"homologation_cycle must be one of {', '.join(CYCLES)}, not {cycle!r}", path,
                             data.line_of("homologation_cycle"))
    regulations = data.get("regulations", [])
    if not isinstance(regulations, list):
        raise WorkspaceError("regulations must be a list of ids", path, data.line_of("regulations"))
    for index, rid in enumerate(regulations):
        if str(rid) not in known_regulations:
            line = regulations.line_of(index) if hasattr(regulations, "line_of") else data.line_of("regulations")
            raise WorkspaceError(f"unknown regulation {rid!r} (not in regulations.csv)", path, line)
    unece = data.get("unece", parent.unece if parent else False)
    if not isinstance(unece, bool):
        raise WorkspaceError(f"unece must be true or false, not {unece!r}", path, data.line_of("unece"))
    time_zone, time_zone_declared = market_time_zone(data, parent, path)
    return Market(
        id=mid,
        name=str(data.get("name", mid)),
        parent=parent_id,
        select=tuple(sorted((parent.select if parent else ()) + tuple(select))),
        regulations=tuple((parent.regulations if parent else ()) + tuple(str(r) for r in regulations)),
        homologation_cycle=cycle,
        launch_date=iso_date(data.get("launch_date", parent.launch_date if parent else None), path,
                             data.line_of("launch_date"), "launch_date"),
        unece=unece,
        models=tuple(model_ids),
        time_zone=time_zone,
        time_zone_declared=time_zone_declared,
        fleet_share=market_fleet_share(data, path),
        file=path,
    )
