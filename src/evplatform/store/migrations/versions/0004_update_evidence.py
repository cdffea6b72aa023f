"""update evidence: what was checked and shown when a vehicle was updated (UN R156, GB 44496)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    big_id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    op.create_table(
        "update_evidence",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("vehicle_id", big_id, nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version_before", sa.String(length=32), nullable=True),
        sa.Column("rxswin_before", sa.JSON(), nullable=True),
        sa.Column("rxswin_after", sa.JSON(), nullable=True),
        sa.Column("hardware_id_found", sa.String(length=64), nullable=True),
        sa.Column("configuration_matches", sa.Boolean(), nullable=False),
        sa.Column("parked", sa.Boolean(), nullable=True),
        sa.Column("state_of_charge_pct", sa.Float(), nullable=True),
        sa.Column("soc_threshold_pct", sa.Float(), nullable=False),
        sa.Column("notes_shown", sa.Boolean(), nullable=True),
        sa.Column("consent", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"], name="fk_update_evidence_campaign_id_campaigns",
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["vehicle_id"], ["vehicles.id"], name="fk_update_evidence_vehicle_id_vehicles",
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("campaign_id", "vehicle_id", name="pk_update_evidence"),
    )


def downgrade() -> None:
    op.drop_table("update_evidence")
