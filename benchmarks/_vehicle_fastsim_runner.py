"""Runs inside benchmarks/.venv-fastsim (FASTSim 3.1.0, Apache-2.0): never imported by the project.

Reads a JSON request on stdin — cycles as speed traces and vehicles as mass, road load and power —
builds each vehicle from FASTSim's bundled 2022 Tesla Model 3 RWD BEV template, runs SimDrive and
writes JSON results (battery-side kWh/100 km) and timings on stdout.
"""

from __future__ import annotations

import json
import sys
import time
import warnings

import fastsim as fsim

warnings.filterwarnings("ignore")
AIR_DENSITY = 1.2
TEMPLATE = "2022 Tesla Model 3 RWD thrml.yaml"


def cycle(trace: dict) -> fsim.Cycle:
    n = len(trace["speed_mps"])
    return fsim.Cycle.from_pydict(
        {"time_seconds": [i * trace["dt_s"] for i in range(n)], "speed_meters_per_second": trace["speed_mps"],
         "temp_amb_air_kelvin": [296.15] * n, "pwr_solar_load_watts": [0.0] * n},
        skip_init=False,
    )


def vehicle(template: dict, spec: dict) -> fsim.Vehicle:
    d = json.loads(json.dumps(template))
    d["name"] = spec["name"][:60]
    d["mass_kilograms"] = spec["mass_kg"]
    chassis = d["chassis"]
    # FASTSim has no B term: A → rolling resistance at the test mass, C → drag area.
    chassis["wheel_rr_coef"] = spec["road_a"] / (spec["mass_kg"] * 9.81)
    chassis["drag_coef"] = 2 * spec["road_c"] / AIR_DENSITY / chassis["frontal_area_square_meters"]
    bev = d["pt_type"]["BEV"]
    bev["em"]["pwr_out_max_watts"] = spec["power_w"]
    bev["res"]["pwr_out_max_watts"] = spec["power_w"] * 1.2
    bev["res"]["energy_capacity_joules"] = 80.0 * 3.6e6
    for key in ("mass_kilograms",):
        bev["res"][key] = None
        bev["em"][key] = None
        chassis[key] = None
    return fsim.Vehicle.from_pydict(d, skip_init=False)


def run(veh: fsim.Vehicle, cyc: fsim.Cycle) -> float:
    sd = fsim.SimDrive(veh, cyc)
    sd.walk()
    out = sd.to_pydict()
    res = out["veh"]["pt_type"]["BEV"]["res"]["state"]
    dist = out["veh"]["state"]["dist_meters"]
    return res["energy_out_electrical_joules"] / 3.6e6 / (dist / 1e5)


def main() -> None:
    request = json.load(sys.stdin)
    template = fsim.Vehicle.from_resource(TEMPLATE).to_pydict()
    cycles = {name: cycle(trace) for name, trace in request["cycles"].items()}
    results = []
    for spec in request["vehicles"]:
        try:
            results.append(run(vehicle(template, spec), cycles[spec["cycle"]]))
        except Exception as error:  # report and continue: one bad vehicle must not hide the rest
            results.append(None)
            print(f"fastsim failed on {spec['name']}: {error}", file=sys.stderr)
    timing = {}
    for name in request.get("time_cycles", []):
        veh = fsim.Vehicle.from_resource(TEMPLATE)
        runs = 0
        start = time.perf_counter()
        while time.perf_counter() - start < 3.0:
            sd = fsim.SimDrive(veh, cycles[name])
            sd.walk()
            runs += 1
        timing[name] = runs / (time.perf_counter() - start)
    json.dump({"kwh_per_100km_battery": results, "sims_per_second": timing, "version": fsim.__version__}, sys.stdout)


if __name__ == "__main__":
    main()
