"""Sweeps too big for one process, on Dask: Monte Carlo draws by the ten million, and every
configuration × every cycle through the virtual-vehicle simulator.

``cluster(address)`` gives a ``distributed.Client``: on the scheduler at ``address`` when one is
given (a real cluster), else on a ``LocalCluster`` of worker processes (2 at most by default:
this machine class has 2 cores). The work is cut into the same tasks whether it runs on Dask
or serially (``client=None``), and the partial results are merged in task order, so the two
give identical numbers — which the tests check.

Monte Carlo chunks return sufficient statistics, not draws: counts, sums, loss counts and a
fixed-bin histogram whose range comes from a pilot chunk, so 10 million draws never travel.
Percentiles from it are exact to one bin width (reported as ``bin_width``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np
from numpy.typing import NDArray

from evplatform.errors import InsightsError
from evplatform.insights.montecarlo import CHUNK_DRAWS, PERCENTILES, Plan, chunk_sizes, run_chunk
from evplatform.vehicle.batch import simulate_cycle
from evplatform.vehicle.drive_cycles import CYCLES, load_cycle
from evplatform.vehicle.params import VehicleParams
from evplatform.vehicle.simulate import trim_params
from evplatform.workspace.model import Workspace

Array = NDArray[np.float64]
ARMS = ("platform", "separate", "advantage")
BINS = 4096
MAX_LOCAL_WORKERS = 2
Progress = Callable[[int, int], None]


def _distributed() -> ModuleType:
    """Dask's ``distributed``, an optional extra: a missing install names the extra to add."""
    try:
        import distributed
    except ImportError as error:
        raise InsightsError(f"Dask is not installed ({error}): pip install 'evplatform[dask]'") from None
    return distributed


@contextmanager
def cluster(address: str | None = None, workers: int = MAX_LOCAL_WORKERS, timeout_s: float = 10.0) -> Iterator[Any]:
    """A Dask client on ``address``, or on a LocalCluster of ``workers`` processes (one thread each)."""
    dask = _distributed()
    if address:
        try:
            client = dask.Client(address, timeout=f"{timeout_s}s")
        except OSError as error:
            raise InsightsError(f"cannot reach the Dask scheduler at {address}: {error}") from None
        try:
            yield client
        finally:
            client.close()
        return
    if workers < 1:
        raise InsightsError(f"workers must be ≥ 1, not {workers}")
    # dashboard on a free port (":0"): None still takes 8787, and another Dask on the machine has it
    with dask.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0",
                           silence_logs=40) as local, dask.Client(local) as client:
        yield client


def _run_tasks(client: Any, function: Callable[..., Any], args: Sequence[tuple[Any, ...]],
               progress: Progress | None) -> list[Any]:
    """``function(*a)`` for each ``a``: on the client's workers, or here in order when no client.

    Each task carries its own (small) inputs rather than a scattered dependency, so a worker that
    dies only costs its running tasks, which the scheduler retries elsewhere.
    """
    results: list[Any] = [None] * len(args)
    if client is None:
        for i, a in enumerate(args):
            results[i] = function(*a)
            if progress:
                progress(i + 1, len(args))
        return results
    as_completed = _distributed().as_completed
    futures = [client.submit(function, *a, pure=False) for a in args]
    index = {f.key: i for i, f in enumerate(futures)}
    for done, future in enumerate(as_completed(futures), start=1):
        results[index[future.key]] = future.result()
        if progress:
            progress(done, len(args))
    return results


# --- Monte Carlo ---------------------------------------------------------------------------


@dataclass(frozen=True)
class HistogramSpec:
    low: Array  # per arm
    high: Array
    bins: int = BINS


def _chunk_stats(plan: Plan, seed: int, spec: HistogramSpec, index: int, n: int) -> dict[str, Any]:
    result = run_chunk(plan, seed, index, n)
    out: dict[str, Any] = {"n": n}
    for a, (arm, values) in enumerate(zip(ARMS, (result.platform, result.separate, result.advantage), strict=True)):
        scaled = (values - spec.low[a]) / (spec.high[a] - spec.low[a]) * spec.bins
        cells = np.clip(np.floor(scaled), -1, spec.bins).astype(np.int64) + 1  # 0 underflow, bins+1 overflow
        out[arm] = {
            "sum": float(values.sum()), "sumsq": float(np.square(values).sum()),
            "min": float(values.min()), "max": float(values.max()),
            "negative": int(np.count_nonzero(values < 0)),
            "histogram": np.bincount(cells, minlength=spec.bins + 2),
        }
    return out


def _histogram_spec(plan: Plan, seed: int, n: int) -> HistogramSpec:
    """Histogram range per arm from the pilot chunk 0, widened by its span on each side."""
    pilot = run_chunk(plan, seed, 0, min(n, CHUNK_DRAWS))
    lows, highs = [], []
    for values in (pilot.platform, pilot.separate, pilot.advantage):
        lo, hi = float(values.min()), float(values.max())
        span = max(hi - lo, abs(hi) * 1e-9, 1.0)
        lows.append(lo - span)
        highs.append(hi + span)
    return HistogramSpec(np.array(lows), np.array(highs))


