"""The seed format: the models each seed file is validated against (``extra="forbid"``).

The layout of a seed directory::

    release.yaml           the dataset's name, version, licence, description, date
    citations.yaml         {citations: [...]}   the literature, keyed by ``key``
    conditions.yaml        {conditions: [...]}  diagnoses and presentations, keyed by ``slug``
    modalities/*.yaml      one modality per file, keyed by ``slug``
    trials/                optional: the trial datasets and their mapping (``app.seeding.trials``)

``app.seeding.reader`` validates each file against these models, ``app.seeding.checks`` the
files against each other. A model's own validators check what one file can tell (ranges,
duplicates within a modality); nothing here reads a file.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from datetime import date
from typing import Annotated, Any, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from app.domain import (
    RATIO_MEASURES,
    SLUG_RE,
    AcceptabilityMeasure,
    Category,
    Certainty,
    CitationType,
    CodeSystem,
    Comparator,
    ComponentKind,
    Delivery,
    EffectDirection,
    EffectMeasure,
    Evidence,
    Population,
    Recommendation,
    variants_of,
)
from app.trial_records import TrialData

CITATION_KEY_RE = r"^[a-z][a-z0-9_-]*$"
# Crossref's recommended pattern for modern DOIs: a "10." prefix with a 4-9 digit registrant.
DOI_RE = r"^10\.\d{4,9}/[^\s]+$"
ICD10CM_CODE = r"[A-Z][0-9][0-9A-Z](?:\.[0-9A-Z]{1,4})?"
ICD11_CODE = r"[0-9A-Z]{3,4}(?:\.[0-9A-Z]{1,3})?"
# A code, or a block written as a range of two codes ("F10-F19").
CODE_PATTERNS: dict[CodeSystem, re.Pattern[str]] = {
    CodeSystem.icd_10_cm: re.compile(rf"^{ICD10CM_CODE}(?:-{ICD10CM_CODE})?$"),
    CodeSystem.icd_11: re.compile(rf"^{ICD11_CODE}(?:-{ICD11_CODE})?$"),
}

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Slug = Annotated[str, StringConstraints(strip_whitespace=True, pattern=SLUG_RE, max_length=80)]
CitationKey = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=CITATION_KEY_RE, max_length=80)
]
# Strict: YAML's `yes` must not count as 1.
Count = Annotated[int, Field(ge=0, le=100_000, strict=True)]


class SeedModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)


class Range(SeedModel):
    """A numeric range; ``min <= max`` and both are non-negative."""

    min: Count
    max: Count

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.min > self.max:
            raise ValueError(f"min ({self.min}) is greater than max ({self.max})")
        return self


class Cited(SeedModel):
    """Every claim cites at least one work, by citation key, each key once."""

    citations: list[CitationKey] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_citations(self) -> Self:
        _no_duplicates(self.citations, "citation key")
        return self


class Release(SeedModel):
    name: Text
    version: Annotated[str, StringConstraints(pattern=r"^\d+\.\d+\.\d+$")]
    license: Text
    description: Text
    date: date


class Author(SeedModel):
    """A person (``family`` with optional ``given``) or an organisation (``literal``)."""

    family: Text | None = None
    given: Text | None = None
    literal: Text | None = None

    @model_validator(mode="after")
    def _person_or_body(self) -> Self:
        if (self.family is None) == (self.literal is None):
            raise ValueError("give either 'family' (with optional 'given') or 'literal'")
        if self.literal is not None and self.given is not None:
            raise ValueError("'given' goes with 'family', not with 'literal'")
        return self


class Citation(SeedModel):
    key: CitationKey
    type: CitationType
    title: Text
    # May be empty: a work is cited without authors rather than with guessed ones.
    authors: list[Author] = []
    # May be absent: a work identified for certain (say by its DOI) whose year was not verified.
    year: Annotated[int, Field(ge=1800, le=2100, strict=True)] | None = None
    container_title: Text | None = None
    volume: Text | None = None
    issue: Text | None = None
    pages: Text | None = None
    publisher: Text | None = None
    doi: Annotated[str, StringConstraints(strip_whitespace=True, pattern=DOI_RE)] | None = None
    pmid: Annotated[str, StringConstraints(pattern=r"^[1-9][0-9]{0,8}$")] | None = None
    pmcid: Annotated[str, StringConstraints(pattern=r"^PMC[0-9]{1,9}$")] | None = None
    isbn: Annotated[str, StringConstraints(pattern=r"^(?:97[89])?[0-9-]{9,13}[0-9X]$")] | None = (
        None
    )
    url: Annotated[str, StringConstraints(pattern=r"^https?://\S+$")] | None = None
    note: Text | None = None


class CitationsFile(SeedModel):
    citations: list[Citation] = Field(min_length=1)


class ConditionCode(SeedModel):
    system: CodeSystem
    code: Annotated[str, StringConstraints(strip_whitespace=True)]
    display: Text

    @model_validator(mode="after")
    def _well_formed(self) -> Self:
        if not CODE_PATTERNS[self.system].match(self.code):
            raise ValueError(f"'{self.code}' is not a well-formed {self.system.value} code")
        return self


class CodeBranch(SeedModel):
    """A branch of a classification whose codes lead to the condition when looked up, though
    its code does not name the condition (it is broader, or a grouping): the condition's own
    ``codes`` are branches too. ``exclude`` lists codes under it whose branches belong
    elsewhere (app/icd.py)."""

    system: CodeSystem
    code: Annotated[str, StringConstraints(strip_whitespace=True)]
    exclude: list[Annotated[str, StringConstraints(strip_whitespace=True)]] = []

    @model_validator(mode="after")
    def _well_formed(self) -> Self:
        for code in (self.code, *self.exclude):
            if not CODE_PATTERNS[self.system].match(code):
                raise ValueError(f"'{code}' is not a well-formed {self.system.value} code")
        if self.code in self.exclude:
            raise ValueError(f"'{self.code}' cannot exclude itself")
        _no_duplicates(self.exclude, "excluded code")
        return self


LayTerm = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=80)]


class Condition(SeedModel):
    slug: Slug
    name: Text
    aliases: list[Text] = []
    # Everyday phrases people type for the condition ("can't sleep"); searched and weighted.
    lay_terms: list[LayTerm] = []
    parent: Slug | None = None
    description: Text | None = None
    codes: list[ConditionCode] = []
    code_branches: list[CodeBranch] = []

    @model_validator(mode="after")
    def _checks(self) -> Self:
        if self.parent == self.slug:
            raise ValueError("a condition cannot be its own parent")
        _no_duplicates(self.aliases, "alias")
        _no_duplicates([t.casefold() for t in self.lay_terms], "lay term")
        _no_duplicates(
            [(c.system.value, c.code) for c in self.codes]
            + [(b.system.value, b.code) for b in self.code_branches],
            "code",
        )
        return self


class ConditionsFile(SeedModel):
    conditions: list[Condition] = Field(min_length=1)


class Guideline(SeedModel):
    """A guideline's (or rating body's) position on the treatment for this indication."""

    body: Text
    document: Text
    recommendation: Recommendation
    citation: CitationKey
    note: Text | None = None


def _check_interval(value: float, ci_low: float | None, ci_high: float | None) -> None:
    """An interval is given whole or not at all, and contains its figure."""
    if (ci_low is None) != (ci_high is None):
        raise ValueError("give both ci_low and ci_high, or neither")
    if ci_low is not None and ci_high is not None and not ci_low <= value <= ci_high:
        raise ValueError(f"the interval [{ci_low}, {ci_high}] does not contain the value {value}")


class LowRiskOfBiasFigure(SeedModel):
    """The effect again as its cited work pools it in the studies it rates at low risk of bias
    alone (a sensitivity analysis stated in its abstract or text), in the effect's own measure
    and sign."""

    value: float
    ci_low: float
    ci_high: float
    studies: Annotated[int, Field(ge=1, le=100_000, strict=True)] | None = None
    note: Text | None = None

    @model_validator(mode="after")
    def _interval(self) -> Self:
        _check_interval(self.value, self.ci_low, self.ci_high)
        return self


class Effect(SeedModel):
    """A pooled (or trial) estimate exactly as the cited work states it."""

    measure: EffectMeasure
    # Required, and null only when the cited work does not say which way its figure runs (the
    # note must then say so): a figure whose direction is unknown is kept but never oriented.
    direction: EffectDirection | None
    value: float
    ci_low: float | None = None
    ci_high: float | None = None
    studies: Annotated[int, Field(ge=1, le=100_000, strict=True)] | None = None
    participants: Annotated[int, Field(ge=1, le=10_000_000, strict=True)] | None = None
    comparator: Comparator
    outcome: Text
    citation: CitationKey
    note: Text | None = None
    low_risk_of_bias: LowRiskOfBiasFigure | None = None

    @model_validator(mode="after")
    def _interval(self) -> Self:
        _check_interval(self.value, self.ci_low, self.ci_high)
        low = self.low_risk_of_bias
        if self.measure in RATIO_MEASURES and (
            self.value <= 0
            or (self.ci_low is not None and self.ci_low <= 0)
            or (low is not None and low.ci_low <= 0)
        ):
            raise ValueError(f"a ratio ({self.measure.value}) must be greater than 0")
        if self.direction is None and self.note is None:
            raise ValueError(
                "direction is null (the cited work does not state it): the note must say so"
            )
        return self

    @property
    def significant(self) -> bool | None:
        """Whether the interval excludes no effect; None when no interval is stated."""
        if self.ci_low is None or self.ci_high is None:
            return None
        null = self.measure.null_value
        return not self.ci_low <= null <= self.ci_high


class Acceptability(SeedModel):
    """Dropout as the cited work states it: a ratio against a comparator (RR or OR; above 1
    means more dropout with the therapy), or the proportion who dropped out of the therapy, with
    the comparator's proportion beside it when the work gives one. Without a comparator it is
    dropout overall."""

    outcome: Text
    measure: AcceptabilityMeasure
    value: float
    ci_low: float | None = None
    ci_high: float | None = None
    comparator: Comparator | None = None
    comparator_value: float | None = None
    studies: Annotated[int, Field(ge=1, le=100_000, strict=True)] | None = None
    participants: Annotated[int, Field(ge=1, le=10_000_000, strict=True)] | None = None
    citation: CitationKey
    note: Text | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        _check_interval(self.value, self.ci_low, self.ci_high)
        if self.measure is AcceptabilityMeasure.proportion:
            for name in ("value", "ci_low", "ci_high", "comparator_value"):
                number = getattr(self, name)
                if number is not None and not 0 <= number <= 1:
                    raise ValueError(f"{name}: a proportion is between 0 and 1, not {number}")
            if self.comparator_value is not None and self.comparator is None:
                raise ValueError("comparator_value needs the comparator it belongs to")
        else:
            if self.comparator is None:
                raise ValueError(f"a ratio ({self.measure.value}) needs its comparator")
            if self.comparator_value is not None:
                raise ValueError("comparator_value goes with a proportion, not a ratio")
            if self.value <= 0 or (self.ci_low is not None and self.ci_low <= 0):
                raise ValueError(f"a ratio ({self.measure.value}) must be greater than 0")
        return self


class CertaintyRating(SeedModel):
    """How a cited systematic review rates the certainty (or quality) of its evidence for one
    comparison the indication rests on, as the review states it. ``rating`` is the lowest level
    the review gives that comparison; ``highest``, where it gives a range (most results
    "moderate to very low"), the highest. ``system`` names the scheme: GRADE, or the review's own
    quality judgement."""

    citation: CitationKey
    comparison: Text
    rating: Certainty
    highest: Certainty | None = None
    system: Text
    note: Text | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        order = list(Certainty)
        if self.highest is not None and order.index(self.highest) > order.index(self.rating):
            raise ValueError(
                f"highest ({self.highest.value}) is below rating ({self.rating.value}): rating"
                " is the lowest level the review gives, highest the top of its range"
            )
        return self


class Harm(SeedModel):
    """Deterioration or adverse events, as a sentence the cited work supports."""

    statement: Text
    citation: CitationKey


# A variant is one of its modality's (app.domain.MODALITY_VARIANTS), checked by the modality.
Variant = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]


class Indication(Cited):
    condition: Slug
    evidence: Evidence
    population: Population
    variant: Variant | None = None
    summary: Text
    grade_basis: Text
    guidelines: list[Guideline] = []
    effects: list[Effect] = []
    acceptability: list[Acceptability] = []
    harms: list[Harm] = []
    certainty: list[CertaintyRating] = []


class Consideration(Cited):
    statement: Text
    detail: Text | None = None


class Format(Cited):
    delivery: Delivery
    variant: Variant | None = None
    sessions: Range | None = None
    weeks: Range | None = None
    session_minutes: Range | None = None
    group_size: Range | None = None
    notes: Text | None = None


class Component(Cited):
    kind: ComponentKind
    name: Text
    description: Text


class Modality(Cited):
    """One modality file. ``citations`` back the description, origin and goals."""

    slug: Slug
    name: Text
    abbreviation: Text
    category: Category
    aliases: list[Text] = []
    summary: Text
    description: Text
    origin: Text
    goals: list[Text] = Field(min_length=1)
    indications: list[Indication] = []
    pros: list[Consideration] = []
    cons: list[Consideration] = []
    formats: list[Format] = Field(min_length=1)
    components: list[Component] = []

    @model_validator(mode="after")
    def _unique_parts(self) -> Self:
        _no_duplicates(self.aliases, "alias")
        _no_duplicates(
            [(i.condition, i.population.value, i.variant) for i in self.indications],
            "indication (condition, population, variant)",
        )
        allowed = variants_of(self.slug)
        named: list[tuple[str, str | None]] = [
            *((f"indications[{n}]", i.variant) for n, i in enumerate(self.indications)),
            *((f"formats[{n}]", f.variant) for n, f in enumerate(self.formats)),
        ]
        for where, variant in named:
            if variant is not None and variant not in allowed:
                known = ", ".join(allowed) if allowed else "none"
                raise ValueError(
                    f"{where}.variant: '{variant}' is not a variant of '{self.slug}'"
                    f" (known: {known})"
                )
        _no_duplicates([(c.kind.value, c.name) for c in self.components], "component")
        return self


class SeedSet(SeedModel):
    """A whole, validated seed directory, in a canonical order."""

    release: Release
    citations: list[Citation]
    conditions: list[Condition]
    modalities: list[Modality]
    # The trial layer, read by ``app.seeding.trials`` when the seed has a ``trials/`` directory.
    # None is left out of the hash, so a seed without trials hashes as it always did.
    trials: TrialData | None = None

    def content_hash(self) -> str:
        return canonical_hash(self)


def canonical_hash(model: BaseModel) -> str:
    """sha256 over the canonical JSON of a model: formatting and key order in YAML do not count."""
    payload = json.dumps(
        model.model_dump(mode="json", exclude_none=True),
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _no_duplicates(values: Iterable[Any], what: str) -> None:
    seen: set[Any] = set()
    for value in values:
        if value in seen:
            raise ValueError(f"duplicate {what} {value!r}")
        seen.add(value)
