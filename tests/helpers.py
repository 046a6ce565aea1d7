"""Small helpers shared by the tests."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import Engine, MetaData, event, select

TABLES = [
    "release",
    "citation",
    "condition",
    "condition_code",
    "modality",
    "indication",
    "indication_guideline",
    "indication_effect",
    "consideration",
    "format",
    "component",
    "claim_citation",
    "search_document",
    "code_lookup",
    "trial_dataset",
    "trial_study",
    "trial_comparison",
]


def in_ci() -> bool:
    """Under CI=true, a missing tool is a failure, not a skip."""
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def require_metafor() -> None:
    """Skip a test that runs R's metafor where it is not installed; under CI=true, fail."""
    if shutil.which("Rscript") is not None:
        probe = subprocess.run(
            ["Rscript", "-e", "library(metafor)"], capture_output=True, check=False, timeout=120
        )
        if probe.returncode == 0:
            return
    if in_ci():
        pytest.fail("CI must run this test: install R and metafor (r-base-core r-cran-metafor)")
    pytest.skip("Rscript with metafor is not installed here (Debian: r-cran-metafor)")


def snapshot(engine: Engine, tables: list[str] = TABLES) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, sorted: equal snapshots mean an unchanged database."""
    meta = MetaData()
    meta.reflect(engine, only=tables)
    with engine.connect() as conn:
        return {
            name: sorted(tuple(map(repr, row)) for row in conn.execute(select(meta.tables[name])))
            for name in tables
        }


def copy_seed(source: Path, target: Path, version: str | None = None) -> Path:
    """A copy of a seed directory; with ``version``, released under that version (a changed
    copy loaded after the original needs one: a version names one content)."""
    shutil.copytree(source, target)
    if version is not None:
        release_file = target / "release.yaml"
        release = yaml.safe_load(release_file.read_text())
        release["version"] = version
        release_file.write_text(yaml.safe_dump(release, sort_keys=False))
    return target


def _code(i: int) -> str:
    """A well-formed, made-up ICD-11-shaped code per number (Y + three base-36 digits)."""
    digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    return "Y" + "".join(digits[(i // 36**k) % 36] for k in (2, 1, 0))


def write_grown_seed(target: Path, source: Path, extra: int) -> Path:
    """A copy of ``source`` whose modality ``alpha`` has ``extra`` more of every kind of claim
    (indications on as many new conditions, pros, cons, formats, components)."""
    import yaml

    seed_dir = copy_seed(source, target, version="0.1.0")
    conditions_path = seed_dir / "conditions.yaml"
    conditions = yaml.safe_load(conditions_path.read_text())
    alpha_path = seed_dir / "modalities" / "alpha.yaml"
    alpha = yaml.safe_load(alpha_path.read_text())
    for i in range(extra):
        slug = f"grown-{i}"
        conditions["conditions"].append(
            {
                "slug": slug,
                "name": f"Grown condition {i}",
                "parent": "mood-disorders",
                "codes": [{"system": "icd-11", "code": _code(i), "display": f"Grown {i}"}],
            }
        )
        alpha["indications"].append(
            {
                "condition": slug,
                "evidence": "moderate",
                "population": "adults",
                "summary": f"Grown indication {i}.",
                "grade_basis": f"Grown grade basis {i}.",
                "citations": ["alpha2001", "gamma2010"],
            }
        )
        alpha["pros"].append({"statement": f"Grown pro {i}", "citations": ["gamma2010"]})
        alpha["cons"].append({"statement": f"Grown con {i}", "citations": ["alpha2001"]})
        alpha["formats"].append(
            {
                "delivery": "telephone",
                "sessions": {"min": i, "max": i + 1},
                "citations": ["alpha2001"],
            }
        )
        alpha["components"].append(
            {
                "kind": "technique",
                "name": f"Grown {i}",
                "description": "Grown.",
                "citations": ["gamma2010"],
            }
        )
    conditions_path.write_text(yaml.safe_dump(conditions, sort_keys=False))
    alpha_path.write_text(yaml.safe_dump(alpha, sort_keys=False))
    return seed_dir


# TestClient's origin: every url field, Link and Location the API sends is absolute with it
# (app/http/origin.py).
ORIGIN = "http://testserver"


# How long a test waits for something that must happen before it gives up: a guard against
# hanging forever, never a measure of speed (a busy machine may be slow; only a broken one
# takes this long).
PATIENCE_SECONDS = 300.0


def wait_until(
    condition: Callable[[], object], what: str, detail: Callable[[], str] | None = None
) -> None:
    """Poll ``condition`` until it holds; fail only when it never does (saying ``detail()``,
    e.g. the tail of a server's log, beside ``what``)."""
    import time

    deadline = time.monotonic() + PATIENCE_SECONDS
    while not condition():
        if time.monotonic() >= deadline:
            raise AssertionError(f"never happened: {what}" + (f"\n{detail()}" if detail else ""))
        time.sleep(0.01)


@contextmanager
def serve_in_thread(app: Any) -> Iterator[str]:
    """Run ``app`` under a real uvicorn server on a free loopback port; yield its base URL
    once the server has started (its lifespan has run)."""
    import threading

    import uvicorn

    from tests.pgcluster import free_port

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_until(lambda: server.started or not thread.is_alive(), "uvicorn started")
    assert server.started, "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def serve_in_process(database_url: str) -> Iterator[str]:
    """``therapy-kb serve`` in a process of its own on a free loopback port, serving
    ``database_url``; yield its base URL once ``/readyz`` answers 200."""
    import subprocess
    import sys

    import httpx

    from tests.pgcluster import free_port

    port = free_port()
    env = {
        **os.environ,
        "THERAPY_KB_DATABASE_URL": database_url,
        "THERAPY_KB_LOG_LEVEL": "warning",
    }
    command = [sys.executable, "-m", "app.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
    server = subprocess.Popen(command, env=env, cwd=Path(__file__).resolve().parent.parent)
    base = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        try:
            return httpx.get(f"{base}/readyz", timeout=PATIENCE_SECONDS).status_code == 200
        except httpx.TransportError:
            return False

    try:
        wait_until(lambda: server.poll() is not None or ready(), "the server is ready")
        assert server.poll() is None, "the server exited"
        yield base
    finally:
        server.terminate()
        server.wait(timeout=PATIENCE_SECONDS)


@contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    """The SQL text of every statement the engine runs inside the block."""
    seen: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


# FHIR resources, parsed by the R5 models of fhir.resources.

FHIR_JSON = "application/fhir+json"


def valid(resource: dict[str, Any]) -> dict[str, Any]:
    """Parse with the R5 model of its type (a rejection raises), and each resource it holds."""
    import re

    from fhir.resources import get_fhir_model_class

    get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    # FHIR's id rule, which the models do not hold to its length.
    assert re.fullmatch(r"[A-Za-z0-9\-.]{1,64}", resource.get("id", "x")), resource.get("id")
    for entry in resource.get("entry", []):
        valid(entry["resource"])
    for contained in resource.get("contained", []):
        valid(contained)
    return resource


def fhir_get(client: Any, url: str, status: int = 200) -> dict[str, Any]:
    response = client.get(url)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == FHIR_JSON
    return valid(response.json())


def ids(bundle: dict[str, Any]) -> list[str]:
    assert bundle["resourceType"] == "Bundle"
    assert bundle["type"] == "searchset"
    return [entry["resource"]["id"] for entry in bundle.get("entry", [])]


def follow(client: Any, url: str) -> tuple[list[dict[str, Any]], int]:
    """Every resource of a search, following next links to the end; and the total."""
    resources: list[dict[str, Any]] = []
    totals = set()
    next_url: str | None = url
    while next_url is not None:
        bundle = fhir_get(client, next_url)
        totals.add(bundle["total"])
        resources.extend(entry["resource"] for entry in bundle.get("entry", []))
        links = {link["relation"]: link["url"] for link in bundle.get("link", [])}
        assert links["self"].startswith("http://testserver/fhir/")
        next_url = links.get("next")
        if next_url is not None:
            assert next_url.startswith("http://testserver/fhir/"), "next links are absolute"
            next_url = next_url.removeprefix("http://testserver")
    assert len(totals) == 1, "the total changed while paging"
    return resources, totals.pop()
