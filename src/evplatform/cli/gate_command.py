"""`evplatform check --against REV`: the CI gate (what `check` does when given a base revision).

Exit codes: 0 the change passes; 1 it fails the gate (each failure is listed); 2 a side could not
be read (unknown revision, not a workspace at that revision, a workspace that does not load).
"""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path

import typer

from evplatform.cli.common import console, print_json
from evplatform.cli.diff import day_of, unreadable
from evplatform.errors import EvplatformError
from evplatform.evolution import SideError, gate
from evplatform.evolution.impact import DEFAULT_FM_TIME_LIMIT_S, ImpactOptions, compare_sides
from evplatform.evolution.markdown import render_gate
from evplatform.evolution.revisions import open_side
from evplatform.workspace.loader import demo_path

EXIT_FAILED = 1


def parse_share(text: str) -> float:
    """``1%`` → 0.01, ``0.5 %`` → 0.005, ``0.02`` → 0.02 (a bare number ≥ 1 is read as percent)."""
    cleaned = text.strip().replace(" ", "")
    try:
        value = float(cleaned.rstrip("%"))
    except ValueError:
        raise EvplatformError(f"--max-cost-increase: {text!r} is not a share like 1% or 0.01") from None
    share = value / 100 if cleaned.endswith("%") or value >= 1 else value
    if not 0 <= share <= 10:
        raise EvplatformError(f"--max-cost-increase: {text!r} is outside 0 %–1000 %")
    return share


def run_gate(workspace: Path | None, against: str, *, max_cost_increase: str, allow_specialisation: bool,
             on: str | None, markdown: Path | None, as_json: bool,
             time_limit_s: float = DEFAULT_FM_TIME_LIMIT_S) -> None:
    """Compare the workspace as it is now with ``against`` and exit 1 on any gate failure."""
    share = parse_share(max_cost_increase)
    folder = workspace or demo_path()
    try:
        with ExitStack() as stack:
            before = stack.enter_context(open_side(against, folder, "before"))
            after = stack.enter_context(open_side(None, folder, "after"))
            # the gate needs only whether configurations were lost, not how many
            report = compare_sides(before, after, ImpactOptions(on=day_of(on), count_configurations=False,
                                                                feature_time_limit_s=time_limit_s))
            result = gate(report, before, after, max_cost_increase=share,
                          allow_specialisation=allow_specialisation)
    except SideError as error:
        raise unreadable(error) from None
    if markdown is not None:
        markdown.write_text(render_gate(report, result), encoding="utf-8")
    if as_json:
        print_json({"gate": result.to_dict(), "impact": report})
    else:
        _print(result.to_dict(), against)
    if not result.passed:
        raise typer.Exit(EXIT_FAILED)


def _print(result: dict[str, object], against: str) -> None:
    verdict = "[bold green]passed[/]" if result["passed"] else "[bold red]failed[/]"
    console.print(f"Platform gate against {against}: {verdict}")
    for failure in result["failures"]:  # type: ignore[attr-defined]
        console.print(f"  [red]✗[/] {failure['rule']}: {failure['message']}", highlight=False)
    for checked in result["checked"]:  # type: ignore[attr-defined]
        console.print(f"  [dim]checked: {checked}[/]", highlight=False)
    for skipped in result["skipped"]:  # type: ignore[attr-defined]
        console.print(f"  [yellow]not checked[/]: {skipped}", highlight=False)
