"""The impact of a change on every domain: per trim × market, then platform-wide.

Per trim × market (every pair either version configures): does it stay valid (if not, the
closest valid configuration and its cost, from the lenient loader), BOM and unit cost, mass,
parts added and removed with their suppliers, compliance verdicts in both modes on one date with
the reasons that changed, the simulated range / consumption / 0–100 / DC 10–80 % on the market's
homologation cycle, and the software each ECU runs (what becomes incompatible, where the UN R156
RXSWIN must change). Platform-wide: reuse and commonality indices, platform vs one product per
model, the NPV P50 of the first scenario (Monte Carlo with a fixed seed and a modest number of
draws, stated in the report), and which software components select different trims.

Invalid trims are costed and simulated in their closest valid configuration (said in the row).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from typing import Any

from evplatform.errors import EvplatformError
from evplatform.evolution.errors import SideError
from evplatform.evolution.features import feature_model_section
from evplatform.evolution.revisions import Side
from evplatform.insights.montecarlo import run_monte_carlo, summarize
from evplatform.insights.npv import economics
from evplatform.insights.scenarios import load_scenarios
from evplatform.markets.report import reason_dict
from evplatform.markets.rules import MODES, applicable_regulations, effective_date, in_force
from evplatform.markets.verdict import NON_COMPLIANT, verdict
from evplatform.platform import bom_of, kpi_report, platform_vs_separate
from evplatform.platform.bom import Bom
from evplatform.vehicle.params import VehicleParams
from evplatform.vehicle.simulate import simulate_vehicles, trim_params, workspace_cycle
from evplatform.workspace.model import Workspace

log = logging.getLogger(__name__)

#: Monte Carlo draws per side for the NPV P50: enough for a stable median (±~1 %), fast enough for a PR.
DEFAULT_DRAWS = 2_000
DEFAULT_SEED = 7
#: Wall-clock seconds for each feature-model check (edit class, projected class, core/dead, counts).
DEFAULT_FM_TIME_LIMIT_S = 20.0
SIMULATED = ("range_km", "consumption_kwh_per_100km", "accel_0_100_s", "charge_10_80_min")


@dataclass(frozen=True, slots=True)
class ImpactOptions:
    on: date
    draws: int = DEFAULT_DRAWS
    seed: int = DEFAULT_SEED
    simulate: bool = True
    economics: bool = True
    feature_time_limit_s: float = DEFAULT_FM_TIME_LIMIT_S
    count_configurations: bool = True  # exact lost/gained counts (d4 in a child process, ~1 s on the demo)


def _delta(before: float | None, after: float | None, digits: int = 2) -> dict[str, float | None]:
    delta = None if before is None or after is None else round(after - before, digits)
    return {"before": None if before is None else round(before, digits),
            "after": None if after is None else round(after, digits), "delta": delta}


def _part(line_part: Any, qty: float) -> dict[str, Any]:
    return {"part_no": line_part.part_no, "name": line_part.name, "module": line_part.module,
            "supplier": line_part.supplier, "qty": qty, "unit_cost": line_part.unit_cost}


def _parts_change(before: Bom | None, after: Bom | None) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Parts in the after BOM only, and in the before BOM only (by part number)."""
    b = {line.part.part_no: line for line in before.lines} if before else {}
    a = {line.part.part_no: line for line in after.lines} if after else {}
    added = [_part(a[p].part, a[p].qty) for p in sorted(a.keys() - b.keys())]
    removed = [_part(b[p].part, b[p].qty) for p in sorted(b.keys() - a.keys())]
    return added, removed


def _sold(ws: Workspace, trim_key: str, market: str) -> bool:
    m = ws.markets.get(market)
    return m is not None and trim_key.split("/", 1)[0] in m.models


def _software(ws: Workspace, configuration: frozenset[str]) -> dict[str, str]:
    """ECU → ``component@version`` of every compatible component (several per ECU are joined)."""
    out: dict[str, list[str]] = {}
    for c in ws.software.values():
        if c.compatible.evaluate(set(configuration)):
            out.setdefault(c.ecu, []).append(f"{c.id}@{c.version}")
    return {ecu: " + ".join(sorted(v)) for ecu, v in sorted(out.items())}


