"""The feature-model explorer's data (issue 15, section 3): tree, constraints, trims × features matrix.

The dashboard's ``/features`` page only renders what this module assembles. Core, dead and
false-optional features and the dead features' explanations come from
:func:`evplatform.service.configurator.workspace_analysis` (the same analysis as ``fm analyze``
and the API), so the page never computes them another way. Group kinds are phrased the way
FeatureIDE users read them: a ``[1..1]`` cardinality group is "alternative (exactly one)", and only a
cardinality no named kind covers is shown as ``[lo..hi]``.
"""

from __future__ import annotations

import csv
import io
import logging
from pathlib import Path
from typing import Any

from evplatform.service.configurator import model_label, workspace_analysis
from evplatform.variability.model import AttributeValue, FeatureModel, Group, GroupKind
from evplatform.workspace import Workspace

logger = logging.getLogger(__name__)

#: Unit of an attribute by the end of its name (``mass_kg``); ``cost`` is in the platform's currency.
UNIT_SUFFIXES = (("_kwh", "kWh"), ("_kmh", "km/h"), ("_kw", "kW"), ("_nm", "N·m"), ("_kg", "kg"),
                 ("_m2", "m²"), ("_m", "m"), ("_v", "V"), ("_s", "s"), ("_pct", "%"))
ALTERNATIVE = "alternative (exactly one)"
OR = "or (at least one)"


def group_label(group: Group) -> str:
    """How FeatureIDE users name a group: a cardinality that is a named kind gets the kind's name."""
    named = {GroupKind.MANDATORY: "mandatory", GroupKind.OPTIONAL: "optional", GroupKind.OR: OR,
             GroupKind.ALTERNATIVE: ALTERNATIVE}
    if group.kind in named:
        return named[group.kind]
    n = len(group.children)
    low, high = group.bounds()
    if (low, high) == (1, 1):
        return ALTERNATIVE
    if (low, high) == (1, n) and n > 1:
        return OR
    if (low, high) == (n, n):
        return "mandatory"
    if low == 0 and (group.card_max is None or group.card_max >= n):
        return "optional"
    return f"[{group.card_min}..{'*' if group.card_max is None else group.card_max}]"


def attribute_unit(key: str, currency: str) -> str:
    if key == "cost" or key.startswith("cost_"):
        return currency
    return next((unit for suffix, unit in UNIT_SUFFIXES if key.endswith(suffix)), "")


def format_value(value: AttributeValue, unit: str) -> str:
    """A number with thousands separators and its unit (``1,290 kg``); text and flags as they are."""
    if isinstance(value, bool):
        text = "yes" if value else "no"
    elif isinstance(value, int):
        text = f"{value:,}"
    elif isinstance(value, float):
        text = f"{value:,.0f}" if value.is_integer() and abs(value) >= 1000 else f"{value:,g}"
    else:
        text = str(value)
    return f"{text} {unit}" if unit and not isinstance(value, str | bool) else text


def explorer_view(ws: Workspace, analysis: dict[str, Any] | None = None) -> dict[str, Any]:
    """Everything the ``/features`` page shows, as plain dicts. ``analysis`` is
    :func:`workspace_analysis` of ``ws`` when the caller already holds it (the app caches it for
    ``/api/fm/analysis`` too), so the solver runs once per workspace."""
    model = ws.feature_model
    file = model_label(ws)
    found = workspace_analysis(ws) if analysis is None else analysis
    explained = {e["feature"]: e for e in found["explanations"]["dead"] if e["feature"]}
    status = {**{n: "core" for n in found["core"]}, **{n: "false-optional" for n in found["false_optional"]},
              **{n: "dead" for n in found["dead"]}}
    constraints: list[dict[str, Any]] = []
    mentioned: dict[str, list[str]] = {}
    for i, c in enumerate(model.constraints, 1):
        names = sorted(c.expr.variables())
        constraints.append({"id": f"c{i}", "text": str(c), "line": c.line, "where": _where(file, c.line),
                            "features": names})
        for name in names:
            mentioned.setdefault(name, []).append(f"c{i}")
    context = _TreeContext(model, file, ws.platform.currency, status, explained, mentioned)
    return {"file": file, "features": len(model), "valid": found["valid"], "count": found["count"],
            "tree": _node(context, model.root), "constraints": constraints,
            "core": found["core"], "dead": found["dead"], "false_optional": found["false_optional"],
            "explanations": found["explanations"], "matrix": trim_matrix(ws)}


class _TreeContext:
    def __init__(self, model: FeatureModel, file: str, currency: str, status: dict[str, str],
                 explained: dict[str, Any], mentioned: dict[str, list[str]]) -> None:
        self.model, self.file, self.currency = model, file, currency
        self.status, self.explained, self.mentioned = status, explained, mentioned


def _node(context: _TreeContext, name: str) -> dict[str, Any]:
    feature = context.model.features[name]
    attributes = []
    for key, value in feature.attributes.items():
        if key == "abstract":
            continue
        attributes.append({"key": key, "value": format_value(value, attribute_unit(key, context.currency))})
    search = " ".join([name.lower()] + [f"{a['key']} {a['value']}".lower() for a in attributes])
    return {"name": name, "abstract": feature.abstract, "line": feature.line,
            "where": _where(context.file, feature.line), "attributes": attributes,
            "status": context.status.get(name), "explanation": context.explained.get(name),
            "constraints": context.mentioned.get(name, []), "search": search,
            "groups": [{"label": group_label(g), "line": g.line,
                        "children": [_node(context, child) for child in g.children]} for g in feature.groups]}


def _where(file: str, line: int | None) -> str | None:
    return f"{file}:{line}" if line else None


def trim_matrix(ws: Workspace) -> dict[str, Any]:
    """Which trim selects which concrete feature; a trim whose configuration differs by market has one
    row per distinct configuration, naming the markets it holds in."""
    model = ws.feature_model
    columns = [n for n, f in model.features.items() if not f.abstract]
    rows: list[dict[str, Any]] = []
    for trim in ws.trims():
        variants: dict[frozenset[str], list[str]] = {}
        for (key, market), config in ws.configurations.items():
            if key == trim.key:
                variants.setdefault(config, []).append(market)
        for config, markets in variants.items():
            rows.append({"trim": trim.key, "name": trim.name, "markets": sorted(markets),
                         "selected": [c in config for c in columns]})
    return {"columns": columns, "rows": rows, "by_market": len(rows) > len(ws.trims())}


def matrix_csv(ws: Workspace) -> str:
    """The matrix as CSV: trim, markets (``;``-separated), then 1 or 0 per concrete feature."""
    matrix = trim_matrix(ws)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["trim", "markets", *matrix["columns"]])
    for row in matrix["rows"]:
        writer.writerow([row["trim"], ";".join(row["markets"]), *(int(s) for s in row["selected"])])
    return out.getvalue()


def source_view(ws: Workspace) -> tuple[str, list[str]]:
    """The feature model's name and text, for the page's source view (``file:line`` links point into it)."""
    source = ws.feature_model.source
    lines = Path(source).read_text(encoding="utf-8").splitlines() if source else []
    return model_label(ws), lines
