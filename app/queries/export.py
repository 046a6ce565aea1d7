"""Flat rows of every table, for the bulk export: natural ids that join across tables.

An indication is identified by its id, ``modality:condition:population[:variant]``; other claims
as ``modality#path`` (``ipt#pros[0]``): the same ids the API uses. Each function is one
statement, streamed in batches.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session, col

from app import models as m
from app.domain import (
    ClaimType,
    EffectDirection,
    EffectMeasure,
    claim_path,
    claim_ref,
    indication_id,
    oriented,
)
from app.queries.ordering import bytewise
from app.queries.trial_table import load_trial_table
from app.queries.trials import CSV_COLUMNS, csv_record

Parent = m.ParentCondition
BATCH = 1000
LIST_SEPARATOR = "; "


def _stream(session: Session, query: Any) -> Iterator[Any]:
    yield from session.execute(query.execution_options(yield_per=BATCH))


def modality_rows(session: Session) -> Iterator[dict[str, Any]]:
    for x in session.execute(select(m.Modality).order_by(bytewise(m.Modality.slug))).scalars():
        yield {
            "slug": x.slug,
            "name": x.name,
            "abbreviation": x.abbreviation,
            "category": x.category,
            "aliases": LIST_SEPARATOR.join(x.aliases),
            "summary": x.summary,
            "description": x.description,
            "origin": x.origin,
            "goals": LIST_SEPARATOR.join(x.goals),
        }


def condition_rows(session: Session) -> Iterator[dict[str, Any]]:
    query = (
        select(m.Condition, Parent.c.slug)
        .outerjoin(Parent, Parent.c.id == m.Condition.parent_id)
        .order_by(bytewise(m.Condition.slug))
    )
    for c, parent in _stream(session, query):
        yield {
            "slug": c.slug,
            "name": c.name,
            "parent": parent,
            "aliases": LIST_SEPARATOR.join(c.aliases),
            "lay_terms": LIST_SEPARATOR.join(c.lay_terms),
            "description": c.description,
        }


def condition_code_rows(session: Session) -> Iterator[dict[str, Any]]:
    query = (
        select(col(m.Condition.slug), m.ConditionCode)
        .join(m.Condition, col(m.Condition.id) == m.ConditionCode.condition_id)
        .order_by(bytewise(m.Condition.slug), col(m.ConditionCode.position))
    )
    for slug, code in _stream(session, query):
        yield {"condition": slug, "system": code.system, "code": code.code, "display": code.display}


def indication_rows(session: Session) -> Iterator[dict[str, Any]]:
    query = (
        select(col(m.Modality.slug), col(m.Condition.slug), m.Indication)
        .join(m.Modality, col(m.Modality.id) == m.Indication.modality_id)
        .join(m.Condition, col(m.Condition.id) == m.Indication.condition_id)
        .order_by(bytewise(m.Modality.slug), col(m.Indication.position))
    )
    for modality, condition, i in _stream(session, query):
        yield {
            "id": indication_id(modality, condition, i.population, i.variant),
            "modality": modality,
            "condition": condition,
            "evidence": i.evidence,
            "population": i.population,
            "variant": i.variant,
            "summary": i.summary,
            "grade_basis": i.grade_basis,
        }


def _indication_parts(table: Any) -> Any:
    """Rows of a table hanging off indications, with the parts of their indication's id."""
    return (
        select(
            col(m.Modality.slug),
            col(m.Condition.slug),
            col(m.Indication.population),
            col(m.Indication.variant),
            table,
            col(m.Citation.key),
        )
        .join(m.Indication, col(m.Indication.id) == table.indication_id)
        .join(m.Modality, col(m.Modality.id) == m.Indication.modality_id)
        .join(m.Condition, col(m.Condition.id) == m.Indication.condition_id)
        .join(m.Citation, col(m.Citation.id) == table.citation_id)
        .order_by(bytewise(m.Modality.slug), col(m.Indication.position), col(table.position))
    )


