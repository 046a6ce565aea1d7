"""Release metadata, X-KB-Release, ETag / 304, Cache-Control, HEAD, CORS and offline docs.

What a reload or the database changes runs on both engines (``live``); the headers of a loaded
release on one (``client``, tests/conftest.py)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app.config import Settings
from app.main import create_app
from app.seeding import load_seed, read_seed_dir
from tests.conftest import FIXTURE_SEED
from tests.helpers import ORIGIN, copy_seed, statements

GETS = [
    "/v1/modalities",
    "/v1/modalities/alpha",
    "/v1/conditions/worry",
    "/v1/citations",
    "/v1/citations/alpha2001",
    "/v1/compare?modalities=alpha,beta",
    "/v1/indications?population=adults",
    "/v1/search?q=fixture",
    "/v1/meta",
    "/v1/export?format=ndjson",
    # Representations at their own paths.
    "/v1/citations.bib?limit=2",
    "/v1/citations/alpha2001.ris",
    "/v1/modalities/alpha/citations.txt?style=ieee",
    "/v1/export.zip",
]


@pytest.fixture
def live(settings: Settings, engine: Engine) -> Iterator[TestClient]:
    """A client over a database the test may reload; the release is re-checked every request."""
    load_seed(engine, read_seed_dir(FIXTURE_SEED))
    fresh = settings.model_copy(update={"release_check_seconds": 0.0})
    with TestClient(create_app(fresh)) as client:
        yield client


@pytest.fixture(scope="module")
def client(http_fixture_db_url: str) -> Iterator[TestClient]:
    """A client over the loaded fixture seed, for tests that only read."""
    with TestClient(create_app(Settings(database_url=http_fixture_db_url))) as client:
        yield client


ROOT = Path(__file__).resolve().parents[1]


def test_meta(live: TestClient) -> None:
    body = live.get("/v1/meta").json()
    seed = read_seed_dir(FIXTURE_SEED)
    assert body["content_hash"] == seed.content_hash()
    assert (body["name"], body["version"], body["license"]) == (
        "therapy-kb-fixture",
        "0.0.1",
        "CC-BY-4.0",
    )
    assert body["api_version"] == "v1"
    assert body["counts"] == {
        "modalities": 2,
        "conditions": 3,
        "condition_codes": 4,
        "indications": 4,
        "guideline_positions": 1,
        "effects": 2,
        "considerations": 6,
        "pros": 3,
        "cons": 3,
        "formats": 3,
        "components": 2,
        "citations": 3,
        "claim_citations": 18,
        # The fixture seed has no trial layer.
        "trial_datasets": 0,
        "trial_studies": 0,
        "trial_comparisons": 0,
    }
    assert [(e["level"], e["rank"]) for e in body["evidence_scale"]] == [
        ("strong", 4),
        ("moderate", 3),
        ("limited", 2),
        ("insufficient", 1),
    ]
    assert all(e["definition"] and e["criteria"] for e in body["evidence_scale"])
    # The rubric in the docs is the one served.
    rubric = (ROOT / "docs" / "evidence-grading.md").read_text(encoding="utf-8")
    for level in body["evidence_scale"]:
        for criterion in level["criteria"]:
            assert " ".join(criterion.split()) in " ".join(rubric.split()), criterion
    assert body["loaded_at"]


@pytest.mark.parametrize("url", GETS)
def test_every_get_has_release_etag_and_cache_control(client: TestClient, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 200
    assert response.headers["x-kb-release"] == read_seed_dir(FIXTURE_SEED).content_hash()
    assert re.fullmatch(r'"[0-9a-f]{32}"', response.headers["etag"])
    assert response.headers["cache-control"] == "public, max-age=300"

    again = client.get(url, headers={"If-None-Match": response.headers["etag"]})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == response.headers["etag"]
    assert again.headers["x-kb-release"] == response.headers["x-kb-release"]

    other = client.get(url, headers={"If-None-Match": '"0000"'})
    assert other.status_code == 200
    assert other.content == response.content


def test_etags_differ_by_representation(client: TestClient) -> None:
    etags = {client.get(url).headers["etag"] for url in GETS}
    assert len(etags) == len(GETS)


def test_if_none_match_lists_and_weak_validators(client: TestClient) -> None:
    etag = client.get("/v1/modalities/alpha").headers["etag"]
    for header in (f'"x", {etag}', f"W/{etag}", "*"):
        assert (
            client.get("/v1/modalities/alpha", headers={"If-None-Match": header}).status_code == 304
        )


def test_reload_changes_every_etag(live: TestClient, engine: Engine, tmp_path: Path) -> None:
    before = {url: live.get(url) for url in GETS}
    seed_dir = copy_seed(FIXTURE_SEED, tmp_path / "seed")
    release = yaml.safe_load((seed_dir / "release.yaml").read_text())
    release["version"] = "0.0.2"
    (seed_dir / "release.yaml").write_text(yaml.safe_dump(release))
    new = read_seed_dir(seed_dir)
    load_seed(engine, new)
    for url, old in before.items():
        response = live.get(url, headers={"If-None-Match": old.headers["etag"]})
        assert response.status_code == 200, url
        assert response.headers["etag"] != old.headers["etag"], url
        assert response.headers["x-kb-release"] == new.content_hash()


def test_cached_answer_survives_until_the_release_changes(
    live: TestClient, engine: Engine, tmp_path: Path
) -> None:
    first = live.get("/v1/modalities/alpha").json()
    seed_dir = copy_seed(FIXTURE_SEED, tmp_path / "seed", version="0.0.2")
    alpha = yaml.safe_load((seed_dir / "modalities" / "alpha.yaml").read_text())
    alpha["summary"] = "A summary from the second release."
    (seed_dir / "modalities" / "alpha.yaml").write_text(yaml.safe_dump(alpha))
    load_seed(engine, read_seed_dir(seed_dir))
    second = live.get("/v1/modalities/alpha").json()
    assert first["summary"] != second["summary"] == "A summary from the second release."


def test_head_is_get_without_body(client: TestClient) -> None:
    get = client.get("/v1/modalities/alpha")
    head = client.head("/v1/modalities/alpha")
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["etag"] == get.headers["etag"]
    assert head.headers["content-length"] == str(len(get.content))


def test_errors_carry_no_etag(client: TestClient) -> None:
    response = client.get("/v1/modalities/nosuch")
    assert response.status_code == 404
    assert "etag" not in response.headers
    assert "cache-control" not in response.headers


def test_a_code_redirect_passes_the_caching_layers(
    live: TestClient, engine: Engine, tmp_path: Path
) -> None:
    """A code's 308 is stamped with the release and Cache-Control (clients would keep a
    permanent redirect for ever without it), is never a 304, and follows a reload at once."""
    release = read_seed_dir(FIXTURE_SEED).content_hash()
    for headers in ({}, {"If-None-Match": "*"}):
        response = live.get("/v1/conditions/6z98", headers=headers, follow_redirects=False)
        assert response.status_code == 308
        assert response.headers["location"] == f"{ORIGIN}/v1/conditions/worry"
        assert response.headers["x-kb-release"] == release
        assert response.headers["cache-control"] == "public, max-age=300"
        assert "etag" not in response.headers
    head = live.head("/v1/conditions/6z98", follow_redirects=False)
    assert (head.status_code, head.content) == (308, b"")
    assert head.headers["location"] == f"{ORIGIN}/v1/conditions/worry"
    # The code moves to another condition in the next release: the redirect moves with it.
    seed_dir = copy_seed(FIXTURE_SEED, tmp_path / "seed", version="0.0.2")
    path = seed_dir / "conditions.yaml"
    conditions = yaml.safe_load(path.read_text())
    by_slug = {c["slug"]: c for c in conditions["conditions"]}
    by_slug["low-mood"]["codes"].append(by_slug["worry"].pop("codes")[0])
    path.write_text(yaml.safe_dump(conditions, sort_keys=False))
    load_seed(engine, read_seed_dir(seed_dir))
    moved = live.get("/v1/conditions/6z98", follow_redirects=False)
    assert moved.headers["location"] == f"{ORIGIN}/v1/conditions/low-mood"
    assert live.get("/v1/conditions/6z98").json()["slug"] == "low-mood"


def test_no_release_is_503_on_every_data_route(settings: Settings) -> None:
    with TestClient(create_app(settings)) as client:
        for url in GETS:
            response = client.get(url)
            assert response.status_code == 503, url
            assert response.headers["content-type"] == "application/problem+json"


def test_cors_preflight_and_exposed_headers(client: TestClient) -> None:
    preflight = client.options(
        "/v1/modalities",
        headers={"Origin": "https://app.example", "Access-Control-Request-Method": "GET"},
    )
    assert preflight.status_code == 200
    assert "GET" in preflight.headers["access-control-allow-methods"]
    response = client.get("/v1/modalities", headers={"Origin": "https://app.example"})
    assert response.headers["access-control-allow-origin"] == "*"
    exposed = {
        h.strip().lower() for h in response.headers["access-control-expose-headers"].split(",")
    }
    assert {"etag", "link", "x-kb-release"} <= exposed


def test_cors_origins_are_configurable(http_fixture_db_url: str) -> None:
    narrow = Settings(database_url=http_fixture_db_url, cors_origins=["https://allowed.example"])
    with TestClient(create_app(narrow)) as client:
        allowed = client.get("/v1/meta", headers={"Origin": "https://allowed.example"})
        denied = client.get("/v1/meta", headers={"Origin": "https://other.example"})
    assert allowed.headers["access-control-allow-origin"] == "https://allowed.example"
    assert "access-control-allow-origin" not in denied.headers


@pytest.mark.parametrize("url", ["/docs", "/redoc"])
def test_docs_work_offline(client: TestClient, url: str) -> None:
    page = client.get(url)
    assert page.status_code == 200
    # Every asset is served by the app itself: no absolute URL to another host.
    assert not re.findall(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", page.text), page.text
    assets = re.findall(r"""["'](/(?:static-offline-docs|redoc)/[^"']+)["']""", page.text)
    assert assets
    for asset in assets:
        assert client.get(asset).status_code == 200, asset
    assert "https://" not in page.text.replace("https://therapy-kb.example", "")


def test_a_burst_on_one_cold_url_is_built_once(fixture_db_url: str) -> None:
    """Fifty simultaneous requests for the same uncached answer run its queries once. (The
    plain detail is preloaded in memory; with citations included it is built per request.)"""
    from concurrent.futures import ThreadPoolExecutor

    import httpx

    from tests.helpers import serve_in_thread

    app = create_app(Settings(database_url=fixture_db_url, release_check_seconds=60))
    with serve_in_thread(app) as base:
        assert httpx.get(f"{base}/v1/meta").status_code == 200  # release check done, warm
        url = "/v1/modalities/alpha?include=citations"
        with statements(app.state.engine) as seen, ThreadPoolExecutor(max_workers=50) as pool:
            bodies = list(pool.map(lambda _: httpx.get(f"{base}{url}").content, range(50)))
    assert len(set(bodies)) == 1
    detail_loads = [s for s in seen if "WHERE modality.slug =" in s]
    assert len(detail_loads) == 1, len(detail_loads)


def test_vary_is_said_once_on_every_answer(live: TestClient) -> None:
    """One place sets Vary: Origin on every answer, with or without an Origin (so a cache never
    hands one origin's answer to another), Accept too where it chooses the representation."""
    origin = {"Origin": "https://app.example"}
    for url, vary in (("/v1/modalities", "Origin"), ("/v1/citations/alpha2001", "Accept, Origin")):
        for headers in ({}, origin):
            response = live.get(url, headers=headers)
            assert response.headers.get_list("vary") == [vary], (url, headers)
        etag = live.get(url).headers["etag"]
        again = live.get(url, headers={**origin, "If-None-Match": etag})
        assert (again.status_code, again.headers.get_list("vary")) == (304, [vary])
    # Without an Origin, no CORS header at all.
    assert "access-control-allow-origin" not in live.get("/v1/modalities").headers
