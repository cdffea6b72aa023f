"""Planning a campaign before anything is saved: live count, dry run, approval check, templates.

Issue 16 §1 ("Create"). A release manager shapes a campaign in steps and wants to see, at each one,
what it would do:

* ``preview`` — how many vehicles the target filter matches, by model, trim and market. It runs on
  every change of the filter, so it reads fleet *cells* grouped by the database
  (``store.planning.fleet_cells``), never one row per vehicle, and evaluates a feature expression
  once per distinct configuration.
* ``dry_run`` — exactly what ``start_campaign`` would decide (the same ``select_targets`` and the
  same approval rule, ``gates.missing_approvals``), with counts and a sample of VINs per reason a
  matched vehicle is left out, the wave sizes, and the markets that demand an approval for this
  release and lack one (UN R156 §7.1.1; GB 44496-2024 §5). Nothing is written.
* ``plan_of`` — a past campaign's plan (target, waves with shares, thresholds and soak, forced or
  soft, maintenance window, seed) as a new draft spec: the template of the next campaign.

The consent rule is its own setting (``gates.CONSENT_RULES``): ``auto`` follows forced/soft (a soft
update is offered only to vehicles whose owner consents to updates, a forced one to every target),
``required`` and ``not_required`` say so whatever the update is.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

from evplatform.errors import ConflictError, NotFoundError
from evplatform.fleet import gates
from evplatform.fleet.approvals import approvals_in_force
from evplatform.fleet.campaigns import _refuse_a_second_campaign_on_the_ecu
from evplatform.fleet.gates import CONSENT_RULES, DEFAULT_WAVES, CampaignInputError, MaintenanceWindow, WavePolicy
from evplatform.fleet.targets import TargetFilter, check_target_filter, matching_mask, targets_among
from evplatform.store import Store
from evplatform.store import campaigns as cdb
from evplatform.store import planning as pdb
from evplatform.store import releases as rdb
from evplatform.store import vehicles as vdb
from evplatform.variability.expression import parse_expression
from evplatform.workspace.model import Workspace, market_lineage

logger = logging.getLogger(__name__)

#: VINs shown per exclusion reason in a dry run (enough to look a few up, not a data export).
SAMPLE_VINS = 5


# --- the plan (a draft spec and a template) -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CampaignPlan:
    """Everything a new campaign is made of, before it exists; ``to_dict``/``from_dict`` round-trip."""

    release_id: str
    target: TargetFilter = field(default_factory=TargetFilter)
    waves: tuple[WavePolicy, ...] = DEFAULT_WAVES
    forced: bool = False
    window: MaintenanceWindow | None = None
    seed: int = 0
    name: str = ""
    consent: str = "auto"  # a key of CONSENT_RULES

    def __post_init__(self) -> None:
        gates.check_consent(self.consent)

    @property
    def consent_rule(self) -> str:
        """The consent rule in words, with what ``auto`` means for this plan's forced/soft."""
        if self.consent == "auto":
            effective = "not_required" if self.forced else "required"
            return f"auto ({'forced' if self.forced else 'soft'}): {CONSENT_RULES[effective]}"
        return f"{self.consent}: {CONSENT_RULES[self.consent]}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "release_id": self.release_id,
            "target": self.target.to_dict(),
            "waves": [{"fraction": w.fraction, "success_threshold": w.success_threshold,
                       "error_threshold": w.error_threshold, "soak_hours": w.soak_hours} for w in self.waves],
            "forced": self.forced,
            "consent": self.consent,
            "consent_rule": self.consent_rule,
            "window": list(self.window.text()) if self.window else None,
            "seed": self.seed,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CampaignPlan:
        """The inverse of ``to_dict`` (``consent_rule`` is derived and ignored)."""
        window = data.get("window")
        return cls(
            release_id=str(data["release_id"]),
            target=TargetFilter.from_dict(data.get("target") or {}),
            waves=tuple(WavePolicy(float(w["fraction"]), float(w["success_threshold"]), float(w["error_threshold"]),
                                   float(w["soak_hours"])) for w in data.get("waves") or ()) or DEFAULT_WAVES,
            forced=bool(data.get("forced", False)),
            consent=str(data.get("consent") or "auto"),
            window=MaintenanceWindow.parse(window[0], window[1]) if window else None,
            seed=int(data.get("seed", 0)),
            name=str(data.get("name", "")),
        )


