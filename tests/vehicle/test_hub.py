"""The central hub: VSS names, broker, arbitration, services, one scenario per fault, driver assistance."""

from __future__ import annotations

import json
import math

import pytest

from evplatform.errors import VehicleError
from evplatform.vehicle.adas import AebSetup, acc_follow, alks_speed_limit_kmh, ccrs_impact_speeds
from evplatform.vehicle.hub import SIGNALS, Priority, SignalBroker, vss
from evplatform.vehicle.hub.faults import DegradedMode, Fault, run_fault_scenario
from evplatform.vehicle.hub.services import build_hub
from evplatform.vehicle.params import VehicleParams
from evplatform.workspace.roles import FeatureRoles
from reference_data import shared_data_path

CAR = VehicleParams(name="car", mass_kg=1900.0, battery_usable_kwh=80.0, motor_power_kw=220.0, cd=0.22,
                    frontal_area_m2=2.3, crr=0.008)
BASE = {"BrakeByWire", "EPS", "ZoneControllers", "AEB", "ACC", "VisionOnly"}
ROLES = FeatureRoles.of({
    "brake_by_wire": "BrakeByWire", "brake_redundancy": "BrakeRedundancy", "steer_by_wire": "SteerByWire",
    "steer_redundancy": "SteerRedundancy", "zone_controllers": "ZoneControllers", "lidar": "LidarSuite",
    "acc": "ACC", "aeb": ["AEB", "AEB_VRU"], "lka": "LKA", "elks": "ELKS", "alks": "ALKS",
    "highway_assist": "HighwayNOA",
})
# Detection from the symptom, worked by hand: missed heartbeats (period × allowed misses), the motor
# debounce, and the battery filter's crossing time τ·ln((65−40)/(65−60)) for a 40 → 65 °C step.
EXPECTED_DETECTION_S = {
    Fault.BRAKE_CHANNEL_LOSS: 0.02, Fault.STEERING_ACTUATOR_LOSS: 0.02, Fault.ZONE_LINK_LOSS: 0.03,
    Fault.SENSOR_DROPOUT: 0.11, Fault.MOTOR_DERATE: 0.10, Fault.BATTERY_OVERTEMP: 0.5 * math.log(5),
}


def test_every_signal_is_in_the_vss_catalogue() -> None:
    tree = json.loads(shared_data_path("vss", "vss.json").read_text())
    found: dict[str, dict[str, object]] = {}

    def walk(node: dict[str, dict[str, object]], prefix: str) -> None:
        for key, value in node.items():
            path = f"{prefix}.{key}" if prefix else key
            found[path] = value
            if "children" in value:
                walk(value["children"], path)  # type: ignore[arg-type]

    walk(tree, "")
    for path, spec in SIGNALS.items():
        assert path in found, path
        assert found[path]["type"] == spec.kind, path
        assert found[path]["datatype"] == spec.datatype, path


def test_broker_values_subscriptions_and_errors() -> None:
    broker = SignalBroker()
    seen: list[object] = []
    stop = broker.subscribe(vss.SPEED, lambda path, point: seen.append(point.current))
    broker.publish(vss.SPEED, 50.0)
    broker.publish(vss.SPEED, 60.0)
    stop()
    broker.publish(vss.SPEED, 70.0)
    assert seen == [50.0, 60.0] and broker.value(vss.SPEED) == 70.0
    with pytest.raises(VehicleError, match=r"unknown VSS signal 'Vehicle.Warp'"):
        broker.publish("Vehicle.Warp", 1.0)
    with pytest.raises(VehicleError, match="carries boolean"):
        broker.publish(vss.IS_CHARGING, 1.0)
    with pytest.raises(VehicleError, match="is a sensor, not an actuator"):
        broker.request(vss.SPEED, 1.0, "app", Priority.THIRD_PARTY)


def test_arbitration_driver_over_safety_over_assistance_over_comfort_over_apps() -> None:
    broker = SignalBroker()
    order = [("app", Priority.THIRD_PARTY, 100), ("comfort", Priority.COMFORT, 200),
             ("acc", Priority.DRIVER_ASSISTANCE, 300), ("aeb", Priority.SAFETY, 400), ("driver", Priority.DRIVER, 500)]
    for requester, priority, value in order:
        assert broker.request(vss.BRAKE_FORCE, value, requester, priority)
    assert not broker.request(vss.BRAKE_FORCE, 50, "app2", Priority.THIRD_PARTY)
    for requester, _priority, value in reversed(order[1:]):
        assert broker.get(vss.BRAKE_FORCE).target == value and broker.owner(vss.BRAKE_FORCE) == requester
        broker.release(vss.BRAKE_FORCE, requester)
    assert broker.owner(vss.BRAKE_FORCE) == "app2"  # among equals the latest request wins
    broker.release(vss.BRAKE_FORCE, "app2")
    broker.release(vss.BRAKE_FORCE, "app")
    assert broker.get(vss.BRAKE_FORCE).target is None


