"""Stability KPIs per release, and how often the fleet is updated.

* install success rate: succeeded / reports (succeeded + failed + rolled back);
* rollback rate: rolled back / reports;
* crash-free vehicles over 7 days: share of the vehicles that ran the release (succeeded, or
  rolled back after running it) with no crash report in the 7 days after installation;
* updates per vehicle per quarter: successful updates in a quarter over the vehicles registered
  before the quarter ended — the fleet's update "saturation" (too many updates tire drivers and
  each one is a risk; too few leave defects in the field).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from evplatform.store import Store
from evplatform.store import stability as sdb

CRASH_WINDOW = timedelta(days=7)


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
    crash_free_7d: float | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def release_stability(store: Store) -> list[ReleaseStability]:
    """The stability KPIs of every release that has reports, by release id."""
    out = []
    for release_id, outcomes in sorted(sdb.outcomes_by_release(store).items()):
        succeeded = outcomes.get("succeeded", 0)
        failed = outcomes.get("failed", 0)
        rolled_back = outcomes.get("rolled_back", 0)
        reports = succeeded + failed + rolled_back
        installed = succeeded + rolled_back
        crashed = {v for v, at, crash in sdb.crashes_after_install(store, release_id) if crash - at < CRASH_WINDOW}
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
                crash_free_7d=_rate(installed - len(crashed), installed),
            )
        )
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
