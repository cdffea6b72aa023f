"""The campaign controller: waves, offers, reports and the operator's controls.

It holds no state of its own: every call reads the campaign from the store, asks the pure rules
of ``fleet.gates`` what to do and writes the result back in one transaction, so a controller
killed with SIGKILL and started again continues where the database says it was. Which vehicles
a campaign is for is ``fleet.targets``.

Typical use (the API and the simulator do exactly this)::

    cid = create_campaign(store, name=..., release_id=..., target=TargetFilter(markets=("CN",)))
    start_campaign(store, cid, actor="rita")          # checks approvals, writes the waves
    step(store, cid, link, now)                        # one controller tick (offers + gate)
    report(store, cid, vin, "succeeded", at)           # a vehicle's answer through the API
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from evplatform.errors import ConflictError, FleetError
from evplatform.fleet import campaign_states, gates
from evplatform.fleet.approvals import approvals_in_force
from evplatform.fleet.campaign_states import Action
from evplatform.fleet.gates import DEFAULT_WAVES, Counts, MaintenanceWindow, WavePolicy
from evplatform.fleet.link import VehicleLink
from evplatform.fleet.reported_time import check_reported_time
from evplatform.fleet.targets import (
    TargetFilter,
    check_target_filter,
    check_target_sources,
    select_targets,
    targets_among,
)
from evplatform.fleet.update_records import ReportedConditions, next_rxswin, record_report_evidence
from evplatform.store import Store
from evplatform.store import campaign_history as hdb
from evplatform.store import campaigns as cdb
from evplatform.store import offers as odb
from evplatform.store import planning as plandb
from evplatform.store import progress as pdb
from evplatform.store import releases as rdb
from evplatform.store import update_records as udb
from evplatform.store import vehicles as vdb
from evplatform.store.campaigns import CampaignRecord
from evplatform.workspace.model import Workspace

#: An offered vehicle that has not answered is offered again after this long.
REOFFER_AFTER = timedelta(hours=6)


def create_campaign(
    store: Store,
    *,
    name: str,
    release_id: str,
    target: TargetFilter | None = None,
    waves: Sequence[WavePolicy] | None = None,
    forced: bool = False,
    consent: str = "auto",
    window: MaintenanceWindow | None = None,
    seed: int = 0,
    actor: str = "system",
    now: datetime | None = None,
    workspace: Workspace | None = None,
) -> int:
    """A draft campaign of a release; nothing is offered before ``start_campaign``.

    ``waves=None`` means the default plan; an empty plan is refused. With the ``workspace``, the
    target filter's models, trims, markets and features must exist in it. ``consent`` is the consent
    rule (``gates.CONSENT_RULES``), kept on the campaign for its start.
    """
    _release, checked = _checked_request(store, release_id, target, waves, workspace)
    gates.check_consent(consent)
    return cdb.create_campaign(
        store,
        name=name,
        release_id=release_id,
        target=(target or TargetFilter()).to_dict(),
        waves=_wave_rows(checked),
        forced=forced,
        consent=consent,
        window=window.text() if window else None,
        seed=seed,
        created_by=actor,
        at=now or store.now(),
    )


def _checked_request(
    store: Store, release_id: str, target: TargetFilter | None, waves: Sequence[WavePolicy] | None,
    workspace: Workspace | None,
) -> tuple[rdb.ReleaseRecord, tuple[WavePolicy, ...]]:
    """The checks a new campaign passes before anything is written, whether it starts at once or not:
    its wave plan, its target filter against the ``workspace`` (when given), and that its release exists."""
    checked = gates.check_waves(DEFAULT_WAVES if waves is None else waves)
    if workspace is not None:
        check_target_filter(target or TargetFilter(), workspace)
    if target is not None:
        check_target_sources(store, target)
    release = rdb.release(store, release_id)
    if release is None:
        raise FleetError(f"no release {release_id!r}")
    return release, checked


def _wave_rows(waves: Sequence[WavePolicy]) -> list[tuple[float, float, float, float]]:
    """The waves as the store keeps them: (cumulative fraction, success, error threshold, soak hours)."""
    return [(w.fraction, w.success_threshold, w.error_threshold, w.soak_hours) for w in waves]


@dataclass(frozen=True, slots=True)
class StartSummary:
    targets: int
    waves: list[int]
    excluded: dict[str, int]


#: States in which a campaign may still offer its release to vehicles (halted ones may be resumed).
UNFINISHED = campaign_states.UNFINISHED


def _refuse_a_second_campaign_on_the_ecu(store: Store, campaign_id: int | None, ecu: str) -> None:
    """One unfinished campaign per ECU: two (say 2.0.3 and 2.0.9) would offer a vehicle already on
    the newer release the older one, and move it back. Finish or cancel the first, then start."""
    name = "the new campaign" if campaign_id is None else f"campaign {campaign_id}"
    for other in cdb.list_campaigns(store):
        if other.id == campaign_id or other.state not in UNFINISHED:
            continue
        release = rdb.release(store, other.release_id)
        if release is not None and release.ecu == ecu:
            raise ConflictError(f"{name}: campaign {other.id} ({other.release_id}) is still "
                                f"{other.state} on ECU {ecu}; finish or cancel it first, two campaigns on one "
                                "ECU could move vehicles back to the older release")


def _plan_start(
    store: Store, release: rdb.ReleaseRecord, target: Mapping[str, Any], *, forced: bool, seed: int,
    waves: Sequence[WavePolicy], campaign_id: int | None, now: datetime, consent: str = "auto",
) -> tuple[cdb.TargetAssignment | cdb.CellAssignment, StartSummary]:
    """Everything a start decides, read-only: targets, approvals, waves. Raises (nothing written) when
    the campaign may not start.

    The rules (``targets_among``) judge the fleet grouped into cells of vehicles alike in every
    column they read, as the dry run does, so a start on a million vehicles reads a few thousand rows
    and the store writes the targets from the cells in SQL. A target naming a fleet group or query
    selects single vehicles, so it is judged vehicle by vehicle. Either way the targets are the same
    vehicles in id order and ``seed`` shuffles them into waves identically.
    """
    name = "the new campaign" if campaign_id is None else f"campaign {campaign_id}"
    _refuse_a_second_campaign_on_the_ecu(store, campaign_id, release.ecu)
    wanted = TargetFilter.from_dict(target)
    by_vehicle = bool(wanted.group or wanted.query)
    if by_vehicle:
        targets = select_targets(store, release, wanted, forced=forced, consent=consent)
        per_row = np.ones(len(targets.vehicle_ids), dtype=np.int64)
    else:
        cells, weights = plandb.target_cells(store, ecu=release.ecu)
        targets = targets_among(store, cells, release, wanted, forced=forced, consent=consent, weights=weights)
        per_row = weights[targets.vehicle_ids]
    count = int(per_row.sum())
    if count == 0:
        raise FleetError(f"{name} has no vehicle to update ({_excluded_text(targets.excluded)})")
    policies = vdb.markets(store)
    missing = gates.missing_approvals(
        set(targets.markets.tolist()),
        {m.id: m.approval_required for m in policies.values()},
        {m.id: m.parent for m in policies.values()},
        approvals_in_force(rdb.approvals(store, release.id), now),  # a future-dated approval does not count
    )
    if missing:
        basis = {m: policies[m].approval_basis for m in missing if m in policies}
        raise FleetError(
            f"release {release.id} has no approval record for market(s) {', '.join(missing)}, which demand one "
            f"({'; '.join(f'{m}: {b}' for m, b in basis.items())})"
        )
    sizes = gates.wave_sizes(count, tuple(waves))
    order = np.random.default_rng(seed).permutation(count)
    wave_of = np.repeat(np.arange(len(sizes)), sizes)
    assigned = np.empty(len(order), dtype=np.int64)
    assigned[order] = wave_of
    timezones = sorted(set(targets.timezones.tolist()))
    summary = StartSummary(count, sizes, targets.excluded)
    if by_vehicle:
        return cdb.TargetAssignment(targets.vehicle_ids, assigned, targets.cohorts, timezones), summary
    chosen = {name: cells[name][targets.vehicle_ids].tolist() for name in plandb.CELL_COLUMNS}
    chosen["cohort"] = targets.cohorts.tolist()
    return cdb.CellAssignment(release.ecu, chosen, assigned, timezones), summary


def start_campaign(
    store: Store, campaign_id: int, *, actor: str = "system", now: datetime | None = None
) -> StartSummary:
    """Choose the targets, check approvals, assign waves, and set the campaign running.

    Raises FleetError (nothing changes) when a target market demands an approval the release
    lacks, when nothing is left to update, or when the campaign is not a draft.
    """
    now = now or store.now()
    campaign = cdb.campaign(store, campaign_id)
    if campaign.state != "draft":
        raise FleetError(f"campaign {campaign_id} is {campaign.state}, only a draft can start")
    release = rdb.release(store, campaign.release_id)
    if release is None:
        raise AssertionError("foreign key")  # an invariant, kept under python -O
    policies = [WavePolicy(w.fraction, w.success_threshold, w.error_threshold, w.soak_hours) for w in campaign.waves]
    assignment, summary = _plan_start(store, release, campaign.target, forced=campaign.forced,
                                      consent=campaign.consent, seed=campaign.seed, waves=policies,
                                      campaign_id=campaign_id, now=now)
    if isinstance(assignment, cdb.CellAssignment):
        cdb.assign_cell_targets(store, campaign_id, assignment, actor=actor, at=now)
    else:
        cdb.assign_targets(store, campaign_id, assignment.vehicle_ids, assignment.waves, assignment.cohorts,
                           timezones=assignment.timezones, actor=actor, at=now)
    return summary


def create_and_start_campaign(
    store: Store,
    *,
    name: str,
    release_id: str,
    target: TargetFilter | None = None,
    waves: Sequence[WavePolicy] | None = None,
    forced: bool = False,
    consent: str = "auto",
    window: MaintenanceWindow | None = None,
    seed: int = 0,
    actor: str = "system",
    now: datetime | None = None,
    workspace: Workspace | None = None,
) -> tuple[int, StartSummary]:
    """``create_campaign`` and ``start_campaign`` as one operation: the checks of a start run first and
    the campaign is written running in one transaction, so a refused start leaves no draft behind.
    ``waves`` and ``workspace`` as in ``create_campaign``."""
    release, checked = _checked_request(store, release_id, target, waves, workspace)
    gates.check_consent(consent)
    now = now or store.now()
    target_dict = (target or TargetFilter()).to_dict()
    assignment, summary = _plan_start(store, release, target_dict, forced=forced, consent=consent, seed=seed,
                                      waves=checked, campaign_id=None, now=now)
    campaign_id = cdb.create_campaign(
        store, name=name, release_id=release_id, target=target_dict, waves=_wave_rows(checked),
        forced=forced, consent=consent, window=window.text() if window else None, seed=seed, created_by=actor,
        at=now, assignment=assignment,
    )
    return campaign_id, summary


def _excluded_text(excluded: Mapping[str, int]) -> str:
    return ", ".join(f"{reason}: {n}" for reason, n in excluded.items()) or "no vehicle matches the filter"


def _operate(store: Store, campaign_id: int, action: Action, actor: str, now: datetime | None,
             reason: str | None) -> None:
    """A state change by an operator, checked against the transition table (409 naming what is allowed)."""
    state = cdb.campaign(store, campaign_id).state
    to = campaign_states.check(campaign_id, state, action)
    ok = cdb.transition(store, campaign_id, allowed_from=campaign_states.states_allowing(action), to=to,
                        actor=actor, at=now or store.now(), reason=reason, action=action.value)
    if not ok:  # someone else moved it between the read and the write
        raise campaign_states.TransitionRefused(campaign_id, action.value, cdb.campaign(store, campaign_id).state)


def pause_campaign(store: Store, campaign_id: int, *, actor: str = "system", now: datetime | None = None) -> None:
    _operate(store, campaign_id, Action.PAUSE, actor, now, None)


def resume_campaign(store: Store, campaign_id: int, *, actor: str = "system", now: datetime | None = None,
                    reason: str | None = None) -> None:
    """Offer again after a pause, or after a halt that was acknowledged (``campaign_recovery.acknowledge``)."""
    _operate(store, campaign_id, Action.RESUME, actor, now, reason)


def cancel_campaign(
    store: Store, campaign_id: int, *, actor: str = "system", reason: str = "cancelled", now: datetime | None = None
) -> None:
    """Stop for good: vehicles not yet updated are never offered it by this campaign.

    The reason goes to the campaign's history; a halt's reason and the waves' states stay as they were.
    """
    _operate(store, campaign_id, Action.CANCEL, actor, now, reason)


# --- the controller tick -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StepResult:
    offered: int = 0
    reported: int = 0
    postponed: int = 0
    unanswered: int = 0
    decision: str = "idle"
    reason: str = ""


#: States in which vehicles are still offered the release. A completed campaign (its last wave
#: passed the success threshold) keeps offering it to the stragglers, as hawkBit keeps their
#: actions open; only running campaigns apply the gate.
OFFERING_STATES = ("running", "completed")


def step(store: Store, campaign_id: int, link: VehicleLink, now: datetime) -> StepResult:
    """One tick: offer the due vehicles whose local window is open, record answers, apply the gate."""
    campaign = cdb.campaign(store, campaign_id)
    if campaign.state not in OFFERING_STATES:
        return StepResult(decision=campaign.state)
    window = (
        MaintenanceWindow.parse(campaign.window_start, campaign.window_end)
        if campaign.window_start and campaign.window_end
        else None
    )
    zones = gates.open_timezones(window, campaign.timezones, now) if window else None
    ids, cohorts = cdb.offer_pending(
        store, campaign_id, max_wave=campaign.current_wave, timezones=zones, now=now, reoffer_before=now - REOFFER_AFTER
    )
    reported = postponed = unanswered = 0
    if len(ids):
        release = rdb.release(store, campaign.release_id)
        if release is None:
            raise AssertionError("cannot happen")  # an invariant, kept under python -O
        delivery = link.deliver(release, ids, cohorts, forced=campaign.forced, now=now)
        final = np.isin(delivery.outcomes, cdb.FINAL_OUTCOMES)
        crash_rows = [
            {"vehicle_id": int(v), "kind": "crash", "at": now, "value": None, "release_id": release.id,
             "detail": {"reason": "new software crashed", "campaign": campaign_id}}
            for v in delivery.vehicle_ids[delivery.crashed]
        ]
        reported = cdb.record_reports(
            store, campaign_id, delivery.vehicle_ids[final], delivery.outcomes[final], at=now,
            details=delivery.details[final].tolist(), telemetry_rows=crash_rows, rxswin_rule=next_rxswin,
        )
        later = delivery.outcomes == "postponed"
        postponed = int(later.sum())
        if postponed:
            cdb.return_to_pending(store, campaign_id, delivery.vehicle_ids[later])
        unanswered = int((delivery.outcomes == "no_answer").sum())
    decision = evaluate(store, campaign_id, now=now)
    cdb.set_clock(store, campaign_id, now)
    return StepResult(len(ids), reported, postponed, unanswered, decision.action, decision.reason)


def wave_counts(store: Store, campaign_id: int, *, counted_only: bool = False
                ) -> tuple[dict[int, dict[str, int]], dict[int, dict[str, Counts]]]:
    """Per wave: vehicles by state (plus ``crashed`` after success); per wave and cohort: Counts.

    ``counted_only``: without the vehicles an operator excluded (what the gate judges).
    """
    by_wave: dict[int, dict[str, int]] = {}
    by_cohort: dict[int, dict[str, Counts]] = {}
    for wave, cohort, state, n in pdb.progress_counts(store, campaign_id, counted_only=counted_only):
        states = by_wave.setdefault(wave, {})
        states[state] = states.get(state, 0) + n
        cohorts = by_cohort.setdefault(wave, {})
        cohorts[cohort] = cohorts.get(cohort, Counts()) + _counts(state, n)
    for wave, cohort, n in pdb.crashes_after_success(store, campaign_id, counted_only=counted_only):
        states = by_wave.setdefault(wave, {})
        states["crashed"] = states.get("crashed", 0) + n
        cohorts = by_cohort.setdefault(wave, {})
        cohorts[cohort] = cohorts.get(cohort, Counts()) + Counts(crashed=n)
    return by_wave, by_cohort


def _counts(state: str, n: int) -> Counts:
    return Counts(
        size=n,
        succeeded=n if state == "succeeded" else 0,
        failed=n if state == "failed" else 0,
        rolled_back=n if state == "rolled_back" else 0,
    )


def evaluate(store: Store, campaign_id: int, *, now: datetime) -> gates.Decision:
    """Apply the gate to the active wave of a running campaign and write the decision."""
    campaign = cdb.campaign(store, campaign_id)
    if campaign.state != "running":
        return gates.Decision(campaign.state)
    index = campaign.current_wave
    wave = campaign.waves[index]
    _, by_cohort = wave_counts(store, campaign_id, counted_only=True)
    current = sum(by_cohort.get(index, {}).values(), Counts())
    cumulative: dict[str, Counts] = {}
    for w in range(index + 1):
        for cohort, counts in by_cohort.get(w, {}).items():
            cumulative[cohort] = cumulative.get(cohort, Counts()) + counts
    policy = WavePolicy(wave.fraction, wave.success_threshold, wave.error_threshold, wave.soak_hours)
    last = index == len(campaign.waves) - 1
    elapsed = (now - wave.started_at).total_seconds() / 3600 if wave.started_at else None
    decision = gates.decide(policy, current, cumulative, index=index, last=last, elapsed_hours=elapsed)
    if decision.action == "halt":
        cdb.transition(store, campaign_id, allowed_from=("running",), to="halted", actor="controller", at=now,
                       reason=decision.reason)
    elif decision.action in ("advance", "complete"):
        cdb.advance_wave(store, campaign_id, index, at=now, last=last)
    return decision


def report(store: Store, campaign_id: int, vin: str, outcome: str, *, at: datetime, detail: str = "",
           conditions: ReportedConditions | None = None) -> bool:
    """A vehicle's final answer arriving through the API; True if it counted, False if a repeat.

    Only an answer to an open offer counts (``check_open_offer``); anything else is refused with
    nothing recorded. A counted answer gets its UN R156 / GB 44496 evidence as a delivery through
    ``RecordingLink`` does: the vehicle as it was offered the release, the preconditions it
    reported (``conditions``, else its latest telemetry). The campaign's gate runs afterwards, so
    a halt happens as soon as the evidence is there.
    """
    if outcome not in cdb.FINAL_OUTCOMES:
        raise FleetError(f"unknown outcome {outcome!r} (known: {', '.join(cdb.FINAL_OUTCOMES)})")
    ids = vdb.vehicle_ids(store, [vin])
    if vin not in ids:
        raise FleetError(f"unknown vehicle {vin}")
    standing = odb.offer_standing(store, campaign_id, ids[vin])
    if standing is None:
        raise FleetError(f"vehicle {vin} is not a target of campaign {campaign_id}")
    if standing.state in cdb.FINAL_OUTCOMES:
        return False  # a repeated report: idempotent, the first answer stands
    check_open_offer(standing, campaign_id, vin)
    now = store.now()  # gates run on the server's clock; the vehicle's time is evidence only
    check_reported_time(at, now, f"report from {vin}")
    before = udb.vehicle_states(store, [ids[vin]]).get(ids[vin])
    counted = cdb.record_reports(
        store, campaign_id, np.array([ids[vin]], dtype=np.int64), np.array([outcome], dtype=object), at=at,
        details=[detail], rxswin_rule=next_rxswin,
    )
    if counted == 1 and before is not None:
        campaign = cdb.campaign(store, campaign_id)
        release = rdb.release(store, campaign.release_id)
        if release is not None:
            record_report_evidence(store, campaign_id, ids[vin], release, outcome, before, forced=campaign.forced,
                                   now=now, conditions=conditions or ReportedConditions())
    evaluate(store, campaign_id, now=now)
    return counted == 1


def check_open_offer(standing: odb.OfferStanding, campaign_id: int, vin: str) -> None:
    """Refuse (FleetError, 409) a report that answers no open offer to this vehicle.

    An offer is open from the moment the controller or an update check handed the vehicle the
    release until the vehicle answers; a vehicle still ``pending`` was never offered (its wave not
    open yet, or open but not reached), so its "report" is no evidence: three such reports once
    halted a campaign of 8,364 targets. An offer already made stays answerable when the campaign is
    paused, halted or cancelled afterwards: the vehicle may be installing, and the registry must
    learn what it runs (hawkBit lets a device finish an action being cancelled likewise).
    """
    if standing.state == "offered":
        return
    if standing.state == "cancelled":
        raise FleetError(f"campaign {campaign_id} was cancelled before vehicle {vin} was updated")
    if standing.campaign_state not in OFFERING_STATES:
        why = f"the campaign is {standing.campaign_state}"
    elif standing.wave > standing.current_wave:
        why = f"its wave {standing.wave + 1} is not open (the campaign is at wave {standing.current_wave + 1})"
    else:
        why = "it has not been offered the release yet"
    raise FleetError(f"vehicle {vin} has no open offer from campaign {campaign_id}: {why}; report refused")


def run_campaign(
    store: Store,
    campaign_id: int,
    link: VehicleLink,
    *,
    tick: timedelta = timedelta(hours=1),
    max_ticks: int = 24 * 60,
    on_tick: Callable[[datetime, StepResult], None] | None = None,
) -> CampaignRecord:
    """Drive a campaign on simulated time from its stored clock until it stops running.

    The clock is stored with every tick, so a run started again after a crash picks up the next
    tick after the last one that was written.
    """
    for _ in range(max_ticks):
        campaign = cdb.campaign(store, campaign_id)
        if campaign.state != "running":
            break
        now = (campaign.last_tick_at or store.now()) + tick
        result = step(store, campaign_id, link, now)
        if on_tick is not None:
            on_tick(now, result)
    return cdb.campaign(store, campaign_id)


def progress(store: Store, campaign_id: int) -> dict[str, Any]:
    """A campaign and its waves as plain data (the shape of ``fleet simulate --json``, with more keys)."""
    campaign = cdb.campaign(store, campaign_id)
    by_wave, _ = wave_counts(store, campaign_id)
    excluded = pdb.excluded_counts(store, campaign_id)
    reasons = hdb.last_reasons(store, campaign_id, ("cancel", "ack"))
    waves = []
    for wave in campaign.waves:
        states = by_wave.get(wave.index, {})
        waves.append(
            {
                "index": wave.index,
                "fraction": wave.fraction,
                "state": wave.state,
                "size": wave.size,
                "succeeded": states.get("succeeded", 0),
                "failed": states.get("failed", 0),
                "rolled_back": states.get("rolled_back", 0),
                "crashed": states.get("crashed", 0),
                "pending": states.get("pending", 0) + states.get("offered", 0),
                "cancelled": states.get("cancelled", 0),
                "excluded": excluded.get(wave.index, 0),
                "success_threshold": wave.success_threshold,
                "error_threshold": wave.error_threshold,
                "soak_hours": wave.soak_hours,
            }
        )
    return {
        "id": campaign.id,
        "name": campaign.name,
        "release": campaign.release_id,
        "state": campaign.state,
        "forced": campaign.forced,
        "consent": campaign.consent,
        "window": [campaign.window_start, campaign.window_end] if campaign.window_start else None,
        "current_wave": campaign.current_wave,
        "targets": sum(w["size"] for w in waves),
        "waves": waves,
        "halt_reason": campaign.halt_reason,
        "cancel_reason": reasons.get("cancel") if campaign.state == "cancelled" else None,
        "acknowledgement": reasons.get("ack") if campaign.state == "acknowledged" else None,
        "allowed_actions": [a.value for a in campaign_states.allowed_actions(campaign.state)],
        "started_at": campaign.started_at,
        "finished_at": campaign.finished_at,
    }
