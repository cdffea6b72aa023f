"""Third-party data API with consent check: reads per second (issue 20, target ≥ 1,000 req/s).

Every read goes the whole way: the OAuth bearer token checked by Authlib's resource protector
against the stored token digest, the owner's live consent for that VIN and category read from the
database (never cached), the category's values queried, and the access logged (a write).

Two figures, each with its anchor measured in the same run:

* **in process** — ``dataact.oauth.authorize_read`` + ``portal.consented_read`` (values + log) called by
  ``--threads`` threads on one store (SQLite file or ``--database`` PostgreSQL): the domain's own
  cost. Anchor: the same loop doing only the token lookup (``store.dataact.access_token``), the floor
  of any authenticated read.
* **over HTTP** (``--http``) — a real ``evplatform serve`` (uvicorn, one process) loaded from a second
  process on loopback, like ``benchmarks/api_load.py``; anchor: a bare FastAPI GET on uvicorn.

    .venv/bin/python benchmarks/data_access.py                 # in process, 20 s per figure
    .venv/bin/python benchmarks/data_access.py --http          # and over HTTP
"""

from __future__ import annotations

import argparse
import base64
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
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "data_access.json"
CATEGORY = "driving_behaviour"


def prepare(url: str, vehicles: int, consents: int) -> tuple[str, str, str, list[str]]:
    """A demo fleet, owners with consents for the insurer; returns (client id, secret, token, VINs)."""
    from evplatform.dataact.oauth import token_response
    from evplatform.fleet import build_demo_database
    from evplatform.store import dataact as db
    from evplatform.store import open_store
    from evplatform.store import vehicles as vdb

    build_demo_database(url, vehicles=vehicles)
    store = open_store(url)
    try:
        _info, secret = db.register_recipient(store, "insurer", "Insurer")
        now = datetime.now(UTC)
        vins = [v.vin for v in vdb.list_vehicles(store, limit=consents)]
        for index, vin in enumerate(vins):
            owner = db.create_owner(store, f"owner-{index}")
            db.assign_vehicle(store, owner.name, vin)
            db.create_grant(store, owner.id, "insurer", vin, [CATEGORY], now, now + timedelta(days=30))
        basic = base64.b64encode(f"insurer:{secret}".encode()).decode()
        status, body, _ = token_response(store, (CATEGORY,), "POST", "https://bench/oauth/token",
                                         {"Authorization": f"Basic {basic}"},
                                         {"grant_type": "client_credentials", "scope": CATEGORY})
        assert status == 200, body
        return "insurer", secret, str(body["access_token"]), vins
    finally:
        store.dispose()


def hammer(call: Callable[[int], None], threads: int, seconds: float) -> dict[str, Any]:
    latencies: list[float] = []
    lock = threading.Lock()
    counter = [0]
    deadline = time.perf_counter() + seconds

    def worker() -> None:
        mine: list[float] = []
        while time.perf_counter() < deadline:
            with lock:
                index = counter[0]
                counter[0] += 1
            started = time.perf_counter()
            call(index)
            mine.append(time.perf_counter() - started)
        with lock:
            latencies.extend(mine)

    started = time.perf_counter()
    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    wall = time.perf_counter() - started
    ordered = sorted(latencies)
    return {"requests": len(ordered), "seconds": round(wall, 2), "rps": round(len(ordered) / wall, 1),
            "p50_ms": round(1000 * statistics.median(ordered), 3),
            "p99_ms": round(1000 * ordered[int(0.99 * (len(ordered) - 1))], 3),
            "loadavg": Path("/proc/loadavg").read_text().split()[:3]}


