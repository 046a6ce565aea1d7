"""citation year optional: a work can be identified for certain without a verified year

Revision ID: c4d5e6f7a8b9
Revises: b3c1d2e4f5a6
Create Date: 2026-11-26 01:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c4d5e6f7a8b9"
down_revision: str | None = "b3c1d2e4f5a6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("citation", schema=None) as batch_op:
        batch_op.alter_column("year", existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    # Only possible while every citation has a year; a NULL makes this fail, not lose data.
    with op.batch_alter_table("citation", schema=None) as batch_op:
        batch_op.alter_column("year", existing_type=sa.Integer(), nullable=False)
