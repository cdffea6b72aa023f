"""REST API load: signed vehicle update checks replayed by ``wrk`` against real server workers.

The load generator must not be what is measured. Every request is signed before the timed phase
(ed25519, its own nonce, a timestamp inside the server's replay window) and written to a file;
Debian's ``wrk`` (C, one thread) replays each exactly once through ``benchmarks/api_load.lua`` and
stops when all are answered. Nothing is signed, and no Python runs, on the client side while the
clock runs. The generator's own CPU (``wrk``'s rusage) is reported beside the servers' and the
whole machine's, so its share is visible.

Servers (uvicorn, the application factory ``evplatform.api.app:create_app``, started through
``benchmarks/_serve_workers.py``: ``uvicorn --workers`` loses TCP_NODELAY, uvicorn issue #3149):

- **PostgreSQL, 2 workers** (``uvicorn --workers 2``; own database, recreated each run): the
  deployment of issue 18;
- **SQLite, 1 process**: the embedded default.

Runs, on the same database: *nothing new* (vehicles no running campaign concerns: the common
case), *offer* (vehicles of a running campaign; each check marks the offer, a write). The
**anchor**, in the same run and with the same worker count: a bare Starlette app answering the
same signed POST with a constant body (no signature check, no database) — the floor of the server
stack; ratio = endpoint req/s / anchor req/s. Runs are interleaved in rounds; the best round is
kept and every round is listed. Each worker's RSS is read after every run, against the requests
it has served so far, so the JSON holds the memory slope.

    make bench                                          # with the others
    .venv/bin/python benchmarks/api_load.py             # 10,000 vehicles, 30,000 checks a run
    .venv/bin/python benchmarks/api_load.py --requests 5000 --rounds 1 --no-sqlite   # quick look
    .venv/bin/python benchmarks/api_load.py --memory 200000 --requests-sqlite 25000  # one worker's RSS

Needs ``wrk`` (``scripts/ensure-services.sh`` installs Debian's package; or ``apt-get install wrk``)
and PostgreSQL on 127.0.0.1:5432 for the PostgreSQL rows (skipped with a reason when absent).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import platform
import resource
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results" / "api_load.json"
LUA = HERE / "api_load.lua"
PATH = "/api/vehicle/update-check"
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/i18bench_api"
#: Seconds the pre-signed timestamps are put ahead of the signing moment: a request stays inside the
#: server's ±300 s window from 180 s before to 420 s after its timestamp's origin.
STAMP_AHEAD = 120


# --- the anchor: the same request answered by bare Starlette ------------------------------------


async def _anchor_check(request: Request) -> JSONResponse:
    return JSONResponse({"vin": request.headers.get("x-vehicle-vin"), "update": None, "poll_after_s": 3600})


#: ``uvicorn --app-dir benchmarks api_load:anchor_app``: the floor of the stack (no auth, no database).
anchor_app = Starlette(routes=[Route(PATH, _anchor_check, methods=["POST"])])


# --- pre-signing ------------------------------------------------------------------------------


def vehicle_seed(vin: str) -> bytes:
    """The benchmark's ed25519 seed of a vehicle: derived from its VIN, so every process agrees."""
    return hashlib.sha256(b"evplatform-api-load:" + vin.encode()).digest()


