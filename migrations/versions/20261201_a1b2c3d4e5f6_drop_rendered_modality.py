"""drop rendered_modality: each worker builds the records it serves in memory, per release

Revision ID: a1b2c3d4e5f6
Revises: f7a8b9c0d1e2
Create Date: 2026-12-01 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "a1b2c3d4e5f6"
down_revision: str | None = "f7a8b9c0d1e2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_table("rendered_modality")


def downgrade() -> None:
    # The table comes back empty: its rows were derived from the content, and content is
    # never loaded by a migration. Code of that revision filled it on its next seed load.
    op.create_table(
        "rendered_modality",
        sa.Column("modality_id", sa.Integer(), nullable=False),
        sa.Column("body", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.ForeignKeyConstraint(
            ["modality_id"],
            ["modality.id"],
            name=op.f("fk_rendered_modality_modality_id_modality"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("modality_id", name=op.f("pk_rendered_modality")),
    )