def _compliance(before: Side, after: Side, trim_key: str, market: str, on: date) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for mode in MODES:
        cell: dict[str, Any] = {}
        reasons: dict[str, dict[str, dict[str, Any]]] = {}
        for side in (before, after):
            ws = side.workspace
            if (trim_key, market) not in ws.configurations or market not in ws.markets:
                cell[side.name] = None
                reasons[side.name] = {}
                continue
            v = verdict(ws, ws.trim(trim_key), market, on, mode)
            cell[side.name] = v.status
            reasons[side.name] = {r.regulation.id: reason_dict(r, mode) for r in v.reasons}
        gained = sorted(reasons["after"].keys() - reasons["before"].keys())
        lost = sorted(reasons["before"].keys() - reasons["after"].keys())
        cell["reasons_gained"] = [reasons["after"][k] for k in gained]
        cell["reasons_lost"] = [reasons["before"][k] for k in lost]
        cell["changed"] = cell["before"] != cell["after"] or bool(cell["reasons_gained"] or cell["reasons_lost"])
        out[mode] = cell
    return out


class _Simulations:
    """Every distinct vehicle of both sides on each cycle, simulated in one batch per cycle."""

    def __init__(self) -> None:
        self.pending: dict[str, dict[VehicleParams, str]] = {}
        self.results: dict[tuple[str, str], dict[str, Any]] = {}

    def add(self, params: VehicleParams, cycle: str) -> Callable[[], dict[str, Any]]:
        names = self.pending.setdefault(cycle, {})
        key = names.setdefault(params, f"v{len(names)}")
        return lambda: self.results[(cycle, key)]

    def run(self) -> None:
        for cycle, names in self.pending.items():
            vehicles = [dataclasses.replace(p, name=n) for p, n in names.items()]
            for row in simulate_vehicles(vehicles, cycle).results:
                self.results[(cycle, row["vehicle"])] = row


def _figures(row: dict[str, Any]) -> dict[str, float | None]:
    plug = row["consumption_kwh_per_100km"]
    consumption = plug.get("plug") if isinstance(plug, dict) else plug
    return {"range_km": row["range_km"], "consumption_kwh_per_100km": consumption,
            "accel_0_100_s": row["accel_0_100_s"], "charge_10_80_min": row["charge_10_80_min"]}


def _trim_rows(before: Side, after: Side, options: ImpactOptions) -> tuple[list[dict[str, Any]], _Simulations]:
    dev = {side.name: {c.trim.key: c.development_per_unit for c in kpi_report(side.workspace).trims}
           for side in (before, after)}
    keys = list(dict.fromkeys([*before.workspace.configurations, *after.workspace.configurations]))
    sims = _Simulations()
    rows = []
    for trim_key, market in keys:
        row: dict[str, Any] = {"trim": trim_key, "market": market}
        boms: dict[str, Bom | None] = {}
        masses: dict[str, float | None] = {}
        units: dict[str, float | None] = {}
        software: dict[str, dict[str, str] | None] = {}
        fetch: dict[str, Callable[[], dict[str, Any]] | None] = {}
        cycle = None
        for side in (before, after):
            ws = side.workspace
            config = ws.configurations.get((trim_key, market))
            row.setdefault("sold", {})[side.name] = _sold(ws, trim_key, market)
            row.setdefault("configured", {})[side.name] = config is not None
            problem = side.invalid.get((trim_key, market))
            row.setdefault("valid", {})[side.name] = config is not None and problem is None
            row.setdefault("invalid", {})[side.name] = problem.to_dict() if problem else None
            if config is None:
                boms[side.name] = masses[side.name] = units[side.name] = software[side.name] = fetch[side.name] = None
                continue
            bom = bom_of(ws.parts, config)
            boms[side.name], masses[side.name] = bom, bom.mass_kg
            units[side.name] = bom.cost + dev[side.name].get(trim_key, 0.0)
            software[side.name] = _software(ws, config)
            fetch[side.name] = None
            if options.simulate:
                try:
                    cycle = cycle or workspace_cycle(ws, market)
                    fetch[side.name] = sims.add(trim_params(ws, ws.trim(trim_key), market), cycle)
                except EvplatformError as error:  # a vehicle that cannot be simulated is reported, not fatal
                    row.setdefault("simulation_errors", {})[side.name] = str(error)
        b_config = before.workspace.configurations.get((trim_key, market), frozenset())
        a_config = after.workspace.configurations.get((trim_key, market), frozenset())
        row["features_added"] = sorted(a_config - b_config)
        row["features_removed"] = sorted(b_config - a_config)
        b_bom, a_bom = boms["before"], boms["after"]
        row["bom_cost"] = _delta(b_bom.cost if b_bom else None, a_bom.cost if a_bom else None)
        row["unit_cost"] = _delta(units["before"], units["after"])
        row["mass_kg"] = _delta(masses["before"], masses["after"], 1)
        row["parts_added"], row["parts_removed"] = _parts_change(boms["before"], boms["after"])
        row["compliance"] = _compliance(before, after, trim_key, market, options.on)
        row["software"] = _software_change(software["before"], software["after"], after, market)
        row["_fetch"] = (cycle, fetch)
        rows.append(row)
    return rows, sims