def guideline_rows(session: Session) -> Iterator[dict[str, Any]]:
    parts = _stream(session, _indication_parts(m.IndicationGuideline))
    for modality, condition, population, variant, g, key in parts:
        yield {
            "indication": indication_id(modality, condition, population, variant),
            "body": g.body,
            "document": g.document,
            "recommendation": g.recommendation,
            "citation": key,
            "note": g.note,
        }


def effect_rows(session: Session) -> Iterator[dict[str, Any]]:
    parts = _stream(session, _indication_parts(m.IndicationEffect))
    for modality, condition, population, variant, e, key in parts:
        low = e.low_risk_of_bias or {}
        turned: tuple[float | None, float | None, float | None] = (None, None, None)
        if e.direction is not None:
            turned = oriented(
                EffectMeasure(e.measure),
                EffectDirection(e.direction),
                e.value,
                e.ci_low,
                e.ci_high,
            )
        yield {
            "indication": indication_id(modality, condition, population, variant),
            "measure": e.measure,
            "direction": e.direction,
            "value": e.value,
            "ci_low": e.ci_low,
            "ci_high": e.ci_high,
            "oriented_value": turned[0],
            "oriented_ci_low": turned[1],
            "oriented_ci_high": turned[2],
            "studies": e.studies,
            "participants": e.participants,
            "comparator": e.comparator,
            "outcome": e.outcome,
            "citation": key,
            "note": e.note,
            **{f"low_rob_{k}": low.get(k) for k in LOW_ROB_FIELDS},
        }


# The low-risk-of-bias figure of an effect, flattened into the effect's row as low_rob_*.
LOW_ROB_FIELDS = ("value", "ci_low", "ci_high", "studies", "note")


def _indication_lists(session: Session) -> Iterator[tuple[str, m.Indication]]:
    query = (
        select(col(m.Modality.slug), col(m.Condition.slug), m.Indication)
        .join(m.Modality, col(m.Modality.id) == m.Indication.modality_id)
        .join(m.Condition, col(m.Condition.id) == m.Indication.condition_id)
        .order_by(bytewise(m.Modality.slug), col(m.Indication.position))
    )
    for modality, condition, i in _stream(session, query):
        yield indication_id(modality, condition, i.population, i.variant), i


def acceptability_rows(session: Session) -> Iterator[dict[str, Any]]:
    for id_, i in _indication_lists(session):
        for figure in i.acceptability or []:
            yield {"indication": id_, **figure}


def certainty_rows(session: Session) -> Iterator[dict[str, Any]]:
    for id_, i in _indication_lists(session):
        for rating in i.certainty or []:
            yield {"indication": id_, **rating}


def harm_rows(session: Session) -> Iterator[dict[str, Any]]:
    for id_, i in _indication_lists(session):
        for harm in i.harms or []:
            yield {"indication": id_, **harm}


def consideration_rows(session: Session) -> Iterator[dict[str, Any]]:
    query = (
        select(col(m.Modality.slug), m.Consideration)
        .join(m.Modality, col(m.Modality.id) == m.Consideration.modality_id)
        .order_by(
            bytewise(m.Modality.slug),
            bytewise(col(m.Consideration.kind)).desc(),
            col(m.Consideration.position),
        )
    )
    for modality, c in _stream(session, query):
        yield {
            "id": claim_ref(modality, claim_path(ClaimType.consideration, c.position, c.kind)),
            "modality": modality,
            "kind": c.kind,
            "statement": c.statement,
            "detail": c.detail,
        }


def format_rows(session: Session) -> Iterator[dict[str, Any]]:
    query = (
        select(col(m.Modality.slug), m.Format)
        .join(m.Modality, col(m.Modality.id) == m.Format.modality_id)
        .order_by(bytewise(m.Modality.slug), col(m.Format.position))
    )
    for modality, f in _stream(session, query):
        yield {
            "id": claim_ref(modality, claim_path(ClaimType.format, f.position)),
            "modality": modality,
            "delivery": f.delivery,
            "variant": f.variant,
            "sessions_min": f.sessions_min,
            "sessions_max": f.sessions_max,
            "weeks_min": f.weeks_min,
            "weeks_max": f.weeks_max,
            "session_minutes_min": f.session_minutes_min,
            "session_minutes_max": f.session_minutes_max,
            "group_size_min": f.group_size_min,
            "group_size_max": f.group_size_max,
            "notes": f.notes,
        }


