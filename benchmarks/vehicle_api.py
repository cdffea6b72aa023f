"""Benchmark: the hub's Kuksa vehicle API (kuksa.val.v2 over gRPC) against a bare grpcio echo servicer.

Two servers, each in its own process, measured in the same run with the same client (kuksa-client's
asyncio ``VSSClient`` and its v2 stubs, as an app would use them):

* ``ours``: the hub of the demo platform's first trim, tokens checked (an RS256 token with read
  scope), values from the broker; a 100 Hz tick publishes ``Vehicle.Speed`` on the broker.
* ``echo`` (the anchor): the same ``kuksa.val.v2.VAL`` service with nothing behind it: GetValue
  returns a constant, Subscribe streams a datapoint stamped by a 100 Hz loop. No auth, no broker.

Figures: GetValue calls/s (CONCURRENCY requests in flight from one client process, DURATION_S), and
the fan-out of one signal at 100 Hz to 50 subscribers: the latency from the server stamping the
datapoint (at publication) to the subscriber receiving it, p50/p99/max over every delivery. Targets
(issue 19): ≥ 10,000 calls/s and p99 ≤ 10 ms. Prints a Markdown table and writes
benchmarks/results/vehicle_api.json.

Usage: ``python benchmarks/vehicle_api.py [--duration S]`` (the ``--serve`` mode is the child process).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Protobuf gencode version", category=UserWarning)
    import grpc
    from kuksa.val.v2 import types_pb2 as types_v2
    from kuksa.val.v2 import val_pb2 as val_v2
    from kuksa.val.v2 import val_pb2_grpc as val_grpc_v2
    from kuksa_client.grpc.aio import VSSClient

SIGNAL = "Vehicle.Speed"
RATE_HZ = 100.0
SUBSCRIBERS = 50
CONCURRENCY = 16


# -- the servers (child processes) ------------------------------------------------------------------
class EchoServicer(val_grpc_v2.VALServicer):
    """The anchor: kuksa.val.v2 with nothing behind it."""

    def __init__(self) -> None:
        self.reply = val_v2.GetValueResponse(data_point=types_v2.Datapoint(value=types_v2.Value(float=42.0)))
        self.queues: set[asyncio.Queue[Any]] = set()

    async def GetValue(self, request: Any, context: Any) -> Any:
        return self.reply

    async def Subscribe(self, request: Any, context: Any) -> Any:
        queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=1000)
        self.queues.add(queue)
        try:
            while True:
                yield await queue.get()
        finally:
            self.queues.discard(queue)

    def publish(self, value: float) -> None:
        point = types_v2.Datapoint(value=types_v2.Value(float=value))
        point.timestamp.GetCurrentTime()
        message = val_v2.SubscribeResponse(entries={SIGNAL: point})
        for queue in self.queues:
            queue.put_nowait(message)


async def _paced(publish: Any) -> None:
    """Call ``publish`` at RATE_HZ on an absolute schedule (no drift)."""
    start, n = time.monotonic(), 0
    while True:
        n += 1
        await asyncio.sleep(max(0.0, start + n / RATE_HZ - time.monotonic()))
        publish(float(n % 200))


async def serve_echo(port: int) -> None:
    server = grpc.aio.server()
    servicer = EchoServicer()
    val_grpc_v2.add_VALServicer_to_server(servicer, server)
    server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    print("ready", flush=True)
    await _paced(servicer.publish)


async def serve_ours(port: int, public_key: Path) -> None:
    from kuksa.val.v1 import val_pb2_grpc as val_grpc_v1

    from evplatform.vehicle.hub import SIGNALS
    from evplatform.vehicle.hub.auth import TokenVerifier
    from evplatform.vehicle.hub.kuksa_api import KuksaServicer, ServerInfoV1, VehicleApi
    from evplatform.vehicle.hub.simulator import simulated_vehicle
    from evplatform.workspace import load_workspace

    hub = simulated_vehicle(load_workspace(None)).hub
    api = VehicleApi(hub, TokenVerifier(public_key.read_bytes(), SIGNALS))
    server = grpc.aio.server()
    val_grpc_v2.add_VALServicer_to_server(KuksaServicer(api), server)
    val_grpc_v1.add_VALServicer_to_server(ServerInfoV1(), server)
    server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    print("ready", flush=True)
    await _paced(lambda v: hub.broker.publish(SIGNAL, v, time.monotonic()))


# -- the client (this process) ------------------------------------------------------------------------
async def getvalue_rate(port: int, token: str | None, duration_s: float) -> float:
    async with VSSClient("127.0.0.1", port, token=token, ensure_startup_connection=False) as client:
        stub = client.client_stub_v2
        metadata = client.generate_metadata_header(None) if token else None
        request = val_v2.GetValueRequest(signal_id=types_v2.SignalID(path=SIGNAL))
        await stub.GetValue(request, metadata=metadata)  # warm-up
        count = 0
        deadline = time.monotonic() + duration_s

        async def worker() -> None:
            nonlocal count
            while time.monotonic() < deadline:
                await stub.GetValue(request, metadata=metadata)
                count += 1

        start = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
        return count / (time.monotonic() - start)


async def fanout(port: int, token: str | None, duration_s: float) -> dict[str, float]:
    latencies: list[float] = []
    stop = asyncio.Event()

    async def subscriber() -> None:
        async with VSSClient("127.0.0.1", port, token=token, ensure_startup_connection=False) as client:
            first = True
            async for updates in client.v2_subscribe([SIGNAL]):
                received = time.time()
                if first:  # the current value sent on subscribing is not a publication
                    first = False
                    continue
                for update in updates:
                    stamp = update.entry.value.timestamp if update.entry.value else None
                    if stamp is not None and not stop.is_set():
                        latencies.append(received - stamp.timestamp())
                if stop.is_set():
                    return

    tasks = [asyncio.create_task(subscriber()) for _ in range(SUBSCRIBERS)]
    await asyncio.sleep(2.0)  # every stream open
    latencies.clear()
    start = time.monotonic()
    await asyncio.sleep(duration_s)
    stop.set()
    elapsed = time.monotonic() - start
    for task in tasks:
        task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await asyncio.gather(*tasks, return_exceptions=True)
    ordered = sorted(latencies)

    def pct(q: float) -> float:
        return 1000.0 * ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")

    return {"deliveries_per_s": len(ordered) / elapsed, "p50_ms": pct(0.50), "p99_ms": pct(0.99),
            "max_ms": 1000.0 * ordered[-1] if ordered else float("nan"),
            "expected_per_s": RATE_HZ * SUBSCRIBERS}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(kind: str, port: int, public_key: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(HERE.parent / "src")}
    process = subprocess.Popen([sys.executable, __file__, "--serve", kind, "--port", str(port),
                                "--public-key", str(public_key)], stdout=subprocess.PIPE, text=True, env=env)
    assert process.stdout is not None
    if process.stdout.readline().strip() != "ready":
        raise SystemExit(f"the {kind} server did not start")
    return process


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(kind: str, token: str | None, public_key: Path, duration_s: float) -> dict[str, Any]:
    """Both figures against one server; its CPU time per call too, which the machine's load does not inflate
    the way it does wall time."""
    port = free_port()
    process = start_server(kind, port, public_key)
    try:
        before = cpu_s(process.pid)
        started = time.monotonic()
        rate = asyncio.run(getvalue_rate(port, token, duration_s))
        calls = rate * (time.monotonic() - started)
        getvalue_cpu = cpu_s(process.pid) - before
        spread = asyncio.run(fanout(port, token, duration_s))
    finally:
        process.terminate()
        process.wait(10)
    return {"getvalue_per_s": rate, "getvalue_per_server_cpu_s": calls / getvalue_cpu if getvalue_cpu else float("nan"),
            **spread}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--serve", choices=["ours", "echo"])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--public-key", type=Path)
    parser.add_argument("--duration", type=float, default=10.0)
    args = parser.parse_args()
    if args.serve == "echo":
        asyncio.run(serve_echo(args.port))
        return
    if args.serve == "ours":
        asyncio.run(serve_ours(args.port, args.public_key))
        return
    from evplatform.vehicle.hub import SIGNALS
    from evplatform.vehicle.hub.auth import generate_key, mint_token

    with tempfile.TemporaryDirectory() as folder:
        key, public = Path(folder) / "bench.key", Path(folder) / "bench.pub"
        generate_key(key, public)
        token = mint_token(key.read_bytes(), "bench.app", [f"read:{SIGNAL}"], SIGNALS)
        load_before = os.getloadavg()
        echo = measure("echo", None, public, args.duration)
        ours = measure("ours", token, public, args.duration)
        load_after = os.getloadavg()
    rows = [
        ("GetValue calls/s", ours["getvalue_per_s"], echo["getvalue_per_s"], "≥ 10,000",
         ours["getvalue_per_s"] >= 10_000),
        ("GetValue calls per server CPU-second", ours["getvalue_per_server_cpu_s"],
         echo["getvalue_per_server_cpu_s"], "", None),
        ("fan-out p50 ms", ours["p50_ms"], echo["p50_ms"], "", None),
        ("fan-out p99 ms", ours["p99_ms"], echo["p99_ms"], "≤ 10", ours["p99_ms"] <= 10.0),
        ("fan-out max ms", ours["max_ms"], echo["max_ms"], "", None),
        ("deliveries/s (of 5,000)", ours["deliveries_per_s"], echo["deliveries_per_s"], "", None),
    ]
    print(f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f}; {args.duration:.0f} s per figure")
    print("| figure | hub (ours) | bare grpcio echo (anchor) | ours / anchor | target | met |")
    print("|---|---:|---:|---:|---|---|")
    for name, mine, anchor, target, met in rows:
        ratio = mine / anchor if anchor else float("nan")
        print(f"| {name} | {mine:,.1f} | {anchor:,.1f} | {ratio:.2f} | {target} | "
              f"{'' if met is None else ('yes' if met else 'no')} |")
    results = HERE / "results"
    results.mkdir(exist_ok=True)
    (results / "vehicle_api.json").write_text(json.dumps(
        {"ours": ours, "echo": echo, "load_before": load_before, "load_after": load_after,
         "duration_s": args.duration, "subscribers": SUBSCRIBERS, "rate_hz": RATE_HZ,
         "concurrency": CONCURRENCY}, indent=2) + "\n")


if __name__ == "__main__":
    main()
