"""The migrations build the whole schema on both engines, and they match the models."""

from __future__ import annotations

import re
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, MetaData, event, inspect, select, text
from sqlmodel import Session, SQLModel

import app.models  # noqa: F401
from app.config import Settings
from app.db import create_db_engine
from app.migrate import downgrade, is_engine_specific, upgrade
from app.models import Modality
from app.queries.modalities import ModalityFilter, list_modalities, modality_details
from app.seeding import load_seed, read_seed_dir
from app.urls import PATHS
from tests.conftest import FIXTURE_SEED
from tests.helpers import TABLES, snapshot


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


def test_the_rendered_records_table_goes_and_comes_back(empty_db_url: str) -> None:
    engine = create_db_engine(Settings(database_url=empty_db_url))
    try:
        upgrade(engine)
        assert "rendered_modality" not in inspect(engine).get_table_names()
        downgrade(engine, "f7a8b9c0d1e2")
        assert "rendered_modality" in inspect(engine).get_table_names()
        upgrade(engine)
        assert "rendered_modality" not in inspect(engine).get_table_names()
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


def test_migrations_keep_loaded_content(empty_db_url: str) -> None:
    """Going down and up through the migrations that rebuild tables (SQLite's batch mode)
    keeps every row of a loaded release; what a downgrade drops (grade bases, guideline
    positions and effects) the next seed load writes again, unchanged."""
    engine = create_db_engine(Settings(database_url=empty_db_url))
    # Tables whose rows survive the whole cycle as they are (indications lose a column; the
    # conditions their lay terms, the search documents their keywords; the code lookup goes).
    # The trial tables come with a later migration (and the fixture seed has no trials).
    rewritten = ["condition", "search_document", "code_lookup"]
    kept = [
        t for t in TABLES if t not in {"indication", *EVIDENCE_TABLES, *rewritten, *TRIAL_TABLES}
    ]
    try:
        upgrade(engine)
        seed = read_seed_dir(FIXTURE_SEED)
        load_seed(engine, seed)
        before = _without_new_columns(engine, kept)
        before_rewritten = _without_ids(snapshot(engine, rewritten))
        assert before_rewritten["code_lookup"]  # the fixture has codes to look up
        records = _records(engine)
        assert any(r.indications[0].effects for r in records)  # the fixture has some to lose
        downgrade(engine, "b3c1d2e4f5a6")  # before the citation year became optional
        assert _without_new_columns(engine, kept) == before
        upgrade(engine)
        assert _without_new_columns(engine, kept) == before
        assert snapshot(engine, EVIDENCE_TABLES) == {name: [] for name in EVIDENCE_TABLES}
        # The release is unchanged, but a load notices what is missing and writes it again.
        assert not load_seed(engine, seed).changed
        assert _records(engine) == records
        assert _without_ids(snapshot(engine, rewritten)) == before_rewritten
        # The new schema takes a citation without a year.
        with engine.begin() as conn:
            conn.execute(text("UPDATE citation SET year = NULL WHERE key = 'gamma2010'"))
    finally:
        engine.dispose()


# Columns a later migration adds to tables whose rows survive the cycle (NULL for the fixture,
# whose modalities have no variants): compared without them, since a downgrade drops them. A
# modality's content hash is cleared by that migration, so that the next load rewrites it.
NEW_COLUMNS = {"variant", "content_hash"}


def _without_new_columns(engine: Engine, tables: list[str]) -> dict[str, list[tuple[str, ...]]]:
    meta = MetaData()
    meta.reflect(engine, only=tables)
    with engine.connect() as conn:
        return {
            name: sorted(
                tuple(
                    repr(v)
                    for k, v in row._mapping.items()
                    if k not in NEW_COLUMNS or (k == "content_hash" and name != "modality")
                )
                for row in conn.execute(select(meta.tables[name]))
            )
            for name in tables
        }


# What the evidence-details migration adds, and a downgrade past it drops.
EVIDENCE_TABLES = ["indication_guideline", "indication_effect"]
TRIAL_TABLES = ["trial_dataset", "trial_study", "trial_comparison"]


def _without_ids(tables: dict[str, list[tuple[Any, ...]]]) -> dict[str, list[tuple[Any, ...]]]:
    """Rows without their ids, which a rebuilt table numbers afresh (PostgreSQL's sequences
    go on counting)."""
    return {name: sorted(row[1:] for row in rows) for name, rows in tables.items()}


def _records(engine: Any) -> list[Any]:
    with Session(engine) as session:
        rows = list(session.execute(select(Modality).order_by(Modality.slug)).scalars())
        return modality_details(session, PATHS, rows)


INDEX_DEFINITION = {
    "sqlite": "SELECT sql FROM sqlite_master WHERE name = :name",
    "postgresql": "SELECT indexdef FROM pg_indexes WHERE indexname = :name",
}


def test_the_list_is_read_along_the_name_index(fixture_db_url: str) -> None:
    """The expression index exists on both engines (autogenerate cannot compare it on SQLite),
    and a page of the default list is read along it instead of sorting the whole table."""
    engine = create_db_engine(Settings(database_url=fixture_db_url))
    statements: list[tuple[str, Any]] = []
    try:
        with engine.connect() as conn:
            found = conn.execute(
                text(INDEX_DEFINITION[engine.dialect.name]), {"name": "ix_modality_name_order"}
            ).scalar_one()
        # SQLite keeps the DDL as written; PostgreSQL prints lower((name)::text), slug.
        assert "lowername,slug" in re.sub(r'[\s"()]|::text', "", found.lower()), found
        if engine.dialect.name != "sqlite":
            return  # PostgreSQL's planner rightly scans a table this small; the plan is SQLite's
        event.listen(engine, "before_cursor_execute", lambda *a: statements.append((a[2], a[3])))
        with Session(engine) as session:
            list_modalities(session, PATHS, ModalityFilter(limit=1, offset=1))
        page_sql, params = statements[-1]
        with engine.connect() as conn:
            plan = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {page_sql}", params).all()
        assert any("USING INDEX ix_modality_name_order" in row[-1] for row in plan), plan
    finally:
        engine.dispose()
