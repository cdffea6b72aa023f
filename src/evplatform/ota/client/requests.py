"""Signed vehicle requests to the fleet backend, and the conditional update check.

Every request a vehicle sends to ``/api/vehicle/…`` is signed with its primary ECU's ed25519 key
over the method, path, timestamp, a fresh nonce and the body's SHA-256 (the server side is
``evplatform.api.auth``, which re-exports these helpers).

``UpdateChecker`` polls ``POST /api/vehicle/update-check`` the way hawkBit's controllers poll: it
sends back the ``ETag`` of the last answer in ``If-None-Match``, and a 304 means "the same answer as
last time" — the kept answer is returned, marked ``not_modified``. It waits ``poll_after_s`` (the
server's ``Retry-After``) between checks; that is the caller's loop.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from dataclasses import dataclass
from typing import Any

import httpx
from nacl.signing import SigningKey

from evplatform.ota.client.errors import DownloadError

VIN_HEADER = "X-Vehicle-VIN"
TIMESTAMP_HEADER = "X-Vehicle-Timestamp"
SIGNATURE_HEADER = "X-Vehicle-Signature"
NONCE_HEADER = "X-Vehicle-Nonce"
UPDATE_CHECK_PATH = "/api/vehicle/update-check"
#: Largest update-check answer read (a few hundred bytes in practice).
MAX_ANSWER_BYTES = 64 * 1024


def signing_payload(method: str, path: str, timestamp: str, nonce: str, body: bytes) -> bytes:
    """The bytes a vehicle signs: method, path (with query), timestamp, nonce and the body's SHA-256."""
    return f"{method.upper()}\n{path}\n{timestamp}\n{nonce}\n{hashlib.sha256(body).hexdigest()}".encode()


def sign_request(
    key: SigningKey, vin: str, method: str, path: str, body: bytes = b"", timestamp: float | None = None
) -> dict[str, str]:
    """Headers of a signed vehicle request (used by the vehicle client, tests and the load benchmark)."""
    stamp = str(int(time.time() if timestamp is None else timestamp))
    nonce = secrets.token_hex(8)
    signature = key.sign(signing_payload(method, path, stamp, nonce, body)).signature
    return {VIN_HEADER: vin, TIMESTAMP_HEADER: stamp, NONCE_HEADER: nonce,
            SIGNATURE_HEADER: base64.b64encode(signature).decode()}


@dataclass(frozen=True, slots=True)
class CheckAnswer:
    """The update check's answer: the offer (None: nothing to install), when to ask again, and
    whether it is the kept answer of a 304 (the server did no work)."""

    update: dict[str, Any] | None
    poll_after_s: int
    not_modified: bool


class UpdateChecker:
    """One vehicle's conditional update check against the fleet backend at ``base_url``."""

    def __init__(self, base_url: str, vin: str, key: SigningKey, *, client: httpx.Client | None = None,
                 timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.vin = vin
        self.key = key
        self.client = client or httpx.Client(timeout=timeout)
        self._etag: str | None = None
        self._last: CheckAnswer | None = None

    def check(self) -> CheckAnswer:
        """Ask once; DownloadError for anything but 200 or a 304 to a tag we sent."""
        headers = sign_request(self.key, self.vin, "POST", UPDATE_CHECK_PATH)
        if self._etag is not None and self._last is not None:
            headers["If-None-Match"] = self._etag
        response = self.client.post(self.base_url + UPDATE_CHECK_PATH, headers=headers)
        if response.status_code == 304 and self._last is not None:
            hint = response.headers.get("retry-after", "")
            poll = int(hint) if hint.isdigit() else self._last.poll_after_s
            return CheckAnswer(self._last.update, poll, not_modified=True)
        if response.status_code != 200 or len(response.content) > MAX_ANSWER_BYTES:
            raise DownloadError(f"update check: HTTP {response.status_code} ({len(response.content)} bytes)")
        body = response.json()
        answer = CheckAnswer(body.get("update"), int(body.get("poll_after_s", 0)), not_modified=False)
        self._etag, self._last = response.headers.get("etag"), answer
        return answer

    def close(self) -> None:
        self.client.close()
