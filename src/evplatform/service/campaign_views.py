"""A campaign's history, vehicles and cohorts as JSON-ready data: what the API returns and the page draws.

Computed once here from ``fleet.campaign_recovery`` so the dashboard shows exactly the numbers of
``GET /api/campaigns/{id}/vehicles`` and the CLI's ``campaign vehicles --json``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from evplatform.fleet import campaign_recovery as rec
from evplatform.fleet.campaign_states import LABELS, Action, allowed_actions
from evplatform.service.views import iso
from evplatform.store import Store

CSV_COLUMNS = ("vin", "model", "trim", "market", "wave", "cohort", "status", "excluded", "attempts", "offered_at",
               "reported_at", "failure_reason", "detail")


def history_view(store: Store, campaign_id: int) -> dict[str, Any]:
    """``{"campaign", "history": [{at, actor, action, from, to, reason, detail}]}``, oldest first."""
    rows = rec.history(store, campaign_id)
    return {"campaign": campaign_id, "history": [{**h, "at": iso(h["at"])} for h in rows]}


def vehicles_view(store: Store, campaign_id: int, query: rec.VehicleQuery) -> dict[str, Any]:
    """A page of vehicles (``fleet.campaign_recovery.vehicles``) with times as ISO text and 1-based waves."""
    data = rec.vehicles(store, campaign_id, query)
    data["wave"] = None if query.wave is None else query.wave + 1
    data["vehicles"] = [{**v, "wave": v["wave"] + 1, "offered_at": iso(v["offered_at"]),
                         "reported_at": iso(v["reported_at"])} for v in data["vehicles"]]
    return data


def cohorts_view(store: Store, campaign_id: int) -> list[dict[str, Any]]:
    """Per wave (1-based) and cohort: size, outcomes, error rate, excluded."""
    return [{**row, "wave": row["wave"] + 1} for row in rec.cohort_table(store, campaign_id)]


def actions_view(state: str) -> list[dict[str, str]]:
    """The actions the state allows, with their button labels (the page draws exactly these)."""
    return [{"action": a.value, "label": LABELS[a]} for a in allowed_actions(state)]


def all_actions() -> list[str]:
    return [a.value for a in Action]


def vehicles_csv(store: Store, campaign_id: int, *, wave: int | None, status: str | None) -> Iterator[str]:
    """The matching vehicles as CSV text, a chunk of lines at a time (a header first)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for count, row in enumerate(rec.vehicle_rows(store, campaign_id, wave=wave, status=status), start=1):
        writer.writerow({**row, "offered_at": iso(row["offered_at"]) or "", "reported_at": iso(row["reported_at"])
                         or "", "excluded": "yes" if row["excluded"] else "no"})
        if count % 1000 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
