"""Alembic environment: runs against the engine that app.migrate hands in."""

from __future__ import annotations

import warnings

from alembic import context
from sqlalchemy.exc import SAWarning
from sqlmodel import SQLModel

import app.models  # noqa: F401  (registers the tables on SQLModel.metadata)
from app.migrate import is_engine_specific

config = context.config
target_metadata = SQLModel.metadata


def run_migrations_online() -> None:
    engine = config.attributes["engine"]
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # Batch mode rebuilds a table by dropping it; with foreign keys on, that would
            # delete (or refuse to delete) the rows that point at it. The pragma only takes
            # effect outside a transaction, so it is set before the migration's transaction.
            # (On the driver's connection, so SQLAlchemy does not begin a transaction first.)
            connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            # SQLite cannot ALTER most constraints; batch mode rebuilds the table instead.
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
            include_name=lambda name, type_, _parents: not is_engine_specific(name, type_),
        )
        with context.begin_transaction(), warnings.catch_warnings():
            # Batch mode reflects each table it rebuilds and the tables its foreign keys point
            # at; SQLite's reflection cannot read the expression index on modality and warns,
            # on every fresh database. No migration rebuilds modality itself, and
            # tests/test_migrations.py proves the index is there after upgrading.
            warnings.filterwarnings(
                "ignore",
                message="Skipped unsupported reflection of expression-based index "
                "ix_modality_name_order",
                category=SAWarning,
            )
            context.run_migrations()
            if sqlite:
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                if broken:
                    raise RuntimeError(f"migration left dangling foreign keys: {broken[:5]}")
        if sqlite:
            connection.connection.driver_connection.execute("PRAGMA foreign_keys=ON")


if context.is_offline_mode():
    raise SystemExit("offline (SQL script) migrations are not supported; pass an engine")
run_migrations_online()
