"""FHIR's side of a request: its search parameters (as dependencies that validate them), the
paging links of a searchset, its response (``application/fhir+json``) and how the OpenAPI
document describes them.

Unknown and repeated parameters are refused (a client would otherwise get every resource and
believe its filter applied); every refusal is an ``InvalidParameter``, which the one error
writer (``app.http.problems``) answers under ``/fhir`` as a 400 ``OperationOutcome``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import Depends, Query, Request
from fastapi.responses import JSONResponse
from sqlmodel import Session

from app.errors import InvalidParameter
from app.fhir.resources import indication_key, searchset
from app.fhir.terminology import FHIR_JSON, ICD_SYSTEMS, SYSTEM_OF_URI
from app.http.strict_query import check_query
from app.queries.fhir import IndicationKey, StringMatch, StringMode, Window, conditions_coded
from app.release import Snapshot
from app.urls import Urls

MAX_COUNT = 100
DEFAULT_COUNT = 20
MAX_OFFSET = 100_000
ID_PATTERN = r"^[A-Za-z0-9\-.]{1,64}$"


class FhirResponse(JSONResponse):
    media_type = FHIR_JSON


# What the condition parameter's schema says, so that clients (and fuzzers) know the systems.
_TOKEN = (
    "(?:(?:" + "|".join(uri.replace(".", r"\.") for uri in ICD_SYSTEMS.values()) + r")?\|)?"
    r"[^,|\u0000-\u0008\u000b-\u001f\u007f]*"
)
CONDITION_PATTERN = f"^{_TOKEN}(?:,{_TOKEN})*$"


@dataclass(frozen=True)
class SearchParam:
    """One search parameter as the CapabilityStatement and the OpenAPI document describe it."""

    name: str
    type: Literal["token", "string", "reference"]
    documentation: str
    pattern: str | None = None  # what a valid value looks like, when a value can be invalid

    def capability(self) -> dict[str, str]:
        return {"name": self.name, "type": self.type, "documentation": self.documentation}


ID = SearchParam("_id", "token", "Resource ids, comma-separated for either.")
SEARCH_PARAMS: dict[str, list[SearchParam]] = {
    "PlanDefinition": [
        ID,
        SearchParam(
            "name",
            "string",
            "The modality's abbreviation (PlanDefinition.subtitle), e.g. IPT: starts with, in"
            " any case; name:exact matches it exactly, name:contains anywhere.",
        ),
        SearchParam(
            "title",
            "string",
            "The modality's name: starts with, in any case; title:exact, title:contains.",
        ),
    ],
    "Evidence": [
        ID,
        SearchParam(
            "condition",
            "token",
            "The condition: system|code with the ICD-10-CM or ICD-11 system, or a code alone"
            " (any system; also our condition slug), comma-separated for either;"
            " condition:below includes narrower conditions.",
            CONDITION_PATTERN,
        ),
        SearchParam(
            "intervention",
            "reference",
            "The PlanDefinition: PlanDefinition/ipt, its URL, or the id alone.",
        ),
    ],
    "Citation": [
        ID,
        SearchParam(
            "title", "string", "The work's title: starts with, in any case; :exact, :contains."
        ),
    ],
}
REST_DOCUMENTATION = (
    "Read and search only, JSON only. Searches page with _count (0-100, default 20; 0 counts"
    " only) and follow the Bundle's next link; unknown or repeated parameters are refused with"
    " a 400 OperationOutcome. Every answer carries an ETag (If-None-Match gives 304),"
    " Cache-Control and X-KB-Release."
)


def search_param(resource_type: str, name: str) -> SearchParam:
    return next(p for p in SEARCH_PARAMS[resource_type] if p.name == name)


# Dependencies --------------------------------------------------------------------------------


async def _format(
    format_: Annotated[
        Literal["json", "application/json", "application/fhir+json"] | None,
        Query(alias="_format", description="Only JSON is served; XML and Turtle are not."),
    ] = None,
) -> None:
    return None


async def strict_parameters(request: Request, _format: Annotated[None, Depends(_format)]) -> None:
    """Refuse parameters the route does not declare, and any parameter given twice (FHIR's
    either-or is one value with commas): the rule of every operation, ``app.http.strict_query``."""
    check_query(request)


StrictDep = Annotated[None, Depends(strict_parameters)]


async def window(
    count: Annotated[
        int,
        Query(
            alias="_count",
            ge=0,
            le=MAX_COUNT,
            description="Resources per page (0-100); 0 gives the total only.",
        ),
    ] = DEFAULT_COUNT,
    offset: Annotated[
        int,
        Query(
            alias="_offset",
            ge=0,
            le=MAX_OFFSET,
            description="Resources to skip; the Bundle's next link sets it.",
        ),
    ] = 0,
) -> Window:
    return Window(limit=count, offset=offset)


WindowDep = Annotated[Window, Depends(window)]


# Values --------------------------------------------------------------------------------------


def either(value: str | None) -> list[str] | None:
    """A comma-separated value as its alternatives (FHIR's 'or'); None when absent."""
    if value is None:
        return None
    return [part.strip() for part in value.split(",") if part.strip()]


def string_matches(**given: str | None) -> tuple[StringMatch, ...]:
    """A string parameter given plainly (``prefix=``) and with modifiers (``exact=``,
    ``contains=``): every one given must match."""
    return tuple(StringMatch(value, StringMode(mode)) for mode, value in given.items() if value)


def condition_ids(session: Session, value: str | None, below: str | None) -> list[int] | None:
    """The conditions ``condition`` and ``condition:below`` name; given both, those that both
    name (FHIR's 'and')."""
    found = [
        _coded(session, tokens, narrower)
        for tokens, narrower in ((either(value), False), (either(below), True))
        if tokens is not None
    ]
    if not found:
        return None
    return sorted(set.intersection(*found))


def _coded(session: Session, tokens: list[str], narrower: bool) -> set[int]:
    """The conditions any of these tokens (``system|code``, or a code alone) names."""
    found: set[int] = set()
    for token in tokens:
        system_uri, bar, code = token.partition("|")
        if not bar:
            found.update(conditions_coded(session, None, token, narrower))
            continue
        if not system_uri:
            continue  # '|code': a code without a system, and every code of ours has one
        system = SYSTEM_OF_URI.get(system_uri)
        if system is None:
            raise InvalidParameter(
                f"unknown code system '{system_uri}'; known: {', '.join(ICD_SYSTEMS.values())}",
                parameter="condition",
            )
        found.update(conditions_coded(session, system, code or None, narrower))
    return found


def plan_definition_ids(value: str | None) -> list[str] | None:
    """The ids a reference parameter names: ``ipt``, ``PlanDefinition/ipt`` or a URL ending so.
    A reference to another type of resource names none."""
    refs = either(value)
    if refs is None:
        return None
    ids = []
    for ref in refs:
        parts = ref.rstrip("/").split("/")
        if len(parts) == 1 or parts[-2] == "PlanDefinition":
            ids.append(parts[-1])
    return ids


def indication_keys(value: str | None) -> list[IndicationKey] | None:
    ids = either(value)
    if ids is None:
        return None
    return [key for key in map(indication_key, ids) if key is not None]


# Paging --------------------------------------------------------------------------------------


def page_links(request: Request, urls: Urls, total: int, page: Window) -> dict[str, str]:
    """self, and next/previous while there are more: absolute URLs keeping every parameter."""

    def url(offset: int) -> str:
        params = dict(request.query_params) | {"_count": str(page.limit), "_offset": str(offset)}
        return f"{urls.absolute(request.url.path)}?{urlencode(params)}"

    links = {"self": url(page.offset)}
    if page.limit and page.offset + page.limit < total:
        links["next"] = url(page.offset + page.limit)
    if page.limit and page.offset > 0:
        links["previous"] = url(max(page.offset - page.limit, 0))
    return links


# Responses ----------------------------------------------------------------------------------


def fhir_responses(resource_type: str, what: str) -> dict[int | str, dict[str, Any]]:
    """A route's 200 in the OpenAPI document (its errors are added there, as OperationOutcome)."""
    schema = {
        "type": "object",
        "description": f"A FHIR R5 {resource_type}: https://hl7.org/fhir/R5/"
        f"{resource_type.lower()}.html",
        "required": ["resourceType"],
        "properties": {
            "resourceType": {"type": "string", "enum": [resource_type]},
        },
    }
    return {200: {"description": what, "content": {FHIR_JSON: {"schema": schema}}}}


def search_query(resource_type: str, name: str, suffix: str = "") -> Any:
    """The ``Query`` of a search parameter (``suffix``: a modifier such as ``:exact``)."""
    param = search_param(resource_type, name)
    return Query(
        alias=name + suffix,
        min_length=1,
        max_length=500,
        description=param.documentation + (f" ({suffix[1:]} modifier)" if suffix else ""),
        # Documented, not enforced here: the search explains a value it cannot use.
        json_schema_extra={"pattern": param.pattern} if param.pattern else None,
    )


def searchset_response(
    request: Request,
    snapshot: Snapshot,
    urls: Urls,
    total: int,
    resources: list[Any],
    window: Window,
) -> FhirResponse:
    links = page_links(request, urls, total, window)
    resource = searchset(total, resources, urls.fhir_base, links)
    return FhirResponse(resource, headers=snapshot.headers)
