"""`evplatform fm configure` and `evplatform fm sample`: the configurator and test-sample commands.

Added to A's ``fm`` group by :func:`add_commands`. Commands parse options, call the
variability domain and render: Rich tables for people, ``--json`` for machines (nothing else
on stdout; spinners and progress on stderr).
"""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import Progress
from rich.table import Table

from evplatform.cli.common import JsonOpt, console, err_console, print_json
from evplatform.markets.configuration import closest_compliant, configuration_verdict, in_market
from evplatform.markets.rules import parse_date
from evplatform.service.configurator import start_from
from evplatform.variability.cnf import CNF, encode
from evplatform.variability.completion import complete_min_cost
from evplatform.variability.formats import load_model
from evplatform.variability.model import FeatureModel
from evplatform.variability.propagation import Propagation, Propagator
from evplatform.variability.sampling import random_sample, twise_sample
from evplatform.workspace import load_workspace

FileArg = Annotated[Path, typer.Argument(help="Feature model: .uvl, FeatureIDE .xml or .dimacs.", show_default=False)]
SHOWN_ROWS = 40


def add_commands(fm_app: typer.Typer) -> None:
    """Register ``configure`` and ``sample`` on the ``fm`` group."""
    fm_app.command("configure")(configure)
    fm_app.command("sample")(sample)


def load(file: Path) -> tuple[FeatureModel, CNF]:
    """The model and its CNF (readers by suffix)."""
    model = load_model(file)
    return model, encode(model)


def configure(
    file: FileArg,
    select: Annotated[list[str] | None, typer.Option("--select", help="Select this feature (repeatable).")] = None,
    deselect: Annotated[
        list[str] | None, typer.Option("--deselect", help="Deselect this feature (repeatable).")
    ] = None,
    min_cost: Annotated[
        str | None, typer.Option("--min-cost", help="Complete at the least sum of this attribute (e.g. cost).")
    ] = None,
    trim: Annotated[str | None, typer.Option(
        "--trim", help="Start from this trim's decisions (model/trim; FILE is a workspace's feature model).",
        show_default=False)] = None,
    market: Annotated[str | None, typer.Option(
        "--market", help="With --trim: the market whose selections are added (default: the base market).",
        show_default=False)] = None,
    closest: Annotated[str | None, typer.Option(
        "--closest", help="Also: the valid configuration complying in this market that overturns the fewest "
                          "decisions, then costs least (FILE is a workspace's feature model).",
        show_default=False)] = None,
    on: Annotated[str | None, typer.Option(
        "--date", help="With --closest: the day the rules are read on (YYYY-MM-DD; default today).",
        show_default=False)] = None,
    as_json: JsonOpt = False,
) -> None:
    """What the decisions force and forbid (and why), then a valid completion (cheapest with --min-cost);
    with --closest MARKET the closest configuration complying with that market's rules."""
    chosen, dropped = list(select or []), list(deselect or [])
    if trim is not None or market is not None:  # the same start as a configurator session of the API
        begin = start_from(load_workspace(file.parent), trim, market)
        chosen = [n for n in begin.selected if n not in dropped] + [n for n in chosen if n not in begin.selected]
        dropped = [n for n in begin.deselected if n not in chosen] + [n for n in dropped if n not in begin.deselected]
    start = time.perf_counter()
    with err_console.status("reading the model…"):
        model, cnf = load(file)
    with Propagator(cnf) as propagator:
        unit = propagator.propagate_unit(chosen, dropped)
        with err_console.status("computing the complete consequences (backbone)…"):
            full = propagator.propagate(chosen, dropped)
        reasons = {name: full.reasons[name] for name in full.reasons}
    completion: dict[str, Any]
    if min_cost is not None:
        with err_console.status(f"completing at the least {min_cost}…"):
            best = complete_min_cost(model, chosen, dropped, attribute=min_cost)
        completion = {"attribute": min_cost, "selected": sorted(best.selected), "added": sorted(best.added),
                      "cost": best.cost, "added_cost": best.added_cost}
    else:
        example = full.example or frozenset()
        completion = {"attribute": None, "selected": sorted(example), "added": sorted(example - set(chosen)),
                      "cost": None, "added_cost": None}
    data = {
        "file": str(file), "features": cnf.n_features, "selected": chosen, "deselected": dropped,
        "propagation": {
            "unit": {"forced": sorted(unit.forced), "forbidden": sorted(unit.forbidden), "seconds": unit.seconds},
            "forced": sorted(full.forced), "forbidden": sorted(full.forbidden), "complete": full.complete,
            "reasons": {n: {"state": "forced" if r.value else "forbidden", "rule": r.rule,
                            "decisions": list(r.decisions), "by": "unit" if n in unit.reasons else "backbone",
                            "line": r.line}
                        for n, r in reasons.items()},
            "seconds": full.seconds,
        },
        "completion": completion,
        "seconds": time.perf_counter() - start,
    }
    fix = _closest(file, chosen, dropped, closest, parse_date(on) if on else date.today()) if closest else None
    if fix is not None:
        data["closest"] = fix
    if as_json:
        print_json(data)
        return
    _render_configuration(data, unit, full)
    if fix is not None:
        _render_closest(fix)


def _closest(file: Path, chosen: list[str], dropped: list[str], market: str, day: date) -> dict[str, Any]:
    """The ``closest`` part of the JSON: the fix, what it overturns, and the verdict it reaches."""
    ws = load_workspace(file.parent)
    with err_console.status(f"closest configuration complying in {market}…"):
        fix = closest_compliant(ws, chosen, dropped, market, day)
    found = fix.closest.selected
    verdict = configuration_verdict(ws, in_market(ws, found, market), market, day)
    return {"market": market, "date": day.isoformat(), "rules": [r.id for r in fix.rules],
            "changes": fix.closest.changes, "dropped": list(fix.closest.dropped), "taken": list(fix.closest.taken),
            "selected": sorted(found), "cost": fix.closest.cost, "status": verdict.status}


