"""The public JSON shapes, separate from the tables: storage can change without breaking clients.

Field names are snake_case. Every claim carries ``citations``: the keys of the works that support
it, resolvable at ``/v1/citations/{key}``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from app.domain import (
    AcceptabilityMeasure,
    Category,
    Certainty,
    CitationType,
    ClaimType,
    CodeSystem,
    Comparator,
    ComponentKind,
    Delivery,
    EffectDirection,
    EffectMeasure,
    Evidence,
    ExportFormat,
    LowRiskOfBias,
    OnlineVariant,
    OutcomeKind,
    Population,
    Recommendation,
    SearchType,
    TherapyFamily,
    TimePoint,
)


def _example(example: dict[str, Any]) -> ConfigDict:
    return ConfigDict(json_schema_extra={"examples": [example]})


CITATIONS_FIELD = Field(
    description="Keys of the citations supporting this claim (see /v1/citations/{key}).",
    examples=[["lipsitz2013"]],
)


class Health(BaseModel):
    model_config = _example({"status": "ok"})

    status: str = Field(description="'ok' when the process is alive.")


class Readiness(BaseModel):
    model_config = _example({"status": "ready", "database": "ok", "release": "3f2a9c0d…"})

    status: str = Field(description="'ready'; otherwise the answer is a 503 problem.")
    database: str = Field(description="'ok' when the database answered.")
    release: str | None = Field(description="Content hash of the loaded release.")


class Code(BaseModel):
    model_config = _example({"system": "icd-10-cm", "code": "F32.9", "display": "…"})

    system: CodeSystem = Field(description="Coding system.")
    code: str = Field(description="The code, as the coding system writes it.")
    display: str = Field(description="The code's title.")


class Range(BaseModel):
    model_config = _example({"min": 12, "max": 16})

    min: int = Field(description="Lower bound (inclusive).", ge=0)
    max: int = Field(description="Upper bound (inclusive).", ge=0)


class GuidelinePosition(BaseModel):
    model_config = _example(
        {
            "body": "NICE",
            "document": "NG222: Depression in adults: treatment and management (2022)",
            "recommendation": "first-line",
            "citation": "nice2022",
            "note": None,
        }
    )

    body: str = Field(description="The guideline's author or rating body (NICE, APA …).")
    document: str = Field(description="The guideline or rating page, with its number and year.")
    recommendation: Recommendation = Field(
        description="Its position, from a closed vocabulary (see docs/evidence-grading.md)."
    )
    citation: str = Field(description="Key of the cited guideline document.")
    note: str | None = Field(description="What the position covers, in a sentence.")


class OrientedFigure(BaseModel):
    """An effect turned to favour the therapy above no effect (0 for differences, 1 for
    ratios): a difference negated, a ratio inverted, the interval's ends swapped, whenever the
    source's lower values favoured the therapy."""

    model_config = _example({"value": 0.84, "ci_low": 0.71, "ci_high": 0.97})

    value: float = Field(description="The estimate; above no effect favours the therapy.")
    ci_low: float | None = Field(description="Lower end of the 95% interval, when stated.")
    ci_high: float | None = Field(description="Upper end of the 95% interval, when stated.")


class Link(BaseModel):
    url: str = Field(description="Its address in this API.")


class RecordedLowRiskOfBias(BaseModel):
    """An effect as its cited work pools it in the studies it rates at low risk of bias alone,
    in the effect's own measure and sign, with the rubric's check on it."""

    model_config = _example(
        {
            "value": 0.5,
            "ci_low": 0.3,
            "ci_high": 0.7,
            "studies": 6,
            "note": None,
            "check": "holds",
        }
    )

    value: float = Field(description="The estimate, with the sign of the effect's figure.")
    ci_low: float = Field(description="Lower end of its 95% interval.")
    ci_high: float = Field(description="Upper end of its 95% interval.")
    studies: int | None = Field(description="Studies at low risk of bias, when stated.")
    note: str | None = Field(description="How the work restricted the studies, other caveats.")
    check: str = Field(
        description="'holds' (at least 3 studies, interval above no effect once oriented),"
        " 'fails' (at least 3, not above) or 'not-assessable' (fewer, not stated, or the"
        " effect's direction unknown).",
        examples=["holds"],
    )


class Effect(BaseModel):
    model_config = _example(
        {
            "measure": "g",
            "direction": "higher-favours-therapy",
            "value": 0.84,
            "ci_low": 0.71,
            "ci_high": 0.97,
            "studies": 28,
            "participants": None,
            "comparator": "mixed-control",
            "outcome": "Anxiety symptoms after treatment",
            "citation": "cuijpers2014",
            "note": None,
            "significant": True,
            "oriented": {"value": 0.84, "ci_low": 0.71, "ci_high": 0.97},
        }
    )

    measure: EffectMeasure = Field(
        description="g (Hedges), d (Cohen), SMD, RR, OR, HR or MD (mean difference)."
    )
    direction: EffectDirection | None = Field(
        description="Which way the figure favours the therapy (not the comparator):"
        " higher-favours-therapy or lower-favours-therapy; null only when the cited work does not"
        " state it (the note says so)."
    )
    value: float = Field(description="The estimate, with the sign the cited work gives it.")
    ci_low: float | None = Field(description="Lower end of the 95% interval, when stated.")
    ci_high: float | None = Field(description="Upper end of the 95% interval, when stated.")
    studies: int | None = Field(description="Studies behind the estimate, when stated.")
    participants: int | None = Field(description="Participants behind the estimate, when stated.")
    comparator: Comparator = Field(description="What the therapy was compared with.")
    outcome: str = Field(description="What was measured.")
    citation: str = Field(description="Key of the work that states the figure.")
    note: str | None = Field(description="Sign convention, interval type or other caveats.")
    significant: bool | None = Field(
        description="Whether the interval excludes no effect (0, or 1 for ratios); null without"
        " an interval."
    )
    oriented: OrientedFigure | None = Field(
        description="The same figure turned so that above no effect favours the therapy;"
        " null when the direction is not stated."
    )
    low_risk_of_bias: RecordedLowRiskOfBias | None = Field(
        default=None,
        description="The figure again in the cited work's studies at low risk of bias alone,"
        " where the work states one; null otherwise.",
    )


