"""/fhir: the knowledge base as a read-only FHIR R5 server (docs/fhir.md).

PlanDefinition per modality, Evidence per indication, Citation per work: read and search.
Parameters are validated in ``app.fhir.search``, resources built in ``app.fhir.resources``, and
errors sent as OperationOutcome by the one error writer, ``app.http.problems``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request

from app import models as m
from app.errors import NotFound
from app.fhir import resources as fr
from app.fhir.search import (
    ID_PATTERN,
    REST_DOCUMENTATION,
    SEARCH_PARAMS,
    FhirResponse,
    StrictDep,
    WindowDep,
    condition_ids,
    either,
    fhir_responses,
    indication_keys,
    plan_definition_ids,
    search_query,
    searchset_response,
    string_matches,
)
from app.fhir.terminology import Canonical
from app.http.origin import UrlsDep
from app.queries.common import not_found
from app.queries.fhir import (
    CitationSearch,
    IndicationRecord,
    IndicationSearch,
    ModalitySearch,
    Window,
    citation_page,
    citation_titles,
    indication_page,
    modality_page,
)
from app.queries.trial_table import trial_table
from app.release import ReleaseDep

router = APIRouter(tags=["fhir"], default_response_class=FhirResponse)


async def canonical_of(request: Request) -> Canonical:
    """Dependency: where canonical URLs live (the public origin ``app.main`` hands in)."""
    canon: Canonical = request.app.state.fhir_canonical
    return canon


CanonicalDep = Annotated[Canonical, Depends(canonical_of)]

ONE = Window(limit=1, offset=0)
FhirId = Annotated[
    str, Path(pattern=ID_PATTERN, description="The resource id.", examples=["ipt", "alpha"])
]


@router.get(
    "/fhir/metadata",
    operation_id="getFhirCapabilityStatement",
    responses=fhir_responses("CapabilityStatement", "What this server does."),
)
def metadata(
    snapshot: ReleaseDep, urls: UrlsDep, canon: CanonicalDep, _strict: StrictDep
) -> FhirResponse:
    """The CapabilityStatement: resources, interactions and search parameters."""
    params = {t: [p.capability() for p in ps] for t, ps in SEARCH_PARAMS.items()}
    return FhirResponse(
        fr.capability_statement(
            snapshot.release, urls.fhir_base, params, REST_DOCUMENTATION, canon
        ),
        headers=snapshot.headers,
    )


# PlanDefinition ------------------------------------------------------------------------------

PD = "PlanDefinition"


@router.get(
    "/fhir/PlanDefinition",
    operation_id="searchFhirPlanDefinitions",
    responses=fhir_responses("Bundle", "A searchset of PlanDefinitions."),
)
def search_plan_definitions(
    request: Request,
    snapshot: ReleaseDep,
    canon: CanonicalDep,
    urls: UrlsDep,
    window: WindowDep,
    _strict: StrictDep,
    ids: Annotated[str | None, search_query(PD, "_id")] = None,
    name: Annotated[str | None, search_query(PD, "name")] = None,
    name_exact: Annotated[str | None, search_query(PD, "name", ":exact")] = None,
    name_contains: Annotated[str | None, search_query(PD, "name", ":contains")] = None,
    title: Annotated[str | None, search_query(PD, "title")] = None,
    title_exact: Annotated[str | None, search_query(PD, "title", ":exact")] = None,
    title_contains: Annotated[str | None, search_query(PD, "title", ":contains")] = None,
) -> FhirResponse:
    """Search treatment protocols (one per modality) by id, name or title."""
    search = ModalitySearch(
        slugs=either(ids),
        abbreviation=string_matches(prefix=name, exact=name_exact, contains=name_contains),
        name=string_matches(prefix=title, exact=title_exact, contains=title_contains),
    )
    total, details = modality_page(snapshot.session, search, window)
    return searchset_response(
        request, snapshot, urls, total, _plan_definitions(snapshot, canon, details), window
    )


@router.get(
    "/fhir/PlanDefinition/{id}",
    operation_id="readFhirPlanDefinition",
    responses=fhir_responses(PD, "The modality's protocol."),
)
def read_plan_definition(
    snapshot: ReleaseDep, canon: CanonicalDep, id: FhirId, _strict: StrictDep
) -> FhirResponse:
    """One modality as a PlanDefinition: formats and components as its actions."""
    _, details = modality_page(snapshot.session, ModalitySearch(slugs=[id]), ONE)
    if not details:
        raise not_found(snapshot.session, snapshot.memo, "PlanDefinition", m.Modality.slug, id)
    return FhirResponse(_plan_definitions(snapshot, canon, details)[0], headers=snapshot.headers)


def _plan_definitions(snapshot: ReleaseDep, canon: Canonical, details: list[Any]) -> list[Any]:
    keys = {
        key
        for x in details
        for claim in (x, *x.pros, *x.cons, *x.formats, *x.components)
        for key in claim.citations
    }
    titles = citation_titles(snapshot.session, keys)
    release = snapshot.release
    return [fr.plan_definition(x, titles, release, canon) for x in details]


# Evidence ------------------------------------------------------------------------------------

EV = "Evidence"


@router.get(
    "/fhir/Evidence",
    operation_id="searchFhirEvidence",
    responses=fhir_responses("Bundle", "A searchset of Evidence."),
)
def search_evidence(
    request: Request,
    snapshot: ReleaseDep,
    canon: CanonicalDep,
    urls: UrlsDep,
    window: WindowDep,
    _strict: StrictDep,
    ids: Annotated[str | None, search_query(EV, "_id")] = None,
    condition: Annotated[str | None, search_query(EV, "condition")] = None,
    condition_below: Annotated[str | None, search_query(EV, "condition", ":below")] = None,
    intervention: Annotated[str | None, search_query(EV, "intervention")] = None,
) -> FhirResponse:
    """Search graded findings by condition code, intervention or id; strongest first."""
    search = IndicationSearch(
        keys=indication_keys(ids),
        condition_ids=condition_ids(snapshot.session, condition, condition_below),
        modalities=plan_definition_ids(intervention),
    )
    trials = trial_table(snapshot.session, snapshot.memo)
    total, records = indication_page(snapshot.session, search, window, trials)
    return searchset_response(
        request, snapshot, urls, total, _evidence(snapshot, canon, records), window
    )


@router.get(
    "/fhir/Evidence/{id}",
    operation_id="readFhirEvidence",
    responses=fhir_responses(EV, "The indication as a graded finding."),
)
def read_evidence(
    snapshot: ReleaseDep, canon: CanonicalDep, id: FhirId, _strict: StrictDep
) -> FhirResponse:
    """One indication (modality.condition.population) as Evidence."""
    keys = indication_keys(id) or []
    trials = trial_table(snapshot.session, snapshot.memo)
    _, records = indication_page(snapshot.session, IndicationSearch(keys=keys), ONE, trials)
    if not records:
        raise NotFound(f"no Evidence '{id}'; ids are modality.condition.population")
    return FhirResponse(_evidence(snapshot, canon, records)[0], headers=snapshot.headers)


def _evidence(snapshot: ReleaseDep, canon: Canonical, records: list[IndicationRecord]) -> list[Any]:
    keys = {
        key
        for r in records
        for key in (
            *r.indication.citations,
            *(e.citation for e in r.indication.effects),
            *(g.citation for g in r.indication.guidelines),
        )
    }
    titles = citation_titles(snapshot.session, keys)
    release = snapshot.release
    return [fr.evidence(r, titles, release, canon) for r in records]


# CodeSystem ----------------------------------------------------------------------------------


@router.get(
    "/fhir/CodeSystem/evidence-level",
    operation_id="readFhirEvidenceLevelCodeSystem",
    responses=fhir_responses("CodeSystem", "The evidence levels as a CodeSystem."),
)
def read_evidence_levels(
    snapshot: ReleaseDep, canon: CanonicalDep, _strict: StrictDep
) -> FhirResponse:
    """The evidence levels every Evidence's certainty is coded in, each with its definition."""
    return FhirResponse(
        fr.evidence_level_code_system(snapshot.release, canon), headers=snapshot.headers
    )


