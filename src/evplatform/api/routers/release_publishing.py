"""Publishing a release over HTTP: the manifest and its image files in, the same result as `evplatform ota release`.

``POST /api/releases/publish`` takes ``multipart/form-data`` with one ``manifest`` part (the
YAML or JSON release manifest) and one ``images`` part per image file, named as the manifest's
``file`` entries name them (plain file names: a manifest may not reach outside its upload). It
calls ``fleet.release_publishing.publish_release`` exactly as the CLI does, on this server's OTA
folder (``--ota-root``) and fleet database, so the release lands in the catalogue, the image
store, the Image repository and the fleet's releases.

Limits: the request must declare its length (411 otherwise) and stay under
``MAX_UPLOAD_BYTES`` (413), the manifest under ``MAX_MANIFEST_BYTES``, at most ``MAX_IMAGES``
files. The Image repository's targets key is offline and normally not on the server at all
(docs/ota-key-ceremony.md): the server signs with it only when its key directory holds it, encrypted
with the passphrase in ``EVPLATFORM_OTA_PASSPHRASE``, or unencrypted with
``EVPLATFORM_INSECURE_DEMO_KEYS=1`` (a demo); 501 otherwise, before anything is stored.
``?sign=false`` stores images and deltas without listing them, as ``--no-repository`` does.
Publishing is serialised in this process.
"""

from __future__ import annotations

import os
import tempfile
import threading
from functools import partial
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Annotated, Any, BinaryIO

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from evplatform.api.auth import ReleaseManager
from evplatform.api.context import ApiContext, get_context
from evplatform.api.errors import ApiError, Unavailable
from evplatform.errors import ConflictError
from evplatform.fleet.release_publishing import publish_release
from evplatform.ota.keys import KeyRing
from evplatform.ota.publishing import ImageSigning, has_image_repository
from evplatform.ota.releases import ManifestError

router = APIRouter(prefix="/api/releases", tags=["releases"])
Context = Annotated[ApiContext, Depends(get_context)]

MAX_UPLOAD_BYTES = 2 * 1024**3  # a whole request: manifest and images
MAX_MANIFEST_BYTES = 1024**2
MAX_IMAGES = 32
ENV_OTA_PASSPHRASE = "EVPLATFORM_OTA_PASSPHRASE"  # noqa: S105 - the variable's name, not a secret
ENV_INSECURE_DEMO_KEYS = "EVPLATFORM_INSECURE_DEMO_KEYS"  # "1": plaintext offline keys allowed (demo)
_CHUNK = 1024**2
_PUBLISHING = threading.Lock()


class LengthRequired(ApiError):
    http_status = 411


class PayloadTooLarge(ApiError):
    http_status = 413


class BadUpload(ApiError):
    """A multipart body that is not a manifest plus image files."""


class DeltaOut(BaseModel):
    from_release: str
    algorithm: str
    old_sha256: str
    old_length: int
    new_sha256: str
    new_length: int
    patch_sha256: str
    patch_length: int
    full_length: int
    create_s: float


class ReleaseImageOut(BaseModel):
    component: str
    ecu: str
    hardware_id: str
    file: str
    sha256: str
    length: int


class PublishedImageOut(ReleaseImageOut):
    target: str
    release_counter: int
    delta: DeltaOut | None


class ReleaseOut(BaseModel):
    id: str
    version: str
    compatible: str
    notes: str
    images: list[ReleaseImageOut]
    rxswin: dict[str, str]


class PublishedReleaseOut(BaseModel):
    """What ``evplatform ota release --json`` prints, without the server folder, plus warnings."""

    release: ReleaseOut
    images: list[PublishedImageOut]
    image_repository_targets_version: int | None
    database_releases: list[str]
    warnings: list[str]


_MULTIPART = {
    "requestBody": {
        "required": True,
        "content": {"multipart/form-data": {"schema": {
            "type": "object", "required": ["manifest"],
            "properties": {
                "manifest": {"type": "string", "format": "binary", "description": "release manifest (YAML or JSON)"},
                "images": {"type": "array", "items": {"type": "string", "format": "binary"},
                           "description": "the image files the manifest names, by file name"},
            },
        }}},
    }
}


@router.post("/publish", status_code=201, response_model=PublishedReleaseOut, openapi_extra=_MULTIPART,
             summary="Publish a release from its manifest and images, as `evplatform ota release` (release manager)")
async def publish(request: Request, context: Context, account: ReleaseManager, sign: bool = True) -> dict[str, Any]:
    root = context.ota_root
    if root is None:
        raise Unavailable("no OTA folder on this server (evplatform serve --ota-root DIR or EVPLATFORM_OTA_ROOT)")
    _check_length(request.headers.get("content-length"))
    async with request.form(max_files=MAX_IMAGES + 1, max_fields=0, max_part_size=MAX_MANIFEST_BYTES) as form:
        manifest, images = _parts(form.multi_items())
        return await run_in_threadpool(_publish, context, root, account.name, manifest, images, sign)


def _check_length(header: str | None) -> None:
    if header is None:
        raise LengthRequired("send the upload with a Content-Length")
    if not header.isdigit() or int(header) > MAX_UPLOAD_BYTES:
        raise PayloadTooLarge(f"the upload is {header} bytes; at most {MAX_UPLOAD_BYTES} bytes are accepted")