class Acceptability(BaseModel):
    model_config = _example(
        {
            "outcome": "Dropout from the study",
            "measure": "RR",
            "value": 1.39,
            "ci_low": 1.03,
            "ci_high": 1.88,
            "comparator": "waitlist",
            "comparator_value": None,
            "studies": None,
            "participants": None,
            "citation": "lewis2018",
            "note": None,
        }
    )

    outcome: str = Field(description="What was counted: dropout from treatment or the study.")
    measure: AcceptabilityMeasure = Field(
        description="RR or OR against the comparator (above 1: more dropout with the therapy),"
        " or proportion: the share who dropped out of the therapy."
    )
    value: float = Field(description="The figure as the cited work states it.")
    ci_low: float | None = Field(description="Lower end of the 95% interval, when stated.")
    ci_high: float | None = Field(description="Upper end of the 95% interval, when stated.")
    comparator: Comparator | None = Field(
        description="What the therapy was compared with; null for dropout overall."
    )
    comparator_value: float | None = Field(
        description="With a proportion: the comparator's proportion, when the work gives it."
    )
    studies: int | None = Field(description="Studies behind the figure, when stated.")
    participants: int | None = Field(description="Participants behind it, when stated.")
    citation: str = Field(description="Key of the work that states the figure.")
    note: str | None = Field(description="Which trials, which arms, other caveats.")


class CertaintyRating(BaseModel):
    """How a cited systematic review rates the certainty (or quality) of its evidence for one
    comparison, as it states it."""

    model_config = _example(
        {
            "citation": "storebo2020",
            "comparison": "DBT against treatment as usual",
            "rating": "low",
            "highest": None,
            "system": "GRADE",
            "note": None,
        }
    )

    citation: str = Field(description="Key of the review that gives the rating.")
    comparison: str = Field(description="The comparison the rating is for.")
    rating: Certainty = Field(
        description="high, moderate, low or very-low: the lowest level the review gives it."
    )
    highest: Certainty | None = Field(
        default=None, description="The top of the range, where the review gives a range."
    )
    system: str = Field(description="GRADE, or the review's own quality judgement.")
    note: str | None = Field(default=None, description="The review's wording, other caveats.")


class IndicationGrading(BaseModel):
    """What the grading rubric (docs/evidence-grading.md, ``app/grading.py``) allows for this
    indication from its guideline positions, its recorded effects and certainty ratings, its
    trial basis and, for a condition group, its members' levels."""

    model_config = _example(
        {
            "floor": "moderate",
            "ceiling": "moderate",
            "criteria_met": [
                "guideline recommends",
                "significant pooled effect against control (recorded effect)",
                "low-risk-of-bias check: not-assessable",
            ],
        }
    )

    floor: Evidence = Field(description="The lowest level the rubric allows.")
    ceiling: Evidence = Field(description="The highest level the rubric allows.")
    criteria_met: list[str] = Field(description="The rubric's findings, in its words.")


class Harm(BaseModel):
    model_config = _example(
        {"statement": "The review found no adverse outcomes reported.", "citation": "trauer2015"}
    )

    statement: str = Field(description="Deterioration or adverse events, in a sentence.")
    citation: str = Field(description="Key of the work that supports it.")


class DatasetAttribution(BaseModel):
    """A published trial dataset, as it must be credited wherever its figures appear."""

    model_config = _example(
        {
            "name": "depression-psyctr",
            "version": "24.0.2",
            "doi": "10.5281/zenodo.7254845",
            "licence": "ODC-By-1.0",
        }
    )

    name: str = Field(description="The dataset's name (see /v1/datasets).")
    version: str = Field(description="The version of the dataset read.")
    doi: str = Field(description="DOI of that version.")
    licence: str = Field(description="Its licence (ODC-By-1.0: attribution required).")


class IndicationPooled(BaseModel):
    """A pooled effect from the trial data, on an indication; ``url`` reproduces it in full."""

    comparator: str = Field(
        description="'control' (any control class) or one comparator class.",
        examples=["control", "waitlist"],
    )
    k_studies: int = Field(description="Studies pooled.")
    k_comparisons: int = Field(description="Trial rows (comparisons) behind them.")
    estimate: float | None = Field(description="Pooled Hedges' g; positive favours the therapy.")
    ci_low: float | None = Field(description="Lower end of the 95% interval (Hartung-Knapp).")
    ci_high: float | None = Field(description="Upper end of the 95% interval (Hartung-Knapp).")
    pi_low: float | None = Field(description="Lower end of the 95% prediction interval.")
    pi_high: float | None = Field(description="Upper end of the 95% prediction interval.")
    i2: float | None = Field(description="I² in percent.")
    datasets: list[str] = Field(description="Names of the datasets the rows come from.")
    url: str = Field(description="The /v1/pooled request that gives this figure in full.")


