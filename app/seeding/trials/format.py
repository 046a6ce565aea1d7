"""The trial layer's two reviewed files, as models (``extra="forbid"``).

``seed/trials/metapsy/datasets.yaml`` names each dataset with the values its publisher gives
and the sha256 of its ``data.csv``; ``seed/trials/mapping.yaml`` turns every code of every
dataset into the project's vocabularies (``app.domain``). A model checks what one file can tell;
the reader (``app.seeding.trials.reader``) checks the files against the data.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Generic, Literal, Self, TypeVar

from pydantic import Field, StringConstraints, model_validator

from app.domain import (
    MODALITY_VARIANTS,
    Comparator,
    Delivery,
    LowRiskOfBias,
    OnlineVariant,
    OutcomeKind,
    Population,
    TherapyFamily,
    TimePoint,
)
from app.seeding.format import DOI_RE, SeedModel, Slug, Text

T = TypeVar("T")

Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
Column = Annotated[str, StringConstraints(min_length=1)]


class TrialDatasetEntry(SeedModel):
    name: Slug
    title: Text
    version: Annotated[str, StringConstraints(pattern=r"^\d+\.\d+\.\d+$")]
    commit: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{40}$")]
    doi: Annotated[str, StringConstraints(pattern=DOI_RE)]
    licence: Literal["ODC-By-1.0"]
    last_search: date
    sha256: Sha256


class DatasetsFile(SeedModel):
    publisher: Text
    licence_url: Text
    datasets: list[TrialDatasetEntry] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> Self:
        names = [d.name for d in self.datasets]
        if len(set(names)) != len(names):
            raise ValueError("a dataset is listed twice")
        return self


class Rule(SeedModel, Generic[T]):
    """One column's codes and what each means, or one value for every row.

    ``codes`` maps a code to its meaning; ``excluded`` maps a code to the reason its rows are
    left out. Without ``column``, ``value`` applies to every row and ``reason`` says why.
    """

    column: Column | None = None
    codes: dict[str, T] = {}
    excluded: dict[str, Text] = {}
    value: T | None = None
    reason: Text | None = None

    @model_validator(mode="after")
    def _column_or_value(self) -> Self:
        if self.column is None:
            if self.reason is None or self.codes or self.excluded:
                raise ValueError("without 'column', give 'value' and the 'reason' for it")
        else:
            if self.value is not None or self.reason is not None:
                raise ValueError("'value' and 'reason' go without 'column'")
            both = set(self.codes) & set(self.excluded)
            if both:
                raise ValueError(f"codes both mapped and excluded: {sorted(both)}")
            if not self.codes and not self.excluded:
                raise ValueError("a column rule lists its codes")
        return self


TrialModality = Literal["cbt", "ipt", "dbt"]
# The family each modality a trial row can name belongs to: DIT, group and online are never
# read from a therapy code (DIT has none; group and online are formats).
MODALITY_FAMILY: dict[str, TherapyFamily] = {
    "cbt": TherapyFamily.cbt,
    "ipt": TherapyFamily.ipt,
    "dbt": TherapyFamily.dbt,
}


class Therapy(SeedModel):
    family: TherapyFamily
    modality: TrialModality | None = None
    variant: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.modality is not None and MODALITY_FAMILY[self.modality] is not self.family:
            raise ValueError(f"modality {self.modality} is not of the family {self.family}")
        if self.variant is not None:
            vocabulary = MODALITY_VARIANTS.get(self.modality or "")
            if vocabulary is None or self.variant not in set(vocabulary):
                raise ValueError(f"variant {self.variant!r} is not one of {self.modality}'s")
        return self


OnlineCode = Literal["not-online", "online"] | OnlineVariant


class PopulationRule(SeedModel):
    age: Rule[Population | None]
    target: Rule[Population | None] | None = None


class SignEntry(SeedModel):
    """The factor for one outcome kind, with the agreement it was established on."""

    sign: Literal[1, -1] | None = None
    excluded: Text | None = None
    events_mean: Literal["benefit", "harm"] | None = None
    checked: int = Field(default=0, ge=0)
    agree: int = Field(default=0, ge=0)
    dissent: list[int] = []

    @model_validator(mode="after")
    def _sign_or_reason(self) -> Self:
        if (self.sign is None) == (self.excluded is None):
            raise ValueError("give either 'sign' or the reason it is 'excluded'")
        if self.sign is not None and (self.checked == 0 or self.agree < 0.9 * self.checked):
            raise ValueError("a sign needs at least 90% agreement on the rows checked")
        return self


class DatasetSigns(SeedModel):
    higher_is_better: list[str] = []
    # The mean columns of one dataset lost their decimal separator ("1844" for 18.44): only
    # two means written with the same number of digits can be compared.
    means_lost_decimal_separator: bool = False
    continuous: SignEntry | None = None
    events: SignEntry | None = None

    def entry(self, kind: OutcomeKind) -> SignEntry | None:
        return self.continuous if kind is OutcomeKind.continuous else self.events


class DatasetMapping(SeedModel):
    study_column: Column = "study"
    id_column: Column | None
    year_column: Column | None
    reference_column: Column | None
    instrument_column: Column = "instrument"
    g_column: Column = ".g"
    se_column: Column = ".g_se"
    condition: Rule[Slug]
    therapy: Rule[Therapy]
    comparator: Rule[Comparator]
    format: Rule[Delivery | None]
    online: Rule[OnlineCode] | None = None
    population: PopulationRule | None
    time: Rule[TimePoint]
    risk_of_bias: Rule[LowRiskOfBias]
    outcome: Rule[OutcomeKind]

    def rules(self) -> dict[str, Rule[Any] | None]:
        """Every rule by field name, for checks that treat them alike."""
        population = self.population
        return {
            "condition": self.condition,
            "therapy": self.therapy,
            "comparator": self.comparator,
            "format": self.format,
            "online": self.online,
            "population.age": population.age if population else None,
            "population.target": population.target if population else None,
            "time": self.time,
            "risk_of_bias": self.risk_of_bias,
            "outcome": self.outcome,
        }


class DuplicateGroup(SeedModel):
    """Datasets that can hold the same trial; the first listed keeps it."""

    datasets: list[Slug] = Field(min_length=2)
    reason: Text


class MappingFile(SeedModel):
    duplicates: list[DuplicateGroup] = []
    datasets: dict[Slug, DatasetMapping]
    signs: dict[Slug, DatasetSigns]
