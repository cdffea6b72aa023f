"""Drive cycles carried by the package, at 1 Hz or resampled to 10 Hz.

WLTC class 3b, CLTC-P, UDDS and HWFET are the regulations' tables (each CSV names its
regulation and where it was transcribed from in its header); NEDC is generated from the
piecewise-linear definition of UNECE R83 Annex 4a (Tables 1 and 2).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import cast

import numpy as np
from numpy.typing import NDArray

from evplatform.errors import VehicleError

# Name used on the command line → (file stem, homologation the cycle belongs to).
CYCLES: dict[str, tuple[str, str]] = {
    "wltc": ("wltc_class3b", "WLTP"),
    "cltc": ("cltc_p", "CLTC"),
    "udds": ("udds", "EPA"),
    "hwfet": ("hwfet", "EPA"),
    "nedc": ("nedc", "NEDC"),
}
ALIASES = {"wltc_class3b": "wltc", "wltc3b": "wltc", "wltp": "wltc", "cltc_p": "cltc", "cltc-p": "cltc",
           "epa": "udds", "ftp72": "udds", "hwy": "hwfet", "highway": "hwfet"}

# UNECE R83 Annex 4a Table 1: the elementary urban cycle (ECE-15), (time s, speed km/h) breakpoints;
# operations 1–22: idle, accelerate, gear changes at constant speed, decelerate, idle (195 s).
_ECE15 = ((0, 0), (11, 0), (15, 15), (23, 15), (25, 10), (28, 0), (49, 0), (54, 15), (56, 15), (61, 32),
          (85, 32), (93, 10), (96, 0), (117, 0), (122, 15), (124, 15), (133, 35), (135, 35), (143, 50),
          (155, 50), (163, 35), (176, 35), (178, 32), (185, 10), (188, 0), (195, 0))
# UNECE R83 Annex 4a Table 2: the extra-urban cycle (EUDC), operations 1–21 (400 s, 6.955 km).
_EUDC = ((0, 0), (20, 0), (25, 15), (27, 15), (36, 35), (38, 35), (46, 50), (48, 50), (61, 70), (111, 70),
         (119, 50), (188, 50), (201, 70), (251, 70), (286, 100), (316, 100), (336, 120), (346, 120),
         (362, 80), (370, 50), (380, 0), (400, 0))


@dataclass(frozen=True)
class DriveCycle:
    """A speed trace on a uniform time grid: ``speed_mps[i]`` at ``i·dt_s`` seconds.

    ``grade`` (rise over run, + uphill) at the same instants is optional: the homologation cycles
    are flat, a route or a test track is not.
    """

    name: str
    homologation: str
    dt_s: float
    speed_mps: NDArray[np.float64]
    grade: NDArray[np.float64] | None = None

    def with_grade(self, grade: float | NDArray[np.float64]) -> DriveCycle:
        """The same trace on a road of ``grade`` (a constant or one value per sample)."""
        values = np.broadcast_to(np.asarray(grade, dtype=np.float64), self.speed_mps.shape).copy()
        if not np.all(np.isfinite(values)) or np.any(np.abs(values) > 0.35):
            raise VehicleError(f"{self.name}: grade must be finite and within ±35 % (road vehicles' limit)")
        return DriveCycle(self.name, self.homologation, self.dt_s, self.speed_mps, values)

    def slope_accel_mps2(self) -> NDArray[np.float64] | None:
        """g·sin(θ) between samples (m/s² of resisting acceleration), or None on a flat cycle."""
        if self.grade is None:
            return None
        mid = 0.5 * (self.grade[1:] + self.grade[:-1])
        return np.asarray(9.81 * np.sin(np.arctan(mid)), dtype=np.float64)

    @property
    def duration_s(self) -> float:
        return float((len(self.speed_mps) - 1) * self.dt_s)

    @property
    def distance_km(self) -> float:
        """Trapezoidal integral of the trace (the figure the regulations quote)."""
        v = self.speed_mps
        return float(np.sum(v[1:] + v[:-1]) * 0.5 * self.dt_s / 1000.0)

    @property
    def time_s(self) -> NDArray[np.float64]:
        return np.arange(len(self.speed_mps), dtype=np.float64) * float(self.dt_s)

    def resampled(self, hz: float) -> DriveCycle:
        """The same trace at ``hz`` by linear interpolation (the tables are piecewise linear in time)."""
        if hz <= 0:
            raise VehicleError(f"sampling rate must be positive, got {hz}")
        dt = 1.0 / hz
        steps = round(self.duration_s / dt)
        t = np.arange(steps + 1) * dt
        v = np.interp(t, self.time_s, self.speed_mps)
        grade = None if self.grade is None else np.interp(t, self.time_s, self.grade)
        return DriveCycle(self.name, self.homologation, dt, v, grade)


def cycle_names() -> list[str]:
    return list(CYCLES)


def canonical_name(name: str) -> str:
    key = name.strip().lower()
    key = ALIASES.get(key, key)
    if key not in CYCLES:
        raise VehicleError(f"unknown cycle {name!r}; known cycles: {', '.join(CYCLES)}")
    return key


def load_cycle(name: str, hz: float = 1.0) -> DriveCycle:
    """A packaged cycle by name (wltc, cltc, udds, hwfet, nedc) at ``hz`` (1 or 10 typically)."""
    key = canonical_name(name)
    base = _load_1hz(key)
    return base if hz == 1.0 else base.resampled(hz)


@cache
def _load_1hz(key: str) -> DriveCycle:
    stem, homologation = CYCLES[key]
    if stem == "nedc":
        return DriveCycle(key, homologation, 1.0, nedc_speed_kmh() / 3.6)
    text = resources.files("evplatform.vehicle").joinpath("cycles", f"{stem}.csv").read_text(encoding="utf-8")
    rows = [line for line in text.splitlines() if line and not line.startswith("#")]
    data = np.array([[float(x) for x in line.split(",")] for line in rows[1:]], dtype=np.float64)
    if not np.allclose(np.diff(data[:, 0]), 1.0):
        raise VehicleError(f"cycle file {stem}.csv is not on a 1 s grid")
    return DriveCycle(key, homologation, 1.0, data[:, 1] / 3.6)


def _piecewise(points: tuple[tuple[int, int], ...]) -> NDArray[np.float64]:
    t = np.array([p[0] for p in points], dtype=np.float64)
    v = np.array([p[1] for p in points], dtype=np.float64)
    return cast(NDArray[np.float64], np.interp(np.arange(int(t[-1]) + 1), t, v))


def nedc_speed_kmh() -> NDArray[np.float64]:
    """NEDC at 1 Hz: four ECE-15 urban cycles then one EUDC (UNECE R83 Annex 4a, Figure 1), 1180 s."""
    ece = _piecewise(_ECE15)
    eudc = _piecewise(_EUDC)
    parts = [ece] + [ece[1:]] * 3 + [eudc[1:]]
    return np.concatenate(parts).astype(np.float64)