def presign(
    vins: Sequence[str], folder: Path, *, total: int, threads: int = 1, connections: int = 16,
    stamp: int | None = None, path: str = PATH,
) -> int:
    """Write ``total`` signed requests (plus one spare per connection) as ``requests-<i>.txt`` for wrk.

    Vehicles are taken round-robin; each request gets its own nonce, so no two are alike and the
    server's replay guard accepts every one once. Returns the answers each wrk thread waits for.
    A line: ``PATH VIN TIMESTAMP NONCE SIGNATURE`` (what ``benchmarks/api_load.lua`` reads).
    """
    from nacl.signing import SigningKey

    from evplatform.api.auth import signing_payload

    if total < threads or not vins:
        raise ValueError(f"need at least one request per wrk thread and a vehicle ({total=}, {threads=})")
    keys = {vin: SigningKey(vehicle_seed(vin)) for vin in dict.fromkeys(vins)}
    stamp_text = str(int(time.time()) + STAMP_AHEAD if stamp is None else stamp)
    target = total // threads
    spare = -(-connections // threads)  # a connection in flight when its thread reaches the target
    folder.mkdir(parents=True, exist_ok=True)
    counter = 0
    for thread in range(threads):
        lines = []
        for _ in range(target + spare):
            vin = vins[counter % len(vins)]
            counter += 1
            nonce = secrets.token_hex(8)
            signature = keys[vin].sign(signing_payload("POST", path, stamp_text, nonce, b"")).signature
            lines.append(f"{path} {vin} {stamp_text} {nonce} {base64.b64encode(signature).decode()}\n")
        (folder / f"requests-{thread}.txt").write_text("".join(lines))
    return target


def read_presigned(file: Path) -> list[dict[str, str]]:
    """The headers of each pre-signed request in a ``requests-<i>.txt`` (the smoke test sends them)."""
    from evplatform.api.auth import NONCE_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, VIN_HEADER

    out = []
    for line in file.read_text().splitlines():
        _, vin, stamp, nonce, signature = line.split(" ")
        out.append({VIN_HEADER: vin, TIMESTAMP_HEADER: stamp, NONCE_HEADER: nonce, SIGNATURE_HEADER: signature})
    return out


# --- the database -----------------------------------------------------------------------------


def recreate_postgres(url: str) -> None:
    """Drop and create the benchmark's own PostgreSQL database (never another one)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    name = parsed.database
    if not name or not name.startswith("i18bench"):
        raise SystemExit(f"refusing to recreate database {name!r}: the benchmark only recreates its own (i18bench*)")
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()


def postgres_reachable(url: str) -> bool:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    engine = create_engine(make_url(url).set(database="postgres"), connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return True
    except Exception:  # any failure means: no PostgreSQL rows
        return False
    finally:
        engine.dispose()


def prepare(url: str, vehicles: int, sample: int) -> dict[str, list[str]]:
    """Demo fleet with every vehicle keyed, a running campaign of hub-os 1.8.0 in one market.

    Returns up to ``sample`` VINs per run kind: ``nothing_new`` (no open offer, no running campaign
    waiting for it: idle) and ``offer`` (an open offer without maintenance window).
    """
    from nacl.signing import SigningKey
    from sqlalchemy import bindparam, update

    from evplatform.api.auth import public_key_text
    from evplatform.fleet import TargetFilter, WavePolicy, build_demo_database, create_campaign, start_campaign
    from evplatform.store import open_store
    from evplatform.store import releases as rdb
    from evplatform.store import vehicles as vdb
    from evplatform.store.offers import open_offers, waiting_in_running
    from evplatform.store.schema import Vehicle
    from evplatform.workspace import load_workspace

    build_demo_database(url, vehicles=vehicles)
    store = open_store(url)
    try:
        all_vehicles = vdb.list_vehicles(store, limit=vehicles)
        rows = [{"v": v.vin, "k": public_key_text(SigningKey(vehicle_seed(v.vin)))} for v in all_vehicles]
        statement = update(Vehicle).where(Vehicle.vin == bindparam("v")).values(public_key=bindparam("k"))
        with store.engine.begin() as connection:
            connection.execute(statement, rows)
        ws = load_workspace(None)
        hub = ws.software["hub-os"]
        market = next(iter(ws.markets))
        now = datetime.now(UTC)
        rdb.save_release(store, rdb.ReleaseRecord("hub-os-bench", "hub-os", hub.ecu, hub.hardware_id, "9.9.9",
                                                  hub.compatible_text, created_at=now))
        rdb.save_approval(store, rdb.ApprovalRecord("hub-os-bench", market, "authority", "B-1", "bench", now))
        cid = create_campaign(store, name="load", release_id="hub-os-bench", target=TargetFilter(markets=(market,)),
                              waves=(WavePolicy(1.0),))
        start_campaign(store, cid)
        kinds: dict[str, list[str]] = {"nothing_new": [], "offer": []}
        for vehicle in all_vehicles:
            if min(len(v) for v in kinds.values()) >= sample:
                break
            offers = open_offers(store, vehicle.vin)
            if offers and len(kinds["offer"]) < sample and offers[0].campaign_id == cid and not offers[0].window_start:
                kinds["offer"].append(vehicle.vin)
            elif not offers and len(kinds["nothing_new"]) < sample and not waiting_in_running(store, vehicle.vin):
                kinds["nothing_new"].append(vehicle.vin)
    finally:
        store.dispose()
    return kinds


# --- servers ----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    name: str
    process: subprocess.Popen[bytes]
    port: int
    workers: int
    served: int = 0  # requests answered so far (all runs), for the memory slope
    memory: list[dict[str, Any]] = field(default_factory=list)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def worker_processes(self) -> list[Any]:
        import psutil

        parent = psutil.Process(self.process.pid)
        children = [c for c in parent.children(recursive=True) if "resource_tracker" not in " ".join(c.cmdline())]
        return children if self.workers > 1 else [parent]

    def cpu_seconds(self) -> float:
        import psutil

        parent = psutil.Process(self.process.pid)
        total = 0.0
        for process in [parent, *parent.children(recursive=True)]:
            try:
                times = process.cpu_times()
                total += times.user + times.system
            except psutil.NoSuchProcess:
                pass
        return total

    def record_memory(self) -> None:
        rss = [round(p.memory_info().rss / 2**20, 1) for p in self.worker_processes()]
        self.memory.append({"served": self.served, "rss_mb": rss})


def start_server(name: str, command: list[str], env: dict[str, str], workers: int) -> Server:
    import httpx

    port = free_port()
    process = subprocess.Popen([*command, "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
                                "--no-access-log", "--workers", str(workers)],
                               cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            error = process.stderr.read().decode() if process.stderr else ""
            raise SystemExit(f"{name} exited with {process.returncode}: {error[-2000:]}")
        try:
            httpx.get(f"http://127.0.0.1:{port}/", timeout=2)
            time.sleep(1.0 if workers > 1 else 0)  # every worker up, not only the first
            return Server(name, process, port, workers)
        except httpx.TransportError:
            time.sleep(0.3)
    raise SystemExit(f"{name} did not start in 120 s")


def stop_server(server: Server) -> None:
    server.process.send_signal(signal.SIGINT)
    try:
        server.process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.process.kill()


# --- one wrk run ------------------------------------------------------------------------------


def _busy_cpu_seconds() -> float:
    import psutil

    times = psutil.cpu_times()
    return float(sum(times) - times.idle - getattr(times, "iowait", 0.0))


def run_wrk(server: Server, vins: Sequence[str], total: int, folder: Path, connections: int,
            timeout: float) -> dict[str, Any]:
    """Pre-sign ``total`` checks, replay them once with wrk; throughput, latency and CPU shares."""
    shutil.rmtree(folder, ignore_errors=True)
    target = presign(vins, folder, total=total, connections=connections)
    signed_at = time.time()
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    server_before, machine_before = server.cpu_seconds(), _busy_cpu_seconds()
    wall_start = time.perf_counter()
    wrk = subprocess.Popen(["wrk", "-t1", f"-c{connections}", f"-d{int(timeout)}s", "--timeout", "10s", "-s", str(LUA),
                            server.base, "--", str(folder), str(target)],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    mark = folder / "done-0"
    while wrk.poll() is None and not mark.exists():
        time.sleep(0.02)
    if wrk.poll() is None:
        time.sleep(0.05)
        wrk.send_signal(signal.SIGINT)  # wrk's main thread sleeps the whole -d; the thread is done
    out, err = wrk.communicate(timeout=30)
    wall = time.perf_counter() - wall_start
    children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    server_cpu, machine_cpu = server.cpu_seconds() - server_before, _busy_cpu_seconds() - machine_before
    if not mark.exists():
        raise SystemExit(f"wrk did not finish {target} requests in {timeout:.0f} s against {server.name}: {err}")
    if time.time() - signed_at > 300 + STAMP_AHEAD - 5:
        raise SystemExit("the run outlasted the replay window of its pre-signed timestamps: use fewer --requests")
    first_us, last_us, sent, answered, ok, other = ([*mark.read_text().split(), ""])[:6]
    figures = json.loads(next(line for line in out.splitlines() if line.startswith("WRK "))[4:])
    seconds = (int(last_us) - int(first_us)) / 1e6
    wrk_cpu = ((children_after.ru_utime + children_after.ru_stime)
               - (children_before.ru_utime + children_before.ru_stime))
    server.served += int(answered)
    server.record_memory()
    return {
        "requests": int(answered), "ok_200": int(ok), "other_statuses": other.rstrip(","), "sent": int(sent),
        "seconds": round(seconds, 3), "rps": round(int(answered) / seconds, 1),
        "p50_ms": figures["p50_us"] / 1000, "p90_ms": figures["p90_us"] / 1000, "p99_ms": figures["p99_us"] / 1000,
        "max_ms": figures["max_us"] / 1000,
        "socket_errors": sum(v for k, v in figures.items() if k.startswith("errors")),
        "cpu_s": {"generator_wrk": round(wrk_cpu, 2), "server": round(server_cpu, 2),
                  "machine_busy": round(machine_cpu, 2), "wall": round(wall, 2)},
        "generator_share_of_machine_busy": round(wrk_cpu / machine_cpu, 3) if machine_cpu else None,
        "loadavg": Path("/proc/loadavg").read_text().split()[:3],
    }


# --- driver -----------------------------------------------------------------------------------


def server_commands(url: str) -> tuple[list[str], list[str], dict[str, str]]:
    uvicorn = [sys.executable, str(HERE / "_serve_workers.py")]  # uvicorn, keeping TCP_NODELAY with workers
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "EVPLATFORM_DATABASE_URL": url, "PYTHONUNBUFFERED": "1"}
    return ([*uvicorn, "api_load:anchor_app", "--app-dir", str(HERE)],
            [*uvicorn, "evplatform.api.app:create_app", "--factory"], env)


def bench_database(label: str, url: str, workers: int, args: argparse.Namespace, scratch: Path) -> dict[str, Any]:
    """Anchor and endpoint servers on one database; interleaved rounds; the best round of each run."""
    print(f"[{label}] preparing {args.vehicles:,} vehicles …", flush=True)
    started = time.perf_counter()
    kinds = prepare(url, args.vehicles, args.sample)
    print(f"[{label}] prepared in {time.perf_counter() - started:.0f} s: "
          f"{len(kinds['nothing_new'])} idle and {len(kinds['offer'])} offered vehicles sign requests", flush=True)
    anchor_command, endpoint_command, env = server_commands(url)
    total = args.requests if workers > 1 else args.requests_sqlite
    runs = {"anchor": (anchor_command, kinds["nothing_new"], total),
            "nothing_new": (endpoint_command, kinds["nothing_new"], total),
            "offer": (endpoint_command, kinds["offer"], max(1, total // 2))}
    servers = {"anchor": start_server(f"{label} anchor", anchor_command, env, workers),
               "endpoint": start_server(f"{label} endpoint", endpoint_command, env, workers)}
    results: dict[str, list[dict[str, Any]]] = {name: [] for name in runs}
    try:
        for server in servers.values():  # warm up: connections, imports, caches
            run_wrk(server, kinds["nothing_new"], 500, scratch / "warm", args.connections, args.timeout)
        for round_ in range(args.rounds):
            for name, (_, vins, count) in runs.items():
                server = servers["anchor" if name == "anchor" else "endpoint"]
                figures = run_wrk(server, vins, count, scratch / name, args.connections, args.timeout)
                results[name].append(figures)
                print(f"[{label}] round {round_ + 1} {name}: {figures['rps']:,.0f} req/s, "
                      f"p99 {figures['p99_ms']:.1f} ms, "
                      f"{figures['ok_200']}/{figures['requests']} 200, wrk {figures['cpu_s']['generator_wrk']} CPU-s "
                      f"of {figures['cpu_s']['machine_busy']} busy, load {' '.join(figures['loadavg'])}", flush=True)
    finally:
        for server in servers.values():
            stop_server(server)
    best = {name: max(rs, key=lambda r: r["rps"]) | {"rounds_rps": [r["rps"] for r in rs]}
            for name, rs in results.items()}
    anchor = best["anchor"]["rps"]
    return {"workers": workers, "runs": best,
            "ratio_to_anchor": {name: round(best[name]["rps"] / anchor, 3) for name in ("nothing_new", "offer")},
            "worker_memory": servers["endpoint"].memory}


def memory_run(total: int, args: argparse.Namespace) -> None:
    """One worker (SQLite, one process) answering ``total`` nothing-new checks in runs of
    ``--requests-sqlite``; its RSS after every run, and the slope over the second half."""
    with tempfile.TemporaryDirectory(prefix="evplatform-api-memory-") as scratch:
        folder = Path(scratch)
        url = f"sqlite:///{folder / 'load.db'}"
        kinds = prepare(url, args.vehicles, args.sample)
        _, endpoint_command, env = server_commands(url)
        server = start_server("sqlite endpoint", endpoint_command, env, 1)
        started = time.monotonic()
        try:
            server.record_memory()
            while server.served < total:
                figures = run_wrk(server, kinds["nothing_new"], min(args.requests_sqlite, total - server.served),
                                  folder / "run", args.connections, args.timeout)
                server.memory[-1] |= {"minutes": round((time.monotonic() - started) / 60, 1), "rps": figures["rps"],
                                      "non_200": figures["requests"] - figures["ok_200"],
                                      "loadavg": figures["loadavg"]}
                print(f"served {server.served:,}: RSS {server.memory[-1]['rss_mb'][0]} MB", flush=True)
        finally:
            stop_server(server)
    half = [m for m in server.memory if m["served"] >= total / 2]
    first, last = half[0], half[-1]
    slope = (last["rss_mb"][0] - first["rss_mb"][0]) / max(1, last["served"] - first["served"]) * 1000
    data = {"command": "benchmarks/api_load.py " + " ".join(sys.argv[1:]),
            "date": datetime.now(UTC).isoformat(timespec="seconds"), "served": server.served,
            "rss": server.memory, "slope_mb_per_1000_requests_second_half": round(slope, 4),
            "rss_mb_at_1m_extrapolated": round(last["rss_mb"][0] + slope * (1_000_000 - last["served"]) / 1000, 1)}
    out = HERE / "results" / "api_load_memory.json"
    out.write_text(json.dumps(data, indent=2) + "\n")
    print(json.dumps({k: v for k, v in data.items() if k != "rss"}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vehicles", type=int, default=10_000)
    parser.add_argument("--sample", type=int, default=4_000, help="vehicles per run kind that sign requests")
    parser.add_argument("--requests", type=int, default=30_000, help="checks per run on PostgreSQL (offer: half)")
    parser.add_argument("--requests-sqlite", type=int, default=10_000, help="checks per run on SQLite (offer: half)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2, help="uvicorn workers on PostgreSQL")
    parser.add_argument("--timeout", type=float, default=400.0,
                        help="seconds a run may take (its pre-signed timestamps stay valid ~415 s)")
    parser.add_argument("--pg-url", default=os.environ.get("EVPLATFORM_BENCH_PG_URL", DEFAULT_PG))
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--memory", type=int, default=0, metavar="N",
                        help="instead: one SQLite worker's RSS over N nothing-new checks (api_load_memory.json)")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk not found: `make services` (scripts/ensure-services.sh) or `apt-get install wrk`")
    if args.memory:
        memory_run(args.memory, args)
        return
    data: dict[str, Any] = {
        "machine": f"{platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}, "
                   f"{subprocess.run(['wrk', '--version'], capture_output=True, text=True).stdout.split()[1]} wrk",
        "command": "benchmarks/api_load.py " + " ".join(sys.argv[1:]),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "loadavg_before": Path("/proc/loadavg").read_text().split()[:3],
        "vehicles": args.vehicles, "connections": args.connections, "databases": {},
    }
    with tempfile.TemporaryDirectory(prefix="evplatform-api-load-") as scratch:
        folder = Path(scratch)
        if not args.no_postgres:
            if postgres_reachable(args.pg_url):
                recreate_postgres(args.pg_url)
                data["databases"]["postgresql"] = bench_database("postgresql", args.pg_url, args.workers, args, folder)
            else:
                data["databases"]["postgresql"] = {"skipped": f"PostgreSQL not reachable at {args.pg_url}"}
        if not args.no_sqlite:
            data["databases"]["sqlite"] = bench_database("sqlite", f"sqlite:///{folder / 'load.db'}", 1, args, folder)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(data, indent=2) + "\n")
    print_table(data)


def print_table(data: dict[str, Any]) -> None:
    print("| database | workers | run | requests | 200 | req/s (best) | rounds | p50 ms | p99 ms | ratio "
          "| wrk CPU share |")
    print("|---|---:|---|---:|---:|---:|---|---:|---:|---:|---:|")
    for database, figures in data["databases"].items():
        if "skipped" in figures:
            print(f"| {database} | | {figures['skipped']} | | | | | | | | |")
            continue
        for name, run in figures["runs"].items():
            ratio = figures["ratio_to_anchor"].get(name)
            print(f"| {database} | {figures['workers']} | {name} | {run['requests']:,} | {run['ok_200']:,} | "
                  f"{run['rps']:,.0f} | {' / '.join(f'{x:,.0f}' for x in run['rounds_rps'])} | {run['p50_ms']:.1f} | "
                  f"{run['p99_ms']:.1f} | {'' if ratio is None else f'{ratio:.2f}'} | "
                  f"{run['generator_share_of_machine_busy']:.0%} |")


if __name__ == "__main__":
    main()
