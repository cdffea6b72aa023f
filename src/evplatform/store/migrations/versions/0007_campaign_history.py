"""campaign history: every state change with who, when and why; excluded vehicles; superseded reports

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "campaign_history",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("from_state", sa.String(length=16), nullable=False),
        sa.Column("to_state", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"], name="fk_campaign_history_campaign_id_campaigns",
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_campaign_history"),
    )
    op.create_index("ix_campaign_history_campaign_id", "campaign_history", ["campaign_id", "id"])
    op.create_table(
        "superseded_reports",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("vehicle_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("release_id", sa.String(length=128), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("superseded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"],
                                name="fk_superseded_reports_campaign_id_campaigns", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["vehicle_id"], ["vehicles.id"],
                                name="fk_superseded_reports_vehicle_id_vehicles", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_superseded_reports"),
    )
    op.create_index("ix_superseded_reports_campaign_vehicle", "superseded_reports", ["campaign_id", "vehicle_id"])
    with op.batch_alter_table("campaign_vehicles") as batch:
        batch.add_column(sa.Column("excluded", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("campaign_vehicles") as batch:
        batch.drop_column("excluded")
    op.drop_index("ix_superseded_reports_campaign_vehicle", table_name="superseded_reports")
    op.drop_table("superseded_reports")
    op.drop_index("ix_campaign_history_campaign_id", table_name="campaign_history")
    op.drop_table("campaign_history")
