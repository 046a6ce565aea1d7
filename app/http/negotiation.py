"""Media types and ``Accept``: what each operation sends, the one rule that refuses a request
whose ``Accept`` allows none of it (406), ``Vary: Accept``, and operations of their own for
each representation of an operation that has several.

**What an operation sends** is read once, at start-up, from its route: the media type of its
response class and those its declared 200 response lists (``offered``), the two things FastAPI
writes into the operation's 200 ``content`` in the OpenAPI document. The 406 rule, ``Vary`` and
the response cache's key all take it from there (``MediaTypes``), so the document and what the
API does cannot disagree.

**The rule** (``refusal``, applied by ``app.web.accept`` in front of the response cache): a
``GET`` whose ``Accept`` allows none of the operation's media types is answered 406, a problem
that lists them under ``available``. A request without ``Accept``, or with ``*/*``, is not
parsed at all. A header in which no media range can be read counts as absent. Errors are
``application/problem+json`` whatever ``Accept`` says. An operation that takes a ``format``
parameter lets it win: with ``format`` given, the route answers in that format and ``Accept``
is not consulted.

**Several representations** (the citation resources and the exports at their first paths):
``format`` picks one, else ``Accept`` (python-mimeparse; each type takes the q of the most
specific range that matches it, and ties go to the order declared, so ``*/*`` means the first,
JSON). Each such operation's answers, errors and 304s included, carry ``Vary: Accept``
(``app.web.accept``, the one place the app sets ``Vary``, adds it beside ``Origin``). An
operation with one media type sends no ``Vary: Accept``: its 200 is the same whatever
``Accept`` says, and its 406 is never stored by a cache (no ``Cache-Control`` or ``ETag``, and
406 is not cacheable by default, RFC 9111 section 4.2.2), so a shared cache keeps one copy of
it, not one per ``Accept`` header a client happens to send. Each representation is also an
operation of its own, at the path plus a suffix (``add_representations``): a client generated
from the OpenAPI document reads only the first media type of an answer and sends no ``Accept``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl

import mimeparse  # type: ignore[import-untyped]
from fastapi import APIRouter, Request, Response
from fastapi.datastructures import DefaultPlaceholder
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute
from starlette.types import Scope

from app.errors import NotAcceptable
from app.http.strict_query import declared

Responses = dict[int | str, dict[str, Any]]
MediaRange = tuple[str, str, dict[str, str]]  # type, subtype, parameters (q included)

# The Accept headers that allow anything and are common enough to skip parsing (curl, httpx,
# requests and most HTTP libraries send */*).
ANYTHING = frozenset({b"*/*", b""})
# The parameter that, where an operation takes it, names the representation and wins over Accept.
FORMAT_PARAMETER = "format"


@dataclass(frozen=True)
class Representation:
    """One way an operation with several representations can answer."""

    format: str  # its value of the format parameter
    media_type: str  # what Accept names and the OpenAPI document declares
    content_type: str  # the Content-Type sent (text formats say their charset)
    title: str  # for the documentation: "BibTeX"
    suffix: str | None  # the path suffix of its own operation (".bib"); None: no operation
    name: str  # that operation's id is the negotiating operation's id plus this ("Bibtex")
    schema: dict[str, Any] = field(default_factory=dict)
    example: Any = None

    def content(self) -> dict[str, Any]:
        """Its entry in an OpenAPI ``content``."""
        described: dict[str, Any] = {"schema": self.schema}
        if self.example is not None:
            described["example"] = self.example
        return {self.media_type: described}

    def own_content(self) -> dict[str, Any]:
        """Its ``content`` at its own path: its media type, then the generic one a generated
        client reads it as (``readable``)."""
        return readable(self.media_type, self.schema, self.example)

    def sent_as(self, request: Request) -> str:
        """The ``Content-Type`` of its answer at its own path (``sent_as``)."""
        return sent_as(self.media_type, self.content_type, request)


# ---------------------------------------------------------------------------------------------
# Generic media types, for generated clients
#
# openapi-python-client, left to its defaults, reads JSON (and any +json), text/* and
# application/octet-stream bodies, and drops an operation whose answer has no such media type.
# An operation at a path of its own whose media type is none of those therefore also offers the
# generic type its body is (text, or bytes), after its own: without Accept, or with one that
# prefers its own type, the answer is as before; a client that reads the document picks the
# type it can read. The body is the same either way.
GENERIC: dict[str, str] = {
    "application/x-bibtex": "text/plain",
    "application/x-research-info-systems": "text/plain",
    "application/x-ndjson": "text/plain",
    "application/zip": "application/octet-stream",
}


def readable(media_type: str, schema: dict[str, Any], example: Any = None) -> dict[str, Any]:
    """An OpenAPI ``content`` of one body: its media type, then its generic one when it has one."""
    described: dict[str, Any] = {"schema": schema}
    if example is not None:
        described["example"] = example
    content = {media_type: described}
    if media_type in GENERIC:
        content[GENERIC[media_type]] = {"schema": schema}
    return content


def sent_as(media_type: str, content_type: str, request: Request) -> str:
    """``content_type`` (``media_type`` with its parameters), or the generic type of
    ``media_type`` when the request's ``Accept`` prefers that (the 406 rule has already refused
    an ``Accept`` that allows neither)."""
    generic = GENERIC.get(media_type)
    header = accept_of(request)
    if generic is None or not header:
        return content_type
    found = preferred([media_type, generic], header)
    if found is None or found[0] == media_type:
        return content_type
    return f"{generic}; charset=utf-8" if generic.startswith("text/") else generic


# ---------------------------------------------------------------------------------------------
# Reading Accept


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


def preferred(offered: Sequence[str], header: str) -> tuple[str, dict[str, str]] | None:
    """The media type of ``offered`` that ``header`` prefers, with the parameters of the range
    that chose it (a citation style), or ``None`` when the header allows none of them.

    Each type takes the q of the most specific range that matches it, so
    ``*/*, application/x-bibtex;q=0`` excludes BibTeX; ties go to the order of ``offered``. A
    header in which no range can be read is treated as no header: the first type.
    """
    ranges = parse_accept(header)
    if not ranges:
        return offered[0], {}
    # python-mimeparse prefers the last of equally good types: offer them least preferred first.
    chosen = mimeparse.best_match(list(reversed(offered)), ",".join(_unparse(r) for r in ranges))
    if not chosen:
        return None
    # The parameters of the range that matched the chosen type best.
    best = max(ranges, key=lambda r: mimeparse.quality_and_fitness_parsed(chosen, [r])[1])
    return chosen, {k: v for k, v in best[2].items() if k != "q"}


def _unparse(media_range: MediaRange) -> str:
    type_, subtype, params = media_range
    return ";".join([f"{type_}/{subtype}", *(f"{k}={v}" for k, v in params.items() if k == "q")])


@lru_cache(maxsize=1024)
def acceptable(header: bytes, offered: tuple[str, ...]) -> bool:
    """Whether ``header`` allows one of ``offered``; kept per header, as clients repeat theirs."""
    return preferred(offered, header.decode("latin-1")) is not None


def not_acceptable(offered: Sequence[str]) -> NotAcceptable:
    available = list(offered)
    return NotAcceptable(
        f"none of the media types in Accept can be served; available: {', '.join(available)}",
        available=available,
    )


def accept_header(headers: Iterable[tuple[bytes, bytes]]) -> bytes | None:
    """The request's ``Accept``, several fields joined as one list; ``None`` when it has none."""
    values = [value for name, value in headers if name == b"accept"]
    if not values:
        return None
    return values[0] if len(values) == 1 else b",".join(values)


def accept_of(request: Request) -> str | None:
    """The request's ``Accept``, as ``accept_header`` reads it."""
    raw = accept_header(request.scope["headers"])
    return None if raw is None else raw.decode("latin-1")


def choose(
    representations: Sequence[Representation], header: str | None
) -> tuple[Representation, dict[str, str]]:
    """The representation ``Accept`` prefers (the first without one), and the parameters of the
    range that chose it."""
    if not header:
        return representations[0], {}
    found = preferred([r.media_type for r in representations], header)
    if found is None:
        # app.web.accept refuses such a request before routing; this keeps the function total.
        raise not_acceptable([r.media_type for r in representations])
    media_type, params = found
    return next(r for r in representations if r.media_type == media_type), params


# ---------------------------------------------------------------------------------------------
# What each operation sends


def offered(route: APIRoute) -> tuple[str, ...]:
    """The media types of the route's 200 answers, in the order FastAPI lists them in the
    OpenAPI document: its response class's (JSON unless the route says otherwise), then those
    of the ``content`` its ``responses`` declare for 200."""
    response_class = route.response_class
    if isinstance(response_class, DefaultPlaceholder):
        response_class = response_class.value
    types: list[str] = [response_class.media_type] if response_class.media_type else []
    declared_ok = route.responses.get(200) or route.responses.get("200") or {}
    types += [t for t in declared_ok.get("content", {}) if t not in types]
    return tuple(types)


@dataclass(frozen=True)
class Offer:
    path: str  # the operation's path, as the OpenAPI document names it
    types: tuple[str, ...]  # the media types of its 200 answers
    format_wins: bool  # it takes the format parameter, which wins over Accept


def _anonymous(pattern: str) -> str:
    """A route's path regex with its named groups unnamed, to join it with others."""
    return re.sub(r"\(\?P<\w+>", "(?:", pattern)


class MediaTypes:
    """What each ``GET`` operation of ``routes`` sends, found by path before routing (the first
    route whose path matches, as the router finds it)."""

    def __init__(self, routes: Iterable[BaseRoute]) -> None:
        self.offers: list[Offer] = []
        alternatives: list[str] = []
        varying: list[str] = []
        for route in routes:
            if not isinstance(route, APIRoute) or "GET" not in (route.methods or ()):
                continue
            types = offered(route)
            if not types:
                continue
            pattern = _anonymous(route.path_regex.pattern)
            alternatives.append(f"(?P<o{len(self.offers)}>{pattern})")
            format_wins = FORMAT_PARAMETER in declared(route).names
            self.offers.append(Offer(route.path_format, types, format_wins))
            if len(types) > 1:
                varying.append(f"(?:{pattern})")
        # One regex each. varies() runs on every request: most paths fail its short regex of
        # the varying operations, and only those that pass it are looked up in the long one
        # (/v1/citations/{key} matches /v1/citations/x.bib too, which is another operation).
        self._find = re.compile("|".join(alternatives)).match if alternatives else None
        self._varies = re.compile("|".join(varying)).match if varying else None

    def find(self, path: str) -> Offer | None:
        found = self._find(path) if self._find is not None else None
        if found is None or found.lastgroup is None:
            return None
        return self.offers[int(found.lastgroup[1:])]

    def varies(self, path: str) -> bool:
        """Whether the operation at ``path`` has several representations, chosen by Accept."""
        if self._varies is None or self._varies(path) is None:
            return False
        found = self.find(path)
        return found is not None and len(found.types) > 1


def _names_format(query_string: bytes) -> bool:
    pairs = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)
    return any(name == FORMAT_PARAMETER for name, _ in pairs)


def refusal(media_types: MediaTypes, scope: Scope) -> NotAcceptable | None:
    """The 406 a ``GET`` gets when its ``Accept`` allows none of what its operation sends; None
    otherwise (no header or ``*/*``: not parsed at all)."""
    accept = accept_header(scope["headers"])
    if accept is None or accept in ANYTHING or scope["method"] not in ("GET", "HEAD"):
        return None
    offer = media_types.find(scope["path"])
    if (
        offer is None
        or acceptable(accept, offer.types)
        or (offer.format_wins and _names_format(scope["query_string"]))
    ):
        return None
    return not_acceptable(offer.types)


# ---------------------------------------------------------------------------------------------
# An operation of its own for each representation


def add_representations(
    router: APIRouter,
    operation_id: str,
    operations: Mapping[str, Representation],
    endpoint: Callable[[Representation], Callable[..., Any]],
    what: str,
    responses: Responses | None = None,
) -> None:
    """For each literal path of ``operations`` (written out where it is called, so that a reader
    can grep for it) and the representation it serves, the operation ``operation_id`` + the
    representation's name, whose 200 declares that one media type; ``endpoint(representation)``
    answers it. Call it before adding a route whose last path parameter would take the suffix
    too (``/{key}`` matches ``x.bib``)."""
    for path, representation in operations.items():
        if representation.suffix is None or not path.endswith(representation.suffix):
            raise ValueError(f"{path} does not end in {representation.title}'s suffix")
        media_type = representation.media_type
        router.add_api_route(
            path,
            endpoint(representation),
            methods=["GET"],
            operation_id=operation_id + representation.name,
            summary=f"{what} ({representation.title})",
            description=(
                f"{what}, as {representation.title} ({media_type}) only: the answer of "
                f"{operation_id} with format={representation.format}, as an operation of its "
                "own, so that a client needs no Accept header to ask for it."
            ),
            response_class=Response,
            responses={
                200: {
                    "description": f"{what}, as {representation.title}.",
                    "content": representation.own_content(),
                },
                **(responses or {}),
            },
        )
