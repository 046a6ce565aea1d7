"""The trial layer's named reads: datasets, comparisons (paged, whole, one), pooled effects.

Each reads the release's trial table (``trial_table``: seven statements the first time in a
release, none afterwards) and filters it in memory with the one filter every trial answer
shares. Unknown modality and dataset names are 404s that suggest the nearest name.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from app import models as m
from app import schemas as s
from app.errors import NotFound
from app.queries.common import Memo, not_found
from app.queries.trial_table import (
    Method,
    TrialFilter,
    TrialRow,
    TrialTable,
    pooled_out,
    trial_table,
)
from app.suggest import suggest
from app.urls import API, PATHS, Urls, trials_csv_path, with_query

# The columns of /v1/trials.csv (and of the export's trial_comparisons), in order: the first
# three are what metafor needs to pool (see docs/meta-analysis.md).
CSV_COLUMNS = [
    "study",
    "g",
    "se",
    "comparator",
    "id",
    "dataset",
    "row",
    "source_id",
    "study_label",
    "year",
    "condition",
    "modality",
    "family",
    "variant",
    "online_variant",
    "also_counts_for",
    "therapy_code",
    "comparator_code",
    "format",
    "population",
    "time",
    "time_code",
    "instrument",
    "outcome_kind",
    "outcome_type",
    "n_arm1",
    "n_arm2",
    "source_g",
    "source_se",
    "sign",
    "low_risk_of_bias",
    "risk_of_bias",
]


def check_names(session: Session, memo: Memo, modality: str | None, dataset: str | None) -> None:
    """404 for a modality or dataset name that does not exist, with the nearest one."""
    table = trial_table(session, memo)
    if modality is not None and modality not in table.modality_slugs.values():
        raise not_found(session, memo, "modality", m.Modality.slug, modality)
    if dataset is not None and table.dataset(dataset) is None:
        raise not_found(session, memo, "dataset", m.TrialDataset.name, dataset)


def list_datasets(session: Session, memo: Memo, urls: Urls) -> list[s.TrialDatasetInfo]:
    table = trial_table(session, memo)
    studies: Counter[str] = Counter()
    comparisons: Counter[str] = Counter()
    seen: set[str] = set()
    for r in table.rows:
        comparisons[r.dataset] += 1
        if r.study not in seen:
            seen.add(r.study)
            studies[r.dataset] += 1
    return [
        s.TrialDatasetInfo(
            **asdict(d),
            studies=studies[d.name],
            comparisons=comparisons[d.name],
            url=urls.absolute(with_query(f"{API}/trials", {"dataset": d.name})),
        )
        for d in table.datasets
    ]


def dataset_attributions(session: Session) -> list[s.DatasetAttribution]:
    """One statement: the datasets, for /v1/meta and the exports."""
    return [
        s.DatasetAttribution(name=d.name, version=d.version, doi=d.doi, licence=d.licence)
        for d in session.execute(
            select(m.TrialDataset).order_by(col(m.TrialDataset.position))
        ).scalars()
    ]


def trials_page(
    session: Session, memo: Memo, urls: Urls, f: TrialFilter, limit: int, offset: int
) -> s.Page[s.Trial]:
    rows = trial_table(session, memo).select(f)
    return s.Page[s.Trial](
        items=[r.out(urls) for r in rows[offset : offset + limit]],
        total=len(rows),
        limit=limit,
        offset=offset,
    )


def trial_rows(session: Session, memo: Memo, f: TrialFilter) -> list[TrialRow]:
    """Every comparison the filter selects, in dataset and file order."""
    return trial_table(session, memo).select(f)


def csv_record(r: TrialRow) -> dict[str, Any]:
    # The CSV has no url column: the record's address is not needed, so no origin either.
    out = r.out(PATHS).model_dump(mode="json")
    out["also_counts_for"] = "; ".join(out["also_counts_for"])
    return {column: out[column] for column in CSV_COLUMNS}


def get_trial(session: Session, memo: Memo, urls: Urls, id_: str) -> s.TrialDetail:
    table = trial_table(session, memo)
    found = table.by_id.get(id_)
    if found is None:
        close = suggest(id_, list(table.by_id))
        detail = f"no trial comparison '{id_}'"
        if close is not None:
            raise NotFound(f"{detail}; did you mean '{close}'?", suggestion=close)
        raise NotFound(detail)
    dataset = table.dataset(found.dataset)
    assert dataset is not None  # every row's dataset is in the table
    study = s.TrialStudy(
        id=found.study,
        label=found.study_label,
        year=found.year,
        reference=found.reference,
        dataset=dataset.attribution(),
        comparisons=[r.id for r in table.rows if r.study == found.study],
    )
    return s.TrialDetail(**found.out(urls).model_dump(), study_detail=study)


def pooled(
    session: Session, memo: Memo, f: TrialFilter, method: Method, trials_csv: str
) -> s.Pooled:
    """The pooled figure of the rows ``f`` selects; ``trials_csv`` is the absolute address
    that downloads them."""
    table: TrialTable = trial_table(session, memo)
    return pooled_out(table, table.select(f), method, trials_csv)


def ndjson_lines(urls: Urls, rows: list[TrialRow]) -> Iterator[str]:
    for r in rows:
        yield r.out(urls).model_dump_json() + "\n"


def indication_trials(
    session: Session,
    memo: Memo,
    modality: str,
    condition: str,
    population: str,
    variant: str | None,
    comparator: str,
) -> tuple[s.Pooled, dict[str, str]] | None:
    """An indication's pooled figure against one comparator class (or ``control``), study by
    study, as ``/v1/pooled`` gives it, with each study's label ('Aagaard, 2017'); the same rows
    as the indication's ``pooled`` figure. None when the condition is unknown or no row matches."""
    table = trial_table(session, memo)
    ids = {slug: id_ for id_, slug in table.condition_slugs.items()}
    if condition not in ids:
        return None
    f = TrialFilter(
        modality=modality,
        condition_ids=table.subtree(ids[condition]),
        population=population,
        variant=variant,
        comparator=comparator,
    )
    rows = table.select(f)
    if not rows:
        return None
    params = {
        "modality": modality,
        "condition": condition,
        "population": population,
        "comparator": comparator,
        **({"variant": variant} if variant is not None else {}),
    }
    figure = pooled_out(table, rows, "reml", trials_csv_path(params))
    return figure, {r.study: r.study_label for r in rows}
