"""What each worker keeps in memory for the loaded release (app/release/cache.py): the
preloaded modality records, the answers, the memo behind 404 suggestions, and the one rule
that replaces them all when another release is loaded."""

from __future__ import annotations

from pathlib import Path

import anyio
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app.config import Settings
from app.main import create_app
from app.release.cache import PRELOAD_ORIGINS, Answers, CacheKey, ReleaseCache, Stored, cache_key
from app.seeding import load_seed, read_seed_dir
from tests.conftest import FIXTURE_SEED
from tests.helpers import ORIGIN, statements
from tests.test_reloads import second_release

SLUGS = ["alpha", "beta"]
VOLATILE = {"date", "x-request-id"}
WAIT = 60.0  # seconds; only ever reached when something is broken


def cache_of(app: FastAPI) -> ReleaseCache:
    cache: ReleaseCache = app.state.release_cache
    return cache


def wait_preloaded(app: FastAPI, client: TestClient) -> str:
    """Ask once from the test client's origin (the first miss from an origin starts the preload
    for it), then wait until the current generation's records are built; its release."""
    client.get("/v1/meta")
    generation = cache_of(app).generation
    assert generation.preloads[ORIGIN].wait(WAIT), "preloading never finished"
    assert generation.release is not None
    return generation.release


def test_a_preloaded_answer_is_the_routes_answer(fixture_db_url: str) -> None:
    """Byte for byte and header for header what the route builds, and no database read."""
    preloading = create_app(Settings(database_url=fixture_db_url, release_check_seconds=60))
    building = create_app(
        Settings(database_url=fixture_db_url, preload_mb=0, response_cache_entries=0)
    )
    with TestClient(preloading) as fast, TestClient(building) as slow:
        wait_preloaded(preloading, fast)
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
        wait_preloaded(app, client)
        entries = cache_of(app).generation.preloaded
        assert sorted(entries) == [cache_key(ORIGIN, f"/v1/modalities/{s}") for s in SLUGS]
        # Anything else (another query string, an unknown slug) goes to the route.
        assert client.get("/v1/modalities/alpha?include=citations").json()["included_citations"]
        missing = client.get("/v1/modalities/alphaa")
        assert (missing.status_code, missing.json()["suggestion"]) == (404, "alpha")


def test_the_budget_bounds_what_is_preloaded(fixture_db_url: str) -> None:
    app = create_app(Settings(database_url=fixture_db_url, release_check_seconds=60, preload_mb=0))
    with TestClient(app) as client:
        first = client.get("/v1/modalities/alpha").content
        cache = cache_of(app)
        generation = cache.generation
        assert generation.preloaded == {}  # preload_mb=0: nothing
        cache.preload_bytes = len(first)  # room for one record
        cache.preload(generation, ORIGIN)
        assert list(generation.preloaded) == [cache_key(ORIGIN, "/v1/modalities/alpha")]


def test_a_generation_that_is_no_longer_current_is_not_filled(fixture_db_url: str) -> None:
    app = create_app(Settings(database_url=fixture_db_url, release_check_seconds=60))
    with TestClient(app) as client:
        cache = cache_of(app)
        wait_preloaded(app, client)
        old = cache.generation
        cache.observe("another-release")
        cache.preload(old, ORIGIN)  # finishes after the switch: thrown away
        assert cache.generation.release == "another-release"
        assert cache.generation.preloaded == {}


def test_a_reload_replaces_the_preloaded_records(
    settings: Settings, engine: Engine, tmp_path: Path
) -> None:
    load_seed(engine, read_seed_dir(FIXTURE_SEED))
    app = create_app(settings.model_copy(update={"release_check_seconds": 0.0}))
    with TestClient(app) as client:
        first = wait_preloaded(app, client)
        old = client.get("/v1/modalities/alpha")
        load_seed(engine, read_seed_dir(second_release(tmp_path)))
        # At once, before or after the new records are in memory: the new release only.
        new = client.get("/v1/modalities/alpha")
        second = new.headers["x-kb-release"]
        assert second != first
        assert old.headers["x-kb-release"] == first
        assert new.json()["summary"] == "The second release's summary."
        assert wait_preloaded(app, client) == second
        app.state.release_cache.check_seconds = 60  # no release check in the count below
        with statements(app.state.engine) as seen:
            again = client.get("/v1/modalities/alpha")
        assert seen == []
        assert (again.content, again.headers["x-kb-release"]) == (new.content, second)


def test_accept_is_in_the_cache_key_only_where_the_answer_depends_on_it(
    fixture_db_url: str,
) -> None:
    app = create_app(Settings(database_url=fixture_db_url, release_check_seconds=60))
    with TestClient(app) as client:
        # The preload's own statements run in a thread of their own: let them finish first.
        wait_preloaded(app, client)
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


# -- The cache itself, without a server ----------------------------------------------------------


def _stored(release: str, n: int) -> Stored:
    return Stored(release, [], str(n).encode())


def _key(n: int) -> CacheKey:
    return cache_key(ORIGIN, f"/v1/x/{n}")


