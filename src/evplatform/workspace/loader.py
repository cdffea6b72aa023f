"""Load a workspace folder into a validated ``Workspace``, or fail naming file:line.

Loading is all-or-nothing: every file is read and checked before a ``Workspace`` exists, so
a broken workspace never yields a partial result. Order matters only for cross-references:
the feature model first (everything else names features), then parts, markets, models,
regulations and software, then every trim × market configuration is proven valid.
"""

from __future__ import annotations

from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

from evplatform.errors import ParseError, WorkspaceError
from evplatform.variability.expression import parse_expression
from evplatform.variability.model import (
    And,
    Const,
    Expr,
    FeatureModel,
    Iff,
    Implies,
    Not,
    Or,
    Var,
)
from evplatform.variability.uvl import parse_uvl
from evplatform.workspace.market_facts import market_fleet_share, market_time_zone
from evplatform.workspace.model import (
    IN_FORCE,
    Market,
    Part,
    Platform,
    Regulation,
    SoftwareComponent,
    Trim,
    VehicleModel,
    Workspace,
    aggregate_attributes,
)
from evplatform.workspace.roles import parse_roles
from evplatform.workspace.sources import (
    LineDict,
    number,
    read_csv,
    read_text,
    read_yaml_mapping,
)

CYCLES = ("WLTC", "CLTC", "EPA")
STATUSES = ("confirmed", "unverified")
PART_COLUMNS = ("part_no", "name", "module", "unit_cost", "mass_kg", "supplier", "qty", "when")
REGULATION_COLUMNS = (
    "id", "title", "markets", "requires", "applies_new_types", "applies_all", "source", "status",
)


def demo_path() -> Path:
    """The bundled demo workspace "modena", shipped inside the package."""
    return Path(str(resources.files("evplatform.demo") / "modena"))


def load_workspace(path: str | Path | None = None) -> Workspace:
    """Read and validate a workspace folder (``None``: the bundled demo)."""
    root = Path(path) if path is not None else demo_path()
    if not root.is_dir():
        raise WorkspaceError("workspace folder not found", root)
    platform_file = root / "platform.yaml"
    spec = read_yaml_mapping(platform_file, "platform.yaml")
    platform = _platform(spec, platform_file)
    feature_model = _feature_model(root / _file_ref(spec, "features", "features.uvl", platform_file))
    roles = parse_roles(spec.get("roles"), feature_model, platform_file, spec.line_of("roles"))
    parts = _parts(root / _file_ref(spec, "parts", "parts.csv", platform_file), feature_model)
    market_ids = _id_list(spec, "markets", platform_file)
    model_ids = _id_list(spec, "models", platform_file)
    models = {mid: _vehicle_model(root / "models" / f"{mid}.yaml", mid, feature_model) for mid in model_ids}
    regulations = _regulations(
        root / _file_ref(spec, "regulations", "regulations.csv", platform_file), feature_model, market_ids
    )
    markets = _markets(root / "markets", market_ids, feature_model, models, regulations)
    if platform.base_market not in markets:
        raise WorkspaceError(
            f"base_market {platform.base_market!r} is not one of the markets ({', '.join(markets)})",
            platform_file,
            spec.line_of("base_market"),
        )
    software = _software(root / _file_ref(spec, "software", "software.yaml", platform_file), feature_model)
    configurations = _configurations(feature_model, models, markets, platform.base_market)
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
    )


# --- platform.yaml ------------------------------------------------------------------------


