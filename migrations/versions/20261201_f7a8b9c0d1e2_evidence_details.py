"""evidence details: grade basis, guideline positions and effects behind each indication

Also narrows the population vocabulary (no 'students': a population is an age group or
'perinatal'), and empties the rendered records so the next seed load renders them with the new
fields (a detail whose record is missing is assembled from the tables meanwhile).

Revision ID: f7a8b9c0d1e2
Revises: e6f7a8b9c0d1
Create Date: 2026-12-01 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "f7a8b9c0d1e2"
down_revision: str | None = "e6f7a8b9c0d1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_POPULATIONS = "'adults', 'adolescents', 'children', 'older-adults', 'perinatal', 'students', 'mixed'"
NEW_POPULATIONS = "'adults', 'adolescents', 'children', 'older-adults', 'perinatal', 'mixed'"


def upgrade() -> None:
    with op.batch_alter_table("indication", schema=None) as batch_op:
        batch_op.add_column(sa.Column("grade_basis", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.drop_constraint(op.f("ck_indication_population"), type_="check")
        batch_op.create_check_constraint("population", f"population IN ({NEW_POPULATIONS})")

    op.create_table(
        "indication_guideline",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("indication_id", sa.Integer(), nullable=False),
        sa.Column("body", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("document", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("recommendation", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("citation_id", sa.Integer(), nullable=False),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "recommendation IN ('first-line', 'recommended', 'consider', 'research-only',"
            " 'not-recommended')",
            name=op.f("ck_indication_guideline_recommendation"),
        ),
        sa.ForeignKeyConstraint(
            ["citation_id"],
            ["citation.id"],
            name=op.f("fk_indication_guideline_citation_id_citation"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["indication_id"],
            ["indication.id"],
            name=op.f("fk_indication_guideline_indication_id_indication"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_indication_guideline")),
    )
    with op.batch_alter_table("indication_guideline", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_indication_guideline_citation_id"), ["citation_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_indication_guideline_indication_id"), ["indication_id"], unique=False
        )

    op.create_table(
        "indication_effect",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("indication_id", sa.Integer(), nullable=False),
        sa.Column("measure", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("ci_low", sa.Float(), nullable=True),
        sa.Column("ci_high", sa.Float(), nullable=True),
        sa.Column("studies", sa.Integer(), nullable=True),
        sa.Column("participants", sa.Integer(), nullable=True),
        sa.Column("comparator", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.Column("outcome", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("citation_id", sa.Integer(), nullable=False),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "measure IN ('g', 'd', 'SMD', 'RR', 'OR', 'HR', 'MD')",
            name=op.f("ck_indication_effect_measure"),
        ),
        sa.CheckConstraint(
            "comparator IN ('waitlist', 'usual-care', 'placebo', 'mixed-control',"
            " 'active-psychotherapy', 'pharmacotherapy', 'other')",
            name=op.f("ck_indication_effect_comparator"),
        ),
        sa.CheckConstraint(
            "(ci_low IS NULL) = (ci_high IS NULL)",
            name=op.f("ck_indication_effect_ci_both_or_neither"),
        ),
        sa.CheckConstraint(
            "ci_low <= value AND value <= ci_high",
            name=op.f("ck_indication_effect_ci_contains_value"),
        ),
        sa.ForeignKeyConstraint(
            ["citation_id"],
            ["citation.id"],
            name=op.f("fk_indication_effect_citation_id_citation"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["indication_id"],
            ["indication.id"],
            name=op.f("fk_indication_effect_indication_id_indication"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_indication_effect")),
    )
    with op.batch_alter_table("indication_effect", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_indication_effect_citation_id"), ["citation_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_indication_effect_indication_id"), ["indication_id"], unique=False
        )

    # Rendered records predate the new fields: drop them; the next seed load renders them.
    op.execute("DELETE FROM rendered_modality")


def downgrade() -> None:
    with op.batch_alter_table("indication_effect", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_indication_effect_indication_id"))
        batch_op.drop_index(batch_op.f("ix_indication_effect_citation_id"))
    op.drop_table("indication_effect")
    with op.batch_alter_table("indication_guideline", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_indication_guideline_indication_id"))
        batch_op.drop_index(batch_op.f("ix_indication_guideline_citation_id"))
    op.drop_table("indication_guideline")
    with op.batch_alter_table("indication", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_indication_population"), type_="check")
        batch_op.create_check_constraint("population", f"population IN ({OLD_POPULATIONS})")
        batch_op.drop_column("grade_basis")
    op.execute("DELETE FROM rendered_modality")
