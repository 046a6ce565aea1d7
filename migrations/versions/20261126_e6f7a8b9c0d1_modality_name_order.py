"""modality name order: an index on (lower(name), slug), the list's default order

Revision ID: e6f7a8b9c0d1
Revises: d5e6f7a8b9c0
Create Date: 2026-11-26 04:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e6f7a8b9c0d1"
down_revision: str | None = "d5e6f7a8b9c0"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A page of the list is read along this index, not sorted from the whole table.
    op.create_index("ix_modality_name_order", "modality", [sa.text("lower(name)"), "slug"])


def downgrade() -> None:
    op.drop_index("ix_modality_name_order", table_name="modality")
