"""`make bench`: run every benchmark script in this folder, one after the other.

Each benchmark prints a Markdown table and writes benchmarks/results/<name>.json; this runner
only sequences them (so they do not compete for the 2 cores) and reports which failed.
Pass names to run a subset: `python benchmarks/run_all.py vehicle ota`. The long ones (LONG: the
mutation run, `make mutation`; the 1,000,000-vehicle `director_fleet`) run only when named.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
LONG = {"mutation", "director_fleet"}  # director_fleet: a 1,000,000-vehicle fleet in PostgreSQL


def main(names: list[str]) -> int:
    scripts = sorted(p for p in HERE.glob("*.py") if p.name != "run_all.py" and not p.name.startswith("_"))
    scripts = [p for p in scripts if p.stem in names] if names else [p for p in scripts if p.stem not in LONG]
    failed = []
    for script in scripts:
        print(f"\n=== {script.stem} ===", flush=True)
        start = time.perf_counter()
        code = subprocess.call([sys.executable, str(script)], cwd=HERE.parent)
        print(f"=== {script.stem}: exit {code} in {time.perf_counter() - start:.1f} s ===", flush=True)
        if code != 0:
            failed.append(script.stem)
    if failed:
        print("failed: " + ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