def _platform(spec: LineDict, path: Path) -> Platform:
    for key in ("name", "currency", "base_market", "models", "markets"):
        if key not in spec:
            raise WorkspaceError(f"missing required key {key!r}", path, spec.line)
    development = spec.get("development") or LineDict()
    comparison = spec.get("comparison") or LineDict()
    for section, name in ((development, "development"), (comparison, "comparison")):
        if not isinstance(section, dict):
            raise WorkspaceError(f"{name} must be a mapping", path, spec.line_of(name))

    def num(section: Any, key: str, default: float) -> float:
        if key not in section:
            return default
        line = section.line_of(key) if isinstance(section, LineDict) else spec.line
        return number(section[key], path, line, key)

    return Platform(
        name=str(spec["name"]),
        version=str(spec.get("version", "")),
        currency=str(spec["currency"]),
        base_market=str(spec["base_market"]),
        description=str(spec.get("description", "")),
        development_cost=num(development, "platform_cost", 0.0),
        lifecycle_years=max(num(development, "lifecycle_years", 1.0), 1e-9),
        standalone_development_share=num(comparison, "standalone_development_share", 0.5),
        scale_elasticity=num(comparison, "scale_elasticity", 0.0),
    )


def _file_ref(spec: LineDict, key: str, default: str, path: Path) -> str:
    value = spec.get(key, default)
    if not isinstance(value, str) or not value:
        raise WorkspaceError(f"{key} must be a file name", path, spec.line_of(key))
    return value


def _id_list(spec: LineDict, key: str, path: Path) -> list[str]:
    value = spec.get(key)
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise WorkspaceError(f"{key} must be a non-empty list of ids", path, spec.line_of(key))
    duplicates = sorted({v for v in value if value.count(v) > 1})
    if duplicates:
        raise WorkspaceError(f"duplicate {key}: {', '.join(duplicates)}", path, spec.line_of(key))
    return list(value)


# --- features and expressions -------------------------------------------------------------


def _feature_model(path: Path) -> FeatureModel:
    text = read_text(path, "feature model")
    if not text.strip():
        raise WorkspaceError("feature model is empty", path, 1)
    return parse_uvl(text, source=str(path))


def expression(text: str, model: FeatureModel, path: Path, line: int, field: str) -> Expr:
    """Parse a feature expression and resolve every name to a feature of the model."""
    if not text.strip():
        raise WorkspaceError(f"{field} is empty: expected a feature expression", path, line)
    try:
        parsed = parse_expression(text, source=str(path), line=line)
    except ParseError as error:
        raise WorkspaceError(f"{field}: {error.message}", path, line, error.column) from error
    return _resolve(parsed, model, path, line, field)


def _resolve(expr: Expr, model: FeatureModel, path: Path, line: int, field: str) -> Expr:
    if isinstance(expr, Var):
        name = model.resolve(expr.name)
        if name is None:
            raise WorkspaceError(f"{field}: unknown feature {expr.name!r}", path, line)
        return Var(name)
    if isinstance(expr, Const):
        return expr
    if isinstance(expr, Not):
        return Not(_resolve(expr.operand, model, path, line, field))
    if isinstance(expr, And | Or):
        operands = tuple(_resolve(o, model, path, line, field) for o in expr.operands)
        return And(operands) if isinstance(expr, And) else Or(operands)
    if isinstance(expr, Implies | Iff):
        left = _resolve(expr.left, model, path, line, field)
        right = _resolve(expr.right, model, path, line, field)
        return Implies(left, right) if isinstance(expr, Implies) else Iff(left, right)
    raise WorkspaceError(f"{field}: unsupported expression {expr!r}", path, line)


def _feature_names(value: Any, model: FeatureModel, path: Path, line: int, field: str) -> frozenset[str]:
    if value is None:
        return frozenset()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise WorkspaceError(f"{field} must be a list of feature names", path, line)
    out = set()
    for index, ref in enumerate(value):
        name = model.resolve(ref)
        item_line = value.line_of(index) if hasattr(value, "line_of") else line
        if name is None:
            raise WorkspaceError(f"{field}: unknown feature {ref!r}", path, item_line)
        out.add(name)
    return frozenset(out)


# --- parts.csv ----------------------------------------------------------------------------


def _parts(path: Path, model: FeatureModel) -> tuple[Part, ...]:
    parts: list[Part] = []
    seen: dict[str, int] = {}
    for row in read_csv(path, "parts catalogue", PART_COLUMNS):
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


# --- models/<id>.yaml ---------------------------------------------------------------------


