"""Mutation benchmark (issue 14): how many small faults in the Uptane client and the Director do the tests catch?

mutmut (configured in pyproject.toml's ``[tool.mutmut]``: the modules to mutate and the test subset)
copies ``src/`` and ``tests/`` into ``mutants/`` (ignored by git), makes every small change it
knows to each function (``<`` to ``<=``, ``and`` to ``or``, a constant changed, a call argument
dropped, …) and runs, for each mutant, only the tests that reach that function, stopping at the
first failure (``-x``). A mutant is *killed* when a test fails (or times out), *survived* when all
pass, *no tests* when no test reaches its function; the score is killed / all (mutmut's score).

Runs are incremental: results are kept in ``mutants/`` and only mutants without a result run
again (``--fresh`` starts over; after a source change mutmut itself re-runs the changed
functions). Modules run in the order given, the client's verification code first, so a run cut
short still reports the modules that matter most. It takes long (~1 mutant/s on one free core):

    make mutation                                              # every module, 2 workers
    .venv/bin/python benchmarks/mutation.py trusted_set matching   # a subset (module stems)
    .venv/bin/python benchmarks/mutation.py --report               # only the table of the last results
    .venv/bin/python benchmarks/mutation.py --survivors-again      # after adding tests: rerun the survivors

Prints a Markdown table (per module and for the verification code) and the surviving mutants;
writes ``benchmarks/results/mutation.json`` (not in git: it mirrors ``mutants/``) with each survivor's diff.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "mutation.json"
MUTANTS = ROOT / "mutants"
LOG = MUTANTS / "mutation-run.log"

# Module stem → dotted module, verification code first (the issue's ≥ 95 % target is on these).
MODULES = {
    "trusted_set": "evplatform.ota.client.trusted_set",
    "secure_time": "evplatform.ota.client.secure_time",
    "signatures": "evplatform.ota.client.signatures",
    "matching": "evplatform.ota.client.matching",
    "secondary": "evplatform.ota.client.secondary",
    "primary": "evplatform.ota.client.primary",
    "director": "evplatform.ota.director",
    "fetcher": "evplatform.ota.client.fetcher",
    "slots": "evplatform.ota.client.slots",
    "state": "evplatform.ota.client.state",
    "reports": "evplatform.ota.client.reports",
}
WHOLE_MODULE_VERIFICATION = {"trusted_set", "secure_time", "signatures", "matching"}
# The verification parts of primary.py and secondary.py (the rest installs, reports and builds URLs).
VERIFICATION_FUNCTIONS = {
    "primary": {"update_check", "_check_time", "_update", "_has", "_refresh", "_versioned", "_load_targets",
                "_director_roots_after", "_find_image_target", "_download", "_try_delta"},
    "secondary": {"_check_time", "verify", "root_version", "_targets_version", "_state", "receive"},
}
KILLED = {1, 3, 24, -24, 36, 152, 255}  # a test failed, or the mutant timed out (mutmut counts both)
STATUS = {0: "survived", 33: "no tests", 5: "no tests", None: "not run"}


def meta_path(module: str) -> Path:
    return MUTANTS / "src" / (module.replace(".", "/") + ".py.meta")


def exit_codes(module: str) -> dict[str, int | None]:
    """mutmut's result per mutant of ``module`` (None: not run yet); empty before generation."""
    path = meta_path(module)
    if not path.exists():
        return {}
    codes: dict[str, int | None] = json.loads(path.read_text(encoding="utf-8"))["exit_code_by_key"]
    return codes


def status(code: int | None) -> str:
    if code in KILLED:
        return "killed"
    return STATUS.get(code, f"suspicious (exit {code})")


def function_of(mutant: str) -> str:
    """``pkg.mod.xǁClassǁmethod__mutmut_3`` → ``method``; ``pkg.mod.x_func__mutmut_1`` → ``func``."""
    name = mutant.rsplit(".", 1)[1].rsplit("__mutmut_", 1)[0]
    return name.rsplit("ǁ", 1)[1] if "ǁ" in name else name.removeprefix("x_")


def is_verification(stem: str, mutant: str) -> bool:
    return stem in WHOLE_MODULE_VERIFICATION or function_of(mutant) in VERIFICATION_FUNCTIONS.get(stem, set())


