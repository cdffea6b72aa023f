"""The simulated vehicle behind `hub serve`: the drive cycle on the broker, faults on demand."""

from __future__ import annotations

import pytest

from evplatform.errors import VehicleError
from evplatform.vehicle.hub import Priority, vss
from evplatform.vehicle.hub.faults import DegradedMode, Fault, decide
from evplatform.vehicle.hub.simulator import LIMP_SPEED_KMH, simulated_vehicle
from evplatform.workspace import load_workspace


def test_the_cycle_drives_the_signals() -> None:
    sim = simulated_vehicle(load_workspace(None))
    broker = sim.hub.broker
    speeds: list[float] = []
    distances: list[int] = []
    socs: list[float] = []
    for _ in range(600):  # 60 simulated s
        sim.step(0.1)
        speeds.append(float(broker.value(vss.SPEED)))  # type: ignore[arg-type]
        distances.append(int(broker.value(vss.TRAVELED_DISTANCE)))  # type: ignore[arg-type]
        socs.append(float(broker.value(vss.SOC)))  # type: ignore[arg-type]
    assert max(speeds) > 10.0
    assert distances == sorted(distances) and distances[-1] > distances[0]
    assert socs[-1] < socs[0]
    assert broker.value(vss.LONGITUDE) != broker.value(vss.LATITUDE)


def test_a_brake_fault_on_demand_stops_the_car_and_comfort_follows_its_target() -> None:
    ws = load_workspace(None)
    sims = [simulated_vehicle(ws, t.key) for t in ws.trims()]
    stopping = [s for s in sims if decide(s.hub, Fault.BRAKE_CHANNEL_LOSS) is DegradedMode.CONTROLLED_STOP]
    limping = [s for s in sims if decide(s.hub, Fault.MOTOR_DERATE) is DegradedMode.LIMP_MODE]
    if not stopping:
        pytest.skip("no trim of the demo stops on a brake channel loss")
    sim = stopping[0]
    while sim.hub.broker.value(vss.SPEED) < 30.0:  # type: ignore[operator]
        sim.step(0.1)
    assert sim.inject(Fault.BRAKE_CHANNEL_LOSS) is DegradedMode.CONTROLLED_STOP
    assert sim.hub.broker.get(vss.BRAKE_FORCE).target is not None  # a SAFETY brake request on the broker
    for _ in range(200):
        sim.step(0.1)
    assert sim.hub.broker.value(vss.SPEED) == 0.0 and sim.hub.broker.value(vss.IS_MOVING) is False
    sim.hub.broker.request(vss.HVAC_DRIVER_TEMP, 19.0, "comfort", Priority.COMFORT)
    sim.step(0.1)
    assert sim.hub.broker.value(vss.HVAC_DRIVER_TEMP) == 19.0
    limp = simulated_vehicle(ws, limping[0].hub.vehicle.name)  # a fresh car, not the stopped one
    assert max(limp._trace["speed"]) > LIMP_SPEED_KMH  # the cycle would go faster
    limp.inject(Fault.MOTOR_DERATE)
    top = 0.0
    for _ in range(int(limp.duration_s)):
        limp.step(1.0)
        top = max(top, float(limp.hub.broker.value(vss.SPEED)))  # type: ignore[arg-type]
    assert top == LIMP_SPEED_KMH


def test_bad_trim_or_market_names_it() -> None:
    ws = load_workspace(None)
    with pytest.raises(VehicleError, match="atlantis"):
        simulated_vehicle(ws, market="atlantis")
