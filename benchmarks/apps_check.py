"""`apps check` at store scale: 100 app manifests × every trim × market configuration of the demo.

Issue 19 asks for ``apps check`` of 100 apps × 37 configurations in at most 1 s. The demo workspace
is copied to a temporary folder and given 100 generated manifests (reads, actuates and provides
drawn from the hub's VSS catalogue, a feature expression over two of the workspace's own concrete
features, one to three markets, data categories of the demo's store policy, some asking to actuate
what the policy forbids), with a fixed seed. Timed separately, median of ``--repeat`` runs:
reading and validating the manifests (``load_apps``) and the check itself (``check_apps``, which
builds each configuration's hub to know its signals). The anchor is the issue's 1 s budget.

    .venv/bin/python benchmarks/apps_check.py            # 100 apps, 7 runs
    .venv/bin/python benchmarks/apps_check.py --apps 1000
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "apps_check.json"
BUDGET_S = 1.0


def _manifests(folder: Path, count: int, seed: int) -> None:
    """Write ``count`` generated manifests into ``folder/apps`` (the demo's store policy stays)."""
    from evplatform.apps.manifest import read_policy
    from evplatform.vehicle.hub.vss import SIGNALS
    from evplatform.workspace import load_workspace

    ws = load_workspace(folder)
    policy = read_policy(folder / "apps" / "store-policy.yaml", ws)
    rng = random.Random(seed)
    signals = sorted(SIGNALS)
    actuators = [s for s in signals if SIGNALS[s].kind == "actuator"]
    used = {name for configuration in ws.configurations.values() for name in configuration}
    leaves = sorted(n for n in used if not ws.feature_model.features[n].groups)
    markets = sorted(ws.markets)
    categories = sorted(policy.data_categories)
    for index in range(count):
        reads = rng.sample(signals, rng.randint(1, 6))
        actuates = rng.sample(actuators, rng.randint(0, 2))
        features = f"{rng.choice(leaves)} | {rng.choice(leaves)}" if rng.random() < 0.7 else "true"
        lines = [f"id: app-{index:04d}", f"publisher: publisher-{index % 17}", f"version: 1.{index}.0", "signals:",
                 "  read: [" + ", ".join(reads) + "]"]
        if actuates:
            lines.append("  actuate: [" + ", ".join(actuates) + "]")
        lines += [f"features: {features}", "markets: [" + ", ".join(rng.sample(markets, rng.randint(1, 3))) + "]",
                  "data_categories: [" + ", ".join(rng.sample(categories, rng.randint(0, 2))) + "]",
                  f"owner_consent: {'true' if rng.random() < 0.8 else 'false'}",
                  f'min_hub_version: "1.{rng.randint(0, 9)}"']
        (folder / "apps" / f"app-{index:04d}.yaml").write_text("\n".join(lines) + "\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--apps", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--seed", type=int, default=19)
    args = parser.parse_args()
    sys.path.insert(0, str(HERE.parent / "src"))
    from evplatform.apps.compat import check_apps
    from evplatform.apps.manifest import load_apps
    from evplatform.workspace import demo_path, load_workspace

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "ws"
        shutil.copytree(demo_path(), folder)
        for demo_app in (folder / "apps").glob("*.yaml"):
            if demo_app.name != "store-policy.yaml":
                demo_app.unlink()
        _manifests(folder, args.apps, args.seed)
        start = time.perf_counter()
        ws = load_workspace(folder)
        workspace_s = time.perf_counter() - start  # once: what the command pays before the check
        load_s: list[float] = []
        check_s: list[float] = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            catalogue = load_apps(ws)
            load_s.append(time.perf_counter() - start)
            start = time.perf_counter()
            verdicts = check_apps(ws, catalogue)
            check_s.append(time.perf_counter() - start)
    configurations = len(ws.configurations)
    incompatible = sum(1 for v in verdicts if not v.compatible)
    load, check = statistics.median(load_s), statistics.median(check_s)
    total = load + check
    result = {
        "machine": {"python": platform.python_version(), "cores": os.cpu_count(), "load_average": os.getloadavg()},
        "apps": args.apps, "configurations": configurations, "verdicts": len(verdicts), "incompatible": incompatible,
        "load_workspace_s_once": round(workspace_s, 4), "load_apps_s": round(load, 4), "check_s": round(check, 4),
        "total_s": round(total, 4),
        "budget_s": BUDGET_S, "ratio_to_budget": round(total / BUDGET_S, 3), "repeat": args.repeat,
    }
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(f"| apps | configurations | verdicts | load_apps s | check_apps s | total s | budget s | ratio |\n"
          f"|---:|---:|---:|---:|---:|---:|---:|---:|\n"
          f"| {args.apps} | {configurations} | {len(verdicts)} | {load:.3f} | {check:.3f} | {total:.3f} | "
          f"{BUDGET_S:.1f} | {total / BUDGET_S:.2f} |")
    print(f"load average {os.getloadavg()[0]:.2f}; {incompatible} incompatible verdicts; "
          f"loading the workspace itself (once, not in the total): {workspace_s:.3f} s")
    return 0 if total <= BUDGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
