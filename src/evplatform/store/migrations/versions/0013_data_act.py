"""EU Data Act: owners and their tokens, owned vehicles, data recipients (OAuth clients) and their
access tokens, consents (grants), the data access log, webhook subscriptions and deliveries

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _at(name: str, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "data_owners",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        _at("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_data_owners"),
        sa.UniqueConstraint("name", name="uq_data_owners_name"),
    )
    op.create_table(
        "owner_tokens",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        _at("created_at"),
        _at("expires_at"),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["owner_id"], ["data_owners.id"], name="fk_owner_tokens_owner_id_data_owners",
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_owner_tokens"),
        sa.UniqueConstraint("digest", name="uq_owner_tokens_digest"),
    )
    op.create_table(
        "owned_vehicles",
        sa.Column("vehicle_id", BIG, nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["vehicle_id"], ["vehicles.id"], name="fk_owned_vehicles_vehicle_id_vehicles",
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["owner_id"], ["data_owners.id"], name="fk_owned_vehicles_owner_id_data_owners",
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("vehicle_id", name="pk_owned_vehicles"),
    )
    op.create_index("ix_owned_vehicles_owner_id", "owned_vehicles", ["owner_id"])
    op.create_table(
        "data_recipients",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("secret_digest", sa.String(length=64), nullable=False),
        _at("created_at"),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_data_recipients"),
        sa.UniqueConstraint("client_id", name="uq_data_recipients_client_id"),
    )
    op.create_table(
        "recipient_tokens",
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("recipient_id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=500), nullable=False),
        _at("issued_at"),
        _at("expires_at"),
        sa.ForeignKeyConstraint(["recipient_id"], ["data_recipients.id"],
                                name="fk_recipient_tokens_recipient_id_data_recipients", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("digest", name="pk_recipient_tokens"),
    )
    op.create_index("ix_recipient_tokens_expires_at", "recipient_tokens", ["expires_at"])
    op.create_table(
        "data_grants",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("recipient_id", sa.Integer(), nullable=False),
        sa.Column("vehicle_id", BIG, nullable=False),
        sa.Column("categories", sa.JSON(), nullable=False),
        _at("starts_at"),
        _at("expires_at"),
        _at("revoked_at", nullable=True),
        _at("created_at"),
        sa.ForeignKeyConstraint(["owner_id"], ["data_owners.id"], name="fk_data_grants_owner_id_data_owners",
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["recipient_id"], ["data_recipients.id"],
                                name="fk_data_grants_recipient_id_data_recipients", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["vehicle_id"], ["vehicles.id"], name="fk_data_grants_vehicle_id_vehicles",
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_data_grants"),
    )
    op.create_index("ix_data_grants_recipient_vehicle", "data_grants", ["recipient_id", "vehicle_id"])
    op.create_table(
        "data_access_log",
        sa.Column("id", BIG, autoincrement=True, nullable=False),
        _at("at"),
        sa.Column("vehicle_id", BIG, nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("categories", sa.JSON(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["vehicle_id"], ["vehicles.id"], name="fk_data_access_log_vehicle_id_vehicles",
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_data_access_log"),
    )
    op.create_index("ix_data_access_vehicle_at", "data_access_log", ["vehicle_id", "at"])
    op.create_table(
        "webhook_subscriptions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("recipient_id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("secret", sa.String(length=128), nullable=False),
        _at("created_at"),
        sa.ForeignKeyConstraint(["recipient_id"], ["data_recipients.id"],
                                name="fk_webhook_subscriptions_recipient_id_data_recipients", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_webhook_subscriptions"),
    )
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", BIG, autoincrement=True, nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("vehicle_id", BIG, nullable=False),
        sa.Column("category", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _at("next_attempt_at"),
        sa.Column("last_error", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(["subscription_id"], ["webhook_subscriptions.id"],
                                name="fk_webhook_deliveries_subscription_id_webhook_subscriptions",
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["vehicle_id"], ["vehicles.id"], name="fk_webhook_deliveries_vehicle_id_vehicles",
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_webhook_deliveries"),
    )
    op.create_index("ix_webhook_deliveries_state_next", "webhook_deliveries", ["state", "next_attempt_at"])


def downgrade() -> None:
    for table in ("webhook_deliveries", "webhook_subscriptions", "data_access_log", "data_grants", "recipient_tokens",
                  "data_recipients", "owned_vehicles", "owner_tokens", "data_owners"):
        op.drop_table(table)
