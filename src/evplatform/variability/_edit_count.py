"""Exact counts for a model diff, by d4 in a child process that is stopped at a deadline.

d4 has no time limit of its own and cannot be interrupted from Python, so the counts run in a
child process that reports each figure as soon as it has it; at the deadline the parent
kills the process and the figures still missing stay ``None`` ("not counted in N s").

Projected counts (onto the features both versions share) use d4's projected counting: the
DIMACS text carries ``c p show <variables> 0`` and d4 counts the distinct assignments of those.
"""

from __future__ import annotations

import json
import logging
import os
import pickle
import select
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from evplatform.variability.cnf import CNF

logger = logging.getLogger(__name__)

Clause = list[int]


@dataclass(frozen=True)
class CountJob:
    """Count the models of the union of some clause ``parts`` (projected onto ``show`` when given)."""

    name: str
    parts: tuple[str, ...]
    show: tuple[int, ...] | None = None


def count_jobs(parts: dict[str, list[Clause]], n_vars: int, jobs: list[CountJob],
               time_limit_s: float, timings: dict[str, float] | None = None) -> dict[str, int | None]:
    """Each job's count, or ``None`` for the jobs not done within ``time_limit_s`` seconds.

    The child is ``python -m evplatform.variability._edit_count`` (not ``multiprocessing``, whose
    ``spawn`` re-runs the caller's main script): the work goes in as a pickle on its standard
    input, and one JSON line per finished job comes back on its standard output. ``timings``
    receives each finished job's seconds in the child.
    """
    results: dict[str, int | None] = {job.name: None for job in jobs}
    if not jobs:
        return results
    needed = {name for job in jobs for name in job.parts}
    payload = pickle.dumps(({k: v for k, v in parts.items() if k in needed}, n_vars, jobs))
    package_root = str(Path(__file__).resolve().parents[2])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")]))}
    deadline = time.perf_counter() + time_limit_s
    process = subprocess.Popen([sys.executable, "-m", __name__], stdin=subprocess.PIPE,  # noqa: S603 - our own module
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    try:
        _send(process, payload)
        _receive(process, results, deadline, time_limit_s, {} if timings is None else timings)
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
        if process.stdout is not None:
            process.stdout.close()
    return results


def _send(process: subprocess.Popen[bytes], payload: bytes) -> None:
    if process.stdin is None:
        raise AssertionError("cannot happen")  # an invariant, kept under python -O
    try:
        process.stdin.write(payload)
        process.stdin.close()
    except BrokenPipeError:
        logger.warning("the counting process ended before reading its input")


def _receive(process: subprocess.Popen[bytes], results: dict[str, int | None], deadline: float,
             time_limit_s: float, timings: dict[str, float]) -> None:
    """Read one JSON line per job until every job reported, the child ended, or the deadline passed."""
    stream = process.stdout
    if stream is None:
        raise AssertionError("cannot happen")  # an invariant, kept under python -O
    buffer = b""
    pending = set(results)
    while pending:
        remaining = deadline - time.perf_counter()
        if remaining <= 0:
            logger.info("counting stopped after %.1f s", time_limit_s)
            return
        ready, _, _ = select.select([stream], [], [], remaining)
        if not ready:
            continue
        chunk = os.read(stream.fileno(), 1 << 16)
        if not chunk:
            return
        buffer += chunk
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            message = json.loads(line)
            pending.discard(message["name"])
            timings[message["name"]] = float(message["seconds"])
            if "error" in message:
                logger.warning("d4 could not count %s: %s", message["name"], message["error"])
            else:
                results[message["name"]] = int(message["count"])


def main() -> None:
    """The child: d4's statistics to /dev/null, then one JSON line ``{"name", "count" | "error", "seconds"}`` a job."""
    parts, n_vars, jobs = pickle.loads(sys.stdin.buffer.read())  # noqa: S301 - written by our parent process
    out = os.fdopen(os.dup(1), "w", encoding="utf-8")
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    for job in jobs:
        clauses = [clause for part in job.parts for clause in parts[part]]
        message: dict[str, str | float] = {"name": job.name}
        started = time.perf_counter()
        try:
            message["count"] = str(count(clauses, n_vars, job.show))
        except Exception as error:
            message["error"] = f"{type(error).__name__}: {error}"
        message["seconds"] = round(time.perf_counter() - started, 3)
        out.write(json.dumps(message) + "\n")
        out.flush()


def count(clauses: list[Clause], n_vars: int, show: tuple[int, ...] | None = None) -> int:
    """Models of ``clauses`` over ``1..n_vars`` (or their distinct restrictions to ``show``)."""
    from evplatform.variability.counting import count_configurations, reduce

    cnf = CNF(n_vars, clauses, {}, [""] * n_vars, 0)
    if show is None:
        return count_configurations(cnf)
    reduction = reduce(cnf)
    if reduction is None:
        return 0
    shown = set(show)
    free = sum(1 for v in reduction.free if v in shown)
    dense_shown = [i for i, v in enumerate(reduction.used, start=1) if v in shown]
    if not reduction.clauses:
        return 1 << free
    if not dense_shown:
        return _satisfiable(reduction.clauses) << free
    return _projected_d4(reduction.clauses, len(reduction.used), dense_shown) << free


def _satisfiable(clauses: list[Clause]) -> int:
    from pysat.solvers import Glucose4

    with Glucose4(bootstrap_with=clauses) as solver:
        return int(bool(solver.solve()))


def _projected_d4(clauses: list[Clause], n_vars: int, shown: list[int]) -> int:
    """d4's projected count, through a DIMACS file (the binding reads ``c p show`` only from files)."""
    import py_d4

    from evplatform.variability.counting import d4_options, quiet_stdout

    with tempfile.TemporaryDirectory(prefix="evplatform-count-") as folder:
        path = os.path.join(folder, "projected.cnf")
        with open(path, "w", encoding="ascii") as out:
            out.write(f"p cnf {n_vars} {len(clauses)}\n")
            out.write("c p show " + " ".join(map(str, shown)) + " 0\n")
            out.writelines(" ".join(map(str, clause)) + " 0\n" for clause in clauses)
        with quiet_stdout():
            result = py_d4.Solver(path, d4_options()).count()
    return int(result.getIntResult())


if __name__ == "__main__":
    main()
