"""The trial layer of one release, read once and kept (``memo``): rows, filters and pooling.

Every answer built from the trial data (``/v1/trials``, its CSV and NDJSON, ``/v1/pooled`` and
the ``pooled`` figures on indications) selects its rows with the one filter here
(``TrialFilter.matches``), so the rows a researcher downloads are exactly the rows behind a
figure. The table is a few thousand rows: it is read in four statements, kept for the release,
and filtered in memory. With it are kept what grading every indication reads (three more
statements): the rubric's verdict on each (``app/grading.py``) is computed once per release,
like its trial basis.

This module imports nothing of the other query modules, so that ``common`` (the indications'
evidence) can use it.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, fields
from datetime import date
from typing import Literal, Protocol, TypeVar

from sqlalchemy import select
from sqlmodel import Session, col

from app import models as m
from app import schemas as s
from app.domain import (
    CONTROL_COMPARATORS,
    LOW_CERTAINTY,
    Certainty,
    Comparator,
    EffectDirection,
    EffectMeasure,
    Evidence,
    LowRiskOfBias,
    Recommendation,
    TimePoint,
)
from app.grading import (
    DECISIVE_COMPARATORS,
    ComparatorSet,
    IndicationFacts,
    RecordedEffect,
    TrialBasis,
    curated_verdict,
    grade_all,
    indication_rows,
    recorded_effect,
    strongest,
    trial_basis,
)
from app.meta_analysis import EffectRow, PooledEffect, StudyEffect, aggregate, pool
from app.urls import API, Urls, with_query

T = TypeVar("T")
Method = Literal["reml", "pm"]

CONTROL = "control"  # the comparator filter value meaning any control class
# The comparator filter value meaning usual care, placebo or no treatment: the controls whose
# figure grades an indication (docs/evidence-grading.md).
DECISIVE = ComparatorSet.usual_care_placebo_no_treatment.value
DIRECTION = "positive favours the therapy"
Z95 = 1.959963984540054  # the normal 0.975 quantile: a single study's own 95% interval
MEMO_KEY = "trial table"


def trial_id(dataset: str, row: int) -> str:
    return f"{dataset}-{row}"


@dataclass(frozen=True, slots=True)
class DatasetInfo:
    name: str
    title: str
    version: str
    commit: str
    doi: str
    licence: str
    last_search: date
    rows: int

    def attribution(self) -> s.DatasetAttribution:
        return s.DatasetAttribution(
            name=self.name, version=self.version, doi=self.doi, licence=self.licence
        )


@dataclass(frozen=True, slots=True)
class TrialRow:
    """One stored comparison with its study and dataset, as the API shows it."""

    dataset: str
    row: int
    source_id: str | None
    study: str  # dataset/trial_key: the unit of aggregation
    study_label: str
    year: int | None
    reference: str | None
    condition_id: int
    condition: str
    modality: str | None
    family: str
    variant: str | None
    online: bool
    online_variant: str | None
    therapy_code: str
    comparator: str
    comparator_code: str
    delivery: str | None
    population: str | None
    time: str
    time_code: str | None
    instrument: str | None
    outcome_kind: str
    outcome_type: str
    n_arm1: int | None
    n_arm2: int | None
    source_g: float
    source_se: float
    sign: int
    g: float
    se: float
    low_risk_of_bias: str
    risk_of_bias: str | None

    @property
    def id(self) -> str:
        return trial_id(self.dataset, self.row)

    @property
    def also_counts_for(self) -> list[str]:
        """The format modalities the row counts for: group when delivered in a group, online
        when the data flags internet or mobile delivery."""
        return [
            name
            for name, flag in (("group", self.delivery == "group"), ("online", self.online))
            if flag
        ]

    def counts_for(self, modality: str) -> bool:
        return modality == self.modality or modality in self.also_counts_for

    def out(self, urls: Urls) -> s.Trial:
        return s.Trial(
            id=self.id,
            dataset=self.dataset,
            row=self.row,
            source_id=self.source_id,
            study=self.study,
            study_label=self.study_label,
            year=self.year,
            condition=self.condition,
            modality=self.modality,
            family=self.family,
            variant=self.variant,
            online_variant=self.online_variant,
            also_counts_for=self.also_counts_for,
            therapy_code=self.therapy_code,
            comparator=self.comparator,
            comparator_code=self.comparator_code,
            format=self.delivery,
            population=self.population,
            time=self.time,
            time_code=self.time_code,
            instrument=self.instrument,
            outcome_kind=self.outcome_kind,
            outcome_type=self.outcome_type,
            n_arm1=self.n_arm1,
            n_arm2=self.n_arm2,
            g=self.g,
            se=self.se,
            source_g=self.source_g,
            source_se=self.source_se,
            sign=self.sign,
            low_risk_of_bias=self.low_risk_of_bias,
            risk_of_bias=self.risk_of_bias,
            url=urls.trial(self.id),
        )


@dataclass(frozen=True)
class TrialFilter:
    """Which comparisons a request selects; every field None selects all (at ``time``)."""

    modality: str | None = None
    family: str | None = None
    variant: str | None = None
    condition_ids: frozenset[int] | None = None
    comparator: str | None = None  # a Comparator value, or CONTROL
    format: str | None = None
    population: str | None = None
    low_risk_of_bias: bool = False
    time: str = TimePoint.post.value
    min_year: int | None = None
    max_year: int | None = None
    dataset: str | None = None

    def matches(self, r: TrialRow) -> bool:
        if r.time != self.time:
            return False
        if self.modality is not None and not r.counts_for(self.modality):
            return False
        if self.family is not None and r.family != self.family:
            return False
        if self.variant is not None and self.variant not in (r.variant, r.online_variant):
            return False
        if self.condition_ids is not None and r.condition_id not in self.condition_ids:
            return False
        if self.comparator == CONTROL:
            if Comparator(r.comparator) not in CONTROL_COMPARATORS:
                return False
        elif self.comparator == DECISIVE:
            if Comparator(r.comparator) not in DECISIVE_COMPARATORS:
                return False
        elif self.comparator is not None and r.comparator != self.comparator:
            return False
        if self.format is not None and r.delivery != self.format:
            return False
        if self.population is not None and r.population != self.population:
            return False
        if self.low_risk_of_bias and r.low_risk_of_bias != LowRiskOfBias.yes.value:
            return False
        if self.min_year is not None and (r.year is None or r.year < self.min_year):
            return False
        if self.max_year is not None and (r.year is None or r.year > self.max_year):
            return False
        return self.dataset is None or r.dataset == self.dataset


@dataclass
class TrialTable:
    """The trial layer of one release: datasets in their order, rows in dataset and file order."""

    datasets: tuple[DatasetInfo, ...]
    rows: tuple[TrialRow, ...]
    modality_slugs: dict[int, str]
    condition_slugs: dict[int, str]
    children: dict[int, list[int]]
    by_id: dict[str, TrialRow] = field(init=False)
    # Kept with their ``url`` a path: the table is shared by every origin.
    _indication_figures: dict[tuple[int, int, str, str | None], list[s.IndicationPooled]] = field(
        default_factory=dict
    )

    _bases: dict[tuple[int, int, str, str | None], s.IndicationTrialBasis | None] = field(
        default_factory=dict
    )
    _grading_bases: dict[tuple[int, int, str, str | None], TrialBasis | None] = field(
        default_factory=dict
    )
    # What grading reads of every indication (``GradingInput``), and the verdicts, computed
    # from it and the trial bases on first use.
    grading_input: tuple[GradingInput, ...] = ()
    _verdicts: dict[int, s.IndicationGrading] | None = None

    def __post_init__(self) -> None:
        self.by_id = {r.id: r for r in self.rows}

    def select(self, f: TrialFilter) -> list[TrialRow]:
        return [r for r in self.rows if f.matches(r)]

    def dataset(self, name: str) -> DatasetInfo | None:
        return next((d for d in self.datasets if d.name == name), None)

    def subtree(self, condition_id: int) -> frozenset[int]:
        out, todo = {condition_id}, [condition_id]
        while todo:
            for child in self.children.get(todo.pop(), []):
                if child not in out:
                    out.add(child)
                    todo.append(child)
        return frozenset(out)

    def indication_figures(
        self,
        urls: Urls,
        modality_id: int,
        condition_id: int,
        population: str,
        variant: str | None = None,
    ) -> list[s.IndicationPooled]:
        """The pooled figures of one indication: against any control, then per comparator
        class present. An indication about one variant pools only the rows of that variant.
        Computed once per release and indication (the table is memoised); each ``url`` is put
        on the request's origin as the answer is built."""
        key = (modality_id, condition_id, population, variant)
        if key not in self._indication_figures:
            self._indication_figures[key] = self._figures(key)
        return [
            figure.model_copy(update={"url": urls.absolute(figure.url)})
            for figure in self._indication_figures[key]
        ]

    def indication_basis(
        self,
        urls: Urls,
        modality_id: int,
        condition_id: int,
        population: str,
        variant: str | None = None,
    ) -> s.IndicationTrialBasis | None:
        """The pooled figure the rubric grades this indication by (``app/grading.py``), with
        the low-risk-of-bias check and the ``/v1/pooled`` queries that give both; None where
        the data holds no trial of it against a control. Computed once per release and
        indication; the ``url`` fields are put on the request's origin."""
        key = (modality_id, condition_id, population, variant)
        if key not in self._bases:
            self._bases[key] = self._basis(key)
        basis = self._bases[key]
        if basis is None:
            return None
        low = basis.low_risk_of_bias
        return basis.model_copy(
            update={
                "url": urls.absolute(basis.url),
                "low_risk_of_bias": low.model_copy(update={"url": urls.absolute(low.url)}),
            }
        )

    def grading(self, indication_id: int) -> s.IndicationGrading | None:
        """The rubric's verdict on one indication of the release (None for an id it does not
        hold); all are computed together on first use and kept."""
        if self._verdicts is None:
            self._verdicts = self._grade_all()
        return self._verdicts.get(indication_id)

    def _grade_all(self) -> dict[int, s.IndicationGrading]:
        facts = []
        for g in self.grading_input:
            key = (g.modality_id, g.condition_id, g.population, g.variant)
            facts.append(
                IndicationFacts(
                    key=str(g.id),
                    modality=self.modality_slugs.get(g.modality_id, ""),
                    condition=self.condition_slugs.get(g.condition_id, ""),
                    population=g.population,
                    evidence=g.evidence,
                    recommendation=strongest(g.recommendations),
                    curated=curated_verdict(g.effects),
                    trial=self.grading_basis(key),
                    low_certainty=g.low_certainty,
                )
            )
        narrower = {
            slug: frozenset(self.condition_slugs[i] for i in self.subtree(cid)) - {slug}
            for cid, slug in self.condition_slugs.items()
        }
        return {
            int(key): s.IndicationGrading(
                floor=v.floor, ceiling=v.ceiling, criteria_met=list(v.met)
            )
            for key, v in grade_all(facts, narrower).items()
        }

    def grading_basis(self, key: tuple[int, int, str, str | None]) -> TrialBasis | None:
        """The trial basis (``app.grading.TrialBasis``) of one indication, kept."""
        if key not in self._grading_bases:
            modality_id, condition_id, population, variant = key
            modality = self.modality_slugs.get(modality_id)
            condition = self.condition_slugs.get(condition_id)
            basis = None
            if modality is not None and condition is not None and self.rows:
                conditions = frozenset(self.condition_slugs[i] for i in self.subtree(condition_id))
                rows, stated = indication_rows(self.rows, modality, conditions, population, variant)
                basis = trial_basis(rows, population_stated=stated)
            self._grading_bases[key] = basis
        return self._grading_bases[key]

    def _basis(self, key: tuple[int, int, str, str | None]) -> s.IndicationTrialBasis | None:
        modality_id, condition_id, population, variant = key
        modality = self.modality_slugs.get(modality_id)
        condition = self.condition_slugs.get(condition_id)
        basis = self.grading_basis(key)
        if basis is None or modality is None or condition is None:
            return None
        stated = basis.population_stated
        params: dict[str, str] = {"modality": modality, "condition": condition}
        if stated:
            params["population"] = population
        if variant is not None:
            params["variant"] = variant
        params["comparator"] = (
            DECISIVE
            if basis.comparator_set is ComparatorSet.usual_care_placebo_no_treatment
            else CONTROL
        )
        return basis_out(
            basis,
            [d.attribution() for d in self.datasets if d.name in basis.datasets],
            with_query(f"{API}/pooled", params),
            with_query(f"{API}/pooled", params | {"risk_of_bias": "low"}),
        )

    def _figures(self, key: tuple[int, int, str, str | None]) -> list[s.IndicationPooled]:
        modality_id, condition_id, population, variant = key
        modality = self.modality_slugs.get(modality_id)
        if modality is None or not self.rows:
            return []
        base = TrialFilter(
            modality=modality,
            condition_ids=self.subtree(condition_id),
            population=population,
            variant=variant,
        )
        rows = self.select(base)
        condition = self.condition_slugs.get(condition_id)
        if not rows or condition is None:
            return []
        classes = sorted(
            {r.comparator for r in rows if Comparator(r.comparator) in CONTROL_COMPARATORS}
        )
        out = []
        for comparator in [CONTROL, *classes]:
            selected = [r for r in rows if TrialFilter(comparator=comparator).matches(r)]
            if not selected:
                continue
            result = pool_rows(selected, "reml")
            figure = result.effect
            params: dict[str, str] = {
                "modality": modality,
                "condition": condition,
                "population": population,
                "comparator": comparator,
            }
            if variant is not None:
                params["variant"] = variant
            out.append(
                s.IndicationPooled(
                    comparator=comparator,
                    k_studies=result.k_studies,
                    k_comparisons=len(selected),
                    estimate=figure.estimate if figure else None,
                    ci_low=figure.ci.lower if figure else None,
                    ci_high=figure.ci.upper if figure else None,
                    pi_low=figure.prediction.lower if figure and figure.prediction else None,
                    pi_high=figure.prediction.upper if figure and figure.prediction else None,
                    i2=figure.i2 if figure else None,
                    datasets=sorted({r.dataset for r in selected}),
                    url=with_query(f"{API}/pooled", params),
                )
            )
        return out


