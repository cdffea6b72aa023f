"""0–100 km/h and top speed of the reference EVs from their published specs only (issue 23 §2).

Run: ``.venv/bin/python benchmarks/launch.py``. Reads ../shared/data/vehicles/reference_evs.csv in
place, prints a Markdown table and writes ``benchmarks/results/launch.json``. One global parameter
set (``DEFAULTS``), nothing tuned per car. Every car with a published power and curb mass is built as
a user would from a spec sheet: no torque (none is published in the set), no gear ratio, and — for
the top-speed column — no declared top speed (else the answer would be the input). Inputs the set
lacks are the same estimate for every car (frontal area 2.4 m², Crr 0.009, Cd 0.23 where not
given, 400 V where no voltage is given); the drive layout is read from the model's name and the
per-axle power notes. A row whose input or oracle is flagged uncertain says so.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _vehicle_reference import SHARED, Figure, reference_evs

from evplatform.vehicle import DEFAULTS, VehicleParams
from evplatform.vehicle.performance import accel_0_100_s, top_speed_kmh

RESULTS = Path(__file__).resolve().parent / "results" / "launch.json"
# From the names ("Standard RWD", "Model 3 RWD") and notes ("220 kW front + 288 kW rear"); the SU7
# Max and Ultra are the dual- and tri-motor versions. Not a fitted input.
DRIVES = {"xiaomi_su7_std": "RWD", "xiaomi_su7_pro": "RWD", "xiaomi_su7_max": "AWD", "xiaomi_su7_ultra": "AWD",
          "xiaomi_yu7_std": "RWD", "xiaomi_yu7_max": "AWD", "tesla_m3_rwd_2024": "RWD",
          "porsche_taycan_rwd_pbp_gen1": "RWD", "porsche_taycan_rwd_2024": "RWD"}
ACCEL_TOLERANCE_S = 0.3
TOP_TOLERANCE = 0.05


def _number(ref: dict[tuple[str, str], Figure], vid: str, field: str) -> float | None:
    figure = ref.get((vid, field))
    if figure is None:
        return None
    try:
        return float(figure.value.split()[0])
    except ValueError:
        return None


def spec_sheet_vehicle(ref: dict[tuple[str, str], Figure], vid: str) -> tuple[VehicleParams, list[str]] | None:
    """The car as its published figures give it, and which of those inputs are flagged uncertain."""
    mass, power = _number(ref, vid, "curb_mass"), _number(ref, vid, "motor_power_total")
    if mass is None or power is None:
        return None
    usable = _number(ref, vid, "battery_usable")
    gross = _number(ref, vid, "battery_gross")
    battery = usable or (gross or 80.0) * DEFAULTS.usable_fraction_of_gross
    voltage = _number(ref, vid, "nominal_voltage") or _number(ref, vid, "system_voltage") or 400.0
    used = ["curb_mass", "motor_power_total", "battery_usable" if usable else "battery_gross", "drag_coefficient",
            "nominal_voltage", "system_voltage", "frontal_area", "rolling_resistance_coef"]
    vehicle = VehicleParams(
        name=vid, mass_kg=mass, motor_power_kw=power, drive=DRIVES[vid], battery_usable_kwh=battery,
        battery_capacity_kwh=gross, cd=_number(ref, vid, "drag_coefficient") or 0.23,
        frontal_area_m2=_number(ref, vid, "frontal_area") or 2.4,
        crr=_number(ref, vid, "rolling_resistance_coef") or 0.009,
        voltage_v=voltage,
    )
    return vehicle, [f for f in used if (vid, f) in ref and ref[(vid, f)].uncertain]


def measure(ref: dict[tuple[str, str], Figure]) -> list[dict[str, Any]]:
    ids = sorted({vid for vid, _ in ref if vid in DRIVES})
    built = {vid: spec for vid in ids if (spec := spec_sheet_vehicle(ref, vid)) is not None}
    vehicles = [v for v, _ in built.values()]
    accel = accel_0_100_s(vehicles)
    top = top_speed_kmh(vehicles)
    rows = []
    for i, (vid, (_, unsure)) in enumerate(built.items()):
        pub_accel, pub_top = _number(ref, vid, "accel_0_100"), _number(ref, vid, "top_speed")
        row: dict[str, Any] = {"vehicle": vid, "uncertain_inputs": unsure,
                               "accel_published_s": pub_accel, "accel_sim_s": round(float(accel[i]), 2),
                               "top_published_kmh": pub_top, "top_sim_kmh": round(float(top[i]), 1)}
        if pub_accel is not None:
            row["accel_error_s"] = round(float(accel[i]) - pub_accel, 2)
            row["accel_within"] = abs(row["accel_error_s"]) <= ACCEL_TOLERANCE_S
        if pub_top is not None:
            row["top_error_pct"] = round(100 * (float(top[i]) / pub_top - 1), 1)
            row["top_within"] = abs(row["top_error_pct"]) <= 100 * TOP_TOLERANCE
        rows.append(row)
    return rows


def main() -> None:
    if not SHARED.exists():
        print(f"reference data not found at {SHARED}: nothing to measure")
        return
    rows = measure(reference_evs())
    print("| car (spec-sheet inputs only) | 0–100 published s | simulated s | error s | ±0.3 s "
          "| top published km/h | simulated km/h | error | ±5 % | uncertain inputs |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        accel = (f"{r['accel_published_s']:.2f} | {r['accel_sim_s']:.2f} | {r['accel_error_s']:+.2f} | "
                 f"{'yes' if r['accel_within'] else 'NO'}") if r["accel_published_s"] is not None else "— | — | — | —"
        top = (f"{r['top_published_kmh']:.0f} | {r['top_sim_kmh']:.0f} | {r['top_error_pct']:+.1f} % | "
               f"{'yes' if r['top_within'] else 'NO'}") if r["top_published_kmh"] is not None else \
            f"— | {r['top_sim_kmh']:.0f} | — | —"
        print(f"| {r['vehicle']} | {accel} | {top} | {', '.join(r['uncertain_inputs']) or '—'} |")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps({"rows": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()
