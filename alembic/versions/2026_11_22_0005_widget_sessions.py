"""storefront chat widget sessions

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 12:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "widget_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("token_digest", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("storefront_customer_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["shop_id"], ["shops.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("widget_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_widget_sessions_shop_id"), ["shop_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_widget_sessions_ticket_id"), ["ticket_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_widget_sessions_token_digest"), ["token_digest"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("widget_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_widget_sessions_token_digest"))
        batch_op.drop_index(batch_op.f("ix_widget_sessions_ticket_id"))
        batch_op.drop_index(batch_op.f("ix_widget_sessions_shop_id"))
    op.drop_table("widget_sessions")