class LowRiskOfBiasCheck(BaseModel):
    """The grading figure again, in the studies rated at low risk of bias alone."""

    check: str = Field(
        description="'holds' (at least 3 such studies, 95% interval above no effect), 'fails'"
        " (at least 3, interval not above no effect) or 'not-assessable' (fewer than 3).",
        examples=["holds"],
    )
    k_studies: int = Field(description="Studies rated at low risk of bias.")
    estimate: float | None = Field(description="Their pooled Hedges' g (REML).")
    ci_low: float | None = Field(description="Lower end of its 95% interval (Hartung-Knapp).")
    ci_high: float | None = Field(description="Upper end of its 95% interval (Hartung-Knapp).")
    url: str = Field(description="The /v1/pooled request that gives it in full.")


class IndicationTrialBasis(BaseModel):
    """The pooled trial figure the grading rubric reads for this indication (our own
    computation on the trial datasets; docs/evidence-grading.md says how it is chosen)."""

    comparator_set: str = Field(
        description="'usual-care-placebo-no-treatment' when at least 3 studies used those"
        " controls, else 'any-control' (waiting lists included).",
        examples=["usual-care-placebo-no-treatment"],
    )
    comparators: list[str] = Field(description="The control classes the figure pools.")
    reason: str = Field(description="Why this set of controls, in words.")
    decides: bool = Field(
        description="Whether the figure is the pooled effect the rubric reads: false for one"
        " study, or for waiting-list controls alone."
    )
    waitlist_only: bool = Field(description="Only waiting-list controls: never decides alone.")
    population_stated: bool = Field(
        description="False where the datasets record no ages: the figure is over all ages."
    )
    favours_therapy: bool = Field(
        description="A pooled (2 or more studies) 95% interval wholly above no effect."
    )
    k_studies: int = Field(description="Studies pooled.")
    k_effects: int = Field(description="Effects pooled (one per study and comparator class).")
    participants: int | None = Field(description="Participants, where arm sizes are given.")
    estimate: float = Field(description="Pooled Hedges' g (REML); positive favours the therapy.")
    ci_low: float = Field(description="Lower end of the 95% interval (Hartung-Knapp).")
    ci_high: float = Field(description="Upper end of the 95% interval (Hartung-Knapp).")
    pi_low: float | None = Field(description="Lower end of the 95% prediction interval.")
    pi_high: float | None = Field(description="Upper end of the 95% prediction interval.")
    tau2: float | None = Field(description="Between-study variance (REML).")
    i2: float | None = Field(description="I² in percent.")
    egger_p: float | None = Field(description="Egger's test p-value (from 10 effects).")
    low_risk_of_bias: LowRiskOfBiasCheck = Field(
        description="The same figure in studies at low risk of bias alone."
    )
    datasets: list[DatasetAttribution] = Field(description="The datasets, with their version.")
    url: str = Field(description="The /v1/pooled request that gives this figure in full.")


class EvidenceBasis(BaseModel):
    """Why an indication has its level: the deciding sources, as sentences and as data."""

    grade_basis: str | None = Field(
        description="One or two sentences naming the sources that decide the level."
    )
    guidelines: list[GuidelinePosition] = Field(description="Guideline positions.")
    effects: list[Effect] = Field(description="Pooled or trial effects, as the works state them.")
    acceptability: list[Acceptability] = Field(
        default_factory=list,
        description="Dropout, against a comparator or overall, as the cited works state it.",
    )
    harms: list[Harm] = Field(
        default_factory=list,
        description="Deterioration and adverse events, as cited statements.",
    )
    pooled: list[IndicationPooled] = Field(
        default_factory=list,
        description="Pooled from the trial data (see /v1/pooled) for this modality, condition"
        " and population: against any control first, then per comparator class the data"
        " covers; empty where the data has no trial. Each names the URL that reproduces it.",
    )
    certainty: list[CertaintyRating] = Field(
        default_factory=list,
        description="The cited reviews' ratings of the certainty of their evidence; a low or"
        " very low one caps the level at moderate.",
    )
    grading: IndicationGrading | None = Field(
        default=None,
        description="The rubric's verdict (computed, once per release); the level lies between"
        " its floor and ceiling.",
    )
    trial_basis: IndicationTrialBasis | None = Field(
        default=None,
        description="The pooled trial figure the grading rubric reads (see"
        " docs/evidence-grading.md); null where the trial data holds no trial of it against a"
        " control.",
    )


class IndicationIdentity(BaseModel):
    """What names one indication: its id, its variant, and its own address."""

    id: str = Field(
        description="The indication's one id, modality:condition:population[:variant], the same"
        " in exports, search, release diffs and (with '.' for ':') FHIR."
    )
    variant: str | None = Field(
        description="The variant of the modality the evidence is for (from the modality's"
        " vocabulary: guided-icbt, dbt-a, erp …); null when it is for the modality as a whole."
    )
    record: Link = Field(description="This indication at /v1/indications/{id}.")


