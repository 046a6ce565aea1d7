"""The database itself refuses what the seed validator would: constraints hold on both engines."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError

from app.config import Settings
from app.db import create_db_engine

BAD_STATEMENTS = {
    "duplicate modality slug": "INSERT INTO modality (slug, name, abbreviation, category, aliases,"
    " summary, description, origin, goals, content_hash) SELECT slug, name, abbreviation,"
    " category, aliases, summary, description, origin, goals, content_hash FROM modality"
    " WHERE slug = 'alpha'",
    "duplicate citation key": "INSERT INTO citation (key, type, title, authors, year, content_hash)"
    " SELECT key, type, title, authors, year, content_hash FROM citation WHERE key = 'alpha2001'",
    "unknown category": "UPDATE modality SET category = 'mystery' WHERE slug = 'alpha'",
    "unknown evidence level": "UPDATE indication SET evidence = 'excellent'",
    "unknown delivery": "UPDATE format SET delivery = 'carrier-pigeon'",
    "min greater than max": "UPDATE format SET sessions_min = 20, sessions_max = 10",
    "negative count": "UPDATE format SET weeks_min = -1, weeks_max = 4",
    "half a range": "UPDATE format SET group_size_min = 4, group_size_max = NULL",
    "dangling foreign key": "UPDATE indication SET condition_id = 999999",
    "claim link of the wrong shape": "UPDATE claim_citation SET indication_id = NULL"
    " WHERE claim_type = 'indication'",
    "missing NOT NULL": "UPDATE modality SET name = NULL",
    "unknown code system": "UPDATE condition_code SET system = 'dsm-5'",
    "duplicate code": "UPDATE condition_code SET code = 'F99.1', system = 'icd-10-cm'",
    "delete a cited citation": "DELETE FROM citation WHERE key = 'alpha2001'",
}


@pytest.fixture(scope="module")
def seeded(fixture_db_url: str) -> Iterator[Engine]:
    engine = create_db_engine(Settings(database_url=fixture_db_url))
    yield engine
    engine.dispose()


@pytest.mark.parametrize("statement", BAD_STATEMENTS.values(), ids=BAD_STATEMENTS.keys())
def test_database_rejects(seeded: Engine, statement: str) -> None:
    # No constraint is deferred, so the statement itself fails; the connection closes without
    # a commit, which rolls back whatever happened, so every case sees the same loaded seed.
    with seeded.connect() as conn, pytest.raises(IntegrityError):
        conn.execute(text(statement))
