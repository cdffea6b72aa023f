"""features on demand: entitlements per vehicle and the feature changes delivered to it

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "entitlements",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("vehicle_id", _ID, nullable=False),
        sa.Column("feature", sa.String(length=64), nullable=False),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_to", sa.DateTime(timezone=True), nullable=True),
        sa.Column("price", sa.Float(), nullable=False),
        sa.Column("billing", sa.String(length=16), nullable=False),
        sa.Column("currency", sa.String(length=8), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("basis", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_by", sa.String(length=128), nullable=True),
        sa.ForeignKeyConstraint(["vehicle_id"], ["vehicles.id"], name="fk_entitlements_vehicle_id_vehicles",
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_entitlements"),
    )
    op.create_index("ix_entitlements_vehicle_feature", "entitlements", ["vehicle_id", "feature"])
    op.create_table(
        "feature_changes",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("vehicle_id", _ID, nullable=False),
        sa.Column("feature", sa.String(length=64), nullable=False),
        sa.Column("change", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("type_approval_relevant", sa.Boolean(), nullable=False),
        sa.Column("rxswin_before", sa.JSON(), nullable=True),
        sa.Column("rxswin_after", sa.JSON(), nullable=True),
        sa.Column("counter", sa.Integer(), nullable=False),
        sa.Column("target", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(["vehicle_id"], ["vehicles.id"], name="fk_feature_changes_vehicle_id_vehicles",
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_feature_changes"),
    )
    op.create_index("ix_feature_changes_vehicle_at", "feature_changes", ["vehicle_id", "at"])


def downgrade() -> None:
    op.drop_index("ix_feature_changes_vehicle_at", table_name="feature_changes")
    op.drop_table("feature_changes")
    op.drop_index("ix_entitlements_vehicle_feature", table_name="entitlements")
    op.drop_table("entitlements")
