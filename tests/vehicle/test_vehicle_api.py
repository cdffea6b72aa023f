"""The hub's Kuksa-compatible vehicle API, used the way an app developer would: with the real
``kuksa-client`` package (``kuksa_client.grpc.VSSClient`` and its ``kuksa.val.v2`` stubs) against
our gRPC server on a free port, with Kuksa-format RS256 tokens."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import jwt
import pytest

from evplatform.errors import VehicleError
from evplatform.vehicle.hub import SIGNALS, Priority, vss
from evplatform.vehicle.hub.auth import AuthError, TokenVerifier, generate_key, mint_token, parse_scopes
from evplatform.vehicle.hub.kuksa_api import HubServer, VehicleApi
from evplatform.vehicle.hub.services import build_hub
from evplatform.vehicle.params import VehicleParams
from evplatform.workspace.roles import FeatureRoles

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Protobuf gencode version", category=UserWarning)
    from kuksa.val.v2 import types_pb2 as types_v2
    from kuksa.val.v2 import val_pb2 as val_v2
    from kuksa_client.grpc import VSSClient, VSSClientError

CAR = VehicleParams(name="car", mass_kg=1900.0, battery_usable_kwh=80.0, motor_power_kw=220.0, cd=0.22,
                    frontal_area_m2=2.3, crr=0.008)
ROLES = FeatureRoles.of({"brake_by_wire": "BrakeByWire", "acc": "ACC", "aeb": "AEB"})
HVAC = vss.HVAC_DRIVER_TEMP


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, bytes]:
    folder = tmp_path_factory.mktemp("keys")
    generate_key(folder / "hub.key", folder / "hub.pub")
    return (folder / "hub.key").read_bytes(), (folder / "hub.pub").read_bytes()


@pytest.fixture(scope="module")
def served(keys: tuple[bytes, bytes]) -> Iterator[HubServer]:
    hub = build_hub({"BrakeByWire", "ACC", "AEB"}, CAR, ROLES)
    hub.broker.publish(vss.SPEED, 42.5)
    hub.broker.publish(vss.SOC, 80.0)
    hub.broker.publish(HVAC, 21.0)
    server = HubServer(VehicleApi(hub, TokenVerifier(keys[1], SIGNALS)))
    server.start()
    yield server
    server.stop()


def token(keys: tuple[bytes, bytes], *scopes: str, app: str = "app.test", lifetime_s: int = 600,
          now: float | None = None) -> str:
    return mint_token(keys[0], app, scopes, SIGNALS, lifetime_s=lifetime_s, now=now)


def client(server: HubServer, tok: str | None) -> VSSClient:
    return VSSClient("127.0.0.1", server.port, token=tok)


def meta(c: VSSClient) -> dict[str, Any]:
    return {"metadata": c.generate_metadata_header(None)}


def get(c: VSSClient, path: str) -> Any:
    return c.client_stub_v2.GetValue(val_v2.GetValueRequest(signal_id=types_v2.SignalID(path=path)), **meta(c))


def actuate(c: VSSClient, path: str, **value: Any) -> None:
    c.client_stub_v2.Actuate(val_v2.ActuateRequest(signal_id=types_v2.SignalID(path=path),
                                                   value=types_v2.Value(**value)), **meta(c))


def publish(c: VSSClient, path: str, value: float) -> None:
    c.client_stub_v2.PublishValue(val_v2.PublishValueRequest(
        signal_id=types_v2.SignalID(path=path),
        data_point=types_v2.Datapoint(value=types_v2.Value(float=value))), **meta(c))


def code_of(call: Any) -> grpc.StatusCode:
    with pytest.raises(grpc.RpcError) as caught:
        call()
    return caught.value.code()


def test_read_values_metadata_and_server_info(served: HubServer, keys: tuple[bytes, bytes]) -> None:
    with client(served, token(keys, "read:Vehicle.Speed", "read:Vehicle.Powertrain")) as c:
        assert c.get_server_info() is not None  # v1 GetServerInfo, which VSSClient calls on connect
        assert get(c, vss.SPEED).data_point.value.float == pytest.approx(42.5)
        values = c.client_stub_v2.GetValues(val_v2.GetValuesRequest(signal_ids=[
            types_v2.SignalID(path=vss.SPEED), types_v2.SignalID(path=vss.SOC)]), **meta(c))
        assert [d.value.float for d in values.data_points] == [pytest.approx(42.5), pytest.approx(80.0)]
        listed = c.client_stub_v2.ListMetadata(val_v2.ListMetadataRequest(root="Vehicle.Powertrain.**"), **meta(c))
        by_path = {m.path: m for m in listed.metadata}
        assert vss.SOC in by_path and by_path[vss.SOC].unit == "percent"
        assert by_path[vss.SOC].data_type == types_v2.DATA_TYPE_FLOAT
        # the id from ListMetadata reads the same signal
        by_id = c.client_stub_v2.GetValue(val_v2.GetValueRequest(signal_id=types_v2.SignalID(id=by_path[vss.SOC].id)),
                                          **meta(c))
        assert by_id.data_point.value.float == pytest.approx(80.0)
        info = c.client_stub_v2.GetServerInfo(val_v2.GetServerInfoRequest(), **meta(c))
        assert info.name == "evplatform-hub"


def test_subscribe_streams_changes(served: HubServer, keys: tuple[bytes, bytes]) -> None:
    seen: list[float] = []
    done = threading.Event()

    def listen() -> None:
        with client(served, token(keys, "read:Vehicle.Speed")) as c:
            for updates in c.v2_subscribe([vss.SPEED], timeout=10):
                seen.extend(u.entry.value.value for u in updates if u.entry.value is not None)
                if len(seen) >= 3:
                    done.set()
                    return

    thread = threading.Thread(target=listen)
    thread.start()
    deadline = time.monotonic() + 10
    while not seen and time.monotonic() < deadline:
        time.sleep(0.01)
    for value in (50.0, 60.0):
        served.call(lambda v=value: served.api.hub.broker.publish(vss.SPEED, v))  # type: ignore[misc]
    assert done.wait(10)
    thread.join(10)
    served.call(lambda: served.api.hub.broker.publish(vss.SPEED, 42.5))
    assert seen[0] == pytest.approx(42.5) and seen[1:3] == [pytest.approx(50.0), pytest.approx(60.0)]


def test_actuate_comfort_within_scope(served: HubServer, keys: tuple[bytes, bytes]) -> None:
    with client(served, token(keys, "actuate:Vehicle.Cabin.HVAC.*", app="home.bridge")) as c:
        actuate(c, HVAC, float=19.5)
        assert get(c, HVAC).data_point.value.float == pytest.approx(19.5)
        assert served.call(lambda: served.api.hub.broker.owner(HVAC)) == "home.bridge"
        c.client_stub_v2.BatchActuate(val_v2.BatchActuateRequest(actuate_requests=[
            val_v2.ActuateRequest(signal_id=types_v2.SignalID(path=vss.HVAC_AC_ACTIVE),
                                  value=types_v2.Value(bool=True)),
            val_v2.ActuateRequest(signal_id=types_v2.SignalID(path=vss.HVAC_DRIVER_FAN),
                                  value=types_v2.Value(uint32=40)),
        ]), **meta(c))
        assert served.call(lambda: served.api.hub.broker.value(vss.HVAC_DRIVER_FAN)) == 40
        # a wrong type or an out-of-range value changes nothing
        assert code_of(lambda: actuate(c, vss.HVAC_DRIVER_FAN, uint32=300)) == grpc.StatusCode.INVALID_ARGUMENT
        assert code_of(lambda: actuate(c, HVAC, bool=True)) == grpc.StatusCode.INVALID_ARGUMENT
        assert served.call(lambda: served.api.hub.broker.value(vss.HVAC_DRIVER_FAN)) == 40


def test_priority_arbitration_decides_between_driver_and_app(served: HubServer, keys: tuple[bytes, bytes]) -> None:
    broker = served.api.hub.broker
    served.call(lambda: broker.request(vss.LOW_BEAM, True, "driver", Priority.DRIVER))
    try:
        with client(served, token(keys, "actuate:Vehicle.Body", app="some.app")) as c:
            assert code_of(lambda: actuate(c, vss.LOW_BEAM, bool=False)) == grpc.StatusCode.ABORTED
            held = served.call(lambda: (broker.get(vss.LOW_BEAM).target, broker.owner(vss.LOW_BEAM)))
            assert held == (True, "driver")
            horn = served.call(lambda: broker.value(vss.HORN))
            batch = val_v2.BatchActuateRequest(actuate_requests=[  # all or nothing: the horn stays as it was
                val_v2.ActuateRequest(signal_id=types_v2.SignalID(path=vss.HORN),
                                      value=types_v2.Value(bool=not horn)),
                val_v2.ActuateRequest(signal_id=types_v2.SignalID(path=vss.LOW_BEAM),
                                      value=types_v2.Value(bool=False))])
            assert code_of(lambda: c.client_stub_v2.BatchActuate(batch, **meta(c))) == grpc.StatusCode.ABORTED
            assert served.call(lambda: broker.value(vss.HORN)) == horn
            assert served.call(lambda: broker.owner(vss.HORN)) != "some.app"
        served.call(lambda: broker.release(vss.LOW_BEAM, "driver"))
        with client(served, token(keys, "actuate:Vehicle.Body", app="some.app")) as c:
            actuate(c, vss.LOW_BEAM, bool=False)  # released by the driver: the app's request now wins
            now = served.call(lambda: (broker.value(vss.LOW_BEAM), broker.owner(vss.LOW_BEAM)))
            assert now == (False, "some.app")
    finally:
        served.call(lambda: broker.release(vss.LOW_BEAM, "driver"))


@pytest.mark.parametrize("path", [vss.BRAKE_FORCE, vss.STEERING_TARGET, vss.CRUISE_ACTIVE])
def test_apps_never_actuate_motion_control_whatever_the_token(served: HubServer, keys: tuple[bytes, bytes],
                                                              path: str) -> None:
    value: dict[str, Any] = {"bool": True} if SIGNALS[path].datatype == "boolean" else {"int32": 100}
    before = served.call(lambda: served.api.hub.broker.get(path).target)
    with client(served, token(keys, "actuate", "provide")) as c:  # every path, every action
        assert code_of(lambda: actuate(c, path, **value)) == grpc.StatusCode.PERMISSION_DENIED
        batch = val_v2.BatchActuateRequest(actuate_requests=[
            val_v2.ActuateRequest(signal_id=types_v2.SignalID(path=HVAC), value=types_v2.Value(float=18.0)),
            val_v2.ActuateRequest(signal_id=types_v2.SignalID(path=path), value=types_v2.Value(**value))])
        assert code_of(lambda: c.client_stub_v2.BatchActuate(batch, **meta(c))) == grpc.StatusCode.PERMISSION_DENIED
    assert served.call(lambda: served.api.hub.broker.get(path).target) == before
    assert served.call(lambda: served.api.hub.broker.value(HVAC)) != 18.0  # the batch applied nothing


def test_no_token_bad_token_expired_and_out_of_scope(served: HubServer, keys: tuple[bytes, bytes],
                                                     tmp_path: Path) -> None:
    with client(served, None) as c:
        assert code_of(lambda: get(c, vss.SPEED)) == grpc.StatusCode.UNAUTHENTICATED
        with pytest.raises(VSSClientError) as caught:
            list(c.v2_subscribe([vss.SPEED], timeout=5))
        assert caught.value.error["code"] == grpc.StatusCode.UNAUTHENTICATED.value[0]
    generate_key(tmp_path / "other.key", tmp_path / "other.pub")
    forged = mint_token((tmp_path / "other.key").read_bytes(), "app.test", ["read"], SIGNALS)
    expired = token(keys, "read", now=time.time() - 3600, lifetime_s=60)
    for bad in (forged, expired, forged[:-4] + "AAAA"):
        with client(served, bad) as c:
            assert code_of(lambda: get(c, vss.SPEED)) == grpc.StatusCode.UNAUTHENTICATED
    unknown = jwt.encode({"sub": "x", "aud": ["kuksa.val"], "exp": int(time.time()) + 60,
                          "scope": "read:Vehicle.Warp.Drive"}, _private(keys), algorithm="RS256")
    with client(served, unknown) as c:
        assert code_of(lambda: get(c, vss.SPEED)) == grpc.StatusCode.UNAUTHENTICATED
    hs256 = _hs256({"sub": "x", "aud": ["kuksa.val"], "exp": int(time.time()) + 60, "scope": "read"},
                   keys[1])  # the public key as an HMAC secret: the algorithm-confusion attack
    with client(served, hs256) as c:
        assert code_of(lambda: get(c, vss.SPEED)) == grpc.StatusCode.UNAUTHENTICATED
    with client(served, token(keys, "read:Vehicle.Speed")) as c:
        assert code_of(lambda: get(c, vss.SOC)) == grpc.StatusCode.PERMISSION_DENIED
        assert code_of(lambda: actuate(c, HVAC, float=18.0)) == grpc.StatusCode.PERMISSION_DENIED
        with pytest.raises(VSSClientError) as caught:
            list(c.v2_subscribe([vss.SOC], timeout=5))
        assert caught.value.error["code"] == grpc.StatusCode.PERMISSION_DENIED.value[0]
        assert code_of(lambda: get(c, "Vehicle.Warp")) == grpc.StatusCode.NOT_FOUND


def test_provider_stream_publishes_and_receives_actuations(served: HubServer, keys: tuple[bytes, bytes]) -> None:
    received: list[Any] = []
    ready = threading.Event()

    def provide() -> None:
        with client(served, token(keys, "provide:Vehicle.Body.Horn", app="horn.provider")) as c:
            ready.set()
            for updates in c.v2_subscribe_actuation_requests([vss.HORN], timeout=10):
                received.extend(u.entry.actuator_target.value for u in updates)
                return

    thread = threading.Thread(target=provide)
    thread.start()
    assert ready.wait(10)
    deadline = time.monotonic() + 10
    while vss.HORN not in served.api._providers and time.monotonic() < deadline:
        time.sleep(0.01)
    with client(served, token(keys, "actuate:Vehicle.Body.Horn", app="some.app")) as c:
        actuate(c, vss.HORN, bool=True)
    thread.join(10)
    assert received == [True]
    with client(served, token(keys, "provide:Vehicle.Cabin", app="cabin.provider")) as c:
        publish(c, vss.CABIN_TEMP, 25.5)  # PublishValue needs provide
        assert served.call(lambda: served.api.hub.broker.value(vss.CABIN_TEMP)) == 25.5
        assert code_of(lambda: publish(c, vss.SPEED, 1.0)) == grpc.StatusCode.PERMISSION_DENIED


def test_no_app_provides_a_motion_control_actuator(served: HubServer, keys: tuple[bytes, bytes]) -> None:
    with client(served, token(keys, "provide", app="rogue.provider")) as c:
        with pytest.raises(VSSClientError) as caught:
            list(c.v2_subscribe_actuation_requests([vss.BRAKE_FORCE], timeout=5))
        assert caught.value.error["code"] == grpc.StatusCode.PERMISSION_DENIED.value[0]
    assert vss.BRAKE_FORCE not in served.api._providers


def test_provider_publishes_values_by_id(served: HubServer, keys: tuple[bytes, bytes]) -> None:
    with client(served, token(keys, "provide:Vehicle.Cabin.HVAC.AmbientAirTemperature", app="sensor.app")) as c:
        ids = {m.path: m.id for m in c.client_stub_v2.ListMetadata(  # lists only what the token reads
            val_v2.ListMetadataRequest(root="Vehicle.**"), **meta(c)).metadata}
        assert list(ids) == [vss.CABIN_TEMP]
        ids[vss.SPEED] = served.api.ids[vss.SPEED]
        request = val_v2.OpenProviderStreamRequest(publish_values_request=val_v2.PublishValuesRequest(
            request_id=7, data_points={
                ids[vss.CABIN_TEMP]: types_v2.Datapoint(value=types_v2.Value(float=30.5)),
                ids[vss.SPEED]: types_v2.Datapoint(value=types_v2.Value(float=1.0))}))
        replies = c.client_stub_v2.OpenProviderStream(iter([request]), **meta(c), timeout=5)
        reply = next(iter(replies)).publish_values_response
        replies.cancel()
    assert reply.request_id == 7 and list(reply.status) == [ids[vss.SPEED]]  # only the one outside its scope
    assert reply.status[ids[vss.SPEED]].code == types_v2.ERROR_CODE_PERMISSION_DENIED
    assert served.call(lambda: served.api.hub.broker.value(vss.CABIN_TEMP)) == 30.5


def test_scopes_follow_kuksa_globs_and_reject_unknown_paths() -> None:
    scopes = parse_scopes("read:Vehicle.Speed actuate:Vehicle.Body.* provide:Vehicle.*.HVAC", SIGNALS)
    assert scopes[1].covers(vss.HORN) and scopes[1].covers(vss.LOW_BEAM) and not scopes[1].covers(vss.SPEED)
    assert scopes[2].covers(HVAC) and not scopes[2].covers(vss.SPEED)
    for bad in ("read:Vehicle.Warp", "write:Vehicle.Speed", "", "read:Vehicle..Speed"):
        with pytest.raises(AuthError):
            parse_scopes(bad, SIGNALS)


def test_minting_refuses_what_the_hub_would_refuse(keys: tuple[bytes, bytes], tmp_path: Path) -> None:
    with pytest.raises(VehicleError, match="matches no VSS signal"):
        token(keys, "read:Vehicle.Warp")
    with pytest.raises(VehicleError, match="lifetime"):
        token(keys, "read", lifetime_s=0)
    generate_key(tmp_path / "k", tmp_path / "p")
    with pytest.raises(VehicleError, match="refusing to overwrite"):
        generate_key(tmp_path / "k", tmp_path / "p")
    assert (tmp_path / "k").stat().st_mode & 0o077 == 0


def _private(keys: tuple[bytes, bytes]) -> Any:
    from cryptography.hazmat.primitives import serialization
    return serialization.load_pem_private_key(keys[0], password=None)



def _hs256(claims: dict[str, Any], secret: bytes) -> str:
    """A token signed HS256 by hand (PyJWT itself refuses a PEM key as an HMAC secret)."""
    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
    head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode()) + "." + b64(json.dumps(claims).encode())
    return head + "." + b64(hmac.new(secret, head.encode(), hashlib.sha256).digest())


def test_stopping_the_server_closes_its_event_loop(keys: tuple[bytes, bytes]) -> None:
    """An unclosed loop leaks its self-pipe sockets until a later garbage collection warns about them."""
    server = HubServer(VehicleApi(build_hub({"BrakeByWire"}, CAR, ROLES), TokenVerifier(keys[1], SIGNALS)))
    server.start()
    assert not server.loop.is_closed()
    server.stop()
    assert server.loop.is_closed()
