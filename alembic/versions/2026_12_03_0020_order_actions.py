"""Order actions: the shop's policy, each action from preview to Shopify's answer, and its audit

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-03 15:49:29.578372
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "order_action_policies",
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("approval_amount", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("approval_hours", sa.Integer(), nullable=False),
        sa.Column("bot_cancel", sa.Boolean(), nullable=False),
        sa.Column("bot_address", sa.Boolean(), nullable=False),
        sa.Column("bot_window_minutes", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["shop_id"], ["shops.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("shop_id"),
    )
    op.create_table(
        "order_actions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("order_shopify_id", sa.BigInteger(), nullable=False),
        sa.Column("order_name", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("parameters", sa.JSON(), nullable=False),
        sa.Column("preview", sa.JSON(), nullable=False),
        sa.Column("amount", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("currency", sqlmodel.sql.sqltypes.AutoString(length=3), nullable=True),
        sa.Column("requested_by_agent_id", sa.Integer(), nullable=True),
        sa.Column("requested_by_api_key_id", sa.Integer(), nullable=True),
        sa.Column("by_shopper", sa.Boolean(), nullable=False),
        sa.Column("decided_by_agent_id", sa.Integer(), nullable=True),
        sa.Column("idempotency_key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("shopify_answer", sa.JSON(), nullable=True),
        sa.Column("errors", sa.JSON(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("webhook_confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["decided_by_agent_id"], ["agents.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["requested_by_agent_id"], ["agents.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["requested_by_api_key_id"], ["api_keys.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["shop_id"], ["shops.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("order_actions", schema=None) as batch_op:
        batch_op.create_index("ix_order_actions_shop_created", ["shop_id", "created_at"], unique=False)
        batch_op.create_index("ix_order_actions_shop_order", ["shop_id", "order_shopify_id"], unique=False)
        batch_op.create_index("ix_order_actions_shop_status", ["shop_id", "status"], unique=False)

    op.create_table(
        "order_action_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("action_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("api_key_id", sa.Integer(), nullable=True),
        sa.Column("by_shopper", sa.Boolean(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["action_id"], ["order_actions.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["agent_id"], ["agents.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["api_key_id"], ["api_keys.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["shop_id"], ["shops.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("order_action_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_order_action_events_shop_action", ["shop_id", "action_id", "id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("order_action_events", schema=None) as batch_op:
        batch_op.drop_index("ix_order_action_events_shop_action")

    op.drop_table("order_action_events")
    with op.batch_alter_table("order_actions", schema=None) as batch_op:
        batch_op.drop_index("ix_order_actions_shop_status")
        batch_op.drop_index("ix_order_actions_shop_order")
        batch_op.drop_index("ix_order_actions_shop_created")

    op.drop_table("order_actions")
    op.drop_table("order_action_policies")
