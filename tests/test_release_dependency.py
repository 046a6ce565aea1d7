"""``ReleaseDep`` (app/release/snapshot.py): a route gets the session and the release row that
session's transaction read first, and the answer is labelled with that release; no other
channel carries it."""

from __future__ import annotations

import ast
from collections.abc import Callable
from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from app import models as m
from app.config import Settings
from app.http.origin import UrlsDep
from app.main import create_app
from app.queries.modalities import get_modality
from app.release import ReleaseDep
from app.seeding import load_seed, read_seed_dir
from tests.conftest import FIXTURE_SEED
from tests.test_reloads import second_release

ROOT = Path(__file__).resolve().parent.parent


def _with_probe(app: FastAPI, during: list[Callable[[], object]]) -> FastAPI:
    """``app`` plus a route written as a new route would be: ``ReleaseDep``, then queries.
    Each callable in ``during`` runs between reading the release and the query."""
    router = APIRouter()

    @router.get("/v1/probe")
    def probe(snapshot: ReleaseDep, urls: UrlsDep) -> dict[str, str]:
        release = snapshot.release.content_hash
        for step in during:
            step()
        alpha = get_modality(
            snapshot.session, snapshot.memo, urls, "alpha", include_citations=False
        )
        stored = snapshot.session.execute(select(m.table(m.Release).c.content_hash)).scalar()
        return {"release": release, "stored": str(stored), "summary": alpha.summary}

    app.include_router(router)
    return app


def test_a_route_sees_the_release_its_queries_read(fixture_db_url: str) -> None:
    app = _with_probe(create_app(Settings(database_url=fixture_db_url)), [])
    with TestClient(app) as client:
        response = client.get("/v1/probe")
        body = response.json()
        assert body["release"] == body["stored"] == read_seed_dir(FIXTURE_SEED).content_hash()
        # The label, the ETag and 304 follow from the release the route read.
        assert response.headers["x-kb-release"] == body["release"]
        etag = response.headers["etag"]
        assert response.headers["cache-control"].startswith("public")
        again = client.get("/v1/probe", headers={"If-None-Match": etag})
        assert (again.status_code, again.headers["x-kb-release"]) == (304, body["release"])


def test_a_reload_during_a_request_is_not_mixed_into_it(
    settings: Settings, engine: Engine, tmp_path: Path
) -> None:
    """A load that commits after the route read the release is invisible to the rest of the
    request; the next request reads the new release whole."""
    first = read_seed_dir(FIXTURE_SEED)
    second = read_seed_dir(second_release(tmp_path))
    load_seed(engine, first)
    reloads: list[Callable[[], object]] = [lambda: load_seed(engine, second)]
    app = _with_probe(
        create_app(settings.model_copy(update={"release_check_seconds": 0.0})), reloads
    )
    with TestClient(app) as client:
        during = client.get("/v1/probe")
        assert during.json() == {
            "release": first.content_hash(),
            "stored": first.content_hash(),
            "summary": first.modalities[0].summary,
        }
        assert during.headers["x-kb-release"] == first.content_hash()
        reloads.clear()
        after = client.get("/v1/probe")
        assert after.json() == {
            "release": second.content_hash(),
            "stored": second.content_hash(),
            "summary": "The second release's summary.",
        }
        assert after.headers["x-kb-release"] == second.content_hash()
        assert after.headers["etag"] != during.headers["etag"]


def test_a_404_names_the_release_it_was_read_from(fixture_db_url: str) -> None:
    """The API's problem, the explorer's page and FHIR's OperationOutcome alike."""
    with TestClient(create_app(Settings(database_url=fixture_db_url))) as client:
        for path in ("/v1/modalities/alphaa", "/modalities/alphaa", "/fhir/PlanDefinition/x"):
            missing = client.get(path)
            assert missing.status_code == 404, path
            assert missing.headers["x-kb-release"] == read_seed_dir(FIXTURE_SEED).content_hash()
            assert "etag" not in missing.headers


HIDDEN = {"info", "state"}  # session.info, request.state


def _scope_state(node: ast.AST) -> bool:
    """``scope["state"]``, ``scope.get("state")``, ``scope.setdefault("state", ...)``."""
    if isinstance(node, ast.Subscript):
        key = node.slice
    elif (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in ("get", "setdefault")
        and node.args
    ):
        key = node.args[0]
    else:
        return False
    return isinstance(key, ast.Constant) and key.value == "state"


def test_no_hidden_channel_carries_the_release() -> None:
    """The release (and the origin, and the cache) reach code as ``ReleaseDep``, ``UrlsDep``
    or an argument: no module of ``app`` reads or writes ``session.info``, ``request.state``
    or ``scope["state"]``."""
    found = []
    for path in sorted((ROOT / "app").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            where = f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', 0)}"
            named = (
                node.attr
                if isinstance(node, ast.Attribute)
                else node.value
                if isinstance(node, ast.Constant) and isinstance(node.value, str)
                else None
            )
            if named is not None and "release" in named and "kb_" in named:
                found.append(f"{where}: {named}")
            if (
                isinstance(node, ast.Attribute)
                and node.attr in HIDDEN
                and isinstance(node.value, ast.Name)
                and node.value.id in ("session", "request")
            ):
                found.append(f"{where}: {node.value.id}.{node.attr}")
            if _scope_state(node):
                found.append(f"{where}: scope state")
    assert found == []