def _vehicle_model(path: Path, model_id: str, fm: FeatureModel) -> VehicleModel:
    spec = read_yaml_mapping(path, f"model file for {model_id!r}")
    for key in ("name", "trims"):
        if key not in spec:
            raise WorkspaceError(f"missing required key {key!r}", path, spec.line)
    common = _feature_names(spec.get("select"), fm, path, spec.line_of("select"), "select")
    common_off = _feature_names(spec.get("deselect"), fm, path, spec.line_of("deselect"), "deselect")
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
    for key in ("price", "volume_per_year", "select"):
        if key not in spec:
            raise WorkspaceError(f"trim {trim_id!r}: missing required key {key!r}", path, spec.line)
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
        selected=common | _feature_names(spec["select"], fm, path, spec.line_of("select"), "select"),
        deselected=common_off
        | _feature_names(spec.get("deselect"), fm, path, spec.line_of("deselect"), "deselect"),
        targets={str(k): number(v, path, target_line, f"targets.{k}") for k, v in targets.items()},
        line=line,
    )


# --- markets/<id>.yaml --------------------------------------------------------------------


def _markets(
    folder: Path,
    ids: list[str],
    fm: FeatureModel,
    models: dict[str, VehicleModel],
    known_regulations: dict[str, Regulation],
) -> dict[str, Market]:
    raw = {mid: read_yaml_mapping(folder / f"{mid}.yaml", f"market file for {mid!r}") for mid in ids}
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
    select = _feature_names(data.get("select"), fm, path, data.line_of("select"), "select")
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
        launch_date=_date(data.get("launch_date", parent.launch_date if parent else None), path,
                          data.line_of("launch_date"), "launch_date"),
        unece=unece,
        models=tuple(model_ids),
        time_zone=time_zone,
        time_zone_declared=time_zone_declared,
        fleet_share=market_fleet_share(data, path),
        file=path,
    )


def _date(value: Any, path: Path, line: int, field: str) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise WorkspaceError(f"{field} must be a date YYYY-MM-DD, not {value!r}", path, line) from None


# --- regulations.csv ----------------------------------------------------------------------


def _regulations(path: Path, fm: FeatureModel, markets: list[str]) -> dict[str, Regulation]:
    """Rows of regulations.csv; ``markets`` are the workspace's market ids (UNECE is always known)."""
    out: dict[str, Regulation] = {}
    for row in read_csv(path, "regulations", REGULATION_COLUMNS):
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
        return _date(value, path, line, field)
    except WorkspaceError:
        raise WorkspaceError(f"{field} must be a date YYYY-MM-DD, 'in force' or empty, not {value!r}", path,
                             line) from None


# --- software.yaml ------------------------------------------------------------------------


def _software(path: Path, fm: FeatureModel) -> dict[str, SoftwareComponent]:
    spec = read_yaml_mapping(path, "software.yaml")
    items = spec.get("components")
    if not isinstance(items, list):
        raise WorkspaceError("components must be a list", path, spec.line_of("components"))
    out: dict[str, SoftwareComponent] = {}
    for index, item in enumerate(items):
        line = items.line_of(index) if hasattr(items, "line_of") else spec.line
        if not isinstance(item, dict):
            raise WorkspaceError("each component must be a mapping", path, line)
        for key in ("id", "ecu", "hardware_id", "compatible", "version"):
            if key not in item:
                raise WorkspaceError(f"component: missing required key {key!r}", path, line)
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


# --- configurations -----------------------------------------------------------------------


def _configurations(
    fm: FeatureModel, models: dict[str, VehicleModel], markets: dict[str, Market], base_market: str
) -> dict[tuple[str, str], frozenset[str]]:
    """Every trim in its base market and in every market that sells its model, proven valid."""
    out: dict[tuple[str, str], frozenset[str]] = {}
    for model in models.values():
        for trim in model.trims:
            for market in markets.values():
                if market.id != base_market and model.id not in market.models:
                    continue
                config = _configuration(fm, model, trim, market)
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
