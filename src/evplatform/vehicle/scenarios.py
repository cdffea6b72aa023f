"""Hub, fault and driver-assistance scenarios run for every trim of a workspace.

These are the reports the CLI and the API show: a fault table per trim, AEB impact speeds on the
Euro NCAP CCRs speeds per trim, and the ALKS speed limit per trim and market. Each report reads
the platform's feature roles; ``absent_roles`` lists the ones it needs that the platform lacks, so
a report shows "lidar: absent" rather than a silent "no".
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from evplatform.errors import VehicleError
from evplatform.vehicle.adas import CCRS_SPEEDS_KMH, aeb_setup, alks_speed_limit_kmh, ccrs_impact_speeds
from evplatform.vehicle.hub import vss
from evplatform.vehicle.hub.faults import Fault, run_fault_scenario
from evplatform.vehicle.hub.services import build_hub
from evplatform.vehicle.simulate import trim_params
from evplatform.workspace.roles import DRIVER_ASSISTANCE, ROLES

if TYPE_CHECKING:
    from evplatform.workspace.model import Trim, Workspace

#: The roles each report reads.
REPORT_ROLES: dict[str, tuple[str, ...]] = {
    "faults": ("brake_by_wire", "brake_redundancy", "steer_by_wire", "steer_redundancy", "zone_controllers",
               "lidar", *DRIVER_ASSISTANCE),
    "aeb": ("aeb", "lidar", "brake_by_wire"),
    "alks": ("alks",),
}


def absent_roles(ws: Workspace, report: str) -> list[dict[str, str]]:
    """The roles ``report`` reads that no feature of the platform plays, each with the reason."""
    out = []
    for role in REPORT_ROLES[report]:
        reason = ws.roles.absence(role)
        if reason is not None:
            out.append({"role": role, "title": ROLES[role].title, "reason": reason})
    return out


def _trims(ws: Workspace, model: str | None) -> list[Trim]:
    if model is None:
        return ws.trims()
    if model not in ws.models:
        raise VehicleError(f"unknown model {model!r}; models: {', '.join(ws.models)}")
    return [t for t in ws.trims() if t.model_id == model]


def fault_report(ws: Workspace, model: str | None = None, faults: list[Fault] | None = None) -> list[dict[str, Any]]:
    """Every fault on every trim (base-market configuration): degraded mode and measured reaction."""
    rows: list[dict[str, Any]] = []
    for trim in _trims(ws, model):
        configuration = ws.configuration(trim)
        vehicle = trim_params(ws, trim)
        for fault in faults or list(Fault):
            row: dict[str, Any] = {"vehicle": trim.key, "fault": fault.value}
            try:
                outcome = run_fault_scenario(build_hub(configuration, vehicle, ws.roles), fault)
            except VehicleError as reason:
                row.update({"mode": "not applicable", "reason": str(reason)})
            else:
                row.update({
                    "mode": outcome.mode.value, "detected_s": outcome.detected_s, "reaction_s": outcome.reaction_s,
                    "max_reaction_s": outcome.max_reaction_s, "within_limit": outcome.within_limit,
                    "power_limit_kw": outcome.power_limit_kw, "stop_distance_m": outcome.stop_distance_m,
                })
            rows.append(row)
    return rows


def aeb_report(ws: Workspace, model: str | None = None) -> list[dict[str, Any]]:
    """Impact speed (km/h, 0 = avoided) on Euro NCAP CCRs at 10–50 km/h for every trim."""
    trims = _trims(ws, model)
    setups = [aeb_setup(t.key, ws.configuration(t), ws.roles) for t in trims]
    impacts = ccrs_impact_speeds(setups)
    return [
        {"vehicle": s.name, "aeb": s.has_aeb, "lidar": s.lidar, "brake_by_wire": s.brake_by_wire,
         "speeds_kmh": list(CCRS_SPEEDS_KMH), "impact_kmh": [round(float(x), 1) for x in row]}
        for s, row in zip(setups, impacts, strict=True)
    ]


def alks_report(ws: Workspace, model: str | None = None) -> list[dict[str, Any]]:
    """The ALKS speed limit of every trim in every market that sells it (0 = not allowed or not fitted)."""
    rows = []
    trims = {t.key for t in _trims(ws, model)}
    for market in ws.markets.values():
        for trim in ws.sold_in(market.id):
            if trim.key in trims:
                configuration = ws.configuration(trim, market.id)
                rows.append({"vehicle": trim.key, "market": market.id,
                             "alks": ws.roles.present("alks", configuration),
                             "alks_limit_kmh": alks_speed_limit_kmh(configuration, market.unece, ws.roles)})
    return rows


#: The port `evplatform hub serve` listens on by default (the Kuksa databroker's default too).
DEFAULT_API_PORT = 55555


def api_signals_report(ws: Workspace) -> dict[str, Any]:
    """What the vehicle API (``hub serve``) serves on each trim (base-market configuration): every
    signal any trim's hub provides, with its VSS kind, datatype and unit, and the trims that serve it."""
    served: dict[str, list[str]] = {}
    specs: dict[str, Any] = {}
    trims = ws.trims()
    for trim in trims:
        hub = build_hub(ws.configuration(trim), trim_params(ws, trim), ws.roles)
        for path, spec in hub.served_signals().items():
            served.setdefault(path, []).append(trim.key)
            specs[path] = spec
    signals = [{"path": path, "kind": specs[path].kind, "datatype": specs[path].datatype,
                "unit": specs[path].unit,
                "apps_may_actuate": specs[path].kind == "actuator" and not vss.is_motion_control(path),
                "trims": keys} for path, keys in served.items()]
    return {"api": "kuksa.val.v2", "default_port": DEFAULT_API_PORT, "trims": [t.key for t in trims],
            "signals": signals}
