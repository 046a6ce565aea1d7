"""Alembic, driven from code: the project keeps no alembic.ini at its top level."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

from app.config import PROJECT_ROOT

MIGRATIONS_DIR = PROJECT_ROOT / "migrations"


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("file_template", "%%(year)d%%(month).2d%%(day).2d_%%(rev)s_%%(slug)s")
    # env.py takes this engine instead of building one from a URL.
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    command.upgrade(alembic_config(engine), revision)
    _drop_migration_connections(engine)


def downgrade(engine: Engine, revision: str = "base") -> None:
    command.downgrade(alembic_config(engine), revision)
    _drop_migration_connections(engine)


def _drop_migration_connections(engine: Engine) -> None:
    # SQLite migrations run with foreign keys off (batch mode rebuilds tables), and a pooled
    # connection can keep that setting; without foreign keys, deletes stop cascading. New
    # connections get the engine's own pragmas.
    engine.dispose()


# Objects that exist only in the migrations, because each engine builds full-text search its
# own way: SQLite's FTS5 table (and its shadow tables), PostgreSQL's generated tsvector column.
FTS_TABLE = "search_fts"
TSVECTOR_COLUMN = "search_vector"
TSVECTOR_INDEX = "ix_search_document_search_vector"


def is_engine_specific(name: str | None, type_: str) -> bool:
    """True for the full-text objects the models do not describe (used to compare schemas)."""
    if name is None:
        return False
    return (
        (type_ == "table" and name.startswith(FTS_TABLE))
        or (type_ == "column" and name == TSVECTOR_COLUMN)
        or (type_ == "index" and name == TSVECTOR_INDEX)
    )
