"""Revenue of features on demand: monthly recurring revenue, attach rates, churn.

Definitions (docs/features-on-demand.md states them for readers of the dashboard):

* **MRR** at an instant: the sum of the monthly prices of the subscriptions active then
  (currency per month). One-off sales are not recurring: they are reported as the one-off revenue
  booked in each calendar month (by ``valid_from``).
* **Attach rate** of a feature in a trim × market: vehicles holding an active entitlement to it /
  vehicles of that trim × market whose hardware can run it (eligible). The rate of a trim × market
  as a whole: vehicles holding any active paid feature / all its vehicles.
* **Churn** over a month ending at ``t``: subscriptions that ended (cancelled or expired) in
  [t − 1 month, t) / subscriptions active at t − 1 month. Fixed-term purchases of one-off features
  are not subscriptions and never count.

Rows seeded for the demo carry ``basis = estimate``; the summary says how many of the rows behind
its figures are estimates, so a dashboard never passes invented take-up off as sales.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from evplatform.ondemand.ledger import add_months
from evplatform.store import Store
from evplatform.store import entitlements as edb
from evplatform.workspace.model import Workspace

#: Months of history the summary's series covers.
SERIES_MONTHS = 12


@dataclass(frozen=True, slots=True)
class FleetCell:
    """Vehicles of one trim in one market built in one configuration."""

    trim: str  # model/trim
    market: str
    configuration: frozenset[str]
    vehicles: int


def mrr(records: Sequence[edb.EntitlementRecord], at: datetime) -> float:
    """Sum of the monthly prices of the subscriptions active at ``at``."""
    return sum(r.price for r in records if r.billing == "monthly" and r.active_at(at))


def one_off_revenue(records: Sequence[edb.EntitlementRecord], start: datetime, end: datetime) -> float:
    """One-off sales booked in [start, end)."""
    return sum(r.price for r in records if r.billing == "one-off" and start <= r.valid_from < end)


def churn(records: Sequence[edb.EntitlementRecord], end: datetime) -> tuple[float | None, int, int]:
    """(rate, ended, active at start) over the month before ``end``; rate None with no subscriber."""
    start = add_months(end, -1)
    base = [r for r in records if r.billing == "monthly" and r.active_at(start)]
    ended = sum(1 for r in base if r.valid_to is not None and start <= r.valid_to < end)
    return (ended / len(base) if base else None), ended, len(base)


def attach_rates(ws: Workspace, cells: Sequence[FleetCell], records: Sequence[edb.EntitlementRecord],
                 at: datetime) -> list[dict[str, Any]]:
    """Per trim × market: vehicles, holders of any paid feature, and per feature eligible/holders/rate."""
    holders: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    any_holders: dict[tuple[str, str], set[str]] = defaultdict(set)
    for r in records:
        if r.active_at(at):
            key = (f"{r.model}/{r.trim}", r.market)
            holders[(*key, r.feature)].add(r.vin)
            any_holders[key].add(r.vin)
    grouped: dict[tuple[str, str], list[FleetCell]] = defaultdict(list)
    for cell in cells:
        grouped[(cell.trim, cell.market)].append(cell)
    rows = []
    for (trim, market), group in sorted(grouped.items()):
        vehicles = sum(c.vehicles for c in group)
        features = {}
        for feature in ws.on_demand.features.values():
            eligible = sum(c.vehicles for c in group if feature.requires.evaluate(c.configuration))
            held = len(holders.get((trim, market, feature.id), ()))
            features[feature.id] = {"eligible": eligible, "holders": held,
                                    "attach_rate": held / eligible if eligible else None}
        with_any = len(any_holders.get((trim, market), ()))
        rows.append({"trim": trim, "market": market, "vehicles": vehicles, "with_any": with_any,
                     "attach_rate": with_any / vehicles if vehicles else None, "features": features})
    return rows


def _month_start(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def series(records: Sequence[edb.EntitlementRecord], at: datetime, months: int = SERIES_MONTHS) -> list[dict[str, Any]]:
    """Per calendar month up to the one holding ``at``: MRR at its last instant (the current month: at
    ``at``), the one-off revenue booked in it, and the churn over the month before its end."""
    current = _month_start(at)
    out = []
    for back in range(months - 1, -1, -1):
        start = add_months(current, -back)
        end = min(add_months(start, 1), at)
        rate, ended, base = churn(records, end)
        last = end if end == at else end - timedelta(microseconds=1)  # a sale at 00:00 of the 1st is next month's
        out.append({"month": start.strftime("%Y-%m"), "mrr": mrr(records, last),
                    "one_off": one_off_revenue(records, start, end), "churn_rate": rate, "churned": ended,
                    "subscribers_at_start": base})
    return out


def cells_of(store: Store) -> list[FleetCell]:
    return [FleetCell(f"{m}/{t}", k, config, n) for m, t, k, config, n in edb.fleet_configurations(store)]


def summary(store: Store, ws: Workspace, *, at: datetime | None = None) -> dict[str, Any]:
    """Everything the dashboard and ``fod revenue`` show, at ``at`` (default: the server clock)."""
    at = at or store.now()
    records = edb.entitlements(store)
    cells = cells_of(store)
    return summarise(ws, cells, records, at)


def summarise(ws: Workspace, cells: Sequence[FleetCell], records: Sequence[edb.EntitlementRecord],
              at: datetime) -> dict[str, Any]:
    """``summary`` on given rows (tests hand-compute it on a tiny fleet)."""
    rate, ended, base = churn(records, at)
    by_feature = []
    attach = attach_rates(ws, cells, records, at)
    for feature in ws.on_demand.features.values():
        held = [r for r in records if r.feature == feature.id and r.active_at(at)]
        eligible = sum(row["features"][feature.id]["eligible"] for row in attach)
        holders = len({r.vin for r in held})
        by_feature.append({
            "feature": feature.id, "name": feature.name, "billing": feature.billing, "price": feature.price,
            "type_approval_relevant": feature.type_approval_relevant, "holders": holders, "eligible": eligible,
            "attach_rate": holders / eligible if eligible else None,
            "mrr": sum(r.price for r in held if r.billing == "monthly")})
    estimates = sum(1 for r in records if r.basis == "estimate")
    return {"at": at.isoformat(), "currency": ws.platform.currency, "mrr": mrr(records, at),
            "subscribers": sum(1 for r in records if r.billing == "monthly" and r.active_at(at)),
            "one_off_last_month": one_off_revenue(records, add_months(at, -1), at),
            "churn_rate": rate, "churned_last_month": ended, "subscribers_month_ago": base,
            "entitlements": len(records), "estimate_entitlements": estimates,
            "basis": "estimate" if estimates and estimates == len(records) else
                     "mixed" if estimates else "recorded",
            "by_feature": by_feature, "attach": attach, "series": series(records, at)}
