"""answered app proxy signatures: each signed storefront query is answered once

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 09:26:17
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "answered_proxy_signatures",
        sa.Column("digest", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("digest"),
    )
    with op.batch_alter_table("answered_proxy_signatures", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_answered_proxy_signatures_expires_at"), ["expires_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("answered_proxy_signatures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_answered_proxy_signatures_expires_at"))
    op.drop_table("answered_proxy_signatures")
