"""Fidelity of the virtual vehicle against public homologation and test figures, FASTSim beside it.

Run: ``.venv/bin/python benchmarks/fidelity.py``. Reads ../shared/data/vehicles in place, prints
Markdown tables and writes ``benchmarks/results/fidelity.json``. One global parameter set
(``evplatform.vehicle.global_parameters.DEFAULTS``) for every vehicle; rows flagged uncertain (or
sourced from memory) are never used as oracles.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _vehicle_fastsim import ensure_fastsim, run_fastsim
from _vehicle_reference import SHARED, EpaRow, epa_rows, reference_evs

from evplatform.vehicle import DEFAULTS, VehicleParams, load_cycle, simulate_cycle
from evplatform.vehicle.charging import charge_time_min
from evplatform.vehicle.performance import accel_0_100_s
from evplatform.vehicle.simulate import simulate_vehicles, trim_params
from evplatform.workspace import load_workspace

RESULTS = Path(__file__).resolve().parent / "results" / "fidelity.json"
TRIMS = {"xiaomi_su7_std": "su7/standard", "xiaomi_su7_pro": "su7/pro", "xiaomi_su7_max": "su7/max",
         "xiaomi_su7_ultra": "su7-ultra/ultra", "xiaomi_yu7_std": "yu7/standard", "xiaomi_yu7_max": "yu7/max"}


def stats(errors: list[float]) -> dict[str, float]:
    e = np.abs(np.array(errors))
    return {"n": len(errors), "mae_pct": 100 * float(e.mean()), "worst_pct": 100 * float(e.max()),
            "median_abs_pct": 100 * float(np.median(e)), "bias_pct": 100 * float(np.mean(errors))}


def epa(fastsim_python: Path | None) -> dict[str, Any]:
    rows, skipped = epa_rows()
    out: dict[str, Any] = {"skipped": skipped, "cycles": {}}
    fast: list[float | None] = [None] * len(rows)
    if fastsim_python is not None:
        request = {
            "cycles": {c: {"dt_s": 1.0, "speed_mps": load_cycle(c).speed_mps.tolist()} for c in ("udds", "hwfet")},
            "vehicles": [{"name": r.label, "cycle": r.cycle, "mass_kg": r.vehicle.test_mass_kg,
                          "road_a": r.vehicle.road_load_abc[0], "road_c": r.vehicle.road_load_abc[2],  # type: ignore[index]
                          "power_w": r.vehicle.motor_power_kw * 1000} for r in rows],
        }
        fast = run_fastsim(fastsim_python, request)["kwh_per_100km_battery"]
    for cycle in ("udds", "hwfet"):
        index = [i for i, r in enumerate(rows) if r.cycle == cycle]
        chosen: list[EpaRow] = [rows[i] for i in index]
        ours = simulate_cycle([r.vehicle for r in chosen], load_cycle(cycle)).plug_kwh_per_100km
        measured = np.array([r.measured_kwh_per_100km for r in chosen])
        err = list(ours / measured - 1)
        # FASTSim has no charger model: its battery-side figure goes through the same AC efficiency.
        fs = [fast[i] / DEFAULTS.ac_charge_efficiency if fast[i] is not None else None for i in index]
        fs_err = [f / m - 1 for f, m in zip(fs, measured, strict=True) if f is not None]
        out["cycles"][cycle] = {
            "evplatform": stats(err), "fastsim": stats(fs_err) if fs_err else None,
            "rows": [{"vehicle": r.label, "measured": r.measured_kwh_per_100km, "evplatform": round(float(o), 2),
                      "fastsim": None if f is None else round(f, 2)} for r, o, f in zip(chosen, ours, fs, strict=True)],
        }
    return out


def xiaomi(ref: dict[tuple[str, str], Any]) -> dict[str, Any]:
    """Trims of the demo workspace against the published CLTC range and 0–100 (certain rows only)."""
    ws = load_workspace(None)
    vehicles = {vid: trim_params(ws, ws.trim(key)) for vid, key in TRIMS.items()}
    cltc = simulate_vehicles(list(vehicles.values()), "cltc").results
    by_name = {r["vehicle"]: r for r in cltc}
    accel = dict(zip(vehicles, accel_0_100_s(list(vehicles.values())), strict=True))
    rows = []
    for vid, vehicle in vehicles.items():
        rng = ref.get((vid, "cltc_range"))
        acc = ref.get((vid, "accel_0_100"))
        rows.append({
            "vehicle": vid, "trim": vehicle.name,
            "cltc_range_published": rng.number if rng and not rng.uncertain else None,
            "cltc_range_sim": by_name[vehicle.name]["range_km"],
            "accel_published": acc.number if acc and not acc.uncertain else None,
            "accel_sim": round(float(accel[vid]), 2),
        })
    return {"rows": rows}


def tesla_m3(ref: dict[tuple[str, str], Any]) -> dict[str, Any]:
    """Tesla Model 3 RWD (2024 EU): WLTP range and 0–100; inputs partly uncertain (say which)."""
    vid = "tesla_m3_rwd_2024"
    vehicle = VehicleParams(
        name="Tesla Model 3 RWD 2024", mass_kg=ref[(vid, "curb_mass")].number,
        battery_usable_kwh=ref[(vid, "battery_usable")].number, motor_power_kw=ref[(vid, "motor_power_total")].number,
        cd=ref[(vid, "drag_coefficient")].number, frontal_area_m2=ref[(vid, "frontal_area")].number,
        crr=ref[(vid, "rolling_resistance_coef")].number, chemistry="LFP", drive="RWD", top_speed_kmh=201.0,
    )
    wltp = simulate_vehicles([vehicle], "wltc").results[0]
    uncertain_inputs = [f for f in ("curb_mass", "frontal_area", "rolling_resistance_coef") if ref[(vid, f)].uncertain]
    plug = ref[(vid, "wltp_consumption_plug")]
    return {
        "wltp_range_published": ref[(vid, "wltp_range")].number, "wltp_range_sim": wltp["range_km"],
        "wltp_plug_published": plug.number, "wltp_plug_published_uncertain": plug.uncertain,
        "wltp_plug_sim": wltp["consumption_kwh_per_100km"]["plug"],
        "accel_published": ref[(vid, "accel_0_100")].number, "accel_sim": wltp["accel_0_100_s"],
        "uncertain_inputs": uncertain_inputs,
    }


def dc_charging(ref: dict[tuple[str, str], Any]) -> list[dict[str, Any]]:
    """Porsche Taycan figures with a published time (the only certain ones in the set)."""
    out = []
    for vid, start, field in (("porsche_taycan_rwd_2024", 0.10, "dc_10_80_time"),
                              ("porsche_taycan_rwd_pbp_gen1", 0.05, "dc_5_80_time")):
        gross = ref[(vid, "battery_gross")]
        vehicle = VehicleParams(
            name=vid, mass_kg=2100.0, battery_usable_kwh=gross.number * DEFAULTS.usable_fraction_of_gross,
            motor_power_kw=300.0, cd=0.22, frontal_area_m2=2.3, crr=0.008, chemistry="NMC", voltage_v=800.0,
            dc_peak_kw=ref[(vid, "dc_peak_power")].number,
        )
        published = ref[(vid, field)]
        sim = charge_time_min(vehicle, start=start, end=0.80)
        out.append({"vehicle": vid, "window": f"{round(start * 100)}–80 %", "published_min": published.number,
                    "published_uncertain": published.uncertain, "sim_min": round(sim, 1),
                    "error_pct": round(100 * (sim / published.number - 1), 1),
                    "uncertain_inputs": ["battery_gross"] if gross.uncertain else []})
    return out


def main() -> None:
    if not SHARED.exists():
        print(f"reference data not found at {SHARED}: nothing to measure")
        return
    python, note = ensure_fastsim()
    ref = reference_evs()
    report = {"fastsim": note, "epa": epa(python), "xiaomi": xiaomi(ref), "tesla_m3": tesla_m3(ref),
              "dc": dc_charging(ref)}
    print_tables(report)
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")


def print_tables(report: dict[str, Any]) -> None:
    print(f"FASTSim: {report['fastsim']}\n")
    print("| EPA dyno, at the plug (unadjusted) | rows | evplatform MAE | median | worst | bias | FASTSim MAE | median "
          "| worst | target |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for cycle, data in report["epa"]["cycles"].items():
        ours, fs = data["evplatform"], data["fastsim"]
        fs_text = (f"{fs['mae_pct']:.1f} % | {fs['median_abs_pct']:.1f} % | {fs['worst_pct']:.1f} %"
                   if fs else "not run | — | —")
        print(f"| {cycle.upper()} | {ours['n']} | {ours['mae_pct']:.1f} % | {ours['median_abs_pct']:.1f} % | "
              f"{ours['worst_pct']:.1f} % | "
              f"{ours['bias_pct']:+.1f} % | {fs_text} | MAE ≤ 3 % |")
    print(f"\nskipped EPA rows: {len(report['epa']['skipped'])} (no figure, or a figure that is not a "
          "charge-depleting result)\n")
    t = report["tesla_m3"]
    print("| WLTP (Tesla Model 3 RWD 2024) | published | simulated | error | note |\n|---|---|---|---|---|")
    print(f"| range, km | {t['wltp_range_published']:.0f} | {t['wltp_range_sim']:.0f} | "
          f"{100 * (t['wltp_range_sim'] / t['wltp_range_published'] - 1):+.1f} % | inputs uncertain: "
          f"{', '.join(t['uncertain_inputs'])} |")
    print(f"| at the plug, kWh/100 km | {t['wltp_plug_published']} (uncertain: not scored) | "
          f"{t['wltp_plug_sim']:.2f} | {100 * (t['wltp_plug_sim'] / t['wltp_plug_published'] - 1):+.1f} % | "
          "no certain WLTP at-plug figure in the set |")
    print("\n| 0–100 km/h | published s | simulated s | error s | within ±0.3 s |\n|---|---|---|---|---|")
    accel_rows = [(r["trim"], r["accel_published"], r["accel_sim"]) for r in report["xiaomi"]["rows"]]
    accel_rows.append(("Tesla Model 3 RWD 2024", t["accel_published"], t["accel_sim"]))
    for name, pub, sim in accel_rows:
        if pub is not None:
            print(f"| {name} | {pub:.2f} | {sim:.2f} | {sim - pub:+.2f} | {'yes' if abs(sim - pub) <= 0.3 else 'NO'} |")
    print("\n| CLTC range (demo trims, workspace parameters) | published km | simulated km | error |")
    print("|---|---|---|---|")
    for r in report["xiaomi"]["rows"]:
        if r["cltc_range_published"] is not None:
            err = 100 * (r["cltc_range_sim"] / r["cltc_range_published"] - 1)
            print(f"| {r['trim']} | {r['cltc_range_published']:.0f} | {r['cltc_range_sim']:.0f} | {err:+.1f} % |")
    print("\n| DC fast charge | window | published min | simulated min | error | within ±10 % |")
    print("|---|---|---|---|---|---|")
    for r in report["dc"]:
        note = " (gross capacity input uncertain)" if r["uncertain_inputs"] else ""
        print(f"| {r['vehicle']}{note} | {r['window']} | {r['published_min']} | {r['sim_min']} | "
              f"{r['error_pct']:+.1f} % | {'yes' if abs(r['error_pct']) <= 10 else 'NO'} |")


if __name__ == "__main__":
    main()
