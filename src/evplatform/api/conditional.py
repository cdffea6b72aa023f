"""Conditional GET for the byte-for-byte Uptane metadata: strong ETags, ``If-None-Match`` and 304.

A vehicle polls its Director and the Image repository every few minutes; nearly always nothing
changed. With the ETag of the bytes it last saw in ``If-None-Match`` it gets ``304 Not Modified``
with no body instead of the same signed JSON again (hawkBit's DDI polls the same way).

RFC 9110 §13.1.2: for GET, ``If-None-Match`` uses the *weak* comparison (``W/"x"`` matches
``"x"``), ``*`` matches any current representation, and the header may list several tags. A header
we cannot parse matches nothing: the client gets the full 200, never a wrong 304.

The update check (``POST /api/vehicle/update-check``) answers 304 the same way from the vehicle's
generation number (``held_check_tag``). RFC 9110 would answer a POST's matching ``If-None-Match``
with 412; the check is a read signed as a POST (the signature covers method and body), and 304 is
what a polling client — hawkBit's DDI poll is a GET — already knows to read as "nothing new".
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime

from fastapi import Request
from fastapi.responses import Response

from evplatform.fleet.generations import CheckTag, held_tag

#: An entity tag: optional weak prefix, then a quoted string of etagc characters (RFC 9110 §8.8.3).
_ENTITY_TAG = re.compile(r'\s*(?:W/)?("[\x21\x23-\x7e\x80-\xff]*")\s*(?:,|$)')
#: Longest If-None-Match header we read (a client listing hundreds of tags gets a plain 200).
MAX_IF_NONE_MATCH = 8_192
#: Hex digits of the SHA-256 in an ETag: 128 bits, enough that two metadata files never share one.
ETAG_HEX_DIGITS = 32
#: Versioned files (``N.root.json``) never change once written: a year, and ``immutable``.
IMMUTABLE = "max-age=31536000, immutable"
#: The current file (``root.json``, ``targets.json``…) changes when the repository signs: revalidate.
REVALIDATE = "no-cache"


def strong_etag(data: bytes) -> str:
    """The quoted SHA-256 prefix of the bytes: equal bytes, equal tag; any change, a new tag."""
    return '"' + hashlib.sha256(data).hexdigest()[:ETAG_HEX_DIGITS] + '"'


def listed_tags(header: str) -> list[str] | None:
    """The opaque tags (quotes kept, ``W/`` dropped) of an ``If-None-Match`` value; None if malformed."""
    tags: list[str] = []
    position = 0
    while position < len(header):
        found = _ENTITY_TAG.match(header, position)
        if found is None or found.end() == position:
            return None
        tags.append(found.group(1))
        position = found.end()
    return tags


def none_match(header: str | None, etag: str) -> bool:
    """True when ``If-None-Match`` says the client already holds ``etag`` (the 304 case)."""
    if header is None or len(header) > MAX_IF_NONE_MATCH:
        return False
    if header.strip() == "*":
        return True  # the resource exists (we only get here with its bytes)
    tags = listed_tags(header)
    return tags is not None and etag.removeprefix("W/") in tags


def metadata_response(request: Request, data: bytes, media_type: str, *, versioned: bool) -> Response:
    """200 with the bytes, or 304 with no body when the client's ``If-None-Match`` matches them."""
    etag = strong_etag(data)
    headers = {"ETag": etag, "Cache-Control": IMMUTABLE if versioned else REVALIDATE}
    if none_match(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    return Response(data, media_type=media_type, headers=headers)


def held_check_tag(header: str | None, generation: int | None, now: datetime) -> CheckTag | None:
    """The update-check tag of ``If-None-Match`` that still holds (``fleet.generations``), or None."""
    if header is None or len(header) > MAX_IF_NONE_MATCH:
        return None
    tags = listed_tags(header)
    return held_tag(tags, generation, now) if tags else None
