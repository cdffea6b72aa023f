"""Quarterly business figures from CSV: deliveries, revenue, gross margin, average selling price.

The file is long-form, one figure a row::

    entity,period,metric,value,unit,basis,source,notes
    Xiaomi,2025Q3,deliveries,108796,vehicles,reported,https://…,

``period`` is a quarter (``2025Q3``), a fiscal year (``FY2025``) or year-to-date (``9M2025``) for a
figure, which must then be a number; any other period (``guidance``, a launch) makes the row a
*fact*, kept as text. ``basis`` is free text classified as **reported**, **derived** or
**estimate** (any mention of memory, verify or estimate wins, then derived, then reported), so the
weakest claim is the one shown. A figure computed here (growth, implied ASP) carries the weakest
basis of its inputs.

Headline metrics take the first metric an entity reports from each alias list (a company's EV
segment or total margin when it has no other), and the report says which one it used.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from evplatform.errors import WorkspaceError
from evplatform.insights.errors import InsightsSourceError
from evplatform.workspace.sources import read_csv

COLUMNS = ("entity", "period", "metric", "value", "unit", "basis", "source")
BASES = ("reported", "derived", "estimate")  # strongest first
HEADLINES: dict[str, tuple[str, ...]] = {
    "deliveries": ("deliveries",),
    "revenue": ("revenue", "smart_ev_revenue", "segment_revenue"),
    "gross_margin": ("gross_margin", "segment_gross_margin", "gross_margin_total_gaap"),
    "vehicle_margin": ("vehicle_margin", "auto_gross_margin_ex_credits"),
    "asp": ("asp",),
}
#: What each metric a peer row can show measures: companies report different margins, and a GAAP
#: company-wide margin (energy and services included) is not an automotive segment margin, so the
#: peer table names the metric behind every number and says what it covers.
METRIC_DEFINITIONS: dict[str, str] = {
    "deliveries": "vehicles delivered to customers in the period",
    "gross_margin": "company-wide gross profit / revenue, as the company reports it",
    "segment_gross_margin": "gross margin of the EV (smart-EV) segment only, not the whole group",
    "gross_margin_total_gaap": "GAAP gross margin of the whole company (energy, services and credits included), "
                               "not an automotive segment margin",
    "vehicle_margin": "vehicle sales gross margin: vehicle revenue less vehicle cost of sales, over vehicle revenue",
    "auto_gross_margin_ex_credits": "automotive gross margin excluding regulatory credits",
}
QUARTER = re.compile(r"^(\d{4})Q([1-4])\Z")
PERIOD = re.compile(r"^(\d{4})Q[1-4]\Z|^FY\d{4}\Z|^[1-9]M\d{4}\Z")
MONEY_SCALE = {"bn": 1e9, "m": 1e6, "k": 1e3}


def classify_basis(text: str) -> str | None:
    """reported, derived or estimate from a free-text basis; None when it says none of them."""
    low = text.lower()
    if any(word in low for word in ("memory", "verify", "estimate", "estimated")):
        return "estimate"
    if "derived" in low:
        return "derived"
    if "reported" in low:
        return "reported"
    return None


def weakest(*bases: str) -> str:
    return max(bases, key=BASES.index)


@dataclass(frozen=True, slots=True)
class Figure:
    entity: str
    period: str
    metric: str
    value: float
    unit: str
    basis: str  # reported | derived | estimate
    basis_text: str
    source: str
    notes: str
    line: int

    @property
    def quarter(self) -> tuple[int, int] | None:
        match = QUARTER.match(self.period)
        return (int(match.group(1)), int(match.group(2))) if match else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "entity": self.entity, "period": self.period, "metric": self.metric, "value": self.value,
            "unit": self.unit, "basis": self.basis, "basis_text": self.basis_text, "source": self.source,
            "notes": self.notes, "line": self.line,
        }


@dataclass(frozen=True, slots=True)
class Fact:
    """A row that is not a period figure (a launch price, a plan, a guidance): kept as text."""

    entity: str
    subject: str
    metric: str
    value: str
    unit: str
    basis_text: str
    source: str
    line: int


@dataclass(frozen=True)
class BusinessData:
    file: Path
    figures: tuple[Figure, ...]
    facts: tuple[Fact, ...]

    @property
    def entities(self) -> list[str]:
        return list(dict.fromkeys(f.entity for f in self.figures))

    def series(self, entity: str, metric: str) -> list[Figure]:
        """One entity's quarterly figures of one metric, oldest first."""
        rows = [f for f in self.figures if f.entity == entity and f.metric == metric and f.quarter]
        return sorted(rows, key=lambda f: f.quarter or (0, 0))

    def headline(self, entity: str, name: str) -> tuple[str | None, list[Figure]]:
        """The first metric of ``HEADLINES[name]`` the entity reports quarterly, and its series."""
        for metric in HEADLINES[name]:
            rows = self.series(entity, metric)
            if rows:
                return metric, rows
        return None, []


