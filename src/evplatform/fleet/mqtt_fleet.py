"""The simulated fleet over MQTT: demo vehicles record telemetry and send it in signed batches.

Each simulated vehicle is a ``VehicleTelemetryClient`` with a throw-away key derived from its VIN
(``--insecure-demo-keys``: anyone can derive it, so only for the demo database); the key's public
half is provisioned in the registry when the vehicle has none. Vehicles holding another key are
left out (a real vehicle's key is never overwritten).
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import timedelta

from nacl.signing import SigningKey

from evplatform.fleet.mqtt_vehicle import VehicleTelemetryClient, vehicle_client
from evplatform.fleet.telemetry import TelemetryEvent
from evplatform.store import Store
from evplatform.store import vehicles as vdb

log = logging.getLogger(__name__)


def demo_key(vin: str) -> SigningKey:
    """An insecure, derivable demo key for a simulated vehicle."""
    return SigningKey(hashlib.sha256(b"evplatform insecure demo vehicle key\0" + vin.encode()).digest())


@dataclass(frozen=True, slots=True)
class StreamResult:
    vehicles: int
    skipped: int
    batches: int
    events: int


async def stream_fleet(store: Store, url: str, vehicles: int, rounds: int, events_per_round: int = 10) -> StreamResult:
    """``rounds`` batches of state-of-charge and odometer readings from the first ``vehicles`` vehicles."""
    clients: list[VehicleTelemetryClient] = []
    skipped = 0
    for record in vdb.list_vehicles(store, limit=vehicles):
        key = demo_key(record.vin)
        public = bytes(key.verify_key).hex()
        if record.public_key is None:
            vdb.set_public_key(store, record.vin, public)
        elif record.public_key.lower() != public:
            skipped += 1
            continue
        clients.append(VehicleTelemetryClient(record.vin, key, batch_events=events_per_round))
    now = store.now()
    for number, client in enumerate(clients):  # recorded while "offline": sent on connection
        for round_ in range(rounds):
            for i in range(events_per_round):
                at = now - timedelta(seconds=(rounds - round_) * 60 + i)
                if i % 2:
                    client.record(TelemetryEvent(client.vin, "odometer", at, float(10_000 + number + round_)))
                else:
                    client.record(TelemetryEvent(client.vin, "soc", at, float(80 - (round_ + i) % 60)))
    batches = 0
    async with vehicle_client(url, "simulated-fleet") as connection:
        for client in clients:
            batches += await client.flush(connection)
    log.info("streamed %d batches from %d simulated vehicles", batches, len(clients))
    return StreamResult(len(clients), skipped, batches, batches * events_per_round)
