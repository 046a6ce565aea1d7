"""The grading rubric (docs/evidence-grading.md) as pure functions: no database, no HTTP.

Two steps, each one function:

- ``trial_basis`` turns the trial rows of one indication (already selected: its modality,
  condition with narrower ones, population and variant, post-treatment) into the pooled figure
  the rubric reads: the comparator set it uses and why, the figure, and the same figure in the
  studies at low risk of bias alone. The API puts it on every indication the trial data covers;
  the content tests compute it from the seed's own trial records.
- ``grade`` applies the rubric to a guideline position, the curated effects' verdict, that
  trial basis and the certainty rating of the systematic reviews: the lowest and the highest
  level the rubric allows, with the criteria it found met. A seed grade outside that range
  disagrees with the rubric (``tests/test_content_grades.py``).

Both work on any row that has the attributes of ``TrialRowLike`` (the trial reader's
``TrialComparison`` and the trial table's ``TrialRow``), so the test and the API pool the same
way.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol, TypeVar

from app.domain import (
    CONTROL_COMPARATORS,
    EVIDENCE_RANK,
    Comparator,
    EffectDirection,
    EffectMeasure,
    Evidence,
    LowRiskOfBias,
    Recommendation,
    oriented,
)
from app.meta_analysis import EffectRow, Method, PooledEffect, aggregate, pool

# The controls whose figure decides a grade when at least MIN_DECISIVE_STUDIES studies used
# them: a waiting list inflates effects (people expect to wait untreated), and an active
# comparison answers a different question.
DECISIVE_COMPARATORS = frozenset(
    {Comparator.usual_care, Comparator.placebo, Comparator.no_treatment}
)
MIN_DECISIVE_STUDIES = 3
MIN_LOW_ROB_STUDIES = 3
RECOMMENDING = frozenset({Recommendation.first_line, Recommendation.recommended})


class ComparatorSet(StrEnum):
    """Which controls the figure that grades an indication pools."""

    usual_care_placebo_no_treatment = "usual-care-placebo-no-treatment"
    any_control = "any-control"


class LowRobCheck(StrEnum):
    """Whether the effect holds in the studies at low risk of bias alone."""

    holds = "holds"  # at least 3 such studies, Hartung–Knapp interval above no effect
    fails = "fails"  # at least 3 such studies, interval includes no effect (or is below it)
    not_assessable = "not-assessable"  # fewer than 3 such studies


class TrialRowLike(Protocol):
    """What pooling needs of a trial row (read-only). ``study`` is the unit of aggregation:
    one trial in one dataset (``dataset/trial_key``), as the trial table names it."""

    @property
    def dataset(self) -> str: ...
    @property
    def study(self) -> str: ...
    @property
    def g(self) -> float: ...
    @property
    def se(self) -> float: ...
    @property
    def comparator(self) -> str: ...
    @property
    def low_risk_of_bias(self) -> str: ...
    @property
    def n_arm1(self) -> int | None: ...
    @property
    def n_arm2(self) -> int | None: ...


@dataclass(frozen=True, slots=True)
class Figure:
    """One pooled figure (REML, Hartung–Knapp), in the units of Hedges' g, positive favouring
    the therapy."""

    k_studies: int
    k_effects: int
    participants: int | None
    estimate: float
    ci_low: float
    ci_high: float
    pi_low: float | None
    pi_high: float | None
    tau2: float | None
    i2: float | None
    egger_p: float | None  # from 10 effects on
    pooled: bool  # False for one effect: its own figure, nothing pooled

    @property
    def favours_therapy(self) -> bool:
        """A pooled (k >= 2) interval wholly above no effect."""
        return self.pooled and self.ci_low > 0


@dataclass(frozen=True, slots=True)
class TrialBasis:
    """The pooled trial figure an indication is graded by, and how it was chosen."""

    comparator_set: ComparatorSet
    comparators: tuple[str, ...]  # the control classes the figure pools
    reason: str  # why this set: said in words for the grade basis
    figure: Figure
    low_rob: Figure | None  # the same set in low-risk-of-bias studies (None: none such)
    low_rob_studies: int
    low_rob_check: LowRobCheck
    waitlist_only: bool  # only waiting-list controls: the figure never decides on its own
    population_stated: bool  # False: the dataset records no ages; the figure is over all
    datasets: tuple[str, ...]

    @property
    def decides(self) -> bool:
        """Whether the figure is the "pooled effect" the rubric reads."""
        return not self.waitlist_only and self.figure.pooled


def participants_of(rows: Iterable[TrialRowLike]) -> int | None:
    """Participants of one merged effect: its largest arm pair (its rows are instruments or
    arms of one trial, which share people), or None when no row gives arm sizes."""
    sizes = [r.n_arm1 + r.n_arm2 for r in rows if r.n_arm1 is not None and r.n_arm2 is not None]
    return max(sizes) if sizes else None


def pool_trial_rows(rows: Sequence[TrialRowLike], method: Method = "REML") -> PooledEffect | None:
    """Aggregate within study and comparator class (rho 0.6), then pool (as ``/v1/pooled``)."""
    effects = aggregate(
        [EffectRow(study=r.study, g=r.g, se=r.se, comparator=str(r.comparator)) for r in rows]
    )
    groups: dict[tuple[str, str], list[TrialRowLike]] = defaultdict(list)
    for r in rows:
        groups[(r.study, str(r.comparator))].append(r)
    counted = [participants_of(groups[(e.study, e.comparator)]) for e in effects]
    known = [n for n in counted if n is not None]
    return pool(effects, method, participants=sum(known) if known else None)


def _figure(rows: Sequence[TrialRowLike]) -> Figure | None:
    p = pool_trial_rows(rows)
    if p is None:
        return None
    return Figure(
        k_studies=p.studies,
        k_effects=p.k,
        participants=p.participants,
        estimate=p.estimate,
        ci_low=p.ci.lower,
        ci_high=p.ci.upper,
        pi_low=p.prediction.lower if p.prediction else None,
        pi_high=p.prediction.upper if p.prediction else None,
        tau2=p.tau2,
        i2=p.i2,
        egger_p=p.egger_p,
        pooled=p.pooled,
    )


def _is_control(comparator: str) -> bool:
    return Comparator(comparator) in CONTROL_COMPARATORS


def _low_rob(rows: Sequence[TrialRowLike]) -> list[TrialRowLike]:
    """The rows rated at low risk of bias by their dataset's rule (``risk_of_bias=low`` of
    ``/v1/pooled``, so that its URL gives the same figure)."""
    return [r for r in rows if str(r.low_risk_of_bias) == LowRiskOfBias.yes.value]


def trial_basis(
    rows: Sequence[TrialRowLike], *, population_stated: bool = True
) -> TrialBasis | None:
    """The figure the rubric grades by, from one indication's rows (any comparator; rows
    against active treatments are left out here). None when no row is against a control."""
    controls = [r for r in rows if _is_control(str(r.comparator))]
    if not controls:
        return None
    decisive = [r for r in controls if Comparator(str(r.comparator)) in DECISIVE_COMPARATORS]
    n_decisive = len({r.study for r in decisive})
    if n_decisive >= MIN_DECISIVE_STUDIES:
        chosen, which = decisive, ComparatorSet.usual_care_placebo_no_treatment
        reason = (
            f"{n_decisive} studies compared it with usual care, placebo or no treatment: the"
            " figure pools those controls only"
        )
    else:
        chosen, which = controls, ComparatorSet.any_control
        reason = (
            f"only {n_decisive} stud{'y' if n_decisive == 1 else 'ies'} compared it with usual"
            " care, placebo or no treatment (3 are needed): the figure pools every control the"
            " trials used, which overstates the effect where waiting lists are among them"
        )
    classes = tuple(sorted({str(r.comparator) for r in chosen}))
    figure = _figure(chosen)
    assert figure is not None  # chosen is not empty
    low_rows = _low_rob(chosen)
    low_studies = len({r.study for r in low_rows})
    low = _figure(low_rows) if low_rows else None
    if low_studies < MIN_LOW_ROB_STUDIES or low is None:
        check = LowRobCheck.not_assessable
    else:
        check = LowRobCheck.holds if low.favours_therapy else LowRobCheck.fails
    return TrialBasis(
        comparator_set=which,
        comparators=classes,
        reason=reason,
        figure=figure,
        low_rob=low,
        low_rob_studies=low_studies,
        low_rob_check=check,
        waitlist_only=classes == (Comparator.waitlist.value,),
        population_stated=population_stated,
        datasets=tuple(sorted({r.dataset for r in chosen})),
    )


# --- the rubric -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CuratedEffects:
    """What an indication's recorded effects (figures stated by cited works) say.

    ``control``: a significant effect favouring the therapy against a control other than a
    waiting list alone (usual care, placebo, no treatment, a mixed or other inactive control).
    ``waitlist``: one against a waiting list. ``low_rob``: whether the cited work shows the
    effect holds in its studies at low risk of bias (None: it does not report that).
    """

    control: bool = False
    waitlist: bool = False
    low_rob: LowRobCheck = LowRobCheck.not_assessable


@dataclass(frozen=True, slots=True)
class Verdict:
    """The levels the rubric allows (``floor`` to ``ceiling``) and the criteria it found."""

    floor: Evidence
    ceiling: Evidence
    met: tuple[str, ...]

    def allows(self, level: Evidence) -> bool:
        return EVIDENCE_RANK[self.floor] <= EVIDENCE_RANK[level] <= EVIDENCE_RANK[self.ceiling]


def strongest(positions: Iterable[Recommendation]) -> Recommendation | None:
    order = list(Recommendation)
    found = sorted(positions, key=order.index)
    return found[0] if found else None


def grade(
    recommendation: Recommendation | None,
    curated: CuratedEffects,
    trial: TrialBasis | None,
    *,
    low_certainty: bool = False,
    members: Sequence[Evidence] = (),
) -> Verdict:
    """Rubric 3. The pooled effect is the trial figure where the trial data covers the
    indication and the figure decides (not waiting lists alone, at least two studies), else
    the recorded one. Strong needs a recommending guideline, that effect, the effect holding in
    low-risk-of-bias studies and no low GRADE certainty; a significant pooled effect against
    control is at least moderate. Without one, the rubric cannot place an indication above
    moderate, and the levels below are a reading of the trials (pilot, indirect, none) that no
    figure decides. ``members``: the levels of the same treatment for the narrower conditions
    of a condition group; the group is not graded above all of them unless its own evidence
    reaches that level."""
    met: list[str] = []
    recommends = recommendation in RECOMMENDING
    if recommends:
        met.append("guideline recommends")
    if trial is not None and trial.decides:
        effect = trial.figure.favours_therapy
        low_rob = trial.low_rob_check
        source = "pooled trials"
    else:
        effect = curated.control
        low_rob = curated.low_rob
        source = "recorded effect"
    if effect:
        met.append(f"significant pooled effect against control ({source})")
    if effect:
        met.append(f"low-risk-of-bias check: {low_rob.value}")
    if low_certainty:
        met.append("GRADE certainty low or very low")
    strong = recommends and effect and low_rob is LowRobCheck.holds and not low_certainty
    if strong:
        floor = ceiling = Evidence.strong
    elif effect:
        floor, ceiling = Evidence.moderate, Evidence.moderate
    else:
        floor, ceiling = Evidence.insufficient, Evidence.moderate
    if members:
        top = max(members, key=EVIDENCE_RANK.__getitem__)
        if EVIDENCE_RANK[ceiling] > EVIDENCE_RANK[top] and not effect:
            # A group without its own pooled effect is not placed above all of its members.
            ceiling = top
            floor = min(floor, top, key=EVIDENCE_RANK.__getitem__)
            met.append(f"members at most {top.value}")
    return Verdict(floor, ceiling, tuple(met))


@dataclass(frozen=True, slots=True)
class RecordedEffect:
    """What the rubric reads of one recorded effect: its comparator, whether its interval
    excludes no effect, whether it favours the therapy once oriented, and the check its cited
    work's own low-risk-of-bias figure gives (``recorded_low_rob``)."""

    comparator: Comparator
    significant: bool | None
    favours: bool
    low_rob: LowRobCheck = LowRobCheck.not_assessable


