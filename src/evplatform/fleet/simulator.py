"""Fleet simulator: a fleet in the platform's planned proportions through real campaigns.

``simulate_fleet`` builds N vehicles across the workspace's trims and markets (trim shares from
``volume_per_year``, market shares and VIN prefix from the ``Scenario``), registers the
scenario's releases — a bad one crashes a share of one trim — records their approvals, and runs
the campaigns one after the other through the controller with a ``VehicleLink`` that injects
download interruptions, installation failures, power losses and offline vehicles. A bad campaign
halts on its own gate. Everything goes through the store with bulk statements: no object per
vehicle. The scenario is data (``fleet.scenario``): nothing here names a particular platform.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from evplatform.errors import FleetError
from evplatform.fleet import campaigns as fc
from evplatform.fleet.approvals import record_approval
from evplatform.fleet.gates import DEFAULT_WAVES, MaintenanceWindow
from evplatform.fleet.link import FailureModel, SimulatedLink, VehicleLink
from evplatform.fleet.registry import sync_markets, trim_templates
from evplatform.fleet.scenario import START, Scenario, ScenarioRelease, leaf_markets, load_scenario, workspace_shares
from evplatform.fleet.update_records import RecordingLink
from evplatform.store import Store
from evplatform.store import releases as rdb
from evplatform.store import vehicles as vdb
from evplatform.workspace import Trim, Workspace

__all__ = [
    "START",
    "Scenario",
    "ScenarioRelease",
    "SimulationResult",
    "fleet_plan",
    "make_vins",
    "populate",
    "run_scenario",
    "scenario_failures",
    "simulate_fleet",
    "summary_json",
]

INSERT_CHUNK = 50_000
#: Vehicles are registered this long before the scenario's first campaign.
REGISTERED_BEFORE = timedelta(days=120)


def fleet_plan(ws: Workspace, vehicles: int, seed: int, shares: dict[str, float] | None = None
               ) -> list[tuple[Trim, str, int]]:
    """(trim, market, count) in the planned proportions, counts summing to ``vehicles``.

    A cell's weight is the trim's ``volume_per_year`` times its market's share (default: the
    workspace's, ``fleet.scenario.workspace_shares``); a market without a share registers no vehicles.
    """
    leaf = leaf_markets(ws)
    if shares is None:
        shares = workspace_shares(ws)[0]
    cells: list[tuple[Trim, str]] = []
    weights: list[float] = []
    for trim in ws.trims():
        for market in (m for m in leaf if (trim.key, m) in ws.configurations):
            cells.append((trim, market))
            weights.append(trim.volume_per_year * shares.get(market, 0.0))
    if not cells or sum(weights) <= 0:
        raise FleetError("the workspace plans no volume in any market with a share: nothing to simulate")
    p = np.asarray(weights) / sum(weights)
    counts = np.random.default_rng(seed).multinomial(vehicles, p)
    return [(t, m, int(n)) for (t, m), n in zip(cells, counts, strict=True) if n]


def make_vins(model_index: int, trim_index: int, market_index: int, serials: np.ndarray, wmi: str) -> list[str]:
    """17-character VINs: WMI, model letter, trim and market digits, 11-digit serial (no I, O, Q)."""
    letters = "ABCDEFGHJKLMNPRSTUVWXYZ"
    prefix = f"{wmi}{letters[model_index % len(letters)]}{trim_index % 10}{market_index % 10}"
    return [f"{prefix}{s:011d}" for s in serials.tolist()]


def populate(
    store: Store, ws: Workspace, vehicles: int, scenario: Scenario, *, progress: Callable[[int], None] | None = None,
) -> int:
    """Register ``vehicles`` simulated vehicles in bulk, ``REGISTERED_BEFORE`` the scenario starts; how many."""
    sync_markets(store, ws)
    plan = fleet_plan(ws, vehicles, scenario.seed, dict(scenario.market_shares))
    templates = trim_templates(store, ws, [(t, m) for t, m, _ in plan])
    rng = np.random.default_rng(scenario.seed + 1)
    at = scenario.start - REGISTERED_BEFORE
    models = list(ws.models)
    markets = list(ws.markets)
    serial = 0
    batch: list[dict[str, Any]] = []
    done = 0
    for trim, market, count in plan:
        template = templates[(trim.key, market)]
        trim_index = [t.id for t in ws.models[trim.model_id].trims].index(trim.id)
        vins = make_vins(models.index(trim.model_id), trim_index, markets.index(market),
                         np.arange(serial, serial + count), scenario.vin_prefix)
        serial += count
        consent_updates = rng.random(count) >= 0.02  # ESTIMATE: 2 % refuse soft updates
        consent_telemetry = rng.random(count) >= 0.05
        for vin, updates, telemetry in zip(vins, consent_updates.tolist(), consent_telemetry.tolist(), strict=True):
            batch.append({
                "vin": vin, "model": template.model, "trim": template.trim, "market": template.market,
                "timezone": template.timezone, "configuration_id": template.configuration_id,
                "hardware_ids": template.hardware_ids, "software": template.software, "rxswin": template.rxswin,
                "consent_telemetry": telemetry, "consent_updates": updates, "registered_at": at,
            })
            if len(batch) >= INSERT_CHUNK:
                done += vdb.insert_vehicles(store, batch)
                batch = []
                if progress:
                    progress(done)
    if batch:
        done += vdb.insert_vehicles(store, batch)
        if progress:
            progress(done)
    return done


def register_release(store: Store, ws: Workspace, release: ScenarioRelease, at: datetime) -> rdb.ReleaseRecord:
    """The scenario's release as a store record, built from the workspace's component."""
    if release.component not in ws.software:
        raise FleetError(f"unknown software component {release.component!r} (known: {', '.join(ws.software)})")
    component = ws.software[release.component]
    record = rdb.ReleaseRecord(
        id=f"{component.id}-{release.version}",
        component=component.id,
        ecu=component.ecu,
        hardware_id=component.hardware_id,
        version=release.version,
        compatible=component.compatible_text,
        notes=f"simulated release of {component.name}",
        created_at=at,
    )
    if rdb.release(store, record.id) is None:
        rdb.save_release(store, record, actor="simulator")
    return record


#: Who approves the simulator's releases: a second account, since their creator may not (four-eyes).
SIMULATED_APPROVER = "simulator-approver"


def approve_everywhere(store: Store, release_id: str, at: datetime) -> None:
    """Approval records for every market that demands one (the simulator plays the authority).

    Recorded through ``fleet.approvals`` at the simulated clock ``at``, as a second person.
    """
    have = {a.market for a in rdb.approvals(store, release_id)}
    markets = vdb.markets(store)
    for market in markets.values():
        if market.approval_required and market.id not in have:
            record_approval(
                store,
                rdb.ApprovalRecord(release_id, market.id, f"simulated authority ({market.approval_basis})",
                                   f"SIM-{release_id}-{market.id}", SIMULATED_APPROVER, at),
                markets=markets, now=at,
            )


def _bind(
    on_tick: Callable[[int, datetime, fc.StepResult], None] | None, campaign_id: int
) -> Callable[[datetime, fc.StepResult], None] | None:
    if on_tick is None:
        return None

    def bound(now: datetime, result: fc.StepResult) -> None:
        on_tick(campaign_id, now, result)

    return bound


@dataclass
class SimulationResult:
    vehicles: int
    seconds: float
    campaigns: list[dict[str, Any]]
    timings: dict[str, float]
    scenario: Scenario | None = None


def scenario_failures(scenario: Scenario) -> FailureModel:
    """The scenario's failure model with its bad releases added (what any link should inject)."""
    bad = {
        f"{r.component}-{r.version}": (r.crash_cohort, r.crash_rate) for r in scenario.releases if r.crash_cohort
    }
    f = scenario.failures
    return FailureModel(f.download_interruption, f.install_failure, f.power_loss, f.postpone, f.offline,
                        {**f.bad_releases, **bad})