class Indication(EvidenceBasis, IndicationIdentity):
    model_config = _example(
        {
            "id": "cbt:major-depression:adults",
            "variant": None,
            "record": {"url": "/v1/indications/cbt:major-depression:adults"},
            "condition": "major-depression",
            "condition_name": "Major depressive disorder",
            "codes": [{"system": "icd-11", "code": "6A70", "display": "…"}],
            "evidence": "strong",
            "population": "adults",
            "summary": "…",
            "grade_basis": "…",
            "guidelines": [],
            "effects": [],
            "acceptability": [],
            "harms": [],
            "citations": ["cuijpers2011"],
        }
    )

    condition: str = Field(description="Slug of the condition.")
    condition_name: str = Field(description="Name of the condition.")
    codes: list[Code] = Field(description="The condition's ICD codes.")
    evidence: Evidence = Field(description="Evidence level on the ordered scale (see /v1/meta).")
    population: Population = Field(description="Population the evidence concerns.")
    summary: str = Field(description="One line on what the evidence shows.")
    citations: list[str] = CITATIONS_FIELD


class Consideration(BaseModel):
    model_config = _example({"statement": "Time-limited", "detail": "…", "citations": ["x"]})

    statement: str = Field(description="The pro or con, in a few words.")
    detail: str | None = Field(description="Explanation, when there is more to say.")
    citations: list[str] = CITATIONS_FIELD


class Format(BaseModel):
    model_config = _example(
        {
            "delivery": "individual",
            "variant": None,
            "sessions": {"min": 12, "max": 16},
            "weeks": {"min": 12, "max": 16},
            "session_minutes": {"min": 45, "max": 50},
            "group_size": None,
            "notes": "…",
            "citations": ["x"],
        }
    )

    delivery: Delivery = Field(description="How the modality is delivered.")
    variant: str | None = Field(
        default=None,
        description="The variant this format delivers (from the modality's vocabulary), if one.",
    )
    sessions: Range | None = Field(description="Typical number of sessions.")
    weeks: Range | None = Field(description="Typical duration in weeks.")
    session_minutes: Range | None = Field(description="Typical session length in minutes.")
    group_size: Range | None = Field(description="Members per group, for group formats.")
    notes: str | None = Field(description="Anything the numbers do not say.")
    citations: list[str] = CITATIONS_FIELD


class Component(BaseModel):
    model_config = _example(
        {"kind": "problem_area", "name": "Role transitions", "description": "…", "citations": ["x"]}
    )

    kind: ComponentKind = Field(description="What sort of part this is.")
    name: str = Field(description="Its name.")
    description: str = Field(description="What it is and does.")
    citations: list[str] = CITATIONS_FIELD


class Author(BaseModel):
    family: str | None = Field(default=None, description="Family name (a person).")
    given: str | None = Field(default=None, description="Given names or initials (a person).")
    literal: str | None = Field(default=None, description="Name of an organisation.")


class Citation(BaseModel):
    model_config = _example(
        {
            "key": "lipsitz2013",
            "type": "article-journal",
            "title": "Mechanisms of change in interpersonal therapy (IPT)",
            "authors": [{"family": "Lipsitz", "given": "J. D."}],
            "year": 2013,
            "container_title": "Clinical Psychology Review",
            "volume": "33",
            "issue": "8",
            "pages": "1134-1147",
            "publisher": None,
            "doi": "10.1016/j.cpr.2013.09.002",
            "pmid": "24100081",
            "pmcid": "PMC4109031",
            "isbn": None,
            "source_url": None,
            "note": None,
            "url": "/v1/citations/lipsitz2013",
        }
    )

    key: str = Field(description="Stable key of the citation.")
    type: CitationType = Field(description="CSL item type.")
    title: str
    authors: list[Author]
    year: int | None = Field(description="Publication year, when verified.")
    container_title: str | None = Field(description="Journal or book the work appears in.")
    volume: str | None
    issue: str | None
    pages: str | None
    publisher: str | None
    doi: str | None
    pmid: str | None
    pmcid: str | None
    isbn: str | None
    source_url: str | None = Field(
        description="The work's own record (publisher, PubMed or PMC page), where it was checked."
    )
    note: str | None = Field(description="Curators' note on the reference.")
    url: str = Field(description="This citation in the API.")


class ClaimRef(BaseModel):
    model_config = _example(
        {
            "modality": "ipt",
            "type": "indication",
            "path": "indications[0]",
            "id": "ipt:major-depression:adults",
            "text": "IPT for Major depressive disorder (strong, adults)",
            "url": "/v1/indications/ipt:major-depression:adults",
        }
    )

    modality: str = Field(description="Slug of the modality the claim belongs to.")
    type: ClaimType = Field(description="What kind of claim.")
    path: str = Field(description="Where the claim sits in the modality ('' for the modality).")
    id: str = Field(
        description="Public id of the claim: an indication's id"
        " (modality:condition:population[:variant]), or modality#path for any other claim."
    )
    text: str = Field(description="The claim in brief.")
    url: str = Field(
        description="An indication's own record; for any other claim, the modality carrying it."
    )


class CitationDetail(Citation):
    cited_by: list[ClaimRef] = Field(description="Every claim that cites this work.")


class ModalityCitations(BaseModel):
    model_config = _example({"modality": "ipt", "items": []})

    modality: str = Field(description="Slug of the modality.")
    items: list[Citation] = Field(description="Every work the modality cites, once, in key order.")


class ModalitySummary(BaseModel):
    model_config = _example(
        {
            "slug": "ipt",
            "name": "Interpersonal psychotherapy",
            "abbreviation": "IPT",
            "category": "approach",
            "aliases": [],
            "summary": "…",
            "evidence": None,
            "url": "/v1/modalities/ipt",
        }
    )

    slug: str = Field(description="Stable public id.")
    name: str
    abbreviation: str
    category: Category = Field(
        description="'approach' (a therapy) or 'delivery' (a way to deliver one)."
    )
    aliases: list[str] = Field(description="True synonyms only.")
    summary: str = Field(description="One or two sentences.")
    evidence: Evidence | None = Field(
        default=None,
        description="The strongest evidence level among the modality's indications in scope:"
        " those for the condition (or a narrower one) and the population when they are given,"
        " else all of them; null when it has none. sort=evidence orders by it.",
    )
    url: str = Field(description="The full record.")


