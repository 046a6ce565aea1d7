"""Every grade in ``seed/`` against the rubric (docs/evidence-grading.md), applied by the one
function that holds it (``app.grading.grade``) to each indication's guideline positions, its
recorded effects (with any low-risk-of-bias figure their cited works state), the certainty
ratings of the cited reviews the entries record, and the pooled figure of the release's own
trial data.

The trial figures are computed here from the seed's trial records (no database), with the same
functions the API uses for ``trial_basis``; ``tests/test_grading.py`` checks on both engines
that the API's figures are these.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from app.domain import EVIDENCE_RANK, LOW_CERTAINTY, Evidence, indication_id
from app.grading import (
    ComparatorSet,
    CuratedEffects,
    IndicationFacts,
    LowRobCheck,
    RecordedEffect,
    TrialBasis,
    Verdict,
    curated_verdict,
    grade,
    grade_all,
    indication_rows,
    recorded_effect,
    strongest,
    trial_basis,
)
from app.seeding import read_seed_dir
from app.seeding.format import Indication, SeedSet
from app.urls import with_query

ROOT = Path(__file__).resolve().parents[1]
SEED_DIR = ROOT / "seed"

# How an entry's text reports a low rating of the certainty or quality of its evidence.
LOW_RATING = re.compile(
    r"(certainty|quality|confidence)[^.;]{0,60}?\b(very low|low|poor)\b"
    r"|\b(very low|low|poor)[- ](certainty|quality|confidence)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Graded:
    id: str
    modality: str
    indication: Indication
    basis: TrialBasis | None
    query: str | None  # the /v1/pooled path (and query) of the basis
    verdict: Verdict


def _subtree(seed: SeedSet, slug: str) -> frozenset[str]:
    children: dict[str, list[str]] = {}
    for c in seed.conditions:
        if c.parent:
            children.setdefault(c.parent, []).append(c.slug)
    out, todo = {slug}, [slug]
    while todo:
        for child in children.get(todo.pop(), []):
            out.add(child)
            todo.append(child)
    return frozenset(out)


def _curated(ind: Indication) -> CuratedEffects:
    return curated_verdict(recorded_effects(ind))


def recorded_effects(ind: Indication) -> list[RecordedEffect]:
    """The rubric's reading of an indication's recorded effects (as the API reads them)."""
    return [
        recorded_effect(
            e.comparator,
            e.measure,
            e.direction,
            (e.value, e.ci_low, e.ci_high),
            (
                e.low_risk_of_bias.value,
                e.low_risk_of_bias.ci_low,
                e.low_risk_of_bias.ci_high,
                e.low_risk_of_bias.studies,
            )
            if e.low_risk_of_bias
            else None,
        )
        for e in ind.effects
    ]


def low_certainty(ind: Indication) -> bool:
    return any(c.rating in LOW_CERTAINTY for c in ind.certainty)


def _query(modality: str, ind: Indication, basis: TrialBasis) -> str:
    params = {"modality": modality, "condition": ind.condition}
    if basis.population_stated:
        params["population"] = ind.population.value
    if ind.variant is not None:
        params["variant"] = ind.variant
    params["comparator"] = (
        ComparatorSet.usual_care_placebo_no_treatment.value
        if basis.comparator_set is ComparatorSet.usual_care_placebo_no_treatment
        else "control"
    )
    return with_query("/v1/pooled", params)


@pytest.fixture(scope="module")
def seed() -> SeedSet:
    return read_seed_dir(SEED_DIR)


@pytest.fixture(scope="module")
def graded(seed: SeedSet) -> list[Graded]:
    return grade_every(seed)


def grade_every(seed: SeedSet) -> list[Graded]:
    """Every indication with its trial basis and the rubric's verdict."""
    assert seed.trials is not None, "seed/ has no trial layer"
    # A study is pooled as one trial of one dataset (dataset/trial key), as the API pools it;
    # the records' own ``study`` is the label as the dataset writes it.
    rows = [replace(c, study=f"{c.dataset}/{c.trial_key}") for c in seed.trials.comparisons]
    parts = []
    facts = []
    for m in seed.modalities:
        for ind in m.indications:
            key = indication_id(m.slug, ind.condition, ind.population.value, ind.variant)
            selected, stated = indication_rows(
                rows, m.slug, _subtree(seed, ind.condition), ind.population.value, ind.variant
            )
            basis = trial_basis(selected, population_stated=stated)
            parts.append((key, m.slug, ind, basis))
            facts.append(
                IndicationFacts(
                    key=key,
                    modality=m.slug,
                    condition=ind.condition,
                    population=ind.population.value,
                    evidence=ind.evidence,
                    recommendation=strongest(g.recommendation for g in ind.guidelines),
                    curated=_curated(ind),
                    trial=basis,
                    low_certainty=low_certainty(ind),
                )
            )
    narrower = {c.slug: _subtree(seed, c.slug) - {c.slug} for c in seed.conditions}
    verdicts = grade_all(facts, narrower)
    return [
        Graded(key, slug, ind, basis, _query(slug, ind, basis) if basis else None, verdicts[key])
        for key, slug, ind, basis in parts
    ]


def test_every_grade_follows_the_rubric(graded: list[Graded]) -> None:
    wrong = [
        f"{g.id}: graded {g.indication.evidence.value}, the rubric allows"
        f" {g.verdict.floor.value} to {g.verdict.ceiling.value} ({'; '.join(g.verdict.met)})"
        for g in graded
        if not g.verdict.allows(g.indication.evidence)
    ]
    assert not wrong, "\n".join(wrong)