def mutmut(args: list[str], log: Any) -> int:
    """Run mutmut from the repository root (it reads pyproject.toml there); output to the log."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # mutmut puts mutants/src first itself
    return subprocess.call([sys.executable, "-m", "mutmut", *args], cwd=ROOT, env=env, stdout=log,
                           stderr=subprocess.STDOUT)


def run(stems: list[str], workers: int, again: bool) -> None:
    """Run the mutants of each module that have no result yet (all of them on the first run).

    ``again``: also the survivors and those without tests (after adding tests, to see them killed).
    """
    MUTANTS.mkdir(exist_ok=True)
    with LOG.open("a", encoding="utf-8") as log:
        for stem in stems:
            module = MODULES[stem]
            codes = exit_codes(module)
            pending = [name for name, code in codes.items() if code is None or (again and code not in KILLED)]
            if codes and not pending:
                print(f"{stem}: all {len(codes)} mutants have a result", flush=True)
                continue
            started = time.perf_counter()
            names = pending or [f"{module}.*"]  # before generation, a pattern; after, exactly the missing
            print(f"{stem}: running {len(pending) or 'all'} mutants …", flush=True)
            code = mutmut(["run", "--max-children", str(workers), *names], log)
            print(f"{stem}: mutmut exit {code} in {time.perf_counter() - started:.0f} s", flush=True)


def diff(mutant: str) -> str:
    shown = subprocess.run([sys.executable, "-m", "mutmut", "show", mutant], cwd=ROOT, capture_output=True,
                           text=True, check=False, env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"})
    return "\n".join(line for line in shown.stdout.splitlines() if line.startswith(("+", "-", "@@")))


def summary(stems: list[str], with_diffs: bool) -> dict[str, Any]:
    rows: dict[str, Counter[str]] = {}
    verification: Counter[str] = Counter()
    survivors: list[dict[str, str]] = []
    for stem in stems:
        counts: Counter[str] = Counter()
        for name, code in sorted(exit_codes(MODULES[stem]).items()):
            what = status(code)
            counts[what] += 1
            if is_verification(stem, name):
                verification[what] += 1
            if what in ("survived", "no tests") or what.startswith("suspicious"):
                survivors.append({"mutant": name, "status": what, "verification": str(is_verification(stem, name)),
                                  "diff": diff(name) if with_diffs else ""})
        rows[stem] = counts
    return {"rows": rows, "verification": verification, "survivors": survivors}


def score(counts: Counter[str]) -> str:
    run_ = sum(counts.values()) - counts["not run"]
    return f"{100 * counts['killed'] / run_:.1f} %" if run_ else "–"


def table(result: dict[str, Any]) -> str:
    lines = ["| module | mutants | killed | survived | no tests | not run | score |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    everything: Counter[str] = Counter()
    for stem, counts in result["rows"].items():
        everything.update(counts)
        lines.append(f"| {stem} | {sum(counts.values())} | {counts['killed']} | {counts['survived']} | "
                     f"{counts['no tests']} | {counts['not run']} | {score(counts)} |")
    for label, counts in (("**verification code**", result["verification"]), ("**all above**", everything)):
        lines.append(f"| {label} | {sum(counts.values())} | {counts['killed']} | {counts['survived']} | "
                     f"{counts['no tests']} | {counts['not run']} | {score(counts)} |")
    return "\n".join(lines)


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "n/a"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", help=f"module stems, default all in order: {' '.join(MODULES)}")
    parser.add_argument("--workers", type=int, default=2, help="mutmut --max-children (default 2)")
    parser.add_argument("--fresh", action="store_true", help="forget earlier results (delete mutants/)")
    parser.add_argument("--report", action="store_true", help="only print the table of the results so far")
    parser.add_argument("--survivors-again", action="store_true",
                        help="run the surviving mutants (and those without tests) again, e.g. after adding tests")
    args = parser.parse_args()
    stems = args.modules or list(MODULES)
    unknown = sorted(set(stems) - set(MODULES))
    if unknown:
        parser.error(f"unknown module {', '.join(unknown)}; known: {' '.join(MODULES)}")
    load_before, started = loadavg(), time.perf_counter()
    if args.fresh and MUTANTS.exists():
        shutil.rmtree(MUTANTS)
    if not args.report:
        run(stems, args.workers, args.survivors_again)
    result = summary(stems, with_diffs=True)
    text = table(result)
    print(text)
    for survivor in result["survivors"]:
        print(f"\n{survivor['status']}: {survivor['mutant']}\n{survivor['diff']}")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps({
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "load": f"{load_before} → {loadavg()}",
        "seconds": round(time.perf_counter() - started, 1),
        "command": " ".join(["benchmarks/mutation.py", *sys.argv[1:]]),
        "markdown": text,
        "modules": {stem: dict(counts) for stem, counts in result["rows"].items()},
        "verification": dict(result["verification"]),
        "survivors": result["survivors"],
    }, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