class ModalityDetail(BaseModel):
    model_config = _example(
        {
            "slug": "ipt",
            "name": "Interpersonal psychotherapy",
            "abbreviation": "IPT",
            "category": "approach",
            "aliases": [],
            "summary": "…",
            "description": "…",
            "origin": "…",
            "goals": ["…"],
            "citations": ["lipsitz2013"],
            "indications": [],
            "pros": [],
            "cons": [],
            "formats": [],
            "components": [],
            "included_citations": None,
            "url": "/v1/modalities/ipt",
        }
    )

    slug: str
    name: str
    abbreviation: str
    category: Category
    aliases: list[str]
    summary: str
    description: str
    origin: str = Field(description="Who developed it, and when.")
    goals: list[str]
    citations: list[str] = Field(description="Keys supporting the description, origin and goals.")
    indications: list[Indication] = Field(description="Strongest evidence first.")
    pros: list[Consideration]
    cons: list[Consideration]
    formats: list[Format]
    components: list[Component]
    included_citations: list[Citation] | None = Field(
        default=None,
        description="With include=citations: every cited work, once, in key order.",
    )
    url: str = Field(description="This modality in the API.")


class ConditionRef(BaseModel):
    slug: str
    name: str
    url: str


class ConditionSummary(BaseModel):
    model_config = _example(
        {
            "slug": "bulimia-nervosa",
            "name": "Bulimia nervosa",
            "aliases": [],
            "lay_terms": ["binge and purge", "making myself sick after eating"],
            "parent": "eating-disorders",
            "description": None,
            "codes": [{"system": "icd-11", "code": "6B81", "display": "Bulimia nervosa"}],
            "url": "/v1/conditions/bulimia-nervosa",
        }
    )

    slug: str
    name: str
    aliases: list[str]
    lay_terms: list[str] = Field(
        description="Everyday phrases people use for the condition; searched, and weighted"
        " above the name in /v1/search."
    )
    parent: str | None = Field(description="Slug of the broader condition, if any.")
    description: str | None = Field(description="Curators' note on the condition.")
    codes: list[Code]
    url: str


class ConditionIndication(EvidenceBasis, IndicationIdentity):
    modality: str = Field(description="Slug of the modality.")
    modality_name: str = Field(description="Name of the modality.")
    category: Category = Field(
        description="The modality's category: 'approach' (a therapy) or 'delivery'."
    )
    condition: str = Field(description="The condition (this one, or a narrower one).")
    evidence: Evidence = Field(description="Evidence level on the ordered scale (see /v1/meta).")
    population: Population = Field(description="Population the evidence concerns.")
    summary: str = Field(description="One line on what the evidence shows.")
    citations: list[str] = CITATIONS_FIELD
    url: str = Field(
        description="The modality's record, whose indications state this one (/v1/modalities/…)."
    )


class IndicationRow(ConditionIndication):
    """One indication: a modality, for a condition, in a population, with its evidence."""

    model_config = _example(
        {
            "id": "ipt:major-depression:adolescents",
            "variant": None,
            "record": {"url": "/v1/indications/ipt:major-depression:adolescents"},
            "grade_basis": "…",
            "guidelines": [],
            "effects": [],
            "acceptability": [],
            "harms": [],
            "modality": "ipt",
            "modality_name": "Interpersonal psychotherapy",
            "category": "approach",
            "condition": "major-depression",
            "evidence": "moderate",
            "population": "adolescents",
            "summary": "…",
            "citations": ["mufson2004"],
            "url": "/v1/modalities/ipt",
            "condition_name": "Major depressive disorder",
            "codes": [{"system": "icd-11", "code": "6A70", "display": "…"}],
        }
    )

    condition: str = Field(description="Slug of the condition (see /v1/conditions/{slug}).")
    condition_name: str = Field(description="Name of the condition.")
    codes: list[Code] = Field(description="The condition's ICD-10-CM and ICD-11 codes.")


class ConditionDetail(ConditionSummary):
    children: list[ConditionRef] = Field(description="Narrower conditions.")
    modalities: list[ConditionIndication] = Field(
        description="Modalities indicated for this condition or a narrower one, strongest first."
    )


class CompareFormat(BaseModel):
    delivery: Delivery
    variant: str | None = Field(
        default=None, description="The variant this format delivers, if one."
    )
    sessions: Range | None
    weeks: Range | None
    session_minutes: Range | None
    group_size: Range | None


class CompareColumn(BaseModel):
    slug: str
    name: str
    abbreviation: str
    category: Category
    summary: str
    evidence: Evidence | None = Field(
        default=None, description="With a condition: the strongest evidence level for it."
    )
    indications: list[ConditionIndication] = Field(
        default_factory=list,
        description="With a condition: this modality's indications for it (or a narrower one),"
        " strongest first, each with its grade basis, guideline positions and effects.",
    )
    formats: list[CompareFormat]
    pros: list[str]
    cons: list[str]
    components: list[str] = Field(description="Component names, as 'kind: name'.")
    url: str


class EvidenceRow(BaseModel):
    condition: str
    condition_name: str
    evidence: dict[str, Evidence | None] = Field(
        description="Modality slug → strongest evidence level for the condition, or null."
    )


