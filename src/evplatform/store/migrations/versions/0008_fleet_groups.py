"""fleet groups: saved fleet filter queries; an index for a vehicle's last telemetry ("last seen")

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "fleet_groups",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("query", sa.Text(), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_fleet_groups"),
    )
    op.create_index("ix_telemetry_vehicle_at", "telemetry_events", ["vehicle_id", "at"])


def downgrade() -> None:
    op.drop_index("ix_telemetry_vehicle_at", table_name="telemetry_events")
    op.drop_table("fleet_groups")
