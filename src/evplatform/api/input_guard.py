"""NUL characters in a request's path or query are refused before routing, with a 422 in the one shape.

No identifier, name or filter of the platform contains U+0000, and PostgreSQL cannot store one in
a text column: a ``%00`` in a VIN or a query value reached the driver and answered 503 as if the
database were down. This pure ASGI middleware answers 422 naming where the NUL was instead.
Bodies are checked field by field by the request schemas (``api.schemas``).
"""

from __future__ import annotations

import json
from urllib.parse import unquote_to_bytes

from evplatform.api.body_limits import ASGIApp, Receive, Scope, Send
from evplatform.api.errors import error_body


def nul_location(scope: Scope) -> str | None:
    """``"path"`` or ``"query"`` when that part of the request holds a NUL character, else None."""
    path: str = scope.get("path", "")
    raw_path: bytes = scope.get("raw_path") or b""
    if "\x00" in path or b"\x00" in unquote_to_bytes(raw_path):
        return "path"
    query: bytes = scope.get("query_string") or b""
    if b"\x00" in query or b"\x00" in unquote_to_bytes(query):
        return "query"
    return None


class NulGuard:
    """ASGI middleware: 422 for a path or query holding a NUL character."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        where = nul_location(scope) if scope["type"] == "http" else None
        if where is None:
            await self.app(scope, receive, send)
            return
        message = f"invalid request: the {where} holds a NUL character (U+0000)"
        body = json.dumps(error_body(422, "ValidationError", message,
                                     fields=[{"location": where, "message": "NUL character"}])).encode()
        await send({"type": "http.response.start", "status": 422,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
