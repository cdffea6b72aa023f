"""Which operator action each campaign state allows, and what it leads to: the one table every layer reads.

The API refuses a disallowed action with 409 naming the allowed ones, the dashboard draws only the
buttons of the allowed actions, the CLI offers the same verbs: all three ask this module, so a
button never appears for an action the server would refuse.

States (``campaigns.state``)::

    draft ──start──► running ◄──resume── paused      (running ──pause──► paused)
                       │ the gate halts     ▲
                       ▼                    │ resume
                     halted ──ack──► acknowledged
    running ──the gate──► completed;  every state but completed ──cancel (reason)──► cancelled

A halt must be acknowledged with a comment before the campaign may run again: the person who
resumes has read the evidence (hawkBit's "confirm" of a stopped rollout, the same idea). ``exclude``,
``retry`` and ``next-wave`` change vehicles or waves and leave the state as it is. The controller's
own moves (``halt``, ``complete``) are not operator actions and are not in the table.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from evplatform.errors import FleetError


class Action(StrEnum):
    """An operator action on a campaign (the URL verb of ``POST /api/campaigns/{id}/<action>``)."""

    START = "start"
    PAUSE = "pause"
    RESUME = "resume"
    ACK = "ack"
    EXCLUDE = "exclude"
    NEXT_WAVE = "next-wave"
    RETRY = "retry"
    CANCEL = "cancel"


#: Every campaign state, in the order a campaign usually passes them.
STATES: tuple[str, ...] = ("draft", "running", "paused", "halted", "acknowledged", "completed", "cancelled")

#: A campaign in one of these states is not finished: it may still offer its release later.
UNFINISHED: tuple[str, ...] = ("running", "paused", "halted", "acknowledged")

#: state → action → state after it (the same state: the action changes vehicles or waves, not the state).
TABLE: Mapping[str, Mapping[Action, str]] = {
    "draft": {Action.START: "running", Action.CANCEL: "cancelled"},
    "running": {Action.PAUSE: "paused", Action.EXCLUDE: "running", Action.NEXT_WAVE: "running",
                Action.RETRY: "running", Action.CANCEL: "cancelled"},
    "paused": {Action.RESUME: "running", Action.EXCLUDE: "paused", Action.NEXT_WAVE: "paused",
               Action.RETRY: "paused", Action.CANCEL: "cancelled"},
    "halted": {Action.ACK: "acknowledged", Action.CANCEL: "cancelled"},
    "acknowledged": {Action.RESUME: "running", Action.EXCLUDE: "acknowledged", Action.NEXT_WAVE: "acknowledged",
                     Action.RETRY: "acknowledged", Action.CANCEL: "cancelled"},
    # a completed campaign still offers to stragglers; failed ones may be offered again
    "completed": {Action.RETRY: "completed"},
    "cancelled": {},
}

#: Words for the dashboard's buttons and the CLI's help.
LABELS: Mapping[Action, str] = {
    Action.START: "Start", Action.PAUSE: "Pause", Action.RESUME: "Resume", Action.ACK: "Acknowledge halt",
    Action.EXCLUDE: "Exclude cohort", Action.NEXT_WAVE: "Open next wave", Action.RETRY: "Retry failed",
    Action.CANCEL: "Cancel",
}


class TransitionRefused(FleetError):
    """An action the campaign's state does not allow: HTTP 409, the message names what is allowed."""

    http_status = 409

    def __init__(self, campaign_id: int, action: str, state: str) -> None:
        self.campaign_id = campaign_id
        self.action = action
        self.state = state
        self.allowed = allowed_actions(state)
        super().__init__(f"cannot {action} campaign {campaign_id}: it is {state}; {describe_allowed(state)}")


def allowed_actions(state: str) -> tuple[Action, ...]:
    """The operator actions allowed in ``state`` (none for an unknown state)."""
    return tuple(TABLE.get(state, {}))


def describe_allowed(state: str) -> str:
    """``allowed from halted: ack (→ acknowledged), cancel (→ cancelled)``, or that nothing is."""
    moves = TABLE.get(state, {})
    if not moves:
        return f"no action is allowed on a {state} campaign"
    return f"allowed from {state}: " + ", ".join(
        f"{action.value} (→ {after})" if after != state else f"{action.value} (stays {state})"
        for action, after in moves.items())


def states_allowing(action: Action | str) -> tuple[str, ...]:
    """The states from which ``action`` is allowed (the conditional UPDATE's ``WHERE state IN``)."""
    chosen = parse_action(action)
    return tuple(state for state, moves in TABLE.items() if chosen in moves)


def target_state(state: str, action: Action) -> str:
    """The state after ``action`` from ``state`` (KeyError if not allowed: check first)."""
    return TABLE[state][action]


def parse_action(action: Action | str) -> Action:
    """The action named ``action``; FleetError naming the known ones otherwise."""
    try:
        return Action(action)
    except ValueError:
        raise FleetError(f"unknown campaign action {action!r} (known: {', '.join(a.value for a in Action)})"
                         ) from None


def check(campaign_id: int, state: str, action: Action) -> str:
    """The state after ``action``, or ``TransitionRefused`` when ``state`` does not allow it."""
    moves = TABLE.get(state, {})
    if action not in moves:
        raise TransitionRefused(campaign_id, action.value, state)
    return moves[action]
