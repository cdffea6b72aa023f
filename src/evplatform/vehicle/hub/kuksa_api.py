"""The hub's vehicle API: Eclipse Kuksa's ``kuksa.val.v2`` gRPC service over the hub's broker.

Apps talk to the virtual vehicle exactly as they would to a Kuksa databroker (the generated stubs
are the ones the ``kuksa-client`` package ships): GetValue(s), Subscribe, Actuate, BatchActuate,
PublishValue, ListMetadata, GetServerInfo and the provider stream (a provider claims actuators and
receives their actuation requests, or publishes values). Only the signals the configuration's
services provide are served (:meth:`CentralHub.served_signals`).

Everything runs on one asyncio event loop (``grpc.aio``): the broker, the simulation that feeds it
and every RPC, so the broker needs no lock. Every call is authorized from its bearer token
(:mod:`evplatform.vehicle.hub.auth`); an actuation goes through the broker's priority arbitration
as a third-party request, and motion-control actuators are refused to apps whatever the token says.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
import warnings
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from evplatform import __version__
from evplatform.errors import VehicleError
from evplatform.vehicle.hub import vss
from evplatform.vehicle.hub.auth import AuthError, Grant, TokenVerifier
from evplatform.vehicle.hub.broker import Datapoint, Priority, Value
from evplatform.vehicle.hub.services import CentralHub

with warnings.catch_warnings():
    # kuksa-client 0.5.x ships stubs generated for protobuf 5; they run on the protobuf 6 runtime
    # ortools needs, which warns once per file (docs/virtual-vehicle.md, "Vehicle API").
    warnings.filterwarnings("ignore", message="Protobuf gencode version", category=UserWarning)
    try:
        from kuksa.val.v1 import types_pb2 as _types_v1  # noqa: F401  (registers v1 types for v1 stubs)
        from kuksa.val.v1 import val_pb2 as val_v1
        from kuksa.val.v1 import val_pb2_grpc as val_grpc_v1
        from kuksa.val.v2 import types_pb2 as types_v2
        from kuksa.val.v2 import val_pb2 as val_v2
        from kuksa.val.v2 import val_pb2_grpc as val_grpc_v2
    except ImportError as missing:
        raise VehicleError(f"the vehicle API needs kuksa-client's stubs ({missing}): `make setup` installs it, "
                           "or `pip install --no-deps -c constraints.txt kuksa-client`") from None

logger = logging.getLogger(__name__)

SERVER_NAME = "evplatform-hub"
MAX_SIGNALS_PER_CALL = 1000
SUBSCRIBER_BUFFER = 1000
MAX_MESSAGE_BYTES = 1 << 20
ANONYMOUS = "anonymous"

_DATA_TYPES = {
    "boolean": types_v2.DATA_TYPE_BOOLEAN, "string": types_v2.DATA_TYPE_STRING,
    "float": types_v2.DATA_TYPE_FLOAT, "double": types_v2.DATA_TYPE_DOUBLE,
    "int8": types_v2.DATA_TYPE_INT8, "int16": types_v2.DATA_TYPE_INT16, "int32": types_v2.DATA_TYPE_INT32,
    "int64": types_v2.DATA_TYPE_INT64, "uint8": types_v2.DATA_TYPE_UINT8, "uint16": types_v2.DATA_TYPE_UINT16,
    "uint32": types_v2.DATA_TYPE_UINT32, "uint64": types_v2.DATA_TYPE_UINT64,
}
#: The ``Value`` oneof field each VSS datatype travels in.
_VALUE_FIELD = {
    "boolean": "bool", "string": "string", "float": "float", "double": "double",
    "int8": "int32", "int16": "int32", "int32": "int32", "int64": "int64",
    "uint8": "uint32", "uint16": "uint32", "uint32": "uint32", "uint64": "uint64",
}
_INT_RANGES = {"int8": (-(2**7), 2**7 - 1), "int16": (-(2**15), 2**15 - 1), "int32": (-(2**31), 2**31 - 1),
               "int64": (-(2**63), 2**63 - 1), "uint8": (0, 2**8 - 1), "uint16": (0, 2**16 - 1),
               "uint32": (0, 2**32 - 1), "uint64": (0, 2**64 - 1)}
_ENTRY_TYPES = {"sensor": types_v2.ENTRY_TYPE_SENSOR, "actuator": types_v2.ENTRY_TYPE_ACTUATOR,
                "attribute": types_v2.ENTRY_TYPE_ATTRIBUTE}


class ApiError(Exception):
    """A refusal with its gRPC status; the servicer aborts the call with it."""

    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class VehicleApi:
    """The served hub: signal ids, subscribers and actuator providers, all used on one event loop."""

    hub: CentralHub
    verifier: TokenVerifier | None
    signals: dict[str, vss.SignalSpec] = field(init=False)
    ids: dict[str, int] = field(init=False)
    paths_by_id: dict[int, str] = field(init=False)
    _subscribers: dict[str, set[asyncio.Queue[tuple[str, Any]]]] = field(default_factory=dict)
    _providers: dict[str, asyncio.Queue[Any]] = field(default_factory=dict)
    _messages: dict[str, Any] = field(default_factory=dict)
    _stamps: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.signals = self.hub.served_signals()
        self.ids = {path: i for i, path in enumerate(self.signals, start=1)}
        self.paths_by_id = {i: path for path, i in self.ids.items()}
        for path in self.signals:
            self.hub.broker.subscribe(path, self._changed)

    # -- authorization -------------------------------------------------------------------------
    def grant(self, metadata: Iterable[tuple[str, str | bytes]] | None) -> Grant | None:
        """The caller's grant (None when the hub runs without authorization)."""
        if self.verifier is None:
            return None
        header = None
        for key, value in metadata or ():
            if key == "authorization":
                header = value.decode() if isinstance(value, bytes) else value
        try:
            return self.verifier.verify_header(header)
        except AuthError as exc:
            raise ApiError(getattr(grpc.StatusCode, exc.status), str(exc)) from None

    def require(self, grant: Grant | None, action: str, path: str) -> None:
        if grant is not None and not grant.allows(action, path):
            raise ApiError(grpc.StatusCode.PERMISSION_DENIED,
                           f"{grant.subject}: the token does not grant {action} on {path}")

    # -- signals -------------------------------------------------------------------------------
    def path_of(self, signal_id: Any) -> str:
        """The served path of a ``SignalID`` (by path or by id); NOT_FOUND otherwise."""
        which = signal_id.WhichOneof("signal")
        if which == "id":
            path = self.paths_by_id.get(signal_id.id)
            if path is None:
                raise ApiError(grpc.StatusCode.NOT_FOUND, f"no signal with id {signal_id.id}")
            return path
        return self.served(signal_id.path if which == "path" else "")

    def served(self, path: str) -> str:
        if path not in self.signals:
            raise ApiError(grpc.StatusCode.NOT_FOUND, f"{path!r} is not a signal this hub serves")
        return path

    def datapoint(self, path: str) -> Any:
        """The signal's current value as a ``Datapoint`` stamped when it was published (wall clock);
        built once per publication and shared by every reader and subscriber."""
        message = self._messages.get(path)
        if message is None:
            current = self.hub.broker.get(path).current
            message = types_v2.Datapoint()
            if current is not None:
                message.value.CopyFrom(to_value(self.signals[path], current))
                message.timestamp.CopyFrom(_stamp(self._stamps.get(path, time.time())))
            self._messages[path] = message
        return message

    def metadata(self, path: str) -> Any:
        spec = self.signals[path]
        return types_v2.Metadata(path=path, id=self.ids[path], data_type=_DATA_TYPES[spec.datatype],
                                 entry_type=_ENTRY_TYPES[spec.kind], unit=spec.unit or "")

    def matching(self, root: str) -> list[str]:
        """Served paths under ``root``: a leaf, a branch, a glob (``*`` one level, trailing ``**`` all)."""
        root = root.strip()
        if root in ("", "*", "**"):
            return list(self.signals)
        parts = root.split(".")
        deep = parts[-1] == "**"
        if deep:
            parts = parts[:-1]
        found = []
        for path in self.signals:
            segments = path.split(".")
            if len(segments) < len(parts) or (not deep and "*" in parts and len(segments) != len(parts)):
                continue
            if all(p == "*" or p == s for p, s in zip(parts, segments, strict=False)):
                found.append(path)
        return found

    # -- writes --------------------------------------------------------------------------------
    def publish(self, grant: Grant | None, path: str, message: Any) -> None:
        """PublishValue: a provider sets a signal's current value (needs ``provide``)."""
        self.require(grant, "provide", path)
        if not message.HasField("value"):
            raise ApiError(grpc.StatusCode.INVALID_ARGUMENT, f"{path}: the datapoint has no value")
        value = from_value(path, self.signals[path], message.value)
        self.hub.broker.publish(path, value, time.monotonic())

    def check_actuation(self, grant: Grant | None, path: str, message: Any) -> Value:
        """The value to request, after every check; nothing changes here."""
        spec = self.signals[path]
        if spec.kind != "actuator":
            raise ApiError(grpc.StatusCode.INVALID_ARGUMENT, f"{path} is a {spec.kind}, not an actuator")
        self.require(grant, "actuate", path)
        if vss.is_motion_control(path):
            who = grant.subject if grant is not None else ANONYMOUS
            raise ApiError(grpc.StatusCode.PERMISSION_DENIED,
                           f"{who}: {path} steers, brakes, propels or assists driving: apps may never actuate it")
        return from_value(path, spec, message)

    def actuate(self, grant: Grant | None, requests: list[tuple[str, Value]]) -> None:
        """Request each target as a third-party app; a higher-priority holder keeps the actuator."""
        requester = grant.subject if grant is not None else ANONYMOUS
        broker = self.hub.broker
        held = [(path, broker.outranked_by(path, Priority.THIRD_PARTY)) for path, _ in requests]
        refused = [f"{path} (held by {holder})" for path, holder in held if holder is not None]
        if refused:  # all or nothing: a batch is not applied in part
            raise ApiError(grpc.StatusCode.ABORTED,
                           "a higher-priority request holds " + ", ".join(refused) + "; nothing applied")
        for path, value in requests:
            broker.request(path, value, requester, Priority.THIRD_PARTY, time.monotonic())
            provider = self._providers.get(path)
            if provider is not None:
                provider.put_nowait(val_v2.OpenProviderStreamResponse(
                    batch_actuate_stream_request=val_v2.BatchActuateStreamRequest(actuate_requests=[
                        val_v2.ActuateRequest(signal_id=types_v2.SignalID(path=path),
                                              value=to_value(self.signals[path], value))])))
            else:  # the hub's own comfort and body modules do what the arbitration decided
                broker.publish(path, value, time.monotonic())

    # -- subscriptions and providers -------------------------------------------------------------
    def _changed(self, path: str, point: Datapoint) -> None:
        self._stamps[path] = time.time()
        self._messages.pop(path, None)
        queues = self._subscribers.get(path)
        if not queues:
            return
        message = self.datapoint(path)
        for queue in queues:
            if queue.full():  # a subscriber that cannot keep up loses its oldest update, not the hub
                queue.get_nowait()
            queue.put_nowait((path, message))

    def add_subscriber(self, paths: list[str]) -> tuple[asyncio.Queue[tuple[str, Any]], Callable[[], None]]:
        queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue(maxsize=SUBSCRIBER_BUFFER)
        for path in paths:
            self._subscribers.setdefault(path, set()).add(queue)

        def remove() -> None:
            for path in paths:
                self._subscribers.get(path, set()).discard(queue)

        return queue, remove

    def claim(self, grant: Grant | None, paths: list[str], queue: asyncio.Queue[Any]) -> None:
        """A provider takes over actuation requests for ``paths`` (needs ``provide``; never motion control)."""
        for path in paths:
            self.require(grant, "provide", path)
            if vss.is_motion_control(path):
                raise ApiError(grpc.StatusCode.PERMISSION_DENIED,
                               f"{path}: motion-control actuators are provided by the hub's own services")
            if self.signals[path].kind != "actuator":
                raise ApiError(grpc.StatusCode.INVALID_ARGUMENT, f"{path} is not an actuator")
            if path in self._providers and self._providers[path] is not queue:
                raise ApiError(grpc.StatusCode.ALREADY_EXISTS, f"{path} already has a provider")
        for path in paths:
            self._providers[path] = queue

    def unclaim(self, queue: asyncio.Queue[Any]) -> None:
        for path in [p for p, q in self._providers.items() if q is queue]:
            del self._providers[path]