def basis_out(
    b: TrialBasis, datasets: list[s.DatasetAttribution], url: str, low_url: str
) -> s.IndicationTrialBasis:
    low = b.low_rob
    return s.IndicationTrialBasis(
        comparator_set=b.comparator_set.value,
        comparators=list(b.comparators),
        reason=b.reason,
        decides=b.decides,
        waitlist_only=b.waitlist_only,
        population_stated=b.population_stated,
        favours_therapy=b.figure.favours_therapy,
        k_studies=b.figure.k_studies,
        k_effects=b.figure.k_effects,
        participants=b.figure.participants,
        estimate=b.figure.estimate,
        ci_low=b.figure.ci_low,
        ci_high=b.figure.ci_high,
        pi_low=b.figure.pi_low,
        pi_high=b.figure.pi_high,
        tau2=b.figure.tau2,
        i2=b.figure.i2,
        egger_p=b.figure.egger_p,
        low_risk_of_bias=s.LowRiskOfBiasCheck(
            check=b.low_rob_check.value,
            k_studies=b.low_rob_studies,
            estimate=low.estimate if low else None,
            ci_low=low.ci_low if low else None,
            ci_high=low.ci_high if low else None,
            url=low_url,
        ),
        datasets=datasets,
        url=url,
    )


@dataclass(frozen=True)
class PoolResult:
    """A pooled figure with the effects that went in (one per study and comparator class) and
    the rows behind each."""

    effect: PooledEffect | None
    effects: tuple[StudyEffect, ...]
    rows_of: dict[tuple[str, str], list[TrialRow]]
    participants: int | None

    @property
    def k_studies(self) -> int:
        return len({e.study for e in self.effects})


