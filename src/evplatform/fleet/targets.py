"""Which vehicles a campaign is for: the operator's filter and the compatibility rules.

``select_targets`` answers before anything is written, so ``start_campaign`` (and an operator
previewing a campaign) sees the vehicles that would be updated and, per reason, how many matched
the filter but are left out: an incompatible configuration or hardware, the version already
installed or a newer one (never a downgrade), another current version than asked, no consent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from evplatform.errors import FleetError, NotFoundError, ParseError
from evplatform.fleet.gates import CampaignInputError, needs_consent
from evplatform.fleet.groups import check_name as check_group_name
from evplatform.fleet.groups import group_query
from evplatform.fleet.listing import catalogue_for
from evplatform.fleet.query import QueryError, compile_query
from evplatform.fleet.query import parse as parse_query
from evplatform.ota.releases import version_key
from evplatform.store import Store
from evplatform.store import vehicle_query as vq
from evplatform.store import vehicles as vdb
from evplatform.store.releases import ReleaseRecord
from evplatform.variability.expression import parse_expression
from evplatform.workspace.model import Workspace, market_lineage
from evplatform.workspace.sources import did_you_mean


@dataclass(frozen=True, slots=True)
class TargetFilter:
    """Which vehicles a campaign is for; empty fields match everything.

    ``trims`` take ``model/trim`` keys; ``markets`` match a vehicle's market or any parent of it
    (``EU`` covers ``DE``); ``expression`` is a feature expression on the vehicle's configuration;
    ``current_versions`` restricts to vehicles running one of those versions on the release's ECU.
    ``group`` (a saved fleet group's name) and ``query`` (a fleet filter query, ``fleet.query``)
    narrow further: the targets are in the group and match the query, evaluated when the campaign
    starts (a group is dynamic), and still pass every compatibility rule below.
    """

    models: tuple[str, ...] = ()
    trims: tuple[str, ...] = ()
    markets: tuple[str, ...] = ()
    expression: str | None = None
    current_versions: tuple[str, ...] = ()
    group: str | None = None
    query: str | None = None

    def __post_init__(self) -> None:
        if self.expression:
            try:
                parse_expression(self.expression, source="target filter")
            except ParseError as error:
                raise CampaignInputError(f"target filter expression: {error}") from error
        if self.query:
            try:
                parse_query(self.query)
            except QueryError as error:
                raise CampaignInputError(f"target.query: {error}") from error
        if self.group is not None:
            try:
                check_group_name(self.group)
            except FleetError as error:
                raise CampaignInputError(f"target.group: {error}") from error

    def to_dict(self) -> dict[str, Any]:
        return {
            "models": list(self.models),
            "trims": list(self.trims),
            "markets": list(self.markets),
            "expression": self.expression,
            "current_versions": list(self.current_versions),
            "group": self.group,
            "query": self.query,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TargetFilter:
        unknown = set(data) - {"models", "trims", "markets", "expression", "current_versions", "group", "query"}
        if unknown:
            raise CampaignInputError(f"unknown target filter field(s): {', '.join(sorted(unknown))}")
        return cls(
            models=tuple(data.get("models") or ()),
            trims=tuple(data.get("trims") or ()),
            markets=tuple(data.get("markets") or ()),
            expression=data.get("expression") or None,
            current_versions=tuple(data.get("current_versions") or ()),
            group=data.get("group") or None,
            query=data.get("query") or None,
        )


def check_target_filter(target: TargetFilter, ws: Workspace) -> None:
    """Refuse a filter naming a model, trim, market or feature the workspace does not have.

    Each field narrows the fleet, so a misspelt id (``markets: [DEU]``) would silently match no
    vehicle and give a campaign of 0 targets; the error names the field and the id instead.
    """
    known_trims = [t.key for t in ws.trims()]
    checks = (("models", target.models, list(ws.models)), ("trims", target.trims, known_trims),
              ("markets", target.markets, list(ws.markets)))
    for field_name, given, known in checks:
        for item in given:
            if item not in known:
                hint = did_you_mean(item, known) or f" (known: {', '.join(known[:20])})"
                raise CampaignInputError(f"target.{field_name}: unknown {field_name[:-1]} {item!r}{hint}")
    if target.expression:
        features = ws.feature_model.features
        for name in sorted(parse_expression(target.expression, source="target filter").variables()):
            if name not in features:
                raise CampaignInputError(f"target.expression: unknown feature {name!r}{did_you_mean(name, features)}")


@dataclass(frozen=True, slots=True)
class Targets:
    vehicle_ids: np.ndarray
    cohorts: np.ndarray
    markets: np.ndarray
    timezones: np.ndarray
    excluded: dict[str, int] = field(default_factory=dict)  # reason -> vehicles matched but left out
    #: reason -> ids of the vehicles left out for it (a dry run shows a sample of their VINs)
    excluded_ids: dict[str, np.ndarray] = field(default_factory=dict)


def select_targets(store: Store, release: ReleaseRecord, target: TargetFilter, *, forced: bool,
                   consent: str = "auto") -> Targets:
    """The vehicles a campaign would update, and why the others that matched the filter are left out.

    Compatibility is the release's hardware id on its ECU and its feature expression evaluated on
    the vehicle's configuration — once per distinct configuration, not once per vehicle.
    """
    return targets_among(store, vdb.vehicle_columns(store, ecu=release.ecu), release, target, forced=forced,
                         consent=consent)


def matching_mask(store: Store, cols: Mapping[str, np.ndarray], target: TargetFilter, *,
                  cells: bool = False) -> np.ndarray:
    """Which rows the operator's filter matches (models, trims, markets with their members, group,
    query, feature expression), before any compatibility rule: the live count of a preview."""
    n = len(cols["id"])
    keys = np.char.add(np.char.add(cols["model"].astype(str), "/"), cols["trim"].astype(str)) if n else np.zeros(
        0, dtype=str
    )
    mask = np.ones(n, dtype=bool)
    if target.models:
        mask &= np.isin(cols["model"].astype(str), list(target.models))
    if target.trims:
        mask &= np.isin(keys, list(target.trims))
    if target.markets:
        parents = {m.id: m.parent for m in vdb.markets(store).values()}
        wanted = set(target.markets)
        covered = [m for m in set(cols["market"].tolist()) if wanted & set(market_lineage(m, parents))]
        mask &= np.isin(cols["market"].astype(str), covered)
    if target.group or target.query:
        mask &= _in_group_and_query(store, cols, target, cells=cells)
    if target.expression:
        config_ids = cols["configuration_id"]
        configs = vdb.configurations(store, set(config_ids[mask].tolist()))
        expression = parse_expression(target.expression, source="target filter")
        keep = [c for c, features in configs.items() if expression.evaluate(set(features))]
        mask &= np.isin(config_ids, keep)
    return mask


def targets_among(store: Store, cols: Mapping[str, np.ndarray], release: ReleaseRecord, target: TargetFilter, *,
                  forced: bool, consent: str = "auto", weights: np.ndarray | None = None) -> Targets:
    """``select_targets`` over given columns (``store.vehicles.vehicle_columns``' shape).

    With ``weights``, a row stands for that many vehicles alike in every column the rules read (a
    dry run reads the fleet grouped into such cells, ``store.planning.target_cells``): the excluded
    counts are weighted and ``excluded_ids`` hold row ids. ``consent`` is the campaign's consent
    rule (``gates.CONSENT_RULES``): whether a target must have consented to updates.
    """
    n = len(cols["id"])
    keys = np.char.add(np.char.add(cols["model"].astype(str), "/"), cols["trim"].astype(str)) if n else np.zeros(
        0, dtype=str
    )
    mask = matching_mask(store, cols, target, cells=weights is not None)
    config_ids = cols["configuration_id"]
    configs = vdb.configurations(store, set(config_ids[mask].tolist()))
    excluded: dict[str, int] = {}
    excluded_ids: dict[str, np.ndarray] = {}

    def exclude(reason: str, out: np.ndarray) -> None:
        nonlocal mask
        left_out = mask & out
        count = int(left_out.sum() if weights is None else weights[left_out].sum())
        if count:
            excluded[reason] = excluded.get(reason, 0) + count
            excluded_ids[reason] = cols["id"][left_out]
        mask &= ~out

    compatible = parse_expression(release.compatible, source=f"release {release.id}")
    ok_configs = [c for c, features in configs.items() if compatible.evaluate(set(features))]
    exclude("incompatible configuration", ~np.isin(config_ids, ok_configs))
    exclude(f"no {release.hardware_id} on ECU {release.ecu}", cols["hardware_id"] != release.hardware_id)
    same_component = cols["component"] == release.component
    exclude("already on this version", same_component & (cols["version"] == release.version))
    newer = [v for v in set(cols["version"][same_component].tolist()) if version_key(v) > version_key(release.version)]
    # Never a downgrade: the Uptane Director must not send an older image than installed (anti-rollback).
    exclude("newer version installed", same_component & np.isin(cols["version"], newer))
    if target.current_versions:
        exclude("other current version", ~np.isin(cols["version"].astype(str), list(target.current_versions)))
    if needs_consent(forced, consent):
        exclude("no consent to updates", ~cols["consent_updates"])
    return Targets(cols["id"][mask], keys[mask].astype(object), cols["market"][mask], cols["timezone"][mask], excluded,
                   excluded_ids)



def _in_group_and_query(store: Store, cols: Mapping[str, np.ndarray], target: TargetFilter, *,
                        cells: bool) -> np.ndarray:
    """Which rows are vehicles of the target's group matching its query; rows that are cells of alike
    vehicles (a dry run's) cannot be split by a query, so such a target is refused there."""
    if cells:
        raise CampaignInputError("target.group / target.query: judge such a target vehicle by vehicle "
                                 "(select_targets), not over fleet cells")
    return np.isin(cols["id"], _queried_ids(store, target))


def _queried_ids(store: Store, target: TargetFilter) -> np.ndarray:
    """Ids of the vehicles in the target's group and matching its query, evaluated now (dynamic)."""
    queries: list[tuple[str, str]] = []  # (where, query text)
    if target.group:
        try:
            queries.append((f"target.group {target.group!r}", group_query(store, target.group)))
        except NotFoundError as error:
            raise CampaignInputError(f"target.group: no fleet group {target.group!r}") from error
    if target.query:
        queries.append(("target.query", target.query))
    catalogue = catalogue_for(store)
    now = store.now()
    conditions = []
    for where, text in queries:
        try:
            conditions.append(compile_query(text, catalogue, now))
        except QueryError as error:
            raise CampaignInputError(f"{where}: {error}") from error
    return np.asarray(vq.matching_ids(store, vq.AllOf(tuple(conditions))), dtype=np.int64)


def check_target_sources(store: Store, target: TargetFilter) -> None:
    """Refuse a filter naming a fleet group that does not exist or a query that does not resolve
    (before a draft is written: a campaign that can never start is a mistake to report at once)."""
    if target.group or target.query:
        _queried_ids(store, target)
