"""Uncertain inputs as distributions, sampled with numpy's ``Generator``.

Each distribution samples (vectorised, seeded by the caller's generator), gives its quantiles
(for the tornado's P10/P90 and to map Sobol's unit-cube samples onto the inputs), its median
and its analytic mean and variance (tested against samples).

- Triangular(min, mode, max): ``Generator.triangular``.
- PERT(min, mode, max, λ=4): a beta scaled onto [min, max] with α = 1 + λ(mode−min)/(max−min),
  β = 1 + λ(max−mode)/(max−min) (Vose, *Risk Analysis*, 3rd ed., §III.7: mean (min+λ·mode+max)/(λ+2)).
- LogNormal(median, sigma): ``Generator.lognormal(log(median), sigma)``; sigma is of log(X).
- Uniform(min, max) and Fixed(value) for completeness.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from evplatform.errors import InsightsError

Array = NDArray[np.float64]


class Distribution(Protocol):
    """What every uncertain input offers."""

    def sample(self, rng: np.random.Generator, n: int) -> Array: ...
    def ppf(self, q: Array | float) -> Array: ...
    @property
    def support(self) -> tuple[float, float]:
        """The least and greatest value it can take (``ppf(0)`` and ``ppf(1)``, without SciPy)."""
        ...
    @property
    def median(self) -> float: ...
    @property
    def mean(self) -> float: ...
    @property
    def variance(self) -> float: ...
    @property
    def is_fixed(self) -> bool: ...
    def to_dict(self) -> dict[str, Any]: ...


def _finite(name: str, value: float) -> float:
    if not math.isfinite(value):
        raise InsightsError(f"{name} must be a finite number, not {value!r}")
    return float(value)


def _ordered(low: float, mode: float, high: float) -> None:
    if low > high:
        raise InsightsError(f"min {low:g} > max {high:g}")
    if not low <= mode <= high:
        raise InsightsError(f"mode {mode:g} is outside [min {low:g}, max {high:g}]")


@dataclass(frozen=True, slots=True)
class Fixed:
    value: float

    def __post_init__(self) -> None:
        _finite("value", self.value)

    def sample(self, rng: np.random.Generator, n: int) -> Array:
        return np.full(n, self.value)

    def ppf(self, q: Array | float) -> Array:
        return np.full(np.shape(q), self.value)

    @property
    def support(self) -> tuple[float, float]:
        return self.value, self.value

    @property
    def median(self) -> float:
        return self.value

    @property
    def mean(self) -> float:
        return self.value

    @property
    def variance(self) -> float:
        return 0.0

    @property
    def is_fixed(self) -> bool:
        return True

    def to_dict(self) -> dict[str, Any]:
        return {"dist": "fixed", "value": self.value}


@dataclass(frozen=True, slots=True)
class Uniform:
    low: float
    high: float

    def __post_init__(self) -> None:
        _finite("min", self.low)
        _finite("max", self.high)
        if self.low > self.high:
            raise InsightsError(f"min {self.low:g} > max {self.high:g}")

    def sample(self, rng: np.random.Generator, n: int) -> Array:
        return rng.uniform(self.low, self.high, n)

    def ppf(self, q: Array | float) -> Array:
        return self.low + np.asarray(q, dtype=np.float64) * (self.high - self.low)

    @property
    def support(self) -> tuple[float, float]:
        return self.low, self.high

    @property
    def median(self) -> float:
        return (self.low + self.high) / 2

    @property
    def mean(self) -> float:
        return (self.low + self.high) / 2

    @property
    def variance(self) -> float:
        return (self.high - self.low) ** 2 / 12

    @property
    def is_fixed(self) -> bool:
        return self.low == self.high

    def to_dict(self) -> dict[str, Any]:
        return {"dist": "uniform", "min": self.low, "max": self.high}


@dataclass(frozen=True, slots=True)
class Triangular:
    low: float
    mode: float
    high: float

    def __post_init__(self) -> None:
        for name, value in (("min", self.low), ("mode", self.mode), ("max", self.high)):
            _finite(name, value)
        _ordered(self.low, self.mode, self.high)

    def sample(self, rng: np.random.Generator, n: int) -> Array:
        if self.low == self.high:
            return np.full(n, self.low)
        return rng.triangular(self.low, self.mode, self.high, n)

    def ppf(self, q: Array | float) -> Array:
        if self.low == self.high:
            return np.full(np.shape(q), self.low)
        from scipy import stats  # here, not at the top: SciPy's stats takes ~0.5 s to import, sampling needs none

        width = self.high - self.low
        c = (self.mode - self.low) / width
        return np.asarray(stats.triang.ppf(q, c, loc=self.low, scale=width), dtype=np.float64)

    @property
    def support(self) -> tuple[float, float]:
        return self.low, self.high

    @property
    def median(self) -> float:
        return float(self.ppf(0.5))

    @property
    def mean(self) -> float:
        return (self.low + self.mode + self.high) / 3

    @property
    def variance(self) -> float:
        a, c, b = self.low, self.mode, self.high
        return (a * a + b * b + c * c - a * b - a * c - b * c) / 18

    @property
    def is_fixed(self) -> bool:
        return self.low == self.high

    def to_dict(self) -> dict[str, Any]:
        return {"dist": "triangular", "min": self.low, "mode": self.mode, "max": self.high}


@dataclass(frozen=True, slots=True)
class Pert:
    low: float
    mode: float
    high: float
    lam: float = 4.0

    def __post_init__(self) -> None:
        for name, value in (("min", self.low), ("mode", self.mode), ("max", self.high), ("lambda", self.lam)):
            _finite(name, value)
        _ordered(self.low, self.mode, self.high)
        if self.lam <= 0:
            raise InsightsError(f"lambda must be > 0, not {self.lam:g}")

    @property
    def _shape(self) -> tuple[float, float]:
        width = self.high - self.low
        alpha = 1 + self.lam * (self.mode - self.low) / width
        beta = 1 + self.lam * (self.high - self.mode) / width
        return alpha, beta

    def sample(self, rng: np.random.Generator, n: int) -> Array:
        if self.low == self.high:
            return np.full(n, self.low)
        alpha, beta = self._shape
        return self.low + (self.high - self.low) * rng.beta(alpha, beta, n)

    def ppf(self, q: Array | float) -> Array:
        if self.low == self.high:
            return np.full(np.shape(q), self.low)
        from scipy import stats

        alpha, beta = self._shape
        return np.asarray(self.low + (self.high - self.low) * stats.beta.ppf(q, alpha, beta), dtype=np.float64)

    @property
    def support(self) -> tuple[float, float]:
        return self.low, self.high

    @property
    def median(self) -> float:
        return float(self.ppf(0.5))

    @property
    def mean(self) -> float:
        return (self.low + self.lam * self.mode + self.high) / (self.lam + 2)

    @property
    def variance(self) -> float:
        if self.low == self.high:
            return 0.0
        alpha, beta = self._shape
        width = self.high - self.low
        return width * width * alpha * beta / ((alpha + beta) ** 2 * (alpha + beta + 1))

    @property
    def is_fixed(self) -> bool:
        return self.low == self.high

    def to_dict(self) -> dict[str, Any]:
        return {"dist": "pert", "min": self.low, "mode": self.mode, "max": self.high, "lambda": self.lam}


@dataclass(frozen=True, slots=True)
class LogNormal:
    median_value: float
    sigma: float

    def __post_init__(self) -> None:
        _finite("median", self.median_value)
        _finite("sigma", self.sigma)
        if self.median_value <= 0:
            raise InsightsError(f"median must be > 0 for a lognormal, not {self.median_value:g}")
        if self.sigma < 0:
            raise InsightsError(f"sigma must be ≥ 0, not {self.sigma:g}")

    def sample(self, rng: np.random.Generator, n: int) -> Array:
        return rng.lognormal(math.log(self.median_value), self.sigma, n)

    def ppf(self, q: Array | float) -> Array:
        if self.sigma == 0:
            return np.full(np.shape(q), self.median_value)
        from scipy import stats

        return np.asarray(stats.lognorm.ppf(q, self.sigma, scale=self.median_value), dtype=np.float64)

    @property
    def support(self) -> tuple[float, float]:
        return (self.median_value, self.median_value) if self.sigma == 0 else (0.0, math.inf)

    @property
    def median(self) -> float:
        return self.median_value

    @property
    def mean(self) -> float:
        return self.median_value * math.exp(self.sigma**2 / 2)

    @property
    def variance(self) -> float:
        s2 = self.sigma**2
        return (math.exp(s2) - 1) * self.median_value**2 * math.exp(s2)

    @property
    def is_fixed(self) -> bool:
        return self.sigma == 0

    def to_dict(self) -> dict[str, Any]:
        return {"dist": "lognormal", "median": self.median_value, "sigma": self.sigma}


# Keys each kind takes in a file, in order: {"dist": "pert", "min": …, "mode": …, "max": …}.
KINDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "fixed": (("value",), ()),
    "uniform": (("min", "max"), ()),
    "triangular": (("min", "mode", "max"), ()),
    "pert": (("min", "mode", "max"), ("lambda",)),
    "lognormal": (("median", "sigma"), ()),
}


def distribution_from_spec(spec: Any) -> Distribution:  # noqa: C901 - one branch per distribution kind
    """A distribution from a number (fixed) or a mapping ``{dist: KIND, …}``; InsightsError if bad."""
    if isinstance(spec, bool):
        raise InsightsError(f"expected a number or {{dist: …}}, not {spec!r}")
    if isinstance(spec, int | float):
        return Fixed(float(spec))
    if not isinstance(spec, Mapping):
        raise InsightsError(f"expected a number or {{dist: …}}, not {spec!r}")
    kind = str(spec.get("dist", "")).lower()
    if kind not in KINDS:
        raise InsightsError(f"unknown distribution {spec.get('dist')!r}; known: {', '.join(KINDS)}")
    required, optional = KINDS[kind]
    unknown = sorted(set(spec) - {"dist", *required, *optional})
    if unknown:
        raise InsightsError(f"{kind} takes {', '.join(required + optional)}; unknown key(s) {', '.join(unknown)}")
    values: dict[str, float] = {}
    for key in required + optional:
        if key not in spec:
            if key in required:
                raise InsightsError(f"{kind} needs {key!r}")
            continue
        value = spec[key]
        if isinstance(value, bool) or not isinstance(value, int | float):
            hint = " (YAML reads 1.0e9 as text: write 1.0e+9)" if _looks_numeric(value) else ""
            raise InsightsError(f"{kind} {key} must be a number, not {value!r}{hint}")
        values[key] = float(value)
    if kind == "fixed":
        return Fixed(values["value"])
    if kind == "uniform":
        return Uniform(values["min"], values["max"])
    if kind == "triangular":
        return Triangular(values["min"], values["mode"], values["max"])
    if kind == "pert":
        return Pert(values["min"], values["mode"], values["max"], values.get("lambda", 4.0))
    return LogNormal(values["median"], values["sigma"])


def _looks_numeric(value: Any) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return isinstance(value, str)
