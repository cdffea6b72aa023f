"""Simulate vehicles the way each homologation does, and return DESIGN.md's ``simulate`` shape.

Range rules (consumption is battery-side, at the terminals, as each procedure measures it):
- WLTP (UN GTR 15 Annex 8, shortened test procedure): range = usable energy / WLTC consumption.
- CLTC (GB/T 18386.1-2021): range = usable energy / CLTC-P consumption.
- EPA (40 CFR 600.116-12, 600.210-12): unadjusted range from 55 % city (UDDS) and 45 % highway
  (HWFET) consumption, times the 0.7 derived 5-cycle factor for the label.
- NEDC (UNECE R101 Annex 9): usable energy / NEDC consumption.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from evplatform.errors import NotFoundError, VehicleError
from evplatform.vehicle.batch import CycleResult, simulate_cycle, vehicle_arrays
from evplatform.vehicle.charging import charge_time_min
from evplatform.vehicle.drive_cycles import canonical_name, load_cycle
from evplatform.vehicle.global_parameters import DEFAULTS, GlobalParameters
from evplatform.vehicle.params import VehicleParams, params_from_attributes
from evplatform.vehicle.performance import accel_0_100_s, top_speed_kmh

if TYPE_CHECKING:
    from evplatform.workspace.model import Trim, Workspace

HOMOLOGATION_CYCLE = {"WLTC": "wltc", "WLTP": "wltc", "CLTC": "cltc", "EPA": "udds", "NEDC": "nedc"}


@dataclass(frozen=True)
class Simulation:
    """Results of one cycle for many vehicles: the JSON rows and the traces for plots."""

    results: list[dict[str, Any]]
    cycle_result: CycleResult


def homologation_range_km(
    vehicles: Sequence[VehicleParams], cycle_name: str, result: CycleResult, globals_: GlobalParameters = DEFAULTS
) -> tuple[np.ndarray, str]:
    """Range by the rule of the cycle's homologation, and the rule's name."""
    usable = np.array([v.battery_usable_kwh for v in vehicles])
    if cycle_name in ("udds", "hwfet"):
        other_name = "hwfet" if cycle_name == "udds" else "udds"
        other = simulate_cycle(vehicles, load_cycle(other_name), globals_)
        city, highway = (result, other) if cycle_name == "udds" else (other, result)
        w = globals_.epa_city_weight
        combined = w * city.battery_kwh_per_100km + (1 - w) * highway.battery_kwh_per_100km
        return globals_.epa_label_factor * usable / combined * 100.0, "EPA label (55/45 city/highway × 0.7)"
    rule = {"wltc": "WLTP", "cltc": "CLTC", "nedc": "NEDC"}[cycle_name]
    return usable / result.battery_kwh_per_100km * 100.0, rule


def with_inputs(
    vehicles: Sequence[VehicleParams], aux_power_w: float | None = None, payload_kg: float | None = None
) -> list[VehicleParams]:
    """The vehicles with a run's auxiliary load (W) and payload (kg) replacing their own (validated again)."""
    out = list(vehicles)
    if aux_power_w is not None:
        out = [replace(v, aux_power_w=aux_power_w) for v in out]
    if payload_kg is not None:
        out = [replace(v, payload_kg=payload_kg) for v in out]
    return out


def simulate_vehicles(
    vehicles: Sequence[VehicleParams],
    cycle: str,
    hz: float = 1.0,
    globals_: GlobalParameters = DEFAULTS,
    traces: bool = False,
    aux_power_w: float | None = None,
    payload_kg: float | None = None,
) -> Simulation:
    """Every vehicle on one cycle plus its range, charging, acceleration and top speed."""
    vehicles = with_inputs(vehicles, aux_power_w, payload_kg)
    name = canonical_name(cycle)
    drive_cycle = load_cycle(name, hz)
    arrays = vehicle_arrays(vehicles, drive_cycle.homologation, globals_)
    result = simulate_cycle(arrays, drive_cycle, globals_, traces=traces)
    ranges, rule = homologation_range_km(vehicles, name, result, globals_)
    accel = accel_0_100_s(vehicles, globals_)
    top = top_speed_kmh(vehicles, globals_)
    rows: list[dict[str, Any]] = []
    for i, vehicle in enumerate(vehicles):
        rows.append(
            {
                "vehicle": vehicle.name,
                "cycle": name,
                "consumption_kwh_per_100km": {
                    "battery": round(float(result.battery_kwh_per_100km[i]), 3),
                    "plug": round(float(result.plug_kwh_per_100km[i]), 3),
                },
                "range_km": round(float(ranges[i]), 1),
                "range_rule": rule,
                "charge_10_80_min": round(charge_time_min(vehicle, globals_=globals_), 1),
                "accel_0_100_s": _finite(accel[i], 2),
                "top_speed_kmh": round(float(top[i]), 1),
                "trace_miss": {
                    "seconds": float(result.miss_seconds[i]),
                    "max_speed_error_kmh": round(float(result.max_speed_error_kmh[i]), 2),
                },
            }
        )
    return Simulation(rows, result)