BUSINESS_FILE = "business.csv"


def demo_business_path() -> Path:
    """The demo workspace's business.csv, shipped in the package."""
    return Path(str(resources.files("evplatform.demo") / "modena" / BUSINESS_FILE))


def business_file(path: str | Path | None) -> Path | None:
    """The CSV to read: ``path`` itself, a workspace folder's business.csv (None when it has none), or,
    with no path at all, the bundled demo workspace's."""
    if path is None:
        return demo_business_path()
    given = Path(path)
    if given.is_dir():
        own = given / BUSINESS_FILE
        return own if own.is_file() else None
    return given


def load_business(path: str | Path | None = None) -> BusinessData:
    """Read and check a business-figures CSV (default: the demo's); errors name file:line and field."""
    file = business_file(path)
    if file is None:
        raise InsightsSourceError(f"no {BUSINESS_FILE} in this workspace", path)
    try:
        rows = read_csv(file, "business figures CSV", COLUMNS)
    except WorkspaceError as error:
        raise InsightsSourceError(error.message, error.file, error.line, error.column) from None
    figures: list[Figure] = []
    facts: list[Fact] = []
    seen: dict[tuple[str, str, str], int] = {}
    for row in rows:
        v = row.values
        for name in ("entity", "period", "metric"):
            if not v[name]:
                raise InsightsSourceError(f"field {name!r} is empty", file, row.line)
        if not PERIOD.match(v["period"]):
            facts.append(Fact(v["entity"], v["period"], v["metric"], v["value"], v["unit"], v["basis"], v["source"],
                              row.line))
            continue
        key = (v["entity"], v["period"], v["metric"])
        if key in seen:
            raise InsightsSourceError(f"{'/'.join(key)} is given twice (first on line {seen[key]})", file, row.line)
        seen[key] = row.line
        figures.append(_figure(v, file, row.line))
    return BusinessData(file, tuple(figures), tuple(facts))


def _figure(v: dict[str, str], file: Path, line: int) -> Figure:
    try:
        value = float(v["value"].replace(",", ""))
    except ValueError:
        raise InsightsSourceError(
            f"field 'value' of {v['entity']} {v['period']} {v['metric']} must be a number, not {v['value']!r}",
            file, line,
        ) from None
    if not math.isfinite(value):
        raise InsightsSourceError(f"field 'value' must be finite, not {v['value']!r}", file, line)
    basis = classify_basis(v["basis"])
    if basis is None:
        raise InsightsSourceError(
            f"field 'basis' must say reported, derived or estimate, not {v['basis']!r}", file, line
        )
    if not v["source"]:
        raise InsightsSourceError("field 'source' is empty: every figure names where it comes from", file, line)
    return Figure(v["entity"], v["period"], v["metric"], value, v["unit"], basis, v["basis"], v["source"],
                  v.get("notes", ""), line)


def _previous(quarter: tuple[int, int], back: int) -> tuple[int, int]:
    index = quarter[0] * 4 + quarter[1] - 1 - back
    return index // 4, index % 4 + 1


def with_growth(series: list[Figure]) -> list[dict[str, Any]]:
    """Each figure with its QoQ and YoY change: relative growth, or percentage points for a % metric."""
    by_quarter = {f.quarter: f for f in series}
    out = []
    for f in series:
        row = f.to_dict()
        if f.quarter is None:
            raise AssertionError("cannot happen")  # an invariant, kept under python -O
        for key, back in (("qoq", 1), ("yoy", 4)):
            prev = by_quarter.get(_previous(f.quarter, back))
            row[key] = None
            if prev is not None:
                if f.unit == "%":
                    row[key] = {"change_pp": f.value - prev.value, "basis": weakest(f.basis, prev.basis)}
                elif prev.value:
                    row[key] = {"growth": f.value / prev.value - 1, "basis": weakest(f.basis, prev.basis)}
        out.append(row)
    return out


def margin_trend(series: list[Figure]) -> dict[str, Any] | None:
    """Least-squares slope of a margin over its quarters (pp per quarter), with first and last figures."""
    if len(series) < 2:
        return None
    x = np.array([(f.quarter or (0, 0))[0] * 4 + (f.quarter or (0, 0))[1] for f in series], dtype=np.float64)
    y = np.array([f.value for f in series])
    slope = float(np.polyfit(x - x[0], y, 1)[0])
    return {
        "metric": series[0].metric,
        "first": {"period": series[0].period, "value": series[0].value},
        "last": {"period": series[-1].period, "value": series[-1].value},
        "slope_pp_per_quarter": slope,
        "quarters": len(series),
        "basis": weakest(*(f.basis for f in series)),
    }


