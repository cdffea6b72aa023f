"""CLTC ↔ WLTP: a car's range and consumption on one homologation cycle predicted from the other.

Both procedures define range as usable energy / battery-side consumption on their cycle (see
:mod:`evplatform.vehicle.simulate`), so for the same car the range ratio is the inverse of the
consumption ratio: ``WLTP km = CLTC km × c_CLTC / c_WLTC``. The consumptions come from running the
car on both cycles with one global parameter set — no per-car or per-pair fit — so the ratio carries
the cycles' physics (CLTC-P is slower with more idling, WLTC has the 131 km/h extra-high phase where
drag dominates). A published pair is a check of that physics, never an input to it.
"""

from __future__ import annotations

import csv
import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evplatform.errors import VehicleError
from evplatform.vehicle.batch import simulate_cycle
from evplatform.vehicle.drive_cycles import load_cycle
from evplatform.vehicle.global_parameters import DEFAULTS, GlobalParameters
from evplatform.vehicle.params import VehicleParams

log = logging.getLogger(__name__)

CYCLES = ("cltc", "wltc")
LABEL = {"cltc": "CLTC", "wltc": "WLTP"}


@dataclass(frozen=True, slots=True)
class Translation:
    """One car's figure on ``from_cycle`` carried to ``to_cycle`` through the simulated consumptions."""

    vehicle: str
    from_cycle: str
    to_cycle: str
    given_range_km: float
    consumption_from: float  # simulated, battery side, kWh/100 km
    consumption_to: float
    predicted_range_km: float
    predicted_consumption: float | None  # kWh/100 km on to_cycle, scaled from the given one when given

    @property
    def range_ratio(self) -> float:
        """to-cycle range / from-cycle range (= from consumption / to consumption)."""
        return self.consumption_from / self.consumption_to

    def to_dict(self) -> dict[str, Any]:
        return {
            "vehicle": self.vehicle, "from": LABEL[self.from_cycle], "to": LABEL[self.to_cycle],
            "given_range_km": self.given_range_km,
            "simulated_consumption_kwh_per_100km": {LABEL[self.from_cycle]: round(self.consumption_from, 3),
                                                    LABEL[self.to_cycle]: round(self.consumption_to, 3)},
            "range_ratio": round(self.range_ratio, 4),
            "predicted_range_km": round(self.predicted_range_km, 1),
            "predicted_consumption_kwh_per_100km": (None if self.predicted_consumption is None
                                                    else round(self.predicted_consumption, 2)),
            "method": "range × simulated consumption ratio (global parameters, no per-car fit)",
        }


def simulated_consumptions(vehicle: VehicleParams, globals_: GlobalParameters = DEFAULTS) -> dict[str, float]:
    """Battery-side kWh/100 km of the car on CLTC-P and on WLTC (each at its procedure's test mass)."""
    return {name: float(simulate_cycle([vehicle], load_cycle(name), globals_).battery_kwh_per_100km[0])
            for name in CYCLES}


def translate(vehicle: VehicleParams, range_km: float, from_cycle: str = "cltc",
              consumption_kwh_per_100km: float | None = None,
              globals_: GlobalParameters = DEFAULTS) -> Translation:
    """The car's range (and consumption, when given) on the other cycle, from its figure on ``from_cycle``."""
    if from_cycle not in CYCLES:
        raise VehicleError(f"translate: cycle must be one of {', '.join(CYCLES)}, not {from_cycle!r}")
    if not math.isfinite(range_km) or not 0 < range_km <= 5000:
        raise VehicleError(f"translate: range must be 0–5000 km, got {range_km!r}")
    if consumption_kwh_per_100km is not None and not 0 < consumption_kwh_per_100km <= 100:
        raise VehicleError(f"translate: consumption must be 0–100 kWh/100 km, got {consumption_kwh_per_100km!r}")
    to_cycle = "wltc" if from_cycle == "cltc" else "cltc"
    sim = simulated_consumptions(vehicle, globals_)
    ratio = sim[from_cycle] / sim[to_cycle]
    predicted_consumption = None if consumption_kwh_per_100km is None else consumption_kwh_per_100km / ratio
    return Translation(vehicle.name, from_cycle, to_cycle, range_km, sim[from_cycle], sim[to_cycle],
                       range_km * ratio, predicted_consumption)


@dataclass(frozen=True, slots=True)
class PublishedPair:
    """One row of ``cltc_vs_wltp.csv`` with both figures published."""

    line: int
    vehicle: str
    cltc_km: float
    wltp_km: float
    confidence: str
    source: str

    @property
    def low_confidence(self) -> bool:
        """'low' (or 'low (…)') rows are scenarios, not oracles; 'medium-low' rows are scored but flagged."""
        return self.confidence.strip().lower().startswith("low")


def read_pairs(path: Path) -> list[PublishedPair]:
    """The rows with both a CLTC and a WLTP range; rules of thumb and CLTC-only rows are left out."""
    pairs: list[PublishedPair] = []
    with path.open(newline="", encoding="utf-8") as handle:
        for line, rec in enumerate(csv.DictReader(handle), start=2):
            cltc, wltp = (rec.get("cltc_km") or "").strip(), (rec.get("wltp_km") or "").strip()
            if not cltc or not wltp:
                continue
            try:
                pairs.append(PublishedPair(line, rec["vehicle"], float(cltc), float(wltp),
                                           rec.get("confidence", "").strip(), rec.get("source", "").strip()))
            except ValueError:
                raise VehicleError(f"{path}:{line}: cltc_km/wltp_km must be numbers, got {cltc!r}/{wltp!r}") from None
    log.info("cltc_vs_wltp: %d published pairs in %s", len(pairs), path)
    return pairs


def pair_error(pair: PublishedPair, vehicle: VehicleParams, globals_: GlobalParameters = DEFAULTS) -> dict[str, Any]:
    """The WLTP range predicted from the pair's CLTC figure, and its error against the published WLTP."""
    result = translate(vehicle, pair.cltc_km, "cltc", globals_=globals_)
    error = 100.0 * (result.predicted_range_km / pair.wltp_km - 1.0)
    return {"line": pair.line, "vehicle": pair.vehicle, "model": vehicle.name, "cltc_km": pair.cltc_km,
            "wltp_published_km": pair.wltp_km, "published_ratio": round(pair.cltc_km / pair.wltp_km, 3),
            "simulated_ratio": round(1.0 / result.range_ratio, 3),
            "wltp_predicted_km": round(result.predicted_range_km, 1), "error_pct": round(error, 1),
            "confidence": pair.confidence, "oracle": not pair.low_confidence}