class Comparison(BaseModel):
    model_config = _example(
        {
            "modalities": [],
            "condition": None,
            "population": None,
            "evidence_matrix": {"columns": ["ipt", "cbt"], "rows": []},
        }
    )

    modalities: list[CompareColumn] = Field(description="The modalities, side by side.")
    condition: str | None = Field(description="The condition the comparison is narrowed to.")
    population: Population | None = Field(
        default=None, description="The population the comparison is narrowed to."
    )
    variant: str | None = Field(
        default=None, description="The variant the comparison is narrowed to."
    )
    evidence_matrix: EvidenceMatrix


class EvidenceMatrix(BaseModel):
    columns: list[str] = Field(description="Modality slugs, in the order of 'modalities'.")
    rows: list[EvidenceRow] = Field(description="One row per condition indicated for any of them.")


class SearchHit(BaseModel):
    model_config = _example(
        {
            "type": "claim",
            "id": "ipt#components[0]",
            "title": "Grief",
            "snippet": "… complicated <mark>grief</mark> after a death …",
            "url": "/v1/modalities/ipt",
            "score": 3.2,
        }
    )

    type: SearchType
    id: str = Field(description="Slug, citation key, or claim id (modality#path).")
    title: str
    snippet: str = Field(description="Matching text, matches wrapped in <mark>…</mark>.")
    url: str
    score: float = Field(description="Relevance; higher is better. Comparable within one answer.")


class EvidenceLevel(BaseModel):
    level: Evidence
    rank: int = Field(description="Higher is stronger; sort and compare by this.")
    definition: str
    criteria: list[str] = Field(
        description="What the grading rubric requires of the literature for this level."
    )


class Meta(BaseModel):
    model_config = _example(
        {
            "name": "therapy-kb",
            "version": "1.0.0",
            "license": "CC-BY-4.0",
            "description": "…",
            "release_date": "2026-11-26",
            "content_hash": "3f2a9c0d…",
            "loaded_at": "2026-11-26T10:00:00Z",
            "api_version": "v1",
            "counts": {"modalities": 6, "conditions": 18, "citations": 38},
            "evidence_scale": [{"level": "strong", "rank": 4, "definition": "…"}],
        }
    )

    name: str = Field(description="Name of the dataset.")
    version: str = Field(description="Version of the dataset (semantic versioning).")
    license: str = Field(description="Licence of the content (SPDX identifier).")
    description: str
    release_date: date
    content_hash: str = Field(description="sha256 over the normalised content of the release.")
    loaded_at: datetime = Field(description="When this release was loaded into the database.")
    api_version: str
    counts: dict[str, int] = Field(description="Rows of every entity in this release.")
    evidence_scale: list[EvidenceLevel] = Field(description="The ordered evidence scale.")
    datasets: list[DatasetAttribution] = Field(
        default_factory=list,
        description="The trial datasets this release holds (see /v1/datasets), to be credited.",
    )


class ExportLink(BaseModel):
    format: ExportFormat = Field(description="json, ndjson or csv (a zip of tables).")
    media_type: str = Field(description="The media type the export is sent as.")
    url: str = Field(description="Where to download it: the same bytes every time.")


class ReleaseSummary(BaseModel):
    model_config = _example(
        {
            "name": "therapy-kb",
            "version": "2.0.0",
            "license": "CC-BY-4.0",
            "description": "…",
            "release_date": "2026-12-01",
            "content_hash": "3f2a9c0d…",
            "loaded_at": "2026-12-01T10:00:00Z",
            "current": True,
            "counts": {"modalities": 6, "conditions": 18, "citations": 38},
            "exports": [
                {
                    "format": "json",
                    "media_type": "application/json",
                    "url": "/v1/releases/2.0.0/export.json",
                }
            ],
        }
    )

    name: str = Field(description="Name of the dataset.")
    version: str = Field(description="Version; names this content and no other, forever.")
    license: str = Field(description="Licence of the content (SPDX identifier).")
    description: str
    release_date: date
    content_hash: str = Field(description="sha256 over the normalised content of the release.")
    loaded_at: datetime = Field(description="When this release was first loaded.")
    current: bool = Field(description="Whether this is the release /v1 serves now.")
    counts: dict[str, int] = Field(description="Rows of every entity in this release.")
    exports: list[ExportLink] = Field(description="This release's full export, in each format.")


class DiffChange(BaseModel):
    id: str = Field(description="The stable id of what changed.")
    fields: list[str] = Field(description="The fields whose values differ.")
    old_evidence: str | None = Field(default=None, description="Indications: level before.")
    new_evidence: str | None = Field(default=None, description="Indications: level after.")
    old_version: str | None = Field(default=None, description="Trial datasets: version before.")
    new_version: str | None = Field(default=None, description="Trial datasets: version after.")


class DiffSection(BaseModel):
    added: list[str] = Field(description="Ids only in the newer release.")
    removed: list[str] = Field(description="Ids only in the older release.")
    changed: list[DiffChange] = Field(description="Ids in both, with different content.")

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed)