def test_no_strong_grade_without_an_effect_that_holds_at_low_risk_of_bias(
    graded: list[Graded],
) -> None:
    for g in graded:
        if g.indication.evidence is not Evidence.strong:
            continue
        if g.basis is not None and g.basis.decides:
            assert g.basis.figure.favours_therapy, g.id
            assert g.basis.low_rob_check is LowRobCheck.holds, g.id
        else:
            assert _curated(g.indication).low_rob is LowRobCheck.holds, g.id


def test_no_group_outranks_all_its_members_without_its_own_evidence(
    seed: SeedSet, graded: list[Graded]
) -> None:
    for g in graded:
        below = _subtree(seed, g.indication.condition) - {g.indication.condition}
        members = [
            o.indication.evidence
            for o in graded
            if o.modality == g.modality
            and o.indication.population == g.indication.population
            and o.indication.condition in below
        ]
        if not members:
            continue
        top = max(EVIDENCE_RANK[e] for e in members)
        if EVIDENCE_RANK[g.indication.evidence] > top:
            own = grade(
                strongest(x.recommendation for x in g.indication.guidelines),
                _curated(g.indication),
                g.basis,
                low_certainty=low_certainty(g.indication),
            )
            assert EVIDENCE_RANK[own.floor] >= EVIDENCE_RANK[g.indication.evidence], (
                f"{g.id} ({g.indication.evidence.value}) outranks all its members without"
                " direct evidence of its own"
            )


# The certainty ratings that moved from a reviewed table into the seed: each entry's rating as
# its grade basis or effect note reports it (indication → the review that rates it low or very
# low). The seed must keep recording them.
REVIEWED_LOW_RATINGS: dict[str, str] = {
    "dbt:borderline-personality-disorder:adults:standard": "storebo2020",
    "dbt:self-harm:adults": "storebo2020",
    "online:ptsd:adults": "lewis2018",
    "cbt:ptsd:mixed:tf-cbt": "xiang2021",
    "cbt:ptsd:adults:tf-cbt": "mavranezouli2020",
    "group:major-depression:adults": "huntley2012",
}


def test_low_certainty_caps_every_entry_it_applies_to(graded: list[Graded]) -> None:
    by_id = {g.id: g for g in graded}
    for key, citation in REVIEWED_LOW_RATINGS.items():
        assert key in by_id, f"{key}: no such indication"
        ratings = {c.citation: c.rating for c in by_id[key].indication.certainty}
        assert ratings.get(citation) in LOW_CERTAINTY, f"{key}: no low rating by {citation}"
    for g in graded:
        if low_certainty(g.indication):
            assert g.indication.evidence is not Evidence.strong, (
                f"{g.id}: strong despite a low rating"
            )
            assert "GRADE certainty low or very low" in g.verdict.met, g.id


def test_every_low_rating_the_entries_report_is_recorded(graded: list[Graded]) -> None:
    """The same weakness gets the same cap: an entry whose grade basis or effect notes report a
    low or very low rating of its evidence records that rating in its ``certainty``, so the cap
    cannot be applied to one review and forgotten for another."""
    missing = []
    for g in graded:
        texts = [g.indication.grade_basis, *(e.note or "" for e in g.indication.effects)]
        if any(LOW_RATING.search(" ".join(t.split())) for t in texts) and not low_certainty(
            g.indication
        ):
            missing.append(g.id)
    assert not missing, f"low ratings reported but not recorded as certainty: {missing}"


def _number(x: float) -> str:
    """A figure as the grade bases write it: two decimals, or three where two would read as
    zero."""
    text = f"{x:.2f}"
    if text in ("0.00", "-0.00") and x != 0:
        text = f"{x:.3f}"
    return text


def test_every_grade_basis_states_its_trial_figure(seed: SeedSet, graded: list[Graded]) -> None:
    """Where the trial data covers an indication against a control, its grade basis names the
    datasets with their versions, the /v1/pooled query, the figure and the low-risk-of-bias
    check, so a reader can reproduce what decided the level."""
    assert seed.trials is not None
    versions = {d.name: d.version for d in seed.trials.datasets}
    problems = []
    for g in graded:
        if g.basis is None:
            continue
        text = " ".join(g.indication.grade_basis.split())
        b = g.basis
        wanted = [f"{name} {versions[name]}" for name in b.datasets]
        wanted.append(str(g.query))
        if b.figure.pooled:
            wanted += [
                f"g = {_number(b.figure.estimate)}",
                f"{_number(b.figure.ci_low)} to {_number(b.figure.ci_high)}",
            ]
        if b.low_rob_check is LowRobCheck.not_assessable:
            wanted.append("not assessable")
        elif b.low_rob is not None:
            wanted += [
                f"{b.low_rob_studies} studies at low risk of bias",
                f"g = {_number(b.low_rob.estimate)} (95% CI {_number(b.low_rob.ci_low)} to"
                f" {_number(b.low_rob.ci_high)})",
            ]
        problems += [f"{g.id}: grade basis lacks '{w}'" for w in wanted if w not in text]
    assert not problems, "\n".join(problems)


def test_no_grade_basis_rests_on_what_is_not_recorded(graded: list[Graded]) -> None:
    """A level follows the evidence, never the absence of a record of it."""
    pattern = re.compile(r"(is|was) (not )?recorded[^.]*, so (it is graded|the level is)")
    for g in graded:
        text = " ".join(g.indication.grade_basis.split())
        assert not pattern.search(text), f"{g.id}: {text}"
        assert "verified here" not in text, f"{g.id}: {text}"
