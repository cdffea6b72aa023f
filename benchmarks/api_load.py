"""REST API load: the vehicle update-check endpoint under load from a second process on loopback.

A real ``evplatform serve`` (uvicorn, one process) on a demo database (SQLite) with a running
campaign; a separate load process sends signed update checks (ed25519, a fresh nonce each, so
every request passes the whole authentication path) from a pool of threads, bounded in count and
time, and reports requests per second and p50/p99 latency. The anchor, measured in the same run
by the same load process, is a bare FastAPI app on uvicorn answering the same signed POST with
``{"ok": true}`` — the floor of the server stack — so the ratio says what the endpoint's own work
(signature check, key lookup, open-offer query, offer update) costs on top of it.

``wrk`` is not used: it replays one fixed request, which the replay guard refuses by design.

    .venv/bin/python benchmarks/api_load.py                       # 2,000 vehicles, 2 × 1,500 requests each
    .venv/bin/python benchmarks/api_load.py --requests 500 --vehicles 500   # quick look
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "api_load.json"
PATH = "/api/vehicle/update-check"
ANCHOR = "anchor: bare FastAPI POST"
ENDPOINT = "update check (signed, SQLite)"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def prepare(folder: Path, vehicles: int, keyed: int) -> tuple[str, Path]:
    """Demo fleet, a running campaign of hub-os 1.8.0 in China, keys for ``keyed`` vehicles."""
    from nacl.signing import SigningKey

    from evplatform.api.auth import public_key_text
    from evplatform.fleet import TargetFilter, WavePolicy, build_demo_database, create_campaign, start_campaign
    from evplatform.store import open_store
    from evplatform.store import releases as rdb
    from evplatform.store import vehicles as vdb
    from evplatform.workspace import load_workspace

    url = f"sqlite:///{folder / 'load.db'}"
    build_demo_database(url, vehicles=vehicles)
    store = open_store(url)
    try:
        hub = load_workspace(None).software["hub-os"]
        now = datetime.now(UTC)
        rdb.save_release(store, rdb.ReleaseRecord("hub-os-1.8.0", "hub-os", hub.ecu, hub.hardware_id, "1.8.0",
                                                  hub.compatible_text, created_at=now))
        rdb.save_approval(store, rdb.ApprovalRecord("hub-os-1.8.0", "CN", "MIIT", "B-1", "bench", now))
        cid = create_campaign(store, name="load", release_id="hub-os-1.8.0", target=TargetFilter(markets=("CN",)),
                              waves=(WavePolicy(1.0),))
        start_campaign(store, cid)
        keys = []
        for index, vehicle in enumerate(vdb.list_vehicles(store, limit=keyed)):
            seed = index.to_bytes(4, "big") * 8
            vdb.set_public_key(store, vehicle.vin, public_key_text(SigningKey(seed)))
            keys.append({"vin": vehicle.vin, "seed": seed.hex()})
    finally:
        store.dispose()
    keys_file = folder / "keys.json"
    keys_file.write_text(json.dumps(keys))
    return url, keys_file


def anchor_server(port: int) -> None:
    """The floor: FastAPI on uvicorn answering a POST with a constant (runs in its own process)."""
    import uvicorn
    from fastapi import FastAPI

    app = FastAPI()

    @app.post(PATH)
    def ok() -> dict[str, bool]:
        return {"ok": True}

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


def load(base: str, keys_file: Path, requests: int, concurrency: int, seconds: float) -> None:
    """Send signed update checks from ``concurrency`` threads; print the figures as JSON."""
    import httpx
    from nacl.signing import SigningKey

    from evplatform.api.auth import sign_request

    keys = [(k["vin"], SigningKey(bytes.fromhex(k["seed"]))) for k in json.loads(keys_file.read_text())]
    latencies: list[float] = []
    errors = [0]
    counter = [0]
    lock = threading.Lock()

    def worker() -> None:
        with httpx.Client(base_url=base, timeout=30) as client:
            while time.perf_counter() < deadline:
                with lock:
                    if counter[0] >= requests:
                        return
                    index = counter[0]
                    counter[0] += 1
                vin, key = keys[index % len(keys)]
                headers = sign_request(key, vin, "POST", PATH)
                started = time.perf_counter()
                response = client.post(PATH, headers=headers)
                elapsed = time.perf_counter() - started
                with lock:
                    latencies.append(elapsed)
                    if response.status_code != 200:
                        errors[0] += 1

    for _ in range(min(20, len(keys))):  # warm up: connections, caches, first queries
        vin, key = keys[_]
        httpx.post(base + PATH, headers=sign_request(key, vin, "POST", PATH), timeout=30)
    started = time.perf_counter()
    deadline = started + seconds
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    ordered = sorted(latencies)
    print(json.dumps({
        "requests": len(ordered), "errors": errors[0], "seconds": round(wall, 3),
        "rps": round(len(ordered) / wall, 1) if wall else None,
        "p50_ms": round(1000 * statistics.median(ordered), 2) if ordered else None,
        "p99_ms": round(1000 * ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))], 2) if ordered else None,
    }))


def wait_ready(url: str, process: subprocess.Popen[bytes], timeout: float = 120) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server at {url} exited with {process.returncode}")
        try:
            httpx.get(url + "/openapi.json", timeout=2)
            return
        except httpx.TransportError:
            time.sleep(0.3)
    raise SystemExit(f"server at {url} did not start in {timeout:.0f} s")


def run_load(base: str, keys_file: Path, args: argparse.Namespace) -> dict[str, Any]:
    output = subprocess.run(
        [sys.executable, __file__, "--load", base, "--keys", str(keys_file), "--requests", str(args.requests),
         "--concurrency", str(args.concurrency), "--seconds", str(args.seconds)],
        check=True, capture_output=True, text=True,
    ).stdout
    figures: dict[str, Any] = json.loads(output.strip().splitlines()[-1])
    figures["loadavg"] = Path("/proc/loadavg").read_text().split()[:3]
    return figures


def serve(command: list[str], port: int, cwd: Path) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"})
    wait_ready(f"http://127.0.0.1:{port}", process)
    return process


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vehicles", type=int, default=2000)
    parser.add_argument("--keyed", type=int, default=300, help="vehicles that send update checks")
    parser.add_argument("--requests", type=int, default=1500, help="per run")
    parser.add_argument("--rounds", type=int, default=2, help="runs of each server, interleaved; the best is kept")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=40.0, help="time bound of each load run")
    parser.add_argument("--load", help=argparse.SUPPRESS)
    parser.add_argument("--keys", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--anchor-server", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.anchor_server:
        anchor_server(args.anchor_server)
        return
    if args.load:
        load(args.load, args.keys, args.requests, args.concurrency, args.seconds)
        return
    with tempfile.TemporaryDirectory(prefix="evplatform-api-load-") as scratch:
        folder = Path(scratch)
        print(f"preparing {args.vehicles:,} vehicles …", flush=True)
        url, keys_file = prepare(folder, args.vehicles, args.keyed)
        commands = {
            ANCHOR: lambda p: [sys.executable, __file__, "--anchor-server", str(p)],
            ENDPOINT: lambda p: [sys.executable, "-m", "evplatform", "serve", "--database", url, "--port", str(p),
                                 "--log-level", "warning"],
        }
        servers: dict[str, tuple[subprocess.Popen[bytes], int]] = {}
        runs: dict[str, list[dict[str, Any]]] = {name: [] for name in commands}
        try:
            for name, command_of in commands.items():
                port = free_port()
                servers[name] = (serve(command_of(port), port, folder), port)
            for _ in range(args.rounds):  # interleaved, so a burst of load hits both alike
                for name, (_, port) in servers.items():
                    runs[name].append(run_load(f"http://127.0.0.1:{port}", keys_file, args))
        finally:
            for process, _ in servers.values():
                process.terminate()
                process.wait(timeout=20)
    results = {name: max(rs, key=lambda r: r["rps"]) | {"rounds_rps": [r["rps"] for r in rs]}
               for name, rs in runs.items()}
    anchor, endpoint = results[ANCHOR], results[ENDPOINT]
    data = {
        "machine": f"{platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}",
        "command": f"benchmarks/api_load.py --vehicles {args.vehicles} --requests {args.requests} "
                   f"--concurrency {args.concurrency} --rounds {args.rounds}",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "vehicles": args.vehicles, "keyed_vehicles": args.keyed, "concurrency": args.concurrency,
        "results": results,
        "ratio_rps_endpoint_over_anchor": round(endpoint["rps"] / anchor["rps"], 3),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(data, indent=2) + "\n")
    print("| run | requests | errors | req/s (best) | req/s rounds | p50 ms | p99 ms | load avg |")
    print("|---|---:|---:|---:|---|---:|---:|---|")
    for name, r in results.items():
        rounds = " / ".join(f"{x:,.0f}" for x in r["rounds_rps"])
        print(f"| {name} | {r['requests']:,} | {r['errors']} | {r['rps']:,.0f} | {rounds} | {r['p50_ms']:.1f} | "
              f"{r['p99_ms']:.1f} | {' '.join(r['loadavg'])} |")
    print(f"update check / anchor throughput: {data['ratio_rps_endpoint_over_anchor']:.2f}")


if __name__ == "__main__":
    main()