def component_rows(session: Session) -> Iterator[dict[str, Any]]:
    query = (
        select(col(m.Modality.slug), m.Component)
        .join(m.Modality, col(m.Modality.id) == m.Component.modality_id)
        .order_by(bytewise(m.Modality.slug), col(m.Component.position))
    )
    for modality, c in _stream(session, query):
        yield {
            "id": claim_ref(modality, claim_path(ClaimType.component, c.position)),
            "modality": modality,
            "kind": c.kind,
            "name": c.name,
            "description": c.description,
        }


def _author(a: dict[str, str]) -> str:
    if "literal" in a:
        return a["literal"]
    return f"{a['family']}, {a['given']}" if a.get("given") else a["family"]


def citation_rows(session: Session) -> Iterator[dict[str, Any]]:
    for c in _stream(session, select(m.Citation).order_by(bytewise(m.Citation.key))):
        c = c[0]
        yield {
            "key": c.key,
            # Not "type": NDJSON records use that for the record's own kind.
            "csl_type": c.type,
            "title": c.title,
            "authors": LIST_SEPARATOR.join(_author(a) for a in c.authors),
            "year": c.year,
            "container_title": c.container_title,
            "volume": c.volume,
            "issue": c.issue,
            "pages": c.pages,
            "publisher": c.publisher,
            "doi": c.doi,
            "pmid": c.pmid,
            "pmcid": c.pmcid,
            "isbn": c.isbn,
            "url": c.url,
            "note": c.note,
        }


def claim_citation_rows(session: Session) -> Iterator[dict[str, Any]]:
    """Every (claim, citation) link; an indication's claim id is its id, another claim's is
    computed from its own row's position."""
    query = (
        select(
            col(m.ClaimCitation.claim_type),
            col(m.Modality.slug),
            # Exactly one claim table joins (none for a modality-level claim).
            func.coalesce(
                m.Indication.position,
                m.Consideration.position,
                m.Format.position,
                m.Component.position,
                0,
            ),
            col(m.Consideration.kind),
            col(m.Citation.key),
            col(m.Condition.slug),
            col(m.Indication.population),
            col(m.Indication.variant),
        )
        .join(m.Modality, col(m.Modality.id) == m.ClaimCitation.modality_id)
        .join(m.Citation, col(m.Citation.id) == m.ClaimCitation.citation_id)
        .outerjoin(m.Indication, col(m.Indication.id) == m.ClaimCitation.indication_id)
        .outerjoin(m.Condition, col(m.Condition.id) == m.Indication.condition_id)
        .outerjoin(m.Consideration, col(m.Consideration.id) == m.ClaimCitation.consideration_id)
        .outerjoin(m.Format, col(m.Format.id) == m.ClaimCitation.format_id)
        .outerjoin(m.Component, col(m.Component.id) == m.ClaimCitation.component_id)
        .order_by(bytewise(m.Modality.slug), col(m.ClaimCitation.id))
    )
    for claim_type, modality, position, kind, key, condition, population, variant in _stream(
        session, query
    ):
        claim_id = (
            indication_id(modality, condition, population, variant)
            if claim_type == ClaimType.indication.value
            else claim_ref(modality, claim_path(claim_type, position, kind))
        )
        yield {
            "claim_id": claim_id,
            "claim_type": claim_type,
            "modality": modality,
            "citation": key,
        }


RowSource = Callable[[Session], Iterator[dict[str, Any]]]


# Table name → (columns, row source), in the order the export writes them. The columns are
# spelled out so that an empty table still has its header.
def trial_dataset_rows(session: Session) -> Iterator[dict[str, Any]]:
    for d in session.execute(
        select(m.TrialDataset).order_by(col(m.TrialDataset.position))
    ).scalars():
        yield {
            "name": d.name,
            "title": d.title,
            "version": d.version,
            "commit": d.commit,
            "doi": d.doi,
            "licence": d.licence,
            "last_search": d.last_search.isoformat(),
            "rows": d.rows,
            "sha256": d.sha256,
        }


