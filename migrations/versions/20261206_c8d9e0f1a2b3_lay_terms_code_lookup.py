"""lay terms and code lookup: conditions' everyday terms, weighted in search; ICD codes by hierarchy

Adds ``condition.lay_terms``; ``search_document.keywords`` (the lay terms), which each engine's
full-text index weighs above the title, so both indexes are rebuilt over three columns; and
``code_lookup``, the codes the seed load derives from the classifications' hierarchies.

Revision ID: c8d9e0f1a2b3
Revises: b7c8d9e0f1a2
Create Date: 2026-12-06 03:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "c8d9e0f1a2b3"
down_revision: str | None = "b7c8d9e0f1a2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FTS_OPTIONS = "content='search_document', content_rowid='id', tokenize='porter unicode61 remove_diacritics 2'"


def upgrade() -> None:
    with op.batch_alter_table("condition", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lay_terms", sa.JSON(), nullable=False, server_default="[]"))
    op.create_table(
        "code_lookup",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("system", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("condition_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("system IN ('icd-10-cm', 'icd-11')", name=op.f("ck_code_lookup_system")),
        sa.ForeignKeyConstraint(
            ["condition_id"], ["condition.id"], name=op.f("fk_code_lookup_condition_id_condition"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_code_lookup")),
        sa.UniqueConstraint("system", "code", name=op.f("uq_code_lookup_system_code")),
    )
    with op.batch_alter_table("code_lookup", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_code_lookup_code"), ["code"], unique=False)
        batch_op.create_index(batch_op.f("ix_code_lookup_condition_id"), ["condition_id"], unique=False)

    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        op.execute("DROP TABLE IF EXISTS search_fts")
    else:
        op.execute("DROP INDEX IF EXISTS ix_search_document_search_vector")
        op.execute("ALTER TABLE search_document DROP COLUMN search_vector")
    with op.batch_alter_table("search_document", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("keywords", sqlmodel.sql.sqltypes.AutoString(), nullable=False, server_default="")
        )
    if sqlite:
        op.execute(f"CREATE VIRTUAL TABLE search_fts USING fts5(title, body, keywords, {FTS_OPTIONS})")
        op.execute("INSERT INTO search_fts(search_fts) VALUES ('rebuild')")
    else:
        op.execute(
            "ALTER TABLE search_document ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ("
            # Keywords A, title B, body C; the search ranks them 1.0, 0.4 and 0.16, so title
            # and body keep the proportion they had as A and B.
            "setweight(to_tsvector('english', coalesce(keywords, '')), 'A') || "
            "setweight(to_tsvector('english', coalesce(title, '')), 'B') || "
            "setweight(to_tsvector('english', coalesce(body, '')), 'C')) STORED"
        )
        op.execute("CREATE INDEX ix_search_document_search_vector ON search_document USING gin (search_vector)")


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        op.execute("DROP TABLE IF EXISTS search_fts")
    else:
        op.execute("DROP INDEX IF EXISTS ix_search_document_search_vector")
        op.execute("ALTER TABLE search_document DROP COLUMN search_vector")
    with op.batch_alter_table("search_document", schema=None) as batch_op:
        batch_op.drop_column("keywords")
    if sqlite:
        op.execute(f"CREATE VIRTUAL TABLE search_fts USING fts5(title, body, {FTS_OPTIONS})")
        op.execute("INSERT INTO search_fts(search_fts) VALUES ('rebuild')")
    else:
        op.execute(
            "ALTER TABLE search_document ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ("
            "setweight(to_tsvector('english', coalesce(title, '')), 'A') || "
            "setweight(to_tsvector('english', coalesce(body, '')), 'B')) STORED"
        )
        op.execute("CREATE INDEX ix_search_document_search_vector ON search_document USING gin (search_vector)")

    with op.batch_alter_table("code_lookup", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_code_lookup_condition_id"))
        batch_op.drop_index(batch_op.f("ix_code_lookup_code"))
    op.drop_table("code_lookup")
    with op.batch_alter_table("condition", schema=None) as batch_op:
        batch_op.drop_column("lay_terms")
