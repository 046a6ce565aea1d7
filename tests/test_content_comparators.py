"""Each effect's comparator class and population, held against a reviewed record.

An effect's ``comparator`` decides whether it counts as evidence against a control condition
(the first four classes) and so whether it can support a grade; its indication's
``population`` decides whom it grades. Both were once miscoded (a pooled estimate over active
treatments filed as a control, inactive comparisons filed as ``other``, a review that pooled
child trials filed under adults). These tests make such a mistake visible:

- ``REVIEWED_COMPARATORS`` is the comparator of every effect as checked against its source's
  methods. An effect added, removed or recoded without a matching change here fails, so each
  change to this table is a reviewed decision;
- the wording rules check the seed against itself: an outcome or note that names an active
  treatment as the comparison cannot carry a control class, one that names only an inactive
  comparison cannot carry ``other`` or an active class, and an effect graded for adults cannot
  describe child or adolescent trials;
- ``YOUNGER_AGE_SOURCES`` names, for every entry graded for children or adolescents (or for
  mixed ages and described as being about them), the cited work that studied that age group and
  the ages as that work states them, so an entry for young people cannot rest unnoticed on adult
  evidence.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.domain import Comparator, Evidence, Population
from app.seeding import read_seed_dir
from app.seeding.format import Effect, Indication, SeedSet

SEED_DIR = Path(__file__).resolve().parents[1] / "seed"

# (modality, condition, population, citation, value) -> comparator, as reviewed against the
# methods of each source (release 2.1.0).
REVIEWED_COMPARATORS: dict[tuple[str, str, str, str, float], str] = {
    ("cbt", "major-depression", "adults", "cuijpers2013", 0.71): "mixed-control",
    ("cbt", "major-depression", "adults", "cuijpers2023", 0.79): "mixed-control",
    ("cbt", "major-depression", "older-adults", "cuijpers2014b", 0.45): "mixed-control",
    ("cbt", "psychosis", "adults", "jauhar2014", -0.33): "mixed-control",
    ("cbt", "psychosis", "adults", "bighelli2018", -0.29): "mixed-control",
    ("cbt", "generalized-anxiety-disorder", "adults", "cuijpers2014", 0.84): "mixed-control",
    ("cbt", "social-anxiety-disorder", "adults", "mayowilson2014", -1.19): "waitlist",
    ("cbt", "social-anxiety-disorder", "adults", "mayowilson2014", -0.92): "waitlist",
    ("cbt", "ptsd", "adults", "mavranezouli2020", -1.46): "waitlist",
    ("cbt", "obsessive-compulsive-disorder", "adults", "skapinakis2016", -14.48): "placebo",
    ("cbt", "insomnia", "adults", "trauer2015", 19.03): "mixed-control",
    ("cbt", "insomnia", "adults", "trauer2015", 26.0): "mixed-control",
    ("cbt", "insomnia", "adults", "trauer2015", 9.91): "mixed-control",
    ("cbt", "insomnia", "adults", "trauer2015", 7.61): "mixed-control",
    ("cbt", "anxiety-disorders", "adults", "carpenter2018", 0.56): "placebo",
    ("cbt", "anxiety-disorders", "adults", "carpenter2018", 2.97): "placebo",
    ("cbt", "anxiety-disorders", "adults", "hofmann2008", 4.06): "placebo",
    ("cbt", "anxiety-disorders", "mixed", "james2020", 5.45): "waitlist",
    ("cbt", "major-depression", "adolescents", "harrington1998", 3.2): "mixed-control",
    ("cbt", "postpartum-depression", "perinatal", "huang2018", -2.86): "mixed-control",
    ("cbt", "postpartum-depression", "perinatal", "huang2018", 6.57): "mixed-control",
    ("cbt", "postpartum-depression", "perinatal", "huang2018", 2.0): "mixed-control",
    ("cbt", "recurrent-depression", "adults", "zhang2018", 0.5): "mixed-control",
    ("cbt", "substance-use-disorders", "adults", "magill2009", 0.796): "mixed-control",
    ("cbt", "substance-use-disorders", "adults", "magill2009", 0.133): "other",
    ("cbt", "substance-use-disorders", "adults", "magill2009", 0.154): "other",
    (
        "dbt",
        "borderline-personality-disorder",
        "adults",
        "linehan2006",
        2.66,
    ): "active-psychotherapy",
    ("dbt", "self-harm", "adolescents", "kothgassner2021", -0.44): "mixed-control",
    ("dbt", "self-harm", "adolescents", "kothgassner2021", -0.31): "mixed-control",
    ("dbt", "ptsd", "adults", "bohus2020", 0.33): "active-psychotherapy",
    ("dbt", "ptsd", "adults", "bohus2020", 0.21): "active-psychotherapy",
    ("dit", "major-depression", "adults", "fonagy2020", 0.7): "other",
    ("dit", "major-depression", "adults", "wang2023", -3.237): "pharmacotherapy",
    ("group", "major-depression", "adults", "huntley2012", -0.55): "usual-care",
    ("group", "major-depression", "adults", "huntley2012", 0.38): "active-psychotherapy",
    ("group", "social-anxiety-disorder", "adults", "barkowski2016", 0.84): "waitlist",
    ("group", "social-anxiety-disorder", "adults", "mayowilson2014", -0.92): "waitlist",
    ("group", "social-anxiety-disorder", "adults", "wersebe2013", 0.53): "mixed-control",
    ("group", "eating-disorders", "adults", "grenon2017", 0.7): "waitlist",
    ("group", "eating-disorders", "adults", "grenon2017", 5.51): "waitlist",
    ("group", "ptsd", "adults", "schwartze2019", 0.7): "waitlist",
    ("group", "ptsd", "adults", "schwartze2019", 0.13): "active-psychotherapy",
    ("ipt", "major-depression", "adults", "cuijpers2011", 0.63): "mixed-control",
    ("ipt", "major-depression", "adults", "cuijpers2016", 0.6): "mixed-control",
    ("ipt", "major-depression", "adults", "cuijpers2011", 0.04): "active-psychotherapy",
    ("ipt", "major-depression", "adults", "cuijpers2011", -0.19): "pharmacotherapy",
    ("ipt", "postpartum-depression", "perinatal", "claridge2014", 0.4): "mixed-control",
    ("ipt", "prolonged-grief-disorder", "adults", "shear2014", 2.2): "active-psychotherapy",
    ("online", "major-depression", "adults", "andersson2009", 0.61): "mixed-control",
    ("online", "major-depression", "adults", "andersson2009", 0.25): "mixed-control",
    ("online", "major-depression", "adults", "karyotaki2021", -0.8): "active-psychotherapy",
    ("online", "major-depression", "adults", "andersson2014b", -0.01): "active-psychotherapy",
    ("online", "anxiety-disorders", "adults", "andrews2018", 0.8): "mixed-control",
    ("online", "panic-disorder", "adults", "icbtpanic2021", -0.892): "mixed-control",
    ("online", "panic-disorder", "adults", "icbtpanic2021", 0.015): "active-psychotherapy",
    ("online", "insomnia", "adults", "seyffert2016", -4.3): "mixed-control",
    ("online", "ptsd", "adults", "lewis2018", -0.6): "waitlist",
    ("online", "obsessive-compulsive-disorder", "mixed", "hoppen2021", -0.59): "mixed-control",
    ("online", "binge-eating-disorder", "adults", "moghimi2021", -0.77): "waitlist",
    ("online", "binge-eating-disorder", "adults", "moghimi2021", -0.71): "waitlist",
    ("online", "major-depression", "older-adults", "titov2015", 2.08): "waitlist",
    ("online", "anxiety-disorders", "mixed", "ebert2015", 0.72): "mixed-control",
}

# (modality, condition, population) -> (citation, the ages as that work states them), for every
# entry graded for children or adolescents, or graded for mixed ages and described as being
# about them. Each row was checked against the cited work's record (release 2.1.0).
YOUNGER_AGE_SOURCES: dict[tuple[str, str, str], tuple[str, str]] = {
    ("cbt", "anxiety-disorders", "mixed"): ("james2020", "children and adolescents under 19"),
    ("cbt", "major-depression", "adolescents"): ("harrington1998", "trials in ages 8 to 19"),
    ("cbt", "ptsd", "mixed"): ("xiang2021", "children and adolescents"),
    ("cbt", "social-anxiety-disorder", "mixed"): (
        "nice2013sad",
        "children and young people from school age up to 17",
    ),
    ("cbt", "specific-phobia", "mixed"): ("phobiayouth2001", "children aged 7 to 17"),
    ("cbt", "obsessive-compulsive-disorder", "mixed"): ("pots2004", "patients aged 7 through 17"),
    ("dbt", "self-harm", "adolescents"): ("kothgassner2021", "adolescents aged 12 to 19"),
    # Graded insufficient because no adolescent trial was found: the one study of young people
    # interviewed young adults, and the entry says so.
    ("dit", "major-depression", "adolescents"): (
        "dityoungadults2019",
        "young adults aged 19 to 25",
    ),
    ("ipt", "major-depression", "adolescents"): ("mufson1999", "adolescents aged 12 to 18"),
    ("ipt", "major-depression", "children"): ("nice2019cyp", "children aged 5 to 11"),
    ("ipt", "subthreshold-depression", "adolescents"): ("zheng2023", "adolescents aged 12 to 20"),
    ("online", "anxiety-disorders", "mixed"): ("ebert2015", "children and adolescents up to 25"),
}
YOUNGER_POPULATIONS = {Population.children, Population.adolescents}


# A comparison named in the text: "vs X", "versus X", "against X", "compared with X".
_COMPARISON = r"\b(?:vs\.?|versus|against|compared with)\s+(?:an?\s+|the\s+)?"
# Active treatments as the comparison: such an effect is not an effect against control.
ACTIVE_COMPARISON = re.compile(
    _COMPARISON
    + r"(?:other\s+(?:active|psychological)|active|face-to-face|individual\s+cbt|group\s+cbt"
    r"|unguided|guided|antidepressant|medication|pharmacotherapy|prolonged exposure"
    r"|cognitive processing|complicated grief treatment|relaxation|supportive)",
    re.IGNORECASE,
)
# Only inactive comparisons named: such an effect is an effect against control.
INACTIVE_COMPARISON = re.compile(
    _COMPARISON + r"(?:inactive|no-treatment|no treatment|waiting list|wait list|waitlist|placebo"
    r"|usual care|care as usual|treatment as usual|passive)",
    re.IGNORECASE,
)
# Words that say children or adolescents were in the pooled trials.
YOUNGER_PARTICIPANTS = re.compile(
    r"\b(?:child|children|adolescen\w*|youth|under-1\d|ages? \d{1,2} to)\b", re.IGNORECASE
)
ADULT_POPULATIONS = {Population.adults, Population.older_adults}


@pytest.fixture(scope="module")
def seed() -> SeedSet:
    return read_seed_dir(SEED_DIR)


def _effects(seed: SeedSet) -> Iterator[tuple[str, Indication, Effect]]:
    for modality in seed.modalities:
        for i, ind in enumerate(modality.indications):
            for j, effect in enumerate(ind.effects):
                yield f"{modality.slug}.indications[{i}].effects[{j}]", ind, effect


def _key(slug: str, ind: Indication, effect: Effect) -> tuple[str, str, str, str, float]:
    return (slug, ind.condition, Population(ind.population).value, effect.citation, effect.value)


def _text(effect: Effect) -> str:
    return " ".join(f"{effect.outcome} {effect.note or ''}".split())


def test_every_effect_has_a_reviewed_comparator(seed: SeedSet) -> None:
    found = {
        _key(where.split(".", 1)[0], ind, effect): Comparator(effect.comparator).value
        for where, ind, effect in _effects(seed)
    }
    assert len(found) == sum(1 for _ in _effects(seed)), "two effects share a reviewed key"
    unreviewed = sorted(set(found) - set(REVIEWED_COMPARATORS))
    assert not unreviewed, f"effects whose comparator has not been reviewed: {unreviewed}"
    gone = sorted(set(REVIEWED_COMPARATORS) - set(found))
    assert not gone, f"reviewed effects no longer in the seed: {gone}"
    changed = {
        k: (REVIEWED_COMPARATORS[k], v) for k, v in found.items() if REVIEWED_COMPARATORS[k] != v
    }
    assert not changed, f"comparator differs from the reviewed class (reviewed, seed): {changed}"


def test_reviewed_classes_are_known() -> None:
    known = {c.value for c in Comparator}
    assert set(REVIEWED_COMPARATORS.values()) <= known


def test_an_active_comparison_is_not_coded_as_a_control(seed: SeedSet) -> None:
    for where, _, effect in _effects(seed):
        if Comparator(effect.comparator).is_control:
            match = ACTIVE_COMPARISON.search(_text(effect))
            assert match is None, f"{where}: '{match.group(0)}' but coded {effect.comparator}"


def test_an_inactive_comparison_is_coded_as_a_control(seed: SeedSet) -> None:
    for where, _, effect in _effects(seed):
        if not Comparator(effect.comparator).is_control:
            text = _text(effect)
            inactive = INACTIVE_COMPARISON.search(text)
            if inactive and not ACTIVE_COMPARISON.search(text):
                pytest.fail(f"{where}: '{inactive.group(0)}' but coded {effect.comparator}")


def test_adult_effects_do_not_describe_younger_participants(seed: SeedSet) -> None:
    for where, ind, effect in _effects(seed):
        if Population(ind.population) in ADULT_POPULATIONS:
            match = YOUNGER_PARTICIPANTS.search(_text(effect))
            assert match is None, f"{where}: '{match.group(0)}' in an {ind.population} entry"


@pytest.mark.parametrize(
    ("text", "active", "inactive"),
    [
        ("Symptoms, guided iCBT versus face-to-face CBT", True, False),
        ("Depressive symptoms, IPT vs antidepressant medication", True, False),
        ("Alcohol or drug use outcomes, CBT vs no-treatment control", False, True),
        ("Remission, CBT vs inactive interventions, ages 8 to 19", False, True),
        ("Self-harm, DBT-A against control groups", False, False),
    ],
)
def test_the_wording_rules_recognise_comparisons(text: str, active: bool, inactive: bool) -> None:
    """The rules above rely on these patterns; each must catch what it is meant to."""
    assert bool(ACTIVE_COMPARISON.search(text)) is active
    assert bool(INACTIVE_COMPARISON.search(text)) is inactive
    assert bool(YOUNGER_PARTICIPANTS.search(text)) is ("ages 8 to 19" in text)


def _younger_entries(seed: SeedSet) -> Iterator[tuple[tuple[str, str, str], Indication]]:
    """Entries graded for children or adolescents, or for mixed ages and described as such."""
    for modality in seed.modalities:
        for ind in modality.indications:
            population = Population(ind.population)
            about_young = population is Population.mixed and YOUNGER_PARTICIPANTS.search(
                ind.summary
            )
            if population in YOUNGER_POPULATIONS or about_young:
                yield (modality.slug, ind.condition, population.value), ind


def test_every_entry_for_young_people_names_its_age_source(seed: SeedSet) -> None:
    found = dict(_younger_entries(seed))
    unreviewed = sorted(set(found) - set(YOUNGER_AGE_SOURCES))
    assert not unreviewed, f"entries for young people without a reviewed age source: {unreviewed}"
    gone = sorted(set(YOUNGER_AGE_SOURCES) - set(found))
    assert not gone, (
        f"reviewed age sources whose entry is gone or no longer about young people: {gone}"
    )
    for key, ind in found.items():
        citation, _ages = YOUNGER_AGE_SOURCES[key]
        assert citation in ind.citations, f"{key}: its age source {citation} is not cited"


# The ages each younger population covers, in years.
POPULATION_AGES: dict[Population, tuple[int, int]] = {
    Population.children: (0, 12),
    Population.adolescents: (12, 18),
    Population.mixed: (0, 18),
}


def _age_range(ages: str) -> tuple[int, int]:
    """The span of ages a reviewed row states: "aged 7 to 17", "under 19", or named groups."""
    numbers = [int(n) for n in re.findall(r"\d+", ages)]
    if "under" in ages and numbers:
        return 0, numbers[0] - 1
    if "up to" in ages and numbers:
        return 0, numbers[0]
    if len(numbers) == 2:
        return numbers[0], numbers[1]
    lowered = ages.lower()
    if "children" in lowered and "adolescents" in lowered:
        return POPULATION_AGES[Population.mixed]
    if "adolescents" in lowered:
        return POPULATION_AGES[Population.adolescents]
    if "children" in lowered:
        return POPULATION_AGES[Population.children]
    raise AssertionError(f"cannot read an age range from {ages!r}")


@pytest.mark.parametrize(
    ("ages", "span"),
    [
        ("children and adolescents under 19", (0, 18)),
        ("trials in ages 8 to 19", (8, 19)),
        ("patients aged 7 through 17", (7, 17)),
        ("young adults aged 19 to 25", (19, 25)),
        ("children and adolescents", (0, 18)),
        ("children and adolescents up to 25", (0, 25)),
    ],
)
def test_age_ranges_are_read(ages: str, span: tuple[int, int]) -> None:
    assert _age_range(ages) == span


def test_graded_entries_for_young_people_rest_on_their_age_group(seed: SeedSet) -> None:
    """Evidence from another age group grades nothing above insufficient for young people."""
    for key, ind in _younger_entries(seed):
        low, high = _age_range(YOUNGER_AGE_SOURCES[key][1])
        wanted_low, wanted_high = POPULATION_AGES[Population(ind.population)]
        overlaps = low <= wanted_high and high >= wanted_low
        if not overlaps:
            assert Evidence(ind.evidence) is Evidence.insufficient, (
                f"{key}: graded {ind.evidence} on a source about ages {low} to {high}"
            )
