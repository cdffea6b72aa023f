"""Per-vehicle generation numbers: one counter that moves whenever a vehicle's update check could
answer differently (migration 0012 keeps it with triggers; the Director bumps it on publish).

Reading it is one lookup through the unique VIN index, the whole cost of a poll with nothing new.
"""

from __future__ import annotations

from sqlalchemy import select, update

from evplatform.store.database import Store
from evplatform.store.schema import Vehicle


def generation(store: Store, vin: str) -> int | None:
    """The vehicle's generation number (None: no such VIN)."""
    with store.session() as session:
        value = session.scalar(select(Vehicle.generation).where(Vehicle.vin == vin))
    return None if value is None else int(value)


def bump_generation(store: Store, vin: str) -> bool:
    """Move the vehicle's number on (False: no such VIN); for changes the triggers cannot see."""
    with store.session() as session:
        result = session.execute(
            update(Vehicle).where(Vehicle.vin == vin).values(generation=Vehicle.generation + 1)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]
