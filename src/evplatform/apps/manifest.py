"""Reading ``apps/<id>.yaml`` and ``apps/store-policy.yaml`` from a workspace, or failing at file:line.

Loading is all-or-nothing like the rest of the workspace: every manifest is read and checked
(unknown keys, VSS paths against the hub's catalogue with their kind, feature expressions
against the feature model, markets, data categories of the store policy) before a catalogue
exists. A workspace without an ``apps/`` folder has no apps, which is not an error.
"""

from __future__ import annotations

import fnmatch
import logging
import re
from pathlib import Path
from typing import Any

from evplatform.apps.model import AppCatalogue, AppManifest, DataCategory, MarketRule, StorePolicy
from evplatform.errors import WorkspaceError
from evplatform.vehicle.hub.vss import SIGNALS
from evplatform.workspace.model import Workspace
from evplatform.workspace.readers.features import expression
from evplatform.workspace.sources import LineDict, did_you_mean, read_yaml_mapping

logger = logging.getLogger(__name__)

APPS_FOLDER = "apps"
POLICY_FILE = "store-policy.yaml"
#: An app or publisher id: it becomes an image path segment and part of a delegated role name.
APP_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}\Z")
VERSION = re.compile(r"^\d{1,6}(\.\d{1,6}){0,3}\Z")
MAX_APPS = 10_000
MAX_SIGNALS = 500

MANIFEST_KEYS = {
    "id": "the app id, equal to the file name", "name": "display name", "publisher": "publisher id",
    "version": "release version (dotted numbers)", "signals": "read/actuate/provide lists of VSS paths",
    "features": "feature expression the configuration must satisfy", "markets": "market ids where it may run",
    "data_categories": "what the app collects (store policy categories)",
    "owner_consent": "true when the app asks the owner's consent before collecting",
    "min_hub_version": "the oldest hub software version it runs on", "description": "free text",
}
SIGNAL_KEYS = ("read", "actuate", "provide")
POLICY_KEYS = ("hub_component", "data_categories", "never_actuate", "never_provide", "markets")


def load_apps(ws: Workspace) -> AppCatalogue:
    """The apps and store policy of a loaded workspace (none when it has no ``apps/`` folder)."""
    folder = ws.root / APPS_FOLDER
    if not folder.is_dir():
        return AppCatalogue({}, None)
    policy_path = folder / POLICY_FILE
    files = sorted(p for p in folder.glob("*.yaml") if p.name != POLICY_FILE)
    if len(files) > MAX_APPS:
        raise WorkspaceError(f"more than {MAX_APPS} app manifests", folder)
    if not policy_path.is_file():
        if files:
            raise WorkspaceError(f"{len(files)} app manifest(s) but no store policy {POLICY_FILE}", folder)
        return AppCatalogue({}, None)
    policy = read_policy(policy_path, ws)
    apps: dict[str, AppManifest] = {}
    for path in files:
        app = read_manifest(path, ws, policy)
        apps[app.id] = app
    logger.debug("loaded %d app(s) from %s", len(apps), folder)
    return AppCatalogue(apps, policy)


def _unknown_keys(spec: LineDict, known: Any, path: Path) -> None:
    for key in spec:
        if key not in known:
            raise WorkspaceError(f"unknown key {key!r}{did_you_mean(str(key), known)} "
                                 f"(keys: {', '.join(known)})", path, spec.line_of(key))


def _string(spec: LineDict, key: str, path: Path, *, required: bool = True, default: str = "") -> str:
    value = spec.get(key)
    if value is None:
        if required:
            raise WorkspaceError(f"missing {key!r}", path, spec.line)
        return default
    if not isinstance(value, str | int | float) or isinstance(value, bool) or not str(value).strip():
        raise WorkspaceError(f"{key} must be a non-empty string", path, spec.line_of(key))
    return str(value).strip()


def _string_list(value: Any, path: Path, line: int, field: str) -> list[tuple[str, int]]:
    """A YAML list of strings with each item's line (``None``: empty)."""
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise WorkspaceError(f"{field} must be a list of strings", path, line)
    if len(value) > MAX_SIGNALS:
        raise WorkspaceError(f"{field}: more than {MAX_SIGNALS} entries", path, line)
    lines = [value.line_of(i) if hasattr(value, "line_of") else line for i in range(len(value))]
    return list(zip(value, lines, strict=True))


