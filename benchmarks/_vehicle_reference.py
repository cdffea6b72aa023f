"""Reference rows for the vehicle fidelity benchmark, read in place from ../shared/data/vehicles."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from evplatform.vehicle.global_parameters import DEFAULTS
from evplatform.vehicle.params import VehicleParams

SHARED = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "vehicles"
LBF_N = 4.4482216
MPH_MPS = 0.44704
LB_KG = 0.45359237
HP_KW = 0.7456999
# Records whose FE field is not the vehicle's charge-depleting dyno result (55–88 kWh/100 km for cars
# whose own other cycle reads 13–21) are left out; no passenger EV on these cycles exceeds this.
IMPLAUSIBLE_KWH_PER_100KM = 40.0
PROCEDURES = {"Charge Depleting UDDS": "udds", "Charge Depleting Highway": "hwfet"}


@dataclass(frozen=True)
class EpaRow:
    """One dynamometer test: the vehicle as the test saw it and the measured figure at the plug."""

    label: str
    cycle: str
    measured_kwh_per_100km: float
    vehicle: VehicleParams
    make: str
    model: str
    rated_hp: float
    abc_imperial: tuple[float, float, float]
    etw_lb: float
    drive_text: str


def _drive(text: str) -> str:
    low = text.lower()
    if "front" in low:
        return "FWD"
    if "rear" in low:
        return "RWD"
    return "AWD"


def epa_rows(path: Path | None = None) -> tuple[list[EpaRow], list[str]]:
    """Usable rows and a list of the skipped ones with the reason."""
    path = path or SHARED / "epa_dyno_2022.csv"
    rows: list[EpaRow] = []
    skipped: list[str] = []
    with path.open(newline="", encoding="utf-8") as handle:
        for number, rec in enumerate(csv.DictReader(handle), start=2):
            cycle = PROCEDURES.get(rec["Test Procedure Description"])
            if cycle is None:
                continue
            value_text = rec["kwh_per_100km_at_plug_unadjusted"].strip()
            label = f"{rec['Represented Test Veh Make']} {rec['Represented Test Veh Model']} (line {number})"
            if not value_text:
                skipped.append(f"{label}: no figure")
                continue
            value = float(value_text)
            if value > IMPLAUSIBLE_KWH_PER_100KM:
                skipped.append(f"{label} {cycle}: {value} kWh/100 km is not a charge-depleting result")
                continue
            a, b, c = (float(rec[k]) for k in ("Target Coef A (lbf)", "Target Coef B (lbf/mph)",
                                                "Target Coef C (lbf/mph**2)"))
            etw = float(rec["Equivalent Test Weight (lbs.)"])
            hp = float(rec["Rated Horsepower"])
            vehicle = VehicleParams(
                name=label,
                # The dyno inertia is the test weight: curb mass is what the EPA procedure adds to.
                mass_kg=etw * LB_KG - DEFAULTS.test_mass_added_kg["EPA"],
                test_mass_kg=etw * LB_KG,
                road_load_abc=(a * LBF_N, b * LBF_N / MPH_MPS, c * LBF_N / MPH_MPS**2),
                battery_usable_kwh=80.0,
                motor_power_kw=hp * HP_KW,
                drive=_drive(rec["Drive System Description"]),
                voltage_v=800.0 if "Taycan" in label or "e-tron GT" in label else 400.0,
            )
            rows.append(EpaRow(label, cycle, value, vehicle, rec["Represented Test Veh Make"],
                               rec["Represented Test Veh Model"], hp, (a, b, c), etw,
                               rec["Drive System Description"]))
    return rows, skipped


@dataclass(frozen=True)
class Figure:
    """One row of reference_evs.csv."""

    value: str
    unit: str
    uncertain: bool
    source: str

    @property
    def number(self) -> float:
        return float(self.value.split()[0])


def reference_evs(path: Path | None = None) -> dict[tuple[str, str], Figure]:
    """(vehicle_id, field) → figure, with the uncertain flag kept so callers can skip oracles."""
    path = path or SHARED / "reference_evs.csv"
    out: dict[tuple[str, str], Figure] = {}
    with path.open(newline="", encoding="utf-8") as handle:
        for rec in csv.DictReader(handle):
            unsure = rec["uncertain"].strip().lower() == "yes" or "memory" in rec["source"].lower()
            out[(rec["vehicle_id"], rec["field"])] = Figure(rec["value"], rec["unit"], unsure, rec["source"])
    return out
