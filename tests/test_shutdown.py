"""SIGTERM: the server stops taking connections, finishes what is in flight, and exits 0."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx

from app.config import Settings
from app.db import create_db_engine
from app.migrate import upgrade
from app.seeding import load_seed, read_seed_dir
from tests.conftest import FIXTURE_SEED
from tests.helpers import PATIENCE_SECONDS, wait_until, write_grown_seed
from tests.pgcluster import free_port


def test_sigterm_finishes_in_flight_requests(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'kb.sqlite3'}"
    engine = create_db_engine(Settings(database_url=url))
    upgrade(engine)
    # A few hundred claims, so the export is still streaming when the signal arrives.
    load_seed(engine, read_seed_dir(write_grown_seed(tmp_path / "seed", FIXTURE_SEED, 300)))
    engine.dispose()

    port = free_port()
    env = {**os.environ, "THERAPY_KB_DATABASE_URL": url, "THERAPY_KB_LOG_LEVEL": "warning"}
    server = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"

    def answers(path: str) -> bool:
        try:
            return httpx.get(f"{base}{path}", timeout=PATIENCE_SECONDS).status_code == 200
        except httpx.TransportError:
            return False

    try:
        wait_until(lambda: answers("/readyz"), "the server is ready")

        with (
            httpx.Client(base_url=base, timeout=PATIENCE_SECONDS) as client,
            client.stream("GET", "/v1/export?format=ndjson") as response,
        ):
            chunks = response.iter_bytes()
            body = next(chunks)
            server.send_signal(signal.SIGTERM)
            # New connections are refused once the signal is handled ...
            wait_until(lambda: not answers("/healthz"), "new connections are refused")
            # ... but the request in flight is finished.
            body += b"".join(chunks)
            assert response.status_code == 200
        records = [json.loads(line) for line in body.splitlines()]
        assert records[0]["type"] == "release"
        assert sum(r["type"] == "indication" for r in records) == 4 + 300
        assert server.wait(timeout=PATIENCE_SECONDS) == 0
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
