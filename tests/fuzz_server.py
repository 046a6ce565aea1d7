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

import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def fuzz(seed_dir: Path, extra: list[str]) -> int:
    """Serve ``seed_dir`` and fuzz it; schemathesis's exit status."""
    from app.config import Settings
    from app.db import create_db_engine
    from app.migrate import upgrade
    from app.seeding import load_seed, read_seed_dir
    from tests.helpers import PATIENCE_SECONDS, serve_in_process

    with tempfile.TemporaryDirectory() as tmp:
        database_url = f"sqlite:///{tmp}/kb.sqlite3"
        engine = create_db_engine(Settings(database_url=database_url))
        try:
            upgrade(engine)
            load_seed(engine, read_seed_dir(seed_dir))
        finally:
            engine.dispose()
        with serve_in_process(database_url) as base:
            # The document is built on its first request. Asked for here, where there is no time
            # limit but the guard against hanging, so that schemathesis, which gives loading it
            # 10 s, reads what is already built, however busy the machine.
            import httpx

            httpx.get(f"{base}/openapi.json", timeout=PATIENCE_SECONDS).raise_for_status()
            st = Path(sys.executable).with_name("st")
            done = subprocess.run(
                [str(st), "run", f"{base}/openapi.json", "--checks", "all", *extra], cwd=ROOT
            )
            return done.returncode


if __name__ == "__main__":
    sys.exit(fuzz(ROOT / "seed", sys.argv[1:]))