def parse_version(text: str, path: Path, line: int, field: str) -> tuple[int, ...]:
    """Dotted numbers (``1.6`` or ``1.6.0``), compared numerically; anything else is an error."""
    if not VERSION.match(text):
        raise WorkspaceError(f"{field} {text!r} is not a version of dotted numbers (e.g. 1.6.0)", path, line)
    parts = [int(p) for p in text.split(".")]
    while len(parts) > 1 and parts[-1] == 0:
        parts.pop()  # 1.6 == 1.6.0
    return tuple(parts)


def read_manifest(path: Path, ws: Workspace, policy: StorePolicy) -> AppManifest:
    """One app manifest, every name checked against the workspace, the hub's VSS catalogue and the policy."""
    spec = read_yaml_mapping(path, "app manifest")
    _unknown_keys(spec, MANIFEST_KEYS, path)
    app_id = _string(spec, "id", path)
    if not APP_ID.match(app_id):
        raise WorkspaceError(f"app id {app_id!r}: lowercase letters, digits and '-', at most 40", path,
                             spec.line_of("id"))
    if app_id != path.stem:
        raise WorkspaceError(f"app id {app_id!r} must equal the file name ({path.stem!r})", path, spec.line_of("id"))
    publisher = _string(spec, "publisher", path)
    if not APP_ID.match(publisher):
        raise WorkspaceError(f"publisher {publisher!r}: lowercase letters, digits and '-', at most 40", path,
                             spec.line_of("publisher"))
    version = _string(spec, "version", path)
    parse_version(version, path, spec.line_of("version"), "version")
    reads, actuates, provides = _signals(spec, path)
    raw_features = spec.get("features")
    features_text = (str(raw_features).lower() if isinstance(raw_features, bool)  # YAML reads `true` as a bool
                     else _string(spec, "features", path, required=False, default="true"))
    features = expression(features_text, ws.feature_model, path, spec.line_of("features"), "features")
    markets = _markets(spec, path, ws)
    categories = _categories(spec, path, policy)
    consent = spec.get("owner_consent", False)
    if not isinstance(consent, bool):
        raise WorkspaceError("owner_consent must be true or false", path, spec.line_of("owner_consent"))
    hub_text = _string(spec, "min_hub_version", path)
    return AppManifest(
        id=app_id, name=_string(spec, "name", path, required=False, default=app_id), publisher=publisher,
        version=version, reads=reads, actuates=actuates, provides=provides, features=features,
        features_text=features_text, markets=markets, data_categories=categories, owner_consent=consent,
        min_hub_version=parse_version(hub_text, path, spec.line_of("min_hub_version"), "min_hub_version"),
        min_hub_version_text=hub_text, file=path, line=spec.line or 1)


def _signals(spec: LineDict, path: Path) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """read/actuate/provide: known VSS paths; an actuated one must be a VSS actuator."""
    raw = spec.get("signals")
    if raw is None:
        raise WorkspaceError("missing 'signals' (read/actuate/provide lists of VSS paths)", path, spec.line)
    if not isinstance(raw, LineDict):
        raise WorkspaceError("signals must be a mapping with read, actuate, provide", path, spec.line_of("signals"))
    _unknown_keys(raw, SIGNAL_KEYS, path)
    out: list[tuple[str, ...]] = []
    for key in SIGNAL_KEYS:
        found: list[str] = []
        for signal, line in _string_list(raw.get(key), path, raw.line_of(key), f"signals.{key}"):
            if signal not in SIGNALS:
                raise WorkspaceError(f"signals.{key}: {signal!r} is not a VSS signal of the hub's catalogue"
                                     f"{did_you_mean(signal, SIGNALS)}", path, line)
            if key == "actuate" and SIGNALS[signal].kind != "actuator":
                raise WorkspaceError(f"signals.actuate: {signal} is a VSS {SIGNALS[signal].kind}, not an actuator",
                                     path, line)
            if key == "provide" and SIGNALS[signal].kind == "attribute":
                raise WorkspaceError(f"signals.provide: {signal} is a VSS attribute (fixed by the vehicle)", path, line)
            if signal in found:
                raise WorkspaceError(f"signals.{key}: {signal} listed twice", path, line)
            found.append(signal)
        out.append(tuple(found))
    if not any(out):
        raise WorkspaceError("signals: an app must read, actuate or provide at least one signal", path,
                             spec.line_of("signals"))
    return out[0], out[1], out[2]


def _markets(spec: LineDict, path: Path, ws: Workspace) -> tuple[str, ...]:
    listed = _string_list(spec.get("markets"), path, spec.line_of("markets"), "markets")
    if not listed:
        raise WorkspaceError("markets: list the markets where the app may run", path, spec.line_of("markets"))
    for market, line in listed:
        if market not in ws.markets:
            raise WorkspaceError(f"markets: unknown market {market!r}{did_you_mean(market, ws.markets)} "
                                 f"(markets: {', '.join(ws.markets)})", path, line)
    return tuple(m for m, _ in listed)


