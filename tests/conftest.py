"""Fixtures: every database behaviour runs on SQLite and on PostgreSQL; the HTTP layer on one.

PostgreSQL comes from THERAPY_KB_TEST_POSTGRES_URL when set; otherwise a throwaway cluster is
started the first time a test needs it (tests/pgcluster.py) and stopped when the run ends.
Under pytest-xdist the workers share that one cluster. Without PostgreSQL its tests skip,
except under CI=true, where that is a failure.

Each test gets its own freshly migrated database: migrations run once per engine and worker
into a template (a file for SQLite, a template database for PostgreSQL), which is copied per
test; database names carry a random suffix, so workers never collide. A seeded database
(``fixture_db_url``, ``real_db_url`` and their ``http_`` forms) is likewise a copy, per module,
of a template loaded once per engine, seed and worker.

Which engines a test runs on is said by the fixture it asks for:

- ``db_url``, ``fixture_db_url``, ``real_db_url``, ``empty_db_url`` (and ``settings``,
  ``engine``): both engines. For anything the database does: queries, filters, search,
  seeding, reloads, migrations, the release cache, statement counts.
- ``http_db_url``, ``http_fixture_db_url``, ``http_real_db_url`` (and ``http_settings``,
  ``http_engine``): the same databases on one engine, ``HTTP_ENGINES``. For the HTTP layer,
  where the engine cannot matter: headers, media types, guards, parameters, OpenAPI, pages,
  citation formats, generated clients. THERAPY_KB_TEST_HTTP_ENGINES=sqlite,postgresql runs
  those on both engines too.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from filelock import FileLock
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
# SQLite by default: a test database is a file copy, with no server round trips.
HTTP_ENGINES = [
    name.strip()
    for name in os.environ.get("THERAPY_KB_TEST_HTTP_ENGINES", "sqlite").split(",")
    if name.strip()
]
if not HTTP_ENGINES or not set(HTTP_ENGINES) <= set(ENGINES):
    raise pytest.UsageError(
        f"THERAPY_KB_TEST_HTTP_ENGINES must name some of {ENGINES}, not {HTTP_ENGINES}"
    )


# --- one PostgreSQL cluster per run, shared by every xdist worker ----------------------------
#
# The controller (the only process without xdist) makes a directory for the run and hands its
# path to the workers; the first test that needs PostgreSQL starts the cluster there, under a
# file lock, and writes where it listens; the others read that. The controller stops it when
# the whole run ends, after every worker is done with it (and even if one crashed).
# pytest-postgresql is not used: its server runs as the current user, and initdb and pg_ctl
# refuse root, where CI runs; tests/pgcluster.py runs them as the ``postgres`` user then.

SHARED_DIR_KEY = "therapy_kb_run_dir"
_shared_dir = pytest.StashKey[Path]()


def pytest_configure(config: pytest.Config) -> None:
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None:
        config.stash[_shared_dir] = Path(workerinput[SHARED_DIR_KEY])
    else:
        config.stash[_shared_dir] = Path(tempfile.mkdtemp(prefix="therapy-kb-run-"))


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """xdist, in the controller: tell each worker the run's shared directory."""
    node.workerinput[SHARED_DIR_KEY] = str(node.config.stash[_shared_dir])


def pytest_unconfigure(config: pytest.Config) -> None:
    if hasattr(config, "workerinput") or _shared_dir not in config.stash:
        return
    shared = config.stash[_shared_dir]
    state = shared / "cluster.json"
    try:
        if state.exists():
            pgcluster.destroy_cluster(pgcluster.Cluster.from_json(state.read_text()))
    finally:
        shutil.rmtree(shared, ignore_errors=True)


# The files that take longest, longest first (``--durations=0``, summed per file). pytest-xdist
# (``--dist loadfile``) hands whole files to the workers in collection order; starting with
# these keeps one worker from being left with a long file at the end while the others have
# finished.
LONGEST_FIRST = [
    "test_reloads.py",
    "test_trial_load.py",
    "test_explorer_browser.py",  # when Chromium is there
    "test_bench_smoke.py",
    "test_fuzz.py",
    "test_sdk.py",
    "test_releases.py",
    "test_http_caching.py",
    "test_migration_variants.py",
    "test_trials_api.py",
    "test_meta_analysis.py",
    "test_migrations.py",
    "test_api.py",
    "test_topology.py",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(LONGEST_FIRST)))


def _shared_cluster_url(shared: Path) -> str:
    """The run's cluster, started here if no worker has started it yet."""
    state = shared / "cluster.json"
    with FileLock(str(shared / "cluster.lock")):
        if state.exists():
            return pgcluster.Cluster.from_json(state.read_text()).url
        cluster = pgcluster.start_cluster()
        state.write_text(cluster.to_json())
        return cluster.url


