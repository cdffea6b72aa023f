"""The vehicle registry: what each vehicle is (trim, market, configuration, ECUs, software), CSV import.

A vehicle's configuration, hardware ids and installed software are derived from the workspace
(``ws.configuration(trim, market)`` and the software components compatible with it), so the
registry and the platform never disagree about what was built.
"""

from __future__ import annotations

import csv
import hashlib
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from evplatform.errors import FleetError, SourceError, WorkspaceError
from evplatform.fleet.gates import zone
from evplatform.store import Store
from evplatform.store import vehicles as db
from evplatform.store.vehicles import MarketRecord
from evplatform.workspace import Market, Trim, Workspace

logger = logging.getLogger(__name__)

VIN_RE = re.compile(r"[A-HJ-NPR-Z0-9]{17}")  # ISO 3779: 17 characters, never I, O or Q


class CsvRowError(SourceError, FleetError):
    """A row of a fleet CSV file is wrong (file, line and field named)."""

    http_status = 422


@dataclass(frozen=True, slots=True)
class VehicleSpec:
    """What a caller knows about a vehicle; everything else is derived from the workspace."""

    vin: str
    model: str
    trim: str
    market: str
    timezone: str | None = None
    consent_telemetry: bool = True
    consent_updates: bool = True


def check_vin(vin: str) -> str:
    if not isinstance(vin, str) or not VIN_RE.fullmatch(vin):  # fullmatch: "$" lets a trailing "\n" through
        raise FleetError(f"VIN {vin!r} is not 17 characters of A–Z/0–9 without I, O, Q (ISO 3779)")
    return vin


def regulations_of(ws: Workspace, market: Market) -> list[str]:
    """Ids of the regulations that apply in a market (directly, through its parent, or as UNECE)."""
    chain: list[str] = []
    current: str | None = market.id
    while current is not None and current not in chain:
        chain.append(current)
        current = ws.markets[current].parent if current in ws.markets else None
    out = []
    for regulation in ws.regulations.values():
        if set(regulation.markets) & set(chain) or ("UNECE" in regulation.markets and market.unece):
            out.append(regulation.id)
    return sorted(out)


def market_policies(ws: Workspace) -> list[MarketRecord]:
    """Each market's clock (its file's ``time_zone``) and whether it demands an approval record
    before an update campaign.

    A market demands one when a regulation that requires a feature with the ``update_management``
    role (the software-update management system) applies there: UN R156 in UNECE markets,
    GB 44496-2024 in China. A platform without that role has no regulation to recognise, which is
    logged (and ``evplatform check`` warns about the undeclared role).
    """
    update_features = ws.roles.features("update_management")
    if not update_features:
        logger.warning("role update_management is absent (%s): no market demands an update approval",
                       ws.roles.absence("update_management"))
    out = []
    for market in ws.markets.values():
        basis = [
            r for r in regulations_of(ws, market)
            if not update_features.isdisjoint(ws.regulations[r].requires.variables())
        ]
        out.append(
            MarketRecord(
                id=market.id,
                name=market.name,
                parent=market.parent,
                timezone=market.time_zone,
                approval_required=bool(basis),
                approval_basis=", ".join(basis),
            )
        )
    return out


def sync_markets(store: Store, ws: Workspace) -> None:
    db.save_markets(store, market_policies(ws))


def installed_software(ws: Workspace, configuration: frozenset[str], where: str) -> dict[str, dict[str, str]]:
    """ECU → component, version and hardware id of the software the configuration carries."""
    out: dict[str, dict[str, str]] = {}
    for component in ws.software.values():
        if not component.compatible.evaluate(set(configuration)):
            continue
        if component.ecu in out:
            raise WorkspaceError(
                f"{where}: components {out[component.ecu]['component']} and {component.id} both target ECU "
                f"{component.ecu!r}",
                ws.root / "software.yaml",
                component.line or None,
            )
        out[component.ecu] = {
            "component": component.id,
            "version": component.version,
            "hardware_id": component.hardware_id,
        }
    return out


#: The key of the UN R156 RXSWIN in a vehicle's software identifications (UNECE markets).
UNECE_SOFTWARE_ID = "R156"


