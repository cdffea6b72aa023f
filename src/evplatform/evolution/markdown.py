"""The impact report and the gate verdict as GitHub/GitLab-flavoured Markdown (a PR comment).

Only rows that changed are listed; numbers carry units and thousands separators.
"""

from __future__ import annotations

from typing import Any

from evplatform.evolution.gate import GateResult


def _num(value: float | None, digits: int = 0, sign: bool = False) -> str:
    if value is None:
        return "–"
    return f"{value:{'+' if sign else ''},.{digits}f}"


def _cell(d: dict[str, Any], digits: int = 0, unit: str = "") -> str:
    """``before → after (Δ)`` of a ``{"before", "after", "delta"}`` triple."""
    if d["before"] == d["after"]:
        return f"{_num(d['after'], digits)}{unit}"
    return f"{_num(d['before'], digits)} → {_num(d['after'], digits)}{unit} ({_num(d['delta'], digits, True)})"


def _esc(text: str) -> str:
    return text.replace("|", "\\|")


def _valid(row: dict[str, Any]) -> str:
    v = row["valid"]
    if v["before"] == v["after"]:
        return "✅" if v["after"] else "❌"
    return f"{'✅' if v['before'] else '❌'} → {'✅' if v['after'] else '❌'}"


def _compliance(row: dict[str, Any]) -> str:
    parts = []
    for mode, cell in row["compliance"].items():
        if not cell["changed"]:
            continue
        gained = ", ".join(r["regulation"] for r in cell["reasons_gained"])
        lost = ", ".join(r["regulation"] for r in cell["reasons_lost"])
        text = f"{mode.replace('_', ' ')}: {cell['before']} → {cell['after']}"
        text += f" (breaks {gained})" if gained else ""
        text += f" (now meets {lost})" if lost else ""
        parts.append(text)
    return "; ".join(parts) or "–"


def _parts(row: dict[str, Any]) -> str:
    added = [f"+{p['part_no']} ({p['supplier'] or 'no supplier'})" for p in row["parts_added"]]
    removed = [f"−{p['part_no']} ({p['supplier'] or 'no supplier'})" for p in row["parts_removed"]]
    return ", ".join(added + removed) or "–"


def _range(row: dict[str, Any]) -> str:
    sim = row.get("simulation")
    if not sim:
        return "–"
    return f"{_cell(sim['range_km'], 0, ' km')} ({sim['cycle'].upper()})"


def render_diff(report: dict[str, Any], *, limit: int = 60) -> str:
    """The whole report; at most ``limit`` changed trim × market rows (the rest counted)."""
    b, a, cur = report["before"], report["after"], report["currency"]
    s = report["summary"]
    lines = [
        f"## Platform impact: `{b['label']}` → `{a['label']}`",
        "",
        f"{s['changed']:,} of {s['configurations']:,} trim × market configurations change; "
        f"compliance on {report['date']}; costs in {cur}.",
    ]
    for key, title in (("became_invalid", "Trims made invalid"), ("compliance_lost", "Compliance lost"),
                       ("rxswin_changes", "Software identification must change (UN R156 RXSWIN, GB 44496 SWIN)")):
        if s[key]:
            lines.append(f"- **{title}**: {', '.join(s[key])}")
    lines += ["", *_feature_lines(report["feature_model"]), ""]
    changed = [r for r in report["trims"] if _changed(r)]
    if changed:
        lines += ["### Trims × markets that change", "",
                  "| trim | market | valid | unit cost | mass | parts | compliance | range |",
                  "|---|---|---|---:|---:|---|---|---:|"]
        for r in changed[:limit]:
            lines.append(f"| {r['trim']} | {r['market']} | {_valid(r)} | {_cell(r['unit_cost'])} | "
                         f"{_cell(r['mass_kg'], 1, ' kg')} | {_esc(_parts(r))} | {_esc(_compliance(r))} | "
                         f"{_range(r)} |")
        if len(changed) > limit:
            lines.append(f"\n… and {len(changed) - limit:,} more (see `evplatform diff --json`).")
        lines.append("")
        lines += _repairs(changed)
    lines += _platform_lines(report)
    return "\n".join(lines).rstrip() + "\n"


def render_partial(report: dict[str, Any]) -> str:
    """A ``partial_report``: which side did not load (file:line), then the feature-model comparison."""
    label = {name: report[name].get("label", name) for name in ("before", "after")}
    lines = [f"## Platform impact: `{label['before']}` → `{label['after']}` (partial)", "",
             "The per-trim and platform impacts need both workspaces; only the feature models were compared.", ""]
    lines += [f"- ❌ {_esc(error)}" for error in report["errors"]]
    lines += ["", *_feature_lines(report["feature_model"])]
    return "\n".join(lines).rstrip() + "\n"


def _changed(row: dict[str, Any]) -> bool:
    sim = row.get("simulation") or {}
    return bool(row["valid"]["before"] != row["valid"]["after"] or not row["valid"]["after"]
                or row["unit_cost"]["delta"] or row["mass_kg"]["delta"] or row["parts_added"]
                or row["parts_removed"] or any(c["changed"] for c in row["compliance"].values())
                or row["software"]["incompatible_ecus"] or any((sim.get(k) or {}).get("delta")
                                                                for k in ("range_km", "consumption_kwh_per_100km")))


