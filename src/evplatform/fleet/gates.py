"""Campaign gate rules: pure functions, no I/O, no clock of their own (STYLE.md point 2).

The controller in ``fleet.campaigns`` reads state from the store, asks these rules what to do
and writes the answer back. Keeping the rules here makes every decision testable with plain
numbers: when a wave may open, when a campaign must halt, when a vehicle may be offered an
update, which markets still lack an approval.

Halting follows Eclipse hawkBit's per-group "error condition", with one change: a wave of a few
hundred vehicles is a sample, so a wave halts when the error rate is above the threshold *with
95 % confidence* (the lower bound of the one-sided Wilson score interval), both for the wave as a
whole and for every cohort (model/trim) with enough reports — a release that crashes 5 % of one
trim must stop even when that trim is a tenth of the fleet.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, time
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from evplatform.errors import FleetError
from evplatform.fleet.campaign_states import Action, states_allowing
from evplatform.workspace.model import market_lineage

Z_ONE_SIDED_95 = 1.6448536269514722


class CampaignInputError(FleetError):
    """A campaign asked for with input that cannot be right (an empty wave plan or window, an unknown
    market in the target filter): the caller's mistake, HTTP 422 naming the field, never a silent default."""

    http_status = 422


#: The names of the consent rules (``CONSENT_RULES``' keys), for request schemas.
ConsentRule = Literal["auto", "required", "not_required"]
#: The campaign's consent rule: whether a vehicle needs its owner's standing consent to software
#: updates to be targeted. It is separate from forced/soft, which says whether the driver may
#: postpone an offer: a safety recall may skip consent, and a forced fix may still be kept to
#: consenting owners where a market's contract law asks for it.
CONSENT_RULES: dict[str, str] = {
    "auto": "follows the update: soft asks for the owner's consent, forced does not",
    "required": "offered only to vehicles whose owner consents to software updates",
    "not_required": "offered to every target without asking for consent (recall, safety or regulatory fix)",
}


def check_consent(rule: str) -> str:
    """``rule`` if it is one of ``CONSENT_RULES``; else the caller's mistake, naming the field."""
    if rule not in CONSENT_RULES:
        raise CampaignInputError(f"consent: {rule!r} is not a consent rule; choose one of {', '.join(CONSENT_RULES)}")
    return rule


def needs_consent(forced: bool, rule: str) -> bool:
    """Whether a target must have consented to updates under ``rule`` for a ``forced`` or soft update."""
    if check_consent(rule) == "auto":
        return not forced
    return rule == "required"


@dataclass(frozen=True, slots=True)
class WavePolicy:
    """One wave: the cumulative share of targets it reaches and its two thresholds.

    ``success_threshold``: share of the wave that must have succeeded before the next wave opens.
    ``error_threshold``: error rate (failed + rolled back, over reports) above which it halts.
    ``soak_hours``: least time the wave runs before the next opens, so crashes that appear after
    installation can still halt it (Mender's delay between deployment phases).
    """

    fraction: float
    success_threshold: float = 0.90
    error_threshold: float = 0.02
    soak_hours: float = 0.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.soak_hours <= 24 * 90:
            raise CampaignInputError(f"wave soak_hours must be within 0 and {24 * 90}, got {self.soak_hours!r}")
        for name in ("fraction", "success_threshold", "error_threshold"):
            value = getattr(self, name)
            if not 0.0 < value <= 1.0:
                raise CampaignInputError(f"wave {name} must be in (0, 1], got {value!r}")


#: 1 % canary, then 10 %, 50 % and everyone (cumulative shares of the targets).
DEFAULT_WAVES: tuple[WavePolicy, ...] = (
    WavePolicy(0.01),
    WavePolicy(0.10),
    WavePolicy(0.50),
    WavePolicy(1.00),
)


def check_waves(waves: Iterable[WavePolicy]) -> tuple[WavePolicy, ...]:
    """Waves must grow strictly and end at 100 % of the targets; an empty plan is refused, never
    replaced by the defaults (the caller asked for something, and it was not that)."""
    out = tuple(waves)
    if not out:
        raise CampaignInputError("waves: a campaign needs at least one wave (leave waves out for the default "
                                 "1 %, 10 %, 50 %, 100 %)")
    for before, after in itertools.pairwise(out):
        if after.fraction <= before.fraction:
            raise CampaignInputError(f"waves: wave fractions must increase: {before.fraction:g} then "
                                     f"{after.fraction:g}")
    if out[-1].fraction != 1.0:
        raise CampaignInputError(f"waves: the last wave must reach 100 % of the targets, not "
                                 f"{out[-1].fraction:.0%}")
    return out


def wave_sizes(targets: int, waves: tuple[WavePolicy, ...]) -> list[int]:
    """How many targets each wave adds; the canary holds at least one vehicle when there are any."""
    bounds = [min(targets, math.ceil(w.fraction * targets - 1e-9)) for w in waves]
    if targets and bounds[0] == 0:
        bounds[0] = 1
    bounds = [max(b, bounds[0]) for b in bounds]
    return [b - a for a, b in zip([0, *bounds[:-1]], bounds, strict=True)]


def wilson_lower(errors: int, reports: int, z: float = Z_ONE_SIDED_95) -> float:
    """Lower bound of the Wilson score interval of a proportion (0 with no reports)."""
    if reports <= 0:
        return 0.0
    p = errors / reports
    centre = p + z * z / (2 * reports)
    spread = z * math.sqrt(p * (1 - p) / reports + z * z / (4 * reports * reports))
    return max(0.0, (centre - spread) / (1 + z * z / reports))


