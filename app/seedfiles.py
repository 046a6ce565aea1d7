"""The seed format: reading ``seed/`` into validated models, with every defect reported.

The layout of a seed directory::

    release.yaml           the dataset's name, version, licence, description, date
    citations.yaml         {citations: [...]}   the literature, keyed by ``key``
    conditions.yaml        {conditions: [...]}  diagnoses and presentations, keyed by ``slug``
    modalities/*.yaml      one modality per file, keyed by ``slug``

``read_seed_dir`` validates each file against the Pydantic models below (``extra="forbid"``),
then checks the files against each other, and raises ``SeedInvalid`` naming *every* problem
with its file and the path inside it. No database is involved: ``therapy-kb check`` is this.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Self, TypeVar

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)

from app.domain import (
    RATIO_MEASURES,
    Category,
    CitationType,
    CodeSystem,
    Comparator,
    ComponentKind,
    Delivery,
    EffectMeasure,
    Evidence,
    Population,
    Recommendation,
)
from app.errors import SeedInvalid, SeedProblem

SLUG_RE = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
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


class Condition(SeedModel):
    slug: Slug
    name: Text
    aliases: list[Text] = []
    parent: Slug | None = None
    description: Text | None = None
    codes: list[ConditionCode] = []

    @model_validator(mode="after")
    def _checks(self) -> Self:
        if self.parent == self.slug:
            raise ValueError("a condition cannot be its own parent")
        _no_duplicates(self.aliases, "alias")
        _no_duplicates([(c.system.value, c.code) for c in self.codes], "code")
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


class Effect(SeedModel):
    """A pooled (or trial) estimate exactly as the cited work states it."""

    measure: EffectMeasure
    value: float
    ci_low: float | None = None
    ci_high: float | None = None
    studies: Annotated[int, Field(ge=1, le=100_000, strict=True)] | None = None
    participants: Annotated[int, Field(ge=1, le=10_000_000, strict=True)] | None = None
    comparator: Comparator
    outcome: Text
    citation: CitationKey
    note: Text | None = None

    @model_validator(mode="after")
    def _interval(self) -> Self:
        if (self.ci_low is None) != (self.ci_high is None):
            raise ValueError("give both ci_low and ci_high, or neither")
        if self.ci_low is not None and self.ci_high is not None:
            if not self.ci_low <= self.value <= self.ci_high:
                raise ValueError(
                    f"the interval [{self.ci_low}, {self.ci_high}] does not contain the value"
                    f" {self.value}"
                )
        if self.measure in RATIO_MEASURES and (
            self.value <= 0 or (self.ci_low is not None and self.ci_low <= 0)
        ):
            raise ValueError(f"a ratio ({self.measure.value}) must be greater than 0")
        return self

    @property
    def significant(self) -> bool | None:
        """Whether the interval excludes no effect; None when no interval is stated."""
        if self.ci_low is None or self.ci_high is None:
            return None
        null = self.measure.null_value
        return not self.ci_low <= null <= self.ci_high


class Indication(Cited):
    condition: Slug
    evidence: Evidence
    population: Population
    summary: Text
    grade_basis: Text
    guidelines: list[Guideline] = []
    effects: list[Effect] = []


class Consideration(Cited):
    statement: Text
    detail: Text | None = None


class Format(Cited):
    delivery: Delivery
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
            [(i.condition, i.population.value) for i in self.indications],
            "indication (condition, population)",
        )
        _no_duplicates([(c.kind.value, c.name) for c in self.components], "component")
        return self


class SeedSet(SeedModel):
    """A whole, validated seed directory, in a canonical order."""

    release: Release
    citations: list[Citation]
    conditions: list[Condition]
    modalities: list[Modality]

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


# --- reading -----------------------------------------------------------------------------


@dataclass
class _Parsed:
    file: str
    data: Any


def _loc(parts: Iterable[int | str]) -> str:
    """Render a Pydantic location as ``indications[2].citations[0]``."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out


# libyaml's parser when PyYAML was built with it (about ten times faster on a large seed), with
# the same safe constructors either way.
if yaml.__with_libyaml__:
    from yaml import CSafeLoader as _SafeLoader
else:  # pragma: no cover  (PyYAML built without libyaml)
    from yaml import SafeLoader as _SafeLoader  # type: ignore[assignment]


