"""Speed of the virtual vehicle: WLTC class 3b simulations per second, batched and single.

Run: ``.venv/bin/python benchmarks/vehicle.py``. Prints a Markdown table and writes
``benchmarks/results/vehicle.json``. FASTSim 3.1.0 (the anchor, ~30 sims/s on one core here) runs
in its own virtualenv in the same run, and the ratio is reported.
"""

from __future__ import annotations

import json
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _vehicle_fastsim import ensure_fastsim, run_fastsim

from evplatform.vehicle import VehicleParams, load_cycle, simulate_cycle, vehicle_arrays

RESULTS = Path(__file__).resolve().parent / "results" / "vehicle.json"


def configurations(count: int, seed: int = 1) -> list[VehicleParams]:
    """Random but physical vehicles spanning the platform's range (masses, packs, motors, bodies)."""
    rng = np.random.default_rng(seed)
    return [
        VehicleParams(
            name=f"config-{i}", mass_kg=float(rng.uniform(1500, 2600)), battery_usable_kwh=float(rng.uniform(50, 110)),
            motor_power_kw=float(rng.uniform(150, 600)), cd=float(rng.uniform(0.2, 0.32)),
            frontal_area_m2=float(rng.uniform(2.2, 2.8)), crr=float(rng.uniform(0.006, 0.010)),
            chemistry=str(rng.choice(["LFP", "NMC"])), voltage_v=float(rng.choice([400, 800])),
            torque_nm=float(rng.uniform(350, 900)), top_speed_kmh=float(rng.uniform(180, 260)),
            drive=str(rng.choice(["RWD", "AWD"])),
        )
        for i in range(count)
    ]


def batched(hz: float, count: int, repeats: int = 5) -> dict[str, float]:
    """Best-of-N wall time of one batched call (arrays built once, as a sweep would)."""
    cycle = load_cycle("wltc", hz)
    vehicles = configurations(count)
    start = time.perf_counter()
    arrays = vehicle_arrays(vehicles, cycle.homologation)
    build_s = time.perf_counter() - start
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        simulate_cycle(arrays, cycle)
        times.append(time.perf_counter() - start)
    best = min(times)
    return {"hz": hz, "configurations": count, "seconds": best, "sims_per_s": count / best,
            "sims_per_s_with_build": count / (best + build_s)}


def single(repeats: int = 300) -> dict[str, float]:
    """One vehicle from its parameters to its result (arrays built inside), median of many runs."""
    cycle = load_cycle("wltc")
    vehicle = configurations(1)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        simulate_cycle(vehicle, cycle)
        times.append(time.perf_counter() - start)
    return {"median_ms": 1000 * statistics.median(times), "p95_ms": 1000 * float(np.percentile(times, 95))}


def fastsim_speed() -> dict[str, object]:
    python, note = ensure_fastsim()
    if python is None:
        return {"available": False, "note": note}
    cycle = load_cycle("wltc")
    answer = run_fastsim(python, {"cycles": {"wltc": {"dt_s": 1.0, "speed_mps": cycle.speed_mps.tolist()}},
                                  "vehicles": [], "time_cycles": ["wltc"]})
    return {"available": True, "note": note, "sims_per_s": answer["sims_per_second"]["wltc"]}


def main() -> None:
    one_hz = batched(1.0, 2000)
    ten_hz = batched(10.0, 1000)
    one = single()
    anchor = fastsim_speed()
    ratio = one_hz["sims_per_s"] / anchor["sims_per_s"] if anchor.get("available") else None  # type: ignore[operator]
    rows = [
        ("WLTC 3b, 1 Hz, batch of 2,000", f"{one_hz['sims_per_s']:,.0f} sims/s", "≥ 10,000 sims/s",
         one_hz["sims_per_s"] >= 10_000),
        ("WLTC 3b, 10 Hz, batch of 1,000", f"{ten_hz['sims_per_s']:,.0f} sims/s", "≥ 1,000 sims/s",
         ten_hz["sims_per_s"] >= 1_000),
        ("one vehicle, 1 Hz (median)", f"{one['median_ms']:.3f} ms", "≤ 1 ms", one["median_ms"] <= 1.0),
    ]
    print("| measurement | result | target | met |\n|---|---|---|---|")
    for name, value, target, met in rows:
        print(f"| {name} | {value} | {target} | {'yes' if met else 'NO'} |")
    if anchor.get("available"):
        print(f"| FASTSim 3.1.0, WLTC 3b, one vehicle at a time | {anchor['sims_per_s']:,.1f} sims/s | anchor | — |")
        met = "yes" if ratio and ratio >= 300 else "NO"
        print(f"| ratio evplatform batch / FASTSim | {ratio:,.0f}× | ≥ 300× | {met} |")
    else:
        print(f"| FASTSim 3.1.0 | not run: {anchor['note']} | anchor | — |")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps({"batch_1hz": one_hz, "batch_10hz": ten_hz, "single": one, "fastsim": anchor,
                                   "ratio_vs_fastsim": ratio, "machine": platform.platform(),
                                   "python": platform.python_version()}, indent=2) + "\n")


if __name__ == "__main__":
    main()