def test_a_sweep_of_one_off_urls_keeps_the_answers_asked_for_again() -> None:
    answers = Answers(max_entries=10)
    for n in range(5):
        answers.put(_key(n), _stored("r1", n))
        assert answers.get(_key(n)) == _stored("r1", n)  # asked for again: protected
    for n in range(100, 200):  # a crawler: a hundred URLs, each asked for once
        assert answers.get(_key(n)) is None
        answers.put(_key(n), _stored("r1", n))
    assert len(answers) == 10
    assert [answers.get(_key(n)) for n in range(5)] == [_stored("r1", n) for n in range(5)]
    # Of the sweep, only the most recent ones fill what is left.
    assert answers.get(_key(199)) is not None
    assert answers.get(_key(100)) is None


def test_the_protected_part_is_bounded_and_lru() -> None:
    answers = Answers(max_entries=5)  # at most 4 protected
    for n in range(6):
        answers.put(_key(n), _stored("r1", n))
        answers.get(_key(n))
    assert len(answers) == 5
    assert len(answers.protected) == 4
    # The least recently used were demoted first, and the oldest of them evicted.
    assert answers.get(_key(0)) is None
    assert list(answers.protected) == [_key(n) for n in (2, 3, 4, 5)]


def test_a_cache_of_one_keeps_the_last_answer() -> None:
    """With no room to protect anything, an answer asked for again stays on probation."""
    answers = Answers(max_entries=1)
    answers.put(_key(1), _stored("r1", 1))
    assert answers.get(_key(1)) == _stored("r1", 1)
    assert answers.get(_key(1)) == _stored("r1", 1)
    answers.put(_key(2), _stored("r1", 2))
    assert (len(answers), answers.get(_key(1)), answers.get(_key(2))) == (
        1,
        None,
        _stored("r1", 2),
    )


def _cache(max_entries: int = 10) -> ReleaseCache:
    return ReleaseCache(
        check_seconds=60, max_entries=max_entries, preload_bytes=0, cache_control=b""
    )


def test_a_new_release_replaces_everything_kept() -> None:
    cache = _cache()
    cache.observe("r1")
    cache.store(_key(1), _stored("r1", 1))
    assert cache.memo("r1", "slugs", lambda: ["a"]) == ["a"]
    assert cache.memo("r1", "slugs", lambda: ["not asked"]) == ["a"]
    assert cache.generation.lookup(_key(1)) == _stored("r1", 1)
    cache.observe("r2")
    assert cache.generation.lookup(_key(1)) is None
    assert cache.memo("r2", "slugs", lambda: ["b"]) == ["b"]


def test_what_was_built_from_another_release_is_not_kept() -> None:
    cache = _cache()
    cache.observe("r2")
    cache.store(_key(1), _stored("r1", 1))  # built from the old release while r2 was loaded
    assert cache.generation.lookup(_key(1)) is None
    assert cache.memo("r1", "slugs", lambda: ["old"]) == ["old"]
    assert "slugs" not in cache.generation.memo
    off = _cache(max_entries=0)
    off.observe("r1")
    off.store(_key(1), _stored("r1", 1))
    assert off.generation.lookup(_key(1)) is None


def test_one_release_check_at_a_time() -> None:
    """A burst of requests when the check is due makes one database call, not one each."""
    cache = _cache()
    cache.check_seconds = 0
    cache.observe("old")
    calls = 0
    started = anyio.Event()
    answer = anyio.Event()

    async def burst() -> list[str | None]:
        token = anyio.lowlevel.current_token()

        def read_release() -> str:
            nonlocal calls
            calls += 1
            anyio.from_thread.run_sync(started.set, token=token)
            anyio.from_thread.run(answer.wait, token=token)
            return "new"

        cache.read_release = read_release
        results: list[str | None] = []

        async def first() -> None:
            results.insert(0, (await cache.current()).release)

        async with anyio.create_task_group() as tasks:
            tasks.start_soon(first)
            await started.wait()  # the first request is now waiting on the database
            results.extend([(await cache.current()).release for _ in range(20)])
            answer.set()
        return results

    answers = anyio.run(burst)
    assert calls == 1
    assert answers == ["new"] + ["old"] * 20


def test_each_origin_gets_its_own_preloaded_answers(fixture_db_url: str) -> None:
    """Links name the origin, so preloaded answers are built per origin, for a few of them."""
    app = create_app(Settings(database_url=fixture_db_url, release_check_seconds=60))
    with TestClient(app) as client:
        wait_preloaded(app, client)
        generation = cache_of(app).generation
        client.get("/v1/meta", headers={"Host": "other.example"})
        assert generation.preloads["http://other.example"].wait(WAIT)
        with statements(app.state.engine) as seen:
            got = client.get("/v1/modalities/alpha", headers={"Host": "other.example"})
        assert seen == []
        assert got.json()["url"] == "http://other.example/v1/modalities/alpha"
        for n in range(2 * PRELOAD_ORIGINS):
            client.get("/v1/meta", headers={"Host": f"h{n}.example"})
        assert len(generation.preloads) == PRELOAD_ORIGINS
        for done in generation.preloads.values():
            assert done.wait(WAIT)
