"""The tables. The database enforces what it can: unique slugs and keys, foreign keys, NOT NULL,
CHECK constraints for every enum and for every ``min <= max`` range.

Tables are storage, not the public shape: the JSON the API answers with lives in ``schemas.py``.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Table,
    UniqueConstraint,
    func,
)
from sqlmodel import Field, SQLModel

from app.domain import (
    ALL_VARIANTS,
    Category,
    CitationType,
    ClaimType,
    CodeSystem,
    Comparator,
    ComponentKind,
    ConsiderationKind,
    Delivery,
    EffectDirection,
    EffectMeasure,
    Evidence,
    LowRiskOfBias,
    OnlineVariant,
    OutcomeKind,
    Population,
    Recommendation,
    SearchType,
    TherapyFamily,
    TimePoint,
)

# An explicit naming convention so migrations name constraints the same on every engine.
SQLModel.metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


def table(model: type[SQLModel]) -> Table:
    """A model's Core table, for reads that need no ORM instances (the hottest paths)."""
    found: Table = model.__table__  # type: ignore[attr-defined]
    return found


def enum_check(column: str, enum: type[StrEnum]) -> CheckConstraint:
    values = ", ".join(f"'{member.value}'" for member in enum)
    return CheckConstraint(f"{column} IN ({values})", name=column)


def variant_check() -> CheckConstraint:
    """A variant is NULL or a name from one modality's vocabulary; which modality's is the seed
    reader's check, the database only refuses a name no modality has."""
    values = ", ".join(f"'{v}'" for v in ALL_VARIANTS)
    return CheckConstraint(f"variant IS NULL OR variant IN ({values})", name="variant")


def range_checks(name: str) -> list[CheckConstraint]:
    """A range is two nullable columns, both set or both NULL, with 0 <= min <= max."""
    lo, hi = f"{name}_min", f"{name}_max"
    return [
        CheckConstraint(f"({lo} IS NULL) = ({hi} IS NULL)", name=f"{name}_both_or_neither"),
        CheckConstraint(f"{lo} >= 0", name=f"{name}_min_nonnegative"),
        CheckConstraint(f"{lo} <= {hi}", name=f"{name}_min_le_max"),
    ]


def fk(target: str, ondelete: str, nullable: bool = False) -> Any:
    return Field(
        default=None if nullable else ...,
        sa_column=Column(
            Integer, ForeignKey(target, ondelete=ondelete), nullable=nullable, index=True
        ),
    )


class Release(SQLModel, table=True):
    """The loaded release: one row, replaced whenever the loaded content changes."""

    id: int | None = Field(default=None, primary_key=True)
    name: str
    version: str
    license: str
    description: str
    release_date: date
    content_hash: str = Field(max_length=64, unique=True)
    loaded_at: datetime = Field(sa_type=DateTime(timezone=True))


class ReleaseRecord(SQLModel, table=True):
    """A release that was loaded once, kept for good: a version names one content forever.

    The ``release`` row above stays the one-row "what is served now" that every request reads
    first; this history is read only by ``/v1/releases``, so the hot path is unchanged."""

    __tablename__ = "release_history"

    id: int | None = Field(default=None, primary_key=True)
    name: str
    version: str = Field(max_length=64, unique=True)
    license: str
    description: str
    release_date: date
    content_hash: str = Field(max_length=64, unique=True)
    loaded_at: datetime = Field(sa_type=DateTime(timezone=True))
    counts: dict[str, int] = Field(sa_type=JSON)


class ReleaseSnapshot(SQLModel, table=True):
    """A release's full export in one format, as the bytes served for it, forever."""

    __tablename__ = "release_snapshot"

    release_id: int = Field(
        sa_column=Column(
            Integer,
            ForeignKey("release_history.id", ondelete="CASCADE"),
            primary_key=True,
        )
    )
    format: str = Field(max_length=10, primary_key=True)
    sha256: str = Field(max_length=64)
    body: bytes = Field(sa_type=LargeBinary)


class Citation(SQLModel, table=True):
    __table_args__ = (enum_check("type", CitationType),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=80, unique=True)
    type: str = Field(max_length=20)
    title: str
    authors: list[dict[str, str]] = Field(sa_type=JSON)
    year: int | None = None
    container_title: str | None = None
    volume: str | None = None
    issue: str | None = None
    pages: str | None = None
    publisher: str | None = None
    doi: str | None = None
    pmid: str | None = None
    pmcid: str | None = None
    isbn: str | None = None
    url: str | None = None
    note: str | None = None
    content_hash: str = Field(max_length=64)


