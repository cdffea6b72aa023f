"""What an owner sees and does: their vehicles' data categories, recent values, export, consents, log.

Article 4-style access: the owner reads everything the platform holds of their vehicle, in a
machine-readable format (JSON, CSV). Article 5-style sharing: the owner grants a registered data
recipient access to chosen categories of one vehicle for a bounded period, and revokes it at any
time; every grant, revocation, export and third-party access is in the vehicle's access log.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from evplatform.apps.model import AppCatalogue
from evplatform.dataact import DataActError
from evplatform.dataact.categories import KIND_SIGNALS, KIND_UNITS, collected, kinds_of
from evplatform.errors import NotFoundError
from evplatform.store import Store
from evplatform.store import dataact as db

logger = logging.getLogger(__name__)

#: The longest consent an owner can give in one grant (renewing is one more click).
MAX_GRANT_PERIOD = timedelta(days=366)
#: Rows of recent values shown per vehicle.
RECENT_ROWS = 50
CSV_COLUMNS = ("vin", "category", "kind", "signal", "at", "value", "unit")


def owned(store: Store, owner: db.OwnerInfo, vin: str) -> None:
    """NotFoundError unless the owner owns the vehicle (another owner's VIN looks unknown)."""
    if db.owner_of(store, vin) != owner.id:
        raise NotFoundError("vehicle", vin)


def _value_row(row: db.TelemetryRow, category: str) -> dict[str, Any]:
    return {"vin": row.vin, "category": category, "kind": row.kind, "signal": KIND_SIGNALS.get(row.kind, ""),
            "at": row.at.isoformat(), "value": row.value, "unit": KIND_UNITS.get(row.kind, "")}


def values(store: Store, catalogue: AppCatalogue, vin: str, wanted: set[str], *,
           since: datetime | None = None, limit: int = db.MAX_ROWS) -> list[dict[str, Any]]:
    """Stored values of ``vin`` in the categories ``wanted``, newest first."""
    kinds = kinds_of(catalogue, wanted)
    rows = db.telemetry(store, vins=[vin], kinds=sorted(kinds), since=since, limit=limit)
    return [_value_row(r, kinds[r.kind]) for r in rows]


def consented_read(store: Store, catalogue: AppCatalogue, vin: str, vehicle_id: int, category: str,
                   client_id: str, limit: int) -> list[dict[str, Any]]:
    """A recipient's read of one category: the values and its access-log entry in one transaction."""
    kinds = kinds_of(catalogue, {category})
    rows = db.read_and_log(store, vehicle_id, vin, sorted(kinds), limit, f"recipient:{client_id}", category)
    return [_value_row(r, kinds[r.kind]) for r in rows]


def vehicle_data(store: Store, catalogue: AppCatalogue, owner: db.OwnerInfo, vin: str) -> dict[str, Any]:
    """One owned vehicle: its model, the categories collected and the most recent values."""
    owned(store, owner, vin)
    model, trim, market = db.vehicle_model(store, vin)
    cats = collected(catalogue)
    return {"vin": vin, "model": model, "trim": trim, "market": market,
            "categories": [c.to_dict() for c in cats.values()],
            "recent": values(store, catalogue, vin, set(cats), limit=RECENT_ROWS)}


def export(store: Store, catalogue: AppCatalogue, owner: db.OwnerInfo, vin: str, fmt: str) -> str:
    """Everything stored of the vehicle, as JSON or CSV text; logged as an export."""
    if fmt not in ("json", "csv"):
        raise DataActError(f"format must be json or csv, not {fmt!r}")
    owned(store, owner, vin)
    cats = collected(catalogue)
    rows = values(store, catalogue, vin, set(cats))
    db.log_access(store, vin, f"owner:{owner.name}", "export", sorted(cats), {"format": fmt, "rows": len(rows)})
    if fmt == "csv":
        return to_csv(rows)
    import json

    return json.dumps({"vin": vin, "exported_at": store.now().isoformat(),
                       "categories": [c.to_dict() for c in cats.values()], "values": rows}, indent=1)


def to_csv(rows: Sequence[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: row.get(k, "") for k in CSV_COLUMNS})
    return out.getvalue()


def grant(store: Store, catalogue: AppCatalogue, owner: db.OwnerInfo, *, vin: str, recipient: str,
          categories: Sequence[str], days: int, starts_at: datetime | None = None) -> db.GrantInfo:
    """Let ``recipient`` read ``categories`` of ``vin`` for ``days`` days from now (the server's clock)."""
    owned(store, owner, vin)
    known = collected(catalogue)
    wanted = sorted(set(categories))
    if not wanted:
        raise DataActError("categories: choose at least one data category")
    unknown = [c for c in wanted if c not in known]
    if unknown:
        raise DataActError(f"categories: unknown data category {unknown[0]!r} (known: {', '.join(known) or 'none'})")
    if not 1 <= days <= MAX_GRANT_PERIOD.days:
        raise DataActError(f"days: a consent lasts 1–{MAX_GRANT_PERIOD.days} days, not {days}")
    rec = db.recipient(store, recipient)
    if rec is None or rec.disabled:
        raise NotFoundError("data recipient", recipient)
    start = starts_at or store.now()
    made = db.create_grant(store, owner.id, recipient, vin, wanted, start, start + timedelta(days=days))
    logger.info("owner %s granted %s %s of %s", owner.name, recipient, ",".join(wanted), vin)
    return made


def revoke(store: Store, owner: db.OwnerInfo, grant_id: int) -> db.GrantInfo:
    """End one of the owner's consents now; the next third-party read is refused."""
    done = db.revoke_grant(store, owner.id, grant_id)
    logger.info("owner %s revoked grant %d", owner.name, grant_id)
    return done


def grant_dict(g: db.GrantInfo, now: datetime) -> dict[str, Any]:
    return {"id": g.id, "vin": g.vin, "recipient": g.recipient, "categories": list(g.categories),
            "starts_at": g.starts_at.isoformat(), "expires_at": g.expires_at.isoformat(),
            "revoked_at": None if g.revoked_at is None else g.revoked_at.isoformat(), "live": g.live(now)}


def log_dict(e: db.AccessEntry) -> dict[str, Any]:
    return {"id": e.id, "at": e.at.isoformat(), "vin": e.vin, "actor": e.actor, "action": e.action,
            "categories": list(e.categories), "detail": e.detail}
