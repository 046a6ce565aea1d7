"""Bursts: many requests that need the database at once queue for a connection and all get
answers; only a queue longer than its bound is refused, at once, with 503 and Retry-After."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import anyio
import httpx
from starlette.types import Message, Receive, Scope, Send

from app.config import Settings
from app.main import create_app
from app.web.admission import AdmissionMiddleware
from tests.helpers import serve_in_thread

CONCURRENT = 120  # well over the 40 worker threads and the 2 connections below
# Bounds that only a broken server reaches; nothing here depends on how fast the machine is.
PATIENCE = 600.0


def test_burst_of_cache_misses_is_answered(fixture_db_url: str) -> None:
    settings = Settings(
        database_url=fixture_db_url,
        db_pool_size=2,
        db_max_overflow=0,
        db_pool_timeout_seconds=PATIENCE,
        response_cache_entries=0,  # every request goes to the database
        preload_mb=0,
        log_level="error",
    )
    with serve_in_thread(create_app(settings)) as base:

        def get(i: int) -> int:
            # Distinct URLs, each with several dependency and endpoint thread hops.
            url = f"{base}/v1/modalities?condition=mood-disorders&limit={1 + i % 100}&offset={i}"
            return httpx.get(url, timeout=PATIENCE).status_code

        with ThreadPoolExecutor(max_workers=CONCURRENT) as pool:
            statuses = list(pool.map(get, range(CONCURRENT)))
        assert httpx.get(f"{base}/healthz").status_code == 200
    assert statuses == [200] * CONCURRENT


async def _call(app: AdmissionMiddleware) -> tuple[int, dict[str, str]]:
    scope: Scope = {"type": "http", "method": "GET", "path": "/v1/meta", "headers": []}
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b""}

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)
    start = sent[0]
    headers = {k.decode(): v.decode() for k, v in start.get("headers", [])}
    if start["status"] != 200:
        body = json.loads(b"".join(m.get("body", b"") for m in sent[1:]))
        assert body["status"] == start["status"] == 503
        assert headers["content-type"] == "application/problem+json"
    return start["status"], headers


def _held_app(release: anyio.Event) -> tuple[AdmissionMiddleware, list[str]]:
    """Admission around an app whose requests all wait for ``release``."""
    running: list[str] = []

    async def app(scope: Scope, _receive: Receive, send: Send) -> None:
        running.append(scope["path"])
        await release.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    return AdmissionMiddleware(app, slots=1, queue_limit=2, wait_seconds=PATIENCE), running


async def _until(condition: object) -> None:
    """Let the other tasks run until ``condition()`` holds."""
    with anyio.fail_after(PATIENCE):
        while not condition():  # type: ignore[operator]
            await anyio.lowlevel.checkpoint()


def test_only_a_queue_over_its_bound_is_shed() -> None:
    async def scenario() -> list[tuple[int, dict[str, str]]]:
        release = anyio.Event()
        admission, running = _held_app(release)
        results: list[tuple[int, dict[str, str]]] = []

        async def one() -> None:
            results.append(await _call(admission))

        async with anyio.create_task_group() as tasks:
            for _ in range(3):  # one runs, two wait
                tasks.start_soon(one)
            await _until(lambda: len(running) == 1 and admission.waiting == 2)
            shed = await _call(admission)  # the queue is full: refused at once
            assert results == []
            release.set()
        return [shed, *results]

    shed, *answered = anyio.run(scenario)
    assert shed[0] == 503
    assert int(shed[1]["retry-after"]) >= 1
    assert [status for status, _ in answered] == [200, 200, 200]


def test_a_wait_is_bounded_by_the_pool_timeout() -> None:
    async def scenario() -> tuple[int, dict[str, str]]:
        release = anyio.Event()
        admission, running = _held_app(release)
        admission.wait_seconds = 0.01  # the slot below is held until the wait has ended
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(_call, admission)
            await _until(lambda: len(running) == 1)
            timed_out = await _call(admission)
            release.set()
        return timed_out

    status, headers = anyio.run(scenario)
    assert status == 503
    assert "retry-after" in headers
