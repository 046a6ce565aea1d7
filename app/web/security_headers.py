"""Security headers on every response, errors included. Which paths are pages and figures is
the explorer's to say: ``app.main`` hands its rules in."""

from __future__ import annotations

from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

API_CSP = b"default-src 'none'; frame-ancestors 'none'"
# Swagger UI and ReDoc run their own inline bootstrap script and styles, all from this host.
DOCS_CSP = (
    b"default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    b"img-src 'self' data:; worker-src 'self' blob:; frame-ancestors 'none'"
)
DOCS_PATHS = ("/docs", "/redoc", "/static-offline-docs")
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


class SecurityHeadersMiddleware:
    def __init__(
        self, app: ASGIApp, is_page: Callable[[str], bool], is_figure: Callable[[str], bool]
    ) -> None:
        """``is_page(path)``, ``is_figure(path)``: an HTML page, or an SVG figure, for people."""
        self.app = app
        self.is_page = is_page
        self.is_figure = is_figure

    def headers_for(self, path: str) -> list[tuple[bytes, bytes]]:
        if path.startswith(DOCS_PATHS):
            return DOCS_HEADERS
        if self.is_figure(path):
            return FIGURE_HEADERS
        if self.is_page(path):
            return PAGE_HEADERS
        return API_HEADERS

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
