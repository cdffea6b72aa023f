"""Callers are authenticated and authorised before a byte of their body is read, and bodies are
bounded while they stream in.

FastAPI reads and parses a JSON body before any dependency runs, the authentication included, so
without this guard a 200 MB POST without a token was read and parsed before its 401 (the server
went from 152 MB to 795 MB), and a malformed body from a stranger answered 422 instead of 401.
This pure ASGI middleware runs first, for every request that may carry a body:

- **who**: the route is looked up (Starlette's own matching) and its authentication dependency
  read (``api.auth.requirement_of``): an operator route checks the bearer token *and the role*
  (401 / 403), a vehicle route the signature headers, their timestamp window and that the VIN has
  a provisioned key (401; the signature itself covers the body's hash, so it is checked once the
  bounded body is in). A route without such a dependency admits a body only from the two routes
  whose body authenticates itself (``ANONYMOUS_BODIES``) or with credentials in the headers;
- **how much**: a declared ``Content-Length`` over the route's limit is 413 before reading; then
  every chunk is counted as the route pulls it, and the body is cut with 413 as soon as it passes
  the limit or its own declared length (a lying ``Content-Length``) — chunked bodies the same way.
  Nothing is buffered here: memory holds at most what the route itself keeps.

Errors use the API's one shape. The limits are per route prefix, the longest prefix wins
(``LIMITS``; documented in docs/api.md).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.routing import Match

from evplatform.api import auth
from evplatform.api.errors import error_body, project_error_response
from evplatform.errors import EvplatformError

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

logger = logging.getLogger(__name__)

DEFAULT_LIMIT = 1024**2  # JSON bodies: telemetry batches, campaign plans, reports
#: Route prefix -> the most bytes a body may have.
LIMITS: dict[str, int] = {
    "/api/releases/publish": 2 * 1024**3,  # images (the route checks its own finer limits)
    "/uptane/director/": 256 * 1024,  # vehicle version manifests (ota.manifests.MAX_MANIFEST_BYTES)
    "/signin": 4 * 1024,
    "/oauth/token": 4 * 1024,  # an OAuth 2.0 token request (a few form fields)
    "/api/owner/": 16 * 1024,  # an owner's grant
    "/api/fm/upload": 8 * 1024**2,  # a feature-model file (service.configurator.UPLOAD_MAX_BYTES)
    "/api/vehicle/": 64 * 1024,  # an update check (empty) or a campaign report
}
#: Routes whose body may come without a caller's credentials in the headers (it is signed itself).
ANONYMOUS_BODIES = ("/uptane/director/", "/signin")
CREDENTIAL_HEADERS = (b"authorization", b"x-vehicle-signature")
_WITH_BODY = {"POST", "PUT", "PATCH", "DELETE"}


def limit_for(path: str) -> int:
    matches = [prefix for prefix in LIMITS if path.startswith(prefix)]
    return LIMITS[max(matches, key=len)] if matches else DEFAULT_LIMIT


class BodyLimits:
    """ASGI middleware: caller and role before the body, and every body within its route's limit."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in _WITH_BODY:
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        headers = dict(scope.get("headers") or [])
        limit = limit_for(path)
        declared_text = headers.get(b"content-length")
        if declared_text is not None and (not declared_text.isdigit() or int(declared_text) > limit):
            await _error(send, 413, "PayloadTooLarge", f"the body may have at most {limit:,} bytes on {path}")
            return
        try:
            await _authenticate(scope, headers)
        except EvplatformError as error:  # logged and shaped as the route's own refusal would be
            response = await project_error_response(Request(scope), error)
            await response(scope, receive, send)
            return
        declared = int(declared_text) if declared_text is not None else None
        if declared is None and limit > DEFAULT_LIMIT:
            await _error(send, 411, "LengthRequired", f"send a Content-Length with a body for {path}")
            return
        await _Bounded(self.app, limit, declared, path)(scope, receive, send)


