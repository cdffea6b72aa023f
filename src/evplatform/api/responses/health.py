"""Bodies of the probes: ``/healthz`` and ``/readyz``."""

from __future__ import annotations

from typing import Literal

from evplatform.api.responses.common import Out


class HealthOut(Out):
    """The process answers (nothing else was checked)."""

    status: Literal["ok"]


class ReadyOut(Out):
    """Every readiness check passed: each check's name and state (``ok`` or ``not configured``)."""

    status: Literal["ready"]
    checks: dict[str, str]
