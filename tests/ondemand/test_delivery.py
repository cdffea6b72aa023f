"""The activation reaches the vehicle as an Uptane-signed configuration target, verified by the real client.

The server side is the project's Image repository, Director and image store (tests/ota/vehicle_support);
the vehicle is ``VehicleClient`` with one ECU of the workspace's delivery hardware.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from evplatform.clock import FixedClock
from evplatform.errors import OtaError
from evplatform.ondemand import activation, ledger
from evplatform.ota.client.errors import ImageVerificationError
from evplatform.store import Store
from evplatform.workspace import Workspace
from ondemand.conftest import RICH
from ota.vehicle_support import Server, Vehicle, build_server, build_vehicle, no_fsync  # noqa: F401

pytestmark = pytest.mark.usefixtures("no_fsync")
HUB = "ecu-hub"


@pytest.fixture
def server(tmp_path: Path, demo: Workspace) -> Server:
    delivery = demo.on_demand.delivery
    assert delivery is not None
    server = build_server(tmp_path / "server")
    server.release("hub/1.0", b"hub software 1.0" * 64, delivery.hardware_id, 1)
    return server


@pytest.fixture
def car(server: Server, tmp_path: Path, demo: Workspace) -> Vehicle:
    delivery = demo.on_demand.delivery
    assert delivery is not None
    return build_vehicle(server, tmp_path / "car", vin=RICH, factory={HUB: "hub/1.0"},
                         hardware={HUB: delivery.hardware_id})


def _features_on_the_car(car: Vehicle) -> list[str]:
    """What the vehicle runs after verifying, installing and committing the configuration."""
    car.client.boot(lambda image, data: bool(activation.read_configuration(data)))
    installed = car.client.installed()[HUB]
    assert installed is not None and installed.filepath.startswith(f"config/{RICH}/")
    data = car.client.slots[HUB].image_bytes(car.client.slots[HUB].active)
    return [f["id"] for f in activation.read_configuration(data)["features"]]


def test_signed_configuration_is_verified_and_installed_then_expiry_removes_the_feature(
        tiny: Store, demo: Workspace, server: Server, car: Vehicle) -> None:
    feature = next(iter(demo.on_demand.features))
    signers = server.keyring.signers("image", "targets")
    _, bought = ledger.buy(tiny, demo, RICH, feature, channel=demo.on_demand.channels[0], actor="sales", months=1)
    assignment = activation.deliver(server.service, signers, demo, bought)
    assert assignment.filepath == bought.target and assignment.release_counter == 1
    outcome = car.client.update_check()
    assert outcome.status == "installed"
    assert _features_on_the_car(car) == [feature]
    car.report()

    clock = tiny.clock
    assert isinstance(clock, FixedClock)
    clock.advance(timedelta(days=40))  # the server clock passes the end of the month bought
    expired = activation.sync(tiny, demo, RICH, actor="scheduler")
    activation.deliver(server.service, signers, demo, expired)
    assert car.client.update_check().status == "installed"
    assert _features_on_the_car(car) == []


def test_a_configuration_altered_after_signing_is_refused_by_the_vehicle(
        tiny: Store, demo: Workspace, server: Server, car: Vehicle) -> None:
    feature = next(iter(demo.on_demand.features))
    _, bought = ledger.buy(tiny, demo, RICH, feature, channel=demo.on_demand.channels[0], actor="sales")
    activation.deliver(server.service, server.keyring.signers("image", "targets"), demo, bought)
    target = server.image.target(bought.target or "")
    stored = server.service.image_path(target.sha256)
    forged = (bought.document or b"").replace(feature.encode(), b"x" * len(feature))
    assert len(forged) == target.length and forged != bought.document
    stored.write_bytes(forged)  # same length, other bytes: a feature switched without a signature
    with pytest.raises(ImageVerificationError):
        car.client.update_check()
    assert car.client.installed()[HUB].filepath == "hub/1.0"  # type: ignore[union-attr]


def test_a_vehicle_without_the_delivery_hardware_gets_nothing(tiny: Store, demo: Workspace, server: Server,
                                                              tmp_path: Path) -> None:
    build_vehicle(server, tmp_path / "other", vin=RICH, factory={}, hardware={"ecu-x": "hw-other"})
    feature = next(iter(demo.on_demand.features))
    _, bought = ledger.buy(tiny, demo, RICH, feature, channel=demo.on_demand.channels[0], actor="sales")
    with pytest.raises(OtaError, match="no ECU of hardware"):
        activation.deliver(server.service, server.keyring.signers("image", "targets"), demo, bought)