class Condition(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=80, unique=True)
    name: str
    aliases: list[str] = Field(sa_type=JSON)
    lay_terms: list[str] = Field(sa_type=JSON, default_factory=list)
    parent_id: int | None = fk("condition.id", ondelete="RESTRICT", nullable=True)
    description: str | None = None
    content_hash: str = Field(max_length=64)


# The condition table again, as the parent side of a self-join.
ParentCondition: Any = table(Condition).alias("parent")  # Any: compared with ORM columns


class ConditionCode(SQLModel, table=True):
    __tablename__ = "condition_code"
    __table_args__ = (
        UniqueConstraint("system", "code"),
        enum_check("system", CodeSystem),
    )

    id: int | None = Field(default=None, primary_key=True)
    condition_id: int = fk("condition.id", ondelete="CASCADE")
    system: str = Field(max_length=20)
    code: str = Field(max_length=20, index=True)
    display: str
    position: int


class CodeLookup(SQLModel, table=True):
    """Which condition an ICD code leads to, by the classification's hierarchy (app/icd.py):
    derived by every seed load from the conditions' codes and branches, so serving never reads
    the classification itself. A row without a condition is a known code that leads to none."""

    __tablename__ = "code_lookup"
    __table_args__ = (
        UniqueConstraint("system", "code"),
        enum_check("system", CodeSystem),
    )

    id: int | None = Field(default=None, primary_key=True)
    system: str = Field(max_length=20)
    code: str = Field(max_length=20, index=True)
    title: str | None = None
    condition_id: int | None = fk("condition.id", ondelete="CASCADE", nullable=True)


class Modality(SQLModel, table=True):
    __table_args__ = (enum_check("category", Category),)

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=80, unique=True)
    name: str
    abbreviation: str
    category: str = Field(max_length=20)
    aliases: list[str] = Field(sa_type=JSON)
    summary: str
    description: str
    origin: str
    goals: list[str] = Field(sa_type=JSON)
    content_hash: str = Field(max_length=64)


# The list's default order (name, case-insensitive, then slug), so that a page is read along it.
Index("ix_modality_name_order", func.lower(Modality.name), Modality.slug)


class Indication(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("modality_id", "condition_id", "population", "variant"),
        enum_check("evidence", Evidence),
        enum_check("population", Population),
        variant_check(),
    )

    id: int | None = Field(default=None, primary_key=True)
    modality_id: int = fk("modality.id", ondelete="CASCADE")
    condition_id: int = fk("condition.id", ondelete="RESTRICT")
    evidence: str = Field(max_length=20)
    population: str = Field(max_length=20)
    # NULL: the evidence is for the modality as a whole, not one of its variants.
    variant: str | None = Field(default=None, max_length=40)
    summary: str
    # NULL only in a database upgraded from a release that had no grade bases; every seed load
    # fills it.
    grade_basis: str | None = None
    # Dropout figures and harms as the seed states them (lists of objects; NULL reads as none):
    # read only with their indication, never filtered on, so they need no table of their own.
    acceptability: list[dict[str, Any]] | None = Field(default=None, sa_type=JSON)
    harms: list[dict[str, Any]] | None = Field(default=None, sa_type=JSON)
    # The cited reviews' ratings of the certainty of their evidence (a list of objects, as the
    # seed states them; NULL reads as none), kept with the indication for the same reason.
    certainty: list[dict[str, Any]] | None = Field(default=None, sa_type=JSON)
    position: int


class IndicationGuideline(SQLModel, table=True):
    """A guideline's position behind an indication's level."""

    __tablename__ = "indication_guideline"
    __table_args__ = (enum_check("recommendation", Recommendation),)

    id: int | None = Field(default=None, primary_key=True)
    indication_id: int = fk("indication.id", ondelete="CASCADE")
    body: str
    document: str
    recommendation: str = Field(max_length=20)
    citation_id: int = fk("citation.id", ondelete="RESTRICT")
    note: str | None = None
    position: int