@dataclass(frozen=True, slots=True)
class SimulatedPreconditions:
    """The install preconditions simulated vehicles report at an offer (UN R156 §7.2.2.1 evidence).

    Offers reach a vehicle in its maintenance window, parked; its state of charge is drawn per
    vehicle and hour between 35 and 95 %, above the 30 % threshold, because ``SimulatedLink``
    models no deferral for a low battery (``UptaneLink`` with a ``vehicle_state`` source does).
    """

    seed: int

    def __call__(self, vehicle_ids: np.ndarray, now: datetime) -> tuple[list[bool | None], list[float | None]]:
        hour = np.uint64(int(now.timestamp()) // 3600)
        with np.errstate(over="ignore"):  # a multiplicative hash: wrapping is the point
            mixed = (vehicle_ids.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
                     ^ (hour * np.uint64(0xBF58476D1CE4E5B9) + np.uint64(self.seed)))
            mixed ^= mixed >> np.uint64(31)
            mixed *= np.uint64(0x94D049BB133111EB)
        unit = (mixed >> np.uint64(11)).astype(np.float64) / float(1 << 53)
        soc = np.round(35.0 + 60.0 * unit, 1)
        parked: list[bool | None] = [True] * len(vehicle_ids)
        return parked, [float(v) for v in soc.tolist()]


def run_scenario(
    store: Store,
    ws: Workspace,
    scenario: Scenario,
    *,
    link: VehicleLink | None = None,
    on_tick: Callable[[int, datetime, fc.StepResult], None] | None = None,
    record_evidence: bool = False,
) -> list[int]:
    """Create, approve, start and run the scenario's campaigns one after the other; their ids.

    ``record_evidence`` wraps the link in ``RecordingLink``, the evidence path of real deliveries,
    so every answer has its UN R156 / GB 44496 update record (the demo database does; the fleet
    benchmarks measure the controller alone). The default simulated link's vehicles report
    ``SimulatedPreconditions`` and that the release notes were shown.
    """
    simulated = link is None
    link = link or SimulatedLink(scenario.seed, scenario_failures(scenario))
    window = MaintenanceWindow.parse(*scenario.window) if scenario.window else None
    ids = []
    clock = scenario.start
    for release in scenario.releases:
        record = register_release(store, ws, release, clock)
        approve_everywhere(store, record.id, clock)
        cid = fc.create_campaign(
            store, name=f"{record.id} to the fleet", release_id=record.id, waves=DEFAULT_WAVES, window=window,
            seed=scenario.seed, actor="simulator", now=clock,
        )
        fc.start_campaign(store, cid, actor="simulator", now=clock)
        answering: VehicleLink = link
        if record_evidence:
            answering = RecordingLink(link, store, cid, preconditions=SimulatedPreconditions(scenario.seed)
                                      if simulated else None, notes_shown=True if simulated else None)
        final = fc.run_campaign(store, cid, answering, on_tick=_bind(on_tick, cid))
        ids.append(cid)
        clock = (final.last_tick_at or clock) + timedelta(days=1)
    return ids


def simulate_fleet(
    store: Store,
    ws: Workspace,
    vehicles: int | None = None,
    *,
    scenario: Scenario | None = None,
    on_populate: Callable[[int], None] | None = None,
    on_tick: Callable[[int, datetime, fc.StepResult], None] | None = None,
    link: VehicleLink | None = None,
) -> SimulationResult:
    """Populate an empty store with ``vehicles`` vehicles and run the scenario's campaigns.

    ``scenario`` defaults to the workspace's (``fleet.scenario.load_scenario``); ``vehicles`` to its
    ``fleet_size``.

    ``link`` answers the offers (default: ``SimulatedLink`` with ``scenario_failures(scenario)``;
    ``fleet.uptane_link.UptaneLink`` runs real in-process Uptane clients instead).
    """
    scenario = scenario or load_scenario(ws)
    vehicles = scenario.fleet_size if vehicles is None else vehicles
    if vehicles <= 0:
        raise FleetError(f"--vehicles must be positive, got {vehicles}")
    if vdb.count_vehicles(store):
        raise FleetError(f"the database {store.url} already holds vehicles: simulate into an empty one")
    started = time.perf_counter()
    populate(store, ws, vehicles, scenario, progress=on_populate)
    populated = time.perf_counter()
    ids = run_scenario(store, ws, scenario, link=link, on_tick=on_tick)
    finished = time.perf_counter()
    return SimulationResult(
        vehicles=vehicles,
        seconds=finished - started,
        campaigns=[fc.progress(store, cid) for cid in ids],
        timings={"populate_s": populated - started, "campaigns_s": finished - populated},
        scenario=scenario,
    )


def summary_json(result: SimulationResult, kpis: Sequence[dict[str, Any]] = ()) -> dict[str, Any]:
    """The ``fleet simulate --json`` shape of DESIGN.md (keys may be added, never renamed)."""
    return {
        "vehicles": result.vehicles,
        "seconds": round(result.seconds, 3),
        "timings": {k: round(v, 3) for k, v in result.timings.items()},
        "campaigns": [
            {
                "id": c["id"],
                "release": c["release"],
                "state": c["state"],
                "targets": c["targets"],
                "waves": [
                    {k: w[k] for k in ("size", "succeeded", "failed", "rolled_back", "pending", "state")}
                    for w in c["waves"]
                ],
                "halt_reason": c["halt_reason"],
            }
            for c in result.campaigns
        ],
        "stability": list(kpis),
        "scenario": result.scenario.to_dict() if result.scenario else None,
    }
