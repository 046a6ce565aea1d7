"""release history: every loaded release kept, with the bytes of its exports

Revision ID: b7c8d9e0f1a2
Revises: a1b2c3d4e5f6
Create Date: 2026-12-01 13:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "b7c8d9e0f1a2"
down_revision: str | None = "a1b2c3d4e5f6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Starts empty: content is never loaded by a migration. The next seed load records the
    # release it finds loaded (or loads) with its exports.
    op.create_table(
        "release_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("version", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("license", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("description", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("release_date", sa.Date(), nullable=False),
        sa.Column("content_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_release_history")),
        sa.UniqueConstraint("content_hash", name=op.f("uq_release_history_content_hash")),
        sa.UniqueConstraint("version", name=op.f("uq_release_history_version")),
    )
    op.create_table(
        "release_snapshot",
        sa.Column("release_id", sa.Integer(), nullable=False),
        sa.Column("format", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["release_id"],
            ["release_history.id"],
            name=op.f("fk_release_snapshot_release_id_release_history"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("release_id", "format", name=op.f("pk_release_snapshot")),
    )


def downgrade() -> None:
    # The kept releases go with the tables; the loaded content and its release row stay.
    op.drop_table("release_snapshot")
    op.drop_table("release_history")
