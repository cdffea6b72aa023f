"""MQTT telemetry end to end: signed 10-event batches through Mosquitto into PostgreSQL, with anchors.

Three phases in one run, each fed by the same publisher process (pre-signed batches, QoS 1, a
window of 1,000 in flight; signing is the vehicles' work and is done before the clock starts):

1. floor — Mosquitto with a bare aiomqtt subscriber that only counts messages;
2. mqtt — ``fleet.mqtt_ingest.Ingester`` (this process): checks every signature and event, stores
   each batch once in PostgreSQL, acknowledges after the commit; p99 from publish to committed
   (the publisher stamps the wall-clock send time in a user property; same machine), loss =
   published − stored;
3. http — today's path: ``evplatform serve`` and signed ``POST /api/telemetry`` batches of 10
   events from 8 threads of a second process, for a fixed time.

    .venv/bin/python benchmarks/telemetry.py --database postgresql+psycopg://postgres@127.0.0.1:5432/i20mqtt
    .venv/bin/python benchmarks/telemetry.py --messages 20000 --http-seconds 15   # shorter
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import aiomqtt  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from nacl.signing import SigningKey  # noqa: E402

from evplatform.fleet import mqtt_topics as topics  # noqa: E402
from evplatform.fleet.mqtt_ingest import Incoming, Ingester  # noqa: E402
from evplatform.fleet.mqtt_vehicle import publish_properties  # noqa: E402
from evplatform.fleet.registry import VehicleSpec, register_vehicles  # noqa: E402
from evplatform.fleet.telemetry import TelemetryEvent  # noqa: E402
from evplatform.store import open_store  # noqa: E402
from evplatform.store import telemetry_batches as tb  # noqa: E402
from evplatform.store import vehicles as vdb  # noqa: E402
from evplatform.workspace import load_workspace  # noqa: E402

DEFAULT_DB = "postgresql+psycopg://postgres@127.0.0.1:5432/i20mqtt"
EVENTS = 10


def loadavg() -> list[str]:
    return Path("/proc/loadavg").read_text().split()[:3]


def prepare(url: str, vehicles: int) -> list[tuple[str, str]]:
    """An empty schema with ``vehicles`` registered and keyed; returns (VIN, seed hex)."""
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()
    store = open_store(url)
    ws = load_workspace(None)
    trims = [t for t in ws.trims() if (t.key, "DE") in ws.configurations]
    specs = [VehicleSpec(f"BENCH{i:012d}", trims[i % len(trims)].model_id, trims[i % len(trims)].id, "DE")
             for i in range(vehicles)]
    register_vehicles(store, ws, specs, at=datetime.now(UTC) - timedelta(days=1))
    keys = []
    for spec in specs:
        key = SigningKey.generate()
        vdb.set_public_key(store, spec.vin, bytes(key.verify_key).hex())
        keys.append((spec.vin, bytes(key).hex()))
    store.dispose()
    return keys


def presign(keys: Sequence[tuple[str, str]], messages: int) -> list[tuple[str, bytes, dict[str, str]]]:
    now = datetime.now(UTC)
    signers = [(vin, SigningKey(bytes.fromhex(seed))) for vin, seed in keys]
    out = []
    for i in range(messages):
        vin, key = signers[i % len(signers)]
        events = [TelemetryEvent(vin, "soc", now - timedelta(seconds=j), float(20 + (i + j) % 80))
                  for j in range(EVENTS)]
        signed = topics.sign_message(key, vin, topics.telemetry_topic(vin), topics.encode_events(events),
                                     uuid.uuid4().hex, int(time.time()))
        out.append((signed.topic, signed.body, signed.properties))
    return out


async def publish_all(path: Path, port: int, rate: float) -> None:
    """The publisher process: every pre-signed message with QoS 1, 1,000 in flight, send time stamped;
    ``rate`` > 0 paces it to that many messages per second (an offered load below saturation)."""
    batch = [(topic, body.encode(), properties) for topic, body, properties in json.loads(path.read_text())]
    window = asyncio.Semaphore(1000)
    async with aiomqtt.Client("127.0.0.1", port, protocol=aiomqtt.ProtocolVersion.V5,
                              max_inflight_messages=1000, max_queued_outgoing_messages=0) as client:
        client.pending_calls_threshold = 10**6  # the window is ours; aiomqtt would warn per call

        async def one(topic: str, body: bytes, properties: dict[str, str]) -> None:
            async with window:
                stamped = {**properties, "pt": repr(time.time())}
                await client.publish(topic, body, qos=1,
                                     properties=publish_properties(topics.SignedMessage(topic, body, stamped)))

        started = time.perf_counter()
        if rate > 0:
            tasks = []
            for index, message in enumerate(batch):
                delay = started + index / rate - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                tasks.append(asyncio.create_task(one(*message)))
            await asyncio.gather(*tasks)
        else:
            await asyncio.gather(*(one(*m) for m in batch))
        print(json.dumps({"publish_seconds": round(time.perf_counter() - started, 3)}))


RATE = [0.0]  # messages per second the publisher offers (0: as fast as it can)


def start_publisher(path: Path, port: int) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, __file__, "--publish", str(path), "--port", str(port),
                             "--rate", str(RATE[0])],
                            stdout=subprocess.PIPE, text=True)


async def floor(path: Path, port: int, messages: int) -> dict[str, Any]:
    """A bare aiomqtt subscriber that only counts."""
    count = 0
    async with aiomqtt.Client("127.0.0.1", port, protocol=aiomqtt.ProtocolVersion.V5,
                              identifier=f"bench-floor-{uuid.uuid4().hex[:8]}") as client:
        await client.subscribe(f"{topics.PREFIX}/+/telemetry", qos=1)
        publisher = start_publisher(path, port)
        started = None  # the first message's send time (wall clock, as the mqtt phase measures)
        async for message in client.messages:
            if started is None:
                started = float(dict(message.properties.UserProperty)["pt"])  # type: ignore[union-attr]
            count += 1
            if count >= messages:
                break
        wall = time.time() - (started or time.time())
    publisher.wait()
    return {"messages": count, "seconds": round(wall, 3), "msg_per_s": round(count / wall, 1) if wall else None,
            "loadavg": loadavg()}


async def mqtt_phase(url: str, path: Path, port: int, messages: int) -> dict[str, Any]:
    store = open_store(url)
    latencies: list[float] = []
    commits: list[float] = []
    first_sent = [float("inf")]

    def committed(batch: Sequence[Incoming]) -> None:
        now = time.time()
        commits.append(now)
        sent = [float(m.properties["pt"]) for m in batch if "pt" in m.properties]
        latencies.extend(now - t for t in sent)
        first_sent[0] = min([first_sent[0], *sent])

    ingester = Ingester(store, f"mqtt://127.0.0.1:{port}", client_id=f"bench-{uuid.uuid4().hex[:8]}",
                        session_expiry=120, on_commit=committed)
    stop = asyncio.Event()
    task = asyncio.create_task(ingester.run(stop))
    await asyncio.wait_for(ingester.connected.wait(), 30)
    publisher = start_publisher(path, port)
    deadline = time.perf_counter() + 900
    stats = ingester.stats
    while stats.stored + stats.duplicates + sum(stats.refused.values()) < messages and time.perf_counter() < deadline:
        await asyncio.sleep(0.05)
    # from the first message's send time to the last commit, as the floor measures
    wall = max(max(commits, default=0.0) - first_sent[0], 1e-3)
    stop.set()
    await task
    publisher.wait()
    stored = tb.batch_count(store)
    events = stats.events
    store.dispose()
    ordered = sorted(latencies)
    return {"messages": messages, "stored_batches": stored, "events_stored": events, "lost": messages - stored,
            "refused": dict(stats.refused), "seconds": round(wall, 3), "msg_per_s": round(stored / wall, 1),
            "events_per_s": round(events / wall, 1),
            "p50_s": round(ordered[len(ordered) // 2], 3) if ordered else None,
            "p99_s": round(ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))], 3) if ordered else None,
            "loadavg": loadavg()}


def http_load(base: str, keys: Sequence[tuple[str, str]], seconds: float, threads: int) -> dict[str, Any]:
    import httpx

    from evplatform.api.auth import sign_request

    signers = [(vin, SigningKey(bytes.fromhex(seed))) for vin, seed in keys]
    done = [0, 0]
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def worker(offset: int) -> None:
        i = offset
        with httpx.Client(base_url=base, timeout=30) as client:
            while time.perf_counter() < deadline:
                vin, key = signers[i % len(signers)]
                i += threads
                now = datetime.now(UTC)
                body = json.dumps({"events": [{"vin": vin, "kind": "soc", "value": 50.0,
                                               "at": (now - timedelta(seconds=j)).isoformat()}
                                              for j in range(EVENTS)]}).encode()
                headers = {**sign_request(key, vin, "POST", "/api/telemetry", body), "Content-Type": "application/json"}
                response = client.post("/api/telemetry", content=body, headers=headers)
                with lock:
                    done[0 if response.status_code == 201 else 1] += 1

    started = time.perf_counter()
    pool = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    wall = time.perf_counter() - started
    return {"requests_ok": done[0], "errors": done[1], "seconds": round(wall, 3),
            "msg_per_s": round(done[0] / wall, 1), "loadavg": loadavg()}


def http_phase(url: str, keys: Sequence[tuple[str, str]], seconds: float) -> dict[str, Any]:
    import httpx

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "evplatform", "serve", "--database", url, "--port", str(port)],
                              cwd=tempfile.mkdtemp(), env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(600):
            try:
                httpx.get(f"http://127.0.0.1:{port}/openapi.json", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        return http_load(f"http://127.0.0.1:{port}", keys, seconds, threads=8)
    finally:
        server.terminate()
        server.wait(timeout=30)


def private_broker(folder: Path) -> tuple[subprocess.Popen[bytes], int]:
    """A Mosquitto of this run on a free port that queues without limit (the default drops past 1,000
    messages queued for one client — loss the benchmark would count against the ingester)."""
    binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = folder / "mosquitto.conf"
    config.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\nmax_queued_messages 0\n"
                      f"user {getpass.getuser()}\n")
    broker = subprocess.Popen([binary, "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return broker, port
        time.sleep(0.1)
    raise SystemExit("the private mosquitto did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", default=os.environ.get("EVPLATFORM_BENCH_POSTGRES", DEFAULT_DB),
                        help="a PostgreSQL database of its own: its schema is dropped and recreated")
    parser.add_argument("--port", type=int, default=0,
                        help="an existing broker's port (default: a private Mosquitto of this run, unbounded queues)")
    parser.add_argument("--messages", type=int, default=50_000, help="MQTT messages of 10 events each")
    parser.add_argument("--vehicles", type=int, default=1_000)
    parser.add_argument("--http-seconds", type=float, default=20.0)
    parser.add_argument("--rate", type=float, default=0.0,
                        help="offered messages/s (default 0: as fast as the publisher can; p99 then measures queueing)")
    parser.add_argument("--skip-http", action="store_true", help="leave out the HTTP anchor")
    parser.add_argument("--publish", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.publish:
        asyncio.run(publish_all(args.publish, args.port, args.rate))
        return
    RATE[0] = args.rate
    keys = prepare(args.database, args.vehicles)
    with tempfile.TemporaryDirectory() as folder:
        broker, port = (None, args.port) if args.port else private_broker(Path(folder))
        args.port = port
        path = Path(folder) / "messages.json"
        path.write_text(json.dumps([(t, b.decode(), p) for t, b, p in presign(keys, args.messages)]))
        results: dict[str, Any] = {"machine": os.uname().machine, "cpus": os.cpu_count(), "messages": args.messages,
                                   "events_per_message": EVENTS, "vehicles": args.vehicles}
        results["floor"] = asyncio.run(floor(path, args.port, args.messages))
        print(json.dumps({"floor": results["floor"]}), flush=True)
        results["mqtt"] = asyncio.run(mqtt_phase(args.database, path, args.port, args.messages))
        print(json.dumps({"mqtt": results["mqtt"]}), flush=True)
        if broker is not None:
            broker.terminate()
            broker.wait(timeout=30)
    results["rate"] = args.rate
    results["ratio_mqtt_to_floor"] = round(results["mqtt"]["msg_per_s"] / results["floor"]["msg_per_s"], 3)
    if not args.skip_http:
        results["http"] = http_phase(args.database, keys, args.http_seconds)
        results["ratio_mqtt_to_http"] = round(results["mqtt"]["msg_per_s"] / max(results["http"]["msg_per_s"], 0.1), 2)
    results["when"] = datetime.now(UTC).isoformat(timespec="seconds")
    (ROOT / "benchmarks" / "results").mkdir(exist_ok=True)
    (ROOT / "benchmarks" / "results" / "telemetry.json").write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