class IndicationEffect(SQLModel, table=True):
    """A pooled or trial effect behind an indication's level, as its cited work states it."""

    __tablename__ = "indication_effect"
    __table_args__ = (
        enum_check("measure", EffectMeasure),
        enum_check("comparator", Comparator),
        CheckConstraint(
            "direction IS NULL OR direction IN ("
            + ", ".join(f"'{d.value}'" for d in EffectDirection)
            + ")",
            name="direction",
        ),
        CheckConstraint("(ci_low IS NULL) = (ci_high IS NULL)", name="ci_both_or_neither"),
        CheckConstraint("ci_low <= value AND value <= ci_high", name="ci_contains_value"),
    )

    id: int | None = Field(default=None, primary_key=True)
    indication_id: int = fk("indication.id", ondelete="CASCADE")
    measure: str = Field(max_length=10)
    # NULL only when the cited work does not state it (or in a database upgraded from a release
    # without directions, until the next load).
    direction: str | None = Field(default=None, max_length=30)
    value: float
    ci_low: float | None = None
    ci_high: float | None = None
    studies: int | None = None
    participants: int | None = None
    comparator: str = Field(max_length=30)
    outcome: str
    citation_id: int = fk("citation.id", ondelete="RESTRICT")
    note: str | None = None
    # The figure again in the cited work's low-risk-of-bias studies alone ({value, ci_low,
    # ci_high, studies, note}), where the work states one; read only with its effect.
    low_risk_of_bias: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    position: int


class Consideration(SQLModel, table=True):
    __table_args__ = (enum_check("kind", ConsiderationKind),)

    id: int | None = Field(default=None, primary_key=True)
    modality_id: int = fk("modality.id", ondelete="CASCADE")
    kind: str = Field(max_length=10)
    statement: str
    detail: str | None = None
    position: int


class Format(SQLModel, table=True):
    __table_args__ = (
        enum_check("delivery", Delivery),
        variant_check(),
        *range_checks("sessions"),
        *range_checks("weeks"),
        *range_checks("session_minutes"),
        *range_checks("group_size"),
    )

    id: int | None = Field(default=None, primary_key=True)
    modality_id: int = fk("modality.id", ondelete="CASCADE")
    delivery: str = Field(max_length=30)
    variant: str | None = Field(default=None, max_length=40)
    sessions_min: int | None = None
    sessions_max: int | None = None
    weeks_min: int | None = None
    weeks_max: int | None = None
    session_minutes_min: int | None = None
    session_minutes_max: int | None = None
    group_size_min: int | None = None
    group_size_max: int | None = None
    notes: str | None = None
    position: int


class Component(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("modality_id", "kind", "name"),
        enum_check("kind", ComponentKind),
    )

    id: int | None = Field(default=None, primary_key=True)
    modality_id: int = fk("modality.id", ondelete="CASCADE")
    kind: str = Field(max_length=20)
    name: str
    description: str
    position: int


# Which claim column a link row must fill for each claim type; every other one stays NULL.
CLAIM_COLUMNS: dict[ClaimType, str | None] = {
    ClaimType.modality: None,
    ClaimType.indication: "indication_id",
    ClaimType.consideration: "consideration_id",
    ClaimType.format: "format_id",
    ClaimType.component: "component_id",
}


def _claim_shape_check() -> CheckConstraint:
    columns = [c for c in CLAIM_COLUMNS.values() if c is not None]
    cases = []
    for claim_type, own in CLAIM_COLUMNS.items():
        parts = [f"{c} IS NOT NULL" if c == own else f"{c} IS NULL" for c in columns]
        cases.append(f"(claim_type = '{claim_type.value}' AND {' AND '.join(parts)})")
    return CheckConstraint(" OR ".join(cases), name="one_claim")


class ClaimCitation(SQLModel, table=True):
    """A link from one cited statement to one citation.

    Each claim type has its own nullable foreign key, so the database enforces that the claim
    exists (a polymorphic ``claim_id`` could not); ``modality_id`` is always set.
    """

    __tablename__ = "claim_citation"
    __table_args__ = (enum_check("claim_type", ClaimType), _claim_shape_check())

    id: int | None = Field(default=None, primary_key=True)
    claim_type: str = Field(max_length=20)
    modality_id: int = fk("modality.id", ondelete="CASCADE")
    indication_id: int | None = fk("indication.id", ondelete="CASCADE", nullable=True)
    consideration_id: int | None = fk("consideration.id", ondelete="CASCADE", nullable=True)
    format_id: int | None = fk("format.id", ondelete="CASCADE", nullable=True)
    component_id: int | None = fk("component.id", ondelete="CASCADE", nullable=True)
    citation_id: int = fk("citation.id", ondelete="RESTRICT")
    position: int


