"""What each worker keeps per release: preloaded modality records (app/preload.py), the memo
behind 404 suggestions, and the cache key."""

from __future__ import annotations

import time
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app.config import Settings
from app.httpcache import cache_control
from app.main import create_app
from app.preload import Preloaded
from app.seedfiles import read_seed_dir
from app.seeding import load_seed
from tests.conftest import FIXTURE_SEED
from tests.helpers import statements
from tests.test_reloads import second_release

SLUGS = ["alpha", "beta"]
VOLATILE = {"date", "x-request-id"}


def wait_preloaded(app: FastAPI, release: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while app.state.preloaded.current[0] != release:
        assert time.monotonic() < deadline, "the records were not preloaded in time"
        time.sleep(0.02)


def release_of(client: TestClient) -> str:
    release: str = client.get("/v1/meta").json()["content_hash"]
    return release


def test_a_preloaded_answer_is_the_routes_answer(fixture_db_url: str) -> None:
    """Byte for byte and header for header what the route builds, and no database read."""
    preloading = create_app(Settings(database_url=fixture_db_url, release_check_seconds=60))
    building = create_app(
        Settings(database_url=fixture_db_url, preload_mb=0, response_cache_entries=0)
    )
    with TestClient(preloading) as fast, TestClient(building) as slow:
        wait_preloaded(preloading, release_of(fast))
        for slug in SLUGS:
            with statements(preloading.state.engine) as seen:
                got = fast.get(f"/v1/modalities/{slug}")
            assert seen == [], f"{slug} was read from the database"
            want = slow.get(f"/v1/modalities/{slug}")
            assert (got.status_code, got.content) == (want.status_code, want.content)
            assert sorted((k, v) for k, v in got.headers.items() if k not in VOLATILE) == sorted(
                (k, v) for k, v in want.headers.items() if k not in VOLATILE
            )
            # Revalidation and HEAD work on a preloaded answer as on any other.
            etag = got.headers["etag"]
            again = fast.get(f"/v1/modalities/{slug}", headers={"If-None-Match": etag})
            assert again.status_code == 304
            head = fast.head(f"/v1/modalities/{slug}")
            assert (head.status_code, head.content, head.headers["etag"]) == (200, b"", etag)


def test_only_plain_details_are_preloaded(fixture_db_url: str) -> None:
    app = create_app(Settings(database_url=fixture_db_url, release_check_seconds=60))
    with TestClient(app) as client:
        release = release_of(client)
        wait_preloaded(app, release)
        _, entries = app.state.preloaded.current
        assert sorted(entries) == [(f"/v1/modalities/{s}".encode(), b"", b"") for s in SLUGS]
        # Anything else (another query string, an unknown slug) goes to the route.
        assert client.get("/v1/modalities/alpha?include=citations").json()["included_citations"]
        missing = client.get("/v1/modalities/alphaa")
        assert (missing.status_code, missing.json()["suggestion"]) == (404, "alpha")


def test_the_budget_bounds_what_is_preloaded(fixture_db_url: str) -> None:
    app = create_app(Settings(database_url=fixture_db_url, release_check_seconds=60, preload_mb=0))
    with TestClient(app) as client:
        release = release_of(client)
        first = client.get("/v1/modalities/alpha").content
        settings = Settings(database_url=fixture_db_url)
        room_for_one = Preloaded(app.state.sessions, len(first), cache_control(settings))
        room_for_one.load(release)
        assert list(room_for_one.current[1]) == [(b"/v1/modalities/alpha", b"", b"")]
        assert room_for_one.get((b"/v1/modalities/alpha", b"", b""), release) is not None
        # Entries answer only for the release they were read from.
        assert room_for_one.get((b"/v1/modalities/alpha", b"", b""), "another") is None
        # And a release that is no longer loaded is not read at all.
        stale = Preloaded(app.state.sessions, 1 << 20, cache_control(settings))
        stale.load("not-the-loaded-release")
        assert stale.current == (None, {})


def test_a_reload_replaces_the_preloaded_records(
    settings: Settings, engine: Engine, tmp_path: Path
) -> None:
    load_seed(engine, read_seed_dir(FIXTURE_SEED))
    app = create_app(settings.model_copy(update={"release_check_seconds": 0.0}))
    with TestClient(app) as client:
        first = release_of(client)
        wait_preloaded(app, first)
        old = client.get("/v1/modalities/alpha")
        load_seed(engine, read_seed_dir(second_release(tmp_path)))
        # At once, before or after the new records are in memory: the new release only.
        new = client.get("/v1/modalities/alpha")
        second = new.headers["x-kb-release"]
        assert second != first
        assert old.headers["x-kb-release"] == first
        assert new.json()["summary"] == "The second release's summary."
        wait_preloaded(app, second)
        with statements(app.state.engine) as seen:
            again = client.get("/v1/modalities/alpha")
        assert [s for s in seen if "rendered_modality" in s] == []
        assert (again.content, again.headers["x-kb-release"]) == (new.content, second)


def test_accept_is_in_the_cache_key_only_where_the_answer_depends_on_it(
    fixture_db_url: str,
) -> None:
    app = create_app(Settings(database_url=fixture_db_url, release_check_seconds=60))
    with TestClient(app) as client:
        client.get("/v1/conditions/worry", headers={"Accept": "application/json"})
        with statements(app.state.engine) as seen:
            hit = client.get("/v1/conditions/worry", headers={"Accept": "*/*"})
        assert (hit.status_code, seen) == (200, [])
        # Citations are negotiated: each Accept gets its own answer, built once.
        json = client.get("/v1/citations/alpha2001", headers={"Accept": "application/json"})
        bibtex = client.get("/v1/citations/alpha2001", headers={"Accept": "application/x-bibtex"})
        assert json.headers["content-type"].startswith("application/json")
        assert bibtex.text.startswith("@article{alpha2001")


def test_404_suggestions_read_the_known_slugs_once_per_release(
    settings: Settings, engine: Engine, tmp_path: Path
) -> None:
    load_seed(engine, read_seed_dir(FIXTURE_SEED))
    app = create_app(settings.model_copy(update={"release_check_seconds": 0.0}))

    def scans(seen: list[str]) -> int:
        return sum(1 for s in seen if s.split() == ["SELECT", "modality.slug", "FROM", "modality"])

    with TestClient(app) as client:
        for typo, meant, reads in (("alphaa", "alpha", 1), ("betta", "beta", 0)):
            with statements(app.state.engine) as seen:
                missing = client.get(f"/v1/modalities/{typo}")
            assert (missing.status_code, missing.json()["suggestion"]) == (404, meant)
            assert scans(seen) == reads
        load_seed(engine, read_seed_dir(second_release(tmp_path)))
        with statements(app.state.engine) as seen:
            assert client.get("/v1/modalities/alphaa").json()["suggestion"] == "alpha"
        assert scans(seen) == 1  # a new release: read again
