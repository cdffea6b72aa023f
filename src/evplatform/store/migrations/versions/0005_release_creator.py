"""release creator: who registered each release, so its approval can come from a second person

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03

Existing releases take the actor of their ``release.create`` audit entry (every release written
through ``store.releases.save_release`` has one), else ``system``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("releases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("created_by", sa.String(length=128), server_default="system", nullable=False))
    op.execute(
        "UPDATE releases SET created_by = (SELECT a.actor FROM audit_log a WHERE a.action = 'release.create' "
        "AND a.subject = 'release:' || releases.id ORDER BY a.id LIMIT 1) "
        "WHERE EXISTS (SELECT 1 FROM audit_log a WHERE a.action = 'release.create' "
        "AND a.subject = 'release:' || releases.id)"
    )


def downgrade() -> None:
    with op.batch_alter_table("releases", schema=None) as batch_op:
        batch_op.drop_column("created_by")