class ReleaseDiff(BaseModel):
    model_config = _example(
        {
            "old": "1.0.0",
            "new": "2.0.0",
            "old_content_hash": "…",
            "new_content_hash": "…",
            "modalities": {"added": ["act"], "removed": [], "changed": []},
            "conditions": {"added": [], "removed": [], "changed": []},
            "indications": {
                "added": [],
                "removed": [],
                "changed": [
                    {
                        "id": "ipt:major-depression:adults",
                        "fields": ["evidence"],
                        "old_evidence": "moderate",
                        "new_evidence": "strong",
                    }
                ],
            },
            "claims": {"added": ["ipt:pro:Time-limited"], "removed": [], "changed": []},
            "citations": {"added": [], "removed": [], "changed": []},
            "datasets": {"added": [], "removed": [], "changed": []},
        }
    )

    old: str = Field(description="The version compared from.")
    new: str = Field(description="The version compared to.")
    old_content_hash: str = Field(description="Content hash of the older release.")
    new_content_hash: str = Field(description="Content hash of the newer release.")
    modalities: DiffSection = Field(description="By slug; claims are compared separately.")
    conditions: DiffSection = Field(description="By slug.")
    indications: DiffSection = Field(
        description="By indication id, 'modality:condition:population[:variant]'."
    )
    claims: DiffSection = Field(
        description="Pros, cons, components and formats, by 'modality:kind:statement or name'."
    )
    citations: DiffSection = Field(description="By citation key.")
    datasets: DiffSection = Field(
        description="Trial datasets, by name; a new version of one is a change of 'version'."
    )


class SuggestedCitation(BaseModel):
    text: str = Field(description="A plain-text reference to the current release.")
    bibtex: str = Field(description="The same reference as a BibTeX @misc entry.")


class CurrentMeta(Meta):
    releases: int = Field(description="How many releases are kept (see /v1/releases).")
    citation: SuggestedCitation = Field(description="How to cite the current release.")


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int = Field(description="Matches in all, over every page.")
    limit: int
    offset: int


Comparison.model_rebuild()


class TrialDatasetInfo(DatasetAttribution):
    model_config = _example(
        {
            "name": "depression-psyctr",
            "version": "24.0.2",
            "doi": "10.5281/zenodo.7254845",
            "licence": "ODC-By-1.0",
            "title": "Psychotherapy for depression, randomised trials against control conditions",
            "commit": "ceeabb718db4a8ed6d5c5e265262d6ed7a392b72",
            "last_search": "2024-01-01",
            "rows": 900,
            "studies": 166,
            "comparisons": 317,
            "url": "/v1/trials?dataset=depression-psyctr",
        }
    )

    title: str = Field(
        description="What the dataset holds, in a line written for this project (its publisher"
        " gives no title)."
    )
    commit: str = Field(description="The commit of the publisher's repository that was read.")
    last_search: date = Field(description="Date of the dataset's last literature search.")
    rows: int = Field(description="Rows in its file, used or not.")
    studies: int = Field(description="Studies with at least one usable comparison.")
    comparisons: int = Field(description="Usable comparisons (rows) kept.")
    url: str = Field(description="Its comparisons (/v1/trials filtered by dataset).")


class Trial(BaseModel):
    """One comparison: a therapy arm against a comparator, on one instrument at one time."""

    model_config = _example(
        {
            "id": "depression-psyctr-1",
            "dataset": "depression-psyctr",
            "row": 1,
            "source_id": "Aagaard_2017_msd_bdi-1_post_0_self-report_cbt_cau_NA_NA",
            "study": "depression-psyctr/aagaard-2017",
            "study_label": "Aagaard, 2017",
            "year": 2017,
            "condition": "dysthymia",
            "modality": "cbt",
            "family": "cbt",
            "variant": None,
            "online_variant": None,
            "also_counts_for": ["group"],
            "therapy_code": "cbt",
            "comparator": "usual-care",
            "comparator_code": "cau",
            "format": "group",
            "population": "adults",
            "time": "post",
            "time_code": "post",
            "instrument": "bdi-1",
            "outcome_kind": "continuous",
            "outcome_type": "msd",
            "n_arm1": 40,
            "n_arm2": 35,
            "g": 0.0,
            "se": 0.231455024943138,
            "source_g": 0.0,
            "source_se": 0.231455024943138,
            "sign": 1,
            "low_risk_of_bias": "no",
            "risk_of_bias": "3",
            "url": "/v1/trials/depression-psyctr-1",
        }
    )

    id: str = Field(description="The dataset and the row's position in its file.")
    dataset: str = Field(description="The dataset's name.")
    row: int = Field(description="The row's position among the file's data rows, from 1.")
    source_id: str | None = Field(description="The dataset's own row id, where it has one.")
    study: str = Field(description="The study: dataset and trial (first author, year).")
    study_label: str = Field(description="The study as the dataset names it.")
    year: int | None = Field(description="Year of publication.")
    condition: str = Field(description="Slug of the condition the sample was diagnosed with.")
    modality: str | None = Field(description="cbt, ipt or dbt where the therapy is one of them.")
    family: TherapyFamily = Field(description="The therapy's family.")
    variant: str | None = Field(description="The modality's variant, where the data says it.")
    online_variant: OnlineVariant | None = Field(description="Internet variant, where known.")
    also_counts_for: list[str] = Field(description="Format modalities: group, online.")
    therapy_code: str = Field(description="The therapy as the dataset codes it.")
    comparator: Comparator = Field(description="The comparator class.")
    comparator_code: str = Field(description="The comparator as the dataset codes it.")
    format: Delivery | None = Field(description="Delivery format, where the data says it.")
    population: Population | None = Field(description="Age group, where the data says it.")
    time: TimePoint = Field(description="post (post-treatment) or follow-up.")
    time_code: str | None = Field(description="The time point as the dataset codes it.")
    instrument: str | None = Field(description="The outcome instrument.")
    outcome_kind: OutcomeKind = Field(description="continuous (scores) or events (counts).")
    outcome_type: str = Field(description="How the dataset computed g.")
    n_arm1: int | None = Field(description="Participants in the therapy arm.")
    n_arm2: int | None = Field(description="Participants in the comparator arm.")
    g: float = Field(description="Hedges' g, oriented: positive favours the therapy.")
    se: float = Field(description="Standard error of g.")
    source_g: float = Field(description="Hedges' g as the dataset publishes it.")
    source_se: float = Field(description="Its standard error as the dataset publishes it.")
    sign: int = Field(description="g = sign × source_g (the dataset's direction).")
    low_risk_of_bias: LowRiskOfBias = Field(
        description="yes, no or not-assessed, by the dataset's own tool and rule."
    )
    risk_of_bias: str | None = Field(description="The dataset's own rating, as written.")
    url: str = Field(description="This comparison's address in the API.")