def software_id_keys(ws: Workspace) -> dict[str, str | None]:
    """Market → the key of the software identification its vehicles carry, None where none is asked.

    UNECE markets carry the UN R156 RXSWIN (key ``R156``). Elsewhere a market whose software-update
    regulation applies (one that requires the ``update_management`` role, e.g. GB 44496-2024 in
    China, which asks for a software identification number, SWIN) carries one under that
    regulation's id. A market without such a regulation carries none.
    """
    basis = {p.id: p.approval_basis for p in market_policies(ws)}
    out: dict[str, str | None] = {}
    for market in ws.markets.values():
        regulations = [r.strip() for r in basis.get(market.id, "").split(",") if r.strip()]
        out[market.id] = UNECE_SOFTWARE_ID if market.unece else (regulations[0] if regulations else None)
    return out


def rxswin(model: str, key: str | None, software: dict[str, dict[str, str]]) -> dict[str, str]:
    """The type's software identification (UN R156 §2.3 RXSWIN, GB 44496 SWIN) under ``key``.

    It is derived from the installed software, so two types running the same software per ECU
    share it, and every later install renews it (``fleet.update_records.next_rxswin``).
    """
    if key is None:
        return {}
    versions = ";".join(f"{ecu}={s['component']}@{s['version']}" for ecu, s in sorted(software.items()))
    return {key: f"{model.upper()}-{hashlib.sha256(versions.encode()).hexdigest()[:10].upper()}"}


@dataclass(frozen=True, slots=True)
class TrimTemplate:
    """Everything vehicles of one trim in one market share, computed once."""

    model: str
    trim: str
    market: str
    timezone: str
    configuration_id: int
    hardware_ids: dict[str, str]
    software: dict[str, dict[str, str]]
    rxswin: dict[str, str]


def trim_templates(
    store: Store, ws: Workspace, pairs: Iterable[tuple[Trim, str]]
) -> dict[tuple[str, str], TrimTemplate]:
    """Templates for (trim, market) pairs, keyed by (``model/trim``, market)."""
    wanted = {(t.key, m): t for t, m in pairs}
    configs = {key: ws.configuration(trim, key[1]) for key, trim in wanted.items()}
    ids = db.configuration_ids(store, configs.values())
    id_keys = software_id_keys(ws)
    out = {}
    for (key, market_id), trim in wanted.items():
        config = configs[(key, market_id)]
        software = installed_software(ws, config, f"{key} in {market_id}")
        out[(key, market_id)] = TrimTemplate(
            model=trim.model_id,
            trim=trim.id,
            market=market_id,
            timezone=ws.markets[market_id].time_zone,
            configuration_id=ids[config],
            hardware_ids={ecu: s["hardware_id"] for ecu, s in software.items()},
            software={ecu: {"component": s["component"], "version": s["version"]} for ecu, s in software.items()},
            rxswin=rxswin(trim.model_id, id_keys.get(market_id), software),
        )
    return out


def vehicle_row(spec: VehicleSpec, template: TrimTemplate, at: datetime) -> dict[str, Any]:
    return {
        "vin": spec.vin,
        "model": template.model,
        "trim": template.trim,
        "market": template.market,
        "timezone": spec.timezone or template.timezone,
        "configuration_id": template.configuration_id,
        "hardware_ids": template.hardware_ids,
        "software": template.software,
        "rxswin": template.rxswin,
        "consent_telemetry": spec.consent_telemetry,
        "consent_updates": spec.consent_updates,
        "registered_at": at,
    }


def _resolve(ws: Workspace, spec: VehicleSpec) -> Trim:
    if spec.model not in ws.models:
        raise FleetError(f"unknown model {spec.model!r} (known: {', '.join(ws.models)})")
    trims = {t.id: t for t in ws.models[spec.model].trims}
    if spec.trim not in trims:
        raise FleetError(f"unknown trim {spec.trim!r} of {spec.model} (known: {', '.join(trims)})")
    if spec.market not in ws.markets:
        raise FleetError(f"unknown market {spec.market!r} (known: {', '.join(ws.markets)})")
    trim = trims[spec.trim]
    if (trim.key, spec.market) not in ws.configurations:
        raise FleetError(f"{trim.key} is not sold in market {spec.market}")
    if spec.timezone is not None:
        zone(spec.timezone)
    check_vin(spec.vin)
    return trim


