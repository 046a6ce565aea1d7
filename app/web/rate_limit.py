"""An optional per-client rate limit, counted by the ``limits`` library (moving window, in
memory, so per worker process: behind several replicas, limit in the proxy instead)."""

from __future__ import annotations

import math
import time

from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from starlette.types import ASGIApp, Receive, Scope, Send

from app.errors import TooManyRequests
from app.http.problems import send_problem


class RateLimitMiddleware:
    def __init__(self, app: ASGIApp, rate_limit: str) -> None:
        self.app = app
        self.limit = parse(rate_limit)
        self.limiter = MovingWindowRateLimiter(MemoryStorage())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            client = (scope.get("client") or ("unknown", 0))[0]
            if not self.limiter.hit(self.limit, client):
                reset = self.limiter.get_window_stats(self.limit, client).reset_time
                retry = max(1, math.ceil(reset - time.time()))
                over = TooManyRequests(f"Over the limit of {self.limit}; retry after {retry} s.")
                await send_problem(
                    send, scope["path"], over, [(b"retry-after", str(retry).encode())]
                )
                return
        await self.app(scope, receive, send)
