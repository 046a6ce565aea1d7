"""Conditional GET and HEAD (RFC 9110): ``HEAD`` is answered as ``GET`` without the body, and
``If-None-Match`` matching the response's ``ETag`` turns a 200 into a 304 with no body.

The ETag itself is set further in (``app.web.release_cache``, or by a route that streams), and
so is ``Vary`` (``app.web.negotiation``): a 304 keeps both.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Headers a 304 repeats from the 200 it stands for (RFC 9110, section 15.4.5).
NOT_MODIFIED_KEEP = {b"etag", b"cache-control", b"vary", b"x-kb-release", b"content-location"}


def etag_matches(if_none_match: bytes, etag: bytes) -> bool:
    """Weak comparison, as If-None-Match asks: ``W/"x"`` matches ``"x"``; ``*`` matches all."""
    if if_none_match.strip() == b"*":
        return True
    for candidate in if_none_match.split(b","):
        candidate = candidate.strip()
        if candidate.startswith(b"W/"):
            candidate = candidate[2:]
        if candidate == etag:
            return True
    return False


class ConditionalGetMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        head = scope["method"] == "HEAD"
        if head:
            scope = {**scope, "method": "GET"}
        if_none_match = next((v for k, v in scope["headers"] if k == b"if-none-match"), None)
        if not head and if_none_match is None:
            await self.app(scope, receive, send)
            return
        bodiless = False

        async def conditional(message: Message) -> None:
            nonlocal bodiless
            if message["type"] == "http.response.start":
                bodiless = head
                if if_none_match is not None and message["status"] == 200:
                    etag = next((v for k, v in message.get("headers", ()) if k == b"etag"), None)
                    if etag is not None and etag_matches(if_none_match, etag):
                        kept = [(k, v) for k, v in message["headers"] if k in NOT_MODIFIED_KEEP]
                        message = {**message, "status": 304, "headers": kept}
                        bodiless = True
            elif message["type"] == "http.response.body" and bodiless:
                if message.get("more_body", False):
                    return  # the rest of the body is dropped; one empty message ends it
                message = {**message, "body": b""}
            await send(message)

        await self.app(scope, receive, conditional)
