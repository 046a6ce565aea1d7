"""The rubric's one function (``app.grading``) on made-up rows and inputs: which controls decide,
the low-risk-of-bias check, the caps, condition groups. No database; the real seed's grades are
held to it in tests/test_content_grades.py."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from app.domain import Comparator, Evidence, Recommendation
from app.grading import (
    ComparatorSet,
    CuratedEffects,
    LowRobCheck,
    RecordedEffect,
    curated_verdict,
    grade,
    indication_rows,
    recorded_low_rob,
    strongest,
    trial_basis,
)


@dataclass(frozen=True)
class Row:
    study: str
    g: float
    se: float = 0.1
    comparator: str = "usual-care"
    low_risk_of_bias: str = "no"
    dataset: str = "d"
    n_arm1: int | None = 30
    n_arm2: int | None = 30
    time: str = "post"
    modality: str | None = "cbt"
    also_counts_for: tuple[str, ...] = ()
    variant: str | None = None
    online_variant: str | None = None
    condition: str = "panic-disorder"
    population: str | None = "adults"


def studies(n: int, g: float = 0.5, **kw: object) -> list[Row]:
    prefix = str(kw.pop("prefix", "s"))
    return [Row(study=f"d/{prefix}{i}", g=g + 0.01 * i, **kw) for i in range(n)]  # type: ignore[arg-type]


def test_three_usual_care_studies_decide_and_waiting_lists_are_left_out() -> None:
    rows = studies(3) + studies(5, g=1.5, comparator="waitlist", prefix="w")
    b = trial_basis(rows)
    assert b is not None
    assert b.comparator_set is ComparatorSet.usual_care_placebo_no_treatment
    assert b.comparators == ("usual-care",)
    assert b.figure.k_studies == 3
    assert b.figure.estimate < 1


def test_with_fewer_every_control_is_pooled_and_the_reason_says_so() -> None:
    rows = studies(2, comparator="placebo") + studies(4, comparator="waitlist", prefix="w")
    b = trial_basis(rows)
    assert b is not None
    assert b.comparator_set is ComparatorSet.any_control
    assert b.figure.k_studies == 6
    assert "waiting lists" in b.reason
    assert b.decides


def test_waiting_lists_alone_or_one_study_never_decide() -> None:
    only_waitlist = trial_basis(studies(6, comparator="waitlist"))
    assert only_waitlist is not None
    assert only_waitlist.waitlist_only
    assert not only_waitlist.decides
    one = trial_basis(studies(1))
    assert one is not None
    assert not one.figure.pooled
    assert not one.decides
    assert trial_basis(studies(3, comparator="active-psychotherapy")) is None


@pytest.mark.parametrize(
    ("low", "low_g", "check"),
    [
        (3, 0.5, LowRobCheck.holds),
        (3, -0.2, LowRobCheck.fails),
        (2, 0.5, LowRobCheck.not_assessable),
    ],
)
def test_the_low_risk_of_bias_check(low: int, low_g: float, check: LowRobCheck) -> None:
    rows = studies(low, g=low_g, low_risk_of_bias="yes", prefix="l") + studies(5)
    b = trial_basis(rows)
    assert b is not None
    assert b.low_rob_studies == low
    assert b.low_rob_check is check
    verdict = grade(Recommendation.first_line, CuratedEffects(), b)
    if check is LowRobCheck.holds:
        assert verdict.floor is Evidence.strong
    else:
        assert verdict.ceiling is Evidence.moderate


def test_strong_needs_a_recommendation_and_no_low_certainty() -> None:
    b = trial_basis(studies(3, low_risk_of_bias="yes") + studies(3, prefix="x"))
    assert b is not None
    assert b.low_rob_check is LowRobCheck.holds
    assert grade(Recommendation.recommended, CuratedEffects(), b).floor is Evidence.strong
    assert grade(Recommendation.consider, CuratedEffects(), b).ceiling is Evidence.moderate
    capped = grade(Recommendation.recommended, CuratedEffects(), b, low_certainty=True)
    assert (capped.floor, capped.ceiling) == (Evidence.moderate, Evidence.moderate)


def test_a_deciding_trial_figure_overrides_the_recorded_effect() -> None:
    null = trial_basis(studies(4, g=0.0))
    assert null is not None
    assert not null.figure.favours_therapy
    recorded = CuratedEffects(control=True, low_rob=LowRobCheck.holds)
    verdict = grade(Recommendation.recommended, recorded, null)
    assert (verdict.floor, verdict.ceiling) == (Evidence.insufficient, Evidence.moderate)
    # Without trial data the recorded effect decides.
    assert grade(Recommendation.recommended, recorded, None).floor is Evidence.strong


def test_a_recorded_waiting_list_effect_alone_does_not_make_moderate() -> None:
    curated = curated_verdict(
        [
            RecordedEffect(Comparator.waitlist, True, True, LowRobCheck.holds),
            RecordedEffect(Comparator.active_psychotherapy, True, True, LowRobCheck.holds),
        ]
    )
    assert curated == CuratedEffects(control=False, waitlist=True)
    assert grade(Recommendation.first_line, curated, None).floor is Evidence.insufficient
    # A significant effect against control that favours the comparator is no support.
    placebo = RecordedEffect(Comparator.placebo, True, False, LowRobCheck.holds)
    assert not curated_verdict([placebo]).control


@pytest.mark.parametrize(
    ("oriented_low", "studies", "check"),
    [
        (0.1, 3, LowRobCheck.holds),
        (-0.1, 5, LowRobCheck.fails),
        (0.0, 5, LowRobCheck.fails),  # touching no effect is not above it
        (0.3, 2, LowRobCheck.not_assessable),
        (0.3, None, LowRobCheck.not_assessable),  # the work does not say how many
    ],
)
def test_a_recorded_low_risk_of_bias_figure(
    oriented_low: float, studies: int | None, check: LowRobCheck
) -> None:
    assert recorded_low_rob(0.0, oriented_low, studies) is check


def test_a_recorded_low_risk_of_bias_figure_that_holds_allows_strong() -> None:
    holds = RecordedEffect(Comparator.mixed_control, True, True, LowRobCheck.holds)
    fails = RecordedEffect(Comparator.usual_care, True, True, LowRobCheck.fails)
    curated = curated_verdict([fails, holds])
    assert curated.low_rob is LowRobCheck.holds
    assert grade(Recommendation.recommended, curated, None).floor is Evidence.strong
    assert curated_verdict([fails]).low_rob is LowRobCheck.fails
    # A waiting-list figure's check never counts.
    waitlist = RecordedEffect(Comparator.waitlist, True, True, LowRobCheck.holds)
    assert curated_verdict([waitlist]).low_rob is LowRobCheck.not_assessable
    capped = grade(Recommendation.recommended, curated, None, low_certainty=True)
    assert (capped.floor, capped.ceiling) == (Evidence.moderate, Evidence.moderate)


def test_a_group_without_its_own_effect_stays_at_or_below_its_best_member() -> None:
    verdict = grade(None, CuratedEffects(), None, members=[Evidence.limited, Evidence.limited])
    assert verdict.ceiling is Evidence.limited
    own = grade(None, CuratedEffects(control=True), None, members=[Evidence.limited])
    assert own.floor is Evidence.moderate


def test_strongest_position() -> None:
    assert strongest([Recommendation.consider, Recommendation.first_line]) is (
        Recommendation.first_line
    )
    assert strongest([]) is None


def test_rows_of_unstated_age_count_only_for_adults_and_mixed() -> None:
    unstated = [Row(study="d/a", g=0.5, population=None)]
    assert indication_rows(unstated, "cbt", frozenset({"panic-disorder"}), "adults", None) == (
        unstated,
        False,
    )
    assert indication_rows(unstated, "cbt", frozenset({"panic-disorder"}), "children", None) == (
        [],
        True,
    )
    stated = [Row(study="d/b", g=0.5), *unstated]
    assert indication_rows(stated, "cbt", frozenset({"panic-disorder"}), "adults", None) == (
        stated[:1],
        True,
    )
    grouped = [Row(study="d/c", g=0.5, modality=None, also_counts_for=("group",))]
    assert indication_rows(grouped, "group", frozenset({"panic-disorder"}), "adults", None)[0]
