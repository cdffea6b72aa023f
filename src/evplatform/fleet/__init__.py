"""Fleet: vehicle registry, telemetry, campaigns against the fleet, simulator, release stability.

The functions the API and the CLI call, all taking an open ``evplatform.store.Store``:

* registry: ``register_vehicles``, ``import_csv``, ``sync_markets``; telemetry: ``ingest``;
* campaigns: ``create_campaign``, ``start_campaign``, ``create_and_start_campaign``, ``pause_campaign``,
  ``resume_campaign``, ``cancel_campaign``, ``step``, ``report``, ``progress``; targets: ``TargetFilter``,
  ``select_targets``; which action each campaign state allows: ``fleet.campaign_states``; recovery after
  a halt (acknowledge, exclude a cohort, retry, next wave) and the vehicles, history and cohorts of a
  campaign: ``fleet.campaign_recovery``;
* approvals (``fleet.approvals``): ``record_approval`` — a market of the workspace, a date on the
  server's clock, a second person (four-eyes); ``approvals_in_force`` for the campaign's check;
* stability: ``release_stability``, ``updates_per_vehicle_per_quarter``;
* demo: ``build_demo_database`` (what ``make run`` calls);
* releases (import the modules; not re-exported, they load the OTA server code):
  ``release_publishing.publish_release`` (manifest → OTA server → fleet releases, what
  ``evplatform ota release`` and ``POST /api/releases/publish`` call) and
  ``release_manifest.load_release_manifest``;
* links: ``SimulatedLink`` (vectorised draws) and ``UptaneLink`` (real in-process Uptane clients).

The gate rules (``fleet.gates``) are pure functions; the controller (``fleet.campaigns``) moves
vehicles through the store and the ``VehicleLink`` seam (``fleet.link``).
"""

from evplatform.fleet.campaigns import (
    REOFFER_AFTER,
    StartSummary,
    StepResult,
    cancel_campaign,
    create_and_start_campaign,
    create_campaign,
    pause_campaign,
    progress,
    report,
    resume_campaign,
    run_campaign,
    start_campaign,
    step,
)
from evplatform.fleet.demo import DemoDatabase, build_demo_database
from evplatform.fleet.gates import DEFAULT_WAVES, MaintenanceWindow, WavePolicy
from evplatform.fleet.link import Delivery, FailureModel, SimulatedLink, VehicleLink
from evplatform.fleet.offers import UpdateAnswer, answer_update_check, update_check
from evplatform.fleet.registry import CsvRowError, VehicleSpec, import_csv, register_vehicles, sync_markets
from evplatform.fleet.stability import ReleaseStability, release_stability, updates_per_vehicle_per_quarter
from evplatform.fleet.targets import TargetFilter, select_targets
from evplatform.fleet.telemetry import TelemetryError, TelemetryEvent, ingest
from evplatform.fleet.uptane_link import UptaneLink

__all__ = [
    "DEFAULT_WAVES",
    "REOFFER_AFTER",
    "CsvRowError",
    "Delivery",
    "DemoDatabase",
    "FailureModel",
    "MaintenanceWindow",
    "ReleaseStability",
    "SimulatedLink",
    "StartSummary",
    "StepResult",
    "TargetFilter",
    "TelemetryError",
    "TelemetryEvent",
    "UpdateAnswer",
    "UptaneLink",
    "VehicleLink",
    "VehicleSpec",
    "WavePolicy",
    "answer_update_check",
    "build_demo_database",
    "cancel_campaign",
    "create_and_start_campaign",
    "create_campaign",
    "import_csv",
    "ingest",
    "pause_campaign",
    "progress",
    "register_vehicles",
    "release_stability",
    "report",
    "resume_campaign",
    "run_campaign",
    "select_targets",
    "start_campaign",
    "step",
    "sync_markets",
    "update_check",
    "updates_per_vehicle_per_quarter",
]
