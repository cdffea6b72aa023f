"""Read-only queries behind campaign planning (``fleet.campaign_planning``): fleet cells and VINs.

A live count must answer while the operator types a filter, on a million vehicles too, so it never
reads one row per vehicle: the database groups the fleet into cells (model, trim, market,
configuration and, when asked, the version on one ECU) and the domain filters the few hundred cells.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import ColumnElement, func, select

from evplatform.store.database import Store
from evplatform.store.schema import Vehicle


@dataclass(frozen=True, slots=True)
class FleetCell:
    """Vehicles sharing model, trim, market and, when asked, configuration and the version on one ECU."""

    model: str
    trim: str
    market: str
    configuration_id: int | None
    version: str | None
    vehicles: int


def fleet_cells(store: Store, *, ecu: str | None = None, by_configuration: bool = False) -> list[FleetCell]:
    """The fleet grouped by model, trim and market, and by what else the filter needs: the configuration
    (a feature expression) and the version installed on ``ecu`` (current versions). Grouping by only
    what is needed lets the database answer from the (model, trim, market) index alone when it can."""
    keys: list[Any] = [Vehicle.model, Vehicle.trim, Vehicle.market]
    if by_configuration:
        keys.append(Vehicle.configuration_id)
    if ecu is not None:
        keys.append(Vehicle.software[(ecu, "version")].as_string())
    with store.session() as session:
        rows = session.execute(select(*keys, func.count()).group_by(*keys)).all()
    out = []
    for row in rows:
        model, trim, market, *rest, n = row
        configuration = int(rest.pop(0)) if by_configuration else None
        version = ("" if rest[0] is None else str(rest[0])) if ecu is not None else None
        out.append(FleetCell(str(model), str(trim), str(market), configuration, version, int(n)))
    return out


def _ecu_columns(ecu: str) -> list[Any]:
    return [Vehicle.software[(ecu, "component")].as_string(), Vehicle.software[(ecu, "version")].as_string(),
            Vehicle.hardware_ids[ecu].as_string()]


#: The columns of a target cell, as ``store.vehicles.vehicle_columns`` names them. The time zone is no
#: rule's, but a start records the time zones of its targets (maintenance windows are local).
CELL_COLUMNS = ("model", "trim", "market", "configuration_id", "consent_updates", "component", "version",
                "hardware_id", "timezone")


def cell_keys(ecu: str) -> list[Any]:
    """The vehicle columns (SQL expressions) of ``CELL_COLUMNS``, in that order."""
    return [Vehicle.model, Vehicle.trim, Vehicle.market, Vehicle.configuration_id, Vehicle.consent_updates,
            *_ecu_columns(ecu), Vehicle.timezone]


def target_cells(store: Store, *, ecu: str) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The fleet grouped by every column the targeting rules read, with the vehicles per cell.

    The columns have ``vehicle_columns``' shape (``id`` is the cell's row number), so
    ``fleet.targets.targets_among`` judges cells as it judges vehicles; the second value is the
    number of vehicles in each cell.
    """
    keys = cell_keys(ecu)
    with store.session() as session:
        rows = session.execute(select(*keys, func.count()).group_by(*keys)).all()
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in range(len(keys) + 1)]
    out: dict[str, np.ndarray] = {"id": np.arange(len(rows), dtype=np.int64)}
    for name, values in zip(CELL_COLUMNS, columns, strict=False):
        if name == "configuration_id":
            out[name] = np.asarray(values, dtype=np.int64)
        elif name == "consent_updates":
            out[name] = np.asarray(values, dtype=bool)
        else:
            out[name] = np.asarray(["" if v is None else v for v in values], dtype=object)
    return out, np.asarray(columns[-1], dtype=np.int64)


def sample_vins(store: Store, *, ecu: str, cell: Mapping[str, Any], limit: int) -> list[str]:
    """Up to ``limit`` VINs of the vehicles in one target cell (``CELL_COLUMNS`` -> value), lowest id first."""
    component, version, hardware = _ecu_columns(ecu)
    where: list[ColumnElement[bool]] = [
        Vehicle.model == cell["model"], Vehicle.trim == cell["trim"], Vehicle.market == cell["market"],
        Vehicle.configuration_id == int(cell["configuration_id"]),
        Vehicle.consent_updates.is_(bool(cell["consent_updates"])),
    ]
    for column, value in ((component, cell["component"]), (version, cell["version"]),
                          (hardware, cell["hardware_id"]), (Vehicle.timezone, cell["timezone"])):
        where.append(column.is_(None) if value == "" else column == value)
    query = select(Vehicle.vin).where(*where).order_by(Vehicle.id).limit(limit)
    with store.session() as session:
        return [str(v) for v in session.scalars(query)]
