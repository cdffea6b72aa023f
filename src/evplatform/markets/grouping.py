"""How compliance answers are grouped and ordered for a reader: one rule for the CLI and the dashboard.

A roadmap has one entry per model × market × mode. Read as is, the EU and each member state that
adds nothing of its own repeat the same lines five times. The rules here:

- markets whose entries are identical share one line (``roadmap.group_markets``);
- within a line, a market whose ancestor is on the same line is not named again: "EU" covers DE,
  FR, ES and IT when they answer the same (they are kept as ``members``, for a tooltip or a CSV);
- lines are ordered by date, then mode (type approval first), then model, then market;
- trims with the same change share one row of a line (``change_groups``);
- a reason that several trims share is listed once with those trims (``reasons_by_change``).

Costs stay as the roadmap computes them: per vehicle and per year (× the trim's planned volume),
both *cumulative* — everything needed by that date, not only what the date adds.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from evplatform.markets.roadmap import group_markets
from evplatform.markets.rules import MODES
from evplatform.workspace.model import Workspace

#: The roadmap writes the in-force marker as this text; it sorts before every ISO date.
IN_FORCE_TEXT = "in force"


def collapse_members(ws: Workspace, markets: Sequence[str]) -> tuple[list[str], list[str]]:
    """(shown, members): the markets without those whose ancestor is also in ``markets``, and those.

    ``["EU", "DE", "CN"]`` → ``(["EU", "CN"], ["DE"])``: the EU line already speaks for Germany.
    """
    chosen = set(markets)
    shown: list[str] = []
    members: list[str] = []
    for market in markets:
        ancestors = ws.lineage(market)[1:] if market in ws.markets else []
        (members if chosen.intersection(ancestors) else shown).append(market)
    return shown, members


def date_key(text: str | None) -> str:
    """A sort key for the roadmap's date texts: "in force" first, no date last."""
    if text is None:
        return "9999-99-99"
    return "0000-00-00" if text == IN_FORCE_TEXT else text