def _participants(rows: Iterable[TrialRow]) -> int | None:
    """Participants of one effect: its largest arm pair (its rows are instruments or arms of
    one trial, which share people), or None when no row gives arm sizes."""
    sizes = [r.n_arm1 + r.n_arm2 for r in rows if r.n_arm1 is not None and r.n_arm2 is not None]
    return max(sizes) if sizes else None


def pool_rows(rows: Sequence[TrialRow], method: Method) -> PoolResult:
    """Aggregate within study and comparator class (rho 0.6), then pool by REML or PM."""
    effect_rows = [EffectRow(study=r.study, g=r.g, se=r.se, comparator=r.comparator) for r in rows]
    effects = aggregate(effect_rows)
    rows_of: dict[tuple[str, str], list[TrialRow]] = defaultdict(list)
    for r in rows:
        rows_of[(r.study, r.comparator)].append(r)
    counted = [_participants(rows_of[(e.study, e.comparator)]) for e in effects]
    known = [n for n in counted if n is not None]
    participants = sum(known) if known else None
    figure = pool(effects, "REML" if method == "reml" else "PM", participants=participants)
    return PoolResult(figure, effects, dict(rows_of), participants)


def _study_rob(rows: Iterable[TrialRow]) -> LowRiskOfBias:
    values = {LowRiskOfBias(r.low_risk_of_bias) for r in rows}
    if values == {LowRiskOfBias.yes}:
        return LowRiskOfBias.yes
    return LowRiskOfBias.no if LowRiskOfBias.no in values else LowRiskOfBias.not_assessed


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def pooled_out(
    table: TrialTable, rows: Sequence[TrialRow], method: Method, trials_csv: str
) -> s.Pooled:
    result = pool_rows(rows, method)
    figure = result.effect
    tau2 = figure.tau2 if figure and figure.tau2 is not None else 0.0
    weights = [1 / (e.se**2 + tau2) for e in result.effects]
    total = sum(weights) or 1.0
    studies = [
        s.PooledStudy(
            study=e.study,
            comparator=e.comparator,
            g=e.g,
            se=e.se,
            ci_low=e.g - Z95 * e.se,
            ci_high=e.g + Z95 * e.se,
            n=_participants(result.rows_of[(e.study, e.comparator)]),
            low_risk_of_bias=_study_rob(result.rows_of[(e.study, e.comparator)]),
            weight=100 * w / total,
            trials=[r.id for r in result.rows_of[(e.study, e.comparator)]],
        )
        for e, w in zip(result.effects, weights, strict=True)
    ]
    studies.sort(key=lambda x: (-x.weight, x.study, x.comparator))
    names = {r.dataset for r in rows}
    return s.Pooled(
        k_studies=result.k_studies,
        k_effects=len(result.effects),
        k_comparisons=len(rows),
        participants=result.participants,
        estimate=figure.estimate if figure else None,
        ci_low=figure.ci.lower if figure else None,
        ci_high=figure.ci.upper if figure else None,
        pi_low=figure.prediction.lower if figure and figure.prediction else None,
        pi_high=figure.prediction.upper if figure and figure.prediction else None,
        tau2=figure.tau2 if figure else None,
        i2=figure.i2 if figure else None,
        q=figure.q if figure else None,
        q_p=_finite(figure.q_p) if figure else None,
        egger_p=figure.egger_p if figure else None,
        method=method,
        pooled=bool(figure and figure.pooled),
        note=_note(len(result.effects)),
        direction=DIRECTION,
        studies=studies,
        datasets=[d.attribution() for d in table.datasets if d.name in names],
        trials_csv=s.RowsLink(url=trials_csv),
    )


