"""Load a workspace folder into a validated ``Workspace``, or fail naming file:line.

Loading is all-or-nothing: every file is read and checked before a ``Workspace`` exists, so
a broken workspace never yields a partial result. Order matters only for cross-references:
the feature model first (everything else names features), then parts, models, regulations,
markets, software and paid features, then every trim × market configuration is proven valid. Each file type
has its reader in :mod:`evplatform.workspace.readers`; this module only runs them in order.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import resources
from pathlib import Path

from evplatform.errors import WorkspaceError
from evplatform.variability.model import FeatureModel
from evplatform.workspace.model import Market, Trim, VehicleModel, Workspace, aggregate_attributes
from evplatform.workspace.readers.features import read_feature_model
from evplatform.workspace.readers.markets import read_markets
from evplatform.workspace.readers.models import read_vehicle_model
from evplatform.workspace.readers.on_demand import read_on_demand
from evplatform.workspace.readers.parts import read_parts
from evplatform.workspace.readers.platform import file_ref, id_list, read_platform
from evplatform.workspace.readers.regulations import read_regulations
from evplatform.workspace.readers.software import read_software
from evplatform.workspace.roles import parse_roles
from evplatform.workspace.sources import read_yaml_mapping


def demo_path() -> Path:
    """The bundled demo workspace "modena", shipped inside the package."""
    return Path(str(resources.files("evplatform.demo") / "modena"))


#: Called with the feature model, the trim, the market and the error when a trim × market
#: configuration is invalid; returns the configuration to use instead (or raises).
OnInvalid = Callable[[FeatureModel, Trim, Market, WorkspaceError], frozenset[str]]


def load_workspace(path: str | Path | None = None, *, on_invalid: OnInvalid | None = None) -> Workspace:
    """Read and validate a workspace folder (``None``: the bundled demo).

    ``on_invalid`` lets a caller that compares versions (evolution) go on past a trim that a
    change made invalid, with a configuration it chooses; without it, the error is raised.
    """
    root = Path(path) if path is not None else demo_path()
    if not root.is_dir():
        raise WorkspaceError("workspace folder not found", root)
    platform_file = root / "platform.yaml"
    spec = read_yaml_mapping(platform_file, "platform.yaml")
    platform = read_platform(spec, platform_file)
    feature_model = read_feature_model(root / file_ref(spec, "features", "features.uvl", platform_file))
    roles = parse_roles(spec.get("roles"), feature_model, platform_file, spec.line_of("roles"))
    parts = read_parts(root / file_ref(spec, "parts", "parts.csv", platform_file), feature_model)
    market_ids = id_list(spec, "markets", platform_file)
    model_ids = id_list(spec, "models", platform_file)
    models = {
        mid: read_vehicle_model(root / "models" / f"{mid}.yaml", mid, feature_model) for mid in model_ids
    }
    regulations = read_regulations(
        root / file_ref(spec, "regulations", "regulations.csv", platform_file), feature_model, market_ids
    )
    markets = read_markets(root / "markets", market_ids, feature_model, models, regulations)
    if platform.base_market not in markets:
        raise WorkspaceError(
            f"base_market {platform.base_market!r} is not one of the markets ({', '.join(markets)})",
            platform_file,
            spec.line_of("base_market"),
        )
    software = read_software(root / file_ref(spec, "software", "software.yaml", platform_file), feature_model)
    on_demand = read_on_demand(root / file_ref(spec, "on_demand", "on-demand.yaml", platform_file), feature_model,
                               software)
    configurations = _configurations(feature_model, models, markets, platform.base_market, on_invalid)
    return Workspace(
        root=root,
        platform=platform,
        feature_model=feature_model,
        parts=parts,
        models=models,
        markets=markets,
        regulations=regulations,
        software=software,
        configurations=configurations,
        roles=roles,
        on_demand=on_demand,
    )


def _configurations(
    fm: FeatureModel, models: dict[str, VehicleModel], markets: dict[str, Market], base_market: str,
    on_invalid: OnInvalid | None = None,
) -> dict[tuple[str, str], frozenset[str]]:
    """Every trim in its base market and in every market that sells its model, proven valid."""
    out: dict[tuple[str, str], frozenset[str]] = {}
    for model in models.values():
        for trim in model.trims:
            for market in markets.values():
                if market.id != base_market and model.id not in market.models:
                    continue
                try:
                    config = _configuration(fm, model, trim, market)
                except WorkspaceError as error:
                    if on_invalid is None:
                        raise
                    config = on_invalid(fm, trim, market, error)
                out[(trim.key, market.id)] = config
    return out


def _configuration(fm: FeatureModel, model: VehicleModel, trim: Trim, market: Market) -> frozenset[str]:
    chosen = fm.mandatory_closure(set(trim.selected) | set(market.select))
    where = f"trim {trim.key} in market {market.id}"
    clash = sorted(chosen & trim.deselected)
    if clash:
        raise WorkspaceError(f"{where}: deselected feature(s) {', '.join(clash)} are forced by the selection",
                             model.file, trim.line)
    config = frozenset(chosen)
    errors = fm.configuration_errors(config)
    if errors:
        raise WorkspaceError(
            f"{where} is not a valid configuration of {Path(fm.source or 'the feature model').name}: "
            + "; ".join(errors),
            model.file,
            trim.line,
        )
    aggregate_attributes(fm, config)
    return config