def _parts(items: list[tuple[str, UploadFile | str]]) -> tuple[UploadFile, list[UploadFile]]:
    manifests = [value for name, value in items if name == "manifest"]
    images = [value for name, value in items if name == "images"]
    unknown = sorted({name for name, _ in items} - {"manifest", "images"})
    if unknown:
        raise BadUpload(f"unknown form field(s) {', '.join(unknown)}: send 'manifest' and 'images'")
    if len(manifests) != 1 or not isinstance(manifests[0], UploadFile):
        raise BadUpload("send exactly one 'manifest' file (the release manifest, YAML or JSON)")
    files = [f for f in images if isinstance(f, UploadFile)]
    if len(files) != len(images):
        raise BadUpload("every 'images' part must be a file")
    return manifests[0], files


def _publish(context: ApiContext, root: Path, actor: str, manifest: UploadFile, images: list[UploadFile],
             sign: bool) -> dict[str, Any]:
    warnings: list[str] = []
    uploads = root / "uploads"
    uploads.mkdir(parents=True, exist_ok=True)
    with _PUBLISHING, tempfile.TemporaryDirectory(prefix="release-", dir=uploads) as folder:
        manifest_name = _file_name(manifest.filename or "release.yaml", "manifest")
        manifest_path = _save_all(Path(folder), manifest, manifest_name, images)
        signing = partial(_image_signing, context, root, warnings) if sign else None
        try:
            done = publish_release(manifest_path, context.workspace(), root, signing=signing, store=context.store(),
                                   actor=actor, now=context.clock(), confined=True)
        except ManifestError as error:  # name the uploaded file, not the server's folder
            message = error.message.replace(f"{Path(folder).resolve()}", "the upload").replace(folder, "the upload")
            raise ManifestError(message, manifest_name, error.line, error.column) from error
        except ConflictError as error:
            raise ConflictError(str(error).replace(str(root), "this server's catalogue")) from error
        named = {image.path.name for image in done.release.images}
        ignored = sorted({_file_name(f.filename or "", "images") for f in images} - named)
        if ignored:
            warnings.append(f"ignored uploaded file(s) the manifest does not name: {', '.join(ignored)}")
    return done.to_dict() | {"warnings": warnings}


def _save_all(folder: Path, manifest: UploadFile, manifest_name: str, images: list[UploadFile]) -> Path:
    """Write the manifest and the images into ``folder``; the manifest's path."""
    names = {manifest_name}
    total = _save(manifest.file, folder / manifest_name, MAX_MANIFEST_BYTES, "the manifest")
    for image in images:
        name = _file_name(image.filename or "", "images")
        if name in names:
            raise BadUpload(f"two uploaded files are named {name!r}")
        names.add(name)
        total += _save(image.file, folder / name, MAX_UPLOAD_BYTES - total, f"image {name}")
    return folder / manifest_name


def _save(source: BinaryIO, target: Path, limit: int, what: str) -> int:
    written = 0
    with target.open("xb") as out:
        while chunk := source.read(_CHUNK):
            written += len(chunk)
            if written > limit:
                raise PayloadTooLarge(f"{what} is larger than the {limit} bytes left in the upload limit")
            out.write(chunk)
    return written


def _file_name(given: str, field: str) -> str:
    """The uploaded file's name without any folder part; 400 if nothing usable is left."""
    name = PureWindowsPath(PurePosixPath(given).name).name
    if not name or name in (".", "..") or name.startswith(".") or len(name) > 255:
        raise BadUpload(f"{field}: {given!r} is not a usable file name")
    return name


def _image_signing(context: ApiContext, root: Path, warnings: list[str]) -> ImageSigning | None:
    """This server's Image repository (through its ``OtaService``) and the targets signers."""
    if not has_image_repository(root):
        warnings.append("no Image repository on this server (evplatform ota init): images stored, not signed")
        return None
    insecure = os.environ.get(ENV_INSECURE_DEMO_KEYS) == "1"
    keyring = KeyRing(root / "keys", os.environ.get(ENV_OTA_PASSPHRASE) or None, insecure_demo_keys=insecure)
    targets = [e for e in keyring.entries if (e.repository, e.role) == ("image", "targets") and not e.retired]
    if not targets:
        raise Unavailable("this server holds only online keys (the targets key is offline): publish with "
                          "?sign=false, then sign with `evplatform ota release` where the key is")
    if not any(e.encrypted for e in targets) and not insecure:
        raise Unavailable(f"the Image repository's targets key on this server is unencrypted; set "
                          f"{ENV_INSECURE_DEMO_KEYS}=1 for a demo, or publish with ?sign=false")
    if any(e.encrypted for e in targets) and not os.environ.get(ENV_OTA_PASSPHRASE):
        raise Unavailable(f"the Image repository's targets key is encrypted and {ENV_OTA_PASSPHRASE} is not set on "
                          "this server: publish with ?sign=false, or with `evplatform ota release` where the key is")
    return ImageSigning(context.ota(), keyring.signers("image", "targets"))

