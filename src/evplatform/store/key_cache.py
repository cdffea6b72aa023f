"""Vehicles' public keys cached per store, with explicit invalidation when a key is provisioned or rotated.

Every signed vehicle request needs its VIN's public key; at fleet scale that lookup is most of a
poll's reads. The cache keeps the hex text per VIN (least recently used out past ``KEY_CACHED``):

- ``store.vehicles.set_public_key`` forgets the VIN at once, so in this process a rotated key is
  used on the very next request and the old one is refused;
- an entry lives at most ``KEY_TTL_S``: a rotation made by *another* process (a second worker, the
  CLI) reaches this one within that time — and sooner for the new key, because a signature that
  fails against a cached key is checked once more against the database (``api.auth``);
- unknown or unprovisioned VINs are never cached: registering one needs no invalidation.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any
from weakref import WeakKeyDictionary

#: VINs kept per store (64 hex digits and a timestamp each: ~20 MB at the bound).
KEY_CACHED = 100_000
#: Seconds an entry is trusted without asking the database (bounds a rotation made elsewhere).
KEY_TTL_S = 30.0


class PublicKeyCache:
    """VIN → public key text, bounded and expiring; safe across the threads of one process."""

    def __init__(self, capacity: int = KEY_CACHED, ttl_s: float = KEY_TTL_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._entries: OrderedDict[str, tuple[str, float]] = OrderedDict()
        self._capacity = capacity
        self._ttl = ttl_s
        self._clock = clock
        self._lock = threading.Lock()

    def get(self, vin: str) -> str | None:
        """The cached key, or None when absent or older than the TTL."""
        with self._lock:
            entry = self._entries.get(vin)
            if entry is None:
                return None
            if self._clock() - entry[1] > self._ttl:
                del self._entries[vin]
                return None
            self._entries.move_to_end(vin)
            return entry[0]

    def put(self, vin: str, key: str) -> None:
        with self._lock:
            self._entries[vin] = (key, self._clock())
            self._entries.move_to_end(vin)
            while len(self._entries) > self._capacity:
                self._entries.popitem(last=False)

    def forget(self, vin: str | None = None) -> None:
        """Drop one VIN (None: every VIN)."""
        with self._lock:
            if vin is None:
                self._entries.clear()
            else:
                self._entries.pop(vin, None)

    def __len__(self) -> int:
        return len(self._entries)


_CACHES: WeakKeyDictionary[Any, PublicKeyCache] = WeakKeyDictionary()
_CACHES_LOCK = threading.Lock()


def key_cache(store: Any) -> PublicKeyCache:
    """The cache of this store object (one per open database in a process)."""
    with _CACHES_LOCK:
        cache = _CACHES.get(store)
        if cache is None:
            cache = _CACHES[store] = PublicKeyCache()
        return cache
