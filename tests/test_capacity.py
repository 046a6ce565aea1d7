"""Many requests that need the database at once: they queue and all get answers, with no
deadlock between the worker threads and the connection pool."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import httpx

from app.config import Settings
from app.main import create_app
from tests.helpers import serve_in_thread

CONCURRENT = 120  # well over the 40 worker threads and the 2 connections below


def test_burst_of_cache_misses_is_answered(fixture_db_url: str) -> None:
    settings = Settings(
        database_url=fixture_db_url,
        db_pool_size=2,
        db_max_overflow=0,
        response_cache_entries=0,  # every request goes to the database
        log_level="error",
    )
    with serve_in_thread(create_app(settings)) as base:

        def get(i: int) -> int:
            # Distinct URLs, each with several dependency and endpoint thread hops.
            url = f"{base}/v1/modalities?condition=mood-disorders&limit={1 + i % 100}&offset={i}"
            return httpx.get(url, timeout=30).status_code

        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=CONCURRENT) as pool:
            statuses = list(pool.map(get, range(CONCURRENT)))
        elapsed = time.monotonic() - started
        assert httpx.get(f"{base}/healthz").status_code == 200
    assert statuses == [200] * CONCURRENT
    assert elapsed < 15, f"{CONCURRENT} requests took {elapsed:.1f} s"