def recorded_low_rob(
    null_value: float, oriented_low: float | None, studies: int | None
) -> LowRobCheck:
    """The low-risk-of-bias check on a figure a cited work states for its low-risk studies
    alone, turned to favour the therapy (its lower end): at least 3 studies stated, then holds
    when the interval lies above no effect and fails otherwise; not assessable when the work
    gives fewer studies or does not say how many."""
    if oriented_low is None or studies is None or studies < MIN_LOW_ROB_STUDIES:
        return LowRobCheck.not_assessable
    return LowRobCheck.holds if oriented_low > null_value else LowRobCheck.fails


def recorded_effect(
    comparator: Comparator,
    measure: EffectMeasure,
    direction: EffectDirection | None,
    interval: tuple[float, float | None, float | None],
    low_rob: tuple[float, float, float, int | None] | None,
) -> RecordedEffect:
    """The rubric's reading of one recorded effect, from its figure as the work states it
    (value, ci_low, ci_high) and its low-risk-of-bias figure (value, ci_low, ci_high, studies):
    an effect whose direction is not stated favours nothing and has no check."""
    value, ci_low, ci_high = interval
    significant = None
    if ci_low is not None and ci_high is not None:
        significant = not ci_low <= measure.null_value <= ci_high
    if direction is None:
        return RecordedEffect(comparator, significant, False)
    turned, _, _ = oriented(measure, direction, value, ci_low, ci_high)
    check = LowRobCheck.not_assessable
    if low_rob is not None:
        low_value, low_ci_low, low_ci_high, studies = low_rob
        _, low_end, _ = oriented(measure, direction, low_value, low_ci_low, low_ci_high)
        check = recorded_low_rob(measure.null_value, low_end, studies)
    return RecordedEffect(comparator, significant, turned > measure.null_value, check)


