"""The forest plot of the pooled effects the curated entries cite, behind a condition's
indications (drawn by ``app.explorer.figure``).

Effects on different scales never share an axis: standardised mean differences (g, d, SMD)
are one panel with no effect at 0; ratios (RR, OR, HR) another, on a log scale with no effect
at 1, so that 0.5 and 2 lie equally far from it; mean differences (MD) a third, each on its own
outcome's scale (their rows are not comparable with one another, only with 0). An effect
without an interval is drawn hollow with no whiskers and says so in its figures.
Every figure is drawn oriented (``Effect.oriented``): right of no effect favours the therapy,
whatever the sign convention of its source; one whose direction is not stated is left out.
Each row names its comparison, outcome, population and source, so no two rows read alike.
"""

from __future__ import annotations

from dataclasses import dataclass

from app import schemas as s
from app.domain import RATIO_MEASURES, EffectMeasure
from app.explorer import figure
from app.explorer.figure import Layout, Mark, Panel, Row

# Sign conventions and scales differ between these families, so each has its own panel.
PANELS: list[tuple[str, frozenset[EffectMeasure]]] = [
    (
        "Standardised mean difference (g, d, SMD)",
        frozenset({EffectMeasure.g, EffectMeasure.d, EffectMeasure.smd}),
    ),
    ("Ratio (RR, OR, HR), log scale", RATIO_MEASURES),
    ("Mean difference (MD), on each outcome's own scale", frozenset({EffectMeasure.md})),
]


@dataclass(frozen=True)
class ForestRow:
    modality: str
    modality_name: str
    condition: str
    population: str
    measure: EffectMeasure
    value: float
    ci_low: float | None
    ci_high: float | None
    comparator: str
    outcome: str
    studies: int | None
    participants: int | None
    citation: str
    note: str | None
    # The figure as its source states it, when orienting it changed it.
    as_stated: str | None = None
    source: str | None = None  # the citation's short label ('Cuijpers et al. 2014')

    @property
    def label(self) -> str:
        """'IPT vs waitlist, depressive symptoms (adults; Cuijpers et al. 2011)'."""
        comparator = self.comparator.replace("-", " ")
        population = self.population.replace("-", " ")
        where = "; ".join(x for x in (population, self.source) if x)
        return f"{self.modality_name} vs {comparator}, {self.outcome} ({where})"

    @property
    def has_interval(self) -> bool:
        return self.ci_low is not None and self.ci_high is not None

    @property
    def figures(self) -> str:
        """The estimate as the plot labels it: '0.60 [0.40, 0.80]' or '0.60 (no interval)'."""
        if self.ci_low is not None and self.ci_high is not None:
            return f"{self.value:.2f} [{self.ci_low:.2f}, {self.ci_high:.2f}]"
        return f"{self.value:.2f} (no interval)"


def forest_rows(
    indications: list[s.ConditionIndication], sources: dict[str, str] | None = None
) -> list[ForestRow]:
    """Every effect of these indications whose direction is known, in their order (strongest
    evidence first), each turned so that right of no effect favours the therapy; ``sources``
    names each citation key as its label shows it."""
    return [
        ForestRow(
            modality=i.modality,
            modality_name=i.modality_name,
            condition=i.condition,
            population=i.population.value,
            measure=e.measure,
            value=e.oriented.value,
            ci_low=e.oriented.ci_low,
            ci_high=e.oriented.ci_high,
            comparator=e.comparator.value,
            outcome=e.outcome,
            studies=e.studies,
            participants=e.participants,
            citation=e.citation,
            note=e.note,
            as_stated=_as_stated(e),
            source=(sources or {}).get(e.citation),
        )
        for i in indications
        for e in i.effects
        if e.oriented is not None
    ]


def _as_stated(e: s.Effect) -> str | None:
    if e.oriented is None or e.oriented.value == e.value:
        return None
    if e.ci_low is None or e.ci_high is None:
        return f"{e.value:g}"
    return f"{e.value:g} ({e.ci_low:g} to {e.ci_high:g})"


def panels(rows: list[ForestRow]) -> list[tuple[str, list[ForestRow]]]:
    """The non-empty panels, in the order of ``PANELS``."""
    out = [(title, [r for r in rows if r.measure in measures]) for title, measures in PANELS]
    return [(title, found) for title, found in out if found]


def forest_svg(rows: list[ForestRow], layout: Layout = Layout.wide) -> str:
    """The plot as an SVG document; deterministic for the same rows (no date, fixed ids)."""
    shown = panels(rows)
    if not shown:
        raise ValueError("no effects to plot")
    return figure.forest_svg(
        [
            Panel(
                title,
                [
                    Row(
                        label=r.label,
                        figures=f"{r.measure.value} {r.figures}",
                        value=r.value,
                        low=r.ci_low,
                        high=r.ci_high,
                        mark=Mark.square if r.has_interval else Mark.hollow,
                    )
                    for r in found
                ],
                ratio=found[0].measure in RATIO_MEASURES,
            )
            for title, found in shown
        ],
        layout,
    )
