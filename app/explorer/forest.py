"""Forest plots of the pooled effects behind a condition's indications, drawn as SVG by
matplotlib (the Agg family of backends: no display, no browser).

Effects on different scales never share an axis: standardised mean differences (g, d, SMD)
are one panel with no effect at 0; ratios (RR, OR, HR) another, on a log scale with no effect
at 1, so that 0.5 and 2 lie equally far from it; mean differences (MD) a third, each on its own
outcome's scale (their rows are not comparable with one another, only with 0). An effect
without an interval is drawn as a hollow diamond with no whiskers and says so in its label.
Every figure is drawn oriented (``Effect.oriented``): right of no effect favours the therapy,
whatever the sign convention of its source; one whose direction is not stated is left out.
"""

from __future__ import annotations

import io
import math
import re
import threading
from dataclasses import dataclass

from app import schemas as s
from app.domain import RATIO_MEASURES, EffectMeasure

# Sign conventions and scales differ between these families, so each has its own panel.
PANELS: list[tuple[str, frozenset[EffectMeasure]]] = [
    (
        "Standardised mean difference (g, d, SMD)",
        frozenset({EffectMeasure.g, EffectMeasure.d, EffectMeasure.smd}),
    ),
    ("Ratio (RR, OR, HR), log scale", RATIO_MEASURES),
    ("Mean difference (MD), on each outcome's own scale", frozenset({EffectMeasure.md})),
]
ROW_INCHES = 0.34
PANEL_INCHES = 0.9  # title, axis and tick labels
WIDTH_INCHES = 10.0
RATIO_TICKS = [0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 10.0, 20.0]

CLIP_ID_RE = re.compile(r'(?<=id=")p[0-9a-f]{10}(?=")|(?<=url\(#)p[0-9a-f]{10}(?=\))')
# matplotlib's rc parameters are process-wide, and a figure is not safe to share: one at a time.
_lock = threading.Lock()


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

    @property
    def label(self) -> str:
        return f"{self.modality_name} vs {self.comparator.replace('-', ' ')} ({self.population})"

    @property
    def has_interval(self) -> bool:
        return self.ci_low is not None and self.ci_high is not None

    @property
    def figures(self) -> str:
        """The estimate as the plot labels it: '0.60 [0.40, 0.80]' or '0.60 (no interval)'."""
        if self.ci_low is not None and self.ci_high is not None:
            return f"{self.value:.2f} [{self.ci_low:.2f}, {self.ci_high:.2f}]"
        return f"{self.value:.2f} (no interval)"


def forest_rows(indications: list[s.ConditionIndication]) -> list[ForestRow]:
    """Every effect of these indications whose direction is known, in their order (strongest
    evidence first), each turned so that right of no effect favours the therapy."""
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


def forest_svg(rows: list[ForestRow]) -> str:
    """The plot as an SVG document; deterministic for the same rows (no date, fixed ids)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    shown = panels(rows)
    if not shown:
        raise ValueError("no effects to plot")
    heights = [len(found) * ROW_INCHES + PANEL_INCHES for _, found in shown]
    with (
        _lock,
        matplotlib.rc_context(
            {"svg.hashsalt": "therapy-kb", "font.size": 9, "svg.fonttype": "path"}
        ),
    ):
        fig = Figure(figsize=(WIDTH_INCHES, sum(heights)), layout="constrained")
        axes = fig.subplots(len(shown), 1, squeeze=False, height_ratios=heights)[:, 0]
        for ax, (title, found) in zip(axes, shown, strict=True):
            _draw_panel(ax, title, found)
        out = io.StringIO()
        fig.savefig(out, format="svg", metadata={"Date": None})
    return _stable_ids(out.getvalue())


def _stable_ids(svg: str) -> str:
    """Clip-path ids numbered in order of appearance. matplotlib derives some from ``id()`` of
    Python objects, so the same figure would differ between draws and between workers, and so
    would its ETag."""
    ids = dict.fromkeys(CLIP_ID_RE.findall(svg))
    renamed = {old: f"clip{n}" for n, old in enumerate(ids, 1)}
    return CLIP_ID_RE.sub(lambda m: renamed[m.group(0)], svg) if renamed else svg


def _draw_panel(ax: object, title: str, rows: list[ForestRow]) -> None:
    from matplotlib.axes import Axes
    from matplotlib.ticker import NullFormatter, ScalarFormatter

    assert isinstance(ax, Axes)
    ratio = rows[0].measure in RATIO_MEASURES
    null = 1.0 if ratio else 0.0
    ys = list(range(len(rows)))[::-1]  # the first row at the top
    for y, row in zip(ys, rows, strict=True):
        if row.ci_low is not None and row.ci_high is not None:
            ax.plot([row.ci_low, row.ci_high], [y, y], color="#1f2937", linewidth=1.4)
            ax.plot([row.value], [y], marker="s", markersize=6, color="#1d4ed8")
        else:
            ax.plot(
                [row.value],
                [y],
                marker="D",
                markersize=6,
                markerfacecolor="white",
                markeredgecolor="#1d4ed8",
                linestyle="none",
            )
    ax.axvline(null, color="#6b7280", linewidth=1, linestyle="--")
    ax.set_yticks(ys, [r.label for r in rows])
    ax.set_ylim(-0.7, len(rows) - 0.3)
    # The figures stand on the right, as tick labels of a twin axis (so the layout fits them).
    right = ax.twinx()
    right.set_ylim(ax.get_ylim())
    right.set_yticks(ys, [f"{r.measure.value} {r.figures}" for r in rows])
    right.tick_params(length=0)
    values = [v for r in rows for v in (r.value, r.ci_low, r.ci_high) if v is not None] + [null]
    low, high = min(values), max(values)
    if ratio:
        ax.set_xscale("log")
        low, high = min(low, 1 / high), max(high, 1 / low)  # symmetric about 1
        pad = (math.log10(high) - math.log10(low)) * 0.08 or 0.1
        lo, hi = 10 ** (math.log10(low) - pad), 10 ** (math.log10(high) + pad)
        ax.set_xlim(lo, hi)
        ax.set_xticks([t for t in RATIO_TICKS if lo <= t <= hi], minor=False)
        ax.xaxis.set_major_formatter(ScalarFormatter())
        ax.xaxis.set_minor_formatter(NullFormatter())
    else:
        pad = (high - low) * 0.08 or 0.5
        ax.set_xlim(low - pad, high + pad)
    ax.set_title(title, fontsize=10, fontweight="bold")
    ax.set_xlabel(
        "estimate with 95% interval, turned so that right of the dashed line (no effect)"
        " favours the therapy"
    )
    ax.grid(axis="x", color="#e5e7eb", linewidth=0.6)
    ax.set_axisbelow(True)
    for axis in (ax, right):
        for side in ("top", "right"):
            axis.spines[side].set_visible(False)
