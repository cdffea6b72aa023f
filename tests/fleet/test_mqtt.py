"""MQTT 5 telemetry with the real broker (Mosquitto on 127.0.0.1:1883; skips with the reason when absent).

Each test's ingester has its own client id and a short session expiry, so nothing is left queued
in the shared broker; vehicles sign with keys registered in the test's store.
"""

from __future__ import annotations

import asyncio
import getpass
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiomqtt
import pytest
from nacl.signing import SigningKey

from evplatform.api.auth import signing_payload as http_signing_payload
from evplatform.clock import system_clock
from evplatform.errors import FleetError, NotFoundError
from evplatform.fleet import mqtt_commands as commands
from evplatform.fleet import mqtt_topics as topics
from evplatform.fleet import telemetry_parquet as parquet
from evplatform.fleet.mqtt_fleet import StreamResult, stream_fleet
from evplatform.fleet.mqtt_ingest import Incoming, Ingester
from evplatform.fleet.mqtt_vehicle import VehicleTelemetryClient, publish_properties
from evplatform.fleet.telemetry import TelemetryEvent
from evplatform.store import Store
from evplatform.store import telemetry_batches as tb
from evplatform.store import vehicles as vdb
from evplatform.store.accounts import audit_log
from evplatform.vehicle.hub.broker import Priority, SignalBroker
from evplatform.vehicle.hub.vss import DRIVER_DOOR_LOCKED, HVAC_DRIVER_TEMP

BROKER = "mqtt://127.0.0.1:1883"
ROOT = Path(__file__).resolve().parents[2]


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


needs_broker = pytest.mark.skipif(not _listening(1883), reason="no MQTT broker on 127.0.0.1:1883 "
                                  "(scripts/ensure-services.sh starts Debian's mosquitto)")


def keyed(store: Store, count: int) -> list[tuple[str, SigningKey]]:
    """``count`` vehicles of the store with fresh keys provisioned; the store on the real clock."""
    store.clock = system_clock
    out = []
    for vehicle in vdb.list_vehicles(store, limit=count):
        key = SigningKey.generate()
        vdb.set_public_key(store, vehicle.vin, bytes(key.verify_key).hex())
        out.append((vehicle.vin, key))
    return out


def events(vin: str, n: int, at: datetime | None = None) -> list[TelemetryEvent]:
    at = at or datetime.now(UTC)
    return [TelemetryEvent(vin, "soc", at - timedelta(seconds=i), float(50 + i % 40)) for i in range(n)]


def test_signed_bytes_are_those_of_a_signed_http_batch() -> None:
    body = b'{"events":[]}'
    assert topics.signing_payload("PUBLISH", "v1/vehicles/X/telemetry", "1", "abcdefgh", body) == \
        http_signing_payload("PUBLISH", "v1/vehicles/X/telemetry", "1", "abcdefgh", body)


async def _publish_raw(topic: str, body: bytes, properties: dict[str, str]) -> None:
    async with aiomqtt.Client("127.0.0.1", 1883, protocol=aiomqtt.ProtocolVersion.V5) as client:
        await client.publish(topic, body, qos=1,
                             properties=publish_properties(topics.SignedMessage(topic, body, properties)))