def software_id_key(ws: Workspace, market_id: str) -> str | None:
    """The software identification a market's vehicle types carry, as ``fleet.registry.software_id_keys``:
    ``R156`` (UN R156 RXSWIN) in UNECE markets, else the first applicable regulation that requires the
    ``update_management`` role (GB 44496-2024's SWIN in China), else None."""
    market = ws.markets.get(market_id)
    if market is None:
        return None
    if market.unece:
        return "R156"
    update = ws.roles.features("update_management")
    basis = sorted(r.id for r in applicable_regulations(ws, market_id) if not update.isdisjoint(r.requires.variables()))
    return basis[0] if basis else None


def _software_change(before: dict[str, str] | None, after: dict[str, str] | None, side: Side,
                     market: str) -> dict[str, Any]:
    """Which ECUs lose their installed release, and whether the type's software identification must change
    (UN R156 §2.3 RXSWIN, GB 44496 SWIN: any change of the approval-relevant software set gives a new one)."""
    b, a = before or {}, after or {}
    incompatible = sorted(ecu for ecu, release in b.items() if a.get(ecu) != release and after is not None)
    key = software_id_key(side.workspace, market)
    changed = bool(key is not None and before is not None and after is not None and b != a)
    return {"before": before, "after": after, "incompatible_ecus": incompatible, "software_id": key,
            "rxswin_must_change": changed}


def _finish_simulations(rows: list[dict[str, Any]], sims: _Simulations) -> None:
    sims.run()
    for row in rows:
        cycle, fetch = row.pop("_fetch")
        if cycle is None or not any(fetch.values()):
            continue
        fb, fa = (_figures(get()) if get else None for get in (fetch["before"], fetch["after"]))
        row["simulation"] = {"cycle": cycle, **{k: _delta(fb[k] if fb else None, fa[k] if fa else None)
                                                for k in SIMULATED}}


def _kpis(ws: Workspace) -> dict[str, Any]:
    report = kpi_report(ws)
    by_model, by_trim = report.by_model.to_dict(), report.by_trim.to_dict()
    comparison = platform_vs_separate(ws, report.trims)
    return {"reuse_part_share": by_model["part_share"], "reuse_spend_share": by_model["spend_share"],
            **{k: by_model[k] for k in ("dci", "tcci", "ci", "ci_c")},
            **{f"trims_{k}": by_trim[k] for k in ("dci", "tcci", "ci", "ci_c")},
            "platform_saving": comparison.saving, "platform_saving_share": comparison.saving_share}


def _npv(ws: Workspace, draws: int, seed: int) -> dict[str, Any] | None:
    """P50 NPV of the first scenario (platform, separate, advantage), or None without scenarios."""
    try:
        scenarios = load_scenarios(ws)
    except EvplatformError as error:
        log.info("no NPV for %s: %s", ws.root, error)
        return None
    if not scenarios.scenarios:
        return None
    name, scenario = next(iter(scenarios.scenarios.items()))
    summary = summarize(run_monte_carlo(scenario.plan(economics(ws)), draws, seed))
    return {"scenario": name, **{k: summary[k]["p50"] for k in ("platform", "separate", "advantage")}}


