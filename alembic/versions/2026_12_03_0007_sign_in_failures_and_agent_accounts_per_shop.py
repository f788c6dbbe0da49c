"""sign-in failures (the sign-in limits) and agent accounts per shop (an email is no longer unique)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 09:25:54.825437

The downgrade restores the unique index on ``agents.email``: it fails while two shops hold accounts with
the same email (remove one of them first).
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sign_in_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=10), nullable=False),
        sa.Column("key_digest", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("sign_in_failures", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sign_in_failures_created_at"), ["created_at"], unique=False)
        batch_op.create_index(
            "ix_sign_in_failures_scope_key_at", ["scope", "key_digest", "created_at"], unique=False
        )

    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agents_email"))
        batch_op.create_index(batch_op.f("ix_agents_email"), ["email"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agents_email"))
        batch_op.create_index(batch_op.f("ix_agents_email"), ["email"], unique=True)

    with op.batch_alter_table("sign_in_failures", schema=None) as batch_op:
        batch_op.drop_index("ix_sign_in_failures_scope_key_at")
        batch_op.drop_index(batch_op.f("ix_sign_in_failures_created_at"))

    op.drop_table("sign_in_failures")
