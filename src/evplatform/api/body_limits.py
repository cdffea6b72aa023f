"""Request bodies are bounded and anonymous bodies are refused before a byte of them is read.

FastAPI reads and parses a JSON body before any dependency runs, the authentication included, so
without this guard a 200 MB POST without a token was read and parsed before its 401 (the server
went from 152 MB to 795 MB). This pure ASGI middleware runs first:

- a request that carries a body must name its caller (a bearer token, or a vehicle's signature
  headers) — except the Director's manifest route, whose body is itself signed by the vehicle, and
  the dashboard's sign-in form; otherwise 401 before reading;
- the declared ``Content-Length`` must be within the route's limit, else 413 before reading (the
  server then reads no more than declared); a body without a declared length is read here up to
  the limit and cut with 413 past it (routes allowing more than 1 MiB need a declared length, 411).

Errors use the API's one shape. The limits are per route prefix, the longest prefix wins.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from evplatform.api.errors import error_body

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

DEFAULT_LIMIT = 1024**2  # JSON bodies: telemetry batches, campaign plans, reports
#: Route prefix -> the most bytes a body may have.
LIMITS: dict[str, int] = {
    "/api/releases/publish": 2 * 1024**3,  # images (the route checks its own finer limits)
    "/uptane/director/": 256 * 1024,  # vehicle version manifests (ota.manifests.MAX_MANIFEST_BYTES)
    "/signin": 4 * 1024,
    "/oauth/token": 4 * 1024,  # an OAuth 2.0 token request (a few form fields)
    "/api/owner/": 16 * 1024,  # an owner's grant
    "/api/fm/upload": 8 * 1024**2,  # a feature-model file (service.configurator.UPLOAD_MAX_BYTES)
}
#: Routes whose body may come without a caller's credentials in the headers.
ANONYMOUS_BODIES = ("/uptane/director/", "/signin")
CREDENTIAL_HEADERS = (b"authorization", b"x-vehicle-signature")
_WITH_BODY = {"POST", "PUT", "PATCH", "DELETE"}


def limit_for(path: str) -> int:
    matches = [prefix for prefix in LIMITS if path.startswith(prefix)]
    return LIMITS[max(matches, key=len)] if matches else DEFAULT_LIMIT


class BodyLimits:
    """ASGI middleware: credentials before the body, and every body within its route's limit."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in _WITH_BODY:
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        headers = dict(scope.get("headers") or [])
        limit = limit_for(path)
        declared = headers.get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await _error(send, 413, "PayloadTooLarge", f"the body may have at most {limit:,} bytes on {path}")
            return
        anonymous = not any(h in headers for h in CREDENTIAL_HEADERS)
        if anonymous and declared != b"0" and not path.startswith(ANONYMOUS_BODIES):
            await _error(send, 401, "Unauthenticated", "sign in before sending a body: send 'Authorization: "
                         "Bearer <token>' (or a vehicle's signature headers)", {"WWW-Authenticate": "Bearer"})
            return
        if declared is not None:
            await self.app(scope, receive, send)  # the server stops at the declared length
            return
        if limit > DEFAULT_LIMIT:
            await _error(send, 411, "LengthRequired", f"send a Content-Length with a body for {path}")
            return
        body = await _read_at_most(receive, limit)
        if body is None:
            await _error(send, 413, "PayloadTooLarge", f"the body may have at most {limit:,} bytes on {path}")
            return
        await self.app(scope, _replay(body, receive), send)


async def _read_at_most(receive: Receive, limit: int) -> bytes | None:
    """The whole body of a request without a declared length, or None as soon as it passes ``limit``."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks)  # the client went away: the app sees an empty or partial body
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that hands the app the body already read, then waits as the server would."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _error(send: Send, status: int, kind: str, message: str, extra: dict[str, str] | None = None) -> None:
    body = json.dumps(error_body(status, kind, message)).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    headers += [(k.lower().encode(), v.encode()) for k, v in (extra or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
