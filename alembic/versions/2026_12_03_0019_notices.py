"""Notices: back-in-stock subscriptions, the shops' notice settings, proactive notices sent once each

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03 15:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "notice_settings",
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("rules", sa.JSON(), nullable=False),
        sa.Column("quiet_start_minutes", sa.Integer(), nullable=False),
        sa.Column("quiet_end_minutes", sa.Integer(), nullable=False),
        sa.Column("daily_cap", sa.Integer(), nullable=False),
        sa.Column("subscription_days", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["shop_id"], ["shops.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("shop_id"),
    )
    op.create_table(
        "proactive_notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("rule", sa.String(length=30), nullable=False),
        sa.Column("situation", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("order_shopify_id", sa.BigInteger(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("language", sqlmodel.sql.sqltypes.AutoString(length=5), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["message_id"], ["messages.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["shop_id"], ["shops.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("shop_id", "situation", name="uq_proactive_notices_shop_situation"),
    )
    with op.batch_alter_table("proactive_notices", schema=None) as batch_op:
        batch_op.create_index("ix_proactive_notices_shop_created", ["shop_id", "created_at"], unique=False)

    op.create_table(
        "stock_subscriptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("product_shopify_id", sa.BigInteger(), nullable=False),
        sa.Column("variant_shopify_id", sa.BigInteger(), nullable=False),
        sa.Column("inventory_item_shopify_id", sa.BigInteger(), nullable=False),
        sa.Column("location_shopify_ids", sa.JSON(), nullable=False),
        sa.Column("item_name", sqlmodel.sql.sqltypes.AutoString(length=512), nullable=False),
        sa.Column("language", sqlmodel.sql.sqltypes.AutoString(length=5), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("notified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("notice_message_id", sa.Integer(), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["contact_id"], ["contacts.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["notice_message_id"], ["messages.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["shop_id"], ["shops.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("stock_subscriptions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_stock_subscriptions_shop_item_status",
            ["shop_id", "inventory_item_shopify_id", "status"],
            unique=False,
        )
        batch_op.create_index(
            "ix_stock_subscriptions_shop_product", ["shop_id", "product_shopify_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("stock_subscriptions", schema=None) as batch_op:
        batch_op.drop_index("ix_stock_subscriptions_shop_product")
        batch_op.drop_index("ix_stock_subscriptions_shop_item_status")

    op.drop_table("stock_subscriptions")
    with op.batch_alter_table("proactive_notices", schema=None) as batch_op:
        batch_op.drop_index("ix_proactive_notices_shop_created")

    op.drop_table("proactive_notices")
    op.drop_table("notice_settings")