class TrialStudy(BaseModel):
    id: str = Field(description="The dataset and the trial (first author and year).")
    label: str = Field(description="The study as the dataset names it.")
    year: int | None = Field(description="Year of publication.")
    reference: str | None = Field(
        description="The reference as the dataset gives it (data, not one of our citations)."
    )
    dataset: DatasetAttribution = Field(description="The dataset, to credit.")
    comparisons: list[str] = Field(description="Ids of the study's comparisons.")


class TrialDetail(Trial):
    study_detail: TrialStudy = Field(description="The study the comparison belongs to.")


class RowsLink(BaseModel):
    url: str = Field(description="/v1/trials.csv with the same filters: exactly these rows.")


class PooledStudy(BaseModel):
    study: str = Field(description="The study (dataset/trial).")
    comparator: Comparator = Field(description="The comparator class of this effect.")
    g: float = Field(description="Its effect after within-study aggregation (rho 0.6).")
    se: float = Field(description="Standard error of that effect.")
    ci_low: float = Field(description="Lower end of its normal 95% interval.")
    ci_high: float = Field(description="Upper end of its normal 95% interval.")
    n: int | None = Field(description="Participants, where the rows give arm sizes.")
    low_risk_of_bias: LowRiskOfBias = Field(
        description="yes when every row of it is rated low; no when any is rated not low;"
        " else not-assessed."
    )
    weight: float = Field(description="Its weight in the pooled estimate, in percent.")
    trials: list[str] = Field(description="Ids of the comparisons aggregated into it.")


class Pooled(BaseModel):
    model_config = _example(
        {
            "k_studies": 3,
            "k_effects": 3,
            "k_comparisons": 5,
            "participants": 150,
            "estimate": 0.2734490385977531,
            "ci_low": -0.01592517507615271,
            "ci_high": 0.562823252271659,
            "pi_low": -0.01592517507615271,
            "pi_high": 0.562823252271659,
            "tau2": 0.0,
            "i2": 0.0,
            "q": 0.9147559341067011,
            "q_p": 0.6329410639774737,
            "egger_p": None,
            "method": "reml",
            "pooled": True,
            "note": "Egger's test needs at least 10 effects.",
            "direction": "positive favours the therapy",
            "studies": [
                {
                    "study": "depression-psyctr/johnson-2019",
                    "comparator": "usual-care",
                    "g": 0.19412294244240866,
                    "se": 0.13270821416859457,
                    "ci_low": -0.06598037778066482,
                    "ci_high": 0.45422626266548216,
                    "n": None,
                    "low_risk_of_bias": "yes",
                    "weight": 56.15342054685916,
                    "trials": ["depression-psyctr-330", "depression-psyctr-331"],
                }
            ],
            "datasets": [
                {
                    "name": "depression-psyctr",
                    "version": "24.0.2",
                    "doi": "10.5281/zenodo.7254845",
                    "licence": "ODC-By-1.0",
                }
            ],
            "trials_csv": {
                "url": "/v1/trials.csv?modality=ipt&condition=major-depression"
                "&comparator=control&risk_of_bias=low"
            },
        }
    )

    k_studies: int = Field(description="Distinct studies selected.")
    k_effects: int = Field(
        description="Effects pooled: one per study and comparator class (a study with two"
        " classes of control gives two)."
    )
    k_comparisons: int = Field(description="Trial rows selected, before aggregation.")
    participants: int | None = Field(description="Participants, summed over the effects.")
    estimate: float | None = Field(description="Pooled Hedges' g; positive favours the therapy.")
    ci_low: float | None = Field(description="95% interval, Hartung-Knapp (normal for one).")
    ci_high: float | None = Field(description="Upper end of that interval.")
    pi_low: float | None = Field(description="95% prediction interval (from 2 effects).")
    pi_high: float | None = Field(description="Upper end of the prediction interval.")
    tau2: float | None = Field(description="Between-study variance, by the method chosen.")
    i2: float | None = Field(description="I² in percent, as metafor defines it.")
    q: float | None = Field(description="Cochran's Q.")
    q_p: float | None = Field(description="p-value of Q.")
    egger_p: float | None = Field(description="Egger's test p-value (from 10 effects).")
    method: str = Field(description="reml or pm: the estimator of tau².")
    pooled: bool = Field(description="False with none or one effect: nothing was pooled.")
    note: str | None = Field(description="What was not computed, and why.")
    direction: str = Field(description="positive favours the therapy")
    studies: list[PooledStudy] = Field(description="The effects pooled, largest weight first.")
    datasets: list[DatasetAttribution] = Field(description="The datasets the rows come from.")
    trials_csv: RowsLink = Field(description="The rows behind this figure, as CSV.")
