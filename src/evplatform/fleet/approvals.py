"""Regulatory approvals of a release: who may give one, for which market, dated when.

UN R156 §7.1.1 asks that an update affecting a type-approved system is delivered in a market only
with its approval authority's agreement, and §7.1.2 that the software update management system
records who approved it; ISO/SAE 21434 and the SUMS audits read that as separation of duties.
So an approval recorded here

* names a market of the workspace (an approval for ``XX-NOPE`` would approve nothing anyone checks);
* is dated no later than the server's clock (plus ``CLOCK_TOLERANCE`` for a person typing the
  authority's date on a machine a little ahead) and not before the release was registered: an
  approval dated 2999 once satisfied the campaign's approval check for ever, one dated 1990
  predates the software it approves;
* is given by someone other than the release's creator (four-eyes: one release manager alone
  cannot register a release, approve it and roll it out).

``approvals_in_force`` is the other half: the campaign's approval check counts only approvals
dated at or before its own clock, so a future-dated row (from an older database) never counts.
The rules are pure (``check_approval``); ``record_approval`` reads the release and writes through
``store.releases``.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable
from datetime import datetime, timedelta

from evplatform.errors import FleetError, NotFoundError
from evplatform.store import Store
from evplatform.store import releases as rdb

logger = logging.getLogger(__name__)

#: How far ahead of the server's clock an approval's date may be (clock skew of the approver's machine).
CLOCK_TOLERANCE = timedelta(minutes=5)


class ApprovalError(FleetError):
    """An approval that names no market of the workspace or carries an impossible date."""

    http_status = 422


class SeparationOfDutiesError(FleetError):
    """The release's creator tried to approve it: a second person must (four-eyes)."""

    http_status = 403


def check_approval(release: rdb.ReleaseRecord, approval: rdb.ApprovalRecord, *, markets: Collection[str],
                   now: datetime) -> None:
    """Raise when ``approval`` may not be recorded for ``release`` at ``now`` (the server's clock)."""
    if approval.market not in markets:
        raise ApprovalError(f"approval of release {release.id}: market {approval.market!r} is not a market of the "
                            f"workspace (known: {', '.join(sorted(markets)) or 'none'})")
    at = approval.approved_at
    if at.tzinfo is None:
        raise ApprovalError(f"approval of release {release.id}: approved_at {at.isoformat()} has no time zone")
    if at > now + CLOCK_TOLERANCE:
        raise ApprovalError(f"approval of release {release.id}: approved_at {at.isoformat()} is in the future "
                            f"(server clock {now.isoformat(timespec='seconds')}, tolerance {CLOCK_TOLERANCE})")
    if release.created_at is not None and at < release.created_at:
        raise ApprovalError(f"approval of release {release.id}: approved_at {at.isoformat()} is before the release "
                            f"was registered ({release.created_at.isoformat(timespec='seconds')})")
    if approval.approved_by == release.created_by:
        raise SeparationOfDutiesError(f"release {release.id} was registered by {release.created_by!r}, who may not "
                                      "approve it too: a second person must (four-eyes)")


def record_approval(store: Store, approval: rdb.ApprovalRecord, *, markets: Collection[str],
                    now: datetime | None = None) -> rdb.ApprovalRecord:
    """Check ``approval`` (``check_approval``) and store it, audited field by field; the stored record.

    ``markets`` are the workspace's market ids; ``now`` defaults to the store's clock. NotFoundError
    for an unknown release, ConflictError when the market already has an approval.
    """
    release = rdb.release(store, approval.release_id)
    if release is None:
        raise NotFoundError("release", repr(approval.release_id))
    check_approval(release, approval, markets=markets, now=now or store.now())
    rdb.save_approval(store, approval, actor=approval.approved_by)
    logger.info("release %s approved for %s by %s", release.id, approval.market, approval.approved_by)
    return approval


def approvals_in_force(approvals: Iterable[rdb.ApprovalRecord], now: datetime) -> list[str]:
    """Markets of the approvals dated at or before ``now`` (with ``CLOCK_TOLERANCE``): what a campaign may count."""
    return [a.market for a in approvals if a.approved_at <= now + CLOCK_TOLERANCE]