async def _until(predicate: object, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


@needs_broker
def test_batches_stored_once_and_bad_input_refused_and_counted(fleet: Store) -> None:
    (vin, key), (other_vin, _) = keyed(fleet, 2)

    async def scenario() -> Ingester:
        ingester = Ingester(fleet, BROKER, client_id=f"test-{uuid.uuid4().hex[:12]}", session_expiry=30)
        stop = asyncio.Event()
        task = asyncio.create_task(ingester.run(stop))
        await asyncio.wait_for(ingester.connected.wait(), 10)
        vehicle = VehicleTelemetryClient(vin, key)
        for event in events(vin, 25):  # recorded while "offline", sent in batches of 10
            vehicle.record(event)
        async with aiomqtt.Client("127.0.0.1", 1883, protocol=aiomqtt.ProtocolVersion.V5) as client:
            assert await vehicle.flush(client) == 3
            again = vehicle.signed("resent-batch-1", events(vin, 10))  # a resend after a lost PUBACK: same id
            for _ in range(2):
                await client.publish(again.topic, again.body, qos=1, properties=publish_properties(again))
        now = int(time.time())
        good = vehicle.signed("good-id-1", events(vin, 1))
        # another VIN's topic, signed by the first vehicle's key
        wrong_topic = topics.telemetry_topic(other_vin)
        wrong = topics.sign_message(key, other_vin, wrong_topic, good.body.replace(vin.encode(), other_vin.encode()),
                                    "wrongvin-1", now)
        await _publish_raw(wrong_topic, wrong.body, wrong.properties)
        await _publish_raw(good.topic, good.body, {})  # unsigned
        await _publish_raw(good.topic, b"x" * (topics.MAX_MESSAGE_BYTES + 1), good.properties)  # oversized
        junk = vehicle.signed("junk-id-1", [])
        junk = topics.sign_message(key, vin, junk.topic, b"{not json", "junk-id-1", now)
        await _publish_raw(junk.topic, junk.body, junk.properties)  # malformed
        ahead = vehicle.signed("ahead-id-1", events(vin, 2, datetime.now(UTC) + timedelta(hours=2)))
        await _publish_raw(ahead.topic, ahead.body, ahead.properties)  # clock-skewed events
        await _publish_raw(good.topic, good.body, good.properties)  # and the ingester still works
        await _until(lambda: ingester.stats.stored + ingester.stats.duplicates + sum(ingester.stats.refused.values())
                     >= 11)
        stop.set()
        await task
        return ingester

    ingester = asyncio.run(scenario())
    stats = ingester.stats
    assert (stats.stored, stats.duplicates) == (5, 1)
    assert dict(stats.refused) == {"bad_signature": 1, "unsigned": 1, "oversized": 1, "malformed": 1,
                                   "clock_skew": 1}
    vehicle_id = vdb.vehicle_ids(fleet, [vin])[vin]
    assert len(vdb.telemetry(fleet, vehicle_id=vehicle_id, limit=1000)) == 25 + 10 + 1
    other_id = vdb.vehicle_ids(fleet, [other_vin])[other_vin]
    assert vdb.telemetry(fleet, vehicle_id=other_id) == []
    assert tb.batch_count(fleet) == 5


def _ingester_process(db: str, client_id: str, logs: Path, port: int = 1883) -> subprocess.Popen[bytes]:
    """`evplatform ingest` in its own process, returned once it has subscribed (its log says so)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    path = logs / f"ingester-{time.monotonic_ns()}.log"
    with path.open("wb") as log:  # the child keeps its own descriptor
        process = subprocess.Popen([sys.executable, "-m", "evplatform", "ingest", "--mqtt", f"mqtt://127.0.0.1:{port}",
                                    "--database", db, "--client-id", client_id, "--queue", "50"],
                                   env=env, stdout=log, stderr=log)
    deadline = time.monotonic() + 60
    while f"as {client_id}" not in path.read_text(errors="replace"):
        assert process.poll() is None and time.monotonic() < deadline, path.read_text(errors="replace")
        time.sleep(0.1)
    time.sleep(0.5)  # the subscriptions follow the connection line
    return process


async def _send(vehicles: list[tuple[str, SigningKey]], batches: int, port: int = 1883) -> None:
    """``batches`` signed batches of 10 readings, published all at once (QoS 1) so the ingester falls behind."""
    signed = []
    for round_ in range(batches):
        vin, key = vehicles[round_ % len(vehicles)]
        signed.append(VehicleTelemetryClient(vin, key).signed(uuid.uuid4().hex, events(vin, 10)))
    async with aiomqtt.Client("127.0.0.1", port, protocol=aiomqtt.ProtocolVersion.V5,
                              max_inflight_messages=1000) as client:
        client.pending_calls_threshold = 10**6
        await asyncio.gather(*(client.publish(m.topic, m.body, qos=1, properties=publish_properties(m))
                               for m in signed))


def _wait_for_batches(store: Store, expected: int, timeout: float = 60.0) -> int:
    deadline = time.monotonic() + timeout
    while tb.batch_count(store) < expected and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(1.0)  # anything counted twice would show up now
    return tb.batch_count(store)


@needs_broker
@pytest.mark.heavy
def test_kill_9_of_the_ingester_loses_nothing_and_counts_nothing_twice(fleet: Store, db_url: str,
                                                                       tmp_path: Path) -> None:
    vehicles = keyed(fleet, 20)
    client_id = f"test-kill-{uuid.uuid4().hex[:12]}"
    process = _ingester_process(db_url, client_id, tmp_path)  # its persistent session exists from here on
    try:
        asyncio.run(_send(vehicles, 300))
        process.send_signal(signal.SIGKILL)  # mid-stream: some committed and unacked, some unread
        process.wait()
        before = tb.batch_count(fleet)
        asyncio.run(_send(vehicles, 200))  # while it is down: queued in its session by the broker
        process = _ingester_process(db_url, client_id, tmp_path)
        assert _wait_for_batches(fleet, 500) == 500, f"had {before} before the restart"
        stored = sum(len(vdb.telemetry(fleet, vehicle_id=vid, limit=10_000))
                     for vid in vdb.vehicle_ids(fleet, [v for v, _ in vehicles]).values())
        assert stored == 5000
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=10)


@pytest.fixture
def private_broker(tmp_path: Path) -> Iterator[tuple[int, list[str]]]:
    """A Mosquitto of this test on a free port, persisting to tmp_path (restartable by the test)."""
    binary = shutil.which("mosquitto") or ("/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None)
    if binary is None:
        pytest.skip("no mosquitto binary to start a private broker")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = tmp_path / "mosquitto.conf"
    config.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence true\nuser {getpass.getuser()}\n"
                      f"persistence_location {tmp_path}/\nmax_queued_messages 0\n")
    yield port, [binary, "-c", str(config)]


@needs_broker
@pytest.mark.heavy
def test_a_broker_restart_loses_nothing(fleet: Store, db_url: str, private_broker: tuple[int, list[str]],
                                       tmp_path: Path) -> None:
    port, command = private_broker
    vehicles = keyed(fleet, 10)
    broker = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    process = None
    try:
        for _ in range(50):
            if _listening(port):
                break
            time.sleep(0.1)
        process = _ingester_process(db_url, "restart-test", tmp_path, port)
        process.send_signal(signal.SIGTERM)  # the ingester is away; the broker queues for its session
        process.wait(timeout=10)
        asyncio.run(_send(vehicles, 100, port))
        broker.send_signal(signal.SIGTERM)  # a clean broker restart: its persistence file keeps the queue
        broker.wait(timeout=10)
        broker = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(50):
            if _listening(port):
                break
            time.sleep(0.1)
        process = _ingester_process(db_url, "restart-test", tmp_path, port)
        asyncio.run(_send(vehicles, 50, port))
        assert _wait_for_batches(fleet, 150) == 150
    finally:
        if process is not None:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=10)
        broker.send_signal(signal.SIGTERM)
        broker.wait(timeout=10)


def _command_round(fleet: Store, vin: str, key: SigningKey, hub: SignalBroker, action: str, ttl: float,
                   delay: float = 0.0) -> str:
    """Issue a command over the broker, let the vehicle pass it to ``hub`` and answer; the state recorded."""

    async def scenario() -> str:
        ingester = Ingester(fleet, BROKER, client_id=f"test-{uuid.uuid4().hex[:12]}", session_expiry=30)
        stop = asyncio.Event()
        task = asyncio.create_task(ingester.run(stop))
        await asyncio.wait_for(ingester.connected.wait(), 10)
        async with aiomqtt.Client("127.0.0.1", 1883, protocol=aiomqtt.ProtocolVersion.V5) as car:
            await car.subscribe(topics.command_request_topic(vin), qos=1)
            record = commands.issue_command(fleet, vin, action, "tester", timedelta(seconds=ttl))
            await commands.publish_command(BROKER, record)
            async for message in car.messages:
                received = json.loads(message.payload)
                break
            await asyncio.sleep(delay)
            answer = commands.execute_on_hub(hub, received, datetime.now(UTC) - timedelta(seconds=delay))
            signed = commands.answer_message(key, vin, answer, int(time.time()))
            await car.publish(signed.topic, signed.body, qos=1, properties=publish_properties(signed))
        await _until(lambda: ingester.stats.answers >= 1)
        stop.set()
        await task
        [done] = tb.commands(fleet, command_id=record.id)
        return done.state

    return asyncio.run(scenario())


@needs_broker
def test_commands_are_arbitrated_by_the_hub_acknowledged_and_expire_on_the_server_clock(fleet: Store) -> None:
    [(vin, key)] = keyed(fleet, 1)
    hub = SignalBroker()
    assert _command_round(fleet, vin, key, hub, "precondition_cabin", 60) == "accepted"
    assert hub.get(HVAC_DRIVER_TEMP).target == 21.0
    hub.request(DRIVER_DOOR_LOCKED, False, "driver", Priority.DRIVER)  # the driver holds the door open
    assert _command_round(fleet, vin, key, hub, "lock", 60) == "rejected"
    assert hub.get(DRIVER_DOOR_LOCKED).target is False
    # the vehicle answers after the expiry: recorded as expired whatever it says
    assert _command_round(fleet, vin, key, SignalBroker(), "upload_logs", 1, delay=1.5) == "expired"
    audit = [e.action for e in audit_log(fleet, limit=20)]
    assert audit.count("vehicle.command") == 3
    assert {"vehicle.command.accepted", "vehicle.command.rejected", "vehicle.command.expired"} <= set(audit)


def test_unknown_action_and_vehicle_are_refused(fleet: Store) -> None:
    vin = vdb.list_vehicles(fleet, limit=1)[0].vin
    with pytest.raises(commands.CommandError, match="unknown"):
        commands.issue_command(fleet, vin, "open_sunroof", "tester")
    with pytest.raises(NotFoundError):
        commands.issue_command(fleet, "NOPE", "lock", "tester")
    assert tb.commands(fleet) == []


def test_new_batches_land_in_parquet_partitions_once_and_retention_drops_old_days(fleet: Store,
                                                                                 tmp_path: Path) -> None:
    (vin, key), (other, other_key) = keyed(fleet, 2)
    ingester = Ingester(fleet, BROKER, parquet=tmp_path / "pq")
    now = datetime.now(UTC)
    sender = VehicleTelemetryClient(vin, key)
    before = now - timedelta(days=40)
    old = [TelemetryEvent(vin, "soc", before, 55.0), TelemetryEvent(vin, "crash", before)]
    batch = sender.signed("parquet-batch-1", [*events(vin, 3), *old])
    again = Incoming(batch.topic, batch.body, batch.properties)
    crash = VehicleTelemetryClient(other, other_key).signed("parquet-batch-2", [TelemetryEvent(other, "health", now)])
    ingester.process([again, Incoming(crash.topic, crash.body, crash.properties)])
    ingester.process([again])  # redelivered: no second copy
    table = parquet.read_table(tmp_path / "pq").to_pylist()
    assert len(table) == 6
    record = vdb.vehicle_by_vin(fleet, vin)
    assert record is not None
    model = record.model
    assert {(r["category"], r["model"]) for r in table if r["vin"] == vin} == {("driving", model), ("safety", model)}
    removed = parquet.purge_partitions(tmp_path / "pq", {"driving": 30, "safety": 365}, now)
    assert [(p.category, p.partitions) for p in removed] == [("driving", 1), ("safety", 0)]
    left = parquet.read_table(tmp_path / "pq").to_pylist()
    assert len(left) == 5 and all(r["category"] == "safety" or r["at"] > now - timedelta(days=30) for r in left)
    with pytest.raises(FleetError, match="--keep-category 'fuel=3'"):
        parquet.parse_keep(["fuel=3"])


@needs_broker
def test_the_simulated_fleet_streams_into_the_store(fleet: Store) -> None:
    fleet.clock = system_clock
    own = vdb.list_vehicles(fleet, limit=1)[0].vin
    vdb.set_public_key(fleet, own, bytes(SigningKey.generate().verify_key).hex())  # a real key: never overwritten

    async def scenario() -> StreamResult:
        ingester = Ingester(fleet, BROKER, client_id=f"test-{uuid.uuid4().hex[:12]}", session_expiry=30)
        stop = asyncio.Event()
        task = asyncio.create_task(ingester.run(stop))
        await asyncio.wait_for(ingester.connected.wait(), 10)
        result = await stream_fleet(fleet, BROKER, vehicles=6, rounds=2)
        await _until(lambda: ingester.stats.stored >= result.batches)
        stop.set()
        await task
        return result

    result = asyncio.run(scenario())
    assert (result.vehicles, result.skipped, result.batches) == (5, 1, 10)
    assert tb.batch_count(fleet) == 10
    streamed = vdb.list_vehicles(fleet, limit=6)[1]
    rows = vdb.telemetry(fleet, vehicle_id=vdb.vehicle_ids(fleet, [streamed.vin])[streamed.vin], limit=100)
    assert len(rows) == 20 and {r.kind for r in rows} == {"soc", "odometer"}


def test_fleet_command_cli_records_and_lists_with_json(fleet: Store, db_url: str) -> None:
    from click.testing import CliRunner

    from evplatform.cli.main import cli

    vin = vdb.list_vehicles(fleet, limit=1)[0].vin
    sent = CliRunner().invoke(cli, ["fleet", "command", vin, "lock", "--ttl", "60", "--database", db_url, "--json"])
    assert sent.exit_code == 0, sent.output
    body = json.loads(sent.output)
    assert (body["action"], body["state"], body["published"]) == ("lock", "pending", False)
    listed = CliRunner().invoke(cli, ["fleet", "commands", vin, "--database", db_url, "--json"])
    assert [c["id"] for c in json.loads(listed.output)] == [body["id"]]
    refused = CliRunner().invoke(cli, ["fleet", "command", vin, "open_sunroof", "--database", db_url])
    assert refused.exit_code == 1 and "open_sunroof" in str(refused.exception)  # `run()` prints it as one line


def test_retention_cli_drops_old_parquet_days_per_category(fleet: Store, db_url: str, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from evplatform.cli.main import cli

    now = datetime.now(UTC)
    rows = [{"vin": "V1", "kind": kind, "at": now - timedelta(days=days), "value": 1.0, "model": "m"}
            for kind in ("soc", "crash") for days in (0, 100)]
    parquet.write_rows(tmp_path / "pq", rows)
    vehicle_id = vdb.vehicle_ids(fleet, [vdb.list_vehicles(fleet, limit=1)[0].vin])
    [only] = vehicle_id.values()
    tb.store_batches(fleet, [tb.BatchRows(only, "old-batch-id", []), tb.BatchRows(only, "new-batch-id", [])],
                     now - timedelta(days=9))
    tb.store_batches(fleet, [tb.BatchRows(only, "new-batch-id2", [])], now)
    args = ["retention", "--keep-telemetry-days", "365", "--database", db_url, "--parquet", str(tmp_path / "pq"),
            "--keep-category", "driving=30", "--keep-category", "safety=365", "--json"]
    done = CliRunner().invoke(cli, args)
    assert done.exit_code == 0, done.output
    report = json.loads(done.output)
    assert [(p["category"], p["day_partitions"]) for p in report["parquet"]] == [("driving", 1), ("safety", 0)]
    assert report["batch_ids_forgotten"] == 2 and tb.batch_count(fleet) == 1  # older than a session can redeliver
    table = parquet.read_table(tmp_path / "pq").to_pylist()
    left = sorted((r["kind"], r["at"] > now - timedelta(days=1)) for r in table)
    assert left == [("crash", False), ("crash", True), ("soc", True)]
