"""Dropout, harms and variant entries in the real knowledge base (``seed/``).

The seed reader already refuses a dropout figure or harm whose citation the indication does not
cite. These tests hold what it cannot know: which entries must carry dropout or harms (the
first questions clinicians ask, so losing one is a reviewed decision), that every such figure
comes from a work whose published record is named, that a note's percentages are the figure it
explains, and which treatment protocols have entries of their own.

No database is involved; the tests read the YAML files only.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.domain import AcceptabilityMeasure, indication_id, variants_of
from app.seeding import read_seed_dir
from app.seeding.format import Indication, SeedSet

SEED_DIR = Path(__file__).resolve().parents[1] / "seed"

# Indications whose dropout or harms were read on the cited work's own record. Add to this set
# when a figure is added; an entry that loses its figures fails here.
WITH_DROPOUT_OR_HARMS = {
    "online:major-depression:adults:guided-icbt",
    "online:ptsd:adults",
    "cbt:major-depression:adults",
    "ipt:major-depression:adults",
    "cbt:generalized-anxiety-disorder:adults",
    "cbt:anxiety-disorders:adults",
    "cbt:insomnia:adults:cbt-i",
    "cbt:ptsd:adults:tf-cbt",
    "cbt:bulimia-nervosa:adults",
    "cbt:binge-eating-disorder:adults",
    "dbt:binge-eating-disorder:adults",
    "group:ptsd:adults",
}

# Protocols with an entry of their own, because a cited work names them one by one.
VARIANT_ENTRIES = {
    "cbt:ptsd:adults:prolonged-exposure",
    "cbt:ptsd:adults:cpt",
    "cbt:eating-disorders:mixed:cbt-e",
}

# (modality, delivery, variant) of formats that name a variant.
VARIANT_FORMATS = {
    ("dbt", "group", "skills-only"),
    ("online", "online-guided", "guided-icbt"),
}

PERCENT = re.compile(r"(\d+(?:\.\d+)?)%")


@pytest.fixture(scope="module")
def seed() -> SeedSet:
    return read_seed_dir(SEED_DIR)


def _indications(seed: SeedSet) -> Iterator[tuple[str, Indication]]:
    for m in seed.modalities:
        for ind in m.indications:
            yield indication_id(m.slug, ind.condition, ind.population.value, ind.variant), ind


def test_the_entries_clinicians_ask_about_first_carry_dropout_or_harms(seed: SeedSet) -> None:
    carrying = {where for where, ind in _indications(seed) if ind.acceptability or ind.harms}
    missing = sorted(WITH_DROPOUT_OR_HARMS - carrying)
    assert not missing, f"no dropout figure or harm any more: {missing}"


def test_dropout_and_harms_cite_a_work_with_its_record(seed: SeedSet) -> None:
    """Each figure and harm cites a work the indication cites, whose record address is kept."""
    by_key = {c.key: c for c in seed.citations}
    for where, ind in _indications(seed):
        for key in [*(a.citation for a in ind.acceptability), *(h.citation for h in ind.harms)]:
            assert key in ind.citations, f"{where}: {key} not cited"
            assert by_key[key].url, f"{where}: {key} has no address of its published record"


@pytest.mark.parametrize(
    ("note", "numbers", "agrees"),
    [
        ("29.0% dropped out against 17.2%", (0.29, 0.172), True),
        ("4% of the 50 dropped out, against 33.3%", (0.04, 0.333), True),
        ("29% dropped out against 17.2%", (0.29, None), False),
        ("no percentages here", (0.5, None), True),
    ],
)
def test_note_percentages_rule(
    note: str, numbers: tuple[float, float | None], agrees: bool
) -> None:
    assert _percentages_agree(note, [n for n in numbers if n is not None]) is agrees


def _percentages_agree(note: str, figures: list[float]) -> bool:
    """Every percentage a note states is one of the figures it explains (to a tenth)."""
    stated = [round(float(p), 1) for p in PERCENT.findall(note)]
    allowed = {round(f * 100, 1) for f in figures}
    return all(p in allowed for p in stated)


def test_a_proportions_note_states_the_same_figures(seed: SeedSet) -> None:
    for where, ind in _indications(seed):
        for a in ind.acceptability:
            if a.measure is not AcceptabilityMeasure.proportion or a.note is None:
                continue
            figures = [
                x for x in (a.value, a.comparator_value, a.ci_low, a.ci_high) if x is not None
            ]
            assert _percentages_agree(a.note, figures), (
                f"{where}: the note's percentages are not the figures {figures}: {a.note}"
            )


def test_named_protocols_have_entries_of_their_own(seed: SeedSet) -> None:
    ids = {where for where, _ in _indications(seed)}
    assert ids >= VARIANT_ENTRIES
    for where, ind in _indications(seed):
        if ind.variant:
            assert ind.variant in variants_of(where.split(":")[0]), where


def test_formats_name_their_variant(seed: SeedSet) -> None:
    named = {
        (m.slug, f.delivery.value, f.variant)
        for m in seed.modalities
        for f in m.formats
        if f.variant
    }
    assert named >= VARIANT_FORMATS
