"""Representations at the edge: the 406 rule and ``Vary``, in front of the release cache.

- A ``GET`` whose ``Accept`` allows none of the media types its operation sends is answered 406
  (``app.http.negotiation.refusal``): in front of the release layer, so an answer kept in
  memory is refused too. Without ``Accept``, or with ``*/*``, nothing is parsed.
- The one place the app sets ``Vary``: ``Origin`` on every answer (CORS headers depend on it,
  so a shared cache must not hand one origin's answer to another), and ``Accept`` before it on
  every answer of an operation whose representation ``Accept`` chooses (errors and 304s
  included).
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.http.negotiation import MediaTypes, refusal
from app.http.problems import send_problem

VARY_ORIGIN = (b"vary", b"Origin")
VARY_ACCEPT = (b"vary", b"Accept, Origin")


class AcceptMiddleware:
    def __init__(self, app: ASGIApp, media_types: MediaTypes) -> None:
        self.app = app
        self.media_types = media_types

    def vary(self, path: str) -> tuple[bytes, bytes]:
        return VARY_ACCEPT if self.media_types.varies(path) else VARY_ORIGIN

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        vary = self.vary(scope["path"])

        async def varying(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), vary]
            await send(message)

        refused = refusal(self.media_types, scope)
        if refused is not None:
            await send_problem(varying, scope["path"], refused)
            return
        await self.app(scope, receive, varying)
