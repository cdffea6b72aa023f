"""flamapy 2.6.0 beside the project: its own virtualenv, one subprocess per measurement.

flamapy (and its UVL parser) are GPL-3.0, so they may never become dependencies of this
Apache-2.0 project. The benchmark and the comparison test create ``benchmarks/.venv-flamapy``
with the ordinary ``venv`` + ``pip`` clients and talk to ``_variability_flamapy_runner.py`` over
JSON. Each operation runs in a fresh process under a wall-clock limit and an address-space cap,
so "timed out" and "out of memory" are measured outcomes, not crashes of the benchmark.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
VENV = HERE / ".venv-flamapy"
PYTHON = VENV / "bin" / "python"
RUNNER = HERE / "_variability_flamapy_runner.py"
VERSION = "2.6.0"
MEMORY_CAP_BYTES = 8 * 1024**3


@dataclass(frozen=True)
class AnchorRun:
    """One flamapy measurement: a result, or why there is none (timeout, out of memory, error)."""

    op: str
    seconds: float | None
    result: Any = None
    failure: str | None = None
    peak_mb: float | None = None

    def describe(self) -> str:
        return f"{self.seconds:.2f} s" if self.failure is None and self.seconds is not None else str(self.failure)


def ensure_flamapy() -> tuple[Path | None, str]:
    """The virtualenv's python, or None and the reason flamapy could not be installed."""
    try:
        if not PYTHON.exists():
            subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True, capture_output=True, text=True)
            (VENV / ".gitignore").write_text("*\n")
        check = subprocess.run(
            [str(PYTHON), "-c", "import importlib.metadata as m; print(m.version('flamapy'))"],
            capture_output=True, text=True,
        )
        if check.returncode != 0 or check.stdout.strip() != VERSION:
            subprocess.run([str(PYTHON), "-m", "pip", "install", "-q", f"flamapy=={VERSION}"],
                           check=True, capture_output=True, text=True, timeout=900)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as error:
        detail = getattr(error, "stderr", "") or str(error)
        return None, f"flamapy {VERSION} could not be installed: {str(detail).strip()[-300:]}"
    return PYTHON, f"flamapy {VERSION} in {VENV.relative_to(HERE.parent)}"


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP_BYTES, MEMORY_CAP_BYTES))


def run_flamapy(python: Path, path: Path, op: str, timeout_s: float, t: int = 2) -> AnchorRun:
    """Run one operation; a timeout or a memory error is reported in ``failure``."""
    request = json.dumps({"path": str(path), "op": op, "t": t})
    start = time.perf_counter()
    try:
        done = subprocess.run([str(python), str(RUNNER)], input=request, capture_output=True, text=True,
                              timeout=timeout_s, preexec_fn=_limit_memory)
    except subprocess.TimeoutExpired:
        return AnchorRun(op, None, failure=f"> {timeout_s:.0f} s (timed out)")
    wall = time.perf_counter() - start
    if done.returncode != 0:
        tail = done.stderr.strip().splitlines()[-1:] or [f"exit {done.returncode}"]
        reason = "out of memory" if "MemoryError" in done.stderr or done.returncode == -9 else tail[0][:120]
        return AnchorRun(op, wall, failure=reason)
    answer = json.loads(done.stdout)
    return AnchorRun(op, float(answer["seconds"]), result=answer["result"], peak_mb=answer.get("peak_mb"))