def plan_of(store: Store, campaign_id: int) -> CampaignPlan:
    """Campaign ``campaign_id``'s plan as a new draft spec (same release; name marked as a copy)."""
    c = cdb.campaign(store, campaign_id)  # NotFoundError when there is none
    window = MaintenanceWindow.parse(c.window_start, c.window_end) if c.window_start and c.window_end else None
    waves = tuple(WavePolicy(w.fraction, w.success_threshold, w.error_threshold, w.soak_hours) for w in c.waves)
    return CampaignPlan(release_id=c.release_id, target=TargetFilter.from_dict(c.target), waves=waves or DEFAULT_WAVES,
                        forced=c.forced, window=window, seed=c.seed, name=f"{c.name} (copy)", consent=c.consent)


# --- the live count -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Breakdown:
    """Vehicles by model, by ``model/trim`` and by market; each sums to ``vehicles``."""

    vehicles: int
    by_model: dict[str, int]
    by_trim: dict[str, int]
    by_market: dict[str, int]

    def to_dict(self) -> dict[str, Any]:
        return {"vehicles": self.vehicles, "by_model": self.by_model, "by_trim": self.by_trim,
                "by_market": self.by_market}


def breakdown(models: Iterable[str], trims: Iterable[str], markets: Iterable[str],
              counts: Iterable[int]) -> Breakdown:
    """Sum ``counts`` per model, trim key and market (sorted by key)."""
    by_model: dict[str, int] = {}
    by_trim: dict[str, int] = {}
    by_market: dict[str, int] = {}
    total = 0
    for model, trim, market, n in zip(models, trims, markets, counts, strict=True):
        by_model[model] = by_model.get(model, 0) + n
        by_trim[trim] = by_trim.get(trim, 0) + n
        by_market[market] = by_market.get(market, 0) + n
        total += n
    return Breakdown(total, dict(sorted(by_model.items())), dict(sorted(by_trim.items())),
                     dict(sorted(by_market.items())))


@dataclass(frozen=True, slots=True)
class Preview:
    """The live count: vehicles the filter matches (before compatibility, versions and consent)."""

    fleet: int
    matched: Breakdown
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {"fleet": self.fleet, **self.matched.to_dict(), "seconds": round(self.seconds, 4)}


def _release(store: Store, release_id: str) -> rdb.ReleaseRecord:
    release = rdb.release(store, release_id)
    if release is None:
        raise NotFoundError("release", repr(release_id))
    return release


def preview(store: Store, target: TargetFilter, *, release_id: str | None = None,
            workspace: Workspace | None = None) -> Preview:
    """How many vehicles ``target`` matches, by model, trim and market, from grouped fleet cells.

    ``current_versions`` is a version on the release's ECU, so it needs ``release_id``.
    """
    started = time.perf_counter()
    if workspace is not None:
        check_target_filter(target, workspace)
    ecu = None
    if target.current_versions:
        if release_id is None:
            raise CampaignInputError("target.current_versions: name the release (its ECU holds the version)")
        ecu = _release(store, release_id).ecu
    elif release_id is not None:
        _release(store, release_id)
    if target.group or target.query:
        return _preview_by_vehicle(store, target, ecu, started)
    cells = pdb.fleet_cells(store, ecu=ecu, by_configuration=bool(target.expression))
    keep = _matching_cells(store, target, cells)
    chosen = [c for c, k in zip(cells, keep, strict=True) if k]
    counted = breakdown((c.model for c in chosen), (f"{c.model}/{c.trim}" for c in chosen),
                        (c.market for c in chosen), (c.vehicles for c in chosen))
    return Preview(sum(c.vehicles for c in cells), counted, time.perf_counter() - started)


