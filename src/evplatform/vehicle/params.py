"""The parameters of one vehicle, from the platform's feature attributes or a YAML file.

Units are in the field names. Road load is kept in one form internally — the coast-down
polynomial ``F = A + B·v + C·v²`` (N, N/(m/s), N/(m/s)²) at the road-load mass — because both
inputs reduce to it: Cd/A/Crr give ``A = m·g·Crr``, ``B = 0``, ``C = ½·ρ·Cd·A`` (computed at the
cycle's test mass by :mod:`evplatform.vehicle.batch`), and an EPA coast-down gives it directly.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from evplatform.errors import VehicleError
from evplatform.workspace.sources import load_yaml

DRIVES = ("FWD", "RWD", "AWD")
CHEMISTRIES = ("LFP", "NMC")
MOTOR_CLASSES = ("pmsm_si", "pmsm_sic", "induction")


@dataclass(frozen=True)
class VehicleParams:
    """One vehicle, validated on construction (a vehicle that cannot exist raises VehicleError).

    Exactly one road-load form is given: ``cd``/``frontal_area_m2``/``crr`` or ``road_load_abc``
    (with ``test_mass_kg``, the mass the coast-down was measured and the dyno set at).
    """

    name: str
    mass_kg: float
    battery_usable_kwh: float
    motor_power_kw: float
    drive: str = "RWD"
    cd: float | None = None
    frontal_area_m2: float | None = None
    crr: float | None = None
    road_load_abc: tuple[float, float, float] | None = None
    test_mass_kg: float | None = None
    torque_nm: float | None = None
    top_speed_kmh: float | None = None
    wheel_radius_m: float = 0.35
    chemistry: str = "NMC"
    voltage_v: float = 400.0
    dc_peak_kw: float | None = None
    charge_curve: tuple[tuple[float, float], ...] | None = None
    motor_class: str | None = None
    brake_by_wire: bool = True
    battery_capacity_kwh: float | None = None
    # Launch and top speed (None: the global default, an estimate — see global_parameters.py).
    gear_ratio: float | None = None  # motor turns per wheel turn (single-speed reduction)
    max_motor_rpm: float | None = None
    cg_height_m: float | None = None
    wheelbase_m: float | None = None
    # Inputs of a run: auxiliary load (None: the global dyno default), payload above the
    # procedure's test mass, and the ambient temperature (°C; only the battery power limit uses it).
    aux_power_w: float | None = None
    payload_kg: float = 0.0
    ambient_c: float | None = None
    extra: Mapping[str, float | str] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        _positive(self, "mass_kg")
        _positive(self, "battery_usable_kwh")
        _positive(self, "motor_power_kw")
        _positive(self, "wheel_radius_m")
        _positive(self, "voltage_v")
        for optional in ("torque_nm", "top_speed_kmh", "dc_peak_kw", "test_mass_kg", "battery_capacity_kwh",
                         "gear_ratio", "max_motor_rpm", "cg_height_m", "wheelbase_m"):
            if getattr(self, optional) is not None:
                _positive(self, optional)
        self._check_inputs()
        if self.drive not in DRIVES:
            raise VehicleError(f"{self.name}: drive must be one of {', '.join(DRIVES)}, not {self.drive!r}")
        if self.chemistry not in CHEMISTRIES:
            raise VehicleError(
                f"{self.name}: chemistry must be one of {', '.join(CHEMISTRIES)}, not {self.chemistry!r}"
            )
        if self.motor_class is not None and self.motor_class not in MOTOR_CLASSES:
            raise VehicleError(
                f"{self.name}: motor_class must be one of {', '.join(MOTOR_CLASSES)}, not {self.motor_class!r}"
            )
        self._check_road_load()
        if self.charge_curve is not None:
            self._check_charge_curve(self.charge_curve)

    def _check_inputs(self) -> None:
        """Auxiliary load, payload and ambient: bounded so a typo (W for kW, °F for °C) is caught."""
        aux, payload, ambient = self.aux_power_w, self.payload_kg, self.ambient_c
        if aux is not None and (not _is_number(aux) or not 0 <= aux <= 20_000):
            raise VehicleError(f"{self.name}: aux_power_w must be 0–20000 W, got {aux!r}")
        if not _is_number(payload) or not 0 <= payload <= 2_000:
            raise VehicleError(f"{self.name}: payload_kg must be 0–2000 kg, got {payload!r}")
        if ambient is not None and (not _is_number(ambient) or not -40 <= ambient <= 55):
            raise VehicleError(f"{self.name}: ambient_c must be −40–55 °C, got {ambient!r}")
        if self.cg_height_m is not None and self.wheelbase_m is not None and self.cg_height_m >= self.wheelbase_m:
            raise VehicleError(f"{self.name}: cg_height_m must be below wheelbase_m")

    def _check_road_load(self) -> None:
        physical = (self.cd, self.frontal_area_m2, self.crr)
        if self.road_load_abc is not None:
            if self.test_mass_kg is None:
                raise VehicleError(f"{self.name}: road_load_abc needs test_mass_kg (the coast-down test mass)")
            a, b, c = self.road_load_abc
            # Coast-down fits may have B < 0; the force itself must stay positive at every speed.
            lowest = a - b * b / (4 * c) if c > 0 and b < 0 else a
            if a <= 0 or c <= 0 or lowest <= 0 or not all(math.isfinite(x) for x in (a, b, c)):
                raise VehicleError(
                    f"{self.name}: road_load_abc must give a positive force (A > 0, C > 0), got {self.road_load_abc}"
                )
            return
        missing = [n for n, v in zip(("cd", "frontal_area_m2", "crr"), physical, strict=True) if v is None]
        if missing:
            raise VehicleError(f"{self.name}: missing field {missing[0]!r} (or give road_load_abc with test_mass_kg)")
        for name in ("cd", "frontal_area_m2", "crr"):
            _positive(self, name)
        if (self.cd or 0) > 2 or (self.crr or 0) > 0.1:
            raise VehicleError(f"{self.name}: cd {self.cd} or crr {self.crr} is not a road vehicle's")

    def _check_charge_curve(self, curve: Sequence[tuple[float, float]]) -> None:
        socs = [p[0] for p in curve]
        if len(curve) < 2 or socs != sorted(socs) or socs[0] > 0.1 or socs[-1] < 0.8:
            raise VehicleError(
                f"{self.name}: charge_curve must be ≥ 2 points [soc, kW] with soc rising and covering 0.1–0.8"
            )
        if any(p[1] <= 0 or not 0 <= p[0] <= 1 for p in curve):
            raise VehicleError(f"{self.name}: charge_curve needs 0 ≤ soc ≤ 1 and power > 0 kW")

    @property
    def effective_motor_class(self) -> str:
        """SiC inverters came with 800 V architectures; unless stated, the voltage class decides."""
        if self.motor_class is not None:
            return self.motor_class
        return "pmsm_sic" if self.voltage_v >= 600 else "pmsm_si"


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _positive(params: VehicleParams, name: str) -> None:
    value = getattr(params, name)
    if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value) or value <= 0:
        raise VehicleError(f"{params.name}: {name} must be a positive number, got {value!r}")


def _number(attrs: Mapping[str, Any], key: str, name: str) -> float:
    if key not in attrs:
        raise VehicleError(f"{name}: attribute {key!r} is missing from the configuration's features")
    value = attrs[key]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise VehicleError(f"{name}: attribute {key!r} must be a number, got {value!r}")
    return float(value)


def _optional_number(attrs: Mapping[str, Any], key: str, name: str) -> float | None:
    return _number(attrs, key, name) if key in attrs else None


def params_from_attributes(
    attrs: Mapping[str, float | str], name: str, brake_by_wire: bool = True
) -> VehicleParams:
    """Build a vehicle from a configuration's aggregated feature attributes (``ws.attributes(trim)``).

    ``mass_kg`` is the curb mass; the test masses of each procedure are added in the simulation.
    """
    usable = _optional_number(attrs, "usable_kwh", name) or _number(attrs, "capacity_kwh", name)
    return VehicleParams(
        name=name,
        mass_kg=_number(attrs, "mass_kg", name),
        battery_usable_kwh=usable,
        battery_capacity_kwh=_optional_number(attrs, "capacity_kwh", name),
        motor_power_kw=_number(attrs, "power_kw", name),
        torque_nm=_optional_number(attrs, "torque_nm", name),
        top_speed_kmh=_optional_number(attrs, "top_speed_kmh", name),
        drive=str(attrs.get("drive", "RWD")),
        cd=_number(attrs, "cd", name),
        frontal_area_m2=_number(attrs, "frontal_area_m2", name),
        crr=_number(attrs, "crr", name),
        wheel_radius_m=_optional_number(attrs, "wheel_radius_m", name) or 0.35,
        chemistry=str(attrs.get("chemistry", "NMC")),
        voltage_v=_optional_number(attrs, "voltage_v", name) or 400.0,
        dc_peak_kw=_optional_number(attrs, "dc_peak_kw", name),
        motor_class=str(attrs["motor_class"]) if "motor_class" in attrs else None,
        brake_by_wire=brake_by_wire,
        extra=dict(attrs),
    )


_YAML_REQUIRED = ("mass_kg", "drive", "battery_usable_kwh", "motor_power_kw")
_YAML_OPTIONAL = {
    "cd", "frontal_area_m2", "crr", "road_load_abc", "test_mass_kg", "charge_curve", "voltage_v", "name",
    "torque_nm", "top_speed_kmh", "wheel_radius_m", "chemistry", "dc_peak_kw", "motor_class", "brake_by_wire",
    "gear_ratio", "max_motor_rpm", "cg_height_m", "wheelbase_m", "aux_power_w", "payload_kg", "ambient_c",
}


def load_vehicle_params(path: str | Path) -> VehicleParams:
    """Read ``--vehicle-params FILE.yaml``; every problem names the field and the file."""
    path = Path(path)
    try:
        data = load_yaml(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise VehicleError(f"{path}: cannot read the vehicle parameter file ({error.strerror})") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        raise VehicleError(f"{path}{where}: not valid YAML ({getattr(error, 'problem', error)})") from None
    if not isinstance(data, dict):
        raise VehicleError(f"{path}: expected a mapping of vehicle parameters at the top level")
    for key in _YAML_REQUIRED:
        if key not in data:
            raise VehicleError(f"{path}: missing field {key!r}")
    unknown = sorted(set(data) - set(_YAML_REQUIRED) - _YAML_OPTIONAL)
    if unknown:
        raise VehicleError(f"{path}: unknown field {unknown[0]!r}")
    try:
        return VehicleParams(
            name=str(data.get("name", path.stem)),
            mass_kg=_yaml_number(data, "mass_kg", path),
            drive=str(data["drive"]),
            battery_usable_kwh=_yaml_number(data, "battery_usable_kwh", path),
            motor_power_kw=_yaml_number(data, "motor_power_kw", path),
            cd=_yaml_optional(data, "cd", path),
            frontal_area_m2=_yaml_optional(data, "frontal_area_m2", path),
            crr=_yaml_optional(data, "crr", path),
            road_load_abc=_yaml_abc(data, path),
            test_mass_kg=_yaml_optional(data, "test_mass_kg", path),
            torque_nm=_yaml_optional(data, "torque_nm", path),
            top_speed_kmh=_yaml_optional(data, "top_speed_kmh", path),
            wheel_radius_m=_yaml_optional(data, "wheel_radius_m", path) or 0.35,
            chemistry=str(data.get("chemistry", "NMC")),
            voltage_v=_yaml_optional(data, "voltage_v", path) or 400.0,
            dc_peak_kw=_yaml_optional(data, "dc_peak_kw", path),
            charge_curve=_yaml_curve(data, path),
            motor_class=data.get("motor_class"),
            brake_by_wire=bool(data.get("brake_by_wire", True)),
            gear_ratio=_yaml_optional(data, "gear_ratio", path),
            max_motor_rpm=_yaml_optional(data, "max_motor_rpm", path),
            cg_height_m=_yaml_optional(data, "cg_height_m", path),
            wheelbase_m=_yaml_optional(data, "wheelbase_m", path),
            aux_power_w=_yaml_optional(data, "aux_power_w", path),
            payload_kg=_yaml_optional(data, "payload_kg", path) or 0.0,
            ambient_c=_yaml_optional(data, "ambient_c", path),
        )
    except VehicleError as error:
        raise VehicleError(f"{path}: {error}") from None


def _yaml_number(data: Mapping[str, Any], key: str, path: Path) -> float:
    value = data[key]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise VehicleError(f"{path}: field {key!r} must be a number, got {value!r}")
    return float(value)


def _yaml_optional(data: Mapping[str, Any], key: str, path: Path) -> float | None:
    return None if data.get(key) is None else _yaml_number(data, key, path)


def _yaml_abc(data: Mapping[str, Any], path: Path) -> tuple[float, float, float] | None:
    value = data.get("road_load_abc")
    if value is None:
        return None
    if isinstance(value, Mapping):
        value = [value.get(k) for k in ("A", "B", "C")]
    if not isinstance(value, list | tuple) or len(value) != 3 or not all(
        isinstance(x, int | float) and not isinstance(x, bool) for x in value
    ):
        raise VehicleError(f"{path}: field 'road_load_abc' must be [A, B, C] (N, N/(m/s), N/(m/s)²)")
    return (float(value[0]), float(value[1]), float(value[2]))


def _yaml_curve(data: Mapping[str, Any], path: Path) -> tuple[tuple[float, float], ...] | None:
    value = data.get("charge_curve")
    if value is None:
        return None
    points: list[tuple[float, float]] = []
    for item in value if isinstance(value, list) else [None]:
        if not isinstance(item, list | tuple) or len(item) != 2:
            raise VehicleError(f"{path}: field 'charge_curve' must be a list of [soc, kW] pairs")
        points.append((float(item[0]), float(item[1])))
    return tuple(points)
