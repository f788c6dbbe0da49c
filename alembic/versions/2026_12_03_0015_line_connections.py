"""LINE connections per shop, LINE users, webhook events applied once, account links

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03 12:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "line_connections",
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("webhook_key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("channel_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("ciphertext", sqlmodel.sql.sqltypes.AutoString(length=None), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("bot_user_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("bot_name", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
        sa.Column("last_check_ok", sa.Boolean(), nullable=True),
        sa.Column("last_check_code", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("last_checked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["shop_id"], ["shops.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("shop_id"),
    )
    with op.batch_alter_table("line_connections", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_line_connections_webhook_key"), ["webhook_key"], unique=True)

    op.create_table(
        "line_webhook_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("webhook_event_id", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("event", sa.JSON(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["shop_id"], ["shops.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("shop_id", "webhook_event_id", name="uq_line_webhook_events_shop_event"),
    )
    with op.batch_alter_table("line_webhook_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_line_webhook_events_shop_id"), ["shop_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_line_webhook_events_status"), ["status"], unique=False)

    op.create_table(
        "line_users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("line_user_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("display_name", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
        sa.Column("language", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
        sa.Column("following", sa.Boolean(), nullable=False),
        sa.Column("customer_shopify_id", sa.BigInteger(), nullable=True),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["contact_id"], ["contacts.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["shop_id"], ["shops.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("shop_id", "line_user_id", name="uq_line_users_shop_user"),
    )
    with op.batch_alter_table("line_users", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_line_users_contact_id"), ["contact_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_line_users_shop_id"), ["shop_id"], unique=False)

    op.create_table(
        "line_account_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("line_user_id", sa.Integer(), nullable=False),
        sa.Column("token_digest", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("nonce_digest", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("customer_shopify_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["line_user_id"], ["line_users.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["shop_id"], ["shops.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("line_account_links", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_line_account_links_line_user_id"), ["line_user_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_line_account_links_nonce_digest"), ["nonce_digest"], unique=True)
        batch_op.create_index(batch_op.f("ix_line_account_links_shop_id"), ["shop_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_line_account_links_token_digest"), ["token_digest"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("line_account_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_line_account_links_token_digest"))
        batch_op.drop_index(batch_op.f("ix_line_account_links_shop_id"))
        batch_op.drop_index(batch_op.f("ix_line_account_links_nonce_digest"))
        batch_op.drop_index(batch_op.f("ix_line_account_links_line_user_id"))

    op.drop_table("line_account_links")
    with op.batch_alter_table("line_users", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_line_users_shop_id"))
        batch_op.drop_index(batch_op.f("ix_line_users_contact_id"))

    op.drop_table("line_users")
    with op.batch_alter_table("line_webhook_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_line_webhook_events_status"))
        batch_op.drop_index(batch_op.f("ix_line_webhook_events_shop_id"))

    op.drop_table("line_webhook_events")
    with op.batch_alter_table("line_connections", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_line_connections_webhook_key"))

    op.drop_table("line_connections")