RoadmapEvents = dict[tuple[str, str, str], dict[str, dict[str, list[str]]]]


def _roadmap_events(ws: Workspace, on: date) -> RoadmapEvents:
    """The events of the compliance roadmap (``markets.roadmap``) without their fixes.

    For each model × market × mode: the dates from ``on`` (earlier ones folded into ``on``, as the
    roadmap's ``as_of``) on which a confirmed regulation coming into force breaks a trim's
    configuration, each with the regulations every failing trim breaks then. The fixes (one
    minimal-change optimisation per trim and event) are left to ``evplatform comply roadmap``.
    """
    out: RoadmapEvents = {}
    for market_id, market in ws.markets.items():
        rules = [r for r in applicable_regulations(ws, market_id) if r.status == "confirmed"]
        for model_id in market.models:
            configs = {t.id: ws.configurations[(t.key, market_id)] for t in ws.models[model_id].trims
                       if (t.key, market_id) in ws.configurations}
            for mode in MODES:
                starts = {r.id: d for r in rules if (d := effective_date(r, mode)) is not None}
                breaking = sorted({starts[r.id] for r in rules if r.id in starts
                                   and any(not r.requires.evaluate(c) for c in configs.values())})
                days = ([on] if breaking and breaking[0] <= on else []) + [d for d in breaking if d > on]
                events: dict[str, dict[str, list[str]]] = {}
                for day in days:
                    now = [r for r in rules if in_force(r, day, mode)]
                    failing = {t: [r.id for r in now if not r.requires.evaluate(c)] for t, c in configs.items()}
                    events[day.isoformat()] = {t: ids for t, ids in failing.items() if ids}
                out[(model_id, market_id, mode)] = events
    return out


def _roadmap_moves(before: Side, after: Side, on: date) -> list[dict[str, Any]]:
    """Roadmap events that appear, disappear or fail other trims or regulations after the change."""
    old, new = _roadmap_events(before.workspace, on), _roadmap_events(after.workspace, on)
    moves = []
    for key in dict.fromkeys([*old, *new]):
        was, now = old.get(key, {}), new.get(key, {})
        for day in sorted({*was, *now}):
            if was.get(day) != now.get(day):
                model, market, mode = key
                old_day, new_day = was.get(day) or {}, now.get(day) or {}
                trims = [{"trim": t, "breaks": [r for r in new_day.get(t, []) if r not in old_day.get(t, [])],
                          "no_longer_breaks": [r for r in old_day.get(t, []) if r not in new_day.get(t, [])]}
                         for t in dict.fromkeys([*old_day, *new_day])]
                moves.append({"model": model, "market": market, "mode": mode, "date": day,
                              "before": was.get(day), "after": now.get(day),
                              "trims": [t for t in trims if t["breaks"] or t["no_longer_breaks"]]})
    return moves


def _software_selection(before: Side, after: Side) -> list[dict[str, Any]]:
    """Components whose compatibility expression selects a different set of trim × market configurations."""
    out = []
    for cid in dict.fromkeys([*before.workspace.software, *after.workspace.software]):
        picks = {}
        for side in (before, after):
            ws = side.workspace
            c = ws.software.get(cid)
            picks[side.name] = set() if c is None else {
                f"{t}@{m}" for (t, m), cfg in ws.configurations.items() if c.compatible.evaluate(set(cfg))}
        if picks["before"] != picks["after"]:
            out.append({"component": cid, "gained": sorted(picks["after"] - picks["before"]),
                        "lost": sorted(picks["before"] - picks["after"]),
                        "expression": {s.name: (s.workspace.software[cid].compatible_text
                                                if cid in s.workspace.software else None) for s in (before, after)}})
    return out


