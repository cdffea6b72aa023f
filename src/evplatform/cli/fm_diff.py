"""`evplatform fm diff A B`: how a feature model changed, in its edits and in its configurations.

Added to the ``fm`` group by :func:`add_commands`. The work is
:func:`evplatform.variability.edits.compare_models`; this module parses options and renders
(a Rich summary for people, the diff's ``to_dict`` for ``--json``).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from evplatform.cli.common import JsonOpt, console, err_console, print_json
from evplatform.variability.edits import compare_models
from evplatform.variability.formats import load_model

SHOWN = 10
"""Items of each list printed in the text view (``--json`` has them all)."""

SEMANTICS = {
    "full": "a feature absent from a version is deselected in all its configurations",
    "projected": "configurations restricted to the features both versions share",
}


def add_commands(fm_app: typer.Typer) -> None:
    """Register ``diff`` on the ``fm`` group."""
    fm_app.command("diff")(diff)


def diff(
    old: Annotated[Path, typer.Argument(help="The old version (.uvl, FeatureIDE .xml, .dimacs).", show_default=False)],
    new: Annotated[Path, typer.Argument(help="The new version (any of the same formats).", show_default=False)],
    time_limit: Annotated[float, typer.Option(
        "--time-limit", min=0.1, max=86_400,
        help="Wall-clock seconds for each check (edit class, projected class, core/dead, counts); "
             "what is not decided or counted in time is null, with the reason.")
    ] = 60.0,
    count: Annotated[bool, typer.Option("--count/--no-count", help="Count lost and gained configurations exactly.")
                     ] = True,
    as_json: JsonOpt = False,
) -> None:
    """Edit class (refactoring, specialisation, generalisation, arbitrary), witnesses, counts and the edits."""
    started = time.perf_counter()
    with err_console.status(f"reading {old.name} and {new.name}…"):
        a, b = load_model(old), load_model(new)
    with err_console.status(f"comparing {len(a):,} and {len(b):,} features…"):
        result = compare_models(a, b, time_limit_s=time_limit, count=count)
    payload: dict[str, Any] = {"a": str(old), "b": str(new), **result.to_dict(),
                               "total_seconds": round(time.perf_counter() - started, 3)}
    if as_json:
        print_json(payload)
        return
    _render(payload)


def count_text(value: str | None, note: str | None = None) -> str:
    """A decimal count with thousands separators, or its order of magnitude when longer than 15 digits."""
    if value is None:
        return note or "not counted"
    if len(value) <= 15:
        return f"{int(value):,}"
    return f"≈ {value[0]}.{value[1:3]} × 10^{len(value) - 1}"


def _names(items: list[str] | None) -> str:
    if items is None:
        return "—"
    if not items:
        return "(none needed)"
    shown = ", ".join(items[:SHOWN])
    return shown + (f" … +{len(items) - SHOWN:,} more" if len(items) > SHOWN else "")


def _render(payload: dict[str, Any]) -> None:
    console.print(f"[bold]fm diff[/] {Path(payload['a']).name} → {Path(payload['b']).name}: "
                  f"{payload['features_a']:,} → {payload['features_b']:,} features "
                  f"({payload['total_seconds']:.2f} s)", highlight=False)
    console.print(f"Edit class: [bold]{_klass(payload)}[/] (full semantics: {SEMANTICS['full']})", highlight=False)
    table = Table(title="Configurations", title_justify="left")
    table.add_column("")
    table.add_column("full")
    table.add_column("projected")
    semantics = [payload, payload["projected"]]
    rows = [
        ("features compared", lambda s: f"{s['features']:,}"),
        ("edit class", _klass),
        ("configurations of A", lambda s: count_text(s["count_a"], s["count_note"])),
        ("configurations of B", lambda s: count_text(s["count_b"], s["count_note"])),
        ("lost (in A, not in B)", lambda s: _exists(s["lost_exists"], s["lost_count"], s["count_note"],
                                                    s["edit_class_note"])),
        ("gained (in B, not in A)", lambda s: _exists(s["gained_exists"], s["gained_count"], s["count_note"],
                                                      s["edit_class_note"])),
        ("lost: witness selects", lambda s: _names(s["witness_lost"])),
        ("lost: witness deselects", lambda s: _names(s["deselected_lost"])),
        ("lost: breaks", lambda s: s["rule_lost"] or "—"),
        ("gained: witness selects", lambda s: _names(s["witness_gained"])),
        ("gained: witness deselects", lambda s: _names(s["deselected_gained"])),
        ("gained: breaks", lambda s: s["rule_gained"] or "—"),
    ]
    for label, cell in rows:
        table.add_row(label, *(cell(s) for s in semantics))
    console.print(table)
    console.print(f"projected: {SEMANTICS['projected']}", highlight=False)
    _render_edits(payload)


def _klass(figures: dict[str, Any]) -> str:
    """The edit class, or why it is unknown."""
    return str(figures["edit_class"] or f"unknown ({figures.get('edit_class_note') or 'not decided'})")


def _exists(exists: bool | None, value: str | None, note: str | None, undecided: str | None) -> str:
    if exists is None:
        return f"unknown ({undecided or 'not decided'})"
    if not exists:
        return "none"
    return count_text(value, note)


def _render_edits(payload: dict[str, Any]) -> None:
    console.print(f"\n[bold]Edits[/]: {payload['features_added']:,} features added, "
                  f"{payload['features_removed']:,} removed, {payload['features_moved']:,} moved; "
                  f"{len(payload['group_changes']):,} group changes, {len(payload['attribute_changes']):,} attribute "
                  f"changes; {payload['constraints_added']:,} constraints added, "
                  f"{payload['constraints_removed']:,} removed", highlight=False)
    sections = [
        ("added", payload["added_features"], lambda e: f"{e['name']} under {e['new_parent']}"),
        ("removed", payload["removed_features"], lambda e: f"{e['name']} (was under {e['old_parent']})"),
        ("moved", payload["moved_features"], lambda e: f"{e['name']}: {e['old_parent']} → {e['new_parent']}"),
        ("group changed", payload["group_changes"],
         lambda e: f"{e['parent']}: {', '.join(e['children'])} {e['old']} → {e['new']}"),
        ("attribute changed", payload["attribute_changes"],
         lambda e: f"{e['feature']}.{e['attribute']}: {e['old']!r} → {e['new']!r}"),
        ("constraint added", payload["added_constraints"], lambda e: f"B line {e['line_b']}: {e['text']}"),
        ("constraint removed", payload["removed_constraints"], lambda e: f"A line {e['line_a']}: {e['text']}"),
    ]
    for title, items, line in sections:
        for item in items[:SHOWN]:
            console.print(f"  {title}: {line(item)}", highlight=False, soft_wrap=True)
        if len(items) > SHOWN:
            console.print(f"  {title}: … +{len(items) - SHOWN:,} more (see --json)", highlight=False)
    if payload.get("analyses_note"):
        console.print(f"  core, dead, false-optional: {payload['analyses_note']}", highlight=False)
    for name, change in payload["analyses"].items():
        label = name.replace("_", "-")
        parts = [f"{len(change[key]):,} {key}" + (f" ({_names(change[key])})" if change[key] else "")
                 for key in ("appeared", "disappeared")]
        console.print(f"  {label}: {', '.join(parts)}", highlight=False, soft_wrap=True)