def implied_asp(data: BusinessData, entity: str) -> list[dict[str, Any]]:
    """Vehicle revenue / deliveries per quarter (a derived ASP to set beside the reported one)."""
    metric, revenue = data.headline(entity, "revenue")
    deliveries = {f.quarter: f for f in data.series(entity, "deliveries")}
    out = []
    for r in revenue:
        d = deliveries.get(r.quarter)
        scale = _money_scale(r.unit)
        if d is None or not d.value or scale is None:
            continue
        out.append({"period": r.period, "value": r.value * scale / d.value, "unit": f"{r.unit.split()[0]}/vehicle",
                    "basis": weakest("derived", r.basis, d.basis), "from": [metric, "deliveries"]})
    return out


def _money_scale(unit: str) -> float | None:
    parts = unit.split()
    if len(parts) == 2 and parts[1] in MONEY_SCALE:
        return MONEY_SCALE[parts[1]]
    return 1.0 if len(parts) == 1 and parts[0].isalpha() and parts[0].isupper() else None


def peers(data: BusinessData) -> list[dict[str, Any]]:
    """Each entity's latest quarterly deliveries and margins, and its margin trend: the peer table."""
    out = []
    for entity in data.entities:
        row: dict[str, Any] = {"entity": entity}
        for name in ("deliveries", "gross_margin", "vehicle_margin"):
            metric, series = data.headline(entity, name)
            latest = with_growth(series)[-1] if series else None
            row[name] = None if latest is None else {
                "metric": metric, "period": latest["period"], "value": latest["value"], "unit": series[-1].unit,
                "basis": latest["basis"], "definition": METRIC_DEFINITIONS.get(metric or "", metric or ""),
                "yoy": latest["yoy"],
            }
        metric, margins = data.headline(entity, "gross_margin")
        row["gross_margin_trend"] = margin_trend(margins)
        out.append(row)
    _mark_latest(out)
    return out


def _mark_latest(rows: list[dict[str, Any]]) -> None:
    """Flag each peer figure with whether it is of the newest quarter any peer reports for that measure:
    a company whose last figure is a Q3 is not to be read as a Q4 row."""
    for name in ("deliveries", "gross_margin", "vehicle_margin"):
        periods = [r[name]["period"] for r in rows if r[name]]
        newest = max(periods, key=lambda p: (int(p[:4]), int(p[5])), default=None)
        for r in rows:
            if r[name]:
                r[name]["latest_quarter"] = r[name]["period"] == newest


def no_business_report(folder: str | Path) -> dict[str, Any]:
    """The payload for a workspace without business figures: every key there, empty, and why."""
    return {
        "file": None, "available": False,
        "message": f"no {BUSINESS_FILE} in {folder}: this workspace has no business figures to show "
                   f"(add one: {', '.join(COLUMNS)}, notes)",
        "entity": None, "entities": [], "figures": 0, "by_basis": dict.fromkeys(BASES, 0), "series": {},
        "margin_trend": None, "implied_asp": [], "peers": [], "peer_margins": {}, "facts": [],
    }


def business_report(path: str | Path | None = None, entity: str | None = None) -> dict[str, Any]:
    """The ``insights business --json`` payload: the subject's quarterly series with growth, its margin
    trend, implied ASP, the peer comparison, counts by basis and the non-figure facts.

    ``path`` is a CSV file or a workspace folder (None: the bundled demo's); a folder without
    business.csv gives ``no_business_report`` (``available`` false), never another company's figures.
    """
    if path is not None and business_file(path) is None:
        return no_business_report(path)
    data = load_business(path)
    if not data.figures:
        raise InsightsSourceError("no period figures in the file", data.file)
    subject = entity or data.entities[0]
    if subject not in data.entities:
        raise InsightsSourceError(f"unknown entity {subject!r}; entities: {', '.join(data.entities)}", data.file)
    series = {}
    for name in HEADLINES:
        metric, rows = data.headline(subject, name)
        if metric:
            series[name] = {"metric": metric, "unit": rows[0].unit, "quarters": with_growth(rows)}
    _, margins = data.headline(subject, "gross_margin")
    counts = {b: sum(1 for f in data.figures if f.basis == b) for b in BASES}
    return {
        "file": str(data.file),
        "available": True,
        "entity": subject,
        "entities": data.entities,
        "figures": len(data.figures),
        "by_basis": counts,
        "series": series,
        "margin_trend": margin_trend(margins),
        "implied_asp": implied_asp(data, subject),
        "peers": peers(data),
        "peer_margins": {
            e: [{"period": f.period, "value": f.value, "metric": f.metric, "basis": f.basis}
                for f in data.headline(e, "gross_margin")[1]]
            for e in data.entities
        },
        "facts": [
            {"entity": f.entity, "subject": f.subject, "metric": f.metric, "value": f.value, "unit": f.unit,
             "basis_text": f.basis_text, "source": f.source, "line": f.line}
            for f in data.facts if f.entity == subject
        ],
    }
