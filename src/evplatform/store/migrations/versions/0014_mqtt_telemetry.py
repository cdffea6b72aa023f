"""MQTT telemetry: stored batch ids (idempotent ingestion) and vehicle commands

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "telemetry_batches",
        sa.Column("vehicle_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("message_id", sa.String(length=64), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["vehicle_id"], ["vehicles.id"], name="fk_telemetry_batches_vehicle_id_vehicles",
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("vehicle_id", "message_id", name="pk_telemetry_batches"),
    )
    op.create_index("ix_telemetry_batches_received_at", "telemetry_batches", ["received_at"])
    op.create_table(
        "vehicle_commands",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("vehicle_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("issued_by", sa.String(length=128), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["vehicle_id"], ["vehicles.id"], name="fk_vehicle_commands_vehicle_id_vehicles",
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_vehicle_commands"),
    )
    op.create_index("ix_vehicle_commands_vehicle_issued", "vehicle_commands", ["vehicle_id", "issued_at"])


def downgrade() -> None:
    op.drop_index("ix_vehicle_commands_vehicle_issued", table_name="vehicle_commands")
    op.drop_table("vehicle_commands")
    op.drop_index("ix_telemetry_batches_received_at", table_name="telemetry_batches")
    op.drop_table("telemetry_batches")
