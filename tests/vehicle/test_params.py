"""Vehicle parameters: validation, attributes, YAML files and their errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from evplatform.errors import VehicleError
from evplatform.vehicle.params import VehicleParams, load_vehicle_params, params_from_attributes

GOOD_YAML = """mass_kg: 1800
drive: RWD
battery_usable_kwh: 75
motor_power_kw: 200
cd: 0.23
frontal_area_m2: 2.3
crr: 0.008
"""


def base(**changes: object) -> VehicleParams:
    values: dict[str, object] = dict(name="t", mass_kg=1800.0, battery_usable_kwh=75.0, motor_power_kw=200.0,
                                     cd=0.23, frontal_area_m2=2.3, crr=0.008)
    values.update(changes)
    return VehicleParams(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(("field", "value"), [("mass_kg", 0.0), ("mass_kg", -5.0), ("battery_usable_kwh", -1.0),
                                              ("motor_power_kw", 0.0), ("cd", -0.2)])
def test_impossible_vehicle_names_the_field(field: str, value: float) -> None:
    with pytest.raises(VehicleError, match=field):
        base(**{field: value})


def test_road_load_needs_one_complete_form() -> None:
    with pytest.raises(VehicleError, match="crr"):
        base(crr=None)
    with pytest.raises(VehicleError, match="test_mass_kg"):
        base(cd=None, frontal_area_m2=None, crr=None, road_load_abc=(150.0, 1.0, 0.4))
    vehicle = base(cd=None, frontal_area_m2=None, crr=None, road_load_abc=(150.0, -1.0, 0.4), test_mass_kg=1900.0)
    assert vehicle.road_load_abc == (150.0, -1.0, 0.4)


def test_from_attributes_of_a_trim() -> None:
    attrs: dict[str, float | str] = {
        "mass_kg": 1980.0, "capacity_kwh": 73.6, "usable_kwh": 73.0, "chemistry": "LFP", "dc_peak_kw": 210,
        "voltage_v": 400, "power_kw": 220.0, "torque_nm": 400.0, "drive": "RWD", "top_speed_kmh": 210,
        "cd": 0.195, "frontal_area_m2": 2.3, "crr": 0.0072, "wheel_radius_m": 0.347,
    }
    vehicle = params_from_attributes(attrs, "su7/standard")
    assert (vehicle.battery_usable_kwh, vehicle.chemistry, vehicle.effective_motor_class) == (73.0, "LFP", "pmsm_si")
    with pytest.raises(VehicleError, match="'cd' is missing"):
        params_from_attributes({k: v for k, v in attrs.items() if k != "cd"}, "x")


def test_yaml_file_round(tmp_path: Path) -> None:
    path = tmp_path / "car.yaml"
    path.write_text(GOOD_YAML + "charge_curve: [[0.0, 100], [0.5, 150], [1.0, 30]]\n")
    vehicle = load_vehicle_params(path)
    assert vehicle.name == "car" and vehicle.charge_curve == ((0.0, 100.0), (0.5, 150.0), (1.0, 30.0))


@pytest.mark.parametrize("missing", ["mass_kg", "drive", "battery_usable_kwh", "motor_power_kw"])
def test_yaml_missing_field_names_field_and_file(tmp_path: Path, missing: str) -> None:
    path = tmp_path / "car.yaml"
    path.write_text("\n".join(line for line in GOOD_YAML.splitlines() if not line.startswith(missing)))
    with pytest.raises(VehicleError, match=f"car.yaml: missing field '{missing}'"):
        load_vehicle_params(path)


def test_yaml_bad_values(tmp_path: Path) -> None:
    path = tmp_path / "car.yaml"
    path.write_text(GOOD_YAML.replace("mass_kg: 1800", "mass_kg: heavy"))
    with pytest.raises(VehicleError, match="'mass_kg' must be a number"):
        load_vehicle_params(path)
    path.write_text(GOOD_YAML + "wings: 2\n")
    with pytest.raises(VehicleError, match="unknown field 'wings'"):
        load_vehicle_params(path)
    path.write_text("mass_kg: [1\n")
    with pytest.raises(VehicleError, match=r"car.yaml:.*not valid YAML"):
        load_vehicle_params(path)