def in_process(url: str, token: str, vins: list[str], threads: int, seconds: float) -> dict[str, Any]:
    from evplatform.apps.manifest import load_apps
    from evplatform.dataact import oauth, portal
    from evplatform.store import dataact as db
    from evplatform.store import open_store
    from evplatform.workspace import load_workspace

    catalogue = load_apps(load_workspace(None))
    store = open_store(url)
    authorization = f"Bearer {token}"

    def read(index: int) -> None:
        vin = vins[index % len(vins)]
        reader = oauth.authorize_read(store, authorization, vin, CATEGORY)
        portal.consented_read(store, catalogue, vin, reader.vehicle_id, CATEGORY, reader.client_id, 100)

    def floor(_index: int) -> None:
        assert db.access_token(store, token) is not None

    try:
        read(0)
        return {"anchor: token lookup only": hammer(floor, threads, seconds),
                "read with consent check + log": hammer(read, threads, seconds)}
    finally:
        store.dispose()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def serve(command: list[str], port: int, folder: Path) -> subprocess.Popen[bytes]:
    """Start a server and wait until it answers (its ``/openapi.json``), at most 120 s."""
    import httpx

    process = subprocess.Popen(command, cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server on port {port} exited with {process.returncode}")
        try:
            httpx.get(f"http://127.0.0.1:{port}/openapi.json", timeout=2)
            return process
        except httpx.TransportError:
            time.sleep(0.3)
    process.terminate()
    raise SystemExit(f"server on port {port} did not start in 120 s")


def over_http(url: str, token: str, vins: list[str], threads: int, seconds: float, folder: Path) -> dict[str, Any]:
    results: dict[str, Any] = {}
    servers = {
        "anchor: bare FastAPI GET": [sys.executable, __file__, "--anchor-server"],
        "GET /api/data/vehicles/{vin}/{category} (uvicorn, 1 process)":
            [sys.executable, "-m", "evplatform", "serve", "--database", url, "--log-level", "warning", "--port"],
    }
    for name, command in servers.items():
        port = free_port()
        process = serve([*command, str(port)], port, folder)
        try:
            out = subprocess.run([sys.executable, __file__, "--load", f"http://127.0.0.1:{port}", "--token", token,
                                  "--vins", ",".join(vins), "--threads", str(threads), "--seconds", str(seconds)],
                                 check=True, capture_output=True, text=True).stdout
            results[name] = json.loads(out.strip().splitlines()[-1])
        finally:
            process.terminate()
            process.wait(timeout=20)
    return results


def anchor_server(port: int) -> None:
    import uvicorn
    from fastapi import FastAPI

    app = FastAPI()

    @app.get("/api/data/vehicles/{vin}/{category}")
    def ok(vin: str, category: str) -> dict[str, str]:
        return {"vin": vin, "category": category}

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


def http_load(base: str, token: str, vins: list[str], threads: int, seconds: float) -> None:
    import httpx

    local = threading.local()
    errors = [0]

    def call(index: int) -> None:
        if not hasattr(local, "client"):
            local.client = httpx.Client(base_url=base, timeout=30)
        vin = vins[index % len(vins)]
        answer = local.client.get(f"/api/data/vehicles/{vin}/{CATEGORY}", headers={"Authorization": f"Bearer {token}"})
        if answer.status_code != 200:
            errors[0] += 1

    call(0)
    figures = hammer(call, threads, seconds)
    print(json.dumps({**figures, "errors": errors[0]}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vehicles", type=int, default=2000)
    parser.add_argument("--consents", type=int, default=200, help="vehicles with a live consent, read round robin")
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--database", help="a PostgreSQL URL (default: a fresh SQLite file)")
    parser.add_argument("--http", action="store_true", help="also measure over HTTP (uvicorn)")
    parser.add_argument("--anchor-server", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--load", help=argparse.SUPPRESS)
    parser.add_argument("--token", help=argparse.SUPPRESS)
    parser.add_argument("--vins", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.anchor_server:
        anchor_server(args.anchor_server)
        return
    if args.load:
        http_load(args.load, args.token, args.vins.split(","), args.threads, args.seconds)
        return
    with tempfile.TemporaryDirectory(prefix="evplatform-data-access-") as scratch:
        url = args.database or f"sqlite:///{Path(scratch) / 'data.db'}"
        print(f"preparing {args.vehicles:,} vehicles, {args.consents} consents …", flush=True)
        _client, _secret, token, vins = prepare(url, args.vehicles, args.consents)
        results = {"in process": in_process(url, token, vins, args.threads, args.seconds)}
        if args.http:
            results["over HTTP"] = over_http(url, token, vins, args.threads, args.seconds, Path(scratch))
    data = {"machine": f"{platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}",
            "database": "postgresql" if args.database else "sqlite",
            "command": " ".join(["benchmarks/data_access.py", *sys.argv[1:]]),
            "date": datetime.now(UTC).isoformat(timespec="seconds"), "results": results}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(data, indent=2) + "\n")
    print("| mode | run | requests | req/s | p50 ms | p99 ms | load avg |")
    print("|---|---|---:|---:|---:|---:|---|")
    for mode, runs in results.items():
        for name, r in runs.items():
            print(f"| {mode} | {name} | {r['requests']:,} | {r['rps']:,.0f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | "
                  f"{' '.join(r['loadavg'])} |")


if __name__ == "__main__":
    main()
