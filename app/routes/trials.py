"""/v1/datasets, /v1/trials and /v1/pooled: the randomised-trial data and effects pooled from it.

Every route selects its rows with the same filters (``TrialFilterDep``), so ``/v1/pooled``
names the ``/v1/trials.csv`` request that downloads exactly the rows behind its figure.
"""

from __future__ import annotations

import csv
import io
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from app import schemas as s
from app.domain import (
    MODALITY_VARIANTS,
    Comparator,
    Delivery,
    Population,
    TherapyFamily,
    TimePoint,
)
from app.errors import InvalidParameter
from app.http.negotiation import readable, sent_as
from app.http.origin import UrlsDep
from app.queries.trial_table import CONTROL, DECISIVE, TrialFilter
from app.queries.trials import (
    CSV_COLUMNS,
    check_names,
    csv_record,
    get_trial,
    list_datasets,
    ndjson_lines,
    pooled,
    trial_rows,
    trials_page,
)
from app.release import ReleaseDep, Snapshot
from app.routes.params import ConditionDep, PagingDep, set_link_header
from app.suggest import suggest

router = APIRouter(tags=["trials"])

VARIANTS = sorted({v.value for vocabulary in MODALITY_VARIANTS.values() for v in vocabulary})
COMPARATORS = [CONTROL, DECISIVE, *(c.value for c in Comparator)]
FILTERS = (
    "modality",
    "family",
    "variant",
    "condition",
    "comparator",
    "format",
    "population",
    "risk_of_bias",
    "time",
    "min_year",
    "max_year",
    "dataset",
)
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such modality, condition or dataset; suggests the nearest name."}
}


def _one_of(parameter: str, value: str | None, allowed: list[str]) -> str | None:
    """``value`` if it is one of ``allowed``; else a 422 naming the parameter and the nearest."""
    if value is None or value in allowed:
        return value
    close = suggest(value, allowed)
    hint = f"; did you mean '{close}'?" if close else ""
    reason = f"'{value}' is not one of {', '.join(allowed)}{hint}"
    raise InvalidParameter(
        f"{parameter}: {reason}",
        errors=[{"parameter": parameter, "reason": reason, "suggestion": close}],
    )


class Filters:
    """The validated filters and the query string that gives them again (for ``trials_csv``
    and the pooled figures' URLs)."""

    def __init__(self, trial_filter: TrialFilter, params: dict[str, str]) -> None:
        self.trial_filter = trial_filter
        self.params = params

    def check(self, snapshot: Snapshot) -> None:
        check_names(
            snapshot.session,
            snapshot.memo,
            self.trial_filter.modality,
            self.trial_filter.dataset,
        )


def trial_filters(
    request: Request,
    condition: ConditionDep,
    modality: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=80,
            description="A modality's slug: cbt (the CBT family proper), ipt, dbt; group (rows"
            " delivered in a group) or online (rows the data flags as internet or mobile).",
            examples=["ipt"],
        ),
    ] = None,
    family: Annotated[
        TherapyFamily | None, Query(description="The therapy's family.", examples=["cbt"])
    ] = None,
    variant: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=40,
            description="A variant, from the curated layer's vocabulary: " + ", ".join(VARIANTS),
            json_schema_extra={"enum": VARIANTS},
        ),
    ] = None,
    comparator: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=40,
            description="A comparator class, 'control' for any control class (waiting list,"
            " usual care, placebo, no treatment, other controls), or"
            " 'usual-care-placebo-no-treatment' for those three (the controls a grade is read"
            " from).",
            json_schema_extra={"enum": COMPARATORS},
            examples=["control"],
        ),
    ] = None,
    format: Annotated[  # noqa: A002  (the public parameter name)
        Delivery | None, Query(description="Delivery format.", examples=["group"])
    ] = None,
    population: Annotated[
        Population | None, Query(description="Age group (or perinatal).", examples=["adults"])
    ] = None,
    risk_of_bias: Annotated[
        Literal["low"] | None,
        Query(description="'low': only rows rated at low risk of bias by their dataset's rule."),
    ] = None,
    time: Annotated[
        TimePoint, Query(description="post (post-treatment, the default) or follow-up.")
    ] = TimePoint.post,
    min_year: Annotated[
        int | None, Query(ge=1900, le=2100, description="Published in or after this year.")
    ] = None,
    max_year: Annotated[
        int | None, Query(ge=1900, le=2100, description="Published in or before this year.")
    ] = None,
    dataset: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=80,
            description="A dataset's name (see /v1/datasets).",
            examples=["depression-psyctr"],
        ),
    ] = None,
) -> Filters:
    _one_of("variant", variant, VARIANTS)
    _one_of("comparator", comparator, COMPARATORS)
    if min_year is not None and max_year is not None and min_year > max_year:
        reason = f"min_year {min_year} is after max_year {max_year}"
        raise InvalidParameter(reason, errors=[{"parameter": "min_year", "reason": reason}])
    trial_filter = TrialFilter(
        modality=modality,
        family=family.value if family else None,
        variant=variant,
        condition_ids=frozenset(condition.ids) if condition else None,
        comparator=comparator,
        format=format.value if format else None,
        population=population.value if population else None,
        low_risk_of_bias=risk_of_bias == "low",
        time=time.value,
        min_year=min_year,
        max_year=max_year,
        dataset=dataset,
    )
    # The filters as given, in one order, for the URLs that repeat them.
    params = {k: request.query_params[k] for k in FILTERS if k in request.query_params}
    return Filters(trial_filter, params)


