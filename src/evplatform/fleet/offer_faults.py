"""The faults one simulated offer meets, and the hook that injects them into the vehicle's A/B slots.

A link drop mid-image, a write error in the inactive slot, a power loss while writing or during the
trial boot, a crash of the new software: drawn per vehicle and release (``link.offer_draws``) so
that the simulated and the Uptane link meet the same faults, and injected at the slots' fault
points so that the real client code, not a shortcut, has to survive them.
"""

from __future__ import annotations

import errno
from dataclasses import dataclass

from evplatform.ota.client.slots import FaultHook

#: Where a power loss hits: while writing the inactive slot, or during the trial boot.
POWER_LOSS_STEPS = ("image-written", "trial-booted")


class PowerLoss(BaseException):
    """The vehicle lost power: nothing after this point runs (not an error the client may catch)."""


@dataclass(frozen=True, slots=True)
class Faults:
    """What one offer meets (drawn per vehicle and release)."""

    interrupt: bool
    install_failure: bool
    power_loss_at: str | None
    crash: bool


def fault_hook(faults: Faults) -> FaultHook | None:
    """The slots' fault hook that injects this offer's write error or power loss."""
    if not faults.install_failure and faults.power_loss_at is None:
        return None

    def hook(step: str) -> None:
        if faults.install_failure and step == "image-written":
            raise OSError(errno.EIO, "injected write error in the inactive slot")
        if step == faults.power_loss_at:
            raise PowerLoss(step)

    return hook
