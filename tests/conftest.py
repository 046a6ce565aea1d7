"""Fixtures: every database test runs on SQLite and on PostgreSQL.

PostgreSQL comes from THERAPY_KB_TEST_POSTGRES_URL when set; otherwise a throwaway cluster is
started for the session (tests/pgcluster.py). Without PostgreSQL its tests skip, except under
CI=true, where that is a failure.

Each test gets its own freshly migrated database: migrations run once per engine into a
template (a file for SQLite, a template database for PostgreSQL), which is copied per test.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from app.config import Settings
from app.db import create_db_engine
from app.migrate import upgrade
from app.seeding import load_seed, read_seed_dir
from tests import pgcluster
from tests.helpers import in_ci

ROOT = Path(__file__).resolve().parent.parent
FIXTURE_SEED = ROOT / "tests" / "fixtures" / "seed_small"
REAL_SEED = ROOT / "seed"
ENGINES = ["sqlite", "postgresql"]


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    """URL of a PostgreSQL server's maintenance database, or skip (fail in CI)."""
    url = os.environ.get("THERAPY_KB_TEST_POSTGRES_URL")
    if url:
        yield url
        return
    try:
        cluster = pgcluster.start_cluster()
    except (FileNotFoundError, KeyError, OSError) as exc:
        reason = f"PostgreSQL unavailable ({exc}); set THERAPY_KB_TEST_POSTGRES_URL or install it"
        if in_ci():
            pytest.fail(f"CI=true requires PostgreSQL: {reason}")
        pytest.skip(reason)
    try:
        yield cluster.url
    finally:
        pgcluster.destroy_cluster(cluster)


def _admin_engine(server_url: str) -> Engine:
    return create_engine(server_url, isolation_level="AUTOCOMMIT")


def _with_database(server_url: str, name: str) -> str:
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def postgres_template(postgres_server_url: str) -> Iterator[str]:
    """A migrated template database that per-test databases are cloned from."""
    name = f"tkb_template_{uuid.uuid4().hex[:8]}"
    admin = _admin_engine(postgres_server_url)
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = create_db_engine(Settings(database_url=_with_database(postgres_server_url, name)))
    upgrade(engine)
    engine.dispose()
    yield name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    engine = create_db_engine(Settings(database_url=f"sqlite:///{path}"))
    upgrade(engine)
    engine.dispose()
    return path


def _fresh_postgres(request: pytest.FixtureRequest, template: str | None) -> Iterator[str]:
    server_url = request.getfixturevalue("postgres_server_url")
    name = f"tkb_{uuid.uuid4().hex[:12]}"
    admin = _admin_engine(server_url)
    with admin.connect() as conn:
        suffix = f' TEMPLATE "{template}"' if template else ""
        conn.execute(text(f'CREATE DATABASE "{name}"{suffix}'))
    try:
        yield _with_database(server_url, name)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _migrated(request: pytest.FixtureRequest, directory: Path) -> Iterator[str]:
    if request.param == "sqlite":
        path = directory / "db.sqlite3"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
    else:
        yield from _fresh_postgres(request, request.getfixturevalue("postgres_template"))


@pytest.fixture(params=ENGINES)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A freshly migrated, empty database on each engine."""
    yield from _migrated(request, tmp_path)


def _seeded(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, seed_dir: Path
) -> Iterator[str]:
    for url in _migrated(request, tmp_path_factory.mktemp("seeded-db")):
        engine = create_db_engine(Settings(database_url=url))
        load_seed(engine, read_seed_dir(seed_dir))
        engine.dispose()
        yield url


@pytest.fixture(scope="module", params=ENGINES)
def fixture_db_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A database holding the fixture seed, shared by a module's read-only tests."""
    yield from _seeded(request, tmp_path_factory, FIXTURE_SEED)


@pytest.fixture(scope="module", params=ENGINES)
def real_db_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A database holding the real knowledge base in seed/, shared by a module's tests."""
    yield from _seeded(request, tmp_path_factory, REAL_SEED)


@pytest.fixture(params=ENGINES)
def empty_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database with no schema at all, on each engine (for migration tests)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    else:
        yield from _fresh_postgres(request, None)


@pytest.fixture
def settings(db_url: str) -> Settings:
    return Settings(database_url=db_url, seed_dir=FIXTURE_SEED)


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    engine = create_db_engine(settings)
    yield engine
    engine.dispose()