def compare_sides(before: Side, after: Side, options: ImpactOptions) -> dict[str, Any]:
    """The whole impact report (the ``evplatform diff --json`` payload).

    The feature-model comparison runs in a thread meanwhile: its exact counts wait on d4 in a child
    process (another core), so the per-trim work overlaps them.
    """
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="fm-diff") as pool:
        fm_section = pool.submit(feature_model_section, before.workspace.feature_model,
                                 after.workspace.feature_model, options.feature_time_limit_s,
                                 options.count_configurations)
        report = _report(before, after, options)
        report["feature_model"] = fm_section.result()
    return report


def partial_report(before: Side | SideError, after: Side | SideError, options: ImpactOptions
                   ) -> dict[str, Any] | None:
    """What can still be compared when a side's workspace does not load: the two feature models.

    ``None`` when a side has no feature model to compare either (its ``features.uvl`` does not read,
    the revision or the folder does not exist). The report has ``partial: true`` and each side's
    error (with file:line); the per-trim and platform impacts need both workspaces, so are absent.
    """
    sides = (before, after)
    models = [s.workspace.feature_model if isinstance(s, Side) else s.feature_model for s in sides]
    if models[0] is None or models[1] is None:
        return None
    errors = [str(s) for s in sides if isinstance(s, SideError)]
    return {
        "partial": True,
        "errors": errors,
        "before": before.to_dict() if isinstance(before, Side) else {"side": "before", "error": str(before)},
        "after": after.to_dict() if isinstance(after, Side) else {"side": "after", "error": str(after)},
        "date": options.on.isoformat(),
        "feature_model": feature_model_section(models[0], models[1], options.feature_time_limit_s,
                                               options.count_configurations),
    }


def _report(before: Side, after: Side, options: ImpactOptions) -> dict[str, Any]:
    rows, sims = _trim_rows(before, after, options)
    if options.simulate:
        _finish_simulations(rows, sims)
    else:
        for row in rows:
            row.pop("_fetch")
    kpis = {s.name: _kpis(s.workspace) for s in (before, after)}
    platform: dict[str, Any] = {k: _delta(kpis["before"][k], kpis["after"][k], 4) for k in kpis["before"]}
    npv: dict[str, Any] | None = None
    if options.economics:
        values = {s.name: _npv(s.workspace, options.draws, options.seed) for s in (before, after)}
        npv = {"draws": options.draws, "seed": options.seed, **values}
    changed = [r for r in rows if _row_changed(r)]
    return {
        "before": before.to_dict(),
        "after": after.to_dict(),
        "date": options.on.isoformat(),
        "currency": after.workspace.platform.currency,
        "summary": _summary(rows, changed),
        "feature_model": None,  # filled in by compare_sides
        "trims": rows,
        "platform": platform,
        "npv_p50": npv,
        "software_selection": _software_selection(before, after),
        "roadmap_moves": _roadmap_moves(before, after, options.on),
    }


def _row_changed(row: dict[str, Any]) -> bool:
    return bool(
        row["valid"]["before"] != row["valid"]["after"] or row["bom_cost"]["delta"] or row["mass_kg"]["delta"]
        or row["parts_added"] or row["parts_removed"] or row["features_added"] or row["features_removed"]
        or any(c["changed"] for c in row["compliance"].values()) or row["software"]["incompatible_ecus"]
        or any((row.get("simulation", {}).get(k) or {}).get("delta") for k in SIMULATED)
    )


def _summary(rows: list[dict[str, Any]], changed: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "configurations": len(rows),
        "changed": len(changed),
        "became_invalid": [_at(r) for r in rows if r["valid"]["before"] and not r["valid"]["after"]],
        "became_valid": [_at(r) for r in rows if not r["valid"]["before"] and r["valid"]["after"]],
        "compliance_lost": sorted({f"{_at(r)} ({mode})" for r in rows for mode, c in r["compliance"].items()
                                   if r["sold"]["after"] and c["after"] == NON_COMPLIANT
                                   and c["before"] != NON_COMPLIANT}),
        "rxswin_changes": [_at(r) for r in rows if r["software"]["rxswin_must_change"]],
    }


def _at(row: dict[str, Any]) -> str:
    return f"{row['trim']}@{row['market']}"
