"""Releases and their regulatory approval records."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from evplatform.errors import NotFoundError
from evplatform.store._sql import audit, conflict_means
from evplatform.store.database import Store
from evplatform.store.schema import Approval, Release


@dataclass(frozen=True, slots=True)
class ReleaseRecord:
    id: str
    component: str
    ecu: str
    hardware_id: str
    version: str
    compatible: str
    notes: str = ""
    created_at: datetime | None = None
    created_by: str = "system"  # read back from the store: the ``actor`` that registered it


@dataclass(frozen=True, slots=True)
class ApprovalRecord:
    release_id: str
    market: str
    authority: str
    reference: str
    approved_by: str
    approved_at: datetime


def save_release(store: Store, release: ReleaseRecord, *, actor: str = "system") -> None:
    """Register a release (created now by the store's clock unless it says when); ConflictError if the id is taken.

    ``actor`` is stored as the release's creator: its approvals must come from someone else
    (``fleet.approvals``, four-eyes).
    """
    with conflict_means(f"release {release.id!r} already exists"), store.session() as session:
        now = store.now()
        session.add(
            Release(
                id=release.id,
                component=release.component,
                ecu=release.ecu,
                hardware_id=release.hardware_id,
                version=release.version,
                compatible=release.compatible,
                notes=release.notes,
                created_at=release.created_at or now,
                created_by=actor,
            )
        )
        session.flush()
        audit(session, now, actor, "release.create", f"release:{release.id}", {"version": release.version})


def _release_record(r: Release) -> ReleaseRecord:
    return ReleaseRecord(r.id, r.component, r.ecu, r.hardware_id, r.version, r.compatible, r.notes, r.created_at,
                         r.created_by)


def release(store: Store, release_id: str) -> ReleaseRecord | None:
    with store.session() as session:
        found = session.get(Release, release_id)
        return None if found is None else _release_record(found)


def list_releases(store: Store) -> list[ReleaseRecord]:
    with store.session() as session:
        return [_release_record(r) for r in session.scalars(select(Release).order_by(Release.created_at, Release.id))]


def save_approval(store: Store, approval: ApprovalRecord, *, actor: str = "system") -> None:
    """Store an approval of a release for a market (one per release and market), audited field by field.

    NotFoundError when the release does not exist; ConflictError when the market already has one.
    The rules an approval must meet (a real market, a date not in the future, a second person)
    are ``fleet.approvals.record_approval``'s, which calls this.
    """
    taken = f"release {approval.release_id!r} already has an approval for market {approval.market!r}"
    with conflict_means(taken), store.session() as session:
        if session.get(Release, approval.release_id) is None:
            raise NotFoundError("release", approval.release_id)
        session.add(
            Approval(
                release_id=approval.release_id,
                market=approval.market,
                authority=approval.authority,
                reference=approval.reference,
                approved_by=approval.approved_by,
                approved_at=approval.approved_at,
            )
        )
        session.flush()
        audit(
            session,
            store.now(),
            actor,
            "approval.record",
            f"release:{approval.release_id}",
            {"market": approval.market, "authority": approval.authority, "reference": approval.reference,
             "approved_by": approval.approved_by, "approved_at": approval.approved_at.isoformat()},
        )


def approvals(store: Store, release_id: str) -> list[ApprovalRecord]:
    with store.session() as session:
        rows = session.scalars(select(Approval).where(Approval.release_id == release_id).order_by(Approval.market))
        return [
            ApprovalRecord(a.release_id, a.market, a.authority, a.reference, a.approved_by, a.approved_at) for a in rows
        ]
