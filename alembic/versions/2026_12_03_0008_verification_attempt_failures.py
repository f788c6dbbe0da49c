"""verification attempts count every order number and candidate proof they named

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("verification_attempts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("failures", sa.Integer(), server_default="1", nullable=False))
        batch_op.create_index("ix_verification_attempts_shop_at", ["shop_id", "created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("verification_attempts", schema=None) as batch_op:
        batch_op.drop_index("ix_verification_attempts_shop_at")
        batch_op.drop_column("failures")
