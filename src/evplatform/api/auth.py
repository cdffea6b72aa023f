"""Who is calling: operators with bearer tokens and roles, vehicles with their own ed25519 keys.

Operators send ``Authorization: Bearer <token>``; the store keeps only the token's SHA-256
digest (``store.accounts``). Roles are ordered viewer < engineer < release_manager < admin and a
route names the least role it needs. Reads are open; every write names its role.

Vehicles sign each request with their primary ECU's ed25519 key, whose public half is
provisioned in the registry (``store.vehicles.public_key``, 64 hex digits). Headers::

    X-Vehicle-VIN: <vin>
    X-Vehicle-Timestamp: <unix seconds>
    X-Vehicle-Nonce: <random text, new for every request>
    X-Vehicle-Signature: <base64 signature of signing_payload(method, path, timestamp, nonce, body)>

The timestamp must be within ``REPLAY_WINDOW`` of the server's clock and a signature is accepted
once (an attacker replaying a captured report or update check is refused); the nonce lets a
vehicle send the same request twice in one second.

Once authenticated, a vehicle and an operator token are each held to a rate limit
(``service.rate_limits``: 429 with ``Retry-After``), counted in the database or Redis so that every
server process shares it.
"""

from __future__ import annotations

import base64
import binascii
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey
from starlette.concurrency import run_in_threadpool

from evplatform.api.context import AppContext, get_context
from evplatform.api.errors import Forbidden, Unauthenticated
from evplatform.ota.client.requests import (  # the vehicle's side of the signature, shared with the client
    NONCE_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    VIN_HEADER,
    sign_request,
    signing_payload,
)
from evplatform.service.rate_limits import token_key
from evplatform.store import AccountInfo, account_for_token
from evplatform.store import vehicles as vdb
from evplatform.store.key_cache import key_cache
from evplatform.store.replay import SignatureLedger

REPLAY_WINDOW = 300.0  # seconds either side of the server clock
__all__ = ["NONCE_HEADER", "SIGNATURE_HEADER", "TIMESTAMP_HEADER", "VIN_HEADER", "sign_request", "signing_payload"]


