"""The tables of the simulation, hub and insights pages as CSV: a header naming each column's unit, then
one row per table row, numbers unformatted (no thousands separators) so a spreadsheet reads them
as numbers. Each builder takes the same payload the page draws, so the file holds the page's figures.
"""

from __future__ import annotations

from typing import Any

from fastapi.responses import Response

from evplatform.service.csv_text import Table, csv_text, safe_cell, vehicle_commands_table

__all__ = ["Table", "csv_text", "safe_cell", "vehicle_commands_table"]


def csv_response(filename: str, table: Table) -> Response:
    """A download of ``table`` named ``filename``."""
    return Response(csv_text(*table), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def simulation_table(data: dict[str, Any]) -> Table:
    header = ["vehicle", "cycle", "market", "battery kWh/100 km", "plug kWh/100 km", "range km", "range rule",
              "DC 10-80 % min", "0-100 km/h s", "top speed km/h", "trace miss s", "max speed error km/h"]
    rows = [[r["vehicle"], r["cycle"], data["market"], r["consumption_kwh_per_100km"]["battery"],
             r["consumption_kwh_per_100km"]["plug"], r["range_km"], r["range_rule"], r["charge_10_80_min"],
             r["accel_0_100_s"], r["top_speed_kmh"], r["trace_miss"]["seconds"], r["trace_miss"]["max_speed_error_kmh"]]
            for r in data["results"]]
    return header, rows


def consumption_table(data: dict[str, Any]) -> Table:
    header = ["vehicle", "cycle", "market", "battery kWh/100 km", "plug kWh/100 km", "range km", "range rule"]
    rows = [[r["vehicle"], r["cycle"], data["market"], r["consumption_kwh_per_100km"]["battery"],
             r["consumption_kwh_per_100km"]["plug"], r["range_km"], r["range_rule"]] for r in data["results"]]
    return header, rows


def targets_table(targets: list[dict[str, Any]]) -> Table:
    header = ["trim", "target", "unit", "target value", "simulated", "difference", "tolerance", "status", "market",
              "cycle", "reason"]
    rows = [[t["trim"], t["target"], t["unit"], t["target_value"], t["simulated"], t["difference"], t["tolerance"],
             t["status"], t["market"], t["cycle"], t["reason"]] for t in targets]
    return header, rows


def faults_table(report: dict[str, Any]) -> Table:
    header = ["vehicle", "fault", "mode", "detected s", "reaction s", "limit s", "within limit", "power limit kW",
              "stop distance m", "reason"]
    rows = [[r["vehicle"], r["fault"], r["mode"], r.get("detected_s"), r.get("reaction_s"), r.get("max_reaction_s"),
             r.get("within_limit"), r.get("power_limit_kw"), r.get("stop_distance_m"), r.get("reason")]
            for r in report["faults"]]
    return header, rows


def aeb_table(report: dict[str, Any]) -> Table:
    speeds = report["aeb"][0]["speeds_kmh"] if report["aeb"] else []
    header = ["vehicle", "AEB", "lidar", "brake by wire", *[f"impact km/h at {s:g} km/h" for s in speeds]]
    rows = [[r["vehicle"], r["aeb"], r["lidar"], r["brake_by_wire"], *r["impact_kmh"]] for r in report["aeb"]]
    return header, rows


def alks_table(report: dict[str, Any]) -> Table:
    header = ["vehicle", "market", "ALKS fitted", "ALKS limit km/h"]
    return header, [[r["vehicle"], r["market"], r["alks"], r["alks_limit_kmh"]] for r in report["alks"]]


def api_signals_table(report: dict[str, Any]) -> Table:
    """One row per served VSS signal; one yes/no column per trim."""
    header = ["VSS path", "kind", "datatype", "unit", "apps may actuate", *report["trims"]]
    return header, [[s["path"], s["kind"], s["datatype"], s["unit"] or "", "yes" if s["apps_may_actuate"] else "no",
                     *["yes" if t in s["trims"] else "no" for t in report["trims"]]] for s in report["signals"]]


PEER_MEASURES = (("deliveries", "deliveries"), ("gross_margin", "gross margin"), ("vehicle_margin", "vehicle margin"))


def peer_rows(business: dict[str, Any]) -> list[dict[str, Any]]:
    """The peer table in long form: one row per company and measure, with the metric the company
    reports, its definition, period, value, unit, basis and year-on-year change."""
    rows = []
    for peer in business.get("peers", []):
        for key, label in PEER_MEASURES:
            figure = peer.get(key)
            if figure:
                rows.append({"entity": peer["entity"], "measure": label, **figure})
    return rows


def peers_table(business: dict[str, Any]) -> Table:
    header = ["company", "measure", "metric reported", "definition", "period", "latest quarter of the peers",
              "value", "unit", "basis", "YoY growth", "YoY change pp"]
    rows = [[r["entity"], r["measure"], r["metric"], r.get("definition"), r["period"], r.get("latest_quarter"),
             r["value"], r.get("unit"), r["basis"], (r["yoy"] or {}).get("growth"), (r["yoy"] or {}).get("change_pp")]
            for r in peer_rows(business)]
    return header, rows


def risks_table(report: dict[str, Any]) -> Table:
    header = ["id", "title", "likelihood", "impact", "score", "rating", "owner", "mitigation", "features", "markets",
              "releases"]
    rows = [[r["id"], r["title"], r["likelihood"], r["impact"], r["score"], r["rating"], r["owner"], r["mitigation"],
             " ".join(r["features"]), " ".join(r["markets"]), " ".join(r["releases"])] for r in report["risks"]]
    return header, rows


def npv_table(report: dict[str, Any]) -> Table:
    currency = report["currency"]
    header = ["scenario", "title", "draws", "seed", "feasibility", f"NPV P5 {currency}", f"NPV P50 {currency}",
              f"NPV P95 {currency}", f"platform - separate P50 {currency}", "P(NPV < 0)", "P(platform worse)",
              f"mean NPV change {currency}", f"expected NPV change {currency}", "top driver"]
    rows = [[c["name"], c["title"], report["draws"], report["seed"], c["feasibility"], round(c["npv_p5"]),
             round(c["npv_p50"]), round(c["npv_p95"]), round(c["advantage_p50"]), c["probability_loss"],
             c["probability_platform_worse"], round(c["mean_npv_change"]), round(c["expected_npv_change"]),
             c["top_driver"]] for c in report["comparison"]]
    return header, rows


def trims_table(matrix: dict[str, Any]) -> Table:
    """The platform page's models × trims table, with the markets each trim is sold in."""
    currency = matrix["currency"]
    header = ["model", "trim", "name", f"price {currency}", "volume per year", "parts", f"BOM cost {currency}",
              f"unit cost {currency}", f"margin per unit {currency}", "BOM mass kg", "markets"]
    rows = [[model["id"], t["id"], t["name"], t["price"], t["volume_per_year"], t["parts"], t["bom_cost"],
             t["unit_cost"], t["margin_per_unit"], t["bom_mass_kg"], " ".join(t["markets"])]
            for model in matrix["models"] for t in model["trims"]]
    return header, rows


#: The platform page's reuse and commonality indicators: key in the KPI payload, name, meaning.
KPI_ROWS = (
    ("part_share", "part-number reuse", "share of part numbers used by ≥ 2"),
    ("spend_share", "spend reuse", "share of annual spend on shared parts"),
    ("dci", "DCI (Collier)", "mean users per part number"),
    ("tcci", "TCCI (Wacker & Treleven)", "0 all unique … 1 one part"),
    ("ci", "CI (Martin & Ishii)", "0 nothing shared … 1 all shared"),
    ("ci_c", "CI(C) (Jiao & Tseng)", "spend-weighted DCI"),
)


def kpi_table(kpi: dict[str, Any]) -> Table:
    """Reuse and commonality across models and across trims (shares as fractions 0–1)."""
    across_models = {**kpi["reuse"], **kpi["commonality"]}
    across_trims = kpi["commonality_trims"]
    header = ["indicator", "across models", "across trims", "meaning"]
    rows = [[name, across_models.get(key), across_trims.get(key), meaning] for key, name, meaning in KPI_ROWS]
    return header, rows


def bom_lines_table(bom: dict[str, Any], currency: str) -> Table:
    """One trim's bill of materials in one market, a row per part."""
    header = ["trim", "market", "part", "name", "module", "supplier", "qty", f"unit cost {currency}",
              f"cost {currency}", "when"]
    rows = [[bom["trim"], bom["market"], line["part_no"], line["name"], line["module"], line["supplier"], line["qty"],
             line["unit_cost"], line["cost"], line["when"]] for line in bom["lines"]]
    return header, rows


def bom_summary_table(summary: dict[str, Any]) -> Table:
    """Every trim sold in a market: parts, BOM cost and mass."""
    header = ["market", "trim", "name", "parts", f"BOM cost {summary['currency']}", "BOM mass kg"]
    rows = [[summary["market"], t["trim"], t["name"], t["parts"], t["bom_cost"], t["bom_mass_kg"]]
            for t in summary["trims"]]
    return header, rows


def apps_table(report: dict[str, Any]) -> Table:
    """``apps check --json`` verdicts: one row per app × trim × market, reasons joined."""
    header = ["app", "trim", "market", "compatible", "reason codes", "reasons"]
    rows = [[v["app"], v["trim"], v["market"], "yes" if v["compatible"] else "no",
             " ".join(sorted({r["code"] for r in v["reasons"]})), "; ".join(r["message"] for r in v["reasons"])]
            for v in report["verdicts"]]
    return header, rows