TrialFilterDep = Annotated[Filters, Depends(trial_filters)]


@router.get(
    "/v1/datasets",
    operation_id="listDatasets",
    response_model=list[s.TrialDatasetInfo],
)
def datasets(snapshot: ReleaseDep, urls: UrlsDep) -> list[s.TrialDatasetInfo]:
    """The randomised-trial datasets this release holds, with their attribution (each is
    published under ODC-By 1.0: credit it wherever its figures appear), the date of their last
    literature search, and how many studies and comparisons of each are kept."""
    return list_datasets(snapshot.session, snapshot.memo, urls)


@router.get(
    "/v1/trials",
    operation_id="listTrials",
    response_model=s.Page[s.Trial],
    responses=NOT_FOUND,
)
def list_(
    request: Request,
    response: Response,
    snapshot: ReleaseDep,
    urls: UrlsDep,
    paging: PagingDep,
    filters: TrialFilterDep,
) -> s.Page[s.Trial]:
    """Trial comparisons, one per row (a therapy arm against a comparator, one instrument, one
    time point), in dataset and file order, filtered and paged. g is oriented so that a positive
    value favours the therapy; the dataset's own g is beside it. The whole filtered set is at
    /v1/trials.csv and /v1/trials.ndjson."""
    filters.check(snapshot)
    page = trials_page(
        snapshot.session, snapshot.memo, urls, filters.trial_filter, paging.limit, paging.offset
    )
    set_link_header(request, response, urls, page.total, paging)
    return page


@router.get(
    "/v1/trials.csv",
    operation_id="listTrialsCsv",
    response_class=Response,
    responses={
        200: {
            "description": "Every comparison the filters select, as CSV (UTF-8, header row):"
            " study, g, se and comparator first, the columns metafor needs.",
            "content": {"text/csv": {"schema": {"type": "string"}}},
        },
        **NOT_FOUND,
    },
)
def list_csv(snapshot: ReleaseDep, filters: TrialFilterDep) -> Response:
    """The whole filtered set of comparisons as CSV: the rows behind a /v1/pooled figure."""
    filters.check(snapshot)
    rows = trial_rows(snapshot.session, snapshot.memo, filters.trial_filter)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(csv_record(row))
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8", headers=snapshot.headers)


@router.get(
    "/v1/trials.ndjson",
    operation_id="listTrialsNdjson",
    response_class=Response,
    responses={
        200: {
            "description": "Every comparison the filters select, one JSON object per line.",
            "content": readable("application/x-ndjson", {"type": "string"}),
        },
        **NOT_FOUND,
    },
)
def list_ndjson(
    request: Request, snapshot: ReleaseDep, urls: UrlsDep, filters: TrialFilterDep
) -> Response:
    """The whole filtered set of comparisons as NDJSON (each line a /v1/trials item)."""
    filters.check(snapshot)
    rows = trial_rows(snapshot.session, snapshot.memo, filters.trial_filter)
    body = "".join(ndjson_lines(urls, rows))
    media_type = sent_as("application/x-ndjson", "application/x-ndjson", request)
    return Response(body, media_type=media_type, headers=snapshot.headers)


@router.get(
    "/v1/trials/{id}",
    operation_id="getTrial",
    response_model=s.TrialDetail,
    responses={404: {"description": "No such comparison; may suggest the nearest id."}},
)
def show(
    snapshot: ReleaseDep,
    urls: UrlsDep,
    id: Annotated[  # noqa: A002  (the public parameter name)
        str,
        Path(
            max_length=120,
            description="The dataset's name and the row's position in its file.",
            examples=["depression-psyctr-1"],
        ),
    ],
) -> s.TrialDetail:
    """One comparison, with its study and the study's reference as the dataset gives it
    (trial references are data, not entries of the citation list)."""
    return get_trial(snapshot.session, snapshot.memo, urls, id)


@router.get(
    "/v1/pooled",
    operation_id="getPooled",
    response_model=s.Pooled,
    responses=NOT_FOUND,
)
def pooled_(
    snapshot: ReleaseDep,
    urls: UrlsDep,
    filters: TrialFilterDep,
    method: Annotated[
        Literal["reml", "pm"],
        Query(description="Estimator of tau²: reml (restricted maximum likelihood) or pm"),
    ] = "reml",
) -> s.Pooled:
    """The random-effects pooled effect (Hedges' g, positive favours the therapy) of the
    comparisons the filters select: within a study, comparisons against one comparator class
    are merged first (correlation 0.6); intervals are Hartung-Knapp; with one effect nothing is
    pooled, with none every figure is null. `trials_csv` downloads exactly the rows behind it;
    docs/meta-analysis.md shows how to get the same figure in R's metafor."""
    filters.check(snapshot)
    csv_url = urls.trials_csv(filters.params)
    return pooled(snapshot.session, snapshot.memo, filters.trial_filter, method, csv_url)