def curated_verdict(effects: Iterable[RecordedEffect]) -> CuratedEffects:
    """From recorded effects. The low-risk-of-bias check is read from the effects that count as
    the pooled effect against control (significant, favouring the therapy, not against a
    waiting list alone): it holds when one of them holds, fails when one fails and none holds,
    and is otherwise not assessable."""
    control = waitlist = False
    checks: set[LowRobCheck] = set()
    for e in effects:
        if not (e.significant and e.favours and e.comparator in CONTROL_COMPARATORS):
            continue
        if e.comparator is Comparator.waitlist:
            waitlist = True
        else:
            control = True
            checks.add(e.low_rob)
    if LowRobCheck.holds in checks:
        low_rob = LowRobCheck.holds
    elif LowRobCheck.fails in checks:
        low_rob = LowRobCheck.fails
    else:
        low_rob = LowRobCheck.not_assessable
    return CuratedEffects(control=control, waitlist=waitlist, low_rob=low_rob)


@dataclass(frozen=True, slots=True)
class IndicationFacts:
    """What grading one indication reads: where it sits (modality, condition, population) and
    its evidence. ``key`` is whatever names it to the caller (its id)."""

    key: str
    modality: str
    condition: str
    population: str
    evidence: Evidence
    recommendation: Recommendation | None
    curated: CuratedEffects
    trial: TrialBasis | None
    low_certainty: bool


