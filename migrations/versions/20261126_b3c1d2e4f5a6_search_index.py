"""search index: search_document plus each engine's full-text index over it

Revision ID: b3c1d2e4f5a6
Revises: e57a66e264d0
Create Date: 2026-11-26 01:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "b3c1d2e4f5a6"
down_revision: str | None = "e57a66e264d0"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "search_document",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("doc_type", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("ref", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("body", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("url", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.CheckConstraint(
            "doc_type IN ('modality', 'condition', 'claim', 'citation')",
            name=op.f("ck_search_document_doc_type"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_document")),
    )
    if op.get_bind().dialect.name == "sqlite":
        # An external-content FTS5 table: the text lives once, in search_document; the seed
        # load rebuilds the index with INSERT INTO search_fts(search_fts) VALUES ('rebuild').
        op.execute(
            "CREATE VIRTUAL TABLE search_fts USING fts5("
            "title, body, content='search_document', content_rowid='id', "
            "tokenize='porter unicode61 remove_diacritics 2')"
        )
    else:
        op.execute(
            "ALTER TABLE search_document ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ("
            "setweight(to_tsvector('english', coalesce(title, '')), 'A') || "
            "setweight(to_tsvector('english', coalesce(body, '')), 'B')) STORED"
        )
        op.execute(
            "CREATE INDEX ix_search_document_search_vector ON search_document "
            "USING gin (search_vector)"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE IF EXISTS search_fts")
    op.drop_table("search_document")