def _percentile(histogram: NDArray[np.int64], spec: HistogramSpec, arm: int, q: float, total: int) -> float:
    """Linear interpolation inside the bin that holds the q-th percentile."""
    target = q / 100 * total
    cumulative = np.cumsum(histogram)
    cell = int(np.searchsorted(cumulative, target, side="left"))
    if cell == 0 or cell > spec.bins:
        raise InsightsError("a percentile fell outside the pilot's histogram range; raise the pilot size")
    before = cumulative[cell - 1] if cell > 0 else 0
    inside = histogram[cell]
    width = (spec.high[arm] - spec.low[arm]) / spec.bins
    fraction = (target - before) / inside if inside else 0.0
    return float(spec.low[arm] + (cell - 1 + fraction) * width)


def monte_carlo_sweep(
    plan: Plan, draws: int, seed: int, client: Any = None, progress: Progress | None = None
) -> dict[str, Any]:
    """Summary of ``draws`` Monte Carlo draws computed in chunks (see the module docstring).

    Same shape as ``montecarlo.summarize`` (percentiles from the merged histogram).
    """
    sizes = chunk_sizes(draws)
    spec = _histogram_spec(plan, seed, draws)
    parts = _run_tasks(client, _chunk_stats, [(plan, seed, spec, i, n) for i, n in enumerate(sizes)], progress)
    out: dict[str, Any] = {"draws": draws, "chunks": len(sizes), "percentiles_from": f"histogram of {spec.bins} bins"}
    for a, arm in enumerate(ARMS):
        total = sum(p[arm]["sum"] for p in parts)
        squares = sum(p[arm]["sumsq"] for p in parts)
        histogram = np.sum([p[arm]["histogram"] for p in parts], axis=0)
        mean = total / draws
        variance = max(squares - draws * mean * mean, 0.0) / (draws - 1) if draws > 1 else 0.0
        out[arm] = {
            "mean": mean,
            "std": float(np.sqrt(variance)),
            "min": min(p[arm]["min"] for p in parts),
            "max": max(p[arm]["max"] for p in parts),
            "bin_width": float((spec.high[a] - spec.low[a]) / spec.bins),
            **{f"p{q}": _percentile(histogram, spec, a, q, draws) for q in PERCENTILES},
        }
    out["probability_loss"] = sum(p["platform"]["negative"] for p in parts) / draws
    out["probability_separate_loss"] = sum(p["separate"]["negative"] for p in parts) / draws
    out["probability_platform_worse"] = sum(p["advantage"]["negative"] for p in parts) / draws
    return out


# --- vehicle sweep -------------------------------------------------------------------------


def configurations(ws: Workspace, payloads_kg: Sequence[float] = (0.0,)) -> list[VehicleParams]:
    """Every trim × market configuration of the workspace as a vehicle, at each extra payload."""
    vehicles = []
    for (key, market) in ws.configurations:
        base = trim_params(ws, ws.trim(key), market)
        for payload in payloads_kg:
            name = f"{key}@{market}" + (f"+{payload:g}kg" if payload else "")
            vehicles.append(dataclasses.replace(base, name=name, mass_kg=base.mass_kg + payload))
    return vehicles


def _simulate_chunk(vehicles: Sequence[VehicleParams], cycle: str) -> dict[str, Any]:
    result = simulate_cycle(vehicles, load_cycle(cycle))
    usable = np.array([v.battery_usable_kwh for v in vehicles])
    return {
        "battery_kwh_per_100km": result.battery_kwh_per_100km,
        "plug_kwh_per_100km": result.plug_kwh_per_100km,
        "range_km": usable / result.battery_kwh_per_100km * 100.0,
        "miss_seconds": result.miss_seconds,
    }


def vehicle_sweep(
    vehicles: Sequence[VehicleParams],
    cycles: Sequence[str] | None = None,
    client: Any = None,
    chunk: int = 64,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Every vehicle on every cycle: per cycle, arrays (in vehicle order) of consumption, range and trace miss."""
    if not vehicles:
        raise InsightsError("no vehicles to sweep")
    names = list(cycles or CYCLES)
    tasks = [(list(vehicles[s : s + chunk]), c) for c in names for s in range(0, len(vehicles), chunk)]
    parts = _run_tasks(client, _simulate_chunk, tasks, progress)
    out: dict[str, Any] = {"vehicles": [v.name for v in vehicles], "cycles": {}}
    for cycle in names:
        mine = [p for (_, c), p in zip(tasks, parts, strict=True) if c == cycle]
        out["cycles"][cycle] = {k: np.concatenate([p[k] for p in mine]) for k in mine[0]}
    return out