def _finite(value: float, digits: int) -> float | None:
    """JSON has no infinity: a vehicle that never reaches 100 km/h reports null."""
    return round(float(value), digits) if np.isfinite(value) else None


def trim_params(ws: Workspace, trim: Trim, market_id: str | None = None) -> VehicleParams:
    """A trim's vehicle from its configuration; brake-by-wire (its role) decides the regen blending rule."""
    configuration = ws.configuration(trim, market_id)
    return params_from_attributes(
        ws.attributes(trim, market_id), trim.key, brake_by_wire=ws.roles.present("brake_by_wire", configuration)
    )


def workspace_cycle(ws: Workspace, market_id: str | None = None) -> str:
    """The homologation cycle of a market (default: the platform's base market)."""
    wanted = market_id or ws.platform.base_market
    market = ws.markets.get(wanted)
    if market is None:  # a query parameter naming no market: a 404 naming it, not a KeyError
        raise NotFoundError("market", f"{wanted!r} (markets: {', '.join(ws.markets)})")
    try:
        return HOMOLOGATION_CYCLE[market.homologation_cycle.upper()]
    except KeyError:
        raise VehicleError(f"market {market.id}: unknown homologation cycle {market.homologation_cycle!r}") from None


def simulate_trims(
    ws: Workspace,
    model: str | None = None,
    cycle: str | None = None,
    hz: float = 1.0,
    traces: bool = False,
    market: str | None = None,
    aux_power_w: float | None = None,
    payload_kg: float | None = None,
) -> Simulation:
    """Every trim (or one model's) sold in ``market`` (default: the base market), on ``cycle`` or on
    that market's homologation cycle, each in its configuration for that market."""
    if market is not None and market not in ws.markets:
        raise VehicleError(f"unknown market {market!r}; markets: {', '.join(ws.markets)}")
    trims = ws.sold_in(market) if market is not None else ws.trims()
    if model is not None:
        if model not in ws.models:
            raise VehicleError(f"unknown model {model!r}; models: {', '.join(ws.models)}")
        trims = [t for t in trims if t.model_id == model]
    if not trims:
        raise VehicleError(f"model {model!r} is not sold in market {market!r}")
    vehicles = [trim_params(ws, t, market) for t in trims]
    return simulate_vehicles(vehicles, cycle or workspace_cycle(ws, market), hz=hz, traces=traces,
                             aux_power_w=aux_power_w, payload_kg=payload_kg)


def simulate_workspace(
    ws: Workspace, model: str | None = None, cycle: str | None = None, market: str | None = None
) -> list[dict[str, Any]]:
    """The API's entry point: DESIGN.md ``simulate`` result rows for every trim (or one model's)."""
    return simulate_trims(ws, model, cycle, market=market).results


def traces_of(simulation: Simulation) -> dict[str, dict[str, Any]]:
    """Each vehicle's speed, battery power and SOC against time, as JSON lists (the plots' data).

    Battery power is positive when the battery discharges (driving) and negative when it takes
    regenerated energy. Values are rounded to what a chart or a spreadsheet can show.
    """
    result = simulation.cycle_result
    if result.time_s is None or result.speed_kmh is None or result.battery_power_kw is None or result.soc is None:
        raise VehicleError("the simulation was run without traces; run it with traces=True")
    times = [round(float(t), 2) for t in result.time_s]
    return {
        name: {
            "cycle": result.cycle,
            "time_s": times,
            "speed_kmh": [round(float(x), 2) for x in result.speed_kmh[i]],
            "battery_power_kw": [round(float(x), 2) for x in result.battery_power_kw[i]],
            "soc_pct": [round(100.0 * float(x), 3) for x in result.soc[i]],
        }
        for i, name in enumerate(result.names)
    }


def trim_trace(ws: Workspace, trim_key: str, cycle: str | None = None, market: str | None = None) -> dict[str, Any]:
    """One trim on ``cycle`` (default: the market's homologation cycle) with its traces: the row of
    ``simulate --json`` plus ``time_s``, ``speed_kmh``, ``battery_power_kw`` and ``soc_pct``."""
    trim = ws.trim(trim_key)
    name = canonical_name(cycle) if cycle else workspace_cycle(ws, market)
    simulation = simulate_vehicles([trim_params(ws, trim, market)], name, traces=True)
    return {**simulation.results[0], **traces_of(simulation)[trim.key]}
