"""Fuzz a running server with schemathesis, every check on: ``make fuzz`` (or
``python -m tests.fuzz_server [st run options]``).

Builds a SQLite database holding the real knowledge base in a temporary directory, starts
``therapy-kb serve`` on a free port, waits until ``/readyz`` answers, then runs ``st run
--checks all`` against ``/openapi.json``. How much it generates and how it reads the API are
set in ``schemathesis.toml`` at the root of the repository (with why); options given here are
passed on to ``st run`` and win over the file. Exits with schemathesis's status: 0 when no
check failed.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
PATIENCE_SECONDS = 300.0


def _ready(base: str) -> bool:
    try:
        return httpx.get(f"{base}/readyz", timeout=PATIENCE_SECONDS).status_code == 200
    except httpx.TransportError:
        return False


def fuzz(seed_dir: Path, extra: list[str]) -> int:
    """Serve ``seed_dir`` and fuzz it; schemathesis's exit status."""
    from tests.helpers import wait_until
    from tests.pgcluster import free_port

    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        env = {
            **os.environ,
            "THERAPY_KB_DATABASE_URL": f"sqlite:///{tmp}/kb.sqlite3",
            "THERAPY_KB_LOG_LEVEL": "warning",
        }
        cli = [sys.executable, "-m", "app.cli"]
        subprocess.run([*cli, "migrate"], env=env, check=True, capture_output=True)
        subprocess.run(
            [*cli, "seed", "--dir", str(seed_dir)], env=env, check=True, capture_output=True
        )
        server = subprocess.Popen([*cli, "serve", "--port", str(port)], env=env, cwd=ROOT)
        base = f"http://127.0.0.1:{port}"
        try:
            wait_until(lambda: _ready(base) or server.poll() is not None, "the server is ready")
            assert server.poll() is None, "the server exited"
            st = Path(sys.executable).with_name("st")
            done = subprocess.run(
                [str(st), "run", f"{base}/openapi.json", "--checks", "all", *extra], cwd=ROOT
            )
            return done.returncode
        finally:
            server.terminate()
            server.wait(timeout=PATIENCE_SECONDS)


if __name__ == "__main__":
    sys.exit(fuzz(ROOT / "seed", sys.argv[1:]))
