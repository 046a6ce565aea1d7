"""What the trial reader returns: frozen, typed records, ready to store or to pool (a domain
module, so that the seed set can carry them without importing the reader)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from app.domain import (
    Comparator,
    Delivery,
    LowRiskOfBias,
    OnlineVariant,
    OutcomeKind,
    Population,
    TherapyFamily,
    TimePoint,
)


@dataclass(frozen=True, slots=True)
class TrialDataset:
    """One dataset as its publisher names it; ``rows`` counts the rows of its file."""

    name: str
    title: str
    version: str
    commit: str
    doi: str
    licence: str
    last_search: date
    sha256: str
    rows: int


@dataclass(frozen=True, slots=True)
class TrialComparison:
    """One usable row: one therapy arm against one comparator, on one instrument and time.

    ``source_g`` is the dataset's Hedges' g as published; ``g`` is the same effect oriented so
    that a positive value always favours the therapy (``g = sign * source_g``). Rows with the
    same ``aggregation_key`` (one trial against one comparator class) belong together when
    pooling: they are not independent studies.
    """

    dataset: str
    row: int  # the row's position among the file's data rows, from 1
    source_id: str | None  # the dataset's own row id (`.id`), where it has one
    study: str
    trial_key: str  # first author and year, normalised: the trial's identity across datasets
    year: int | None
    condition: str
    modality: str | None
    family: TherapyFamily
    variant: str | None
    online_variant: OnlineVariant | None
    also_counts_for: tuple[str, ...]  # "group", "online"
    therapy_code: str
    comparator_code: str
    comparator: Comparator
    delivery: Delivery | None
    population: Population | None
    time: TimePoint
    time_code: str | None
    instrument: str | None
    outcome_kind: OutcomeKind
    outcome_type: str
    n_arm1: int | None
    n_arm2: int | None
    source_g: float
    source_se: float
    sign: int
    g: float
    se: float
    low_risk_of_bias: LowRiskOfBias
    risk_of_bias: str | None  # the dataset's own rating, as written
    reference: str | None
    aggregation_key: str


@dataclass(frozen=True, slots=True)
class TrialExclusion:
    """A row left out, and why (the first reason that applies)."""

    dataset: str
    row: int
    study: str
    reason: str


@dataclass(frozen=True, slots=True)
class TrialData:
    datasets: tuple[TrialDataset, ...]
    comparisons: tuple[TrialComparison, ...]
    exclusions: tuple[TrialExclusion, ...]