def trial_study_rows(session: Session) -> Iterator[dict[str, Any]]:
    query = (
        select(col(m.TrialDataset.name), m.TrialStudy)
        .join(m.TrialDataset, col(m.TrialDataset.id) == m.TrialStudy.dataset_id)
        .order_by(col(m.TrialDataset.position), bytewise(col(m.TrialStudy.trial_key)))
    )
    for dataset, st in _stream(session, query):
        yield {
            "id": f"{dataset}/{st.trial_key}",
            "dataset": dataset,
            "label": st.label,
            "year": st.year,
            "reference": st.reference,
        }


def trial_comparison_rows(session: Session) -> Iterator[dict[str, Any]]:
    for row in load_trial_table(session).rows:
        yield csv_record(row)


TABLES: dict[str, tuple[list[str], RowSource]] = {
    "modalities": (
        [
            "slug",
            "name",
            "abbreviation",
            "category",
            "aliases",
            "summary",
            "description",
            "origin",
            "goals",
        ],
        modality_rows,
    ),
    "conditions": (
        ["slug", "name", "parent", "aliases", "lay_terms", "description"],
        condition_rows,
    ),
    "condition_codes": (["condition", "system", "code", "display"], condition_code_rows),
    "indications": (
        [
            "id",
            "modality",
            "condition",
            "evidence",
            "population",
            "variant",
            "summary",
            "grade_basis",
        ],
        indication_rows,
    ),
    "guidelines": (
        ["indication", "body", "document", "recommendation", "citation", "note"],
        guideline_rows,
    ),
    "effects": (
        [
            "indication",
            "measure",
            "direction",
            "value",
            "ci_low",
            "ci_high",
            "oriented_value",
            "oriented_ci_low",
            "oriented_ci_high",
            "studies",
            "participants",
            "comparator",
            "outcome",
            "citation",
            "note",
            *(f"low_rob_{k}" for k in LOW_ROB_FIELDS),
        ],
        effect_rows,
    ),
    # "…_figures" so that an NDJSON record is an "acceptability_figure".
    "acceptability_figures": (
        [
            "indication",
            "outcome",
            "measure",
            "value",
            "ci_low",
            "ci_high",
            "comparator",
            "comparator_value",
            "studies",
            "participants",
            "citation",
            "note",
        ],
        acceptability_rows,
    ),
    "harms": (["indication", "statement", "citation"], harm_rows),
    # "…_ratings" so that an NDJSON record is a "certainty_rating".
    "certainty_ratings": (
        ["indication", "citation", "comparison", "rating", "highest", "system", "note"],
        certainty_rows,
    ),
    "considerations": (["id", "modality", "kind", "statement", "detail"], consideration_rows),
    "formats": (
        [
            "id",
            "modality",
            "delivery",
            "variant",
            "sessions_min",
            "sessions_max",
            "weeks_min",
            "weeks_max",
            "session_minutes_min",
            "session_minutes_max",
            "group_size_min",
            "group_size_max",
            "notes",
        ],
        format_rows,
    ),
    "components": (["id", "modality", "kind", "name", "description"], component_rows),
    "citations": (
        [
            "key",
            "csl_type",
            "title",
            "authors",
            "year",
            "container_title",
            "volume",
            "issue",
            "pages",
            "publisher",
            "doi",
            "pmid",
            "pmcid",
            "isbn",
            "url",
            "note",
        ],
        citation_rows,
    ),
    "claim_citations": (["claim_id", "claim_type", "modality", "citation"], claim_citation_rows),
    # The trial layer (empty for a release without one); trial references are data as each
    # dataset gives them, not entries of the citation list.
    "trial_datasets": (
        ["name", "title", "version", "commit", "doi", "licence", "last_search", "rows", "sha256"],
        trial_dataset_rows,
    ),
    "trial_studies": (["id", "dataset", "label", "year", "reference"], trial_study_rows),
    "trial_comparisons": (CSV_COLUMNS, trial_comparison_rows),
}
