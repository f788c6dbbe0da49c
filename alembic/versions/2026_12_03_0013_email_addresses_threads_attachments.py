"""email: support addresses, relays, reply addresses, message ids, attachments

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 13:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "mail_settings",
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("support_address", sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
        sa.Column("relay_host", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
        sa.Column("relay_port", sa.Integer(), nullable=False),
        sa.Column("relay_starttls", sa.Boolean(), nullable=False),
        sa.Column("relay_username", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
        sa.Column("relay_password_ciphertext", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["shop_id"], ["shops.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("shop_id"),
    )
    with op.batch_alter_table("mail_settings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_mail_settings_support_address"), ["support_address"], unique=True
        )

    op.create_table(
        "mail_threads",
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("reply_token", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["shop_id"], ["shops.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("ticket_id"),
    )
    with op.batch_alter_table("mail_threads", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_mail_threads_reply_token"), ["reply_token"], unique=True)
        batch_op.create_index(batch_op.f("ix_mail_threads_shop_id"), ["shop_id"], unique=False)

    op.create_table(
        "mail_attachments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("filename", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("content_type", sqlmodel.sql.sqltypes.AutoString(length=127), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("stored_name", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["message_id"], ["messages.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["shop_id"], ["shops.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("stored_name"),
    )
    with op.batch_alter_table("mail_attachments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_mail_attachments_shop_id"), ["shop_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_mail_attachments_ticket_id"), ["ticket_id"], unique=False)

    op.create_table(
        "mail_message_ids",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("rfc_message_id", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("direction", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["message_id"], ["messages.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["shop_id"], ["shops.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("shop_id", "rfc_message_id", name="uq_mail_message_ids_shop_rfc"),
    )
    with op.batch_alter_table("mail_message_ids", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_mail_message_ids_shop_id"), ["shop_id"], unique=False)
        batch_op.create_index("ix_mail_message_ids_ticket", ["ticket_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("mail_message_ids", schema=None) as batch_op:
        batch_op.drop_index("ix_mail_message_ids_ticket")
        batch_op.drop_index(batch_op.f("ix_mail_message_ids_shop_id"))

    op.drop_table("mail_message_ids")
    with op.batch_alter_table("mail_attachments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mail_attachments_ticket_id"))
        batch_op.drop_index(batch_op.f("ix_mail_attachments_shop_id"))

    op.drop_table("mail_attachments")
    with op.batch_alter_table("mail_threads", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mail_threads_shop_id"))
        batch_op.drop_index(batch_op.f("ix_mail_threads_reply_token"))

    op.drop_table("mail_threads")
    with op.batch_alter_table("mail_settings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mail_settings_support_address"))

    op.drop_table("mail_settings")
