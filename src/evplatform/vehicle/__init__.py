"""The virtual vehicle: parameters from the configuration, drive cycles, batch simulation, the hub.

Public entry points::

    simulate_workspace(ws, model=None, cycle=None) -> list[dict]   # DESIGN.md `simulate` rows
    simulate_vehicles(vehicles, cycle, hz=1.0) -> Simulation
    simulate_cycle(vehicles, load_cycle("wltc")) -> CycleResult     # the vectorised core
"""

from evplatform.vehicle.batch import CycleResult, simulate_cycle, vehicle_arrays
from evplatform.vehicle.drive_cycles import CYCLES, DriveCycle, load_cycle
from evplatform.vehicle.global_parameters import DEFAULTS, GlobalParameters
from evplatform.vehicle.params import VehicleParams, load_vehicle_params, params_from_attributes
from evplatform.vehicle.simulate import Simulation, simulate_trims, simulate_vehicles, simulate_workspace

__all__ = [
    "CYCLES",
    "DEFAULTS",
    "CycleResult",
    "DriveCycle",
    "GlobalParameters",
    "Simulation",
    "VehicleParams",
    "load_cycle",
    "load_vehicle_params",
    "params_from_attributes",
    "simulate_cycle",
    "simulate_trims",
    "simulate_vehicles",
    "simulate_workspace",
    "vehicle_arrays",
]
