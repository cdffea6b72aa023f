"""`serve --mqtt`: the ingester runs inside the server process and its counts are on /metrics."""

from __future__ import annotations

import asyncio
import socket
import time
import uuid
from datetime import UTC, datetime

import aiomqtt
import pytest
from fastapi.testclient import TestClient

from api.support import KeyedVehicle, bearer
from evplatform.api import create_app
from evplatform.cli.ingest import with_ingester
from evplatform.fleet.mqtt_vehicle import VehicleTelemetryClient, publish_properties
from evplatform.fleet.telemetry import TelemetryEvent
from evplatform.store import Store
from evplatform.store import vehicles as vdb


def _broker_up() -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", 1883)) == 0


@pytest.mark.skipif(not _broker_up(), reason="no MQTT broker on 127.0.0.1:1883 (scripts/ensure-services.sh)")
def test_serve_with_mqtt_ingests_and_counts_on_metrics(db_url: str, store: Store, keyed_vehicle: KeyedVehicle,
                                                        tokens: dict[str, str]) -> None:
    app = with_ingester(create_app(None, db_url), db_url, "mqtt://127.0.0.1:1883",
                        client_id=f"test-serve-{uuid.uuid4().hex[:10]}", session_expiry=30)
    vehicle = VehicleTelemetryClient(keyed_vehicle.vin, keyed_vehicle.key)
    batch = vehicle.signed("serve-batch-1", [TelemetryEvent(keyed_vehicle.vin, "health", datetime.now(UTC))], "events")

    async def publish(properties: bool) -> None:
        async with aiomqtt.Client("127.0.0.1", 1883, protocol=aiomqtt.ProtocolVersion.V5) as client:
            await client.publish(batch.topic, batch.body, qos=1,
                                 properties=publish_properties(batch) if properties else None)

    vehicle_id = vdb.vehicle_ids(store, [keyed_vehicle.vin])[keyed_vehicle.vin]
    before = len(vdb.telemetry(store, vehicle_id=vehicle_id, kind="health", limit=1000))
    with TestClient(app) as client:
        time.sleep(1.5)  # connected and subscribed
        asyncio.run(publish(False))  # unsigned: refused and counted
        asyncio.run(publish(True))
        deadline = time.monotonic() + 20
        while (len(vdb.telemetry(store, vehicle_id=vehicle_id, kind="health", limit=1000)) == before
               and time.monotonic() < deadline):
            time.sleep(0.1)
        metrics = client.get("/metrics", headers=bearer(tokens["admin"])).text
    assert len(vdb.telemetry(store, vehicle_id=vehicle_id, kind="health", limit=1000)) == before + 1
    assert 'evplatform_mqtt_batches_total{outcome="stored"} 1.0' in metrics
    assert 'evplatform_mqtt_refused_total{reason="unsigned"} 1.0' in metrics
