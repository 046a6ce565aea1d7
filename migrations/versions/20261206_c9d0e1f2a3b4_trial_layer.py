"""trial layer: datasets, studies and comparisons of randomised trials; wider vocabularies

Also brings the CHECK constraints on ``indication_effect.comparator`` and ``format.delivery`` up
to the vocabularies the trial data needed (comparators ``no-treatment`` and ``other-control``;
deliveries ``guided-self-help``, ``couple`` and ``mixed``).

Revision ID: c9d0e1f2a3b4
Revises: d2e3f4a5b6c7
Create Date: 2026-12-06 03:01:25
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "c9d0e1f2a3b4"
down_revision: str | None = "d2e3f4a5b6c7"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The vocabularies as they were before this revision and as it leaves them: written out, so the
# revision means the same whatever app.domain says later.
OLD_COMPARATORS = (
    "'waitlist', 'usual-care', 'placebo', 'mixed-control', 'active-psychotherapy',"
    " 'pharmacotherapy', 'other'"
)
COMPARATORS = OLD_COMPARATORS + ", 'no-treatment', 'other-control'"
OLD_DELIVERIES = (
    "'individual', 'group', 'online-synchronous', 'online-guided', 'self-guided', 'telephone'"
)
DELIVERIES = OLD_DELIVERIES + ", 'guided-self-help', 'couple', 'mixed'"


def _recheck(table: str, column: str, values: str) -> None:
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.drop_constraint(op.f(f"ck_{table}_{column}"), type_="check")
        batch_op.create_check_constraint(column, f"{column} IN ({values})")


def upgrade() -> None:
    _recheck("indication_effect", "comparator", COMPARATORS)
    _recheck("format", "delivery", DELIVERIES)
    # Starts empty: content is never loaded by a migration; the next seed load fills them.
    op.create_table(
        "trial_dataset",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("version", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("commit", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("doi", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("licence", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("last_search", sa.Date(), nullable=False),
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trial_dataset")),
        sa.UniqueConstraint("name", name=op.f("uq_trial_dataset_name")),
    )
    op.create_table(
        "trial_study",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("trial_key", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("label", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("reference", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["trial_dataset.id"],
            name=op.f("fk_trial_study_dataset_id_trial_dataset"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trial_study")),
        sa.UniqueConstraint(
            "dataset_id", "trial_key", name=op.f("uq_trial_study_dataset_id_trial_key")
        ),
    )
    with op.batch_alter_table("trial_study", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_trial_study_dataset_id"), ["dataset_id"], unique=False)

    op.create_table(
        "trial_comparison",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.Column("condition_id", sa.Integer(), nullable=False),
        sa.Column("row", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("source_id", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("modality", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
        sa.Column("family", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.Column("variant", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=True),
        sa.Column("online", sa.Boolean(), nullable=False),
        sa.Column("online_variant", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=True),
        sa.Column("therapy_code", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("comparator", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.Column("comparator_code", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("delivery", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=True),
        sa.Column("population", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
        sa.Column("time", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("time_code", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("instrument", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("outcome_kind", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("outcome_type", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("n_arm1", sa.Integer(), nullable=True),
        sa.Column("n_arm2", sa.Integer(), nullable=True),
        sa.Column("source_g", sa.Float(), nullable=False),
        sa.Column("source_se", sa.Float(), nullable=False),
        sa.Column("sign", sa.Integer(), nullable=False),
        sa.Column("g", sa.Float(), nullable=False),
        sa.Column("se", sa.Float(), nullable=False),
        sa.Column("low_risk_of_bias", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("risk_of_bias", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("aggregation_key", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.CheckConstraint(
            f"comparator IN ({COMPARATORS})",
            name=op.f("ck_trial_comparison_comparator"),
        ),
        sa.CheckConstraint(
            f"delivery IN ({DELIVERIES})",
            name=op.f("ck_trial_comparison_delivery"),
        ),
        sa.CheckConstraint(
            "family IN ('cbt', 'behavioural-activation', 'problem-solving', 'third-wave',"
            " 'psychodynamic', 'ipt', 'dbt', 'emdr', 'other')",
            name=op.f("ck_trial_comparison_family"),
        ),
        sa.CheckConstraint(
            "low_risk_of_bias IN ('yes', 'no', 'not-assessed')",
            name=op.f("ck_trial_comparison_low_risk_of_bias"),
        ),
        sa.CheckConstraint(
            "online_variant IN ('guided-icbt', 'unguided-icbt', 'videoconference')",
            name=op.f("ck_trial_comparison_online_variant"),
        ),
        sa.CheckConstraint(
            "outcome_kind IN ('continuous', 'events')",
            name=op.f("ck_trial_comparison_outcome_kind"),
        ),
        sa.CheckConstraint(
            "population IN ('adults', 'adolescents', 'children', 'older-adults', 'perinatal',"
            " 'mixed')",
            name=op.f("ck_trial_comparison_population"),
        ),
        sa.CheckConstraint("time IN ('post', 'follow-up')", name=op.f("ck_trial_comparison_time")),
        sa.CheckConstraint("se > 0", name=op.f("ck_trial_comparison_se_positive")),
        sa.CheckConstraint("sign IN (1, -1)", name=op.f("ck_trial_comparison_sign")),
        sa.ForeignKeyConstraint(
            ["condition_id"],
            ["condition.id"],
            name=op.f("fk_trial_comparison_condition_id_condition"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["study_id"],
            ["trial_study.id"],
            name=op.f("fk_trial_comparison_study_id_trial_study"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trial_comparison")),
        sa.UniqueConstraint("study_id", "row", name=op.f("uq_trial_comparison_study_id_row")),
    )
    with op.batch_alter_table("trial_comparison", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_trial_comparison_condition_id"), ["condition_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_trial_comparison_study_id"), ["study_id"], unique=False
        )


def downgrade() -> None:
    # The trial rows go with their tables. The narrower CHECKs come back; a database holding
    # content that uses the newer values cannot be downgraded until that content is reloaded
    # from a seed without them (the engine refuses the constraint).
    with op.batch_alter_table("trial_comparison", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_trial_comparison_study_id"))
        batch_op.drop_index(batch_op.f("ix_trial_comparison_condition_id"))

    op.drop_table("trial_comparison")
    with op.batch_alter_table("trial_study", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_trial_study_dataset_id"))

    op.drop_table("trial_study")
    op.drop_table("trial_dataset")
    _recheck("format", "delivery", OLD_DELIVERIES)
    _recheck("indication_effect", "comparator", OLD_COMPARATORS)
