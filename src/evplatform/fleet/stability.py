"""Stability KPIs per release, and how often the fleet is updated.

* install success rate: succeeded / reports (succeeded + failed + rolled back);
* rollback rate: rolled back / reports;
* crash-free vehicles over 7 days: share of the vehicles that ran the release (succeeded, or
  rolled back after running it) with no crash report in the 7 days after installation, counted
  only over the vehicles that installed it at least 7 days ago (the others have not been watched
  for the whole window). A release no vehicle has run for 7 days yet is **too young**: its
  crash-free figure is None and ``too_young`` says why, so no page, route or command shows
  "crash-free 7 d: 100 %" for a release installed minutes ago (``maturity``);
* updates per vehicle per quarter: successful updates in a quarter over the vehicles registered
  before the quarter ended — the fleet's update "saturation" (too many updates tire drivers and
  each one is a risk; too few leave defects in the field).
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from itertools import accumulate
from typing import Any

from evplatform.store import Store
from evplatform.store import details as ddb
from evplatform.store import stability as sdb

CRASH_WINDOW = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class Maturity:
    """Whether a release has run long enough in the fleet for its 7-day figures to mean anything.

    ``mature_at`` is the first install plus the window (None before any install); the release is
    too young until then. ``observed`` vehicles installed it at least one window before ``now``.
    """

    first_installed_at: datetime | None
    mature_at: datetime | None
    observed: int
    too_young: bool


def maturity(first_installed_at: datetime | None, observed: int, now: datetime,
             window: timedelta = CRASH_WINDOW) -> Maturity:
    """The "too young" rule: no vehicle has run the release for a whole ``window`` before ``now``."""
    if first_installed_at is None:
        return Maturity(None, None, 0, True)
    mature_at = first_installed_at + window
    return Maturity(first_installed_at, mature_at, observed, observed == 0 or now < mature_at)


@dataclass(frozen=True, slots=True)
class ReleaseStability:
    release: str
    reports: int
    succeeded: int
    failed: int
    rolled_back: int
    install_success_rate: float | None
    rollback_rate: float | None
    installed_vehicles: int
    crashed_vehicles_7d: int
    crash_free_7d: float | None  # None while too young
    observed_vehicles_7d: int = 0  # installed at least 7 days before ``now``: the crash-free figure's base
    too_young: bool = True
    first_installed_at: datetime | None = None
    mature_at: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("first_installed_at", "mature_at"):
            data[key] = None if data[key] is None else data[key].isoformat()
        return data


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def without_reports(release_id: str) -> ReleaseStability:
    """The KPIs of a release no vehicle has reported on yet: every count 0, every rate None, too young."""
    return ReleaseStability(release_id, 0, 0, 0, 0, None, None, 0, 0, None)


def release_stability(store: Store, now: datetime | None = None) -> list[ReleaseStability]:
    """The stability KPIs of every release that has reports, by release id, as of ``now`` (default: the store's
    clock). Crash-free counts only vehicles watched for the whole window; None while the release is too young."""
    now = now or store.now()
    cutoff = now - CRASH_WINDOW
    ages = ddb.install_ages(store, cutoff)
    out = []
    for release_id, outcomes in sorted(sdb.outcomes_by_release(store).items()):
        succeeded = outcomes.get("succeeded", 0)
        failed = outcomes.get("failed", 0)
        rolled_back = outcomes.get("rolled_back", 0)
        reports = succeeded + failed + rolled_back
        installed = succeeded + rolled_back
        first, observed = ages.get(release_id, (None, 0))
        ripe = maturity(first, observed, now)
        crashes = [(v, at) for v, at, crash in sdb.crashes_after_install(store, release_id)
                   if crash - at < CRASH_WINDOW]
        crashed = {v for v, _ in crashes}
        crashed_observed = {v for v, at in crashes if at <= cutoff}
        out.append(
            ReleaseStability(
                release=release_id,
                reports=reports,
                succeeded=succeeded,
                failed=failed,
                rolled_back=rolled_back,
                install_success_rate=_rate(succeeded, reports),
                rollback_rate=_rate(rolled_back, reports),
                installed_vehicles=installed,
                crashed_vehicles_7d=len(crashed),
                crash_free_7d=None if ripe.too_young else _rate(observed - len(crashed_observed), observed),
                observed_vehicles_7d=observed,
                too_young=ripe.too_young,
                first_installed_at=first,
                mature_at=ripe.mature_at,
            )
        )
    return out


#: At most this many points in a release's stability series (a long-lived release is sampled coarser).
MAX_POINTS = 60


def stability_over_time(store: Store, release_id: str, now: datetime | None = None) -> list[dict[str, Any]]:
    """The release's KPIs at the end of each day from its first report to ``now`` (at most ``MAX_POINTS``).

    Each point: ``at`` (ISO), cumulative ``reports``, ``installed``, ``install_success_rate``,
    ``rollback_rate``, ``observed_vehicles_7d``, ``crash_free_7d`` and ``too_young`` — the same rule
    as ``release_stability``, applied as it stood at that moment. Counting uses prefix sums over the
    reports in time order, so a release with a million reports costs one pass, not one per point.
    """
    now = now or store.now()
    reports = ddb.release_reports(store, release_id)
    if not reports:
        return []
    times = [at for _, at, _ in reports]
    succeeded = list(accumulate(1 if o == "succeeded" else 0 for _, _, o in reports))
    rolled_back = list(accumulate(1 if o == "rolled_back" else 0 for _, _, o in reports))
    installs = [at for _, at, o in reports if o in ddb.INSTALLED]
    first_crash: dict[int, tuple[datetime, datetime]] = {}  # vehicle -> (installed at, first crash in the window)
    for v, at, crash in sdb.crashes_after_install(store, release_id):
        if crash - at < CRASH_WINDOW and (v not in first_crash or crash < first_crash[v][1]):
            first_crash[v] = (at, crash)
    first_day = times[0].astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    days = max(1, (now - first_day).days + 1)
    step = -(-days // MAX_POINTS)
    out = []
    for day in range(step, days + step, step):
        end = min(now, first_day + timedelta(days=min(day, days)))
        done = bisect_right(times, end)
        if done == 0:
            continue
        good, back = succeeded[done - 1], rolled_back[done - 1]
        cutoff = end - CRASH_WINDOW
        observed = bisect_right(installs, cutoff)
        ripe = maturity(installs[0] if installs and installs[0] <= end else None, observed, end)
        crashed = sum(1 for at, crash in first_crash.values() if at <= cutoff and crash <= end)
        out.append({
            "at": end.isoformat(), "reports": done, "installed": good + back,
            "install_success_rate": _rate(good, done), "rollback_rate": _rate(back, done),
            "observed_vehicles_7d": observed, "too_young": ripe.too_young,
            "crash_free_7d": None if ripe.too_young else _rate(observed - crashed, observed),
        })
        if end >= now:
            break
    return out


def quarter_of(year: int, month: int) -> str:
    return f"{year}-Q{(month - 1) // 3 + 1}"


def updates_per_vehicle_per_quarter(store: Store) -> list[dict[str, Any]]:
    """``[{"quarter": "2026-Q4", "updates", "vehicles", "updates_per_vehicle"}]`` in time order."""
    totals: dict[tuple[int, int], int] = {}
    for (year, month), n in sdb.successful_updates_by_month(store).items():
        key = (year, (month - 1) // 3 + 1)
        totals[key] = totals.get(key, 0) + n
    out = []
    for (year, quarter), updates in sorted(totals.items()):
        end = datetime(year + (quarter == 4), 1 if quarter == 4 else 3 * quarter + 1, 1, tzinfo=UTC)
        vehicles = sdb.vehicles_registered_before(store, end)
        out.append(
            {
                "quarter": f"{year}-Q{quarter}",
                "updates": updates,
                "vehicles": vehicles,
                "updates_per_vehicle": updates / vehicles if vehicles else None,
            }
        )
    return out