def register_vehicles(store: Store, ws: Workspace, specs: Sequence[VehicleSpec], *, at: datetime | None = None) -> int:
    """Register vehicles (all or none) at ``at`` (default: the store's clock); FleetError names the first bad one."""
    at = at or store.now()
    trims = [_resolve(ws, s) for s in specs]
    _check_unique([s.vin for s in specs])
    sync_markets(store, ws)
    pairs = {(t.key, s.market): (t, s.market) for t, s in zip(trims, specs, strict=True)}
    templates = trim_templates(store, ws, pairs.values())
    rows = [vehicle_row(s, templates[(t.key, s.market)], at) for t, s in zip(trims, specs, strict=True)]
    return db.insert_vehicles(store, rows)


def _check_unique(vins: Sequence[str]) -> None:
    seen: set[str] = set()
    for vin in vins:
        if vin in seen:
            raise FleetError(f"VIN {vin} appears twice")
        seen.add(vin)


CSV_FIELDS = ("vin", "model", "trim", "market")
CSV_OPTIONAL = ("timezone", "consent_telemetry", "consent_updates")
_BOOLS = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False, "": True}


def read_fleet_csv(ws: Workspace, path: Path) -> list[tuple[int, VehicleSpec]]:
    """Read and check every row of a fleet CSV; the first bad row raises CsvRowError(file, line)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as error:
        raise CsvRowError(f"cannot read the file: {error.strerror}", path) from error
    reader = csv.DictReader(text.splitlines())
    header = reader.fieldnames or []
    missing = [f for f in CSV_FIELDS if f not in header]
    if missing:
        raise CsvRowError(f"missing column(s) {', '.join(missing)} (needed: {', '.join(CSV_FIELDS)})", path, 1)
    unknown = [f for f in header if f not in CSV_FIELDS + CSV_OPTIONAL]
    if unknown:
        raise CsvRowError(f"unknown column(s) {', '.join(unknown)}", path, 1)
    specs: list[tuple[int, VehicleSpec]] = []
    first_line: dict[str, int] = {}
    for row in reader:
        line = reader.line_num
        spec = _spec_from_row(ws, path, line, row)
        if spec.vin in first_line:
            raise CsvRowError(f"vin: {spec.vin} already appears on line {first_line[spec.vin]}", path, line)
        first_line[spec.vin] = line
        specs.append((line, spec))
    return specs


def _spec_from_row(ws: Workspace, path: Path, line: int, row: dict[str, str | None]) -> VehicleSpec:
    values = {k: (v or "").strip() for k, v in row.items() if k is not None}
    if None in row:
        raise CsvRowError("more values than columns", path, line)
    for field in CSV_FIELDS:
        if not values.get(field):
            raise CsvRowError(f"{field}: empty", path, line)
    flags = {}
    for field in ("consent_telemetry", "consent_updates"):
        raw = values.get(field, "").lower()
        if raw not in _BOOLS:
            raise CsvRowError(f"{field}: {values[field]!r} is not true/false", path, line)
        flags[field] = _BOOLS[raw]
    spec = VehicleSpec(
        vin=values["vin"].upper(),
        model=values["model"],
        trim=values["trim"],
        market=values["market"],
        timezone=values.get("timezone") or None,
        **flags,
    )
    try:
        _resolve(ws, spec)
    except FleetError as error:
        field = _field_of(str(error))
        raise CsvRowError(f"{field}: {error}", path, line) from error
    return spec


def _field_of(message: str) -> str:
    for word, field in (("VIN", "vin"), ("model", "model"), ("trim", "trim"), ("time zone", "timezone"),
                        ("market", "market")):
        if word in message:
            return field
    return "row"


def import_csv(store: Store, ws: Workspace, path: Path, *, at: datetime | None = None) -> int:
    """Import a fleet CSV: every row is checked first, then all are inserted in one transaction.

    Columns: vin, model, trim, market (required); timezone, consent_telemetry, consent_updates.
    A VIN already in the registry is an error naming its line; nothing is imported then.
    """
    rows = read_fleet_csv(ws, path)
    known = db.registered_vins(store, [spec.vin for _, spec in rows])
    for line, spec in rows:
        if spec.vin in known:
            raise CsvRowError(f"vin: {spec.vin} is already registered", path, line)
    return register_vehicles(store, ws, [spec for _, spec in rows], at=at)
