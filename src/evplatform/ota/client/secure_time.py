"""A time the vehicle can trust: the Director's time, signed and bound to the vehicle's own nonce.

Expiry is the only defence against a freeze attack (an attacker who keeps serving yesterday's
metadata), and expiry is judged against the vehicle's clock, which may be wrong: a clock a few
days slow lets metadata that expired days ago pass. Uptane answers with a time source better than
the primary's clock (Uptane 2.x 5.4.2 and the Time Server of earlier versions); ours is the
Director's: each vehicle version manifest carries a fresh random nonce, and the Director's next
timestamp for that vehicle carries ``custom: {"nonce", "time"}`` under the timestamp key. A
signed time that answers a nonce the vehicle chose could not have been signed in advance, so it is
a lower bound on the true time when the vehicle read it.

From then on the vehicle judges expiry at its own clock plus the offset it measured (when its
clock was behind the Director's), so time keeps running from the Director's bound even between
checks, and an attacker who freezes the metadata is caught once it expires.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tuf.api.metadata import Timestamp

from evplatform.ota.client.errors import MalformedMetadataError


def signed_time(timestamp: Timestamp, nonce_sent: str) -> datetime | None:
    """The Director's time in ``timestamp`` if it answers ``nonce_sent``; None when it answers nothing of ours."""
    custom: Any = timestamp.unrecognized_fields.get("custom")
    if not nonce_sent or not isinstance(custom, dict) or custom.get("nonce") != nonce_sent:
        return None
    text = custom.get("time")
    try:
        moment = datetime.strptime(str(text), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError as error:
        raise MalformedMetadataError(
            f"Director timestamp.json: custom time {text!r} is not YYYY-MM-DDTHH:MM:SSZ") from error
    return moment


def corrected(local_now: datetime, offset: timedelta) -> datetime:
    """The vehicle's clock moved forward by the offset it measured against the Director (never back)."""
    return local_now + max(offset, timedelta(0))