def _matching_cells(store: Store, target: TargetFilter, cells: list[pdb.FleetCell]) -> list[bool]:
    """Which fleet cells (vehicles alike in model, trim, market, version, configuration) the filter matches."""
    keep = [True] * len(cells)
    if target.models:
        keep = [k and c.model in target.models for k, c in zip(keep, cells, strict=True)]
    if target.trims:
        keep = [k and f"{c.model}/{c.trim}" in target.trims for k, c in zip(keep, cells, strict=True)]
    if target.markets:
        parents = {m.id: m.parent for m in vdb.markets(store).values()}
        wanted = set(target.markets)
        covered = {m for m in {c.market for c in cells} if wanted & set(market_lineage(m, parents))}
        keep = [k and c.market in covered for k, c in zip(keep, cells, strict=True)]
    if target.current_versions:
        keep = [k and c.version in target.current_versions for k, c in zip(keep, cells, strict=True)]
    if target.expression:
        expression = parse_expression(target.expression, source="target filter")
        configs = vdb.configurations(store, {c.configuration_id for c, k in zip(cells, keep, strict=True)
                                             if k and c.configuration_id is not None})
        ok = {cid for cid, features in configs.items() if expression.evaluate(set(features))}
        keep = [k and c.configuration_id in ok for k, c in zip(keep, cells, strict=True)]
    return keep


def _preview_by_vehicle(store: Store, target: TargetFilter, ecu: str | None, started: float) -> Preview:
    """The live count of a target naming a fleet group or query: those select single vehicles, so the
    fleet is read vehicle by vehicle (as the start will), not in cells of alike vehicles."""
    cols = vdb.vehicle_columns(store, ecu=ecu)
    mask = matching_mask(store, cols, target)
    if target.current_versions:
        mask &= np.isin(cols["version"].astype(str), list(target.current_versions))
    counted = breakdown((str(m) for m in cols["model"][mask]),
                        (f"{m}/{t}" for m, t in zip(cols["model"][mask], cols["trim"][mask], strict=True)),
                        (str(m) for m in cols["market"][mask]), (1 for _ in range(int(mask.sum()))))
    return Preview(len(cols["id"]), counted, time.perf_counter() - started)


# --- the dry run ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Exclusion:
    reason: str
    vehicles: int
    sample_vins: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ApprovalCheck:
    """Target markets demanding an approval for the release, those that have one in force, those that lack one."""

    required: tuple[str, ...]
    approved: tuple[str, ...]
    missing: tuple[str, ...]
    basis: dict[str, str]

    def to_dict(self) -> dict[str, Any]:
        return {"required": list(self.required), "approved": list(self.approved), "missing": list(self.missing),
                "basis": self.basis}


@dataclass(frozen=True, slots=True)
class DryRun:
    """What starting the plan now would do; ``blockers`` say why it would be refused (empty: it would start)."""

    plan: CampaignPlan
    matched: int
    targets: Breakdown
    wave_sizes: list[int]
    excluded: list[Exclusion]
    approvals: ApprovalCheck
    blockers: list[str]
    seconds: float

    @property
    def can_start(self) -> bool:
        return not self.blockers

    def to_dict(self) -> dict[str, Any]:
        return {
            "plan": self.plan.to_dict(),
            "matched": self.matched,
            "targets": self.targets.to_dict(),
            "wave_sizes": self.wave_sizes,
            "excluded": [{"reason": e.reason, "vehicles": e.vehicles, "sample_vins": list(e.sample_vins)}
                         for e in self.excluded],
            "approvals": self.approvals.to_dict(),
            "blockers": self.blockers,
            "can_start": self.can_start,
            "seconds": round(self.seconds, 4),
        }


def approval_check(store: Store, release: rdb.ReleaseRecord, markets: Iterable[str], now: datetime) -> ApprovalCheck:
    """The start's approval rule (``gates.missing_approvals``) with the markets that need one named."""
    policies = vdb.markets(store)
    targeted = sorted(set(markets))
    approved = approvals_in_force(rdb.approvals(store, release.id), now)
    parents = {m.id: m.parent for m in policies.values()}
    required = [m for m in targeted if m in policies and policies[m].approval_required]
    missing = gates.missing_approvals(targeted, {m.id: m.approval_required for m in policies.values()}, parents,
                                      approved)
    have = set(approved)
    covered = [m for m in required if have.intersection(market_lineage(m, parents))]
    return ApprovalCheck(tuple(required), tuple(covered), tuple(missing),
                         {m: policies[m].approval_basis for m in required})


