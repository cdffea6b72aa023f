"""FASTSim 3.1.0 beside the project: its own virtualenv, created here, driven over JSON.

FASTSim is Apache-2.0 but pulls a heavy stack and configures logging on import, so it never
enters the project's environment: the benchmark makes ``benchmarks/.venv-fastsim`` with the
ordinary ``venv`` + ``pip`` clients and talks to ``_vehicle_fastsim_runner.py`` through stdin/stdout.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
VENV = HERE / ".venv-fastsim"
PYTHON = VENV / "bin" / "python"
RUNNER = HERE / "_vehicle_fastsim_runner.py"
VERSION = "3.1.0"


def ensure_fastsim() -> tuple[Path | None, str]:
    """The virtualenv's python, or None and the reason FASTSim could not be installed."""
    try:
        if not PYTHON.exists():
            subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True, capture_output=True, text=True)
            (VENV / ".gitignore").write_text("*\n")
        check = subprocess.run([str(PYTHON), "-c", "import fastsim; print(fastsim.__version__)"],
                               capture_output=True, text=True)
        if check.returncode != 0 or check.stdout.strip() != VERSION:
            subprocess.run([str(PYTHON), "-m", "pip", "install", "-q", f"fastsim=={VERSION}"],
                           check=True, capture_output=True, text=True, timeout=600)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as error:
        detail = getattr(error, "stderr", "") or str(error)
        return None, f"FASTSim {VERSION} could not be installed: {detail.strip()[-300:]}"
    return PYTHON, f"FASTSim {VERSION} in {VENV.relative_to(HERE.parent)}"


def run_fastsim(python: Path, request: dict[str, Any]) -> dict[str, Any]:
    """Send the request to the runner; returns its JSON answer (raises on a runner failure)."""
    done = subprocess.run([str(python), str(RUNNER)], input=json.dumps(request), capture_output=True, text=True,
                          timeout=900, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"FASTSim runner failed: {done.stderr[-500:]}")
    answer: dict[str, Any] = json.loads(done.stdout)
    return answer
