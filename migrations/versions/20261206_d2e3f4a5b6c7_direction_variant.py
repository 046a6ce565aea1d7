"""effect direction, variants on indications and formats, acceptability and harms

``indication_effect.direction`` says which way a figure favours the therapy; ``variant`` names
one of a modality's variants (guided iCBT, DBT-A, ERP …) on an indication or a format, and an
indication is unique per modality, condition, population and variant; ``acceptability`` and
``harms`` hold an indication's dropout figures and harm statements. The columns are nullable
so that an upgraded database keeps its rows; the upgrade clears the modalities' content hashes
so that the next seed load rewrites them all and fills the new columns.

Revision ID: d2e3f4a5b6c7
Revises: c8d9e0f1a2b3
Create Date: 2026-12-06 03:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "d2e3f4a5b6c7"
down_revision: str | None = "c8d9e0f1a2b3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

VARIANTS = (
    "variant IS NULL OR variant IN ('guided-icbt', 'unguided-icbt', 'videoconference', 'standard',"
    " 'dbt-a', 'skills-only', 'cbt-i', 'erp', 'prolonged-exposure', 'cpt', 'tf-cbt', 'cbt-e',"
    " 'cbtp')"
)
DIRECTIONS = (
    "direction IS NULL OR direction IN ('higher-favours-therapy', 'lower-favours-therapy')"
)


def upgrade() -> None:
    with op.batch_alter_table("indication_effect", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("direction", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=True)
        )
        batch_op.create_check_constraint("direction", DIRECTIONS)
    with op.batch_alter_table("indication", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("variant", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True)
        )
        batch_op.create_check_constraint("variant", VARIANTS)
        batch_op.add_column(sa.Column("acceptability", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("harms", sa.JSON(), nullable=True))
        batch_op.drop_constraint(
            op.f("uq_indication_modality_id_condition_id_population"), type_="unique"
        )
        batch_op.create_unique_constraint(
            op.f("uq_indication_modality_id_condition_id_population_variant"),
            ["modality_id", "condition_id", "population", "variant"],
        )
    with op.batch_alter_table("format", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("variant", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True)
        )
        batch_op.create_check_constraint("variant", VARIANTS)
    # Not in a batch: on SQLite a batch would copy the table and lose the full-text triggers.
    op.add_column(
        "search_document",
        sa.Column("variant", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    )
    # Every stored effect now lacks its direction: the next load rewrites every modality,
    # whatever its stored hash says (no content is written here).
    op.execute("UPDATE modality SET content_hash = ''")


def downgrade() -> None:
    op.execute("ALTER TABLE search_document DROP COLUMN variant")
    # The older schema holds one indication per modality, condition and population: indications
    # of a variant go, and their modalities' hashes are cleared so that the next load of any
    # seed rewrites them whole.
    op.execute(
        "UPDATE modality SET content_hash = '' WHERE id IN"
        " (SELECT modality_id FROM indication WHERE variant IS NOT NULL)"
    )
    # Their dependent rows first: SQLite enforces ON DELETE CASCADE only with foreign keys on.
    gone = "(SELECT id FROM indication WHERE variant IS NOT NULL)"
    for dependent in ("claim_citation", "indication_effect", "indication_guideline"):
        op.execute(f"DELETE FROM {dependent} WHERE indication_id IN {gone}")
    op.execute("DELETE FROM indication WHERE variant IS NOT NULL")
    with op.batch_alter_table("format", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_format_variant"), type_="check")
        batch_op.drop_column("variant")
    with op.batch_alter_table("indication", schema=None) as batch_op:
        batch_op.drop_constraint(
            op.f("uq_indication_modality_id_condition_id_population_variant"), type_="unique"
        )
        batch_op.create_unique_constraint(
            op.f("uq_indication_modality_id_condition_id_population"),
            ["modality_id", "condition_id", "population"],
        )
        batch_op.drop_constraint(op.f("ck_indication_variant"), type_="check")
        batch_op.drop_column("harms")
        batch_op.drop_column("acceptability")
        batch_op.drop_column("variant")
    with op.batch_alter_table("indication_effect", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_indication_effect_direction"), type_="check")
        batch_op.drop_column("direction")
