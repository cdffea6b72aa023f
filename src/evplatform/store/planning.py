"""Read-only queries behind campaign planning (``fleet.campaign_planning``): fleet cells and VINs.

A live count must answer while the operator types a filter, on a million vehicles too, so it never
reads one row per vehicle: the database groups the fleet into cells (model, trim, market,
configuration and, when asked, the version on one ECU) and the domain filters the few hundred cells.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select

from evplatform.store.database import Store
from evplatform.store.schema import Vehicle

CHUNK = 20_000


@dataclass(frozen=True, slots=True)
class FleetCell:
    """Vehicles sharing model, trim, market, configuration (and ``version`` on the ECU asked, else None)."""

    model: str
    trim: str
    market: str
    configuration_id: int
    version: str | None
    vehicles: int


def fleet_cells(store: Store, *, ecu: str | None = None) -> list[FleetCell]:
    """The fleet grouped by model, trim, market, configuration (and the version installed on ``ecu``)."""
    keys = [Vehicle.model, Vehicle.trim, Vehicle.market, Vehicle.configuration_id]
    if ecu is not None:
        keys.append(Vehicle.software[(ecu, "version")].as_string())
    query = select(*keys, func.count()).group_by(*keys)
    with store.session() as session:
        rows = session.execute(query).all()
    if ecu is None:
        return [FleetCell(str(m), str(t), str(k), int(c), None, int(n)) for m, t, k, c, n in rows]
    return [FleetCell(str(m), str(t), str(k), int(c), "" if v is None else str(v), int(n))
            for m, t, k, c, v, n in rows]


def vins_of(store: Store, vehicle_ids: Sequence[int]) -> dict[int, str]:
    """Database id -> VIN of the given vehicles (a dry run's sample per reason; unknown ids are absent)."""
    out: dict[int, str] = {}
    with store.session() as session:
        for start in range(0, len(vehicle_ids), CHUNK):
            chunk = [int(i) for i in vehicle_ids[start : start + CHUNK]]
            out.update(session.execute(select(Vehicle.id, Vehicle.vin).where(Vehicle.id.in_(chunk))).tuples().all())
    return out
