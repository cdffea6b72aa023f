"""The pseudonymised fleet view for internal analytics, and retention per data category.

Analysts see no VIN: each vehicle is a keyed hash (HMAC-SHA256 with a secret the analysts do not
hold, truncated to 16 hex digits), stable across exports so trends per vehicle still work, but not
reversible by hashing every VIN of the fleet. Locations are coarsened to ``GRID_DEGREES`` (about
11 km), timestamps to the hour; only categories that need no owner consent are shown (data
minimisation: a consent category is the owner's to share, not the fleet team's).
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta
from typing import Any

from evplatform.apps.model import AppCatalogue
from evplatform.dataact.categories import KIND_UNITS, categories
from evplatform.store import Store
from evplatform.store import dataact as db

GRID_DEGREES = 0.1
LOCATION_KEYS = ("lat", "lon", "latitude", "longitude")


def pseudonym(key: bytes, vin: str) -> str:
    return hmac.new(key, vin.encode(), hashlib.sha256).hexdigest()[:16]


def coarse(value: float) -> float:
    return round(round(value / GRID_DEGREES) * GRID_DEGREES, 1)


def _detail(detail: dict[str, Any] | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in (detail or {}).items():
        if key in LOCATION_KEYS and isinstance(value, int | float):
            out[key] = coarse(float(value))
        elif key in LOCATION_KEYS or "vin" in key.lower():
            continue
        else:
            out[key] = value
    return out


def pseudonymised(store: Store, catalogue: AppCatalogue, key: bytes, *, limit: int = 1000) -> list[dict[str, Any]]:
    """Telemetry of the consent-free categories, without VINs, newest first."""
    kinds = {k: c.id for c in categories(catalogue).values() if not c.consent for k in c.kinds}
    rows = db.telemetry(store, kinds=sorted(kinds), limit=limit)
    return [{"vehicle": pseudonym(key, r.vin), "model": r.model, "category": kinds[r.kind], "kind": r.kind,
             "hour": r.at.replace(minute=0, second=0, microsecond=0).isoformat(), "value": r.value,
             "unit": KIND_UNITS.get(r.kind, ""), "detail": _detail(r.detail)} for r in rows]


def apply_retention(store: Store, catalogue: AppCatalogue) -> dict[str, int]:
    """Delete telemetry older than its category's retention; returns rows deleted per category."""
    now = store.now()
    done: dict[str, int] = {}
    for category in categories(catalogue).values():
        if category.retention_days is not None and category.kinds:
            done[category.id] = db.purge_telemetry(store, category.kinds, now - timedelta(days=category.retention_days))
    return done
