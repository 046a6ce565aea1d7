"""Content rules for the real knowledge base in ``seed/``.

``app.seeding.read_seed_dir`` already rejects malformed files, unknown citation keys and
condition slugs, unused citations, bad ranges, DOIs and codes. These tests hold the
project-level rules on top of that: the six modalities and their categories, minimum counts,
the required component sets, every claim cited and every citation used (checked here by
walking the models, independently of the reader), every identifier with the address of the
record it was checked against, the grading rubric (docs/evidence-grading.md) and specific
corrections (DIT's false aliases, no support for IPT in substance use, no equivalence claimed
from a non-significant difference).

No database is involved; the tests read the YAML files only.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from pydantic import BaseModel

from app.domain import (
    EVIDENCE_RANK,
    Category,
    CodeSystem,
    ComponentKind,
    Delivery,
    Evidence,
    Population,
    Recommendation,
)
from app.errors import SeedInvalid
from app.seeding import read_seed_dir
from app.seeding.format import CODE_PATTERNS, Modality, SeedSet

ROOT = Path(__file__).resolve().parents[1]
SEED_DIR = ROOT / "seed"

# Where a citation's identifiers were checked: the work's own record, never a mirror.
RECORD_HOST_BLOCKLIST = re.compile(
    r"^(\d+\.\d+\.\d+\.\d+|.*scribd\.com|.*fdocuments\.|.*websiteproxy\.|.*bohrium\."
    r"|.*researchgate\.net|.*sci-hub\.|.*libgen\.)$"
)
# Words that sell rather than inform, and notes about curation that belong in YAML comments.
FORBIDDEN_PHRASES = [
    "gold standard",
    "highly effective",
    "proven",
    "powerful",
    "breakthrough",
    "sources recorded here",
    "grade is conservative",
    "not verified",
    "shared/",
]
# A non-significant difference is not equivalence.
EQUIVALENCE_PHRASES = ["as effective as", "on a par with", "matches ", "matched "]

# --- the rules ------------------------------------------------------------------------------

EXPECTED_MODALITIES: dict[str, Category] = {
    "ipt": Category.approach,
    "dit": Category.approach,
    "cbt": Category.approach,
    "dbt": Category.approach,
    "group": Category.delivery,
    "online": Category.delivery,
}
MIN_CONDITIONS = 12
MIN_INDICATIONS = 60
MIN_INDICATIONS_PER_MODALITY = 4
MIN_PROS = 4
MIN_CONS = 4
# The content release these rules were last reviewed for; it changes only with a new release.
RELEASE_VERSION = "3.0.0"
RELEASE_LICENSE = "CC-BY-4.0"

# The component sets each modality must have. IPT has exactly four problem areas and three
# phases; DBT exactly four skill modules and four treatment modes. The kinds of group
# (psychoeducational, process, skills) and the modes of online therapy (synchronous video,
# guided, unguided) are at least three treatment modes each.
EXACT_COMPONENTS: dict[str, dict[ComponentKind, int]] = {
    "ipt": {ComponentKind.problem_area: 4, ComponentKind.phase: 3},
    "dbt": {ComponentKind.skill_module: 4, ComponentKind.treatment_mode: 4},
}
MIN_COMPONENTS: dict[str, dict[ComponentKind, int]] = {
    "group": {ComponentKind.treatment_mode: 3},
    "online": {ComponentKind.treatment_mode: 3},
}

# These are different therapies, never DIT's aliases.
FORBIDDEN_NAMES: dict[str, list[str]] = {
    "dit": ["psychodynamic interpersonal therapy", "mentalization-based therapy"],
}

# (modality, condition) -> the highest evidence level the reference allows. The cap also
# applies to the condition's descendants (a child of substance-use-disorders is still
# substance use).
EVIDENCE_CAPS: dict[tuple[str, str], Evidence] = {
    ("ipt", "substance-use-disorders"): Evidence.insufficient,
}

RANGE_FIELDS = ("sessions", "weeks", "session_minutes", "group_size")
IDENTIFIER_FIELDS = ("doi", "pmid", "pmcid")


# --- fixtures and helpers -----------------------------------------------------------------


@pytest.fixture(scope="module")
def seed() -> SeedSet:
    try:
        return read_seed_dir(SEED_DIR)
    except SeedInvalid as exc:
        pytest.fail(f"seed/ does not validate:\n{exc}")


def _modality(seed: SeedSet, slug: str) -> Modality:
    for modality in seed.modalities:
        if modality.slug == slug:
            return modality
    pytest.fail(f"modality '{slug}' is missing from seed/modalities")


def _iter_claims(obj: Any, path: str) -> Iterator[tuple[str, Any]]:
    """Every model inside ``obj`` that has a ``citations`` field, with its path."""
    if isinstance(obj, BaseModel):
        fields = type(obj).model_fields
        if "citations" in fields:
            yield path, obj
        for name in fields:
            if name != "citations":
                yield from _iter_claims(getattr(obj, name), f"{path}.{name}")
    elif isinstance(obj, list | tuple):
        for i, item in enumerate(obj):
            yield from _iter_claims(item, f"{path}[{i}]")


def _all_claims(seed: SeedSet) -> list[tuple[str, Any]]:
    claims: list[tuple[str, Any]] = []
    for modality in seed.modalities:
        claims.extend(_iter_claims(modality, modality.slug))
    return claims


def _descendants(seed: SeedSet, slug: str) -> set[str]:
    """``slug`` and every condition below it in the parent tree."""
    children: dict[str, list[str]] = {}
    for condition in seed.conditions:
        if condition.parent:
            children.setdefault(condition.parent, []).append(condition.slug)
    found, stack = {slug}, [slug]
    while stack:
        for child in children.get(stack.pop(), []):
            if child not in found:
                found.add(child)
                stack.append(child)
    return found


def _name_key(text: str) -> str:
    """Compare names ignoring case, hyphens, spacing and the British -isation spelling."""
    text = text.casefold().replace("-", " ").replace("mentalisation", "mentalization")
    return re.sub(r"\s+", " ", text).strip()


# --- modalities -------------------------------------------------------------------------------


def test_exactly_the_six_modalities_with_their_categories(seed: SeedSet) -> None:
    found = {m.slug: m.category for m in seed.modalities}
    assert found == EXPECTED_MODALITIES


@pytest.mark.parametrize("slug", sorted(EXPECTED_MODALITIES))
def test_modality_has_the_descriptive_fields(seed: SeedSet, slug: str) -> None:
    m = _modality(seed, slug)
    for field in ("name", "abbreviation", "summary", "description", "origin"):
        assert str(getattr(m, field)).strip(), f"{slug}: empty {field}"
    assert m.goals, f"{slug}: no goals"
    # Spelling variants ("behavior", "cognitive-behavioural") are legitimate aliases;
    # an alias that only repeats the name, or another alias, in a different case is not.
    labels = [" ".join(label.casefold().split()) for label in [m.name, *m.aliases]]
    assert len(set(labels)) == len(labels), f"{slug}: an alias repeats the name or another alias"


@pytest.mark.parametrize("slug", sorted(EXPECTED_MODALITIES))
def test_modality_has_enough_pros_and_cons(seed: SeedSet, slug: str) -> None:
    m = _modality(seed, slug)
    assert len(m.pros) >= MIN_PROS, f"{slug}: {len(m.pros)} pros, need {MIN_PROS}"
    assert len(m.cons) >= MIN_CONS, f"{slug}: {len(m.cons)} cons, need {MIN_CONS}"


@pytest.mark.parametrize("slug", sorted(EXPECTED_MODALITIES))
def test_every_format_has_numbers_or_notes(seed: SeedSet, slug: str) -> None:
    m = _modality(seed, slug)
    assert m.formats, f"{slug}: no formats"
    for i, fmt in enumerate(m.formats):
        ranges = [getattr(fmt, name) for name in RANGE_FIELDS if getattr(fmt, name) is not None]
        # A typical value ("usually 8 sessions") is stated in the notes, not as an exact range.
        assert ranges or fmt.notes, f"{slug}.formats[{i}]: neither a numeric range nor notes"
        for r in ranges:
            assert isinstance(r.min, int), f"{slug}.formats[{i}]: non-numeric range"
            assert isinstance(r.max, int), f"{slug}.formats[{i}]: non-numeric range"
            assert 0 <= r.min <= r.max, f"{slug}.formats[{i}]: bad range {r.min}-{r.max}"
        if fmt.group_size is not None:
            assert fmt.delivery == Delivery.group, (
                f"{slug}.formats[{i}]: group_size on a '{fmt.delivery}' format"
            )


@pytest.mark.parametrize("slug", sorted(set(EXACT_COMPONENTS) | set(MIN_COMPONENTS)))
def test_required_component_sets(seed: SeedSet, slug: str) -> None:
    m = _modality(seed, slug)
    counts = Counter(c.kind for c in m.components)
    for kind, n in EXACT_COMPONENTS.get(slug, {}).items():
        assert counts[kind] == n, f"{slug}: {counts[kind]} {kind.value} components, need {n}"
    for kind, n in MIN_COMPONENTS.get(slug, {}).items():
        assert counts[kind] >= n, f"{slug}: {counts[kind]} {kind.value} components, need {n}+"


@pytest.mark.parametrize("slug", sorted(EXPECTED_MODALITIES))
def test_enums_are_valid(seed: SeedSet, slug: str) -> None:
    m = _modality(seed, slug)
    assert str(m.category) in {c.value for c in Category}
    for ind in m.indications:
        assert str(ind.evidence) in {e.value for e in Evidence}
        assert str(ind.population) in {p.value for p in Population}
    for fmt in m.formats:
        assert str(fmt.delivery) in {d.value for d in Delivery}
    for comp in m.components:
        assert str(comp.kind) in {k.value for k in ComponentKind}


@pytest.mark.parametrize("slug", sorted(FORBIDDEN_NAMES))
def test_no_false_aliases(seed: SeedSet, slug: str) -> None:
    m = _modality(seed, slug)
    forbidden = {_name_key(name) for name in FORBIDDEN_NAMES[slug]}
    for label in [m.name, m.abbreviation, *m.aliases]:
        assert _name_key(label) not in forbidden, f"{slug}: '{label}' is a different therapy"


@pytest.mark.parametrize(("slug", "condition"), sorted(EVIDENCE_CAPS))
def test_evidence_caps(seed: SeedSet, slug: str, condition: str) -> None:
    cap = EVIDENCE_CAPS[(slug, condition)]
    covered = _descendants(seed, condition)
    for ind in _modality(seed, slug).indications:
        if ind.condition in covered:
            assert EVIDENCE_RANK[Evidence(ind.evidence)] <= EVIDENCE_RANK[cap], (
                f"{slug} for {ind.condition} graded '{ind.evidence}', above '{cap.value}'"
            )


# --- conditions and indications ------------------------------------------------------------


def test_enough_conditions(seed: SeedSet) -> None:
    assert len(seed.conditions) >= MIN_CONDITIONS


def test_enough_indications(seed: SeedSet) -> None:
    total = sum(len(m.indications) for m in seed.modalities)
    assert total >= MIN_INDICATIONS, f"{total} indications, need {MIN_INDICATIONS}"


def test_indications_and_parents_name_known_conditions(seed: SeedSet) -> None:
    slugs = {c.slug for c in seed.conditions}
    assert len(slugs) == len(seed.conditions), "duplicate condition slug"
    for c in seed.conditions:
        assert c.parent is None or c.parent in slugs, f"{c.slug}: unknown parent {c.parent}"
    for m in seed.modalities:
        for i, ind in enumerate(m.indications):
            assert ind.condition in slugs, f"{m.slug}.indications[{i}]: {ind.condition}"


def test_condition_codes_are_well_formed(seed: SeedSet) -> None:
    systems_used: set[str] = set()
    for c in seed.conditions:
        for code in c.codes:
            system = CodeSystem(code.system)
            systems_used.add(system.value)
            assert CODE_PATTERNS[system].fullmatch(code.code), (
                f"{c.slug}: '{code.code}' is not a well-formed {system.value} code"
            )
            assert code.display.strip(), f"{c.slug}: code {code.code} has no display text"
    assert systems_used == {s.value for s in CodeSystem}, f"code systems used: {systems_used}"


def test_complex_ptsd_is_its_own_condition(seed: SeedSet) -> None:
    """ICD-11 places complex PTSD (6B41) beside PTSD (6B40), not under it: one code each, and
    neither condition is a form of the other."""
    by_slug = {c.slug: c for c in seed.conditions}
    owners = {
        code.code: c.slug for c in seed.conditions for code in c.codes if code.system == "icd-11"
    }
    assert owners.get("6B40") == "ptsd"
    assert owners.get("6B41") == "complex-ptsd"
    assert "complex-ptsd" not in _descendants(seed, "ptsd")
    assert "ptsd" not in _descendants(seed, "complex-ptsd")
    assert by_slug["complex-ptsd"].parent is None


# --- citations -------------------------------------------------------------------------------


def test_every_claim_is_cited_with_known_keys(seed: SeedSet) -> None:
    keys = {c.key for c in seed.citations}
    claims = _all_claims(seed)
    # The walk must at least see each modality and each of its claim lists.
    expected = sum(
        1 + len(m.indications) + len(m.pros) + len(m.cons) + len(m.formats) + len(m.components)
        for m in seed.modalities
    )
    assert len(claims) >= expected
    for path, claim in claims:
        assert claim.citations, f"{path}: no citation"
        unknown = [k for k in claim.citations if k not in keys]
        assert not unknown, f"{path}: unknown citation(s) {unknown}"


def test_every_citation_is_used(seed: SeedSet) -> None:
    keys = [c.key for c in seed.citations]
    assert len(set(keys)) == len(keys), "duplicate citation key"
    used = {k for _, claim in _all_claims(seed) for k in claim.citations}
    unused = sorted(set(keys) - used)
    assert not unused, f"citations not cited by any claim: {unused}"


@pytest.mark.parametrize("field", IDENTIFIER_FIELDS)
def test_identifiers_come_with_the_record_they_were_checked_against(
    seed: SeedSet, field: str
) -> None:
    """A DOI, PMID or PMCID is kept only with the address of the published record (publisher,
    doi.org, PubMed or PMC) where it was checked; never a mirror or a file-sharing copy."""
    for c in seed.citations:
        if getattr(c, field) is None:
            continue
        assert c.url, f"{c.key}: has a {field} but no url of the record it was checked on"
    for c in seed.citations:
        if c.url:
            host = urlparse(c.url).hostname or ""
            assert not RECORD_HOST_BLOCKLIST.match(host), f"{c.key}: {c.url} is not a record"


def test_doi_urls_name_the_same_doi(seed: SeedSet) -> None:
    for c in seed.citations:
        if c.url and c.doi and urlparse(c.url).hostname == "doi.org":
            assert c.url.lower().endswith(c.doi.lower()), f"{c.key}: {c.url} is not {c.doi}"
        if c.url and c.pmid and "pubmed.ncbi.nlm.nih.gov" in c.url:
            assert f"/{c.pmid}" in c.url, f"{c.key}: {c.url} is not PMID {c.pmid}"


# --- evidence: the rubric -------------------------------------------------------------------


def _indications(seed: SeedSet) -> Iterator[tuple[str, Any]]:
    for m in seed.modalities:
        for i, ind in enumerate(m.indications):
            yield f"{m.slug}.indications[{i}] ({ind.condition}, {ind.population})", ind


def test_enough_indications_per_modality(seed: SeedSet) -> None:
    for m in seed.modalities:
        assert len(m.indications) >= MIN_INDICATIONS_PER_MODALITY, (
            f"{m.slug}: {len(m.indications)} indications, need {MIN_INDICATIONS_PER_MODALITY}"
        )


def test_every_condition_is_used(seed: SeedSet) -> None:
    used = {ind.condition for m in seed.modalities for ind in m.indications}
    unused = sorted(c.slug for c in seed.conditions if c.slug not in used)
    assert not unused, f"conditions no indication uses: {unused}"


def test_children_or_older_adults_are_covered(seed: SeedSet) -> None:
    populations = {ind.population for _, ind in _indications(seed)}
    assert populations & {Population.children, Population.older_adults}


def test_strong_has_a_recommending_guideline(seed: SeedSet) -> None:
    """Strong needs a first-line or recommended guideline position; the rest of the rubric
    (the pooled effect, the low-risk-of-bias check, the certainty cap, condition groups) is
    checked against the trial data in tests/test_content_grades.py."""
    strong = [(where, ind) for where, ind in _indications(seed) if ind.evidence is Evidence.strong]
    assert strong, "no indication is graded strong"
    for where, ind in strong:
        positions = {g.recommendation for g in ind.guidelines}
        assert positions & {Recommendation.first_line, Recommendation.recommended}, (
            f"{where}: strong without a first-line or recommended guideline position"
        )


def test_effects_and_guidelines_are_consistent(seed: SeedSet) -> None:
    keys = {c.key for c in seed.citations}
    for where, ind in _indications(seed):
        assert ind.grade_basis.strip(), f"{where}: no grade basis"
        for e in ind.effects:
            if e.ci_low is not None and e.ci_high is not None:
                assert e.ci_low <= e.value <= e.ci_high, f"{where}: {e.value} outside its CI"
            assert e.citation in keys, where
            assert e.citation in ind.citations, where
        for g in ind.guidelines:
            assert g.citation in keys, where
            assert g.citation in ind.citations, where


def _texts(seed: SeedSet) -> Iterator[tuple[str, str]]:
    for m in seed.modalities:
        yield f"{m.slug}.summary", m.summary
        yield f"{m.slug}.description", m.description
        for where, ind in _indications(seed):
            if where.startswith(f"{m.slug}."):
                yield f"{where}.summary", ind.summary
                yield f"{where}.grade_basis", ind.grade_basis
        for kind, part in (("pros", m.pros), ("cons", m.cons)):
            for i, c in enumerate(part):
                yield f"{m.slug}.{kind}[{i}]", f"{c.statement} {c.detail or ''}"
    for c in seed.citations:
        if c.note:
            yield f"citation {c.key}.note", c.note


def test_no_marketing_or_curation_words_in_clinical_text(seed: SeedSet) -> None:
    for where, text in _texts(seed):
        lowered = " ".join(text.lower().split())
        for phrase in FORBIDDEN_PHRASES:
            assert phrase not in lowered, f"{where}: '{phrase}'"


def test_no_equivalence_claimed(seed: SeedSet) -> None:
    for where, text in _texts(seed):
        lowered = " ".join(text.lower().split())
        for phrase in EQUIVALENCE_PHRASES:
            assert phrase not in lowered, f"{where}: '{phrase.strip()}' claims equivalence"


# --- release -------------------------------------------------------------------------------


def test_release_version_and_licence(seed: SeedSet) -> None:
    assert seed.release.version == RELEASE_VERSION
    assert seed.release.license == RELEASE_LICENSE
    assert seed.release.name.strip()
    assert seed.release.description.strip()
