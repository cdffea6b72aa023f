"""Plain-data views of the workspace and the fleet, shared by the JSON routes and the dashboard pages.

Each function takes domain values and returns JSON-ready dicts, so a page shows exactly the
numbers the API returns (and the browser tests can compare them). The shapes are declared for
clients in ``evplatform.api.schemas``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from evplatform.errors import WorkspaceError
from evplatform.platform import bom_of, kpi_report, platform_vs_separate
from evplatform.store.vehicles import TelemetryRecord, VehicleRecord
from evplatform.variability.model import FeatureModel
from evplatform.workspace import Workspace


def platform_view(ws: Workspace) -> dict[str, Any]:
    p = ws.platform
    return {
        "name": p.name,
        "version": p.version,
        "description": p.description,
        "currency": p.currency,
        "base_market": p.base_market,
        "lifecycle_years": p.lifecycle_years,
        "development_cost": p.development_cost,
        "features": len(ws.feature_model),
        "constraints": len(ws.feature_model.constraints),
        "parts": len(ws.parts),
        "models": [{"id": m.id, "name": m.name, "segment": m.segment, "trims": [t.id for t in m.trims]}
                   for m in ws.models.values()],
        "markets": [{"id": m.id, "name": m.name, "parent": m.parent, "homologation_cycle": m.homologation_cycle,
                     "models": list(m.models)} for m in ws.markets.values()],
        "software": [{"id": s.id, "name": s.name, "ecu": s.ecu, "hardware_id": s.hardware_id, "version": s.version,
                      "compatible": s.compatible_text} for s in ws.software.values()],
    }


def kpi_view(ws: Workspace) -> dict[str, Any]:
    """Exactly the ``evplatform kpi --json`` payload."""
    report = kpi_report(ws)
    data = report.to_dict()
    data["platform_vs_separate"] = platform_vs_separate(ws, report.trims).to_dict()
    return data


def models_view(ws: Workspace) -> dict[str, Any]:
    """Models × trims: price, volume, cost (from the KPI report), markets sold in, selected features."""
    costs = {c.trim.key: c.to_dict() for c in kpi_report(ws).trims}
    models = []
    for model in ws.models.values():
        trims = []
        for trim in model.trims:
            markets = [m for m in ws.markets if (trim.key, m) in ws.configurations]
            trims.append({"key": trim.key, **costs[trim.key], "markets": markets,
                          "selected": sorted(trim.selected), "targets": dict(trim.targets)})
        models.append({"id": model.id, "name": model.name, "segment": model.segment, "trims": trims})
    return {"currency": ws.platform.currency, "base_market": ws.platform.base_market,
            "markets": list(ws.markets), "models": models}


def feature_tree(model: FeatureModel, name: str | None = None) -> dict[str, Any]:
    """The feature tree as nested dicts: name, abstract, attributes, groups with their children."""
    feature = model.features[name or model.root]
    return {
        "name": feature.name,
        "abstract": feature.abstract,
        "attributes": {k: v for k, v in feature.attributes.items() if k != "abstract"},
        "groups": [
            {"kind": group.kind.value, "bounds": list(group.bounds()),
             "children": [feature_tree(model, child) for child in group.children]}
            for group in feature.groups
        ],
    }


def features_view(ws: Workspace) -> dict[str, Any]:
    model = ws.feature_model
    return {"root": model.root, "features": len(model), "tree": feature_tree(model),
            "constraints": [{"text": str(c), "line": c.line} for c in model.constraints]}


def bom_summary_view(ws: Workspace, market: str | None) -> dict[str, Any]:
    """Every trim's BOM in one market (``evplatform bom --json`` without ``--trim``): no trim is a default."""
    chosen = market or ws.platform.base_market
    if chosen not in ws.markets:
        raise WorkspaceError(f"unknown market {chosen!r} (known: {', '.join(ws.markets)})", ws.root)
    rows: list[dict[str, Any]] = []
    not_sold: list[str] = []
    for t in ws.trims():
        configuration = ws.configurations.get((t.key, chosen))
        if configuration is None:
            not_sold.append(t.key)
            continue
        result = bom_of(ws.parts, configuration)
        rows.append({"trim": t.key, "name": t.name, "parts": len(result.lines), "bom_cost": round(result.cost, 2),
                     "bom_mass_kg": round(result.mass_kg, 2),
                     "cost_by_module": {k: round(v, 2) for k, v in result.cost_by_module().items()}})
    return {"market": chosen, "currency": ws.platform.currency, "trims": rows, "not_sold": not_sold}


def bom_view(ws: Workspace, trim_key: str, market: str | None) -> dict[str, Any]:
    """The shape of ``evplatform bom --json``."""
    trim = ws.trim(trim_key)
    configuration = ws.configuration(trim, market)
    return bom_of(ws.parts, configuration).to_dict(trim.key, market or ws.platform.base_market, configuration)


def iso(value: datetime | None) -> str | None:
    """A time as ISO 8601 text (JSON has no time type); None stays None."""
    return None if value is None else value.isoformat()


def vehicle_view(vehicle: VehicleRecord, *, full: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "vin": vehicle.vin,
        "model": vehicle.model,
        "trim": vehicle.trim,
        "market": vehicle.market,
        "timezone": vehicle.timezone,
        "software": {ecu: dict(sw) for ecu, sw in vehicle.software.items()},
        "consent_telemetry": vehicle.consent_telemetry,
        "consent_updates": vehicle.consent_updates,
        "registered_at": iso(vehicle.registered_at),
        "key_provisioned": vehicle.public_key is not None,
    }
    if full:
        data["configuration"] = sorted(vehicle.configuration)
        data["hardware_ids"] = dict(vehicle.hardware_ids)
        data["rxswin"] = dict(vehicle.rxswin)
    return data


def telemetry_view(events: Sequence[TelemetryRecord]) -> list[dict[str, Any]]:
    return [{"kind": e.kind, "at": iso(e.at), "value": e.value, "release_id": e.release_id, "detail": e.detail}
            for e in events]
