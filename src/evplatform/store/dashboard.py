"""Read-only queries the API and dashboard need beyond the fleet's own: filtered counts, telemetry totals."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select

from evplatform.store.database import Store
from evplatform.store.schema import TelemetryEvent, Vehicle


def count_vehicles(store: Store, *, model: str | None = None, trim: str | None = None,
                   market: str | None = None) -> int:
    """How many vehicles match the filter (the total behind a page of ``list_vehicles``)."""
    query = select(func.count()).select_from(Vehicle)
    for column, value in ((Vehicle.model, model), (Vehicle.trim, trim), (Vehicle.market, market)):
        if value is not None:
            query = query.where(column == value)
    with store.session() as session:
        return int(session.scalar(query) or 0)


def telemetry_totals(store: Store) -> dict[str, int]:
    """Telemetry events per kind."""
    query = select(TelemetryEvent.kind, func.count()).group_by(TelemetryEvent.kind)
    with store.session() as session:
        return {str(kind): int(n) for kind, n in session.execute(query)}


def software_versions(store: Store, ecus: Sequence[str]) -> dict[str, dict[str, int]]:
    """ECU -> ``"component version"`` -> vehicles, counted by the database (one GROUP BY per ECU)."""
    out: dict[str, dict[str, int]] = {}
    with store.session() as session:
        for ecu in ecus:
            component = Vehicle.software[(ecu, "component")].as_string()
            version = Vehicle.software[(ecu, "version")].as_string()
            query = select(component, version, func.count()).group_by(component, version).order_by(component, version)
            counts = {f"{c or ''} {v or ''}".strip() or "none": int(n) for c, v, n in session.execute(query)}
            if counts:
                out[ecu] = counts
    return out