# Citation ------------------------------------------------------------------------------------

CI = "Citation"


@router.get(
    "/fhir/Citation",
    operation_id="searchFhirCitations",
    responses=fhir_responses("Bundle", "A searchset of Citations."),
)
def search_citations(
    request: Request,
    snapshot: ReleaseDep,
    canon: CanonicalDep,
    urls: UrlsDep,
    window: WindowDep,
    _strict: StrictDep,
    ids: Annotated[str | None, search_query(CI, "_id")] = None,
    title: Annotated[str | None, search_query(CI, "title")] = None,
    title_exact: Annotated[str | None, search_query(CI, "title", ":exact")] = None,
    title_contains: Annotated[str | None, search_query(CI, "title", ":contains")] = None,
) -> FhirResponse:
    """Search cited works by id or title."""
    keys = either(ids)
    search = CitationSearch(
        keys=[fr.citation_key(i) for i in keys] if keys is not None else None,
        title=string_matches(prefix=title, exact=title_exact, contains=title_contains),
    )
    total, citations = citation_page(snapshot.session, search, window)
    release = snapshot.release
    return searchset_response(
        request, snapshot, urls, total, [fr.citation(c, release, canon) for c in citations], window
    )


@router.get(
    "/fhir/Citation/{id}",
    operation_id="readFhirCitation",
    responses=fhir_responses(CI, "The cited work."),
)
def read_citation(
    snapshot: ReleaseDep, canon: CanonicalDep, id: FhirId, _strict: StrictDep
) -> FhirResponse:
    """One cited work as a Citation, with its DOI and PubMed ids."""
    key = fr.citation_key(id)
    _, citations = citation_page(snapshot.session, CitationSearch(keys=[key]), ONE)
    if not citations:
        raise not_found(snapshot.session, snapshot.memo, "Citation", m.Citation.key, key)
    return FhirResponse(
        fr.citation(citations[0], snapshot.release, canon), headers=snapshot.headers
    )
