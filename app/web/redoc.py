"""ReDoc, served from this host alone.

The standalone bundle comes from fastapi-offline's PyPI package, like Swagger UI's. It draws an
attribution logo that it fetches from its authors' CDN, which no option turns off: the docs'
policy would refuse that request and the browser would report the refusal as an error. So the
bundle is served here with that one address replaced by an empty inline image (the policy
allows ``data:`` images); everything else in it is as the package ships it.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import fastapi_offline
from fastapi import APIRouter, Request, Response
from fastapi.openapi.docs import get_redoc_html
from fastapi.responses import HTMLResponse

from app.urls import OPENAPI

PAGE = "/redoc"
BUNDLE = "/redoc/redoc.standalone.js"  # under /redoc: the docs' area, the docs' policy
PACKAGE_STATIC = Path(fastapi_offline.__file__).resolve().parent / "static"
FAVICON = "/static-offline-docs/favicon.png"
LOGO = b'"https://cdn.redoc.ly/redoc/logo-mini.svg"'
EMPTY_IMAGE = b"\"data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg'/%3E\""

router = APIRouter(include_in_schema=False)


@lru_cache(maxsize=1)
def bundle() -> bytes:
    """The package's bundle with the logo's address made local; read once per process."""
    original = (PACKAGE_STATIC / "redoc.standalone.js").read_bytes()
    if original.count(LOGO) != 1:
        # A new ReDoc fetches something else from elsewhere: look before serving it.
        raise RuntimeError(f"{PACKAGE_STATIC}/redoc.standalone.js: expected one {LOGO!r}")
    return original.replace(LOGO, EMPTY_IMAGE)


@router.get(PAGE)
def redoc_page(request: Request) -> HTMLResponse:
    root = request.scope.get("root_path", "")
    return get_redoc_html(
        openapi_url=f"{root}{OPENAPI}",
        title=f"{request.app.title} - ReDoc",
        redoc_js_url=f"{root}{BUNDLE}",
        with_google_fonts=False,
        redoc_favicon_url=f"{root}{FAVICON}",
    )


@router.get(BUNDLE)
def redoc_bundle() -> Response:
    return Response(
        bundle(),
        media_type="text/javascript",
        headers={"Cache-Control": "public, max-age=86400"},
    )
