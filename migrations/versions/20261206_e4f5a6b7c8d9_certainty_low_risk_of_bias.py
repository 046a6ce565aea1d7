"""certainty ratings on indications, low-risk-of-bias figures on effects

``indication.certainty`` holds the cited reviews' ratings of the certainty of their evidence,
``indication_effect.low_risk_of_bias`` the figure a cited work states for its low-risk-of-bias
studies alone. Both are nullable JSON; the upgrade clears the modalities' content hashes so that
the next seed load rewrites them and fills the new columns (no content is written here).

Revision ID: e4f5a6b7c8d9
Revises: c9d0e1f2a3b4
Create Date: 2026-12-06 06:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e4f5a6b7c8d9"
down_revision: str | None = "c9d0e1f2a3b4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("indication", schema=None) as batch_op:
        batch_op.add_column(sa.Column("certainty", sa.JSON(), nullable=True))
    with op.batch_alter_table("indication_effect", schema=None) as batch_op:
        batch_op.add_column(sa.Column("low_risk_of_bias", sa.JSON(), nullable=True))
    op.execute("UPDATE modality SET content_hash = ''")


def downgrade() -> None:
    with op.batch_alter_table("indication_effect", schema=None) as batch_op:
        batch_op.drop_column("low_risk_of_bias")
    with op.batch_alter_table("indication", schema=None) as batch_op:
        batch_op.drop_column("certainty")
    # The content hashes covered the dropped fields: the next load rewrites every modality.
    op.execute("UPDATE modality SET content_hash = ''")