def _note(k: int) -> str | None:
    if k == 0:
        return "No study matches these filters: nothing to pool."
    if k == 1:
        return (
            "One effect: its own figure and normal 95% interval; nothing is pooled, so there is"
            " no tau², I², Q, prediction interval or Egger's test."
        )
    if k < 10:
        return "Egger's test needs at least 10 effects."
    return None


class Memo(Protocol):
    """The release's memo (``app.queries.common.Memo``; restated: this module imports no
    other query module)."""

    def __call__(self, name: str, compute: Callable[[], T], /) -> T: ...


@dataclass(frozen=True)
class GradingInput:
    """What the rubric reads of one indication besides its trial basis."""

    id: int
    modality_id: int
    condition_id: int
    population: str
    variant: str | None
    evidence: Evidence
    recommendations: tuple[Recommendation, ...]
    effects: tuple[RecordedEffect, ...]
    low_certainty: bool


def _recorded(row: m.IndicationEffect) -> RecordedEffect:
    low = row.low_risk_of_bias
    return recorded_effect(
        Comparator(row.comparator),
        EffectMeasure(row.measure),
        EffectDirection(row.direction) if row.direction else None,
        (row.value, row.ci_low, row.ci_high),
        (low["value"], low["ci_low"], low["ci_high"], low.get("studies")) if low else None,
    )