def _categories(spec: LineDict, path: Path, policy: StorePolicy) -> tuple[str, ...]:
    listed = _string_list(spec.get("data_categories"), path, spec.line_of("data_categories"), "data_categories")
    for category, line in listed:
        if category not in policy.data_categories:
            raise WorkspaceError(
                f"data_categories: {category!r} is not a category of the store policy"
                f"{did_you_mean(category, policy.data_categories)} (categories: {', '.join(policy.data_categories)})",
                path, line)
    return tuple(c for c, _ in listed)


def read_policy(path: Path, ws: Workspace) -> StorePolicy:
    """The store policy: data categories, signal patterns no app may actuate or provide, market rules."""
    spec = read_yaml_mapping(path, "store policy")
    _unknown_keys(spec, POLICY_KEYS, path)
    hub = spec.get("hub_component")
    if hub is not None and str(hub) not in ws.software:
        raise WorkspaceError(f"hub_component {hub!r} is not a component of the software file"
                             f"{did_you_mean(str(hub), ws.software)}", path, spec.line_of("hub_component"))
    categories = _policy_categories(spec, path)
    markets: dict[str, MarketRule] = {}
    raw_markets = spec.get("markets") or {}
    if not isinstance(raw_markets, dict):
        raise WorkspaceError("markets must be a mapping of market id to its rule", path, spec.line_of("markets"))
    for market, rule in raw_markets.items():
        line = raw_markets.line_of(market) if isinstance(raw_markets, LineDict) else spec.line
        if market not in ws.markets:
            raise WorkspaceError(f"markets: unknown market {market!r}{did_you_mean(str(market), ws.markets)}",
                                 path, line)
        if not isinstance(rule, LineDict):
            raise WorkspaceError(f"markets.{market} must be a mapping", path, line)
        _unknown_keys(rule, ("forbid_data_categories", "reason"), path)
        forbidden = _string_list(rule.get("forbid_data_categories"), path, rule.line_of("forbid_data_categories"),
                                 f"markets.{market}.forbid_data_categories")
        for category, item_line in forbidden:
            if category not in categories:
                raise WorkspaceError(f"markets.{market}: unknown data category {category!r}", path, item_line)
        markets[market] = MarketRule(market, tuple(c for c, _ in forbidden),
                                     _string(rule, "reason", path, required=False, default="market rule"))
    return StorePolicy(
        hub_component=str(hub) if hub is not None else None, data_categories=categories,
        never_actuate=_patterns(spec, "never_actuate", path), never_provide=_patterns(spec, "never_provide", path),
        markets=markets, file=path)


def _policy_categories(spec: LineDict, path: Path) -> dict[str, DataCategory]:
    raw = spec.get("data_categories")
    if not isinstance(raw, LineDict) or not raw:
        raise WorkspaceError("data_categories must map each category id to {consent, description}", path,
                             spec.line_of("data_categories"))
    out: dict[str, DataCategory] = {}
    for name, item in raw.items():
        line = raw.line_of(name)
        if not isinstance(item, LineDict):
            raise WorkspaceError(f"data_categories.{name} must be a mapping", path, line)
        _unknown_keys(item, ("consent", "description", "signals", "retention_days"), path)
        consent = item.get("consent", False)
        if not isinstance(consent, bool):
            raise WorkspaceError(f"data_categories.{name}.consent must be true or false", path, item.line_of("consent"))
        retention = item.get("retention_days")
        if retention is not None and (isinstance(retention, bool) or not isinstance(retention, int)
                                      or not 1 <= retention <= 36_500):
            raise WorkspaceError(f"data_categories.{name}.retention_days must be whole days within 1–36500",
                                 path, item.line_of("retention_days"))
        out[str(name)] = DataCategory(str(name), consent, str(item.get("description", "")),
                                      _patterns(item, "signals", path, f"data_categories.{name}.signals"), retention)
    return out


def _patterns(spec: LineDict, key: str, path: Path, field: str | None = None) -> tuple[str, ...]:
    """VSS path patterns (``Vehicle.Chassis.*``); each must match at least one signal of the catalogue."""
    out: list[str] = []
    field = field or key
    for pattern, line in _string_list(spec.get(key), path, spec.line_of(key), field):
        if not any(fnmatch.fnmatchcase(s, pattern) for s in SIGNALS):
            raise WorkspaceError(f"{field}: {pattern!r} matches no VSS signal of the hub's catalogue", path, line)
        out.append(pattern)
    return tuple(out)
