"""campaign start at scale: no per-row foreign keys on campaign_vehicles; vehicles' software and
hardware ids as JSONB on PostgreSQL

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03

Measured on a 1,000,000-vehicle PostgreSQL fleet (benchmarks/campaign_planning.py, BENCHMARKS.md):

* A campaign's targets are written by one ``INSERT … SELECT`` from ``vehicles`` (``store.campaigns``),
  so every id exists by construction. The foreign key re-checked each of them one by one and took a
  ``FOR KEY SHARE`` lock on every referenced vehicle row, writing to every page of the vehicles
  table: 35 s of a 1,000,000-row insert that takes 7 s without it. Vehicles are never deleted (the
  registry keeps them for the UN R156 / GB 44496 update records), so its ``ON DELETE CASCADE`` never
  ran. The key to ``campaigns`` went too: the start writes its targets in the transaction that moves
  that campaign's row from draft to running (the row is locked and exists), yet PostgreSQL still ran
  one check per target (another 11 s of 30 s on a loaded machine); campaigns are never deleted
  either (their history is evidence).
* Targeting, the dry run and the live count read one ECU's entry of every vehicle's ``software``
  and ``hardware_ids``. As ``json`` (text) PostgreSQL parsed the whole document for each read:
  20 s for two reads over a million vehicles here, 1.8 s as ``jsonb``. SQLite keeps its JSON text.
  Converting rewrites the vehicles table once (about a minute per million vehicles here).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

JSON_COLUMNS = ("software", "hardware_ids")


def upgrade() -> None:
    with op.batch_alter_table("campaign_vehicles", schema=None) as batch_op:
        batch_op.drop_constraint("fk_campaign_vehicles_vehicle_id_vehicles", type_="foreignkey")
        batch_op.drop_constraint("fk_campaign_vehicles_campaign_id_campaigns", type_="foreignkey")
    if op.get_bind().dialect.name == "postgresql":
        for column in JSON_COLUMNS:
            op.alter_column("vehicles", column, type_=postgresql.JSONB(), existing_type=sa.JSON(),
                            postgresql_using=f"{column}::jsonb")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for column in JSON_COLUMNS:
            op.alter_column("vehicles", column, type_=sa.JSON(), existing_type=postgresql.JSONB(),
                            postgresql_using=f"{column}::json")
    with op.batch_alter_table("campaign_vehicles", schema=None) as batch_op:
        batch_op.create_foreign_key("fk_campaign_vehicles_vehicle_id_vehicles", "vehicles", ["vehicle_id"], ["id"],
                                    ondelete="CASCADE")
        batch_op.create_foreign_key("fk_campaign_vehicles_campaign_id_campaigns", "campaigns", ["campaign_id"],
                                    ["id"], ondelete="CASCADE")
