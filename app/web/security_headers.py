"""Security headers on every response, errors included, by the part of the service a path
belongs to (``app.urls.area``): the API's, the documentation's, a page's, a figure's."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.urls import OPENAPI, Area, area

API_CSP = b"default-src 'none'; frame-ancestors 'none'"
# Swagger UI and ReDoc run their own inline bootstrap script and styles, all from this host.
DOCS_CSP = (
    b"default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    b"img-src 'self' data:; worker-src 'self' blob:; frame-ancestors 'none'"
)
COMMON = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer")]
API_HEADERS = [*COMMON, (b"content-security-policy", API_CSP)]
DOCS_HEADERS = [*COMMON, (b"content-security-policy", DOCS_CSP)]
# The explorer's pages load only the app's own stylesheet and figures: no inline script or
# style, and forms submit only here.
PAGE_CSP = b"default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
PAGE_HEADERS = [*COMMON, (b"content-security-policy", PAGE_CSP)]
# A figure drawn by matplotlib styles its shapes with style attributes; it runs nothing and
# loads nothing.
FIGURE_CSP = b"default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"
FIGURE_HEADERS = [*COMMON, (b"content-security-policy", FIGURE_CSP)]

HEADERS_OF = {Area.page: PAGE_HEADERS, Area.figure: FIGURE_HEADERS, Area.docs: DOCS_HEADERS}


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    @staticmethod
    def headers_for(path: str) -> list[tuple[bytes, bytes]]:
        if path == OPENAPI:
            return API_HEADERS  # the document is JSON, like the API's answers
        return HEADERS_OF.get(area(path), API_HEADERS)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = self.headers_for(scope["path"])

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), *extra]
            await send(message)

        await self.app(scope, receive, with_headers)
