"""Read-only queries the API and dashboard need beyond the fleet's own: filtered counts, telemetry totals."""

from __future__ import annotations

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
