"""When PostgreSQL goes away the API answers 503 (not a hang, not a 500), and recovers by itself."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import create_engine, text

from app.config import Settings
from app.db import create_db_engine
from app.main import create_app
from app.migrate import upgrade
from app.seeding import load_seed, read_seed_dir
from tests import pgcluster
from tests.conftest import FIXTURE_SEED
from tests.helpers import PATIENCE_SECONDS, in_ci, serve_in_thread, wait_until

DATA_URLS = ["/v1/modalities/alpha", "/v1/modalities", "/v1/search?q=fixture", "/v1/meta"]


@pytest.fixture
def own_cluster() -> Iterator[pgcluster.Cluster]:
    """A cluster of this test's own, since the test stops and starts it."""
    try:
        cluster = pgcluster.start_cluster()
    except (FileNotFoundError, KeyError, OSError) as exc:
        if in_ci():
            pytest.fail(f"CI=true requires PostgreSQL: {exc}")
        pytest.skip(f"PostgreSQL server binaries unavailable: {exc}")
    try:
        yield cluster
    finally:
        pgcluster.destroy_cluster(cluster)


def test_postgres_outage_is_503_then_recovers(own_cluster: pgcluster.Cluster) -> None:
    admin = create_engine(own_cluster.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("CREATE DATABASE kb"))
    admin.dispose()
    url = own_cluster.url.rsplit("/", 1)[0] + "/kb"
    settings = Settings(database_url=url, db_timeout_seconds=1, release_check_seconds=0)
    engine = create_db_engine(settings)
    upgrade(engine)
    load_seed(engine, read_seed_dir(FIXTURE_SEED))
    engine.dispose()

    with serve_in_thread(create_app(settings)) as base, httpx.Client(base_url=base) as client:
        for path in [*DATA_URLS, "/readyz"]:
            assert client.get(path).status_code == 200, path

        own_cluster.stop()
        for path in [*DATA_URLS, "/readyz"]:
            response = client.get(path, timeout=PATIENCE_SECONDS)
            assert response.status_code == 503, (path, response.text)
            assert response.headers["content-type"] == "application/problem+json"
            assert "retry-after" in response.headers, path
        assert client.get("/healthz").status_code == 200  # the process itself is fine

        own_cluster.start()
        wait_until(lambda: client.get("/readyz").status_code == 200, "ready again")
        for path in DATA_URLS:
            assert client.get(path).status_code == 200, path
