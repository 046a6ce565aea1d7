"""Reloading while serving: no request fails, and every response is wholly one release."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import yaml
from sqlalchemy import Engine
from sqlmodel import Session

from app.config import Settings
from app.db import create_db_engine
from app.domain import ExportFormat
from app.errors import SeedLocked
from app.export import export
from app.main import create_app
from app.migrate import upgrade
from app.seeding import load_seed, read_seed_dir
from tests.conftest import FIXTURE_SEED
from tests.helpers import PATIENCE_SECONDS, copy_seed, serve_in_thread


def second_release(tmp_path: Path) -> Path:
    seed_dir = copy_seed(FIXTURE_SEED, tmp_path / "second")
    release = yaml.safe_load((seed_dir / "release.yaml").read_text())
    release["version"] = "0.0.2"
    (seed_dir / "release.yaml").write_text(yaml.safe_dump(release))
    alpha = yaml.safe_load((seed_dir / "modalities" / "alpha.yaml").read_text())
    alpha["summary"] = "The second release's summary."
    alpha["pros"].append({"statement": "Added in the second release", "citations": ["alpha2001"]})
    (seed_dir / "modalities" / "alpha.yaml").write_text(yaml.safe_dump(alpha))
    return seed_dir


def test_reload_while_serving(
    settings: Settings, engine: Engine, db_url: str, tmp_path: Path
) -> None:
    first, second = FIXTURE_SEED, second_release(tmp_path)
    summary_of = {
        read_seed_dir(first).content_hash(): read_seed_dir(first).modalities[0].summary,
        read_seed_dir(second).content_hash(): "The second release's summary.",
    }
    load_seed(engine, read_seed_dir(first))
    failures: list[str] = []
    seen: set[str] = set()
    checked = 0
    stop = threading.Event()
    progress = threading.Condition()

    def reader(base: str) -> None:
        nonlocal checked
        with httpx.Client(base_url=base, timeout=PATIENCE_SECONDS) as client:
            while not stop.is_set():
                for path in ("/v1/modalities/alpha", "/v1/meta", "/v1/export?format=json"):
                    response = client.get(path)
                    if response.status_code != 200:
                        failures.append(f"{path}: {response.status_code} {response.text[:200]}")
                        continue
                    release = response.headers["x-kb-release"]
                    body = response.json()
                    seen.add(release)
                    if path == "/v1/meta" and body["content_hash"] != release:
                        failures.append(f"meta body {body['content_hash']} under {release}")
                    if path.startswith("/v1/modalities") and body["summary"] != summary_of[release]:
                        failures.append(f"alpha from another release under {release}")
                    if path.startswith("/v1/export"):
                        alpha = body["modalities"][0]
                        if (body["release"]["content_hash"], alpha["summary"]) != (
                            release,
                            summary_of[release],
                        ):
                            failures.append(f"export mixes releases under {release}")
                    with progress:
                        checked += 1
                        progress.notify_all()

    env = {**os.environ, "THERAPY_KB_DATABASE_URL": db_url}
    with serve_in_thread(
        create_app(settings.model_copy(update={"release_check_seconds": 0.0}))
    ) as base:
        readers = [threading.Thread(target=reader, args=(base,)) for _ in range(4)]
        for thread in readers:
            thread.start()

        def readers_read(reads: int) -> None:
            """Wait until the readers have checked ``reads`` more answers."""
            with progress:
                target = checked + reads
                assert progress.wait_for(
                    lambda: checked >= target or bool(failures), PATIENCE_SECONDS
                ), "the readers stopped reading"

        try:
            # A new release, then back to one loaded before: each kind of switch once (each
            # load is a process of its own, and the readers spin all the while).
            for seed_dir in (second, first):
                readers_read(12)  # every reader has read this release, or is reading it
                # The real command, as an operator would run it.
                done = subprocess.run(
                    [sys.executable, "-m", "app.cli", "seed", "--dir", str(seed_dir)],
                    env=env,
                    capture_output=True,
                    text=True,
                    timeout=PATIENCE_SECONDS,
                )
                assert done.returncode == 0, done.stderr
            readers_read(12)
        finally:
            stop.set()
            for thread in readers:
                thread.join(timeout=PATIENCE_SECONDS)
    assert not failures, failures[:5]
    assert seen == set(summary_of), "readers saw both releases"
    assert checked > 20


def content(engine: Engine) -> list[bytes]:
    """The knowledge base as NDJSON lines, minus the load time: equal means same content."""
    with Session(engine) as session:
        from app.queries import current_release

        release = current_release(session)
        assert release is not None
        lines = b"".join(export(session, release, ExportFormat.ndjson)).splitlines()
    return [line for line in lines if not line.startswith(b'{"type":"release"')]


def test_two_seed_loads_at_once(engine: Engine, tmp_path: Path) -> None:
    first, second = read_seed_dir(FIXTURE_SEED), read_seed_dir(second_release(tmp_path))
    load_seed(engine, first)
    outcomes: list[str] = []

    def load(seed: object) -> None:
        try:
            load_seed(engine, seed)  # type: ignore[arg-type]
            outcomes.append("loaded")
        except SeedLocked:
            outcomes.append("locked")

    threads = [threading.Thread(target=load, args=(s,)) for s in (second, first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=PATIENCE_SECONDS)  # a guard against hanging, not a measure
    assert len(outcomes) == 3, outcomes
    assert "loaded" in outcomes, outcomes
    # Whatever won, the database holds exactly one release, consistently.
    with Session(engine) as session:
        from app.queries import current_release

        loaded = current_release(session)
    assert loaded is not None
    final = first if loaded.content_hash == first.content_hash() else second
    assert loaded.content_hash == final.content_hash()
    # ... and exactly what a fresh database loaded with that release holds.
    fresh = create_db_engine(Settings(database_url=f"sqlite:///{tmp_path / 'fresh.sqlite3'}"))
    upgrade(fresh)
    load_seed(fresh, final)
    assert content(engine) == content(fresh)
    fresh.dispose()
