"""initial schema

Revision ID: e57a66e264d0
Revises:
Create Date: 2026-11-26 01:13:52.222357
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = 'e57a66e264d0'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('citation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('type', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('authors', sa.JSON(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('container_title', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('volume', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('issue', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('pages', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('publisher', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('doi', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('pmid', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('pmcid', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('isbn', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('url', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('content_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.CheckConstraint("type IN ('article-journal', 'book', 'chapter', 'report', 'webpage')", name=op.f('ck_citation_type')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_citation')),
    sa.UniqueConstraint('key', name=op.f('uq_citation_key'))
    )
    op.create_table('condition',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('aliases', sa.JSON(), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('description', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('content_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.ForeignKeyConstraint(['parent_id'], ['condition.id'], name=op.f('fk_condition_parent_id_condition'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_condition')),
    sa.UniqueConstraint('slug', name=op.f('uq_condition_slug'))
    )
    with op.batch_alter_table('condition', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_condition_parent_id'), ['parent_id'], unique=False)

    op.create_table('modality',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('abbreviation', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('category', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('aliases', sa.JSON(), nullable=False),
    sa.Column('summary', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('description', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('origin', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('goals', sa.JSON(), nullable=False),
    sa.Column('content_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.CheckConstraint("category IN ('approach', 'delivery')", name=op.f('ck_modality_category')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_modality')),
    sa.UniqueConstraint('slug', name=op.f('uq_modality_slug'))
    )
    op.create_table('release',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('version', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('license', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('description', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('release_date', sa.Date(), nullable=False),
    sa.Column('content_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('loaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_release')),
    sa.UniqueConstraint('content_hash', name=op.f('uq_release_content_hash'))
    )
    op.create_table('component',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('modality_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('description', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.CheckConstraint("kind IN ('problem_area', 'skill_module', 'treatment_mode', 'phase', 'technique')", name=op.f('ck_component_kind')),
    sa.ForeignKeyConstraint(['modality_id'], ['modality.id'], name=op.f('fk_component_modality_id_modality'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_component')),
    sa.UniqueConstraint('modality_id', 'kind', 'name', name=op.f('uq_component_modality_id_kind_name'))
    )
    with op.batch_alter_table('component', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_component_modality_id'), ['modality_id'], unique=False)

    op.create_table('condition_code',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('condition_id', sa.Integer(), nullable=False),
    sa.Column('system', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('display', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.CheckConstraint("system IN ('icd-10-cm', 'icd-11')", name=op.f('ck_condition_code_system')),
    sa.ForeignKeyConstraint(['condition_id'], ['condition.id'], name=op.f('fk_condition_code_condition_id_condition'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_condition_code')),
    sa.UniqueConstraint('system', 'code', name=op.f('uq_condition_code_system_code'))
    )
    with op.batch_alter_table('condition_code', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_condition_code_code'), ['code'], unique=False)
        batch_op.create_index(batch_op.f('ix_condition_code_condition_id'), ['condition_id'], unique=False)

    op.create_table('consideration',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('modality_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('statement', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('detail', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.CheckConstraint("kind IN ('pro', 'con')", name=op.f('ck_consideration_kind')),
    sa.ForeignKeyConstraint(['modality_id'], ['modality.id'], name=op.f('fk_consideration_modality_id_modality'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consideration'))
    )
    with op.batch_alter_table('consideration', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_consideration_modality_id'), ['modality_id'], unique=False)

    op.create_table('format',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('modality_id', sa.Integer(), nullable=False),
    sa.Column('delivery', sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
    sa.Column('sessions_min', sa.Integer(), nullable=True),
    sa.Column('sessions_max', sa.Integer(), nullable=True),
    sa.Column('weeks_min', sa.Integer(), nullable=True),
    sa.Column('weeks_max', sa.Integer(), nullable=True),
    sa.Column('session_minutes_min', sa.Integer(), nullable=True),
    sa.Column('session_minutes_max', sa.Integer(), nullable=True),
    sa.Column('group_size_min', sa.Integer(), nullable=True),
    sa.Column('group_size_max', sa.Integer(), nullable=True),
    sa.Column('notes', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.CheckConstraint("delivery IN ('individual', 'group', 'online-synchronous', 'online-guided', 'self-guided', 'telephone')", name=op.f('ck_format_delivery')),
    sa.CheckConstraint('(group_size_min IS NULL) = (group_size_max IS NULL)', name=op.f('ck_format_group_size_both_or_neither')),
    sa.CheckConstraint('(session_minutes_min IS NULL) = (session_minutes_max IS NULL)', name=op.f('ck_format_session_minutes_both_or_neither')),
    sa.CheckConstraint('(sessions_min IS NULL) = (sessions_max IS NULL)', name=op.f('ck_format_sessions_both_or_neither')),
    sa.CheckConstraint('(weeks_min IS NULL) = (weeks_max IS NULL)', name=op.f('ck_format_weeks_both_or_neither')),
    sa.CheckConstraint('group_size_min <= group_size_max', name=op.f('ck_format_group_size_min_le_max')),
    sa.CheckConstraint('group_size_min >= 0', name=op.f('ck_format_group_size_min_nonnegative')),
    sa.CheckConstraint('session_minutes_min <= session_minutes_max', name=op.f('ck_format_session_minutes_min_le_max')),
    sa.CheckConstraint('session_minutes_min >= 0', name=op.f('ck_format_session_minutes_min_nonnegative')),
    sa.CheckConstraint('sessions_min <= sessions_max', name=op.f('ck_format_sessions_min_le_max')),
    sa.CheckConstraint('sessions_min >= 0', name=op.f('ck_format_sessions_min_nonnegative')),
    sa.CheckConstraint('weeks_min <= weeks_max', name=op.f('ck_format_weeks_min_le_max')),
    sa.CheckConstraint('weeks_min >= 0', name=op.f('ck_format_weeks_min_nonnegative')),
    sa.ForeignKeyConstraint(['modality_id'], ['modality.id'], name=op.f('fk_format_modality_id_modality'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_format'))
    )
    with op.batch_alter_table('format', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_format_modality_id'), ['modality_id'], unique=False)

    op.create_table('indication',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('modality_id', sa.Integer(), nullable=False),
    sa.Column('condition_id', sa.Integer(), nullable=False),
    sa.Column('evidence', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('population', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('summary', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.CheckConstraint("evidence IN ('strong', 'moderate', 'limited', 'insufficient')", name=op.f('ck_indication_evidence')),
    sa.CheckConstraint("population IN ('adults', 'adolescents', 'children', 'older-adults', 'perinatal', 'students', 'mixed')", name=op.f('ck_indication_population')),
    sa.ForeignKeyConstraint(['condition_id'], ['condition.id'], name=op.f('fk_indication_condition_id_condition'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['modality_id'], ['modality.id'], name=op.f('fk_indication_modality_id_modality'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_indication')),
    sa.UniqueConstraint('modality_id', 'condition_id', 'population', name=op.f('uq_indication_modality_id_condition_id_population'))
    )
    with op.batch_alter_table('indication', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_indication_condition_id'), ['condition_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_indication_modality_id'), ['modality_id'], unique=False)

    op.create_table('claim_citation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('claim_type', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('modality_id', sa.Integer(), nullable=False),
    sa.Column('indication_id', sa.Integer(), nullable=True),
    sa.Column('consideration_id', sa.Integer(), nullable=True),
    sa.Column('format_id', sa.Integer(), nullable=True),
    sa.Column('component_id', sa.Integer(), nullable=True),
    sa.Column('citation_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.CheckConstraint("(claim_type = 'modality' AND indication_id IS NULL AND consideration_id IS NULL AND format_id IS NULL AND component_id IS NULL) OR (claim_type = 'indication' AND indication_id IS NOT NULL AND consideration_id IS NULL AND format_id IS NULL AND component_id IS NULL) OR (claim_type = 'consideration' AND indication_id IS NULL AND consideration_id IS NOT NULL AND format_id IS NULL AND component_id IS NULL) OR (claim_type = 'format' AND indication_id IS NULL AND consideration_id IS NULL AND format_id IS NOT NULL AND component_id IS NULL) OR (claim_type = 'component' AND indication_id IS NULL AND consideration_id IS NULL AND format_id IS NULL AND component_id IS NOT NULL)", name=op.f('ck_claim_citation_one_claim')),
    sa.CheckConstraint("claim_type IN ('modality', 'indication', 'consideration', 'format', 'component')", name=op.f('ck_claim_citation_claim_type')),
    sa.ForeignKeyConstraint(['citation_id'], ['citation.id'], name=op.f('fk_claim_citation_citation_id_citation'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['component_id'], ['component.id'], name=op.f('fk_claim_citation_component_id_component'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['consideration_id'], ['consideration.id'], name=op.f('fk_claim_citation_consideration_id_consideration'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['format_id'], ['format.id'], name=op.f('fk_claim_citation_format_id_format'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['indication_id'], ['indication.id'], name=op.f('fk_claim_citation_indication_id_indication'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['modality_id'], ['modality.id'], name=op.f('fk_claim_citation_modality_id_modality'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_claim_citation'))
    )
    with op.batch_alter_table('claim_citation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_claim_citation_citation_id'), ['citation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_claim_citation_component_id'), ['component_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_claim_citation_consideration_id'), ['consideration_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_claim_citation_format_id'), ['format_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_claim_citation_indication_id'), ['indication_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_claim_citation_modality_id'), ['modality_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('claim_citation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_claim_citation_modality_id'))
        batch_op.drop_index(batch_op.f('ix_claim_citation_indication_id'))
        batch_op.drop_index(batch_op.f('ix_claim_citation_format_id'))
        batch_op.drop_index(batch_op.f('ix_claim_citation_consideration_id'))
        batch_op.drop_index(batch_op.f('ix_claim_citation_component_id'))
        batch_op.drop_index(batch_op.f('ix_claim_citation_citation_id'))

    op.drop_table('claim_citation')
    with op.batch_alter_table('indication', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_indication_modality_id'))
        batch_op.drop_index(batch_op.f('ix_indication_condition_id'))

    op.drop_table('indication')
    with op.batch_alter_table('format', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_format_modality_id'))

    op.drop_table('format')
    with op.batch_alter_table('consideration', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_consideration_modality_id'))

    op.drop_table('consideration')
    with op.batch_alter_table('condition_code', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_condition_code_condition_id'))
        batch_op.drop_index(batch_op.f('ix_condition_code_code'))

    op.drop_table('condition_code')
    with op.batch_alter_table('component', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_component_modality_id'))

    op.drop_table('component')
    op.drop_table('release')
    op.drop_table('modality')
    with op.batch_alter_table('condition', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_condition_parent_id'))

    op.drop_table('condition')
    op.drop_table('citation')
