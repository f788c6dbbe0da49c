"""Connectors to helpdesks merchants run (Chatwoot, Zendesk), mirrored conversations, inbound events

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03 15:39:56.298846
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "connectors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("vendor", sa.String(length=20), nullable=False),
        sa.Column("base_url", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("account", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("ciphertext", sqlmodel.sql.sqltypes.AutoString(length=None), nullable=False),
        sa.Column("inbound_key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("last_check_ok", sa.Boolean(), nullable=True),
        sa.Column("last_check_code", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("last_checked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["shop_id"], ["shops.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("shop_id", "vendor", name="uq_connectors_shop_vendor"),
    )
    with op.batch_alter_table("connectors", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_connectors_inbound_key"), ["inbound_key"], unique=True)
        batch_op.create_index(batch_op.f("ix_connectors_shop_id"), ["shop_id"], unique=False)

    op.create_table(
        "connector_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("connector_id", sa.Integer(), nullable=False),
        sa.Column("delivery_id", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("event", sa.JSON(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["connector_id"], ["connectors.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["shop_id"], ["shops.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("connector_id", "delivery_id", name="uq_connector_events_delivery"),
    )
    with op.batch_alter_table("connector_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_connector_events_connector_id"), ["connector_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_connector_events_shop_id"), ["shop_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_connector_events_status"), ["status"], unique=False)

    op.create_table(
        "connector_conversations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("connector_id", sa.Integer(), nullable=False),
        sa.Column("external_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("inbox", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
        sa.Column("external_contact_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("agent_replied_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("handed_off_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["connector_id"], ["connectors.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["shop_id"], ["shops.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("connector_id", "external_id", name="uq_connector_conversations_external"),
    )
    with op.batch_alter_table("connector_conversations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_connector_conversations_connector_id"), ["connector_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_connector_conversations_shop_id"), ["shop_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("connector_conversations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_connector_conversations_shop_id"))
        batch_op.drop_index(batch_op.f("ix_connector_conversations_connector_id"))

    op.drop_table("connector_conversations")
    with op.batch_alter_table("connector_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_connector_events_status"))
        batch_op.drop_index(batch_op.f("ix_connector_events_shop_id"))
        batch_op.drop_index(batch_op.f("ix_connector_events_connector_id"))

    op.drop_table("connector_events")
    with op.batch_alter_table("connectors", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_connectors_shop_id"))
        batch_op.drop_index(batch_op.f("ix_connectors_inbound_key"))

    op.drop_table("connectors")
