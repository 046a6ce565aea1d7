"""Trial-level plots of one pooled figure (``/v1/pooled``): a forest plot with one row per study
and the pooled diamond, and a funnel plot where there are enough studies to read one.

The figures are the API's, not recomputed: each study's aggregated g, interval and weight, the
pooled estimate, its Hartung-Knapp interval and the prediction interval, as ``s.Pooled`` states
them. A study's square is sized by its weight; its risk of bias is its mark: filled when every
row of it is rated low, hollow when one is not, an open circle when it was not assessed.
"""

from __future__ import annotations

import math

from app import schemas as s
from app.domain import LowRiskOfBias
from app.explorer import figure
from app.explorer.figure import Layout, Mark, Panel, Row

PHONE_STUDIES = 20  # a phone shows the heaviest studies and links the whole plot
FUNNEL_MIN = 10  # fewer effects than this tell nothing about asymmetry (Egger needs 10 too)
ROB_MARK = {
    LowRiskOfBias.yes: Mark.square,
    LowRiskOfBias.no: Mark.hollow,
    LowRiskOfBias.not_assessed: Mark.open_circle,
}
ROB_WORDS = {
    LowRiskOfBias.yes: "low risk of bias",
    LowRiskOfBias.no: "not low risk of bias",
    LowRiskOfBias.not_assessed: "risk of bias not assessed",
}
LEGEND = (
    "Filled square: low risk of bias; hollow square: not low; open circle: not assessed."
    " Size: weight. Grey bar: 95% prediction interval."
)


def shown_studies(pooled: s.Pooled, limit: int | None) -> list[s.PooledStudy]:
    """The studies a plot shows, heaviest first (the API's order): all, or the ``limit``
    heaviest."""
    return pooled.studies if limit is None else pooled.studies[:limit]


def _interval(low: float | None, high: float | None) -> str:
    return "" if low is None or high is None else f" [{low:.2f}, {high:.2f}]"


def study_label(study: s.PooledStudy, labels: dict[str, str]) -> str:
    return labels.get(study.study, study.study.split("/", 1)[-1])


def forest_svg(
    pooled: s.Pooled, labels: dict[str, str], title: str, layout: Layout, limit: int | None
) -> str:
    studies = shown_studies(pooled, limit)
    biggest = max((x.weight for x in studies), default=1.0) or 1.0
    rows = [
        Row(
            label=study_label(x, labels),
            figures=f"{x.g:.2f}{_interval(x.ci_low, x.ci_high)}, {x.weight:.1f}%",
            value=x.g,
            low=x.ci_low,
            high=x.ci_high,
            mark=ROB_MARK[x.low_risk_of_bias],
            # Area, not width, follows the weight.
            size=4 + 8 * math.sqrt(x.weight / biggest),
        )
        for x in studies
    ]
    if pooled.estimate is not None:
        rows.append(
            Row(
                label=f"Pooled, {pooled.k_studies} studies"
                + (f", I² {pooled.i2:.0f}%" if pooled.i2 is not None else ""),
                figures=f"{pooled.estimate:.2f}{_interval(pooled.ci_low, pooled.ci_high)}"
                + (
                    f"; prediction {pooled.pi_low:.2f} to {pooled.pi_high:.2f}"
                    if pooled.pi_low is not None and pooled.pi_high is not None
                    else ""
                ),
                value=pooled.estimate,
                low=pooled.ci_low,
                high=pooled.ci_high,
                mark=Mark.diamond if pooled.pooled else Mark.square,
                pi_low=pooled.pi_low,
                pi_high=pooled.pi_high,
            )
        )
    left_out = len(pooled.studies) - len(studies)
    note = LEGEND
    if left_out:
        note = f"The {len(studies)} heaviest of {len(pooled.studies)} effects. " + note
    panel = Panel(title, rows, favours=("favours control", "favours the therapy"))
    return figure.forest_svg([panel], layout, note=note)


def funnel_svg(pooled: s.Pooled, title: str, layout: Layout) -> str:
    if pooled.estimate is None or len(pooled.studies) < FUNNEL_MIN:
        raise ValueError(f"a funnel plot needs at least {FUNNEL_MIN} effects")
    if pooled.egger_p is None:
        note = "Egger's test not computed."
    elif pooled.egger_p < 0.001:
        note = "Egger's test p < 0.001."
    else:
        note = f"Egger's test p = {pooled.egger_p:.3f}."
    note += " Shaded: where 95% of effects would fall around the pooled estimate (blue line)."
    return figure.funnel_svg(
        [(x.g, x.se) for x in pooled.studies], pooled.estimate, title, layout, note=note
    )
