"""The feature attributes tools read from features.uvl: name, unit, range or allowed values, summed or not.

UVL lets a feature carry any attribute, so an attribute no tool reads is allowed (it is simply
ignored). What is refused, with features.uvl:line, is an attribute a tool reads given a value it
cannot use (a negative capacity, chemistry 'LiPo') and a name that is evidently a misspelling or
a synonym of one a tool reads (``drag_cofficient`` for ``cd``), since the simulator would
otherwise fail later, far from the line to fix.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping
from pathlib import Path

from evplatform.errors import WorkspaceError
from evplatform.variability.model import AttributeValue, FeatureModel
from evplatform.workspace.schema.spec import Attribute

DRIVES = ("FWD", "RWD", "AWD")
CHEMISTRIES = ("LFP", "NMC")
MOTOR_CLASSES = ("pmsm_si", "pmsm_sic", "induction")

_SIM = "simulate"
ATTRIBUTES = (
    Attribute("cost", "number", "currency", "Cost the feature adds to a vehicle (an estimate for configuration: "
              "`fm configure --min-cost`, the cost of a compliance change). The KPIs' BOM cost comes from "
              "parts.csv, not from this.", summed=True, used_by=("fm configure", "comply roadmap"),
              aliases=("price", "unit_cost", "costs")),
    Attribute("mass_kg", "number", "kg", "Curb-mass contribution; the sum over a configuration is the curb mass "
              "the simulator uses (test masses are added per procedure). The BOM mass from parts.csv "
              "(`kpi`'s bom_mass_kg) is a separate figure.", summed=True, used_by=(_SIM,),
              aliases=("mass", "weight", "weight_kg", "curb_mass_kg")),
    Attribute("power_kw", "number", "kW", "Rated motor power; summed over the motors of a configuration.",
              summed=True, minimum=0, used_by=(_SIM,), aliases=("power", "motor_power_kw", "power_kW")),
    Attribute("torque_nm", "number", "N·m", "Motor torque; summed over the motors.", summed=True, minimum=0,
              used_by=(_SIM,), aliases=("torque", "torque_Nm")),
    Attribute("capacity_kwh", "number", "kWh", "Gross battery capacity (the usable energy is 94 % of it when "
              "`usable_kwh` is not given).", minimum=0, exclusive_minimum=True, used_by=(_SIM,),
              aliases=("capacity", "battery_kwh", "battery_capacity_kwh", "capacity_kWh")),
    Attribute("usable_kwh", "number", "kWh", "Usable battery energy; at most `capacity_kwh`.", minimum=0,
              exclusive_minimum=True, used_by=(_SIM,),
              aliases=("usable", "usable_capacity_kwh", "battery_usable_kwh", "usable_energy_kwh")),
    Attribute("chemistry", "string", "", "Cell chemistry (sets the battery's resistance, voltage and C-rate).",
              allowed=CHEMISTRIES, used_by=(_SIM,), default_text="NMC", aliases=("cell_chemistry",)),
    Attribute("dc_peak_kw", "number", "kW", "Peak DC charging power.", minimum=0, exclusive_minimum=True,
              used_by=(_SIM,), default_text="150 kW at 400 V, 270 kW at 800 V",
              aliases=("dc_peak", "peak_charge_kw", "charge_power_kw", "dc_power_kw")),
    Attribute("voltage_v", "number", "V", "Nominal high-voltage architecture (400 or 800 class).", minimum=0,
              exclusive_minimum=True, used_by=(_SIM,), default_text="400", aliases=("voltage", "hv_voltage_v")),
    Attribute("drive", "string", "", "Driven axles.", allowed=DRIVES, used_by=(_SIM,), default_text="RWD",
              aliases=("drivetrain", "drive_type")),
    Attribute("motor_class", "string", "", "Motor and inverter loss map.", allowed=MOTOR_CLASSES,
              used_by=(_SIM,), default_text="pmsm_sic from 600 V, else pmsm_si", aliases=("motor_type",)),
    Attribute("top_speed_kmh", "number", "km/h", "Top speed (also sets the gear ratio).", minimum=0,
              exclusive_minimum=True, used_by=(_SIM,), default_text="180 (for the gear ratio)",
              aliases=("top_speed", "vmax", "vmax_kmh")),
    Attribute("cd", "number", "", "Aerodynamic drag coefficient.", minimum=0, exclusive_minimum=True,
              maximum=2, used_by=(_SIM,), aliases=("drag_coefficient", "cx", "drag", "c_d")),
    Attribute("frontal_area_m2", "number", "m²", "Frontal area.", minimum=0, exclusive_minimum=True,
              used_by=(_SIM,), aliases=("frontal_area", "area_m2", "frontal_area_m")),
    Attribute("crr", "number", "", "Tyre rolling-resistance coefficient.", minimum=0, exclusive_minimum=True,
              maximum=0.1, used_by=(_SIM,),
              aliases=("rolling_resistance", "rolling_resistance_coefficient", "c_rr")),
    Attribute("wheel_radius_m", "number", "m", "Dynamic wheel radius.", minimum=0, exclusive_minimum=True,
              used_by=(_SIM,), default_text="0.35", aliases=("wheel_radius", "tyre_radius_m", "tire_radius_m")),
)

_BY_NAME = {a.name: a for a in ATTRIBUTES}
_BY_ALIAS = {alias: a.name for a in ATTRIBUTES for alias in a.aliases}
_UVL_KEYWORDS = frozenset({"abstract"})


def suggested_attribute(name: str) -> str | None:
    """The attribute a tool reads that ``name`` most likely means, or ``None`` when it is unrelated."""
    if name in _BY_ALIAS:
        return _BY_ALIAS[name]
    close = difflib.get_close_matches(name, [*_BY_NAME, *_BY_ALIAS], n=1, cutoff=0.85)
    if not close:
        return None
    return _BY_ALIAS.get(close[0], close[0])


def check_attributes(model: FeatureModel, path: Path) -> None:
    """Raise a WorkspaceError at the first feature whose attributes a tool could not use."""
    for name, feature in model.features.items():
        for key, value in feature.attributes.items():
            if key in _UVL_KEYWORDS:
                continue
            problem = attribute_problem(key, value)
            if problem:
                raise WorkspaceError(f"feature {name}: {problem}", path, feature.line)
        capacity = feature.attributes.get("capacity_kwh")
        usable = feature.attributes.get("usable_kwh")
        if isinstance(capacity, int | float) and isinstance(usable, int | float) and usable > capacity:
            raise WorkspaceError(
                f"feature {name}: usable_kwh {usable} is more than capacity_kwh {capacity}", path, feature.line
            )


def attribute_problem(key: str, value: AttributeValue) -> str:
    """What is wrong with one attribute, or ``""``."""
    spec = _BY_NAME.get(key)
    if spec is None:
        meant = suggested_attribute(key)
        return f"unknown attribute {key!r}; did you mean {meant!r}?" if meant else ""
    if spec.type == "string":
        if not isinstance(value, str) or (spec.allowed and value not in spec.allowed):
            return f"{key} must be one of {', '.join(spec.allowed)}, not {value!r}"
        return ""
    if not _is_number(value):
        finite = "finite " if isinstance(value, float) else ""
        return f"{key} must be a {finite}number ({spec.unit or 'no unit'}), not {value!r}"
    number = float(value)
    low = spec.minimum
    if low is not None and (number < low or (spec.exclusive_minimum and number == low)):
        relation = ">" if spec.exclusive_minimum else "≥"
        return f"{key} must be {relation} {low:g}{_unit(spec)}, not {value!r}"
    if spec.maximum is not None and number > spec.maximum:
        return f"{key} must be ≤ {spec.maximum:g}{_unit(spec)}, not {value!r}"
    return ""


def _unit(spec: Attribute) -> str:
    return f" {spec.unit}" if spec.unit else ""


def _is_number(value: object) -> bool:
    """A finite number: ``cost 1e400`` reads as ``inf`` and would make every sum over it ``inf``."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


#: What ``simulate`` cannot run without; each entry is satisfied by any one of its names.
SIMULATION_NEEDS = (("mass_kg",), ("power_kw",), ("cd",), ("frontal_area_m2",), ("crr",),
                    ("capacity_kwh", "usable_kwh"))


def missing_for_simulation(attributes: Mapping[str, AttributeValue]) -> list[str]:
    """The attributes ``simulate`` needs that a configuration's aggregated attributes lack."""
    return [" or ".join(names) for names in SIMULATION_NEEDS if not any(n in attributes for n in names)]