def load_grading_input(session: Session) -> tuple[GradingInput, ...]:
    """Three statements: indications, their guideline positions, their effects."""
    recommendations: dict[int, list[Recommendation]] = defaultdict(list)
    for indication_id, recommendation in session.execute(
        select(col(m.IndicationGuideline.indication_id), col(m.IndicationGuideline.recommendation))
    ).all():
        recommendations[indication_id].append(Recommendation(recommendation))
    effects: dict[int, list[RecordedEffect]] = defaultdict(list)
    for row in session.execute(select(m.IndicationEffect)).scalars():
        effects[row.indication_id].append(_recorded(row))
    out = []
    for i in session.execute(select(m.Indication).order_by(col(m.Indication.id))).scalars():
        assert i.id is not None
        out.append(
            GradingInput(
                id=i.id,
                modality_id=i.modality_id,
                condition_id=i.condition_id,
                population=i.population,
                variant=i.variant,
                evidence=Evidence(i.evidence),
                recommendations=tuple(recommendations[i.id]),
                effects=tuple(effects[i.id]),
                low_certainty=any(
                    Certainty(c["rating"]) in LOW_CERTAINTY for c in i.certainty or []
                ),
            )
        )
    return tuple(out)


def load_trial_table(session: Session) -> TrialTable:
    """Seven statements: datasets, comparisons with their study and condition, modality slugs,
    condition parents, and what grading reads (``load_grading_input``)."""
    datasets = tuple(
        DatasetInfo(**{f.name: getattr(d, f.name) for f in fields(DatasetInfo)})
        for d in session.execute(
            select(m.TrialDataset).order_by(col(m.TrialDataset.position))
        ).scalars()
    )
    C, S, D = m.TrialComparison, m.TrialStudy, m.TrialDataset
    query = (
        select(C, S, col(D.name), col(m.Condition.slug))
        .join(S, col(S.id) == C.study_id)
        .join(D, col(D.id) == S.dataset_id)
        .join(m.Condition, col(m.Condition.id) == C.condition_id)
        .order_by(col(D.position), col(C.row))
    )
    rows = tuple(
        TrialRow(
            dataset=name,
            row=c.row,
            source_id=c.source_id,
            study=f"{name}/{st.trial_key}",
            study_label=st.label,
            year=c.year,
            reference=st.reference,
            condition_id=c.condition_id,
            condition=slug,
            modality=c.modality,
            family=c.family,
            variant=c.variant,
            online=bool(c.online),
            online_variant=c.online_variant,
            therapy_code=c.therapy_code,
            comparator=c.comparator,
            comparator_code=c.comparator_code,
            delivery=c.delivery,
            population=c.population,
            time=c.time,
            time_code=c.time_code,
            instrument=c.instrument,
            outcome_kind=c.outcome_kind,
            outcome_type=c.outcome_type,
            n_arm1=c.n_arm1,
            n_arm2=c.n_arm2,
            source_g=c.source_g,
            source_se=c.source_se,
            sign=c.sign,
            g=c.g,
            se=c.se,
            low_risk_of_bias=c.low_risk_of_bias,
            risk_of_bias=c.risk_of_bias,
        )
        for c, st, name, slug in session.execute(query).all()
    )
    modality_slugs: dict[int, str] = dict(
        session.execute(select(col(m.Modality.id), col(m.Modality.slug))).all()
    )
    children: dict[int, list[int]] = defaultdict(list)
    slugs: dict[int, str] = {}
    for cid, parent, slug in session.execute(
        select(col(m.Condition.id), col(m.Condition.parent_id), col(m.Condition.slug))
    ).all():
        slugs[cid] = slug
        if parent is not None:
            children[parent].append(cid)
    table = TrialTable(datasets, rows, modality_slugs, slugs, dict(children))
    table.grading_input = load_grading_input(session)
    return table


def trial_table(session: Session, memo: Memo) -> TrialTable:
    """The release's trial table: read once per release and kept."""
    return memo(MEMO_KEY, lambda: load_trial_table(session))
