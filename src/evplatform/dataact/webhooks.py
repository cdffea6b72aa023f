"""Webhooks for data recipients: events within consent, HMAC-SHA256 signed, retried, dead-lettered.

``notify`` queues an event for every subscription whose recipient holds a live consent for the
vehicle and category at that moment (no consent: nothing is queued). ``deliver_due`` posts the due
deliveries; a 2xx answer delivers, anything else (an error status, a refused connection, a
timeout) schedules a retry after ``BACKOFF`` seconds doubling per attempt, and after
``MAX_ATTEMPTS`` the delivery is dead — the dead-letter list an operator inspects. Consent is
checked again right before each attempt: a revocation stops pending deliveries too.

The receiver checks ``X-Evplatform-Signature: sha256=<hex>`` = HMAC-SHA256(secret, timestamp + "." +
body) with ``X-Evplatform-Timestamp`` (replays of old bodies are detectable).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx

from evplatform.dataact import DataActError
from evplatform.store import Store
from evplatform.store import dataact as db

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
BACKOFF = timedelta(seconds=2)  # first retry delay; doubles each attempt (2, 4, 8, 16 s)
TIMEOUT = 5.0  # seconds per attempt
SIGNATURE_HEADER = "X-Evplatform-Signature"
TIMESTAMP_HEADER = "X-Evplatform-Timestamp"


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=<hex>`` of HMAC-SHA256 over ``timestamp.body`` — what the receiver recomputes."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def subscribe(store: Store, client_id: str, url: str) -> tuple[int, str]:
    """A new subscription (id, the HMAC secret shown once); the URL must be http(s) with a host."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname or len(url) > 500:
        raise DataActError(f"url: a webhook needs an http(s) URL with a host (≤ 500 characters), not {url[:80]!r}")
    secret = secrets.token_hex(32)
    return db.add_subscription(store, client_id, url, secret), secret


def notify(store: Store, vin: str, category: str, event: dict[str, Any]) -> int:
    """Queue ``event`` for every subscriber with live consent for ``vin`` and ``category``; returns how many."""
    now = store.now()
    queued = 0
    for sub_id, recipient_id, _client, _url in db.subscriptions(store):
        _vehicle, live = db.live_categories(store, recipient_id, vin, now)
        if category in live:
            db.enqueue_delivery(store, sub_id, vin, category, {"vin": vin, "category": category, "event": event})
            queued += 1
    return queued


def _attempt(client: httpx.Client, delivery: db.DeliveryInfo, now: datetime) -> str:
    """Post one delivery; '' when delivered, else why not."""
    body = json.dumps({"id": delivery.id, **delivery.payload}, separators=(",", ":")).encode()
    stamp = str(int(now.timestamp()))
    headers = {"Content-Type": "application/json", TIMESTAMP_HEADER: stamp,
               SIGNATURE_HEADER: sign(delivery.secret, stamp, body)}
    try:
        answer = client.post(delivery.url, content=body, headers=headers)
    except httpx.HTTPError as error:
        return f"{type(error).__name__}: {error}"[:500]
    return "" if 200 <= answer.status_code < 300 else f"HTTP {answer.status_code}"


def deliver_due(store: Store, *, limit: int = 100) -> dict[str, int]:
    """Attempt every due delivery once; returns counts of delivered, retried, dead and dropped."""
    now = store.now()
    counts = {"delivered": 0, "retried": 0, "dead": 0, "dropped": 0}
    recipients = {r.client_id: r.id for r in db.list_recipients(store)}
    with httpx.Client(timeout=TIMEOUT, follow_redirects=False) as client:
        for delivery in db.deliveries(store, state="pending", due_at=now, limit=limit):
            _vehicle, live = db.live_categories(store, recipients.get(delivery.recipient, -1), delivery.vin, now)
            if delivery.category not in live:  # consent ended while queued: never sent
                db.mark_delivery(store, delivery.id, state="dropped", attempts=delivery.attempts,
                                 next_attempt_at=now, error="consent no longer live")
                counts["dropped"] += 1
                continue
            error = _attempt(client, delivery, now)
            attempts = delivery.attempts + 1
            if not error:
                db.mark_delivery(store, delivery.id, state="delivered", attempts=attempts, next_attempt_at=now)
                db.log_access(store, delivery.vin, f"recipient:{delivery.recipient}", "webhook", [delivery.category],
                              {"delivery": delivery.id})
                counts["delivered"] += 1
            elif attempts >= MAX_ATTEMPTS:
                db.mark_delivery(store, delivery.id, state="dead", attempts=attempts, next_attempt_at=now, error=error)
                logger.warning("webhook delivery %d to %s is dead after %d attempts: %s", delivery.id,
                               delivery.recipient, attempts, error)
                counts["dead"] += 1
            else:
                retry_at = now + BACKOFF * (2 ** (attempts - 1))
                db.mark_delivery(store, delivery.id, state="pending", attempts=attempts, next_attempt_at=retry_at,
                                 error=error)
                counts["retried"] += 1
    return counts


def dead_letters(store: Store) -> list[db.DeliveryInfo]:
    return db.deliveries(store, state="dead", limit=1000)
