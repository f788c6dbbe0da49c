"""LINE messages by LINE's id: the media an agent opens, and unsend events blanking what they name

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03 15:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table("line_message_refs",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("shop_id", sa.Integer(), nullable=False),
    sa.Column("line_message_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column("message_id", sa.Integer(), nullable=True),
    sa.Column("content_kind", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
    sa.Column("unsent_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(["message_id"], ["messages.id"], ondelete="CASCADE"),
    sa.ForeignKeyConstraint(["shop_id"], ["shops.id"], ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("id"),
    sa.UniqueConstraint("shop_id", "line_message_id", name="uq_line_message_refs_shop_message")
    )
    with op.batch_alter_table("line_message_refs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_line_message_refs_message_id"), ["message_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_line_message_refs_shop_id"), ["shop_id"], unique=False)



def downgrade() -> None:
    with op.batch_alter_table("line_message_refs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_line_message_refs_shop_id"))
        batch_op.drop_index(batch_op.f("ix_line_message_refs_message_id"))

    op.drop_table("line_message_refs")
