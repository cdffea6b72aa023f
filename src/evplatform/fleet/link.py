"""The seam between the campaign controller and the vehicles (STYLE.md point 3).

``VehicleLink.deliver`` offers a release to a batch of vehicles and returns what each one
answered. In production the answer arrives through the API (``campaigns.report``); in the fleet
simulator and in tests, ``SimulatedLink`` answers at once from a seeded failure model, vectorised
over the batch: no Python loop per vehicle.

Outcomes: ``succeeded``; ``failed`` (installation failed, the vehicle stays on its version);
``rolled_back`` (installed, then the vehicle fell back to its previous slot — after a power loss
during installation or a crash of the new software); ``postponed`` (the driver deferred a soft
update); ``no_answer`` (offline; offered again later).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

import numpy as np

from evplatform.store.releases import ReleaseRecord

OUTCOMES = ("succeeded", "failed", "rolled_back", "postponed", "no_answer")


@dataclass(frozen=True, slots=True)
class Delivery:
    """Answers of one batch, aligned with the ids offered."""

    vehicle_ids: np.ndarray
    outcomes: np.ndarray  # object array of OUTCOMES
    details: np.ndarray  # object array of short explanations
    crashed: np.ndarray  # bool: the new software crashed (a crash report goes to telemetry)


class VehicleLink(Protocol):
    def deliver(
        self, release: ReleaseRecord, vehicle_ids: np.ndarray, cohorts: np.ndarray, *, forced: bool, now: datetime
    ) -> Delivery: ...


@dataclass(frozen=True, slots=True)
class FailureModel:
    """Probabilities per offer (independent draws). Defaults are plausible, not measured."""

    download_interruption: float = 0.03  # resumed from the last verified chunk: still succeeds
    install_failure: float = 0.004
    power_loss: float = 0.002  # during installation: A/B fallback, reported as rolled back
    postpone: float = 0.10  # soft updates only
    offline: float = 0.02
    #: release id -> (cohort "model/trim", share of that cohort whose new software crashes)
    bad_releases: Mapping[str, tuple[str, float]] = field(default_factory=dict)


_MASK = np.uint64(0xFFFFFFFFFFFFFFFF)


def _mix(x: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser: a stateless hash, so an answer depends only on its inputs."""
    with np.errstate(over="ignore"):
        z = (x + np.uint64(0x9E3779B97F4A7C15)) & _MASK
        z = ((z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)) & _MASK
        z = ((z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)) & _MASK
        return z ^ (z >> np.uint64(31))


def uniform(seed: int, salt: str, keys: np.ndarray) -> np.ndarray:
    """Deterministic U(0, 1) per key for (seed, salt): the same vehicle gets the same draw again."""
    base = np.uint64(int.from_bytes(hashlib.sha256(f"{seed}:{salt}".encode()).digest()[:8], "little"))
    with np.errstate(over="ignore"):
        h = _mix(keys.astype(np.uint64) ^ base)
    return (h >> np.uint64(11)).astype(np.float64) / float(1 << 53)


def offer_draws(
    seed: int, release_id: str, vehicle_ids: np.ndarray, now: datetime
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The per-vehicle draws of one offer: install, crash, download (fixed per vehicle and release),
    offline and postpone (per hour). Every link that injects failures uses these, so the same
    vehicle gets the same answer whichever link runs it."""
    hour = int(now.timestamp() // 3600)
    return (
        uniform(seed, "install" + release_id, vehicle_ids),
        uniform(seed, "crash" + release_id, vehicle_ids),
        uniform(seed, "download" + release_id, vehicle_ids),
        uniform(seed + hour, "away", vehicle_ids),
        uniform(seed + hour, "defer", vehicle_ids),
    )


class SimulatedLink:
    """Vehicles answering from a failure model, deterministically per (seed, vehicle, release).

    Final outcomes depend only on the vehicle and the release, so a vehicle offered again after a
    controller crash answers exactly as before; postponing and being offline are drawn per hour,
    so a deferring driver eventually accepts.
    """

    def __init__(self, seed: int = 0, failures: FailureModel | None = None) -> None:
        self.seed = seed
        self.failures = failures or FailureModel()
        self.offers = 0

    def deliver(
        self, release: ReleaseRecord, vehicle_ids: np.ndarray, cohorts: np.ndarray, *, forced: bool, now: datetime
    ) -> Delivery:
        f = self.failures
        n = len(vehicle_ids)
        self.offers += n
        u_install, u_crash, u_download, u_away, u_defer = offer_draws(self.seed, release.id, vehicle_ids, now)

        outcomes = np.full(n, "succeeded", dtype=object)
        details = np.full(n, "", dtype=object)
        interrupted = u_download < f.download_interruption
        details[interrupted] = "download interrupted, resumed"
        power = u_install < f.power_loss
        failed = (u_install >= f.power_loss) & (u_install < f.power_loss + f.install_failure)
        crashed = np.zeros(n, dtype=bool)
        bad = f.bad_releases.get(release.id)
        if bad is not None:
            crashed = (cohorts == bad[0]) & (u_crash < bad[1]) & ~power & ~failed
        outcomes[failed] = "failed"
        details[failed] = "installation failed: image verification after write"
        outcomes[power] = "rolled_back"
        details[power] = "power loss during installation: fell back to the previous slot"
        outcomes[crashed] = "rolled_back"
        details[crashed] = "new software crashed: fell back to the previous slot"
        away = u_away < f.offline
        outcomes[away] = "no_answer"
        details[away] = "offline"
        if not forced:
            deferred = ~away & (u_defer < f.postpone)
            outcomes[deferred] = "postponed"
            details[deferred] = "driver postponed"
        crashed &= outcomes == "rolled_back"
        return Delivery(vehicle_ids, outcomes, details, crashed)
