"""return window: the days after delivery a return is accepted, as the merchant confirmed them

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-03 19:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("answer_settings") as batch_op:
        batch_op.add_column(sa.Column("return_window_days", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("answer_settings") as batch_op:
        batch_op.drop_column("return_window_days")
