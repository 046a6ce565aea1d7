"""Admission to the routes: at most one request per pooled database connection runs at once;
the others wait here, and only a queue longer than ``queue_limit`` is shed with a 503.

Requests that reach the routes each hold one database connection while they run, and hop
between worker threads. More of them at once than there are connections would leave threads
waiting for connections held by requests waiting for threads. So they wait here, in the event
loop, holding neither. A wait is bounded by ``db_pool_timeout_seconds``, like any wait for a
connection; a request that finds the queue full gets 503 with ``Retry-After`` at once, so that
an overload is refused early instead of answered late.
"""

from __future__ import annotations

import anyio
from starlette.types import ASGIApp, Receive, Scope, Send

from app.errors import ServiceUnavailable
from app.http.problems import RETRY_AFTER_SECONDS, send_problem
from app.urls import uses_database

RETRY_AFTER = [(b"retry-after", str(RETRY_AFTER_SECONDS).encode())]


class AdmissionMiddleware:
    def __init__(self, app: ASGIApp, slots: int, queue_limit: int, wait_seconds: float) -> None:
        self.app = app
        self.slots = anyio.Semaphore(slots)
        self.queue_limit = queue_limit
        self.wait_seconds = wait_seconds
        self.waiting = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not uses_database(scope["path"]):
            await self.app(scope, receive, send)
            return
        try:
            self.slots.acquire_nowait()
        except anyio.WouldBlock:
            if self.waiting >= self.queue_limit:
                busy = ServiceUnavailable("Too many requests are waiting for the database; retry.")
                await send_problem(send, scope["path"], busy, RETRY_AFTER)
                return
            self.waiting += 1
            try:
                with anyio.fail_after(self.wait_seconds):
                    await self.slots.acquire()
            except TimeoutError:
                slow = ServiceUnavailable("No database connection came free in time; retry.")
                await send_problem(send, scope["path"], slow, RETRY_AFTER)
                return
            finally:
                self.waiting -= 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.slots.release()