@dataclass(frozen=True, slots=True)
class Counts:
    """Vehicles of a wave (or cohort) by state.

    ``crashed``: vehicles that reported success and then sent a crash report for the release —
    counted among ``succeeded`` by their report, but errors for the gate.
    """

    size: int = 0
    succeeded: int = 0
    failed: int = 0
    rolled_back: int = 0
    crashed: int = 0

    @property
    def errors(self) -> int:
        return self.failed + self.rolled_back + self.crashed

    @property
    def reports(self) -> int:
        return self.succeeded + self.failed + self.rolled_back

    @property
    def error_rate(self) -> float:
        return self.errors / self.reports if self.reports else 0.0

    @property
    def success_rate(self) -> float:
        return (self.succeeded - self.crashed) / self.size if self.size else 1.0

    def __add__(self, other: Counts) -> Counts:
        return Counts(
            self.size + other.size,
            self.succeeded + other.succeeded,
            self.failed + other.failed,
            self.rolled_back + other.rolled_back,
            self.crashed + other.crashed,
        )


@dataclass(frozen=True, slots=True)
class Decision:
    action: str  # "wait" | "advance" | "complete" | "halt"
    reason: str = ""


MIN_COHORT_REPORTS = 30


def decide(
    policy: WavePolicy,
    wave: Counts,
    cohorts: Mapping[str, Counts],
    *,
    index: int,
    last: bool,
    min_cohort_reports: int = MIN_COHORT_REPORTS,
    elapsed_hours: float | None = None,
) -> Decision:
    """What the controller does with the active wave ``index`` given its counts.

    ``cohorts`` are cumulative over the waves opened so far (more evidence per trim);
    ``elapsed_hours`` is how long the wave has run (None: not known, no soak is applied).
    """
    bound = wilson_lower(wave.errors, wave.reports)
    if bound > policy.error_threshold:
        return Decision(
            "halt",
            f"wave {index + 1}: error rate {wave.error_rate:.1%} ({wave.errors} of {wave.reports} reports) is above "
            f"the {policy.error_threshold:.1%} threshold (95 % lower bound {bound:.1%})",
        )
    for name in sorted(cohorts):
        counts = cohorts[name]
        if counts.reports < min_cohort_reports:
            continue
        bound = wilson_lower(counts.errors, counts.reports)
        if bound > policy.error_threshold:
            return Decision(
                "halt",
                f"wave {index + 1}: cohort {name} error rate {counts.error_rate:.1%} ({counts.errors} of "
                f"{counts.reports} reports) is above the {policy.error_threshold:.1%} threshold "
                f"(95 % lower bound {bound:.1%})",
            )
    if wave.success_rate >= policy.success_threshold:
        if elapsed_hours is not None and elapsed_hours < policy.soak_hours:
            return Decision("wait", f"wave {index + 1} soaking: {elapsed_hours:.0f} of {policy.soak_hours:.0f} h")
        return Decision("complete" if last else "advance")
    return Decision("wait")


# --- campaign states ------------------------------------------------------------------------------

#: Which operator action is allowed from which campaign state (derived from ``fleet.campaign_states``,
#: the one transition table).
TRANSITIONS: Mapping[str, tuple[str, ...]] = {a.value: states_allowing(a) for a in Action}
TARGET_STATE = {"pause": "paused", "resume": "running", "cancel": "cancelled", "ack": "acknowledged"}


def allowed_from(action: str) -> tuple[str, ...]:
    try:
        return TRANSITIONS[action]
    except KeyError:
        raise FleetError(f"unknown campaign action {action!r} (known: {', '.join(TRANSITIONS)})") from None


# --- maintenance windows --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MaintenanceWindow:
    """Daily local-time window in which updates may be offered; may span midnight (22:00–04:00)."""

    start: time
    end: time

    def __post_init__(self) -> None:
        if self.start == self.end:
            # 01:00–01:00 reads as "no time at all"; an always-open campaign simply has no window.
            raise CampaignInputError(f"window: {self.start:%H:%M}–{self.end:%H:%M} is an empty maintenance "
                                     "window (start and end are equal); leave the window out to offer at any time")

    @classmethod
    def parse(cls, start: str, end: str) -> MaintenanceWindow:
        return cls(_parse_time(start), _parse_time(end))

    def text(self) -> tuple[str, str]:
        return self.start.strftime("%H:%M"), self.end.strftime("%H:%M")

    def is_open(self, local: time) -> bool:
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end


def _parse_time(text: str) -> time:
    try:
        hours, minutes = text.split(":")
        return time(int(hours), int(minutes))
    except ValueError:
        raise CampaignInputError(f"window: maintenance window time {text!r} is not HH:MM") from None


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise FleetError(f"unknown time zone {name!r} (use an IANA name such as Europe/Berlin)") from None


def open_timezones(window: MaintenanceWindow | None, timezones: Iterable[str], now: datetime) -> list[str] | None:
    """The timezones whose local time is inside the window at ``now`` (None: no window, all open)."""
    if window is None:
        return None
    return sorted(tz for tz in set(timezones) if window.is_open(now.astimezone(zone(tz)).time()))


# --- regulatory approvals -------------------------------------------------------------------------


def missing_approvals(
    markets: Iterable[str],
    approval_required: Mapping[str, bool],
    parents: Mapping[str, str | None],
    approved: Iterable[str],
) -> list[str]:
    """Markets (of the targets) that demand an approval and have none, for them or a parent.

    UN R156 §7.1.1.x: an update that affects a type-approved system needs the approval authority's
    agreement before it is delivered in that market; China's GB 44496-2024 §5 and the MIIT OTA
    filing ask the same. An approval for a region (EU) covers its member markets (DE, FR, …).
    """
    have = set(approved)
    missing = []
    for market in sorted(set(markets)):
        if not approval_required.get(market, False):
            continue
        if not have.intersection(market_lineage(market, parents)):
            missing.append(market)
    return missing
