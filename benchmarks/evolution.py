"""Evolution benchmarks (issue 17): the feature-model diff of Automotive02 v1 → v4.

Command: ``PYTHONPATH=src .venv/bin/python benchmarks/evolution.py [--time-limit S]``; results in
``benchmarks/results/evolution.json``, a Markdown table on stdout. The feature-model part lives in
``_evolution_fm.py``; a workspace part can be added beside it under its own key.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _evolution_fm import run as run_fm  # noqa: E402
from _evolution_fm import table as fm_table  # noqa: E402


def _machine() -> dict[str, object]:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(),
            "load_before": Path("/proc/loadavg").read_text().split()[:3]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--time-limit", type=float, default=120.0, help="seconds for exact counting")
    args = parser.parse_args()
    machine = _machine()
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    fm = run_fm(args.time_limit)
    machine["load_after"] = Path("/proc/loadavg").read_text().split()[:3]
    results = {"started": started, "machine": machine, "feature_model": fm}
    out = HERE / "results" / "evolution.json"
    out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"{started}, {machine['cpu']} ({machine['cores']} cores), load {machine['load_before']} → "
          f"{machine['load_after']}\n")
    print(fm_table(fm))
    return 0


if __name__ == "__main__":
    sys.exit(main())