class SearchDocument(SQLModel, table=True):
    """One searchable thing: a modality, a condition, a claim or a citation.

    Rebuilt by every seed load that changes content. The full-text index over it is
    engine-specific and lives only in the migrations: an FTS5 table on SQLite, a generated
    ``tsvector`` column with a GIN index on PostgreSQL (see ``app.migrate.is_engine_specific``).
    """

    __tablename__ = "search_document"
    __table_args__ = (enum_check("doc_type", SearchType),)

    id: int | None = Field(default=None, primary_key=True)
    doc_type: str = Field(max_length=20)
    ref: str = Field(max_length=200, description="slug, citation key or modality#claim-path")
    title: str
    # Everyday words for the thing (a condition's lay terms): weighted above the title.
    keywords: str = Field(default="", sa_column_kwargs={"server_default": ""})
    body: str
    url: str
    # The variant an indication or format is about, for search's variant filter.
    variant: str | None = Field(default=None, max_length=40)


class TrialDataset(SQLModel, table=True):
    """A published dataset of randomised trials, as its publisher names it (for attribution)."""

    __tablename__ = "trial_dataset"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=80, unique=True)
    title: str
    version: str = Field(max_length=20)
    commit: str = Field(max_length=40)
    doi: str
    licence: str = Field(max_length=20)
    last_search: date
    sha256: str = Field(max_length=64)
    rows: int  # rows in its file, used or not
    position: int


class TrialStudy(SQLModel, table=True):
    """One trial within one dataset: the unit within which comparisons are aggregated."""

    __tablename__ = "trial_study"
    __table_args__ = (UniqueConstraint("dataset_id", "trial_key"),)

    id: int | None = Field(default=None, primary_key=True)
    dataset_id: int = fk("trial_dataset.id", ondelete="CASCADE")
    trial_key: str = Field(max_length=120, description="first author and year, normalised")
    label: str = Field(description="the study as the dataset names it (its first row)")
    year: int | None = None
    reference: str | None = Field(default=None, description="as the dataset gives it")


class TrialComparison(SQLModel, table=True):
    """One usable row of a dataset: a therapy arm against a comparator, one instrument, one time.

    ``source_g``/``source_se`` are the dataset's; ``g`` is oriented (``sign * source_g``) so that
    a positive value favours the therapy. The codes the row was mapped from are kept beside what
    they were mapped to, and so is the dataset's own risk-of-bias rating.
    """

    __tablename__ = "trial_comparison"
    __table_args__ = (
        UniqueConstraint("study_id", "row"),
        enum_check("family", TherapyFamily),
        enum_check("online_variant", OnlineVariant),
        enum_check("comparator", Comparator),
        enum_check("delivery", Delivery),
        enum_check("population", Population),
        enum_check("time", TimePoint),
        enum_check("outcome_kind", OutcomeKind),
        enum_check("low_risk_of_bias", LowRiskOfBias),
        CheckConstraint("sign IN (1, -1)", name="sign"),
        CheckConstraint("se > 0", name="se_positive"),
    )

    id: int | None = Field(default=None, primary_key=True)
    study_id: int = fk("trial_study.id", ondelete="CASCADE")
    condition_id: int = fk("condition.id", ondelete="RESTRICT")
    row: int = Field(description="the row's position among the file's data rows, from 1")
    year: int | None = Field(default=None, description="the row's own year (a study may differ)")
    source_id: str | None = None
    modality: str | None = Field(default=None, max_length=20)
    family: str = Field(max_length=30)
    variant: str | None = Field(default=None, max_length=30)
    online: bool = Field(sa_type=Boolean)
    online_variant: str | None = Field(default=None, max_length=30)
    therapy_code: str
    comparator: str = Field(max_length=30)
    comparator_code: str
    delivery: str | None = Field(default=None, max_length=30)
    population: str | None = Field(default=None, max_length=20)
    time: str = Field(max_length=10)
    time_code: str | None = None
    instrument: str | None = None
    outcome_kind: str = Field(max_length=12)
    outcome_type: str
    n_arm1: int | None = None
    n_arm2: int | None = None
    source_g: float
    source_se: float
    sign: int
    g: float
    se: float
    low_risk_of_bias: str = Field(max_length=12)
    risk_of_bias: str | None = None
    aggregation_key: str
