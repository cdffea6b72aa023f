"""campaign start at scale: no per-row foreign key from campaign_vehicles to vehicles

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03

A campaign's targets are written by one ``INSERT … SELECT`` from ``vehicles`` (``store.campaigns``),
so every id exists by construction. The foreign key re-checked each of them one by one and, on
PostgreSQL, took a ``FOR KEY SHARE`` lock on every referenced vehicle row, writing to every page of
the vehicles table: 35 s of a 42 s insert of 1,000,000 targets, 7 s without it (benchmarks/
campaign_planning.py, BENCHMARKS.md). Vehicles are never deleted (the registry keeps them for the
UN R156 / GB 44496 update records), so its ``ON DELETE CASCADE`` never ran. The key to ``campaigns``
stays: one row, checked cheaply.
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("campaign_vehicles", schema=None) as batch_op:
        batch_op.drop_constraint("fk_campaign_vehicles_vehicle_id_vehicles", type_="foreignkey")


def downgrade() -> None:
    with op.batch_alter_table("campaign_vehicles", schema=None) as batch_op:
        batch_op.create_foreign_key("fk_campaign_vehicles_vehicle_id_vehicles", "vehicles", ["vehicle_id"], ["id"],
                                    ondelete="CASCADE")