def _render_closest(closest: dict[str, Any]) -> None:
    overturned = [f"-{n}" for n in closest["dropped"]] + [f"+{n}" for n in closest["taken"]]
    console.print(f"Closest configuration complying in {closest['market']} on {closest['date']} "
                  f"({len(closest['rules'])} rules in force): {closest['status']}, {closest['changes']} decision(s) "
                  f"overturned ({' '.join(overturned) or 'none'}), {len(closest['selected'])} features, "
                  f"cost {closest['cost']:,.2f}")


def _render_configuration(data: dict[str, Any], unit: Propagation, full: Propagation) -> None:
    decided = [f"+{n}" for n in data["selected"]] + [f"-{n}" for n in data["deselected"]]
    console.print(f"[bold]{data['file']}[/]: {data['features']} features; decisions: {' '.join(decided) or 'none'}")
    reasons = data["propagation"]["reasons"]
    consequences = {n: r for n, r in reasons.items() if r["decisions"]}
    table = Table(title="Consequences of the decisions", title_justify="left")
    for column in ("feature", "state", "because", "rule", "found by"):
        table.add_column(column)
    for name, r in list(sorted(consequences.items()))[:SHOWN_ROWS]:
        colour = "green" if r["state"] == "forced" else "red"
        table.add_row(name, f"[{colour}]{r['state']}[/]", ", ".join(r["decisions"]), r["rule"], r["by"])
    console.print(table)
    hidden = len(consequences) - SHOWN_ROWS
    if hidden > 0:
        console.print(f"… and {hidden} more (see --json)")
    fixed = len(reasons) - len(consequences)
    share = len(unit.forced | unit.forbidden) / max(1, len(full.forced | full.forbidden))
    console.print(
        f"{len(full.forced)} forced, {len(full.forbidden)} forbidden ({fixed} fixed by the model alone); "
        f"unit propagation found {100 * share:.0f} % in {1000 * unit.seconds:.2f} ms, "
        f"the complete answer took {1000 * full.seconds:.0f} ms"
    )
    completion = data["completion"]
    if completion["attribute"] is None:
        console.print(f"A valid completion: {len(completion['selected'])} features "
                      f"({len(completion['added'])} beyond the selection); --min-cost ATTR for the cheapest.")
        return
    console.print(f"Cheapest completion by {completion['attribute']}: total {completion['cost']:,.2f}, "
                  f"added {len(completion['added'])} features costing {completion['added_cost']:,.2f}")
    added = Table(title_justify="left")
    added.add_column("added feature")
    for name in completion["added"][:SHOWN_ROWS]:
        added.add_row(name)
    console.print(added)


def sample(
    file: FileArg,
    t: Annotated[int, typer.Option("--t", help="Interaction strength of the covering sample (1 or 2).")] = 2,
    random: Annotated[
        int | None, typer.Option("--random", help="Instead: N configurations drawn uniformly at random.")
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed (same seed, same sample).")] = 0,
    iterations: Annotated[int, typer.Option("--iterations", help="t-wise passes; the smallest sample is kept.")] = 3,
    as_json: JsonOpt = False,
) -> None:
    """A t-wise covering sample of valid configurations (pairwise by default) with its coverage, or --random N."""
    start = time.perf_counter()
    with err_console.status("reading the model…"):
        _, cnf = load(file)
    data: dict[str, Any] = {"file": str(file), "features": cnf.n_features, "seed": seed}
    if random is not None:
        with err_console.status(f"compiling and drawing {random} configurations…"):
            configs = random_sample(cnf, random, seed)
        data.update({"mode": "random", "distribution": "uniform"})
    else:
        with Progress(console=err_console, transient=True) as bar:
            task = bar.add_task(f"{t}-wise sampling", total=None)

            def advance(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            result = twise_sample(cnf, t, seed=seed, iterations=iterations, progress=advance)
        configs = result.configs
        data.update({"mode": f"{t}-wise", "t": t, "coverage": result.coverage, "covered": result.covered,
                     "valid_interactions": result.valid, "invalid_interactions": result.invalid,
                     "iterations": result.iterations, "lower_bound": result.lower_bound})
    data["configurations"] = [sorted(c) for c in configs]
    data["seconds"] = time.perf_counter() - start
    if as_json:
        print_json(data)
        return
    table = Table(title=f"{len(configs)} configurations of {file}", title_justify="left")
    table.add_column("#", justify="right")
    table.add_column("features", justify="right")
    table.add_column("first selected features")
    for number, config in enumerate(data["configurations"][:SHOWN_ROWS], start=1):
        table.add_row(str(number), str(len(config)), ", ".join(config[:6]) + (" …" if len(config) > 6 else ""))
    console.print(table)
    if random is None:
        console.print(f"{t}-wise coverage: {100 * data['coverage']:.2f} % of {data['valid_interactions']:,} valid "
                      f"interactions ({data['invalid_interactions']:,} proven invalid and excluded), "
                      f"{data['seconds']:.1f} s")
        if data["lower_bound"]:
            console.print(f"any sample with full {t}-wise coverage needs ≥ {data['lower_bound']:,} configurations "
                          "(mutually exclusive valid interactions)")
    else:
        console.print(f"drawn uniformly at random with seed {seed} in {data['seconds']:.1f} s")