def _stamp(wall_s: float) -> Any:
    seconds = int(wall_s)
    return Timestamp(seconds=seconds, nanos=int((wall_s - seconds) * 1e9))


def to_value(spec: vss.SignalSpec, value: Value) -> Any:
    """A broker value as a ``kuksa.val.v2.Value`` in the field of its VSS datatype."""
    name = _VALUE_FIELD[spec.datatype]
    if name in ("int32", "int64", "uint32", "uint64"):
        value = int(value)
    elif name in ("float", "double"):
        value = float(value)
    return types_v2.Value(**{name: value})


def from_value(path: str, spec: vss.SignalSpec, message: Any) -> Value:
    """A ``Value`` as a broker value, checked against the signal's datatype and range."""
    which = message.WhichOneof("typed_value")
    if which is None:
        raise ApiError(grpc.StatusCode.INVALID_ARGUMENT, f"{path}: no value given")
    value = getattr(message, which)
    kind = spec.datatype
    if kind == "boolean" or kind == "string":
        if which != _VALUE_FIELD[kind]:
            raise ApiError(grpc.StatusCode.INVALID_ARGUMENT, f"{path} carries {kind}, got {which}")
        return bool(value) if kind == "boolean" else str(value)
    if which not in ("int32", "int64", "uint32", "uint64", "float", "double"):
        raise ApiError(grpc.StatusCode.INVALID_ARGUMENT, f"{path} carries {kind}, got {which}")
    if kind in _INT_RANGES:
        low, high = _INT_RANGES[kind]
        if value != int(value) or not low <= value <= high:
            raise ApiError(grpc.StatusCode.INVALID_ARGUMENT, f"{path} carries {kind} ({low}..{high}), got {value}")
        return int(value)
    if value != value or value in (float("inf"), float("-inf")):
        raise ApiError(grpc.StatusCode.INVALID_ARGUMENT, f"{path}: {value} is not a finite number")
    return float(value)


