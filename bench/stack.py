"""The cost of the layers themselves: a cached answer replayed through the whole ASGI stack in
process (no socket, no server), ``app(scope, receive, send)`` in a loop.

    python -m bench.stack [--runs 7] [--requests 3000]

Seeds a SQLite database from ``seed/``, starts the app (its lifespan), asks once for each URL
so that it is kept in memory, then times ``--requests`` calls per run and reports the best of
``--runs`` in µs per request: the detail of a modality (200), the same with its ETag (304), and
the same with an ``Origin`` (CORS at work).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app
from bench import harness as h

DETAIL = "/v1/modalities/ipt"
Message = dict[str, Any]


def _scope(path: str, headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"localhost:8000"), *headers],
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 50000),
    }


async def _receive() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


async def _send(_message: Message) -> None:
    return None


def replay(
    app: Callable[..., Awaitable[None]], scope: dict[str, Any], requests: int
) -> Callable[[], Awaitable[float]]:
    async def run() -> float:
        started = time.perf_counter()
        for _ in range(requests):
            await app(dict(scope), _receive, _send)
        return (time.perf_counter() - started) / requests * 1e6

    return run


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.stack", description=__doc__)
    p.add_argument("--runs", type=int, default=7)
    p.add_argument("--requests", type=int, default=3000)
    args = p.parse_args(argv)
    with h.database("sqlite") as db:
        h.migrate_and_seed(db, h.REAL_SEED)
        settings = Settings(database_url=db.url, log_level="warning", release_check_seconds=3600)
        app = create_app(settings)
        with TestClient(app, base_url="http://localhost:8000") as client:
            etag = client.get(DETAIL).headers["etag"]
            portal = client.portal  # the event loop the app's lifespan runs in
            assert portal is not None
            cases = {
                "200": _scope(DETAIL, []),
                "304": _scope(DETAIL, [(b"if-none-match", etag.encode())]),
                "200 with Origin": _scope(DETAIL, [(b"origin", b"https://app.example")]),
            }
            for scope in cases.values():  # each kept in memory before it is timed
                portal.call(replay(app, scope, 1))
            lines = []
            for name, scope in cases.items():
                best = min(portal.call(replay(app, scope, args.requests)) for _ in range(args.runs))
                lines.append(f"{name:<16} {best:6.1f} µs per request (best of {args.runs})")
    sys.stdout.write("\n".join([h.revision(), *lines, ""]))


if __name__ == "__main__":
    main()
