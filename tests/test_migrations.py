"""The migrations build the whole schema on both engines, and they match the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import SQLModel

import app.models  # noqa: F401
from app.config import Settings
from app.db import create_db_engine
from app.migrate import downgrade, is_engine_specific, upgrade
from tests.helpers import TABLES


def test_upgrade_downgrade_upgrade(empty_db_url: str) -> None:
    engine = create_db_engine(Settings(database_url=empty_db_url))
    try:
        upgrade(engine)
        assert set(TABLES) <= set(inspect(engine).get_table_names())
        downgrade(engine, "base")
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        upgrade(engine)
        assert set(TABLES) <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_models_and_migrations_do_not_drift(empty_db_url: str) -> None:
    engine = create_db_engine(Settings(database_url=empty_db_url))
    try:
        upgrade(engine)
        with engine.connect() as conn:
            context = MigrationContext.configure(
                conn,
                opts={
                    "compare_type": True,
                    "include_name": lambda name, type_, _p: not is_engine_specific(name, type_),
                },
            )
            diff = compare_metadata(context, SQLModel.metadata)
        assert diff == [], f"models and migrations differ: {diff}"
    finally:
        engine.dispose()