class KuksaServicer(val_grpc_v2.VALServicer):
    """``kuksa.val.v2.VAL`` on a :class:`VehicleApi`; every refusal is an ApiError → gRPC status."""

    def __init__(self, api: VehicleApi) -> None:
        self.api = api

    async def _run(self, context: Any, work: Callable[[Grant | None], Any]) -> Any:
        try:
            return work(self.api.grant(context.invocation_metadata()))
        except ApiError as exc:
            await context.abort(exc.code, exc.message)

    async def GetValue(self, request: Any, context: Any) -> Any:
        def work(grant: Grant | None) -> Any:
            path = self.api.path_of(request.signal_id)
            self.api.require(grant, "read", path)
            return val_v2.GetValueResponse(data_point=self.api.datapoint(path))
        return await self._run(context, work)

    async def GetValues(self, request: Any, context: Any) -> Any:
        def work(grant: Grant | None) -> Any:
            _bounded(request.signal_ids)
            paths = [self.api.path_of(s) for s in request.signal_ids]
            for path in paths:
                self.api.require(grant, "read", path)
            return val_v2.GetValuesResponse(data_points=[self.api.datapoint(p) for p in paths])
        return await self._run(context, work)

    async def ListMetadata(self, request: Any, context: Any) -> Any:
        def work(grant: Grant | None) -> Any:
            found = self.api.matching(request.root)
            if not found:
                raise ApiError(grpc.StatusCode.NOT_FOUND, f"no served signal matches {request.root!r}")
            readable = [p for p in found if grant is None or grant.allows("read", p)]
            if not readable:
                raise ApiError(grpc.StatusCode.PERMISSION_DENIED, f"the token grants read on nothing under "
                                                                  f"{request.root!r}")
            return val_v2.ListMetadataResponse(metadata=[self.api.metadata(p) for p in readable])
        return await self._run(context, work)

    async def GetServerInfo(self, request: Any, context: Any) -> Any:
        return val_v2.GetServerInfoResponse(name=SERVER_NAME, version=__version__)

    async def PublishValue(self, request: Any, context: Any) -> Any:
        def work(grant: Grant | None) -> Any:
            self.api.publish(grant, self.api.path_of(request.signal_id), request.data_point)
            return val_v2.PublishValueResponse()
        return await self._run(context, work)

    async def Actuate(self, request: Any, context: Any) -> Any:
        def work(grant: Grant | None) -> Any:
            path = self.api.path_of(request.signal_id)
            self.api.actuate(grant, [(path, self.api.check_actuation(grant, path, request.value))])
            return val_v2.ActuateResponse()
        return await self._run(context, work)

    async def BatchActuate(self, request: Any, context: Any) -> Any:
        def work(grant: Grant | None) -> Any:
            _bounded(request.actuate_requests)
            checked = []
            for item in request.actuate_requests:  # all checked before any is applied
                path = self.api.path_of(item.signal_id)
                checked.append((path, self.api.check_actuation(grant, path, item.value)))
            self.api.actuate(grant, checked)
            return val_v2.BatchActuateResponse()
        return await self._run(context, work)

    async def Subscribe(self, request: Any, context: Any) -> AsyncIterator[Any]:
        try:
            grant = self.api.grant(context.invocation_metadata())
            _bounded(request.signal_paths)
            paths = [self.api.served(p) for p in request.signal_paths]
            if not paths:
                raise ApiError(grpc.StatusCode.INVALID_ARGUMENT, "subscribe to at least one signal")
            for path in paths:
                self.api.require(grant, "read", path)
        except ApiError as exc:
            await context.abort(exc.code, exc.message)
            return
        queue, remove = self.api.add_subscriber(paths)
        try:
            yield val_v2.SubscribeResponse(entries={p: self.api.datapoint(p) for p in paths})
            while True:
                path, message = await queue.get()
                yield val_v2.SubscribeResponse(entries={path: message})
        finally:
            remove()

    async def OpenProviderStream(self, request_iterator: Any, context: Any) -> AsyncIterator[Any]:
        try:
            grant = self.api.grant(context.invocation_metadata())
        except ApiError as exc:
            await context.abort(exc.code, exc.message)
            return
        outgoing: asyncio.Queue[Any] = asyncio.Queue(maxsize=SUBSCRIBER_BUFFER)
        reader = asyncio.ensure_future(self._read_provider(grant, request_iterator, outgoing))
        getter: asyncio.Future[Any] | None = None
        try:
            while True:
                # A client may half-close its side after claiming (kuksa-client does): the reader
                # ends, the stream stays open for the actuation requests to come.
                getter = asyncio.ensure_future(outgoing.get())
                waiting = {getter} if reader.done() else {getter, reader}
                done, _ = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
                if getter not in done:
                    getter.cancel()
                    continue
                item = getter.result()
                if isinstance(item, ApiError):
                    await context.abort(item.code, item.message)
                    return
                yield item
        finally:
            reader.cancel()
            if getter is not None:
                getter.cancel()
            self.api.unclaim(outgoing)

    async def _read_provider(self, grant: Grant | None, requests: Any, outgoing: asyncio.Queue[Any]) -> None:
        try:
            async for request in requests:
                action = request.WhichOneof("action")
                if action == "provide_actuation_request":
                    ids = request.provide_actuation_request.actuator_identifiers
                    _bounded(ids)
                    self.api.claim(grant, [self.api.path_of(s) for s in ids], outgoing)
                    outgoing.put_nowait(val_v2.OpenProviderStreamResponse(
                        provide_actuation_response=val_v2.ProvideActuationResponse()))
                elif action == "publish_values_request":
                    outgoing.put_nowait(self._publish_values(grant, request.publish_values_request))
                elif action == "batch_actuate_stream_response":
                    logger.debug("provider answered an actuation: %s", request.batch_actuate_stream_response)
        except ApiError as exc:
            outgoing.put_nowait(exc)

    def _publish_values(self, grant: Grant | None, request: Any) -> Any:
        _bounded(request.data_points)
        status = {}
        for signal_id, point in request.data_points.items():
            path = self.api.paths_by_id.get(signal_id)
            try:
                if path is None:
                    raise ApiError(grpc.StatusCode.NOT_FOUND, f"no signal with id {signal_id}")
                self.api.publish(grant, path, point)
            except ApiError as exc:
                code = {grpc.StatusCode.NOT_FOUND: types_v2.ERROR_CODE_NOT_FOUND,
                        grpc.StatusCode.PERMISSION_DENIED: types_v2.ERROR_CODE_PERMISSION_DENIED}.get(
                            exc.code, types_v2.ERROR_CODE_INVALID_ARGUMENT)
                status[signal_id] = types_v2.Error(code=code, message=exc.message)
        return val_v2.OpenProviderStreamResponse(publish_values_response=val_v2.PublishValuesResponse(
            request_id=request.request_id, status=status))


