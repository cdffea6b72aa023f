"""`evplatform fm`: feature-model analyses and conversion (configure and sample come from fm_configure).

Commands parse options, call :mod:`evplatform.variability` and render: a Rich table for people,
``--json`` for machines (DESIGN.md: ``{"file", "op", "features", "result", "seconds"}``), with a
status spinner on stderr while a model is read or analysed.
"""

from __future__ import annotations

import importlib.util
import time
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from evplatform.cli.common import JsonOpt, console, err_console, print_json
from evplatform.cli.fm_configure import add_commands
from evplatform.cli.fm_diff import add_commands as add_diff
from evplatform.variability import analysis
from evplatform.variability.cnf import CNF, encode
from evplatform.variability.dimacs import format_dimacs
from evplatform.variability.explain import explain_dead
from evplatform.variability.formats import format_model, format_suffix, load_cnf, load_model, write_text_atomically
from evplatform.variability.model import FeatureModel

fm_app = typer.Typer(name="fm", help="Feature models: analyses, conversion, configuration, sampling.",
                     no_args_is_help=True)

_HAS_COUNTING = importlib.util.find_spec("evplatform.variability.counting") is not None
_OPS = ["valid", "core", "dead", "false-optional", "atomic-sets", "redundant", *(["count"] if _HAS_COUNTING else [])]
Op = Enum("Op", {name.replace("-", "_").upper(): name for name in _OPS}, type=str)  # type: ignore[misc]

FileArg = Annotated[Path, typer.Argument(help="Feature model: .uvl, FeatureIDE .xml or .dimacs.", show_default=False)]
_DIMACS = (".dimacs", ".cnf")
_NEEDS_MODEL = {"false-optional", "atomic-sets", "redundant"}


def register(app: typer.Typer) -> None:
    add_commands(fm_app)
    add_diff(fm_app)
    app.add_typer(fm_app, name="fm")


def _load(file: Path, need_model: bool) -> tuple[FeatureModel | None, CNF]:
    """DIMACS straight to CNF when no tree is needed (exact semantics, no synthetic root); else model + CNF."""
    if file.suffix.lower() in _DIMACS and not need_model:
        return None, load_cnf(file)
    model = load_model(file)
    return model, encode(model)


def _run(op: str, model: FeatureModel | None, cnf: CNF) -> Any:
    if op == "valid":
        return analysis.is_valid(cnf)
    if op in ("core", "dead"):
        backbone = analysis.backbone(cnf)
        return list(backbone.core if op == "core" else backbone.dead)
    if op == "count":
        from evplatform.variability.counting import count_configurations

        return str(count_configurations(cnf))
    if model is None:
        raise AssertionError("cannot happen")  # an invariant, kept under python -O
    if op == "false-optional":
        return analysis.false_optional_features(model, cnf)
    if op == "atomic-sets":
        return analysis.atomic_sets(model, cnf)
    return [str(c) if c.line is None else f"{c} (line {c.line})" for c in analysis.redundant_constraints(model)]


@fm_app.command()
def analyze(
    file: FileArg,
    op: Annotated[Op, typer.Option("--op", help="The analysis to run.")],
    explain: Annotated[
        str | None, typer.Option("--explain", help="Explain why this (dead) feature is dead.", show_default=False)
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Run one analysis: valid, core, dead, false-optional, atomic-sets, redundant (count when available)."""
    name = op.value
    start = time.perf_counter()
    with err_console.status(f"reading {file.name}…"):
        model, cnf = _load(file, name in _NEEDS_MODEL or explain is not None)
    with err_console.status(f"{name}: analysing {cnf.n_features} features…"):
        result = _run(name, model, cnf)
        reasons = explain_dead(model, explain).reasons if explain is not None and model is not None else None
    seconds = time.perf_counter() - start
    payload: dict[str, Any] = {"file": str(file), "op": name, "features": cnf.n_features, "result": result,
                               "seconds": round(seconds, 3)}
    if reasons is not None:
        payload["explanation"] = {"feature": explain, "reasons": reasons}
    if as_json:
        print_json(payload)
        return
    _render(payload)


def _render(payload: dict[str, Any]) -> None:
    result = payload["result"]
    name = Path(payload["file"]).name
    title = f"{payload['op']} — {name} ({payload['features']} features, {payload['seconds']:.2f} s)"
    if isinstance(result, bool | str):
        console.print(f"[bold]{title}[/]\n{'valid' if result is True else 'void' if result is False else result}")
    else:
        table = Table(title=title, title_justify="left")
        table.add_column("#", justify="right")
        table.add_column("atomic set" if payload["op"] == "atomic-sets" else "result")
        for i, item in enumerate(result, start=1):
            table.add_row(str(i), ", ".join(item) if isinstance(item, list) else str(item))
        console.print(table)
        console.print(f"{len(result)} {'sets' if payload['op'] == 'atomic-sets' else 'items'}")
    explanation = payload.get("explanation")
    if explanation:
        console.print(f"\n[bold]Why {explanation['feature']} is dead[/] (a minimal set of reasons):")
        for reason in explanation["reasons"]:
            console.print(f"  • {reason}", highlight=False)


@fm_app.command()
def convert(
    source: Annotated[Path, typer.Argument(help="Input model (.uvl, .xml, .dimacs).", show_default=False)],
    target: Annotated[Path, typer.Argument(help="Output file; the format follows its suffix.", show_default=False)],
    as_json: JsonOpt = False,
) -> None:
    """Convert between UVL, FeatureIDE XML and DIMACS (semantics kept: the same configurations)."""
    with err_console.status(f"converting {source.name} → {target.name}…"):
        if source.suffix.lower() in _DIMACS and target.suffix.lower() in _DIMACS:
            cnf = load_cnf(source)
            text, features = format_dimacs(cnf), cnf.n_features
        else:
            model = load_model(source)
            text, features = format_model(model, format_suffix(target)), len(model)
        write_text_atomically(target, text)
    if as_json:
        print_json({"input": str(source), "output": str(target), "features": features})
        return
    console.print(f"wrote {target} ({features} features)")
