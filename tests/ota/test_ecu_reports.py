"""Each ECU signs its own version report (Uptane 5.4.2.1, 5.4.3.6): the primary only forwards them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from securesystemslib.signer import Signer

from evplatform.ota.client.secondary import SecondaryEcu
from ota.vehicle_support import Server, Vehicle, build_server, build_vehicle, no_fsync  # noqa: F401

pytestmark = pytest.mark.usefixtures("no_fsync")

MAIN_1 = b"main ecu firmware 1.0 " * 100
BRAKE_1 = b"brake ecu firmware 1.0 " * 100


@pytest.fixture
def car(tmp_path: Path) -> Vehicle:
    server: Server = build_server(tmp_path / "server")
    server.release_many([("main/1.0", MAIN_1, "hw-main", 1), ("brake/1.0", BRAKE_1, "hw-brake", 1)])
    return build_vehicle(server, tmp_path / "car", factory={"ecu-main": "main/1.0", "ecu-brake": "brake/1.0"})


def signers_reachable(value: Any, seen: set[int] | None = None) -> list[Signer]:
    """Every key the primary's own state can reach, not looking inside the Secondaries it talks to."""
    seen = set() if seen is None else seen
    if id(value) in seen or isinstance(value, SecondaryEcu | str | bytes | int | float | Path):
        return []
    seen.add(id(value))
    if isinstance(value, Signer):
        return [value]
    if isinstance(value, dict):
        children: list[Any] = [*value.keys(), *value.values()]
    elif isinstance(value, list | tuple | set | frozenset):
        children = list(value)
    elif hasattr(value, "__dict__") or hasattr(value, "__slots__"):
        names = list(getattr(value, "__dict__", {})) + list(getattr(type(value), "__slots__", ()))
        children = [getattr(value, n) for n in names if hasattr(value, n)]
    else:
        return []
    return [s for child in children for s in signers_reachable(child, seen)]


def test_the_primary_holds_only_its_own_key(car: Vehicle) -> None:
    client = car.client
    own_state = {name: value for name, value in vars(client).items() if name != "fetcher"}  # the fetcher is the network
    keys = {id(k) for k in signers_reachable(own_state)}
    assert keys == {id(car.registered.signers["ecu-main"])}
    assert id(car.registered.signers["ecu-brake"]) not in keys


def test_each_report_is_signed_by_its_ecu_and_counted_on_its_side(car: Vehicle) -> None:
    manifest = json.loads(car.client.version_manifest())
    reports = manifest["signed"]["ecu_version_reports"]
    for serial in ("ecu-main", "ecu-brake"):
        [signature] = reports[serial]["signatures"]
        assert signature["keyid"] == car.registered.signers[serial].public_key.keyid
    brake_counter = car.client.secondaries["ecu-brake"].slots.folder / "uptane" / "report-counter.json"
    before = json.loads(brake_counter.read_text())["counter"]
    assert reports["ecu-brake"]["signed"]["report_counter"] == before
    car.report()  # the Director verifies every report with that ECU's registered key
    assert json.loads(brake_counter.read_text())["counter"] == before + 1
