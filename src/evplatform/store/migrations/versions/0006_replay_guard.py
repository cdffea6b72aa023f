"""replay guard and build marks: signed vehicle requests already seen; unfinished demo builds

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "seen_signatures",
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("digest", name="pk_seen_signatures"),
    )
    op.create_index("ix_seen_signatures_expires_at", "seen_signatures", ["expires_at"])
    op.create_table(
        "build_marks",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_build_marks"),
    )


def downgrade() -> None:
    op.drop_table("build_marks")
    op.drop_index("ix_seen_signatures_expires_at", table_name="seen_signatures")
    op.drop_table("seen_signatures")
