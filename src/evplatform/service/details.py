"""Payloads of the vehicle and release detail views (API, pages, CLI) and their CSV tables.

One function per view, so ``GET /api/fleet/vehicles/{vin}``, ``/fleet/{vin}`` and ``evplatform fleet
vehicle VIN --json`` show the same numbers (likewise for a release). CSV tables are the rows a user
would take into a spreadsheet: the vehicle's history, and the release's images, fleet versions,
approvals, campaigns and stability series.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from evplatform.errors import NotFoundError
from evplatform.fleet.release_detail import release_insight
from evplatform.fleet.vehicle_detail import TELEMETRY_UNITS, vehicle_detail
from evplatform.service import views
from evplatform.service.presenters import release_detail
from evplatform.store import Store
from evplatform.store import releases as rdb
from evplatform.store import vehicles as vdb

#: Column order of each CSV table (keys of the payload's rows).
HISTORY_COLUMNS = ("at", "action", "campaign_id", "campaign", "release_id", "version", "wave", "state", "outcome",
                   "detail", "forced", "evidence")
RELEASE_TABLES: dict[str, tuple[str, ...]] = {
    "images": ("component", "ecu", "hardware_id", "file", "sha256", "length", "delta_from", "delta_algorithm",
               "delta_length"),
    "fleet_versions": ("version", "vehicles", "download", "bytes"),
    "approvals": ("market", "authority", "reference", "approved_at", "approved_by"),
    "campaigns": ("id", "name", "state"),
    "stability_over_time": ("at", "reports", "installed", "install_success_rate", "rollback_rate",
                            "observed_vehicles_7d", "crash_free_7d", "too_young"),
}


def vehicle_payload(store: Store, vin: str) -> dict[str, Any]:
    """The vehicle: registry record, ECUs, RXSWIN, recent telemetry events, history, last seen, telemetry series."""
    found = vdb.vehicle_by_vin(store, vin)
    if found is None:
        raise NotFoundError("vehicle", vin)
    data = views.vehicle_view(found, full=True)
    data["telemetry"] = [e | {"unit": TELEMETRY_UNITS.get(e["kind"])}
                         for e in views.telemetry_view(vdb.telemetry(store, vehicle_id=found.id, limit=20))]
    data.update(vehicle_detail(store, vin))
    return data


def release_payload(store: Store, release_id: str, ota_root: Path | None) -> dict[str, Any]:
    """The release: record, approvals, campaigns, images, fleet versions, RXSWIN change and stability."""
    found = rdb.release(store, release_id)
    if found is None:
        raise NotFoundError("release", repr(release_id))
    return release_detail(store, found) | release_insight(store, found, ota_root, store.now())


def to_csv(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> str:
    """Rows as CSV with a header row (RFC 4180 quoting); None is an empty cell."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if row.get(c) is None else row.get(c) for c in columns])
    return out.getvalue()


def history_csv(payload: dict[str, Any]) -> str:
    return to_csv(payload["history"], HISTORY_COLUMNS)


def release_table_csv(payload: dict[str, Any], table: str) -> str:
    """One of ``RELEASE_TABLES`` of a release payload as CSV (images flattened with their delta)."""
    rows = payload[table]
    if table == "images":
        rows = [{**i, "delta_from": (i["delta"] or {}).get("from_release"),
                 "delta_algorithm": (i["delta"] or {}).get("algorithm"),
                 "delta_length": (i["delta"] or {}).get("patch_length")} for i in rows]
    return to_csv(rows, RELEASE_TABLES[table])
