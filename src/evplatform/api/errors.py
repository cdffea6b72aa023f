"""One error shape for the whole API, and the one place that maps exceptions to it.

Every error response is ``{"error": {"status": int, "type": str, "message": str}}`` (validation
errors add ``"fields": [{"location", "message"}]``). Project errors carry their HTTP status
(``EvplatformError.http_status``); the API's own — unauthenticated, forbidden, not found — are
subclasses here so the same handler maps them. ``type`` is the error's class name, except for the
typed ``NotFoundError`` and ``ConflictError`` of any layer, which answer as ``NotFound`` (404, the
same type as an unknown URL) and ``Conflict`` (409) — so a client tests one type per status, never
message text. ``tests/api/test_error_shape.py`` pins the shape.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from evplatform.errors import ConflictError, EvplatformError, NotFoundError
from evplatform.service.context import Unavailable

__all__ = ["ApiError", "Forbidden", "NotFound", "Unauthenticated", "Unavailable", "error_body",
           "install_error_handlers", "validation_message"]

logger = logging.getLogger(__name__)

#: Public ``type`` of the typed errors every layer may raise (other errors answer with their class name).
TYPED_ERRORS: tuple[tuple[type[EvplatformError], str], ...] = ((NotFoundError, "NotFound"), (ConflictError, "Conflict"))


class ApiError(EvplatformError):
    """An error of the HTTP layer itself (bad or missing credentials, unknown resource)."""


class Unauthenticated(ApiError):
    """No credentials, or credentials that do not identify anyone."""

    http_status = 401


class Forbidden(ApiError):
    """Known caller, not allowed to do this."""

    http_status = 403


class NotFound(ApiError):
    """A URL that names nothing the API serves (e.g. not a metadata file name); the domains raise
    ``NotFoundError`` for a named thing that does not exist."""

    http_status = 404


def error_body(status: int, kind: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"error": {"status": status, "type": kind, "message": message, **extra}}


def _location(loc: tuple[Any, ...] | list[Any]) -> str:
    return ".".join(str(part) for part in loc)


def validation_message(errors: list[dict[str, Any]]) -> tuple[str, list[dict[str, str]]]:
    """A sentence naming each wrong field (``body.events.0.kind: Field required``) and the list."""
    fields = [{"location": _location(e.get("loc", ())), "message": str(e.get("msg", "invalid"))} for e in errors]
    text = "; ".join(f"{f['location']}: {f['message']}" for f in fields[:5])
    if len(fields) > 5:
        text += f"; and {len(fields) - 5} more"
    return f"invalid request: {text}", fields


def error_type(error: EvplatformError) -> str:
    """The ``type`` of an error response: the typed errors' public names, else the class name."""
    for cls, name in TYPED_ERRORS:
        if isinstance(error, cls):
            return name
    return type(error).__name__


async def project_error_response(request: Request, error: Exception) -> JSONResponse:
    """The one-shape answer to a project error, refusals logged (also used by ``api.body_limits``)."""
    return await _project_error(request, error)


async def _project_error(request: Request, error: Exception) -> JSONResponse:
    if not isinstance(error, EvplatformError):  # registered for EvplatformError only
        raise TypeError(f"unexpected {type(error).__name__}")
    status = int(getattr(error, "http_status", 400))
    if isinstance(error, Unauthenticated | Forbidden):
        # who tried what, never the credentials themselves
        logger.warning("%s %s refused: %s", request.method, request.url.path, error, extra={
            "event": "auth_failed" if status == 401 else "forbidden", "status": status,
            "method": request.method, "path": request.url.path,
            "client": request.client.host if request.client else None})
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else {}
    retry_after = getattr(error, "retry_after", None)  # 429 (service.rate_limits): when to come back
    if isinstance(retry_after, int):
        headers["Retry-After"] = str(retry_after)
    return JSONResponse(error_body(status, error_type(error), str(error)), status_code=status, headers=headers or None)


async def _validation_error(_request: Request, error: Exception) -> JSONResponse:
    if not isinstance(error, RequestValidationError):  # registered for RequestValidationError only
        raise TypeError(f"unexpected {type(error).__name__}")
    message, fields = validation_message(list(error.errors()))
    return JSONResponse(error_body(422, "ValidationError", message, fields=fields), status_code=422)


async def _http_error(_request: Request, error: Exception) -> JSONResponse:
    if not isinstance(error, StarletteHTTPException):  # registered for StarletteHTTPException only
        raise TypeError(f"unexpected {type(error).__name__}")
    kind = {404: "NotFound", 405: "MethodNotAllowed"}.get(error.status_code, "HTTPError")
    return JSONResponse(
        error_body(error.status_code, kind, str(error.detail)), status_code=error.status_code, headers=error.headers
    )


async def _unexpected_error(request: Request, error: Exception) -> JSONResponse:
    """A bug: logged with its traceback here, answered 500 in the one shape without it."""
    logger.error("%s %s failed: %s", request.method, request.url.path, type(error).__name__, exc_info=error,
                 extra={"event": "internal_error", "method": request.method, "path": request.url.path})
    return JSONResponse(error_body(500, "InternalError", "internal error (logged on the server)"), status_code=500)


def install_error_handlers(app: FastAPI) -> None:
    """Map every error the API can raise to the one JSON shape (a bug too: 500, logged, no traceback)."""
    app.add_exception_handler(Exception, _unexpected_error)
    app.add_exception_handler(EvplatformError, _project_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