async def _authenticate(scope: Scope, headers: dict[bytes, bytes]) -> None:
    """401/403 (as project errors) for a caller the route would refuse, judged from the headers alone."""
    path: str = scope["path"]
    needed = _route_requirement(scope)
    if needed is None:
        has_credentials = any(h in headers for h in CREDENTIAL_HEADERS)
        if not has_credentials and headers.get(b"content-length") != b"0" and not path.startswith(ANONYMOUS_BODIES):
            raise auth.Unauthenticated("sign in before sending a body: send 'Authorization: Bearer <token>' "
                                       "(or a vehicle's signature headers)")
        return
    context = scope["app"].state.context
    text = {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in headers.items()}
    if needed.vehicle and (text.get(auth.SIGNATURE_HEADER.lower()) or needed.role is None):
        signed = auth.signed_headers(lambda name: text.get(name.lower()), context.clock().timestamp())
        if auth.cached_vehicle_key(context, signed.vin) is None:  # a cache hit needs no thread hop
            await run_in_threadpool(auth.vehicle_key, context, signed.vin)
        return
    if auth.bearer_token(text.get("authorization")) is None:
        vehicles = " (or a vehicle's signature headers)" if needed.vehicle else ""
        raise auth.Unauthenticated(f"sign in before sending a body: send 'Authorization: Bearer <token>'{vehicles}")
    account = await run_in_threadpool(auth.operator, context, text.get("authorization"))
    if needed.role is not None and not account.has_role(needed.role):
        raise auth.Forbidden(f"account {account.name!r} is {account.role}; this needs {needed.role} or higher")
    # the route's own dependency looks the token up again: one indexed read, operators only


def _route_requirement(scope: Scope) -> auth.Requirement | None:
    """The ``api.auth.Requirement`` of the route this request reaches (None: none, or no such route)."""
    memo = _memo_of(scope.get("app"))
    key = (scope["method"], scope["path"])
    known = memo.get(key)
    if known is None:
        known = memo[key] = _lookup(scope)
        if len(memo) > ROUTES_REMEMBERED:  # paths with a VIN in them: keep the memo small
            memo.clear()
    route, requirement = known
    if route is not None:
        scope["route"] = route  # the metrics and access log name the route even for a refusal here
    return requirement


#: (method, path) → (route, requirement) per application: the update check's path is the same for every vehicle.
RouteMemo = dict[tuple[str, str], tuple[Any, "auth.Requirement | None"]]
ROUTES_REMEMBERED = 1_024


def _memo_of(app: Any) -> RouteMemo:
    state = getattr(app, "state", None)
    if state is None:
        return {}
    memo: RouteMemo | None = getattr(state, "body_limit_routes", None)
    if memo is None:
        memo = {}
        state.body_limit_routes = memo
    return memo


def _lookup(scope: Scope) -> tuple[Any, auth.Requirement | None]:
    routes = getattr(getattr(scope.get("app"), "router", None), "routes", ())
    for route in routes:
        match, _ = route.matches(scope)
        if match is Match.FULL:
            dependant = getattr(route, "dependant", None)
            return route, _requirement(dependant, auth.requirement_of) if dependant is not None else None
    return None, None


def _requirement(dependant: Any, requirement_of: Callable[[Any], auth.Requirement | None]) -> auth.Requirement | None:
    for sub in dependant.dependencies:
        found = requirement_of(sub.call) or _requirement(sub, requirement_of)
        if found is not None:
            return found
    return None


class _Bounded:
    """Runs the app with a ``receive`` that counts the body and cuts it with 413 past its bound."""

    def __init__(self, app: ASGIApp, limit: int, declared: int | None, path: str) -> None:
        self.app = app
        self.bound = limit if declared is None else min(limit, declared)
        self.limit = limit
        self.declared = declared
        self.path = path
        self.received = 0
        self.refused = False
        self.started = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def counted() -> Message:
            if self.refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                self.received += len(message.get("body", b""))
                if self.received > self.bound:
                    await self._refuse(send)
                    return {"type": "http.disconnect"}  # the route stops reading; its answer is dropped
            return message

        async def guarded(message: Message) -> None:
            if self.refused:
                return
            if message["type"] == "http.response.start":
                self.started = True
            await send(message)

        await self.app(scope, counted, guarded)

    async def _refuse(self, send: Send) -> None:
        self.refused = True
        if self.declared is not None and self.received > self.declared and self.declared <= self.limit:
            message = f"the body is longer than its Content-Length ({self.declared:,} bytes) on {self.path}"
        else:
            message = f"the body may have at most {self.limit:,} bytes on {self.path}"
        logger.info("body refused after %d bytes: %s", self.received, message,
                    extra={"event": "body_refused", "path": self.path, "received": self.received})
        if not self.started:  # a route answering before it read its whole body keeps its answer
            await _error(send, 413, "PayloadTooLarge", message)


async def _error(send: Send, status: int, kind: str, message: str, extra: dict[str, str] | None = None) -> None:
    body = json.dumps(error_body(status, kind, message)).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    headers += [(k.lower().encode(), v.encode()) for k, v in (extra or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