def _repairs(rows: list[dict[str, Any]]) -> list[str]:
    out = []
    for r in rows:
        problem = r["invalid"]["after"]
        if problem:
            fix = problem["closest"]
            at = ":".join(str(p) for p in (problem["file"], problem["line"]) if p is not None)
            out.append(f"- `{r['trim']}` in {r['market']} is invalid ({at}): {_esc(problem['error'])}. Closest valid "
                       f"configuration: add {', '.join(fix['added']) or 'nothing'}, remove "
                       f"{', '.join(fix['removed']) or 'nothing'}, feature cost {_num(fix['cost_delta'], 0, True)}.")
        if r["software"]["incompatible_ecus"]:
            sw = r["software"]
            ecus = ", ".join(f"{e} ({(sw['before'] or {}).get(e)} → {(sw['after'] or {}).get(e, 'none')})"
                             for e in sw["incompatible_ecus"])
            out.append(f"- `{r['trim']}` in {r['market']}: installed releases no longer compatible on {ecus}.")
    return [*out, ""] if out else []


def _feature_lines(fm: dict[str, Any]) -> list[str]:
    lines = ["### Feature model", ""]
    edit = fm.get("edit_class")
    why = fm.get("semantic_error") or fm.get("edit_class_note") or "the check did not settle"
    lines.append(f"- edit class: **{edit}**" if edit else f"- edit class: unknown ({why})")
    if fm.get("witness_lost"):
        lines.append(f"- a configuration lost: {{{', '.join(fm['witness_lost'])}}}"
                     + (f" (breaks `{_esc(fm['rule_lost'])}`)" if fm.get("rule_lost") else ""))
    if fm.get("witness_gained"):
        lines.append(f"- a configuration gained: {{{', '.join(fm['witness_gained'])}}}")
    if fm.get("lost_count") is not None or fm.get("gained_count") is not None or fm.get("count_note"):
        note = fm.get("count_note")
        lines.append(f"- configurations lost: {_count(fm.get('lost_count'), note)}, "
                     f"gained: {_count(fm.get('gained_count'), note)}")
    if fm.get("analyses_note"):
        lines.append(f"- core, dead and false-optional features: {fm['analyses_note']}")
    for key, items in fm["names"].items():
        if items:
            lines.append(f"- {key.replace('_', ' ')}: {', '.join(f'`{_esc(x)}`' for x in items)}")
    return lines


def _count(text: str | None, note: str | None = None) -> str:
    return (note or "not counted") if text is None else f"{int(text):,}"


def _platform_lines(report: dict[str, Any]) -> list[str]:
    p = report["platform"]
    lines = ["### Platform", "", "| indicator | before | after | Δ |", "|---|---:|---:|---:|"]
    labels = {"reuse_part_share": "part-number reuse (models)", "reuse_spend_share": "spend reuse (models)",
              "dci": "DCI", "tcci": "TCCI", "ci": "CI", "ci_c": "CI(C)",
              "platform_saving": f"platform saving vs separate ({report['currency']})",
              "platform_saving_share": "platform saving share"}
    for key, label in labels.items():
        d = p[key]
        digits = 0 if key == "platform_saving" else 3
        lines.append(f"| {label} | {_num(d['before'], digits)} | {_num(d['after'], digits)} | "
                     f"{_num(d['delta'], digits, True)} |")
    npv = report.get("npv_p50")
    if npv and npv.get("before") and npv.get("after"):
        lines += ["", f"NPV P50 ({npv['after']['scenario']}, {npv['draws']:,} Monte Carlo draws, seed {npv['seed']}): "
                      f"platform {_num(npv['before']['platform'])} → {_num(npv['after']['platform'])} "
                      f"{report['currency']}; advantage over separate products {_num(npv['before']['advantage'])} → "
                      f"{_num(npv['after']['advantage'])} {report['currency']}."]
    lines += _roadmap_lines(report.get("roadmap_moves") or [])
    if report["software_selection"]:
        lines += ["", "### Software compatibility", ""]
        for c in report["software_selection"]:
            lines.append(f"- `{c['component']}` selects {len(c['gained'])} more and {len(c['lost'])} fewer trim × "
                         f"market configurations" + (f" (lost: {', '.join(c['lost'][:8])})" if c["lost"] else ""))
    return lines


def _roadmap_lines(moves: list[dict[str, Any]], limit: int = 20) -> list[str]:
    """Roadmap events (a confirmed regulation coming into force breaks a trim) the change adds, removes or alters."""
    if not moves:
        return []
    lines = ["", "### Compliance roadmap", ""]
    for move in moves[:limit]:
        what = "; ".join(f"{t['trim']} " + " ".join([*(f"+{r}" for r in t["breaks"]),
                                                      *(f"−{r}" for r in t["no_longer_breaks"])])
                         for t in move["trims"])
        status = " (new event)" if move["before"] is None else " (event gone)" if move["after"] is None else ""
        lines.append(f"- {move['model']} in {move['market']}, {move['mode'].replace('_', ' ')}, "
                     f"{move['date']}{status}: {what}")
    if len(moves) > limit:
        lines.append(f"- … and {len(moves) - limit:,} more (see `--json`)")
    return lines


def render_gate(report: dict[str, Any], result: GateResult) -> str:
    """The gate verdict first, then the impact report."""
    head = ["## ✅ Platform gate passed" if result.passed else "## ❌ Platform gate failed", ""]
    head += [f"- ❌ **{f['rule']}** {_esc(f['message'])}" for f in result.failures]
    head += [f"- checked: {c}" for c in result.checked]
    head += [f"- not checked: {c}" for c in result.skipped]
    return "\n".join(head) + "\n\n" + render_diff(report).replace("## Platform impact", "### Platform impact", 1)
