"""How long a vehicle should wait before its next update check: the server's poll-interval hint.

Thousands of vehicles poll ``POST /api/vehicle/update-check``; most of the time nothing is new.
The server knows from campaign state whether something is about to be (hawkBit's DDI gives the
same ``sleep`` hint), so it tells each vehicle when to ask again instead of every vehicle polling
at the pace the busiest one needs:

- ``offer``: a campaign has an open offer for it (returned now, or waiting for its maintenance
  window to open) — ask again in ``SOON`` (5 min), the offer is live;
- ``waiting``: a running campaign targets it in a wave not yet opened — ``SOON`` too, a wave
  opens when the previous one's soak ends and the vehicle should not lag a whole hour behind;
- ``idle``: no running campaign has anything for it (paused, halted or finished ones included:
  resuming is an operator's act, an hour's delay is fine) — ``IDLE`` (60 min).

The hint is advice: a vehicle may check earlier (after a reboot, on the driver's request).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

PollState = Literal["offer", "waiting", "idle"]

#: Next check when an offer is open or the vehicle's wave of a running campaign is about to open.
SOON = timedelta(minutes=5)
#: Next check when nothing is running for the vehicle.
IDLE = timedelta(minutes=60)
POLL_AFTER: dict[PollState, timedelta] = {"offer": SOON, "waiting": SOON, "idle": IDLE}


def poll_state(*, open_offer: bool, waiting: bool) -> PollState:
    """Which of the three states a vehicle is in (an open offer wins over a waiting wave)."""
    if open_offer:
        return "offer"
    return "waiting" if waiting else "idle"


def poll_after_seconds(state: PollState) -> int:
    """The hint in whole seconds, as ``poll_after_s`` and ``Retry-After`` carry it."""
    return int(POLL_AFTER[state].total_seconds())
