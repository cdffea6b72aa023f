"""Install preconditions the vehicle checks itself before it writes any slot (UN R156 §7.2.2.1).

An over-the-air update may only run when the vehicle is in a safe state and has enough energy to
finish it. The fleet records both for the audit (``ota.records.Preconditions``); this module is the
vehicle's own rule: the primary reads its ``VehicleState`` just before an install and, when a
precondition is not met, defers the install. That is not an attack and nothing is written: the
Director keeps the assignment, the signed manifest says why the install waits, and the next update
check tries again. A state the vehicle cannot read (``None``) does not meet the precondition.
No I/O here.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Minimum traction-battery state of charge (percent) to start an install, when the campaign names none.
DEFAULT_MIN_STATE_OF_CHARGE_PCT = 30.0


@dataclass(frozen=True, slots=True)
class VehicleState:
    """What the vehicle reports about itself now; ``None`` where it cannot tell."""

    parked: bool | None
    state_of_charge_pct: float | None  # traction battery, 0..100


@dataclass(frozen=True, slots=True)
class InstallPreconditions:
    """The campaign's conditions for starting an install (parked, charge at least the minimum)."""

    min_state_of_charge_pct: float = DEFAULT_MIN_STATE_OF_CHARGE_PCT

    def unmet(self, state: VehicleState) -> str | None:
        """Why an install may not start in ``state`` (None when it may)."""
        reasons = []
        if state.parked is not True:
            reasons.append("not parked" if state.parked is False else "parked state unknown")
        soc = state.state_of_charge_pct
        if soc is None:
            reasons.append("state of charge unknown")
        elif not soc >= self.min_state_of_charge_pct:  # NaN never meets it
            reasons.append(f"state of charge {soc:g} % below the {self.min_state_of_charge_pct:g} % minimum")
        return ", ".join(reasons) or None