def test_services_follow_the_configuration() -> None:
    plain = build_hub(BASE, CAR, ROLES)
    full = build_hub(BASE | {"BrakeRedundancy", "SteerByWire", "SteerRedundancy", "LidarSuite"}, CAR, ROLES)
    assert plain.services["brake_by_wire"].channels == 1 and full.services["brake_by_wire"].channels == 2
    assert "electric_power_steering" in plain.services and full.services["steer_by_wire"].channels == 2
    assert plain.services["driver_assistance"].channels == 1 and full.services["driver_assistance"].channels == 2
    assert "zone_link" not in build_hub({"EPS"}, CAR, ROLES).services


@pytest.mark.parametrize(
    ("fault", "extra", "mode"),
    [
        (Fault.BRAKE_CHANNEL_LOSS, {"BrakeRedundancy"}, DegradedMode.REDUNDANT_CHANNEL),
        (Fault.BRAKE_CHANNEL_LOSS, set(), DegradedMode.CONTROLLED_STOP),
        (Fault.STEERING_ACTUATOR_LOSS, {"SteerByWire", "SteerRedundancy"}, DegradedMode.REDUNDANT_CHANNEL),
        (Fault.STEERING_ACTUATOR_LOSS, set(), DegradedMode.LIMP_MODE),
        (Fault.MOTOR_DERATE, set(), DegradedMode.LIMP_MODE),
        (Fault.BATTERY_OVERTEMP, set(), DegradedMode.LIMP_MODE),
        (Fault.SENSOR_DROPOUT, set(), DegradedMode.CONTROLLED_STOP),
        (Fault.SENSOR_DROPOUT, {"LidarSuite"}, DegradedMode.REDUNDANT_CHANNEL),
        (Fault.ZONE_LINK_LOSS, set(), DegradedMode.LIMP_MODE),
    ],
)
def test_fault_scenario(fault: Fault, extra: set[str], mode: DegradedMode) -> None:
    config = (BASE - {"EPS"} if "SteerByWire" in extra else BASE) | extra
    hub = build_hub(config, CAR, ROLES)
    outcome = run_fault_scenario(hub, fault)
    assert outcome.mode is mode
    assert outcome.within_limit and outcome.reaction_s == pytest.approx(outcome.detected_s + 0.01)
    assert outcome.detected_s == pytest.approx(EXPECTED_DETECTION_S[fault], abs=0.015)
    if mode is DegradedMode.CONTROLLED_STOP:
        assert outcome.final_speed_kmh == 0.0
        # 100 km/h at 3 m/s² stops in v²/2a ≈ 128.6 m
        assert outcome.stop_distance_m == pytest.approx((100 / 3.6) ** 2 / 6, rel=0.02)
        assert hub.broker.owner(vss.BRAKE_FORCE) == "hub_safety"
    if mode is DegradedMode.LIMP_MODE:
        assert outcome.power_limit_kw is not None and outcome.power_limit_kw < CAR.motor_power_kw
        assert hub.broker.value(vss.MOTOR_MAX_POWER) == round(outcome.power_limit_kw)


def test_fault_that_cannot_happen_is_an_error() -> None:
    with pytest.raises(VehicleError, match="no zone controllers"):
        run_fault_scenario(build_hub({"EPS", "BrakeByWire"}, CAR, ROLES), Fault.ZONE_LINK_LOSS)


def test_driver_overrides_a_controlled_stop() -> None:
    hub = build_hub(BASE, CAR, ROLES)
    run_fault_scenario(hub, Fault.BRAKE_CHANNEL_LOSS)
    hub.broker.request(vss.BRAKE_FORCE, 0, "driver", Priority.DRIVER)
    assert hub.broker.owner(vss.BRAKE_FORCE) == "driver"


def test_aeb_ccrs_impact_speeds() -> None:
    setups = [AebSetup("none", False, False, False), AebSetup("camera+booster", True, False, False),
              AebSetup("lidar+bbw", True, True, True)]
    none, camera, lidar = ccrs_impact_speeds(setups)
    assert none == pytest.approx([10, 15, 20, 25, 30, 35, 40, 45, 50])
    assert camera[0] == 0.0 and camera[-1] > 0.0  # avoids at 10 km/h, not at 50
    assert all(lidar == 0.0) and all(lidar <= camera)


def test_acc_follows_a_braking_lead_without_collision() -> None:
    hub = build_hub(BASE, CAR, ROLES)
    outcome = acc_follow(hub)
    assert not outcome.collided and outcome.min_gap_m > 2.0 and outcome.final_speed_kmh < 1.0
    assert hub.broker.get(vss.CRUISE_ACTIVE).target is True


def test_alks_limit_per_market() -> None:
    assert alks_speed_limit_kmh({"ALKS"}, unece_market=True, roles=ROLES) == 130.0
    assert alks_speed_limit_kmh({"ALKS"}, unece_market=False, roles=ROLES) == 0.0
    assert alks_speed_limit_kmh(set(), unece_market=True, roles=ROLES) == 0.0