@pytest.fixture(scope="session")
def postgres_server_url(pytestconfig: pytest.Config) -> str:
    """URL of a PostgreSQL server's maintenance database, or skip (fail in CI)."""
    url = os.environ.get("THERAPY_KB_TEST_POSTGRES_URL")
    if url:
        return url
    try:
        return _shared_cluster_url(pytestconfig.stash[_shared_dir])
    except (FileNotFoundError, KeyError, OSError) as exc:
        reason = f"PostgreSQL unavailable ({exc}); set THERAPY_KB_TEST_POSTGRES_URL or install it"
        if in_ci():
            pytest.fail(f"CI=true requires PostgreSQL: {reason}")
        pytest.skip(reason)


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


@contextmanager
def postgres_database(server_url: str, options: str = "") -> Iterator[str]:
    """A new database on the server (``options``: what follows ``CREATE DATABASE name``, such
    as a template or a collation), dropped afterwards; yields its URL."""
    name = f"tkb_{uuid.uuid4().hex[:12]}"
    admin = _admin_engine(server_url)
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" {options}'))
    try:
        yield _with_database(server_url, name)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _fresh_postgres(request: pytest.FixtureRequest, template: str | None) -> Iterator[str]:
    server_url = request.getfixturevalue("postgres_server_url")
    with postgres_database(server_url, f'TEMPLATE "{template}"' if template else "") as url:
        yield url


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


class SeededTemplates:
    """Per engine and seed directory, a database holding that seed, loaded once per worker;
    every module that asks for a seeded database gets its own copy (a file copy for SQLite,
    ``CREATE DATABASE ... TEMPLATE`` for PostgreSQL), which costs a fraction of a load."""

    def __init__(self) -> None:
        self._built: dict[tuple[str, Path], str] = {}  # SQLite: a file path; PG: a database
        self._server_url: str | None = None

    def get(self, request: pytest.FixtureRequest, engine_name: str, seed_dir: Path) -> str:
        """The template of ``seed_dir`` on ``engine_name``, built on first use (``request``
        provides the session fixtures that building needs)."""
        key = (engine_name, seed_dir)
        if key not in self._built:
            self._built[key] = self._build(request, engine_name, seed_dir)
        return self._built[key]

    def _build(self, request: pytest.FixtureRequest, engine_name: str, seed_dir: Path) -> str:
        if engine_name == "sqlite":
            factory: pytest.TempPathFactory = request.getfixturevalue("tmp_path_factory")
            path = factory.mktemp("seeded-template") / "db.sqlite3"
            shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
            url, made = f"sqlite:///{path}", str(path)
        else:
            server_url = self._server_url = request.getfixturevalue("postgres_server_url")
            made = f"tkb_seeded_{uuid.uuid4().hex[:12]}"
            template = request.getfixturevalue("postgres_template")
            admin = _admin_engine(server_url)
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{made}" TEMPLATE "{template}"'))
            admin.dispose()
            url = _with_database(server_url, made)
        engine = create_db_engine(Settings(database_url=url))
        load_seed(engine, read_seed_dir(seed_dir))
        engine.dispose()  # a template database may have no connections when it is copied
        return made

    def drop_postgres(self) -> None:
        names = [made for (engine_name, _), made in self._built.items() if engine_name != "sqlite"]
        if not names or self._server_url is None:
            return
        admin = _admin_engine(self._server_url)
        with admin.connect() as conn:
            for name in names:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def seeded_templates() -> Iterator[SeededTemplates]:
    templates = SeededTemplates()
    yield templates
    templates.drop_postgres()


def _seeded(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, seed_dir: Path
) -> Iterator[str]:
    """A module's own database holding ``seed_dir``: a copy of the worker's seeded template."""
    templates: SeededTemplates = request.getfixturevalue("seeded_templates")
    template = templates.get(request, request.param, seed_dir)
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("seeded-db") / "db.sqlite3"
        shutil.copyfile(template, path)
        yield f"sqlite:///{path}"
    else:
        yield from _fresh_postgres(request, template)


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


@pytest.fixture(params=HTTP_ENGINES)
def http_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """``db_url`` for the HTTP layer: one engine."""
    yield from _migrated(request, tmp_path)


@pytest.fixture(scope="module", params=HTTP_ENGINES)
def http_fixture_db_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """``fixture_db_url`` for the HTTP layer: one engine."""
    yield from _seeded(request, tmp_path_factory, FIXTURE_SEED)


@pytest.fixture(scope="module", params=HTTP_ENGINES)
def http_real_db_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """``real_db_url`` for the HTTP layer: one engine."""
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


@pytest.fixture
def http_settings(http_db_url: str) -> Settings:
    return Settings(database_url=http_db_url, seed_dir=FIXTURE_SEED)


@pytest.fixture
def http_engine(http_settings: Settings) -> Iterator[Engine]:
    engine = create_db_engine(http_settings)
    yield engine
    engine.dispose()
