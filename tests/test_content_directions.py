"""Effect directions and variants in the real knowledge base in ``seed/``.

Every effect says which way its figure favours the therapy; where its note states a sign
convention too, the two must agree. Variants are named where the evidence is specific. No
database is involved; the tests read the YAML files only.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.domain import EffectDirection, EffectMeasure, oriented, variants_of
from app.seeding import read_seed_dir
from app.seeding.format import Effect, SeedSet

SEED_DIR = Path(__file__).resolve().parents[1] / "seed"
HIGHER, LOWER = EffectDirection.higher_favours_therapy, EffectDirection.lower_favours_therapy

# A note's own statement of a convention: "Positive values favour CBT", "negative values are
# improvements", "Values above 1 favour …", "values above 1 mean more dropout". The clause up
# to the next full stop or semicolon says whom it favours.
SIGN_RULE = re.compile(
    r"\b(positive|negative) values (favour|are improvements)([^.;]*)", re.IGNORECASE
)
RATIO_RULE = re.compile(r"\bvalues (above|below) 1 (?:here )?(favour|mean more)([^.;]*)", re.I)


def stated_direction(note: str) -> EffectDirection | None:
    """The direction a note states, or None when it states none. A convention that favours
    "the comparator" runs against the therapy; "mean more" introduces a bad outcome (dropout)."""
    found = SIGN_RULE.search(note)
    if found:
        side, verb, rest = found.group(1).lower(), found.group(2).lower(), found.group(3)
        higher = side == "positive"
    else:
        found = RATIO_RULE.search(note)
        if not found:
            return None
        side, verb, rest = found.group(1).lower(), found.group(2).lower(), found.group(3)
        higher = side == "above"
        if verb == "mean more":
            higher = not higher
    if verb != "mean more" and "the comparator" in rest:
        higher = not higher
    return HIGHER if higher else LOWER


@pytest.fixture(scope="module")
def seed() -> SeedSet:
    return read_seed_dir(SEED_DIR)


def effects(seed: SeedSet) -> list[tuple[str, Effect]]:
    return [
        (f"{x.slug}:{i.condition}:{i.population.value}[{n}]", e)
        for x in seed.modalities
        for i in x.indications
        for n, e in enumerate(i.effects)
    ]


@pytest.mark.parametrize(
    ("note", "expected"),
    [
        ("Positive values favour CBT.", HIGHER),
        ("Negative values favour DBT-A.", LOWER),
        ("Negative values favour pharmacotherapy, the comparator; more.", HIGHER),
        ("Positive values favour individual CBT, the comparator.", LOWER),
        ("Positive values are improvements (minutes less) with CBT-I.", HIGHER),
        ("Values below 1 favour CBT.", LOWER),
        ("values above 1 here favour DBT.", HIGHER),
        ("Values above 1 favour complicated grief treatment, the comparator: response", LOWER),
        ("Values above 1 mean more dropout with internet-based CBT.", LOWER),
        ("No significant difference was found.", None),
    ],
)
def test_stated_direction_reads_the_conventions_notes_use(
    note: str, expected: EffectDirection | None
) -> None:
    assert stated_direction(note) == expected


def test_every_direction_agrees_with_its_note(seed: SeedSet) -> None:
    checked, wrong = 0, []
    for where, e in effects(seed):
        stated = stated_direction(e.note or "")
        if stated is None:
            continue
        checked += 1
        if e.direction is not stated:
            wrong.append(f"{where}: direction {e.direction}, note says {stated.value}")
    assert not wrong, "\n".join(wrong)
    assert checked >= 40  # most notes state a convention; a regex gone blind would pass vacuously


def test_an_unstated_direction_is_explained(seed: SeedSet) -> None:
    unstated = [(where, e) for where, e in effects(seed) if e.direction is None]
    assert len(unstated) <= 1, [where for where, _ in unstated]
    for where, e in unstated:
        assert e.note, where
        assert "does not say which way" in e.note, where


def test_significant_control_comparisons_favour_the_therapy(seed: SeedSet) -> None:
    """Against an inactive control, a graded therapy's significant effect points its way: an
    oriented figure beyond no effect on the wrong side means a direction entered backwards."""
    wrong = []
    for where, e in effects(seed):
        if e.direction is None or e.significant is not True or not e.comparator.is_control:
            continue
        value, _, _ = oriented(e.measure, e.direction, e.value, e.ci_low, e.ci_high)
        if value <= e.measure.null_value:
            wrong.append(f"{where}: oriented {value:.3g}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize(
    ("measure", "direction", "given", "expected"),
    [
        (EffectMeasure.smd, LOWER, (-0.6, -0.97, -0.24), (0.6, 0.24, 0.97)),
        (EffectMeasure.g, HIGHER, (0.84, 0.71, 0.97), (0.84, 0.71, 0.97)),
        (EffectMeasure.rr, LOWER, (1.25, 1.0, 2.0), (0.8, 0.5, 1.0)),
        (EffectMeasure.hr, LOWER, (0.5, None, None), (2.0, None, None)),
        (EffectMeasure.md, LOWER, (-3.2, None, None), (3.2, None, None)),
    ],
)
def test_oriented_turns_differences_and_ratios(
    measure: EffectMeasure,
    direction: EffectDirection,
    given: tuple[float, float | None, float | None],
    expected: tuple[float, float | None, float | None],
) -> None:
    assert oriented(measure, direction, *given) == pytest.approx(expected)


# Where the cited evidence is for one variant, the entry names it.
EXPECTED_VARIANTS = {
    ("online", "major-depression", "adults", "guided-icbt"),
    ("online", "major-depression", "adults", "unguided-icbt"),
    ("cbt", "insomnia", "adults", "cbt-i"),
    ("cbt", "obsessive-compulsive-disorder", "adults", "erp"),
    ("cbt", "psychosis", "adults", "cbtp"),
    ("dbt", "self-harm", "adolescents", "dbt-a"),
    ("dbt", "borderline-personality-disorder", "adults", "standard"),
}


def test_variants_where_the_evidence_is_specific(seed: SeedSet) -> None:
    named = {
        (x.slug, i.condition, i.population.value, i.variant)
        for x in seed.modalities
        for i in x.indications
        if i.variant
    }
    assert EXPECTED_VARIANTS <= named
    for slug, _, _, variant in named:
        assert variant in variants_of(slug)


def test_online_depression_is_graded_per_variant(seed: SeedSet) -> None:
    online = next(x for x in seed.modalities if x.slug == "online")
    grades = {
        i.variant: i.evidence.value
        for i in online.indications
        if i.condition == "major-depression" and i.population.value == "adults"
    }
    # Each variant has its own entry and level (both moderate from content 3.0.0: neither
    # passes the low-risk-of-bias check; tests/test_content_grades.py holds the levels).
    assert set(grades) == {"guided-icbt", "unguided-icbt"}


def test_dropout_is_acceptability_not_an_effect(seed: SeedSet) -> None:
    """A dropout figure says how acceptable a treatment is, not how well it works."""
    assert not [where for where, e in effects(seed) if "dropout" in e.outcome.lower()]
    figures = [a for x in seed.modalities for i in x.indications for a in i.acceptability]
    assert figures
    assert all("dropout" in a.outcome.lower() for a in figures)
