"""Uptane endpoints over ``evplatform.ota.service.OtaService``: the layout the vehicle client fetches.

Relative to ``/uptane/`` (the base URL a vehicle's ``HttpFetcher`` is given)::

    GET  image/<role>.json, image/<N>.<role>.json          Image repository metadata
    GET  director/<VIN>/<role>.json, …/<N>.<role>.json      Director metadata of that vehicle
    GET  images/<sha256>                                    an image (HTTP Range for resumed downloads)
    POST director/<VIN>/manifest                            the vehicle version manifest (Uptane 5.4.2)

Metadata are served byte for byte as signed, with a strong ``ETag`` (``api.conditional``): a poll
that sends it back in ``If-None-Match`` gets 304 with no body. ``N.<role>.json`` never changes once
written and is cacheable as ``immutable``; the current ``<role>.json`` is ``no-cache`` (revalidate).
A missing version is 404 — the client asks for ``N+1.root.json`` until it gets one (Uptane 5.4.4.3 /
TUF 5.3.4). The manifest authenticates itself: the Director checks the primary ECU's signature over
it and every ECU's over its report.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response
from starlette.concurrency import run_in_threadpool

from evplatform.api.conditional import metadata_response
from evplatform.api.context import Context
from evplatform.api.errors import NotFound
from evplatform.api.observability import server_metrics
from evplatform.api.responses import ManifestOut
from evplatform.errors import OtaError

router = APIRouter(prefix="/uptane", tags=["uptane"])
# a top-level role or an Image repository delegated role (ota/client/delegations.ROLE_NAME)
METADATA_FILE = re.compile(r"(?:(?P<version>[1-9][0-9]{0,9})\.)?(?P<role>[a-z0-9][a-z0-9-]{0,62})\.json")
JSON = "application/json"
#: OpenAPI description of the byte-for-byte routes (no response model: the bytes are the signed document).
SIGNED_METADATA: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "TUF/Uptane metadata exactly as signed (its schema is the TUF spec's), with a strong ETag",
        "content": {JSON: {"schema": {"type": "object"}}},
    },
    304: {"description": "If-None-Match matched the current ETag: the client's copy is current (no body)"},
}
IMAGE_FILE: dict[int | str, dict[str, Any]] = {200: {
    "description": "the image bytes; HTTP Range answers 206 with the requested part",
    "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
}}


def _role_version(file: str) -> tuple[str, int | None]:
    found = METADATA_FILE.fullmatch(file)  # fullmatch: "$" lets "root.json\n" through
    if found is None:
        raise NotFound(f"{file!r} is not a metadata file (<role>.json or <version>.<role>.json)")
    version = found.group("version")
    return found.group("role"), int(version) if version else None


def _not_found(what: str, error: OtaError) -> NotFound:
    """The OTA error said the file is missing; say so without the server's folders."""
    reason = str(error).rsplit(": ", 1)[-1]
    return NotFound(f"{what}: {reason}")


@router.get("/image/{file}", response_class=Response, responses=SIGNED_METADATA,
            summary="Image repository metadata, exactly as signed")
def image_metadata(context: Context, request: Request, file: str) -> Response:
    role, version = _role_version(file)
    try:
        data = context.ota().image_metadata(role, version)
    except OtaError as error:
        raise _not_found(f"image/{file}", error) from error
    return metadata_response(request, data, JSON, versioned=version is not None)


@router.get("/director/{vin}/{file}", response_class=Response, responses=SIGNED_METADATA,
            summary="Director metadata for one vehicle, exactly as signed")
def director_metadata(context: Context, request: Request, vin: str, file: str) -> Response:
    role, version = _role_version(file)
    try:
        data = context.ota().director_metadata(vin, role, version)
    except OtaError as error:
        raise _not_found(f"director/{vin}/{file}", error) from error
    return metadata_response(request, data, JSON, versioned=version is not None)


@router.get("/images/{sha256}", response_class=Response, responses=IMAGE_FILE,
            summary="An image by its SHA-256 (supports Range for resumed downloads)")
def image(context: Context, sha256: str) -> FileResponse:
    try:
        path = context.ota().image_path(sha256)
    except OtaError as error:
        raise _not_found(f"images/{sha256}", error) from error
    return FileResponse(path, media_type="application/octet-stream")


@router.post("/director/{vin}/manifest", response_model=ManifestOut,
             summary="Submit the vehicle version manifest (signed by the primary ECU)")
async def manifest(context: Context, vin: str, request: Request) -> dict[str, Any]:
    body = await request.body()
    service = context.ota()
    try:
        result = await run_in_threadpool(service.submit_manifest, vin, body)
    except OtaError as error:  # the manifest failed verification: counted by class, answered as before
        server_metrics(request).verification_failed(error)
        raise
    return result.to_json()