class _UniqueKeyLoader(_SafeLoader):
    """A safe loader that refuses a key given twice in one mapping (the last would win)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _read_yaml(path: Path, label: str, problems: list[SeedProblem]) -> _Parsed | None:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        problems.append(SeedProblem(label, "", f"cannot read file: {exc.strerror}"))
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        problems.append(SeedProblem(label, f"byte {exc.start}", "file is not valid UTF-8 text"))
        return None
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506  (a SafeLoader subclass)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        reason = getattr(exc, "problem", None) or str(exc)
        problems.append(SeedProblem(label, where, f"YAML syntax error: {reason}"))
        return None
    except ValueError as exc:
        # PyYAML builds dates itself: "2026-13-01" raises ValueError, not YAMLError.
        problems.append(SeedProblem(label, "", f"invalid value: {exc}"))
        return None
    if data is None:
        problems.append(SeedProblem(label, "", "file is empty"))
        return None
    if not isinstance(data, dict):
        problems.append(
            SeedProblem(label, "", f"expected a mapping at the top, found {type(data).__name__}")
        )
        return None
    return _Parsed(label, data)


M = TypeVar("M", bound=BaseModel)


def _validate(
    model: type[M], parsed: _Parsed | None, problems: list[SeedProblem], prefix: str = ""
) -> M | None:
    if parsed is None:
        return None
    try:
        return model.model_validate(parsed.data)
    except ValidationError as exc:
        for err in exc.errors(include_url=False, include_context=False):
            loc = _loc(err["loc"])
            path = f"{prefix}{loc}" if prefix else loc
            message = err["msg"].removeprefix("Value error, ")
            problems.append(SeedProblem(parsed.file, path, message))
        return None


def read_seed_dir(directory: Path | str) -> SeedSet:
    """Read and validate a seed directory; raise ``SeedInvalid`` listing every problem."""
    root = Path(directory)
    problems: list[SeedProblem] = []
    if not root.is_dir():
        raise SeedInvalid([SeedProblem(str(root), "", "not a directory")])

    def label(path: Path) -> str:
        return str(path)

    def required(name: str) -> _Parsed | None:
        path = root / name
        if not path.is_file():
            problems.append(SeedProblem(label(path), "", "required file is missing"))
            return None
        return _read_yaml(path, label(path), problems)

    release = _validate(Release, required("release.yaml"), problems)
    citations_file = _validate(CitationsFile, required("citations.yaml"), problems)
    conditions_file = _validate(ConditionsFile, required("conditions.yaml"), problems)

    modality_dir = root / "modalities"
    modality_paths = (
        sorted([*modality_dir.glob("*.yaml"), *modality_dir.glob("*.yml")])
        if modality_dir.is_dir()
        else []
    )
    if not modality_paths:
        problems.append(SeedProblem(label(modality_dir), "", "no modality files (*.yaml)"))
    modalities: list[tuple[str, Modality]] = []
    for path in modality_paths:
        parsed = _read_yaml(path, label(path), problems)
        modality = _validate(Modality, parsed, problems)
        if modality is not None:
            modalities.append((label(path), modality))
    all_modalities_valid = len(modalities) == len(modality_paths)

    citations = citations_file.citations if citations_file else []
    conditions = conditions_file.conditions if conditions_file else []
    problems.extend(
        _cross_check(
            label(root / "citations.yaml") if citations_file else None,
            citations,
            label(root / "conditions.yaml") if conditions_file else None,
            conditions,
            modalities,
            all_modalities_valid,
        )
    )
    if problems or release is None:
        raise SeedInvalid(problems)
    return SeedSet(
        release=release,
        citations=sorted(citations, key=lambda c: c.key),
        conditions=sorted(conditions, key=lambda c: c.slug),
        modalities=sorted((m for _, m in modalities), key=lambda m: m.slug),
    )


def _suggest(value: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(value, list(known), n=1, cutoff=0.75)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _claims(modality: Modality) -> Iterator[tuple[str, list[str]]]:
    """Every cited statement of a modality file, with its path in the file."""
    yield "citations", modality.citations
    for part in ("indications", "pros", "cons", "formats", "components"):
        for i, claim in enumerate(getattr(modality, part)):
            yield f"{part}[{i}].citations", claim.citations


def _check_evidence_citations(
    file: str, modality: Modality, citation_keys: set[str], citations_file: str | None
) -> Iterator[SeedProblem]:
    """A guideline position or an effect cites one work, which the indication also cites."""
    for i, indication in enumerate(modality.indications):
        for part in ("guidelines", "effects"):
            for j, item in enumerate(getattr(indication, part)):
                path = f"indications[{i}].{part}[{j}].citation"
                if citations_file is not None and item.citation not in citation_keys:
                    yield SeedProblem(
                        file,
                        path,
                        f"unknown citation '{item.citation}'"
                        + _suggest(item.citation, citation_keys),
                    )
                elif item.citation not in indication.citations:
                    yield SeedProblem(
                        file,
                        path,
                        f"'{item.citation}' is not among the indication's citations",
                    )


def _cross_check(
    citations_file: str | None,
    citations: list[Citation],
    conditions_file: str | None,
    conditions: list[Condition],
    modalities: list[tuple[str, Modality]],
    all_modalities_valid: bool,
) -> list[SeedProblem]:
    problems: list[SeedProblem] = []

    citation_keys: set[str] = set()
    for i, citation in enumerate(citations):
        if citation.key in citation_keys:
            problems.append(
                SeedProblem(
                    citations_file or "",
                    f"citations[{i}].key",
                    f"duplicate citation key '{citation.key}'",
                )
            )
        citation_keys.add(citation.key)

    condition_slugs: set[str] = set()
    codes: dict[tuple[str, str], str] = {}
    for i, condition in enumerate(conditions):
        if condition.slug in condition_slugs:
            problems.append(
                SeedProblem(
                    conditions_file or "",
                    f"conditions[{i}].slug",
                    f"duplicate condition slug '{condition.slug}'",
                )
            )
        condition_slugs.add(condition.slug)
        for j, code in enumerate(condition.codes):
            owner = codes.setdefault((code.system.value, code.code), condition.slug)
            if owner != condition.slug:
                problems.append(
                    SeedProblem(
                        conditions_file or "",
                        f"conditions[{i}].codes[{j}].code",
                        f"{code.system.value} code '{code.code}' is already used by '{owner}'",
                    )
                )
    parents = {c.slug: c.parent for c in conditions}
    for i, condition in enumerate(conditions):
        if condition.parent is None:
            continue
        if condition.parent not in condition_slugs:
            problems.append(
                SeedProblem(
                    conditions_file or "",
                    f"conditions[{i}].parent",
                    f"unknown condition '{condition.parent}'"
                    + _suggest(condition.parent, condition_slugs),
                )
            )
            continue
        # Walk up the parents; a cycle would loop forever in the API's tree queries.
        seen = {condition.slug}
        node: str | None = condition.parent
        while node is not None:
            if node in seen:
                problems.append(
                    SeedProblem(
                        conditions_file or "",
                        f"conditions[{i}].parent",
                        f"parent chain of '{condition.slug}' forms a cycle",
                    )
                )
                break
            seen.add(node)
            node = parents.get(node)

    used_keys: set[str] = set()
    modality_slugs: dict[str, str] = {}
    for file, modality in modalities:
        if modality.slug in modality_slugs:
            problems.append(
                SeedProblem(
                    file,
                    "slug",
                    f"duplicate modality slug '{modality.slug}'"
                    f" (also in {modality_slugs[modality.slug]})",
                )
            )
        else:
            modality_slugs[modality.slug] = file
        for path, keys in _claims(modality):
            for k, key in enumerate(keys):
                used_keys.add(key)
                if citations_file is not None and key not in citation_keys:
                    problems.append(
                        SeedProblem(
                            file,
                            f"{path}[{k}]",
                            f"unknown citation '{key}'" + _suggest(key, citation_keys),
                        )
                    )
        problems.extend(_check_evidence_citations(file, modality, citation_keys, citations_file))
        if conditions_file is not None:
            for i, indication in enumerate(modality.indications):
                if indication.condition not in condition_slugs:
                    problems.append(
                        SeedProblem(
                            file,
                            f"indications[{i}].condition",
                            f"unknown condition '{indication.condition}'"
                            + _suggest(indication.condition, condition_slugs),
                        )
                    )

    # Only when every modality file was read: an invalid one may cite what looks unused.
    if modalities and all_modalities_valid and citations_file is not None:
        for i, citation in enumerate(citations):
            if citation.key not in used_keys:
                problems.append(
                    SeedProblem(
                        citations_file,
                        f"citations[{i}]",
                        f"citation '{citation.key}' is not cited by any claim",
                    )
                )
    return problems