class ServerInfoV1(val_grpc_v1.VALServicer):
    """Only v1 GetServerInfo, which ``kuksa_client.grpc.VSSClient`` calls on connect; the rest of v1
    answers UNIMPLEMENTED, which tells the client to use v2."""

    async def GetServerInfo(self, request: Any, context: Any) -> Any:
        return val_v1.GetServerInfoResponse(name=SERVER_NAME, version=__version__)


def _bounded(items: Any) -> None:
    if len(items) > MAX_SIGNALS_PER_CALL:
        raise ApiError(grpc.StatusCode.INVALID_ARGUMENT, f"at most {MAX_SIGNALS_PER_CALL} signals per call")


@dataclass
class HubServer:
    """The gRPC server plus (optionally) the simulation, on an event loop in a background thread."""

    api: VehicleApi
    host: str = "127.0.0.1"
    port: int = 0
    tick: Callable[[float], None] | None = None  # the simulation step, called every ``tick_s``
    tick_s: float = 0.01
    loop: asyncio.AbstractEventLoop = field(default_factory=asyncio.new_event_loop)
    _thread: threading.Thread | None = None
    _server: Any = None
    _ready: threading.Event = field(default_factory=threading.Event)
    _error: BaseException | None = None
    _stopping: asyncio.Event | None = None

    def start(self) -> int:
        """Serve; returns the bound port (a free one when ``port`` is 0)."""
        self._thread = threading.Thread(target=self._run, name="hub-grpc", daemon=True)
        self._thread.start()
        self._ready.wait(30)
        if self._error is not None:
            raise VehicleError(f"cannot serve the vehicle API on {self.host}:{self.port}: {self._error}")
        return self.port

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_until_complete(self._serve())
        except BaseException as exc:  # reported to start(); the thread ends
            self._error = exc
            self._ready.set()
        finally:  # an unclosed loop leaks its self-pipe sockets until some later garbage collection
            self.loop.run_until_complete(self.loop.shutdown_asyncgens())
            asyncio.set_event_loop(None)
            self.loop.close()

    async def _serve(self) -> None:
        server = grpc.aio.server(options=[("grpc.max_receive_message_length", MAX_MESSAGE_BYTES)])
        val_grpc_v2.add_VALServicer_to_server(KuksaServicer(self.api), server)
        val_grpc_v1.add_VALServicer_to_server(ServerInfoV1(), server)
        bound = server.add_insecure_port(f"{self.host}:{self.port}")
        if bound == 0:
            raise OSError(f"port {self.port} is in use or not allowed")
        self.port = bound
        await server.start()
        self._server = server
        self._ready.set()
        logger.info("vehicle API (kuksa.val.v2) on %s:%d", self.host, self.port)
        self._stopping = asyncio.Event()
        last = time.monotonic()
        while not self._stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.tick_s if self.tick is not None else None)
            if self.tick is not None and not self._stopping.is_set():
                now = time.monotonic()
                self.tick(now - last)
                last = now
        await server.stop(0.5)

    def call(self, fn: Callable[[], Any]) -> Any:
        """Run ``fn`` on the server's loop (the broker's thread) and return its result."""
        async def wrapped() -> Any:
            return fn()
        return asyncio.run_coroutine_threadsafe(wrapped(), self.loop).result(10)

    def stop(self) -> None:
        """Stop serving (open streams are cancelled after a short grace) and end the thread."""
        stopping = self._stopping
        if stopping is not None and self.loop.is_running():
            self.loop.call_soon_threadsafe(stopping.set)
        if self._thread is not None:
            self._thread.join(10)