def dry_run(store: Store, plan: CampaignPlan, *, now: datetime, workspace: Workspace | None = None,
            sample: int = SAMPLE_VINS) -> DryRun:
    """Who ``plan`` would target if started at ``now``, who not and why, its waves and its approvals.

    The rules are ``select_targets``' (``targets_among``), applied to the fleet grouped into cells of
    vehicles alike in every column they read, so a dry run on a million vehicles reads a few thousand
    rows; the sample VINs of a reason come from its first cells.
    """
    started = time.perf_counter()
    waves = gates.check_waves(plan.waves)
    if workspace is not None:
        check_target_filter(plan.target, workspace)
    release = _release(store, plan.release_id)
    if plan.target.group or plan.target.query:  # single vehicles are chosen: judge them one by one
        vehicles = vdb.vehicle_columns(store, ecu=release.ecu)
        targets = targets_among(store, vehicles, release, plan.target, forced=plan.forced,
                                consent=plan.consent)
        excluded = [Exclusion(reason, n, tuple(_vins(store, targets.excluded_ids[reason][:sample])))
                    for reason, n in targets.excluded.items()]
        chosen_models = vehicles["model"][np.isin(vehicles["id"], targets.vehicle_ids)]
        counted = breakdown((str(m) for m in chosen_models), (str(c) for c in targets.cohorts.tolist()),
                            (str(m) for m in targets.markets.tolist()), [1] * len(targets.vehicle_ids))
    else:
        cells, weights = pdb.target_cells(store, ecu=release.ecu)
        targets = targets_among(store, cells, release, plan.target, forced=plan.forced, consent=plan.consent,
                                weights=weights)
        excluded = [Exclusion(reason, n, _sample(store, release.ecu, cells, weights, targets.excluded_ids[reason],
                                                 sample)) for reason, n in targets.excluded.items()]
        chosen = targets.vehicle_ids
        counted = breakdown((str(m) for m in cells["model"][chosen]), (str(c) for c in targets.cohorts.tolist()),
                            (str(m) for m in targets.markets.tolist()), weights[chosen].tolist())
    approvals = approval_check(store, release, targets.markets.tolist(), now)
    blockers = _blockers(store, release, counted.vehicles, approvals)
    return DryRun(plan, counted.vehicles + sum(targets.excluded.values()), counted,
                  gates.wave_sizes(counted.vehicles, waves), excluded, approvals, blockers,
                  time.perf_counter() - started)


def _vins(store: Store, ids: np.ndarray) -> list[str]:
    """The VINs of vehicle ids, in the ids' order."""
    wanted = [int(i) for i in ids.tolist()]
    found = vdb.vins_of(store, wanted) if wanted else {}
    return [found[i] for i in wanted if i in found]


def _sample(store: Store, ecu: str, cells: Mapping[str, np.ndarray], weights: np.ndarray, rows: np.ndarray,
            limit: int) -> tuple[str, ...]:
    """Up to ``limit`` VINs from the cells ``rows``, the first cells first."""
    vins: list[str] = []
    for row in rows.tolist():
        if len(vins) >= limit:
            break
        cell = {name: cells[name][row] for name in pdb.CELL_COLUMNS}
        vins += pdb.sample_vins(store, ecu=ecu, cell=cell, limit=min(limit - len(vins), int(weights[row])))
    return tuple(vins)


def _blockers(store: Store, release: rdb.ReleaseRecord, targets: int, approvals: ApprovalCheck) -> list[str]:
    """Why ``start_campaign`` would refuse, in its own words where it has them."""
    out = []
    if targets == 0:
        out.append("no vehicle to update: nothing the filter matches is compatible, on an older version and "
                   "(where the consent rule asks) consenting")
    if approvals.missing:
        out.append(f"release {release.id} has no approval record for market(s) {', '.join(approvals.missing)}, "
                   "which demand one")
    try:
        _refuse_a_second_campaign_on_the_ecu(store, None, release.ecu)
    except ConflictError as error:
        out.append(str(error))
    return out
