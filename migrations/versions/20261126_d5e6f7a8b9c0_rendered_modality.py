"""rendered modality: each modality's served JSON, rendered by the seed load

Revision ID: d5e6f7a8b9c0
Revises: c4d5e6f7a8b9
Create Date: 2026-11-26 03:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "d5e6f7a8b9c0"
down_revision: str | None = "c4d5e6f7a8b9"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Filled by `therapy-kb seed` (content is never loaded by a migration); until then the API
    # assembles each record from the claim tables, as before.
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


def downgrade() -> None:
    op.drop_table("rendered_modality")
