"""Cheap update checks: an ETag from the vehicle's generation number, and a lookup cache it validates.

hawkBit's DDI keeps polling cheap by letting a controller ask "anything new since this?" and
answering that from one lookup. Here the vehicle's generation number (``vehicles.generation``,
moved by database triggers whenever a target row of it, a campaign concerning it, its time zone
or its Director metadata changes — migration 0012) is that lookup:

- the update check's ``ETag`` is ``"g<generation>.<poll_after_s>.<until>"``; a check sending it
  back in ``If-None-Match`` while the generation is unchanged gets 304 — nothing read beyond the
  number, nothing signed or written (the replay guard's insert aside);
- ``until`` is the one thing a generation cannot see: time. An open offer held back by a
  maintenance window becomes due when the window opens (and stops being due when it closes), so
  a tag issued with a windowed offer holds only until the next window boundary in the vehicle's
  local time (at most ``MAX_TAG_LIFE``, which also absorbs daylight-saving oddities); 0: for ever;
- the vehicle → campaign lookup (its open offers and whether a running campaign waits for it) is
  cached per VIN *with the generation it was read at*: a bumped number is the invalidation, and
  because the number lives in the database it invalidates every worker's cache at once.

The tag is opaque to vehicles; a vehicle that forges one only delays its own answer.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta

from evplatform.fleet.gates import MaintenanceWindow, zone
from evplatform.store.offers import OpenOffer

#: Longest a tag bound to a maintenance window holds before the answer is computed again.
MAX_TAG_LIFE = timedelta(hours=1)
#: VINs whose lookup is cached per process (an entry is a few hundred bytes).
LOOKUPS_CACHED = 65_536
_TAG = re.compile(r'"g([0-9]{1,19})\.([0-9]{1,9})\.([0-9]{1,12})"')


@dataclass(frozen=True, slots=True)
class CheckTag:
    """What an update check's ETag says: the generation, the poll hint, and until when it holds."""

    generation: int
    poll_after_s: int
    until: int = 0  # unix seconds; 0: no maintenance window bounds the answer

    def text(self) -> str:
        return f'"g{self.generation}.{self.poll_after_s}.{self.until}"'

    @classmethod
    def parse(cls, tag: str) -> CheckTag | None:
        """The tag of a quoted entity tag (``W/`` already dropped), or None if it is not one of ours."""
        found = _TAG.fullmatch(tag)
        if found is None:
            return None
        return cls(int(found.group(1)), int(found.group(2)), int(found.group(3)))

    def holds(self, generation: int, now: datetime) -> bool:
        """True when the answer this tag was issued with is still the answer (the 304 case)."""
        return self.generation == generation and (self.until == 0 or now.timestamp() < self.until)


def held_tag(tags: list[str], generation: int | None, now: datetime) -> CheckTag | None:
    """The first of the client's tags that still holds for ``generation`` at ``now``, if any."""
    if generation is None:
        return None
    for text in tags:
        tag = CheckTag.parse(text)
        if tag is not None and tag.holds(generation, now):
            return tag
    return None


def answer_until(offers: list[OpenOffer], now: datetime) -> int:
    """Unix seconds of the next maintenance-window boundary of any open offer (0: none has a window)."""
    boundaries = [_next_boundary(MaintenanceWindow.parse(o.window_start, o.window_end), o.timezone, now)
                  for o in offers if o.window_start and o.window_end]
    if not boundaries:
        return 0
    return int(min(*boundaries, now + MAX_TAG_LIFE).timestamp())


def _next_boundary(window: MaintenanceWindow, timezone: str, now: datetime) -> datetime:
    """The first instant after ``now`` at which ``window`` opens or closes in ``timezone``."""
    local = now.astimezone(zone(timezone))
    candidates = (datetime.combine(local.date() + timedelta(days=day), moment, local.tzinfo)
                  for day in (0, 1, 2) for moment in (window.start, window.end))
    return min(c for c in candidates if c > now)


@dataclass(frozen=True, slots=True)
class Lookup:
    """One vehicle's campaign side as read at a generation: its open offers and a waiting wave."""

    generation: int
    offers: list[OpenOffer]
    waiting: bool


class LookupCache:
    """VIN → the last ``Lookup``, used only while the vehicle's generation is the one it was read at.

    Bounded (least recently used out) and shared by the threads of one process.
    """

    def __init__(self, capacity: int = LOOKUPS_CACHED) -> None:
        self._entries: OrderedDict[str, Lookup] = OrderedDict()
        self._capacity = capacity
        self._lock = threading.Lock()

    def get(self, vin: str, generation: int) -> Lookup | None:
        with self._lock:
            entry = self._entries.get(vin)
            if entry is None or entry.generation != generation:
                return None
            self._entries.move_to_end(vin)
            return entry

    def put(self, vin: str, lookup: Lookup) -> None:
        with self._lock:
            self._entries[vin] = lookup
            self._entries.move_to_end(vin)
            while len(self._entries) > self._capacity:
                self._entries.popitem(last=False)

    def forget(self, vin: str | None = None) -> None:
        """Drop one VIN's entry (None: all)."""
        with self._lock:
            if vin is None:
                self._entries.clear()
            else:
                self._entries.pop(vin, None)

    def __len__(self) -> int:
        return len(self._entries)