def bearer_token(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def operator(context: AppContext, authorization: str | None) -> AccountInfo:
    """The signed-in account, or 401."""
    token = bearer_token(authorization)
    if token is None:
        raise Unauthenticated("sign in: send 'Authorization: Bearer <token>'")
    account = account_for_token(context.store(), token, now=context.clock())
    if account is None:
        raise Unauthenticated("unknown, expired or revoked token")
    # counted once the token is known to be live: made-up tokens never create counters
    context.rate_limiter().check("token", token_key(token), context.clock().timestamp())
    return account


def require_role(role: str) -> Callable[..., AccountInfo]:
    """A dependency that admits accounts with ``role`` or a more privileged one (401/403 otherwise)."""

    def dependency(
        context: Annotated[AppContext, Depends(get_context)],
        authorization: Annotated[str | None, Header()] = None,
    ) -> AccountInfo:
        account = operator(context, authorization)
        if not account.has_role(role):
            raise Forbidden(f"account {account.name!r} is {account.role}; this needs {role} or higher")
        return account

    dependency.__name__ = f"require_{role}"
    _ROLE_OF[dependency] = role
    return dependency


#: The role each ``require_role`` dependency admits (read by ``requirement_of``: checked before the body).
_ROLE_OF: dict[Callable[..., Any], str] = {}


Viewer = Annotated[AccountInfo, Depends(require_role("viewer"))]
Engineer = Annotated[AccountInfo, Depends(require_role("engineer"))]
ReleaseManager = Annotated[AccountInfo, Depends(require_role("release_manager"))]
Admin = Annotated[AccountInfo, Depends(require_role("admin"))]


# --- vehicles ---------------------------------------------------------------------------------


def public_key_text(key: SigningKey) -> str:
    """How the registry stores a vehicle's public key: 64 hex digits."""
    return bytes(key.verify_key).hex()


class ReplayGuard:
    """Signatures seen within the replay window; each is accepted once, across restarts.

    The memory is the application's database (``store.replay``): a captured request replayed after
    a restart, or at another server process on the same database, is refused too. An entry lives
    twice the window (the signed timestamp may be ``REPLAY_WINDOW`` behind or ahead of the server).
    """

    def __init__(self, context: AppContext) -> None:
        self._context = context
        self._ledger: SignatureLedger | None = None
        self._lock = threading.Lock()

    def _ledger_of(self) -> SignatureLedger:
        with self._lock:
            if self._ledger is None:
                self._ledger = SignatureLedger(self._context.store())  # opened on first use, like the routes
            return self._ledger

    def first_use(self, signature: bytes, now: float) -> bool:
        """True the first time ``signature`` is presented while it can pass the window check."""
        second = int(now)
        return self._ledger_of().first_use(signature, now=second, expires_at=second + int(2 * REPLAY_WINDOW) + 1)


@dataclass(frozen=True, slots=True)
class VehicleCaller:
    vin: str


def _verify_key(text: str, vin: str) -> VerifyKey:
    try:
        return VerifyKey(bytes.fromhex(text))
    except (ValueError, TypeError) as error:
        raise Unauthenticated(f"vehicle {vin} has an unusable public key in the registry") from error


def _signed_by(key_text: str, vin: str, payload: bytes, signature: bytes) -> bool:
    try:
        _verify_key(key_text, vin).verify(payload, signature)
    except (BadSignatureError, ValueError, TypeError):  # nacl raises ValueError for a signature of the wrong size
        return False
    return True


@dataclass(frozen=True, slots=True)
class SignedHeaders:
    """A vehicle request's signature headers, checked for form and freshness (not yet the signature)."""

    vin: str
    stamp: str
    nonce: str
    signature: bytes


def signed_headers(header: Callable[[str], str | None], now: float) -> SignedHeaders:
    """The signature headers (``header(name)`` reads one), or 401: what can be judged before the body."""
    vin, stamp, signature_text = header(VIN_HEADER), header(TIMESTAMP_HEADER), header(SIGNATURE_HEADER)
    if not vin or not stamp or not signature_text:
        raise Unauthenticated(
            f"a vehicle request needs {VIN_HEADER}, {TIMESTAMP_HEADER}, {NONCE_HEADER} and {SIGNATURE_HEADER}"
        )
    # whole unix seconds only: float() takes "nan" (every comparison false, never stale) and "1e400"
    if not (stamp.isascii() and stamp.isdigit() and len(stamp) <= 12):
        raise Unauthenticated(f"{TIMESTAMP_HEADER} must be whole unix seconds, got {stamp[:32]!r}")
    skew = abs(int(stamp) - now)
    if skew > REPLAY_WINDOW:
        raise Unauthenticated(f"request timestamp is {skew:.0f} s from the server clock (window {REPLAY_WINDOW:.0f} s)")
    try:
        signature = base64.b64decode(signature_text, validate=True)
    except (binascii.Error, ValueError):
        raise Unauthenticated(f"{SIGNATURE_HEADER} is not base64") from None
    return SignedHeaders(vin, stamp, header(NONCE_HEADER) or "", signature)


def cached_vehicle_key(context: AppContext, vin: str) -> str | None:
    """The VIN's key if the database is open and the key cached (no I/O: callable on the event loop)."""
    store = context.opened_store()
    return key_cache(store).get(vin) if store is not None else None


def vehicle_key(context: AppContext, vin: str) -> str:
    """The VIN's provisioned public key through the cache (``store.key_cache``), or 401."""
    key_text = vdb.cached_public_key(context.store(), vin)
    if key_text is None:
        raise Unauthenticated(f"vehicle {vin} is unknown or has no provisioned key")
    return key_text


async def vehicle_caller(request: Request, context: Annotated[AppContext, Depends(get_context)]) -> VehicleCaller:
    """Check a vehicle's request signature (401 with the reason when it does not hold).

    The headers and the key were already judged before the body was read (``api.body_limits``);
    they are judged again here because routes are also called without that middleware.
    """
    now = context.clock().timestamp()
    signed = signed_headers(request.headers.get, now)
    vin = signed.vin
    store = await run_in_threadpool(context.store)
    cache = key_cache(store)
    cached = cache.get(vin)  # in memory: no thread, no database
    key_text = cached if cached is not None else await run_in_threadpool(vehicle_key, context, vin)
    path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    payload = signing_payload(request.method, path, signed.stamp, signed.nonce, await request.body())
    if not _signed_by(key_text, vin, payload, signed.signature):
        # a key rotated by another process (its cache entry not yet expired): ask the database once
        fresh = await run_in_threadpool(vdb.public_key, store, vin) if cached is not None else None
        if fresh is None or fresh == key_text or not _signed_by(fresh, vin, payload, signed.signature):
            raise Unauthenticated(f"bad signature for vehicle {vin}")
        cache.put(vin, fresh)
    guard: ReplayGuard = request.app.state.replay
    if not await run_in_threadpool(guard.first_use, signed.signature, now):  # a database write: off the loop
        raise Unauthenticated("this signed request was already used (replay)")
    limiter = context.rate_limiter()
    if limiter.enabled("vehicle"):  # after the replay guard: a replayed capture must not spend the vehicle's budget
        await run_in_threadpool(limiter.check, "vehicle", vin, now)
    return VehicleCaller(vin)


VehicleAuth = Annotated[VehicleCaller, Depends(vehicle_caller)]


async def telemetry_caller(
    request: Request, context: Annotated[AppContext, Depends(get_context)],
    authorization: Annotated[str | None, Header()] = None,
) -> VehicleCaller | AccountInfo:
    """A vehicle signing its own telemetry, or an engineer's (or higher) token for a gateway's batch."""
    if request.headers.get(SIGNATURE_HEADER):
        return await vehicle_caller(request, context)
    account = await run_in_threadpool(operator, context, authorization)
    if not account.has_role(TELEMETRY_ROLE):
        raise Forbidden(f"account {account.name!r} is {account.role}; ingesting telemetry needs {TELEMETRY_ROLE} "
                        "or higher")
    return account


TELEMETRY_ROLE = "engineer"
TelemetryAuth = Annotated[VehicleCaller | AccountInfo, Depends(telemetry_caller)]


@dataclass(frozen=True, slots=True)
class Requirement:
    """Who may call a route: the least operator role (None: no token admitted) and whether a vehicle may."""

    role: str | None
    vehicle: bool


def requirement_of(call: Callable[..., Any]) -> Requirement | None:
    """The requirement a dependency stands for (None: it authenticates nobody)."""
    if call is vehicle_caller:
        return Requirement(None, vehicle=True)
    if call is telemetry_caller:
        return Requirement(TELEMETRY_ROLE, vehicle=True)
    role = _ROLE_OF.get(call)
    return None if role is None else Requirement(role, vehicle=False)