def change_groups(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The trims of one roadmap event that share a change, once per distinct change.

    ``kind`` is ``compliant`` (nothing to do), ``fix`` (features to add / remove since the previous
    event) or ``no-fix`` (``error`` says why no valid configuration meets every rule in force).
    """
    groups: dict[tuple[str, tuple[str, ...], tuple[str, ...], str], dict[str, Any]] = {}
    for row in rows:
        if not row["failing"]:
            key: tuple[str, tuple[str, ...], tuple[str, ...], str] = ("compliant", (), (), "")
        elif row.get("error"):
            key = ("no-fix", (), (), str(row["error"]))
        else:
            key = ("fix", tuple(row["added_since_previous"]), tuple(row["removed_since_previous"]), "")
        group = groups.setdefault(key, {"kind": key[0], "added": list(key[1]), "removed": list(key[2]),
                                        "error": key[3] or None, "trims": []})
        group["trims"].append(row["trim"])
    return list(groups.values())


def _cost_range(rows: Iterable[dict[str, Any]]) -> tuple[float | None, float | None]:
    costs = [float(r["cost_per_vehicle"]) for r in rows if r.get("cost_per_vehicle") is not None]
    return (min(costs), max(costs)) if costs else (None, None)


def roadmap_lines(ws: Workspace, report: dict[str, Any], markets: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """The roadmap as the lines a reader scans: grouped markets, ordered by date (see the module doc).

    ``markets`` keeps only those markets' entries (default: every entry of the report). With an
    ``as_of`` in the report, no line is dated before it (the roadmap folds earlier dates into it).
    """
    entries = [e for e in report["roadmap"] if markets is None or e["market"] in markets]
    as_of = report.get("as_of")
    lines = []
    for group in group_markets({**report, "roadmap": entries}):
        entry = group["entry"]
        shown, members = collapse_members(ws, group["markets"])
        for event in entry["events"]:
            low, high = _cost_range(event["trims"])
            lines.append({
                "date": event["date"],
                "already": as_of is not None and event["date"] == as_of,
                "model": entry["model"],
                "mode": entry["mode"],
                "markets": shown,
                "members": members,
                "new_regulations": list(event["new_regulations"]),
                "failing_trims": [t["trim"] for t in event["trims"] if t["failing"]],
                "changes": change_groups(event["trims"]),
                "cumulative_cost_per_vehicle_min": low,
                "cumulative_cost_per_vehicle_max": high,
                "cumulative_cost_per_year": event["cost_per_year"],
            })
    if as_of is not None:
        lines = [line for line in lines if date_key(line["date"]) >= as_of]
    return sorted(lines, key=lambda line: (date_key(line["date"]), MODES.index(line["mode"]), line["model"],
                                           line["markets"]))


def stop_dates(lines: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """When each model stops complying, per mode and market line: the first date and every later one.

    ``events`` are ``{"date", "new_regulations"}`` in date order (``lines`` come ordered); a first
    date equal to the roadmap's ``as_of`` (``already``) means "not compliant on that day already".
    """
    out: dict[tuple[str, str, tuple[str, ...]], dict[str, Any]] = {}
    for line in lines:
        key = (line["model"], line["mode"], tuple(line["markets"]))
        item = out.setdefault(key, {"model": line["model"], "mode": line["mode"], "markets": line["markets"],
                                    "members": line["members"], "first": line["date"], "already": line["already"],
                                    "events": []})
        item["events"].append({"date": line["date"], "new_regulations": line["new_regulations"]})
    return sorted(out.values(), key=lambda i: (i["model"], MODES.index(i["mode"]), i["markets"]))


def reasons_by_change(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The reasons of a ``compliance_report`` once per (regulation, change), with the trims they concern.

    Confirmed reasons come before warnings (unverified regulations); ``trims_text`` names a model
    alone when all its trims share the reason (``su7, yu7/max``).
    """
    every: dict[str, list[str]] = {}
    for verdict in report["verdicts"]:
        every.setdefault(verdict["model"], []).append(verdict["trim"])
    out: dict[tuple[str, str, tuple[str, ...], tuple[str, ...]], dict[str, Any]] = {}
    for kind in ("reasons", "warnings"):
        for verdict in report["verdicts"]:
            for reason in verdict[kind]:
                key = (kind, reason["regulation"], tuple(reason["missing"]), tuple(reason["violating"]))
                item = out.setdefault(key, {"reason": reason, "warning": kind == "warnings", "trims": []})
                item["trims"].append((verdict["model"], verdict["trim"]))
    return [{**item, "trims_text": trims_text(item["trims"], every)} for item in out.values()]


def trims_text(trims: Sequence[tuple[str, str]], every: dict[str, list[str]]) -> str:
    """``city, sedan/max``: a model name alone means all its trims."""
    by_model: dict[str, list[str]] = {}
    for model, trim in trims:
        by_model.setdefault(model, []).append(trim)
    return ", ".join(model if names == every.get(model) else " ".join(f"{model}/{n}" for n in names)
                     for model, names in by_model.items())


MATRIX_COLUMNS = ("date", "market", "mode", "model", "trim", "status", "broken_regulations", "unverified_warnings",
                  "missing_features", "violating_features", "note")


def matrix_rows(matrix: dict[str, Any], modes: Sequence[str] = MODES) -> list[dict[str, str]]:
    """One row per market × mode × trim of a ``compliance_matrix``: the matrix as a spreadsheet wants it."""
    rows = []
    for entry in matrix["markets"]:
        for mode in modes:
            report = entry["modes"][mode]
            for v in report["verdicts"]:
                found = v["reasons"] + v["warnings"]
                rows.append({
                    "date": report["date"], "market": entry["market"], "mode": mode, "model": v["model"],
                    "trim": v["trim"], "status": v["status"],
                    "broken_regulations": " ".join(r["regulation"] for r in v["reasons"]),
                    "unverified_warnings": " ".join(r["regulation"] for r in v["warnings"]),
                    "missing_features": " ".join(sorted({f for r in found for f in r["missing"]})),
                    "violating_features": " ".join(sorted({f for r in found for f in r["violating"]})),
                    "note": v["note"],
                })
    return rows


def roadmap_columns(currency: str) -> tuple[str, ...]:
    """The roadmap CSV header: costs say their unit, that they are cumulative, per vehicle or per year."""
    return ("date", "mode", "model", "markets", "member_markets", "new_regulations", "failing_trims",
            "features_to_add", "features_to_remove", f"cumulative_cost_per_vehicle_min_{currency}",
            f"cumulative_cost_per_vehicle_max_{currency}", f"cumulative_cost_per_year_{currency}")


def roadmap_rows(lines: Sequence[dict[str, Any]], currency: str) -> list[dict[str, str]]:
    """The roadmap lines flattened for a CSV (features of every trim's change, space-separated)."""
    header = roadmap_columns(currency)
    rows = []
    for line in lines:
        values = [
            line["date"], line["mode"], line["model"], " ".join(line["markets"]), " ".join(line["members"]),
            " ".join(line["new_regulations"]), " ".join(line["failing_trims"]),
            " ".join(sorted({f for c in line["changes"] for f in c["added"]})),
            " ".join(sorted({f for c in line["changes"] for f in c["removed"]})),
            _number(line["cumulative_cost_per_vehicle_min"]), _number(line["cumulative_cost_per_vehicle_max"]),
            _number(line["cumulative_cost_per_year"]),
        ]
        rows.append(dict(zip(header, values, strict=True)))
    return rows


def _number(value: float | None) -> str:
    """Plain decimal for a spreadsheet (no thousands separator: a CSV cell is a number, not text)."""
    return "" if value is None else f"{value:.2f}"