def grade_all(
    facts: Sequence[IndicationFacts], narrower: Mapping[str, frozenset[str]]
) -> dict[str, Verdict]:
    """The rubric's verdict on every indication; ``narrower`` maps a condition to the conditions
    below it (not itself). A condition group's members are the same modality's indications for
    the same population under it."""
    out: dict[str, Verdict] = {}
    for f in facts:
        below = narrower.get(f.condition, frozenset())
        members = [
            o.evidence
            for o in facts
            if o.modality == f.modality and o.population == f.population and o.condition in below
        ]
        out[f.key] = grade(
            f.recommendation,
            f.curated,
            f.trial,
            low_certainty=f.low_certainty,
            members=members,
        )
    return out


def dataset_versions(names: Iterable[str], versions: Mapping[str, str]) -> list[str]:
    """``name version`` for each dataset, as the grade basis names them."""
    return [f"{n} {versions[n]}" for n in names]


class SelectableRow(TrialRowLike, Protocol):
    """What choosing an indication's rows needs of a trial row."""

    @property
    def time(self) -> str: ...
    @property
    def modality(self) -> str | None: ...
    @property
    def also_counts_for(self) -> Sequence[str]: ...
    @property
    def variant(self) -> str | None: ...
    @property
    def online_variant(self) -> str | None: ...
    @property
    def condition(self) -> str: ...
    @property
    def population(self) -> str | None: ...


UNSTATED_AGE_POPULATIONS = frozenset({"adults", "mixed"})
R = TypeVar("R", bound=SelectableRow)


def indication_rows(
    rows: Iterable[R],
    modality: str,
    conditions: frozenset[str],
    population: str,
    variant: str | None,
) -> tuple[list[R], bool]:
    """An indication's post-treatment rows (its modality, condition with the narrower ones,
    population and variant), as the ``pooled`` figures select them, and whether the population
    is the data's own. When no row of these conditions states an age (the dataset has no age
    column) and the indication is for adults or mixed ages, the rows of unstated age are taken,
    and the basis says so; a narrower population is never graded by them."""
    mine = [
        r
        for r in rows
        if str(r.time) == "post"
        and (r.modality == modality or modality in r.also_counts_for)
        and r.condition in conditions
        and (variant is None or variant in (r.variant, r.online_variant))
    ]
    stated = [r for r in mine if r.population is not None and str(r.population) == population]
    if stated or population not in UNSTATED_AGE_POPULATIONS:
        return stated, True
    if any(r.population is not None for r in mine):
        return [], True
    return mine, False
